//! Test rig: a virtual clock that drives the machine the way the engine will, and a full check of
//! the machine's internal invariants after every step.

use std::time::Duration;

use crate::acd::queue::CallPhase;
use crate::acd::*;

pub(crate) fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

pub(crate) fn agent(id: &str, queues: &[(&str, u32)]) -> AgentConfig {
    AgentConfig {
        id: id.to_owned(),
        name: format!("Agent {id}"),
        queues: queues.iter().map(|(q, p)| (q.to_string(), *p)).collect(),
    }
}

pub(crate) fn queue_with(name: &str, strategy: Strategy) -> QueueConfig {
    QueueConfig {
        strategy,
        ..QueueConfig::new(name)
    }
}

pub(crate) struct Rig {
    pub acd: Acd,
    pub now: Duration,
}

impl Rig {
    pub fn new(queues: Vec<QueueConfig>, agents: Vec<AgentConfig>) -> Self {
        Rig {
            acd: Acd::new(queues, agents),
            now: Duration::ZERO,
        }
    }

    /// Feeds one input at the rig's time and returns what came out.
    pub fn input(&mut self, input: AcdInput) -> Vec<AcdOutput> {
        self.acd.handle_input(input, self.now);
        self.drain()
    }

    /// Moves the clock forward, firing timers at their deadlines like a driver would.
    pub fn advance(&mut self, by: Duration) -> Vec<AcdOutput> {
        let target = self.now + by;
        let mut out = Vec::new();
        while let Some(deadline) = self.acd.poll_timeout() {
            if deadline > target {
                break;
            }
            self.now = self.now.max(deadline);
            self.acd.handle_timeout(self.now);
            out.extend(self.drain());
        }
        self.now = target;
        out
    }

    pub fn drain(&mut self) -> Vec<AcdOutput> {
        let out: Vec<AcdOutput> = std::iter::from_fn(|| self.acd.poll_output()).collect();
        if let Err(why) = self.acd.check_invariants() {
            panic!("invariant broken at {:?}: {why}", self.now);
        }
        out
    }

    pub fn login(&mut self, id: &str) -> Vec<AcdOutput> {
        self.input(AcdInput::AgentLogin(id.to_owned()))
    }

    pub fn arrive(&mut self, call: u64, queue: &str, priority: u8) -> Vec<AcdOutput> {
        self.input(AcdInput::CallArrived {
            call: CallKey(call),
            queue: queue.to_owned(),
            priority,
            caller: format!("0912{call:07}"),
        })
    }

    pub fn accept(&mut self, call: u64, agent: &str) -> Vec<AcdOutput> {
        self.input(AcdInput::OfferAccepted {
            call: CallKey(call),
            agent: agent.to_owned(),
        })
    }

    pub fn state(&self, id: &str) -> AgentState {
        self.view(id).map_or(AgentState::LoggedOut, |v| v.state)
    }

    pub fn view(&self, id: &str) -> Option<AgentView> {
        self.acd.agent_states().into_iter().find(|v| v.id == id)
    }

    pub fn stats(&self, queue: &str) -> QueueStats {
        let found = self
            .acd
            .stats(self.now)
            .into_iter()
            .find(|s| s.queue == queue);
        let Some(stats) = found else {
            panic!("no stats for queue {queue}");
        };
        stats
    }
}

/// The (call, agent) pairs of every Offer in `out`.
pub(crate) fn offers(out: &[AcdOutput]) -> Vec<(u64, String)> {
    out.iter()
        .filter_map(|o| match o {
            AcdOutput::Offer { call, agent } => Some((call.0, agent.clone())),
            _ => None,
        })
        .collect()
}

pub(crate) fn offer(call: u64, agent: &str) -> (u64, String) {
    (call, agent.to_owned())
}

pub(crate) fn cancels(out: &[AcdOutput]) -> Vec<(u64, String, CancelReason)> {
    out.iter()
        .filter_map(|o| match o {
            AcdOutput::CancelOffer {
                call,
                agent,
                reason,
            } => Some((call.0, agent.clone(), *reason)),
            _ => None,
        })
        .collect()
}

pub(crate) fn log_kinds(out: &[AcdOutput]) -> Vec<QueueEventKind> {
    out.iter()
        .filter_map(|o| match o {
            AcdOutput::QueueLog(event) => Some(event.kind),
            _ => None,
        })
        .collect()
}

/// (state, pending, reason) of each AgentStateChanged for `id`.
pub(crate) fn changes(
    out: &[AcdOutput],
    id: &str,
) -> Vec<(AgentState, Option<Pending>, ChangeReason)> {
    out.iter()
        .filter_map(|o| match o {
            AcdOutput::AgentStateChanged {
                agent,
                state,
                pending,
                reason,
                ..
            } if agent == id => Some((state.clone(), pending.clone(), *reason)),
            _ => None,
        })
        .collect()
}

impl Acd {
    /// Cross-checks agents, calls, queues, timers and counters.
    pub(crate) fn check_invariants(&self) -> Result<(), String> {
        if self.fifo_violations > 0 {
            return Err(format!("{} FIFO violations", self.fifo_violations));
        }
        self.check_agents()?;
        self.check_calls()?;
        self.check_queues()
    }

    fn check_agents(&self) -> Result<(), String> {
        for (idx, agent) in self.agents.iter().enumerate() {
            let Some(agent) = agent else { continue };
            let id = &agent.config.id;
            match &agent.state {
                AgentState::Offered { call } => {
                    let ringing = self.calls.get(call).map(|c| &c.phase);
                    let Some(CallPhase::Ringing(agents)) = ringing else {
                        return Err(format!("{id} offered {call:?} which is not ringing"));
                    };
                    if !agents.contains(&idx) {
                        return Err(format!("{id} offered {call:?} but not in its ring list"));
                    }
                    if !self.timers.is_armed(&AcdTimer::RingNoAnswer(idx), ()) {
                        return Err(format!("{id} rings without a ring timer"));
                    }
                }
                AgentState::OnCall { call } => {
                    let phase = self.calls.get(call).map(|c| &c.phase);
                    if !matches!(phase, Some(CallPhase::Connected { agent, .. }) if *agent == idx) {
                        return Err(format!("{id} on {call:?} which is not connected to them"));
                    }
                }
                AgentState::WrapUp { .. }
                    if !self.timers.is_armed(&AcdTimer::WrapUpEnd(idx), ()) =>
                {
                    return Err(format!("{id} in wrap-up without a timer"));
                }
                _ => {}
            }
            // Pending requests exist only where they cannot apply yet.
            let pending_ok = matches!(
                (&agent.pending, &agent.state),
                (None, _)
                    | (Some(_), AgentState::OnCall { .. })
                    | (Some(Pending::Pause(_)), AgentState::WrapUp { .. })
            );
            if !pending_ok {
                return Err(format!(
                    "{id}: pending {:?} in {:?}",
                    agent.pending, agent.state
                ));
            }
        }
        Ok(())
    }

    fn check_calls(&self) -> Result<(), String> {
        for (key, call) in &self.calls {
            match &call.phase {
                CallPhase::Connected { agent, .. } => {
                    let state = self.agent(*agent).map(|a| &a.state);
                    if state != Some(&AgentState::OnCall { call: *key }) {
                        return Err(format!("{key:?} connected to an agent in {state:?}"));
                    }
                    continue;
                }
                CallPhase::Ringing(agents) => {
                    for &a in agents {
                        if self.agent(a).map(|a| &a.state)
                            != Some(&AgentState::Offered { call: *key })
                        {
                            return Err(format!("{key:?} rings agent {a} who is not offered it"));
                        }
                    }
                }
                CallPhase::Waiting => self.check_nobody_idle_for(*key, call)?,
            }
            let queue = self
                .queue(call.queue)
                .ok_or("queued call without a queue")?;
            if queue.queued.get(&call.order) != Some(key) {
                return Err(format!("{key:?} missing from its queue order"));
            }
            if !self.timers.is_armed(&AcdTimer::MaxWait(*key), ()) {
                return Err(format!("{key:?} waits without a max-wait timer"));
            }
        }
        Ok(())
    }

    /// The routing invariant: a waiting call has no available, untried agent of its queue.
    fn check_nobody_idle_for(&self, key: CallKey, call: &queue::Call) -> Result<(), String> {
        let queue = self
            .queue(call.queue)
            .ok_or("waiting call without a queue")?;
        for member in &queue.members {
            let idle = self.agent(member.agent).map(|a| &a.state) == Some(&AgentState::Available);
            if idle && !call.tried.contains(&member.agent) {
                return Err(format!(
                    "{key:?} waits while agent {} is idle",
                    member.agent
                ));
            }
        }
        Ok(())
    }

    fn check_queues(&self) -> Result<(), String> {
        let stats = self.stats(self.now);
        for (queue, s) in self.queues.iter().flatten().zip(&stats) {
            let queued = self
                .calls
                .values()
                .filter(|c| {
                    c.is_queued() && self.queue(c.queue).is_some_and(|q| std::ptr::eq(q, queue))
                })
                .count();
            if queued != queue.queued.len() || queued != queue.by_arrival.len() {
                return Err(format!("{}: queue index out of step", s.queue));
            }
            let ended = s.answered_today + s.abandoned_today + s.exited_today + s.overflowed_today;
            if s.offered_today != ended + u64::from(s.waiting) {
                return Err(format!("{}: offered does not add up: {s:?}", s.queue));
            }
            if s.agents.total() as usize != queue.members.len() {
                return Err(format!("{}: agent counts do not add up", s.queue));
            }
        }
        Ok(())
    }
}
