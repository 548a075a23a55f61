//! Which messages a call-taker may see: those of the calls it was connected to.
//!
//! Why a link table and not the queue log: the queue log names calls by the engine's in-memory
//! call number, which starts again after a restart and is not the message's key, while the link
//! is written by tracking code, which the message was given (in the same transaction as its row)
//! before the call was offered to anyone. One row per agent and message, kept after the call, so
//! the agent can still correct the message later.

use crate::store::{Store, StoreError};

impl Store {
    /// Records that `agent` was connected to the call whose message has `tracking_code`. A code
    /// that names no message links nothing; linking twice is harmless.
    pub async fn link_agent_to_message(
        &self,
        tracking_code: &str,
        agent: &str,
        at_ms: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT OR IGNORE INTO message_agents (message_id, agent_id, at) \
             SELECT id, ?, ? FROM messages WHERE tracking_code = ?",
        )
        .bind(agent)
        .bind(at_ms)
        .bind(tracking_code.trim())
        .execute(self.pool())
        .await
        .map_err(self.error("link an agent to a message"))?;
        Ok(())
    }

    /// Was `agent` connected to the call of message `message_id`?
    pub async fn agent_handled(&self, message_id: i64, agent: &str) -> Result<bool, StoreError> {
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM message_agents WHERE message_id = ? AND agent_id = ?",
        )
        .bind(message_id)
        .bind(agent)
        .fetch_optional(self.pool())
        .await
        .map_err(self.error("check an agent's messages"))?;
        Ok(found.is_some())
    }

    /// Does an agent with this id exist (tokens are made only for agents that do)?
    pub async fn agent_exists(&self, agent: &str) -> Result<bool, StoreError> {
        let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM agents WHERE id = ?")
            .bind(agent)
            .fetch_optional(self.pool())
            .await
            .map_err(self.error("look up an agent"))?;
        Ok(found.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{FilingStage, NewMessage};
    use crate::store::test_support::TempDir;

    fn opened(call_id: &str) -> NewMessage {
        NewMessage {
            call_ref: format!("ref-{call_id}"),
            call_id: call_id.into(),
            line: "137".into(),
            kind: "guidance".into(),
            district: None,
            category: None,
            case_number: None,
            caller: "09121234567".into(),
            recording: None,
            created_at: 1_000,
            stage: FilingStage::Open,
        }
    }

    #[tokio::test]
    async fn an_agent_is_linked_only_to_the_messages_of_its_calls() -> Result<(), StoreError> {
        let dir = TempDir::new("message-access");
        let store = Store::open(dir.path()).await?;
        let codes = store
            .file_messages(&[opened("call-a"), opened("call-b")])
            .await?;
        let (Some(a), Some(b)) = (codes[0].clone(), codes[1].clone()) else {
            panic!("opened messages get codes: {codes:?}")
        };
        store.link_agent_to_message(&a, "2001", 2_000).await?;
        store.link_agent_to_message(&a, "2001", 3_000).await?;
        store
            .link_agent_to_message("10000017", "2001", 3_000)
            .await?;
        let id_of = |code: String| {
            let store = store.clone();
            async move { store.message(&code).await.map(|m| m.map_or(-1, |m| m.id)) }
        };
        let (id_a, id_b) = (id_of(a).await?, id_of(b).await?);
        assert!(store.agent_handled(id_a, "2001").await?);
        assert!(!store.agent_handled(id_b, "2001").await?);
        assert!(!store.agent_handled(id_a, "2002").await?);
        store.close().await;
        Ok(())
    }
}
