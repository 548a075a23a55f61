//! Leg tests of the recorder, DTMF sending, inactivity and hostile input (split from
//! `tests/mod.rs` to keep files short).

use crate::media::api::LegId;
use crate::media::api::{LegSetup, MediaEvent, RecordSpec, RecordingEnd};
use crate::media::g711::G711;
use crate::media::goertzel::InbandDetector;
use crate::media::leg::test_support::*;
use crate::media::leg::*;

#[test]
fn recording_ends_on_max_length_with_every_frame_recorded() {
    let mut leg = leg(setup(LegId(1), G711::Pcmu, None));
    leg.start_recording(&RecordSpec {
        name: "a.wav".into(),
        max: Duration::from_millis(400),
        silence: Duration::ZERO,
        end_key: None,
    });
    let mut frames = 0;
    for n in 0..30 {
        tick(&mut leg, n);
        frames += usize::from(leg.recorded_frame().is_some());
    }
    assert_eq!(frames, 20);
    assert_eq!(
        events(&mut leg),
        vec![LegEvent::RecordingEnded {
            end: RecordingEnd::MaxLength,
            duration_ms: 400,
            keep: true
        }]
    );
}

#[test]
fn recording_ends_on_silence_after_speech() {
    let mut leg = leg(setup(LegId(1), G711::Pcmu, None));
    leg.start_recording(&RecordSpec {
        name: "a.wav".into(),
        max: Duration::from_secs(60),
        silence: Duration::from_millis(500),
        end_key: Some('#'),
    });
    let speech = tone(&[300.0, 1100.0], 160, 4000.0);
    let mut ended_at = None;
    for n in 0..300u16 {
        let pcm = if n < 100 {
            speech.clone()
        } else {
            vec![0; 160]
        };
        leg.on_packet(&audio(G711::Pcmu, n, &pcm), addr(40000), at(u64::from(n)));
        tick(&mut leg, u64::from(n));
        if let Some(LegEvent::RecordingEnded {
            end, duration_ms, ..
        }) = leg.poll_event()
        {
            assert_eq!(end, RecordingEnd::Silence);
            ended_at = Some(duration_ms);
            break;
        }
    }
    // Speech heard until about frame 102 (jitter delay), then 25 silent frames.
    let Some(ms) = ended_at else {
        panic!("silence did not end the recording");
    };
    assert!((2500..=2600).contains(&ms), "ended after {ms} ms");
}

#[test]
fn the_end_key_ends_the_recording_and_is_not_reported_as_a_digit() {
    let mut leg = leg(setup(LegId(1), G711::Pcmu, Some(TE)));
    leg.start_recording(&RecordSpec {
        name: "a.wav".into(),
        max: Duration::from_secs(60),
        silence: Duration::ZERO,
        end_key: Some('#'),
    });
    for n in 0..10 {
        tick(&mut leg, n);
    }
    // Another key first: reported, recording goes on.
    for p in event_packets(1, 10, 1600) {
        leg.on_packet(&p, addr(40000), at(10));
    }
    assert!(leg.is_recording());
    for p in event_packets(11, 20, 3200) {
        leg.on_packet(&p, addr(40000), at(11));
    }
    assert!(!leg.is_recording());
    assert_eq!(
        events(&mut leg),
        vec![
            LegEvent::Media(MediaEvent::Digit {
                leg: LegId(1),
                digit: '1'
            }),
            LegEvent::RecordingEnded {
                end: RecordingEnd::Key,
                duration_ms: 200,
                keep: true
            }
        ]
    );
}

#[test]
fn stop_recording_reports_keep_and_nothing_when_idle() {
    let mut leg = leg(setup(LegId(1), G711::Pcmu, None));
    assert!(!leg.stop_recording(true));
    let spec = RecordSpec {
        name: "a.wav".into(),
        max: Duration::from_secs(5),
        silence: Duration::ZERO,
        end_key: None,
    };
    leg.start_recording(&spec);
    tick(&mut leg, 0);
    // A second start ends the first (kept) before the new take begins.
    leg.start_recording(&spec);
    tick(&mut leg, 1);
    assert!(leg.stop_recording(false));
    let ends: Vec<(u64, bool)> = events(&mut leg)
        .into_iter()
        .filter_map(|e| match e {
            LegEvent::RecordingEnded {
                duration_ms, keep, ..
            } => Some((duration_ms, keep)),
            LegEvent::Media(_) => None,
        })
        .collect();
    assert_eq!(ends, vec![(20, true), (20, false)]);
}

#[test]
fn inactivity_is_reported_once_and_not_on_hold() {
    let config = LegConfig {
        jitter_depth: 3,
        inactivity: Duration::from_secs(1),
        ..LegConfig::default()
    };
    let mut leg = Leg::new(
        setup(LegId(4), G711::Pcmu, None),
        prompts(),
        config,
        1,
        at(0),
    );
    let mut inactive_ticks = Vec::new();
    for n in 0..200 {
        if n == 10 {
            leg.on_packet(&audio(G711::Pcmu, 0, &frame_of(0)), addr(40000), at(n));
        }
        tick(&mut leg, n);
        if media_events(&mut leg).contains(&MediaEvent::Inactive { leg: LegId(4) }) {
            inactive_ticks.push(n);
        }
    }
    assert_eq!(inactive_ticks, vec![60]);
    let mut held = setup(LegId(4), G711::Pcmu, None);
    held.sending = false;
    let mut leg = Leg::new(held, prompts(), config, 1, at(0));
    for n in 0..200 {
        tick(&mut leg, n);
    }
    assert_eq!(media_events(&mut leg), vec![]);
}

/// The ticks (20 ms each, `0..ticks`) at which a leg that never hears RTP reports
/// `Inactive` under the default 60 s limit; `update` re-negotiates at its tick.
fn silent_peer_inactive_ticks(
    first: LegSetup,
    update: Option<(u64, LegSetup)>,
    ticks: u64,
) -> (Vec<u64>, u64) {
    let mut leg = Leg::new(first, prompts(), LegConfig::default(), 1, at(0));
    let mut inactive_ticks = Vec::new();
    for n in 0..ticks {
        if let Some((when, setup)) = &update {
            if *when == n {
                leg.update(setup.clone(), at(n));
            }
        }
        tick(&mut leg, n);
        if media_events(&mut leg).contains(&MediaEvent::Inactive { leg: LegId(4) }) {
            inactive_ticks.push(n);
        }
    }
    (inactive_ticks, leg.counters().sent)
}

#[test]
fn a_peer_that_declared_it_will_not_send_is_never_reported_inactive() {
    const SEVENTY_SECONDS: u64 = 3500;
    // sendrecv: 60 s without a packet is a dead peer.
    let (inactive, _) =
        silent_peer_inactive_ticks(setup(LegId(4), G711::Pcmu, None), None, SEVENTY_SECONDS);
    assert_eq!(inactive, vec![3000], "sendrecv peer silent for 60 s");
    // recvonly: we answered sendonly and keep talking to it, but expect nothing back.
    let mut recvonly = setup(LegId(4), G711::Pcmu, None);
    recvonly.peer_sends = false;
    let (inactive, sent) = silent_peer_inactive_ticks(recvonly.clone(), None, SEVENTY_SECONDS);
    assert_eq!(inactive, Vec::<u64>::new(), "recvonly peer silent for 70 s");
    assert_eq!(sent, SEVENTY_SECONDS, "we still send to a recvonly peer");
    // inactive: nobody sends.
    let mut both_quiet = recvonly;
    both_quiet.sending = false;
    let (inactive, sent) = silent_peer_inactive_ticks(both_quiet, None, SEVENTY_SECONDS);
    assert_eq!((inactive, sent), (Vec::<u64>::new(), 0), "inactive peer");
}

#[test]
fn a_recvonly_peer_that_starts_sending_is_watched_from_then_on() {
    let mut recvonly = setup(LegId(4), G711::Pcmu, None);
    recvonly.peer_sends = false;
    // A re-INVITE at 80 s makes it sendrecv: its 60 s count from then, not from the start.
    let (inactive, _) = silent_peer_inactive_ticks(
        recvonly,
        Some((4000, setup(LegId(4), G711::Pcmu, None))),
        8000,
    );
    assert_eq!(inactive, vec![7000]);
}

#[test]
fn malformed_packets_are_counted_never_a_panic() {
    let mut leg = leg(setup(LegId(1), G711::Pcmu, Some(TE)));
    let mut seed = 0x1234_5678_9abc_def0u64;
    let mut next = move || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) as u32
    };
    let valid = audio(G711::Pcmu, 1, &frame_of(0));
    for i in 0..20_000u64 {
        let len = (next() % 200) as usize;
        let mut bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        if i % 2 == 0 && len >= 2 {
            // RTP version 2 with random flags, padding and CSRC counts: the interesting cases.
            bytes[0] = 0x80 | (bytes[0] & 0x3F);
            bytes[1] = if i % 4 == 0 { 0 } else { TE };
        }
        leg.on_packet(&bytes, addr(40000), at(i / 50));
        if i % 50 == 0 {
            tick(&mut leg, i / 50);
        }
    }
    leg.on_packet(&valid[..11], addr(40000), at(500));
    leg.on_packet(&[], addr(40000), at(500));
    let mut bad_version = valid.clone();
    bad_version[0] = 0x40;
    leg.on_packet(&bad_version, addr(40000), at(500));
    let mut lying_padding = valid.clone();
    lying_padding[0] |= 0x20;
    if let Some(last) = lying_padding.last_mut() {
        *last = 255;
    }
    leg.on_packet(&lying_padding, addr(40000), at(500));
    assert!(leg.counters().malformed >= 4);
}

#[test]
fn send_dtmf_as_rfc4733_events_keeps_the_stream_continuous() {
    let mut leg = leg(setup(LegId(1), G711::Pcmu, Some(TE)));
    assert!(leg.send_dtmf('7'));
    assert!(!leg.send_dtmf('x'));
    let packets: Vec<Parsed> = (0..12).filter_map(|n| tick(&mut leg, n)).collect();
    assert_eq!(packets.len(), 12);
    let events: Vec<&Parsed> = packets.iter().filter(|p| p.pt == TE).collect();
    // 100 ms: four packets in progress (duration 160…640), then the end (800) three times.
    assert_eq!(events.len(), 7);
    assert!(events[0].marker && events.iter().skip(1).all(|p| !p.marker));
    assert!(events
        .iter()
        .all(|p| p.ts == events[0].ts && p.payload[0] == 7));
    assert!(events[4..].iter().all(|p| p.payload[1] & 0x80 != 0));
    assert!(events[..4].iter().all(|p| p.payload[1] & 0x80 == 0));
    assert_eq!(events[4].payload[2..], [0x03, 0x20]);
    for pair in packets.windows(2) {
        assert_eq!(pair[1].seq, pair[0].seq.wrapping_add(1));
    }
    // Audio after the event carries the running clock, not the event's start time.
    assert_eq!(packets[7].pt, 0, "audio follows the event");
    assert!(!packets[7].marker, "the stream began with the event");
    assert_eq!(packets[7].ts, packets[0].ts.wrapping_add(7 * 160));
}

#[test]
fn send_dtmf_in_band_without_telephone_event() {
    let mut leg = leg(setup(LegId(1), G711::Pcma, None));
    assert!(leg.send_dtmf('*'));
    assert!(leg.send_dtmf('0'));
    let mut detector = InbandDetector::new();
    let mut digits = Vec::new();
    for n in 0..30 {
        let Some(p) = tick(&mut leg, n) else {
            panic!("no packet");
        };
        assert_eq!(p.pt, 8);
        digits.extend(detector.push(&decode(&p, G711::Pcma)));
    }
    assert_eq!(digits, vec!['*', '0']);
}
