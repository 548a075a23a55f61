//! What supervisors watch live: `GET /api/queues` (the engine's latest snapshot as JSON) and
//! `GET /api/events` (the same snapshot as Server-Sent Events, pushed whenever it changes).
//!
//! Why a watch channel and a closure: the engine publishes a whole [`LiveSnapshot`] about twice
//! a second into a `tokio::sync::watch` channel, which keeps only the latest value, so a slow
//! browser never makes the engine queue anything and every reader sees the newest state at
//! once. Agent requests go the other way through one closure ([`AgentActions`]), so this layer
//! holds no engine handle or lock and knows nothing of the ACD beyond `engine::live`.

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::header;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::IntoResponse;
use axum::Json;
use futures_util::StreamExt;
use tokio::sync::watch;
use tokio_stream::wrappers::WatchStream;

use super::{AdminOrSupervisor, Authorized, WebState};
use crate::engine::live::{AgentAction, LiveSnapshot};

/// How often an idle event stream sends a comment, so proxies and browsers keep it open.
const KEEP_ALIVE: Duration = Duration::from_secs(10);
/// How long a browser waits before reconnecting a dropped stream (the SSE `retry` field).
const RETRY: Duration = Duration::from_secs(2);

/// The engine's latest snapshot, as published by the engine driver.
pub type SnapshotReceiver = watch::Receiver<Arc<LiveSnapshot>>;

/// Forwards a request for an agent (by id) to the engine; `false` when the agent is unknown.
/// Whether the ACD applies, defers or refuses the request shows in the next snapshots.
pub type AgentActions = Arc<dyn Fn(String, AgentAction) -> bool + Send + Sync>;

/// The web layer's two links to the live engine; cheap to clone.
#[derive(Clone)]
pub struct LiveFeed {
    snapshots: SnapshotReceiver,
    actions: AgentActions,
    /// Event streams open now (`pasokh_http_event_streams`).
    streams: Arc<AtomicUsize>,
}

/// Counts one open event stream; dropped with the stream when the client goes (the server
/// notices at the next snapshot or keep-alive it cannot write), which frees its state.
struct OpenStream(Arc<AtomicUsize>);

impl OpenStream {
    fn new(streams: &Arc<AtomicUsize>) -> OpenStream {
        streams.fetch_add(1, Ordering::Relaxed);
        OpenStream(streams.clone())
    }
}

impl Drop for OpenStream {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl LiveFeed {
    pub fn new(snapshots: SnapshotReceiver, actions: AgentActions) -> LiveFeed {
        LiveFeed {
            snapshots,
            actions,
            streams: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// How many `GET /api/events` streams are open.
    pub fn open_streams(&self) -> usize {
        self.streams.load(Ordering::Relaxed)
    }

    /// The latest snapshot (never blocks the publisher for longer than a clone of the `Arc`).
    pub fn current(&self) -> Arc<LiveSnapshot> {
        self.snapshots.borrow().clone()
    }

    /// Hands a request to the engine; `false` when the engine does not know the agent.
    pub fn act(&self, agent: String, action: AgentAction) -> bool {
        (self.actions)(agent, action)
    }

    /// A receiver of the snapshots, to wait for the next one.
    pub fn snapshots(&self) -> SnapshotReceiver {
        self.snapshots.clone()
    }

    /// Every snapshot from now on, starting with the current one.
    fn stream(&self) -> WatchStream<Arc<LiveSnapshot>> {
        WatchStream::new(self.snapshots.clone())
    }
}

/// `GET /api/queues`: the whole snapshot (`at_ms`, `queues`, `agents`, `waiting`).
pub(super) async fn queues(
    _caller: Authorized<AdminOrSupervisor>,
    State(state): State<WebState>,
) -> impl IntoResponse {
    let snapshot = state.live.current();
    // Agents' names and callers' masked numbers: no shared cache may keep them.
    ([(header::CACHE_CONTROL, "no-store")], Json(snapshot))
}

/// `GET /api/events`: an `event: snapshot` with the snapshot JSON at once and on every change,
/// and keep-alive comments while nothing changes.
pub(super) async fn events(
    _caller: Authorized<AdminOrSupervisor>,
    State(state): State<WebState>,
) -> impl IntoResponse {
    let open = OpenStream::new(&state.live.streams);
    let events = state.live.stream().map(move |snapshot| {
        let _counted = &open;
        Ok::<_, Infallible>(event(&snapshot))
    });
    let sse = Sse::new(events).keep_alive(KeepAlive::new().interval(KEEP_ALIVE));
    ([(header::CACHE_CONTROL, "no-store")], sse)
}

/// One `snapshot` event. Serializing these plain structs cannot fail; if it ever did, the
/// browser gets an `error` event naming the failure rather than a dead stream.
fn event(snapshot: &LiveSnapshot) -> Event {
    match Event::default()
        .event("snapshot")
        .retry(RETRY)
        .json_data(snapshot)
    {
        Ok(event) => event,
        Err(error) => {
            tracing::error!(%error, "cannot serialize a live snapshot");
            Event::default().event("error").data("snapshot unavailable")
        }
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error;
    use std::time::Duration;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    use super::super::test_http::{TestResult, TestServer};
    use crate::engine::live::{LiveSnapshot, QueueLive, WaitingLive};
    use crate::store::Role;

    fn snapshot_with_waiting(call: u64) -> LiveSnapshot {
        LiveSnapshot {
            at_ms: 1_795_448_513_123,
            queues: vec![QueueLive {
                name: "1888".into(),
                waiting: 1,
                longest_wait_s: 3.5,
                ..QueueLive::default()
            }],
            agents: vec![],
            waiting: vec![WaitingLive {
                call,
                queue: "1888".into(),
                caller: "0912***4567".into(),
                waited_s: 3.5,
                position: 1,
                ringing: vec![],
            }],
        }
    }

    #[tokio::test]
    async fn queues_are_the_whole_snapshot_for_supervisors() -> TestResult {
        let server = TestServer::start("web-live-queues").await?;
        server.publish(snapshot_with_waiting(7));
        let token = server.store.create_token(&Role::Supervisor).await?;
        let reply = server.get("/api/queues", Some(&token)).await?;
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(reply.header("cache-control"), Some("no-store"));
        let json = reply.json()?;
        assert_eq!(json, serde_json::to_value(snapshot_with_waiting(7))?);
        assert_eq!(json["queues"][0]["name"], "1888");
        assert_eq!(json["waiting"][0]["caller"], "0912***4567");
        assert!(json["agents"].is_array());
        Ok(())
    }

    #[tokio::test]
    async fn live_routes_are_for_admins_and_supervisors() -> TestResult {
        let server = TestServer::start("web-live-roles").await?;
        for path in ["/api/queues", "/api/events"] {
            assert_eq!(server.get(path, None).await?.status, 401, "{path}");
            for role in [
                Role::Screener,
                Role::Agent("2001".into()),
                Role::Manager("77".into()),
            ] {
                let token = server.store.create_token(&role).await?;
                let reply = server.get(path, Some(&token)).await?;
                assert_eq!(reply.status, 403, "{path} {role}");
            }
        }
        let admin = server.store.create_token(&Role::Admin).await?;
        assert_eq!(server.get("/api/queues", Some(&admin)).await?.status, 200);
        Ok(())
    }

    /// Reads from an event stream until `needle` has appeared `count` times, or fails after 5 s.
    async fn read_until(
        stream: &mut TcpStream,
        seen: &mut String,
        needle: &str,
        count: usize,
    ) -> Result<(), Box<dyn Error>> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while seen.matches(needle).count() < count {
            let mut buffer = [0_u8; 4096];
            let read = tokio::time::timeout_at(deadline, stream.read(&mut buffer))
                .await
                .map_err(|_| format!("no {needle:?} within 5 s; got:\n{seen}"))??;
            if read == 0 {
                return Err(format!("stream closed; got:\n{seen}").into());
            }
            seen.push_str(&String::from_utf8_lossy(&buffer[..read]));
        }
        Ok(())
    }

    #[tokio::test]
    async fn events_send_the_snapshot_at_once_and_on_every_change() -> TestResult {
        let server = TestServer::start("web-live-sse").await?;
        server.publish(snapshot_with_waiting(41));
        let token = server.store.create_token(&Role::Supervisor).await?;
        let mut stream = TcpStream::connect(server.addr).await?;
        // The browser's EventSource cannot set headers: the sign-in cookie must be enough.
        let request = format!(
            "GET /api/events HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\n\
             Cookie: theme=dark; pasokh_token={token}\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await?;
        let mut seen = String::new();
        read_until(&mut stream, &mut seen, "event: snapshot", 1).await?;
        // The event ends with a blank line (the head's blank line is CRLF CRLF).
        read_until(&mut stream, &mut seen, "\n\n", 1).await?;
        let head = seen.to_ascii_lowercase();
        assert!(head.starts_with("http/1.1 200"), "{seen}");
        assert!(head.contains("content-type: text/event-stream"), "{seen}");
        assert!(head.contains("cache-control: no-store"), "{seen}");
        assert!(seen.contains("\"call\":41"), "{seen}");

        server.publish(LiveSnapshot::default());
        read_until(&mut stream, &mut seen, "event: snapshot", 2).await?;
        read_until(&mut stream, &mut seen, "\n\n", 2).await?;
        let data_line = seen
            .lines()
            .rfind(|line| line.starts_with("data:"))
            .unwrap_or_default();
        let json: serde_json::Value = serde_json::from_str(data_line.trim_start_matches("data:"))?;
        assert_eq!(json, serde_json::to_value(LiveSnapshot::default())?);
        Ok(())
    }

    async fn open_streams_in_metrics(server: &TestServer) -> Result<String, Box<dyn Error>> {
        let metrics = server.get("/metrics", None).await?.body;
        Ok(metrics
            .lines()
            .find_map(|line| line.strip_prefix("pasokh_http_event_streams "))
            .unwrap_or_default()
            .to_string())
    }

    #[tokio::test]
    async fn closed_event_streams_are_let_go() -> TestResult {
        let server = TestServer::start("web-live-sse-close").await?;
        let token = server.store.create_token(&Role::Supervisor).await?;
        let mut clients = Vec::new();
        for _ in 0..3 {
            let mut stream = TcpStream::connect(server.addr).await?;
            let request = format!(
                "GET /api/events HTTP/1.1\r\nHost: localhost\r\n\
                 Authorization: Bearer {token}\r\n\r\n"
            );
            stream.write_all(request.as_bytes()).await?;
            let mut seen = String::new();
            read_until(&mut stream, &mut seen, "event: snapshot", 1).await?;
            clients.push(stream);
        }
        assert_eq!(open_streams_in_metrics(&server).await?, "3");
        drop(clients);
        // The server learns a client has gone when it next writes (a snapshot or keep-alive).
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while open_streams_in_metrics(&server).await? != "0" {
            assert!(
                tokio::time::Instant::now() < deadline,
                "streams still open: {}",
                open_streams_in_metrics(&server).await?
            );
            server.publish(LiveSnapshot::default());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(())
    }
}
