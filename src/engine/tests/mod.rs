//! Scenario tests of the engine on a virtual clock: SIP text in, SIP text and commands out.

use crate::media::api::LegId;
use std::net::SocketAddr;
use std::time::Duration;

use crate::engine::*;
use crate::sip::digest::{expected_response, DigestAlgorithm, QopParams};
use crate::sip::msg::{Message, Method};
use crate::sip::parse::parse;

pub(crate) struct Harness {
    pub engine: Engine,
    pub now: Duration,
    pub peer: Peer,
    pub sent: Vec<Response>,
    pub requests: Vec<Request>,
    pub media: Vec<MediaCommand>,
    pub records: Vec<CallRecord>,
    pub store: Vec<StoreCommand>,
    /// What the engine told browser phones' pages, in order.
    pub phone_events: Vec<(PhoneId, PhoneEvent)>,
    /// Ports the simulated media runtime finds held by another process.
    pub ports_in_use: std::collections::HashSet<u16>,
}

pub(crate) const SDP: &str = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 16100 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\n";

impl Harness {
    pub fn new() -> Self {
        Self::with(|_| {})
    }

    pub fn with(adjust: impl FnOnce(&mut EngineConfig)) -> Self {
        let addr: SocketAddr = "127.0.0.1:5060".parse().unwrap_or_else(|_| unreachable!());
        let mut config = EngineConfig::for_tests(addr);
        adjust(&mut config);
        let peer_addr: SocketAddr = "127.0.0.1:15061".parse().unwrap_or_else(|_| unreachable!());
        Harness {
            engine: Engine::new(config),
            now: Duration::ZERO,
            peer: Peer::udp(peer_addr),
            sent: Vec::new(),
            requests: Vec::new(),
            media: Vec::new(),
            records: Vec::new(),
            store: Vec::new(),
            phone_events: Vec::new(),
            ports_in_use: Default::default(),
        }
    }

    pub fn send(&mut self, text: &str) {
        let input = Input::Sip {
            peer: self.peer,
            bytes: text.as_bytes().to_vec(),
        };
        self.engine.handle_input(input, self.now);
        self.drain();
    }

    pub fn drain(&mut self) {
        while let Some(out) = self.engine.poll_output() {
            match out {
                Output::Transmit { bytes, .. } => match parse(&bytes) {
                    Ok(Message::Response(r)) => self.sent.push(r),
                    Ok(Message::Request(r)) => self.requests.push(r),
                    Err(e) => panic!("engine sent unparseable bytes: {e}"),
                },
                Output::Media(m) => {
                    // The media runtime answers an Open at once, as the driver's does.
                    if let MediaCommand::Open(setup) = &m {
                        let leg = setup.leg;
                        let event = if self.ports_in_use.contains(&setup.local_port) {
                            MediaEvent::PortInUse { leg }
                        } else {
                            MediaEvent::Opened { leg }
                        };
                        self.engine.handle_input(Input::Media(event), self.now);
                    }
                    self.media.push(m);
                }
                Output::Store(StoreCommand::Write(StoreWrite::Call(r))) => self.records.push(r),
                Output::Store(other) => self.store.push(other),
                Output::Phone { phone, event } => self.phone_events.push((phone, event)),
            }
        }
    }

    /// Advances the virtual clock to `to`, firing every timer on the way in order.
    pub fn advance_to(&mut self, to: Duration) {
        while let Some(at) = self.engine.poll_timeout() {
            if at > to {
                break;
            }
            self.now = self.now.max(at);
            self.engine.handle_timeout(self.now);
            self.drain();
        }
        self.now = to;
    }

    pub fn statuses(&self) -> Vec<u16> {
        self.sent.iter().map(|r| r.status).collect()
    }

    pub fn last_record(&self) -> &CallRecord {
        self.records
            .last()
            .unwrap_or_else(|| panic!("no call record"))
    }
}

pub(crate) fn invite(to: &str, call_id: &str, branch: &str, sdp: &str) -> String {
    format!(
        "INVITE sip:{to}@127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:15061;branch={branch}\r\n\
From: <sip:09121234567@127.0.0.1>;tag=caller\r\nTo: <sip:{to}@127.0.0.1>\r\nCall-ID: {call_id}\r\n\
CSeq: 1 INVITE\r\nContact: <sip:09121234567@127.0.0.1:15061>\r\nMax-Forwards: 70\r\n\
Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{sdp}",
        sdp.len()
    )
}

pub(crate) fn in_dialog(
    method: &str,
    call_id: &str,
    to_tag: &str,
    branch: &str,
    cseq: u32,
) -> String {
    format!(
        "{method} sip:pasokh@127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:15061;branch={branch}\r\n\
From: <sip:09121234567@127.0.0.1>;tag=caller\r\nTo: <sip:137@127.0.0.1>;tag={to_tag}\r\nCall-ID: {call_id}\r\n\
CSeq: {cseq} {method}\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
    )
}

fn answered_call(h: &mut Harness, call_id: &str) -> String {
    h.send(&invite("137", call_id, "z9hG4bK-inv", SDP));
    let ok = h
        .sent
        .iter()
        .find(|r| r.status == 200)
        .unwrap_or_else(|| panic!("no 200"));
    let tag = ok
        .to_tag()
        .unwrap_or_else(|| panic!("200 without To tag"))
        .to_string();
    h.send(&in_dialog("ACK", call_id, &tag, "z9hG4bK-ack", 1));
    tag
}

#[test]
fn options_is_answered_200_with_allow() {
    let mut h = Harness::new();
    h.send("OPTIONS sip:137@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:15061;branch=z9hG4bKo\r\nFrom: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:137@127.0.0.1>\r\nCall-ID: o1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n");
    assert_eq!(h.statuses(), vec![200]);
    assert!(h.sent[0]
        .headers
        .get("Allow")
        .is_some_and(|a| a.contains("INVITE")));
}

#[test]
fn invite_to_137_is_answered_then_the_caller_hangs_up() {
    let mut h = Harness::new();
    let tag = answered_call(&mut h, "c1");
    assert_eq!(h.statuses(), vec![100, 200]);
    let body = String::from_utf8_lossy(&h.sent[1].body).to_string();
    let Some(MediaCommand::Open(opened)) = h.media.first() else {
        panic!("no media leg opened: {:?}", h.media);
    };
    // The answer names the port the leg was opened on, an even one of the range.
    let port = opened.local_port;
    assert!((20000..=20100).contains(&port) && port % 2 == 0, "{port}");
    assert!(
        body.contains(&format!("m=audio {port} RTP/AVP 0 101")),
        "{body}"
    );
    assert!(body.contains("telephone-event/8000"));
    h.send(&in_dialog("BYE", "c1", &tag, "z9hG4bK-bye", 2));
    assert_eq!(h.statuses(), vec![100, 200, 200]);
    assert!(h.media.contains(&MediaCommand::Close { leg: LegId(1) }));
    let record = h.last_record();
    assert_eq!(
        (record.disposition.as_str(), record.hangup_by.as_str()),
        ("completed", "caller")
    );
    assert_eq!(record.to, "137");
    assert_eq!(record.from, "09121234567");
    assert_eq!(h.engine.active_calls(), 0);
    assert_eq!(h.engine.ports.available(), 51);
}

#[test]
fn retransmitted_invites_never_make_a_second_call() {
    let mut h = Harness::new();
    h.send(&invite("1888", "c2", "z9hG4bK-x", SDP));
    h.send(&invite("1888", "c2", "z9hG4bK-x", SDP));
    h.send(&invite("1888", "c2", "z9hG4bK-x", SDP));
    assert_eq!(h.engine.active_calls(), 1);
    assert_eq!(h.engine.counters.calls_offered, 1);
    assert_eq!(h.statuses().iter().filter(|s| **s == 200).count(), 1);
    // A new branch for the same Call-ID and From tag is a merged request, not a new call.
    h.send(&invite("1888", "c2", "z9hG4bK-y", SDP));
    assert_eq!(h.statuses().last(), Some(&482));
    assert_eq!(h.engine.active_calls(), 1);
}

#[test]
fn an_unacknowledged_200_is_retransmitted_then_torn_down_at_timer_h() {
    let mut h = Harness::new();
    h.send(&invite("137", "c3", "z9hG4bK-h", SDP));
    h.advance_to(Duration::from_millis(31_999));
    // Timer G: 0.5, 1.5, 3.5, 7.5, 11.5, 15.5, … capped at T2 = 4 s.
    let oks = h.statuses().iter().filter(|s| **s == 200).count();
    assert_eq!(oks, 1 + 10, "{:?}", h.statuses());
    assert!(h.requests.is_empty());
    h.advance_to(Duration::from_secs(32));
    assert_eq!(h.requests.len(), 1);
    assert_eq!(h.requests[0].method, Method::Bye);
    let record = h.last_record();
    assert_eq!(
        (record.disposition.as_str(), record.hangup_by.as_str()),
        ("no_ack", "engine")
    );
    assert_eq!(h.engine.active_calls(), 0);
}

#[test]
fn a_call_still_ringing_when_the_grace_period_ends_gets_503_not_silence() {
    let mut h = Harness::with(|c| c.answer_delay = Duration::from_secs(60));
    h.send(&invite("137", "ringing-at-stop", "z9hG4bK-r", SDP));
    assert_eq!(h.statuses(), vec![100, 180]);
    h.engine.handle_input(
        Input::Shutdown {
            grace: Duration::from_secs(1),
        },
        h.now,
    );
    h.drain();
    h.advance_to(Duration::from_secs(2));
    // The 503 and its retransmissions (no ACK in this test: Timer G resends it).
    let statuses = h.statuses();
    assert_eq!(statuses[..3], [100, 180, 503], "{statuses:?}");
    assert!(statuses[3..].iter().all(|&s| s == 503), "{statuses:?}");
    let refused = &h.sent[2];
    assert!(refused.headers.get("Retry-After").is_some(), "{refused:?}");
    assert_eq!(h.last_record().disposition, "shutdown");
    assert_eq!(h.engine.active_calls(), 0);
    assert!(h.engine.is_drained());
}

#[test]
fn cancel_before_the_answer_gets_200_and_487() {
    let mut h = Harness::with(|c| c.answer_delay = Duration::from_secs(2));
    h.send(&invite("137", "c4", "z9hG4bK-c", SDP));
    assert_eq!(h.statuses(), vec![100, 180]);
    h.now = Duration::from_millis(500);
    let cancel = invite("137", "c4", "z9hG4bK-c", "")
        .replace("INVITE sip", "CANCEL sip")
        .replace("1 INVITE", "1 CANCEL")
        .replace("Content-Type: application/sdp\r\n", "");
    h.send(&cancel);
    assert_eq!(h.statuses(), vec![100, 180, 200, 487]);
    assert_eq!(h.sent[2].cseq().map(|c| c.1), Some(Method::Cancel));
    let ack = in_dialog(
        "ACK",
        "c4",
        h.sent[3].to_tag().unwrap_or_default(),
        "z9hG4bK-c",
        1,
    );
    h.send(&ack);
    h.advance_to(Duration::from_secs(10));
    assert_eq!(
        h.statuses(),
        vec![100, 180, 200, 487],
        "the 487 stops after the ACK"
    );
    assert_eq!(h.last_record().disposition, "cancelled");
    assert!(!h.media.iter().any(|m| matches!(m, MediaCommand::Open(_))));
    assert_eq!(h.engine.ports.available(), 51);
}

#[test]
fn cancel_crossing_the_200_changes_nothing() {
    let mut h = Harness::new();
    h.send(&invite("137", "c5", "z9hG4bK-r", SDP));
    let cancel = invite("137", "c5", "z9hG4bK-r", "")
        .replace("INVITE sip", "CANCEL sip")
        .replace("1 INVITE", "1 CANCEL");
    h.send(&cancel);
    assert_eq!(h.statuses(), vec![100, 200, 200]);
    assert_eq!(h.engine.active_calls(), 1);
}

#[test]
fn unknown_numbers_bad_offers_and_unknown_methods_get_their_codes() {
    let mut h = Harness::new();
    h.send(&invite("999", "c6", "z9hG4bK-6", SDP));
    let g729 = SDP.replace("RTP/AVP 0 8 101", "RTP/AVP 18");
    h.send(&invite("137", "c7", "z9hG4bK-7", &g729));
    h.send(&in_dialog("FOO", "c8", "x", "z9hG4bK-8", 1).replace(";tag=x", ""));
    h.send("INVITE sip:137@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:15061;branch=z9hG4bK9\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:137@b>\r\nCall-ID: c9\r\nCSeq: x INVITE\r\n\r\n");
    h.send("\u{1}\u{2}garbage without headers");
    let codes: Vec<u16> = h.statuses().into_iter().filter(|s| *s >= 400).collect();
    // A number that does not exist is challenged like an agent's (only agents learn 404).
    assert_eq!(codes, vec![401, 488, 501, 400]);
    assert_eq!(h.engine.counters.sip_malformed, 2);
    assert_eq!(h.engine.active_calls(), 0);
    assert_eq!(h.engine.ports.available(), 51);
}

#[test]
fn reinvite_to_hold_is_answered_recvonly_and_stops_sending() {
    let mut h = Harness::new();
    let tag = answered_call(&mut h, "c10");
    let hold = SDP.to_string() + "a=sendonly\r\n";
    let reinvite = invite("137", "c10", "z9hG4bK-re", &hold)
        .replace(
            "To: <sip:137@127.0.0.1>",
            &format!("To: <sip:137@127.0.0.1>;tag={tag}"),
        )
        .replace("CSeq: 1 INVITE", "CSeq: 2 INVITE");
    h.send(&reinvite);
    let ok = h.sent.last().unwrap_or_else(|| panic!("no answer"));
    assert_eq!(ok.status, 200);
    assert!(String::from_utf8_lossy(&ok.body).contains("a=recvonly"));
    assert!(
        matches!(h.media.last(), Some(MediaCommand::Update(s)) if !s.sending && !s.expects_rtp())
    );
}

/// The SDP direction decides whether the media side may hang up on a silent peer: only a peer
/// that said it sends, on a call not on hold.
#[test]
fn the_peer_is_watched_for_rtp_only_when_its_offer_says_it_sends() {
    let cases = [
        ("", true, true),
        ("a=sendrecv\r\n", true, true),
        ("a=recvonly\r\n", true, false),
        ("a=sendonly\r\n", false, false),
        ("a=inactive\r\n", false, false),
    ];
    for (attribute, sending, expects_rtp) in cases {
        let mut h = Harness::new();
        h.send(&invite(
            "137",
            "c11",
            "z9hG4bK-dir",
            &format!("{SDP}{attribute}"),
        ));
        let opened = h.media.iter().find_map(|c| match c {
            MediaCommand::Open(setup) => Some(setup.clone()),
            _ => None,
        });
        let Some(opened) = opened else {
            panic!("no leg opened for {attribute:?}");
        };
        assert_eq!(
            (opened.sending, opened.expects_rtp()),
            (sending, expects_rtp),
            "offer {attribute:?}"
        );
    }
}

pub(crate) fn register(user: &str, authorization: Option<&str>, cseq: u32) -> String {
    let auth = authorization
        .map(|a| format!("Authorization: {a}\r\n"))
        .unwrap_or_default();
    format!(
        "REGISTER sip:127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:15061;branch=z9hG4bK-reg{cseq}\r\n\
From: <sip:{user}@127.0.0.1>;tag=r\r\nTo: <sip:{user}@127.0.0.1>\r\nCall-ID: reg-{user}\r\nCSeq: {cseq} REGISTER\r\n\
Contact: <sip:{user}@127.0.0.1:15061>;expires=120\r\n{auth}Content-Length: 0\r\n\r\n"
    )
}

fn answer_challenge(challenge: &str, user: &str, password: &str) -> String {
    digest_answer(challenge, user, password, "REGISTER", "sip:127.0.0.1:5060")
}

/// A SHA-256 digest answer (qop=auth) to `challenge` for `method` on `uri`, in realm "pasokh".
pub(crate) fn digest_answer(
    challenge: &str,
    user: &str,
    password: &str,
    method: &str,
    uri: &str,
) -> String {
    let nonce = challenge
        .split("nonce=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no nonce in {challenge}"));
    let ha1 = crate::sip::digest::ha1_hex(DigestAlgorithm::Sha256, user, "pasokh", password);
    let qop = QopParams {
        qop: "auth",
        nc: "00000001",
        cnonce: "abc",
    };
    let response = expected_response(
        DigestAlgorithm::Sha256,
        &ha1,
        method,
        uri,
        nonce,
        Some(&qop),
    );
    format!(
        "Digest username=\"{user}\", realm=\"pasokh\", nonce=\"{nonce}\", uri=\"{uri}\", \
         response=\"{response}\", algorithm=SHA-256, qop=auth, nc=00000001, cnonce=\"abc\""
    )
}

#[test]
fn an_agent_registers_with_sha256_digest_and_a_wrong_password_looks_like_an_unknown_user() {
    let mut h = Harness::new();
    let creds = crate::sip::registrar::UserCredentials::from_password("2001", "pasokh", "secret");
    h.engine.handle_input(
        Input::Agents(vec![AgentEntry {
            id: "2001".into(),
            name: "Maryam".into(),
            credentials: creds,
            queues: vec![("137".into(), 0)],
        }]),
        h.now,
    );
    h.send(&register("2001", None, 1));
    let challenge = h.sent[0]
        .headers
        .get("WWW-Authenticate")
        .unwrap_or_default()
        .to_string();
    assert_eq!(h.sent[0].status, 401);
    assert!(challenge.contains("algorithm=SHA-256"), "{challenge}");
    h.send(&register(
        "2001",
        Some(&answer_challenge(&challenge, "2001", "secret")),
        2,
    ));
    assert_eq!(h.sent[1].status, 200);
    assert!(h.sent[1]
        .headers
        .get("Contact")
        .is_some_and(|c| c.contains("expires=120")));

    h.send(&register(
        "2001",
        Some(&answer_challenge(&challenge, "2001", "wrong")),
        3,
    ));
    h.send(&register(
        "9999",
        Some(&answer_challenge(&challenge, "9999", "secret")),
        4,
    ));
    let (wrong, unknown) = (&h.sent[2], &h.sent[3]);
    assert_eq!((wrong.status, unknown.status), (401, 401));
    let names = |r: &Response| {
        r.headers
            .iter()
            .map(|(n, _)| n.to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(names(wrong), names(unknown));
}

#[test]
fn an_engine_bye_over_udp_is_retransmitted_until_timer_f() {
    let mut h = Harness::new();
    h.send(&invite("137", "c11", "z9hG4bK-f", SDP));
    h.advance_to(Duration::from_secs(32)); // no ACK → BYE
    let byes = |h: &Harness| {
        h.requests
            .iter()
            .filter(|r| r.method == Method::Bye)
            .count()
    };
    assert_eq!(byes(&h), 1);
    h.advance_to(Duration::from_secs(32 + 40));
    // Timer E: 0.5, 1.5, 3.5, 7.5, then every 4 s until Timer F at 32 s: 11 sends in all.
    assert_eq!(byes(&h), 11);
}

pub(crate) mod acd;
mod acd_access;
mod acd_priority;
mod agent_phone;
mod flood;
pub(super) mod ivr;
mod sources;
