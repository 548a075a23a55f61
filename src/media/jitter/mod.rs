//! Receive jitter buffer: puts RTP payloads back in sequence order and hands out exactly one per 20 ms
//! tick, so the recorder and the in-band DTMF detector see a continuous, ordered stream.
//!
//! Why it is shaped so:
//! - The buffer starts playing once `depth` frames are buffered (or `depth` ticks have passed), then
//!   plays one frame per tick. A recording stays continuous because a missing frame is reported as
//!   [`Jitter::Gap`] (the caller writes silence), never skipped.
//! - Late is not lost: when the buffer runs dry (nothing at all buffered, so the next frame is late
//!   rather than lost: a lost one would have later frames behind it), the play-out point waits for
//!   it ([`JitterStats::underruns`], the tick concealed with silence) and buffers `depth` frames
//!   again. The delay grows by the sender's lateness instead of the frame being dropped, which is
//!   what a bridged call needs: every frame the peer sent reaches the other side.
//! - The delay shrinks back only by dropping a *quiet* frame (the caller says which payloads are
//!   quiet), after the buffer has held more than `depth + 1` frames for `SHRINK_AFTER_TICKS` ticks:
//!   speech is never cut to save latency.
//! - Bounded memory and delay: a ring of `2 * depth + SLACK_FRAMES` slots whose payload buffers are
//!   reused, so a steady call allocates nothing per packet. A packet further ahead than the ring
//!   pushes the play-out point forward (oldest frames dropped and counted) instead of growing the
//!   delay further.
//! - Sequence numbers are compared as signed 16-bit differences, so wrap-around at 65535 is seamless.
//! - A jump of 100+ sequence numbers either way means a new stream (a restart, a re-INVITE to another
//!   source); two consecutive packets at the new place are required before resynchronising, so one
//!   corrupt packet cannot flush the buffer.
//! - [`Jitter::Idle`] ("no stream": before the first packet, while a fresh stream is buffering, or after a
//!   second with no packets) is distinct from `Gap` ("a frame of this stream was lost").

/// Pops with an empty buffer and no packet after which the stream counts as stopped (50 ticks = 1 s).
pub const IDLE_AFTER_TICKS: u32 = 50;
/// Sequence jump (either way) treated as a new stream.
pub const RESYNC_JUMP: i32 = 100;
/// Largest payload accepted (a 20-60 ms G.711 frame is 160-480 bytes).
pub const MAX_PAYLOAD: usize = 1500;
/// Largest depth accepted by [`JitterBuffer::new`] (1 s).
pub const MAX_DEPTH: usize = 50;
/// Ring slots beyond twice the depth: how much a late sender's catch-up burst may add to the delay
/// (10 frames, 200 ms) before frames are dropped.
pub const SLACK_FRAMES: usize = 10;
/// Ticks the buffer must hold more than `depth + 1` frames before a quiet frame is dropped (2 s).
pub const SHRINK_AFTER_TICKS: u32 = 100;

/// What to play on this tick.
#[derive(Debug, PartialEq, Eq)]
pub enum Jitter<'a> {
    /// The next frame's payload.
    Frame(&'a [u8]),
    /// This frame of the stream is missing: play or record silence.
    Gap,
    /// No stream is playing (none yet, a new one is buffering, or it stopped).
    Idle,
}

/// Counters for monitoring.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JitterStats {
    pub received: u64,
    pub played: u64,
    pub gaps: u64,
    pub duplicates: u64,
    pub late: u64,
    /// Ticks the buffer ran dry and waited for a late frame (concealed with silence, nothing lost).
    pub underruns: u64,
    /// Quiet frames dropped to bring the delay back after underruns.
    pub shrunk: u64,
    /// Frames dropped to keep the delay bounded.
    pub overflow: u64,
    /// Packets far from the stream that were not (yet) confirmed as a new stream.
    pub strays: u64,
    pub resyncs: u64,
    pub oversize: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Idle,
    /// `waited` counts ticks with something buffered.
    Buffering {
        waited: usize,
        after_resync: bool,
    },
    Playing,
}

#[derive(Debug, Default)]
struct Slot {
    seq: u16,
    filled: bool,
    data: Vec<u8>,
}

/// Fixed-depth reordering buffer for one RTP stream.
#[derive(Debug)]
pub struct JitterBuffer {
    depth: usize,
    slots: Vec<Slot>,
    head: usize,
    next_seq: u16,
    buffered: usize,
    state: State,
    ticks_since_packet: u32,
    /// Bit i set: frame `next_seq - 1 - i` was played (tells a duplicate from a late packet).
    played_history: u64,
    /// Packets older than the play-out point may be slotted in before it: true from a stream's
    /// start until the first underrun (afterwards such a packet is late).
    rewind_allowed: bool,
    /// Consecutive ticks with more than `depth + 1` frames buffered.
    excess_ticks: u32,
    probation: Option<u16>,
    probation_data: Vec<u8>,
    stats: JitterStats,
}

impl JitterBuffer {
    /// `depth_frames` is the play-out delay in 20 ms frames (clamped to 1..=`MAX_DEPTH`).
    pub fn new(depth_frames: usize) -> Self {
        let depth = depth_frames.clamp(1, MAX_DEPTH);
        JitterBuffer {
            depth,
            slots: (0..2 * depth + SLACK_FRAMES)
                .map(|_| Slot::default())
                .collect(),
            head: 0,
            next_seq: 0,
            buffered: 0,
            state: State::Idle,
            ticks_since_packet: 0,
            played_history: 0,
            rewind_allowed: true,
            excess_ticks: 0,
            probation: None,
            probation_data: Vec::new(),
            stats: JitterStats::default(),
        }
    }

    pub fn stats(&self) -> JitterStats {
        self.stats
    }

    /// Frames currently held.
    pub fn buffered(&self) -> usize {
        self.buffered
    }

    /// Most frames it can ever hold.
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// Stores one received packet's payload.
    pub fn push(&mut self, seq: u16, payload: &[u8]) {
        if payload.len() > MAX_PAYLOAD {
            self.stats.oversize += 1;
            return;
        }
        self.stats.received += 1;
        if self.state == State::Idle {
            self.start_stream(seq, payload, false);
            return;
        }
        let offset = i32::from(seq.wrapping_sub(self.next_seq) as i16);
        if offset.abs() >= RESYNC_JUMP {
            self.on_far_packet(seq, payload);
            return;
        }
        self.probation = None;
        if offset < 0 {
            self.on_old_packet(seq, payload, offset);
            return;
        }
        let mut offset = offset as usize;
        if offset >= self.slots.len() {
            // Too far ahead for the ring: move the play-out point so the delay stays bounded.
            let advance = offset + 1 - self.slots.len();
            for _ in 0..advance {
                self.stats.overflow += u64::from(self.take_head().is_some());
            }
            offset -= advance;
        }
        self.store(offset, seq, payload);
    }

    /// The frame for this 20 ms tick. Call exactly once per tick. Never drops a frame to shrink
    /// the delay (see [`JitterBuffer::pop_shrinking`]).
    pub fn pop(&mut self) -> Jitter<'_> {
        self.pop_shrinking(|_| false)
    }

    /// The frame for this 20 ms tick; after underruns grew the delay, a frame for which `quiet`
    /// is true may be dropped to bring it back. Call exactly once per tick.
    pub fn pop_shrinking(&mut self, quiet: impl Fn(&[u8]) -> bool) -> Jitter<'_> {
        self.ticks_since_packet = self.ticks_since_packet.saturating_add(1);
        if self.state != State::Idle
            && self.buffered == 0
            && self.ticks_since_packet >= IDLE_AFTER_TICKS
        {
            self.reset();
        }
        match self.state {
            State::Idle => return Jitter::Idle,
            State::Buffering {
                waited,
                after_resync,
            } => {
                let waited = waited + usize::from(self.buffered > 0);
                if self.span() < self.depth && waited < self.depth {
                    self.state = State::Buffering {
                        waited,
                        after_resync,
                    };
                    return if after_resync {
                        self.stats.gaps += 1;
                        Jitter::Gap
                    } else {
                        Jitter::Idle
                    };
                }
                self.state = State::Playing;
            }
            State::Playing => {
                if self.buffered == 0 {
                    return self.underrun();
                }
                self.shrink_if_quiet(&quiet);
            }
        }
        match self.take_head() {
            Some(index) => {
                self.stats.played += 1;
                Jitter::Frame(&self.slots[index].data)
            }
            None => {
                self.stats.gaps += 1;
                Jitter::Gap
            }
        }
    }

    /// Nothing buffered: the next frame is late, not lost. Wait for it (the play-out point stays)
    /// and buffer `depth` frames again once it comes.
    fn underrun(&mut self) -> Jitter<'static> {
        self.stats.underruns += 1;
        self.rewind_allowed = false;
        self.excess_ticks = 0;
        self.state = State::Buffering {
            waited: 0,
            after_resync: true,
        };
        Jitter::Gap
    }

    /// Drops the head frame when the delay has been above target long enough and both it and the
    /// frame after it are quiet (so the cut falls inside a pause).
    fn shrink_if_quiet(&mut self, quiet: &impl Fn(&[u8]) -> bool) {
        if self.buffered <= self.depth + 1 {
            self.excess_ticks = 0;
            return;
        }
        self.excess_ticks = self.excess_ticks.saturating_add(1);
        if self.excess_ticks < SHRINK_AFTER_TICKS {
            return;
        }
        let len = self.slots.len();
        let (head, next) = (&self.slots[self.head], &self.slots[(self.head + 1) % len]);
        let both_present = head.filled
            && head.seq == self.next_seq
            && next.filled
            && next.seq == self.next_seq.wrapping_add(1);
        if both_present && quiet(&head.data) && quiet(&next.data) {
            // The excess stays established: every quiet frame of this pause may go until the
            // delay is back at target.
            self.take_head();
            self.stats.shrunk += 1;
        }
    }

    fn start_stream(&mut self, seq: u16, payload: &[u8], after_resync: bool) {
        self.reset();
        self.state = State::Buffering {
            waited: 0,
            after_resync,
        };
        self.next_seq = seq;
        self.store(0, seq, payload);
    }

    fn reset(&mut self) {
        for slot in &mut self.slots {
            slot.filled = false;
        }
        self.buffered = 0;
        self.head = 0;
        self.state = State::Idle;
        self.played_history = 0;
        self.rewind_allowed = true;
        self.excess_ticks = 0;
        self.probation = None;
    }

    /// A packet behind the play-out point: drop a copy of a played frame, reorder into a buffer that
    /// has not started, or drop it as late. (A sender that pauses and resumes needs nothing here:
    /// the play-out point waits at the next sequence number while the buffer is dry.)
    fn on_old_packet(&mut self, seq: u16, payload: &[u8], offset: i32) {
        let behind = offset.unsigned_abs() as usize;
        let buffering = matches!(self.state, State::Buffering { .. });
        if behind <= 64 && self.played_history & (1u64 << (behind - 1)) != 0 {
            self.stats.duplicates += 1;
        } else if buffering && self.rewind_allowed && self.span() + behind <= self.slots.len() {
            self.head = (self.head + self.slots.len() - behind) % self.slots.len();
            self.next_seq = seq;
            self.played_history = self.played_history.checked_shr(behind as u32).unwrap_or(0);
            self.store(0, seq, payload);
        } else {
            self.stats.late += 1;
        }
    }

    /// A packet far from the stream: a new stream only if the next packet follows it.
    fn on_far_packet(&mut self, seq: u16, payload: &[u8]) {
        match self.probation {
            Some(previous) if seq == previous.wrapping_add(1) => {
                let first = std::mem::take(&mut self.probation_data);
                self.start_stream(previous, &first, true);
                self.probation_data = first;
                self.store(1, seq, payload);
                self.stats.resyncs += 1;
            }
            _ => {
                self.stats.strays += 1;
                self.probation = Some(seq);
                self.probation_data.clear();
                self.probation_data.extend_from_slice(payload);
            }
        }
    }

    fn store(&mut self, offset: usize, seq: u16, payload: &[u8]) {
        self.ticks_since_packet = 0;
        let index = (self.head + offset) % self.slots.len();
        let slot = &mut self.slots[index];
        if slot.filled && slot.seq == seq {
            self.stats.duplicates += 1;
            return;
        }
        if !slot.filled {
            self.buffered += 1;
        }
        slot.seq = seq;
        slot.filled = true;
        slot.data.clear();
        slot.data.extend_from_slice(payload);
    }

    /// Advances the play-out point by one frame; returns the slot index if that frame was present.
    fn take_head(&mut self) -> Option<usize> {
        let index = self.head;
        let slot = &mut self.slots[index];
        let present = slot.filled && slot.seq == self.next_seq;
        if slot.filled {
            self.buffered -= 1;
        }
        slot.filled = false;
        self.head = (self.head + 1) % self.slots.len();
        self.next_seq = self.next_seq.wrapping_add(1);
        self.played_history = (self.played_history << 1) | u64::from(present);
        present.then_some(index)
    }

    /// Frames from the play-out point to the newest buffered one.
    fn span(&self) -> usize {
        (1..=self.slots.len())
            .rev()
            .find(|&len| self.slots[(self.head + len - 1) % self.slots.len()].filled)
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests;
