//! Following up a message by its tracking code on the phone, guarded against guessing.
//!
//! Why here and not in the IVR run: a run lives for one call, and someone walking codes simply
//! calls again. The engine sees every call from a number, so it counts a caller's codes that
//! named no message over a sliding window; past the limit a lookup is refused without asking the
//! store (the flow's `limited` branch says to try later and hands the caller to a person), so
//! further guesses from that number learn nothing until the window has passed. And a manager's voice reply is for the citizen who left the message: it is played
//! only when the caller's number is the message's; anyone else with the code hears the status.

use crate::engine::StoreQuery;
use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use crate::engine::app::ivr::CallInfo;
use crate::engine::call::CallKey;
use crate::engine::Engine;
use crate::ivr::{IvrInput, MessageStatus};

/// Codes that named no message, per caller number, before lookups are refused...
pub const MAX_MISSED_CODES: usize = crate::ivr::FOLLOW_UP_MISSES_ALLOWED;
/// ...within this sliding window.
pub const MISSED_CODES_WINDOW: Duration = Duration::from_secs(15 * 60);
/// Callers remembered at most; past this, numbers with no miss in the window are forgotten.
const MAX_CALLERS: usize = 10_000;

/// Each caller number's recent misses (times on the engine clock, oldest first).
#[derive(Debug, Default)]
pub struct FollowUpGuard {
    misses: HashMap<String, VecDeque<Duration>>,
}

impl FollowUpGuard {
    /// Has `caller` used up its misses for now?
    pub fn limited(&mut self, caller: &str, now: Duration) -> bool {
        let Some(times) = self.misses.get_mut(caller) else {
            return false;
        };
        forget_old(times, now);
        times.len() >= MAX_MISSED_CODES
    }

    /// A code from `caller` named no message.
    pub fn missed(&mut self, caller: &str, now: Duration) {
        if self.misses.len() >= MAX_CALLERS && !self.misses.contains_key(caller) {
            self.misses.retain(|_, times| {
                forget_old(times, now);
                !times.is_empty()
            });
        }
        let times = self.misses.entry(caller.to_string()).or_default();
        forget_old(times, now);
        times.push_back(now);
    }

    /// Numbers currently remembered.
    #[cfg(test)]
    pub fn callers(&self) -> usize {
        self.misses.len()
    }
}

fn forget_old(times: &mut VecDeque<Duration>, now: Duration) {
    while times
        .front()
        .is_some_and(|&at| now.saturating_sub(at) >= MISSED_CODES_WINDOW)
    {
        times.pop_front();
    }
}

/// What `caller` may hear of `message`: the status always, the manager's reply only when the
/// caller is the number that left the message.
pub fn for_caller(mut message: MessageStatus, caller: &str) -> MessageStatus {
    if message.caller != caller {
        message.has_voice_reply = false;
        message.reply_recording_id = None;
    }
    message
}

impl Engine {
    /// The run asks for a message by code: to the store, unless this caller is over the limit
    /// (then "not found" at once, fed back to the run).
    pub(crate) fn look_up_message(
        &mut self,
        info: &CallInfo,
        tracking_code: String,
        now: Duration,
    ) -> Option<IvrInput> {
        if self.follow_up.limited(&info.caller, now) {
            tracing::info!(call = info.key.0, "follow-up refused: too many wrong codes");
            return Some(IvrInput::LookupRefused);
        }
        self.query(StoreQuery::LookupMessage {
            call: info.key,
            tracking_code,
        });
        None
    }

    /// The store's answer to a lookup, as the call's caller may hear it; a miss is counted.
    pub(crate) fn message_found(
        &mut self,
        call: CallKey,
        status: Option<MessageStatus>,
        now: Duration,
    ) -> IvrInput {
        let caller = self
            .calls
            .get(call)
            .map(|c| c.record.from.clone())
            .unwrap_or_default();
        match status {
            Some(message) => IvrInput::MessageFound(Some(for_caller(message, &caller))),
            None => {
                self.follow_up.missed(&caller, now);
                IvrInput::MessageFound(None)
            }
        }
    }
}

#[cfg(test)]
mod tests;
