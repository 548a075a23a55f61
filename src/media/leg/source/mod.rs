//! Whose RTP a leg accepts and where it sends: the address the peer's SDP gave, unless that
//! address stays silent and another source proves itself.
//!
//! Why it is shaped so:
//! - Latching onto whatever sends first let anyone who guessed a call's port take its audio
//!   (and inject audio and digits) by spraying packets before the caller's first one. So the SDP
//!   address is always accepted, and once it has sent, it is the peer for the rest of the call:
//!   every other source is foreign, whatever it sends.
//! - Symmetric RTP is still needed: behind NAT the SDP may name a private address that never
//!   reaches us. Another source is learned only while the SDP address has sent nothing, after a
//!   probation like Asterisk's `strictrtp`: `PROBATION_PACKETS` consecutive packets of one SSRC
//!   from one address, each sequence number one more than the last (another source's packet in
//!   between starts the probation over, so two streams racing each other both stay out), and not
//!   before the SDP address had `LegConfig::sdp_grace` to speak first. A phone starts sending as
//!   soon as it has our answer, so a caller who sends from its SDP address is heard long before a
//!   spray could be learned.
//! - If the SDP address starts sending after another source was learned, the SDP address wins at
//!   once and for good: it is the address the caller's own signalling named.
//! - Packets from the SDP address are accepted without probation: only a caller (or someone who
//!   can forge its source address, which no port choice could stop) sends from it.

use std::net::SocketAddr;
use std::time::Duration;

/// Consecutive in-sequence packets of one SSRC a new source must send to be learned.
pub(super) const PROBATION_PACKETS: u32 = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Verdict {
    Accept,
    Foreign,
}

#[derive(Debug, Clone, Copy)]
struct Candidate {
    from: SocketAddr,
    ssrc: u32,
    last_seq: u16,
    packets: u32,
}

#[derive(Debug)]
pub(super) struct PeerSource {
    /// The address from the peer's SDP (none when the SDP gave none we could use).
    sdp: Option<SocketAddr>,
    /// The source accepted so far: the SDP address once it sent, or a learned one.
    accepted: Option<SocketAddr>,
    /// The SDP address has sent: nothing else will be learned.
    sdp_heard: bool,
    /// When the SDP address was given (open or re-INVITE): its grace runs from here.
    since: Duration,
    candidate: Option<Candidate>,
}

impl PeerSource {
    pub(super) fn new(sdp: Option<SocketAddr>, now: Duration) -> Self {
        PeerSource {
            sdp,
            accepted: None,
            sdp_heard: false,
            since: now,
            candidate: None,
        }
    }

    /// A re-INVITE: a new SDP address starts everything over; the same one changes nothing.
    pub(super) fn update(&mut self, sdp: Option<SocketAddr>, now: Duration) {
        if sdp != self.sdp {
            *self = PeerSource::new(sdp, now);
        }
    }

    /// Where packets go: the accepted source, else the SDP address.
    pub(super) fn destination(&self) -> Option<SocketAddr> {
        self.accepted.or(self.sdp)
    }

    /// Whether a valid packet (one of our payload types) from `from` is the peer's.
    pub(super) fn check(
        &mut self,
        from: SocketAddr,
        ssrc: u32,
        seq: u16,
        now: Duration,
        grace: Duration,
    ) -> Verdict {
        if Some(from) == self.sdp {
            self.sdp_heard = true;
            self.accepted = Some(from);
            self.candidate = None;
            return Verdict::Accept;
        }
        if Some(from) == self.accepted {
            return Verdict::Accept;
        }
        if self.sdp_heard || self.accepted.is_some() {
            return Verdict::Foreign;
        }
        let packets = match self.candidate {
            Some(c) if c.from == from && c.ssrc == ssrc && seq == c.last_seq.wrapping_add(1) => {
                c.packets + 1
            }
            _ => 1,
        };
        self.candidate = Some(Candidate {
            from,
            ssrc,
            last_seq: seq,
            packets,
        });
        let grace_over = self.sdp.is_none() || now.saturating_sub(self.since) >= grace;
        if packets >= PROBATION_PACKETS && grace_over {
            self.accepted = Some(from);
            self.candidate = None;
            return Verdict::Accept;
        }
        Verdict::Foreign
    }
}

#[cfg(test)]
mod tests;
