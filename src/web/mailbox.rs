//! Managers in the browser: `GET /mailbox` (their mailbox when signed in, else a Persian sign-in
//! form: mailbox number and password), `POST /mailbox/signin`, `POST /mailbox/signout`, and
//! `GET /api/mailbox` (the messages referred to the signed-in manager, waiting ones first).
//!
//! Why it is shaped so: a manager types a password, never an API token, and never the phone PIN
//! (a 4-8 digit PIN is fine behind a phone line's pace, not behind a web form). A good password
//! gets a 12-hour session token in the same `HttpOnly; SameSite=Strict` cookie the wallboard
//! uses, so every `/api` route works with it and the store's rules apply unchanged. A bad one
//! gets the same answer whether the mailbox exists or not (the store spends the same hashing
//! time on both), and failures are counted per mailbox and per source address: after five in 15
//! minutes that mailbox, or that address, is refused for the rest of the window (429), which
//! makes guessing a password online hopeless while a forgetful manager waits minutes, not hours.
//! The counts live in memory: a restart forgives them, which is acceptable for a guard whose
//! window is 15 minutes, and needs no table.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;

use super::auth::{cookie_token, role_of, ManagerOnly};
use super::message_access::unavailable;
use super::messages::{private, MessageJson};
use super::password_sign_in::{self, Account, Problem};
use super::wallboard::{
    expired_cookie, html_with, see_other, session_cookie, with_cookie,
    MEDIA_CONTENT_SECURITY_POLICY,
};
use super::{ApiError, Authorized, WebState};
use crate::store::{AuditEntry, Role};

/// The manager's page once signed in: markup, style and script in one file.
const MAILBOX_HTML: &str = include_str!("mailbox.html");

/// How long a manager's browser session lasts: a working day.
pub(super) const SESSION: Duration = Duration::from_secs(12 * 60 * 60);

/// Failures tolerated per mailbox and per address within [`WINDOW_MS`].
const MAX_FAILURES: usize = 5;
const WINDOW_MS: i64 = 15 * 60 * 1_000;

/// The address a connection came from, put on each request by `conn`.
#[derive(Debug, Clone, Copy)]
pub struct PeerAddr(pub SocketAddr);

/// Milliseconds on some clock; the real one is the system's, tests turn their own.
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// Recent failed sign-ins per key (`mailbox:501`, `ip:10.0.0.7`); cheap to clone.
#[derive(Clone)]
pub struct SignInLimiter {
    failures: Arc<Mutex<HashMap<String, VecDeque<i64>>>>,
    clock: Clock,
}

impl Default for SignInLimiter {
    fn default() -> Self {
        SignInLimiter::with_clock(Arc::new(crate::store::unix_ms_now))
    }
}

impl SignInLimiter {
    pub fn with_clock(clock: Clock) -> SignInLimiter {
        SignInLimiter {
            failures: Arc::new(Mutex::new(HashMap::new())),
            clock,
        }
    }

    /// Whether any of `keys` has had [`MAX_FAILURES`] failures within the window.
    pub(super) fn locked(&self, keys: &[String]) -> bool {
        let now = (self.clock)();
        let Ok(mut failures) = self.failures.lock() else {
            // A poisoned lock means a panic elsewhere: refuse rather than stop counting.
            return true;
        };
        keys.iter().any(|key| {
            failures.get_mut(key).is_some_and(|times| {
                forget_old(times, now);
                times.len() >= MAX_FAILURES
            })
        })
    }

    pub(super) fn failed(&self, keys: &[String]) {
        let now = (self.clock)();
        if let Ok(mut failures) = self.failures.lock() {
            // Keys whose failures have all aged out are dropped, so the map stays small.
            failures.retain(|_, times| {
                forget_old(times, now);
                !times.is_empty()
            });
            for key in keys {
                failures.entry(key.clone()).or_default().push_back(now);
            }
        }
    }

    /// A good password clears its mailbox's count (not the address's: one right password does
    /// not excuse guesses at other mailboxes from the same place).
    pub(super) fn succeeded(&self, mailbox_key: &str) {
        if let Ok(mut failures) = self.failures.lock() {
            failures.remove(mailbox_key);
        }
    }
}

fn forget_old(times: &mut VecDeque<i64>, now: i64) {
    while times.front().is_some_and(|&at| now - at >= WINDOW_MS) {
        times.pop_front();
    }
}

/// `GET /mailbox`: the mailbox page for a signed-in manager, else the sign-in form.
pub(super) async fn page(State(state): State<WebState>, headers: HeaderMap) -> Response {
    let Some(token) = cookie_token(&headers) else {
        return form(None);
    };
    match role_of(&state, token).await {
        Ok(Role::Manager(_)) => {
            html_with(StatusCode::OK, MAILBOX_HTML, MEDIA_CONTENT_SECURITY_POLICY)
        }
        Ok(_) => form(None),
        Err(ApiError::Unavailable) => form(Some(Problem::Unavailable)),
        Err(_) => with_cookie(form(None), &expired_cookie()),
    }
}

/// `POST /mailbox/signin` with form fields `mailbox` and `password`: 303 to `/mailbox` with the
/// session cookie, or the form again: 401 wrong, 429 locked out, 503 store down.
pub(super) async fn sign_in(
    State(state): State<WebState>,
    Extension(PeerAddr(peer)): Extension<PeerAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match password_sign_in::sign_in(Account::Manager, &state, peer.ip(), &headers, &body).await {
        Ok(token) => with_cookie(see_other("/mailbox"), &session_cookie(&token)),
        Err(why) => form(Some(why)),
    }
}

/// An IPv6 client usually holds a whole /64: count it as one source.
pub(super) fn ip_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

/// Writes a sign-in entry; `false` when the log could not be written.
pub(super) async fn log(state: &WebState, actor: &str, action: &str, detail: &str) -> bool {
    let entry = AuditEntry {
        actor,
        channel: "web",
        action,
        tracking_code: None,
        detail,
    };
    match state.store.audit(entry).await {
        Ok(()) => true,
        Err(error) => {
            tracing::error!(%error, "cannot log a sign-in");
            false
        }
    }
}

/// `POST /mailbox/signout`: ends the session on the server (the session token is deleted, so
/// a copied cookie stops working too), forgets the cookie and shows the sign-in form. Only a
/// manager's session token is deleted here: an API token pasted into another page is not.
pub(super) async fn sign_out(State(state): State<WebState>, headers: HeaderMap) -> Response {
    password_sign_in::sign_out(
        Account::Manager,
        &state,
        &headers,
        MEDIA_CONTENT_SECURITY_POLICY,
    )
    .await
}

/// `GET /api/mailbox`: the signed-in manager's messages, waiting first (oldest first), then the
/// answered ones (newest first).
pub(super) async fn list(
    caller: Authorized<ManagerOnly>,
    State(state): State<WebState>,
) -> Result<impl IntoResponse, ApiError> {
    let Role::Manager(mailbox) = &caller.role else {
        return Err(ApiError::Forbidden);
    };
    let rows = state
        .store
        .mailbox_messages(mailbox)
        .await
        .map_err(unavailable("list a mailbox"))?;
    let messages: Vec<MessageJson> = rows.into_iter().map(MessageJson::from).collect();
    Ok(private(messages))
}

/// The sign-in form, with `problem`'s sentence and status when there is one.
fn form(problem: Option<Problem>) -> Response {
    password_sign_in::form(Account::Manager, problem, MEDIA_CONTENT_SECURITY_POLICY)
}
