//! The ACD's persistence: agents' last states (restored after a restart) and the queue log.
//! Both arrive in bursts from the engine and are written in one transaction per burst.

use sqlx::Row;

use super::{unix_ms_now, Store, StoreError};
use crate::engine::{AgentStateRow, QueueLogRow};

impl Store {
    pub async fn save_agent_states(&self, rows: &[AgentStateRow]) -> Result<(), StoreError> {
        let mut tx = self
            .pool()
            .begin()
            .await
            .map_err(self.error("start saving agent states"))?;
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

    pub async fn append_queue_log(&self, rows: &[QueueLogRow]) -> Result<(), StoreError> {
        let mut tx = self
            .pool()
            .begin()
            .await
            .map_err(self.error("start writing the queue log"))?;
        for row in rows {
            sqlx::query("INSERT INTO queue_log (at, queue, call, agent, kind, detail) VALUES (?, ?, ?, ?, ?, ?)")
                .bind(row.at_ms)
                .bind(&row.queue)
                .bind(row.call.and_then(|c| i64::try_from(c).ok()))
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

    /// The newest queue events first (history for supervisors).
    pub async fn queue_log(&self, limit: u32) -> Result<Vec<QueueLogRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT at, queue, call, agent, kind, detail FROM queue_log ORDER BY id DESC LIMIT ?",
        )
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await
        .map_err(self.error("read the queue log"))?;
        Ok(rows
            .iter()
            .filter_map(|row| {
                Some(QueueLogRow {
                    at_ms: row.try_get("at").ok()?,
                    queue: row.try_get("queue").ok()?,
                    call: row
                        .try_get::<Option<i64>, _>("call")
                        .ok()?
                        .and_then(|c| u64::try_from(c).ok()),
                    agent: row.try_get("agent").ok()?,
                    kind: row.try_get("kind").ok()?,
                    detail: row.try_get("detail").ok()?,
                })
            })
            .collect())
    }
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
            agent: None,
            kind: "enter".into(),
            detail: String::new(),
        };
        store.append_queue_log(std::slice::from_ref(&event)).await?;
        assert_eq!(store.queue_log(10).await?, vec![event]);
        store.close().await;
        Ok(())
    }
}
