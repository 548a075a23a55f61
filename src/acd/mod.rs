//! ACD: agent queues as one sans-IO state machine.
//!
//! Why this shape: the complaints about classic ACDs (agents stuck in a wrong state, wrap-up and
//! pause reasons invisible to wallboards, requests silently ignored) come from state spread over
//! tasks, channel variables and device-state callbacks. Here one struct owns every queue, call and
//! agent; the engine feeds `AcdInput` values with the time (`Duration` since an arbitrary origin)
//! and drains `AcdOutput` values, and the timers (ring-no-answer, wrap-up, max wait, announcement,
//! retry) are rows in one `TimerTable`. Every agent transition goes through one function that emits
//! `AgentStateChanged`; requests that cannot apply now are either kept as a visible `Pending` or
//! answered with `Refused`.
//!
//! The vocabulary is str0m's: `handle_input`, `poll_output`, `poll_timeout`, `handle_timeout`.
//! Routing keeps one invariant after every input: no waiting call has an available agent that
//! serves its queue and has not just missed it. See docs/acd.md for the rules and statistics.

mod admin;
mod agents;
mod calls;
mod emit;
pub mod io;
mod offers;
mod persist;
mod queue;
mod rebuild;
mod routing;
mod stats;
pub mod types;

#[cfg(test)]
mod tests;

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

pub use io::{
    AcdInput, AcdOutput, AgentRequest, CancelReason, ChangeReason, OverflowReason, QueueEvent,
    QueueEventKind, Refusal,
};
pub use persist::{restored_state, AcdError, AgentSnapshot};
pub use rebuild::LoggedEvent;
pub use stats::{AgentCounts, AgentView, QueueStats, WaitingCall};
pub use types::{AgentConfig, AgentState, CallKey, PauseReason, Pending, QueueConfig, Strategy};

use crate::timer::TimerTable;
use queue::{Agent, AgentIdx, Call, Queue, QueueIdx};

/// The ACD's timers. An agent rings for at most one call, so the ring timer is keyed by agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum AcdTimer {
    RingNoAnswer(AgentIdx),
    WrapUpEnd(AgentIdx),
    MaxWait(CallKey),
    Announce(CallKey),
    /// Clears the call's list of agents who missed it, so they may be offered it again.
    RetryTried(CallKey),
}

/// Queues, agents and waiting calls of one engine node.
#[derive(Debug)]
pub struct Acd {
    queues: Vec<Option<Queue>>,
    queue_names: HashMap<String, QueueIdx>,
    agents: Vec<Option<Agent>>,
    agent_ids: HashMap<String, AgentIdx>,
    calls: HashMap<CallKey, Call>,
    timers: TimerTable<AcdTimer, ()>,
    outputs: VecDeque<AcdOutput>,
    next_seq: u64,
    now: Duration,
    stale_inputs: u64,
    /// Offers made while a better-placed call waited for the same agent (tests assert zero).
    #[cfg(test)]
    fifo_violations: u32,
}

impl Acd {
    /// A machine with these queues and agents; every agent starts logged out.
    pub fn new(queues: Vec<QueueConfig>, agents: Vec<AgentConfig>) -> Self {
        let mut acd = Acd {
            queues: Vec::new(),
            queue_names: HashMap::new(),
            agents: Vec::new(),
            agent_ids: HashMap::new(),
            calls: HashMap::new(),
            timers: TimerTable::new(),
            outputs: VecDeque::new(),
            next_seq: 0,
            now: Duration::ZERO,
            stale_inputs: 0,
            #[cfg(test)]
            fifo_violations: 0,
        };
        for config in queues {
            acd.insert_queue(config);
        }
        for config in agents {
            acd.insert_agent(config);
        }
        acd.rebuild_members();
        acd
    }

    /// Applies one input at `now`. Outputs queue up for `poll_output`.
    pub fn handle_input(&mut self, input: AcdInput, now: Duration) {
        let now = self.advance_clock(now);
        match input {
            AcdInput::AgentLogin(id) => self.agent_login(&id, now),
            AcdInput::AgentLogout(id) => self.agent_logout(&id, AgentRequest::Logout, now),
            AcdInput::AgentUnreachable(id) => {
                self.agent_logout(&id, AgentRequest::Unreachable, now)
            }
            AcdInput::AgentPause(id, reason) => self.agent_pause(&id, reason, now),
            AcdInput::AgentUnpause(id) => self.agent_unpause(&id, now),
            AcdInput::AgentEndWrapUp(id) => self.agent_end_wrap_up(&id, now),
            AcdInput::AgentConfigured(config) => self.agent_configured(config, now),
            AcdInput::AgentRemoved(id) => self.agent_removed(&id, now),
            AcdInput::QueueConfigured(config) => self.queue_configured(config),
            AcdInput::QueueRemoved(name) => self.queue_removed(&name, now),
            AcdInput::CallArrived {
                call,
                queue,
                priority,
                caller,
            } => self.call_arrived(call, queue, priority, caller, now),
            AcdInput::CallAbandoned(call) => self.caller_left(call, calls::Departure::Abandon, now),
            AcdInput::CallExited(call) => self.caller_left(call, calls::Departure::Exit, now),
            AcdInput::OfferAccepted { call, agent } => self.offer_accepted(call, &agent, now),
            AcdInput::OfferRejected { call, agent } => {
                self.offer_declined(call, &agent, offers::Miss::Rejected, now)
            }
            AcdInput::OfferFailed { call, agent } => {
                self.offer_declined(call, &agent, offers::Miss::Failed, now)
            }
            AcdInput::CallEnded { call } => self.call_ended(call, now),
        }
    }

    pub fn poll_output(&mut self) -> Option<AcdOutput> {
        self.outputs.pop_front()
    }

    /// The next deadline at which `handle_timeout` must be called.
    pub fn poll_timeout(&mut self) -> Option<Duration> {
        self.timers.next_deadline()
    }

    /// Fires every timer due at `now`.
    pub fn handle_timeout(&mut self, now: Duration) {
        let now = self.advance_clock(now);
        while let Some((timer, ())) = self.timers.pop_due(now) {
            match timer {
                AcdTimer::RingNoAnswer(agent) => self.ring_timed_out(agent, now),
                AcdTimer::WrapUpEnd(agent) => self.wrap_up_timed_out(agent, now),
                AcdTimer::MaxWait(call) => self.max_wait_reached(call, now),
                AcdTimer::Announce(call) => self.announce(call, now),
                AcdTimer::RetryTried(call) => self.retry_tried(call, now),
            }
        }
    }

    /// The settings of the queue a call is in (waiting or connected).
    /// Whether a call entering `queue` now would ring an agent at once: more of its members are
    /// available than calls wait in it with no phone ringing. The caller is then told they are
    /// being connected, not that every call-taker is busy.
    pub fn would_ring_at_once(&self, queue: &str) -> bool {
        let Some(queue) = self
            .queue_names
            .get(queue)
            .and_then(|&i| self.queues.get(i))
            .and_then(Option::as_ref)
        else {
            return false;
        };
        let available = queue
            .members
            .iter()
            .filter(|m| {
                self.agents
                    .get(m.agent)
                    .and_then(Option::as_ref)
                    .is_some_and(|a| a.state == AgentState::Available)
            })
            .count();
        let waiting = queue
            .queued
            .values()
            .filter(|key| {
                self.calls
                    .get(key)
                    .is_some_and(|c| matches!(c.phase, queue::CallPhase::Waiting))
            })
            .count();
        available > waiting
    }

    pub fn queue_of_call(&self, call: CallKey) -> Option<&QueueConfig> {
        let queue = self.calls.get(&call)?.queue;
        self.queue(queue).map(|q| &q.config)
    }

    /// Inputs that referred to calls, offers or agents that no longer exist (normal races such
    /// as an abandon crossing an answer); they changed nothing.
    pub fn stale_inputs(&self) -> u64 {
        self.stale_inputs
    }

    /// Time never runs backwards inside the machine: a late `now` is taken as the latest seen.
    fn advance_clock(&mut self, now: Duration) -> Duration {
        self.now = self.now.max(now);
        self.now
    }

    fn agent(&self, idx: AgentIdx) -> Option<&Agent> {
        self.agents.get(idx).and_then(Option::as_ref)
    }

    fn agent_mut(&mut self, idx: AgentIdx) -> Option<&mut Agent> {
        self.agents.get_mut(idx).and_then(Option::as_mut)
    }

    fn queue(&self, idx: QueueIdx) -> Option<&Queue> {
        self.queues.get(idx).and_then(Option::as_ref)
    }

    fn queue_mut(&mut self, idx: QueueIdx) -> Option<&mut Queue> {
        self.queues.get_mut(idx).and_then(Option::as_mut)
    }

    fn agent_index(&self, id: &str) -> Option<AgentIdx> {
        self.agent_ids.get(id).copied()
    }
}
