//! The audit log: who did what to which message, and when — every screening decision, every
//! listen to a citizen's voice (phone or browser), every reply, every manager sign-in.
//!
//! Why rows written beside the act: an entry for a decision or a reply is written in the same
//! transaction as the change it records, so the log never claims something that did not happen
//! and never misses something that did. A listen changes nothing, so its entry is written on
//! its own, before the recording is served or played.

use serde::Serialize;

use super::write_tx::WriteTx;
use super::{unix_ms_now, Store, StoreError};

/// One entry, as `GET /api/audit` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditRow {
    pub id: i64,
    /// Unix milliseconds.
    pub at: i64,
    /// The role that acted: `screener`, `admin`, `manager:501`...
    pub actor: String,
    /// `web`, `phone` or `cli`.
    pub channel: String,
    /// `screen`, `listen`, `reply`, `handled`, `sign_in`, `sign_in_failed`...
    pub action: String,
    pub tracking_code: Option<String>,
    pub detail: String,
}

/// What one entry says.
#[derive(Debug, Clone, Copy)]
pub struct AuditEntry<'a> {
    pub actor: &'a str,
    pub channel: &'a str,
    pub action: &'a str,
    pub tracking_code: Option<&'a str>,
    pub detail: &'a str,
}

/// A row of `audit_log` as SQLite gives it: id, at, actor, channel, action, code, detail.
type AuditTuple = (i64, i64, String, String, String, Option<String>, String);

const INSERT: &str = "INSERT INTO audit_log (at, actor, channel, action, tracking_code, detail) \
                      VALUES (?, ?, ?, ?, ?, ?)";

impl Store {
    /// Writes one entry on its own.
    pub async fn audit(&self, entry: AuditEntry<'_>) -> Result<(), StoreError> {
        self.insert_audit(self.pool(), entry).await
    }

    /// Writes one entry inside the transaction of the change it records.
    pub(crate) async fn audit_in(
        &self,
        tx: &mut WriteTx,
        entry: AuditEntry<'_>,
    ) -> Result<(), StoreError> {
        self.insert_audit(&mut **tx, entry).await
    }

    async fn insert_audit<'e>(
        &self,
        executor: impl sqlx::SqliteExecutor<'e>,
        entry: AuditEntry<'_>,
    ) -> Result<(), StoreError> {
        sqlx::query(INSERT)
            .bind(unix_ms_now())
            .bind(entry.actor)
            .bind(entry.channel)
            .bind(entry.action)
            .bind(entry.tracking_code)
            .bind(entry.detail)
            .execute(executor)
            .await
            .map_err(self.error("write the audit log"))?;
        Ok(())
    }

    /// The newest entries first, at most `limit`, optionally only before id `before` (paging)
    /// and only of one message.
    pub async fn list_audit(
        &self,
        limit: u32,
        before: Option<i64>,
        tracking_code: Option<&str>,
    ) -> Result<Vec<AuditRow>, StoreError> {
        let rows: Vec<AuditTuple> = sqlx::query_as(
            "SELECT id, at, actor, channel, action, tracking_code, detail FROM audit_log \
                 WHERE (?1 IS NULL OR id < ?1) AND (?2 IS NULL OR tracking_code = ?2) \
                 ORDER BY id DESC LIMIT ?3",
        )
        .bind(before)
        .bind(tracking_code)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await
        .map_err(self.error("read the audit log"))?;
        Ok(rows
            .into_iter()
            .map(
                |(id, at, actor, channel, action, tracking_code, detail)| AuditRow {
                    id,
                    at,
                    actor,
                    channel,
                    action,
                    tracking_code,
                    detail,
                },
            )
            .collect())
    }
}
