//! Helpers shared by the leg and leg-table tests: RTP packets built and parsed with rtp-rs, tones,
//! and a virtual 20 ms clock.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rtp_rs::{RtpPacketBuilder, RtpReader, Seq};

use super::{Leg, LegConfig, LegEvent, FRAME_SAMPLES};
use crate::media::api::{LegId, LegSetup, MediaEvent};
use crate::media::dtmf::TelephoneEvent;
use crate::media::g711::G711;
use crate::media::prompts::PromptSet;

pub const TE: u8 = 101;

pub fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

pub fn at(tick: u64) -> Duration {
    Duration::from_millis(20 * tick)
}

pub fn setup(leg: LegId, codec: G711, te: Option<u8>) -> LegSetup {
    LegSetup {
        leg,
        local_port: 0,
        remote: Some(addr(40000)),
        codec,
        payload_type: codec.payload_type(),
        telephone_event_pt: te,
        sending: true,
        peer_sends: true,
    }
}

/// Prompts "one" (100 samples of 1000), "two" (300 of 2000), "long" (1 s of a 440 Hz sine),
/// and hold music (50 samples ramp).
pub fn prompts() -> Arc<PromptSet> {
    let mut set = PromptSet::new();
    set.insert("one", vec![1000i16; 100]);
    set.insert("two", vec![2000i16; 300]);
    set.insert("long", tone(&[440.0], 8000, 8000.0));
    set.insert(
        crate::media::prompts::MUSIC,
        (0..50).map(|i| i * 100).collect::<Vec<i16>>(),
    );
    Arc::new(set)
}

pub fn leg(setup: LegSetup) -> Leg {
    Leg::new(setup, prompts(), LegConfig::default(), 42, Duration::ZERO)
}

/// `len` samples of the sum of sines at `freqs`, each of peak `amplitude`.
pub fn tone(freqs: &[f64], len: usize, amplitude: f64) -> Vec<i16> {
    (0..len)
        .map(|n| {
            let t = n as f64 / 8000.0;
            let v: f64 = freqs
                .iter()
                .map(|f| amplitude * (2.0 * std::f64::consts::PI * f * t).sin())
                .sum();
            v as i16
        })
        .collect()
}

pub fn rtp(pt: u8, seq: u16, ts: u32, ssrc: u32, payload: &[u8]) -> Vec<u8> {
    match RtpPacketBuilder::new()
        .payload_type(pt)
        .sequence(Seq::from(seq))
        .timestamp(ts)
        .ssrc(ssrc)
        .payload(payload)
        .build()
    {
        Ok(bytes) => bytes,
        Err(e) => panic!("test packet did not build: {e:?}"),
    }
}

/// An audio packet of frame `n` of a stream (seq n, ts 160 n).
pub fn audio(codec: G711, n: u16, pcm: &[i16]) -> Vec<u8> {
    let mut payload = Vec::new();
    codec.encode_into(pcm, &mut payload);
    rtp(
        codec.payload_type(),
        n,
        u32::from(n) * 160,
        0x1234_5678,
        &payload,
    )
}

/// The RFC 4733 packets of one key press starting at `ts`: three in progress, three ends.
pub fn event_packets(digit_code: u8, first_seq: u16, ts: u32) -> Vec<Vec<u8>> {
    (0..6u16)
        .map(|i| {
            let event = TelephoneEvent {
                code: digit_code,
                end: i >= 3,
                volume: 10,
                duration: 160 * (i.min(3) + 1),
            };
            rtp(TE, first_seq + i, ts, 0x1234_5678, &event.to_bytes())
        })
        .collect()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    pub pt: u8,
    pub marker: bool,
    pub seq: u16,
    pub ts: u32,
    pub ssrc: u32,
    pub payload: Vec<u8>,
}

pub fn parse(bytes: &[u8]) -> Parsed {
    let Ok(r) = RtpReader::new(bytes) else {
        panic!("leg sent an unparsable packet");
    };
    Parsed {
        pt: r.payload_type(),
        marker: r.mark(),
        seq: r.sequence_number().into(),
        ts: r.timestamp(),
        ssrc: r.ssrc(),
        payload: r.payload().to_vec(),
    }
}

/// Runs one tick and returns the parsed packet, if any.
pub fn tick(leg: &mut Leg, n: u64) -> Option<Parsed> {
    leg.tick(at(n)).map(parse)
}

pub fn decode(p: &Parsed, codec: G711) -> Vec<i16> {
    let mut pcm = Vec::new();
    codec.decode_into(&p.payload, &mut pcm);
    pcm
}

pub fn events(leg: &mut Leg) -> Vec<LegEvent> {
    std::iter::from_fn(|| leg.poll_event()).collect()
}

pub fn media_events(leg: &mut Leg) -> Vec<MediaEvent> {
    events(leg)
        .into_iter()
        .filter_map(|e| match e {
            LegEvent::Media(m) => Some(m),
            LegEvent::RecordingEnded { .. } => None,
        })
        .collect()
}

pub fn frame_of(value: i16) -> [i16; FRAME_SAMPLES] {
    [value; FRAME_SAMPLES]
}
