//! An agent leg's port is bound before the INVITE that names it is sent, as a caller's is before
//! the 200 OK: a port another process holds would otherwise leave the call-taker with no audio
//! (the softphone sends to a port nobody of ours reads). The media runtime answers `Open` at once,
//! so the INVITE still leaves in the same pass of the loop: no delay for the agent.

use std::time::Duration;

use crate::engine::agent_leg::AgentLegState;
use crate::engine::Engine;
use crate::media::api::{LegId, LegSetup, MediaCommand};
use crate::media::g711::G711;
use crate::sip::sdp;

/// The leg as it is opened with the offer: bound, silent, nobody to send to yet. The agent's
/// answer completes it (`MediaCommand::Update` with the negotiated codec and address).
pub(crate) fn offer_setup(leg: LegId, port: u16) -> LegSetup {
    LegSetup {
        leg,
        local_port: port,
        remote: None,
        codec: G711::Pcmu,
        payload_type: 0,
        telephone_event_pt: None,
        sending: false,
        peer_sends: false,
    }
}

impl Engine {
    /// Whether `leg` is an agent leg still waiting for its port (its media events are its own).
    pub(crate) fn is_opening_agent_leg(&self, leg: LegId) -> bool {
        self.agent_legs
            .get(leg)
            .is_some_and(|l| l.state == AgentLegState::Opening)
    }

    /// The port is bound: the offer goes out.
    pub(crate) fn agent_leg_opened(&mut self, leg: LegId, now: Duration) {
        let Some(agent_leg) = self
            .agent_legs
            .get(leg)
            .filter(|l| l.state == AgentLegState::Opening)
        else {
            return;
        };
        let (invite, peer) = (agent_leg.invite.clone(), agent_leg.peer);
        match self.txns.send_request(invite, peer, now) {
            Some(key) => self.agent_legs.sent(leg, key),
            None => self.agent_offer_impossible(leg, now),
        }
    }

    /// Another process holds the port: set it aside, offer another in the INVITE instead.
    pub(crate) fn agent_leg_port_in_use(&mut self, leg: LegId, now: Duration) {
        let Some(taken) = self
            .agent_legs
            .get(leg)
            .filter(|l| l.state == AgentLegState::Opening)
            .map(|l| l.port)
        else {
            return;
        };
        self.ports.set_aside(taken, now);
        let Some(port) = self.ports.take(&mut self.rng, now) else {
            return self.agent_offer_impossible(leg, now);
        };
        let media_ip = self.config.media_ip;
        let Some(agent_leg) = self.agent_legs.get_mut(leg) else {
            return self.ports.give_back(port);
        };
        agent_leg.port = port;
        agent_leg.invite.body = sdp::offer(media_ip, port, leg.0, 1).into_bytes();
        self.media(MediaCommand::Open(offer_setup(leg, port)));
    }

    /// No port could be bound, or the INVITE could not be sent: the offer did not happen, and the
    /// ACD is told so (it offers the call to the next agent).
    pub(crate) fn agent_offer_impossible(&mut self, leg: LegId, now: Duration) {
        let Some((caller, agent)) = self
            .agent_legs
            .get(leg)
            .map(|l| (l.caller, l.agent.clone()))
        else {
            return;
        };
        tracing::warn!(leg = %leg, %agent, "offer to the agent not sent: no RTP port could be bound");
        self.drop_agent_leg(leg, false, now);
        if !self.offer_legs(caller, &agent).is_empty() {
            return; // another of the agent's phones is being offered the call
        }
        self.offer_not_taken(caller, &agent, 503, now);
    }
}
