//! Saving agent states across a restart.
//!
//! Calls in flight do not survive a restart (their SIP dialogs are gone), so only what the agent
//! chose survives: logged out stays logged out, a pause (or a pending pause) comes back as that
//! pause, a pending logout or removal comes back logged out, and an agent who was available,
//! ringing, talking or in wrap-up comes back available. The rule is one pure function,
//! `restored_state`, so the driver and the tests can see exactly what will happen.

use std::fmt;
use std::time::Duration;

use super::emit::About;
use super::io::{ChangeReason, QueueEventKind};
use super::types::{AgentState, Pending};
use super::Acd;

/// What the driver stores per agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentSnapshot {
    pub id: String,
    pub state: AgentState,
    pub pending: Option<Pending>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AcdError {
    UnknownAgent(String),
    /// Restoring would break a live offer or call; restore before traffic starts.
    AgentBusy(String),
}

impl fmt::Display for AcdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AcdError::UnknownAgent(id) => write!(f, "unknown agent {id:?}"),
            AcdError::AgentBusy(id) => write!(f, "agent {id:?} has a live offer, call or wrap-up"),
        }
    }
}

impl std::error::Error for AcdError {}

/// The state an agent comes back in after a restart.
pub fn restored_state(saved: &AgentSnapshot) -> AgentState {
    match (&saved.pending, &saved.state) {
        (Some(Pending::Logout | Pending::Remove), _) => AgentState::LoggedOut,
        (Some(Pending::Pause(reason)), _) => AgentState::Paused {
            reason: reason.clone(),
        },
        (None, AgentState::LoggedOut) => AgentState::LoggedOut,
        (None, AgentState::Paused { reason }) => AgentState::Paused {
            reason: reason.clone(),
        },
        (None, _) => AgentState::Available,
    }
}

impl Acd {
    /// Every agent's state and pending request, for the driver to save.
    pub fn agent_snapshot(&self) -> Vec<AgentSnapshot> {
        self.agents
            .iter()
            .flatten()
            .map(|agent| AgentSnapshot {
                id: agent.config.id.clone(),
                state: agent.state.clone(),
                pending: agent.pending.clone(),
            })
            .collect()
    }

    /// Puts a configured, idle agent (logged out, available or paused) into the state
    /// `restored_state` gives for `saved`, announcing it; returns that state.
    pub fn restore_agent(
        &mut self,
        saved: &AgentSnapshot,
        now: Duration,
    ) -> Result<AgentState, AcdError> {
        let now = self.advance_clock(now);
        let idx = self
            .agent_index(&saved.id)
            .ok_or_else(|| AcdError::UnknownAgent(saved.id.clone()))?;
        let current = self
            .agent(idx)
            .map(|agent| agent.state.clone())
            .ok_or_else(|| AcdError::UnknownAgent(saved.id.clone()))?;
        let idle = matches!(
            current,
            AgentState::LoggedOut | AgentState::Available | AgentState::Paused { .. }
        );
        if !idle {
            return Err(AcdError::AgentBusy(saved.id.clone()));
        }
        let target = restored_state(saved);
        if target == AgentState::LoggedOut {
            if current.is_logged_in() {
                self.sign_out(idx, ChangeReason::Restored, now);
            } else {
                self.set_state(idx, AgentState::LoggedOut, ChangeReason::Restored, now);
            }
            return Ok(target);
        }
        if let Some(agent) = self.agent_mut(idx) {
            agent.pending = None;
            agent.missed_in_row = 0;
            if !agent.state.is_logged_in() {
                agent.idle_since = now;
            }
        }
        if !current.is_logged_in() {
            self.log(
                QueueEventKind::Login,
                now,
                About::agent(idx),
                "restored=1".into(),
            );
        }
        self.set_state(idx, target.clone(), ChangeReason::Restored, now);
        self.route_agent(idx, now);
        Ok(target)
    }
}
