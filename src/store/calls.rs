//! Call detail records: one row per call, replaced whole by each newer version of the record.
//!
//! Why whole-row upserts: the engine owns the call's state and sends the complete record each
//! time (accepted, answered, ended); the last write is the truth, so there is no merge logic
//! here and a crash between updates still leaves the row as of the last commit. A batch goes in
//! one transaction so the engine's thousands of updates per second cost one fsync per batch.

use super::{Store, StoreError};
use crate::engine::CallRecord;

/// Rows per INSERT statement: each statement is a round trip to sqlx's SQLite worker thread,
/// so many rows per statement multiply throughput (9 binds a row stays far below SQLite's
/// 32,766-variable limit).
const ROWS_PER_STATEMENT: usize = 64;

const INSERT_HEAD: &str = "\
    INSERT INTO calls (call_ref, call_id, caller, callee, started_at, answered_at, ended_at, \
                       disposition, hangup_by, dtmf) VALUES ";

const ROW_PLACEHOLDERS: &str = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

/// Within one statement SQLite applies rows in order, so a repeated call_ref updates the row
/// its earlier copy inserted: the last copy wins. Keyed by the engine's own reference: two calls
/// whose phones chose the same Call-ID are two rows.
const ON_CONFLICT_REPLACE: &str = " \
    ON CONFLICT (call_ref) DO UPDATE SET \
        call_id = excluded.call_id, caller = excluded.caller, callee = excluded.callee, \
        started_at = excluded.started_at, \
        answered_at = excluded.answered_at, ended_at = excluded.ended_at, \
        disposition = excluded.disposition, hangup_by = excluded.hangup_by, dtmf = excluded.dtmf";

/// The columns of a `CallRow`, in its order (a macro so the queries stay `&'static str`).
macro_rules! select_calls {
    () => {
        "SELECT call_ref, call_id, caller, callee, started_at, answered_at, ended_at, \
         disposition, hangup_by, dtmf FROM calls "
    };
}

/// Ties on `started_at` go to the row inserted last (rowid survives upserts).
const LIST_CALLS: &str = concat!(
    select_calls!(),
    "ORDER BY started_at DESC, rowid DESC LIMIT ?"
);

const CALL_BY_REF: &str = concat!(select_calls!(), "WHERE call_ref = ?");

type CallRow = (
    String,
    String,
    String,
    String,
    i64,
    Option<i64>,
    Option<i64>,
    String,
    String,
    String,
);

impl Store {
    /// Inserts or replaces each record, all in one transaction (all or nothing). Records later
    /// in the slice win over earlier ones with the same `call_ref`.
    pub async fn upsert_calls(&self, records: &[CallRecord]) -> Result<(), StoreError> {
        if records.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin_write("start saving calls").await?;
        for chunk in records.chunks(ROWS_PER_STATEMENT) {
            let sql = upsert_sql(chunk.len());
            let mut query = sqlx::query(&sql);
            for record in chunk {
                query = query
                    .bind(&record.call_ref)
                    .bind(&record.call_id)
                    .bind(&record.from)
                    .bind(&record.to)
                    .bind(record.started_at)
                    .bind(record.answered_at)
                    .bind(record.ended_at)
                    .bind(&record.disposition)
                    .bind(&record.hangup_by)
                    .bind(&record.dtmf);
            }
            query
                .execute(&mut *tx)
                .await
                .map_err(self.error("save calls"))?;
        }
        tx.commit().await.map_err(self.error("commit calls"))
    }

    /// The `limit` most recently started calls, newest first.
    /// Closes the records a crash left `in_progress` (nobody ended those calls) as
    /// `interrupted`, ended at `at_ms`; returns how many. Run at start-up, before any call.
    pub async fn close_interrupted_calls(&self, at_ms: i64) -> Result<u64, StoreError> {
        let mut tx = self.begin_write("start closing interrupted calls").await?;
        let closed = sqlx::query(
            "UPDATE calls SET disposition = 'interrupted', hangup_by = 'engine', \
             ended_at = COALESCE(ended_at, ?) WHERE disposition = 'in_progress'",
        )
        .bind(at_ms)
        .execute(&mut *tx)
        .await
        .map_err(self.error("close interrupted calls"))?
        .rows_affected();
        tx.commit()
            .await
            .map_err(self.error("commit closing interrupted calls"))?;
        Ok(closed)
    }

    /// The record of one call, by the engine's reference (start-up recovery finds a recording's
    /// caller this way).
    pub async fn call_by_ref(&self, call_ref: &str) -> Result<Option<CallRecord>, StoreError> {
        let row: Option<CallRow> = sqlx::query_as(CALL_BY_REF)
            .bind(call_ref)
            .fetch_optional(self.pool())
            .await
            .map_err(self.error("read a call"))?;
        Ok(row.map(record_from_row))
    }

    pub async fn list_calls(&self, limit: u32) -> Result<Vec<CallRecord>, StoreError> {
        let rows: Vec<CallRow> = sqlx::query_as(LIST_CALLS)
            .bind(i64::from(limit))
            .fetch_all(self.pool())
            .await
            .map_err(self.error("list calls"))?;
        Ok(rows.into_iter().map(record_from_row).collect())
    }
}

/// The upsert for `rows` records; full chunks share one text, so one cached prepared statement.
fn upsert_sql(rows: usize) -> String {
    let values = vec![ROW_PLACEHOLDERS; rows].join(", ");
    format!("{INSERT_HEAD}{values}{ON_CONFLICT_REPLACE}")
}

fn record_from_row(row: CallRow) -> CallRecord {
    let (
        call_ref,
        call_id,
        from,
        to,
        started_at,
        answered_at,
        ended_at,
        disposition,
        hangup_by,
        dtmf,
    ) = row;
    CallRecord {
        call_ref,
        call_id,
        from,
        to,
        started_at,
        answered_at,
        ended_at,
        disposition,
        hangup_by,
        dtmf,
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{call, TempDir};
    use super::*;

    #[tokio::test]
    async fn calls_come_back_newest_first_and_limited() -> Result<(), StoreError> {
        let dir = TempDir::new("calls-order");
        let store = Store::open(dir.path()).await?;
        let records = [call("b", 2_000), call("c", 3_000), call("a", 1_000)];
        store.upsert_calls(&records).await?;
        let ids = |calls: Vec<CallRecord>| calls.into_iter().map(|c| c.call_id).collect::<Vec<_>>();
        assert_eq!(ids(store.list_calls(10).await?), ["c", "b", "a"]);
        assert_eq!(ids(store.list_calls(2).await?), ["c", "b"]);
        assert_eq!(store.list_calls(0).await?, []);
        assert_eq!(store.list_calls(1).await?, [call("c", 3_000)]);
        Ok(())
    }

    #[tokio::test]
    async fn a_later_record_replaces_the_whole_row() -> Result<(), StoreError> {
        let dir = TempDir::new("calls-replace");
        let store = Store::open(dir.path()).await?;
        let ringing = CallRecord {
            answered_at: None,
            ended_at: None,
            disposition: "in_progress".to_string(),
            hangup_by: String::new(),
            dtmf: String::new(),
            ..call("x", 5_000)
        };
        store.upsert_calls(std::slice::from_ref(&ringing)).await?;
        assert_eq!(store.list_calls(5).await?, std::slice::from_ref(&ringing));
        let ended = call("x", 5_000);
        // Duplicates in one batch: the last one wins.
        store.upsert_calls(&[ringing, ended.clone()]).await?;
        assert_eq!(store.list_calls(5).await?, [ended]);
        Ok(())
    }

    #[tokio::test]
    async fn equal_start_times_list_the_last_inserted_first() -> Result<(), StoreError> {
        let dir = TempDir::new("calls-ties");
        let store = Store::open(dir.path()).await?;
        store
            .upsert_calls(&[call("first", 7), call("second", 7)])
            .await?;
        let listed = store.list_calls(5).await?;
        let ids: Vec<&str> = listed.iter().map(|c| c.call_id.as_str()).collect();
        assert_eq!(ids, ["second", "first"]);
        Ok(())
    }

    #[tokio::test]
    async fn batches_spanning_several_statements_keep_every_row() -> Result<(), StoreError> {
        let dir = TempDir::new("calls-chunks");
        let store = Store::open(dir.path()).await?;
        let total = ROWS_PER_STATEMENT * 2 + 3;
        let mut records: Vec<CallRecord> = (0..total)
            .map(|n| call(&format!("c{n}"), i64::try_from(n).unwrap_or(0)))
            .collect();
        // A copy of the first call, changed, in a later statement than the original.
        let mut changed = call("c0", 0);
        changed.dtmf = "12345#".to_string();
        records.push(changed.clone());
        store.upsert_calls(&records).await?;
        let listed = store.list_calls(1_000).await?;
        assert_eq!(listed.len(), total);
        assert_eq!(listed.last(), Some(&changed));
        assert_eq!(listed.first(), records.get(total - 1));
        Ok(())
    }

    #[tokio::test]
    async fn an_empty_batch_touches_nothing() -> Result<(), StoreError> {
        let dir = TempDir::new("calls-empty");
        let store = Store::open(dir.path()).await?;
        store.upsert_calls(&[]).await?;
        assert_eq!(store.list_calls(5).await?, []);
        Ok(())
    }

    #[tokio::test]
    async fn two_calls_whose_phones_chose_one_call_id_are_two_rows() -> Result<(), StoreError> {
        let dir = TempDir::new("calls-same-call-id");
        let store = Store::open(dir.path()).await?;
        let first = call("same@10.0.0.1", 1_000);
        let second = CallRecord {
            call_ref: "another-ref".into(),
            from: "09350000000".into(),
            ..call("same@10.0.0.1", 2_000)
        };
        store.upsert_calls(&[first.clone(), second.clone()]).await?;
        assert_eq!(store.list_calls(10).await?, [second.clone(), first.clone()]);
        assert_eq!(store.call_by_ref(&first.call_ref).await?, Some(first));
        assert_eq!(store.call_by_ref("nobody").await?, None);
        Ok(())
    }

    #[tokio::test]
    async fn calls_a_crash_left_in_progress_are_closed_as_interrupted() -> Result<(), StoreError> {
        let dir = TempDir::new("calls-interrupted");
        let store = Store::open(dir.path()).await?;
        let open = CallRecord {
            ended_at: None,
            disposition: "in_progress".into(),
            hangup_by: String::new(),
            ..call("open", 1_000)
        };
        let done = call("done", 2_000);
        store.upsert_calls(&[open.clone(), done.clone()]).await?;
        assert_eq!(store.close_interrupted_calls(9_000).await?, 1);
        let closed = store.call_by_ref(&open.call_ref).await?;
        assert_eq!(
            closed
                .as_ref()
                .map(|c| (c.disposition.as_str(), c.ended_at, c.hangup_by.as_str())),
            Some(("interrupted", Some(9_000), "engine"))
        );
        assert_eq!(store.call_by_ref(&done.call_ref).await?, Some(done));
        assert_eq!(store.close_interrupted_calls(10_000).await?, 0);
        Ok(())
    }
}
