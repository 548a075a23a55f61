//! The owner of the calls and of every way a call is found: by our key, by its dialog
//! (Call-ID and our tag, for in-dialog requests), by the caller's side of it (Call-ID and their
//! tag, to spot a merged INVITE), by its INVITE transaction (CANCEL, Timer H) and by its media
//! leg (media events). The indexes change only here, together with the map, so removing a call
//! forgets it everywhere at once.

use std::collections::HashMap;

use super::{Call, CallKey};
use crate::media::api::LegId;
use crate::sip::txn::TxnKey;

#[derive(Debug, Default)]
pub struct Calls {
    calls: HashMap<CallKey, Call>,
    by_dialog: HashMap<(String, String), CallKey>,
    by_remote: HashMap<(String, String), CallKey>,
    by_invite: HashMap<TxnKey, CallKey>,
    by_leg: HashMap<LegId, CallKey>,
}

impl Calls {
    pub fn insert(&mut self, key: CallKey, call: Call) {
        self.by_dialog
            .insert((call.call_id.clone(), call.local_tag.clone()), key);
        self.by_remote
            .insert((call.call_id.clone(), call.remote_tag.clone()), key);
        self.by_invite.insert(call.invite_key.clone(), key);
        self.by_leg.insert(call.leg, key);
        self.calls.insert(key, call);
    }

    /// Takes the call out of the map and every index.
    pub fn remove(&mut self, key: CallKey) -> Option<Call> {
        let call = self.calls.remove(&key)?;
        self.by_dialog
            .remove(&(call.call_id.clone(), call.local_tag.clone()));
        self.by_remote
            .remove(&(call.call_id.clone(), call.remote_tag.clone()));
        self.by_invite.remove(&call.invite_key);
        self.by_leg.remove(&call.leg);
        Some(call)
    }

    pub fn get(&self, key: CallKey) -> Option<&Call> {
        self.calls.get(&key)
    }

    pub fn get_mut(&mut self, key: CallKey) -> Option<&mut Call> {
        self.calls.get_mut(&key)
    }

    pub fn contains(&self, key: CallKey) -> bool {
        self.calls.contains_key(&key)
    }

    pub fn len(&self) -> usize {
        self.calls.len()
    }

    pub fn is_empty(&self) -> bool {
        self.calls.is_empty()
    }

    /// Every call's key, in the order calls arrived.
    pub fn keys(&self) -> Vec<CallKey> {
        let mut keys: Vec<CallKey> = self.calls.keys().copied().collect();
        keys.sort_unstable();
        keys
    }

    #[cfg(test)]
    pub fn values(&self) -> impl Iterator<Item = &Call> {
        self.calls.values()
    }

    /// The call whose dialog has this Call-ID and our tag.
    pub fn by_dialog(&self, call_id: &str, local_tag: &str) -> Option<CallKey> {
        self.by_dialog
            .get(&(call_id.to_string(), local_tag.to_string()))
            .copied()
    }

    /// Whether a call already came with this Call-ID and caller's tag.
    pub fn has_remote(&self, call_id: &str, remote_tag: &str) -> bool {
        self.by_remote
            .contains_key(&(call_id.to_string(), remote_tag.to_string()))
    }

    pub fn by_invite(&self, invite: &TxnKey) -> Option<CallKey> {
        self.by_invite.get(invite).copied()
    }

    pub fn by_leg(&self, leg: LegId) -> Option<CallKey> {
        self.by_leg.get(&leg).copied()
    }
}
