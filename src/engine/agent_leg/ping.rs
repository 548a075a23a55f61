//! Is the call-taker's phone still there? Every logged-in agent's registered contacts are pinged
//! with OPTIONS. A contact that never answers (Timer F, 32 s) is dropped from the registrar as if
//! its registration had run out; when an agent's last contact goes, the agent is logged out. So a
//! dead desk phone does not log out an agent whose softphone still answers, and a dead softphone
//! never leaves an agent "available" for calls that would ring nowhere.

use std::time::Duration;

use crate::acd::{AcdInput, AgentState};
use crate::engine::agent_leg::peer_of;
use crate::engine::Engine;
use crate::sip::msg::{Headers, Method, Request};
use crate::sip::registrar::Binding;
use crate::sip::txn::TxnKey;

/// How often registered softphones are pinged.
pub const PING_EVERY: Duration = Duration::from_secs(30);

/// One OPTIONS in flight.
#[derive(Debug, Clone)]
pub struct Ping {
    pub agent: String,
    pub uri: String,
}

impl Engine {
    /// Sends OPTIONS to every contact of every logged-in agent, and re-arms the ping.
    pub(crate) fn ping_agents(&mut self, now: Duration) {
        self.timers.set(
            crate::engine::TimerOwner::Engine,
            crate::engine::CallTimer::AgentPing,
            now + PING_EVERY,
        );
        let online: Vec<String> = self
            .acd
            .agent_states()
            .into_iter()
            .filter(|a| a.state != AgentState::LoggedOut)
            .map(|a| a.id)
            .collect();
        for agent in online {
            let bindings = self.registrar.bindings(&agent, crate::engine::as_ms(now));
            if bindings.is_empty() && self.browser_phones.has_phone(&agent) {
                continue; // rung in the browser, whose WebSocket tells when it goes
            }
            if bindings.is_empty() {
                // The ACD's state change logs the log-out at info (`log_agent_state`).
                tracing::debug!(%agent, "no registered softphone: agent logged out");
                self.acd_input(AcdInput::AgentUnreachable(agent), now);
                continue;
            }
            for binding in bindings {
                if !self.agent_legs.ping_in_flight(&agent, &binding.uri) {
                    self.ping_contact(&agent, binding, now);
                }
            }
        }
    }

    fn ping_contact(&mut self, agent: &str, binding: Binding, now: Duration) {
        let Some(peer) = peer_of(&binding.source) else {
            return;
        };
        let branch = self.new_branch();
        let tag = self.new_tag();
        let sip_addr = self.config.sip_addr;
        let mut headers = Headers::new();
        headers.push(
            "Via",
            format!("SIP/2.0/UDP {sip_addr};branch={branch};rport"),
        );
        headers.push("Max-Forwards", "70");
        headers.push("From", format!("<sip:pasokh@{sip_addr}>;tag={tag}"));
        headers.push("To", format!("<{}>", binding.uri));
        headers.push("Call-ID", format!("ping-{tag}@pasokh"));
        headers.push("CSeq", "1 OPTIONS");
        let request = Request {
            method: Method::Options,
            uri: binding.uri.clone(),
            headers,
            body: Vec::new(),
        };
        if let Some(key) = self.txns.send_request(request, peer, now) {
            let ping = Ping {
                agent: agent.to_string(),
                uri: binding.uri,
            };
            self.agent_legs.ping_sent(key, ping);
        }
    }

    /// An answered ping (any response) proves the phone is there.
    pub(crate) fn ping_answered(&mut self, key: &TxnKey) -> bool {
        self.agent_legs.ping_done(key).is_some()
    }

    /// A ping that was never answered: that contact is gone.
    pub(crate) fn ping_timed_out(&mut self, key: &TxnKey, now: Duration) -> bool {
        let Some(ping) = self.agent_legs.ping_done(key) else {
            return false;
        };
        tracing::info!(agent = %ping.agent, "a softphone does not answer OPTIONS: contact dropped");
        self.registrar.remove_binding(&ping.agent, &ping.uri);
        self.save_registrations(ping.agent);
        // The last contact gone logs the agent out (registrar event `Unregistered`).
        self.drain_registrar_events(now);
        true
    }
}
