//! PLACEHOLDER for the managers' mailboxes, as the phone (`*98`) needs them.
//!
//! The real functions (mailboxes with hashed PINs, referrals, replies, the SMS outbox notice and
//! the audit table) are being written on main in parallel, with exactly these signatures; this
//! file exists only so the phone side builds and runs on its branch, and is to be replaced by
//! them at merge. Until then no mailbox exists: every login is wrong, every mailbox empty, and
//! nothing is saved, so the placeholder can never accept a manager or claim a reply was saved.

use super::{MessageRow, Store, StoreError};

impl Store {
    /// Ok(false) when the mailbox does not exist or the PIN is wrong (the same work either way).
    /// PLACEHOLDER: no mailbox exists yet.
    pub async fn verify_manager_pin(&self, _mailbox: &str, _pin: &str) -> Result<bool, StoreError> {
        Ok(false)
    }

    /// Messages referred to the mailbox: status 'referred' (new) first oldest first, then
    /// 'replied'/'closed' newest first, at most 50. PLACEHOLDER: none.
    pub async fn mailbox_messages(&self, _mailbox: &str) -> Result<Vec<MessageRow>, StoreError> {
        Ok(Vec::new())
    }

    /// Sets the reply recording, status 'replied', who and the channel; writes an audit row and
    /// the SMS outbox notice in the same transaction. Ok(false) when the message is not
    /// referred to this mailbox. PLACEHOLDER: nothing is referred to any mailbox yet.
    pub async fn save_reply(
        &self,
        _tracking_code: &str,
        _mailbox: &str,
        _recording: &str,
        _channel: &str,
    ) -> Result<bool, StoreError> {
        Ok(false)
    }

    /// PLACEHOLDER: nothing is referred to any mailbox yet.
    pub async fn mark_handled(
        &self,
        _tracking_code: &str,
        _mailbox: &str,
        _channel: &str,
    ) -> Result<bool, StoreError> {
        Ok(false)
    }

    /// PLACEHOLDER: the audit table comes with the real mailboxes; until then the row is logged.
    pub async fn audit(
        &self,
        actor: &str,
        channel: &str,
        action: &str,
        tracking_code: Option<&str>,
        detail: &str,
    ) -> Result<(), StoreError> {
        tracing::info!(actor, channel, action, tracking_code, detail, "audit");
        Ok(())
    }
}
