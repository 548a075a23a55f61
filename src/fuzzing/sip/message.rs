//! `sip_message`: bytes as one SIP datagram, through `sip::parse::parse`.
//!
//! Why: every UDP datagram and TCP frame from the network goes through this parser before
//! anything else looks at it, so it is the engine's widest attack surface. Beyond "never
//! panics", a message that parses must print back (`to_bytes`, what the engine sends when it
//! copies headers into a response) to bytes that parse to the same message: same kind, method or
//! status, Call-ID, CSeq, headers (except Content-Length, recomputed) and body.

use crate::sip::msg::Message;
use crate::sip::parse::parse;

pub fn sip_message(data: &[u8]) {
    let Ok(message) = parse(data) else {
        return;
    };
    let printed = message.to_bytes();
    let again = match parse(&printed) {
        Ok(again) => again,
        Err(e) => panic!(
            "a parsed message printed back does not parse: {e}\n{}",
            String::from_utf8_lossy(&printed)
        ),
    };
    match (&message, &again) {
        (Message::Request(a), Message::Request(b)) => {
            assert_eq!(a.method, b.method, "method changed");
            assert_eq!(a.uri, b.uri, "Request-URI changed");
            assert_eq!(a.call_id(), b.call_id(), "Call-ID changed");
            assert_eq!(a.cseq(), b.cseq(), "CSeq changed");
            assert_eq!(a.branch(), b.branch(), "branch changed");
            assert_eq!(a.body, b.body, "body changed");
        }
        (Message::Response(a), Message::Response(b)) => {
            assert_eq!(a.status, b.status, "status changed");
            assert_eq!(a.call_id(), b.call_id(), "Call-ID changed");
            assert_eq!(a.cseq(), b.cseq(), "CSeq changed");
            assert_eq!(a.body, b.body, "body changed");
        }
        _ => panic!("a request printed back parses as a response, or the reverse"),
    }
    let headers = |m: &Message| -> Vec<(String, String)> {
        m.headers()
            .iter()
            .filter(|(name, _)| !name.eq_ignore_ascii_case("Content-Length"))
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    };
    assert_eq!(headers(&message), headers(&again), "headers changed");
    // Printing is stable: the second print is byte for byte the first.
    assert_eq!(again.to_bytes(), printed, "printing is not stable");
}
