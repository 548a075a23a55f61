//! End-to-end tests of the HTTP surface over loopback, against a real SQLite file.

use super::test_http::{TestResult, TestServer};
use crate::engine::live::{LiveSnapshot, QueueLive};
use crate::store::test_support::call;
use crate::store::Role;

mod conn;
mod mailboxes;
mod message_access;
mod message_pages;

#[tokio::test]
async fn health_answers_without_a_token() -> TestResult {
    let server = TestServer::start("web-health").await?;
    let reply = server.get("/api/health", None).await?;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()?, serde_json::json!({ "status": "ok" }));
    Ok(())
}

#[tokio::test]
async fn no_token_is_401_with_a_bearer_challenge() -> TestResult {
    let server = TestServer::start("web-no-token").await?;
    let reply = server.get("/api/calls", None).await?;
    assert_eq!(reply.status, 401);
    let challenge = reply.header("www-authenticate").unwrap_or_default();
    assert!(challenge.starts_with("Bearer "), "{challenge:?}");
    assert!(reply.json()?["error"].is_string());
    Ok(())
}

#[tokio::test]
async fn an_unknown_or_malformed_token_is_401_invalid_token() -> TestResult {
    let server = TestServer::start("web-bad-token").await?;
    let real = server.store.create_token(&Role::Admin).await?;
    let forged = format!("psk_{}", "ab".repeat(20));
    for token in [forged.as_str(), "nonsense", &real[..real.len() - 1]] {
        let reply = server.get("/api/calls", Some(token)).await?;
        assert_eq!(reply.status, 401, "{token:?}");
        let challenge = reply.header("www-authenticate").unwrap_or_default();
        assert!(challenge.contains("invalid_token"), "{challenge:?}");
        assert!(!reply.body.contains(token), "the token is not echoed");
    }
    let basic = concat!(
        "GET /api/calls HTTP/1.1\r\nHost: x\r\n",
        "Authorization: Basic YTpi\r\nConnection: close\r\n\r\n"
    );
    assert_eq!(server.send(basic).await?.status, 401);
    Ok(())
}

#[tokio::test]
async fn roles_outside_the_rule_are_403() -> TestResult {
    let server = TestServer::start("web-forbidden").await?;
    let forbidden = [
        Role::Screener,
        Role::Agent("2001".into()),
        Role::Manager("77".into()),
    ];
    for role in forbidden {
        let token = server.store.create_token(&role).await?;
        let reply = server.get("/api/calls", Some(&token)).await?;
        assert_eq!(reply.status, 403, "{role}");
        assert!(reply.header("www-authenticate").is_none());
        assert!(reply.json()?["error"].is_string());
    }
    for role in [Role::Admin, Role::Supervisor] {
        let token = server.store.create_token(&role).await?;
        assert_eq!(
            server.get("/api/calls", Some(&token)).await?.status,
            200,
            "{role}"
        );
    }
    Ok(())
}

#[tokio::test]
async fn calls_are_listed_newest_first_within_the_limit() -> TestResult {
    let server = TestServer::start("web-calls").await?;
    let token = server.store.create_token(&Role::Supervisor).await?;
    let mut ringing = call("c3", 1_795_448_513_123);
    ringing.answered_at = None;
    ringing.ended_at = None;
    let batch = [call("c1", 1_000), ringing, call("c2", 2_000)];
    server.store.upsert_calls(&batch).await?;

    let reply = server.get("/api/calls", Some(&token)).await?;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    let listed = reply.json()?;
    let ids: Vec<&str> = listed
        .as_array()
        .map(|calls| calls.iter().filter_map(|c| c["call_id"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(ids, ["c3", "c2", "c1"]);
    assert_eq!(
        listed[0],
        serde_json::json!({
            "call_ref": "ref-c3", "call_id": "c3", "from": "09121234567", "to": "137",
            "started_at": "2026-11-23T15:41:53.123Z", "answered_at": null, "ended_at": null,
            "disposition": "completed", "hangup_by": "caller", "dtmf": "4"
        })
    );
    assert_eq!(listed[2]["ended_at"], "1970-01-01T00:01:02.000Z");

    let limited = server
        .get("/api/calls?limit=2", Some(&token))
        .await?
        .json()?;
    assert_eq!(limited.as_array().map(Vec::len), Some(2));
    assert_eq!(limited[0]["call_id"], "c3");
    Ok(())
}

#[tokio::test]
async fn a_bad_limit_is_400_json() -> TestResult {
    let server = TestServer::start("web-limit").await?;
    let token = server.store.create_token(&Role::Admin).await?;
    for query in [
        "limit=0",
        "limit=1001",
        "limit=abc",
        "limit=",
        "limit=1&limit=2",
    ] {
        let reply = server
            .get(&format!("/api/calls?{query}"), Some(&token))
            .await?;
        assert_eq!(reply.status, 400, "{query}");
        assert!(
            reply.json()?["error"].is_string(),
            "{query}: {}",
            reply.body
        );
    }
    // Authentication comes first: a bad limit without a token is still 401.
    assert_eq!(server.get("/api/calls?limit=0", None).await?.status, 401);
    Ok(())
}

#[tokio::test]
async fn metrics_are_prometheus_text_without_a_token() -> TestResult {
    let server = TestServer::start("web-metrics").await?;
    let reply = server.get("/metrics", None).await?;
    assert_eq!(reply.status, 200);
    let content_type = reply.header("content-type").unwrap_or_default();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    assert!(
        reply.body.contains("pasokh_calls_total 3\n"),
        "{}",
        reply.body
    );
    Ok(())
}

#[tokio::test]
async fn metrics_carry_the_live_queue_figures() -> TestResult {
    let server = TestServer::start("web-metrics-queues").await?;
    server.publish(LiveSnapshot {
        queues: vec![QueueLive {
            name: "zoning".into(),
            waiting: 2,
            answered_today: 7,
            service_level: Some(0.75),
            ..QueueLive::default()
        }],
        ..LiveSnapshot::default()
    });
    let reply = server.get("/metrics", None).await?;
    assert_eq!(reply.status, 200);
    for line in [
        "pasokh_calls_total 3",
        "pasokh_queue_waiting{queue=\"zoning\"} 2",
        "pasokh_queue_answered_today{queue=\"zoning\"} 7",
        "pasokh_queue_service_level_ratio{queue=\"zoning\"} 0.75",
    ] {
        assert!(
            reply.body.lines().any(|l| l == line),
            "{line:?} missing:\n{}",
            reply.body
        );
    }
    Ok(())
}

#[tokio::test]
async fn unknown_paths_are_404_json() -> TestResult {
    let server = TestServer::start("web-404").await?;
    let reply = server.get("/api/nothing-here", None).await?;
    assert_eq!(reply.status, 404);
    assert_eq!(reply.json()?["error"], "not found");
    Ok(())
}

#[tokio::test]
async fn a_dead_store_is_503_not_401() -> TestResult {
    let server = TestServer::start("web-dead-store").await?;
    let token = server.store.create_token(&Role::Admin).await?;
    server.store.close().await;
    let reply = server.get("/api/calls", Some(&token)).await?;
    assert_eq!(reply.status, 503);
    assert!(reply.json()?["error"].is_string());
    assert_eq!(server.get("/api/health", None).await?.status, 200);
    Ok(())
}
