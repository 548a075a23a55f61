//! `telephone_event`: bytes as RFC 4733 payloads, through `TelephoneEvent::parse` and a
//! `DtmfReceiver` fed a sequence of (RTP timestamp, payload, arrival time) packets.
//!
//! Why: a caller's digits decide where a call goes (menus, case numbers, PINs), and the receiver
//! keeps state across packets (long presses split into segments, lost end packets, late packets
//! of older presses, wrapping timestamps). Invariants: a parsed event prints back to the same four
//! bytes (the reserved bit cleared); the receiver only ever yields DTMF digits; and a press
//! produced by `DtmfSender` (digit, duration and volume from the input) is received as exactly
//! that one digit.

use super::super::input::Input;
use crate::media::dtmf::{event_code, DtmfReceiver, DtmfSender, TelephoneEvent};

const DIGITS: [char; 16] = [
    '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '#', 'A', 'B', 'C', 'D',
];

fn check_digit(digit: char) {
    assert!(
        event_code(digit).is_some(),
        "the receiver produced {digit:?}, not a DTMF digit"
    );
}

pub fn telephone_event(data: &[u8]) {
    if let Some(event) = TelephoneEvent::parse(data) {
        let mut expected = [0u8; 4];
        expected.copy_from_slice(&data[..4]);
        expected[1] &= !0x40;
        assert_eq!(event.to_bytes(), expected, "an event does not print back");
    }

    // A fuzzed packet sequence.
    let mut input = Input::new(data);
    let mut receiver = DtmfReceiver::new();
    let mut now_ms = 0u64;
    let mut timestamp = input.u32();
    while !input.is_empty() {
        timestamp = match input.byte() % 4 {
            0 => timestamp,
            1 => timestamp.wrapping_add(u32::from(input.u16())),
            2 => timestamp.wrapping_sub(u32::from(input.u16())),
            _ => input.u32(),
        };
        now_ms += u64::from(input.byte()) * 4;
        let payload = input.bytes(8);
        if let Some(digit) = receiver.on_event_packet(timestamp, payload, now_ms) {
            check_digit(digit);
        }
        while let Some(digit) = receiver.poll(now_ms) {
            check_digit(digit);
        }
    }
    now_ms += 10_000;
    while let Some(digit) = receiver.poll(now_ms) {
        check_digit(digit);
    }

    // One press as we send it is received as exactly that digit.
    let mut input = Input::new(data);
    let digit = *input.pick(&DIGITS);
    let start = input.u32();
    let duration_ms = u32::from(input.u16());
    let volume = input.byte();
    let Some(mut sender) = DtmfSender::new(digit, start, duration_ms, volume) else {
        panic!("the sender refused the DTMF digit {digit:?}");
    };
    let mut receiver = DtmfReceiver::new();
    let mut got = Vec::new();
    let mut now_ms = 0u64;
    while let Some(packet) = sender.next_packet() {
        got.extend(receiver.on_event_packet(packet.timestamp, &packet.payload, now_ms));
        got.extend(std::iter::from_fn(|| receiver.poll(now_ms)));
        now_ms += 20;
    }
    now_ms += 10_000;
    got.extend(std::iter::from_fn(|| receiver.poll(now_ms)));
    assert_eq!(
        got,
        vec![digit],
        "one press of {digit:?} was received as {got:?}"
    );
}
