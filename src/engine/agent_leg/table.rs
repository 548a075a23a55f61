//! The owner of the agent legs and of every way one is found: by its dialog (the agent's BYE
//! carries our tag), by the client transaction of its INVITE (responses, Timer B), and by the
//! caller it is offered for. It also keeps the offers cancelled while ringing until their INVITE
//! gets a final response (`late.rs`), because a phone may answer after the CANCEL, and the
//! OPTIONS pings in flight to agents' contacts (`ping.rs`).

use std::collections::HashMap;

use super::late::CancelledOffer;
use super::ping::Ping;
use super::{AgentLeg, AgentLegState};
use crate::engine::call::CallKey;
use crate::media::api::LegId;
use crate::sip::txn::TxnKey;

#[derive(Debug, Default)]
pub struct AgentLegs {
    legs: HashMap<LegId, AgentLeg>,
    by_dialog: HashMap<(String, String), LegId>,
    /// The INVITE's client transaction → its leg, from the moment it is sent until its final
    /// response (kept past a CANCEL, for the late 2xx).
    by_invite: HashMap<TxnKey, LegId>,
    cancelled: HashMap<LegId, CancelledOffer>,
    /// OPTIONS in flight → the agent and the contact pinged.
    pings: HashMap<TxnKey, Ping>,
}

impl AgentLegs {
    pub fn insert(&mut self, leg: AgentLeg) {
        self.by_dialog
            .insert((leg.call_id.clone(), leg.local_tag.clone()), leg.leg);
        self.legs.insert(leg.leg, leg);
    }

    /// Takes the leg out. Its INVITE stays known while it may still get a final response (it
    /// rang), so a late answer can be ACKed and ended.
    pub fn remove(&mut self, leg: LegId) -> Option<AgentLeg> {
        let agent_leg = self.legs.remove(&leg)?;
        if agent_leg.state == AgentLegState::Answered {
            self.by_invite.remove(&agent_leg.invite_key);
        }
        self.by_dialog
            .remove(&(agent_leg.call_id.clone(), agent_leg.local_tag.clone()));
        Some(agent_leg)
    }

    pub fn get(&self, leg: LegId) -> Option<&AgentLeg> {
        self.legs.get(&leg)
    }

    pub fn get_mut(&mut self, leg: LegId) -> Option<&mut AgentLeg> {
        self.legs.get_mut(&leg)
    }

    pub fn contains(&self, leg: LegId) -> bool {
        self.legs.contains_key(&leg)
    }

    pub fn is_empty(&self) -> bool {
        self.legs.is_empty()
    }

    /// The INVITE naming the leg's port went out in transaction `key`: the leg rings.
    pub fn sent(&mut self, leg: LegId, key: TxnKey) {
        if let Some(agent_leg) = self.legs.get_mut(&leg) {
            self.by_invite.insert(key.clone(), leg);
            agent_leg.invite_key = key;
            agent_leg.state = AgentLegState::Ringing;
        }
    }

    /// The leg whose dialog has this Call-ID and our tag.
    pub fn by_dialog(&self, call_id: &str, local_tag: &str) -> Option<LegId> {
        self.by_dialog
            .get(&(call_id.to_string(), local_tag.to_string()))
            .copied()
    }

    /// The leg an INVITE transaction belongs to.
    pub fn by_invite(&self, key: &TxnKey) -> Option<LegId> {
        self.by_invite.get(key).copied()
    }

    /// The INVITE transaction is over (a final response, or Timer B).
    pub fn invite_done(&mut self, key: &TxnKey) -> Option<LegId> {
        self.by_invite.remove(key)
    }

    /// The legs ringing or connected for `caller` at `agent`'s phones (one per contact).
    pub fn of_offer(&self, caller: CallKey, agent: &str) -> Vec<LegId> {
        self.of_caller(caller)
            .into_iter()
            .filter(|leg| self.legs.get(leg).is_some_and(|l| l.agent == agent))
            .collect()
    }

    /// Every leg offered for `caller`, whichever agent.
    pub fn of_caller(&self, caller: CallKey) -> Vec<LegId> {
        let mut legs: Vec<LegId> = self
            .legs
            .values()
            .filter(|l| l.caller == caller)
            .map(|l| l.leg)
            .collect();
        legs.sort_unstable();
        legs
    }

    /// An offer cancelled while it rang, kept until its INVITE's final response.
    pub fn remember_cancelled(&mut self, leg: LegId, offer: CancelledOffer) {
        self.cancelled.insert(leg, offer);
    }

    pub fn is_cancelled(&self, leg: LegId) -> bool {
        self.cancelled.contains_key(&leg)
    }

    pub fn take_cancelled(&mut self, leg: LegId) -> Option<CancelledOffer> {
        self.cancelled.remove(&leg)
    }

    pub fn ping_sent(&mut self, key: TxnKey, ping: Ping) {
        self.pings.insert(key, ping);
    }

    /// Whether `agent`'s contact `uri` is being pinged already.
    pub fn ping_in_flight(&self, agent: &str, uri: &str) -> bool {
        self.pings
            .values()
            .any(|p| p.agent == agent && p.uri == uri)
    }

    /// The ping of transaction `key`, now answered or timed out.
    pub fn ping_done(&mut self, key: &TxnKey) -> Option<Ping> {
        self.pings.remove(key)
    }
}
