//! The supervisors' wall screen: `GET /` (the wallboard when signed in, else a sign-in page),
//! `POST /signin` (a token in, a cookie out) and `POST /signout`.
//!
//! Why a cookie: the wallboard follows `GET /api/events` with the browser's `EventSource`, which
//! cannot send an `Authorization` header. Signing in checks the token once and stores it in an
//! `HttpOnly; SameSite=Strict` cookie (no script can read it, no other site can make the browser
//! send it); every request still checks it against the store, so deleting the token signs the
//! screen out at once. The page is one embedded file with no external resources, so it works on
//! a wall screen without internet access, and its content security policy keeps it that way.

use axum::body::Bytes;
use std::net::SocketAddr;

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;

use super::auth::{cookie_token, role_of, AccessRule, ScreenerOrAdmin, TOKEN_COOKIE};
use super::{AdminOrSupervisor, ApiError, PeerAddr, WebState};
use crate::store::Role;

/// The wallboard page: markup, style and script in one file, no external resources.
const WALLBOARD_HTML: &str = include_str!("wallboard.html");

/// The screening and mailbox pages: as the wallboard's policy, plus audio from this origin (the
/// recordings) and from `blob:` (a manager's own take, played back before sending it).
pub(super) const MEDIA_CONTENT_SECURITY_POLICY: &str = "default-src 'none'; \
     script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; \
     img-src 'self' data:; media-src 'self' blob:; form-action 'self'; \
     frame-ancestors 'none'; base-uri 'none'";

/// The screeners' page: lists the queue and refers or rejects each message.
const SCREENING_HTML: &str = include_str!("screening.html");

/// Only this origin's pages may load anything, and only this origin may be asked for data.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'unsafe-inline'; \
     style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; form-action 'self'; \
     frame-ancestors 'none'; base-uri 'none'";

/// Why the sign-in page is shown again; each has a Persian and an English line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SignInProblem {
    WrongToken,
    RoleNotAllowed,
    Unavailable,
    OtherOrigin,
}

impl SignInProblem {
    fn status(self) -> StatusCode {
        match self {
            Self::WrongToken => StatusCode::UNAUTHORIZED,
            Self::RoleNotAllowed | Self::OtherOrigin => StatusCode::FORBIDDEN,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn text(self, door: &Door) -> (&'static str, &'static str) {
        match self {
            Self::WrongToken => (
                "توکن نادرست است یا دیگر اعتبار ندارد.",
                "The token is wrong or no longer valid.",
            ),
            Self::RoleNotAllowed => door.wrong_role,
            Self::Unavailable => (
                "سامانه موقتاً پاسخ نمی‌دهد؛ چند لحظه بعد دوباره تلاش کنید.",
                "The service is unavailable; try again in a moment.",
            ),
            Self::OtherOrigin => (
                "این درخواست از صفحهٔ دیگری آمده است.",
                "This request came from another site.",
            ),
        }
    }
}

/// A page behind a token sign-in: where it lives, where its form posts, who may enter, and what
/// it shows once signed in. The wallboard and the screening page share the flow and the cookie.
pub(super) struct Door {
    home: &'static str,
    action: &'static str,
    allows: fn(&Role) -> bool,
    page: &'static str,
    /// Content security policy of the signed-in page.
    policy: &'static str,
    title: &'static str,
    heading: &'static str,
    english: &'static str,
    wrong_role: (&'static str, &'static str),
}

/// The supervisors' wallboard at `/`.
pub(super) const WALLBOARD: Door = Door {
    home: "/",
    action: "/signin",
    allows: AdminOrSupervisor::allows,
    page: WALLBOARD_HTML,
    policy: CONTENT_SECURITY_POLICY,
    title: "ورود به داشبورد — پاسخ",
    heading: "داشبورد صف‌های تماس",
    english: "Pasokh live wallboard — sign in with a supervisor token",
    wrong_role: (
        "این توکن برای دیدن داشبورد نیست؛ توکن سرپرست یا مدیر سامانه لازم است.",
        "This token may not view the wallboard: use a supervisor or admin token.",
    ),
};

/// The screeners' page at `/screening`.
pub(super) const SCREENING: Door = Door {
    home: "/screening",
    action: "/screening/signin",
    allows: ScreenerOrAdmin::allows,
    page: SCREENING_HTML,
    policy: MEDIA_CONTENT_SECURITY_POLICY,
    title: "ورود به غربالگری پیام‌ها — پاسخ",
    heading: "غربالگری پیام‌های صوتی",
    english: "Pasokh message screening — sign in with a screener token",
    wrong_role: (
        "این توکن برای غربالگری نیست؛ توکن غربالگر یا مدیر سامانه لازم است.",
        "This token may not screen messages: use a screener or admin token.",
    ),
};

/// `GET /`: the wallboard for a signed-in supervisor or admin, else the sign-in page.
pub(super) async fn page(State(state): State<WebState>, headers: HeaderMap) -> Response {
    door_page(&WALLBOARD, &state, &headers).await
}

/// `GET /screening`: the screening page for a signed-in screener or admin, else its sign-in.
pub(super) async fn screening_page(State(state): State<WebState>, headers: HeaderMap) -> Response {
    door_page(&SCREENING, &state, &headers).await
}

async fn door_page(door: &Door, state: &WebState, headers: &HeaderMap) -> Response {
    let Some(token) = cookie_token(headers) else {
        return sign_in_page(door, StatusCode::OK, None);
    };
    match role_of(state, token).await {
        Ok(role) if (door.allows)(&role) => html_with(StatusCode::OK, door.page, door.policy),
        Ok(_) => problem_page(door, SignInProblem::RoleNotAllowed),
        Err(ApiError::Unavailable) => problem_page(door, SignInProblem::Unavailable),
        // The cookie's token was deleted: sign the screen out.
        Err(_) => with_cookie(sign_in_page(door, StatusCode::OK, None), &expired_cookie()),
    }
}

/// `POST /signin` with the form field `token`: sets the cookie and goes to `/` (303), or shows
/// the sign-in page again with the reason (401 wrong token, 403 role, 503 store down).
pub(super) async fn sign_in(
    State(state): State<WebState>,
    peer: Option<Extension<PeerAddr>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let peer = peer.map(|Extension(PeerAddr(peer))| peer);
    door_sign_in(&WALLBOARD, &state, peer, &headers, &body).await
}

/// `POST /screening/signin`: as `/signin`, for the screening page.
pub(super) async fn screening_sign_in(
    State(state): State<WebState>,
    peer: Option<Extension<PeerAddr>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let peer = peer.map(|Extension(PeerAddr(peer))| peer);
    door_sign_in(&SCREENING, &state, peer, &headers, &body).await
}

async fn door_sign_in(
    door: &Door,
    state: &WebState,
    peer: Option<SocketAddr>,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let failed = |reason: &str| {
        let peer = peer.map_or_else(|| "-".to_string(), |p| p.ip().to_string());
        tracing::warn!(page = %door.home, %peer, %reason, "web sign-in failed");
    };
    if !same_origin(headers) {
        return problem_page(door, SignInProblem::OtherOrigin);
    }
    let token = form_value(body, "token").unwrap_or_default();
    let token = token.trim();
    if token.is_empty() || !token.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        failed("malformed_token");
        return problem_page(door, SignInProblem::WrongToken);
    }
    match role_of(state, token).await {
        Ok(role) if (door.allows)(&role) => {
            with_cookie(see_other(door.home), &session_cookie(token))
        }
        Ok(_) => {
            failed("role_not_allowed");
            problem_page(door, SignInProblem::RoleNotAllowed)
        }
        Err(ApiError::Unavailable) => problem_page(door, SignInProblem::Unavailable),
        Err(_) => {
            failed("unknown_token");
            problem_page(door, SignInProblem::WrongToken)
        }
    }
}

/// The sign-in cookie: no script may read it, no other site may make the browser send it.
pub(super) fn session_cookie(token: &str) -> String {
    format!("{TOKEN_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/")
}

/// `POST /signout`: forgets the cookie and goes back to the sign-in page.
pub(super) async fn sign_out(headers: HeaderMap) -> Response {
    if !same_origin(&headers) {
        return problem_page(&WALLBOARD, SignInProblem::OtherOrigin);
    }
    with_cookie(see_other("/"), &expired_cookie())
}

pub(super) fn expired_cookie() -> String {
    format!("{TOKEN_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0")
}

/// A browser's form post names its page's origin; it must be this server (the `Host` it asked).
/// Clients that send no `Origin` (scripts, old browsers) are let through: the token decides.
pub(super) fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let authority = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
        .unwrap_or_default();
    !host.is_empty() && authority.eq_ignore_ascii_case(host)
}

/// The first value of `name` in an `application/x-www-form-urlencoded` body.
pub(super) fn form_value(body: &[u8], name: &str) -> Option<String> {
    body.split(|&b| b == b'&')
        .filter_map(|pair| {
            let mut parts = pair.splitn(2, |&b| b == b'=');
            Some((parts.next()?, parts.next().unwrap_or_default()))
        })
        .find(|(key, _)| percent_decode(key) == name)
        .map(|(_, value)| percent_decode(value))
}

/// Undoes form encoding: `+` is a space, `%XX` a byte; a malformed escape stays as it is.
fn percent_decode(text: &[u8]) -> String {
    let mut bytes = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        let byte = text[i];
        let escaped = (byte == b'%')
            .then(|| text.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match (byte, escaped) {
            (_, Some(value)) => {
                bytes.push(value);
                i += 3;
            }
            (b'+', None) => {
                bytes.push(b' ');
                i += 1;
            }
            (other, None) => {
                bytes.push(other);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

pub(super) fn see_other(location: &'static str) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response()
}

pub(super) fn with_cookie(mut response: Response, cookie: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

fn problem_page(door: &Door, problem: SignInProblem) -> Response {
    sign_in_page(door, problem.status(), Some(problem))
}

/// An HTML page under the wallboard's policy (no media).
pub(super) fn html(status: StatusCode, body: impl Into<String>) -> Response {
    html_with(status, body, CONTENT_SECURITY_POLICY)
}

/// An HTML page under `policy`, never cached.
pub(super) fn html_with(
    status: StatusCode,
    body: impl Into<String>,
    policy: &'static str,
) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (header::CONTENT_SECURITY_POLICY, policy),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "same-origin"),
        ],
        body.into(),
    )
        .into_response()
}

/// The sign-in page: one password field for the token, in Persian with English beside it.
fn sign_in_page(door: &Door, status: StatusCode, problem: Option<SignInProblem>) -> Response {
    let Door {
        title,
        heading,
        english,
        action,
        ..
    } = door;
    let error = problem.map_or(String::new(), |problem| {
        let (fa, en) = problem.text(door);
        format!(
            "<p id=\"signin-error\" role=\"alert\">{fa}<br><span lang=\"en\" dir=\"ltr\">{en}</span></p>"
        )
    });
    let page = format!(
        r#"<!DOCTYPE html>
<html lang="fa" dir="rtl">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
  body {{ margin: 0; min-height: 100vh; display: flex; align-items: center; justify-content: center;
         background: #10161f; color: #e8edf3; font-family: Vazirmatn, Tahoma, "DejaVu Sans", sans-serif; }}
  main {{ background: #1b2431; padding: 2.5rem 3rem; border-radius: 1rem; width: min(32rem, 90vw); }}
  h1 {{ margin-top: 0; font-size: 2rem; }}
  label {{ display: block; font-size: 1.3rem; margin-bottom: .5rem; }}
  input {{ width: 100%; box-sizing: border-box; font-size: 1.2rem; padding: .6rem; direction: ltr;
          border-radius: .4rem; border: 1px solid #3a4a60; background: #0d131b; color: inherit; }}
  button {{ margin-top: 1rem; font-size: 1.3rem; padding: .6rem 2rem; border: 0; border-radius: .4rem;
           background: #2f80ed; color: #fff; cursor: pointer; }}
  #signin-error {{ background: #5c1d24; padding: .8rem 1rem; border-radius: .4rem; font-size: 1.1rem; }}
  .en {{ color: #9fb0c5; font-size: 1rem; }}
</style>
</head>
<body>
<main>
  <h1>{heading}</h1>
  <p class="en" lang="en" dir="ltr">{english}</p>
  {error}
  <form method="post" action="{action}">
    <label for="token">توکن دسترسی <span class="en" lang="en">(access token)</span></label>
    <input id="token" name="token" type="password" autocomplete="off" required autofocus>
    <button id="signin" type="submit">ورود</button>
  </form>
</main>
</body>
</html>
"#
    );
    html(status, page)
}

#[cfg(test)]
mod tests {
    use super::super::test_http::{TestResult, TestServer};
    use super::*;
    use crate::store::Role;

    #[test]
    fn form_values_are_decoded() {
        assert_eq!(
            form_value(b"token=psk_ab12", "token").as_deref(),
            Some("psk_ab12")
        );
        assert_eq!(
            form_value(b"a=1&token=psk%5Fab+12%zz&token=second", "token").as_deref(),
            Some("psk_ab 12%zz")
        );
        assert_eq!(form_value(b"tok%65n=x", "token").as_deref(), Some("x"));
        assert_eq!(form_value(b"token", "token").as_deref(), Some(""));
        assert_eq!(form_value(b"other=1", "token"), None);
        assert_eq!(form_value(b"", "token"), None);
    }

    #[test]
    fn only_this_origin_may_post_forms() {
        let headers = |origin: Option<&'static str>| {
            let mut headers = HeaderMap::new();
            headers.insert(header::HOST, HeaderValue::from_static("127.0.0.1:8080"));
            if let Some(origin) = origin {
                headers.insert(header::ORIGIN, HeaderValue::from_static(origin));
            }
            headers
        };
        assert!(same_origin(&headers(None)));
        assert!(same_origin(&headers(Some("http://127.0.0.1:8080"))));
        assert!(!same_origin(&headers(Some("http://evil.example"))));
        assert!(!same_origin(&headers(Some("http://127.0.0.1:9090"))));
        assert!(!same_origin(&headers(Some("null"))));
    }

    #[test]
    fn the_page_loads_nothing_from_elsewhere() {
        let page = WALLBOARD_HTML;
        assert!(page.contains(r#"<html lang="fa" dir="rtl">"#));
        assert!(page.contains("EventSource('/api/events')"));
        for label in [
            "تماس‌های در انتظار",
            "طولانی‌ترین انتظار",
            "سطح خدمت",
            "میانگین سرعت پاسخ",
            "کارشناسان",
        ] {
            assert!(page.contains(label), "{label}");
        }
        for external in ["http://", "https://", "//cdn", "@import", "url("] {
            assert!(!page.contains(external), "{external}");
        }
    }

    fn cookie_of(reply: &super::super::test_http::Reply) -> String {
        reply
            .headers
            .iter()
            .filter(|(key, _)| key.eq_ignore_ascii_case("set-cookie"))
            .map(|(_, value)| value.clone())
            .collect::<Vec<_>>()
            .join("\n")
    }

    async fn sign_in_with(
        server: &TestServer,
        token: &str,
    ) -> Result<super::super::test_http::Reply, Box<dyn std::error::Error>> {
        let body = format!("token={token}");
        server
            .send(&format!(
                "POST /signin HTTP/1.1\r\nHost: localhost\r\nOrigin: http://localhost\r\n\
                 Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n{body}",
                body.len()
            ))
            .await
    }

    async fn get_with_cookie(
        server: &TestServer,
        path: &str,
        cookie: &str,
    ) -> Result<super::super::test_http::Reply, Box<dyn std::error::Error>> {
        server
            .send(&format!(
                "GET {path} HTTP/1.1\r\nHost: localhost\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"
            ))
            .await
    }

    #[tokio::test]
    async fn signing_in_sets_a_strict_http_only_cookie_that_opens_the_wallboard() -> TestResult {
        let server = TestServer::start("web-signin").await?;
        let anonymous = server.get("/", None).await?;
        assert_eq!(anonymous.status, 200);
        assert!(
            anonymous.body.contains(r#"action="/signin""#),
            "{}",
            anonymous.body
        );
        assert!(!anonymous.body.contains("EventSource"));

        let token = server.store.create_token(&Role::Supervisor).await?;
        let reply = sign_in_with(&server, &token).await?;
        assert_eq!(reply.status, 303, "{}", reply.body);
        assert_eq!(reply.header("location"), Some("/"));
        let cookie = cookie_of(&reply);
        assert!(
            cookie.starts_with(&format!("pasokh_token={token};")),
            "{cookie}"
        );
        for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
            assert!(cookie.contains(attribute), "{cookie}");
        }

        let board = get_with_cookie(&server, "/", &format!("pasokh_token={token}")).await?;
        assert_eq!(board.status, 200);
        assert!(board.body.contains("EventSource('/api/events')"));
        assert_eq!(board.header("cache-control"), Some("no-store"));
        let policy = board.header("content-security-policy").unwrap_or_default();
        assert!(policy.contains("default-src 'none'"), "{policy}");
        // The same cookie opens the JSON API, for the page's scripts.
        let queues =
            get_with_cookie(&server, "/api/queues", &format!("pasokh_token={token}")).await?;
        assert_eq!(queues.status, 200, "{}", queues.body);

        let signed_out = server
            .send("POST /signout HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            .await?;
        assert_eq!(signed_out.status, 303);
        let cleared = cookie_of(&signed_out);
        assert!(
            cleared.starts_with("pasokh_token=;") && cleared.contains("Max-Age=0"),
            "{cleared}"
        );
        Ok(())
    }

    #[tokio::test]
    async fn wrong_tokens_and_other_roles_get_the_sign_in_page_again() -> TestResult {
        let server = TestServer::start("web-signin-wrong").await?;
        let forged = format!("psk_{}", "ab".repeat(20));
        for token in [forged.as_str(), "", "psk_%22%3B+x"] {
            let reply = sign_in_with(&server, token).await?;
            assert_eq!(reply.status, 401, "{token:?}");
            assert!(reply.body.contains("signin-error"), "{token:?}");
            assert!(reply.body.contains(r#"action="/signin""#));
            assert!(cookie_of(&reply).is_empty());
        }
        let agent = server
            .store
            .create_token(&Role::Agent("2001".into()))
            .await?;
        let reply = sign_in_with(&server, &agent).await?;
        assert_eq!(reply.status, 403);
        assert!(reply.body.contains("signin-error"));
        assert!(cookie_of(&reply).is_empty());
        // An agent's cookie (set by hand) does not open the wallboard either.
        let reply = get_with_cookie(&server, "/", &format!("pasokh_token={agent}")).await?;
        assert_eq!(reply.status, 403);
        assert!(!reply.body.contains("EventSource"));
        // A cookie whose token was deleted is cleared.
        let reply = get_with_cookie(&server, "/", &format!("pasokh_token={forged}")).await?;
        assert_eq!(reply.status, 200);
        assert!(cookie_of(&reply).contains("Max-Age=0"));
        // A form posted from another site is refused.
        let supervisor = server.store.create_token(&Role::Supervisor).await?;
        let body = format!("token={supervisor}");
        let reply = server
            .send(&format!(
                "POST /signin HTTP/1.1\r\nHost: localhost\r\nOrigin: http://evil.example\r\n\
                 Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n{body}",
                body.len()
            ))
            .await?;
        assert_eq!(reply.status, 403);
        assert!(cookie_of(&reply).is_empty());
        Ok(())
    }
}
