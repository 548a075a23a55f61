//! Agents (call-takers): their SIP digest credentials and the queues they serve.
//!
//! Why HA1s and not passwords: the registrar only ever needs `H(user:realm:password)` (MD5 and
//! SHA-256), so the password is hashed by the caller (`UserCredentials::from_password`) and
//! never reaches the disk. Why a version counter: the engine polls `agents_version` every
//! second and reloads the full list only when it moved; triggers in the schema bump it on any
//! change, whichever process (engine, CLI) made it.

use std::collections::BTreeMap;

use super::{unix_ms_now, Store, StoreError};
use crate::sip::registrar::UserCredentials;

/// Longest agent id or queue name accepted.
const MAX_NAME_LEN: usize = 64;

/// One agent as listed (no credentials).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentRow {
    pub id: String,
    pub name: String,
    /// `(queue, penalty)` sorted by queue name; a lower penalty is offered calls first.
    pub queues: Vec<(String, u32)>,
    /// Unix milliseconds when the id was first added.
    pub created_at: i64,
}

const UPSERT_AGENT: &str = "\
    INSERT INTO agents (id, name, ha1_md5, ha1_sha256, created_at, updated_at) \
    VALUES (?1, ?2, ?3, ?4, ?5, ?5) \
    ON CONFLICT (id) DO UPDATE SET name = excluded.name, ha1_md5 = excluded.ha1_md5, \
        ha1_sha256 = excluded.ha1_sha256, updated_at = excluded.updated_at";

const UPSERT_QUEUE: &str = "\
    INSERT INTO agent_queues (agent_id, queue, penalty) VALUES (?, ?, ?) \
    ON CONFLICT (agent_id, queue) DO UPDATE SET penalty = excluded.penalty";

impl Store {
    /// Adds an agent, or replaces the name, credentials and queue list of an existing id.
    /// A queue named twice keeps its last penalty.
    pub async fn add_agent(
        &self,
        id: &str,
        name: &str,
        credentials: &UserCredentials,
        queues: &[(String, u32)],
    ) -> Result<(), StoreError> {
        check_name("agent id", id)?;
        for (queue, _) in queues {
            check_name("queue name", queue)?;
        }
        let mut tx = self.begin_write("start saving agent").await?;
        sqlx::query(UPSERT_AGENT)
            .bind(id)
            .bind(name)
            .bind(&credentials.ha1_md5)
            .bind(&credentials.ha1_sha256)
            .bind(unix_ms_now())
            .execute(&mut *tx)
            .await
            .map_err(self.error("save agent"))?;
        sqlx::query("DELETE FROM agent_queues WHERE agent_id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(self.error("replace agent queues"))?;
        for (queue, penalty) in queues {
            sqlx::query(UPSERT_QUEUE)
                .bind(id)
                .bind(queue)
                .bind(i64::from(*penalty))
                .execute(&mut *tx)
                .await
                .map_err(self.error("save agent queues"))?;
        }
        tx.commit().await.map_err(self.error("commit agent"))
    }

    /// Removes an agent: its queues, registrations and saved state go with it, and its tokens
    /// stop working. `false` when no agent has that id.
    pub async fn remove_agent(&self, id: &str) -> Result<bool, StoreError> {
        let mut tx = self.begin_write("start removing an agent").await?;
        let done = sqlx::query("DELETE FROM agents WHERE id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(self.error("remove an agent"))?;
        for table in ["registration", "agent_state"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE agent_id = ?"))
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(self.error("remove an agent's state"))?;
        }
        tx.commit()
            .await
            .map_err(self.error("commit an agent's removal"))?;
        Ok(done.rows_affected() > 0)
    }

    /// Every agent with its queues, sorted by id.
    pub async fn list_agents(&self) -> Result<Vec<AgentRow>, StoreError> {
        let agents: Vec<(String, String, i64)> =
            sqlx::query_as("SELECT id, name, created_at FROM agents ORDER BY id")
                .fetch_all(self.pool())
                .await
                .map_err(self.error("list agents"))?;
        let memberships: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT agent_id, queue, penalty FROM agent_queues ORDER BY agent_id, queue",
        )
        .fetch_all(self.pool())
        .await
        .map_err(self.error("list agent queues"))?;
        let mut queues_of: BTreeMap<String, Vec<(String, u32)>> = BTreeMap::new();
        for (agent_id, queue, penalty) in memberships {
            // The schema forbids negative penalties; saturate rather than trust that blindly.
            let penalty = u32::try_from(penalty).unwrap_or(u32::MAX);
            queues_of
                .entry(agent_id)
                .or_default()
                .push((queue, penalty));
        }
        Ok(agents
            .into_iter()
            .map(|(id, name, created_at)| AgentRow {
                queues: queues_of.remove(&id).unwrap_or_default(),
                id,
                name,
                created_at,
            })
            .collect())
    }

    /// `(agent id, digest HA1s)` for the registrar, sorted by id.
    pub async fn agent_credentials(&self) -> Result<Vec<(String, UserCredentials)>, StoreError> {
        let rows: Vec<(String, String, String)> =
            sqlx::query_as("SELECT id, ha1_md5, ha1_sha256 FROM agents ORDER BY id")
                .fetch_all(self.pool())
                .await
                .map_err(self.error("read agent credentials"))?;
        Ok(rows
            .into_iter()
            .map(|(id, ha1_md5, ha1_sha256)| {
                (
                    id,
                    UserCredentials {
                        ha1_md5,
                        ha1_sha256,
                    },
                )
            })
            .collect())
    }

    /// Whether `password` is agent `id`'s (the one its softphone registers with), checked
    /// against the stored digest HA1 of realm `realm`. An unknown agent costs the same hashing
    /// and answers the same `false`, so the answer does not tell which agent ids exist.
    pub async fn verify_agent_password(
        &self,
        id: &str,
        realm: &str,
        password: &str,
    ) -> Result<bool, StoreError> {
        let stored: Option<String> = sqlx::query_scalar("SELECT ha1_md5 FROM agents WHERE id = ?")
            .bind(id)
            .fetch_optional(self.pool())
            .await
            .map_err(self.error("read an agent's credentials"))?;
        let offered = UserCredentials::from_password(id, realm, password);
        let stored = stored.unwrap_or_else(|| "0".repeat(offered.ha1_md5.len()));
        Ok(crate::sip::digest::constant_time_eq(
            stored.as_bytes(),
            offered.ha1_md5.as_bytes(),
        ))
    }

    /// A number that changes whenever any agent or queue membership changes (one row read).
    pub async fn agents_version(&self) -> Result<i64, StoreError> {
        sqlx::query_scalar("SELECT version FROM change_counters WHERE topic = 'agents'")
            .fetch_one(self.pool())
            .await
            .map_err(self.error("read agents version"))
    }
}

/// Ids and queue names end up in SIP URIs, logs and URLs: keep them to a plain, short alphabet.
pub(crate) fn check_name(what: &str, value: &str) -> Result<(), StoreError> {
    let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_');
    if value.is_empty() || value.len() > MAX_NAME_LEN || !value.chars().all(plain) {
        return Err(StoreError::Invalid(format!(
            "{what} {value:?} must be 1 to {MAX_NAME_LEN} letters, digits, '.', '-' or '_'"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
