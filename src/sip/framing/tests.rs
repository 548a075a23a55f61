use super::*;

fn options(body: &str) -> Vec<u8> {
    format!(
        "OPTIONS sip:137@example.org SIP/2.0\r\nVia: SIP/2.0/TCP 10.0.0.1;branch=z9hG4bK{len}\r\n\
         Content-Length: {len}\r\n\r\n{body}",
        len = body.len()
    )
    .into_bytes()
}

/// A header of about `size` bytes (many Via lines), no body.
fn long_header(size: usize) -> Vec<u8> {
    let mut head = b"OPTIONS sip:137@example.org SIP/2.0\r\n".to_vec();
    while head.len() < size {
        head.extend_from_slice(b"Via: SIP/2.0/TCP 10.0.0.1:5060;branch=z9hG4bKabcdef\r\n");
    }
    head.extend_from_slice(b"l: 0\r\n\r\n");
    head
}

fn feed_in_pieces(stream: &[u8], piece: usize) -> (Vec<Vec<u8>>, Framer) {
    let mut framer = Framer::new();
    let mut messages = Vec::new();
    for chunk in stream.chunks(piece) {
        match framer.push(chunk) {
            Ok(done) => messages.extend(done),
            Err(Unframeable) => panic!("a well-framed stream was refused"),
        }
    }
    (messages, framer)
}

#[test]
fn frames_back_to_back_and_partial_messages() {
    let one = b"OPTIONS sip:a SIP/2.0\r\nContent-Length: 3\r\n\r\nabc".to_vec();
    let two = b"BYE sip:a SIP/2.0\r\nl: 0\r\n\r\n".to_vec();
    let stream = [
        b"\r\n\r\n".to_vec(),
        one.clone(),
        two.clone(),
        b"INVITE sip:a SIP/2.0\r\nContent-Len".to_vec(),
    ]
    .concat();
    let mut framer = Framer::new();
    assert_eq!(framer.push(&stream), Ok(vec![one, two]));
    assert!(framer.is_mid_message());
    assert_eq!(framer.push(b"gth: 0\r\n\r\n").map(|m| m.len()), Ok(1));
    assert!(!framer.is_mid_message());
}

#[test]
fn keep_alives_between_messages_are_not_a_message_in_progress() {
    let mut framer = Framer::new();
    assert_eq!(framer.push(b"\r\n\r\n\r\n"), Ok(vec![]));
    assert!(!framer.is_mid_message());
}

#[test]
fn byte_by_byte_gives_the_same_messages_as_whole_segments() {
    let stream = [
        b"\r\n".to_vec(),
        options("v=0\r\n"),
        options(""),
        long_header(3000),
        b"\r\n\r\n".to_vec(),
        options("x\r\n\r\ny"),
    ]
    .concat();
    let (whole, _) = feed_in_pieces(&stream, stream.len());
    assert_eq!(whole.len(), 4);
    assert_eq!(whole[2], long_header(3000));
    assert_eq!(whole[3], options("x\r\n\r\ny"));
    for piece in [1, 2, 3, 7, 100] {
        let (pieces, framer) = feed_in_pieces(&stream, piece);
        assert_eq!(pieces, whole, "pieces of {piece} bytes");
        assert!(!framer.is_mid_message());
    }
}

#[test]
fn scan_cost_is_linear_however_the_header_is_cut() {
    // Each header byte is examined once by the scan and once more when Content-Length is read:
    // never more than twice the stream, one byte per segment or all at once.
    let stream = [long_header(8000), long_header(8000)].concat();
    let (whole, framer_whole) = feed_in_pieces(&stream, stream.len());
    let (bytewise, framer_bytewise) = feed_in_pieces(&stream, 1);
    assert_eq!(whole.len(), 2);
    assert_eq!(bytewise, whole);
    let limit = 2 * stream.len() as u64;
    assert!(framer_whole.bytes_examined() <= limit);
    assert_eq!(
        framer_bytewise.bytes_examined(),
        framer_whole.bytes_examined(),
        "one byte per segment examined more than the whole stream"
    );
}

#[test]
fn refuses_unframeable_streams() {
    let mut framer = Framer::new();
    let bad = b"OPTIONS sip:a SIP/2.0\r\nContent-Length: x\r\n\r\n";
    assert_eq!(framer.push(bad), Err(Unframeable));
    let mut framer = Framer::new();
    assert_eq!(framer.push(&vec![b'a'; MAX_MESSAGE + 1]), Err(Unframeable));
    let mut framer = Framer::new();
    let huge_body = format!("OPTIONS sip:a SIP/2.0\r\nl: {MAX_MESSAGE}\r\n\r\n");
    assert_eq!(framer.push(huge_body.as_bytes()), Err(Unframeable));
}

#[test]
fn a_header_growing_past_the_limit_one_byte_at_a_time_is_refused() {
    let mut framer = Framer::new();
    let refused = (0..=MAX_MESSAGE)
        .map(|_| framer.push(b"a"))
        .find(Result::is_err);
    assert_eq!(refused, Some(Err(Unframeable)));
}

#[test]
fn the_buffer_gives_back_a_large_message_s_memory() {
    let mut framer = Framer::new();
    let big = options(&"b".repeat(MAX_MESSAGE - 200));
    assert_eq!(framer.push(&big).map(|m| m.len()), Ok(1));
    assert!(framer.buffer.capacity() <= KEEP_CAPACITY);
}

#[test]
fn two_different_content_lengths_cannot_be_framed() {
    // RFC 4475 mcl01: either value could be right, so the next message's start is unknowable.
    let conflicting = b"OPTIONS sip:a SIP/2.0\r\nContent-Length: 13\r\nl: 5\r\n\r\nhello".to_vec();
    assert_eq!(Framer::new().push(&conflicting), Err(Unframeable));
    let negative = b"OPTIONS sip:a SIP/2.0\r\nContent-Length: -999\r\n\r\n".to_vec();
    assert_eq!(Framer::new().push(&negative), Err(Unframeable));
    let repeated = b"OPTIONS sip:a SIP/2.0\r\nContent-Length: 5\r\nl: 5\r\n\r\nhello".to_vec();
    assert_eq!(Framer::new().push(&repeated).map(|m| m.len()), Ok(1));
}
