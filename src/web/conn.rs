//! Our own accept loop: each connection's first request head is read and checked here before
//! the HTTP library sees a byte, so a head over our limits gets the API's JSON 431 however large
//! it is.
//!
//! Why: the library answers a head over its own bounds (about 400 KB, or more than 100 header
//! lines) with an empty 431 before any of our code runs, and `axum::serve` does not let us
//! change that. Reading the head ourselves (at most [`HeadLimits::max_bytes`], so never more
//! memory than that per connection) and replaying it to the library keeps one HTTP
//! implementation for everything after the check.
//!
//! So that every head passes through here, a connection carries one request: the library is
//! told not to keep it alive (`Connection: close`). Finding the next head on a kept-alive
//! connection would mean parsing every body's framing (lengths, chunks) a second time, next to
//! the library, and two parsers that disagree are worse than one; a new connection per request
//! costs little for an API whose clients are a few pages and scripts (an `/api/events` stream
//! is one long request either way).

use std::future::Future;
use std::io;
use std::pin::{pin, Pin};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;

use super::mailbox::PeerAddr;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use super::json_errors::{error_body, MAX_HEADER_BYTES};
use super::tls::TlsAcceptor;

/// What a connection's bytes travel over: a plain TCP stream, or TLS on top of one.
trait Transport: AsyncRead + AsyncWrite + Unpin + Send + 'static {}
impl<S: AsyncRead + AsyncWrite + Unpin + Send + 'static> Transport for S {}

/// The first byte of every TLS connection: a handshake record. Anything else on an HTTPS port is
/// a client speaking plain HTTP (an `http://` link typed by habit), told where to go instead of
/// meeting a silent close.
const TLS_HANDSHAKE_RECORD: u8 = 0x16;

/// The most header lines (after the request line) a request may carry: the library's own
/// limit, so a later head on a kept-alive connection meets the same bound.
pub(super) const MAX_HEADER_LINES: usize = 100;

/// How long a client has to send a whole request head, and how long a kept-alive connection may
/// sit idle before the next one. A client trickling a head a byte at a time is cut off here
/// instead of holding a task and its buffer forever.
pub(super) const HEAD_TIMEOUT: Duration = Duration::from_secs(30);

/// After refusing a head we read and discard what the client is still sending, for at most this
/// long and this many bytes, before closing: closing a socket with unread data makes the kernel
/// send a reset, and a reset can reach the client before it has read our 431.
const LINGER_TIME: Duration = Duration::from_secs(2);
const LINGER_BYTES: usize = 1024 * 1024;

/// The bounds a connection's first head is held to.
#[derive(Clone, Copy, Debug)]
pub(super) struct HeadLimits {
    /// Request line and headers together, line ends included.
    pub max_bytes: usize,
    /// Header lines, the request line not counted.
    pub max_lines: usize,
    /// For the whole first head, and for each later one (and the idle time before it).
    pub timeout: Duration,
}

impl Default for HeadLimits {
    fn default() -> HeadLimits {
        HeadLimits {
            max_bytes: MAX_HEADER_BYTES,
            max_lines: MAX_HEADER_LINES,
            timeout: HEAD_TIMEOUT,
        }
    }
}

/// Accepts connections until `shutdown` resolves, then lets the requests in flight finish
/// (connections still waiting for a first head are dropped: they have nothing in flight).
/// With `tls`, every connection is HTTPS: the handshake is held to the head's time limit.
pub(super) async fn serve_connections(
    listener: TcpListener,
    router: Router,
    limits: HeadLimits,
    tls: Option<TlsAcceptor>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    // Dropping `stop_rx` tells every connection to shut down gracefully.
    let (stop_tx, stop_rx) = watch::channel(());
    tokio::spawn(async move {
        shutdown.await;
        drop(stop_rx);
    });
    // Each connection task holds a clone of `done_rx`; `done_tx.closed()` waits for them all.
    let (done_tx, done_rx) = watch::channel(());
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    accept_failed(error).await;
                    continue;
                }
            },
            _ = stop_tx.closed() => break,
        };
        let (stream, peer) = stream;
        let router = router.clone();
        let stop = stop_tx.clone();
        let done = done_rx.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            match tls {
                None => serve_connection(stream, peer, router, limits, false, stop).await,
                Some(acceptor) => {
                    serve_tls_connection(stream, peer, router, limits, acceptor, stop).await
                }
            }
            drop(done);
        });
    }
    drop(done_rx);
    drop(listener);
    done_tx.closed().await;
    Ok(())
}

/// A failed accept is about one connection (it went away) or about this process (out of file
/// descriptors); the second needs a pause, or the loop would spin on the same error.
async fn accept_failed(error: io::Error) {
    use io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        error.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::error!(%error, "HTTP accept failed; pausing for a second");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// Completes the TLS handshake (within the head's time limit), then serves the connection as
/// any other. A client that sends plain HTTP is answered in plain HTTP with where to go.
async fn serve_tls_connection(
    stream: TcpStream,
    peer: std::net::SocketAddr,
    router: Router,
    limits: HeadLimits,
    acceptor: TlsAcceptor,
    stop: watch::Sender<()>,
) {
    let mut first = [0_u8; 1];
    let peeked = tokio::select! {
        peeked = tokio::time::timeout(limits.timeout, stream.peek(&mut first)) => peeked,
        _ = stop.closed() => return,
    };
    match peeked {
        Ok(Ok(1)) if first[0] != TLS_HANDSHAKE_RECORD => {
            refuse(stream, Refusal::PlainHttp).await;
            return;
        }
        Ok(Ok(1)) => {}
        // Closed, failed, or silent for the whole limit: nothing was asked.
        _ => return,
    }
    let handshake = tokio::select! {
        handshake = tokio::time::timeout(limits.timeout, acceptor.accept(stream)) => handshake,
        _ = stop.closed() => return,
    };
    match handshake {
        Ok(Ok(stream)) => serve_connection(stream, peer, router, limits, true, stop).await,
        // A browser that does not trust the certificate ends the handshake itself; the log says
        // why at debug level (a scanner would otherwise fill it).
        Ok(Err(error)) => tracing::debug!(%error, %peer, "TLS handshake failed"),
        Err(_) => tracing::debug!(%peer, "TLS handshake not finished in time"),
    }
}

async fn serve_connection(
    mut stream: impl Transport,
    peer: std::net::SocketAddr,
    router: Router,
    limits: HeadLimits,
    secure: bool,
    stop: watch::Sender<()>,
) {
    let head = tokio::select! {
        head = read_first_head(&mut stream, &limits) => head,
        _ = stop.closed() => return,
    };
    let read = match head {
        Ok(FirstHead::Complete(read)) => read,
        Ok(FirstHead::Closed) | Err(_) => return,
        Ok(FirstHead::Refused(refusal)) => {
            refuse(stream, refusal).await;
            return;
        }
    };

    // One request per connection, so our head check covers every request. A WebSocket upgrade
    // is the exception: with keep-alive off hyper would add `close` to its 101 (`Connection:
    // upgrade, close`), which WebSocket clients and proxies refuse. Such a connection keeps
    // keep-alive on, and any answer but the 101 closes it (below): no second request either way.
    let upgrade = asks_upgrade(&read);
    let io = TokioIo::new(Replay::new(read, stream));
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.timeout)
        .max_headers(limits.max_lines)
        .keep_alive(upgrade);
    // The peer's address reaches handlers as a request extension (the sign-in lockout counts by
    // it). Inserted per request rather than with `Router::layer`, which would rebuild the whole
    // route tree for every connection.
    let service = hyper::service::service_fn(move |mut request: hyper::Request<_>| {
        request.extensions_mut().insert(PeerAddr(peer));
        let mut router = router.clone();
        async move {
            let mut response = tower_service::Service::call(&mut router, request).await?;
            if secure {
                mark_cookies_secure(response.headers_mut());
            }
            if upgrade && response.status() != axum::http::StatusCode::SWITCHING_PROTOCOLS {
                response.headers_mut().insert(
                    axum::http::header::CONNECTION,
                    axum::http::HeaderValue::from_static("close"),
                );
            }
            Ok::<_, std::convert::Infallible>(response)
        }
    });
    // `with_upgrades`: the agent page's phone is a WebSocket (`GET /api/phone`).
    let connection = builder.serve_connection(io, service).with_upgrades();
    let mut connection = pin!(connection);
    let mut stopping = pin!(stop.closed());
    let mut told = false;
    loop {
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(error) = result {
                    tracing::debug!(%error, "HTTP connection ended with an error");
                }
                return;
            }
            _ = stopping.as_mut(), if !told => {
                connection.as_mut().graceful_shutdown();
                told = true;
            }
        }
    }
}

/// Whether the first head asks to switch protocols (`Upgrade:` among its header lines).
fn asks_upgrade(read: &[u8]) -> bool {
    let end = read
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(read.len());
    read[..end]
        .split(|&b| b == b'\n')
        .skip(1)
        .any(|line| line.len() >= 8 && line[..8].eq_ignore_ascii_case(b"upgrade:"))
}

/// Over HTTPS the session cookie is `Secure`: the browser then never sends it over plain HTTP,
/// where anyone on the path could read it. Done here, where the connection is known, so the
/// pages that set cookies need not know how they are served.
fn mark_cookies_secure(headers: &mut axum::http::HeaderMap) {
    use axum::http::{header::SET_COOKIE, HeaderValue};
    let cookies: Vec<HeaderValue> = headers.get_all(SET_COOKIE).iter().cloned().collect();
    if cookies.is_empty() {
        return;
    }
    headers.remove(SET_COOKIE);
    for cookie in cookies {
        let marked = cookie
            .to_str()
            .ok()
            .and_then(|text| HeaderValue::from_str(&format!("{text}; Secure")).ok())
            .unwrap_or(cookie);
        headers.append(SET_COOKIE, marked);
    }
}

/// What the first read on a connection came to.
enum FirstHead {
    /// A whole head within the limits, and whatever followed it in the same reads.
    Complete(Vec<u8>),
    /// The client closed before finishing a head, or sent nothing within the time limit (a
    /// browser may open a connection ahead of need): closed without a word.
    Closed,
    Refused(Refusal),
}

/// Why a head is answered by us instead of served.
#[derive(Debug, PartialEq)]
enum Refusal {
    TooLarge(usize),
    TooManyLines(usize),
    TimedOut(Duration),
    /// Plain HTTP sent to the HTTPS port.
    PlainHttp,
}

impl Refusal {
    fn status_line(&self) -> &'static str {
        match self {
            Refusal::TooLarge(_) | Refusal::TooManyLines(_) => {
                "HTTP/1.1 431 Request Header Fields Too Large"
            }
            Refusal::TimedOut(_) => "HTTP/1.1 408 Request Timeout",
            Refusal::PlainHttp => "HTTP/1.1 400 Bad Request",
        }
    }

    /// The same texts `json_errors::limit_headers` uses, so a client sees one message whichever
    /// check caught it.
    fn reason(&self) -> String {
        match self {
            Refusal::TooLarge(limit) => format!("request headers over {limit} bytes"),
            Refusal::TooManyLines(limit) => format!("request headers over {limit} lines"),
            Refusal::TimedOut(limit) => {
                format!("request head not complete within {} s", limit.as_secs())
            }
            Refusal::PlainHttp => "this port serves HTTPS: use https:// in the address".into(),
        }
    }
}

/// Reads until the blank line that ends the first head, refusing it as soon as it is over a
/// limit (so at most `max_bytes + 1` bytes are ever buffered) or not complete in time.
async fn read_first_head(
    stream: &mut impl Transport,
    limits: &HeadLimits,
) -> io::Result<FirstHead> {
    let deadline = tokio::time::Instant::now() + limits.timeout;
    let mut read = Vec::with_capacity(4096);
    let mut scan = HeadScan::default();
    loop {
        let end = scan.advance(&read);
        if scan.header_lines() > limits.max_lines {
            return Ok(FirstHead::Refused(Refusal::TooManyLines(limits.max_lines)));
        }
        match end {
            Some(end) if end > limits.max_bytes => {
                return Ok(FirstHead::Refused(Refusal::TooLarge(limits.max_bytes)))
            }
            Some(_) => return Ok(FirstHead::Complete(read)),
            None if read.len() > limits.max_bytes => {
                return Ok(FirstHead::Refused(Refusal::TooLarge(limits.max_bytes)))
            }
            None => {}
        }
        let room = (limits.max_bytes + 1 - read.len()).min(16 * 1024);
        let before = read.len();
        read.resize(before + room, 0);
        let got = tokio::time::timeout_at(deadline, stream.read(&mut read[before..])).await;
        let got = match got {
            Ok(got) => got?,
            Err(_elapsed) if before == 0 => return Ok(FirstHead::Closed),
            Err(_elapsed) => return Ok(FirstHead::Refused(Refusal::TimedOut(limits.timeout))),
        };
        read.truncate(before + got);
        if got == 0 {
            return Ok(FirstHead::Closed);
        }
    }
}

/// Finds the end of a request head in bytes that arrive piece by piece, counting its lines.
///
/// Lines end in CRLF or a bare LF (RFC 9112 §2.2 lets a server accept LF, and the library does);
/// empty lines before the request line are skipped, as the RFC asks.
#[derive(Default)]
struct HeadScan {
    /// Where the next search for a line end starts.
    pos: usize,
    /// Where the current line starts.
    line_start: usize,
    /// Non-empty lines seen: the request line and the header lines.
    lines: usize,
}

impl HeadScan {
    /// Scans what was added to `read` since the last call; returns the head's length (up to and
    /// including its blank line) once the blank line is in.
    fn advance(&mut self, read: &[u8]) -> Option<usize> {
        while let Some(offset) = read.get(self.pos..)?.iter().position(|&b| b == b'\n') {
            let line_end = self.pos + offset;
            let line = &read[self.line_start..line_end];
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            self.pos = line_end + 1;
            self.line_start = self.pos;
            if !line.is_empty() {
                self.lines += 1;
            } else if self.lines > 0 {
                return Some(self.pos);
            }
        }
        self.pos = read.len();
        None
    }

    fn header_lines(&self) -> usize {
        self.lines.saturating_sub(1)
    }
}

/// Answers a refused head with the API's JSON error and closes the connection.
async fn refuse(mut stream: impl Transport, refusal: Refusal) {
    let body = error_body(&refusal.reason());
    let reply = format!(
        "{}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        refusal.status_line(),
        body.len()
    );
    if stream.write_all(reply.as_bytes()).await.is_err() || stream.shutdown().await.is_err() {
        return;
    }
    let _ = tokio::time::timeout(LINGER_TIME, drain(&mut stream)).await;
}

/// Reads and drops up to [`LINGER_BYTES`], until the client closes.
async fn drain(stream: &mut impl Transport) {
    let mut sink = [0_u8; 16 * 1024];
    let mut left = LINGER_BYTES;
    while left > 0 {
        match stream.read(&mut sink).await {
            Ok(0) | Err(_) => return,
            Ok(n) => left = left.saturating_sub(n),
        }
    }
}

/// A stream that first gives back bytes already read from it, then reads on; writes go straight
/// through. This hands the library the head we checked as if it had read it itself.
struct Replay<S> {
    prefix: Vec<u8>,
    offset: usize,
    inner: S,
}

impl<S> Replay<S> {
    fn new(prefix: Vec<u8>, inner: S) -> Replay<S> {
        Replay {
            prefix,
            offset: 0,
            inner,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Replay<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if let Some(rest) = this.prefix.get(this.offset..).filter(|r| !r.is_empty()) {
            let n = rest.len().min(buf.remaining());
            buf.put_slice(&rest[..n]);
            this.offset += n;
            if this.offset == this.prefix.len() {
                // Up to 32 KB per connection, kept for nothing once replayed.
                this.prefix = Vec::new();
                this.offset = 0;
            }
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Replay<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::{asks_upgrade, HeadScan};

    #[test]
    fn only_a_header_line_named_upgrade_asks_for_an_upgrade() {
        let socket = b"GET /api/phone HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUPGRADE: websocket\r\n\r\n";
        assert!(asks_upgrade(socket));
        assert!(asks_upgrade(b"GET / HTTP/1.1\nupgrade: h2c\n\n"));
        for plain in [
            &b"GET /upgrade: HTTP/1.1\r\nHost: a\r\n\r\n"[..],
            b"GET / HTTP/1.1\r\nX-Upgrade: x\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: a\r\n\r\nupgrade: in the body",
            b"",
        ] {
            assert!(!asks_upgrade(plain), "{}", String::from_utf8_lossy(plain));
        }
    }

    /// Feeds `bytes` in pieces of `step` bytes; the head length and line count at the end.
    fn scan_in_steps(bytes: &[u8], step: usize) -> (Option<usize>, usize) {
        let mut scan = HeadScan::default();
        let mut end = None;
        for upto in (step..bytes.len() + step).step_by(step) {
            end = scan.advance(&bytes[..upto.min(bytes.len())]);
            if end.is_some() {
                break;
            }
        }
        (end, scan.header_lines())
    }

    #[test]
    fn the_head_ends_at_its_blank_line_however_it_arrives() {
        let request = b"GET / HTTP/1.1\r\nHost: a\r\nX-B: c\r\n\r\nbody bytes\r\n\r\n";
        for step in [1, 2, 3, 7, request.len()] {
            assert_eq!(scan_in_steps(request, step), (Some(35), 2), "step {step}");
        }
    }

    #[test]
    fn bare_lf_ends_and_leading_blank_lines_are_accepted() {
        assert_eq!(
            scan_in_steps(b"GET / HTTP/1.1\nHost: a\n\n", 1),
            (Some(24), 1)
        );
        assert_eq!(
            scan_in_steps(b"\r\n\nGET / HTTP/1.1\r\n\r\n", 1),
            (Some(21), 0)
        );
        assert_eq!(
            scan_in_steps(b"GET / HTTP/1.1\r\nHost: a\r\n", 5),
            (None, 1)
        );
    }
}
