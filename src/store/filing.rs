//! One filing inside the filer's transaction: a whole message, the opening of a queued call's
//! message, or its completion. A call has one message however many stages it is filed in. One
//! path per stage: the engine sends a completion only once the opening is committed
//! (`engine::filings`), and recovery only for a call whose message exists, so a completion
//! with nothing to complete is an error, never a silent second kind of insert.

use rand::rngs::OsRng;
use rand::RngCore;

use super::{Store, StoreError};
use crate::engine::{gets_tracking_code, FilingStage, NewMessage};
use crate::ivr::tracking::make_tracking_code;

use super::write_tx::WriteTx as Tx;

/// Files `m` as its stage says; returns the message's tracking code, if it has one.
pub(super) async fn file_one(
    store: &Store,
    tx: &mut Tx,
    m: &NewMessage,
) -> Result<Option<String>, StoreError> {
    match m.stage {
        FilingStage::Whole => insert(store, tx, m, gets_tracking_code(&m.kind, false)).await,
        FilingStage::Open => insert(store, tx, m, gets_tracking_code(&m.kind, true)).await,
        FilingStage::Complete => match complete(store, tx, m).await? {
            Some(code) => Ok(code),
            None => Err(StoreError::Invalid(format!(
                "no opened message to complete for call {}",
                m.call_ref
            ))),
        },
    }
}

/// Completes the message opened for the call: the flow's kind, and district, category, case
/// and recording where it learned them. `None` if no message was opened for this call.
async fn complete(
    store: &Store,
    tx: &mut Tx,
    m: &NewMessage,
) -> Result<Option<Option<String>>, StoreError> {
    let row: Option<(i64, Option<String>)> = sqlx::query_as(
        "UPDATE messages SET kind = ?1, district = COALESCE(?2, district), \
         category = COALESCE(?3, category), case_number = COALESCE(?4, case_number), \
         recording = COALESCE(?5, recording), updated_at = ?6, \
         status = CASE WHEN status = 'received' AND COALESCE(?5, recording) IS NOT NULL \
             THEN 'new' ELSE status END \
         WHERE id = (SELECT MAX(id) FROM messages WHERE call_ref = ?7) \
         RETURNING id, tracking_code",
    )
    .bind(&m.kind)
    .bind(m.district.map(i64::from))
    .bind(&m.category)
    .bind(&m.case_number)
    .bind(&m.recording)
    .bind(m.created_at)
    .bind(&m.call_ref)
    .fetch_optional(&mut **tx)
    .await
    .map_err(store.error("complete a message"))?;
    let Some((id, code)) = row else {
        return Ok(None);
    };
    // The opening gave the code; should it have had none, a report still gets one.
    if code.is_none() && gets_tracking_code(&m.kind, false) {
        return Ok(Some(Some(give_code(store, tx, id).await?)));
    }
    Ok(Some(code))
}

/// Inserts one message; `with_code` gives it its tracking code in the same transaction.
async fn insert(
    store: &Store,
    tx: &mut Tx,
    m: &NewMessage,
    with_code: bool,
) -> Result<Option<String>, StoreError> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO messages (call_ref, call_id, line, kind, district, category, case_number, \
         caller, recording, created_at, updated_at, status) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, \
             CASE WHEN ?9 IS NULL THEN 'received' ELSE 'new' END) \
         RETURNING id",
    )
    .bind(&m.call_ref)
    .bind(&m.call_id)
    .bind(&m.line)
    .bind(&m.kind)
    .bind(m.district.map(i64::from))
    .bind(&m.category)
    .bind(&m.case_number)
    .bind(&m.caller)
    .bind(&m.recording)
    .bind(m.created_at)
    .bind(m.created_at)
    .fetch_one(&mut **tx)
    .await
    .map_err(store.error("file a message"))?;
    if !with_code {
        return Ok(None);
    }
    give_code(store, tx, id).await.map(Some)
}

/// Serials are 7 digits (codes 8 with the check digit, as callers key them).
const SERIALS: u64 = 10_000_000;

/// Draws before giving up: with a register of a million codes a draw collides one time in ten,
/// so 32 collisions in a row mean something else is wrong.
const CODE_DRAWS: usize = 32;

/// Gives message `id` a random tracking code (OS randomness, not the engine's seeded generator):
/// a code says nothing about any other, so one code cannot be turned into its neighbours'. A
/// drawn code already in use is drawn again; codes given before (row number based) stay valid.
async fn give_code(store: &Store, tx: &mut Tx, id: i64) -> Result<String, StoreError> {
    for _ in 0..CODE_DRAWS {
        let mut bytes = [0_u8; 8];
        OsRng
            .try_fill_bytes(&mut bytes)
            .map_err(|error| StoreError::Random(error.to_string()))?;
        let serial = u64::from_le_bytes(bytes) % SERIALS;
        let code = make_tracking_code(serial);
        let given = sqlx::query(
            "UPDATE messages SET tracking_code = ?1 WHERE id = ?2 \
             AND NOT EXISTS (SELECT 1 FROM messages WHERE tracking_code = ?1)",
        )
        .bind(&code)
        .bind(id)
        .execute(&mut **tx)
        .await
        .map_err(store.error("give a message its tracking code"))?;
        if given.rows_affected() == 1 {
            return Ok(code);
        }
    }
    Err(StoreError::Invalid(format!(
        "no free tracking code in {CODE_DRAWS} draws"
    )))
}
