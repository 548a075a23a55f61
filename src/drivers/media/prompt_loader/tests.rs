use super::super::test_support::scratch_dir;
use super::*;

fn write_wav<S: hound::Sample + Copy>(path: &Path, spec: hound::WavSpec, samples: &[S]) {
    if let Some(parent) = path.parent() {
        let _ = fs::create_dir_all(parent);
    }
    let result = hound::WavWriter::create(path, spec).and_then(|mut w| {
        for &s in samples {
            w.write_sample(s)?;
        }
        w.finalize()
    });
    if let Err(e) = result {
        panic!("cannot write {}: {e}", path.display());
    }
}

fn spec(rate: u32, channels: u16, bits: u16, format: hound::SampleFormat) -> hound::WavSpec {
    hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: bits,
        sample_format: format,
    }
}

fn sine(hz: f64, rate: u32, n: usize) -> impl Iterator<Item = f64> {
    (0..n).map(move |i| (2.0 * std::f64::consts::PI * hz * i as f64 / f64::from(rate)).sin())
}

/// Amplitude of `hz` in 8 kHz samples (full scale 32768).
fn amplitude(pcm: &[i16], hz: f64) -> f64 {
    let (mut s, mut c) = (0.0, 0.0);
    for (i, &x) in pcm.iter().enumerate() {
        let p = 2.0 * std::f64::consts::PI * hz * i as f64 / 8000.0;
        s += f64::from(x) * p.sin();
        c += f64::from(x) * p.cos();
    }
    2.0 * (s * s + c * c).sqrt() / pcm.len() as f64 / 32768.0
}

#[test]
fn every_format_becomes_8khz_mono_under_its_relative_id() -> Result<(), PromptError> {
    let dir = scratch_dir("prompts");
    let exact: Vec<i16> = (0..800).map(|i| (i * 37 % 2000) as i16 - 1000).collect();
    write_wav(
        &dir.join("beep.wav"),
        spec(8000, 1, 16, hound::SampleFormat::Int),
        &exact,
    );
    // 16 kHz stereo, the tone on the left channel only: mixed down to half amplitude.
    let stereo: Vec<i16> = sine(1000.0, 16000, 16000)
        .flat_map(|v| [(v * 16000.0) as i16, 0])
        .collect();
    let stereo_spec = spec(16000, 2, 16, hound::SampleFormat::Int);
    write_wav(&dir.join("digit/4.wav"), stereo_spec, &stereo);
    let float: Vec<f32> = sine(440.0, 44100, 22050)
        .map(|v| (v * 0.5) as f32)
        .collect();
    let float_spec = spec(44100, 1, 32, hound::SampleFormat::Float);
    write_wav(&dir.join("moh/music.wav"), float_spec, &float);
    let _ = fs::write(dir.join("common.tsv"), "beep\t@beep\n");

    let set = load_prompts(&dir)?;
    let mut ids: Vec<&str> = set.ids().collect();
    ids.sort_unstable();
    assert_eq!(ids, vec!["beep", "digit/4", "moh/music"]);
    assert_eq!(set.get("beep").map(|p| p.to_vec()), Some(exact));
    let Some(four) = set.get("digit/4") else {
        panic!("digit/4 missing");
    };
    assert_eq!(four.len(), 8000);
    let a = amplitude(&four[1000..7000], 1000.0);
    assert!((a - 16000.0 / 32768.0 / 2.0).abs() < 0.01, "amplitude {a}");
    let Some(music) = set.get("moh/music") else {
        panic!("music missing");
    };
    assert!((music.len() as i64 - 4000).abs() <= 1);
    assert!((amplitude(&music[500..3500], 440.0) - 0.5).abs() < 0.01);
    Ok(())
}

#[test]
fn an_unreadable_file_is_an_error_naming_it() {
    let dir = scratch_dir("bad-prompt");
    write_wav(
        &dir.join("ok.wav"),
        spec(8000, 1, 16, hound::SampleFormat::Int),
        &[0i16; 80],
    );
    let _ = fs::create_dir_all(dir.join("menu"));
    let _ = fs::write(dir.join("menu/broken.mp3"), vec![0x42u8; 300]);
    match load_prompts(&dir) {
        Err(e @ PromptError::Decode { .. }) => {
            assert!(e.to_string().contains("menu/broken.mp3"), "{e}");
        }
        other => panic!("expected a decode error, got {other:?}"),
    }
}

#[test]
fn two_files_for_one_id_and_a_missing_folder_are_errors() {
    let dir = scratch_dir("dup-prompt");
    let s = spec(8000, 1, 16, hound::SampleFormat::Int);
    write_wav(&dir.join("x.wav"), s, &[0i16; 80]);
    write_wav(&dir.join("x.WAV"), s, &[0i16; 80]);
    assert!(matches!(
        load_prompts(&dir),
        Err(PromptError::Duplicate { ref id, .. }) if id == "x"
    ));
    assert!(matches!(
        load_prompts(&dir.join("nope")),
        Err(PromptError::Io { .. })
    ));
}
