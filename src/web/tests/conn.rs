//! Heads over our limits get the API's JSON error however large they are, slow heads are cut
//! off, and ordinary requests (one per connection or several kept alive) are served as before.

use std::error::Error;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::store::Role;
use crate::web::conn::HeadLimits;
use crate::web::test_http::{parse_reply, Reply, TestResult, TestServer};

/// Writes `request` from another task (a server that answers before reading it all must not
/// stall the test) and reads until the server closes, for at most 10 s.
async fn exchange(addr: SocketAddr, request: Vec<u8>) -> Result<Reply, Box<dyn Error>> {
    let (mut reader, mut writer) = TcpStream::connect(addr).await?.into_split();
    let writing = tokio::spawn(async move {
        let _ = writer.write_all(&request).await;
        // Kept open until the reply is read: a half-close is not what these tests are about.
        writer
    });
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), reader.read_to_end(&mut raw))
        .await
        .map_err(|_| "no reply within 10 s")??;
    writing.abort();
    parse_reply(&String::from_utf8(raw)?)
}

/// Our refusal: the status, JSON with the given error text, and the connection closed.
fn assert_refused(reply: &Reply, status: u16, error: &str) -> TestResult {
    assert_eq!(reply.status, status, "{reply:?}");
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(reply.header("connection"), Some("close"));
    assert_eq!(reply.json()?, serde_json::json!({ "error": error }));
    Ok(())
}

fn request_with(headers: &str) -> Vec<u8> {
    format!("GET /api/health HTTP/1.1\r\nHost: localhost\r\n{headers}Connection: close\r\n\r\n")
        .into_bytes()
}

#[tokio::test]
async fn one_header_of_500_kb_is_our_json_431() -> TestResult {
    let server = TestServer::start("web-conn-500k").await?;
    let filler = format!("X-Filler: {}\r\n", "a".repeat(500 * 1024));
    let reply = exchange(server.addr, request_with(&filler)).await?;
    assert_refused(&reply, 431, "request headers over 32768 bytes")?;
    assert_eq!(server.get("/api/health", None).await?.status, 200);
    Ok(())
}

#[tokio::test]
async fn headers_of_40_kb_in_all_are_our_json_431() -> TestResult {
    let server = TestServer::start("web-conn-40k").await?;
    let filler: String = (0..4)
        .map(|i| format!("X-Filler-{i}: {}\r\n", "b".repeat(10 * 1024)))
        .collect();
    let reply = exchange(server.addr, request_with(&filler)).await?;
    assert_refused(&reply, 431, "request headers over 32768 bytes")?;
    assert_eq!(server.get("/api/health", None).await?.status, 200);
    Ok(())
}

#[tokio::test]
async fn more_than_100_header_lines_are_our_json_431() -> TestResult {
    let server = TestServer::start("web-conn-lines").await?;
    let lines: String = (0..150).map(|i| format!("X-Line-{i}: {i}\r\n")).collect();
    let reply = exchange(server.addr, request_with(&lines)).await?;
    assert_refused(&reply, 431, "request headers over 100 lines")?;
    // 100 lines in all (Host, Connection and 98 more) are within both our limit and the
    // library's, so the request is served.
    let lines: String = (0..98).map(|i| format!("X-Line-{i}: {i}\r\n")).collect();
    let reply = exchange(server.addr, request_with(&lines)).await?;
    assert_eq!(reply.status, 200, "{reply:?}");
    let lines: String = (0..99).map(|i| format!("X-Line-{i}: {i}\r\n")).collect();
    let reply = exchange(server.addr, request_with(&lines)).await?;
    assert_refused(&reply, 431, "request headers over 100 lines")?;
    Ok(())
}

#[tokio::test]
async fn bare_lf_line_ends_and_leading_blank_lines_are_served() -> TestResult {
    let server = TestServer::start("web-conn-lf").await?;
    let request = b"\r\nGET /api/health HTTP/1.1\nHost: localhost\nConnection: close\n\n".to_vec();
    let reply = exchange(server.addr, request).await?;
    assert_eq!(reply.status, 200, "{reply:?}");
    Ok(())
}

/// Reads one response with a `Content-Length` from a kept-alive connection; `buffered` carries
/// bytes read past it over to the next call.
async fn read_one(stream: &mut TcpStream, buffered: &mut Vec<u8>) -> Result<Reply, Box<dyn Error>> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(end) = buffered.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8(buffered[..end + 4].to_vec())?;
            let mut reply = parse_reply(&head)?;
            let length: usize = reply
                .header("content-length")
                .ok_or("no content-length")?
                .parse()?;
            if buffered.len() >= end + 4 + length {
                let whole: Vec<u8> = buffered.drain(..end + 4 + length).collect();
                reply.body = String::from_utf8(whole[end + 4..].to_vec())?;
                return Ok(reply);
            }
        }
        let mut chunk = [0_u8; 4096];
        let read = tokio::time::timeout_at(deadline, stream.read(&mut chunk))
            .await
            .map_err(|_| "no whole reply within 5 s")??;
        if read == 0 {
            return Err("closed before a whole reply".into());
        }
        buffered.extend_from_slice(&chunk[..read]);
    }
}

#[tokio::test]
async fn every_request_has_its_own_connection_so_every_head_is_checked() -> TestResult {
    let server = TestServer::start("web-conn-one-request").await?;
    let token = server.store.create_token(&Role::Screener).await?;
    // One request, one connection: the reply says so and the server closes.
    let mut stream = TcpStream::connect(server.addr).await?;
    let mut buffered = Vec::new();
    stream
        .write_all(b"GET /api/health HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await?;
    let reply = read_one(&mut stream, &mut buffered).await?;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(reply.json()?["status"], "ok");
    assert_eq!(reply.header("connection"), Some("close"), "{reply:?}");
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut rest)).await;
    assert!(
        matches!(closed, Ok(Ok(_))),
        "the server closes after one reply"
    );
    // The next request comes on a new connection, so a head far over the library's own bounds
    // (500 KB, beyond its buffer) still meets our reader and gets the JSON 431.
    let authorized = format!(
        "GET /api/messages HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\n\r\n"
    );
    let mut stream = TcpStream::connect(server.addr).await?;
    stream.write_all(authorized.as_bytes()).await?;
    assert_eq!(read_one(&mut stream, &mut Vec::new()).await?.status, 200);
    let filler = "c".repeat(500 * 1024);
    let request =
        format!("GET /api/health HTTP/1.1\r\nHost: localhost\r\nX-Filler: {filler}\r\n\r\n");
    let mut stream = TcpStream::connect(server.addr).await?;
    let _ = stream.write_all(request.as_bytes()).await;
    let reply = read_one(&mut stream, &mut Vec::new()).await?;
    assert_eq!(reply.status, 431, "{reply:?}");
    assert_eq!(reply.json()?["error"], "request headers over 32768 bytes");
    Ok(())
}

fn one_second() -> HeadLimits {
    HeadLimits {
        timeout: Duration::from_secs(1),
        ..HeadLimits::default()
    }
}

#[tokio::test]
async fn a_head_sent_a_byte_at_a_time_is_cut_off() -> TestResult {
    let server = TestServer::start_with("web-conn-slow", one_second()).await?;
    let (mut reader, mut writer) = TcpStream::connect(server.addr).await?.into_split();
    let started = Instant::now();
    let trickle = tokio::spawn(async move {
        let _ = writer
            .write_all(b"GET /api/health HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
            .await;
        // Forever, as far as the server can tell: 100 s at this pace.
        for _ in 0..1_000 {
            if writer.write_all(b"a").await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), reader.read_to_end(&mut raw))
        .await
        .map_err(|_| "the slow head was not cut off within 10 s")??;
    trickle.abort();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    let reply = parse_reply(&String::from_utf8(raw)?)?;
    assert_refused(&reply, 408, "request head not complete within 1 s")?;
    Ok(())
}

/// Reads until the server closes; what it sent first, if anything.
async fn until_closed(stream: &mut TcpStream) -> Result<Vec<u8>, Box<dyn Error>> {
    let mut rest = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut rest))
        .await
        .map_err(|_| "the connection was not closed within 10 s")??;
    Ok(rest)
}

#[tokio::test]
async fn silent_connections_are_closed_after_the_head_timeout_and_answered_ones_at_once(
) -> TestResult {
    let server = TestServer::start_with("web-conn-idle", one_second()).await?;
    // Nothing sent at all: closed without a reply.
    let mut silent = TcpStream::connect(server.addr).await?;
    assert!(until_closed(&mut silent).await?.is_empty());
    // After a reply the connection is closed at once: one request per connection, so no
    // connection sits idle between requests.
    let mut answered = TcpStream::connect(server.addr).await?;
    answered
        .write_all(b"GET /api/health HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await?;
    let mut buffered = Vec::new();
    assert_eq!(read_one(&mut answered, &mut buffered).await?.status, 200);
    let started = Instant::now();
    assert!(until_closed(&mut answered).await?.is_empty());
    assert!(
        started.elapsed() < Duration::from_millis(900),
        "closed only after {:?}",
        started.elapsed()
    );
    Ok(())
}

#[tokio::test]
async fn an_event_stream_outlives_the_head_timeout() -> TestResult {
    let server = TestServer::start_with("web-conn-sse", one_second()).await?;
    let token = server.store.create_token(&Role::Supervisor).await?;
    let mut stream = TcpStream::connect(server.addr).await?;
    let request = format!(
        "GET /api/events HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await?;
    let mut seen = String::new();
    let mut chunk = [0_u8; 4096];
    while seen.matches("event: snapshot").count() < 1 {
        let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut chunk)).await??;
        assert!(read > 0, "closed early: {seen}");
        seen.push_str(&String::from_utf8_lossy(&chunk[..read]));
    }
    // The timeout is for heads: a response that is still going is not a connection waiting for
    // its next head.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    server.publish(crate::engine::live::LiveSnapshot::default());
    while seen.matches("event: snapshot").count() < 2 {
        let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut chunk)).await??;
        assert!(read > 0, "the stream was closed: {seen}");
        seen.push_str(&String::from_utf8_lossy(&chunk[..read]));
    }
    Ok(())
}
