//! When a recording ends: the pure half of the recorder (the driver writes the frames to disk).
//!
//! Why it is shaped so:
//! - Length is counted in 20 ms frames, one per tick whether or not a packet came (a lost packet
//!   is recorded as silence), so the file's duration is the wall-clock duration of the recording.
//! - Silence is "mean absolute sample below [`QUIET_LEVEL`]" for a whole frame, the same measure
//!   Asterisk's `silencethreshold` uses; one loud frame restarts the count. The first second is not
//!   judged ([`SILENCE_GRACE_FRAMES`]): callers take a moment to start after the beep, and the
//!   beep's own echo must not end the take.
//! - A zero or huge `max` is capped at [`HARD_CAP`]: a forgotten recorder must not fill the disk.

use std::time::Duration;

use crate::media::api::{RecordSpec, RecordingEnd};

/// Mean |sample| under which a frame counts as silent (about -42 dBFS).
pub const QUIET_LEVEL: u32 = 256;
/// Frames at the start not judged for silence (1 s).
pub const SILENCE_GRACE_FRAMES: u64 = 50;
/// Longest recording whatever the spec says.
pub const HARD_CAP: Duration = Duration::from_secs(4 * 3600);
const FRAME_MS: u64 = 20;

#[derive(Debug, Clone)]
pub(super) struct RecordLimits {
    max_frames: u64,
    /// 0: silence never ends the recording.
    silence_frames: u64,
    pub(super) end_key: Option<char>,
    frames: u64,
    silent_run: u64,
}

impl RecordLimits {
    pub(super) fn new(spec: &RecordSpec) -> Self {
        let max = if spec.max.is_zero() {
            HARD_CAP
        } else {
            spec.max.min(HARD_CAP)
        };
        RecordLimits {
            max_frames: frames_in(max).max(1),
            silence_frames: frames_in(spec.silence),
            end_key: spec.end_key,
            frames: 0,
            silent_run: 0,
        }
    }

    /// Counts one recorded frame; `Some` when this frame ends the recording.
    pub(super) fn push(&mut self, frame: &[i16]) -> Option<RecordingEnd> {
        self.frames += 1;
        if self.frames > SILENCE_GRACE_FRAMES {
            if is_quiet(frame) {
                self.silent_run += 1;
            } else {
                self.silent_run = 0;
            }
        }
        if self.silence_frames > 0 && self.silent_run >= self.silence_frames {
            Some(RecordingEnd::Silence)
        } else if self.frames >= self.max_frames {
            Some(RecordingEnd::MaxLength)
        } else {
            None
        }
    }

    pub(super) fn duration_ms(&self) -> u64 {
        self.frames * FRAME_MS
    }
}

fn frames_in(d: Duration) -> u64 {
    u64::try_from(d.as_millis() / u128::from(FRAME_MS)).unwrap_or(u64::MAX)
}

pub(super) fn is_quiet(frame: &[i16]) -> bool {
    if frame.is_empty() {
        return true;
    }
    let total: u64 = frame.iter().map(|s| u64::from(s.unsigned_abs())).sum();
    total < u64::from(QUIET_LEVEL) * frame.len() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(max_ms: u64, silence_ms: u64) -> RecordSpec {
        RecordSpec {
            name: "r.wav".into(),
            max: Duration::from_millis(max_ms),
            silence: Duration::from_millis(silence_ms),
            end_key: Some('#'),
        }
    }

    const LOUD: [i16; 160] = [3000; 160];
    const QUIET: [i16; 160] = [100; 160];

    #[test]
    fn max_length_ends_on_the_exact_frame() {
        let mut r = RecordLimits::new(&spec(1000, 0));
        for _ in 0..49 {
            assert_eq!(r.push(&LOUD), None);
        }
        assert_eq!(r.push(&LOUD), Some(RecordingEnd::MaxLength));
        assert_eq!(r.duration_ms(), 1000);
    }

    #[test]
    fn silence_after_the_grace_second_ends_it() {
        let mut r = RecordLimits::new(&spec(60_000, 2000));
        // Two seconds of silence right after the beep: only the second one counts.
        for _ in 0..100 {
            assert_eq!(r.push(&QUIET), None);
        }
        for _ in 0..49 {
            assert_eq!(r.push(&QUIET), None);
        }
        assert_eq!(r.push(&QUIET), Some(RecordingEnd::Silence));
        assert_eq!(r.duration_ms(), 3000);
    }

    #[test]
    fn speech_restarts_the_silence_count() {
        let mut r = RecordLimits::new(&spec(60_000, 1000));
        for _ in 0..60 {
            assert_eq!(r.push(&LOUD), None);
        }
        for _ in 0..49 {
            assert_eq!(r.push(&QUIET), None);
        }
        assert_eq!(r.push(&LOUD), None);
        for _ in 0..49 {
            assert_eq!(r.push(&QUIET), None);
        }
        assert_eq!(r.push(&QUIET), Some(RecordingEnd::Silence));
    }

    #[test]
    fn zero_silence_never_ends_and_zero_max_is_capped() {
        let mut r = RecordLimits::new(&spec(0, 0));
        for _ in 0..1000 {
            assert_eq!(r.push(&[0; 160]), None);
        }
        assert_eq!(r.max_frames, frames_in(HARD_CAP));
        let huge = RecordLimits::new(&RecordSpec {
            max: Duration::from_secs(u64::MAX),
            ..spec(0, 0)
        });
        assert_eq!(huge.max_frames, frames_in(HARD_CAP));
    }

    #[test]
    fn quiet_is_mean_magnitude_below_the_level() {
        assert!(is_quiet(&[255; 160]));
        assert!(!is_quiet(&[256; 160]));
        assert!(!is_quiet(&[-300; 160]));
        assert!(is_quiet(&[i16::MIN; 0]));
        // A single click in a quiet frame does not make it speech.
        let mut click = [0i16; 160];
        click[0] = i16::MIN;
        assert!(is_quiet(&click));
    }
}
