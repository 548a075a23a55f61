//! Counters the engine keeps for `/metrics`: no personal data, only numbers.

use std::fmt::Write as _;

#[derive(Debug, Default, Clone)]
pub struct Counters {
    pub sip_malformed: u64,
    pub sip_retransmissions_absorbed: u64,
    pub calls_offered: u64,
    pub calls_answered: u64,
    pub calls_rejected: u64,
    /// INVITEs refused because their source was over its limits (unconfirmed calls, port share).
    pub calls_refused_source_limit: u64,
    pub calls_ended: u64,
    pub registrations: u64,
    pub auth_challenges: u64,
    /// Requests from a source over its message rate, answered 503 without any state.
    pub flood_refused: u64,
    /// Messages dropped unread from a source being ignored for flooding.
    pub flood_dropped: u64,
    /// Times a source was blocked for flooding (a security event each).
    pub flood_blocked: u64,
    /// Refused SIP credentials (every `SIP authentication failed` line).
    pub security_auth_failed: u64,
    /// (source, user) pairs locked out for guessing (every `SIP authentication locked out` line).
    pub security_lockouts: u64,
}

impl Counters {
    /// Prometheus text exposition of the counters plus the gauges passed in.
    pub fn render(&self, active_calls: usize, free_ports: usize, contacts: usize) -> String {
        let mut out = String::new();
        let rows: [(&str, &str, u64); 12] = [
            (
                "pasokh_sip_malformed_total",
                "Malformed SIP messages answered 400 or dropped",
                self.sip_malformed,
            ),
            (
                "pasokh_sip_retransmissions_absorbed_total",
                "Retransmitted requests absorbed by transactions",
                self.sip_retransmissions_absorbed,
            ),
            (
                "pasokh_calls_offered_total",
                "INVITEs that opened a call attempt",
                self.calls_offered,
            ),
            (
                "pasokh_calls_answered_total",
                "Calls answered with 200 OK",
                self.calls_answered,
            ),
            (
                "pasokh_calls_rejected_total",
                "Calls refused with a final error response",
                self.calls_rejected,
            ),
            (
                "pasokh_calls_refused_source_limit_total",
                "INVITEs refused 503 because their source held too many unconfirmed calls or ports",
                self.calls_refused_source_limit,
            ),
            (
                "pasokh_calls_ended_total",
                "Calls ended after being accepted",
                self.calls_ended,
            ),
            (
                "pasokh_registrations_total",
                "Successful REGISTER requests",
                self.registrations,
            ),
            (
                "pasokh_auth_challenges_total",
                "Digest challenges sent",
                self.auth_challenges,
            ),
            (
                "pasokh_sip_flood_refused_total",
                "Requests from a source over its message rate, answered 503 statelessly",
                self.flood_refused,
            ),
            (
                "pasokh_sip_flood_dropped_total",
                "Messages dropped unread from a source ignored for flooding",
                self.flood_dropped,
            ),
            (
                "pasokh_sip_flood_blocked_total",
                "Sources blocked for flooding (security events)",
                self.flood_blocked,
            ),
        ];
        for (name, help, value) in rows {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}"
            );
        }
        // One family with an `event` label, the shape Asterisk's security events take, so an
        // alert can watch all of them at once.
        let _ = writeln!(
            out,
            "# HELP pasokh_security_events_total Security events: refused SIP credentials, lockouts of password guessing, sources ignored for flooding\n\
             # TYPE pasokh_security_events_total counter\n\
             pasokh_security_events_total{{event=\"auth_failed\"}} {}\n\
             pasokh_security_events_total{{event=\"lockout\"}} {}\n\
             pasokh_security_events_total{{event=\"flood_blocked\"}} {}",
            self.security_auth_failed, self.security_lockouts, self.flood_blocked
        );
        let _ = writeln!(out, "# HELP pasokh_calls_active Calls in progress\n# TYPE pasokh_calls_active gauge\npasokh_calls_active {active_calls}");
        let _ = writeln!(out, "# HELP pasokh_rtp_ports_free Free RTP ports\n# TYPE pasokh_rtp_ports_free gauge\npasokh_rtp_ports_free {free_ports}");
        let _ = writeln!(out, "# HELP pasokh_registered_contacts Registered softphone contacts\n# TYPE pasokh_registered_contacts gauge\npasokh_registered_contacts {contacts}");
        out
    }
}
