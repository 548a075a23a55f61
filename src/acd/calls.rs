//! A caller's side of the queue: arriving, waiting, hearing announcements, and leaving without an
//! agent (abandon, exit key, overflow).
//!
//! Every way out of the queue goes through `remove_queued`, which withdraws any ringing offers
//! and cancels the call's timers, so a call ends exactly once and never leaves an agent ringing
//! for nobody. Freed agents are routed only after the call is gone, so they cannot be offered it.

use std::cmp::Reverse;
use std::time::Duration;

use super::emit::{ms, About};
use super::io::{
    AcdOutput, CancelReason, ChangeReason, OverflowReason, QueueEvent, QueueEventKind,
};
use super::queue::{AgentIdx, Call, CallPhase, OrderKey, QueueIdx};
use super::types::{AgentState, CallKey};
use super::{Acd, AcdTimer};

/// How a caller left the queue on their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Departure {
    Abandon,
    Exit,
}

impl Acd {
    pub(crate) fn call_arrived(
        &mut self,
        key: CallKey,
        queue_name: String,
        priority: u8,
        caller: String,
        now: Duration,
    ) {
        if self.calls.contains_key(&key) {
            self.stale_inputs += 1; // the engine repeated itself; the first arrival stands
            return;
        }
        let Some(&q) = self.queue_names.get(&queue_name) else {
            return self.overflow_unknown_queue(key, queue_name, now);
        };
        let staffed = self.has_logged_in_member(q);
        let Some(queue) = self.queue_mut(q) else {
            return;
        };
        queue.counters.offered += 1;
        let detail = format!("priority={priority}");
        self.log(QueueEventKind::Enter, now, About::call(q, key), detail);
        if !staffed {
            self.count_overflow(q, key, OverflowReason::NoAgents, Duration::ZERO, now);
            return;
        }
        self.next_seq += 1;
        let order = OrderKey {
            priority: Reverse(priority),
            seq: self.next_seq,
        };
        let call = Call {
            queue: q,
            order,
            caller,
            arrived: now,
            phase: CallPhase::Waiting,
            tried: Vec::new(),
        };
        self.calls.insert(key, call);
        let Some(queue) = self.queue_mut(q) else {
            return;
        };
        queue.enqueue(order, key);
        let max_wait = now.saturating_add(queue.config.max_wait);
        let first_announce = now.saturating_add(queue.config.announce_first);
        let announces = !queue.config.announce_every.is_zero();
        self.timers.set(AcdTimer::MaxWait(key), (), max_wait);
        if announces {
            self.timers.set(AcdTimer::Announce(key), (), first_announce);
        }
        self.route_call(key, now);
    }

    /// A call for a queue this node does not know goes straight to voicemail; no queue's
    /// statistics count it, the history row keeps the name asked for.
    fn overflow_unknown_queue(&mut self, key: CallKey, queue_name: String, now: Duration) {
        self.outputs.push_back(AcdOutput::Overflow {
            call: key,
            reason: OverflowReason::UnknownQueue,
        });
        self.outputs.push_back(AcdOutput::QueueLog(QueueEvent {
            at: now,
            queue: Some(queue_name),
            call: Some(key),
            agent: None,
            kind: QueueEventKind::Overflow,
            detail: "reason=unknown_queue".to_owned(),
        }));
    }

    /// The caller hung up (abandon) or pressed the exit key while queued.
    pub(crate) fn caller_left(&mut self, key: CallKey, how: Departure, now: Duration) {
        let queued = self.calls.get(&key).map(Call::is_queued);
        match (queued, how) {
            (Some(true), _) => {}
            (Some(false), Departure::Abandon) => return self.call_ended(key, now),
            _ => {
                self.stale_inputs += 1;
                return;
            }
        }
        let reason = match how {
            Departure::Abandon => CancelReason::CallerAbandoned,
            Departure::Exit => CancelReason::CallerExited,
        };
        let position = self.position_of(key);
        let Some((call, freed)) = self.remove_queued(key, reason, now) else {
            return;
        };
        let waited = now.saturating_sub(call.arrived);
        let Some(queue) = self.queue_mut(call.queue) else {
            return;
        };
        let kind = match how {
            Departure::Abandon => {
                queue.counters.abandoned += 1;
                if waited < queue.config.abandon_grace {
                    queue.counters.abandoned_in_grace += 1;
                }
                QueueEventKind::Abandon
            }
            Departure::Exit => {
                queue.counters.exited += 1;
                QueueEventKind::Exit
            }
        };
        let detail = format!("wait_ms={} position={position}", ms(waited));
        self.log(kind, now, About::call(call.queue, key), detail);
        self.route_agents(&freed, now);
    }

    /// Takes a queued call out to voicemail.
    pub(crate) fn overflow_call(&mut self, key: CallKey, reason: OverflowReason, now: Duration) {
        let cancel = match reason {
            OverflowReason::QueueRemoved => CancelReason::QueueRemoved,
            _ => CancelReason::Overflow,
        };
        if let Some((call, freed)) = self.remove_queued(key, cancel, now) {
            let waited = now.saturating_sub(call.arrived);
            self.count_overflow(call.queue, key, reason, waited, now);
            self.route_agents(&freed, now);
        }
    }

    pub(crate) fn count_overflow(
        &mut self,
        q: QueueIdx,
        key: CallKey,
        reason: OverflowReason,
        waited: Duration,
        now: Duration,
    ) {
        if let Some(queue) = self.queue_mut(q) {
            queue.counters.overflowed += 1;
        }
        let why = match reason {
            OverflowReason::MaxWait => "max_wait",
            OverflowReason::NoAgents => "no_agents",
            OverflowReason::UnknownQueue => "unknown_queue",
            OverflowReason::QueueRemoved => "queue_removed",
        };
        let detail = format!("reason={why} wait_ms={}", ms(waited));
        self.log(QueueEventKind::Overflow, now, About::call(q, key), detail);
        self.outputs
            .push_back(AcdOutput::Overflow { call: key, reason });
    }

    pub(crate) fn max_wait_reached(&mut self, key: CallKey, now: Duration) {
        if self.calls.get(&key).is_some_and(Call::is_queued) {
            self.overflow_call(key, OverflowReason::MaxWait, now);
        }
    }

    /// Announces position and estimated wait to a waiting caller, then re-arms. A caller whose
    /// agent is already ringing is not interrupted; the timer simply re-arms.
    pub(crate) fn announce(&mut self, key: CallKey, now: Duration) {
        let Some(call) = self.calls.get(&key) else {
            return;
        };
        let (q, waiting) = (call.queue, call.phase == CallPhase::Waiting);
        if !call.is_queued() {
            return;
        }
        let Some(every) = self.queue(q).map(|queue| queue.config.announce_every) else {
            return;
        };
        if waiting {
            let position = self.position_of(key);
            let estimated_wait = self.estimated_wait(q, position);
            self.outputs.push_back(AcdOutput::Announce {
                call: key,
                position,
                estimated_wait,
            });
        }
        if !every.is_zero() {
            let next = now.saturating_add(every);
            self.timers.set(AcdTimer::Announce(key), (), next);
        }
    }

    /// The agents who missed this call may be offered it again.
    pub(crate) fn retry_tried(&mut self, key: CallKey, now: Duration) {
        if let Some(call) = self.calls.get_mut(&key) {
            call.tried.clear();
            self.route_call(key, now);
        }
    }

    /// Removes a queued call: withdraws its ringing offers (agents back to Available, no miss
    /// counted) and cancels its timers. Returns the call and the agents to route afterwards.
    pub(crate) fn remove_queued(
        &mut self,
        key: CallKey,
        reason: CancelReason,
        now: Duration,
    ) -> Option<(Call, Vec<AgentIdx>)> {
        if !self.calls.get(&key).is_some_and(Call::is_queued) {
            return None;
        }
        let call = self.calls.remove(&key)?;
        if let Some(queue) = self.queue_mut(call.queue) {
            queue.dequeue(call.order);
        }
        self.cancel_call_timers(key);
        let freed = match &call.phase {
            CallPhase::Ringing(agents) => agents.clone(),
            _ => Vec::new(),
        };
        for &agent in &freed {
            self.withdraw_offer(key, agent, reason, now);
        }
        Some((call, freed))
    }

    /// Sends CANCEL for one agent's offer and makes the agent available again.
    pub(crate) fn withdraw_offer(
        &mut self,
        key: CallKey,
        agent: AgentIdx,
        reason: CancelReason,
        now: Duration,
    ) {
        self.timers.cancel(&AcdTimer::RingNoAnswer(agent), ());
        let name = self.agent_name(agent);
        self.outputs.push_back(AcdOutput::CancelOffer {
            call: key,
            agent: name,
            reason,
        });
        let change = ChangeReason::OfferCancelled;
        self.set_state(agent, AgentState::Available, change, now);
    }

    pub(crate) fn cancel_call_timers(&mut self, key: CallKey) {
        self.timers.cancel(&AcdTimer::MaxWait(key), ());
        self.timers.cancel(&AcdTimer::Announce(key), ());
        self.timers.cancel(&AcdTimer::RetryTried(key), ());
    }

    pub(crate) fn position_of(&self, key: CallKey) -> u32 {
        self.calls
            .get(&key)
            .and_then(|call| Some(self.queue(call.queue)?.position(call.order)))
            .unwrap_or(0)
    }

    pub(crate) fn has_logged_in_member(&self, q: QueueIdx) -> bool {
        self.queue(q).is_some_and(|queue| {
            queue.members.iter().any(|m| {
                self.agent(m.agent)
                    .is_some_and(|agent| agent.state.is_logged_in())
            })
        })
    }

    /// Nobody waits for a queue with nobody logged in: its calls overflow at once.
    pub(crate) fn overflow_if_unstaffed(&mut self, queues: &[QueueIdx], now: Duration) {
        for &q in queues {
            if self.has_logged_in_member(q) {
                continue;
            }
            let keys: Vec<CallKey> = self
                .queue(q)
                .map(|queue| queue.queued.values().copied().collect())
                .unwrap_or_default();
            for key in keys {
                self.overflow_call(key, OverflowReason::NoAgents, now);
            }
        }
    }
}
