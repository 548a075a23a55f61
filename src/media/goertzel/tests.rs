use super::*;
use std::f64::consts::PI;

/// Amplitude of a 0 dBm0 sine in 16-bit linear PCM (G.711 digital milliwatt, ~3.14 dB below clip).
const DBM0_AMPLITUDE: f64 = 22_400.0;

fn amplitude(dbm0: f64) -> f64 {
    DBM0_AMPLITUDE * 10f64.powf(dbm0 / 20.0)
}

fn key_frequencies(key: char) -> (f64, f64) {
    for (r, row) in KEYS.iter().enumerate() {
        if let Some(c) = row.iter().position(|&k| k == key) {
            return (f64::from(ROW_HZ[r]), f64::from(COLUMN_HZ[c]));
        }
    }
    panic!("not a key: {key}")
}

/// Appends `ms` of a two-tone signal; each entry is (frequency, level in dBm0).
fn tones(out: &mut Vec<i16>, parts: &[(f64, f64)], ms: usize) {
    let start = out.len();
    for n in 0..ms * 8 {
        let t = (start + n) as f64 / 8000.0;
        let v: f64 = parts
            .iter()
            .map(|&(hz, dbm0)| amplitude(dbm0) * (2.0 * PI * hz * t).sin())
            .sum();
        out.push(v.round().clamp(-32768.0, 32767.0) as i16);
    }
}

fn key_tone(out: &mut Vec<i16>, key: char, ms: usize, row_dbm0: f64, column_dbm0: f64) {
    let (row, column) = key_frequencies(key);
    tones(out, &[(row, row_dbm0), (column, column_dbm0)], ms);
}

fn silence(out: &mut Vec<i16>, ms: usize) {
    out.resize(out.len() + ms * 8, 0);
}

/// Feeds `pcm` in 20 ms chunks (the media tick) and collects every reported key.
fn detect(pcm: &[i16]) -> String {
    let mut detector = InbandDetector::new();
    let mut keys: String = pcm.chunks(160).filter_map(|c| detector.push(c)).collect();
    keys.extend(std::iter::from_fn(|| detector.push(&[])));
    keys
}

/// Deterministic pseudo-random numbers in [-1, 1) (a 64-bit LCG; the seed is the test's).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }
}

#[test]
fn all_keys_at_several_levels() {
    for key in "123A456B789C*0#D".chars() {
        for level in [-3.0, -10.0, -20.0, -30.0] {
            let mut pcm = Vec::new();
            silence(&mut pcm, 30);
            key_tone(&mut pcm, key, 60, level, level);
            silence(&mut pcm, 60);
            assert_eq!(detect(&pcm), key.to_string(), "key {key} at {level} dBm0");
        }
    }
}

#[test]
fn all_keys_with_frequency_offsets_of_one_and_a_half_percent() {
    for key in "123A456B789C*0#D".chars() {
        let (row, column) = key_frequencies(key);
        for row_shift in [-0.015, 0.0, 0.015] {
            for column_shift in [-0.015, 0.0, 0.015] {
                let mut pcm = Vec::new();
                silence(&mut pcm, 20);
                let parts = [
                    (row * (1.0 + row_shift), -12.0),
                    (column * (1.0 + column_shift), -10.0),
                ];
                tones(&mut pcm, &parts, 60);
                silence(&mut pcm, 60);
                assert_eq!(
                    detect(&pcm),
                    key.to_string(),
                    "{key} shifted {row_shift}/{column_shift}"
                );
            }
        }
    }
}

#[test]
fn faint_tones_are_ignored() {
    let mut pcm = Vec::new();
    key_tone(&mut pcm, '5', 200, -45.0, -45.0);
    assert_eq!(detect(&pcm), "");
}

#[test]
fn fifty_ms_tones_with_fifty_ms_gaps() {
    let keys = "123A456B789C*0#D1155";
    let mut pcm = Vec::new();
    for key in keys.chars() {
        key_tone(&mut pcm, key, 50, -8.0, -6.0);
        silence(&mut pcm, 50);
    }
    assert_eq!(detect(&pcm), keys);
}

#[test]
fn held_key_counts_once_and_direct_key_change_counts_both() {
    let mut pcm = Vec::new();
    key_tone(&mut pcm, '7', 1500, -10.0, -10.0);
    key_tone(&mut pcm, '8', 100, -10.0, -10.0);
    assert_eq!(detect(&pcm), "78");
}

#[test]
fn forty_ms_tones_always_count_and_twenty_ms_tones_never() {
    // Every alignment of the tone against the 102-sample blocks.
    for lead_in in 0..BLOCK_LEN {
        let mut long = vec![0; lead_in];
        key_tone(&mut long, '9', 40, -10.0, -10.0);
        silence(&mut long, 40);
        assert_eq!(detect(&long), "9", "40 ms tone after {lead_in} samples");
        let mut short = vec![0; lead_in];
        key_tone(&mut short, '9', 20, -10.0, -10.0);
        silence(&mut short, 40);
        assert_eq!(detect(&short), "", "20 ms tone after {lead_in} samples");
    }
}

#[test]
fn twist_limits() {
    let cases = [
        (-10.0, -17.0, "4"), // row 7 dB above column: normal twist within 8 dB
        (-10.0, -20.0, ""),  // 10 dB normal twist
        (-13.0, -10.0, "4"), // column 3 dB above row: reverse twist within 4 dB
        (-16.0, -10.0, ""),  // 6 dB reverse twist
    ];
    for (row_dbm0, column_dbm0, expected) in cases {
        let mut pcm = Vec::new();
        key_tone(&mut pcm, '4', 80, row_dbm0, column_dbm0);
        silence(&mut pcm, 40);
        assert_eq!(
            detect(&pcm),
            expected,
            "row {row_dbm0} column {column_dbm0}"
        );
    }
}

#[test]
fn single_tones_and_noise_yield_nothing() {
    let mut pcm = Vec::new();
    for hz in ROW_HZ.iter().chain(&COLUMN_HZ) {
        tones(&mut pcm, &[(f64::from(*hz), -6.0)], 300);
    }
    let mut rng = Lcg(7);
    pcm.extend((0..8000 * 3).map(|_| (rng.next() * 12_000.0) as i16));
    assert_eq!(detect(&pcm), "");
}

#[test]
fn tone_buried_in_loud_noise_is_rejected() {
    let mut pcm = Vec::new();
    key_tone(&mut pcm, '2', 200, -20.0, -20.0);
    let mut rng = Lcg(99);
    for s in &mut pcm {
        *s = s.saturating_add((rng.next() * 8_000.0) as i16);
    }
    assert_eq!(detect(&pcm), "");
}

/// Voiced speech model: a glottal pulse train (harmonics falling 12 dB/octave) with a wandering pitch
/// of 100-250 Hz, shaped by three wandering formants, syllable-rate loudness, plus white noise.
fn speech_like(seconds: usize, seed: u64) -> Vec<i16> {
    let mut rng = Lcg(seed);
    let mut phases = [0.0f64; 40];
    let (mut pitch, mut f1, mut f2) = (160.0f64, 600.0f64, 1500.0f64);
    let mut out = Vec::with_capacity(seconds * 8000);
    for n in 0..seconds * 8000 {
        if n % 40 == 0 {
            // Random walks every 5 ms, kept in human ranges.
            pitch = (pitch + rng.next() * 6.0).clamp(100.0, 250.0);
            f1 = (f1 + rng.next() * 25.0).clamp(300.0, 900.0);
            f2 = (f2 + rng.next() * 60.0).clamp(900.0, 2300.0);
        }
        let t = n as f64 / 8000.0;
        let syllable = 0.55 + 0.45 * (2.0 * PI * 4.0 * t).sin();
        let mut v = 0.0;
        for (k, phase) in phases.iter_mut().enumerate() {
            let hz = pitch * (k + 1) as f64;
            if hz > 3400.0 {
                break;
            }
            *phase += 2.0 * PI * hz / 8000.0;
            let formants = [(f1, 90.0), (f2, 120.0), (2600.0, 160.0)]
                .iter()
                .map(|&(f, bw)| 1.0 / (1.0 + ((hz - f) / bw).powi(2)))
                .sum::<f64>();
            let glottal = 1.0 / ((k + 1) as f64).powi(2);
            v += glottal * (0.05 + formants) * phase.sin();
        }
        let sample = 9000.0 * syllable * v + 300.0 * rng.next();
        out.push(sample.clamp(-32768.0, 32767.0) as i16);
    }
    out
}

#[test]
fn speech_like_signal_yields_no_digit() {
    for seed in [1, 2, 3] {
        assert_eq!(detect(&speech_like(8, seed)), "", "seed {seed}");
    }
}

#[test]
fn any_chunking_gives_the_same_result() {
    let mut pcm = Vec::new();
    for key in "2580".chars() {
        key_tone(&mut pcm, key, 60, -10.0, -10.0);
        silence(&mut pcm, 60);
    }
    for chunk in [1, 7, 102, 160, 333, pcm.len()] {
        let mut detector = InbandDetector::new();
        let mut keys: String = pcm.chunks(chunk).filter_map(|c| detector.push(c)).collect();
        keys.extend(std::iter::from_fn(|| detector.push(&[])));
        assert_eq!(keys, "2580", "chunk {chunk}");
    }
}

#[test]
fn tones_with_moderate_line_noise_are_detected() {
    // About 20 dB signal-to-noise ratio.
    let mut rng = Lcg(5);
    let mut pcm = Vec::new();
    for key in "369#".chars() {
        key_tone(&mut pcm, key, 60, -12.0, -10.0);
        silence(&mut pcm, 60);
    }
    for s in &mut pcm {
        *s = s.saturating_add((rng.next() * 1_300.0) as i16);
    }
    assert_eq!(detect(&pcm), "369#");
}
