//! Counters of the SIP TCP connections for `/metrics`: why connections were closed, how many are
//! open. Shared by the connection tasks, read by the web server.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

/// Why the engine closed (or lost) a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    /// The peer closed it, or it failed.
    Peer,
    /// Nothing arrived for the idle time.
    Idle,
    /// The peer did not read its answers and its output queue filled up.
    NotReading,
    /// A message did not arrive whole within the deadline after its first byte.
    SlowMessage,
    /// The stream could not be split into SIP messages.
    Unframeable,
    /// Opened and sent no message within the first-message time.
    Silent,
    /// Its source already had as many connections open as one source may.
    TooManyFromSource,
}

const REASONS: [(CloseReason, &str); 7] = [
    (CloseReason::Peer, "peer"),
    (CloseReason::Idle, "idle"),
    (CloseReason::NotReading, "not_reading"),
    (CloseReason::SlowMessage, "slow_message"),
    (CloseReason::Unframeable, "unframeable"),
    (CloseReason::Silent, "silent"),
    (CloseReason::TooManyFromSource, "too_many_from_source"),
];

#[derive(Debug, Default)]
pub struct TcpStats {
    opened: AtomicU64,
    reads: AtomicU64,
    closed: [AtomicU64; REASONS.len()],
}

impl TcpStats {
    pub fn opened(&self) {
        self.opened.fetch_add(1, Ordering::Relaxed);
    }

    pub fn read(&self) {
        self.reads.fetch_add(1, Ordering::Relaxed);
    }

    /// Reads from SIP TCP sockets so far.
    pub fn reads(&self) -> u64 {
        self.reads.load(Ordering::Relaxed)
    }

    pub fn closed(&self, reason: CloseReason) {
        if let Some(i) = REASONS.iter().position(|(r, _)| *r == reason) {
            self.closed[i].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Connections closed for `reason` so far.
    pub fn closed_for(&self, reason: CloseReason) -> u64 {
        REASONS
            .iter()
            .position(|(r, _)| *r == reason)
            .map_or(0, |i| self.closed[i].load(Ordering::Relaxed))
    }

    /// Prometheus text: connections opened, closed by reason, open now.
    pub fn render(&self) -> String {
        let opened = self.opened.load(Ordering::Relaxed);
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP pasokh_sip_tcp_opened_total SIP TCP connections accepted\n\
             # TYPE pasokh_sip_tcp_opened_total counter\npasokh_sip_tcp_opened_total {opened}"
        );
        let reads = self.reads();
        let _ = writeln!(
            out,
            "# HELP pasokh_sip_tcp_reads_total Reads from SIP TCP connections\n\
             # TYPE pasokh_sip_tcp_reads_total counter\npasokh_sip_tcp_reads_total {reads}"
        );
        let _ = writeln!(
            out,
            "# HELP pasokh_sip_tcp_closed_total SIP TCP connections closed, by reason\n\
             # TYPE pasokh_sip_tcp_closed_total counter"
        );
        let mut closed = 0;
        for (i, (_, label)) in REASONS.iter().enumerate() {
            let count = self.closed[i].load(Ordering::Relaxed);
            closed += count;
            let _ = writeln!(
                out,
                "pasokh_sip_tcp_closed_total{{reason=\"{label}\"}} {count}"
            );
        }
        let open = opened.saturating_sub(closed);
        let _ = writeln!(
            out,
            "# HELP pasokh_sip_tcp_connections SIP TCP connections open\n\
             # TYPE pasokh_sip_tcp_connections gauge\npasokh_sip_tcp_connections {open}"
        );
        out
    }
}
