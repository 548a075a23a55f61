//! What a manager does with a referred message: hear it, reply by voice, or mark it handled.
//! Phone and browser replies go through the same call, so they land in the same place and show
//! the same way.

use crate::store::audit::AuditEntry;
use crate::store::messages::{to_row, COLUMNS};
use crate::store::outbox::{handled_notice, reply_notice};
use crate::store::{unix_ms_now, MessageRow, Store, StoreError};

/// Messages a mailbox shows at most (a manager works through them; older ones stay searchable
/// by admins).
const MAILBOX_PAGE: i64 = 200;

/// What came of a reply or of marking a message handled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyOutcome {
    Saved,
    /// No message with that code is referred to this mailbox (unknown, someone else's, or not
    /// referred): the same answer for each, so a manager learns nothing of other mailboxes.
    NotInMailbox,
}

impl Store {
    /// The messages referred to `mailbox`: those waiting for an answer (`referred`) first, oldest
    /// first, then the answered ones (`replied`, `closed`), newest first.
    pub async fn mailbox_messages(&self, mailbox: &str) -> Result<Vec<MessageRow>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM messages WHERE mailbox = ?1 \
             AND status IN ('referred', 'replied', 'closed') \
             ORDER BY status = 'referred' DESC, \
             CASE WHEN status = 'referred' THEN created_at ELSE -created_at END, id LIMIT ?2"
        );
        let rows = sqlx::query(&sql)
            .bind(mailbox)
            .bind(MAILBOX_PAGE)
            .fetch_all(self.pool())
            .await
            .map_err(self.error("list a mailbox"))?;
        rows.iter()
            .map(to_row)
            .collect::<Result<_, _>>()
            .map_err(self.error("list a mailbox"))
    }

    /// The message `tracking_code` if it is referred to `mailbox` (in any later state).
    pub async fn mailbox_message(
        &self,
        mailbox: &str,
        tracking_code: &str,
    ) -> Result<Option<MessageRow>, StoreError> {
        Ok(self
            .message(tracking_code)
            .await?
            .filter(|m| m.mailbox.as_deref() == Some(mailbox)))
    }

    /// Attaches the manager's voice reply (`recording`, already durable on disk) to a message of
    /// their mailbox, moves it to `replied`, logs it and queues the citizen's SMS notice, all in
    /// one transaction. A message already replied to gets the new reply (the manager re-recorded
    /// it); one marked handled can still be answered.
    pub async fn save_reply(
        &self,
        tracking_code: &str,
        mailbox: &str,
        recording: &str,
        channel: &str,
    ) -> Result<ReplyOutcome, StoreError> {
        let code = tracking_code.trim();
        let actor = format!("manager:{mailbox}");
        let now = unix_ms_now();
        let mut tx = self.begin_write("start saving a reply").await?;
        let row: Option<(i64, String)> = sqlx::query_as(
            "UPDATE messages SET reply_recording = ?1, status = 'replied', replied_by = ?2, \
             replied_at = ?3, reply_channel = ?4, updated_at = ?3 \
             WHERE tracking_code = ?5 AND mailbox = ?6 \
             AND status IN ('referred', 'replied', 'closed') RETURNING id, caller",
        )
        .bind(recording)
        .bind(&actor)
        .bind(now)
        .bind(channel)
        .bind(code)
        .bind(mailbox)
        .fetch_optional(&mut *tx)
        .await
        .map_err(self.error("save a reply"))?;
        let Some((message_id, caller)) = row else {
            return Ok(ReplyOutcome::NotInMailbox);
        };
        self.audit_in(
            &mut tx,
            AuditEntry {
                actor: &actor,
                channel,
                action: "reply",
                tracking_code: Some(code),
                detail: recording,
            },
        )
        .await?;
        self.queue_text_in(
            &mut tx,
            message_id,
            "reply",
            &caller,
            &reply_notice(code),
            now,
        )
        .await?;
        tx.commit().await.map_err(self.error("commit a reply"))?;
        Ok(ReplyOutcome::Saved)
    }

    /// Marks a referred message handled without a voice reply (status `closed`).
    pub async fn mark_handled(
        &self,
        tracking_code: &str,
        mailbox: &str,
        channel: &str,
    ) -> Result<ReplyOutcome, StoreError> {
        let code = tracking_code.trim();
        let actor = format!("manager:{mailbox}");
        let mut tx = self.begin_write("start marking a message handled").await?;
        let now = unix_ms_now();
        let done: Option<(i64, String)> = sqlx::query_as(
            "UPDATE messages SET status = 'closed', updated_at = ?1 \
             WHERE tracking_code = ?2 AND mailbox = ?3 AND status = 'referred' \
             RETURNING id, caller",
        )
        .bind(now)
        .bind(code)
        .bind(mailbox)
        .fetch_optional(&mut *tx)
        .await
        .map_err(self.error("mark a message handled"))?;
        let Some((message_id, caller)) = done else {
            return Ok(ReplyOutcome::NotInMailbox);
        };
        let body = handled_notice(code);
        self.queue_text_in(&mut tx, message_id, "handled", &caller, &body, now)
            .await?;
        self.audit_in(
            &mut tx,
            AuditEntry {
                actor: &actor,
                channel,
                action: "handled",
                tracking_code: Some(code),
                detail: "handled without a voice reply",
            },
        )
        .await?;
        tx.commit()
            .await
            .map_err(self.error("commit a handled mark"))?;
        Ok(ReplyOutcome::Saved)
    }

    /// The message a recording belongs to (as its voice message, reply or conversation), so a
    /// request for the file can be checked against who may hear it.
    pub async fn message_of_recording(&self, name: &str) -> Result<Option<MessageRow>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM messages WHERE recording = ?1 OR reply_recording = ?1 \
             OR call_recording = ?1 LIMIT 1"
        );
        let row = sqlx::query(&sql)
            .bind(name)
            .fetch_optional(self.pool())
            .await
            .map_err(self.error("find a recording's message"))?;
        row.as_ref()
            .map(to_row)
            .transpose()
            .map_err(self.error("find a recording's message"))
    }
}
