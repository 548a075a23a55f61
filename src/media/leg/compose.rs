//! The per-tick decisions of a leg: which audio goes out, what the recorder takes, what a digit
//! does. Split from `leg/mod.rs` to keep the state and its public API on one page.
//!
//! Decisions made here (see docs/media.md):
//! - Barge-in: a digit during a `Play { barge_in: true }` is reported as `Digit` and stops the
//!   queue *without* `PlaybackFinished`. The engine's IVR moves on when it sees the digit; a late
//!   `PlaybackFinished` would be mistaken for the end of the *next* prompt it starts.
//! - The recording's end key ends the recording (`RecordingEnd::Key`) and is not reported as a
//!   `Digit`: it belongs to the recorder, and must not also be taken as a menu choice.
//! - A bridged leg records both directions mixed (what it hears plus what it sends).

use super::super::api::{Idle, MediaEvent, RecordingEnd};
use super::play::Filled;
use super::{Leg, LegEvent, EVENTS_LIMIT, RELAY_DIGITS};

impl Leg {
    /// Fills `self.out` with this tick's outgoing audio.
    pub(super) fn compose(&mut self) {
        if self.compose_playback() {
            return;
        }
        if self.peer.is_some() && !self.held {
            match &self.bridge_in {
                Some(frame) => self.out = *frame,
                None => self.out.fill(0),
            }
            return;
        }
        match (self.idle, &mut self.music) {
            (Idle::Echo, _) => self.out = *self.rx.heard_or_silence(),
            (Idle::Music, Some(cursor)) => cursor.read_looped(&mut self.out),
            _ => self.out.fill(0),
        }
    }

    /// Plays the queue (prompts and fed recordings); false when nothing is playing.
    fn compose_playback(&mut self) -> bool {
        let Some(queue) = &mut self.playback else {
            return false;
        };
        let fed = &self.external[..self.external_len.unwrap_or(0)];
        let (id, counters) = (self.id, &mut self.counters);
        let step = queue.fill(&self.prompts, fed, &mut self.out, |prompt| {
            counters.missing_prompts += 1;
            tracing::warn!(leg = %id, prompt, "prompt or recording unavailable: skipped");
        });
        if step == Filled::Finished {
            self.playback = None;
            self.emit(MediaEvent::PlaybackFinished { leg: self.id });
        }
        true
    }

    /// Hands this tick's frame to the recorder, ending the recording when a limit is reached.
    pub(super) fn record(&mut self) {
        let Some(limits) = &mut self.recording else {
            return;
        };
        let heard = self.rx.heard_or_silence();
        if self.peer.is_some() {
            for ((r, h), o) in self.recorded.iter_mut().zip(heard).zip(&self.out) {
                *r = h.saturating_add(*o);
            }
        } else {
            self.recorded = *heard;
        }
        self.recorded_now = true;
        if let Some(end) = limits.push(&self.recorded) {
            self.end_recording(end, true);
        }
    }

    pub(super) fn end_recording(&mut self, end: RecordingEnd, keep: bool) -> bool {
        let Some(limits) = self.recording.take() else {
            return false;
        };
        self.push_event(LegEvent::RecordingEnded {
            end,
            duration_ms: limits.duration_ms(),
            keep,
        });
        true
    }

    pub(super) fn handle_digits(&mut self) {
        while let Some((digit, relayable)) = self.rx.next_digit() {
            self.on_digit(digit, relayable);
        }
    }

    fn on_digit(&mut self, digit: char, relayable: bool) {
        if relayable && self.peer.is_some() && self.relay.len() < RELAY_DIGITS {
            self.relay.push_back(digit);
        }
        let end_key = self.recording.as_ref().and_then(|r| r.end_key);
        if end_key == Some(digit) {
            self.end_recording(RecordingEnd::Key, true);
            return;
        }
        self.emit(MediaEvent::Digit {
            leg: self.id,
            digit,
        });
        if self.playback.as_ref().is_some_and(|q| q.barge_in) {
            self.playback = None;
        }
    }

    pub(super) fn emit(&mut self, event: MediaEvent) {
        self.push_event(LegEvent::Media(event));
    }

    fn push_event(&mut self, event: LegEvent) {
        // Bounded for a driver that never drains; recording ends are never dropped.
        let is_recording = matches!(event, LegEvent::RecordingEnded { .. });
        if self.events.len() < EVENTS_LIMIT || is_recording {
            self.events.push_back(event);
        }
    }
}
