//! Cross-site request forgery: a request that changes state and is authenticated by the sign-in
//! cookie must come from this server's own pages.
//!
//! Why on top of `SameSite=Strict`: that attribute is the browser's promise, and older or
//! misconfigured browsers, or a page on another port of the same host (same site, other
//! origin), do not keep it. Browsers say where a request comes from: `Sec-Fetch-Site` (all
//! current ones) or at least `Origin` on a POST or PATCH. A request with a bearer header is not
//! checked: no browser sends that header by itself.

use axum::http::{header, HeaderMap, Method};

/// Methods that only read; every other one changes state.
fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// May a cookie-authenticated request with `method` and `headers` go ahead?
/// `Sec-Fetch-Site: same-origin` or `none` (typed by the user) passes; with no such header, an
/// `Origin` whose host and port are the request's `Host`; anything else is refused.
pub(super) fn cookie_request_allowed(method: &Method, headers: &HeaderMap) -> bool {
    if is_safe(method) {
        return true;
    }
    let text = |name| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = text(header::HeaderName::from_static("sec-fetch-site")) {
        return matches!(site.trim(), "same-origin" | "none");
    }
    let (Some(origin), Some(host)) = (text(header::ORIGIN), text(header::HOST)) else {
        return false;
    };
    let authority = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
        .unwrap_or_default();
    !host.is_empty() && authority.eq_ignore_ascii_case(host.trim())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.insert(*name, HeaderValue::from_static(value));
        }
        headers
    }

    #[test]
    fn reads_are_never_refused() {
        let cross = headers(&[("sec-fetch-site", "cross-site")]);
        assert!(cookie_request_allowed(&Method::GET, &cross));
        assert!(cookie_request_allowed(&Method::HEAD, &HeaderMap::new()));
    }

    #[test]
    fn changes_must_come_from_this_origin() {
        let host = ("host", "127.0.0.1:8080");
        for allowed in [
            headers(&[host, ("sec-fetch-site", "same-origin")]),
            headers(&[host, ("sec-fetch-site", "none")]),
            headers(&[host, ("origin", "http://127.0.0.1:8080")]),
        ] {
            assert!(
                cookie_request_allowed(&Method::POST, &allowed),
                "{allowed:?}"
            );
        }
        for refused in [
            HeaderMap::new(),
            headers(&[host]),
            headers(&[host, ("sec-fetch-site", "cross-site")]),
            headers(&[host, ("sec-fetch-site", "same-site")]),
            headers(&[host, ("origin", "http://127.0.0.1:9090")]),
            headers(&[host, ("origin", "null")]),
            headers(&[
                host,
                ("sec-fetch-site", "cross-site"),
                ("origin", "http://127.0.0.1:8080"),
            ]),
        ] {
            assert!(
                !cookie_request_allowed(&Method::PATCH, &refused),
                "{refused:?}"
            );
        }
    }

    #[tokio::test]
    async fn a_cross_site_cookie_post_is_a_json_403() -> super::super::test_http::TestResult {
        use super::super::test_http::TestServer;
        let server = TestServer::start("web-csrf").await?;
        let token = server
            .store
            .create_token(&crate::store::Role::Admin)
            .await?;
        let body = r#"{"action":"login"}"#;
        let post = |extra: &str| {
            format!(
                "POST /api/agents/2001/state HTTP/1.1\r\nHost: {}\r\n\
                 Cookie: pasokh_token={token}\r\n{extra}Content-Type: application/json\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                server.addr,
                body.len()
            )
        };
        for extra in [
            "Sec-Fetch-Site: cross-site\r\n".to_string(),
            "Origin: http://evil.example\r\n".to_string(),
            String::new(),
        ] {
            let reply = server.send(&post(&extra)).await?;
            assert_eq!(reply.status, 403, "{extra:?}: {}", reply.body);
            assert!(reply.json()?["error"].is_string());
        }
        for extra in [
            "Sec-Fetch-Site: same-origin\r\n".to_string(),
            format!("Origin: http://{}\r\n", server.addr),
        ] {
            // Past the origin check: the test engine does not know agent 2001 (404).
            let reply = server.send(&post(&extra)).await?;
            assert_eq!(reply.status, 404, "{extra:?}: {}", reply.body);
        }
        Ok(())
    }
}
