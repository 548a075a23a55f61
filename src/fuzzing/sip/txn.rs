//! `sip_txn`: bytes as a sequence of steps for one `sip::txn::TxnLayer`, on a virtual clock.
//!
//! Why: the transaction layer is where retransmissions, ACK matching, CANCEL and the RFC 3261
//! timers meet; its bugs show only in sequences (a response for a transaction that just timed out,
//! an ACK before the final response, two transactions sharing a branch). Each step is one of:
//! a request received (from a small grammar of INVITE/ACK/CANCEL/BYE/OPTIONS/REGISTER with fuzzed
//! branch, Call-ID, CSeq and an optional fuzzed header), our answer to a server transaction, a
//! request we send, a response received for one of ours (or a stranger's), a 2xx confirmed by
//! the dialog, raw fuzzed bytes, or time passing (firing every due timer in order).
//!
//! Invariants: nothing panics; every byte string the layer transmits parses as SIP; after a timer
//! round at `now` no timer is left due at or before `now`; and once every transaction has been
//! given a final answer and five minutes pass, no transaction is left (no leak).

use std::net::SocketAddr;
use std::time::Duration;

use super::super::input::Input;
use crate::sip::msg::{response_to, Message, Request, Response};
use crate::sip::parse::parse;
use crate::sip::transport::{Peer, Transport};
use crate::sip::txn::{Incoming, TimerConfig, TxnEvent, TxnKey, TxnLayer};

const METHODS: [&str; 7] = [
    "INVITE", "ACK", "CANCEL", "BYE", "OPTIONS", "REGISTER", "INFO",
];
const STATUSES: [u16; 10] = [100, 180, 183, 200, 202, 302, 401, 486, 487, 503];
const BRANCHES: [&str; 5] = ["z9hG4bK-a", "z9hG4bK-b", "z9hG4bK-c", "old-2543", ""];
const CALL_IDS: [&str; 3] = ["c1", "c2", "c3@host"];

/// Builds a request from the grammar; the fuzzed header (if any) may make it unparseable.
pub(crate) fn grammar_request(input: &mut Input) -> Option<Request> {
    let method = *input.pick(&METHODS);
    let branch = *input.pick(&BRANCHES);
    let call_id = *input.pick(&CALL_IDS);
    let cseq = u32::from(input.byte() % 4) + 1;
    let via_branch = if branch.is_empty() {
        String::new()
    } else {
        format!(";branch={branch}")
    };
    let to_tag = if input.bool() { ";tag=uas" } else { "" };
    let extra = if input.byte() < 64 {
        let name = *input.pick(&["Via", "To", "From", "CSeq", "Call-ID", "X-Fuzz", "Route"]);
        format!("{name}: {}\r\n", input.text(64))
    } else {
        String::new()
    };
    let text = format!(
        "{method} sip:137@192.0.2.1 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.9:5060{via_branch}\r\n\
         From: <sip:caller@192.0.2.9>;tag=uac\r\nTo: <sip:137@192.0.2.1>{to_tag}\r\n\
         Call-ID: {call_id}\r\nCSeq: {cseq} {method}\r\nMax-Forwards: 70\r\n{extra}\
         Content-Length: 0\r\n\r\n"
    );
    match parse(text.as_bytes()) {
        Ok(Message::Request(r)) => Some(r),
        _ => None,
    }
}

/// A response to `req` with a grammar status (and a To tag on non-100).
fn grammar_response(input: &mut Input, req: &Request) -> Response {
    let status = *input.pick(&STATUSES);
    response_to(req, status, Some("uas"))
}

struct Harness {
    layer: TxnLayer,
    now: Duration,
    peer: Peer,
    /// Requests received that opened server transactions.
    served: Vec<(TxnKey, Request)>,
    /// Requests we sent in client transactions.
    sent: Vec<(TxnKey, Request)>,
}

impl Harness {
    fn drain(&mut self) {
        while let Some(event) = self.layer.poll_output() {
            if let TxnEvent::Transmit { bytes, .. } = event {
                if let Err(e) = parse(&bytes) {
                    panic!(
                        "the transaction layer sent unparseable bytes: {e}\n{}",
                        String::from_utf8_lossy(&bytes)
                    );
                }
            }
        }
    }

    fn receive(&mut self, req: Request) {
        if let Some(Incoming::New(key)) = self.layer.on_request(&req, self.peer, self.now) {
            if self.served.len() < 64 {
                self.served.push((key, req));
            }
        }
        self.drain();
    }

    fn advance(&mut self, by: Duration) {
        let end = self.now + by;
        while let Some(at) = self.layer.poll_timeout() {
            if at > end {
                break;
            }
            self.now = self.now.max(at);
            self.layer.handle_timeout(self.now);
            self.drain();
            if let Some(next) = self.layer.poll_timeout() {
                assert!(next > self.now, "a timer is still due after a timer round");
            }
        }
        self.now = end;
    }
}

pub fn sip_txn(data: &[u8]) {
    let mut input = Input::new(data);
    let reliable = input.bool();
    let addr = SocketAddr::from(([192, 0, 2, 9], 5060));
    let peer = if reliable {
        Peer {
            transport: Transport::Tcp(1),
            addr,
        }
    } else {
        Peer::udp(addr)
    };
    let mut h = Harness {
        layer: TxnLayer::new(TimerConfig::default()),
        now: Duration::ZERO,
        peer,
        served: Vec::new(),
        sent: Vec::new(),
    };
    let mut steps = 0;
    while !input.is_empty() && steps < 256 {
        steps += 1;
        match input.byte() % 9 {
            0 | 1 => {
                if let Some(req) = grammar_request(&mut input) {
                    h.receive(req);
                }
            }
            2 => {
                if !h.served.is_empty() {
                    let index = input.choose(h.served.len());
                    let (key, req) = h.served[index].clone();
                    let resp = grammar_response(&mut input, &req);
                    h.layer.respond(&key, &resp, h.now);
                    h.drain();
                }
            }
            3 => {
                if let Some(req) = grammar_request(&mut input) {
                    if let Some(key) = h.layer.send_request(req.clone(), h.peer, h.now) {
                        if h.sent.len() < 64 {
                            h.sent.push((key, req));
                        }
                    }
                    h.drain();
                }
            }
            4 => {
                if !h.sent.is_empty() {
                    let index = input.choose(h.sent.len());
                    let req = h.sent[index].1.clone();
                    let resp = grammar_response(&mut input, &req);
                    h.layer.on_response(resp, h.now);
                    h.drain();
                }
            }
            5 => {
                if !h.served.is_empty() {
                    let index = input.choose(h.served.len());
                    let key = h.served[index].0.clone();
                    h.layer.confirm_2xx(&key, h.now);
                    h.drain();
                }
            }
            6 => match parse(input.bytes(512)) {
                Ok(Message::Request(req)) => h.receive(req),
                Ok(Message::Response(resp)) => {
                    h.layer.on_response(resp, h.now);
                    h.drain();
                }
                Err(_) => {}
            },
            7 => {
                // An ACK for a served INVITE: same branch (non-2xx) or a new one (2xx).
                if !h.served.is_empty() {
                    let index = input.choose(h.served.len());
                    let mut ack = h.served[index].1.clone();
                    ack.method = crate::sip::msg::Method::Ack;
                    if let Some((n, _)) = ack.cseq() {
                        ack.headers.set("CSeq", format!("{n} ACK"));
                    }
                    h.receive(ack);
                }
            }
            _ => {
                let ms = u64::from(input.u16()) * u64::from(input.byte() % 8 + 1);
                h.advance(Duration::from_millis(ms));
            }
        }
    }
    // Give every transaction its final answer, then let every timer run out.
    for (key, req) in h.served.clone() {
        h.layer
            .respond(&key, &response_to(&req, 500, Some("uas")), h.now);
        h.layer.confirm_2xx(&key, h.now);
    }
    for (_, req) in h.sent.clone() {
        h.layer
            .on_response(response_to(&req, 500, Some("uas")), h.now);
    }
    h.drain();
    h.advance(Duration::from_secs(300));
    assert!(
        h.layer.is_empty(),
        "{} transactions left after every one was answered and five minutes passed",
        h.layer.len()
    );
}
