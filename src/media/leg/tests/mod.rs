use super::super::api::{Idle, MediaEvent};
use super::super::g711::G711;
use super::test_support::*;
use crate::media::api::LegId;

mod more;

#[test]
fn nothing_is_sent_without_a_destination_until_a_source_passes_probation() {
    let mut s = setup(LegId(1), G711::Pcmu, None);
    s.remote = None;
    let mut leg = leg(s);
    assert_eq!(tick(&mut leg, 0), None);
    // Without an SDP address there is nobody to wait for: four in-sequence packets of one SSRC.
    for n in 0..3 {
        leg.on_packet(&audio(G711::Pcmu, n, &frame_of(0)), addr(5004), at(1));
        assert_eq!(leg.destination(), None, "learned after {} packets", n + 1);
    }
    leg.on_packet(&audio(G711::Pcmu, 3, &frame_of(0)), addr(5004), at(1));
    assert_eq!(leg.destination(), Some(addr(5004)));
    let Some(first) = tick(&mut leg, 1) else {
        panic!("a leg with a learned source sent nothing");
    };
    assert!(
        first.marker,
        "first packet of the stream carries the marker"
    );
}

#[test]
fn a_nat_source_is_learned_only_while_the_sdp_address_is_silent_and_strangers_are_dropped() {
    let mut leg = leg(setup(LegId(1), G711::Pcmu, None));
    assert_eq!(leg.destination(), Some(addr(40000)));
    // Unknown payload type from a stranger is not even a candidate.
    leg.on_packet(&rtp(96, 0, 0, 9, &[0; 160]), addr(6666), at(0));
    assert_eq!(leg.destination(), Some(addr(40000)));
    // The SDP address (private, behind NAT) never sends; the public one streams from the start
    // and is learned once the SDP address had its grace (500 ms = tick 25).
    for n in 0..30u16 {
        leg.on_packet(
            &audio(G711::Pcmu, n, &frame_of(500)),
            addr(31000),
            at(u64::from(n)),
        );
        let expected = if n < 25 { addr(40000) } else { addr(31000) };
        assert_eq!(leg.destination(), Some(expected), "after packet {n}");
    }
    for n in 1..20u16 {
        leg.on_packet(&audio(G711::Pcmu, n, &frame_of(-9000)), addr(6666), at(31));
    }
    let c = leg.counters();
    assert_eq!((c.received, c.foreign, c.unknown_pt), (5, 25 + 19, 1));
    assert_eq!(leg.destination(), Some(addr(31000)));
    // A re-INVITE to a new address starts over: the new address, then probation again.
    let mut moved = setup(LegId(1), G711::Pcmu, None);
    moved.remote = Some(addr(41000));
    leg.update(moved, at(40));
    assert_eq!(leg.destination(), Some(addr(41000)));
    leg.on_packet(&audio(G711::Pcmu, 1, &frame_of(0)), addr(41000), at(41));
    assert_eq!(leg.destination(), Some(addr(41000)));
    leg.on_packet(&audio(G711::Pcmu, 31, &frame_of(0)), addr(31000), at(41));
    assert_eq!(leg.counters().foreign, 25 + 19 + 1);
}

#[test]
fn a_spray_before_the_caller_speaks_gets_nothing_and_injects_nothing() {
    let mut leg = leg(setup(LegId(1), G711::Pcmu, Some(TE)));
    leg.set_idle(Idle::Echo);
    let spray = addr(6666);
    let mut sent_to_spray = 0;
    // The spray starts with the call and runs on; the caller speaks from its SDP address 200 ms
    // later. Every packet the leg builds goes to `destination()`.
    for n in 0..100u16 {
        leg.on_packet(
            &audio(G711::Pcmu, 1000 + n, &frame_of(-9000)),
            spray,
            at(u64::from(n)),
        );
        for packet in event_packets(5, 3000 + 6 * n, 160 * u32::from(n)) {
            leg.on_packet(&packet, spray, at(u64::from(n)));
        }
        if n >= 10 {
            leg.on_packet(
                &audio(G711::Pcmu, n, &frame_of(700)),
                addr(40000),
                at(u64::from(n)),
            );
        }
        if tick(&mut leg, u64::from(n)).is_some() && leg.destination() == Some(spray) {
            sent_to_spray += 1;
        }
    }
    assert_eq!(
        sent_to_spray, 0,
        "packets sent to a source that is not the caller"
    );
    assert_eq!(leg.destination(), Some(addr(40000)));
    // Nothing of the spray was heard: no digit, and the echo carries the caller's level only.
    assert!(media_events(&mut leg).is_empty());
    let Some(echo) = tick(&mut leg, 100) else {
        panic!("no packet");
    };
    assert!(decode(&echo, G711::Pcmu)
        .iter()
        .all(|s| (s - 700).abs() < 40));
    assert_eq!(leg.counters().foreign, 100 * 7);
}

#[test]
fn seq_and_timestamp_run_on_across_prompts_silence_and_replays() {
    let mut leg = leg(setup(LegId(1), G711::Pcmu, None));
    leg.play(vec!["one".into(), "two".into()], false);
    let mut packets = Vec::new();
    for n in 0..10 {
        if n == 5 {
            leg.play(vec!["long".into()], false);
        }
        let Some(p) = tick(&mut leg, n) else {
            panic!("no packet on tick {n}");
        };
        packets.push(p);
    }
    for pair in packets.windows(2) {
        assert_eq!(pair[1].seq, pair[0].seq.wrapping_add(1));
        assert_eq!(pair[1].ts, pair[0].ts.wrapping_add(160));
        assert_eq!(pair[1].ssrc, pair[0].ssrc);
        assert!(!pair[1].marker);
    }
    assert!(packets[0].marker);
    // "one" then "two" back to back: 100 samples of 1000, then 2000.
    let first = decode(&packets[0], G711::Pcmu);
    assert!((first[99] - 1000).abs() < 40 && (first[100] - 2000).abs() < 70);
    // 400 samples: the third frame ends the queue and is padded with silence.
    assert_eq!(decode(&packets[3], G711::Pcmu), vec![0; 160]);
}

#[test]
fn hold_sends_nothing_and_resuming_jumps_the_timestamp_with_a_marker() {
    let mut leg = leg(setup(LegId(1), G711::Pcma, None));
    let Some(before) = tick(&mut leg, 0) else {
        panic!("no packet");
    };
    let mut held = setup(LegId(1), G711::Pcma, None);
    held.sending = false;
    leg.update(held.clone(), at(1));
    for n in 1..=5 {
        assert_eq!(tick(&mut leg, n), None);
    }
    held.sending = true;
    leg.update(held, at(6));
    let Some(after) = tick(&mut leg, 6) else {
        panic!("no packet after hold");
    };
    assert_eq!(after.seq, before.seq.wrapping_add(1));
    assert_eq!(after.ts, before.ts.wrapping_add(6 * 160));
    assert!(after.marker);
    assert_eq!(after.pt, 8);
}

#[test]
fn missing_prompts_are_skipped_and_the_queue_still_finishes() {
    let mut leg = leg(setup(LegId(1), G711::Pcmu, None));
    leg.play(vec!["nope".into(), "one".into()], true);
    let Some(p) = tick(&mut leg, 0) else {
        panic!("no packet");
    };
    assert!((decode(&p, G711::Pcmu)[0] - 1000).abs() < 40);
    assert_eq!(
        media_events(&mut leg),
        vec![MediaEvent::PlaybackFinished { leg: LegId(1) }]
    );
    assert_eq!(leg.counters().missing_prompts, 1);
    leg.play(Vec::new(), false);
    tick(&mut leg, 1);
    assert_eq!(
        media_events(&mut leg),
        vec![MediaEvent::PlaybackFinished { leg: LegId(1) }]
    );
}

#[test]
fn rfc4733_digit_barges_in_without_playback_finished() {
    let mut leg = leg(setup(LegId(7), G711::Pcmu, Some(TE)));
    leg.play(vec!["long".into()], true);
    tick(&mut leg, 0);
    for (i, p) in event_packets(5, 100, 8000).iter().enumerate() {
        leg.on_packet(p, addr(40000), at(1 + i as u64));
    }
    assert_eq!(
        media_events(&mut leg),
        vec![MediaEvent::Digit {
            leg: LegId(7),
            digit: '5'
        }]
    );
    assert!(!leg.is_playing());
    let Some(p) = tick(&mut leg, 10) else {
        panic!("no packet");
    };
    assert_eq!(decode(&p, G711::Pcmu), vec![0; 160], "prompt stopped");
    for n in 11..80 {
        tick(&mut leg, n);
    }
    assert_eq!(media_events(&mut leg), vec![]);
}

#[test]
fn without_barge_in_a_digit_is_reported_and_the_prompt_plays_to_its_end() {
    let mut leg = leg(setup(LegId(7), G711::Pcmu, Some(TE)));
    leg.play(vec!["long".into()], false);
    for p in event_packets(11, 100, 8000) {
        leg.on_packet(&p, addr(40000), at(0));
    }
    let mut got = media_events(&mut leg);
    for n in 0..50 {
        tick(&mut leg, n);
        got.extend(media_events(&mut leg));
    }
    assert_eq!(
        got,
        vec![
            MediaEvent::Digit {
                leg: LegId(7),
                digit: '#'
            },
            MediaEvent::PlaybackFinished { leg: LegId(7) }
        ]
    );
}

#[test]
fn in_band_digits_are_detected_only_without_telephone_event() {
    for (te, expected) in [(None, vec!['9']), (Some(TE), vec![])] {
        let mut leg = leg(setup(LegId(3), G711::Pcma, te));
        // Key 9: 852 Hz + 1477 Hz for 100 ms, then silence.
        let mut pcm = tone(&[852.0, 1477.0], 800, 6000.0);
        pcm.resize(3200, 0);
        let mut digits = Vec::new();
        for (n, chunk) in pcm.chunks(160).enumerate() {
            leg.on_packet(
                &audio(G711::Pcma, n as u16, chunk),
                addr(40000),
                at(n as u64),
            );
            tick(&mut leg, n as u64);
            for e in media_events(&mut leg) {
                if let MediaEvent::Digit { digit, .. } = e {
                    digits.push(digit);
                }
            }
        }
        assert_eq!(digits, expected, "te {te:?}");
    }
}

#[test]
fn echo_returns_the_callers_audio() {
    let mut leg = leg(setup(LegId(1), G711::Pcmu, None));
    leg.set_idle(Idle::Echo);
    let pcm = tone(&[700.0], 160 * 20, 8000.0);
    let mut sent_payloads = Vec::new();
    let mut echoed = Vec::new();
    for n in 0..20u16 {
        let packet = audio(G711::Pcmu, n, &pcm[usize::from(n) * 160..][..160]);
        sent_payloads.push(parse(&packet).payload);
        leg.on_packet(&packet, addr(40000), at(u64::from(n)));
        if let Some(p) = tick(&mut leg, u64::from(n)) {
            echoed.push(p.payload);
        }
    }
    // µ-law decodes and re-encodes to the same bytes: the echo is bit-exact, a few frames late.
    let delay = echoed
        .iter()
        .position(|p| *p == sent_payloads[0])
        .unwrap_or(usize::MAX);
    assert!(delay <= 3, "echo delay {delay} frames");
    assert_eq!(echoed[delay..], sent_payloads[..20 - delay]);
}

#[test]
fn hold_music_loops() {
    let mut leg = leg(setup(LegId(1), G711::Pcmu, None));
    leg.set_idle(Idle::Music);
    let Some(p) = tick(&mut leg, 0) else {
        panic!("no packet");
    };
    let pcm = decode(&p, G711::Pcmu);
    // The 50-sample ramp 0, 100, …, 4900 repeats.
    assert_eq!(pcm[0], pcm[50]);
    assert!((pcm[49] - 4900).abs() < 150);
    assert!(pcm[60] > pcm[55]);
}

#[test]
fn thirty_ms_packets_give_continuous_audio() {
    let mut leg = leg(setup(LegId(1), G711::Pcma, None));
    leg.set_idle(Idle::Echo);
    let pcm = vec![3000i16; 240];
    let mut live = 0;
    for tick_n in 0..60u64 {
        // Packets every 30 ms: on two ticks out of three.
        if tick_n * 20 / 30 != (tick_n + 1) * 20 / 30 || tick_n == 0 {
            let n = (tick_n * 20 / 30) as u16;
            leg.on_packet(&audio(G711::Pcma, n, &pcm), addr(40000), at(tick_n));
        }
        tick(&mut leg, tick_n);
        if leg.heard().is_some() {
            live += 1;
        }
    }
    assert!(live >= 50, "only {live} live frames");
    assert_eq!(leg.jitter_stats().gaps, 0);
}

#[test]
fn a_recording_is_requested_fed_and_finished() {
    let mut leg = leg(setup(LegId(1), G711::Pcmu, None));
    leg.play_recording("2026/r.wav");
    assert!(!leg.wants_external());
    tick(&mut leg, 0);
    assert_eq!(leg.take_file_request(), Some("2026/r.wav".to_string()));
    leg.file_opened(true);
    assert!(leg.wants_external());
    leg.feed_external(&frame_of(1000));
    let Some(p) = tick(&mut leg, 1) else {
        panic!("no packet");
    };
    assert!((decode(&p, G711::Pcmu)[10] - 1000).abs() < 40);
    assert_eq!(media_events(&mut leg), vec![]);
    leg.feed_external(&[500; 40]);
    tick(&mut leg, 2);
    assert_eq!(
        media_events(&mut leg),
        vec![MediaEvent::PlaybackFinished { leg: LegId(1) }]
    );
    assert!(!leg.wants_external());
}

#[test]
fn a_new_ssrc_restarts_the_jitter_buffer() {
    let mut leg = leg(setup(LegId(1), G711::Pcmu, None));
    for n in 0..10u16 {
        leg.on_packet(
            &audio(G711::Pcmu, n, &frame_of(100)),
            addr(40000),
            at(n.into()),
        );
        tick(&mut leg, n.into());
    }
    // Same sequence numbers again, new SSRC (a transfer to another phone): not "late".
    for n in 0..10u16 {
        let mut p = audio(G711::Pcmu, n, &frame_of(100));
        p[8] = 0xAB;
        leg.on_packet(&p, addr(40000), at(u64::from(n) + 10));
        tick(&mut leg, u64::from(n) + 10);
    }
    assert_eq!(leg.counters().ssrc_changes, 1);
    assert_eq!(leg.jitter_stats().late, 0);
}
