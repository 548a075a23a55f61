//! The small value types of a leg: its configuration, its events and counters, and the seeded
//! generator of its stream identity. Kept apart from `leg/mod.rs` so the state machine reads on one
//! page.

use std::time::Duration;

use crate::media::api::{MediaEvent, RecordingEnd};

/// Samples in one 20 ms frame at 8 kHz.
pub const FRAME_SAMPLES: usize = 160;
pub type Frame = [i16; FRAME_SAMPLES];
pub(super) const RELAY_DIGITS: usize = 16;
pub(super) const EVENTS_LIMIT: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LegConfig {
    /// Jitter buffer play-out delay in 20 ms frames.
    pub jitter_depth: usize,
    /// No RTP for this long while RTP is expected (`LegSetup::expects_rtp`) → `Inactive` (zero:
    /// never).
    pub inactivity: Duration,
    /// How long the peer's SDP address has to send first before another source may be learned
    /// (a caller behind NAT; see `leg/source/`).
    pub sdp_grace: Duration,
}

impl Default for LegConfig {
    fn default() -> Self {
        LegConfig {
            jitter_depth: 3,
            inactivity: Duration::from_secs(60),
            sdp_grace: Duration::from_millis(500),
        }
    }
}

/// What a leg reports. Recording ends go to the driver first: it finishes the file and only then
/// tells the engine `RecordingFinished`.
#[derive(Debug, Clone, PartialEq)]
pub enum LegEvent {
    Media(MediaEvent),
    RecordingEnded {
        end: RecordingEnd,
        duration_ms: u64,
        keep: bool,
    },
}

/// Monitoring counters (bad input is dropped and counted, never a panic).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LegCounters {
    pub received: u64,
    pub malformed: u64,
    /// Valid packets from a source that is not the peer's (or not yet: on probation).
    pub foreign: u64,
    pub unknown_pt: u64,
    pub truncated: u64,
    pub ssrc_changes: u64,
    pub sent: u64,
    pub missing_prompts: u64,
}

/// SplitMix64: a tiny, well-mixed generator for per-leg stream identities.
pub(super) struct SplitMix64(pub(super) u64);

impl SplitMix64 {
    pub(super) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}
