//! The owner of the browser phones (pages signed in as an agent with their WebSocket open) and
//! of the legs offered to them. A browser phone is one of its agent's contacts, beside any
//! registered SIP phones: an offer rings them all, and the first to answer takes the call.

use std::collections::HashMap;

use super::{BrowserLeg, PhoneId};
use crate::engine::call::CallKey;
use crate::media::api::LegId;

#[derive(Debug, Default)]
pub struct BrowserPhones {
    /// Each attached phone → its agent.
    phones: HashMap<PhoneId, String>,
    legs: HashMap<LegId, BrowserLeg>,
}

impl BrowserPhones {
    pub fn attach(&mut self, phone: PhoneId, agent: String) {
        self.phones.insert(phone, agent);
    }

    /// Forgets the phone; returns its agent, if it was attached.
    pub fn detach(&mut self, phone: PhoneId) -> Option<String> {
        self.phones.remove(&phone)
    }

    pub fn agent_of(&self, phone: PhoneId) -> Option<&str> {
        self.phones.get(&phone).map(String::as_str)
    }

    /// The agent's attached phones, in the order they attached (ids grow).
    pub fn phones_of(&self, agent: &str) -> Vec<PhoneId> {
        let mut phones: Vec<PhoneId> = self
            .phones
            .iter()
            .filter(|(_, a)| a.as_str() == agent)
            .map(|(phone, _)| *phone)
            .collect();
        phones.sort_unstable();
        phones
    }

    pub fn has_phone(&self, agent: &str) -> bool {
        self.phones.values().any(|a| a == agent)
    }

    pub fn insert(&mut self, leg: BrowserLeg) {
        self.legs.insert(leg.leg, leg);
    }

    pub fn remove(&mut self, leg: LegId) -> Option<BrowserLeg> {
        self.legs.remove(&leg)
    }

    pub fn get(&self, leg: LegId) -> Option<&BrowserLeg> {
        self.legs.get(&leg)
    }

    pub fn get_mut(&mut self, leg: LegId) -> Option<&mut BrowserLeg> {
        self.legs.get_mut(&leg)
    }

    pub fn contains(&self, leg: LegId) -> bool {
        self.legs.contains_key(&leg)
    }

    pub fn is_empty(&self) -> bool {
        self.legs.is_empty()
    }

    /// The leg `phone` holds as `leg`, if that phone holds it.
    pub fn of_phone(&self, phone: PhoneId, leg: LegId) -> Option<&BrowserLeg> {
        self.legs.get(&leg).filter(|l| l.phone == phone)
    }

    /// Every leg of `phone`.
    pub fn legs_of_phone(&self, phone: PhoneId) -> Vec<LegId> {
        self.matching(|l| l.phone == phone)
    }

    /// The legs offered for `caller` (to any agent).
    pub fn of_caller(&self, caller: CallKey) -> Vec<LegId> {
        self.matching(|l| l.caller == caller)
    }

    /// The legs offered for `caller` to `agent`'s pages.
    pub fn of_offer(&self, caller: CallKey, agent: &str) -> Vec<LegId> {
        self.matching(|l| l.caller == caller && l.agent == agent)
    }

    fn matching(&self, wanted: impl Fn(&BrowserLeg) -> bool) -> Vec<LegId> {
        let mut legs: Vec<LegId> = self
            .legs
            .values()
            .filter(|l| wanted(l))
            .map(|l| l.leg)
            .collect();
        legs.sort_unstable();
        legs
    }
}
