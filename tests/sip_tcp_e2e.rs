//! SIP over TCP against the real binary on 127.0.0.1: pipelined requests are all answered, and
//! hostile clients (one that never reads, one that dribbles a header) are disconnected.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::Engine;

fn options(n: usize) -> Vec<u8> {
    format!(
        "OPTIONS sip:137@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:5999;branch=z9hG4bKtcp{n}\r\n\
         From: <sip:monitor@127.0.0.1>;tag=t{n}\r\nTo: <sip:137@127.0.0.1>\r\n\
         Call-ID: tcp-{n}@127.0.0.1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

fn connect(engine: &Engine) -> TcpStream {
    let stream = TcpStream::connect(("127.0.0.1", engine.sip))
        .unwrap_or_else(|e| panic!("cannot connect to SIP over TCP: {e}"));
    let _ = stream.set_nodelay(true);
    stream
}

/// The value of one `/metrics` line, e.g. `pasokh_sip_tcp_closed_total{reason="idle"}`.
fn metric(engine: &Engine, series: &str) -> Option<f64> {
    let (_, text) = engine.get("/metrics", None);
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
}

/// Waits (up to 5 s; `/metrics` is refreshed about twice a second) for a metric to reach `value`.
fn wait_metric(engine: &Engine, series: &str, value: f64) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if metric(engine, series) == Some(value) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

#[test]
fn pipelined_requests_over_tcp_are_all_answered() {
    let engine = Engine::start("tcp-pipelined", "");
    let mut stream = connect(&engine);
    let count = 500;
    let requests: Vec<u8> = (0..count).flat_map(options).collect();
    stream
        .write_all(&requests)
        .unwrap_or_else(|e| panic!("cannot send: {e}"));
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let (mut answers, mut received, mut chunk) = (0, Vec::new(), [0u8; 65536]);
    while answers < count {
        match stream.read(&mut chunk) {
            Ok(n) if n > 0 => received.extend_from_slice(&chunk[..n]),
            other => panic!("after {answers} of {count} answers: {other:?}"),
        }
        answers = received.windows(11).filter(|w| w == b"SIP/2.0 200").count();
    }
    assert_eq!(answers, count);
}

#[test]
fn a_tcp_client_that_never_reads_is_disconnected() {
    let engine = Engine::start("tcp-not-reading", "tcp_output_max_kb = 64");
    let mut stream = connect(&engine);
    let _ = stream.set_write_timeout(Some(Duration::from_millis(500)));
    let started = Instant::now();
    let (mut sent, mut refused) = (0, None);
    while started.elapsed() < Duration::from_secs(20) {
        let batch: Vec<u8> = (sent..sent + 100).flat_map(options).collect();
        match stream.write_all(&batch) {
            Ok(()) => sent += 100,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) => {
                refused = Some(e);
                break;
            }
        }
    }
    assert!(
        refused.is_some(),
        "still connected after {sent} requests and {:?}",
        started.elapsed()
    );
    assert!(wait_metric(
        &engine,
        "pasokh_sip_tcp_closed_total{reason=\"not_reading\"}",
        1.0
    ));
    assert!(engine.log_text().contains("does not read its answers"));
}

#[test]
fn a_dribbled_tcp_header_is_cut_at_its_deadline() {
    let engine = Engine::start("tcp-dribble", "tcp_message_deadline_ms = 300");
    let mut stream = connect(&engine);
    let started = Instant::now();
    let header = b"OPTIONS sip:137@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP ";
    let mut closed = false;
    // One byte every 20 ms, never ending the header: far inside the 300 s idle time.
    for byte in header.iter().cycle() {
        if stream.write_all(&[*byte]).is_err() || started.elapsed() > Duration::from_secs(10) {
            closed = stream.write_all(b"x").is_err();
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(closed, "the connection outlived its message deadline");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(wait_metric(
        &engine,
        "pasokh_sip_tcp_closed_total{reason=\"slow_message\"}",
        1.0
    ));
}
