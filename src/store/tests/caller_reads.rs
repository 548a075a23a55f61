//! A caller's lookup while every shared connection waits for the write lock: in the hour's
//! load run a commit took five seconds on a busy disk, the writers queued behind it held all
//! the shared connections, and callers who had keyed a case number heard silence until then.

use std::time::Duration;

use sqlx::{Connection, SqliteConnection};

use super::*;
use crate::calendar::JalaliDate;
use crate::ivr::{CaseInfo, CaseKind};

fn zoning_case(number: &str) -> Result<CaseInfo, String> {
    Ok(CaseInfo {
        kind: CaseKind::Zoning,
        number: number.into(),
        district: Some(6),
        stage: "permit_issued".into(),
        last_step_date: JalaliDate::parse("1403/05/13").map_err(|e| e.to_string())?,
        next_step: None,
        session_date: None,
        verdict: None,
        fine_rials: None,
        served_date: None,
    })
}

#[tokio::test]
async fn a_callers_lookup_is_answered_while_writers_wait_for_a_slow_commit(
) -> Result<(), Box<dyn std::error::Error>> {
    let dir = TempDir::new("caller-reads");
    let store = Store::open(dir.path()).await?;
    store.import_cases(&[zoning_case("4711")?]).await?;

    // Another connection holds the write lock, as a commit stuck on a slow disk does.
    let url = format!("sqlite://{}", store.path().display());
    let mut holder = SqliteConnection::connect(&url).await?;
    sqlx::query("BEGIN IMMEDIATE").execute(&mut holder).await?;

    // Writers take every shared connection and wait for the lock (up to the busy timeout).
    let mut writers = Vec::new();
    for n in 0..MAX_CONNECTIONS {
        let (store, case) = (store.clone(), zoning_case(&format!("9{n}"))?);
        writers.push(tokio::spawn(
            async move { store.import_cases(&[case]).await },
        ));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;

    // The shared connections are all taken: a lookup there would wait (the defect).
    let shared = tokio::time::timeout(
        Duration::from_millis(500),
        store.find_case(CaseKind::Zoning, "4711"),
    )
    .await;
    assert!(
        shared.is_err(),
        "the writers did not hold every shared connection"
    );

    // The callers' connections answer at once, from the last committed state.
    let found = tokio::time::timeout(
        Duration::from_secs(2),
        store.for_callers().find_case(CaseKind::Zoning, "4711"),
    )
    .await??;
    assert_eq!(found.map(|case| case.number), Some("4711".to_string()));
    let unknown = tokio::time::timeout(
        Duration::from_secs(2),
        store.for_callers().message_status("12345678"),
    )
    .await??;
    assert_eq!(unknown, None);

    sqlx::query("ROLLBACK").execute(&mut holder).await?;
    for writer in writers {
        writer.await??;
    }
    assert!(store.find_case(CaseKind::Zoning, "90").await?.is_some());
    store.close().await;
    Ok(())
}
