use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::*;
use crate::engine::{FilingStage, NewMessage};
use crate::store::test_support::TempDir;
use crate::store::{ReplyOutcome, Screening, ScreeningOutcome, StoreError};

#[test]
fn urls_and_status_lines_are_read_strictly() {
    assert_eq!(
        split_url("http://127.0.0.1:9000/sms"),
        Ok(("127.0.0.1".into(), 9000, "/sms".into()))
    );
    assert_eq!(
        split_url("http://gateway"),
        Ok(("gateway".into(), 80, "/".into()))
    );
    assert!(split_url("https://gateway/").is_err());
    assert!(split_url("http://:80/").is_err());
    assert!(split_url("http://h:port/").is_err());
    assert_eq!(status_code(b"HTTP/1.1 204 No Content\r\n"), Some(204));
    assert_eq!(status_code(b"HTTP/1.0 503 Busy\r\n"), Some(503));
    assert_eq!(status_code(b"SIP/2.0 200 OK\r\n"), None);
    assert_eq!(status_code(b"HTTP/1.1 20 OK\r\n"), None);
    assert_eq!(status_code(b""), None);
    assert_eq!(mask("09121234567"), "0912****567");
    assert_eq!(mask("137"), "***");
}

/// A store with one reply waiting to be announced to 09121234567.
async fn store_with_reply(label: &str) -> Result<(TempDir, Store, String), StoreError> {
    let dir = TempDir::new(label);
    let store = Store::open(dir.path()).await?;
    store
        .add_manager("501", "Manager", "1234", "password501")
        .await?;
    let code = store
        .file_message(&NewMessage {
            call_ref: "r1".into(),
            call_id: "c1".into(),
            line: "1888".into(),
            kind: "complaint".into(),
            district: Some(6),
            category: None,
            case_number: None,
            caller: "09121234567".into(),
            recording: Some("2026/12/07/r1-take1-0.wav".into()),
            created_at: 1,
            stage: FilingStage::Whole,
        })
        .await?
        .ok_or_else(|| StoreError::Invalid("a code".into()))?;
    let referred = store
        .screen_message(
            &code,
            &Screening::Refer {
                mailbox: "501".into(),
            },
            "screener",
        )
        .await?;
    assert!(matches!(referred, ScreeningOutcome::Decided(_)));
    let saved = store
        .save_reply(&code, "501", "2026/12/07/r1-reply-0.wav", "phone")
        .await?;
    assert_eq!(saved, ReplyOutcome::Saved);
    // The screening's own text is acknowledged already: these tests follow the reply's.
    sqlx::query("UPDATE outbox SET sent_at = 1 WHERE reason = 'screened'")
        .execute(store.pool())
        .await
        .map_err(store.error("test"))?;
    Ok((dir, store, code))
}

/// A gateway that answers the given statuses in turn (the last one from then on) and keeps
/// every request it got.
async fn gateway(statuses: Vec<u16>) -> (String, Arc<Mutex<Vec<String>>>, Arc<AtomicUsize>) {
    let listener = match TcpListener::bind("127.0.0.1:0").await {
        Ok(listener) => listener,
        Err(error) => panic!("cannot bind a test gateway: {error}"),
    };
    let url = match listener.local_addr() {
        Ok(addr) => format!("http://{addr}/sms"),
        Err(error) => panic!("no address: {error}"),
    };
    let requests = Arc::new(Mutex::new(Vec::new()));
    let count = Arc::new(AtomicUsize::new(0));
    let (seen, counter) = (requests.clone(), count.clone());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            let status = statuses.get(n).or(statuses.last()).copied().unwrap_or(200);
            let mut buffer = vec![0_u8; 8192];
            let mut got = Vec::new();
            // Read the head and the body it announces.
            while let Ok(read) = socket.read(&mut buffer).await {
                if read == 0 {
                    break;
                }
                got.extend_from_slice(&buffer[..read]);
                let text = String::from_utf8_lossy(&got).to_string();
                if let Some((head, body)) = text.split_once("\r\n\r\n") {
                    let length = head
                        .lines()
                        .find_map(|l| l.strip_prefix("Content-Length: "))
                        .and_then(|v| v.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    if body.len() >= length {
                        break;
                    }
                }
            }
            if let Ok(mut all) = seen.lock() {
                all.push(String::from_utf8_lossy(&got).to_string());
            }
            let answer = format!("HTTP/1.1 {status} X\r\nContent-Length: 0\r\n\r\n");
            let _ = socket.write_all(answer.as_bytes()).await;
        }
    });
    (url, requests, count)
}

#[tokio::test]
async fn a_refused_text_is_retried_and_once_acknowledged_never_sent_again() -> Result<(), StoreError>
{
    let (_dir, store, code) = store_with_reply("sms-webhook").await?;
    let (url, requests, count) = gateway(vec![503, 200]).await;
    let sender = SmsSender::Webhook {
        url,
        token: Some("gateway-secret".into()),
    };
    assert_eq!(send_due(&store, &sender).await, 0, "the gateway said 503");
    assert_eq!(count.load(Ordering::SeqCst), 1);
    // Not due again before its pause: a second pass sends nothing.
    assert_eq!(send_due(&store, &sender).await, 0);
    assert_eq!(count.load(Ordering::SeqCst), 1);
    let id = store.list_texts(1).await?[0].id;
    // Make it due now (as if the pause had passed) and send again.
    sqlx::query("UPDATE outbox SET next_attempt_at = 0")
        .execute(store.pool())
        .await
        .map_err(store.error("test"))?;
    assert_eq!(send_due(&store, &sender).await, 1);
    sqlx::query("UPDATE outbox SET next_attempt_at = 0")
        .execute(store.pool())
        .await
        .map_err(store.error("test"))?;
    assert_eq!(
        send_due(&store, &sender).await,
        0,
        "acknowledged: never again"
    );
    assert_eq!(count.load(Ordering::SeqCst), 2);
    let attempts = store.text_attempts(id).await?;
    let said: Vec<_> = attempts
        .iter()
        .map(|(_, outcome, detail)| format!("{outcome} {detail}"))
        .collect();
    assert_eq!(said, ["failed HTTP 503", "sent HTTP 200"]);
    let requests = requests.lock().map(|r| r.clone()).unwrap_or_default();
    let last = requests.last().cloned().unwrap_or_default();
    assert!(last.starts_with("POST /sms HTTP/1.1\r\n"), "{last}");
    assert!(last.contains("Authorization: Bearer gateway-secret\r\n"));
    assert!(last.contains(&format!("Idempotency-Key: pasokh-outbox-{id}\r\n")));
    assert!(last.contains("\"to\":\"09121234567\""));
    assert!(last.contains(&code), "the text names the tracking code");
    Ok(())
}

#[tokio::test]
async fn an_unreachable_gateway_is_a_recorded_failure_not_a_send() -> Result<(), StoreError> {
    let (_dir, store, _) = store_with_reply("sms-unreachable").await?;
    // A port nobody listens on: bind one, then close it.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
        listener
            .local_addr()
            .map_err(|e| StoreError::Invalid(e.to_string()))?
            .port()
    };
    let sender = SmsSender::Webhook {
        url: format!("http://127.0.0.1:{port}/sms"),
        token: None,
    };
    assert_eq!(send_due(&store, &sender).await, 0);
    let text = &store.list_texts(1).await?[0];
    assert_eq!((text.attempts, text.sent_at), (1, None));
    let attempts = store.text_attempts(text.id).await?;
    assert!(attempts[0].2.contains("cannot reach"), "{:?}", attempts[0]);
    Ok(())
}

#[tokio::test]
async fn the_log_sender_acknowledges_each_text_once() -> Result<(), StoreError> {
    let (_dir, store, _) = store_with_reply("sms-log").await?;
    assert_eq!(send_due(&store, &SmsSender::Log).await, 1);
    sqlx::query("UPDATE outbox SET next_attempt_at = 0")
        .execute(store.pool())
        .await
        .map_err(store.error("test"))?;
    assert_eq!(send_due(&store, &SmsSender::Log).await, 0);
    Ok(())
}
