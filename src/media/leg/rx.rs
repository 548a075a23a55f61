//! The receive half of a leg: RTP in, one decoded 20 ms frame out per tick, digits on the side.
//!
//! Why it is shaped so:
//! - Whose packets count is `PeerSource`'s decision (`leg/source/`): the SDP address, or a
//!   source learned after a probation while the SDP address stays silent (a caller behind NAT).
//!   Packets from any other address are dropped and counted as foreign.
//! - Streams are keyed by leg (one socket per leg), never by SSRC: SIPp replays the same SSRC and
//!   source port for every call. A new SSRC on the leg is a new source, so the jitter buffer starts
//!   over instead of treating its sequence numbers as late.
//! - Payloads are decoded into a small sample FIFO and taken out 160 samples per tick, so a peer
//!   that sends 30 ms packets (SIPp's PCMA pcap) still gives exactly one 20 ms frame per tick.
//! - In-band (Goertzel) detection runs only when the peer did not negotiate telephone-event:
//!   with RFC 4733 the tones are not in the audio, and detecting both would double digits.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Duration;

use rtp_rs::RtpReader;

use super::source::{PeerSource, Verdict};
use super::{LegCounters, FRAME_SAMPLES};
use crate::media::api::LegSetup;
use crate::media::dtmf::DtmfReceiver;
use crate::media::g711::G711;
use crate::media::goertzel::InbandDetector;
use crate::media::jitter::{Jitter, JitterBuffer};

/// Longest payload decoded (60 ms); longer ones are cut and counted.
pub(super) const MAX_PACKET_SAMPLES: usize = 480;
const FIFO_CAPACITY: usize = FRAME_SAMPLES + MAX_PACKET_SAMPLES;
const PENDING_DIGITS: usize = 16;

/// A digit and whether it came as an RFC 4733 event (those are relayed to a bridged peer; in-band
/// tones travel inside the audio anyway).
pub(super) type ReceivedDigit = (char, bool);

#[derive(Debug)]
pub(super) struct Receiver {
    pub(super) source: PeerSource,
    /// How long the SDP address has to send before another source may be learned.
    sdp_grace: Duration,
    ssrc: Option<u32>,
    depth: usize,
    jitter: JitterBuffer,
    dtmf: DtmfReceiver,
    inband: Option<InbandDetector>,
    fifo: Vec<i16>,
    /// Samples in the last payload, to size the silence for a lost one.
    last_payload_samples: usize,
    heard: [i16; FRAME_SAMPLES],
    heard_live: bool,
    last_packet: Duration,
    inactive_reported: bool,
    digits: VecDeque<ReceivedDigit>,
}

impl Receiver {
    pub(super) fn new(setup: &LegSetup, depth: usize, sdp_grace: Duration, now: Duration) -> Self {
        Receiver {
            source: PeerSource::new(setup.remote, now),
            sdp_grace,
            ssrc: None,
            depth,
            jitter: JitterBuffer::new(depth),
            dtmf: DtmfReceiver::new(),
            inband: setup.telephone_event_pt.is_none().then(InbandDetector::new),
            fifo: Vec::with_capacity(FIFO_CAPACITY),
            last_payload_samples: FRAME_SAMPLES,
            heard: [0; FRAME_SAMPLES],
            heard_live: false,
            last_packet: now,
            inactive_reported: false,
            digits: VecDeque::with_capacity(4),
        }
    }

    /// The peer re-negotiated: a new address starts the source choice over, resuming (or the peer starting
    /// to send) restarts the inactivity clock, and in-band detection follows the
    /// telephone-event negotiation.
    pub(super) fn update(&mut self, old: &LegSetup, new: &LegSetup, now: Duration) {
        self.source.update(new.remote, now);
        if new.expects_rtp() && !old.expects_rtp() {
            self.last_packet = now;
            self.inactive_reported = false;
        }
        match (new.telephone_event_pt, &self.inband) {
            (None, None) => self.inband = Some(InbandDetector::new()),
            (Some(_), Some(_)) => self.inband = None,
            _ => {}
        }
    }

    pub(super) fn on_packet(
        &mut self,
        setup: &LegSetup,
        bytes: &[u8],
        from: SocketAddr,
        now: Duration,
        counters: &mut LegCounters,
    ) {
        let Ok(packet) = RtpReader::new(bytes) else {
            counters.malformed += 1;
            return;
        };
        let pt = packet.payload_type();
        let is_audio = pt == setup.payload_type;
        let is_event = setup.telephone_event_pt == Some(pt);
        if !is_audio && !is_event {
            counters.unknown_pt += 1;
            return;
        }
        let payload = packet.payload();
        if payload.is_empty() {
            counters.malformed += 1;
            return;
        }
        let seq = packet.sequence_number().into();
        let verdict = self
            .source
            .check(from, packet.ssrc(), seq, now, self.sdp_grace);
        if verdict == Verdict::Foreign {
            counters.foreign += 1;
            return;
        }
        self.last_packet = now;
        self.inactive_reported = false;
        counters.received += 1;
        if is_audio {
            self.on_audio(packet.ssrc(), seq, payload, counters);
        } else if let Some(digit) =
            self.dtmf
                .on_event_packet(packet.timestamp(), payload, millis(now))
        {
            self.push_digit(digit, true);
        }
    }

    fn on_audio(&mut self, ssrc: u32, seq: u16, payload: &[u8], counters: &mut LegCounters) {
        if self.ssrc.is_some_and(|known| known != ssrc) {
            counters.ssrc_changes += 1;
            self.jitter = JitterBuffer::new(self.depth);
        }
        self.ssrc = Some(ssrc);
        self.jitter.push(seq, payload);
    }

    /// Produces this tick's heard frame (silence and not live if the peer sends nothing).
    pub(super) fn tick(&mut self, codec: G711, now: Duration, counters: &mut LegCounters) {
        while let Some(digit) = self.dtmf.poll(millis(now)) {
            self.push_digit(digit, true);
        }
        if self.fifo.len() < FRAME_SAMPLES {
            match self.jitter.pop_shrinking(|bytes| codec.is_quiet(bytes)) {
                Jitter::Frame(bytes) => {
                    if bytes.len() > MAX_PACKET_SAMPLES {
                        counters.truncated += 1;
                    }
                    let bytes = bytes.get(..MAX_PACKET_SAMPLES).unwrap_or(bytes);
                    codec.decode_into(bytes, &mut self.fifo);
                    self.last_payload_samples = bytes.len().max(1);
                }
                Jitter::Gap => {
                    let len = self.fifo.len() + self.last_payload_samples;
                    self.fifo.resize(len, 0);
                }
                Jitter::Idle => {}
            }
        }
        self.heard_live = !self.fifo.is_empty();
        let n = self.fifo.len().min(FRAME_SAMPLES);
        self.heard[..n].copy_from_slice(&self.fifo[..n]);
        self.heard[n..].fill(0);
        self.fifo.drain(..n);
        if let (true, Some(detector)) = (self.heard_live, &mut self.inband) {
            let mut next = detector.push(&self.heard);
            while let Some(digit) = next {
                push_bounded(&mut self.digits, (digit, false));
                next = detector.push(&[]);
            }
        }
    }

    /// This tick's audio from the peer, if it is sending any.
    pub(super) fn heard(&self) -> Option<&[i16; FRAME_SAMPLES]> {
        self.heard_live.then_some(&self.heard)
    }

    /// This tick's audio, silence when the peer sends nothing.
    pub(super) fn heard_or_silence(&self) -> &[i16; FRAME_SAMPLES] {
        &self.heard
    }

    pub(super) fn next_digit(&mut self) -> Option<ReceivedDigit> {
        self.digits.pop_front()
    }

    /// True once when nothing has arrived for `limit` while RTP is expected (see
    /// `LegSetup::expects_rtp`).
    pub(super) fn check_inactive(
        &mut self,
        now: Duration,
        limit: Duration,
        expected: bool,
    ) -> bool {
        if !expected || self.inactive_reported || limit.is_zero() {
            return false;
        }
        if now.saturating_sub(self.last_packet) >= limit {
            self.inactive_reported = true;
            return true;
        }
        false
    }

    pub(super) fn jitter(&self) -> &JitterBuffer {
        &self.jitter
    }

    fn push_digit(&mut self, digit: char, relayable: bool) {
        push_bounded(&mut self.digits, (digit, relayable));
    }
}

fn push_bounded(queue: &mut VecDeque<ReceivedDigit>, digit: ReceivedDigit) {
    if queue.len() < PENDING_DIGITS {
        queue.push_back(digit);
    }
}

pub(super) fn millis(now: Duration) -> u64 {
    u64::try_from(now.as_millis()).unwrap_or(u64::MAX)
}
