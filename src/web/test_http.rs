//! A tiny HTTP/1.1 client and a test server for the web tests: real sockets on loopback, so the
//! tests cover routing, headers and status codes exactly as a client sees them.

use std::error::Error;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch};

use super::conn::{serve_connections, HeadLimits};
use super::{router, LiveFeed, WebState};
use crate::engine::live::{AgentAction, LiveSnapshot};
use crate::sip::registrar::UserCredentials;
use crate::store::test_support::TempDir;
use crate::store::Store;

/// The agents every test server knows.
pub(super) const TEST_AGENTS: [&str; 3] = ["2001", "2002", "2003"];

/// The manager every test server knows, and the password of every manager the tests add.
pub(super) const TEST_MANAGER: &str = "77";
pub(super) const TEST_PASSWORD: &str = "correct horse";

pub(super) type TestResult = Result<(), Box<dyn Error>>;

/// The parts of a response the tests look at.
#[derive(Debug)]
pub(super) struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    pub fn json(&self) -> Result<serde_json::Value, serde_json::Error> {
        serde_json::from_str(&self.body)
    }
}

/// A server on an OS-chosen loopback port with its own database; stops when dropped.
pub(super) struct TestServer {
    pub addr: SocketAddr,
    pub store: Store,
    /// The recordings folder the server serves (not created until a test puts a file in it).
    pub recordings: PathBuf,
    /// Publishes live snapshots, as the engine driver does (see `publish`).
    live: watch::Sender<Arc<LiveSnapshot>>,
    /// Agent requests the server forwarded, in order (see `actions`).
    agent_actions: Arc<Mutex<Vec<(String, AgentAction)>>>,
    /// The sign-in lockout's clock (Unix ms); tests move it with `advance_clock`.
    clock_ms: Arc<AtomicI64>,
    _stop: oneshot::Sender<()>,
    _dir: TempDir,
}

impl TestServer {
    pub async fn start(label: &str) -> Result<TestServer, Box<dyn Error>> {
        TestServer::start_with(label, HeadLimits::default()).await
    }

    /// A server whose connections are held to `limits` (a short head timeout, say).
    pub async fn start_with(label: &str, limits: HeadLimits) -> Result<TestServer, Box<dyn Error>> {
        let dir = TempDir::new(label);
        let store = Store::open(dir.path()).await?;
        // Call-takers 2001-2003 exist, as with `--demo`: an agent's token works only while its
        // agent does.
        for id in TEST_AGENTS {
            let credentials = UserCredentials::from_password(id, "pasokh", "pw");
            store.add_agent(id, id, &credentials, &[]).await?;
        }
        // Manager 77 exists: a manager's token works only while their mailbox does.
        store
            .add_manager(TEST_MANAGER, "Test manager", "1234", TEST_PASSWORD)
            .await?;
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let recordings = dir.path().join("recordings");
        let clock_ms = Arc::new(AtomicI64::new(crate::store::unix_ms_now()));
        let reading = clock_ms.clone();
        let clock: super::Clock = Arc::new(move || reading.load(Ordering::SeqCst));
        let (live, snapshots) = watch::channel(Arc::new(LiveSnapshot::default()));
        let agent_actions = Arc::new(Mutex::new(Vec::new()));
        let (known, recorded) = (snapshots.clone(), agent_actions.clone());
        // Like the engine: an agent is known when the latest snapshot lists them.
        let act = move |agent: String, action: AgentAction| {
            if !known.borrow().agents.iter().any(|a| a.id == agent) {
                return false;
            }
            recorded
                .lock()
                .map(|mut list| list.push((agent, action)))
                .is_ok()
        };
        let state = WebState {
            live: LiveFeed::new(snapshots, Arc::new(act)),
            store: store.clone(),
            recordings_dir: recordings.clone(),
            mailbox_routes: Arc::new(crate::config::MailboxRoutes::demo()),
            sign_in_limiter: super::SignInLimiter::with_clock(clock.clone()),
            phones: super::phone::PhoneLink::detached(),
            metrics: Arc::new(|| {
                "# TYPE pasokh_calls_total counter\npasokh_calls_total 3\n".into()
            }),
        };
        let (stop, stopped) = oneshot::channel::<()>();
        let shutdown = async move {
            let _ = stopped.await;
        };
        tokio::spawn(serve_connections(
            listener,
            router(state),
            limits,
            None,
            shutdown,
        ));
        Ok(TestServer {
            addr,
            store,
            recordings,
            live,
            agent_actions,
            clock_ms,
            _stop: stop,
            _dir: dir,
        })
    }

    /// Moves the sign-in lockout's clock forward.
    pub fn advance_clock(&self, ms: i64) {
        self.clock_ms.fetch_add(ms, Ordering::SeqCst);
    }

    /// `POST path` with `body` (bytes) of `content_type`, and a bearer token when given.
    pub async fn post_bytes(
        &self,
        path: &str,
        token: Option<&str>,
        content_type: &str,
        body: &[u8],
    ) -> Result<Reply, Box<dyn Error>> {
        let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: localhost\r\n{auth}Content-Type: {content_type}\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        let mut stream = TcpStream::connect(self.addr).await?;
        stream.write_all(head.as_bytes()).await?;
        // The server may answer (413) and close before reading a large body: that is not an error.
        let _ = stream.write_all(body).await;
        let mut raw = Vec::new();
        let _ = stream.read_to_end(&mut raw).await;
        parse_reply(&String::from_utf8_lossy(&raw))
    }

    /// `GET path`, with `Authorization: Bearer token` when a token is given.
    pub async fn get(&self, path: &str, token: Option<&str>) -> Result<Reply, Box<dyn Error>> {
        let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
        self.send(&format!(
            "GET {path} HTTP/1.1\r\nHost: localhost\r\n{auth}Connection: close\r\n\r\n"
        ))
        .await
    }

    /// Sends a raw request (must ask for `Connection: close`) and reads the whole response.
    pub async fn send(&self, request: &str) -> Result<Reply, Box<dyn Error>> {
        let mut stream = TcpStream::connect(self.addr).await?;
        stream.write_all(request.as_bytes()).await?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await?;
        parse_reply(&String::from_utf8(raw)?)
    }
}

/// A response whose body is bytes (audio), not text.
#[derive(Debug)]
pub(super) struct BytesReply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl BytesReply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

impl TestServer {
    /// `GET path` with an optional token and `Range`, for binary bodies sent with a length.
    pub async fn get_bytes(
        &self,
        path: &str,
        token: Option<&str>,
        range: Option<&str>,
    ) -> Result<BytesReply, Box<dyn Error>> {
        let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
        let range = range.map_or(String::new(), |r| format!("Range: {r}\r\n"));
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: localhost\r\n{auth}{range}Connection: close\r\n\r\n"
        );
        let mut stream = TcpStream::connect(self.addr).await?;
        stream.write_all(request.as_bytes()).await?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await?;
        let end = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .ok_or("no end of headers")?;
        let head = String::from_utf8(raw[..end].to_vec())?;
        let mut reply = parse_reply(&format!("{head}\r\n\r\n"))?;
        let mut body = raw[end + 4..].to_vec();
        if reply.header("transfer-encoding").is_some() {
            return Err("a binary body must be sent with Content-Length".into());
        }
        if let Some(length) = reply.header("content-length") {
            body.truncate(length.parse()?);
        }
        Ok(BytesReply {
            status: reply.status,
            headers: std::mem::take(&mut reply.headers),
            body,
        })
    }
}

pub(super) fn parse_reply(raw: &str) -> Result<Reply, Box<dyn Error>> {
    let (head, body) = raw.split_once("\r\n\r\n").ok_or("no end of headers")?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().ok_or("no status line")?;
    let status = status_line
        .split_whitespace()
        .nth(1)
        .ok_or("no status code")?
        .parse()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(key, value)| (key.trim().to_string(), value.trim().to_string()))
        .collect();
    let chunked = headers.iter().any(|(key, value)| {
        key.eq_ignore_ascii_case("transfer-encoding") && value.eq_ignore_ascii_case("chunked")
    });
    let body = if chunked {
        dechunk(body)?
    } else {
        body.to_string()
    };
    Ok(Reply {
        status,
        headers,
        body,
    })
}

/// Joins a chunked body (RFC 9112 §7.1), ignoring chunk extensions and trailers.
fn dechunk(mut rest: &str) -> Result<String, Box<dyn Error>> {
    let mut body = String::new();
    loop {
        let (size_line, after) = rest.split_once("\r\n").ok_or("bad chunk")?;
        let size_text = size_line.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16)?;
        if size == 0 {
            return Ok(body);
        }
        let chunk = after.get(..size).ok_or("short chunk")?;
        body.push_str(chunk);
        rest = after.get(size + 2..).ok_or("chunk without CRLF")?;
    }
}

#[test]
fn chunked_bodies_are_joined() -> TestResult {
    let raw = concat!(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
        "4\r\nWiki\r\n5;x=y\r\npedia\r\n0\r\n\r\n"
    );
    let reply = parse_reply(raw)?;
    assert_eq!((reply.status, reply.body.as_str()), (200, "Wikipedia"));
    Ok(())
}

/// The live side: what the engine driver would publish and receive.
impl TestServer {
    /// Publishes a snapshot to the server, as the engine does about twice a second.
    pub fn publish(&self, snapshot: LiveSnapshot) {
        self.live.send_replace(Arc::new(snapshot));
    }

    /// The agent requests forwarded to the "engine" so far.
    pub fn actions(&self) -> Vec<(String, AgentAction)> {
        self.agent_actions
            .lock()
            .map(|list| list.clone())
            .unwrap_or_default()
    }

    /// `POST path` with a JSON body and `Authorization: Bearer token`.
    pub async fn post_json(
        &self,
        path: &str,
        token: &str,
        body: &str,
    ) -> Result<Reply, Box<dyn Error>> {
        self.send(&format!(
            "POST {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ))
        .await
    }
}
