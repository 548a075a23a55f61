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

/// RFC 4475 §3's messages (tests/rfc4475, docs/sip-torture.md) as the parser must take them: a
/// request or a response, or refused with the status the engine answers.
#[derive(Debug, PartialEq)]
enum Parsed {
    Request,
    Response,
    Refused(u16),
}

const VECTORS: &[(&str, Parsed)] = &[
    ("wsinv", Parsed::Request),
    ("intmeth", Parsed::Request),
    ("esc01", Parsed::Request),
    ("escnull", Parsed::Request),
    ("esc02", Parsed::Request),
    ("lwsdisp", Parsed::Request),
    ("longreq", Parsed::Request),
    ("dblreq", Parsed::Request),
    ("semiuri", Parsed::Request),
    ("transports", Parsed::Request),
    ("mpart01", Parsed::Request),
    ("unreason", Parsed::Response),
    ("noreason", Parsed::Response),
    ("badinv01", Parsed::Refused(400)),
    ("clerr", Parsed::Refused(400)),
    ("ncl", Parsed::Refused(400)),
    ("scalar02", Parsed::Refused(400)),
    ("scalarlg", Parsed::Response),
    ("quotbal", Parsed::Refused(400)),
    ("ltgtruri", Parsed::Refused(400)),
    ("lwsruri", Parsed::Refused(400)),
    ("lwsstart", Parsed::Refused(400)),
    ("trws", Parsed::Refused(400)),
    ("escruri", Parsed::Refused(400)),
    ("baddate", Parsed::Request),
    ("regbadct", Parsed::Refused(400)),
    ("badaspec", Parsed::Refused(400)),
    ("baddn", Parsed::Refused(400)),
    ("badvers", Parsed::Refused(505)),
    ("mismatch01", Parsed::Refused(400)),
    ("mismatch02", Parsed::Request),
    ("bigcode", Parsed::Refused(400)),
    ("badbranch", Parsed::Request),
    ("insuf", Parsed::Refused(400)),
    ("unkscm", Parsed::Refused(416)),
    ("novelsc", Parsed::Refused(416)),
    ("unksm2", Parsed::Request),
    ("bext01", Parsed::Request),
    ("invut", Parsed::Request),
    ("regaut01", Parsed::Request),
    ("multi01", Parsed::Refused(400)),
    ("mcl01", Parsed::Refused(400)),
    ("bcast", Parsed::Response),
    ("zeromf", Parsed::Request),
    ("cparam01", Parsed::Request),
    ("cparam02", Parsed::Request),
    ("regescrt", Parsed::Request),
    ("sdp01", Parsed::Request),
    ("inv2543", Parsed::Request),
    ("rawnul", Parsed::Refused(400)),
    ("mfneg", Parsed::Refused(400)),
];

fn vector(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/rfc4475/{name}.sip", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn every_rfc4475_vector_parses_or_is_refused_as_the_rfc_expects() {
    let mut wrong = Vec::new();
    for (name, expected) in VECTORS {
        let got = match parse(&vector(name)) {
            Ok(Message::Request(_)) => Parsed::Request,
            Ok(Message::Response(_)) => Parsed::Response,
            Err(ParseError(why, status)) => {
                if status != 400 || *expected != Parsed::Refused(400) {
                    eprintln!("{name}: {why}");
                }
                Parsed::Refused(status)
            }
        };
        if got != *expected {
            wrong.push(format!("{name}: expected {expected:?}, got {got:?}"));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn every_vector_file_is_in_the_table() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/rfc4475");
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{dir}: {e}"));
    for entry in entries.flatten() {
        let path = entry.path();
        let name = path.file_stem().map(|s| s.to_string_lossy().to_string());
        let name = name.unwrap_or_default();
        assert!(
            VECTORS.iter().any(|(n, _)| *n == name),
            "{name} has no expected outcome"
        );
    }
}

#[test]
fn the_defects_rfc4475_found_are_fixed() {
    // Each was answered 200 (or 400 where valid) before the parser checked the grammar itself.
    let refused = |text: &str| match parse(text.as_bytes()) {
        Err(ParseError(_, status)) => status,
        other => panic!("accepted {text:?}: {other:?}"),
    };
    assert_eq!(refused(&INVITE.replace("sipp <sip", "\"sipp <sip")), 400);
    for header in [
        "Call-ID: again\r\n",
        "To: <sip:x@y>\r\n",
        "CSeq: 2 INVITE\r\n",
    ] {
        let doubled = INVITE.replace("Contact:", &format!("{header}Contact:"));
        assert_eq!(refused(&doubled), 400, "{header}");
    }
    let from = INVITE.replace("From: sipp", "From: sipp2 <sip:b@h>;tag=2\r\nFrom: sipp");
    assert_eq!(refused(&from), 400);
    assert_eq!(
        refused(&INVITE.replace("Max-Forwards: 70", "Max-Forwards: -1")),
        400
    );
    assert_eq!(
        refused(&INVITE.replace("Max-Forwards: 70", "Max-Forwards: 256")),
        400
    );
    assert_eq!(
        refused(&INVITE.replace("To: <sip:137@127.0.0.1:5060>", "To: < sip:137@h >")),
        400
    );
    assert_eq!(refused(&INVITE.replace("sipp <sip", "si\u{0}pp <sip")), 400);
    assert_eq!(
        refused(&INVITE.replace("SIP/2.0\r\nVia", "SIP/7.0\r\nVia")),
        505
    );
    assert_eq!(
        refused(&INVITE.replace("INVITE sip:137@127.0.0.1:5060", "INVITE im:137@h")),
        416
    );
    assert_eq!(
        refused(&INVITE.replace("INVITE sip:137@127.0.0.1:5060", "INVITE <sip:137@h>")),
        400
    );

    let accepted = |text: &str| match parse(text.as_bytes()) {
        Ok(Message::Request(r)) => r,
        other => panic!("refused {text:?}: {other:?}"),
    };
    let unknown = INVITE
        .replace("INVITE sip", "!odd-Method_*+`.%x'~ sip")
        .replace("1 INVITE", "1 !odd-Method_*+`.%x'~");
    assert!(matches!(accepted(&unknown).method, Method::Other(_)));
    let semicolon = accepted(&INVITE.replace("INVITE sip:137@", "INVITE sip:137;par=u%40x@"));
    assert_eq!(semicolon.uri_user(), Some("137"));
    let escaped = accepted(&INVITE.replace("INVITE sip:137@", "INVITE sip:%31%33%37@"));
    assert_eq!(escaped.dialled_number().as_deref(), Some("137"));
    let bare_cookie = accepted(&INVITE.replace("branch=z9hG4bK-1-0", "branch=z9hG4bK"));
    let key = crate::sip::txn::TxnKey::for_request(&bare_cookie).map(|k| k.branch);
    assert!(key.is_some_and(|b| b.starts_with("2543:")));
}
