//! The ACD's persistence: agents' last states (restored after a restart) and the queue log.
//! Both arrive in bursts from the engine and are written in one transaction per burst.

use sqlx::Row;

use super::{unix_ms_now, Store, StoreError};
use crate::engine::{AgentStateRow, QueueLogRow, RegistrationRow};

impl Store {
    pub async fn save_agent_states(&self, rows: &[AgentStateRow]) -> Result<(), StoreError> {
        let mut tx = self.begin_write("start saving agent states").await?;
        for row in rows {
            sqlx::query(
                "INSERT INTO agent_state (agent_id, state, reason_code, reason_label, pending, pending_code, updated_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (agent_id) DO UPDATE SET state = excluded.state, \
                 reason_code = excluded.reason_code, reason_label = excluded.reason_label, \
                 pending = excluded.pending, pending_code = excluded.pending_code, updated_at = excluded.updated_at",
            )
            .bind(&row.id)
            .bind(&row.state)
            .bind(row.reason_code.map(i64::from))
            .bind(&row.reason_label)
            .bind(&row.pending)
            .bind(row.pending_code.map(i64::from))
            .bind(unix_ms_now())
            .execute(&mut *tx)
            .await
            .map_err(self.error("save an agent state"))?;
        }
        tx.commit().await.map_err(self.error("commit agent states"))
    }

    pub async fn load_agent_states(&self) -> Result<Vec<AgentStateRow>, StoreError> {
        let rows = sqlx::query("SELECT agent_id, state, reason_code, reason_label, pending, pending_code FROM agent_state")
            .fetch_all(self.pool())
            .await
            .map_err(self.error("load agent states"))?;
        let code = |row: &sqlx::sqlite::SqliteRow, name: &str| {
            row.try_get::<Option<i64>, _>(name)
                .ok()
                .flatten()
                .and_then(|c| u16::try_from(c).ok())
        };
        Ok(rows
            .iter()
            .filter_map(|row| {
                Some(AgentStateRow {
                    id: row.try_get("agent_id").ok()?,
                    state: row.try_get("state").ok()?,
                    reason_code: code(row, "reason_code"),
                    reason_label: row.try_get("reason_label").ok()?,
                    pending: row.try_get("pending").ok()?,
                    pending_code: code(row, "pending_code"),
                })
            })
            .collect())
    }

    /// Replaces an agent's saved registrations with `rows` (none: the softphone unregistered).
    pub async fn save_registrations(
        &self,
        agent: &str,
        rows: &[RegistrationRow],
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write("start saving registrations").await?;
        sqlx::query("DELETE FROM registration WHERE agent_id = ?")
            .bind(agent)
            .execute(&mut *tx)
            .await
            .map_err(self.error("clear registrations"))?;
        for row in rows {
            sqlx::query(
                "INSERT INTO registration (agent_id, uri, source, call_id, cseq, expires_at) \
                 VALUES (?, ?, ?, ?, ?, ?)",
            )
            .bind(agent)
            .bind(&row.uri)
            .bind(&row.source)
            .bind(&row.call_id)
            .bind(i64::from(row.cseq))
            .bind(row.expires_at_ms)
            .execute(&mut *tx)
            .await
            .map_err(self.error("save a registration"))?;
        }
        tx.commit()
            .await
            .map_err(self.error("commit registrations"))
    }

    /// Registrations that have not run out yet.
    pub async fn load_registrations(&self) -> Result<Vec<RegistrationRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT agent_id, uri, source, call_id, cseq, expires_at FROM registration \
             WHERE expires_at > ? ORDER BY agent_id, rowid",
        )
        .bind(unix_ms_now())
        .fetch_all(self.pool())
        .await
        .map_err(self.error("load registrations"))?;
        Ok(rows
            .iter()
            .filter_map(|row| {
                Some(RegistrationRow {
                    agent: row.try_get("agent_id").ok()?,
                    uri: row.try_get("uri").ok()?,
                    source: row.try_get("source").ok()?,
                    call_id: row.try_get("call_id").ok()?,
                    cseq: u32::try_from(row.try_get::<i64, _>("cseq").ok()?).ok()?,
                    expires_at_ms: row.try_get("expires_at").ok()?,
                })
            })
            .collect())
    }

    pub async fn append_queue_log(&self, rows: &[QueueLogRow]) -> Result<(), StoreError> {
        let mut tx = self.begin_write("start writing the queue log").await?;
        for row in rows {
            sqlx::query("INSERT INTO queue_log (at, queue, call, call_ref, agent, kind, detail) VALUES (?, ?, ?, ?, ?, ?, ?)")
                .bind(row.at_ms)
                .bind(&row.queue)
                .bind(row.call.and_then(|c| i64::try_from(c).ok()))
                .bind(&row.call_ref)
                .bind(&row.agent)
                .bind(&row.kind)
                .bind(&row.detail)
                .execute(&mut *tx)
                .await
                .map_err(self.error("write the queue log"))?;
        }
        tx.commit()
            .await
            .map_err(self.error("commit the queue log"))
    }

    /// The queue events written at or after `since_ms` (Unix milliseconds), oldest first: the
    /// day's history that today's figures are rebuilt from after a restart.
    pub async fn queue_log_since(&self, since_ms: i64) -> Result<Vec<QueueLogRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT at, queue, call, call_ref, agent, kind, detail FROM queue_log WHERE at >= ? ORDER BY id",
        )
        .bind(since_ms)
        .fetch_all(self.pool())
        .await
        .map_err(self.error("read the day's queue log"))?;
        Ok(rows.iter().filter_map(queue_log_row).collect())
    }

    /// The newest queue events first (history for supervisors).
    pub async fn queue_log(&self, limit: u32) -> Result<Vec<QueueLogRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT at, queue, call, call_ref, agent, kind, detail FROM queue_log ORDER BY id DESC LIMIT ?",
        )
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await
        .map_err(self.error("read the queue log"))?;
        Ok(rows.iter().filter_map(queue_log_row).collect())
    }
}

/// One `queue_log` row; None for a row whose columns do not read back (left out, not fatal).
fn queue_log_row(row: &sqlx::sqlite::SqliteRow) -> Option<QueueLogRow> {
    Some(QueueLogRow {
        at_ms: row.try_get("at").ok()?,
        queue: row.try_get("queue").ok()?,
        call: row
            .try_get::<Option<i64>, _>("call")
            .ok()?
            .and_then(|c| u64::try_from(c).ok()),
        call_ref: row.try_get("call_ref").ok()?,
        agent: row.try_get("agent").ok()?,
        kind: row.try_get("kind").ok()?,
        detail: row.try_get("detail").ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_support::TempDir;

    #[tokio::test]
    async fn agent_states_and_the_queue_log_round_trip() -> Result<(), StoreError> {
        let dir = TempDir::new("acd-state");
        let store = Store::open(dir.path()).await?;
        let paused = AgentStateRow {
            id: "2001".into(),
            state: "paused".into(),
            reason_code: Some(2),
            reason_label: Some("lunch".into()),
            pending: None,
            pending_code: None,
        };
        store
            .save_agent_states(std::slice::from_ref(&paused))
            .await?;
        assert_eq!(store.load_agent_states().await?, vec![paused]);
        let event = QueueLogRow {
            at_ms: 5,
            queue: Some("137".into()),
            call: Some(7),
            call_ref: Some("0123456789abcdef".into()),
            agent: None,
            kind: "enter".into(),
            detail: String::new(),
        };
        let later = QueueLogRow {
            at_ms: 9,
            kind: "abandon".into(),
            ..event.clone()
        };
        store.append_queue_log(std::slice::from_ref(&event)).await?;
        store.append_queue_log(std::slice::from_ref(&later)).await?;
        assert_eq!(
            store.queue_log(10).await?,
            vec![later.clone(), event.clone()]
        );
        assert_eq!(store.queue_log_since(5).await?, vec![event, later.clone()]);
        assert_eq!(store.queue_log_since(6).await?, vec![later]);
        store.close().await;
        Ok(())
    }

    #[tokio::test]
    async fn registrations_are_replaced_per_agent_and_expired_ones_left_out(
    ) -> Result<(), StoreError> {
        let dir = TempDir::new("registrations");
        let store = Store::open(dir.path()).await?;
        let row = |agent: &str, uri: &str, expires_at_ms: i64| RegistrationRow {
            agent: agent.into(),
            uri: uri.into(),
            source: "udp:127.0.0.1:5062".into(),
            call_id: "reg-1".into(),
            cseq: 7,
            expires_at_ms,
        };
        let later = unix_ms_now() + 600_000;
        let desk = row("2001", "sip:2001@127.0.0.1:5062", later);
        let mobile = row("2001", "sip:2001@127.0.0.1:5064", later);
        let gone = row("2002", "sip:2002@127.0.0.1:5066", unix_ms_now() - 1);
        store
            .save_registrations("2001", &[desk.clone(), mobile])
            .await?;
        store
            .save_registrations("2002", std::slice::from_ref(&gone))
            .await?;
        // The desk phone refreshed alone: the other contact is gone; 2002's ran out.
        store
            .save_registrations("2001", std::slice::from_ref(&desk))
            .await?;
        assert_eq!(store.load_registrations().await?, vec![desk]);
        store.save_registrations("2001", &[]).await?;
        assert_eq!(store.load_registrations().await?, vec![]);
        store.close().await;
        Ok(())
    }
}
