use super::*;
use crate::engine::{FilingStage, NewMessage};
use crate::store::test_support::TempDir;

#[test]
fn only_mobile_numbers_take_a_text() {
    for (number, expected) in [
        ("09121234567", Some("09121234567")),
        ("+989121234567", Some("09121234567")),
        ("00989121234567", Some("09121234567")),
        ("9121234567", Some("09121234567")),
        ("0912 123 4567", Some("09121234567")),
        ("02188776655", None),
        ("0912123456", None),
        ("anonymous", None),
        ("", None),
        ("137", None),
    ] {
        assert_eq!(sms_recipient(number).as_deref(), expected, "{number}");
    }
}

#[test]
fn retries_back_off_to_an_hour() {
    assert_eq!(retry_pause_ms(0), 10_000);
    assert_eq!(retry_pause_ms(1), 20_000);
    assert_eq!(retry_pause_ms(5), 320_000);
    assert_eq!(retry_pause_ms(11), 3_600_000);
}

async fn store_with_text(label: &str) -> Result<(TempDir, Store, i64), StoreError> {
    let dir = TempDir::new(label);
    let store = Store::open(dir.path()).await?;
    store
        .file_message(&NewMessage {
            call_ref: "r".into(),
            call_id: "c".into(),
            line: "1888".into(),
            kind: "complaint".into(),
            district: None,
            category: None,
            case_number: None,
            caller: "09121234567".into(),
            recording: None,
            created_at: 1,
            stage: FilingStage::Whole,
        })
        .await?;
    let mut tx = store.begin_write("test").await?;
    store
        .queue_text_in(&mut tx, 1, "reply", "09121234567", "hello", 0)
        .await?;
    store
        .queue_text_in(&mut tx, 1, "reply", "09121234567", "again", 0)
        .await?;
    tx.commit().await.map_err(store.error("commit"))?;
    Ok((dir, store, 1))
}

#[tokio::test]
async fn a_failed_text_is_retried_later_and_a_sent_one_never_again() -> Result<(), StoreError> {
    let (_dir, store, _) = store_with_text("outbox-retry").await?;
    let due = store.due_texts(unix_ms_now(), 10).await?;
    assert_eq!(due.len(), 1, "one text per message and reason");
    let id = due[0].id;
    assert!(!store.record_text_attempt(id, false, "HTTP 503").await?);
    assert!(
        store.due_texts(unix_ms_now(), 10).await?.is_empty(),
        "not due again before its pause"
    );
    assert_eq!(store.due_texts(unix_ms_now() + 10_001, 10).await?.len(), 1);
    assert!(!store.record_text_attempt(id, true, "HTTP 200").await?);
    assert!(store.due_texts(i64::MAX, 10).await?.is_empty());
    let attempts = store.text_attempts(id).await?;
    let outcomes: Vec<_> = attempts.iter().map(|a| a.1.as_str()).collect();
    assert_eq!(outcomes, ["failed", "sent"]);
    let row = &store.list_texts(1).await?[0];
    assert!(row.sent_at.is_some() && row.gave_up_at.is_none());
    assert_eq!(row.attempts, 2);
    Ok(())
}

#[tokio::test]
async fn a_text_is_given_up_after_its_last_attempt() -> Result<(), StoreError> {
    let (_dir, store, _) = store_with_text("outbox-give-up").await?;
    let id = store.due_texts(i64::MAX, 1).await?[0].id;
    for attempt in 1..=MAX_ATTEMPTS {
        let gave_up = store.record_text_attempt(id, false, "refused").await?;
        assert_eq!(gave_up, attempt == MAX_ATTEMPTS, "attempt {attempt}");
    }
    assert!(store.due_texts(i64::MAX, 10).await?.is_empty());
    Ok(())
}
