//! The owner of each call's one message: whether it was opened (when the call entered a queue)
//! and with which tracking code, and the filings that wait for the opening's answer. It is the
//! only place that decides a filing's `FilingStage`, and it outlives the call while an answer
//! is pending, so the store only ever sees a whole message, an opening, or the completion of an
//! opening it has committed (`store/filing.rs` has one path per stage).

use std::collections::HashMap;

use crate::engine::call::CallKey;
use crate::engine::store_io::{FilingStage, NewMessage};

/// The kinds that are reports: criticism, suggestion, complaint, appreciation, and (137) an
/// urban problem.
pub fn is_report(kind: &str) -> bool {
    matches!(
        kind,
        "criticism" | "suggestion" | "complaint" | "appreciation" | "urban_problem"
    )
}

/// Whether a call's one message gets a tracking code: a report does, and so does every call
/// that entered an agent queue (its message is opened with a code as it enters, so the
/// call-taker's phone can show it). Nothing else does: a case inquiry, a follow-up, guidance, an
/// unusable call, and a hang-up before the caller chose a report (its kind is then one of
/// those). The one rule for the store (`store/filing.rs`) and `flows simulate`, so the
/// simulator prints a code exactly when the engine would give one.
pub fn gets_tracking_code(kind: &str, entered_queue: bool) -> bool {
    entered_queue || is_report(kind)
}

/// A call's message as far as it has been filed.
#[derive(Debug, Clone, PartialEq, Eq)]
enum CallMessage {
    /// The opening was sent; the store has not answered yet.
    Opening,
    /// Opened and committed, with its tracking code.
    Opened { tracking_code: Option<String> },
}

#[derive(Debug, Default)]
pub struct Filings {
    /// Calls whose message was opened or is being opened (absent: nothing filed yet).
    messages: HashMap<CallKey, CallMessage>,
    /// Filings made while the call's opening was unanswered, sent once it is.
    held: HashMap<CallKey, NewMessage>,
}

impl Filings {
    /// How a filing of `call`'s message relates to what was filed before: whole, or the
    /// completion of the committed opening; `None` while the opening is unanswered (the filing
    /// waits, `hold`).
    pub fn stage(&self, call: CallKey) -> Option<FilingStage> {
        match self.messages.get(&call) {
            None => Some(FilingStage::Whole),
            Some(CallMessage::Opening) => None,
            Some(CallMessage::Opened { .. }) => Some(FilingStage::Complete),
        }
    }

    /// The opening of `call`'s message was sent to the store.
    pub fn opening_sent(&mut self, call: CallKey) {
        self.messages.insert(call, CallMessage::Opening);
    }

    /// The store answered the opening: committed with its code, or (`None`) not saved, in which
    /// case the message is filed whole later. Returns a filing that waited for this answer,
    /// with its stage settled.
    pub fn opened(
        &mut self,
        call: CallKey,
        saved: bool,
        code: Option<String>,
    ) -> Option<NewMessage> {
        if saved {
            let opened = CallMessage::Opened {
                tracking_code: code,
            };
            self.messages.insert(call, opened);
        } else {
            self.messages.remove(&call);
        }
        let mut held = self.held.remove(&call)?;
        held.stage = if saved {
            FilingStage::Complete
        } else {
            FilingStage::Whole
        };
        Some(held)
    }

    pub fn hold(&mut self, call: CallKey, message: NewMessage) {
        self.held.insert(call, message);
    }

    /// The tracking code of `call`'s opened message (shown on the agent's phone).
    pub fn tracking_code(&self, call: CallKey) -> Option<&str> {
        match self.messages.get(&call) {
            Some(CallMessage::Opened { tracking_code }) => tracking_code.as_deref(),
            _ => None,
        }
    }

    /// The call ended (its flow has filed): forget it, unless its opening is unanswered.
    pub fn call_ended(&mut self, call: CallKey) {
        if self.messages.get(&call) != Some(&CallMessage::Opening) {
            self.messages.remove(&call);
        }
    }

    /// No filing waits for an opening's answer.
    pub fn nothing_held(&self) -> bool {
        self.held.is_empty()
    }
}
