//! Media counters for `/metrics`: packets and jitter-buffer events summed over every leg, open or
//! closed, so an operator can tell a lossy network (gaps), a late sender (underruns) and an
//! overloaded engine (pacer frames skipped) apart.
//!
//! Each worker publishes its totals once a second into its own slot (one short lock per worker per
//! second, nothing per packet); closed legs are folded into the worker's running sum first.

use std::fmt::Write as _;
use std::sync::Mutex;

use crate::media::leg::Leg;

/// Totals of one worker, or of all of them.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct MediaTotals {
    pub received: u64,
    pub sent: u64,
    pub malformed: u64,
    pub foreign: u64,
    pub jitter_gaps: u64,
    pub jitter_underruns: u64,
    pub jitter_late: u64,
    pub jitter_overflow: u64,
    pub jitter_shrunk: u64,
    pub pacer_skipped: u64,
    /// Worker wake-ups for a 20 ms deadline, and those more than 1 ms late.
    pub wakeups: u64,
    pub late_wakeups: u64,
}

impl MediaTotals {
    pub fn add_leg(&mut self, leg: &Leg) {
        let (c, j) = (leg.counters(), leg.jitter_stats());
        self.received += c.received;
        self.sent += c.sent;
        self.malformed += c.malformed;
        self.foreign += c.foreign;
        self.jitter_gaps += j.gaps;
        self.jitter_underruns += j.underruns;
        self.jitter_late += j.late;
        self.jitter_overflow += j.overflow;
        self.jitter_shrunk += j.shrunk;
    }

    pub fn add(&mut self, other: &MediaTotals) {
        self.received += other.received;
        self.sent += other.sent;
        self.malformed += other.malformed;
        self.foreign += other.foreign;
        self.jitter_gaps += other.jitter_gaps;
        self.jitter_underruns += other.jitter_underruns;
        self.jitter_late += other.jitter_late;
        self.jitter_overflow += other.jitter_overflow;
        self.jitter_shrunk += other.jitter_shrunk;
        self.pacer_skipped += other.pacer_skipped;
        self.wakeups += other.wakeups;
        self.late_wakeups += other.late_wakeups;
    }

    /// Prometheus text exposition.
    pub fn render(&self) -> String {
        let rows: [(&str, &str, u64); 12] = [
            (
                "pasokh_rtp_received_total",
                "RTP packets received",
                self.received,
            ),
            ("pasokh_rtp_sent_total", "RTP packets sent", self.sent),
            (
                "pasokh_rtp_malformed_total",
                "RTP packets dropped as malformed",
                self.malformed,
            ),
            (
                "pasokh_rtp_foreign_total",
                "RTP packets from a source that is not the peer (or still on probation), dropped",
                self.foreign,
            ),
            (
                "pasokh_rtp_jitter_gaps_total",
                "Frames lost (later frames had arrived), filled with silence",
                self.jitter_gaps,
            ),
            (
                "pasokh_rtp_jitter_underruns_total",
                "Ticks a jitter buffer ran dry and waited for a late frame",
                self.jitter_underruns,
            ),
            (
                "pasokh_rtp_jitter_late_total",
                "Packets that arrived after their frame was played, dropped",
                self.jitter_late,
            ),
            (
                "pasokh_rtp_jitter_overflow_total",
                "Frames dropped because a burst exceeded the jitter buffer",
                self.jitter_overflow,
            ),
            (
                "pasokh_rtp_jitter_shrunk_total",
                "Quiet frames dropped to bring the delay back after underruns",
                self.jitter_shrunk,
            ),
            (
                "pasokh_media_frames_skipped_total",
                "20 ms frames a media worker skipped after stalling over 200 ms",
                self.pacer_skipped,
            ),
            (
                "pasokh_media_wakeups_total",
                "Media worker wake-ups for a 20 ms deadline",
                self.wakeups,
            ),
            (
                "pasokh_media_wakeups_late_total",
                "Media worker wake-ups more than 1 ms after their deadline",
                self.late_wakeups,
            ),
        ];
        let mut out = String::new();
        for (name, help, value) in rows {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}"
            );
        }
        out
    }
}

/// Every worker's latest totals.
pub struct MediaStats {
    workers: Mutex<Vec<MediaTotals>>,
}

impl MediaStats {
    pub fn new(workers: usize) -> Self {
        MediaStats {
            workers: Mutex::new(vec![MediaTotals::default(); workers]),
        }
    }

    pub fn publish(&self, worker: usize, totals: MediaTotals) {
        let mut slots = super::lock(&self.workers);
        if let Some(slot) = slots.get_mut(worker) {
            *slot = totals;
        }
    }

    pub fn totals(&self) -> MediaTotals {
        let mut sum = MediaTotals::default();
        for worker in super::lock(&self.workers).iter() {
            sum.add(worker);
        }
        sum
    }

    pub fn render(&self) -> String {
        self.totals().render()
    }
}
