use super::super::test_support::{call, TempDir};
use super::super::StoreError;
use super::*;

fn ringing(call_id: &str, started_at: i64) -> CallRecord {
    CallRecord {
        answered_at: None,
        ended_at: None,
        disposition: "in_progress".to_string(),
        hangup_by: String::new(),
        dtmf: String::new(),
        ..call(call_id, started_at)
    }
}

#[tokio::test]
async fn updates_of_one_call_coalesce_into_one_row_with_the_last_state() -> Result<(), StoreError> {
    let dir = TempDir::new("writer-coalesce");
    let store = Store::open(dir.path()).await?;
    let writer = CallWriter::spawn(store.clone());
    writer.submit(ringing("a", 1_000));
    writer.submit(ringing("b", 2_000));
    let answered = CallRecord {
        answered_at: Some(1_500),
        ..ringing("a", 1_000)
    };
    writer.submit(answered);
    writer.submit(call("a", 1_000));
    writer.flush().await;
    assert_eq!(
        store.list_calls(10).await?,
        [ringing("b", 2_000), call("a", 1_000)]
    );
    // The test runtime is single-threaded: the task saw all four submissions in one round.
    assert_eq!(
        writer.counters(),
        WriterCounters {
            batches: 1,
            written: 2,
            failed: 0
        }
    );
    Ok(())
}

#[tokio::test]
async fn records_from_a_dropped_clone_are_still_written() -> Result<(), StoreError> {
    let dir = TempDir::new("writer-clone");
    let store = Store::open(dir.path()).await?;
    let writer = CallWriter::spawn(store.clone());
    let clone = writer.clone();
    clone.submit(call("from-clone", 9));
    drop(clone);
    writer.flush().await;
    assert_eq!(store.list_calls(10).await?, [call("from-clone", 9)]);
    Ok(())
}

#[tokio::test]
async fn a_batch_that_keeps_failing_is_counted_not_fatal() -> Result<(), StoreError> {
    let dir = TempDir::new("writer-fail");
    let store = Store::open(dir.path()).await?;
    let writer = CallWriter::spawn(store.clone());
    store.close().await;
    writer.submit(call("lost-1", 1));
    writer.submit(call("lost-2", 2));
    writer.flush().await;
    assert_eq!(writer.counters().failed, 2);
    assert_eq!(writer.counters().written, 0);
    // The writer is still alive and answers later flushes.
    writer.flush().await;
    Ok(())
}

#[tokio::test]
async fn a_flood_is_split_into_bounded_transactions() -> Result<(), StoreError> {
    let dir = TempDir::new("writer-flood");
    let store = Store::open(dir.path()).await?;
    let writer = CallWriter::spawn(store.clone());
    let total = MAX_BATCH + 10;
    for n in 0..total {
        let started_at = i64::try_from(n).unwrap_or(i64::MAX);
        writer.submit(call(&format!("call-{n}"), started_at));
    }
    writer.flush().await;
    let counters = writer.counters();
    assert_eq!(counters.written, u64::try_from(total).unwrap_or(0));
    assert_eq!(counters.batches, 2);
    let newest = store.list_calls(1).await?;
    assert_eq!(
        newest.first().map(|c| c.call_id.clone()),
        Some(format!("call-{}", total - 1))
    );
    Ok(())
}

#[test]
fn a_batch_keeps_first_appearance_order_and_last_version() {
    let mut batch = Batch::default();
    batch.add(ringing("x", 1));
    batch.add(ringing("y", 2));
    batch.add(call("x", 1));
    assert_eq!(batch.drain(), [call("x", 1), ringing("y", 2)]);
    assert_eq!(batch.drain(), []);
    batch.add(ringing("x", 1));
    assert_eq!(batch.drain(), [ringing("x", 1)]);
}
