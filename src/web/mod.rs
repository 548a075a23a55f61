//! The HTTP side: a small JSON API for supervisors and tools, plus `/metrics` for Prometheus.
//!
//! Why this shape: handlers are thin — they check the caller (see `auth`), ask the [`Store`]
//! and turn records into JSON — so all the deciding stays in the engine and the store. The
//! engine's live counters reach `/metrics` through a closure ([`WebState::metrics`]) rather than
//! a shared engine handle, so this layer needs no lock on the engine and the engine does not
//! know HTTP exists. Errors are always JSON `{"error": "..."}` with the right status, so a
//! script can tell "bad token" (401) from "not allowed" (403) from "store down" (503).

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use tokio::net::TcpListener;

use crate::config::MailboxRoutes;
use crate::store::Store;

mod agent_page;
mod agents;
mod audit;
mod auth;
mod calls;
mod cases;
mod conn;
mod error;
mod iso_time;
mod json_errors;
mod limit;
mod live;
mod mailbox;
mod message_access;
mod messages;
mod password_sign_in;
pub mod phone;
mod queue_metrics;
mod recordings;
pub(crate) mod replies;
mod same_origin;
mod screening;
pub mod tls;
mod wallboard;

pub use auth::{AccessRule, AdminOrSupervisor, Authorized};
pub use error::ApiError;
pub use iso_time::iso8601_utc;
pub use live::{AgentActions, LiveFeed, SnapshotReceiver};
pub use mailbox::{Clock, PeerAddr, SignInLimiter};

/// Renders the engine's counters in the Prometheus text format.
pub type MetricsRenderer = Arc<dyn Fn() -> String + Send + Sync>;

/// What every handler can reach; cheap to clone (handles only).
#[derive(Clone)]
pub struct WebState {
    pub store: Store,
    /// Called on each `GET /metrics`; must not contain personal data (no numbers, no names).
    pub metrics: MetricsRenderer,
    /// The recordings folder (`<data>/recordings`) that `GET /api/recordings/...` serves from.
    pub recordings_dir: PathBuf,
    /// The engine's live snapshot and its agent requests (queues, events, wallboard).
    pub live: LiveFeed,
    /// Which mailbox the screening page suggests for a message (`[mailboxes.LINE]`).
    pub mailbox_routes: Arc<MailboxRoutes>,
    /// Failed manager sign-ins per mailbox and per address (the lockout).
    pub sign_in_limiter: SignInLimiter,
    /// Browser phones: the agent page's WebSocket and the engine it rings from.
    pub phones: phone::PhoneLink,
}

/// The whole HTTP surface. See docs/web.md for the role each route requires.
pub fn router(state: WebState) -> Router {
    Router::new()
        .route("/api/health", get(health))
        .route("/api/calls", get(calls::list_calls))
        .route("/api/messages", get(messages::list_messages))
        .route(
            "/api/messages/{code}",
            get(messages::get_message).patch(messages::patch_message),
        )
        .route("/api/messages/{code}/screening", post(screening::screen))
        .route(
            "/api/messages/{code}/reply",
            post(replies::reply)
                .layer(DefaultBodyLimit::max(replies::MAX_REPLY_BYTES))
                .layer(axum::middleware::from_fn(replies::refuse_declared_oversize)),
        )
        .route("/api/messages/{code}/handled", post(replies::handled))
        .route("/api/screening", get(screening::queue))
        .route("/api/managers", get(screening::managers))
        .route("/api/mailbox", get(mailbox::list))
        .route("/api/audit", get(audit::list_audit))
        .route("/api/recordings/{*name}", get(recordings::get_recording))
        .route("/api/cases/{number}", get(cases::get_case))
        .route("/metrics", get(metrics))
        .route("/api/queues", get(live::queues))
        .route("/api/events", get(live::events))
        .route("/api/agents/{id}/state", post(agents::set_state))
        .route("/api/phone", get(phone::socket))
        .route("/", get(wallboard::page))
        .route("/signin", post(wallboard::sign_in))
        .route("/signout", post(wallboard::sign_out))
        .route("/screening", get(wallboard::screening_page))
        .route("/screening/signin", post(wallboard::screening_sign_in))
        .route("/agent", get(agent_page::page))
        .route("/agent/signin", post(agent_page::sign_in))
        .route("/agent/signout", post(agent_page::sign_out))
        .route("/mailbox", get(mailbox::page))
        .route("/mailbox/signin", post(mailbox::sign_in))
        .route("/mailbox/signout", post(mailbox::sign_out))
        .fallback(not_found)
        .layer(axum::middleware::from_fn(json_errors::limit_headers))
        .layer(axum::middleware::map_response(json_errors::json_errors))
        .with_state(state)
}

/// Binds `addr` and serves until `shutdown` resolves (then finishes requests in flight); HTTPS
/// with `tls`.
pub async fn serve(
    addr: SocketAddr,
    state: WebState,
    tls: Option<tls::TlsAcceptor>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let listener = TcpListener::bind(addr).await.map_err(|error| {
        std::io::Error::new(error.kind(), format!("cannot listen on {addr}: {error}"))
    })?;
    serve_on(listener, state, tls, shutdown).await
}

/// Serves on a listener the caller bound already (to learn an OS-chosen port, or to fail on a
/// taken port before starting anything else). Each connection's first request head is checked
/// by our own reader before the HTTP library sees it (see `conn`).
pub async fn serve_on(
    listener: TcpListener,
    state: WebState,
    tls: Option<tls::TlsAcceptor>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    conn::serve_connections(
        listener,
        router(state),
        conn::HeadLimits::default(),
        tls,
        shutdown,
    )
    .await
}

/// Liveness only: answers without a token and without touching the database.
async fn health() -> impl IntoResponse {
    Json(serde_json::json!({ "status": "ok" }))
}

async fn metrics(State(state): State<WebState>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        (state.metrics)()
            + &queue_metrics::render(&state.live.current())
            + &format!(
                "# HELP pasokh_http_event_streams Open GET /api/events streams.\n\
                 # TYPE pasokh_http_event_streams gauge\npasokh_http_event_streams {}\n",
                state.live.open_streams()
            ),
    )
}

async fn not_found() -> ApiError {
    ApiError::NotFound
}

#[cfg(test)]
mod test_http;
#[cfg(test)]
mod tests;
