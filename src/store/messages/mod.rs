//! The centre's register: one message per call, filed durably before the caller hears "saved".
//!
//! A report (criticism, suggestion, complaint, appreciation, urban problem) gets a tracking code
//! (a random serial plus a Verhoeff check digit, see `filing`) in the same transaction as the row,
//! so a code is never read to a caller for a message that was not committed. The register is read
//! a page at a time (`pages`), and a call-taker reads only the messages of its own calls
//! (`access`).

use serde::Serialize;
use sqlx::Row;

use super::{unix_ms_now, Store, StoreError};
use crate::engine::NewMessage;
use crate::ivr::tracking::check_tracking_code;
use crate::ivr::MessageStatus;

mod access;
mod pages;
pub use pages::MessageCursor;

pub use crate::engine::is_report;

/// A message as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MessageRow {
    pub id: i64,
    pub tracking_code: Option<String>,
    /// The engine's reference of the call (`CallRecord::call_ref`).
    pub call_ref: Option<String>,
    pub call_id: String,
    pub line: String,
    pub kind: String,
    pub district: Option<i64>,
    pub category: Option<String>,
    pub case_number: Option<String>,
    pub caller: String,
    pub recording: Option<String>,
    pub status: String,
    pub text: Option<String>,
    pub reply_recording: Option<String>,
    /// The recorded conversation with a call-taker (queues with `record = true`).
    pub call_recording: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    /// The manager's mailbox a screener referred the message to.
    pub mailbox: Option<String>,
    /// Why a screener did not refer it (one of [`REJECT_REASONS`](crate::store::REJECT_REASONS)).
    pub reject_reason: Option<String>,
    /// Who screened it (a role, e.g. `screener`) and when (Unix milliseconds).
    pub screened_by: Option<String>,
    pub screened_at: Option<i64>,
    /// Who replied (`manager:501`), when, and how (`phone` or `web`).
    pub replied_by: Option<String>,
    pub replied_at: Option<i64>,
    pub reply_channel: Option<String>,
}

/// Filters of `GET /api/messages`.
#[derive(Debug, Clone, Default)]
pub struct MessageFilter {
    pub line: Option<String>,
    pub kind: Option<String>,
    /// Unix milliseconds.
    pub since: Option<i64>,
    /// `new`, `referred`, `rejected`, `replied`, ...
    pub status: Option<String>,
    /// Messages referred to this mailbox.
    pub mailbox: Option<String>,
    pub limit: u32,
}

/// Fields a call-taker may change (`PATCH /api/messages/{code}`).
#[derive(Debug, Clone, Default)]
pub struct MessageUpdate {
    pub kind: Option<String>,
    pub category: Option<String>,
    pub district: Option<u8>,
    pub text: Option<String>,
    pub status: Option<String>,
}

pub(crate) const COLUMNS: &str =
    "id, tracking_code, call_ref, call_id, line, kind, district, category, case_number, caller, \
    recording, status, text, reply_recording, call_recording, created_at, updated_at, mailbox, \
    reject_reason, screened_by, screened_at, replied_by, replied_at, reply_channel";

pub(crate) fn to_row(row: &sqlx::sqlite::SqliteRow) -> Result<MessageRow, sqlx::Error> {
    Ok(MessageRow {
        id: row.try_get("id")?,
        tracking_code: row.try_get("tracking_code")?,
        call_ref: row.try_get("call_ref")?,
        call_id: row.try_get("call_id")?,
        line: row.try_get("line")?,
        kind: row.try_get("kind")?,
        district: row.try_get("district")?,
        category: row.try_get("category")?,
        case_number: row.try_get("case_number")?,
        caller: row.try_get("caller")?,
        recording: row.try_get("recording")?,
        status: row.try_get("status")?,
        text: row.try_get("text")?,
        reply_recording: row.try_get("reply_recording")?,
        call_recording: row.try_get("call_recording")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        mailbox: row.try_get("mailbox")?,
        reject_reason: row.try_get("reject_reason")?,
        screened_by: row.try_get("screened_by")?,
        screened_at: row.try_get("screened_at")?,
        replied_by: row.try_get("replied_by")?,
        replied_at: row.try_get("replied_at")?,
        reply_channel: row.try_get("reply_channel")?,
    })
}

impl Store {
    /// Files a message in one durable transaction; returns its tracking code (reports only).
    pub async fn file_message(&self, m: &NewMessage) -> Result<Option<String>, StoreError> {
        let mut codes = self.file_messages(std::slice::from_ref(m)).await?;
        Ok(codes.pop().flatten())
    }

    /// Files several messages in one durable transaction (group commit): all or none. Returns
    /// each one's tracking code, in order.
    pub async fn file_messages(
        &self,
        messages: &[NewMessage],
    ) -> Result<Vec<Option<String>>, StoreError> {
        let mut tx = self.begin_write("start filing messages").await?;
        let mut codes = Vec::with_capacity(messages.len());
        for m in messages {
            codes.push(super::filing::file_one(self, &mut tx, m).await?);
        }
        tx.commit().await.map_err(self.error("commit messages"))?;
        Ok(codes)
    }

    /// Every message in the register (the load's growth figures: bytes per message).
    pub async fn count_messages(&self) -> Result<u64, StoreError> {
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM messages")
            .fetch_one(self.pool())
            .await
            .map_err(self.error("count messages"))?;
        Ok(count.max(0) as u64)
    }

    /// Whether the call (`call_ref`) has a message already (recovery completes it rather than
    /// filing a second one).
    pub async fn has_message_for_call(&self, call_ref: &str) -> Result<bool, StoreError> {
        sqlx::query_scalar("SELECT EXISTS(SELECT 1 FROM messages WHERE call_ref = ?)")
            .bind(call_ref)
            .fetch_one(self.pool())
            .await
            .map_err(self.error("look for a call's message"))
    }

    /// Every recording name (voice message, reply, conversation) of the messages filed at or
    /// after `since_ms` (Unix ms): what the start-up check compares recent files against.
    pub async fn recordings_filed_since(
        &self,
        since_ms: i64,
    ) -> Result<std::collections::HashSet<String>, StoreError> {
        let rows = sqlx::query(
            "SELECT recording, reply_recording, call_recording FROM messages WHERE created_at >= ?",
        )
        .bind(since_ms)
        .fetch_all(self.pool())
        .await
        .map_err(self.error("list filed recordings"))?;
        let columns = ["recording", "reply_recording", "call_recording"];
        Ok(rows
            .iter()
            .flat_map(|row| {
                columns
                    .iter()
                    .filter_map(|c| row.try_get::<Option<String>, _>(*c).ok().flatten())
            })
            .collect())
    }

    /// Attaches saved conversation recordings to their calls' messages, by call reference, in one
    /// transaction. A message that already has one keeps it (a call has one conversation).
    pub async fn attach_call_recordings(
        &self,
        recordings: &[(String, String)],
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write("start attaching recordings").await?;
        for (call_ref, name) in recordings {
            sqlx::query(
                "UPDATE messages SET call_recording = ?, updated_at = ? \
                 WHERE call_ref = ? AND call_recording IS NULL",
            )
            .bind(name)
            .bind(unix_ms_now())
            .bind(call_ref)
            .execute(&mut *tx)
            .await
            .map_err(self.error("attach a recording"))?;
        }
        tx.commit().await.map_err(self.error("commit recordings"))?;
        Ok(())
    }

    pub async fn message(&self, tracking_code: &str) -> Result<Option<MessageRow>, StoreError> {
        if check_tracking_code(tracking_code).is_err() {
            return Ok(None);
        }
        let sql = format!("SELECT {COLUMNS} FROM messages WHERE tracking_code = ?");
        let row = sqlx::query(&sql)
            .bind(tracking_code.trim())
            .fetch_optional(self.pool())
            .await
            .map_err(self.error("read a message"))?;
        row.as_ref()
            .map(to_row)
            .transpose()
            .map_err(self.error("read a message"))
    }

    /// What a caller following up hears about.
    pub async fn message_status(
        &self,
        tracking_code: &str,
    ) -> Result<Option<MessageStatus>, StoreError> {
        Ok(self.message(tracking_code).await?.map(|m| MessageStatus {
            tracking_code: m.tracking_code.unwrap_or_default(),
            status: crate::ivr::case::spoken_status(&m.status, m.reject_reason.as_deref()),
            has_voice_reply: m.reply_recording.is_some(),
            reply_recording_id: m.reply_recording,
            caller: m.caller,
        }))
    }

    pub async fn list_messages(&self, f: &MessageFilter) -> Result<Vec<MessageRow>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM messages WHERE (?1 IS NULL OR line = ?1) AND (?2 IS NULL OR kind = ?2) \
             AND (?3 IS NULL OR created_at >= ?3) AND (?5 IS NULL OR status = ?5) \
             AND (?6 IS NULL OR mailbox = ?6) ORDER BY created_at DESC, id DESC LIMIT ?4"
        );
        let rows = sqlx::query(&sql)
            .bind(&f.line)
            .bind(&f.kind)
            .bind(f.since)
            .bind(i64::from(f.limit))
            .bind(&f.status)
            .bind(&f.mailbox)
            .fetch_all(self.pool())
            .await
            .map_err(self.error("list messages"))?;
        rows.iter()
            .map(to_row)
            .collect::<Result<_, _>>()
            .map_err(self.error("list messages"))
    }

    /// Applies a call-taker's corrections; `None` when no message has that code.
    pub async fn update_message(
        &self,
        tracking_code: &str,
        u: &MessageUpdate,
    ) -> Result<Option<MessageRow>, StoreError> {
        let done = sqlx::query(
            "UPDATE messages SET kind = COALESCE(?, kind), category = COALESCE(?, category), \
             district = COALESCE(?, district), text = COALESCE(?, text), status = COALESCE(?, status), \
             updated_at = ? WHERE tracking_code = ?",
        )
        .bind(&u.kind)
        .bind(&u.category)
        .bind(u.district.map(i64::from))
        .bind(&u.text)
        .bind(&u.status)
        .bind(unix_ms_now())
        .bind(tracking_code.trim())
        .execute(self.pool())
        .await
        .map_err(self.error("update a message"))?;
        if done.rows_affected() == 0 {
            return Ok(None);
        }
        self.message(tracking_code).await
    }
}

#[cfg(test)]
mod tests;
