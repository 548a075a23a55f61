//! What a leg plays: a queue of prompt ids back to back, where an entry `recording:<name>` is a
//! recording file streamed in by the driver; and the looped hold music.
//!
//! Why it is shaped so:
//! - A prompt is an `Arc<[i16]>` from the shared cache, so playing one costs a reference count and
//!   an index, never a copy. Entries are joined at the sample level (the frame that ends one starts
//!   the next), so a sentence assembled from words has no 20 ms holes.
//! - The IVR mixes prompts and recordings in one list ("your reply is", the manager's recording,
//!   "press 1 to hear it again"), so a recording is just another entry. When the queue reaches one,
//!   it asks the driver for the file (`take_file_request`), the driver answers (`file_opened`) and
//!   feeds 160 samples per tick; a short feed ends the file and the queue carries on. A file that
//!   cannot be opened, or a request nobody answers by the next tick, is skipped like a missing
//!   prompt. `PlayRecording` is the one-entry queue `recording:<name>`.
//! - A missing prompt is skipped, counted and logged; a queue that turns out empty still finishes
//!   (the engine is waiting for `PlaybackFinished`).

use std::collections::VecDeque;
use std::sync::Arc;

use crate::media::prompts::{PromptSet, RECORDING_PREFIX};

/// A read position in one cached prompt.
#[derive(Debug, Clone)]
pub(super) struct Cursor {
    pcm: Arc<[i16]>,
    pos: usize,
}

impl Cursor {
    pub(super) fn new(pcm: Arc<[i16]>) -> Self {
        Cursor { pcm, pos: 0 }
    }

    /// Copies as much as fits into `out`; returns how many samples were written.
    fn read(&mut self, out: &mut [i16]) -> usize {
        let rest = self.pcm.get(self.pos..).unwrap_or(&[]);
        let n = rest.len().min(out.len());
        out[..n].copy_from_slice(&rest[..n]);
        self.pos += n;
        n
    }

    fn is_done(&self) -> bool {
        self.pos >= self.pcm.len()
    }

    /// Fills `out` completely, wrapping around (hold music). An empty prompt gives silence.
    pub(super) fn read_looped(&mut self, out: &mut [i16]) {
        let mut filled = 0;
        while filled < out.len() {
            if self.pcm.is_empty() {
                out[filled..].fill(0);
                return;
            }
            if self.is_done() {
                self.pos = 0;
            }
            filled += self.read(&mut out[filled..]);
        }
    }
}

/// The recording entry the queue is at, if any.
#[derive(Debug, Default, PartialEq, Eq)]
enum FileState {
    #[default]
    None,
    /// The queue reached `recording:<name>`; the driver has not looked yet.
    Requested(String),
    /// The driver took the request and is opening the file.
    Opening,
    /// The driver feeds the file's samples each tick.
    Streaming,
}

/// The result of filling one frame.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Filled {
    /// The frame is queue audio and more follows.
    Playing,
    /// The queue ended in this frame (the rest of the frame is silence).
    Finished,
}

/// A playing queue of prompt ids.
#[derive(Debug, Default)]
pub(super) struct Queue {
    ids: VecDeque<String>,
    current: Option<Cursor>,
    pub(super) barge_in: bool,
    file: FileState,
}

impl Queue {
    pub(super) fn new(ids: Vec<String>, barge_in: bool) -> Self {
        Queue {
            ids: ids.into(),
            barge_in,
            ..Queue::default()
        }
    }

    /// The recording the driver should open now, if the queue just reached one.
    pub(super) fn take_file_request(&mut self) -> Option<String> {
        match std::mem::take(&mut self.file) {
            FileState::Requested(name) => {
                self.file = FileState::Opening;
                Some(name)
            }
            other => {
                self.file = other;
                None
            }
        }
    }

    /// The driver's answer to a request: streaming, or skipped.
    pub(super) fn file_opened(&mut self, ok: bool) {
        if self.file == FileState::Opening {
            self.file = if ok {
                FileState::Streaming
            } else {
                FileState::None
            };
        }
    }

    pub(super) fn wants_file(&self) -> bool {
        self.file == FileState::Streaming
    }

    /// Fills `out` from the file being streamed (`fed`: this tick's samples) and the prompts;
    /// `skipped` is called with each entry that cannot be played.
    pub(super) fn fill(
        &mut self,
        prompts: &PromptSet,
        fed: &[i16],
        out: &mut [i16],
        mut skipped: impl FnMut(&str),
    ) -> Filled {
        let mut filled = 0;
        match &self.file {
            FileState::Streaming => {
                let n = fed.len().min(out.len());
                out[..n].copy_from_slice(&fed[..n]);
                filled = n;
                if n == out.len() {
                    return Filled::Playing;
                }
                self.file = FileState::None; // a short feed is the end of the file
            }
            FileState::Requested(name) => {
                skipped(name);
                self.file = FileState::None;
            }
            FileState::Opening => {
                skipped("(recording not opened in time)");
                self.file = FileState::None;
            }
            FileState::None => {}
        }
        self.fill_prompts(prompts, filled, out, skipped)
    }

    fn fill_prompts(
        &mut self,
        prompts: &PromptSet,
        mut filled: usize,
        out: &mut [i16],
        mut skipped: impl FnMut(&str),
    ) -> Filled {
        while filled < out.len() {
            if let Some(cursor) = self.current.as_mut().filter(|c| !c.is_done()) {
                filled += cursor.read(&mut out[filled..]);
                continue;
            }
            self.current = None;
            let Some(id) = self.ids.pop_front() else {
                out[filled..].fill(0);
                return Filled::Finished;
            };
            if let Some(name) = id.strip_prefix(RECORDING_PREFIX) {
                // The file starts on the next tick, once the driver has opened it.
                self.file = FileState::Requested(name.to_string());
                out[filled..].fill(0);
                return Filled::Playing;
            }
            match prompts.get(&id) {
                Some(pcm) => self.current = Some(Cursor::new(Arc::clone(pcm))),
                None => skipped(&id),
            }
        }
        let more = self.current.as_ref().is_some_and(|c| !c.is_done()) || !self.ids.is_empty();
        if more {
            Filled::Playing
        } else {
            Filled::Finished
        }
    }
}

#[cfg(test)]
mod tests;
