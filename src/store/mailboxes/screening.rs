//! Screening: a voice message (status `new`) is referred to a manager's mailbox or not referred,
//! for one of four reasons (the 1888 practice: about 80% are referred).

use crate::store::audit::AuditEntry;
use crate::store::outbox::screened_notice;
use crate::store::{unix_ms_now, MessageRow, Store, StoreError};

/// Why a message is not referred: the message is incomplete, the caller's details are
/// incomplete, it repeats another message, or it is not the municipality's business.
pub const REJECT_REASONS: &[&str] = &[
    "incomplete_message",
    "incomplete_caller",
    "duplicate",
    "unrelated",
];

/// A screener's decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Screening {
    Refer {
        mailbox: String,
    },
    /// `reason` is one of [`REJECT_REASONS`].
    Reject {
        reason: String,
    },
}

/// What came of a decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScreeningOutcome {
    /// Decided; the message as it now stands.
    Decided(Box<MessageRow>),
    NotFound,
    /// The message is not waiting for screening (decided already, or it has no voice message);
    /// its current status.
    NotWaiting(String),
    UnknownMailbox,
    /// A reason outside [`REJECT_REASONS`].
    UnknownReason,
}

impl Store {
    /// Applies a screener's decision to the message `tracking_code`, if it is still `new`, and
    /// logs it (who: `actor`, when) in the same transaction.
    pub async fn screen_message(
        &self,
        tracking_code: &str,
        decision: &Screening,
        actor: &str,
    ) -> Result<ScreeningOutcome, StoreError> {
        let code = tracking_code.trim();
        let (status, mailbox, reason) = match decision {
            Screening::Refer { mailbox } => ("referred", Some(mailbox.as_str()), None),
            Screening::Reject { reason } => {
                if !REJECT_REASONS.contains(&reason.as_str()) {
                    return Ok(ScreeningOutcome::UnknownReason);
                }
                ("rejected", None, Some(reason.as_str()))
            }
        };
        let mut tx = self.begin_write("start screening a message").await?;
        if let Some(mailbox) = mailbox {
            let known: bool =
                sqlx::query_scalar("SELECT EXISTS(SELECT 1 FROM managers WHERE mailbox = ?)")
                    .bind(mailbox)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(self.error("look for a mailbox"))?;
            if !known {
                return Ok(ScreeningOutcome::UnknownMailbox);
            }
        }
        let now = unix_ms_now();
        let done: Option<(i64, String)> = sqlx::query_as(
            "UPDATE messages SET status = ?1, mailbox = ?2, reject_reason = ?3, screened_by = ?4, \
             screened_at = ?5, updated_at = ?5 WHERE tracking_code = ?6 AND status = 'new' \
             RETURNING id, caller",
        )
        .bind(status)
        .bind(mailbox)
        .bind(reason)
        .bind(actor)
        .bind(now)
        .bind(code)
        .fetch_optional(&mut *tx)
        .await
        .map_err(self.error("screen a message"))?;
        let Some((message_id, caller)) = done else {
            let current: Option<String> =
                sqlx::query_scalar("SELECT status FROM messages WHERE tracking_code = ?")
                    .bind(code)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(self.error("read a message's status"))?;
            return Ok(current.map_or(ScreeningOutcome::NotFound, ScreeningOutcome::NotWaiting));
        };
        // The caller was told the result comes by text (only a number that can take one is).
        let body = screened_notice(code, decision);
        self.queue_text_in(&mut tx, message_id, "screened", &caller, &body, now)
            .await?;
        let detail = match decision {
            Screening::Refer { mailbox } => format!("referred to mailbox {mailbox}"),
            Screening::Reject { reason } => format!("not referred: {reason}"),
        };
        self.audit_in(
            &mut tx,
            AuditEntry {
                actor,
                channel: "web",
                action: "screen",
                tracking_code: Some(code),
                detail: &detail,
            },
        )
        .await?;
        tx.commit()
            .await
            .map_err(self.error("commit a screening"))?;
        Ok(match self.message(code).await? {
            Some(row) => ScreeningOutcome::Decided(Box::new(row)),
            None => ScreeningOutcome::NotFound,
        })
    }

    /// Messages waiting for screening, oldest first (the queue a screener works through).
    pub async fn messages_to_screen(&self, limit: u32) -> Result<Vec<MessageRow>, StoreError> {
        let sql = format!(
            "SELECT {} FROM messages WHERE status = 'new' ORDER BY created_at, id LIMIT ?",
            crate::store::messages::COLUMNS
        );
        let rows = sqlx::query(&sql)
            .bind(i64::from(limit))
            .fetch_all(self.pool())
            .await
            .map_err(self.error("list messages to screen"))?;
        rows.iter()
            .map(crate::store::messages::to_row)
            .collect::<Result<_, _>>()
            .map_err(self.error("list messages to screen"))
    }
}
