//! The recordings that outlive a moment of the call: conversations being recorded on a caller's
//! leg (attached to the call's message once saved), and messages waiting for the take their
//! caller hung up on to be saved. Both may finish after the call itself has ended, so they are
//! kept here, keyed by media leg, rather than on the call.

use std::collections::HashMap;

use crate::engine::call::CallKey;
use crate::engine::store_io::NewMessage;
use crate::media::api::LegId;

#[derive(Debug, Default)]
pub struct Recordings {
    /// Caller legs recording a conversation → the call's reference (its message's key).
    conversations: HashMap<LegId, String>,
    /// Messages naming a take still in the recorder, filed once the media side has saved it.
    waiting_files: HashMap<LegId, (CallKey, NewMessage)>,
}

impl Recordings {
    pub fn conversation_started(&mut self, leg: LegId, call_ref: String) {
        self.conversations.insert(leg, call_ref);
    }

    /// The call reference of the conversation `leg` was recording, if it was.
    pub fn conversation_finished(&mut self, leg: LegId) -> Option<String> {
        self.conversations.remove(&leg)
    }

    pub fn wait_for_take(&mut self, leg: LegId, call: CallKey, message: NewMessage) {
        self.waiting_files.insert(leg, (call, message));
    }

    /// The message that was waiting for `leg`'s take, now that it is saved (or failed).
    pub fn take_saved(&mut self, leg: LegId) -> Option<(CallKey, NewMessage)> {
        self.waiting_files.remove(&leg)
    }

    /// No message is waiting for a take.
    pub fn nothing_waiting(&self) -> bool {
        self.waiting_files.is_empty()
    }
}

/// Whether a recording name is a manager's voice reply (`DAY/CALLREF-reply-RANDOM.wav` by phone,
/// `DAY/web-reply-RANDOM.wav` from the browser) rather than a citizen's take
/// (`DAY/CALLREF-takeN-RANDOM.wav`) or a conversation (`DAY/CALLREF-conversation-…`). A reply belongs to the message it answers,
/// never to the call that recorded it: it is deleted when unsent and never filed as a message.
pub fn is_reply_take(name: &str) -> bool {
    name.rsplit('/')
        .next()
        .is_some_and(|file| file.contains("-reply-"))
}
