//! The agent page's sign-in over HTTP: the softphone's password, the session cookie that opens
//! the phone's WebSocket and the message API, the lockout, and the audit log.

use crate::sip::registrar::UserCredentials;
use crate::web::test_http::{Reply, TestResult, TestServer};

type Error = Box<dyn std::error::Error>;

async fn sign_in(server: &TestServer, agent: &str, password: &str) -> Result<Reply, Error> {
    let body = format!("agent={agent}&password={password}");
    server
        .send(&format!(
            "POST /agent/signin HTTP/1.1\r\nHost: localhost\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{body}",
            body.len()
        ))
        .await
}

fn token_of(reply: &Reply) -> String {
    reply
        .headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("set-cookie"))
        .and_then(|(_, value)| value.split(';').next())
        .and_then(|pair| pair.split_once('='))
        .map(|(_, token)| token.to_string())
        .unwrap_or_default()
}

async fn with_token(server: &TestServer, request: &str, token: &str) -> Result<Reply, Error> {
    let (line, rest) = request.split_once("\r\n").unwrap_or((request, ""));
    server
        .send(&format!(
            "{line}\r\nHost: localhost\r\nCookie: pasokh_token={token}\r\n{rest}Connection: close\r\n\r\n"
        ))
        .await
}

#[tokio::test]
async fn a_call_taker_signs_in_with_the_softphone_password_and_is_locked_out_after_five_failures(
) -> TestResult {
    let server = TestServer::start("web-agent-signin").await?;
    let creds = UserCredentials::from_password("2001", "pasokh", "desk-2001");
    server
        .store
        .add_agent("2001", "Maryam", &creds, &[])
        .await?;
    let form = server.get("/agent", None).await?;
    assert_eq!(form.status, 200);
    assert!(form.body.contains("dir=\"rtl\"") && form.body.contains("name=\"agent\""));

    let ok = sign_in(&server, "2001", "desk-2001").await?;
    assert_eq!(ok.status, 303, "{}", ok.body);
    assert_eq!(ok.header("location"), Some("/agent"));
    let token = token_of(&ok);
    assert!(token.starts_with("psk_"), "{token}");
    let page = with_token(&server, "GET /agent HTTP/1.1\r\n", &token).await?;
    assert!(
        page.body.contains("id=\"answer\""),
        "the agent page once signed in"
    );
    assert!(page
        .header("content-security-policy")
        .is_some_and(|p| p.contains("connect-src 'self'")));
    // The session is an agent's: not a supervisor's.
    let queues = with_token(&server, "GET /api/queues HTTP/1.1\r\n", &token).await?;
    assert_eq!(queues.status, 403);
    // The phone's WebSocket needs the page's own origin; without one it is refused.
    let socket = with_token(
        &server,
        "GET /api/phone HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Origin: http://evil.example\r\n",
        &token,
    )
    .await?;
    assert_eq!(
        socket.status, 403,
        "another site's page may not open the phone"
    );

    let out = with_token(
        &server,
        "POST /agent/signout HTTP/1.1\r\nContent-Length: 0\r\n",
        &token,
    )
    .await?;
    assert_eq!(out.status, 303);
    let after = with_token(&server, "GET /api/messages/10000051 HTTP/1.1\r\n", &token).await?;
    assert_eq!(after.status, 401, "the session ended on the server");

    let wrong = sign_in(&server, "2001", "desk-2002").await?;
    let unknown = sign_in(&server, "2999", "desk-2001").await?;
    assert_eq!((wrong.status, unknown.status), (401, 401));
    assert_eq!(
        wrong.body, unknown.body,
        "an unknown agent looks like a wrong password"
    );
    for _ in 0..3 {
        assert_eq!(sign_in(&server, "2001", "guess").await?.status, 401);
    }
    assert_eq!(
        sign_in(&server, "2001", "desk-2001").await?.status,
        429,
        "locked out, even with the right password"
    );
    server.advance_clock(15 * 60 * 1_000);
    assert_eq!(sign_in(&server, "2001", "desk-2001").await?.status, 303);

    let log = server.store.list_audit(100, None, None).await?;
    let count = |action: &str, actor: &str| {
        log.iter()
            .filter(|e| e.action == action && e.actor == actor)
            .count()
    };
    assert_eq!(count("sign_in", "agent:2001"), 2);
    assert_eq!(
        count("sign_in_failed", "agent:2001"),
        5,
        "four wrong, one locked out"
    );
    assert_eq!(count("sign_in_failed", "agent:2999"), 1);
    Ok(())
}
