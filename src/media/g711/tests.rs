use super::*;

/// ITU-T G.711 Table 2: µ-law decoder output (14-bit) = start + step * mantissa, per segment.
const ULAW_SEGMENT_START: [i32; 8] = [0, 33, 99, 231, 495, 1023, 2079, 4191];
const ULAW_SEGMENT_STEP: [i32; 8] = [2, 4, 8, 16, 32, 64, 128, 256];
/// ITU-T G.711 Table 2: µ-law decision value where each segment 1..7 begins (14-bit).
const ULAW_SEGMENT_DECISION: [i32; 8] = [0, 31, 95, 223, 479, 991, 2015, 4063];
/// ITU-T G.711 Table 1: A-law decoder output (13-bit) = start + step * mantissa, per segment.
const ALAW_SEGMENT_START: [i32; 8] = [1, 33, 66, 132, 264, 528, 1056, 2112];
const ALAW_SEGMENT_STEP: [i32; 8] = [2, 2, 4, 8, 16, 32, 64, 128];
/// ITU-T G.711 Table 1: A-law decision value where each segment 1..7 begins (13-bit).
const ALAW_SEGMENT_DECISION: [i32; 8] = [0, 32, 64, 128, 256, 512, 1024, 2048];

/// µ-law wire code: all bits inverted; the (inverted) sign bit is set for negative values.
fn ulaw_code(negative: bool, segment: usize, mantissa: usize) -> u8 {
    let sign = if negative { 0x80 } else { 0 };
    !((sign | (segment << 4) | mantissa) as u8)
}

/// A-law wire code: even bits toggled; the sign bit is set for positive values.
fn alaw_code(negative: bool, segment: usize, mantissa: usize) -> u8 {
    let sign = if negative { 0 } else { 0x80 };
    ((sign | (segment << 4) | mantissa) as u8) ^ 0x55
}

#[test]
fn published_end_points_decode() {
    assert_eq!(ulaw_decode(0xFF), 0);
    assert_eq!(ulaw_decode(0x7F), 0);
    assert_eq!(ulaw_decode(0x80), 32124);
    assert_eq!(ulaw_decode(0x00), -32124);
    assert_eq!(ulaw_decode(0xEF), 132); // segment 1, first step: 33 * 4
    assert_eq!(alaw_decode(0xD5), 8);
    assert_eq!(alaw_decode(0x55), -8);
    assert_eq!(alaw_decode(0xAA), 32256);
    assert_eq!(alaw_decode(0x2A), -32256);
}

#[test]
fn published_end_points_encode() {
    assert_eq!(ulaw_encode(0), 0xFF);
    assert_eq!(ulaw_encode(-1), 0x7F);
    assert_eq!(ulaw_encode(i16::MAX), 0x80);
    assert_eq!(ulaw_encode(i16::MIN), 0x00);
    assert_eq!(alaw_encode(0), 0xD5);
    assert_eq!(alaw_encode(-1), 0x55);
    assert_eq!(alaw_encode(i16::MAX), 0xAA);
    assert_eq!(alaw_encode(i16::MIN), 0x2A);
}

#[test]
fn every_decoded_value_matches_the_itu_tables() {
    for segment in 0..8 {
        for mantissa in 0..16 {
            let ulaw =
                (ULAW_SEGMENT_START[segment] + ULAW_SEGMENT_STEP[segment] * mantissa as i32) * 4;
            let alaw =
                (ALAW_SEGMENT_START[segment] + ALAW_SEGMENT_STEP[segment] * mantissa as i32) * 8;
            assert_eq!(
                i32::from(ulaw_decode(ulaw_code(false, segment, mantissa))),
                ulaw
            );
            assert_eq!(
                i32::from(ulaw_decode(ulaw_code(true, segment, mantissa))),
                -ulaw
            );
            assert_eq!(
                i32::from(alaw_decode(alaw_code(false, segment, mantissa))),
                alaw
            );
            assert_eq!(
                i32::from(alaw_decode(alaw_code(true, segment, mantissa))),
                -alaw
            );
        }
    }
}

#[test]
fn segment_decision_values_match_the_itu_tables() {
    for segment in 1..8 {
        // µ-law works on 14 bits (x4 here), A-law on 13 bits (x8 here).
        let ulaw_edge = ULAW_SEGMENT_DECISION[segment] * 4;
        let alaw_edge = ALAW_SEGMENT_DECISION[segment] * 8;
        for (edge, encode, code) in [
            (
                ulaw_edge,
                ulaw_encode as fn(i16) -> u8,
                ulaw_code as fn(bool, usize, usize) -> u8,
            ),
            (alaw_edge, alaw_encode, alaw_code),
        ] {
            assert_eq!(encode(edge as i16), code(false, segment, 0));
            assert_eq!(encode((edge - 1) as i16), code(false, segment - 1, 15));
            // One's complement: -edge - 1 has the same magnitude as +edge.
            assert_eq!(encode((-edge - 1) as i16), code(true, segment, 0));
            assert_eq!(encode(-edge as i16), code(true, segment - 1, 15));
        }
    }
}

#[test]
fn decode_encode_decode_is_stable_for_all_codes() {
    for code in 0..=255u8 {
        let u = ulaw_decode(code);
        assert_eq!(ulaw_decode(ulaw_encode(u)), u, "µ-law code {code:#04x}");
        // µ-law has two zeros (0xFF and 0x7F); every other code maps back to itself.
        if code != 0x7F {
            assert_eq!(ulaw_encode(u), code);
        }
        let a = alaw_decode(code);
        assert_eq!(alaw_decode(alaw_encode(a)), a, "A-law code {code:#04x}");
        assert_eq!(alaw_encode(a), code);
    }
}

#[test]
fn quantisation_is_monotonic_and_close_over_the_whole_range() {
    for law in [G711::Pcmu, G711::Pcma] {
        let mut previous = i32::MIN;
        for x in i16::MIN..=i16::MAX {
            let y = i32::from(match law {
                G711::Pcmu => ulaw_decode(ulaw_encode(x)),
                G711::Pcma => alaw_decode(alaw_encode(x)),
            });
            assert!(y >= previous, "{law:?} not monotonic at {x}");
            previous = y;
            let x = i32::from(x);
            if x.abs() <= 32000 {
                // Half a step of the segment the value falls in, plus one for the one's complement.
                let bound = x.abs() / 32 + 9;
                assert!((y - x).abs() <= bound, "{law:?}: {x} -> {y}");
            }
        }
    }
}

#[test]
fn codec_enum_helpers() {
    assert_eq!(G711::Pcmu.payload_type(), 0);
    assert_eq!(G711::Pcma.payload_type(), 8);
    for law in [G711::Pcmu, G711::Pcma] {
        let mut bytes = vec![0x11];
        law.encode_into(&[0; 160], &mut bytes);
        assert_eq!(bytes.len(), 161);
        assert!(bytes[1..].iter().all(|&b| b == law.silence_byte()));
        let mut pcm = vec![7];
        law.decode_into(&bytes[1..], &mut pcm);
        assert_eq!(pcm.len(), 161);
        assert_eq!(pcm[0], 7);
        assert!(pcm[1..].iter().all(|&s| s.abs() <= 8));
        let ramp: Vec<i16> = (-100..100).map(|i| i * 300).collect();
        let mut coded = Vec::new();
        law.encode_into(&ramp, &mut coded);
        let mut back = Vec::new();
        law.decode_into(&coded, &mut back);
        for (x, y) in ramp.iter().zip(&back) {
            assert!((i32::from(*x) - i32::from(*y)).abs() <= 512);
        }
    }
}

#[test]
fn quiet_frames_are_pauses_not_speech() {
    for codec in [G711::Pcmu, G711::Pcma] {
        let mut silence = Vec::new();
        codec.encode_into(&[0i16; 160], &mut silence);
        assert!(codec.is_quiet(&silence));
        let mut hiss = Vec::new();
        let noise: Vec<i16> = (0..160)
            .map(|i| if i % 2 == 0 { 120 } else { -120 })
            .collect();
        codec.encode_into(&noise, &mut hiss);
        assert!(codec.is_quiet(&hiss));
        let mut tone = Vec::new();
        let speech: Vec<i16> = (0..160)
            .map(|i| (3000.0 * (i as f64 * 0.3).sin()) as i16)
            .collect();
        codec.encode_into(&speech, &mut tone);
        assert!(!codec.is_quiet(&tone));
    }
}
