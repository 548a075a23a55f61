//! Voice messages: instructions, beep, recording, the "1 keep, 2 re-record" review, and the
//! durable save.
//!
//! The run never drops a take it did not have to: silence at the review keeps the message (the
//! caller has said what they wanted and may simply have put the phone down), the last allowed
//! take is kept even if the caller asks to re-record, and a hang-up at any point keeps the take:
//! while the recorder runs it is marked pending in the filed message (the engine files it once
//! the media side has saved it); after it stopped, the message carries its id.
//!
//! The media side saves a take the moment it stops, so `RecordingStopped` already names the
//! durable recording: keeping it needs no further round trip to the engine.

use std::time::Duration;

use super::io::{IvrOutput, IvrTimer, RecordEnd, TakePurpose};
use super::keys::{reprompt, Miss};
use super::{AfterPlay, IvrRun, State, Take};
use crate::ivr::flow::nodes_io::MIN_TAKE_MS;
use crate::ivr::flow::{NodeKind, RecordNode};

/// Extra time the recorder gets past its own limit before the run stops it.
pub(super) const RECORDER_GRACE: Duration = Duration::from_secs(5);
/// How long the review waits for 1 or 2.
const REVIEW_TIMEOUT: Duration = Duration::from_secs(6);

impl IvrRun {
    fn current_record(&self) -> Option<RecordNode> {
        match self.current_kind()? {
            NodeKind::Record(r) => Some(r),
            _ => None,
        }
    }

    /// Plays `before` (e.g. an apology), the instructions and the beep, then records.
    pub(super) fn start_take(&mut self, before: &[String]) {
        let Some(r) = self.current_record() else {
            return;
        };
        let prompts = before
            .iter()
            .chain(&r.prompts)
            .chain(std::iter::once(&r.beep))
            .cloned()
            .collect();
        self.play(prompts, false, AfterPlay::Record);
    }

    pub(super) fn start_recorder(&mut self) {
        let Some(r) = self.current_record() else {
            return;
        };
        self.emit(IvrOutput::StartRecording {
            max: r.max,
            silence: r.silence,
            end_key: r.end_key,
            purpose: TakePurpose::Message,
        });
        self.take = Take::InRecorder;
        self.state = State::Recording { stopping: false };
        self.arm(IvrTimer::RecordingSafety, r.max + RECORDER_GRACE);
    }

    pub(super) fn recording_digit(&mut self, digit: char) {
        if let Some(NodeKind::Mailbox(n)) = self.current_kind() {
            if n.end_key == digit {
                self.stop_recorder();
            }
            return;
        }
        if self.current_record().is_some_and(|r| r.end_key == digit) {
            self.stop_recorder();
        }
    }

    pub(super) fn stop_recorder(&mut self) {
        self.emit(IvrOutput::StopRecording);
        self.state = State::Recording { stopping: true };
        self.arm(IvrTimer::RecordingSafety, RECORDER_GRACE);
    }

    /// The recorder ran past its limit: stop it, and if it still does not answer, take it as
    /// stopped at its maximum length.
    pub(super) fn recording_overdue(&mut self) {
        match self.state {
            State::Recording { stopping: false } => self.stop_recorder(),
            _ => {
                let max_ms = match self.current_kind() {
                    Some(NodeKind::Record(r)) => r.max.as_millis(),
                    Some(NodeKind::Mailbox(n)) => n.max.as_millis(),
                    _ => 0,
                };
                let max_ms = u64::try_from(max_ms).unwrap_or(u64::MAX);
                self.on_recording_stopped(max_ms, RecordEnd::MaxLength, None);
            }
        }
    }

    pub(super) fn on_recording_stopped(
        &mut self,
        duration_ms: u64,
        reason: RecordEnd,
        recording: Option<String>,
    ) {
        if let Some(NodeKind::Mailbox(n)) = self.current_kind() {
            return self.reply_stopped(&n, duration_ms, reason, recording);
        }
        let Some(r) = self.current_record() else {
            return;
        };
        if !matches!(self.state, State::Recording { .. }) {
            return;
        }
        self.timer = None;
        if reason == RecordEnd::HangUp {
            // `CallEnded` follows and files the take as pending.
            self.state = State::Recording { stopping: true };
            return;
        }
        self.takes += 1;
        self.take = Take::Recorded(recording);
        if duration_ms >= MIN_TAKE_MS {
            self.attempts = 0;
            return self.play(r.review_prompts.clone(), true, AfterPlay::ReviewKey);
        }
        self.emit(IvrOutput::DiscardRecording);
        self.take = Take::None;
        if self.takes < r.max_takes {
            self.start_take(std::slice::from_ref(&r.empty_prompt));
        } else {
            match &r.retry.fallback {
                Some(fallback) => self.go(fallback, None),
                None => self.play(vec![r.retry.fail_prompt.clone()], false, AfterPlay::Hangup),
            }
        }
    }

    pub(super) fn wait_review_key(&mut self) {
        self.state = State::ReviewKey;
        self.arm(IvrTimer::NoInput, REVIEW_TIMEOUT);
    }

    pub(super) fn review_digit(&mut self, digit: char) {
        let Some(r) = self.current_record() else {
            return;
        };
        self.timer = None;
        match digit {
            '2' if self.takes < r.max_takes => {
                self.emit(IvrOutput::DiscardRecording);
                self.take = Take::None;
                self.start_take(&[]);
            }
            // The last allowed take is kept rather than lost.
            '1' | '2' => self.keep_take(),
            '*' => self.play(r.review_prompts.clone(), true, AfterPlay::ReviewKey),
            _ => self.review_miss(&r, Miss::Invalid),
        }
    }

    pub(super) fn review_no_input(&mut self) {
        if let Some(r) = self.current_record() {
            self.review_miss(&r, Miss::NoInput);
        }
    }

    fn review_miss(&mut self, r: &RecordNode, miss: Miss) {
        self.attempts += 1;
        if self.attempts <= r.retry.retries {
            let prompts = reprompt(&r.retry, miss, &r.review_prompts);
            self.play(prompts, true, AfterPlay::ReviewKey);
        } else {
            self.keep_take();
        }
    }

    /// The caller keeps the take: it was saved when it stopped, so the flow goes on at once;
    /// a take that could not be saved leads to the node's failure path instead.
    fn keep_take(&mut self) {
        let Some(r) = self.current_record() else {
            return;
        };
        self.timer = None;
        let Take::Recorded(Some(recording_id)) = std::mem::replace(&mut self.take, Take::None)
        else {
            return self.recording_failed(&r);
        };
        self.take = Take::Kept(recording_id.clone());
        self.vars.insert("recording".to_owned(), recording_id);
        self.go(&r.next, None);
    }

    fn recording_failed(&mut self, r: &RecordNode) {
        self.take = Take::None;
        match &r.on_failure {
            Some(on_failure) => self.go(on_failure, None),
            None => self.play(vec![r.failure_prompt.clone()], false, AfterPlay::Hangup),
        }
    }
}
