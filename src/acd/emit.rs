//! The only doors through which agent state and history leave the machine.
//!
//! `set_state` is the single place an agent's state changes, and it always emits
//! `AgentStateChanged` (with the pending request), so no transition can be invisible to a
//! wallboard. History rows are built here too, from indices, so callers never format names.

use std::time::Duration;

use super::io::{AcdOutput, AgentRequest, ChangeReason, QueueEvent, QueueEventKind, Refusal};
use super::queue::{AgentIdx, QueueIdx};
use super::types::{AgentState, CallKey, Pending};
use super::Acd;

/// What a history row is about.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct About {
    pub queue: Option<QueueIdx>,
    pub call: Option<CallKey>,
    pub agent: Option<AgentIdx>,
}

impl About {
    pub fn agent(agent: AgentIdx) -> Self {
        About {
            agent: Some(agent),
            ..About::default()
        }
    }

    pub fn call(queue: QueueIdx, call: CallKey) -> Self {
        About {
            queue: Some(queue),
            call: Some(call),
            agent: None,
        }
    }

    pub fn offer(queue: QueueIdx, call: CallKey, agent: AgentIdx) -> Self {
        About {
            queue: Some(queue),
            call: Some(call),
            agent: Some(agent),
        }
    }
}

impl Acd {
    /// Moves an agent to `state` and tells the world why.
    pub(crate) fn set_state(
        &mut self,
        idx: AgentIdx,
        state: AgentState,
        reason: ChangeReason,
        now: Duration,
    ) {
        let Some(agent) = self.agent_mut(idx) else {
            return;
        };
        agent.state = state.clone();
        agent.since = now;
        let change = AcdOutput::AgentStateChanged {
            agent: agent.config.id.clone(),
            state,
            pending: agent.pending.clone(),
            reason,
            at: now,
        };
        self.outputs.push_back(change);
    }

    /// Records (or clears) a deferred request; the state stays, the change is still announced.
    pub(crate) fn set_pending(&mut self, idx: AgentIdx, pending: Option<Pending>, now: Duration) {
        let Some(agent) = self.agent_mut(idx) else {
            return;
        };
        let reason = if pending.is_some() {
            ChangeReason::PendingSet
        } else {
            ChangeReason::PendingCleared
        };
        agent.pending = pending.clone();
        let change = AcdOutput::AgentStateChanged {
            agent: agent.config.id.clone(),
            state: agent.state.clone(),
            pending,
            reason,
            at: now,
        };
        self.outputs.push_back(change);
    }

    pub(crate) fn refuse(&mut self, agent: &str, request: AgentRequest, refusal: Refusal) {
        self.outputs.push_back(AcdOutput::Refused {
            agent: agent.to_owned(),
            request,
            refusal,
        });
    }

    pub(crate) fn agent_name(&self, idx: AgentIdx) -> String {
        self.agent(idx)
            .map(|agent| agent.config.id.clone())
            .unwrap_or_default()
    }

    pub(crate) fn log(
        &mut self,
        kind: QueueEventKind,
        now: Duration,
        about: About,
        detail: String,
    ) {
        let queue = about
            .queue
            .and_then(|q| self.queue(q))
            .map(|q| q.config.name.clone());
        let agent = about.agent.map(|a| self.agent_name(a));
        self.outputs.push_back(AcdOutput::QueueLog(QueueEvent {
            at: now,
            queue,
            call: about.call,
            agent,
            kind,
            detail,
        }));
    }
}

/// Milliseconds for history details.
pub(crate) fn ms(duration: Duration) -> u128 {
    duration.as_millis()
}
