use super::*;

fn sine(hz: f64, rate: u32, seconds: f64, amplitude: f64) -> Vec<f32> {
    let n = (f64::from(rate) * seconds) as usize;
    (0..n)
        .map(|i| {
            let t = i as f64 / f64::from(rate);
            (amplitude * (2.0 * std::f64::consts::PI * hz * t).sin()) as f32
        })
        .collect()
}

/// Amplitude of the `hz` component (least-squares fit of a sine and cosine), skipping the edges
/// where the filter sees zeros.
fn amplitude_at(samples: &[f32], hz: f64, rate: u32) -> f64 {
    let edge = samples.len() / 8;
    let body = &samples[edge..samples.len() - edge];
    let (mut s, mut c) = (0.0, 0.0);
    for (i, &x) in body.iter().enumerate() {
        let phase = 2.0 * std::f64::consts::PI * hz * (i + edge) as f64 / f64::from(rate);
        s += f64::from(x) * phase.sin();
        c += f64::from(x) * phase.cos();
    }
    2.0 * (s * s + c * c).sqrt() / body.len() as f64
}

fn rms(samples: &[f32]) -> f64 {
    let edge = samples.len() / 8;
    let body = &samples[edge..samples.len() - edge];
    (body.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>() / body.len() as f64).sqrt()
}

#[test]
fn resampling_keeps_the_length_in_proportion() {
    for rate in [11025, 16000, 22050, 32000, 44100, 48000, 4000, 8001] {
        let input = vec![0.0f32; rate as usize / 2];
        let out = resample_to_8k(&input, rate);
        assert!(
            (out.len() as i64 - 4000).abs() <= 1,
            "{rate} Hz: {} samples for half a second",
            out.len()
        );
    }
}

#[test]
fn a_1khz_tone_passes_at_unity_gain_and_right_frequency_from_common_rates() {
    for rate in [16000, 22050, 44100, 48000, 8001] {
        let out = resample_to_8k(&sine(1000.0, rate, 0.5, 0.5), rate);
        let amp = amplitude_at(&out, 1000.0, SAMPLE_RATE);
        assert!((amp - 0.5).abs() < 0.01, "{rate} Hz: amplitude {amp}");
        // All of the energy is at 1 kHz: rms of a sine is amplitude/√2.
        assert!((rms(&out) - amp / 2f64.sqrt()).abs() < 0.005, "{rate} Hz");
    }
}

#[test]
fn speech_band_tones_pass_and_tones_above_4khz_are_removed_not_folded() {
    let rate = 44100;
    for hz in [300.0, 2000.0, 3400.0] {
        let out = resample_to_8k(&sine(hz, rate, 0.5, 0.5), rate);
        let amp = amplitude_at(&out, hz, SAMPLE_RATE);
        assert!(amp > 0.45, "{hz} Hz kept only {amp}");
    }
    for hz in [4500.0, 5000.0, 6000.0, 10000.0] {
        let out = resample_to_8k(&sine(hz, rate, 0.5, 0.5), rate);
        // A plain decimator would fold 5 kHz onto 3 kHz at full amplitude.
        assert!(rms(&out) < 0.005, "{hz} Hz leaked {}", rms(&out));
    }
}

#[test]
fn upsampling_from_4khz_keeps_a_tone() {
    let out = resample_to_8k(&sine(500.0, 4000, 0.5, 0.5), 4000);
    assert!((amplitude_at(&out, 500.0, SAMPLE_RATE) - 0.5).abs() < 0.01);
}

#[test]
fn eight_khz_input_is_untouched_and_zero_rate_gives_nothing() {
    let input = vec![0.1, -0.2, 0.3];
    assert_eq!(resample_to_8k(&input, 8000), input);
    assert!(resample_to_8k(&input, 0).is_empty());
    assert!(resample_to_8k(&[], 44100).is_empty());
}

#[test]
fn dc_gain_is_one() {
    let out = resample_to_8k(&vec![0.25f32; 4410], 44100);
    for &s in &out[100..out.len() - 100] {
        assert!((s - 0.25).abs() < 1e-4, "{s}");
    }
}

#[test]
fn downmix_averages_channels() {
    assert_eq!(
        downmix(&[1.0, 0.0, 0.5, 0.5, -1.0, 1.0], 2),
        vec![0.5, 0.5, 0.0]
    );
    assert_eq!(downmix(&[0.3, 0.6, 0.9], 3), vec![0.6]);
    assert_eq!(downmix(&[0.1, 0.2], 1), vec![0.1, 0.2]);
    assert_eq!(downmix(&[0.1, 0.2], 0), vec![0.1, 0.2]);
    // A trailing partial frame is dropped.
    assert_eq!(downmix(&[1.0, 1.0, 1.0], 2), vec![1.0]);
}

#[test]
fn float_to_pcm16_rounds_and_clips() {
    assert_eq!(
        to_pcm16(&[0.0, 1.0, -1.0, 2.0, -2.0, 0.5]),
        vec![0, 32767, -32768, 32767, -32768, 16384]
    );
    // Every 16-bit value survives the trip through f32 at the decoders' scale.
    let all: Vec<i16> = (i16::MIN..=i16::MAX).collect();
    let floats: Vec<f32> = all.iter().map(|&s| f32::from(s) / 32768.0).collect();
    assert_eq!(to_pcm16(&floats), all);
}

#[test]
fn prompt_ids_are_relative_paths_without_extension() {
    assert_eq!(
        prompt_id(Path::new("digit/4.wav")),
        Some("digit/4".to_string())
    );
    assert_eq!(
        prompt_id(Path::new("moh/music.ogg")),
        Some(MUSIC.to_string())
    );
    assert_eq!(prompt_id(Path::new("./beep.mp3")), Some("beep".to_string()));
    assert_eq!(prompt_id(Path::new("../x.wav")), None);
    assert_eq!(prompt_id(Path::new("/abs/x.wav")), None);
    assert_eq!(prompt_id(Path::new("")), None);
}

#[test]
fn the_set_shares_one_copy_per_prompt() {
    let mut set = PromptSet::new();
    assert!(set.is_empty());
    set.insert("digit/4", vec![1i16, 2, 3]);
    set.insert(MUSIC, vec![0i16; 10]);
    assert_eq!(set.len(), 2);
    assert!(set.contains("digit/4"));
    assert_eq!(set.total_samples(), 13);
    let (Some(a), Some(b)) = (set.get("digit/4"), set.get("digit/4")) else {
        panic!("prompt missing");
    };
    assert!(Arc::ptr_eq(a, b));
    assert_eq!(&a[..], &[1, 2, 3]);
    assert_eq!(set.get("digit/5"), None);
    let mut ids: Vec<&str> = set.ids().collect();
    ids.sort_unstable();
    assert_eq!(ids, vec!["digit/4", "moh/music"]);
}
