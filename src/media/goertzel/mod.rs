//! In-band DTMF detection on 8 kHz 16-bit PCM, for callers whose phones send keys as audio instead of
//! RFC 4733 events.
//!
//! Why it is shaped so:
//! - Eight Goertzel filters (one per DTMF frequency) instead of an FFT: only 8 bins are needed, each costs
//!   one multiply-add per sample, and the state is 16 floats, so samples are processed as they arrive in
//!   chunks of any length with no buffering or allocation.
//! - Blocks of 102 samples (12.75 ms, ~78 Hz bins): short enough that a 40 ms tone always holds two whole
//!   blocks (ITU-T Q.24 "must operate" at 40 ms), long enough that neighbouring row frequencies (73 Hz
//!   apart) fall near each other's first null.
//! - A block is a hit for a key only if every rule holds (each one rejects a class of false input):
//!   1. one row and one column bin each at least 8 dB above the other bins of its group (not a chord of
//!      harmonics);
//!   2. twist: the row tone at most 8 dB above the column tone (normal twist) and the column tone at
//!      most 4 dB above the row tone (reverse twist);
//!   3. the two tones hold at least 65% of the block's power (speech and music spread their energy);
//!   4. each tone at or above about -36 dBm0 (line noise and faint echo);
//!   5. steady: each third of the block holds at least 20% of its energy (a steady pair of tones gives
//!      26-40%, depending on how the two tones beat). A block needs at least 85 of its 102 samples
//!      covered by the tone to pass, so a 20 ms tone (160 samples) can never make two hit blocks.
//! - A key is reported after two consecutive hit blocks (>= 25.5 ms of tone; with rule 5, tones of
//!   20 ms or less never count) and only once per tone: it must be absent for two blocks, or another key must be
//!   accepted, before the same key counts again.

use std::collections::VecDeque;

const SAMPLE_RATE_HZ: f32 = 8000.0;
/// Samples per analysis block, checked for steadiness in three equal segments.
const BLOCK_LEN: usize = 102;
const SEGMENT_LEN: usize = BLOCK_LEN / 3;
/// Each segment must hold this share of the block's energy (a steady tone pair gives 1/3 +- 21%).
const MIN_SEGMENT_SHARE: f32 = 0.2;
const ROW_HZ: [f32; 4] = [697.0, 770.0, 852.0, 941.0];
const COLUMN_HZ: [f32; 4] = [1209.0, 1336.0, 1477.0, 1633.0];
const KEYS: [[char; 4]; 4] = [
    ['1', '2', '3', 'A'],
    ['4', '5', '6', 'B'],
    ['7', '8', '9', 'C'],
    ['*', '0', '#', 'D'],
];
/// 8 dB as a power ratio: the strongest bin of a group must beat the others by this much.
const RELATIVE_PEAK: f32 = 6.31;
/// Row (low group) may exceed column by up to 8 dB.
const NORMAL_TWIST: f32 = 6.31;
/// Column (high group) may exceed row by up to 4 dB.
const REVERSE_TWIST: f32 = 2.51;
/// Share of the block's power the two tones must hold.
const TONE_TO_TOTAL: f32 = 0.65;
/// About -36 dBm0 per tone (0 dBm0 is a sine of amplitude ~22,400); power of a sine is A^2/2.
const MIN_TONE_POWER: f32 = 350.0 * 350.0 / 2.0;
/// Consecutive hit blocks before a key is reported.
const HITS_TO_BEGIN: u8 = 2;
/// Consecutive non-hit blocks that end a reported key.
const MISSES_TO_END: u8 = 2;
/// Bound on digits waiting to be returned.
const PENDING_LIMIT: usize = 32;

/// Streaming DTMF tone detector: feed PCM, get each key once.
#[derive(Debug, Clone)]
pub struct InbandDetector {
    coefficients: [f32; 8],
    s1: [f32; 8],
    s2: [f32; 8],
    segment_energy: [f32; 3],
    block_fill: usize,
    candidate: Option<char>,
    candidate_hits: u8,
    reported: Option<char>,
    misses: u8,
    pending: VecDeque<char>,
}

impl Default for InbandDetector {
    fn default() -> Self {
        Self::new()
    }
}

impl InbandDetector {
    pub fn new() -> Self {
        let mut coefficients = [0.0; 8];
        for (c, hz) in coefficients.iter_mut().zip(ROW_HZ.iter().chain(&COLUMN_HZ)) {
            *c = 2.0 * (2.0 * std::f32::consts::PI * hz / SAMPLE_RATE_HZ).cos();
        }
        InbandDetector {
            coefficients,
            s1: [0.0; 8],
            s2: [0.0; 8],
            segment_energy: [0.0; 3],
            block_fill: 0,
            candidate: None,
            candidate_hits: 0,
            reported: None,
            misses: 0,
            pending: VecDeque::with_capacity(4),
        }
    }

    /// Feeds 8 kHz samples (any chunk length). Returns a newly detected key; if one chunk completes more
    /// than one key, the others come from later calls (`push(&[])` drains them).
    pub fn push(&mut self, pcm: &[i16]) -> Option<char> {
        let mut rest = pcm;
        while !rest.is_empty() {
            // Stop at segment boundaries so each call's energy belongs to one segment.
            let take = (SEGMENT_LEN - self.block_fill % SEGMENT_LEN).min(rest.len());
            let (now, later) = rest.split_at(take);
            self.filter(now);
            rest = later;
            if self.block_fill == BLOCK_LEN {
                let hit = self.classify_block();
                self.reset_block();
                self.track(hit);
            }
        }
        self.pending.pop_front()
    }

    /// The Goertzel recurrence for all eight frequencies, plus the energy (within one segment).
    fn filter(&mut self, samples: &[i16]) {
        let (mut s1, mut s2, c) = (self.s1, self.s2, self.coefficients);
        let mut energy = 0.0f32;
        for &sample in samples {
            let x = f32::from(sample);
            energy += x * x;
            for i in 0..8 {
                let s0 = x + c[i] * s1[i] - s2[i];
                s2[i] = s1[i];
                s1[i] = s0;
            }
        }
        self.s1 = s1;
        self.s2 = s2;
        self.segment_energy[self.block_fill / SEGMENT_LEN] += energy;
        self.block_fill += samples.len();
    }

    fn reset_block(&mut self) {
        self.s1 = [0.0; 8];
        self.s2 = [0.0; 8];
        self.segment_energy = [0.0; 3];
        self.block_fill = 0;
    }

    /// Applies the acceptance rules of the module doc to the finished block.
    fn classify_block(&self) -> Option<char> {
        // |X|^2 * 2 / N^2 is the power of a sine at the bin frequency (A^2 / 2), same unit as energy / N.
        let scale = 2.0 / (BLOCK_LEN * BLOCK_LEN) as f32;
        let mut power = [0.0f32; 8];
        for (i, p) in power.iter_mut().enumerate() {
            let (a, b, c) = (self.s1[i], self.s2[i], self.coefficients[i]);
            *p = (a * a + b * b - c * a * b).max(0.0) * scale;
        }
        let (rows, columns) = power.split_at(4);
        let (row, row_power) = dominant(rows)?;
        let (column, column_power) = dominant(columns)?;
        let block_energy: f32 = self.segment_energy.iter().sum();
        let total_power = block_energy / BLOCK_LEN as f32;
        let steady = self
            .segment_energy
            .iter()
            .all(|&e| e >= MIN_SEGMENT_SHARE * block_energy);
        let accepted = row_power >= MIN_TONE_POWER
            && column_power >= MIN_TONE_POWER
            && row_power <= column_power * NORMAL_TWIST
            && column_power <= row_power * REVERSE_TWIST
            && row_power + column_power >= TONE_TO_TOTAL * total_power
            && steady;
        accepted.then_some(KEYS[row][column])
    }

    /// Debounces block hits into one report per tone.
    fn track(&mut self, hit: Option<char>) {
        if hit.is_some() && hit == self.candidate {
            self.candidate_hits = self.candidate_hits.saturating_add(1);
        } else {
            self.candidate = hit;
            self.candidate_hits = u8::from(hit.is_some());
        }
        if hit.is_some() && hit == self.reported {
            self.misses = 0;
            return;
        }
        if self.reported.is_some() {
            self.misses += 1;
            if self.misses >= MISSES_TO_END {
                self.reported = None;
            }
        }
        if self.candidate_hits >= HITS_TO_BEGIN {
            if let Some(key) = hit {
                self.reported = Some(key);
                self.misses = 0;
                if self.pending.len() < PENDING_LIMIT {
                    self.pending.push_back(key);
                }
            }
        }
    }
}

/// The strongest bin of a group and its power, if it beats every other bin by `RELATIVE_PEAK`.
fn dominant(group: &[f32]) -> Option<(usize, f32)> {
    let (best, &best_power) = group.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1))?;
    let clear = group
        .iter()
        .enumerate()
        .all(|(i, &p)| i == best || p * RELATIVE_PEAK <= best_power);
    clear.then_some((best, best_power))
}

#[cfg(test)]
mod tests;
