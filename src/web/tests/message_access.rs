//! An agent's token against the whole register: it reads and corrects only its own calls'
//! messages, and a token for an agent that does not exist (or no longer does) opens nothing.

use crate::engine::NewMessage;
use crate::store::Role;
use crate::web::messages::tests::{message, patch};
use crate::web::test_http::{TestResult, TestServer};

/// Tries every code of the register with `token`: the codes it could read.
async fn readable(
    server: &TestServer,
    token: &str,
    codes: &[String],
) -> Result<Vec<String>, Box<dyn std::error::Error>> {
    let mut read = Vec::new();
    for code in codes {
        let reply = server
            .get(&format!("/api/messages/{code}"), Some(token))
            .await?;
        match reply.status {
            200 => read.push(code.clone()),
            404 => assert_eq!(reply.json()?["error"], "not found"),
            other => panic!("{code}: unexpected {other}: {}", reply.body),
        }
    }
    Ok(read)
}

#[tokio::test]
async fn an_agent_token_reads_and_corrects_only_its_own_calls_messages() -> TestResult {
    let server = TestServer::start("web-agent-register").await?;
    let filings: Vec<NewMessage> = (0..500)
        .map(|i| message("complaint", "1888", 1_000 + i, None))
        .collect();
    let codes: Vec<String> = server
        .store
        .file_messages(&filings)
        .await?
        .into_iter()
        .flatten()
        .collect();
    assert_eq!(codes.len(), 500);
    let own = [codes[7].clone(), codes[300].clone()];
    for code in &own {
        server
            .store
            .link_agent_to_message(code, "2001", 9_000)
            .await?;
    }
    server
        .store
        .link_agent_to_message(&codes[8], "2002", 9_000)
        .await?;
    let token = server
        .store
        .create_token(&Role::Agent("2001".into()))
        .await?;
    let read = readable(&server, &token, &codes).await?;
    let not_own = read.iter().filter(|code| !own.contains(code)).count();
    println!("register rows an agent token can read that are not its own: {not_own}");
    assert_eq!(not_own, 0);
    assert_eq!(read, own, "its own calls' messages, all of them");

    // Corrections: its own message changes; another's is "not found" and stays as it was.
    let reply = patch(
        &server,
        &format!("/api/messages/{}", own[0]),
        &token,
        r#"{"status":"referred"}"#,
    )
    .await?;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let other = &codes[8];
    let reply = patch(
        &server,
        &format!("/api/messages/{other}"),
        &token,
        r#"{"status":"closed"}"#,
    )
    .await?;
    assert_eq!(reply.status, 404);
    let status = server.store.message_status(other).await?.map(|s| s.status);
    assert_eq!(status.as_deref(), Some("received"));
    Ok(())
}

#[tokio::test]
async fn tokens_of_unknown_or_removed_agents_open_nothing() -> TestResult {
    let server = TestServer::start("web-agent-unknown").await?;
    let Some(code) = server
        .store
        .file_message(&message("complaint", "137", 5_000, None))
        .await?
    else {
        panic!("a complaint gets a tracking code")
    };
    let path = format!("/api/messages/{code}");
    let ghost = server
        .store
        .create_token(&Role::Agent("9999".into()))
        .await?;
    server
        .store
        .link_agent_to_message(&code, "9999", 6_000)
        .await?;
    assert_eq!(server.get(&path, Some(&ghost)).await?.status, 401);
    let reply = server.get("/api/cases/14031234", Some(&ghost)).await?;
    assert_eq!(reply.status, 401, "no route at all: {}", reply.body);

    let token = server
        .store
        .create_token(&Role::Agent("2003".into()))
        .await?;
    server
        .store
        .link_agent_to_message(&code, "2003", 6_000)
        .await?;
    assert_eq!(server.get(&path, Some(&token)).await?.status, 200);
    sqlx::query("DELETE FROM agents WHERE id = '2003'")
        .execute(server.store.pool())
        .await?;
    assert_eq!(
        server.get(&path, Some(&token)).await?.status,
        401,
        "removed agent"
    );
    Ok(())
}
