//! The managers' voice mailbox (`*98`): a manager logs in (`login.rs`), hears the citizens'
//! messages referred to the mailbox and records voice replies (`player.rs`).
//!
//! The same sans-IO contract as the rest of the run: a login is `VerifyManager` answered by
//! `ManagerLogin`, a reply or a mark is `SendReply`/`MarkHandled` answered by `MailboxSaved`,
//! and "sent" is said only after `MailboxSaved(true)`, that is after the store committed the
//! reply's row (the take itself was saved durably by the media side when it stopped).
//!
//! A manager's call is not a citizen's message: a flow with these nodes never files one
//! (`Flow::files_messages`), and a reply take that was not sent (the manager re-records, lets
//! the review time out or hangs up) is discarded.

use super::io::{IvrOutput, IvrTimer, MailboxItem};
use super::{AfterPlay, IvrRun, State};
use crate::ivr::flow::NodeKind;

mod login;
mod player;

/// What a mailbox node waits for in `State::MailboxKeys`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wait {
    /// Login: the mailbox number, up to `#`.
    MailboxNumber,
    /// Login: the PIN, up to `#`.
    Pin,
    /// The item menu: 1 reply, 2 next, 3 repeat, 4 previous, 9 handled.
    ItemKey,
    /// The reply review: 1 send, 2 re-record, 3 listen.
    ReviewKey,
}

/// What follows a mailbox prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum After {
    /// Wait for keys.
    Wait(Wait),
    /// Play the current message.
    Item,
    /// Play the item menu, then wait for its key.
    Menu,
    /// Start the reply recorder (after the instructions and the beep).
    Record,
    /// On to the next message, or the end of the list.
    Advance,
    /// Leave the node by `next`.
    Leave,
    /// Leave the login by `fail`.
    Fail,
}

/// What an `AwaitMailboxSaved` is waiting for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Saving {
    Reply,
    Mark,
}

/// A manager's session: who logged in, the messages, and the reply take in hand.
#[derive(Debug, Default)]
pub(crate) struct Session {
    /// The mailbox keyed at the login (kept while the PIN is keyed).
    pub(crate) typed_mailbox: String,
    /// Logins spent (wrong PIN or silence).
    pub(crate) tries: u32,
    pub(crate) items: Vec<MailboxItem>,
    pub(crate) index: usize,
    /// The reply recorder is running.
    pub(crate) recording: bool,
    /// A reply take recorded and saved by the media side, not sent yet.
    pub(crate) reply: Option<String>,
    /// A `SendReply` or `MarkHandled` not answered yet.
    pub(crate) saving: Option<Saving>,
}

impl IvrRun {
    pub(super) fn mailbox_after(&mut self, after: After) {
        match after {
            After::Wait(wait) => self.wait_mailbox_keys(wait),
            After::Item => self.play_item(),
            After::Menu => self.play_item_menu(&[]),
            After::Record => self.start_reply_recorder(),
            After::Advance => self.next_item(),
            After::Leave => self.leave_mailbox(),
            After::Fail => self.login_failed(),
        }
    }

    /// A key during a barge-in mailbox prompt: a key during a message (or the count before the
    /// first) is an item-menu key, so a manager who knows the menu need not hear it out.
    pub(super) fn mailbox_barge_in(&mut self, after: After, digit: char) {
        match after {
            After::Wait(wait) => {
                self.state = State::MailboxKeys(wait);
                self.mailbox_key(wait, digit);
            }
            After::Menu | After::Item => {
                self.state = State::MailboxKeys(Wait::ItemKey);
                self.item_key(digit);
            }
            // Never played with barge-in: keep the prompt's own continuation.
            other => self.mailbox_after(other),
        }
    }

    pub(super) fn wait_mailbox_keys(&mut self, wait: Wait) {
        self.state = State::MailboxKeys(wait);
        let after = match (wait, self.current_kind()) {
            (Wait::MailboxNumber | Wait::Pin, Some(NodeKind::MailboxLogin(n))) => {
                if self.digits.is_empty() {
                    (IvrTimer::FirstDigit, n.first_digit_timeout)
                } else {
                    (IvrTimer::InterDigit, n.inter_digit_timeout)
                }
            }
            (Wait::ItemKey | Wait::ReviewKey, Some(NodeKind::Mailbox(n))) => {
                (IvrTimer::NoInput, n.timeout)
            }
            _ => return,
        };
        self.arm(after.0, after.1);
    }

    pub(super) fn mailbox_key(&mut self, wait: Wait, digit: char) {
        self.timer = None;
        match wait {
            Wait::MailboxNumber | Wait::Pin => self.login_digit(wait, digit),
            Wait::ItemKey => self.item_key(digit),
            Wait::ReviewKey => self.review_reply_key(digit),
        }
    }

    pub(super) fn mailbox_timer(&mut self, timer: IvrTimer, wait: Wait) {
        match (timer, wait) {
            (IvrTimer::FirstDigit, Wait::MailboxNumber | Wait::Pin) => self.login_no_input(),
            (IvrTimer::InterDigit, Wait::MailboxNumber | Wait::Pin) => self.login_field_done(),
            (IvrTimer::NoInput, Wait::ItemKey) => self.item_miss(super::keys::Miss::NoInput),
            (IvrTimer::NoInput, Wait::ReviewKey) => {
                self.review_miss_reply(super::keys::Miss::NoInput)
            }
            _ => {}
        }
    }

    /// A mailbox prompt, then `after`.
    pub(super) fn mailbox_play(&mut self, prompts: Vec<String>, barge_in: bool, after: After) {
        self.play(prompts, barge_in, AfterPlay::Mailbox(after));
    }

    /// The call ends or the flow hangs up with a reply take that was never sent: delete it (a
    /// reply being sent is left alone: the store may be committing it right now).
    pub(super) fn discard_unsent_reply(&mut self) {
        if self.mailbox.saving == Some(Saving::Reply) {
            return;
        }
        if self.mailbox.recording || self.mailbox.reply.is_some() {
            self.mailbox.recording = false;
            self.mailbox.reply = None;
            self.emit(IvrOutput::DiscardRecording);
        }
    }
}
