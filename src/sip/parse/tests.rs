use super::*;
use crate::sip::msg::Message;

const INVITE: &str = "INVITE sip:137@127.0.0.1:5060 SIP/2.0\r\n\
Via: SIP/2.0/UDP 127.0.0.1:15061;branch=z9hG4bK-1-0\r\n\
From: sipp <sip:sipp@127.0.0.1:15061>;tag=1\r\n\
To: <sip:137@127.0.0.1:5060>\r\n\
Call-ID: 1-abc@127.0.0.1\r\n\
CSeq: 1 INVITE\r\n\
Contact: sip:sipp@127.0.0.1:15061\r\n\
Max-Forwards: 70\r\n\
Content-Type: application/sdp\r\n\
Content-Length: 10\r\n\r\nv=0\r\no=x\r\nEXTRA";

fn request(text: &str) -> Request {
    match parse(text.as_bytes()) {
        Ok(Message::Request(r)) => r,
        other => panic!("expected a request, got {other:?}"),
    }
}

#[test]
fn parses_an_invite_and_cuts_the_body_at_content_length() {
    let r = request(INVITE);
    assert_eq!(r.method, Method::Invite);
    assert_eq!(r.uri_user(), Some("137"));
    assert_eq!(r.branch().as_deref(), Some("z9hG4bK-1-0"));
    assert_eq!(r.from_tag(), Some("1"));
    assert_eq!(r.to_tag(), None);
    assert_eq!(r.cseq(), Some((1, Method::Invite)));
    assert_eq!(r.body, b"v=0\r\no=x\r\n");
}

#[test]
fn printing_and_parsing_again_gives_the_same_message() {
    let first = request(INVITE);
    let again = match parse(&first.to_bytes()) {
        Ok(Message::Request(r)) => r,
        other => panic!("reparse failed: {other:?}"),
    };
    assert_eq!(first, again);
}

#[test]
fn accepts_compact_names_and_folded_lines() {
    let text = "OPTIONS sip:137@127.0.0.1 SIP/2.0\r\n\
v: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKwsinv\r\n\
f: <sip:a@127.0.0.1>\r\n ;tag=77\r\n\
t: <sip:137@127.0.0.1>\r\n\
i: folded-1\r\n\
CSeq: 8\r\n\t OPTIONS\r\n\
l: 0\r\n\r\n";
    let r = request(text);
    assert_eq!(r.headers.get("Call-ID"), Some("folded-1"));
    assert_eq!(r.from_tag(), Some("77"));
    assert_eq!(r.cseq(), Some((8, Method::Options)));
    assert_eq!(r.branch().as_deref(), Some("z9hG4bKwsinv"));
}

#[test]
fn keeps_unknown_methods_for_a_501() {
    let text = INVITE
        .replace("INVITE sip", "FOO sip")
        .replace("1 INVITE", "1 FOO");
    assert_eq!(request(&text).method, Method::Other("FOO".into()));
}

#[test]
fn parses_responses() {
    let text = "SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKa\r\nTo: <sip:a@h>;tag=9\r\nCSeq: 2 INVITE\r\nContent-Length: 0\r\n\r\n";
    match parse(text.as_bytes()) {
        Ok(Message::Response(r)) => {
            assert_eq!(r.status, 180);
            assert_eq!(r.to_tag(), Some("9"));
            assert_eq!(r.branch().as_deref(), Some("z9hG4bKa"));
        }
        other => panic!("expected a response: {other:?}"),
    }
}

#[test]
fn rejects_malformed_input_without_panicking() {
    let cases: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"\r\n\r\n".to_vec(),
        b"INVITE\r\n\r\n".to_vec(),
        b"INVITE sip:137@h SIP/3.0\r\n\r\n".to_vec(),
        INVITE
            .replace("Call-ID: 1-abc@127.0.0.1\r\n", "")
            .into_bytes(),
        INVITE
            .replace("Content-Length: 10", "Content-Length: 999")
            .into_bytes(),
        INVITE
            .replace("Content-Length: 10", "Content-Length: -1")
            .into_bytes(),
        INVITE.replace("CSeq: 1 INVITE", "CSeq INVITE").into_bytes(),
        b"SIP/2.0 99999 Huge\r\n\r\n".to_vec(),
        vec![0xff, 0xfe, 0x00, 0x13, 0x37],
        b" continuation first\r\n\r\n".to_vec(),
    ];
    for case in cases {
        assert!(
            parse(&case).is_err(),
            "accepted {:?}",
            String::from_utf8_lossy(&case)
        );
    }
}

#[test]
fn survives_every_truncation_of_a_valid_message() {
    let bytes = INVITE.as_bytes();
    for end in 0..bytes.len() {
        let _ = parse(&bytes[..end]);
    }
}
