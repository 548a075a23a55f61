//! An offer's outcomes and the agent's side of a call: answer, miss (ring-no-answer, decline,
//! failure), talk, wrap-up.
//!
//! A decline (486/603) and a failure count as missed offers just like a ring-no-answer: an agent
//! whose phone keeps refusing calls is not really available, and pausing them ("no answer", code 9)
//! after `max_missed_offers` in a row shows that on the wallboard instead of letting calls bounce.
//! A missed call moves on at once to the next agent; the agent who missed it is skipped for that
//! call for `retry_delay`, but may take other calls straight away.

use std::time::Duration;

use super::emit::{ms, About};
use super::io::{AcdOutput, CancelReason, ChangeReason, QueueEventKind};
use super::queue::{AgentIdx, CallPhase, HandledCall};
use super::types::{AgentState, CallKey, PauseReason, Pending};
use super::{Acd, AcdTimer};

/// How an offer was missed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Miss {
    RingNoAnswer,
    Rejected,
    Failed,
}

impl Acd {
    pub(crate) fn offer_accepted(&mut self, key: CallKey, agent_id: &str, now: Duration) {
        let idx = self.agent_index(agent_id);
        let state = idx.and_then(|a| self.agent(a)).map(|a| a.state.clone());
        match state {
            Some(AgentState::Offered { call }) if call == key => {}
            Some(AgentState::OnCall { call }) if call == key => {
                self.stale_inputs += 1; // a repeated 200 OK
                return;
            }
            _ => {
                // The answer lost a race with a CANCEL (or names no offer): drop that leg.
                self.stale_inputs += 1;
                self.outputs.push_back(AcdOutput::CancelOffer {
                    call: key,
                    agent: agent_id.to_owned(),
                    reason: CancelReason::StaleAnswer,
                });
                return;
            }
        }
        let Some(idx) = idx else {
            return;
        };
        self.connect(key, idx, now);
    }

    fn connect(&mut self, key: CallKey, idx: AgentIdx, now: Duration) {
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        let connected = CallPhase::Connected {
            agent: idx,
            answered_at: now,
        };
        let CallPhase::Ringing(ringing) = std::mem::replace(&mut call.phase, connected) else {
            return;
        };
        let (q, order, waited) = (call.queue, call.order, now.saturating_sub(call.arrived));
        if let Some(queue) = self.queue_mut(q) {
            queue.dequeue(order);
            queue.counters.answered += 1;
            queue.counters.total_answer_wait =
                queue.counters.total_answer_wait.saturating_add(waited);
            if waited <= queue.config.service_level_threshold {
                queue.counters.answered_in_threshold += 1;
            }
        }
        self.cancel_call_timers(key);
        self.timers.cancel(&AcdTimer::RingNoAnswer(idx), ());
        let losers: Vec<AgentIdx> = ringing.into_iter().filter(|&a| a != idx).collect();
        for &loser in &losers {
            self.withdraw_offer(key, loser, CancelReason::AnsweredElsewhere, now);
        }
        if let Some(agent) = self.agent_mut(idx) {
            agent.missed_in_row = 0;
            agent.answered_today = agent.answered_today.saturating_add(1);
        }
        let agent = self.agent_name(idx);
        self.outputs
            .push_back(AcdOutput::Connected { call: key, agent });
        self.set_state(
            idx,
            AgentState::OnCall { call: key },
            ChangeReason::Answered,
            now,
        );
        let detail = format!("wait_ms={}", ms(waited));
        self.log(
            QueueEventKind::Answer,
            now,
            About::offer(q, key, idx),
            detail,
        );
        self.route_agents(&losers, now);
    }

    /// 486/603 or an INVITE failure from the agent's phone.
    pub(crate) fn offer_declined(
        &mut self,
        key: CallKey,
        agent_id: &str,
        how: Miss,
        now: Duration,
    ) {
        let idx = self.agent_index(agent_id);
        let live = idx
            .and_then(|a| self.agent(a))
            .is_some_and(|a| a.state == AgentState::Offered { call: key });
        match idx {
            Some(idx) if live => self.offer_missed(key, idx, how, now),
            _ => self.stale_inputs += 1,
        }
    }

    pub(crate) fn ring_timed_out(&mut self, idx: AgentIdx, now: Duration) {
        let Some(AgentState::Offered { call }) = self.agent(idx).map(|a| a.state.clone()) else {
            return;
        };
        let agent = self.agent_name(idx);
        self.outputs.push_back(AcdOutput::CancelOffer {
            call,
            agent,
            reason: CancelReason::RingTimeout,
        });
        self.offer_missed(call, idx, Miss::RingNoAnswer, now);
    }

    /// The agent did not take the call: count the miss, move the call on, free (or pause) the agent.
    fn offer_missed(&mut self, key: CallKey, idx: AgentIdx, how: Miss, now: Duration) {
        self.detach_offer(key, idx);
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        call.tried.push(idx);
        let q = call.queue;
        let (limit, retry) = self.queue(q).map_or((0, Duration::ZERO), |queue| {
            (queue.config.max_missed_offers, queue.config.retry_delay)
        });
        self.timers
            .set(AcdTimer::RetryTried(key), (), now.saturating_add(retry));
        let Some(agent) = self.agent_mut(idx) else {
            return;
        };
        agent.missed_in_row = agent.missed_in_row.saturating_add(1);
        let missed = agent.missed_in_row;
        let (kind, reason) = match how {
            Miss::RingNoAnswer => (QueueEventKind::RingNoAnswer, ChangeReason::RingNoAnswer),
            Miss::Rejected => (QueueEventKind::Reject, ChangeReason::Rejected),
            Miss::Failed => (QueueEventKind::OfferFailed, ChangeReason::OfferFailed),
        };
        let detail = format!("missed_in_row={missed}");
        self.log(kind, now, About::offer(q, key, idx), detail);
        if limit > 0 && missed >= limit {
            let pause = PauseReason::no_answer();
            self.pause_now(idx, pause, ChangeReason::MissedOffers, now);
        } else {
            self.set_state(idx, AgentState::Available, reason, now);
        }
        self.route_call(key, now);
        self.route_agent(idx, now);
    }

    /// The bridged call ended (a hang-up while still queued counts as an abandon).
    pub(crate) fn call_ended(&mut self, key: CallKey, now: Duration) {
        let Some(call) = self.calls.get(&key) else {
            self.stale_inputs += 1;
            return;
        };
        let CallPhase::Connected { agent, answered_at } = call.phase else {
            return self.caller_left(key, super::calls::Departure::Abandon, now);
        };
        let q = call.queue;
        self.calls.remove(&key);
        let talk = now.saturating_sub(answered_at);
        let detail = format!("talk_ms={}", ms(talk));
        self.log(
            QueueEventKind::Complete,
            now,
            About::offer(q, key, agent),
            detail,
        );
        let wrap_up = self
            .queue(q)
            .map_or(Duration::ZERO, |queue| queue.config.wrap_up);
        let pending = self.agent_mut(agent).and_then(|a| {
            a.idle_since = now;
            a.handled = Some(HandledCall {
                queue: q,
                talk,
                wrap_started: now,
            });
            a.pending.clone()
        });
        match pending {
            Some(Pending::Logout) | Some(Pending::Remove) => {
                self.finish_wrap_up(agent, now);
                self.sign_out(agent, ChangeReason::Logout, now);
            }
            _ if wrap_up.is_zero() => {
                self.finish_wrap_up(agent, now);
                self.after_work(agent, now);
            }
            _ => {
                let until = now.saturating_add(wrap_up);
                self.timers.set(AcdTimer::WrapUpEnd(agent), (), until);
                let state = AgentState::WrapUp { until };
                self.set_state(agent, state, ChangeReason::CallEnded, now);
            }
        }
    }

    pub(crate) fn wrap_up_timed_out(&mut self, idx: AgentIdx, now: Duration) {
        if matches!(
            self.agent(idx).map(|a| &a.state),
            Some(AgentState::WrapUp { .. })
        ) {
            self.finish_wrap_up(idx, now);
            self.after_work(idx, now);
        }
    }

    /// Closes the handled call's statistics (talk + wrap-up so far) and the wrap-up timer.
    pub(crate) fn finish_wrap_up(&mut self, idx: AgentIdx, now: Duration) {
        self.timers.cancel(&AcdTimer::WrapUpEnd(idx), ());
        let Some(handled) = self.agent_mut(idx).and_then(|a| a.handled.take()) else {
            return;
        };
        let wrap = now.saturating_sub(handled.wrap_started);
        let handle = handled.talk.saturating_add(wrap);
        if let Some(queue) = self.queue_mut(handled.queue) {
            queue.counters.completed += 1;
            queue.counters.total_handle = queue.counters.total_handle.saturating_add(handle);
        }
        let detail = format!("wrap_ms={} handle_ms={}", ms(wrap), ms(handle));
        let about = About {
            queue: Some(handled.queue),
            ..About::agent(idx)
        };
        self.log(QueueEventKind::WrapUpEnd, now, about, detail);
    }

    /// After a call and its wrap-up: a pending pause applies now, otherwise the agent is free.
    pub(crate) fn after_work(&mut self, idx: AgentIdx, now: Duration) {
        let pending = self.agent_mut(idx).and_then(|a| a.pending.take());
        match pending {
            Some(Pending::Pause(reason)) => self.pause_now(idx, reason, ChangeReason::Pause, now),
            Some(Pending::Logout) | Some(Pending::Remove) => {
                if let Some(agent) = self.agent_mut(idx) {
                    agent.pending = pending;
                }
                self.sign_out(idx, ChangeReason::Logout, now);
            }
            None => {
                self.set_state(idx, AgentState::Available, ChangeReason::WrapUpEnded, now);
                self.route_agent(idx, now);
            }
        }
    }
}
