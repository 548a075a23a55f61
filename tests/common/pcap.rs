//! Pcap files of RTP for SIPp's `play_pcap_audio`: reading the captures SIPp ships (Ethernet,
//! IPv4, UDP) and writing new ones, so a test can have SIPp itself send a stream it composed
//! (stock DTMF captures one after another, in-band tones, speech followed by a key).
//!
//! SIPp replays each captured UDP payload unchanged (RTP header included) at the capture's
//! relative times, from its media port to the port the engine's SDP answer gave; the addresses
//! and ports written here are placeholders it replaces.
#![allow(dead_code)]

use std::path::Path;
use std::time::Duration;

use super::rtp::{encode, event_code, FRAME};

/// Link type of the captures: Ethernet.
const LINKTYPE_ETHERNET: u32 = 1;
const ETHERNET_IPV4_UDP: usize = 14 + 20 + 8;

/// One captured RTP packet: when it was sent (from the capture's start) and its bytes.
#[derive(Clone, Debug)]
pub struct Captured {
    pub at: Duration,
    pub rtp: Vec<u8>,
}

impl Captured {
    pub fn pt(&self) -> u8 {
        self.rtp[1] & 0x7f
    }
    pub fn seq(&self) -> u16 {
        u16::from_be_bytes([self.rtp[2], self.rtp[3]])
    }
    pub fn ts(&self) -> u32 {
        u32::from_be_bytes([self.rtp[4], self.rtp[5], self.rtp[6], self.rtp[7]])
    }
    pub fn payload(&self) -> &[u8] {
        &self.rtp[12..]
    }
}

fn le32(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

/// The RTP packets of a little-endian, microsecond Ethernet capture (as SIPp ships them).
pub fn read_pcap(path: &Path) -> Vec<Captured> {
    let bytes =
        std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    assert!(
        bytes.len() >= 24,
        "{} is too short for a pcap",
        path.display()
    );
    assert_eq!(
        le32(&bytes, 0),
        0xa1b2_c3d4,
        "{}: not a little-endian pcap",
        path.display()
    );
    assert_eq!(
        le32(&bytes, 20),
        LINKTYPE_ETHERNET,
        "{}: not Ethernet",
        path.display()
    );
    let mut packets = Vec::new();
    let mut first: Option<Duration> = None;
    let mut at = 24;
    while at + 16 <= bytes.len() {
        let time = Duration::from_secs(le32(&bytes, at) as u64)
            + Duration::from_micros(le32(&bytes, at + 4) as u64);
        let length = le32(&bytes, at + 8) as usize;
        let frame = &bytes[at + 16..(at + 16 + length).min(bytes.len())];
        at += 16 + length;
        if frame.len() < ETHERNET_IPV4_UDP + 12 {
            continue;
        }
        let start = *first.get_or_insert(time);
        packets.push(Captured {
            at: time.saturating_sub(start),
            rtp: frame[ETHERNET_IPV4_UDP..].to_vec(),
        });
    }
    packets
}

/// Writes `packets` as an Ethernet/IPv4/UDP capture SIPp can play.
pub fn write_pcap(path: &Path, packets: &[Captured]) {
    let mut out = Vec::new();
    out.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    for word in [0u32, 0, 65535, LINKTYPE_ETHERNET] {
        out.extend_from_slice(&word.to_le_bytes());
    }
    let base = Duration::from_secs(1_800_000_000);
    for packet in packets {
        let frame = ethernet_frame(&packet.rtp);
        let time = base + packet.at;
        out.extend_from_slice(&(time.as_secs() as u32).to_le_bytes());
        out.extend_from_slice(&time.subsec_micros().to_le_bytes());
        out.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        out.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        out.extend_from_slice(&frame);
    }
    std::fs::write(path, out).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
}

/// An Ethernet frame carrying `payload` in UDP over IPv4, 10.0.0.1:4000 → 10.0.0.2:4000.
fn ethernet_frame(payload: &[u8]) -> Vec<u8> {
    let udp_len = 8 + payload.len();
    let ip_len = 20 + udp_len;
    let mut frame = Vec::with_capacity(14 + ip_len);
    frame.extend_from_slice(&[0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00]);
    let mut ip = vec![
        0x45,
        0,
        (ip_len >> 8) as u8,
        ip_len as u8,
        0,
        0,
        0x40,
        0,
        64,
        17,
        0,
        0,
    ];
    ip.extend_from_slice(&[10, 0, 0, 1, 10, 0, 0, 2]);
    let checksum = ip_checksum(&ip);
    ip[10..12].copy_from_slice(&checksum.to_be_bytes());
    frame.extend_from_slice(&ip);
    frame.extend_from_slice(&4000u16.to_be_bytes());
    frame.extend_from_slice(&4000u16.to_be_bytes());
    frame.extend_from_slice(&(udp_len as u16).to_be_bytes());
    frame.extend_from_slice(&[0, 0]); // no UDP checksum (allowed over IPv4)
    frame.extend_from_slice(payload);
    frame
}

fn ip_checksum(header: &[u8]) -> u16 {
    let mut sum: u32 = header
        .chunks(2)
        .map(|pair| u32::from(u16::from_be_bytes([pair[0], pair[1]])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Composes one RTP stream (one SSRC, continuous sequence numbers, RTP clock and capture
/// times) as a phone would send it: 20 ms audio frames, silence, RFC 4733 key presses.
pub struct StreamWriter {
    packets: Vec<Captured>,
    at: Duration,
    seq: u16,
    ts: u32,
    ssrc: u32,
    marker: bool,
}

impl Default for StreamWriter {
    fn default() -> Self {
        StreamWriter {
            packets: Vec::new(),
            at: Duration::ZERO,
            seq: 4_000,
            ts: 80_000,
            ssrc: 0x5150_0001,
            marker: true,
        }
    }
}

impl StreamWriter {
    fn push(&mut self, marker: bool, pt: u8, ts: u32, payload: &[u8]) {
        let mut rtp = vec![0x80, if marker { 0x80 } else { 0 } | (pt & 0x7f)];
        rtp.extend_from_slice(&self.seq.to_be_bytes());
        rtp.extend_from_slice(&ts.to_be_bytes());
        rtp.extend_from_slice(&self.ssrc.to_be_bytes());
        rtp.extend_from_slice(payload);
        self.packets.push(Captured { at: self.at, rtp });
        self.seq = self.seq.wrapping_add(1);
        self.at += Duration::from_millis(20);
    }

    /// 8 kHz PCM as 20 ms frames of `pt` (0 PCMU, 8 PCMA); the last frame padded with silence.
    pub fn audio(&mut self, samples: &[i16], pt: u8) -> &mut Self {
        for chunk in samples.chunks(FRAME) {
            let mut frame = [0i16; FRAME];
            frame[..chunk.len()].copy_from_slice(chunk);
            let payload: Vec<u8> = frame.iter().map(|&s| encode(pt, s)).collect();
            let marker = std::mem::take(&mut self.marker);
            let ts = self.ts;
            self.push(marker, pt, ts, &payload);
            self.ts = self.ts.wrapping_add(FRAME as u32);
        }
        self
    }

    pub fn silence(&mut self, ms: u64, pt: u8) -> &mut Self {
        self.audio(&vec![0; ms as usize * 8], pt)
    }

    /// One 100 ms key press as RFC 4733 events (payload type `pt`): start packet with the
    /// marker, continuation packets, the end packet three times; all with the press's timestamp.
    pub fn key_press(&mut self, digit: char, pt: u8) -> &mut Self {
        let code = event_code(digit).unwrap_or_else(|| panic!("not a DTMF key: {digit:?}"));
        let event_ts = self.ts;
        for packet in 0..7usize {
            let end = packet >= 4;
            let duration = (packet.min(4) + 1) * FRAME;
            let payload = [
                code,
                if end { 0x80 } else { 0 } | 10,
                (duration >> 8) as u8,
                duration as u8,
            ];
            self.push(packet == 0, pt, event_ts, &payload);
            self.ts = self.ts.wrapping_add(FRAME as u32);
        }
        self.marker = true;
        self
    }

    /// The stream so far, and how long it lasts.
    pub fn packets(&self) -> &[Captured] {
        &self.packets
    }

    pub fn duration(&self) -> Duration {
        self.at
    }

    pub fn write(&self, path: &Path) {
        write_pcap(path, &self.packets);
    }
}

/// Places captures one after another, `gap` apart, keeping each packet's own RTP header (as
/// SIPp would send several stock captures in a row).
pub fn concatenate(parts: &[Vec<Captured>], gap: Duration) -> Vec<Captured> {
    let mut out = Vec::new();
    let mut start = Duration::ZERO;
    for part in parts {
        let mut last = start;
        for packet in part {
            last = start + packet.at;
            out.push(Captured {
                at: last,
                rtp: packet.rtp.clone(),
            });
        }
        start = last + gap;
    }
    out
}
