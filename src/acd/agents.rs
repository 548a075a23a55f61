//! Agent requests: login, logout, pause, unpause, end of wrap-up, unreachable phone.
//!
//! Each request is matched against every state, explicitly. What cannot apply now is either
//! deferred as a visible `Pending` (pause during a call or wrap-up applies after wrap-up; logout
//! during a call applies when it ends) or refused with a `Refused` output. A ringing offer never
//! blocks a request: pausing or logging out withdraws it and the call moves on without counting
//! a miss. An unreachable phone is a logout, deferred like one if a call is up (the engine, not
//! the ACD, decides whether that call is dead).

use std::time::Duration;

use super::emit::About;
use super::io::{AcdOutput, AgentRequest, CancelReason, ChangeReason, QueueEventKind, Refusal};
use super::queue::AgentIdx;
use super::types::{AgentState, PauseReason, Pending};
use super::Acd;

impl Acd {
    /// The agent's index and a copy of their state and pending request, or a refusal.
    fn agent_for(
        &mut self,
        id: &str,
        request: AgentRequest,
    ) -> Option<(AgentIdx, AgentState, Option<Pending>)> {
        let found = self.agent_index(id).and_then(|idx| {
            let agent = self.agent(idx)?;
            Some((idx, agent.state.clone(), agent.pending.clone()))
        });
        if found.is_none() {
            self.refuse(id, request, Refusal::UnknownAgent);
        }
        found
    }

    pub(crate) fn agent_login(&mut self, id: &str, now: Duration) {
        let Some((idx, state, pending)) = self.agent_for(id, AgentRequest::Login) else {
            return;
        };
        match (state, pending) {
            (AgentState::LoggedOut, _) => {
                if let Some(agent) = self.agent_mut(idx) {
                    agent.missed_in_row = 0;
                    agent.idle_since = now;
                }
                self.set_state(idx, AgentState::Available, ChangeReason::Login, now);
                self.log(QueueEventKind::Login, now, About::agent(idx), String::new());
                self.route_agent(idx, now);
            }
            // Logging in again during the call takes back the deferred logout.
            (AgentState::OnCall { .. }, Some(Pending::Logout)) => self.set_pending(idx, None, now),
            _ => self.refuse(id, AgentRequest::Login, Refusal::AlreadyLoggedIn),
        }
    }

    pub(crate) fn agent_logout(&mut self, id: &str, request: AgentRequest, now: Duration) {
        let Some((idx, state, pending)) = self.agent_for(id, request) else {
            return;
        };
        let reason = match request {
            AgentRequest::Unreachable => ChangeReason::Unreachable,
            _ => ChangeReason::Logout,
        };
        match state {
            AgentState::LoggedOut => self.refuse(id, request, Refusal::NotLoggedIn),
            AgentState::OnCall { .. } => {
                // A pending removal already implies the logout; keep it and say so again.
                let next = match pending {
                    Some(Pending::Remove) => Pending::Remove,
                    _ => Pending::Logout,
                };
                self.set_pending(idx, Some(next), now);
            }
            _ => self.sign_out(idx, reason, now),
        }
    }

    pub(crate) fn agent_pause(&mut self, id: &str, reason: PauseReason, now: Duration) {
        let Some((idx, state, pending)) = self.agent_for(id, AgentRequest::Pause) else {
            return;
        };
        match state {
            AgentState::LoggedOut => self.refuse(id, AgentRequest::Pause, Refusal::NotLoggedIn),
            AgentState::Available | AgentState::Paused { .. } => {
                self.pause_now(idx, reason, ChangeReason::Pause, now)
            }
            AgentState::Offered { call } => {
                self.outputs.push_back(AcdOutput::CancelOffer {
                    call,
                    agent: id.to_owned(),
                    reason: CancelReason::AgentPaused,
                });
                let call_waits = self.detach_offer(call, idx);
                self.pause_now(idx, reason, ChangeReason::Pause, now);
                if call_waits {
                    self.route_call(call, now);
                }
            }
            AgentState::OnCall { .. } | AgentState::WrapUp { .. } => {
                // Last request wins, except an administrator's removal.
                let next = match pending {
                    Some(Pending::Remove) => Pending::Remove,
                    _ => Pending::Pause(reason),
                };
                self.set_pending(idx, Some(next), now);
            }
        }
    }

    pub(crate) fn agent_unpause(&mut self, id: &str, now: Duration) {
        let Some((idx, state, pending)) = self.agent_for(id, AgentRequest::Unpause) else {
            return;
        };
        match (state, pending) {
            (AgentState::Paused { .. }, _) => {
                if let Some(agent) = self.agent_mut(idx) {
                    agent.missed_in_row = 0;
                }
                self.set_state(idx, AgentState::Available, ChangeReason::Unpause, now);
                self.log(
                    QueueEventKind::Unpause,
                    now,
                    About::agent(idx),
                    String::new(),
                );
                self.route_agent(idx, now);
            }
            (AgentState::OnCall { .. } | AgentState::WrapUp { .. }, Some(Pending::Pause(_))) => {
                self.set_pending(idx, None, now)
            }
            (AgentState::LoggedOut, _) => {
                self.refuse(id, AgentRequest::Unpause, Refusal::NotLoggedIn)
            }
            _ => self.refuse(id, AgentRequest::Unpause, Refusal::NotPaused),
        }
    }

    pub(crate) fn agent_end_wrap_up(&mut self, id: &str, now: Duration) {
        let Some((idx, state, _)) = self.agent_for(id, AgentRequest::EndWrapUp) else {
            return;
        };
        if let AgentState::WrapUp { .. } = state {
            self.finish_wrap_up(idx, now);
            self.after_work(idx, now);
        } else {
            self.refuse(id, AgentRequest::EndWrapUp, Refusal::NotInWrapUp);
        }
    }

    pub(crate) fn pause_now(
        &mut self,
        idx: AgentIdx,
        reason: PauseReason,
        change: ChangeReason,
        now: Duration,
    ) {
        let detail = format!("code={} label={:?}", reason.code, reason.label);
        self.set_state(idx, AgentState::Paused { reason }, change, now);
        self.log(QueueEventKind::Pause, now, About::agent(idx), detail);
    }

    /// Logs an agent out from any state but OnCall: withdraws a ringing offer (the call moves
    /// on), closes wrap-up statistics, and completes a pending removal. Queues left with nobody
    /// logged in overflow their calls.
    pub(crate) fn sign_out(&mut self, idx: AgentIdx, reason: ChangeReason, now: Duration) {
        let Some(agent) = self.agent(idx) else {
            return;
        };
        let state = agent.state.clone();
        let removing = agent.pending == Some(Pending::Remove);
        let queues: Vec<_> = agent.memberships.iter().map(|&(q, _)| q).collect();
        let mut call_to_route = None;
        match state {
            // Only reached with a live call by mistake; the call's end completes the logout.
            AgentState::OnCall { call } if self.calls.contains_key(&call) => return,
            AgentState::Offered { call } => {
                let cancel = if removing {
                    CancelReason::AgentRemoved
                } else {
                    CancelReason::AgentLoggedOut
                };
                let agent = self.agent_name(idx);
                let out = AcdOutput::CancelOffer {
                    call,
                    agent,
                    reason: cancel,
                };
                self.outputs.push_back(out);
                if self.detach_offer(call, idx) {
                    call_to_route = Some(call);
                }
            }
            AgentState::WrapUp { .. } => self.finish_wrap_up(idx, now),
            _ => {}
        }
        if let Some(agent) = self.agent_mut(idx) {
            agent.pending = None;
        }
        let reason = if removing {
            ChangeReason::Removed
        } else {
            reason
        };
        self.set_state(idx, AgentState::LoggedOut, reason, now);
        if state.is_logged_in() {
            self.log(
                QueueEventKind::Logout,
                now,
                About::agent(idx),
                String::new(),
            );
        }
        if let Some(call) = call_to_route {
            self.route_call(call, now);
        }
        if removing {
            self.drop_agent(idx);
        }
        self.overflow_if_unstaffed(&queues, now);
    }
}
