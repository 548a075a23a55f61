//! Managers' voice mailboxes: the managers, the screening that refers a voice message to a
//! mailbox (`screening`), and what a manager does with it: listen, reply, mark handled
//! (`replies`).
//!
//! Why the store decides the status moves: a message's `status` goes `new → referred | rejected
//! → replied` (or `closed` when handled without a reply), and each move is one conditional
//! `UPDATE … WHERE status = …` in a transaction with its audit row (and, for a reply, its SMS
//! notice), so two screeners deciding at once, or a reply racing a re-referral, cannot both
//! win, and nothing is ever audited that did not happen.

use super::{unix_ms_now, Store, StoreError};

mod replies;
mod screening;
pub(crate) mod secret;

pub use replies::ReplyOutcome;
pub use screening::{Screening, ScreeningOutcome, REJECT_REASONS};

use secret::{burn_equal_time, hash_secret, verify_secret};

/// A manager as listed (no secrets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagerRow {
    pub mailbox: String,
    pub name: String,
    pub created_at: i64,
}

/// Mailbox numbers are dialled on a keypad after `*98`.
const MAILBOX_DIGITS: std::ops::RangeInclusive<usize> = 2..=8;
/// PINs are keyed on a phone: digits only, long enough not to be the first guess.
const PIN_DIGITS: std::ops::RangeInclusive<usize> = 4..=8;
const MIN_PASSWORD_CHARS: usize = 8;
const MAX_SECRET_CHARS: usize = 200;
const MAX_NAME_CHARS: usize = 100;

/// Refuses a mailbox number that is not 2 to 8 digits.
pub fn check_mailbox(mailbox: &str) -> Result<(), StoreError> {
    if MAILBOX_DIGITS.contains(&mailbox.len()) && mailbox.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!(
            "mailbox {mailbox:?} must be 2 to 8 digits (it is dialled on a phone after *98)"
        )))
    }
}

fn check_pin(pin: &str) -> Result<(), StoreError> {
    if PIN_DIGITS.contains(&pin.len()) && pin.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(StoreError::Invalid(
            "the PIN must be 4 to 8 digits (it is keyed on a phone)".into(),
        ))
    }
}

fn check_password(password: &str) -> Result<(), StoreError> {
    let chars = password.chars().count();
    if (MIN_PASSWORD_CHARS..=MAX_SECRET_CHARS).contains(&chars) {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!(
            "the password must be {MIN_PASSWORD_CHARS} to {MAX_SECRET_CHARS} characters"
        )))
    }
}

fn check_manager_name(name: &str) -> Result<(), StoreError> {
    let name = name.trim();
    if name.is_empty()
        || name.chars().count() > MAX_NAME_CHARS
        || name.chars().any(char::is_control)
    {
        return Err(StoreError::Invalid(format!(
            "the name must be 1 to {MAX_NAME_CHARS} characters without control characters"
        )));
    }
    Ok(())
}

/// Which of a manager's secrets a sign-in presents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Secret {
    /// Keyed on the phone after `*98`.
    Pin,
    /// Typed on the browser's sign-in page.
    Password,
}

impl Store {
    /// Adds a manager, or replaces the name, PIN and password of an existing mailbox.
    pub async fn add_manager(
        &self,
        mailbox: &str,
        name: &str,
        pin: &str,
        password: &str,
    ) -> Result<(), StoreError> {
        check_mailbox(mailbox)?;
        check_manager_name(name)?;
        check_pin(pin)?;
        check_password(password)?;
        let (pin, password) = (pin.to_string(), password.to_string());
        let hashes = tokio::task::spawn_blocking(move || {
            Ok::<_, StoreError>((hash_secret(&pin)?, hash_secret(&password)?))
        })
        .await
        .map_err(|error| StoreError::Invalid(format!("hashing stopped: {error}")))??;
        sqlx::query(
            "INSERT INTO managers (mailbox, name, pin_hash, password_hash, created_at, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?5) ON CONFLICT (mailbox) DO UPDATE SET \
             name = excluded.name, pin_hash = excluded.pin_hash, \
             password_hash = excluded.password_hash, updated_at = excluded.updated_at",
        )
        .bind(mailbox)
        .bind(name.trim())
        .bind(&hashes.0)
        .bind(&hashes.1)
        .bind(unix_ms_now())
        .execute(self.pool())
        .await
        .map_err(self.error("save manager"))?;
        Ok(())
    }

    /// Every manager, by mailbox.
    pub async fn list_managers(&self) -> Result<Vec<ManagerRow>, StoreError> {
        let rows: Vec<(String, String, i64)> =
            sqlx::query_as("SELECT mailbox, name, created_at FROM managers ORDER BY mailbox")
                .fetch_all(self.pool())
                .await
                .map_err(self.error("list managers"))?;
        Ok(rows
            .into_iter()
            .map(|(mailbox, name, created_at)| ManagerRow {
                mailbox,
                name,
                created_at,
            })
            .collect())
    }

    /// Whether a mailbox exists.
    pub async fn manager_exists(&self, mailbox: &str) -> Result<bool, StoreError> {
        sqlx::query_scalar("SELECT EXISTS(SELECT 1 FROM managers WHERE mailbox = ?)")
            .bind(mailbox)
            .fetch_one(self.pool())
            .await
            .map_err(self.error("look for a manager"))
    }

    /// Whether `secret` is the mailbox's PIN or password. An unknown mailbox costs the same work
    /// as a wrong secret, so timing does not tell which mailboxes exist.
    pub async fn verify_manager(
        &self,
        mailbox: &str,
        which: Secret,
        secret: &str,
    ) -> Result<bool, StoreError> {
        let stored: Option<(String, String)> =
            sqlx::query_as("SELECT pin_hash, password_hash FROM managers WHERE mailbox = ?")
                .bind(mailbox)
                .fetch_optional(self.pool())
                .await
                .map_err(self.error("check a manager's secret"))?;
        let secret = secret.to_string();
        tokio::task::spawn_blocking(move || match stored {
            Some((pin_hash, password_hash)) => {
                let hash = match which {
                    Secret::Pin => pin_hash,
                    Secret::Password => password_hash,
                };
                verify_secret(&secret, &hash)
            }
            None => {
                burn_equal_time(&secret);
                false
            }
        })
        .await
        .map_err(|error| StoreError::Invalid(format!("hashing stopped: {error}")))
    }

    /// The phone's check: `verify_manager` with the PIN.
    pub async fn verify_manager_pin(&self, mailbox: &str, pin: &str) -> Result<bool, StoreError> {
        self.verify_manager(mailbox, Secret::Pin, pin).await
    }
}

#[cfg(test)]
mod tests;
