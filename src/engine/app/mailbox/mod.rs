//! The engine's side of the managers' voice mailbox (`*98`, flow `ivr-flows/mailbox.yaml`):
//! logins guarded against PIN guessing, and the store requests of the player.
//!
//! Why the guard lives here and not in the run: a run lives for one call, and someone guessing
//! PINs simply calls again. The engine sees every call, so it counts wrong PINs per mailbox and
//! per source address over a sliding window on its own clock; past either limit the login is
//! refused (`LoginResult::Limited`) without asking the store, so further guesses learn nothing
//! until the window has passed.
//!
//! The mailbox a call acts for is the one the store accepted for it (`Call::manager`), never a
//! value the run sends later: replies, marks and audit rows name that mailbox.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::time::Duration;

use crate::engine::app::ivr::CallInfo;
use crate::engine::call::CallKey;
use crate::engine::store_io::ManagerCheck;
use crate::engine::{Engine, StoreQuery, StoreWrite};
use crate::ivr::{IvrInput, LoginResult};

/// The line name of the mailbox flow: `Destination::Mailbox` (`*98`) runs this flow.
pub const MAILBOX_LINE: &str = "mailbox";
/// Wrong PINs for one mailbox, from anywhere, before its logins are refused...
pub const MAX_WRONG_PER_MAILBOX: usize = 5;
/// ...and from one source address, for any mailbox (one caller walking mailboxes)...
pub const MAX_WRONG_PER_SOURCE: usize = 10;
/// ...within this sliding window.
pub const WRONG_PIN_WINDOW: Duration = Duration::from_secs(15 * 60);
/// Keys remembered at most per map; past this, keys with no failure in the window are
/// forgotten (a flood of distinct mailboxes cannot grow the map without bound).
const MAX_KEYS: usize = 10_000;

/// Recent wrong PINs (times on the engine clock, oldest first) per mailbox and per source.
#[derive(Debug, Default)]
pub struct PinGuard {
    by_mailbox: Failures<String>,
    by_source: Failures<IpAddr>,
}

impl PinGuard {
    /// Are logins to `mailbox`, or from `source`, refused for now?
    pub fn limited(&mut self, mailbox: &str, source: IpAddr, now: Duration) -> bool {
        self.by_mailbox.count(&mailbox.to_string(), now) >= MAX_WRONG_PER_MAILBOX
            || self.by_source.count(&source, now) >= MAX_WRONG_PER_SOURCE
    }

    /// A wrong PIN (or unknown mailbox) for `mailbox` from `source`.
    pub fn failed(&mut self, mailbox: &str, source: IpAddr, now: Duration) {
        self.by_mailbox.add(mailbox.to_string(), now);
        self.by_source.add(source, now);
    }
}

#[derive(Debug)]
struct Failures<K> {
    times: HashMap<K, VecDeque<Duration>>,
}

impl<K> Default for Failures<K> {
    fn default() -> Self {
        Failures {
            times: HashMap::new(),
        }
    }
}

impl<K: std::hash::Hash + Eq> Failures<K> {
    fn count(&mut self, key: &K, now: Duration) -> usize {
        self.times.get_mut(key).map_or(0, |times| {
            forget_old(times, now);
            times.len()
        })
    }

    fn add(&mut self, key: K, now: Duration) {
        if self.times.len() >= MAX_KEYS && !self.times.contains_key(&key) {
            self.times.retain(|_, times| {
                forget_old(times, now);
                !times.is_empty()
            });
        }
        let times = self.times.entry(key).or_default();
        forget_old(times, now);
        times.push_back(now);
    }
}

fn forget_old(times: &mut VecDeque<Duration>, now: Duration) {
    while times
        .front()
        .is_some_and(|&at| now.saturating_sub(at) >= WRONG_PIN_WINDOW)
    {
        times.pop_front();
    }
}

/// The actor written in audit rows for a manager on the phone.
fn actor(mailbox: &str) -> String {
    format!("manager:{mailbox}")
}

impl Engine {
    pub(crate) fn has_flow(&self, line: &str) -> bool {
        self.flows.as_ref().is_some_and(|f| f.get(line).is_some())
    }

    /// The run asks to log a manager in: refused at once past the guard's limits, else asked of
    /// the store.
    pub(crate) fn verify_manager(
        &mut self,
        info: &CallInfo,
        mailbox: String,
        pin: crate::ivr::Pin,
        now: Duration,
    ) -> Option<IvrInput> {
        if self.pin_guard.limited(&mailbox, info.source, now) {
            tracing::info!(call = info.key.0, %mailbox, source = %info.source,
                "mailbox login refused: too many wrong PINs");
            return Some(IvrInput::ManagerLogin(LoginResult::Limited));
        }
        self.query(StoreQuery::VerifyManager {
            call: info.key,
            mailbox,
            pin,
        });
        None
    }

    /// The store's verdict on a login, as the run hears it; a wrong PIN is counted and logged
    /// (mailbox and source, never the PIN).
    pub(crate) fn manager_verified(
        &mut self,
        call: CallKey,
        mailbox: String,
        check: ManagerCheck,
        now: Duration,
    ) -> IvrInput {
        let source = self.calls.get(call).map(|c| c.peer.addr.ip());
        match check {
            ManagerCheck::Accepted(items) => {
                if let Some(c) = self.calls.get_mut(call) {
                    c.manager = Some(mailbox.clone());
                }
                tracing::info!(call = call.0, %mailbox, "manager logged in to the mailbox");
                IvrInput::ManagerLogin(LoginResult::Accepted { mailbox, items })
            }
            ManagerCheck::Wrong => {
                if let Some(source) = source {
                    self.pin_guard.failed(&mailbox, source, now);
                    tracing::info!(call = call.0, %mailbox, %source, "mailbox login failed");
                }
                IvrInput::ManagerLogin(LoginResult::Wrong)
            }
            ManagerCheck::Failed => IvrInput::ManagerLogin(LoginResult::Wrong),
        }
    }

    /// `SendReply` or `MarkHandled` (reply `None`): to the store for the call's own mailbox; a
    /// call that did not log in is answered "not saved" at once.
    pub(crate) fn save_in_mailbox(
        &mut self,
        info: &CallInfo,
        tracking_code: String,
        reply: Option<String>,
    ) -> Option<IvrInput> {
        let Some(mailbox) = info.manager.clone() else {
            tracing::warn!(
                call = info.key.0,
                "mailbox request from a call not logged in"
            );
            return Some(IvrInput::MailboxSaved(false));
        };
        let call = info.key;
        self.query(match reply {
            Some(recording) => StoreQuery::SaveReply {
                call,
                tracking_code,
                recording,
                mailbox,
            },
            None => StoreQuery::MarkHandled {
                call,
                tracking_code,
                mailbox,
            },
        });
        None
    }

    /// The manager was played a message: an audit row (who, what, when).
    pub(crate) fn mailbox_listened(&mut self, info: &CallInfo, tracking_code: String) {
        let Some(mailbox) = info.manager.as_deref() else {
            return;
        };
        self.write(StoreWrite::Audit {
            actor: actor(mailbox),
            channel: "phone".into(),
            action: "listen".into(),
            tracking_code: Some(tracking_code),
            detail: format!("call {}", info.call_ref),
        });
    }
}

#[cfg(test)]
mod tests;
