use super::*;

/// A tick's result with the payload turned back into the sequence number it was made from.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
enum Out {
    F(u16),
    Gap,
    Idle,
}
use Out::{Gap, Idle, F};

fn payload(seq: u16) -> [u8; 2] {
    seq.to_be_bytes()
}

fn pop(buffer: &mut JitterBuffer) -> Out {
    match buffer.pop() {
        Jitter::Frame(bytes) => match bytes {
            [hi, lo] => F(u16::from_be_bytes([*hi, *lo])),
            other => panic!("unexpected payload {other:?}"),
        },
        Jitter::Gap => Gap,
        Jitter::Idle => Idle,
    }
}

/// One tick: the packets that arrived during it, then the pop.
fn run(buffer: &mut JitterBuffer, arrivals: &[&[u16]]) -> Vec<Out> {
    arrivals
        .iter()
        .map(|packets| {
            for &seq in *packets {
                buffer.push(seq, &payload(seq));
            }
            pop(buffer)
        })
        .collect()
}

#[test]
fn idle_before_first_packet_then_in_order_after_depth() {
    let mut buffer = JitterBuffer::new(3);
    let out = run(
        &mut buffer,
        &[&[], &[10], &[11], &[12], &[13], &[14], &[], &[], &[]],
    );
    assert_eq!(
        out,
        [Idle, Idle, Idle, F(10), F(11), F(12), F(13), F(14), Gap]
    );
    assert_eq!(buffer.stats().played, 5);
}

#[test]
fn reordered_packets_come_out_in_order() {
    let mut buffer = JitterBuffer::new(3);
    // 21 arrives before 20 while buffering; 24 overtakes 23 while playing.
    let out = run(
        &mut buffer,
        &[&[21], &[20], &[22], &[24], &[23], &[25], &[], &[], &[]],
    );
    assert_eq!(
        out,
        [Idle, Idle, F(20), F(21), F(22), F(23), F(24), F(25), Gap]
    );
    assert_eq!(buffer.stats().late, 0);
}

#[test]
fn lost_packet_is_a_gap_and_the_stream_continues() {
    let mut buffer = JitterBuffer::new(2);
    let out = run(&mut buffer, &[&[0], &[1], &[3], &[4], &[5], &[]]);
    assert_eq!(out, [Idle, F(0), F(1), Gap, F(3), F(4)]);
    assert_eq!(buffer.stats().gaps, 1);
}

#[test]
fn duplicates_are_played_once_and_counted() {
    let mut buffer = JitterBuffer::new(2);
    let out = run(&mut buffer, &[&[0, 0], &[1, 0], &[2, 1], &[3, 2], &[]]);
    assert_eq!(out, [Idle, F(0), F(1), F(2), F(3)]);
    assert_eq!(buffer.stats().duplicates, 4);
    assert_eq!(buffer.stats().late, 0);
}

#[test]
fn too_late_packet_is_dropped_and_counted() {
    let mut buffer = JitterBuffer::new(2);
    // 2 is missing when its turn comes and arrives two ticks later.
    let out = run(&mut buffer, &[&[0], &[1], &[3], &[4], &[2, 5], &[6], &[]]);
    assert_eq!(out, [Idle, F(0), F(1), Gap, F(3), F(4), F(5)]);
    assert_eq!(buffer.stats().late, 1);
}

#[test]
fn sequence_wraps_around_at_65535() {
    let mut buffer = JitterBuffer::new(2);
    let out = run(
        &mut buffer,
        &[&[65534], &[65535], &[1], &[0], &[2], &[3], &[]],
    );
    assert_eq!(out, [Idle, F(65534), F(65535), F(0), F(1), F(2), F(3)]);
    assert_eq!(buffer.stats().late + buffer.stats().gaps, 0);
}

#[test]
fn a_new_stream_after_a_big_jump_resynchronises() {
    let mut buffer = JitterBuffer::new(2);
    let out = run(
        &mut buffer,
        &[
            &[100],
            &[101],
            &[102],
            &[40000],
            &[40001],
            &[40002],
            &[40003],
            &[],
        ],
    );
    // The first jumped packet is held on probation, confirmed by the next one, and not lost.
    assert_eq!(
        out,
        [
            Idle,
            F(100),
            F(101),
            F(102),
            F(40000),
            F(40001),
            F(40002),
            F(40003)
        ]
    );
    assert_eq!(buffer.stats().resyncs, 1);
}

#[test]
fn one_stray_packet_does_not_flush_the_stream() {
    let mut buffer = JitterBuffer::new(2);
    let out = run(
        &mut buffer,
        &[&[500], &[501], &[502, 9000], &[503], &[504], &[]],
    );
    assert_eq!(out, [Idle, F(500), F(501), F(502), F(503), F(504)]);
    assert_eq!(buffer.stats().strays, 1);
    assert_eq!(buffer.stats().resyncs, 0);
}

#[test]
fn long_silence_becomes_idle_and_a_new_stream_buffers_again() {
    let mut buffer = JitterBuffer::new(2);
    let mut out = run(&mut buffer, &[&[7], &[8]]);
    assert_eq!(out, [Idle, F(7)]);
    out = (0..IDLE_AFTER_TICKS).map(|_| pop(&mut buffer)).collect();
    // The last packet arrived in the tick that played 7: the IDLE_AFTER_TICKS-th tick since is Idle.
    let idle_at = IDLE_AFTER_TICKS as usize - 2;
    assert_eq!(out[0], F(8));
    assert!(out[1..idle_at].iter().all(|&o| o == Gap));
    assert!(out[idle_at..].iter().all(|&o| o == Idle));
    // A fresh stream starting anywhere (no jump rules apply once idle).
    out = run(&mut buffer, &[&[30000], &[30001], &[]]);
    assert_eq!(out, [Idle, F(30000), F(30001)]);
}

#[test]
fn sender_pause_then_resume_is_waited_for_not_dropped() {
    // Silence suppression: the sender stops for 10 ticks and resumes with the next sequence number.
    let mut buffer = JitterBuffer::new(2);
    let mut arrivals: Vec<&[u16]> = vec![&[1], &[2], &[3]];
    arrivals.extend(std::iter::repeat_n(&[][..], 10));
    arrivals.extend([&[4][..], &[5], &[6], &[7], &[]]);
    let out = run(&mut buffer, &arrivals);
    assert_eq!(&out[..3], [Idle, F(1), F(2)]);
    assert_eq!(&out[out.len() - 4..], [F(4), F(5), F(6), F(7)]);
    assert_eq!(buffer.stats().late, 0);
}

#[test]
fn burst_keeps_delay_and_memory_bounded() {
    let mut buffer = JitterBuffer::new(3);
    let capacity = buffer.capacity();
    assert_eq!(capacity, 2 * 3 + SLACK_FRAMES);
    for seq in 0..40u16 {
        buffer.push(seq, &payload(seq));
        assert!(buffer.buffered() <= capacity);
    }
    // Only the newest `capacity` frames are kept.
    assert_eq!(buffer.stats().overflow, 40 - capacity as u64);
    assert_eq!(pop(&mut buffer), F(40 - capacity as u16));
}

#[test]
fn flood_of_random_packets_stays_bounded_and_never_panics() {
    let mut buffer = JitterBuffer::new(MAX_DEPTH + 100);
    let mut state = 12345u64;
    let big = vec![0u8; MAX_PAYLOAD + 1];
    for i in 0..200_000u32 {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let seq = (state >> 48) as u16;
        let len = (state >> 20) as usize % 200;
        buffer.push(seq, &big[..len]);
        if i % 7 == 0 {
            buffer.pop();
        }
        if i % 10_000 == 0 {
            buffer.push(seq, &big);
        }
        assert!(buffer.buffered() <= buffer.capacity());
    }
    assert_eq!(buffer.capacity(), 2 * MAX_DEPTH + SLACK_FRAMES);
    assert_eq!(buffer.stats().oversize, 20);
    // Every buffered frame lies ahead of the play-out point: one pass over the ring (after at most
    // MAX_DEPTH ticks of buffering) plays them all.
    let held = buffer.buffered();
    let frames = (0..buffer.capacity() + MAX_DEPTH)
        .filter(|_| matches!(buffer.pop(), Jitter::Frame(_)))
        .count();
    assert_eq!(frames, held);
    assert_eq!(buffer.buffered(), 0);
}

#[test]
fn duplicate_of_an_already_played_frame_is_not_replayed() {
    let mut buffer = JitterBuffer::new(1);
    // The copy of 1 arrives after 1 was played and while the buffer is empty: it must not be taken
    // for a sender that paused and resumed.
    let out = run(&mut buffer, &[&[0], &[1], &[1], &[2, 0], &[]]);
    assert_eq!(out, [F(0), F(1), Gap, F(2), Gap]);
    assert_eq!(buffer.stats().duplicates, 2);
    assert_eq!(buffer.stats().late + buffer.stats().resyncs, 0);
}

#[test]
fn a_late_sender_is_waited_for_and_nothing_is_lost() {
    // Frames 3..=6 arrive 100 ms late in one burst (a busy sender catching up): the buffer runs dry,
    // waits, and plays every frame in order; the delay grows by the lateness.
    let mut buffer = JitterBuffer::new(2);
    let mut arrivals: Vec<&[u16]> = vec![&[0], &[1], &[2], &[], &[], &[], &[], &[3, 4, 5, 6]];
    arrivals.extend([&[7][..], &[8], &[9], &[10]]);
    let out = run(&mut buffer, &arrivals);
    let played: Vec<u16> = out
        .iter()
        .filter_map(|o| if let F(seq) = o { Some(*seq) } else { None })
        .collect();
    assert_eq!(played, (0..=7).collect::<Vec<u16>>());
    assert_eq!(buffer.stats().late, 0);
    assert!(buffer.stats().underruns >= 1);
    assert_eq!(
        buffer.buffered(),
        3,
        "8, 9 and 10 wait: the delay grew by one frame"
    );
}

#[test]
fn after_an_underrun_an_older_packet_is_late_not_replayed() {
    let mut buffer = JitterBuffer::new(2);
    // 2 is lost (3 and 4 behind it), then the sender stalls; 2 turns up during the stall.
    let out = run(
        &mut buffer,
        &[&[0], &[1], &[3], &[4], &[], &[], &[2], &[5], &[6], &[]],
    );
    assert_eq!(&out[..6], [Idle, F(0), F(1), Gap, F(3), F(4)]);
    assert_eq!(&out[6..], [Gap, Gap, F(5), F(6)]);
    assert_eq!(buffer.stats().late, 1);
}

/// A stream whose payload says whether the frame is quiet: byte 0 is 1 for speech, 0 for a pause.
fn tagged(buffer: &mut JitterBuffer, seq: u16, speech: bool) {
    buffer.push(seq, &[u8::from(speech), seq as u8]);
}

fn pop_tagged(buffer: &mut JitterBuffer) -> Option<(bool, u8)> {
    match buffer.pop_shrinking(|bytes| bytes.first() == Some(&0)) {
        Jitter::Frame([speech, seq]) => Some((*speech == 1, *seq)),
        _ => None,
    }
}

#[test]
fn grown_delay_shrinks_only_in_pauses() {
    let mut buffer = JitterBuffer::new(2);
    // Start with the buffer holding 6 frames (a late burst), then one frame per tick.
    for seq in 0..6u16 {
        tagged(&mut buffer, seq, true);
    }
    let mut seq = 6u16;
    let mut played = Vec::new();
    // Speech for 4 s: never shortened however long the delay stays above target.
    for _ in 0..200 {
        tagged(&mut buffer, seq, true);
        seq += 1;
        played.extend(pop_tagged(&mut buffer));
    }
    assert_eq!(buffer.stats().shrunk, 0);
    let held = buffer.buffered();
    assert!(held > 3, "{held}");
    // A pause: quiet frames are dropped until the delay is back at target.
    for _ in 0..200 {
        tagged(&mut buffer, seq, false);
        seq += 1;
        played.extend(pop_tagged(&mut buffer));
    }
    assert!(buffer.stats().shrunk >= 1);
    assert!(buffer.buffered() <= 3, "{}", buffer.buffered());
    // Every speech frame was played, in order.
    let speech: Vec<u8> = played.iter().filter(|p| p.0).map(|p| p.1).collect();
    assert_eq!(speech, (0..206u16).map(|s| s as u8).collect::<Vec<u8>>());
}
