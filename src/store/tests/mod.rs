//! The store as a whole: opening its file (and the errors that name it), a disk that fills during
//! a filing (`disk_full`), callers' lookups beside stuck writers (`caller_reads`), and tracking
//! codes that say nothing of one another (`tracking_codes`).

use super::test_support::TempDir;
use super::*;

mod caller_reads;
mod disk_full;
mod tracking_codes;

#[tokio::test]
async fn open_creates_folder_and_file_in_wal_mode() -> Result<(), StoreError> {
    let dir = TempDir::new("open");
    let nested = dir.path().join("a").join("b");
    let store = Store::open(&nested).await?;
    assert_eq!(store.path(), nested.join(DATABASE_FILE));
    assert!(store.path().is_file());
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(store.pool())
        .await
        .map_err(store.error("read journal mode"))?;
    assert_eq!(mode, "wal");
    let synchronous: i64 = sqlx::query_scalar("PRAGMA synchronous")
        .fetch_one(store.pool())
        .await
        .map_err(store.error("read synchronous"))?;
    assert_eq!(synchronous, 2, "2 is FULL");
    let foreign_keys: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
        .fetch_one(store.pool())
        .await
        .map_err(store.error("read foreign_keys"))?;
    assert_eq!(foreign_keys, 1);
    store.close().await;
    // Opening again re-runs the (already applied) migrations without complaint.
    Store::open(&nested).await?.close().await;
    Ok(())
}

#[tokio::test]
async fn a_file_where_the_folder_should_be_is_an_error_naming_it() {
    let dir = TempDir::new("file-not-dir");
    let blocker = dir.path().join("data");
    assert!(std::fs::write(&blocker, b"not a folder").is_ok());
    let Err(error) = Store::open(&blocker).await else {
        panic!("opening under a plain file must fail");
    };
    let text = error.to_string();
    assert!(text.contains(&blocker.display().to_string()), "{text}");
    assert!(matches!(error, StoreError::Open { .. }), "{text}");
}

#[tokio::test]
async fn a_damaged_database_file_is_an_error_not_a_panic() {
    let dir = TempDir::new("damaged");
    let file = dir.path().join(DATABASE_FILE);
    assert!(std::fs::write(&file, vec![0x5a_u8; 8192]).is_ok());
    let Err(error) = Store::open(dir.path()).await else {
        panic!("a file of garbage is not a database");
    };
    assert!(error.to_string().contains(DATABASE_FILE), "{error}");
}

#[tokio::test]
async fn a_closed_store_reports_errors_with_the_file_name() -> Result<(), StoreError> {
    let dir = TempDir::new("closed");
    let store = Store::open(dir.path()).await?;
    store.close().await;
    let Err(error) = store.list_calls(10).await else {
        panic!("a closed pool cannot answer");
    };
    assert!(error.to_string().contains(DATABASE_FILE), "{error}");
    Ok(())
}
