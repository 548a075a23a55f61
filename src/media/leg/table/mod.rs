//! The legs one media worker owns, ticked together, with the bridges between them.
//!
//! Why it is shaped so:
//! - Bridging is frame swapping inside one table: every leg first takes its heard frame
//!   (`receive_tick`), then each bridged pair swaps frames, then every leg builds its packet
//!   (`send_tick`). Both directions of a call thus cross in the same tick, with no queue and no
//!   lock between them; each leg re-encodes in its own codec (PCMU ↔ PCMA for free) under its own
//!   SSRC, sequence numbers and timestamps. The driver keeps bridged legs on one worker.
//! - RFC 4733 digits heard on one leg are re-sent on the other (as events if it negotiated
//!   telephone-event, else as an in-band tone), and still reported as `Digit`.
//! - Generic over `Io`, the driver's per-leg state (socket, open files), so the same table is used
//!   by the worker and, with `()`, by tests on a virtual clock.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use super::{Leg, LegConfig};
use crate::media::api::{LegId, LegSetup, MediaCommand};
use crate::media::prompts::PromptSet;

/// A leg and the driver's state for it.
pub struct Entry<Io> {
    pub leg: Leg,
    pub io: Io,
}

/// What `apply` did with a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    Done,
    /// No such leg here.
    UnknownLeg,
    /// `Open`, `Close` and `DiscardRecording` need the driver (a socket, a file).
    NeedsDriver,
}

pub struct LegTable<Io> {
    entries: HashMap<LegId, Entry<Io>>,
    /// Each bridged pair once, for the per-tick swap.
    pairs: Vec<(LegId, LegId)>,
    prompts: Arc<PromptSet>,
    config: LegConfig,
    seed: u64,
}

impl<Io> LegTable<Io> {
    pub fn new(prompts: Arc<PromptSet>, config: LegConfig, seed: u64) -> Self {
        LegTable {
            entries: HashMap::new(),
            pairs: Vec::new(),
            prompts,
            config,
            seed,
        }
    }

    /// Creates a leg; gives `io` back if the id is taken.
    pub fn open(&mut self, setup: LegSetup, io: Io, now: Duration) -> Result<(), Io> {
        if self.entries.contains_key(&setup.leg) {
            return Err(io);
        }
        let id = setup.leg;
        let leg = Leg::new(
            setup,
            Arc::clone(&self.prompts),
            self.config,
            self.seed,
            now,
        );
        self.entries.insert(id, Entry { leg, io });
        Ok(())
    }

    /// Adds a leg moved from another worker (unbridged); returns one it displaced.
    pub fn insert(&mut self, entry: Entry<Io>) -> Option<Entry<Io>> {
        let id = entry.leg.id();
        let displaced = self.remove(id);
        self.entries.insert(id, entry);
        displaced
    }

    /// Takes a leg out (to close or move it); its bridge partner goes back to its idle audio.
    pub fn remove(&mut self, leg: LegId) -> Option<Entry<Io>> {
        self.unbridge(leg);
        self.entries.remove(&leg)
    }

    pub fn get(&self, leg: LegId) -> Option<&Entry<Io>> {
        self.entries.get(&leg)
    }

    pub fn get_mut(&mut self, leg: LegId) -> Option<&mut Entry<Io>> {
        self.entries.get_mut(&leg)
    }

    pub fn contains(&self, leg: LegId) -> bool {
        self.entries.contains_key(&leg)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Entry<Io>> {
        self.entries.values()
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut Entry<Io>> {
        self.entries.values_mut()
    }

    pub fn ids(&self) -> impl Iterator<Item = LegId> + '_ {
        self.entries.keys().copied()
    }

    /// Applies a command that only changes leg state. `StartRecording` is applied here too, after
    /// the driver created the file.
    pub fn apply(&mut self, command: MediaCommand, now: Duration) -> Applied {
        use MediaCommand as C;
        if let C::Bridge { a, b } = command {
            return if self.bridge(a, b) {
                Applied::Done
            } else {
                Applied::UnknownLeg
            };
        }
        let id = match &command {
            C::Open(_) | C::OpenBrowser { .. } | C::Close { .. } | C::DiscardRecording { .. } => {
                return Applied::NeedsDriver
            }
            C::Update(setup) => setup.leg,
            C::Play { leg, .. }
            | C::PlayRecording { leg, .. }
            | C::StopPlayback { leg }
            | C::SetIdle { leg, .. }
            | C::StartRecording { leg, .. }
            | C::StopRecording { leg, .. }
            | C::SendDtmf { leg, .. }
            | C::SetHeld { leg, .. } => *leg,
            C::Bridge { a, .. } => *a,
        };
        let Some(entry) = self.entries.get_mut(&id) else {
            return Applied::UnknownLeg;
        };
        let leg = &mut entry.leg;
        match command {
            C::Update(setup) => leg.update(setup, now),
            C::Play {
                prompts, barge_in, ..
            } => leg.play(prompts, barge_in),
            C::PlayRecording { name, .. } => leg.play_recording(&name),
            C::StopPlayback { .. } => leg.stop_playback(),
            C::SetIdle { idle, .. } => leg.set_idle(idle),
            C::StartRecording { spec, .. } => leg.start_recording(&spec),
            C::StopRecording { keep, .. } => {
                leg.stop_recording(keep);
            }
            C::SetHeld { held, .. } => leg.set_held(held),
            C::SendDtmf { digit, .. } => {
                if !leg.send_dtmf(digit) {
                    tracing::warn!(leg = %id, ?digit, "not a DTMF key (or queue full): ignored");
                }
            }
            C::Open(_)
            | C::OpenBrowser { .. }
            | C::Close { .. }
            | C::Bridge { .. }
            | C::DiscardRecording { .. } => return Applied::NeedsDriver,
        }
        Applied::Done
    }

    /// Bridges two legs of this table (each leaves any previous bridge). False if either is
    /// missing or they are the same leg.
    pub fn bridge(&mut self, a: LegId, b: LegId) -> bool {
        if a == b || !self.contains(a) || !self.contains(b) {
            return false;
        }
        self.unbridge(a);
        self.unbridge(b);
        for (leg, peer) in [(a, b), (b, a)] {
            if let Some(entry) = self.entries.get_mut(&leg) {
                entry.leg.set_peer(Some(peer));
            }
        }
        self.pairs.push((a, b));
        true
    }

    /// Ends the bridge `leg` is in, if any.
    pub fn unbridge(&mut self, leg: LegId) {
        let Some(peer) = self.entries.get(&leg).and_then(|e| e.leg.peer()) else {
            return;
        };
        for id in [leg, peer] {
            if let Some(entry) = self.entries.get_mut(&id) {
                entry.leg.set_peer(None);
            }
        }
        self.pairs.retain(|&(a, b)| a != leg && b != leg);
    }

    /// One 20 ms tick for every leg: receive, swap bridged audio and digits, send.
    pub fn tick(&mut self, now: Duration) {
        for entry in self.entries.values_mut() {
            entry.leg.receive_tick(now);
        }
        for &(a, b) in &self.pairs {
            swap_frames(&mut self.entries, a, b);
        }
        for entry in self.entries.values_mut() {
            entry.leg.send_tick(now);
        }
    }
}

fn swap_frames<Io>(entries: &mut HashMap<LegId, Entry<Io>>, a: LegId, b: LegId) {
    let heard_a = entries.get(&a).and_then(|e| e.leg.heard().copied());
    let heard_b = entries.get(&b).and_then(|e| e.leg.heard().copied());
    for (to, from, frame) in [(a, b, heard_b), (b, a, heard_a)] {
        let mut digits = [None; 4];
        if let Some(source) = entries.get_mut(&from) {
            for slot in &mut digits {
                *slot = source.leg.take_relay_digit();
            }
        }
        if let Some(target) = entries.get_mut(&to) {
            target.leg.feed_bridge(frame.as_ref());
            for digit in digits.into_iter().flatten() {
                target.leg.send_dtmf(digit);
            }
        }
    }
}

#[cfg(test)]
mod tests;
