//! API bearer tokens and the roles they carry.
//!
//! Why only a hash is stored: a token is 160 random bits, so its SHA-256 is as good as the token
//! for lookup, and a copy of the database (a backup, a stolen disk) grants nothing. No salt or
//! slow hash is needed for random tokens, unlike passwords. Lookup by hash equality also means
//! the comparison time leaks nothing useful about any stored token.

use std::fmt;
use std::str::FromStr;

use rand::rngs::OsRng;
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::agents::check_name;
use super::{unix_ms_now, Store, StoreError};

/// Every token starts with this, so a leaked one is recognisable (e.g. by secret scanners).
pub const TOKEN_PREFIX: &str = "psk_";

/// Random bytes per token (160 bits), printed as 40 hex digits.
const TOKEN_BYTES: usize = 20;

/// Who a token speaks for; decides which endpoints it may call.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Role {
    Admin,
    Supervisor,
    /// Screens filed messages before referral.
    Screener,
    /// A call-taker, by agent id.
    Agent(String),
    /// A municipal manager with a voice mailbox, by manager id.
    Manager(String),
}

/// A role string that is not `admin|supervisor|screener|agent:ID|manager:ID`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidRole(pub String);

impl fmt::Display for InvalidRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid role {:?}: expected admin, supervisor, screener, agent:ID or manager:ID",
            self.0
        )
    }
}

impl std::error::Error for InvalidRole {}

impl Role {
    pub fn parse(text: &str) -> Result<Role, InvalidRole> {
        let invalid = || InvalidRole(text.to_string());
        let with_id = |id: &str, make: fn(String) -> Role| {
            check_name("id", id).map_err(|_| invalid())?;
            Ok(make(id.to_string()))
        };
        match text.split_once(':') {
            None => match text {
                "admin" => Ok(Role::Admin),
                "supervisor" => Ok(Role::Supervisor),
                "screener" => Ok(Role::Screener),
                _ => Err(invalid()),
            },
            Some(("agent", id)) => with_id(id, Role::Agent),
            Some(("manager", id)) => with_id(id, Role::Manager),
            Some(_) => Err(invalid()),
        }
    }
}

impl FromStr for Role {
    type Err = InvalidRole;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Role::parse(text)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Role::Admin => f.write_str("admin"),
            Role::Supervisor => f.write_str("supervisor"),
            Role::Screener => f.write_str("screener"),
            Role::Agent(id) => write!(f, "agent:{id}"),
            Role::Manager(id) => write!(f, "manager:{id}"),
        }
    }
}

impl Store {
    /// Makes a new token for `role` and returns it; this is the only time it is ever visible.
    pub async fn create_token(&self, role: &Role) -> Result<String, StoreError> {
        self.create_token_until(role, None).await
    }

    /// Makes a token that stops working at `expires_at` (Unix milliseconds): a browser
    /// sign-in's session, which must not outlive the working day it was made for.
    pub async fn create_session_token(
        &self,
        role: &Role,
        lifetime: std::time::Duration,
    ) -> Result<String, StoreError> {
        let lifetime_ms = i64::try_from(lifetime.as_millis()).unwrap_or(i64::MAX);
        self.create_token_until(role, Some(unix_ms_now().saturating_add(lifetime_ms)))
            .await
    }

    async fn create_token_until(
        &self,
        role: &Role,
        expires_at: Option<i64>,
    ) -> Result<String, StoreError> {
        let mut secret = [0_u8; TOKEN_BYTES];
        OsRng
            .try_fill_bytes(&mut secret)
            .map_err(|error| StoreError::Random(error.to_string()))?;
        let token = format!("{TOKEN_PREFIX}{}", hex(&secret));
        sqlx::query(
            "INSERT INTO api_tokens (token_sha256, role, created_at, expires_at) \
             VALUES (?, ?, ?, ?)",
        )
        .bind(token_hash(&token))
        .bind(role.to_string())
        .bind(unix_ms_now())
        .bind(expires_at)
        .execute(self.pool())
        .await
        .map_err(self.error("save token"))?;
        Ok(token)
    }

    /// The role of a known token; `Ok(None)` for an unknown or malformed one. An `Err` means the
    /// database could not answer, which is not the caller's fault (HTTP 503, not 401).
    pub async fn verify_token(&self, token: &str) -> Result<Option<Role>, StoreError> {
        if !looks_like_token(token) {
            return Ok(None);
        }
        // An agent's or manager's token stops working when they are removed: it would otherwise
        // outlive the person it was made for. A session token stops at its expiry.
        let role: Option<String> = sqlx::query_scalar(
            "SELECT role FROM api_tokens WHERE token_sha256 = ? AND (role NOT LIKE 'agent:%' \
             OR substr(role, 7) IN (SELECT id FROM agents)) AND (role NOT LIKE 'manager:%' \
             OR substr(role, 9) IN (SELECT mailbox FROM managers)) \
             AND (expires_at IS NULL OR expires_at > ?)",
        )
        .bind(token_hash(token))
        .bind(unix_ms_now())
        .fetch_optional(self.pool())
        .await
        .map_err(self.error("check token"))?;
        // A row with an unparsable role (edited by hand) grants nothing.
        Ok(role.and_then(|text| Role::parse(&text).ok()))
    }

    /// Every token's id, role and creation time (never the token, which is not stored).
    pub async fn list_tokens(&self) -> Result<Vec<TokenRow>, StoreError> {
        let rows: Vec<(i64, String, i64)> =
            sqlx::query_as("SELECT id, role, created_at FROM api_tokens ORDER BY id")
                .fetch_all(self.pool())
                .await
                .map_err(self.error("list tokens"))?;
        Ok(rows
            .into_iter()
            .map(|(id, role, created_at)| TokenRow {
                id,
                role,
                created_at,
            })
            .collect())
    }

    /// Deletes the token with this id; false when there is none. It stops working at once (the
    /// web layer checks the store on every request).
    pub async fn revoke_token(&self, id: i64) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM api_tokens WHERE id = ?")
            .bind(id)
            .execute(self.pool())
            .await
            .map_err(self.error("revoke a token"))?;
        Ok(done.rows_affected() > 0)
    }
}

impl Store {
    /// Deletes the token with this text (a browser session's, on sign-out), so a copy of the
    /// cookie stops working too. `false` when no such token is stored.
    pub async fn revoke_token_text(&self, token: &str) -> Result<bool, StoreError> {
        if !looks_like_token(token) {
            return Ok(false);
        }
        let done = sqlx::query("DELETE FROM api_tokens WHERE token_sha256 = ?")
            .bind(token_hash(token))
            .execute(self.pool())
            .await
            .map_err(self.error("revoke a token"))?;
        Ok(done.rows_affected() > 0)
    }
}

/// A stored token as `pasokh token list` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRow {
    pub id: i64,
    /// As stored (a hand-edited row may not parse).
    pub role: String,
    /// Unix milliseconds.
    pub created_at: i64,
}

/// Cheap shape check, so junk of any length is refused without hashing or a query.
fn looks_like_token(token: &str) -> bool {
    token.strip_prefix(TOKEN_PREFIX).is_some_and(|rest| {
        rest.len() == TOKEN_BYTES * 2 && rest.bytes().all(|b| b.is_ascii_hexdigit())
    })
}

pub(crate) fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// Lower-case hex of `bytes` (token digests, PIN and password hashes).
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        text.push(char::from(DIGITS[usize::from(byte >> 4)]));
        text.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    text
}

#[cfg(test)]
mod tests;
