//! `engine`: bytes as a sequence of steps for a whole `engine::Engine` (transactions, dialogs,
//! registrar, admission, IVR runs over the bundled flows, the ACD) on a virtual clock, the way
//! the engine's scenario tests drive it: SIP bytes in, outputs drained, timers fired in order.
//!
//! Why: the engine keeps per-call state keyed by what peers send (Call-ID, tags, branches,
//! CSeq), and its bugs show in orders nobody tests: a CANCEL after the 200, a BYE before the ACK,
//! a re-INVITE with broken SDP, a digit for a leg that is gone, a retransmission after the
//! transaction timed out. Each step is one of: a request from a small grammar (INVITE with or
//! without SDP to one of the lines, ACK, CANCEL, BYE, OPTIONS, REGISTER, INFO, re-INVITE) with
//! fuzzed Call-ID/branch/tag/CSeq choices and optionally one header or the body replaced by fuzzed
//! bytes; a response to a request the engine sent; raw fuzzed bytes; a media event (a digit,
//! playback finished, inactivity, a port in use) for a leg the engine opened; a shutdown; or
//! time passing.
//!
//! Invariants: nothing panics; every byte string the engine transmits parses as SIP; a timer
//! round at `now` leaves nothing due at or before `now`; the virtual clock only moves forward.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use super::super::input::Input;
use crate::engine::{Engine, EngineConfig, Input as EngineInput, Output};
use crate::ivr::FlowSet;
use crate::media::api::{LegId, MediaCommand, MediaEvent};
use crate::sip::msg::{response_to, Message, Request};
use crate::sip::parse::parse;
use crate::sip::transport::{Peer, Transport};

const BUNDLED_FLOWS: [(&str, &str); 4] = [
    ("137.yaml", include_str!("../../../ivr-flows/137.yaml")),
    ("1888.yaml", include_str!("../../../ivr-flows/1888.yaml")),
    ("bench.yaml", include_str!("../../../ivr-flows/bench.yaml")),
    (
        "mailbox.yaml",
        include_str!("../../../ivr-flows/mailbox.yaml"),
    ),
];

const NUMBERS: [&str; 8] = ["137", "1888", "bench", "*98", "*21", "999", "echo", "2001"];
const METHODS: [&str; 8] = [
    "INVITE", "ACK", "CANCEL", "BYE", "OPTIONS", "REGISTER", "INFO", "UPDATE",
];
const CALL_IDS: [&str; 4] = ["call-a", "call-b", "call-c@192.0.2.9", "reg-1"];
const BRANCHES: [&str; 6] = [
    "z9hG4bK-1",
    "z9hG4bK-2",
    "z9hG4bK-3",
    "z9hG4bK-4",
    "z9hG4bK-5",
    "rfc2543",
];
const STATUSES: [u16; 9] = [100, 180, 200, 401, 404, 408, 481, 486, 500];
const DIGITS: [char; 13] = [
    '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '#', 'x',
];
const SDP_OFFERS: [&str; 4] = [
    "v=0\r\no=- 1 1 IN IP4 192.0.2.9\r\ns=-\r\nc=IN IP4 192.0.2.9\r\nt=0 0\r\nm=audio 16100 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\n",
    "v=0\r\no=- 1 2 IN IP4 192.0.2.9\r\ns=-\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\nm=audio 16100 RTP/AVP 8\r\na=sendonly\r\n",
    "v=0\r\no=- 1 3 IN IP4 192.0.2.9\r\ns=-\r\nc=IN IP4 192.0.2.9\r\nt=0 0\r\nm=audio 16100 RTP/SAVP 0\r\n",
    "v=0\r\no=- 1 4 IN IP4 192.0.2.9\r\ns=-\r\nc=IN IP4 192.0.2.9\r\nt=0 0\r\nm=audio 0 RTP/AVP 0\r\nm=audio 16102 RTP/AVP 18 0\r\na=inactive\r\n",
];

fn flows() -> Arc<FlowSet> {
    static FLOWS: OnceLock<Arc<FlowSet>> = OnceLock::new();
    FLOWS
        .get_or_init(|| {
            let files: Vec<(String, String)> = BUNDLED_FLOWS
                .iter()
                .map(|(name, text)| (name.to_string(), text.to_string()))
                .collect();
            let queues = ["137", "1888", "zoning"].map(String::from);
            // The bundled flows load (a test says so); if not, the engine runs without them.
            Arc::new(crate::ivr::load_flows(&files, &|_| true, &queues).unwrap_or_default())
        })
        .clone()
}

struct Harness {
    engine: Engine,
    now: Duration,
    peer: Peer,
    /// Requests the engine sent (to answer them), the last few.
    requests: Vec<Request>,
    /// To tags the engine gave, for in-dialog requests.
    tags: Vec<String>,
    legs: Vec<LegId>,
}

impl Harness {
    fn input(&mut self, input: EngineInput) {
        self.engine.handle_input(input, self.now);
        self.drain();
    }

    fn sip(&mut self, bytes: Vec<u8>) {
        let peer = self.peer;
        self.input(EngineInput::Sip { peer, bytes });
    }

    fn drain(&mut self) {
        let mut answers = Vec::new();
        while let Some(out) = self.engine.poll_output() {
            match out {
                Output::Transmit { bytes, .. } => match parse(&bytes) {
                    Ok(Message::Response(r)) => {
                        if let Some(tag) = r.to_tag() {
                            if !self.tags.iter().any(|t| t == tag) {
                                push_bounded(&mut self.tags, tag.to_string());
                            }
                        }
                    }
                    Ok(Message::Request(r)) => push_bounded(&mut self.requests, r),
                    Err(e) => panic!(
                        "the engine sent unparseable bytes: {e}\n{}",
                        String::from_utf8_lossy(&bytes)
                    ),
                },
                Output::Media(MediaCommand::Open(setup)) => {
                    push_bounded(&mut self.legs, setup.leg);
                    answers.push(MediaEvent::Opened { leg: setup.leg });
                }
                Output::Media(_) | Output::Store(_) | Output::Phone { .. } => {}
            }
        }
        // The media runtime answers an Open at once, as the driver's does.
        for event in answers {
            self.input(EngineInput::Media(event));
        }
    }

    fn advance(&mut self, by: Duration) {
        let end = self.now + by;
        let mut rounds = 0;
        while let Some(at) = self.engine.poll_timeout() {
            if at > end || rounds > 10_000 {
                break;
            }
            rounds += 1;
            self.now = self.now.max(at);
            self.engine.handle_timeout(self.now);
            self.drain();
            if let Some(next) = self.engine.poll_timeout() {
                assert!(
                    next > self.now,
                    "a timer is still due at {next:?} after a timer round at {:?}",
                    self.now
                );
            }
        }
        self.now = self.now.max(end);
    }

    fn request(&self, input: &mut Input) -> Vec<u8> {
        let method = *input.pick(&METHODS);
        let number = *input.pick(&NUMBERS);
        let call_id = *input.pick(&CALL_IDS);
        let branch = *input.pick(&BRANCHES);
        let cseq = u32::from(input.byte() % 4) + 1;
        let to_tag = match (input.byte() % 3, self.tags.is_empty()) {
            (0, false) => format!(";tag={}", input.pick(&self.tags)),
            (1, _) => ";tag=stranger".to_string(),
            _ => String::new(),
        };
        let (content_type, mut body) = match (method, input.byte() % 4) {
            ("INVITE" | "UPDATE", 0..=2) => (
                "Content-Type: application/sdp\r\n",
                input.pick(&SDP_OFFERS).as_bytes().to_vec(),
            ),
            ("INFO", 0) => (
                "Content-Type: application/dtmf-relay\r\n",
                format!("Signal={}\r\nDuration=160\r\n", input.pick(&DIGITS)).into_bytes(),
            ),
            _ => ("", Vec::new()),
        };
        let mut headers = vec![
            format!("Via: SIP/2.0/UDP 192.0.2.9:5060;branch={branch};rport"),
            format!(
                "From: <sip:09121234567@192.0.2.9>;tag=caller-{}",
                input.byte() % 2
            ),
            format!("To: <sip:{number}@192.0.2.1>{to_tag}"),
            format!("Call-ID: {call_id}"),
            format!("CSeq: {cseq} {method}"),
            "Contact: <sip:09121234567@192.0.2.9:5060>".to_string(),
            "Max-Forwards: 70".to_string(),
        ];
        if method == "REGISTER" {
            headers.push(format!("Expires: {}", u32::from(input.byte() % 4) * 1200));
        }
        match input.byte() % 8 {
            // One header's value replaced by fuzzed bytes.
            0 => {
                let index = input.choose(headers.len());
                if let Some((name, _)) = headers[index].split_once(':') {
                    headers[index] = format!("{name}: {}", input.text(96));
                }
            }
            // A fuzzed header added (Authorization, Expires, Route…).
            1 => {
                let name = *input.pick(&[
                    "Authorization",
                    "Expires",
                    "Route",
                    "Record-Route",
                    "Require",
                    "Session-Expires",
                    "Max-Forwards",
                    "Reason",
                ]);
                headers.push(format!("{name}: {}", input.text(96)));
            }
            // The body replaced by fuzzed bytes.
            2 => body = input.bytes(255).to_vec(),
            _ => {}
        }
        let mut text = format!("{method} sip:{number}@192.0.2.1:5060 SIP/2.0\r\n");
        for header in headers {
            text.push_str(&header);
            text.push_str("\r\n");
        }
        text.push_str(content_type);
        text.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
        let mut bytes = text.into_bytes();
        bytes.extend_from_slice(&body);
        bytes
    }
}

fn push_bounded<T>(list: &mut Vec<T>, item: T) {
    if list.len() >= 16 {
        list.remove(0);
    }
    list.push(item);
}

pub fn engine(data: &[u8]) {
    let mut input = Input::new(data);
    let addr = SocketAddr::from(([192, 0, 2, 1], 5060));
    let mut config = EngineConfig::for_tests(addr);
    config.extra_lines = vec!["bench".into()];
    config.answer_delay = Duration::from_millis(u64::from(input.byte() % 3) * 1000);
    let peer_addr = SocketAddr::from(([192, 0, 2, 9], 5060));
    let peer = if input.byte().is_multiple_of(4) {
        Peer {
            transport: Transport::Tcp(1),
            addr: peer_addr,
        }
    } else {
        Peer::udp(peer_addr)
    };
    let mut h = Harness {
        engine: Engine::new(config).with_flows(flows()),
        now: Duration::ZERO,
        peer,
        requests: Vec::new(),
        tags: Vec::new(),
        legs: Vec::new(),
    };
    let mut steps = 0;
    while !input.is_empty() && steps < 128 {
        steps += 1;
        match input.byte() % 12 {
            0..=4 => {
                let bytes = h.request(&mut input);
                h.sip(bytes);
            }
            5 => {
                if !h.requests.is_empty() {
                    let req = input.pick(&h.requests).clone();
                    let status = *input.pick(&STATUSES);
                    let mut resp = response_to(&req, status, Some("peer"));
                    if status == 200 && req.method == crate::sip::msg::Method::Invite {
                        resp.headers
                            .push("Content-Type", "application/sdp".to_string());
                        resp.body = input.pick(&SDP_OFFERS).as_bytes().to_vec();
                    }
                    h.sip(resp.to_bytes());
                }
            }
            6 => {
                let bytes = input.bytes(1024).to_vec();
                h.sip(bytes);
            }
            7 => {
                if !h.legs.is_empty() {
                    let leg = *input.pick(&h.legs);
                    let event = match input.byte() % 5 {
                        0 | 1 => MediaEvent::Digit {
                            leg,
                            digit: *input.pick(&DIGITS),
                        },
                        2 => MediaEvent::PlaybackFinished { leg },
                        3 => MediaEvent::Inactive { leg },
                        _ => MediaEvent::PortInUse { leg },
                    };
                    h.input(EngineInput::Media(event));
                }
            }
            8 => {
                let grace = Duration::from_millis(u64::from(input.u16()));
                h.input(EngineInput::Shutdown { grace });
            }
            _ => {
                let ms = u64::from(input.u16()) * u64::from(input.byte() % 16 + 1);
                h.advance(Duration::from_millis(ms));
            }
        }
    }
    h.advance(Duration::from_secs(600));
}
