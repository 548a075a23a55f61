//! Routing: which agent gets a waiting call, and which call a freed agent gets.
//!
//! Routing runs from two sides and nowhere else. When a call becomes waiting (arrival, a miss, a
//! withdrawn offer) `route_call` looks for agents of its queue; when an agent becomes available
//! (login, unpause, wrap-up end, a withdrawn offer) `route_agent` looks for a call. Together they
//! keep the invariant "no waiting call has an available, untried agent serving its queue", which
//! is why the agent side can simply take the best-placed call: no better-suited agent is idle.
//!
//! Costs: `route_call` scans the queue's members (tens); `route_agent` walks each of the agent's
//! queues from the head and stops at the first eligible call, skipping only ringing calls (at most
//! one per agent) and calls this agent just missed.

use std::time::Duration;

use super::emit::About;
use super::io::{AcdOutput, ChangeReason, QueueEventKind};
use super::queue::{Agent, AgentIdx, CallPhase, Member, OrderKey, Queue};
use super::types::{AgentState, CallKey, Strategy};
use super::{Acd, AcdTimer};

/// A ring shorter than this would make offers flap faster than phones can ring.
const MIN_RING: Duration = Duration::from_secs(1);

impl Acd {
    /// Offers a waiting call to the best agent(s) of the lowest penalty tier with anyone free.
    pub(crate) fn route_call(&mut self, key: CallKey, now: Duration) {
        let Some(call) = self.calls.get(&key) else {
            return;
        };
        if call.phase != CallPhase::Waiting {
            return;
        }
        let Some(queue) = self.queue(call.queue) else {
            return;
        };
        for agent in pick_agents(queue, &self.agents, &call.tried) {
            self.make_offer(key, agent, now);
        }
    }

    /// Gives an available agent the best-placed waiting call among all their queues.
    pub(crate) fn route_agent(&mut self, agent: AgentIdx, now: Duration) {
        if let Some((_, key)) = self.best_call_for(agent) {
            self.make_offer(key, agent, now);
        }
    }

    pub(crate) fn route_agents(&mut self, agents: &[AgentIdx], now: Duration) {
        for &agent in agents {
            self.route_agent(agent, now);
        }
    }

    /// The highest-priority, oldest waiting call this available agent may be offered.
    pub(crate) fn best_call_for(&self, idx: AgentIdx) -> Option<(OrderKey, CallKey)> {
        let agent = self.agent(idx)?;
        if agent.state != AgentState::Available {
            return None;
        }
        let mut best: Option<(OrderKey, CallKey)> = None;
        for &(q, _) in &agent.memberships {
            let Some(queue) = self.queue(q) else {
                continue;
            };
            for (&order, &key) in &queue.queued {
                if best.is_some_and(|(known, _)| known <= order) {
                    break;
                }
                let eligible = self.calls.get(&key).is_some_and(|call| {
                    call.phase == CallPhase::Waiting && !call.tried.contains(&idx)
                });
                if eligible {
                    best = Some((order, key));
                    break;
                }
            }
        }
        best
    }

    /// Rings one agent for one call: the agent must be available, the call waiting or (ring-all)
    /// already ringing others.
    pub(crate) fn make_offer(&mut self, key: CallKey, idx: AgentIdx, now: Duration) {
        #[cfg(test)]
        self.check_fifo(key, idx);
        if self.agent(idx).map(|a| &a.state) != Some(&AgentState::Available) {
            return;
        }
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        match &mut call.phase {
            CallPhase::Waiting => call.phase = CallPhase::Ringing(vec![idx]),
            CallPhase::Ringing(agents) => agents.push(idx),
            CallPhase::Connected { .. } => return,
        }
        let q = call.queue;
        let ring = self
            .queue(q)
            .map_or(MIN_RING, |queue| queue.config.ring_timeout);
        if let Some(queue) = self.queue_mut(q) {
            if queue.config.strategy == Strategy::RoundRobin {
                if let Some(pos) = queue.members.iter().position(|m| m.agent == idx) {
                    queue.rotation = pos + 1;
                }
            }
        }
        let deadline = now.saturating_add(ring.max(MIN_RING));
        self.timers.set(AcdTimer::RingNoAnswer(idx), (), deadline);
        let agent = self.agent_name(idx);
        self.outputs
            .push_back(AcdOutput::Offer { call: key, agent });
        self.set_state(
            idx,
            AgentState::Offered { call: key },
            ChangeReason::Offer,
            now,
        );
        self.log(
            QueueEventKind::Offer,
            now,
            About::offer(q, key, idx),
            String::new(),
        );
    }

    /// Takes one agent off a call's ringing list; returns true when nobody rings any more.
    pub(crate) fn detach_offer(&mut self, key: CallKey, idx: AgentIdx) -> bool {
        self.timers.cancel(&AcdTimer::RingNoAnswer(idx), ());
        let Some(call) = self.calls.get_mut(&key) else {
            return false;
        };
        let CallPhase::Ringing(agents) = &mut call.phase else {
            return false;
        };
        agents.retain(|&a| a != idx);
        if agents.is_empty() {
            call.phase = CallPhase::Waiting;
            return true;
        }
        false
    }

    /// Test hook: an offer is FIFO-correct when no better-placed waiting call of the agent's
    /// queues is eligible for that agent.
    #[cfg(test)]
    fn check_fifo(&mut self, key: CallKey, idx: AgentIdx) {
        let Some(order) = self.calls.get(&key).map(|call| call.order) else {
            return;
        };
        if let Some((best, best_key)) = self.best_call_for(idx) {
            if best < order && best_key != key {
                self.fifo_violations += 1;
            }
        }
    }
}

/// The agents to ring for a call: the lowest penalty tier that has an available, untried member,
/// then the queue's strategy within that tier.
fn pick_agents(queue: &Queue, agents: &[Option<Agent>], tried: &[AgentIdx]) -> Vec<AgentIdx> {
    let lookup = |m: &Member| agents.get(m.agent).and_then(Option::as_ref);
    let free = |m: &Member| {
        lookup(m).is_some_and(|a| a.state == AgentState::Available) && !tried.contains(&m.agent)
    };
    let Some(tier) = queue
        .members
        .iter()
        .filter(|m| free(m))
        .map(|m| m.penalty)
        .min()
    else {
        return Vec::new();
    };
    let candidates = queue
        .members
        .iter()
        .enumerate()
        .filter(|(_, m)| m.penalty == tier && free(m))
        .filter_map(|(pos, m)| lookup(m).map(|agent| (pos, m.agent, agent)));
    let len = queue.members.len().max(1);
    let start = queue.rotation % len;
    let chosen = match queue.config.strategy {
        Strategy::RingAll => return candidates.map(|(_, idx, _)| idx).collect(),
        Strategy::LongestIdle => candidates.min_by_key(|(pos, _, a)| (a.idle_since, *pos)),
        Strategy::FewestCalls => {
            candidates.min_by_key(|(pos, _, a)| (a.answered_today, a.idle_since, *pos))
        }
        Strategy::RoundRobin => candidates.min_by_key(|(pos, _, _)| (pos + len - start) % len),
    };
    chosen.map(|(_, idx, _)| idx).into_iter().collect()
}
