use super::*;
use crate::media::api::LegId;
use crate::media::api::{MediaCommand, MediaEvent, RecordSpec};
use crate::media::g711::G711;
use crate::media::goertzel::InbandDetector;
use crate::media::leg::test_support::*;
use crate::media::leg::LegEvent;

fn table() -> LegTable<u32> {
    LegTable::new(prompts(), LegConfig::default(), 9)
}

fn sent(table: &LegTable<u32>, leg: LegId) -> Option<Parsed> {
    table.get(leg).and_then(|e| e.leg.outgoing()).map(parse)
}

#[test]
fn bridged_legs_hear_each_other_across_codecs_under_their_own_ssrc() {
    let mut t = table();
    assert!(t.open(setup(LegId(1), G711::Pcmu, None), 10, at(0)).is_ok());
    assert!(t.open(setup(LegId(2), G711::Pcma, None), 20, at(0)).is_ok());
    assert_eq!(
        t.open(setup(LegId(2), G711::Pcma, None), 99, at(0)),
        Err(99)
    );
    assert_eq!(
        t.apply(
            MediaCommand::Bridge {
                a: LegId(1),
                b: LegId(2)
            },
            at(0)
        ),
        Applied::Done
    );
    let from_a = tone(&[500.0], 160 * 30, 9000.0);
    let mut b_out = Vec::new();
    let mut a_out = Vec::new();
    for n in 0..30u16 {
        let slice = &from_a[usize::from(n) * 160..][..160];
        if let Some(e) = t.get_mut(LegId(1)) {
            e.leg
                .on_packet(&audio(G711::Pcmu, n, slice), addr(40000), at(n.into()));
        }
        if let Some(e) = t.get_mut(LegId(2)) {
            e.leg.on_packet(
                &audio(G711::Pcma, n, &frame_of(-4000)),
                addr(40000),
                at(n.into()),
            );
        }
        t.tick(at(n.into()));
        let (Some(pa), Some(pb)) = (sent(&t, LegId(1)), sent(&t, LegId(2))) else {
            panic!("bridged legs must send every tick");
        };
        assert_eq!((pa.pt, pb.pt), (0, 8));
        assert_ne!(pa.ssrc, pb.ssrc);
        a_out.push(decode(&pa, G711::Pcmu));
        b_out.push(decode(&pb, G711::Pcma));
    }
    // B sends A's tone (PCMU decoded, PCMA encoded): within A-law's quantisation.
    let Some(start) = b_out
        .iter()
        .position(|f| f.iter().any(|&s| s != 0 && s != 8))
    else {
        panic!("B never sent A's audio");
    };
    for (k, frame) in b_out[start..].iter().enumerate() {
        for (got, want) in frame.iter().zip(&from_a[k * 160..][..160]) {
            assert!((got - want).abs() <= 300, "{got} vs {want}");
        }
    }
    assert!(a_out
        .last()
        .is_some_and(|f| f.iter().all(|&s| (s + 4000).abs() < 130)));
}

#[test]
fn rfc4733_digits_are_relayed_as_events_or_tones() {
    for (b_te, as_event) in [(Some(TE), true), (None, false)] {
        let mut t = table();
        assert!(t
            .open(setup(LegId(1), G711::Pcmu, Some(TE)), 0, at(0))
            .is_ok());
        assert!(t.open(setup(LegId(2), G711::Pcmu, b_te), 0, at(0)).is_ok());
        assert!(t.bridge(LegId(1), LegId(2)));
        for p in event_packets(4, 50, 1000) {
            if let Some(e) = t.get_mut(LegId(1)) {
                e.leg.on_packet(&p, addr(40000), at(0));
            }
        }
        let mut a_events = Vec::new();
        let mut detector = InbandDetector::new();
        let (mut event_digits, mut tone_digits) = (Vec::new(), Vec::new());
        for n in 0..20 {
            t.tick(at(n));
            if let Some(e) = t.get_mut(LegId(1)) {
                a_events.extend(std::iter::from_fn(|| e.leg.poll_event()));
            }
            let Some(p) = sent(&t, LegId(2)) else {
                panic!("B sent nothing")
            };
            if p.pt == TE && p.payload[1] & 0x80 != 0 {
                event_digits.push(p.payload[0]);
            } else if p.pt == 0 {
                tone_digits.extend(detector.push(&decode(&p, G711::Pcmu)));
            }
        }
        assert_eq!(
            a_events,
            vec![LegEvent::Media(MediaEvent::Digit {
                leg: LegId(1),
                digit: '4'
            })]
        );
        if as_event {
            assert_eq!(event_digits, vec![4, 4, 4]);
        } else {
            assert_eq!(tone_digits, vec!['4']);
        }
    }
}

#[test]
fn a_bridged_recording_mixes_both_directions() {
    let mut t = table();
    assert!(t.open(setup(LegId(1), G711::Pcmu, None), 0, at(0)).is_ok());
    assert!(t.open(setup(LegId(2), G711::Pcmu, None), 0, at(0)).is_ok());
    assert!(t.bridge(LegId(1), LegId(2)));
    let spec = RecordSpec {
        name: "call.wav".into(),
        max: Duration::from_secs(10),
        silence: Duration::ZERO,
        end_key: None,
    };
    assert_eq!(
        t.apply(
            MediaCommand::StartRecording {
                leg: LegId(1),
                spec
            },
            at(0)
        ),
        Applied::Done
    );
    let mut last = Vec::new();
    for n in 0..10u16 {
        for (leg, value) in [(LegId(1), 1000), (LegId(2), 3000)] {
            if let Some(e) = t.get_mut(leg) {
                e.leg.on_packet(
                    &audio(G711::Pcmu, n, &frame_of(value)),
                    addr(40000),
                    at(n.into()),
                );
            }
        }
        t.tick(at(n.into()));
        if let Some(frame) = t.get(LegId(1)).and_then(|e| e.leg.recorded_frame()) {
            last = frame.to_vec();
        }
    }
    assert!(
        last.iter().all(|&s| (s - 4000).abs() < 150),
        "{:?}",
        &last[..4]
    );
}

#[test]
fn removing_a_leg_frees_its_partner_and_commands_find_their_leg() {
    let mut t = table();
    assert!(t.open(setup(LegId(1), G711::Pcmu, None), 0, at(0)).is_ok());
    assert!(t.open(setup(LegId(2), G711::Pcmu, None), 0, at(0)).is_ok());
    assert!(!t.bridge(LegId(1), LegId(1)));
    assert!(!t.bridge(LegId(1), LegId(3)));
    assert!(t.bridge(LegId(1), LegId(2)));
    assert_eq!(t.get(LegId(2)).and_then(|e| e.leg.peer()), Some(LegId(1)));
    assert!(t.remove(LegId(1)).is_some_and(|e| e.leg.peer().is_none()));
    assert_eq!(t.get(LegId(2)).and_then(|e| e.leg.peer()), None);
    assert_eq!(t.len(), 1);
    let stop = MediaCommand::StopPlayback { leg: LegId(1) };
    assert_eq!(t.apply(stop, at(0)), Applied::UnknownLeg);
    assert_eq!(
        t.apply(MediaCommand::Close { leg: LegId(2) }, at(0)),
        Applied::NeedsDriver
    );
    let play = MediaCommand::Play {
        leg: LegId(2),
        prompts: vec!["one".into()],
        barge_in: false,
    };
    assert_eq!(t.apply(play, at(0)), Applied::Done);
    assert!(t.get(LegId(2)).is_some_and(|e| e.leg.is_playing()));
}

#[test]
fn a_held_leg_stays_bridged_but_hears_its_idle_audio_until_resumed() {
    let mut t = table();
    assert!(t.open(setup(LegId(1), G711::Pcmu, None), 10, at(0)).is_ok());
    assert!(t.open(setup(LegId(2), G711::Pcmu, None), 20, at(0)).is_ok());
    assert!(t.bridge(LegId(1), LegId(2)));
    // Leg 1 sends a loud constant; what leg 2 sends on is the question.
    let mut loud_at_2 = Vec::new();
    for n in 0..30u16 {
        if n == 10 {
            let held = MediaCommand::SetHeld {
                leg: LegId(2),
                held: true,
            };
            assert_eq!(t.apply(held, at(n.into())), Applied::Done);
        }
        if n == 20 {
            let resumed = MediaCommand::SetHeld {
                leg: LegId(2),
                held: false,
            };
            assert_eq!(t.apply(resumed, at(n.into())), Applied::Done);
        }
        if let Some(e) = t.get_mut(LegId(1)) {
            e.leg.on_packet(
                &audio(G711::Pcmu, n, &frame_of(6000)),
                addr(40000),
                at(n.into()),
            );
        }
        t.tick(at(n.into()));
        let Some(out) = sent(&t, LegId(2)) else {
            panic!("a held leg still sends (its idle audio)");
        };
        loud_at_2.push(decode(&out, G711::Pcmu).iter().any(|s| s.abs() > 3000));
    }
    assert!(loud_at_2[8], "bridged: leg 2 carries leg 1's audio");
    assert!(loud_at_2[10..20].iter().all(|loud| !loud), "held: silence");
    assert!(loud_at_2[24], "resumed: leg 1's audio again");
    assert_eq!(t.get(LegId(2)).and_then(|e| e.leg.peer()), Some(LegId(1)));
}
