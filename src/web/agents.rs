//! `POST /api/agents/{id}/state`: a supervisor (or the agent themself) asks the ACD to log an
//! agent in or out, pause them with a reason, or end their pause.
//!
//! Why `202 Accepted` and not the new state: the request is handed to the engine, whose ACD
//! decides (a pause during a call becomes a pending pause, a login of an agent already logged in
//! is refused); the outcome shows in the next snapshot of `GET /api/queues` and `/api/events`
//! within about half a second. The body is read as bytes and parsed here, so every mistake in
//! it gets this API's JSON 400, not the framework's plain-text rejection.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;

use super::auth::{AccessRule, Authorized};
use super::{ApiError, WebState};
use crate::engine::live::AgentAction;
use crate::store::Role;

/// Longest agent id accepted in the path (ids are short extensions such as `2001`).
const MAX_AGENT_ID_CHARS: usize = 64;
/// Pause reasons the ACD knows: 1 break, 2 lunch, 3 training, 4 meeting, 9 no answer.
const PAUSE_REASONS: [u16; 5] = [1, 2, 3, 4, 9];

/// Admins, supervisors, and an agent for their own id (checked in the handler, which knows it).
pub(super) struct StaffOrSelf;

impl AccessRule for StaffOrSelf {
    fn allows(role: &Role) -> bool {
        matches!(role, Role::Admin | Role::Supervisor | Role::Agent(_))
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StateRequest {
    action: String,
    reason: Option<u16>,
}

pub(super) async fn set_state(
    caller: Authorized<StaffOrSelf>,
    State(state): State<WebState>,
    Path(agent): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<impl IntoResponse, ApiError> {
    if let Role::Agent(own) = &caller.role {
        if *own != agent {
            return Err(ApiError::Forbidden);
        }
    }
    if agent.is_empty() || agent.chars().count() > MAX_AGENT_ID_CHARS {
        return Err(ApiError::NotFound);
    }
    let action = parse_request(&headers, &body)?;
    let reply = serde_json::json!({
        "agent": agent,
        "action": action_name(&action),
        "reason": match action { AgentAction::Pause(code) => Some(code), _ => None },
    });
    if !state.live.act(agent, action) {
        return Err(ApiError::NotFound);
    }
    Ok((StatusCode::ACCEPTED, Json(reply)))
}

/// The body `{"action": "login"|"logout"|"pause"|"unpause", "reason": N}` (reason only with
/// pause, and then required), sent as JSON.
fn parse_request(headers: &HeaderMap, body: &[u8]) -> Result<AgentAction, ApiError> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return Err(bad(
            "the body must be JSON (Content-Type: application/json)",
        ));
    }
    let request: StateRequest = serde_json::from_slice(body).map_err(|error| {
        ApiError::BadRequest(format!(
            "body must be {{\"action\": \"login\"|\"logout\"|\"pause\"|\"unpause\", \"reason\": N}}: {error}"
        ))
    })?;
    let action =
        match (request.action.as_str(), request.reason) {
            ("login", None) => AgentAction::Login,
            ("logout", None) => AgentAction::Logout,
            ("unpause", None) => AgentAction::Unpause,
            ("pause", Some(code)) if PAUSE_REASONS.contains(&code) => AgentAction::Pause(code),
            ("pause", Some(_)) => return Err(bad(
                "reason must be 1 (break), 2 (lunch), 3 (training), 4 (meeting) or 9 (no answer)",
            )),
            ("pause", None) => return Err(bad("a pause needs a reason")),
            ("login" | "logout" | "unpause", Some(_)) => {
                return Err(bad("only a pause takes a reason"))
            }
            _ => return Err(bad("action must be login, logout, pause or unpause")),
        };
    Ok(action)
}

fn bad(reason: &str) -> ApiError {
    ApiError::BadRequest(reason.to_string())
}

fn action_name(action: &AgentAction) -> &'static str {
    match action {
        AgentAction::Login => "login",
        AgentAction::Logout => "logout",
        AgentAction::Pause(_) => "pause",
        AgentAction::Unpause => "unpause",
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::super::test_http::{TestResult, TestServer};
    use super::*;
    use crate::engine::live::{AgentLive, LiveSnapshot};

    fn json_headers() -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
        headers
    }

    #[test]
    fn actions_are_parsed_strictly() {
        let parse = |body: &str| parse_request(&json_headers(), body.as_bytes());
        assert_eq!(parse(r#"{"action":"login"}"#), Ok(AgentAction::Login));
        assert_eq!(parse(r#"{"action":"logout"}"#), Ok(AgentAction::Logout));
        assert_eq!(parse(r#"{"action":"unpause"}"#), Ok(AgentAction::Unpause));
        assert_eq!(
            parse(r#"{"action":"pause","reason":2}"#),
            Ok(AgentAction::Pause(2))
        );
        assert_eq!(
            parse(r#"{"action":"pause","reason":9}"#),
            Ok(AgentAction::Pause(9))
        );
        for body in [
            r#"{"action":"pause"}"#,
            r#"{"action":"pause","reason":0}"#,
            r#"{"action":"pause","reason":5}"#,
            r#"{"action":"pause","reason":"2"}"#,
            r#"{"action":"pause","reason":-1}"#,
            r#"{"action":"login","reason":1}"#,
            r#"{"action":"available"}"#,
            r#"{"action":"LOGIN"}"#,
            r#"{"action":"login","extra":1}"#,
            r#"{"state":"available"}"#,
            r#"["login"]"#,
            "",
            "login",
        ] {
            assert!(
                matches!(parse(body), Err(ApiError::BadRequest(_))),
                "{body:?}"
            );
        }
        let form = parse_request(&HeaderMap::new(), br#"{"action":"login"}"#);
        assert!(matches!(form, Err(ApiError::BadRequest(_))));
    }

    async fn server_with_agents(label: &str) -> Result<TestServer, Box<dyn std::error::Error>> {
        let server = TestServer::start(label).await?;
        let agent = |id: &str| AgentLive {
            id: id.into(),
            name: format!("Agent {id}"),
            state: "available".into(),
            ..AgentLive::default()
        };
        server.publish(LiveSnapshot {
            agents: vec![agent("2001"), agent("2002")],
            ..LiveSnapshot::default()
        });
        Ok(server)
    }

    #[tokio::test]
    async fn actions_reach_the_engine_and_answer_202() -> TestResult {
        let server = server_with_agents("web-agent-action").await?;
        let token = server.store.create_token(&Role::Supervisor).await?;
        let reply = server
            .post_json(
                "/api/agents/2001/state",
                &token,
                r#"{"action":"pause","reason":2}"#,
            )
            .await?;
        assert_eq!(reply.status, 202, "{}", reply.body);
        assert_eq!(
            reply.json()?,
            serde_json::json!({"agent": "2001", "action": "pause", "reason": 2})
        );
        let reply = server
            .post_json("/api/agents/2002/state", &token, r#"{"action":"login"}"#)
            .await?;
        assert_eq!(reply.status, 202, "{}", reply.body);
        assert_eq!(
            server.actions(),
            [
                ("2001".to_string(), AgentAction::Pause(2)),
                ("2002".to_string(), AgentAction::Login)
            ]
        );
        Ok(())
    }

    #[tokio::test]
    async fn unknown_agents_are_404_and_bad_bodies_400() -> TestResult {
        let server = server_with_agents("web-agent-errors").await?;
        let token = server.store.create_token(&Role::Admin).await?;
        let reply = server
            .post_json("/api/agents/9999/state", &token, r#"{"action":"login"}"#)
            .await?;
        assert_eq!(reply.status, 404, "{}", reply.body);
        assert!(reply.json()?["error"].is_string());
        let reply = server
            .post_json("/api/agents/2001/state", &token, r#"{"action":"nap"}"#)
            .await?;
        assert_eq!(reply.status, 400, "{}", reply.body);
        assert!(reply.json()?["error"].is_string());
        // Authentication comes first: a bad body without a token is still 401.
        let anonymous = concat!(
            "POST /api/agents/2001/state HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n",
            "Content-Length: 2\r\nConnection: close\r\n\r\n{}"
        );
        assert_eq!(server.send(anonymous).await?.status, 401);
        assert!(server.actions().is_empty());
        Ok(())
    }

    #[tokio::test]
    async fn agents_may_change_only_their_own_state() -> TestResult {
        let server = server_with_agents("web-agent-self").await?;
        let own = server
            .store
            .create_token(&Role::Agent("2001".into()))
            .await?;
        let body = r#"{"action":"pause","reason":1}"#;
        let reply = server
            .post_json("/api/agents/2001/state", &own, body)
            .await?;
        assert_eq!(reply.status, 202, "{}", reply.body);
        let reply = server
            .post_json("/api/agents/2002/state", &own, body)
            .await?;
        assert_eq!(reply.status, 403, "{}", reply.body);
        for role in [Role::Screener, Role::Manager("77".into())] {
            let token = server.store.create_token(&role).await?;
            let reply = server
                .post_json("/api/agents/2001/state", &token, body)
                .await?;
            assert_eq!(reply.status, 403, "{role}");
        }
        assert_eq!(
            server.actions(),
            [("2001".to_string(), AgentAction::Pause(1))]
        );
        Ok(())
    }
}
