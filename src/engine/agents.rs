//! Agents as the engine sees them: their directory (credentials, names, queues), their state
//! requests (feature codes dialled from the softphone, REST), their registrations, the state
//! saved for a restart, the queue log, and the live snapshot for supervisors.

use crate::engine::StoreWrite;
use std::time::Duration;

use super::call::CallKey;
use super::live::{
    mask_number, AgentAction, AgentCounts, AgentLive, LiveSnapshot, QueueLive, WaitingLive,
};
use super::prompt_names::{AGENT_LOGGED_IN, AGENT_LOGGED_OUT, AGENT_PAUSED, AGENT_UNPAUSED};
use super::store_io::{AgentStateRow, QueueLogRow};
use super::Engine;
use crate::acd::{
    AcdInput, AgentConfig, AgentSnapshot, AgentState, PauseReason, Pending, QueueEvent,
};
use crate::sip::registrar::{RegistrarEvent, UserCredentials};

/// One agent from the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentEntry {
    pub id: String,
    pub name: String,
    pub credentials: UserCredentials,
    pub queues: Vec<(String, u32)>,
}

/// Feature codes an agent dials from the softphone.
pub fn feature_action(number: &str) -> Option<AgentAction> {
    match number {
        "*21" => Some(AgentAction::Login),
        "*22" => Some(AgentAction::Logout),
        "*24" => Some(AgentAction::Unpause),
        n => {
            let reason = n.strip_prefix("*23")?;
            let code = if reason.is_empty() {
                Ok(1)
            } else {
                reason.parse::<u16>()
            };
            code.ok()
                .filter(|c| PauseReason::standard(*c).is_some())
                .map(AgentAction::Pause)
        }
    }
}

/// What became of an agent's request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestOutcome {
    UnknownAgent,
    /// Applied, or accepted as pending until the current call ends.
    Taken,
    /// Not possible in the agent's state (e.g. unpause when not paused); nothing changed.
    Refused,
}

/// The confirmation prompt of a feature code.
pub fn feature_prompt(action: &AgentAction) -> &'static str {
    match action {
        AgentAction::Login => AGENT_LOGGED_IN,
        AgentAction::Logout => AGENT_LOGGED_OUT,
        AgentAction::Pause(_) => AGENT_PAUSED,
        AgentAction::Unpause => AGENT_UNPAUSED,
    }
}

impl Engine {
    /// The agents changed in the database: credentials for the registrar, configuration for the ACD.
    pub(super) fn set_agents(&mut self, entries: Vec<AgentEntry>, now: Duration) {
        let known: Vec<String> = self.agents.keys().cloned().collect();
        for gone in known
            .iter()
            .filter(|id| !entries.iter().any(|e| &e.id == *id))
        {
            self.acd_input(AcdInput::AgentRemoved(gone.clone()), now);
        }
        self.agents = entries
            .iter()
            .map(|e| (e.id.clone(), e.credentials.clone()))
            .collect();
        for entry in entries {
            let config = AgentConfig {
                id: entry.id,
                name: entry.name,
                queues: entry.queues,
            };
            self.acd_input(AcdInput::AgentConfigured(config), now);
        }
    }

    /// States saved before a restart (pauses survive; see `acd::restored_state`).
    pub(super) fn restore_agents(&mut self, saved: Vec<AgentStateRow>, now: Duration) {
        for row in saved {
            let snapshot = AgentSnapshot {
                id: row.id.clone(),
                state: row.state(),
                pending: row.pending(),
            };
            if let Err(error) = self.acd.restore_agent(&snapshot, now) {
                tracing::warn!(agent = %row.id, ?error, "saved agent state not restored");
            }
        }
        self.drain_acd_public(now);
        self.log_out_agents_without_phone(now);
    }

    /// Today's queue figures from the rows an earlier run wrote today (Tehran day). Rows from
    /// this run's own start on are left out: this run's counters already hold them, and the
    /// driver may read the log after the first calls came in.
    pub(super) fn restore_queue_day(&mut self, rows: &[QueueLogRow], now: Duration) {
        let today = crate::calendar::tehran_day_start_ms(self.wall_ms(now));
        let started = self.config.epoch_unix_ms;
        let earlier_today = rows
            .iter()
            .filter(|row| row.at_ms >= today && row.at_ms < started)
            .map(|row| crate::acd::LoggedEvent {
                queue: row.queue.as_deref(),
                call: row.call_ref.as_deref(),
                agent: row.agent.as_deref(),
                kind: &row.kind,
                detail: &row.detail,
            });
        self.acd.rebuild_today(earlier_today);
    }

    /// Logged-in agents with no registered softphone (their registration ran out while the
    /// engine was down) are logged out: nobody could ring them, and callers would wait for them.
    fn log_out_agents_without_phone(&mut self, now: Duration) {
        let unreachable: Vec<String> = self
            .acd
            .agent_states()
            .into_iter()
            .filter(|a| a.state != AgentState::LoggedOut && !self.has_phone(&a.id))
            .map(|a| a.id)
            .collect();
        for agent in unreachable {
            // The ACD's state change logs the log-out at info (`log_agent_state`).
            tracing::debug!(%agent, "logged out: no registered softphone");
            self.acd_input(AcdInput::AgentUnreachable(agent), now);
        }
    }

    /// An agent's request (feature code or REST); false for an unknown agent.
    pub fn agent_action(&mut self, agent: &str, action: AgentAction, now: Duration) -> bool {
        self.agent_request(agent, action, now) != RequestOutcome::UnknownAgent
    }

    /// Carries out an agent's request and tells whether it took (applied now or pending).
    /// Logging in needs a registered softphone: an agent the engine cannot ring would only
    /// collect missed offers while callers wait.
    pub(super) fn agent_request(
        &mut self,
        agent: &str,
        action: AgentAction,
        now: Duration,
    ) -> RequestOutcome {
        if !self.agents.contains_key(agent) {
            return RequestOutcome::UnknownAgent;
        }
        if action == AgentAction::Login && !self.has_phone(agent) {
            tracing::info!(%agent, "login refused: no registered softphone");
            self.agent_refusals += 1;
            return RequestOutcome::Refused;
        }
        let refusals_before = self.agent_refusals;
        let id = agent.to_string();
        let input = match action {
            AgentAction::Login => AcdInput::AgentLogin(id),
            AgentAction::Logout => AcdInput::AgentLogout(id),
            AgentAction::Unpause => AcdInput::AgentUnpause(id),
            AgentAction::Pause(code) => {
                let reason =
                    PauseReason::standard(code).unwrap_or_else(|| PauseReason::new(code, "other"));
                AcdInput::AgentPause(id, reason)
            }
        };
        self.acd_input(input, now);
        if self.agent_refusals == refusals_before {
            RequestOutcome::Taken
        } else {
            RequestOutcome::Refused
        }
    }

    /// Registrar events: an agent whose last binding went away is logged out.
    pub(super) fn drain_registrar_events(&mut self, now: Duration) {
        while let Some(event) = self.registrar.poll_event() {
            let user = match event {
                RegistrarEvent::Unregistered { user } => {
                    tracing::info!(agent = %user, "agent unregistered: no softphone left");
                    user
                }
                RegistrarEvent::Expired { user, uri } => {
                    tracing::info!(agent = %user, contact = %uri, "registration expired");
                    user
                }
                // The accepted REGISTER has its own line (`on_register`).
                RegistrarEvent::Registered { .. } => continue,
            };
            if !self.has_phone(&user) {
                self.acd_input(AcdInput::AgentUnreachable(user), now);
            }
        }
    }

    /// Saves an agent's new state so it survives a restart, and tells the wallboard.
    pub(super) fn agent_state_changed(&mut self, agent: &str, now: Duration) {
        let Some(view) = self.acd.agent_states().into_iter().find(|a| a.id == agent) else {
            return;
        };
        let row = AgentStateRow::from_acd(&view.id, &view.state, view.pending.as_ref());
        self.write(StoreWrite::AgentState(row));
        self.tell_phones_agent_state(agent, now);
    }

    pub(super) fn queue_log(&mut self, event: QueueEvent) {
        let row = QueueLogRow {
            at_ms: self.wall_ms(event.at),
            queue: event.queue,
            call: event.call.map(|c| c.0),
            call_ref: event
                .call
                .and_then(|c| self.calls.get(CallKey(c.0)))
                .map(|c| c.record.call_ref.clone()),
            agent: event.agent,
            kind: event.kind.as_str().to_string(),
            detail: event.detail,
        };
        self.write(StoreWrite::QueueLog(row));
    }

    /// What the wallboard shows, now.
    pub fn live_snapshot(&self, now: Duration) -> LiveSnapshot {
        let secs = |d: Duration| d.as_secs_f64();
        let queues = self
            .acd
            .stats(now)
            .into_iter()
            .map(|q| QueueLive {
                name: q.queue.clone(),
                waiting: q.waiting as usize,
                longest_wait_s: secs(q.longest_wait),
                agents: AgentCounts {
                    logged_out: q.agents.logged_out as usize,
                    available: q.agents.available as usize,
                    ringing: q.agents.offered as usize,
                    on_call: q.agents.on_call as usize,
                    wrap_up: q.agents.wrap_up as usize,
                    paused: q.agents.paused as usize,
                    busy_elsewhere: q.agents.busy_elsewhere as usize,
                },
                offered_today: q.offered_today,
                answered_today: q.answered_today,
                abandoned_today: q.abandoned_today,
                exited_today: q.exited_today,
                overflowed_today: q.overflowed_today,
                service_level: q.service_level,
                service_level_threshold_s: secs(self.service_level_threshold(&q.queue)),
                asa_s: q.asa.map(secs),
                aht_s: q.aht.map(secs),
            })
            .collect();
        let agents = self
            .acd
            .agent_states()
            .into_iter()
            .map(|a| AgentLive {
                state: wall_state(&a.state).to_string(),
                reason: match &a.state {
                    AgentState::Paused { reason } => Some(reason.label.clone()),
                    _ => None,
                },
                pending: a.pending.as_ref().map(pending_name),
                since_s: secs(now.saturating_sub(a.since)),
                queues: a.queues.iter().map(|(q, _)| q.clone()).collect(),
                answered_today: u64::from(a.answered_today),
                id: a.id,
                name: a.name,
            })
            .collect();
        let waiting = self
            .acd
            .waiting_calls(now)
            .into_iter()
            .map(|w| WaitingLive {
                call: w.call.0,
                queue: w.queue,
                caller: mask_number(&w.caller),
                waited_s: secs(w.waited),
                position: w.position as usize,
                ringing: w.ringing,
            })
            .collect();
        LiveSnapshot {
            at_ms: self.wall_ms(now),
            queues,
            agents,
            waiting,
        }
    }

    /// The configured threshold (the TOML file's `service_level_s`), which the ACD counts by.
    fn service_level_threshold(&self, queue: &str) -> Duration {
        self.config
            .queues
            .iter()
            .find(|q| q.name == queue)
            .map_or(Duration::from_secs(20), |q| q.service_level_threshold)
    }

    fn drain_acd_public(&mut self, now: Duration) {
        self.acd_timeout(now);
    }

    /// Whether a caller's keys go to the queue rather than the IVR.
    pub(super) fn digit_for_queue(&self, call: CallKey) -> bool {
        self.in_queue(call)
    }
}

pub(crate) fn wall_state(state: &AgentState) -> &'static str {
    match state {
        AgentState::Offered { .. } => "ringing",
        other => other.name(),
    }
}

pub(crate) fn pending_name(pending: &Pending) -> String {
    match pending {
        Pending::Pause(reason) => format!("pause: {}", reason.label),
        Pending::Logout => "logout".into(),
        Pending::Remove => "remove".into(),
    }
}
