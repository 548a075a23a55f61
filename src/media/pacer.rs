//! The shared 20 ms media clock, on time supplied by the caller.
//!
//! Why it is shaped so:
//! - Deadlines are absolute: frame n is due at `start + n * 20 ms`. A late wake-up does not move later
//!   deadlines (as `sleep(20 ms)` after each frame would), so the frame count never drifts from the
//!   sender's sample clock however late the timer fires, and the far end's jitter buffer sees a steady
//!   rate.
//! - Small lateness is caught up (several frames due at once are all sent), but a stall of more than
//!   `MAX_CATCH_UP` frames (200 ms) is not burst out: the far end would discard most of a burst, and
//!   a burst across 1,000 calls would spike the CPU. The overdue frames are skipped, counted, and the
//!   clock resumes on the current deadline grid (still no drift).
//! - Time is a `Duration` from an origin the caller chooses (e.g. the driver's start `Instant`); the
//!   pacer never reads a clock.

use std::time::Duration;

/// Length of one media frame (160 samples at 8 kHz).
pub const FRAME: Duration = Duration::from_millis(20);
const FRAME_NANOS: u64 = 20_000_000;
/// Most frames that are caught up at once; beyond this the overdue frames are skipped.
pub const MAX_CATCH_UP: u64 = 10;

/// Absolute-deadline 20 ms frame clock.
#[derive(Clone, Debug)]
pub struct Pacer {
    start: Duration,
    /// Index of the next frame not yet handed out.
    next_frame: u64,
    skipped: u64,
}

impl Pacer {
    /// Frame 0 is due at `start`.
    pub fn new(start: Duration) -> Self {
        Pacer {
            start,
            next_frame: 0,
            skipped: 0,
        }
    }

    /// How many frames to produce now: every deadline at or before `now` not yet handed out. After a
    /// stall longer than `MAX_CATCH_UP` frames only the newest is produced and the rest are skipped.
    pub fn frames_due(&mut self, now: Duration) -> u32 {
        let Some(elapsed) = now.checked_sub(self.start) else {
            return 0;
        };
        // Deadlines 0..=elapsed/FRAME have passed.
        let passed = u64::try_from(elapsed.as_nanos() / u128::from(FRAME_NANOS))
            .unwrap_or(u64::MAX)
            .saturating_add(1);
        let due = passed.saturating_sub(self.next_frame);
        if due == 0 {
            return 0;
        }
        self.next_frame = passed;
        if due > MAX_CATCH_UP {
            self.skipped += due - 1;
            1
        } else {
            // due <= MAX_CATCH_UP, so it fits.
            u32::try_from(due).unwrap_or(1)
        }
    }

    /// When the next frame is due (sleep until then).
    pub fn next_deadline(&self) -> Duration {
        let nanos = self.next_frame.saturating_mul(FRAME_NANOS);
        self.start.saturating_add(Duration::from_nanos(nanos))
    }

    /// Frames skipped by the catch-up cap since the start.
    pub fn skipped(&self) -> u64 {
        self.skipped
    }

    /// Frames handed out by `frames_due` since the start.
    pub fn frames_produced(&self) -> u64 {
        self.next_frame - self.skipped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic lateness in 0..=15 ms (64-bit LCG; the seed is the test's).
    struct Lateness(u64);
    impl Lateness {
        fn next(&mut self) -> Duration {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            Duration::from_micros((self.0 >> 33) % 15_001)
        }
    }

    #[test]
    fn ten_minutes_of_late_wakeups_give_exactly_30000_frames_without_drift() {
        let start = Duration::from_secs(1_000) + Duration::from_nanos(123_456);
        let end = start + Duration::from_secs(600);
        let mut pacer = Pacer::new(start);
        let mut lateness = Lateness(42);
        let mut frames = 0u64;
        let mut now = start;
        while now < end {
            frames += u64::from(pacer.frames_due(now));
            // Sleep until the next deadline, and wake up 0-15 ms late.
            now = pacer.next_deadline() + lateness.next();
        }
        // Deadlines in [start, end) are exactly 600 s / 20 ms; the ones at or after `end` are not due.
        frames += u64::from(pacer.frames_due(end - Duration::from_nanos(1)));
        assert_eq!(frames, 30_000);
        assert_eq!(pacer.next_deadline(), end);
        assert_eq!(pacer.skipped(), 0);
        assert_eq!(pacer.frames_produced(), 30_000);
    }

    #[test]
    fn deadlines_are_on_the_grid_and_nothing_is_due_early() {
        let start = Duration::from_millis(500);
        let mut pacer = Pacer::new(start);
        assert_eq!(pacer.frames_due(Duration::from_millis(499)), 0);
        assert_eq!(pacer.next_deadline(), start);
        assert_eq!(pacer.frames_due(start), 1);
        assert_eq!(pacer.frames_due(start), 0);
        assert_eq!(pacer.next_deadline(), Duration::from_millis(520));
        assert_eq!(pacer.frames_due(Duration::from_millis(519)), 0);
        // 53 ms late: frames at 520, 540 and 560 are due, the next one stays at 580.
        assert_eq!(pacer.frames_due(Duration::from_millis(573)), 3);
        assert_eq!(pacer.next_deadline(), Duration::from_millis(580));
    }

    #[test]
    fn small_stall_is_caught_up_in_full() {
        let mut pacer = Pacer::new(Duration::ZERO);
        assert_eq!(pacer.frames_due(Duration::ZERO), 1);
        // 200 ms late: exactly MAX_CATCH_UP frames (20..=200 ms) are due and all are produced.
        assert_eq!(pacer.frames_due(Duration::from_millis(200)), 10);
        assert_eq!(pacer.skipped(), 0);
    }

    #[test]
    fn long_stall_triggers_the_cap_and_keeps_the_grid() {
        let mut pacer = Pacer::new(Duration::ZERO);
        assert_eq!(pacer.frames_due(Duration::ZERO), 1);
        // One second stalled: deadlines 20..=1010 ms (50 frames) passed; 1 is produced, 49 skipped.
        assert_eq!(pacer.frames_due(Duration::from_millis(1_010)), 1);
        assert_eq!(pacer.skipped(), 49);
        assert_eq!(pacer.next_deadline(), Duration::from_millis(1_020));
        assert_eq!(pacer.frames_due(Duration::from_millis(1_020)), 1);
        assert_eq!(pacer.frames_produced(), 3);
        // Produced plus skipped always equals the deadlines passed.
        assert_eq!(pacer.frames_produced() + pacer.skipped(), 1_020 / 20 + 1);
    }

    #[test]
    fn time_before_start_and_far_future_do_not_panic() {
        let mut pacer = Pacer::new(Duration::from_secs(10));
        assert_eq!(pacer.frames_due(Duration::ZERO), 0);
        assert_eq!(pacer.frames_due(Duration::MAX), 1);
        assert!(pacer.skipped() > 0);
        assert_eq!(pacer.frames_due(Duration::MAX), 0);
    }
}
