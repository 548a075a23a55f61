//! `mailbox`: "you have N new messages", then each message (its date in Jalali words, its line
//! and kind, the citizen's recording) and the item menu: 1 record a reply, 2 next, 3 repeat,
//! 4 previous, 9 handled without a reply.
//!
//! A reply is a take like a citizen's (instructions, beep, `#` ends it, saved durably by the
//! media side when it stops), then a review: 1 send, 2 re-record, 3 listen. Sending asks the
//! engine to write the reply's row; "sent" is said only after `MailboxSaved(true)`. A failed
//! save keeps the take and returns to the review, so the manager can try again.

use super::{After, Saving, Wait};
use crate::ivr::flow::nodes_io::MIN_TAKE_MS;
use crate::ivr::flow::{MailboxNode, NodeKind};
use crate::ivr::run::io::{recording_prompt, IvrOutput, IvrTimer, RecordEnd, TakePurpose};
use crate::ivr::run::keys::Miss;
use crate::ivr::run::record::RECORDER_GRACE;
use crate::ivr::run::{IvrRun, State, ENGINE_REPLY_TIMEOUT};
use crate::ivr::words;

impl IvrRun {
    fn current_player(&self) -> Option<MailboxNode> {
        match self.current_kind()? {
            NodeKind::Mailbox(n) => Some(*n),
            _ => None,
        }
    }

    pub(in crate::ivr::run) fn enter_player(&mut self, n: &MailboxNode, _pending: Option<char>) {
        self.mailbox.index = 0;
        if self.mailbox.items.is_empty() {
            return self.mailbox_play(vec![n.empty_prompt.clone()], false, After::Leave);
        }
        let new = self.mailbox.items.iter().filter(|i| i.is_new).count();
        let prompts = if new == 0 {
            vec![n.no_new_prompt.clone()]
        } else {
            let mut prompts = vec![n.count_prompts.0.clone()];
            prompts.extend(words::number_prompts(new as u64));
            prompts.push(n.count_prompts.1.clone());
            prompts
        };
        self.mailbox_play(prompts, true, After::Item);
    }

    /// The current message: its header, then the citizen's recording; the listen is audited.
    pub(super) fn play_item(&mut self) {
        let Some(n) = self.current_player() else {
            return;
        };
        let Some(item) = self.mailbox.items.get(self.mailbox.index).cloned() else {
            return self.leave_mailbox();
        };
        self.attempts = 0;
        let mut prompts = vec![n.item_prompt.clone()];
        prompts.extend(words::date_prompts(item.received));
        prompts.extend(n.line_prompt(&item.line));
        prompts.push(n.kind_prompt(item.kind));
        prompts.push(recording_prompt(&item.recording_id));
        self.emit(IvrOutput::MailboxListened {
            tracking_code: item.tracking_code,
        });
        self.mailbox_play(prompts, true, After::Menu);
    }

    /// `before` (an apology or a notice), then the item menu.
    pub(super) fn play_item_menu(&mut self, before: &[String]) {
        let Some(n) = self.current_player() else {
            return;
        };
        let prompts = before.iter().chain(&n.menu_prompts).cloned().collect();
        self.mailbox_play(prompts, true, After::Wait(Wait::ItemKey));
    }

    pub(super) fn item_key(&mut self, digit: char) {
        let Some(n) = self.current_player() else {
            return;
        };
        self.timer = None;
        match digit {
            '1' => self.ask_reply(&n, &[]),
            '2' => self.next_item(),
            '3' => self.play_item(),
            '4' => {
                self.mailbox.index = self.mailbox.index.saturating_sub(1);
                self.play_item();
            }
            '9' => {
                let Some(item) = self.mailbox.items.get(self.mailbox.index) else {
                    return self.leave_mailbox();
                };
                let tracking_code = item.tracking_code.clone();
                self.emit(IvrOutput::MarkHandled { tracking_code });
                self.await_saved(Saving::Mark);
            }
            '*' => self.play_item_menu(&[]),
            _ => self.item_miss(Miss::Invalid),
        }
    }

    pub(super) fn item_miss(&mut self, miss: Miss) {
        let Some(n) = self.current_player() else {
            return;
        };
        self.attempts += 1;
        if self.attempts > n.retries {
            return self.leave_mailbox();
        }
        let apology = match miss {
            Miss::NoInput => n.no_input_prompt.clone(),
            Miss::Invalid => n.invalid_prompt.clone(),
        };
        self.play_item_menu(&[apology]);
    }

    pub(super) fn next_item(&mut self) {
        let Some(n) = self.current_player() else {
            return;
        };
        self.mailbox.index += 1;
        if self.mailbox.index >= self.mailbox.items.len() {
            self.mailbox.index = self.mailbox.items.len().saturating_sub(1);
            return self.mailbox_play(vec![n.end_prompt.clone()], false, After::Leave);
        }
        self.play_item();
    }

    pub(super) fn leave_mailbox(&mut self) {
        let Some(n) = self.current_player() else {
            return;
        };
        self.discard_unsent_reply();
        self.go(&n.next, None);
    }

    /// `before`, the reply instructions and the beep, then the recorder.
    fn ask_reply(&mut self, n: &MailboxNode, before: &[String]) {
        let prompts = before
            .iter()
            .chain(&n.reply_prompts)
            .chain(std::iter::once(&n.beep))
            .cloned()
            .collect();
        self.mailbox_play(prompts, false, After::Record);
    }

    pub(super) fn start_reply_recorder(&mut self) {
        let Some(n) = self.current_player() else {
            return;
        };
        self.emit(IvrOutput::StartRecording {
            max: n.max,
            silence: n.silence,
            end_key: n.end_key,
            purpose: TakePurpose::Reply,
        });
        self.mailbox.recording = true;
        self.state = State::Recording { stopping: false };
        self.arm(IvrTimer::RecordingSafety, n.max + RECORDER_GRACE);
    }

    pub(in crate::ivr::run) fn reply_stopped(
        &mut self,
        n: &MailboxNode,
        duration_ms: u64,
        reason: RecordEnd,
        recording: Option<String>,
    ) {
        if !matches!(self.state, State::Recording { .. }) {
            return;
        }
        self.timer = None;
        if reason == RecordEnd::HangUp {
            // `CallEnded` follows and discards the take.
            self.state = State::Recording { stopping: true };
            return;
        }
        self.mailbox.recording = false;
        let Some(id) = recording else {
            // The media side could not save it: there is nothing to send or delete.
            return self.play_item_menu(std::slice::from_ref(&n.record_failed_prompt));
        };
        if duration_ms < MIN_TAKE_MS {
            self.emit(IvrOutput::DiscardRecording);
            return self.play_item_menu(std::slice::from_ref(&n.empty_take_prompt));
        }
        self.mailbox.reply = Some(id);
        self.attempts = 0;
        self.mailbox_play(n.review_prompts.clone(), true, After::Wait(Wait::ReviewKey));
    }

    pub(super) fn review_reply_key(&mut self, digit: char) {
        let Some(n) = self.current_player() else {
            return;
        };
        let Some(reply) = self.mailbox.reply.clone() else {
            return self.play_item_menu(&[]);
        };
        match digit {
            '1' => {
                let Some(item) = self.mailbox.items.get(self.mailbox.index) else {
                    return self.leave_mailbox();
                };
                self.emit(IvrOutput::SendReply {
                    tracking_code: item.tracking_code.clone(),
                    recording_id: reply,
                });
                self.await_saved(Saving::Reply);
            }
            '2' => {
                self.mailbox.reply = None;
                self.emit(IvrOutput::DiscardRecording);
                self.ask_reply(&n, &[]);
            }
            '3' => {
                let prompts = std::iter::once(recording_prompt(&reply))
                    .chain(n.review_prompts.iter().cloned())
                    .collect();
                self.mailbox_play(prompts, true, After::Wait(Wait::ReviewKey));
            }
            '*' => self.mailbox_play(n.review_prompts.clone(), true, After::Wait(Wait::ReviewKey)),
            _ => self.review_miss_reply(Miss::Invalid),
        }
    }

    /// A wrong key or silence at the review; past the retries the manager has gone: the unsent
    /// take is discarded and the node left (a reply is never sent without a key).
    pub(super) fn review_miss_reply(&mut self, miss: Miss) {
        let Some(n) = self.current_player() else {
            return;
        };
        self.attempts += 1;
        if self.attempts > n.retries {
            return self.leave_mailbox();
        }
        let apology = match miss {
            Miss::NoInput => n.no_input_prompt.clone(),
            Miss::Invalid => n.invalid_prompt.clone(),
        };
        let prompts = std::iter::once(apology)
            .chain(n.review_prompts.iter().cloned())
            .collect();
        self.mailbox_play(prompts, true, After::Wait(Wait::ReviewKey));
    }

    fn await_saved(&mut self, saving: Saving) {
        self.mailbox.saving = Some(saving);
        self.state = State::AwaitMailboxSaved;
        self.arm(IvrTimer::EngineReply, ENGINE_REPLY_TIMEOUT);
    }

    /// The engine's answer to `SendReply` or `MarkHandled` (a silent engine counts as a
    /// failure: the manager never hears "sent" for a reply that may not be saved).
    pub(in crate::ivr::run) fn on_mailbox_saved(&mut self, saved: bool) {
        let Some(n) = self.current_player() else {
            return;
        };
        self.timer = None;
        let saving = self.mailbox.saving.take();
        if saved {
            if let Some(item) = self.mailbox.items.get_mut(self.mailbox.index) {
                item.is_new = false;
            }
        }
        match (saving, saved) {
            (Some(Saving::Reply), true) => {
                // The take is the message's reply now: never discarded.
                self.mailbox.reply = None;
                self.mailbox_play(vec![n.sent_prompt.clone()], false, After::Advance);
            }
            (Some(Saving::Reply), false) => {
                let prompts = std::iter::once(n.not_saved_prompt.clone())
                    .chain(n.review_prompts.iter().cloned())
                    .collect();
                self.mailbox_play(prompts, true, After::Wait(Wait::ReviewKey));
            }
            (_, true) => self.mailbox_play(vec![n.marked_prompt.clone()], false, After::Advance),
            (_, false) => self.play_item_menu(std::slice::from_ref(&n.not_saved_prompt)),
        }
    }
}
