//! The registrar's binding table (AOR user → contacts with expiry times),
//! and the check that turns a REGISTER's Contacts and Expires into an update.
//!
//! Kept apart from authentication so each half reads on its own. A
//! `BTreeMap` (not a `HashMap`) makes expiry events come out in the same
//! order on every run, so a failing scenario replays bit for bit. The
//! earliest expiry is cached after every change, so `poll_timeout` is O(1)
//! while changes (rare: a REGISTER per agent every few minutes) rescan.

use std::collections::{BTreeMap, VecDeque};

use super::{
    Binding, RegisterOutcome, RegisterRequest, RegistrarEvent, SavedBinding, DEFAULT_EXPIRES_S,
    MAX_CONTACTS_PER_USER, MAX_EXPIRES_S, MIN_EXPIRES_S,
};

/// What a valid REGISTER asks for.
pub(super) enum Update {
    /// `Contact: *` with `Expires: 0`.
    RemoveAll,
    /// (contact URI, granted seconds); 0 removes that contact.
    Set(Vec<(String, u32)>),
}

struct StoredBinding {
    uri: String,
    source: String,
    call_id: String,
    cseq: u32,
    expires_at_ms: u64,
    /// Order of the last refresh, to pick whom to evict past the cap.
    touched: u64,
}

#[derive(Default)]
pub(super) struct BindingTable {
    users: BTreeMap<String, Vec<StoredBinding>>,
    events: VecDeque<RegistrarEvent>,
    next_expiry_ms: Option<u64>,
    touch_counter: u64,
}

impl BindingTable {
    /// RFC 3261 §10.3 step 7: a binding made under the same Call-ID may
    /// only change with a higher CSeq; otherwise nothing is applied.
    pub(super) fn is_out_of_order(
        &self,
        user: &str,
        update: &Update,
        call_id: &str,
        cseq: u32,
    ) -> bool {
        let Some(list) = self.users.get(user) else {
            return false;
        };
        let touched = |binding: &StoredBinding| match update {
            Update::RemoveAll => true,
            Update::Set(items) => items.iter().any(|(uri, _)| *uri == binding.uri),
        };
        list.iter()
            .any(|b| touched(b) && b.call_id == call_id && cseq <= b.cseq)
    }

    pub(super) fn apply(&mut self, req: &RegisterRequest, update: Update, now_ms: u64) {
        let list = self.users.entry(req.user.clone()).or_default();
        let was_registered = !list.is_empty();
        match update {
            Update::RemoveAll => list.clear(),
            Update::Set(items) => {
                for (uri, expires_s) in items {
                    self.touch_counter += 1;
                    let expires_at_ms = now_ms.saturating_add(u64::from(expires_s) * 1000);
                    if expires_s == 0 {
                        list.retain(|b| b.uri != uri);
                    } else {
                        upsert(list, req, uri, expires_at_ms, self.touch_counter);
                    }
                }
            }
        }
        while list.len() > MAX_CONTACTS_PER_USER {
            let Some(stalest) = (0..list.len()).min_by_key(|&i| list[i].touched) else {
                break;
            };
            let evicted = list.remove(stalest);
            self.events.push_back(RegistrarEvent::Expired {
                user: req.user.clone(),
                uri: evicted.uri,
            });
        }
        let is_registered = !list.is_empty();
        if !is_registered {
            self.users.remove(&req.user);
        }
        let user = req.user.clone();
        match (was_registered, is_registered) {
            (false, true) => self.events.push_back(RegistrarEvent::Registered { user }),
            (true, false) => self.events.push_back(RegistrarEvent::Unregistered { user }),
            _ => {}
        }
        self.recompute_next_expiry();
    }

    /// Removes every binding with `expires_at_ms <= now_ms`.
    pub(super) fn expire(&mut self, now_ms: u64) {
        if self.next_expiry_ms.is_none_or(|at| at > now_ms) {
            return;
        }
        let events = &mut self.events;
        self.users.retain(|user, list| {
            list.retain(|binding| {
                let alive = binding.expires_at_ms > now_ms;
                if !alive {
                    events.push_back(RegistrarEvent::Expired {
                        user: user.clone(),
                        uri: binding.uri.clone(),
                    });
                }
                alive
            });
            if list.is_empty() {
                events.push_back(RegistrarEvent::Unregistered { user: user.clone() });
            }
            !list.is_empty()
        });
        self.recompute_next_expiry();
    }

    pub(super) fn next_expiry_ms(&self) -> Option<u64> {
        self.next_expiry_ms
    }

    pub(super) fn poll_event(&mut self) -> Option<RegistrarEvent> {
        self.events.pop_front()
    }

    pub(super) fn contacts(&self, user: &str) -> Vec<String> {
        self.users
            .get(user)
            .map(|list| list.iter().map(|b| b.uri.clone()).collect())
            .unwrap_or_default()
    }

    pub(super) fn binding_count(&self) -> usize {
        self.users.values().map(Vec::len).sum()
    }

    pub(super) fn has_bindings(&self, user: &str) -> bool {
        self.users.get(user).is_some_and(|list| !list.is_empty())
    }

    pub(super) fn bindings(&self, user: &str, now_ms: u64) -> Vec<Binding> {
        let Some(list) = self.users.get(user) else {
            return Vec::new();
        };
        list.iter()
            .map(|b| {
                // Rounded up so a live binding never reads as 0 (removed).
                let left_ms = b.expires_at_ms.saturating_sub(now_ms);
                let left_s = left_ms.div_ceil(1000);
                Binding {
                    uri: b.uri.clone(),
                    expires_in_s: u32::try_from(left_s).unwrap_or(u32::MAX),
                    source: b.source.clone(),
                }
            })
            .collect()
    }

    /// Drops one contact (its device stopped answering), raising `Expired` and, for the last
    /// one, `Unregistered`.
    pub(super) fn remove(&mut self, user: &str, uri: &str) {
        let Some(list) = self.users.get_mut(user) else {
            return;
        };
        let before = list.len();
        list.retain(|b| b.uri != uri);
        if list.len() == before {
            return;
        }
        self.events.push_back(RegistrarEvent::Expired {
            user: user.to_string(),
            uri: uri.to_string(),
        });
        if list.is_empty() {
            self.users.remove(user);
            let user = user.to_string();
            self.events.push_back(RegistrarEvent::Unregistered { user });
        }
        self.recompute_next_expiry();
    }

    /// The user's bindings as kept across a restart (`expires_at_ms` on the caller's clock).
    pub(super) fn saved(&self, user: &str) -> Vec<SavedBinding> {
        let Some(list) = self.users.get(user) else {
            return Vec::new();
        };
        list.iter()
            .map(|b| SavedBinding {
                uri: b.uri.clone(),
                source: b.source.clone(),
                call_id: b.call_id.clone(),
                cseq: b.cseq,
                expires_at_ms: b.expires_at_ms,
            })
            .collect()
    }

    /// Puts back a binding saved before a restart, unless it has run out or the user is full.
    pub(super) fn restore(&mut self, user: &str, saved: SavedBinding, now_ms: u64) -> bool {
        if saved.expires_at_ms <= now_ms || saved.uri.is_empty() {
            return false;
        }
        let list = self.users.entry(user.to_string()).or_default();
        if list.len() >= MAX_CONTACTS_PER_USER || list.iter().any(|b| b.uri == saved.uri) {
            return false;
        }
        let was_registered = !list.is_empty();
        self.touch_counter += 1;
        list.push(StoredBinding {
            uri: saved.uri,
            source: saved.source,
            call_id: saved.call_id,
            cseq: saved.cseq,
            expires_at_ms: saved.expires_at_ms,
            touched: self.touch_counter,
        });
        if !was_registered {
            let user = user.to_string();
            self.events.push_back(RegistrarEvent::Registered { user });
        }
        self.recompute_next_expiry();
        true
    }

    fn recompute_next_expiry(&mut self) {
        self.next_expiry_ms = self.users.values().flatten().map(|b| b.expires_at_ms).min();
    }
}

/// Refreshes the binding for `uri`, or adds it.
fn upsert(
    list: &mut Vec<StoredBinding>,
    req: &RegisterRequest,
    uri: String,
    expires_at_ms: u64,
    touched: u64,
) {
    if let Some(binding) = list.iter_mut().find(|b| b.uri == uri) {
        binding.expires_at_ms = expires_at_ms;
        binding.touched = touched;
        binding.call_id.clone_from(&req.call_id);
        binding.cseq = req.cseq;
        binding.source.clone_from(&req.source);
    } else {
        list.push(StoredBinding {
            uri,
            source: req.source.clone(),
            call_id: req.call_id.clone(),
            cseq: req.cseq,
            expires_at_ms,
            touched,
        });
    }
}

/// Validates Contacts and Expires (RFC 3261 §10.3 steps 6–7) into an update.
pub(super) fn plan_update(req: &RegisterRequest) -> Result<Update, RegisterOutcome> {
    if req.star_contact {
        if !req.contacts.is_empty() || req.expires_header != Some(0) {
            return Err(RegisterOutcome::BadRequest(
                "'*' Contact needs Expires: 0 and no other Contact".to_string(),
            ));
        }
        return Ok(Update::RemoveAll);
    }
    if req.contacts.len() > MAX_CONTACTS_PER_USER {
        return Err(RegisterOutcome::BadRequest("too many Contacts".to_string()));
    }
    let mut items = Vec::with_capacity(req.contacts.len());
    for contact in &req.contacts {
        let uri = normalize_contact(&contact.uri);
        if uri.is_empty() {
            return Err(RegisterOutcome::BadRequest("empty Contact URI".to_string()));
        }
        let asked = contact
            .expires
            .or(req.expires_header)
            .unwrap_or(DEFAULT_EXPIRES_S);
        if asked != 0 && asked < MIN_EXPIRES_S {
            return Err(RegisterOutcome::IntervalTooBrief {
                min_expires: MIN_EXPIRES_S,
            });
        }
        items.push((uri, asked.min(MAX_EXPIRES_S)));
    }
    Ok(Update::Set(items))
}

/// Contacts are compared as sent, minus blanks and angle brackets: a
/// softphone refreshes with the very same string.
fn normalize_contact(uri: &str) -> String {
    let trimmed = uri.trim();
    let inner = trimmed
        .strip_prefix('<')
        .and_then(|rest| rest.strip_suffix('>'))
        .unwrap_or(trimmed);
    inner.trim().to_string()
}
