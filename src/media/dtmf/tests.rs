use super::*;

fn payload(code: u8, end: bool, duration: u16) -> [u8; 4] {
    TelephoneEvent {
        code,
        end,
        volume: 10,
        duration,
    }
    .to_bytes()
}

/// The packets a well-behaved sender emits for one press: (timestamp, payload) with `progress` packets
/// and three end packets.
fn press(code: u8, timestamp: u32, progress: u16) -> Vec<(u32, [u8; 4])> {
    let mut packets: Vec<_> = (1..=progress)
        .map(|i| (timestamp, payload(code, false, i * 160)))
        .collect();
    for _ in 0..3 {
        packets.push((timestamp, payload(code, true, (progress + 1) * 160)));
    }
    packets
}

/// Feeds packets 20 ms apart and collects every digit, polling after each packet.
fn feed(receiver: &mut DtmfReceiver, packets: &[(u32, [u8; 4])], start_ms: u64) -> String {
    let mut digits = String::new();
    for (i, (timestamp, bytes)) in packets.iter().enumerate() {
        let now = start_ms + 20 * i as u64;
        digits.extend(receiver.on_event_packet(*timestamp, bytes, now));
        while let Some(d) = receiver.poll(now) {
            digits.push(d);
        }
    }
    digits
}

#[test]
fn event_codes_follow_rfc_4733_table() {
    let keys = "0123456789*#ABCD";
    for (code, key) in keys.chars().enumerate() {
        assert_eq!(event_code(key), Some(code as u8));
        assert_eq!(event_digit(code as u8), Some(key));
    }
    assert_eq!(event_code('a'), Some(12));
    assert_eq!(event_code('E'), None);
    assert_eq!(event_code('۱'), None); // Persian digit: not a DTMF key
    assert_eq!(event_digit(16), None);
}

#[test]
fn payload_layout_matches_rfc_4733_section_2_3() {
    // Event 5, end bit, volume 10, duration 800.
    assert_eq!(payload(5, true, 800), [0x05, 0x8A, 0x03, 0x20]);
    let parsed = TelephoneEvent::parse(&[0x0B, 0x4A, 0x01, 0x40]);
    // The reserved bit (0x40) is ignored on receipt.
    assert_eq!(
        parsed,
        Some(TelephoneEvent {
            code: 11,
            end: false,
            volume: 10,
            duration: 320
        })
    );
    assert_eq!(TelephoneEvent::parse(&[1, 2, 3]), None);
}

#[test]
fn one_digit_per_press_counted_on_first_end_packet() {
    let mut receiver = DtmfReceiver::new();
    let packets = press(7, 1000, 4);
    let mut results = Vec::new();
    for (i, (ts, bytes)) in packets.iter().enumerate() {
        results.push(receiver.on_event_packet(*ts, bytes, 20 * i as u64));
    }
    assert_eq!(results, [None, None, None, None, Some('7'), None, None]);
    assert_eq!(receiver.poll(10_000), None);
}

#[test]
fn lost_start_end_packet_alone_counts() {
    let mut receiver = DtmfReceiver::new();
    let packets = press(3, 5000, 5);
    assert_eq!(feed(&mut receiver, &packets[4..], 0), "3");
    assert_eq!(feed(&mut receiver, &packets[5..], 200), "");
}

#[test]
fn lost_end_counted_when_next_press_starts() {
    let mut receiver = DtmfReceiver::new();
    let mut packets = press(1, 1000, 3);
    packets.truncate(3); // all three end packets lost
    assert_eq!(feed(&mut receiver, &packets, 0), "");
    assert_eq!(feed(&mut receiver, &press(2, 3000, 3), 60), "12");
}

#[test]
fn lost_end_counted_after_timeout_while_polled() {
    let mut receiver = DtmfReceiver::new();
    let mut packets = press(9, 1000, 3);
    packets.truncate(3);
    assert_eq!(feed(&mut receiver, &packets, 0), "");
    // Last packet at 40 ms: nothing before 290 ms, the digit at 290 ms, and only once.
    assert_eq!(receiver.poll(289), None);
    assert_eq!(receiver.poll(290), Some('9'));
    assert_eq!(receiver.poll(600), None);
    // A straggler of the same press after the timeout does not count again.
    assert_eq!(
        receiver.on_event_packet(1000, &payload(9, true, 640), 700),
        None
    );
}

#[test]
fn duplicates_of_every_packet_give_one_digit() {
    let mut receiver = DtmfReceiver::new();
    let doubled: Vec<_> = press(0, 42, 4).into_iter().flat_map(|p| [p, p]).collect();
    assert_eq!(feed(&mut receiver, &doubled, 0), "0");
}

#[test]
fn reordered_packets_within_and_across_presses() {
    let mut receiver = DtmfReceiver::new();
    let first = press(4, 1000, 3);
    let second = press(6, 2600, 3);
    // End of the first press overtakes its progress packets; the second press starts before the
    // first one's retransmitted ends arrive.
    let order = [
        first[0], first[3], first[1], first[2], second[0], first[4], second[1], first[5],
        second[2], second[3], second[4], second[5],
    ];
    assert_eq!(feed(&mut receiver, &order, 0), "46");
}

#[test]
fn same_key_twice_is_two_digits() {
    let mut receiver = DtmfReceiver::new();
    let mut packets = press(1, 8000, 4);
    packets.extend(press(1, 8000 + 1600, 4));
    assert_eq!(feed(&mut receiver, &packets, 0), "11");
}

#[test]
fn late_duplicate_after_later_press_does_not_retrigger() {
    let mut receiver = DtmfReceiver::new();
    let mut packets = press(2, 1000, 2);
    packets.extend(press(3, 2000, 2));
    packets.push((1000, payload(2, true, 480)));
    packets.push((1000, payload(2, false, 160)));
    assert_eq!(feed(&mut receiver, &packets, 0), "23");
}

#[test]
fn malformed_and_unsupported_events_are_ignored_and_counted() {
    let mut receiver = DtmfReceiver::new();
    assert_eq!(receiver.on_event_packet(1, &[], 0), None);
    assert_eq!(receiver.on_event_packet(1, &[5, 0x80], 0), None);
    assert_eq!(
        receiver.on_event_packet(1, &payload(16, true, 800), 0),
        None
    ); // flash
    assert_eq!(
        receiver.on_event_packet(1, &payload(255, true, 800), 0),
        None
    );
    assert_eq!(receiver.malformed_count(), 4);
    assert_eq!(receiver.poll(1_000), None);
    // Longer payloads (e.g. padding) use the first event.
    assert_eq!(
        receiver.on_event_packet(9, &[8, 0x8A, 0, 160, 0, 0], 0),
        Some('8')
    );
}

#[test]
fn timestamp_wraparound_orders_presses() {
    let mut receiver = DtmfReceiver::new();
    let mut first = press(5, u32::MAX - 100, 3);
    first.truncate(2);
    let second = press(8, 1500, 2);
    let mut packets = first;
    packets.extend(second);
    assert_eq!(feed(&mut receiver, &packets, 0), "58");
}

#[test]
fn long_press_split_into_segments_is_one_digit() {
    let mut receiver = DtmfReceiver::new();
    let start = 100_000u32;
    let mut now = 0;
    for duration in (160..=0xFFFFu32 - 160).step_by(160) {
        let Ok(duration) = u16::try_from(duration) else {
            panic!("duration fits")
        };
        assert_eq!(
            receiver.on_event_packet(start, &payload(0, false, duration), now),
            None
        );
        now += 20;
    }
    // §2.5.1.3: the next segment starts where the 16-bit duration overflowed.
    let next = start.wrapping_add(0xFFFF);
    let tail = press(0, next, 3);
    assert_eq!(feed(&mut receiver, &tail, now), "0");
}

#[test]
fn sender_packet_sequence() {
    assert!(DtmfSender::new('x', 0, 100, 10).is_none());
    let Some(mut sender) = DtmfSender::new('5', 4000, 100, 10) else {
        panic!("'5' is a DTMF key")
    };
    let mut packets = Vec::new();
    while let Some(p) = sender.next_packet() {
        packets.push(p);
    }
    assert!(sender.is_finished());
    let durations: Vec<u16> = packets
        .iter()
        .map(|p| u16::from_be_bytes([p.payload[2], p.payload[3]]))
        .collect();
    assert_eq!(durations, [160, 320, 480, 640, 800, 800, 800]);
    let markers: Vec<bool> = packets.iter().map(|p| p.marker).collect();
    assert_eq!(markers, [true, false, false, false, false, false, false]);
    assert!(packets
        .iter()
        .all(|p| p.timestamp == 4000 && p.payload[0] == 5));
    let ends: Vec<bool> = packets.iter().map(|p| p.payload[1] & 0x80 != 0).collect();
    assert_eq!(ends, [false, false, false, false, true, true, true]);
    assert_eq!(packets[4].payload, [0x05, 0x8A, 0x03, 0x20]);
}

#[test]
fn sender_short_press_starts_with_marked_end_packet() {
    let Some(mut sender) = DtmfSender::new('#', 7, 0, 200) else {
        panic!("'#' is a DTMF key")
    };
    assert_eq!(
        sender.next_packet(),
        Some(DtmfPacket {
            payload: [11, 0x80 | 0x3F, 0, 160],
            marker: true,
            timestamp: 7
        })
    );
    assert_eq!(sender.next_packet().map(|p| p.marker), Some(false));
    assert!(sender.next_packet().is_some());
    assert_eq!(sender.next_packet(), None);
}

#[test]
fn sender_to_receiver_round_trip_all_keys() {
    let keys = "0123456789*#ABCD";
    let mut receiver = DtmfReceiver::new();
    let mut received = String::new();
    let mut timestamp = 0xFFFF_F000u32; // wraps during the sequence
    let mut now = 0u64;
    for key in keys.chars() {
        let Some(mut sender) = DtmfSender::new(key, timestamp, 100, 10) else {
            panic!("{key} is a DTMF key")
        };
        while let Some(packet) = sender.next_packet() {
            received.extend(receiver.on_event_packet(packet.timestamp, &packet.payload, now));
            now += 20;
        }
        // 100 ms tone + 60 ms of end packets + a 100 ms gap.
        timestamp = timestamp.wrapping_add(8 * 260);
        now += 100;
        received.extend(receiver.poll(now));
    }
    assert_eq!(received, keys);
}

#[test]
fn real_capture_from_sipp_dtmf_2833_pcap() {
    // Payloads of SIPp's shipped `dtmf_2833_1.pcap` (PT 101, timestamp 13280): durations grow by 320
    // from 0, and the end packet is sent three times within the same millisecond.
    let captured: [(u64, [u8; 4]); 10] = [
        (0, [0x01, 0x0a, 0x00, 0x00]),
        (20, [0x01, 0x0a, 0x01, 0x40]),
        (40, [0x01, 0x0a, 0x02, 0x80]),
        (60, [0x01, 0x0a, 0x03, 0xc0]),
        (80, [0x01, 0x0a, 0x05, 0x00]),
        (100, [0x01, 0x0a, 0x06, 0x40]),
        (120, [0x01, 0x0a, 0x07, 0x80]),
        (140, [0x01, 0x8a, 0x08, 0xc0]),
        (140, [0x01, 0x8a, 0x08, 0xc0]),
        (140, [0x01, 0x8a, 0x08, 0xc0]),
    ];
    let mut receiver = DtmfReceiver::new();
    let mut digits = String::new();
    for (now, bytes) in captured {
        digits.extend(receiver.on_event_packet(13280, &bytes, 1_000 + now));
        digits.extend(receiver.poll(1_000 + now));
    }
    digits.extend(receiver.poll(5_000));
    assert_eq!(digits, "1");
}
