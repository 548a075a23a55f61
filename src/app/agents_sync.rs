//! Keeps the engine's copy of the agents (credentials, names, queues) in step with the database,
//! so `pasokh agent add` takes effect on a running engine within a second, without a restart. On
//! the first load it also hands the engine the agent states saved before the last stop.

use std::time::Duration;

use tokio::sync::mpsc;

use crate::drivers::sip_loop::LoopMsg;
use crate::engine::{AgentEntry, Input};
use crate::store::{Store, StoreError};

const POLL_EVERY: Duration = Duration::from_secs(1);

async fn load(store: &Store) -> Result<Vec<AgentEntry>, StoreError> {
    let credentials = store.agent_credentials().await?;
    let rows = store.list_agents().await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            let (_, creds) = credentials.iter().find(|(id, _)| *id == row.id)?;
            Some(AgentEntry {
                id: row.id.clone(),
                name: row.name,
                credentials: creds.clone(),
                queues: row.queues,
            })
        })
        .collect())
}

pub async fn run(store: Store, to_loop: mpsc::UnboundedSender<LoopMsg>) {
    let mut seen: Option<i64> = None;
    loop {
        match store.agents_version().await {
            Ok(version) if Some(version) != seen => match load(&store).await {
                Ok(list) => {
                    tracing::info!(agents = list.len(), "agents loaded");
                    if to_loop.send(LoopMsg::Engine(Input::Agents(list))).is_err() {
                        return;
                    }
                    if seen.is_none() {
                        restore_states(&store, &to_loop).await;
                    }
                    seen = Some(version);
                }
                Err(error) => tracing::warn!(%error, "cannot load agents"),
            },
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "cannot check agents"),
        }
        tokio::time::sleep(POLL_EVERY).await;
    }
}

async fn restore_states(store: &Store, to_loop: &mpsc::UnboundedSender<LoopMsg>) {
    match store.load_agent_states().await {
        Ok(rows) if !rows.is_empty() => {
            tracing::info!(agents = rows.len(), "agent states restored");
            let _ = to_loop.send(LoopMsg::Engine(Input::RestoreAgents(rows)));
        }
        Ok(_) => {}
        Err(error) => tracing::warn!(%error, "cannot load saved agent states"),
    }
}
