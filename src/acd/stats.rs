//! Live statistics for supervisors, with the standard contact-center definitions.
//!
//! Counters are per queue and per day; averages are computed on read from totals, so they never
//! drift. The identity `offered = answered + abandoned + exited + overflowed + waiting` holds at
//! every instant (the daily reset carries calls still queued over as offered). Definitions are
//! spelled out in docs/acd.md.

use std::time::Duration;

use super::queue::{Agent, CallPhase, QueueIdx};
use super::types::{AgentState, CallKey, Pending};
use super::Acd;

/// Today's running totals of one queue.
#[derive(Debug, Clone, Default)]
pub(crate) struct Counters {
    pub offered: u64,
    pub answered: u64,
    pub answered_in_threshold: u64,
    pub abandoned: u64,
    pub abandoned_in_grace: u64,
    pub exited: u64,
    pub overflowed: u64,
    pub total_answer_wait: Duration,
    pub completed: u64,
    pub total_handle: Duration,
}

impl Counters {
    fn service_level(&self) -> Option<f64> {
        let counted_abandons = self.abandoned.saturating_sub(self.abandoned_in_grace);
        let denominator = self.answered.saturating_add(counted_abandons);
        (denominator > 0).then(|| self.answered_in_threshold as f64 / denominator as f64)
    }

    pub fn average_handle(&self) -> Option<Duration> {
        average(self.total_handle, self.completed)
    }
}

fn average(total: Duration, count: u64) -> Option<Duration> {
    let nanos = total.as_nanos().checked_div(u128::from(count))?;
    Some(Duration::from_nanos(
        u64::try_from(nanos).unwrap_or(u64::MAX),
    ))
}

/// Agents of a queue by state; the fields add up to the queue's member count.
///
/// An agent serves several queues but takes one call at a time: ringing, talking and wrap-up
/// are counted in the queue of the call only, and in the agent's other queues as
/// `busy_elsewhere`, so three queues' panels never show one conversation as three.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AgentCounts {
    pub logged_out: u32,
    pub available: u32,
    /// Ringing for a call of this queue.
    pub offered: u32,
    /// Talking on a call of this queue.
    pub on_call: u32,
    /// In wrap-up after a call of this queue.
    pub wrap_up: u32,
    pub paused: u32,
    /// Ringing, talking or in wrap-up for a call of another queue.
    pub busy_elsewhere: u32,
}

impl AgentCounts {
    pub fn total(&self) -> u32 {
        self.logged_out
            + self.available
            + self.offered
            + self.on_call
            + self.wrap_up
            + self.paused
            + self.busy_elsewhere
    }

    /// Counts one member whose state is `state`; `call_queue` is the queue of the call the
    /// state is about (none for logged out, available, paused).
    fn count(&mut self, state: &AgentState, call_queue: Option<QueueIdx>, this_queue: QueueIdx) {
        let elsewhere = call_queue.is_some_and(|q| q != this_queue);
        let slot = match state {
            _ if elsewhere => &mut self.busy_elsewhere,
            AgentState::LoggedOut => &mut self.logged_out,
            AgentState::Available => &mut self.available,
            AgentState::Offered { .. } => &mut self.offered,
            AgentState::OnCall { .. } => &mut self.on_call,
            AgentState::WrapUp { .. } => &mut self.wrap_up,
            AgentState::Paused { .. } => &mut self.paused,
        };
        *slot += 1;
    }
}

/// One queue on the wallboard.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueStats {
    pub queue: String,
    /// Calls in the queue not yet answered (including those ringing an agent).
    pub waiting: u32,
    /// Of `waiting`, calls ringing at least one agent right now.
    pub ringing: u32,
    /// Wait of the oldest unanswered call; zero when none.
    pub longest_wait: Duration,
    pub agents: AgentCounts,
    pub offered_today: u64,
    pub answered_today: u64,
    pub answered_within_threshold_today: u64,
    pub abandoned_today: u64,
    /// Of `abandoned_today`, those within `abandon_grace` (left out of the service level).
    pub abandoned_in_grace_today: u64,
    pub exited_today: u64,
    pub overflowed_today: u64,
    /// Calls whose talk and wrap-up both finished today.
    pub completed_today: u64,
    /// answered within threshold / (answered + abandoned after grace); None when both are zero.
    pub service_level: Option<f64>,
    /// Average speed of answer over answered calls.
    pub asa: Option<Duration>,
    /// Average handle time (talk + wrap-up) over completed calls.
    pub aht: Option<Duration>,
}

/// One agent on the wallboard.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentView {
    pub id: String,
    pub name: String,
    pub state: AgentState,
    pub pending: Option<Pending>,
    /// When the current state began.
    pub since: Duration,
    pub missed_in_row: u32,
    pub answered_today: u32,
    /// Configured queues and penalties (including ones not configured yet).
    pub queues: Vec<(String, u32)>,
}

/// One unanswered call on the wallboard.
#[derive(Debug, Clone, PartialEq)]
pub struct WaitingCall {
    pub call: CallKey,
    pub queue: String,
    pub caller: String,
    pub priority: u8,
    /// 1-based, in service order.
    pub position: u32,
    pub waited: Duration,
    /// Agents whose phones ring for it now.
    pub ringing: Vec<String>,
}

impl Acd {
    /// Every queue's statistics at `now`, in configuration order.
    pub fn stats(&self, now: Duration) -> Vec<QueueStats> {
        let now = now.max(self.now);
        let mut all = Vec::new();
        for (q, queue) in self.queues.iter().enumerate() {
            let Some(queue) = queue else {
                continue;
            };
            let mut agents = AgentCounts::default();
            for member in &queue.members {
                if let Some(agent) = self.agent(member.agent) {
                    agents.count(&agent.state, self.queue_of_work(agent), q);
                }
            }
            let calls = queue.queued.values().filter_map(|key| self.calls.get(key));
            let ringing = calls
                .filter(|c| matches!(c.phase, CallPhase::Ringing(_)))
                .count();
            let oldest = queue.by_arrival.values().next();
            let longest_wait = oldest
                .and_then(|key| self.calls.get(key))
                .map_or(Duration::ZERO, |call| now.saturating_sub(call.arrived));
            let c = &queue.counters;
            all.push(QueueStats {
                queue: queue.config.name.clone(),
                waiting: u32::try_from(queue.queued.len()).unwrap_or(u32::MAX),
                ringing: u32::try_from(ringing).unwrap_or(u32::MAX),
                longest_wait,
                agents,
                offered_today: c.offered,
                answered_today: c.answered,
                answered_within_threshold_today: c.answered_in_threshold,
                abandoned_today: c.abandoned,
                abandoned_in_grace_today: c.abandoned_in_grace,
                exited_today: c.exited,
                overflowed_today: c.overflowed,
                completed_today: c.completed,
                service_level: c.service_level(),
                asa: average(c.total_answer_wait, c.answered),
                aht: c.average_handle(),
            });
        }
        all
    }

    /// The queue of the call an agent rings for, talks on or wraps up; None when idle.
    fn queue_of_work(&self, agent: &Agent) -> Option<QueueIdx> {
        match &agent.state {
            AgentState::Offered { call } | AgentState::OnCall { call } => {
                self.calls.get(call).map(|c| c.queue)
            }
            AgentState::WrapUp { .. } => agent.handled.as_ref().map(|h| h.queue),
            _ => None,
        }
    }

    /// Every configured agent, in configuration order.
    pub fn agent_states(&self) -> Vec<AgentView> {
        self.agents
            .iter()
            .flatten()
            .map(|agent| AgentView {
                id: agent.config.id.clone(),
                name: agent.config.name.clone(),
                state: agent.state.clone(),
                pending: agent.pending.clone(),
                since: agent.since,
                missed_in_row: agent.missed_in_row,
                answered_today: agent.answered_today,
                queues: agent.config.queues.clone(),
            })
            .collect()
    }

    /// Unanswered calls, queue by queue, in service order.
    pub fn waiting_calls(&self, now: Duration) -> Vec<WaitingCall> {
        let now = now.max(self.now);
        let mut list = Vec::new();
        for queue in self.queues.iter().flatten() {
            for (position, key) in queue.queued.values().enumerate() {
                let Some(call) = self.calls.get(key) else {
                    continue;
                };
                let ringing = match &call.phase {
                    CallPhase::Ringing(agents) => {
                        agents.iter().map(|&a| self.agent_name(a)).collect()
                    }
                    _ => Vec::new(),
                };
                list.push(WaitingCall {
                    call: *key,
                    queue: queue.config.name.clone(),
                    caller: call.caller.clone(),
                    priority: call.order.priority.0,
                    position: u32::try_from(position + 1).unwrap_or(u32::MAX),
                    waited: now.saturating_sub(call.arrived),
                    ringing,
                });
            }
        }
        list
    }

    /// Starts a new statistics day (the driver calls it at local midnight). Calls still queued
    /// count as offered on the new day, so the offered identity keeps holding.
    pub fn reset_daily(&mut self) {
        for queue in self.queues.iter_mut().flatten() {
            queue.counters = super::stats::Counters {
                offered: queue.queued.len() as u64,
                ..Default::default()
            };
        }
        for agent in self.agents.iter_mut().flatten() {
            agent.answered_today = 0;
        }
    }

    /// position × average handle time ÷ staffed agents (logged in, not paused).
    pub(crate) fn estimated_wait(&self, q: usize, position: u32) -> Duration {
        let Some(queue) = self.queue(q) else {
            return Duration::ZERO;
        };
        let handle = queue
            .counters
            .average_handle()
            .unwrap_or(queue.config.default_handle_time);
        let staffed = queue
            .members
            .iter()
            .filter(|m| self.agent(m.agent).is_some_and(|a| a.is_staffed()))
            .count();
        let staffed = u32::try_from(staffed.max(1)).unwrap_or(u32::MAX);
        handle.checked_mul(position).unwrap_or(Duration::MAX) / staffed
    }
}
