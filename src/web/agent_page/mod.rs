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
use super::wallboard::{
    expired_cookie, html_with, same_origin, see_other, session_cookie, with_cookie,
};
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
        return sign_in_form(StatusCode::OK, None);
    };
    match role_of(&state, token).await {
        Ok(Role::Agent(_)) => html_with(StatusCode::OK, AGENT_HTML, AGENT_CONTENT_SECURITY_POLICY),
        Ok(_) => sign_in_form(StatusCode::OK, None),
        Err(ApiError::Unavailable) => problem(Problem::Unavailable),
        Err(_) => with_cookie(sign_in_form(StatusCode::OK, None), &expired_cookie()),
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
        Err(why) => problem(why),
    }
}

/// `POST /agent/signout`: ends the session on the server (its token is deleted), forgets the
/// cookie and shows the sign-in form. The phone's WebSocket closes with the page.
pub(super) async fn sign_out(State(state): State<WebState>, headers: HeaderMap) -> Response {
    if !same_origin(&headers) {
        return problem(Problem::OtherOrigin);
    }
    if let Some(token) = cookie_token(&headers) {
        if let Ok(Some(Role::Agent(_))) = state.store.verify_token(token).await {
            if let Err(error) = state.store.revoke_token_text(token).await {
                tracing::error!(%error, "an agent's session could not be ended");
                return problem(Problem::Unavailable);
            }
        }
    }
    with_cookie(see_other("/agent"), &expired_cookie())
}

fn problem(problem: Problem) -> Response {
    sign_in_form(problem.status(), Some(problem))
}

/// The sign-in form, in Persian, right to left.
fn sign_in_form(status: StatusCode, problem: Option<Problem>) -> Response {
    let error = problem.map_or(String::new(), |problem| {
        format!(
            "<p id=\"signin-error\" role=\"alert\">{}</p>",
            problem.text(Account::Agent)
        )
    });
    let page = format!(
        r#"<!DOCTYPE html>
<html lang="fa" dir="rtl">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ورود کارشناس پاسخگویی — پاسخ</title>
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
  <h1>میز پاسخگویی کارشناس</h1>
  {error}
  <form method="post" action="/agent/signin">
    <label for="agent">شمارهٔ کارشناس</label>
    <input id="agent" name="agent" inputmode="numeric" autocomplete="username" required autofocus>
    <label for="password">گذرواژه (همان گذرواژهٔ تلفن نرم‌افزاری)</label>
    <input id="password" name="password" type="password" autocomplete="current-password" required>
    <button id="signin" type="submit">ورود</button>
  </form>
</main>
</body>
</html>
"#
    );
    html_with(status, page, AGENT_CONTENT_SECURITY_POLICY)
}

#[cfg(test)]
mod tests;
