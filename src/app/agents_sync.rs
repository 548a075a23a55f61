//! Keeps the engine's copy of the agents' credentials in step with the database, so
//! `pasokh agent add` takes effect on a running engine within a second, without a restart.

use std::time::Duration;

use tokio::sync::mpsc;

use crate::drivers::sip_loop::LoopMsg;
use crate::engine::Input;
use crate::store::Store;

const POLL_EVERY: Duration = Duration::from_secs(1);

pub async fn run(store: Store, to_loop: mpsc::UnboundedSender<LoopMsg>) {
    let mut seen: Option<i64> = None;
    loop {
        match store.agents_version().await {
            Ok(version) if Some(version) != seen => match store.agent_credentials().await {
                Ok(list) => {
                    tracing::info!(agents = list.len(), "agents loaded");
                    if to_loop.send(LoopMsg::Engine(Input::Agents(list))).is_err() {
                        return;
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
