//! Every target survives the inputs that most often break a parser: nothing, a few bytes, a
//! long run of one byte, and a typical valid input. The committed corpora are replayed by
//! `tests/fuzz_corpus.rs`.

use super::TARGETS;

const INVITE: &[u8] = b"INVITE sip:137@192.0.2.1 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.9:5060;branch=z9hG4bK-1\r\n\
From: <sip:09121234567@192.0.2.9>;tag=a\r\nTo: <sip:137@192.0.2.1>\r\nCall-ID: c1\r\nCSeq: 1 INVITE\r\n\
Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n";

#[test]
fn every_target_survives_trivial_inputs() {
    let long_a = vec![b'a'; 5000];
    let long_zero = vec![0u8; 5000];
    let long_ff = vec![0xFFu8; 5000];
    for (name, target) in TARGETS {
        for data in [
            &b""[..],
            b"\0",
            b"\r\n\r\n",
            &long_a,
            &long_zero,
            &long_ff,
            INVITE,
        ] {
            eprintln!("{name}: {} bytes", data.len());
            target(data);
        }
    }
}

#[test]
fn targets_are_found_by_name() {
    assert!(super::target("sip_message").is_some());
    assert!(super::target("engine").is_some());
    assert!(super::target("nope").is_none());
}

#[test]
fn a_valid_invite_round_trips() {
    super::sip::message::sip_message(INVITE);
}
