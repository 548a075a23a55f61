//! Keeps the engine's copy of the agents (credentials, names, queues) in step with the database,
//! so `pasokh agent add` takes effect on a running engine within a second, without a restart. On
//! the first load it also hands the engine the softphones' registrations and the agent states
//! saved before the last stop.

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
                    // Read what was saved before the engine hears of the agents: configuring
                    // an agent saves its state, which must not overwrite the saved one first.
                    let saved = match seen {
                        None => saved_before_restart(&store).await,
                        Some(_) => Vec::new(),
                    };
                    tracing::info!(agents = list.len(), "agents loaded");
                    let inputs = std::iter::once(Input::Agents(list)).chain(saved);
                    for input in inputs {
                        if to_loop.send(LoopMsg::Engine(input)).is_err() {
                            return;
                        }
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

/// The softphones' registrations, then the agents' states, saved before the last stop: in
/// that order, so an agent restored as logged in can be checked against a registered phone;
/// then today's queue log, so the wallboard's day survives the restart.
async fn saved_before_restart(store: &Store) -> Vec<Input> {
    let mut inputs = Vec::new();
    match store.load_registrations().await {
        Ok(rows) => {
            tracing::info!(contacts = rows.len(), "registrations restored");
            inputs.push(Input::RestoreRegistrations(rows));
        }
        Err(error) => tracing::warn!(%error, "cannot load saved registrations"),
    }
    match store.load_agent_states().await {
        Ok(rows) => {
            tracing::info!(agents = rows.len(), "agent states restored");
            inputs.push(Input::RestoreAgents(rows));
        }
        Err(error) => tracing::warn!(%error, "cannot load saved agent states"),
    }
    let today = crate::calendar::tehran_day_start_ms(crate::store::unix_ms_now());
    match store.queue_log_since(today).await {
        Ok(rows) => {
            tracing::info!(events = rows.len(), "today's queue figures rebuilt");
            inputs.push(Input::RestoreQueueDay(rows));
        }
        Err(error) => tracing::warn!(%error, "cannot read today's queue log"),
    }
    inputs
}
