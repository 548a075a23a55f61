//! A citizen's side of one call as SIPp sends it: a continuous stream of 20 ms RTP packets from
//! the answer on, written as a pcap that SIPp's `play_pcap_audio` replays.
//!
//! Why it is shaped so:
//! - A phone never stops sending: silence is sent as silence (A-law 0xD5), keys as RFC 4733
//!   events in place of audio (as phones do), or as in-band tone pairs inside the audio for the
//!   old phones that have no telephone-event; speech is a WAV's audio. The engine therefore sees
//!   what a real caller sends, and the pcap's length is the call's length from the caller's side.
//! - Everything is generated from a digit string and a WAV file (`pasokh load pcaps`), so the
//!   repository holds no hand-made binary captures.

use std::f64::consts::TAU;
use std::io;
use std::path::Path;

use crate::media::dtmf::DtmfSender;
use crate::media::g711::alaw_encode;

/// Samples in one 20 ms frame at 8 kHz.
const FRAME: usize = 160;
const PT_PCMA: u8 = 8;
/// The telephone-event payload type both caller scenarios offer.
pub const PT_EVENT: u8 = 101;
/// A key is held 100 ms; keys of one string follow each other 100 ms apart.
const KEY_MS: u64 = 100;
const KEY_GAP_MS: u64 = 100;
/// A-law silence.
const ALAW_SILENCE: u8 = 0xD5;

/// How a caller's phone sends keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyMode {
    Rfc4733,
    InBand,
}

/// One thing the caller does, at `at_ms` after the answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Act {
    /// Types `digits` (0-9, `*`, `#`), one key every 200 ms.
    Keys { at_ms: u64, digits: String },
    /// Speaks for `ms` (the speech WAV's audio, from its start, looped if shorter).
    Speak { at_ms: u64, ms: u64 },
}

/// The caller's whole side of a call: what they do, and how long they send for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallerAudio {
    pub acts: Vec<Act>,
    pub length_ms: u64,
    pub keys: KeyMode,
}

/// Milliseconds `digits` take to type.
pub fn typing_ms(digits: &str) -> u64 {
    let n = digits.chars().count() as u64;
    n * (KEY_MS + KEY_GAP_MS)
}

/// One RTP packet and when it is sent, in microseconds from the answer.
#[derive(Clone, Debug)]
pub struct Packet {
    pub at_us: u64,
    pub rtp: Vec<u8>,
}

fn rtp(pt: u8, marker: bool, seq: u16, ts: u32, ssrc: u32, payload: &[u8]) -> Vec<u8> {
    let mut p = Vec::with_capacity(12 + payload.len());
    p.push(0x80);
    p.push(if marker { 0x80 | pt } else { pt });
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&ts.to_be_bytes());
    p.extend_from_slice(&ssrc.to_be_bytes());
    p.extend_from_slice(payload);
    p
}

/// The row and column frequencies of a DTMF key.
fn tone_pair(digit: char) -> Option<(f64, f64)> {
    let (row, col) = match digit {
        '1' => (0, 0),
        '2' => (0, 1),
        '3' => (0, 2),
        '4' => (1, 0),
        '5' => (1, 1),
        '6' => (1, 2),
        '7' => (2, 0),
        '8' => (2, 1),
        '9' => (2, 2),
        '*' => (3, 0),
        '0' => (3, 1),
        '#' => (3, 2),
        _ => return None,
    };
    let rows = [697.0, 770.0, 852.0, 941.0];
    let cols = [1209.0, 1336.0, 1477.0];
    Some((rows[row], cols[col]))
}

/// What the caller's phone does during one 20 ms frame.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Frame {
    Silence,
    Speech {
        from_sample: usize,
    },
    Tone {
        digit: char,
        from_sample: usize,
    },
    /// The frame of an RFC 4733 key: its first frame starts the event.
    Event {
        digit: char,
        first: bool,
    },
}

impl CallerAudio {
    /// Every frame of the call, in order.
    fn frames(&self) -> Vec<Frame> {
        let count = (self.length_ms / 20) as usize;
        let mut frames = vec![Frame::Silence; count];
        for act in &self.acts {
            match act {
                Act::Speak { at_ms, ms } => {
                    let first = (*at_ms / 20) as usize;
                    for (i, frame) in frames
                        .iter_mut()
                        .skip(first)
                        .take((*ms / 20) as usize)
                        .enumerate()
                    {
                        *frame = Frame::Speech {
                            from_sample: i * FRAME,
                        };
                    }
                }
                Act::Keys { at_ms, digits } => {
                    for (k, digit) in digits.chars().enumerate() {
                        let start = at_ms + k as u64 * (KEY_MS + KEY_GAP_MS);
                        let first = (start / 20) as usize;
                        for i in 0..(KEY_MS / 20) as usize {
                            if let Some(frame) = frames.get_mut(first + i) {
                                *frame = match self.keys {
                                    KeyMode::Rfc4733 => Frame::Event {
                                        digit,
                                        first: i == 0,
                                    },
                                    KeyMode::InBand => Frame::Tone {
                                        digit,
                                        from_sample: i * FRAME,
                                    },
                                };
                            }
                        }
                    }
                }
            }
        }
        frames
    }

    /// The RTP packets of the call: PCMA frames, and RFC 4733 events in place of the frames of
    /// each key (three end packets after it, then audio again).
    pub fn packets(&self, speech: &[i16], ssrc: u32) -> Vec<Packet> {
        let frames = self.frames();
        let mut out = Vec::with_capacity(frames.len() + 16);
        let mut seq: u16 = 1;
        let mut event: Option<DtmfSender> = None;
        for (i, frame) in frames.iter().enumerate() {
            let at_us = i as u64 * 20_000;
            let ts = (i * FRAME) as u32;
            if let Frame::Event { digit, first: true } = *frame {
                event = DtmfSender::new(digit, ts, KEY_MS as u32, 10);
            }
            // A key's packets go out in place of audio, 20 ms apart, its three end packets
            // over the frames after its last.
            if let Some(packet) = event.as_mut().and_then(DtmfSender::next_packet) {
                let rtp = rtp(
                    PT_EVENT,
                    packet.marker,
                    seq,
                    packet.timestamp,
                    ssrc,
                    &packet.payload,
                );
                out.push(Packet { at_us, rtp });
                seq = seq.wrapping_add(1);
                continue;
            }
            event = None;
            let mut payload = vec![ALAW_SILENCE; FRAME];
            match *frame {
                Frame::Speech { from_sample } if !speech.is_empty() => {
                    for (j, byte) in payload.iter_mut().enumerate() {
                        *byte = alaw_encode(speech[(from_sample + j) % speech.len()]);
                    }
                }
                Frame::Tone { digit, from_sample } => {
                    if let Some((low, high)) = tone_pair(digit) {
                        for (j, byte) in payload.iter_mut().enumerate() {
                            let t = (from_sample + j) as f64 / 8000.0;
                            let v = 7000.0 * ((TAU * low * t).sin() + (TAU * high * t).sin());
                            *byte = alaw_encode(v as i16);
                        }
                    }
                }
                _ => {}
            }
            out.push(Packet {
                at_us,
                rtp: rtp(PT_PCMA, i == 0, seq, ts, ssrc, &payload),
            });
            seq = seq.wrapping_add(1);
        }
        out
    }
}

/// Writes `packets` as a little-endian microsecond pcap of Ethernet/IPv4/UDP frames. SIPp
/// replays each UDP payload at its relative time from its own media port to the engine's; the
/// addresses and ports written here are placeholders it replaces.
pub fn write_pcap(path: &Path, packets: &[Packet]) -> io::Result<()> {
    let mut out = Vec::with_capacity(24 + packets.len() * (16 + 42 + 172));
    out.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    out.extend_from_slice(&0i32.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&65_535u32.to_le_bytes());
    out.extend_from_slice(&1u32.to_le_bytes()); // Ethernet
    for p in packets {
        let udp_len = 8 + p.rtp.len();
        let ip_len = 20 + udp_len;
        let frame_len = 14 + ip_len;
        out.extend_from_slice(&((p.at_us / 1_000_000) as u32).to_le_bytes());
        out.extend_from_slice(&((p.at_us % 1_000_000) as u32).to_le_bytes());
        out.extend_from_slice(&(frame_len as u32).to_le_bytes());
        out.extend_from_slice(&(frame_len as u32).to_le_bytes());
        // Ethernet: placeholder addresses, IPv4.
        out.extend_from_slice(&[0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 2, 0x08, 0x00]);
        // IPv4, 127.0.0.1 → 127.0.0.1, no options (SIPp rewrites addresses and checksums).
        let mut ip = [0u8; 20];
        ip[0] = 0x45;
        ip[2..4].copy_from_slice(&(ip_len as u16).to_be_bytes());
        ip[8] = 64;
        ip[9] = 17;
        ip[12..16].copy_from_slice(&[127, 0, 0, 1]);
        ip[16..20].copy_from_slice(&[127, 0, 0, 1]);
        out.extend_from_slice(&ip);
        // UDP: ports 6000 → 6002 (placeholders).
        out.extend_from_slice(&6000u16.to_be_bytes());
        out.extend_from_slice(&6002u16.to_be_bytes());
        out.extend_from_slice(&(udp_len as u16).to_be_bytes());
        out.extend_from_slice(&0u16.to_be_bytes());
        out.extend_from_slice(&p.rtp);
    }
    std::fs::write(path, out)
}

/// Reads an 8 kHz mono 16-bit WAV (the bundled prompts' format) as samples.
pub fn read_speech(path: &Path) -> Result<Vec<i16>, String> {
    let reader = hound::WavReader::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let spec = reader.spec();
    if spec.sample_rate != 8000 || spec.channels != 1 || spec.bits_per_sample != 16 {
        return Err(format!(
            "{}: {} Hz, {} channel(s), {} bits; the load's speech must be 8 kHz mono 16-bit",
            path.display(),
            spec.sample_rate,
            spec.channels,
            spec.bits_per_sample
        ));
    }
    reader
        .into_samples::<i16>()
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// Raw A-law of `speech` (SIPp's `rtp_stream` file for the call-takers' voice).
pub fn alaw_file(path: &Path, speech: &[i16]) -> io::Result<()> {
    std::fs::write(
        path,
        speech.iter().map(|s| alaw_encode(*s)).collect::<Vec<_>>(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::dtmf::TelephoneEvent;
    use crate::media::g711::alaw_decode;
    use crate::media::goertzel::InbandDetector;

    fn audio(keys: KeyMode) -> CallerAudio {
        CallerAudio {
            acts: vec![
                Act::Keys {
                    at_ms: 1000,
                    digits: "4#".into(),
                },
                Act::Speak {
                    at_ms: 2000,
                    ms: 1000,
                },
            ],
            length_ms: 4000,
            keys,
        }
    }

    #[test]
    fn the_stream_is_continuous_and_carries_each_key_as_one_event() {
        let speech: Vec<i16> = (0..8000)
            .map(|i| ((i as f64 * 0.3).sin() * 8000.0) as i16)
            .collect();
        let packets = audio(KeyMode::Rfc4733).packets(&speech, 7);
        assert_eq!(packets.len(), 200, "one packet every 20 ms for 4 s");
        for (i, p) in packets.iter().enumerate() {
            assert_eq!(p.at_us, i as u64 * 20_000);
            assert_eq!(u16::from_be_bytes([p.rtp[2], p.rtp[3]]), (i + 1) as u16);
        }
        let events: Vec<TelephoneEvent> = packets
            .iter()
            .filter(|p| p.rtp[1] & 0x7f == PT_EVENT)
            .filter_map(|p| TelephoneEvent::parse(&p.rtp[12..]))
            .collect();
        let ends: Vec<u8> = events.iter().filter(|e| e.end).map(|e| e.code).collect();
        assert_eq!(ends, vec![4, 4, 4, 11, 11, 11], "three end packets per key");
        let first_event = packets.iter().position(|p| p.rtp[1] & 0x7f == PT_EVENT);
        assert_eq!(first_event, Some(50), "the first key starts at 1 s");
        let speaking = &packets[100].rtp[12..];
        assert!(speaking.iter().any(|b| *b != ALAW_SILENCE), "speech at 2 s");
        assert!(
            packets[160].rtp[12..].iter().all(|b| *b == ALAW_SILENCE),
            "silence after"
        );
    }

    #[test]
    fn in_band_keys_are_tone_pairs_a_detector_hears() {
        let packets = audio(KeyMode::InBand).packets(&[], 7);
        assert!(packets.iter().all(|p| p.rtp[1] & 0x7f == PT_PCMA));
        let mut detector = InbandDetector::new();
        let mut heard = String::new();
        for p in &packets {
            let pcm: Vec<i16> = p.rtp[12..].iter().map(|b| alaw_decode(*b)).collect();
            heard.extend(detector.push(&pcm));
        }
        heard.extend(detector.push(&[]));
        assert_eq!(heard, "4#");
    }

    #[test]
    fn the_pcap_holds_every_packet_with_its_time() {
        let dir = std::env::temp_dir().join(format!("pasokh-load-pcap-{}", std::process::id()));
        std::fs::create_dir_all(&dir).ok();
        let path = dir.join("caller.pcap");
        let packets = audio(KeyMode::Rfc4733).packets(&[], 9);
        write_pcap(&path, &packets).ok();
        let bytes = std::fs::read(&path).unwrap_or_default();
        assert_eq!(
            bytes.len(),
            24 + packets.iter().map(|p| 16 + 42 + p.rtp.len()).sum::<usize>()
        );
        let second = 24 + 16 + 42 + packets[0].rtp.len();
        assert_eq!(
            u32::from_le_bytes([
                bytes[second + 4],
                bytes[second + 5],
                bytes[second + 6],
                bytes[second + 7]
            ]),
            20_000
        );
        std::fs::remove_dir_all(&dir).ok();
    }
}
