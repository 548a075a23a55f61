use crate::media::api::LegId;
use std::sync::mpsc;
use std::sync::Arc;

use super::super::test_support::scratch_dir;
use super::*;

fn read_wav(path: &Path) -> (hound::WavSpec, Vec<i16>) {
    let reader = match hound::WavReader::open(path) {
        Ok(reader) => reader,
        Err(e) => panic!("{} is not a readable WAV: {e}", path.display()),
    };
    let spec = reader.spec();
    let samples: Result<Vec<i16>, _> = reader.into_samples::<i16>().collect();
    match samples {
        Ok(samples) => (spec, samples),
        Err(e) => panic!("bad samples: {e}"),
    }
}

#[test]
fn names_must_stay_inside_the_recordings_folder() {
    let dir = Path::new("/rec");
    assert_eq!(
        recording_path(dir, "2026/11/23/abcd.wav"),
        Some(PathBuf::from("/rec/2026/11/23/abcd.wav"))
    );
    for bad in [
        "",
        "../x.wav",
        "/etc/passwd",
        "a/../../b.wav",
        "x.wav.part",
        ".",
    ] {
        assert_eq!(recording_path(dir, bad), None, "{bad:?}");
    }
}

#[test]
fn a_finished_take_is_a_valid_wav_under_its_final_name() -> io::Result<()> {
    let dir = scratch_dir("finish");
    let mut file = RecordingFile::create(&dir, "2026/11/23/take.wav")?;
    let part = part_path(file.target());
    assert!(part.exists(), "written under the temporary name first");
    let frames: Vec<i16> = (0..8000).map(|i| (i % 200) as i16 - 100).collect();
    for chunk in frames.chunks(160) {
        file.append(chunk)?;
    }
    let target = file.target().to_path_buf();
    assert_eq!(file.finish()?, 16000);
    assert!(!part.exists());
    let (spec, samples) = read_wav(&target);
    assert_eq!(
        (spec.sample_rate, spec.channels, spec.bits_per_sample),
        (8000, 1, 16)
    );
    assert_eq!(samples, frames);
    Ok(())
}

#[test]
fn a_discarded_take_leaves_nothing() -> io::Result<()> {
    let dir = scratch_dir("discard");
    let mut file = RecordingFile::create(&dir, "x.wav")?;
    file.append(&[1; 160])?;
    let target = file.target().to_path_buf();
    file.discard()?;
    assert!(!target.exists() && !part_path(&target).exists());
    Ok(())
}

#[test]
fn creating_under_a_file_fails_cleanly() -> io::Result<()> {
    let dir = scratch_dir("blocked");
    fs::write(dir.join("not-a-dir"), b"x")?;
    assert!(RecordingFile::create(&dir, "not-a-dir/take.wav").is_err());
    assert!(RecordingFile::create(&dir, "../escape.wav").is_err());
    Ok(())
}

#[test]
fn a_full_disk_is_an_error_never_a_save() -> io::Result<()> {
    let dir = scratch_dir("full");
    let full = match OpenOptions::new().write(true).open("/dev/full") {
        Ok(f) => f,
        Err(_) => return Ok(()), // no /dev/full on this system
    };
    let target = dir.join("full.wav");
    let mut file = RecordingFile {
        file: BufWriter::new(full),
        part: part_path(&target),
        target: target.clone(),
        data_bytes: 0,
        scratch: Vec::new(),
    };
    // 8 KiB are buffered; writing more than that must hit ENOSPC.
    let failed = (0..100).any(|_| file.append(&[7; 160]).is_err());
    assert!(failed, "writes to a full disk must fail");
    assert!(file.finish().is_err());
    assert!(!target.exists());
    Ok(())
}

#[test]
fn the_recorder_reports_saved_only_after_a_durable_finish() -> io::Result<()> {
    let dir = scratch_dir("thread");
    let (jobs_tx, jobs) = mpsc::channel();
    let (events_tx, events) = mpsc::channel();
    let sink: EventSink = Arc::new(move |e| {
        let _ = events_tx.send(e);
    });
    let thread_dir = dir.to_path_buf();
    let thread = std::thread::spawn(move || run_recorder(jobs, sink, thread_dir));
    let finish = |name: &str, keep: bool| -> io::Result<RecorderJob> {
        let mut file = RecordingFile::create(&dir, name)?;
        file.append(&[5; 160])?;
        Ok(RecorderJob::Finish {
            leg: LegId(1),
            name: name.into(),
            file,
            duration_ms: 20,
            end: RecordingEnd::Key,
            keep,
        })
    };
    let kept = finish("kept.wav", true)?;
    let dropped = finish("dropped.wav", false)?;
    // The part vanishes before finishing (as if deleted by hand): the rename fails.
    let broken = finish("broken.wav", true)?;
    fs::remove_file(dir.join("broken.wav.part"))?;
    for job in [
        kept,
        dropped,
        broken,
        RecorderJob::Discard {
            name: "kept.wav".into(),
        },
    ] {
        assert!(jobs_tx.send(job).is_ok());
    }
    assert!(jobs_tx.send(RecorderJob::Stop).is_ok());
    assert!(thread.join().is_ok());
    let saved: Vec<(String, bool)> = events
        .try_iter()
        .filter_map(|e| match e {
            MediaEvent::RecordingFinished { name, saved, .. } => Some((name, saved)),
            _ => None,
        })
        .collect();
    assert_eq!(
        saved,
        vec![
            ("kept.wav".to_string(), true),
            ("dropped.wav".to_string(), false),
            ("broken.wav".to_string(), false)
        ]
    );
    // Discarded after saving; the dropped and broken takes left nothing behind.
    let left: Vec<_> = fs::read_dir(&dir)?
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert!(left.is_empty(), "{left:?}");
    Ok(())
}
