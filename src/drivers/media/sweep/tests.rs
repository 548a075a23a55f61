use super::super::recorder::RecordingFile;
use super::super::test_support::scratch_dir;
use super::*;

fn samples_of(path: &Path) -> Vec<i16> {
    match hound::WavReader::open(path) {
        Ok(reader) => reader.into_samples::<i16>().flatten().collect(),
        Err(e) => panic!("{} unreadable after repair: {e}", path.display()),
    }
}

#[test]
fn a_take_cut_mid_write_is_repaired_to_its_last_whole_sample() -> io::Result<()> {
    let dir = scratch_dir("killed");
    // What a kill -9 leaves: the recorder's own file, header still saying "no data", and the
    // last sample torn in half.
    let mut file = RecordingFile::create(&dir, "2026/11/23/cut.wav")?;
    let audio: Vec<i16> = (0..8000).map(|i| (i % 300) as i16).collect();
    for chunk in audio.chunks(160) {
        file.append(chunk)?;
    }
    drop(file); // flushed, never finished
    let part = dir.join("2026/11/23/cut.wav.part");
    let mut bytes = fs::read(&part)?;
    bytes.push(0x55);
    fs::write(&part, &bytes)?;

    let report = sweep_recordings(&dir);
    assert_eq!(
        report.repaired,
        vec![RepairedRecording {
            name: "2026/11/23/cut.wav".into(),
            duration_ms: 1000
        }]
    );
    assert!(report.quarantined.is_empty() && report.failed.is_empty());
    assert!(!part.exists());
    let final_path = dir.join("2026/11/23/cut.wav");
    assert_eq!(fs::metadata(&final_path)?.len(), 44 + 16000);
    assert_eq!(samples_of(&final_path), audio);
    // A second sweep finds nothing to do.
    assert_eq!(sweep_recordings(&dir), SweepReport::default());
    Ok(())
}

#[test]
fn files_that_cannot_be_repaired_are_quarantined_never_deleted() -> io::Result<()> {
    let dir = scratch_dir("quarantine");
    fs::create_dir_all(dir.join("a"))?;
    fs::write(dir.join("a/torn-header.wav.part"), &wav::header(0)[..20])?;
    fs::write(dir.join("header-only.wav.part"), wav::header(0))?;
    fs::write(dir.join("foreign.wav.part"), vec![b'x'; 500])?;
    // The final name exists already: never overwrite a saved recording.
    fs::write(dir.join("taken.wav"), b"saved")?;
    let mut taken = wav::header(0).to_vec();
    taken.extend_from_slice(&[0; 320]);
    fs::write(dir.join("taken.wav.part"), &taken)?;

    let report = sweep_recordings(&dir);
    assert!(report.repaired.is_empty() && report.failed.is_empty());
    let mut moved: Vec<String> = report
        .quarantined
        .iter()
        .map(|p| relative_name(&dir, p))
        .collect();
    moved.sort();
    assert_eq!(
        moved,
        vec![
            "quarantine/a/torn-header.wav.part",
            "quarantine/foreign.wav.part",
            "quarantine/header-only.wav.part",
            "quarantine/taken.wav.part"
        ]
    );
    assert_eq!(fs::read(dir.join("taken.wav"))?, b"saved");
    // The quarantine folder itself is not swept again, and a new file of the same name is kept
    // beside the first one rather than over it.
    fs::write(dir.join("foreign.wav.part"), b"again")?;
    let again = sweep_recordings(&dir);
    assert_eq!(
        again.quarantined,
        vec![dir.join("quarantine/foreign.wav.part.1")]
    );
    Ok(())
}

#[test]
fn a_missing_folder_is_an_empty_report() {
    let dir = scratch_dir("missing").join("nope");
    assert_eq!(sweep_recordings(&dir), SweepReport::default());
}
