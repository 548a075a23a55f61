//! Configuration changes at run time: agents and queues added, updated, removed.
//!
//! Membership is derived, never edited in place: agents name their queues, and
//! `rebuild_members` resolves those names into per-queue member lists after every change. A
//! membership naming a queue that does not exist yet stays dormant and becomes live when the
//! queue is configured. Changes are rare, so the O(agents × queues) rebuild costs nothing that
//! matters, and there is no second copy of membership to drift out of step.

use std::time::Duration;

use super::io::{AgentRequest, CancelReason, ChangeReason, OverflowReason, Refusal};
use super::queue::{Agent, AgentIdx, Member, Queue, QueueIdx};
use super::types::{AgentConfig, AgentState, CallKey, Pending, QueueConfig};
use super::{Acd, AcdTimer};

impl Acd {
    /// Adds a queue, or replaces the settings of the queue with that name.
    pub(crate) fn insert_queue(&mut self, config: QueueConfig) -> QueueIdx {
        if let Some(&q) = self.queue_names.get(&config.name) {
            if let Some(queue) = self.queue_mut(q) {
                queue.config = config;
            }
            return q;
        }
        let q = self.queues.len();
        self.queue_names.insert(config.name.clone(), q);
        self.queues.push(Some(Queue::new(config)));
        q
    }

    /// Adds an agent (logged out) or updates one; returns its index and whether it is new.
    pub(crate) fn insert_agent(&mut self, config: AgentConfig) -> (AgentIdx, bool) {
        if let Some(idx) = self.agent_index(&config.id) {
            if let Some(agent) = self.agent_mut(idx) {
                agent.config = config;
            }
            return (idx, false);
        }
        let idx = self.agents.len();
        self.agent_ids.insert(config.id.clone(), idx);
        self.agents.push(Some(Agent::new(config, self.now)));
        (idx, true)
    }

    /// Resolves every agent's queue names into memberships, in agent order.
    pub(crate) fn rebuild_members(&mut self) {
        let Acd {
            queues,
            queue_names,
            agents,
            ..
        } = self;
        for queue in queues.iter_mut().flatten() {
            queue.members.clear();
        }
        for (idx, slot) in agents.iter_mut().enumerate() {
            let Some(agent) = slot else {
                continue;
            };
            agent.memberships.clear();
            for (name, penalty) in &agent.config.queues {
                let Some(&q) = queue_names.get(name) else {
                    continue;
                };
                let Some(queue) = queues.get_mut(q).and_then(Option::as_mut) else {
                    continue;
                };
                if agent.memberships.iter().any(|&(known, _)| known == q) {
                    continue; // a queue listed twice: the first penalty counts
                }
                agent.memberships.push((q, *penalty));
                queue.members.push(Member {
                    agent: idx,
                    penalty: *penalty,
                });
            }
        }
    }

    pub(crate) fn agent_configured(&mut self, config: AgentConfig, now: Duration) {
        let before: Vec<QueueIdx> = self
            .agent_index(&config.id)
            .and_then(|idx| self.agent(idx))
            .map(|agent| agent.memberships.iter().map(|&(q, _)| q).collect())
            .unwrap_or_default();
        let (idx, created) = self.insert_agent(config);
        self.rebuild_members();
        if created {
            self.set_state(idx, AgentState::LoggedOut, ChangeReason::Configured, now);
            return;
        }
        self.route_agent(idx, now);
        self.overflow_if_unstaffed(&before, now);
    }

    pub(crate) fn agent_removed(&mut self, id: &str, now: Duration) {
        let Some(idx) = self.agent_index(id) else {
            self.refuse(id, AgentRequest::Remove, Refusal::UnknownAgent);
            return;
        };
        let on_live_call = match self.agent(idx).map(|a| &a.state) {
            Some(AgentState::OnCall { call }) => self.calls.contains_key(call),
            _ => false,
        };
        if on_live_call {
            self.set_pending(idx, Some(Pending::Remove), now);
            return;
        }
        if let Some(agent) = self.agent_mut(idx) {
            agent.pending = Some(Pending::Remove);
        }
        self.sign_out(idx, ChangeReason::Removed, now);
    }

    /// Forgets a logged-out agent. Its index is never reused.
    pub(crate) fn drop_agent(&mut self, idx: AgentIdx) {
        let Some(agent) = self.agents.get_mut(idx).and_then(Option::take) else {
            return;
        };
        self.agent_ids.remove(&agent.config.id);
        self.timers.cancel(&AcdTimer::RingNoAnswer(idx), ());
        self.timers.cancel(&AcdTimer::WrapUpEnd(idx), ());
        self.rebuild_members();
    }

    /// A new queue has no calls yet, so nobody needs routing; an updated one keeps its calls,
    /// counters and armed timers (new settings apply from the next offer or arrival).
    pub(crate) fn queue_configured(&mut self, config: QueueConfig) {
        let existed = self.queue_names.contains_key(&config.name);
        self.insert_queue(config);
        if !existed {
            self.rebuild_members();
        }
    }

    /// Removes a queue: its queued calls overflow, its ringing agents are freed.
    pub(crate) fn queue_removed(&mut self, name: &str, now: Duration) {
        let Some(&q) = self.queue_names.get(name) else {
            self.stale_inputs += 1;
            return;
        };
        let keys: Vec<CallKey> = self
            .queue(q)
            .map(|queue| queue.queued.values().copied().collect())
            .unwrap_or_default();
        let mut freed = Vec::new();
        for key in keys {
            let Some((call, agents)) = self.remove_queued(key, CancelReason::QueueRemoved, now)
            else {
                continue;
            };
            let waited = now.saturating_sub(call.arrived);
            self.count_overflow(q, key, OverflowReason::QueueRemoved, waited, now);
            freed.extend(agents);
        }
        if let Some(slot) = self.queues.get_mut(q) {
            *slot = None;
        }
        self.queue_names.remove(name);
        self.rebuild_members();
        self.route_agents(&freed, now);
    }
}
