//! RFC 4733 telephone-events (DTMF carried in RTP): a receiver that turns the packet stream into digits,
//! and a sender that turns a digit into the packet sequence.
//!
//! Why it is shaped so:
//! - An event is identified by its RTP timestamp (the start of the key press, RFC 4733 §2.5.1). Every
//!   packet of one press repeats that timestamp, so keying on it makes duplicates, reordering and the
//!   three end retransmissions collapse into one digit, while two presses of the same key ("11") are two
//!   events because they start at different times.
//! - A digit is reported on the first end-bit packet (the press is over), or earlier evidence that it is
//!   over: a newer event timestamp, or 250 ms with no packet for it (lost end packets). An end packet alone
//!   is enough (lost start). A small ring of recently finished timestamps stops late copies re-triggering.
//! - Time comes in as `now_ms`: milliseconds from any fixed origin the caller chooses. No clock is read.
//! - Bad payloads (short, or an event other than 0-9, *, #, A-D such as flash) are ignored and counted,
//!   never a panic.

use std::collections::VecDeque;

/// An unfinished event with no packet for this long is taken as finished (its end packets were lost).
pub const EVENT_TIMEOUT_MS: u64 = 250;
/// RTP timestamp units per 20 ms packet at 8 kHz.
const SAMPLES_PER_PACKET: u32 = 160;
/// RFC 4733 §2.5.1.4: the final packet is sent three times.
const END_RETRANSMISSIONS: u8 = 3;
/// How many finished event timestamps are remembered to reject late copies.
const RECENT_EVENTS: usize = 16;
/// Bound on digits waiting to be returned (a caller that never polls cannot grow memory).
const PENDING_LIMIT: usize = 16;
/// A duration this close to the 16-bit limit means the sender may start a new segment (§2.5.1.3).
const LONG_EVENT_DURATION: u16 = 0xFFFF - 8 * SAMPLES_PER_PACKET as u16;

/// The RFC 4733 event code for a DTMF key, `None` for anything else.
pub fn event_code(digit: char) -> Option<u8> {
    match digit.to_ascii_uppercase() {
        d @ '0'..='9' => Some(d as u8 - b'0'),
        '*' => Some(10),
        '#' => Some(11),
        d @ 'A'..='D' => Some(d as u8 - b'A' + 12),
        _ => None,
    }
}

/// The DTMF key for an RFC 4733 event code 0-15, `None` for other events (flash, tones, ...).
pub fn event_digit(code: u8) -> Option<char> {
    const KEYS: [char; 16] = [
        '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '#', 'A', 'B', 'C', 'D',
    ];
    KEYS.get(usize::from(code)).copied()
}

/// One decoded telephone-event payload (RFC 4733 §2.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TelephoneEvent {
    pub code: u8,
    pub end: bool,
    pub volume: u8,
    pub duration: u16,
}

impl TelephoneEvent {
    /// Parses the first four bytes; `None` if the payload is shorter.
    pub fn parse(payload: &[u8]) -> Option<Self> {
        let [code, flags, hi, lo] = *payload.first_chunk::<4>()?;
        Some(TelephoneEvent {
            code,
            end: flags & 0x80 != 0,
            volume: flags & 0x3F,
            duration: u16::from_be_bytes([hi, lo]),
        })
    }

    /// The four-byte wire form (the reserved bit is always sent as zero).
    pub fn to_bytes(self) -> [u8; 4] {
        let flags = if self.end { 0x80 } else { 0 } | (self.volume & 0x3F);
        let [hi, lo] = self.duration.to_be_bytes();
        [self.code, flags, hi, lo]
    }
}

#[derive(Clone, Copy, Debug)]
struct ActiveEvent {
    timestamp: u32,
    code: u8,
    max_duration: u16,
    last_packet_ms: u64,
}

/// Turns received telephone-event packets into digits, exactly one per key press.
#[derive(Debug)]
pub struct DtmfReceiver {
    active: Option<ActiveEvent>,
    recent: [u32; RECENT_EVENTS],
    recent_len: usize,
    recent_next: usize,
    pending: VecDeque<char>,
    malformed: u64,
}

impl Default for DtmfReceiver {
    fn default() -> Self {
        Self::new()
    }
}

impl DtmfReceiver {
    pub fn new() -> Self {
        DtmfReceiver {
            active: None,
            recent: [0; RECENT_EVENTS],
            recent_len: 0,
            recent_next: 0,
            pending: VecDeque::with_capacity(4),
            malformed: 0,
        }
    }

    /// Feeds one telephone-event RTP payload. Returns a digit when one is complete. A single packet can
    /// complete two digits (a lost-end event plus an end-only event): call [`Self::poll`] to drain.
    pub fn on_event_packet(
        &mut self,
        rtp_timestamp: u32,
        payload: &[u8],
        now_ms: u64,
    ) -> Option<char> {
        self.expire(now_ms);
        let event = match TelephoneEvent::parse(payload) {
            Some(event) if event_digit(event.code).is_some() => event,
            _ => {
                self.malformed += 1;
                return self.pending.pop_front();
            }
        };
        if !self.is_recent(rtp_timestamp) {
            self.accept(rtp_timestamp, event, now_ms);
        }
        self.pending.pop_front()
    }

    /// Counts an unfinished event whose packets stopped `EVENT_TIMEOUT_MS` ago and returns waiting digits.
    /// Call it on every media tick; call again while it returns `Some`.
    pub fn poll(&mut self, now_ms: u64) -> Option<char> {
        self.expire(now_ms);
        self.pending.pop_front()
    }

    /// Short payloads and unsupported events (e.g. flash) seen so far.
    pub fn malformed_count(&self) -> u64 {
        self.malformed
    }

    fn accept(&mut self, timestamp: u32, event: TelephoneEvent, now_ms: u64) {
        let mut current = match self.active {
            Some(active) if active.timestamp == timestamp => active,
            Some(active) if is_next_segment(&active, timestamp, event.code) => {
                // A long press continues under a new timestamp: same digit, not a new one.
                self.remember(active.timestamp);
                ActiveEvent {
                    timestamp,
                    ..active
                }
            }
            Some(active) if is_newer(timestamp, active.timestamp) => {
                // The previous press lost its end packets: it is over now that a newer one started.
                self.finish(active);
                ActiveEvent::start(timestamp, event.code, now_ms)
            }
            Some(_) => {
                // A late packet of an older press never seen before: count it without disturbing the
                // press in progress.
                self.remember(timestamp);
                self.report(event.code);
                return;
            }
            None => ActiveEvent::start(timestamp, event.code, now_ms),
        };
        current.max_duration = current.max_duration.max(event.duration);
        current.last_packet_ms = now_ms;
        if event.end {
            self.finish(current);
        } else {
            self.active = Some(current);
        }
    }

    fn expire(&mut self, now_ms: u64) {
        if let Some(active) = self.active {
            if now_ms.saturating_sub(active.last_packet_ms) >= EVENT_TIMEOUT_MS {
                self.finish(active);
            }
        }
    }

    fn finish(&mut self, event: ActiveEvent) {
        self.active = None;
        self.remember(event.timestamp);
        self.report(event.code);
    }

    fn report(&mut self, code: u8) {
        if let Some(digit) = event_digit(code) {
            if self.pending.len() < PENDING_LIMIT {
                self.pending.push_back(digit);
            }
        }
    }

    fn remember(&mut self, timestamp: u32) {
        self.recent[self.recent_next] = timestamp;
        self.recent_next = (self.recent_next + 1) % RECENT_EVENTS;
        self.recent_len = (self.recent_len + 1).min(RECENT_EVENTS);
    }

    fn is_recent(&self, timestamp: u32) -> bool {
        self.recent[..self.recent_len].contains(&timestamp)
    }
}

impl ActiveEvent {
    fn start(timestamp: u32, code: u8, now_ms: u64) -> Self {
        ActiveEvent {
            timestamp,
            code,
            max_duration: 0,
            last_packet_ms: now_ms,
        }
    }
}

/// RTP timestamps wrap: `a` is newer than `b` if it is less than half the space ahead.
fn is_newer(a: u32, b: u32) -> bool {
    a != b && a.wrapping_sub(b) < 0x8000_0000
}

/// RFC 4733 §2.5.1.3: a press longer than the 16-bit duration continues as a new segment whose
/// timestamp is the old one plus the old duration.
fn is_next_segment(active: &ActiveEvent, timestamp: u32, code: u8) -> bool {
    let offset = timestamp.wrapping_sub(active.timestamp);
    code == active.code
        && active.max_duration >= LONG_EVENT_DURATION
        && offset >= u32::from(active.max_duration)
        && offset <= 0x1_0000 + SAMPLES_PER_PACKET
}

/// One telephone-event packet to send: the payload, the RTP marker bit and the RTP timestamp.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DtmfPacket {
    pub payload: [u8; 4],
    pub marker: bool,
    pub timestamp: u32,
}

/// Produces the RFC 4733 packets for one key press, one packet per 20 ms tick.
#[derive(Clone, Debug)]
pub struct DtmfSender {
    code: u8,
    volume: u8,
    timestamp: u32,
    packets_before_end: u32,
    sent: u32,
    ends_sent: u8,
}

impl DtmfSender {
    /// `duration_ms` is rounded up to whole 20 ms packets (at least one, at most the 16-bit duration
    /// limit of about 8 s); `volume` is -dBm0 (0-63, larger is clamped). `None` for a non-DTMF `digit`.
    pub fn new(digit: char, start_timestamp: u32, duration_ms: u32, volume: u8) -> Option<Self> {
        let code = event_code(digit)?;
        let max_packets = u32::from(u16::MAX) / SAMPLES_PER_PACKET;
        let packets = duration_ms.div_ceil(20).clamp(1, max_packets);
        Some(DtmfSender {
            code,
            volume: volume.min(0x3F),
            timestamp: start_timestamp,
            packets_before_end: packets - 1,
            sent: 0,
            ends_sent: 0,
        })
    }

    /// The next packet, or `None` once the third end packet has been sent.
    pub fn next_packet(&mut self) -> Option<DtmfPacket> {
        let end = self.sent >= self.packets_before_end;
        if end && self.ends_sent >= END_RETRANSMISSIONS {
            return None;
        }
        let packets_so_far = if end {
            self.packets_before_end + 1
        } else {
            self.sent + 1
        };
        let event = TelephoneEvent {
            code: self.code,
            end,
            volume: self.volume,
            // At most max_packets * 160 <= 0xFFFF by construction.
            duration: u16::try_from(packets_so_far * SAMPLES_PER_PACKET).unwrap_or(u16::MAX),
        };
        let marker = self.sent == 0 && self.ends_sent == 0;
        if end {
            self.ends_sent += 1;
        } else {
            self.sent += 1;
        }
        Some(DtmfPacket {
            payload: event.to_bytes(),
            marker,
            timestamp: self.timestamp,
        })
    }

    /// True once every packet, including the three end packets, has been produced.
    pub fn is_finished(&self) -> bool {
        self.sent >= self.packets_before_end && self.ends_sent >= END_RETRANSMISSIONS
    }
}

#[cfg(test)]
mod tests;
