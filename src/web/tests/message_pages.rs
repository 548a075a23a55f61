//! `GET /api/messages` past 1,000: the `X-Next-Cursor` of a full page starts the next one.

use std::collections::HashSet;

use crate::engine::NewMessage;
use crate::store::Role;
use crate::web::messages::tests::message;
use crate::web::test_http::{TestResult, TestServer};

#[tokio::test]
async fn the_whole_register_is_listed_page_by_page_with_a_cursor() -> TestResult {
    let server = TestServer::start("web-message-pages").await?;
    let token = server.store.create_token(&Role::Screener).await?;
    // 2,345 messages, three at each instant, so a page often ends inside a tie.
    let filings: Vec<NewMessage> = (0..2_345)
        .map(|i| {
            let mut m = message("complaint", "1888", 1_000 + i / 3, None);
            m.call_id = format!("call-{i}");
            m
        })
        .collect();
    server.store.file_messages(&filings).await?;
    let mut seen = HashSet::new();
    let mut path = "/api/messages?limit=1000".to_string();
    let mut pages = 0;
    let mut last_created: Option<String> = None;
    loop {
        let reply = server.get(&path, Some(&token)).await?;
        assert_eq!(reply.status, 200, "{path}: {}", reply.body);
        pages += 1;
        let list = reply.json()?;
        for m in list.as_array().into_iter().flatten() {
            assert!(seen.insert(m["call_id"].to_string()), "repeated: {m}");
            let created = m["created_at"].as_str().map(str::to_string);
            if let (Some(before), Some(now)) = (&last_created, &created) {
                assert!(now <= before, "newest first across pages");
            }
            last_created = created;
        }
        match reply.header("x-next-cursor") {
            Some(cursor) => path = format!("/api/messages?limit=1000&cursor={cursor}"),
            None => break,
        }
        assert!(pages < 10, "the cursor moves on");
    }
    assert_eq!(seen.len(), 2_345);
    assert_eq!(pages, 3);
    for bad in ["x", "1.", "1.2.3"] {
        let reply = server
            .get(&format!("/api/messages?cursor={bad}"), Some(&token))
            .await?;
        assert_eq!(reply.status, 400, "{bad}");
        assert!(reply.json()?["error"].is_string());
    }
    Ok(())
}
