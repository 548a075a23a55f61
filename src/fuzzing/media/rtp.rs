//! `rtp`: bytes as RTP datagrams arriving at one media leg (`media::leg::Leg`), interleaved
//! with 20 ms ticks, on a virtual clock.
//!
//! Why: RTP arrives from any address at a high rate and is parsed (rtp-rs), matched to the peer
//! (`leg/source`), reordered (`media::jitter`), decoded (G.711) and scanned for digits (RFC 4733
//! and in-band Goertzel). The fuzzer's packets go through all of it, with sequence numbers,
//! timestamps, SSRCs, payload types and lengths of its choosing. Invariants: nothing panics; every
//! packet the leg sends parses as RTP with the leg's own SSRC and payload type; every received
//! packet is counted once (received, malformed, foreign or unknown payload type).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rtp_rs::RtpReader;

use super::super::input::Input;
use crate::media::api::{LegId, LegSetup};
use crate::media::g711::G711;
use crate::media::leg::{Leg, LegConfig, LegEvent};
use crate::media::prompts::PromptSet;

const TE: u8 = 101;

pub fn rtp(data: &[u8]) {
    // The whole input as one packet, straight into the parser.
    if let Ok(packet) = RtpReader::new(data) {
        let _ = (packet.payload(), packet.padding(), packet.extension());
    }

    let mut input = Input::new(data);
    let codec = if input.bool() { G711::Pcma } else { G711::Pcmu };
    let peer = SocketAddr::from(([192, 0, 2, 9], 40000));
    let stranger = SocketAddr::from(([198, 51, 100, 7], 40002));
    let setup = LegSetup {
        leg: LegId(1),
        local_port: 20000,
        remote: Some(peer),
        codec,
        payload_type: codec.payload_type(),
        telephone_event_pt: input.bool().then_some(TE),
        sending: true,
        peer_sends: true,
    };
    let mut prompts = PromptSet::new();
    prompts.insert("beep", vec![1000i16; 400]);
    let mut leg = Leg::new(
        setup,
        Arc::new(prompts),
        LegConfig::default(),
        7,
        Duration::ZERO,
    );
    if input.bool() {
        leg.play(vec!["beep".into()], true);
    }
    let mut now = Duration::ZERO;
    let mut packets = 0u64;
    while !input.is_empty() {
        match input.byte() % 4 {
            0 => {
                now += Duration::from_millis(20);
                let ssrc = leg.ssrc();
                if let Some(out) = leg.tick(now) {
                    let Ok(sent) = RtpReader::new(out) else {
                        panic!("the leg sent a packet that is not RTP: {out:02x?}");
                    };
                    assert_eq!(sent.ssrc(), ssrc, "the leg sent another SSRC");
                    let pt = sent.payload_type();
                    assert!(
                        pt == codec.payload_type() || pt == TE,
                        "the leg sent payload type {pt}"
                    );
                }
                while let Some(event) = leg.poll_event() {
                    if let LegEvent::Media(crate::media::api::MediaEvent::Digit { digit, .. }) =
                        event
                    {
                        assert!(
                            crate::media::dtmf::event_code(digit).is_some(),
                            "the leg reported {digit:?} as a digit"
                        );
                    }
                }
            }
            1 => {
                // Jitter: the packet arrives up to 255 ms later than the clock.
                now += Duration::from_millis(u64::from(input.byte()));
            }
            _ => {
                let from = if input.byte() < 16 { stranger } else { peer };
                let bytes = input.bytes(600);
                leg.on_packet(bytes, from, now);
                packets += 1;
            }
        }
    }
    let c = leg.counters();
    assert_eq!(
        c.received + c.malformed + c.foreign + c.unknown_pt,
        packets,
        "packets not counted once each: {c:?}"
    );
}
