//! Tracking codes are random: one code says nothing about the codes of other messages.

use crate::engine::{FilingStage, NewMessage};
use crate::ivr::tracking::{check_tracking_code, make_tracking_code};
use crate::store::test_support::TempDir;
use crate::store::{Store, StoreError};

fn complaint(at: i64) -> NewMessage {
    NewMessage {
        call_ref: format!("ref-{at}"),
        call_id: format!("call-{at}"),
        line: "1888".into(),
        kind: "complaint".into(),
        district: None,
        category: None,
        case_number: None,
        caller: "09121234567".into(),
        recording: None,
        created_at: at,
        stage: FilingStage::Whole,
    }
}

#[tokio::test]
async fn codes_are_not_neighbours_of_one_another() -> Result<(), StoreError> {
    let dir = TempDir::new("random-codes");
    let store = Store::open(dir.path()).await?;
    let filings: Vec<NewMessage> = (0..200).map(complaint).collect();
    let codes: Vec<String> = store
        .file_messages(&filings)
        .await?
        .into_iter()
        .flatten()
        .collect();
    assert_eq!(codes.len(), 200);
    let mut serials = Vec::new();
    for code in &codes {
        assert_eq!(code.len(), 8, "{code}");
        match check_tracking_code(code) {
            Ok(serial) => serials.push(serial),
            Err(error) => panic!("{code}: {error}"),
        }
    }
    // Row-number codes made every next serial the previous plus one; random ones almost never.
    let neighbours = serials
        .windows(2)
        .filter(|w| w[1].abs_diff(w[0]) <= 10)
        .count();
    assert!(
        neighbours <= 2,
        "{neighbours} of 199 codes follow their predecessor"
    );
    let mut distinct = serials.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), serials.len(), "codes are unique");
    store.close().await;
    Ok(())
}

#[tokio::test]
async fn codes_given_before_stay_valid() -> Result<(), StoreError> {
    let dir = TempDir::new("old-codes");
    let store = Store::open(dir.path()).await?;
    // A code from the row-number days (serial 1,000,000 + row id), as an older file holds it.
    let old = make_tracking_code(1_000_001);
    sqlx::query(
        "INSERT INTO messages (tracking_code, call_id, line, kind, caller, created_at, updated_at) \
         VALUES (?, 'old-call', '1888', 'complaint', '09120000000', 1, 1)",
    )
    .bind(&old)
    .execute(store.pool())
    .await
    .map_err(store.error("insert an old message"))?;
    let new = store.file_message(&complaint(5)).await?;
    assert!(new.is_some_and(|code| code != old));
    let found = store.message_status(&old).await?;
    assert_eq!(found.map(|s| s.tracking_code), Some(old));
    store.close().await;
    Ok(())
}
