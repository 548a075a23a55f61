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

/// The recorder thread on `dir`, its jobs' sender, its events' receiver and its handle.
fn recorder_thread(
    dir: &Path,
) -> (
    mpsc::Sender<RecorderJob>,
    mpsc::Receiver<MediaEvent>,
    std::thread::JoinHandle<()>,
) {
    let (jobs_tx, jobs) = mpsc::channel();
    let (events_tx, events) = mpsc::channel();
    let sink: EventSink = Arc::new(move |e| {
        let _ = events_tx.send(e);
    });
    let thread_dir = dir.to_path_buf();
    let thread = std::thread::spawn(move || run_recorder(jobs, sink, thread_dir));
    (jobs_tx, events, thread)
}

/// The jobs of one whole take: opened, 160 samples, finished.
fn take_jobs(take: u64, name: &str, keep: bool, failed: &Arc<AtomicBool>) -> Vec<RecorderJob> {
    vec![
        RecorderJob::Open {
            take,
            name: name.into(),
            failed: Arc::clone(failed),
        },
        RecorderJob::Append {
            take,
            samples: vec![5; 160],
        },
        RecorderJob::Finish {
            take,
            leg: LegId(1),
            name: name.into(),
            duration_ms: 20,
            end: RecordingEnd::Key,
            keep,
        },
    ]
}

fn saved_of(events: &mpsc::Receiver<MediaEvent>) -> Vec<(String, bool)> {
    events
        .try_iter()
        .filter_map(|e| match e {
            MediaEvent::RecordingFinished { name, saved, .. } => Some((name, saved)),
            _ => None,
        })
        .collect()
}

#[test]
fn the_recorder_creates_writes_and_reports_saved_only_after_a_durable_finish() -> io::Result<()> {
    let dir = scratch_dir("thread");
    let (jobs, events, thread) = recorder_thread(&dir);
    let flags: Vec<Arc<AtomicBool>> = (0..3).map(|_| Arc::new(AtomicBool::new(false))).collect();
    for job in take_jobs(next_take(), "kept.wav", true, &flags[0])
        .into_iter()
        .chain(take_jobs(next_take(), "dropped.wav", false, &flags[1]))
    {
        assert!(jobs.send(job).is_ok());
    }
    // A take whose folder cannot be made (a file is in the way): never saved, its flag raised.
    fs::write(dir.join("blocked"), b"a file, not a folder")?;
    for job in take_jobs(next_take(), "blocked/take.wav", true, &flags[2]) {
        assert!(jobs.send(job).is_ok());
    }
    assert!(jobs
        .send(RecorderJob::Discard {
            name: "dropped.wav".into()
        })
        .is_ok());
    assert!(jobs.send(RecorderJob::Stop).is_ok());
    assert!(thread.join().is_ok());
    assert_eq!(
        saved_of(&events),
        vec![
            ("kept.wav".to_string(), true),
            ("dropped.wav".to_string(), false),
            ("blocked/take.wav".to_string(), false)
        ]
    );
    let flags: Vec<bool> = flags.iter().map(|f| f.load(Ordering::Relaxed)).collect();
    assert_eq!(
        flags,
        [false, false, true],
        "only the failed take's worker is told"
    );
    let (_, samples) = read_wav(&dir.join("kept.wav"));
    assert_eq!(samples, vec![5; 160]);
    let mut left: Vec<String> = fs::read_dir(&dir)?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["blocked", "kept.wav"], "no .part left behind");
    Ok(())
}

#[test]
fn a_take_whose_part_vanished_is_not_saved_and_a_discard_follows_its_save() -> io::Result<()> {
    let dir = scratch_dir("vanished");
    let (jobs, events, thread) = recorder_thread(&dir);
    let flag = Arc::new(AtomicBool::new(false));
    let mut broken = take_jobs(next_take(), "broken.wav", true, &flag);
    let finish = broken.pop();
    for job in broken {
        assert!(jobs.send(job).is_ok());
    }
    // Wait until the part exists, then delete it by hand: the finish's rename fails.
    let part = dir.join("broken.wav.part");
    for _ in 0..200 {
        if part.exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    fs::remove_file(&part)?;
    for job in finish
        .into_iter()
        .chain(take_jobs(next_take(), "kept.wav", true, &flag))
    {
        assert!(jobs.send(job).is_ok());
    }
    assert!(jobs
        .send(RecorderJob::Discard {
            name: "kept.wav".into()
        })
        .is_ok());
    assert!(jobs.send(RecorderJob::Stop).is_ok());
    assert!(thread.join().is_ok());
    assert_eq!(
        saved_of(&events),
        vec![
            ("broken.wav".to_string(), false),
            ("kept.wav".to_string(), true)
        ]
    );
    let left: Vec<_> = fs::read_dir(&dir)?
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert!(
        left.is_empty(),
        "discarded after saving, nothing else left: {left:?}"
    );
    Ok(())
}
