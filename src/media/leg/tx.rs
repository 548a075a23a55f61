//! The send half of a leg: one 20 ms frame of PCM in, one RTP packet out, with our own SSRC,
//! sequence numbers and timestamps, and DTMF sent as RFC 4733 events or in-band tones.
//!
//! Why it is shaped so:
//! - The stream identity belongs to the leg, not to what is played: prompts, music, echo, a bridged
//!   peer and DTMF all go out under one SSRC whose sequence number rises by one per packet and whose
//!   timestamp rises by 160 per tick. The timestamp advances even on hold (RFC 3550: it follows the
//!   sampling clock), so after a pause it jumps and the marker bit flags the new talk spurt. The far
//!   end's jitter buffer never sees a source switch it would have to guess about.
//! - The marker is set on the first packet we send and on the first after a pause (hold, unknown
//!   destination); silence is sent as ordinary audio, so a connected leg is one continuous spurt and
//!   NAT bindings and the peer's RTP timeout stay fresh.
//! - RFC 4733 packets replace the audio packet of their tick (the event's timestamp is its start,
//!   repeated; the sequence number keeps counting), then a short gap of audio separates digits.
//! - Without a negotiated telephone-event the digit is a 100 ms dual tone mixed over the audio.
//! - The packet is built into a fixed buffer owned by the leg: nothing is allocated per packet.

use std::collections::VecDeque;

use rtp_rs::{RtpPacketBuilder, Seq};

use super::FRAME_SAMPLES;
use crate::media::dtmf::{event_code, DtmfSender};
use crate::media::g711::G711;

/// How long each sent digit lasts.
pub const DTMF_MS: u32 = 100;
/// Audio ticks between two sent digits (60 ms).
const DIGIT_GAP_TICKS: u8 = 3;
/// RFC 4733 volume field: 10 means -10 dBm0.
const EVENT_VOLUME: u8 = 10;
/// Peak of each in-band tone (about -13 dBm0 each, well inside Q.24's acceptance window).
const TONE_AMPLITUDE: f32 = 5000.0;
const QUEUED_DIGITS: usize = 32;
const PACKET_MAX: usize = 12 + FRAME_SAMPLES;
const ROW_HZ: [f32; 4] = [697.0, 770.0, 852.0, 941.0];
const COLUMN_HZ: [f32; 4] = [1209.0, 1336.0, 1477.0, 1633.0];

/// How this tick's packet may be sent.
#[derive(Debug, Clone, Copy)]
pub(super) struct SendParams {
    pub codec: G711,
    pub payload_type: u8,
    pub telephone_event_pt: Option<u8>,
    /// Sending allowed (not on hold) and a destination is known.
    pub may_send: bool,
}

#[derive(Debug, Clone)]
struct Tone {
    row_hz: f32,
    column_hz: f32,
    sample: u32,
    remaining: u32,
}

#[derive(Debug)]
pub(super) struct Transmitter {
    ssrc: u32,
    seq: u16,
    timestamp: u32,
    marker_next: bool,
    queue: VecDeque<char>,
    event: Option<DtmfSender>,
    tone: Option<Tone>,
    gap_ticks: u8,
    payload: Vec<u8>,
    packet: [u8; PACKET_MAX],
    packet_len: usize,
}

impl Transmitter {
    pub(super) fn new(ssrc: u32, seq: u16, timestamp: u32) -> Self {
        Transmitter {
            ssrc,
            seq,
            timestamp,
            marker_next: true,
            queue: VecDeque::new(),
            event: None,
            tone: None,
            gap_ticks: 0,
            payload: Vec::with_capacity(FRAME_SAMPLES),
            packet: [0; PACKET_MAX],
            packet_len: 0,
        }
    }

    /// Queues a digit; false for a character that is not a DTMF key (or a full queue).
    pub(super) fn queue_digit(&mut self, digit: char) -> bool {
        if event_code(digit).is_none() || self.queue.len() >= QUEUED_DIGITS {
            return false;
        }
        self.queue.push_back(digit);
        true
    }

    /// Mixes the in-band tone of a queued digit over `out` (only used without telephone-event).
    pub(super) fn overlay_tone(&mut self, out: &mut [i16; FRAME_SAMPLES]) {
        if self.tone.is_none() && self.event.is_none() && self.gap_ticks == 0 {
            self.tone = self.queue.pop_front().and_then(tone_for);
        }
        let Some(tone) = &mut self.tone else {
            return;
        };
        let step_row = std::f32::consts::TAU * tone.row_hz / 8000.0;
        let step_column = std::f32::consts::TAU * tone.column_hz / 8000.0;
        for sample in out.iter_mut() {
            if tone.remaining == 0 {
                *sample = 0;
                continue;
            }
            let n = tone.sample as f32;
            let value = TONE_AMPLITUDE * ((step_row * n).sin() + (step_column * n).sin());
            *sample = value as i16;
            tone.sample += 1;
            tone.remaining -= 1;
        }
        if tone.remaining == 0 {
            self.tone = None;
            self.gap_ticks = DIGIT_GAP_TICKS;
        }
    }

    /// Builds this tick's packet from `pcm` (or an RFC 4733 event); advances the clock either way.
    pub(super) fn packetize(&mut self, params: SendParams, pcm: &[i16]) -> Option<&[u8]> {
        let timestamp = self.timestamp;
        self.timestamp = self.timestamp.wrapping_add(FRAME_SAMPLES as u32);
        self.packet_len = 0;
        let event_pt = params.telephone_event_pt;
        if event_pt.is_none() || !params.may_send {
            // Events need a telephone-event stream; in-band tones were mixed already.
            self.event = None;
        }
        let gap_was = self.gap_ticks;
        self.gap_ticks = self.gap_ticks.saturating_sub(1);
        if !params.may_send {
            self.marker_next = true;
            return None;
        }
        if let Some(pt) = event_pt {
            if gap_was == 0 && self.tone.is_none() {
                if let Some(packet) = self.next_event(timestamp) {
                    // The event starts the stream if nothing was sent before it.
                    let stream_start = std::mem::take(&mut self.marker_next);
                    let marker = packet.marker || stream_start;
                    return self.build(pt, marker, packet.timestamp, Some(packet.payload));
                }
            }
        }
        self.payload.clear();
        params.codec.encode_into(pcm, &mut self.payload);
        let marker = std::mem::take(&mut self.marker_next);
        self.build(params.payload_type, marker, timestamp, None)
    }

    fn next_event(&mut self, timestamp: u32) -> Option<crate::media::dtmf::DtmfPacket> {
        if self.event.is_none() {
            let digit = self.queue.pop_front()?;
            self.event = DtmfSender::new(digit, timestamp, DTMF_MS, EVENT_VOLUME);
        }
        let packet = self.event.as_mut()?.next_packet();
        if self.event.as_ref().is_none_or(DtmfSender::is_finished) {
            self.event = None;
            self.gap_ticks = DIGIT_GAP_TICKS;
        }
        packet
    }

    /// Builds the packet from the encoded audio, or from `event` (an RFC 4733 payload).
    fn build(
        &mut self,
        pt: u8,
        marker: bool,
        timestamp: u32,
        event: Option<[u8; 4]>,
    ) -> Option<&[u8]> {
        let payload: &[u8] = match &event {
            Some(bytes) => bytes,
            None => &self.payload,
        };
        let built = RtpPacketBuilder::new()
            .payload_type(pt)
            .marked(marker)
            .sequence(Seq::from(self.seq))
            .ssrc(self.ssrc)
            .timestamp(timestamp)
            .payload(payload)
            .build_into(&mut self.packet);
        let len = built.ok()?;
        self.seq = self.seq.wrapping_add(1);
        self.packet_len = len;
        self.packet.get(..len)
    }

    /// The packet built on the last tick, if any.
    pub(super) fn packet(&self) -> Option<&[u8]> {
        (self.packet_len > 0)
            .then(|| self.packet.get(..self.packet_len))
            .flatten()
    }

    /// Forgets the packet of the last tick (nothing to send until the next tick).
    pub(super) fn clear_packet(&mut self) {
        self.packet_len = 0;
    }

    pub(super) fn ssrc(&self) -> u32 {
        self.ssrc
    }
}

fn tone_for(digit: char) -> Option<Tone> {
    let code = usize::from(event_code(digit)?);
    // Keypad layout: code → (row, column).
    const LAYOUT: [(usize, usize); 16] = [
        (3, 1),
        (0, 0),
        (0, 1),
        (0, 2),
        (1, 0),
        (1, 1),
        (1, 2),
        (2, 0),
        (2, 1),
        (2, 2),
        (3, 0),
        (3, 2),
        (0, 3),
        (1, 3),
        (2, 3),
        (3, 3),
    ];
    let (row, column) = *LAYOUT.get(code)?;
    Some(Tone {
        row_hz: ROW_HZ[row],
        column_hz: COLUMN_HZ[column],
        sample: 0,
        remaining: DTMF_MS * 8,
    })
}
