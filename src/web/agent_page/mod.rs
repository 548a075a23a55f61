//! Call-takers in the browser: `GET /agent` (the agent page with its phone when signed in, else a
//! Persian sign-in form: agent number and password), `POST /agent/signin`, `POST /agent/signout`.
//!
//! Why the softphone's password: a call-taker already has one secret, the one their softphone
//! registers with; the store keeps only its digest HA1, which is enough to check it. A good one
//! gets a 12-hour session token (role `agent:ID`) in the same `HttpOnly; SameSite=Strict` cookie
//! as the other pages, so the phone's WebSocket and the message API accept it. The flow, its
//! lockout and its audit log are the managers' (`password_sign_in.rs`).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Extension;

use super::auth::{cookie_token, role_of};
use super::password_sign_in::{self, Account, Problem};
use super::wallboard::{expired_cookie, html_with, see_other, session_cookie, with_cookie};
use super::{ApiError, PeerAddr, WebState};
use crate::store::Role;

/// The agent page once signed in: markup, style and script in one file.
const AGENT_HTML: &str = include_str!("agent.html");

/// The agent page may open its WebSocket (same origin) and use the microphone; nothing else
/// leaves the page.
const AGENT_CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'unsafe-inline'; \
     style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; media-src 'self' blob:; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// `GET /agent`: the agent page for a signed-in call-taker, else the sign-in form.
pub(super) async fn page(State(state): State<WebState>, headers: HeaderMap) -> Response {
    let Some(token) = cookie_token(&headers) else {
        return form(None);
    };
    match role_of(&state, token).await {
        Ok(Role::Agent(_)) => html_with(StatusCode::OK, AGENT_HTML, AGENT_CONTENT_SECURITY_POLICY),
        Ok(_) => form(None),
        Err(ApiError::Unavailable) => form(Some(Problem::Unavailable)),
        Err(_) => with_cookie(form(None), &expired_cookie()),
    }
}

/// `POST /agent/signin` with form fields `agent` and `password` (the softphone's): 303 to
/// `/agent` with the session cookie, or the form again: 401 wrong, 429 locked out, 503 store down.
pub(super) async fn sign_in(
    State(state): State<WebState>,
    Extension(PeerAddr(peer)): Extension<PeerAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match password_sign_in::sign_in(Account::Agent, &state, peer.ip(), &headers, &body).await {
        Ok(token) => with_cookie(see_other("/agent"), &session_cookie(&token)),
        Err(why) => form(Some(why)),
    }
}

/// `POST /agent/signout`: ends the session on the server (its token is deleted), forgets the
/// cookie and shows the sign-in form. The phone's WebSocket closes with the page.
pub(super) async fn sign_out(State(state): State<WebState>, headers: HeaderMap) -> Response {
    password_sign_in::sign_out(
        Account::Agent,
        &state,
        &headers,
        AGENT_CONTENT_SECURITY_POLICY,
    )
    .await
}

/// The sign-in form, with `problem`'s sentence and status when there is one.
fn form(problem: Option<Problem>) -> Response {
    password_sign_in::form(Account::Agent, problem, AGENT_CONTENT_SECURITY_POLICY)
}

#[cfg(test)]
mod tests;
