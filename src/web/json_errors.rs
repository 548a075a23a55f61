//! Every error reply is JSON `{"error": "…"}`, including those axum and its extractors make
//! themselves: a body over the size limit (413), a method a route does not have (405), a path
//! that is not UTF-8 or a query that does not parse (400), headers that are too large (431).
//!
//! Why a response layer and not one rejection handler per extractor: axum's own replies are
//! plain text or empty, and there are more of them than routes; mapping every error reply that
//! is not already JSON (or a page: the wallboard's sign-in form is HTML) in one place keeps the
//! promise for routes added later. The status, and headers such as `Allow`, stay as they were.

use axum::body::{to_bytes, Body};
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;

/// The longest rejection text kept as the error message.
const MAX_REASON_BYTES: usize = 1_024;

/// The most header bytes a request may carry. `conn` holds a connection's first head (request
/// line and headers) to it before the HTTP library reads anything; this layer holds every later
/// head on a kept-alive connection to it (names, values and separators), as far as the library's
/// own buffer (about 400 KB) lets a head through to it.
pub(super) const MAX_HEADER_BYTES: usize = 32 * 1024;

/// The API's error body, `{"error": text}`: one function, so the replies written before the
/// library runs (`conn`) have exactly the shape of the router's.
pub(super) fn error_body(text: &str) -> String {
    serde_json::json!({ "error": text }).to_string()
}

/// Refuses a request whose headers are larger than [`MAX_HEADER_BYTES`] with a JSON 431.
pub(super) async fn limit_headers(request: Request, next: Next) -> Response {
    let size: usize = request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    if size > MAX_HEADER_BYTES {
        let body = serde_json::json!({
            "error": format!("request headers over {MAX_HEADER_BYTES} bytes")
        });
        return (StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, Json(body)).into_response();
    }
    next.run(request).await
}

/// Turns a plain-text or empty error reply into the API's JSON error shape.
pub(super) async fn json_errors(response: Response) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) || !is_plain(&response) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = to_bytes(body, MAX_REASON_BYTES)
        .await
        .ok()
        .map(|bytes| String::from_utf8_lossy(&bytes).trim().to_string())
        .filter(|text| !text.is_empty())
        .unwrap_or_else(|| {
            status
                .canonical_reason()
                .unwrap_or("error")
                .to_ascii_lowercase()
        });
    let json = error_body(&text);
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Response::from_parts(parts, Body::from(json))
}

/// No content type, or `text/plain`: what axum's rejections and fallbacks send.
fn is_plain(response: &Response) -> bool {
    match response.headers().get(header::CONTENT_TYPE) {
        None => true,
        Some(value) => value
            .to_str()
            .is_ok_and(|text| text.to_ascii_lowercase().starts_with("text/plain")),
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_http::{TestResult, TestServer};
    use crate::store::Role;

    async fn token(server: &TestServer) -> Result<String, crate::store::StoreError> {
        server.store.create_token(&Role::Screener).await
    }

    #[tokio::test]
    async fn a_wrong_method_is_a_json_405_with_allow() -> TestResult {
        let server = TestServer::start("web-json-405").await?;
        let token = token(&server).await?;
        let reply = server
            .send(&format!(
                "DELETE /api/messages/10000017 HTTP/1.1\r\nHost: localhost\r\n\
                 Authorization: Bearer {token}\r\nConnection: close\r\n\r\n"
            ))
            .await?;
        assert_eq!(reply.status, 405);
        assert_eq!(reply.header("content-type"), Some("application/json"));
        assert!(reply.header("allow").is_some_and(|a| a.contains("PATCH")));
        assert_eq!(reply.json()?["error"], "method not allowed");
        Ok(())
    }

    #[tokio::test]
    async fn a_body_over_the_limit_is_a_json_413() -> TestResult {
        let server = TestServer::start("web-json-413").await?;
        let token = token(&server).await?;
        let body = format!(r#"{{"text":"{}"}}"#, "x".repeat(3 * 1024 * 1024));
        let reply = server
            .send(&format!(
                "PATCH /api/messages/10000017 HTTP/1.1\r\nHost: localhost\r\n\
                 Authorization: Bearer {token}\r\nContent-Type: application/json\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            ))
            .await?;
        assert_eq!(reply.status, 413, "{}", reply.body);
        assert!(reply.json()?["error"].is_string(), "{}", reply.body);
        Ok(())
    }

    #[tokio::test]
    async fn a_path_that_is_not_utf8_is_a_json_400() -> TestResult {
        let server = TestServer::start("web-json-utf8").await?;
        let token = token(&server).await?;
        let reply = server.get("/api/messages/%FF%FE", Some(&token)).await?;
        assert_eq!(reply.status, 400, "{}", reply.body);
        assert!(reply.json()?["error"].is_string(), "{}", reply.body);
        let reply = server.get("/api/cases/%C0", Some(&token)).await?;
        assert_eq!(reply.status, 400, "{}", reply.body);
        assert!(reply.json()?["error"].is_string(), "{}", reply.body);
        Ok(())
    }

    #[tokio::test]
    async fn headers_over_the_limit_are_a_json_431() -> TestResult {
        let server = TestServer::start("web-json-431").await?;
        let token = token(&server).await?;
        let big = "a".repeat(super::MAX_HEADER_BYTES + 1);
        let reply = server
            .send(&format!(
                "GET /api/messages HTTP/1.1\r\nHost: localhost\r\n\
                 Authorization: Bearer {token}\r\nX-Filler: {big}\r\nConnection: close\r\n\r\n"
            ))
            .await?;
        assert_eq!(reply.status, 431);
        assert!(reply.json()?["error"].is_string(), "{}", reply.body);
        let small = "a".repeat(1_000);
        let reply = server
            .send(&format!(
                "GET /api/messages HTTP/1.1\r\nHost: localhost\r\n\
                 Authorization: Bearer {token}\r\nX-Filler: {small}\r\nConnection: close\r\n\r\n"
            ))
            .await?;
        assert_eq!(reply.status, 200);
        Ok(())
    }

    #[tokio::test]
    async fn pages_and_json_errors_are_left_as_they_are() -> TestResult {
        let server = TestServer::start("web-json-pages").await?;
        let reply = server.get("/api/messages", None).await?;
        assert_eq!(reply.status, 401);
        assert_eq!(reply.json()?["error"], "missing bearer token");
        let agent = server
            .store
            .create_token(&Role::Agent("2001".into()))
            .await?;
        let reply = server
            .send(&format!(
                "GET / HTTP/1.1\r\nHost: localhost\r\nCookie: pasokh_token={agent}\r\n\
                 Connection: close\r\n\r\n"
            ))
            .await?;
        assert_eq!(reply.status, 403);
        assert!(reply
            .header("content-type")
            .is_some_and(|t| t.starts_with("text/html")));
        Ok(())
    }
}
