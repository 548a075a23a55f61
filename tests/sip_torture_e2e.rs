//! RFC 4475's torture messages (tests/rfc4475, one file each, sent byte for byte) against the real
//! binary over UDP and over TCP: each gets the answer docs/sip-torture.md gives it, no answer
//! carries a raw control byte, and an OPTIONS sent after each one is still answered 200.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use common::Engine;

/// What a vector gets over TCP when that differs from UDP.
#[derive(Clone, Copy, PartialEq)]
enum OverTcp {
    /// The same final answers as over UDP.
    Same,
    /// These final answers instead (dblreq: the second message is a message of its own).
    Answers(&'static [u16]),
    /// Nothing: the connection waits for a body that never comes (clerr).
    Waits,
    /// Nothing, and the connection is closed: the stream cannot be framed (ncl, mcl01).
    Closed,
}

struct Case {
    name: &'static str,
    /// Final answers, in order; empty: no answer at all (responses are never answered).
    answers: &'static [u16],
    tcp: OverTcp,
    /// A header the (first) answer must carry.
    header: Option<&'static str>,
}

const fn case(name: &'static str, answers: &'static [u16]) -> Case {
    Case {
        name,
        answers,
        tcp: OverTcp::Same,
        header: None,
    }
}

const fn with(name: &'static str, answers: &'static [u16], header: &'static str) -> Case {
    Case {
        name,
        answers,
        tcp: OverTcp::Same,
        header: Some(header),
    }
}

const fn tcp(name: &'static str, answers: &'static [u16], tcp: OverTcp) -> Case {
    Case {
        name,
        answers,
        tcp,
        header: None,
    }
}

/// The table of docs/sip-torture.md.
const CASES: &[Case] = &[
    case("wsinv", &[481]),
    with("intmeth", &[501], "Allow"),
    case("esc01", &[200]),
    case("escnull", &[401]),
    with("esc02", &[501], "Allow"),
    case("lwsdisp", &[200]),
    case("longreq", &[200]),
    tcp("dblreq", &[401], OverTcp::Answers(&[401, 401])),
    case("semiuri", &[200]),
    case("transports", &[200]),
    with("mpart01", &[405], "Allow"),
    case("unreason", &[]),
    case("noreason", &[]),
    case("badinv01", &[400]),
    tcp("clerr", &[400], OverTcp::Waits),
    tcp("ncl", &[400], OverTcp::Closed),
    case("scalar02", &[400]),
    case("scalarlg", &[]),
    case("quotbal", &[400]),
    case("ltgtruri", &[400]),
    case("lwsruri", &[400]),
    case("lwsstart", &[400]),
    case("trws", &[400]),
    case("escruri", &[400]),
    case("baddate", &[200]),
    case("regbadct", &[400]),
    case("badaspec", &[400]),
    case("baddn", &[400]),
    case("badvers", &[505]),
    case("mismatch01", &[400]),
    with("mismatch02", &[501], "Allow"),
    case("bigcode", &[]),
    case("badbranch", &[200]),
    case("insuf", &[400]),
    case("unkscm", &[416]),
    case("novelsc", &[416]),
    case("unksm2", &[400]),
    with(
        "bext01",
        &[420],
        "Unsupported: nothingSupportsThis, nothingSupportsThisEither",
    ),
    with("invut", &[415], "Accept: application/sdp"),
    with("regaut01", &[401], "WWW-Authenticate"),
    case("multi01", &[400]),
    tcp("mcl01", &[400], OverTcp::Closed),
    case("bcast", &[]),
    case("zeromf", &[483]),
    case("cparam01", &[401]),
    case("cparam02", &[401]),
    case("regescrt", &[401]),
    with("sdp01", &[406], "Accept: application/sdp"),
    case("inv2543", &[200]),
    case("rawnul", &[400]),
    case("mfneg", &[400]),
];

/// How long a peer waits for an answer that should come, and for one that should not.
const ANSWER_WAIT: Duration = Duration::from_secs(3);
const SILENCE_WAIT: Duration = Duration::from_millis(700);

fn vector(name: &str) -> Vec<u8> {
    let path = common::repo_dir().join(format!("tests/rfc4475/{name}.sip"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A raw control byte (bar CR, LF, HTAB) or DEL in an answer: what made a request malformed
/// carried back to its sender.
fn assert_no_control_bytes(name: &str, message: &[u8]) {
    let bad = message
        .iter()
        .any(|&b| (b < 0x20 && !b"\r\n\t".contains(&b)) || b == 0x7f);
    assert!(
        !bad,
        "{name}: an answer carries a control byte: {:?}",
        String::from_utf8_lossy(message)
    );
}

fn status_of(message: &[u8]) -> Option<u16> {
    let text = std::str::from_utf8(message.get(..12)?).ok()?;
    text.strip_prefix("SIP/2.0 ")?.get(..3)?.parse().ok()
}

/// A header's value in a message we received (the engine prints canonical names).
fn header(message: &[u8], name: &str) -> Option<String> {
    let text = String::from_utf8_lossy(message);
    let head = text.split("\r\n\r\n").next().unwrap_or_default();
    head.lines().find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.trim()
            .eq_ignore_ascii_case(name)
            .then(|| v.trim().to_string())
    })
}

fn options(n: usize, transport: &str) -> Vec<u8> {
    format!(
        "OPTIONS sip:137@pasokh.test SIP/2.0\r\nVia: SIP/2.0/{transport} 127.0.0.1:5999;branch=z9hG4bKafter{n}\r\n\
         From: <sip:monitor@127.0.0.1>;tag=m{n}\r\nTo: <sip:137@pasokh.test>\r\n\
         Call-ID: after-{n}@127.0.0.1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

/// ACK and BYE for a call a vector's INVITE set up, built from the engine's 200.
fn ack_and_bye(ok: &[u8], transport: &str, n: usize) -> (Vec<u8>, Vec<u8>) {
    let field = |name: &str| header(ok, name).unwrap_or_default();
    let number: u32 = field("CSeq")
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1);
    let request = |method: &str, cseq: u32, branch: &str| {
        format!(
            "{method} sip:137@pasokh.test SIP/2.0\r\nVia: SIP/2.0/{transport} 127.0.0.1:5999;branch=z9hG4bK{branch}{n}\r\n\
             From: {}\r\nTo: {}\r\nCall-ID: {}\r\nCSeq: {cseq} {method}\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
            field("From"),
            field("To"),
            field("Call-ID"),
        )
        .into_bytes()
    };
    (
        request("ACK", number, "ack"),
        request("BYE", number + 1, "bye"),
    )
}

/// One side of the conversation: a UDP socket or a TCP connection to the engine.
trait Peer {
    fn send(&mut self, bytes: &[u8]);
    /// The next message within `wait`; `None` on silence (or a closed connection).
    fn receive(&mut self, wait: Duration) -> Option<Vec<u8>>;
    fn transport(&self) -> &'static str;
}

struct Udp {
    socket: UdpSocket,
    engine: u16,
}

impl Udp {
    fn new(engine: &Engine) -> Udp {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"));
        Udp {
            socket,
            engine: engine.sip,
        }
    }
}

impl Peer for Udp {
    fn send(&mut self, bytes: &[u8]) {
        self.socket
            .send_to(bytes, ("127.0.0.1", self.engine))
            .unwrap_or_else(|e| panic!("UDP send: {e}"));
    }

    fn receive(&mut self, wait: Duration) -> Option<Vec<u8>> {
        let _ = self.socket.set_read_timeout(Some(wait));
        let mut buffer = vec![0u8; 65536];
        let (n, _) = self.socket.recv_from(&mut buffer).ok()?;
        buffer.truncate(n);
        Some(buffer)
    }

    fn transport(&self) -> &'static str {
        "UDP"
    }
}

struct Tcp {
    stream: TcpStream,
    buffer: Vec<u8>,
    closed: bool,
}

impl Tcp {
    fn new(engine: &Engine) -> Tcp {
        let stream = TcpStream::connect(("127.0.0.1", engine.sip))
            .unwrap_or_else(|e| panic!("TCP connect: {e}"));
        let _ = stream.set_nodelay(true);
        Tcp {
            stream,
            buffer: Vec::new(),
            closed: false,
        }
    }

    /// A whole message at the front of the buffer, if one has arrived.
    fn take_message(&mut self) -> Option<Vec<u8>> {
        let end = self.buffer.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
        let length: usize = header(&self.buffer[..end], "Content-Length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        if self.buffer.len() < end + length {
            return None;
        }
        Some(self.buffer.drain(..end + length).collect())
    }
}

impl Peer for Tcp {
    fn send(&mut self, bytes: &[u8]) {
        self.stream
            .write_all(bytes)
            .unwrap_or_else(|e| panic!("TCP send: {e}"));
    }

    fn receive(&mut self, wait: Duration) -> Option<Vec<u8>> {
        let deadline = Instant::now() + wait;
        let mut chunk = [0u8; 65536];
        loop {
            if let Some(message) = self.take_message() {
                return Some(message);
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            if left.is_zero() || self.closed {
                return None;
            }
            let _ = self.stream.set_read_timeout(Some(left));
            match self.stream.read(&mut chunk) {
                Ok(0) => self.closed = true,
                Ok(n) => self.buffer.extend_from_slice(&chunk[..n]),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    return None
                }
                Err(_) => self.closed = true,
            }
        }
    }

    fn transport(&self) -> &'static str {
        "TCP"
    }
}

/// The final answers to what was just sent (to its `method` only, if given: a vector's INVITE
/// answer retransmitted over UDP is not the OPTIONS answer): provisional ones are skipped; after
/// the expected count, a short wait shows there is no other.
fn finals(name: &str, peer: &mut dyn Peer, expected: usize, method: Option<&str>) -> Vec<Vec<u8>> {
    let mut answers = Vec::new();
    let started = Instant::now();
    loop {
        let wait = if answers.len() < expected && started.elapsed() < ANSWER_WAIT {
            ANSWER_WAIT - started.elapsed()
        } else {
            SILENCE_WAIT
        };
        let Some(message) = peer.receive(wait) else {
            return answers;
        };
        assert_no_control_bytes(name, &message);
        match status_of(&message) {
            // Over UDP a final answer to an INVITE is retransmitted until ACKed (RFC 3261
            // §17.2.1): the same bytes again are the same answer.
            Some(status) if status >= 200 && answers.contains(&message) => {}
            Some(_)
                if method
                    .is_some_and(|m| !header(&message, "CSeq").is_some_and(|c| c.ends_with(m))) => {
            }
            Some(status) if status >= 200 => answers.push(message),
            Some(_) => {}
            None => panic!(
                "{name}: not a response: {:?}",
                String::from_utf8_lossy(&message)
            ),
        }
        if answers.len() > expected {
            return answers;
        }
    }
}

/// Sends one vector and checks what comes back; returns whether the same peer can still be
/// used for the OPTIONS after it.
fn send_vector(case: &Case, peer: &mut dyn Peer, n: usize) -> bool {
    let is_tcp = peer.transport() == "TCP";
    let expected: &[u16] = match (is_tcp, case.tcp) {
        (true, OverTcp::Answers(answers)) => answers,
        (true, OverTcp::Waits | OverTcp::Closed) => &[],
        _ => case.answers,
    };
    peer.send(&vector(case.name));
    let answers = finals(case.name, peer, expected.len(), None);
    let statuses: Vec<u16> = answers.iter().filter_map(|a| status_of(a)).collect();
    assert_eq!(
        statuses,
        expected,
        "{} over {}: {:?}",
        case.name,
        peer.transport(),
        answers
            .iter()
            .map(|a| String::from_utf8_lossy(a).to_string())
            .collect::<Vec<_>>()
    );
    if let (Some(wanted), Some(first)) = (case.header, answers.first()) {
        let text = String::from_utf8_lossy(first);
        assert!(
            text.contains(wanted),
            "{}: no {wanted} in {text}",
            case.name
        );
    }
    // A call a vector set up is ended, so the next vector starts with the engine idle.
    if let Some(ok) = answers.iter().find(|a| {
        status_of(a) == Some(200) && header(a, "CSeq").is_some_and(|c| c.ends_with("INVITE"))
    }) {
        let (ack, bye) = ack_and_bye(ok, peer.transport(), n);
        peer.send(&ack);
        peer.send(&bye);
        let answers = finals(case.name, peer, 1, Some("BYE"));
        let statuses: Vec<u16> = answers.iter().filter_map(|a| status_of(a)).collect();
        assert_eq!(statuses, vec![200], "{}: BYE", case.name);
    }
    match (is_tcp, case.tcp) {
        (true, OverTcp::Closed) => {
            assert!(
                peer.receive(SILENCE_WAIT).is_none(),
                "{}: an answer on an unframeable stream",
                case.name
            );
            false
        }
        (true, OverTcp::Waits) => false,
        _ => true,
    }
}

fn options_answered(name: &str, peer: &mut dyn Peer, n: usize) {
    peer.send(&options(n, peer.transport()));
    let answers = finals(name, peer, 1, Some("OPTIONS"));
    let statuses: Vec<u16> = answers.iter().filter_map(|a| status_of(a)).collect();
    assert_eq!(
        statuses,
        vec![200],
        "OPTIONS after {name} over {}",
        peer.transport()
    );
}

#[test]
fn every_rfc4475_vector_gets_its_answer_over_udp() {
    let engine = Engine::start("torture-udp", "");
    for (n, case) in CASES.iter().enumerate() {
        // A fresh socket per vector: a final answer the engine retransmits is never read as
        // the next vector's.
        let mut peer = Udp::new(&engine);
        send_vector(case, &mut peer, n);
        options_answered(case.name, &mut peer, n);
    }
}

#[test]
fn every_rfc4475_vector_gets_its_answer_over_tcp() {
    let engine = Engine::start("torture-tcp", "");
    for (n, case) in CASES.iter().enumerate() {
        let mut peer = Tcp::new(&engine);
        if send_vector(case, &mut peer, n) {
            options_answered(case.name, &mut peer, n);
        } else {
            options_answered(case.name, &mut Tcp::new(&engine), n);
        }
    }
}

#[test]
fn the_table_names_every_vector_file() {
    let dir = common::repo_dir().join("tests/rfc4475");
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let mut files = 0;
    for entry in entries.flatten() {
        let name = entry
            .path()
            .file_stem()
            .map(|s| s.to_string_lossy().to_string());
        let name = name.unwrap_or_default();
        assert!(
            CASES.iter().any(|c| c.name == name),
            "{name} is not in CASES"
        );
        files += 1;
    }
    assert_eq!(files, CASES.len());
}
