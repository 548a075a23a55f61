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
    expired_cookie, html_with, same_origin, see_other, session_cookie, with_cookie,
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
        return sign_in_form(StatusCode::OK, None);
    };
    match role_of(&state, token).await {
        Ok(Role::Manager(_)) => {
            html_with(StatusCode::OK, MAILBOX_HTML, MEDIA_CONTENT_SECURITY_POLICY)
        }
        Ok(_) => sign_in_form(StatusCode::OK, None),
        Err(ApiError::Unavailable) => {
            sign_in_form(Problem::Unavailable.status(), Some(Problem::Unavailable))
        }
        Err(_) => with_cookie(sign_in_form(StatusCode::OK, None), &expired_cookie()),
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
        Err(why) => problem(why),
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
    if !same_origin(&headers) {
        return problem(Problem::OtherOrigin);
    }
    if let Some(token) = super::auth::cookie_token(&headers) {
        if let Ok(Some(Role::Manager(_))) = state.store.verify_token(token).await {
            if let Err(error) = state.store.revoke_token_text(token).await {
                tracing::error!(%error, "a manager's session could not be ended");
                return problem(Problem::Unavailable);
            }
        }
    }
    with_cookie(see_other("/mailbox"), &expired_cookie())
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

fn problem(problem: Problem) -> Response {
    sign_in_form(problem.status(), Some(problem))
}

/// The sign-in form, in Persian, right to left.
fn sign_in_form(status: StatusCode, problem: Option<Problem>) -> Response {
    let error = problem.map_or(String::new(), |problem| {
        format!(
            "<p id=\"signin-error\" role=\"alert\">{}</p>",
            problem.text(Account::Manager)
        )
    });
    let page = format!(
        r#"<!DOCTYPE html>
<html lang="fa" dir="rtl">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ورود به صندوق پیام مدیران — پاسخ</title>
<style>
  body {{ margin: 0; min-height: 100vh; display: flex; align-items: center; justify-content: center;
         background: #f3f5f8; color: #1c2633; font-family: Vazirmatn, Tahoma, "DejaVu Sans", sans-serif; }}
  main {{ background: #fff; padding: 2.5rem 3rem; border-radius: 1rem; width: min(30rem, 90vw);
          box-shadow: 0 2px 12px rgba(0,0,0,.08); }}
  h1 {{ margin-top: 0; font-size: 1.6rem; }}
  label {{ display: block; font-size: 1.1rem; margin: 1rem 0 .4rem; }}
  input {{ width: 100%; box-sizing: border-box; font-size: 1.2rem; padding: .6rem; direction: ltr;
          border-radius: .4rem; border: 1px solid #b8c3d1; }}
  button {{ margin-top: 1.2rem; font-size: 1.2rem; padding: .6rem 2rem; border: 0; border-radius: .4rem;
           background: #2f80ed; color: #fff; cursor: pointer; }}
  #signin-error {{ background: #fde8ea; color: #8a1c27; padding: .8rem 1rem; border-radius: .4rem; }}
</style>
</head>
<body>
<main>
  <h1>صندوق پیام صوتی مدیران</h1>
  {error}
  <form method="post" action="/mailbox/signin">
    <label for="mailbox">شمارهٔ صندوق</label>
    <input id="mailbox" name="mailbox" inputmode="numeric" autocomplete="username" required autofocus>
    <label for="password">گذرواژه</label>
    <input id="password" name="password" type="password" autocomplete="current-password" required>
    <button id="signin" type="submit">ورود</button>
  </form>
</main>
</body>
</html>
"#
    );
    html_with(status, page, MEDIA_CONTENT_SECURITY_POLICY)
}
