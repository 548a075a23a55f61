//! The SMS outbox: texts to citizens ("a reply is waiting for tracking code N"), written in the
//! same transaction as what they announce and sent later by the configured sender
//! (`drivers::sms`).
//!
//! Why a table and not a direct send: the gateway may be down when the reply is saved, and a
//! text promised must not be lost to that. A row is tried until a sender acknowledges it, with
//! a growing pause between attempts; every attempt is recorded; and once `sent_at` is set the
//! row is never picked again, so an acknowledged text is never sent twice. (A gateway that took
//! the text but whose answer was lost may get it again; the webhook carries the row's id as an
//! idempotency key so it can tell.)

use serde::Serialize;

use super::write_tx::WriteTx;
use super::{unix_ms_now, Store, StoreError};

/// Attempts before a text is given up (logged as an error; an operator can see it in the
/// table).
pub const MAX_ATTEMPTS: i64 = 12;

/// One text waiting to be sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutboxRow {
    pub id: i64,
    pub message_id: i64,
    pub reason: String,
    pub recipient: String,
    pub body: String,
    pub created_at: i64,
    pub attempts: i64,
    pub sent_at: Option<i64>,
    pub gave_up_at: Option<i64>,
}

pub use crate::ivr::sms::sms_recipient;

/// The text that says a manager's voice reply is waiting.
pub fn reply_notice(tracking_code: &str) -> String {
    format!(
        "پاسخ صوتی مدیر به پیام شما با کد رهگیری {tracking_code} آماده است. \
         برای شنیدن آن با همین شماره تماس بگیرید، کلید ۲ را بزنید و کد را وارد کنید."
    )
}

/// The text that gives a screening's result.
pub fn screened_notice(tracking_code: &str, decision: &crate::store::Screening) -> String {
    match decision {
        crate::store::Screening::Refer { .. } => format!(
            "پیام شما با کد رهگیری {tracking_code} بررسی و به مدیر مسئول ارجاع شد. \
             پاسخ را با پیگیری همین کد در سامانه خواهید شنید."
        ),
        crate::store::Screening::Reject { reason } => {
            let why = match reason.as_str() {
                "incomplete_message" => "پیام کامل نبود",
                "incomplete_caller" => "مشخصات تماس‌گیرنده کامل نبود",
                "duplicate" => "همین موضوع پیش‌تر ثبت شده است",
                _ => "موضوع به شهرداری مربوط نیست",
            };
            format!("پیام شما با کد رهگیری {tracking_code} بررسی شد و ارجاع نشد، زیرا {why}.")
        }
    }
}

/// The text that says a message was handled without a voice reply.
pub fn handled_notice(tracking_code: &str) -> String {
    format!("به پیام شما با کد رهگیری {tracking_code} رسیدگی شد.")
}

/// The pause before attempt `attempts + 1`: 10 s doubling, at most an hour.
pub fn retry_pause_ms(attempts: i64) -> i64 {
    let doublings = attempts.clamp(0, 9) as u32;
    (10_000_i64 << doublings).min(3_600_000)
}

const COLUMNS: &str =
    "id, message_id, reason, recipient, body, created_at, attempts, sent_at, gave_up_at";

type Row = (
    i64,
    i64,
    String,
    String,
    String,
    i64,
    i64,
    Option<i64>,
    Option<i64>,
);

fn to_outbox(
    (id, message_id, reason, recipient, body, created_at, attempts, sent_at, gave_up_at): Row,
) -> OutboxRow {
    OutboxRow {
        id,
        message_id,
        reason,
        recipient,
        body,
        created_at,
        attempts,
        sent_at,
        gave_up_at,
    }
}

impl Store {
    /// Queues a text to the message's `caller` inside the transaction of what it announces, if
    /// the number can take one (`sms_recipient`; otherwise nothing, as nothing was promised). A
    /// second text for the same message and reason (a re-recorded reply) is not queued again.
    pub(crate) async fn queue_text_in(
        &self,
        tx: &mut WriteTx,
        message_id: i64,
        reason: &str,
        caller: &str,
        body: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        let Some(recipient) = sms_recipient(caller) else {
            return Ok(());
        };
        sqlx::query(
            "INSERT INTO outbox (message_id, reason, recipient, body, created_at, next_attempt_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?5) ON CONFLICT (message_id, reason) DO NOTHING",
        )
        .bind(message_id)
        .bind(reason)
        .bind(recipient)
        .bind(body)
        .bind(now)
        .execute(&mut **tx)
        .await
        .map_err(self.error("queue a text"))?;
        Ok(())
    }

    /// Texts due for an attempt at `now`, oldest first.
    pub async fn due_texts(&self, now: i64, limit: u32) -> Result<Vec<OutboxRow>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM outbox WHERE sent_at IS NULL AND gave_up_at IS NULL \
             AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?"
        );
        let rows: Vec<Row> = sqlx::query_as(&sql)
            .bind(now)
            .bind(i64::from(limit))
            .fetch_all(self.pool())
            .await
            .map_err(self.error("read the outbox"))?;
        Ok(rows.into_iter().map(to_outbox).collect())
    }

    /// Every text, newest first (for admins and tests).
    pub async fn list_texts(&self, limit: u32) -> Result<Vec<OutboxRow>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM outbox ORDER BY id DESC LIMIT ?");
        let rows: Vec<Row> = sqlx::query_as(&sql)
            .bind(i64::from(limit))
            .fetch_all(self.pool())
            .await
            .map_err(self.error("read the outbox"))?;
        Ok(rows.into_iter().map(to_outbox).collect())
    }

    /// Records an attempt: sent (never tried again), or failed (tried again after a pause, or
    /// given up after [`MAX_ATTEMPTS`]). Returns whether the text was given up.
    pub async fn record_text_attempt(
        &self,
        id: i64,
        sent: bool,
        detail: &str,
    ) -> Result<bool, StoreError> {
        let now = unix_ms_now();
        let mut tx = self.begin_write("start recording a text attempt").await?;
        sqlx::query(
            "INSERT INTO outbox_attempts (outbox_id, at, outcome, detail) VALUES (?, ?, ?, ?)",
        )
        .bind(id)
        .bind(now)
        .bind(if sent { "sent" } else { "failed" })
        .bind(detail)
        .execute(&mut *tx)
        .await
        .map_err(self.error("record a text attempt"))?;
        let attempts: i64 = sqlx::query_scalar(
            "UPDATE outbox SET attempts = attempts + 1 WHERE id = ? RETURNING attempts",
        )
        .bind(id)
        .fetch_one(&mut *tx)
        .await
        .map_err(self.error("record a text attempt"))?;
        let gave_up = !sent && attempts >= MAX_ATTEMPTS;
        sqlx::query(
            "UPDATE outbox SET sent_at = CASE WHEN ?2 THEN ?3 END, \
             gave_up_at = CASE WHEN ?4 THEN ?3 END, next_attempt_at = ?3 + ?5 WHERE id = ?1",
        )
        .bind(id)
        .bind(sent)
        .bind(now)
        .bind(gave_up)
        .bind(retry_pause_ms(attempts - 1))
        .execute(&mut *tx)
        .await
        .map_err(self.error("record a text attempt"))?;
        tx.commit()
            .await
            .map_err(self.error("commit a text attempt"))?;
        Ok(gave_up)
    }

    /// Each attempt of a text: (at, outcome, detail), oldest first.
    pub async fn text_attempts(&self, id: i64) -> Result<Vec<(i64, String, String)>, StoreError> {
        sqlx::query_as(
            "SELECT at, outcome, detail FROM outbox_attempts WHERE outbox_id = ? ORDER BY id",
        )
        .bind(id)
        .fetch_all(self.pool())
        .await
        .map_err(self.error("read a text's attempts"))
    }
}

#[cfg(test)]
mod tests;
