//! `GET /api/phone`: the agent page's phone, a WebSocket signed in by the session cookie (role
//! `agent:ID`). Messages are JSON text frames, one object each, with a `type` (docs/browser-phone.md):
//!
//! - page → engine: `answer {call, sdp}` (the browser's SDP offer), `hangup {call}`,
//!   `hold {call, on}`, `dtmf {call, digit}`, `state {action, reason?}` (login, logout, pause
//!   with a reason code, unpause);
//! - engine → page: `ring`, `answer {call, sdp}`, `connected`, `held`, `ended {call, reason}`,
//!   `agent_state`, `figures {answered_today, state}`, `error {error}`.
//!
//! Why the engine and not this task decides everything: the socket task only translates. The
//! page's requests become engine inputs (`Input::Phone`), the engine's `Output::Phone` events
//! reach the page through the [`PhoneHub`], so the ACD's rules (one call per agent, ring-all,
//! failover) hold for the browser exactly as for a softphone. Opening the socket attaches the
//! phone; closing it (or a page that stops reading) detaches it.

mod hub;

pub use hub::PhoneHub;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::auth::AccessRule;
use super::{ApiError, Authorized, WebState};
use crate::engine::live::AgentAction;
use crate::engine::{Input, PhoneId, PhoneRequest};
use crate::store::Role;

/// Hands an input to the engine loop; false once the loop is gone.
pub type EngineInputs = Arc<dyn Fn(Input) -> bool + Send + Sync>;

/// The web layer's link to the engine's browser phones; cheap to clone.
#[derive(Clone)]
pub struct PhoneLink {
    pub hub: PhoneHub,
    pub engine: EngineInputs,
    /// The SIP realm agents' passwords are hashed in: the agent page signs in with the
    /// softphone's password (`/agent/signin`).
    pub realm: String,
}

impl PhoneLink {
    /// A link to no engine (tools and tests that serve the API alone): a phone attaches to
    /// nothing and rings never.
    pub fn detached() -> PhoneLink {
        PhoneLink {
            hub: PhoneHub::default(),
            engine: Arc::new(|_| false),
            realm: "pasokh".into(),
        }
    }
}

/// Call-takers only: the phone rings for the agent the session belongs to.
pub struct AgentOnly;

impl AccessRule for AgentOnly {
    fn allows(role: &Role) -> bool {
        matches!(role, Role::Agent(_))
    }
}

/// Largest frame a page may send: an SDP offer is a few kilobytes.
const MAX_FRAME: usize = 64 * 1024;
/// A ping this often keeps proxies from closing a quiet socket and finds dead pages.
const PING_EVERY: Duration = Duration::from_secs(20);

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum FromPage {
    Answer { call: u64, sdp: String },
    Hangup { call: u64 },
    Hold { call: u64, on: bool },
    Dtmf { call: u64, digit: String },
    State { action: String, reason: Option<u16> },
}

pub(super) async fn socket(
    caller: Authorized<AgentOnly>,
    State(state): State<WebState>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    // A browser names the page that opens a WebSocket; only this server's own pages may (the
    // cookie alone would let another site's page open it: cross-site WebSocket hijacking).
    if headers.get(axum::http::header::ORIGIN).is_none() || !super::wallboard::same_origin(&headers)
    {
        return ApiError::Forbidden.into_response();
    }
    let Role::Agent(agent) = caller.role else {
        return ApiError::Forbidden.into_response();
    };
    upgrade
        .max_message_size(MAX_FRAME)
        .on_upgrade(move |socket| run(socket, agent, state))
}

async fn run(mut socket: WebSocket, agent: String, state: WebState) {
    let link = state.phones.clone();
    let (phone, mut events) = link.hub.open();
    if !(link.engine)(Input::PhoneAttached {
        phone,
        agent: agent.clone(),
    }) {
        link.hub.close(phone);
        let _ = socket.send(error_frame("the engine is not running")).await;
        return;
    }
    let mut snapshots = state.live.snapshots();
    let mut figures = Figures::default();
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    loop {
        tokio::select! {
            event = events.recv() => {
                let Some(event) = event else { break }; // cut off: not reading
                let Ok(text) = serde_json::to_string(&event) else { continue };
                if socket.send(Message::Text(text.into())).await.is_err() {
                    break;
                }
            }
            frame = socket.recv() => {
                match frame {
                    Some(Ok(Message::Text(text))) => {
                        if let Some(reply) = from_page(&text, phone, &agent, &state) {
                            if socket.send(reply).await.is_err() {
                                break;
                            }
                        }
                    }
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                    Some(Ok(_)) => {} // pings are answered by the socket; binary is not ours
                }
            }
            changed = snapshots.changed() => {
                if changed.is_err() {
                    break;
                }
                let snapshot = snapshots.borrow_and_update().clone();
                if let Some(frame) = figures.update(&snapshot, &agent) {
                    if socket.send(Message::Text(frame.into())).await.is_err() {
                        break;
                    }
                }
            }
            _ = ping.tick() => {
                if socket.send(Message::Ping(Default::default())).await.is_err() {
                    break;
                }
            }
        }
    }
    link.hub.close(phone);
    (link.engine)(Input::PhoneDetached { phone });
}

/// One page message to the engine; an answer frame for the page when it was not understood.
fn from_page(text: &Utf8Bytes, phone: PhoneId, agent: &str, state: &WebState) -> Option<Message> {
    let message: FromPage = match serde_json::from_str(text.as_str()) {
        Ok(message) => message,
        Err(error) => return Some(error_frame(&format!("not understood: {error}"))),
    };
    let request = match message {
        FromPage::Answer { call, sdp } => PhoneRequest::Answer { call, offer: sdp },
        FromPage::Hangup { call } => PhoneRequest::Hangup { call },
        FromPage::Hold { call, on } => PhoneRequest::Hold { call, on },
        FromPage::Dtmf { call, digit } => {
            let mut chars = digit.chars();
            match (chars.next(), chars.next()) {
                (Some(digit), None) => PhoneRequest::Dtmf { call, digit },
                _ => return Some(error_frame("a DTMF digit is one key")),
            }
        }
        FromPage::State { action, reason } => {
            let action = match (action.as_str(), reason) {
                ("login", _) => AgentAction::Login,
                ("logout", _) => AgentAction::Logout,
                ("unpause", _) => AgentAction::Unpause,
                ("pause", Some(code)) => AgentAction::Pause(code),
                ("pause", None) => AgentAction::Pause(1),
                _ => return Some(error_frame("state action: login, logout, pause or unpause")),
            };
            if !state.live.act(agent.to_string(), action) {
                return Some(error_frame("the engine does not know this agent"));
            }
            return None;
        }
    };
    if !(state.phones.engine)(Input::Phone { phone, request }) {
        return Some(error_frame("the engine is not running"));
    }
    None
}

fn error_frame(text: &str) -> Message {
    let body = serde_json::json!({ "type": "error", "error": text });
    Message::Text(body.to_string().into())
}

/// The agent's own figures for today, sent when they change.
#[derive(Default)]
struct Figures {
    last: Option<(u64, String)>,
}

impl Figures {
    fn update(
        &mut self,
        snapshot: &crate::engine::live::LiveSnapshot,
        agent: &str,
    ) -> Option<String> {
        let me = snapshot.agents.iter().find(|a| a.id == agent)?;
        let now = (me.answered_today, me.state.clone());
        if self.last.as_ref() == Some(&now) {
            return None;
        }
        self.last = Some(now);
        let body = serde_json::json!({
            "type": "figures",
            "agent": me.id,
            "name": me.name,
            "answered_today": me.answered_today,
            "state": me.state,
            "reason": me.reason,
            "pending": me.pending,
        });
        Some(body.to_string())
    }
}

#[cfg(test)]
mod tests;
