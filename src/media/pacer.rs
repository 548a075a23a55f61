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
//! - A late wake-up is not corrected all at once. Sending the next frame back on the grid would make
//!   the far end see two jitter spikes (a long gap, then a short one) per hiccup; instead the clock
//!   runs at most `SLEW` (0.5 ms) early per frame until it is back on the grid, so the only spike is
//!   the hiccup itself. The lag is always under one frame, so the frame count still never drifts.
//! - Time is a `Duration` from an origin the caller chooses (e.g. the driver's start `Instant`); the
//!   pacer never reads a clock.

use std::time::Duration;

/// Length of one media frame (160 samples at 8 kHz).
pub const FRAME: Duration = Duration::from_millis(20);
const FRAME_NANOS: u64 = 20_000_000;
/// Most frames that are caught up at once; beyond this the overdue frames are skipped.
pub const MAX_CATCH_UP: u64 = 10;
/// How much shorter than 20 ms the interval after a late frame may be while the clock returns to
/// the grid (a 2.5% faster rate for a few frames, well inside any receiver's tolerance).
pub const SLEW: Duration = Duration::from_micros(500);

/// Absolute-deadline 20 ms frame clock.
#[derive(Clone, Debug)]
pub struct Pacer {
    start: Duration,
    /// Index of the next frame not yet handed out.
    next_frame: u64,
    skipped: u64,
    /// How far behind the grid the next frame is scheduled (always under one frame).
    lag: Duration,
}

impl Pacer {
    /// Frame 0 is due at `start`.
    pub fn new(start: Duration) -> Self {
        Pacer {
            start,
            next_frame: 0,
            skipped: 0,
            lag: Duration::ZERO,
        }
    }

    /// How many frames to produce now: every grid deadline at or before `now` not yet handed out,
    /// once the (possibly lagging) next deadline has come. After a stall longer than
    /// `MAX_CATCH_UP` frames only the newest is produced and the rest are skipped.
    pub fn frames_due(&mut self, now: Duration) -> u32 {
        if now < self.next_deadline() {
            return 0;
        }
        let Some(elapsed) = now.checked_sub(self.start) else {
            return 0;
        };
        // Grid deadlines 0..=elapsed/FRAME have passed.
        let newest =
            u64::try_from(elapsed.as_nanos() / u128::from(FRAME_NANOS)).unwrap_or(u64::MAX);
        let passed = newest.saturating_add(1);
        let due = passed.saturating_sub(self.next_frame);
        if due == 0 {
            return 0;
        }
        self.next_frame = passed;
        // This wake-up's lateness after the newest grid deadline, less the slew: where the next
        // frame goes, so the interval to it is at least 20 ms - SLEW.
        let late = now.saturating_sub(self.grid(newest));
        self.lag = late.min(FRAME).saturating_sub(SLEW);
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
        self.grid(self.next_frame).saturating_add(self.lag)
    }

    fn grid(&self, frame: u64) -> Duration {
        let nanos = frame.saturating_mul(FRAME_NANOS);
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
        // Behind the grid by less than a frame, never more: no drift.
        let next = pacer.next_deadline();
        assert!(next >= end && next < end + FRAME, "{next:?}");
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
        // 53 ms late: frames at 520, 540 and 560 are due; the next one follows 19.5 ms later
        // (13 ms behind the grid at 580, slewing back).
        assert_eq!(pacer.frames_due(Duration::from_millis(573)), 3);
        assert_eq!(pacer.next_deadline(), Duration::from_micros(592_500));
    }

    #[test]
    fn after_a_late_wakeup_the_clock_slews_back_to_the_grid() {
        let mut pacer = Pacer::new(Duration::ZERO);
        assert_eq!(pacer.frames_due(Duration::ZERO), 1);
        // Frame 1 (due at 20 ms) goes out 3 ms late.
        let mut sent = vec![Duration::ZERO];
        assert_eq!(pacer.frames_due(Duration::from_millis(23)), 1);
        sent.push(Duration::from_millis(23));
        // Then every wake-up is exactly on the deadline asked for.
        for _ in 0..10 {
            let at = pacer.next_deadline();
            assert_eq!(pacer.frames_due(at), 1);
            sent.push(at);
        }
        let gaps: Vec<u64> = sent
            .windows(2)
            .map(|w| (w[1] - w[0]).as_micros() as u64)
            .collect();
        // One long gap (the hiccup), six gaps 0.5 ms short, then the grid again.
        assert_eq!(
            gaps,
            [
                23_000, 19_500, 19_500, 19_500, 19_500, 19_500, 19_500, 20_000, 20_000, 20_000,
                20_000
            ]
        );
        assert_eq!(pacer.next_deadline(), Duration::from_millis(240));
    }

    #[test]
    fn lateness_under_the_slew_does_not_move_the_schedule() {
        let mut pacer = Pacer::new(Duration::ZERO);
        for n in 0..100u64 {
            let grid = Duration::from_millis(20 * n);
            assert_eq!(pacer.next_deadline(), grid);
            assert_eq!(pacer.frames_due(grid + Duration::from_micros(400)), 1);
        }
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
        // The grid's next deadline is 1020 ms; 10 ms behind it, slewing back.
        assert_eq!(pacer.next_deadline(), Duration::from_micros(1_029_500));
        assert_eq!(pacer.frames_due(Duration::from_micros(1_029_500)), 1);
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
