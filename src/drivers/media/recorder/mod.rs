//! Durable recordings: a WAV file streamed to `<name>.part` while the caller speaks, and a
//! recorder thread that finishes it (header, fsync, rename, fsync of the folder) before anyone is
//! told it is saved.
//!
//! Why it is shaped so:
//! - docs/architecture.md, "Durability of a recording": the caller hears "your message is
//!   saved" only after the bytes are on disk under their final name. So
//!   `RecordingFinished { saved: true }` is sent only after `fsync(file)`, `rename`,
//!   `fsync(folder)` all succeeded; any error (disk full, permissions) is logged, the partial
//!   file removed, and `saved: false` reported.
//! - The `.part` lives in the same folder as the final file so the rename is atomic, and a crash
//!   leaves a `.part` that the start-up sweep repairs or quarantines (`sweep/`).
//! - Every file operation of a take happens on this thread: creating it, writing it, finishing
//!   it. A media worker runs the 20 ms clock of a thousand legs at real-time priority, and a
//!   single `open` or `write` can wait hundreds of milliseconds when the disk is busy (the kernel
//!   throttles writers under heavy write-back: a worker was seen skipping 22 frames of every leg
//!   it owned). The worker only collects a take's frames and hands them over every half second
//!   (`Append`); jobs are done in order, so a take's samples all precede its `Finish`, and a
//!   discard can never overtake the save it undoes.
//! - A take that cannot be created or written (disk full) is marked failed on a flag the worker
//!   reads each tick: the worker ends the take at once, and its `Finish` reports `saved: false`.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Seek, SeekFrom, Write};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::Receiver;
use std::sync::Arc;

use crate::media::api::{LegId, MediaEvent, RecordingEnd};
use crate::media::wav;

use super::EventSink;

/// Suffix of a recording being written.
pub const PART_SUFFIX: &str = ".part";

/// `dir/name` if `name` is a plain relative path (no `..`, not absolute, not empty): names come
/// from the engine and the web layer, and must never escape the recordings folder.
pub fn recording_path(dir: &Path, name: &str) -> Option<PathBuf> {
    let relative = Path::new(name);
    let mut any = false;
    for component in relative.components() {
        match component {
            Component::Normal(_) => any = true,
            _ => return None,
        }
    }
    (any && !name.ends_with(PART_SUFFIX)).then(|| dir.join(relative))
}

/// The temporary name of a recording being written.
pub fn part_path(target: &Path) -> PathBuf {
    let mut name = target.as_os_str().to_owned();
    name.push(PART_SUFFIX);
    PathBuf::from(name)
}

/// Fsyncs a folder, so a rename or unlink inside it survives a power cut.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// A recording being written: 8 kHz mono 16-bit WAV with a placeholder header.
pub struct RecordingFile {
    file: BufWriter<File>,
    part: PathBuf,
    target: PathBuf,
    data_bytes: u64,
    scratch: Vec<u8>,
}

impl RecordingFile {
    /// Creates `dir/name.part` (and its parent folders).
    pub fn create(dir: &Path, name: &str) -> io::Result<Self> {
        let target = recording_path(dir, name).ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, "not a plain relative name")
        })?;
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent)?;
        }
        let part = part_path(&target);
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&part)?;
        let mut file = BufWriter::new(file);
        file.write_all(&wav::header(0))?;
        Ok(RecordingFile {
            file,
            part,
            target,
            data_bytes: 0,
            scratch: Vec::with_capacity(320),
        })
    }

    pub fn append(&mut self, samples: &[i16]) -> io::Result<()> {
        self.scratch.clear();
        wav::samples_to_bytes(samples, &mut self.scratch);
        self.file.write_all(&self.scratch)?;
        self.data_bytes += self.scratch.len() as u64;
        Ok(())
    }

    #[cfg(test)]
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Header, fsync, rename, fsync of the folder. On error the partial file is removed.
    pub fn finish(self) -> io::Result<u64> {
        let (part, target, data_bytes) = (self.part.clone(), self.target.clone(), self.data_bytes);
        let result = self.finish_inner();
        if result.is_err() {
            remove_quietly(&part);
            remove_quietly(&target);
        }
        result.map(|()| data_bytes)
    }

    fn finish_inner(self) -> io::Result<()> {
        let mut file = self.file.into_inner().map_err(|e| e.into_error())?;
        file.seek(SeekFrom::Start(0))?;
        file.write_all(&wav::header(self.data_bytes))?;
        file.sync_all()?;
        drop(file);
        fs::rename(&self.part, &self.target)?;
        sync_dir(self.target.parent().unwrap_or(Path::new(".")))
    }

    /// Drops the take: the partial file is deleted.
    pub fn discard(self) -> io::Result<()> {
        drop(self.file);
        fs::remove_file(&self.part)
    }
}

fn remove_quietly(path: &Path) {
    if let Err(e) = fs::remove_file(path) {
        if e.kind() != io::ErrorKind::NotFound {
            tracing::warn!(path = %path.display(), error = %e, "could not remove a failed recording");
        }
    }
}

/// A take's number, unique in the process (all workers share the recorder thread).
pub fn next_take() -> u64 {
    static LAST: AtomicU64 = AtomicU64::new(0);
    LAST.fetch_add(1, Ordering::Relaxed) + 1
}

/// Work for the recorder thread, done in the order sent.
pub enum RecorderJob {
    /// Create take `take` as `name` (`<name>.part` until it is finished). `failed` is raised if
    /// it cannot be created or later written.
    Open {
        take: u64,
        name: String,
        failed: Arc<AtomicBool>,
    },
    /// The take's next samples.
    Append {
        take: u64,
        samples: Vec<i16>,
    },
    /// The take ended: made durable under its name (`keep`) or dropped, then reported.
    Finish {
        take: u64,
        leg: LegId,
        name: String,
        duration_ms: u64,
        end: RecordingEnd,
        keep: bool,
    },
    Discard {
        name: String,
    },
    Stop,
}

/// A take the recorder thread holds: its file, or none once it failed.
struct Take {
    file: Option<RecordingFile>,
    failed: Arc<AtomicBool>,
}

impl Take {
    fn fail(&mut self, name: &str, error: &io::Error, what: &str) {
        tracing::error!(name, error = %error, "recording {what} failed (disk full?): ending the take");
        self.failed.store(true, Ordering::Relaxed);
        if let Some(file) = self.file.take() {
            discard_part(file, name);
        }
    }
}

/// The recorder thread: creates, writes and finishes takes in order, and reports each end.
pub fn run_recorder(jobs: Receiver<RecorderJob>, events: EventSink, dir: PathBuf) {
    let mut takes: HashMap<u64, (String, Take)> = HashMap::new();
    while let Ok(job) = jobs.recv() {
        match job {
            RecorderJob::Open { take, name, failed } => {
                let mut held = Take { file: None, failed };
                match RecordingFile::create(&dir, &name) {
                    Ok(file) => held.file = Some(file),
                    Err(error) => held.fail(&name, &error, "creation"),
                }
                takes.insert(take, (name, held));
            }
            RecorderJob::Append { take, samples } => {
                let Some((name, held)) = takes.get_mut(&take) else {
                    continue;
                };
                if let Some(Err(error)) = held.file.as_mut().map(|f| f.append(&samples)) {
                    held.fail(name, &error, "write");
                }
            }
            RecorderJob::Finish {
                take,
                leg,
                name,
                duration_ms,
                end,
                keep,
            } => {
                let file = takes.remove(&take).and_then(|(_, held)| held.file);
                let saved = match file {
                    Some(file) if keep => finish(file, &name),
                    Some(file) => {
                        discard_part(file, &name);
                        false
                    }
                    None => false,
                };
                events(MediaEvent::RecordingFinished {
                    leg,
                    name,
                    duration_ms,
                    end,
                    saved,
                });
            }
            RecorderJob::Discard { name } => discard_saved(&dir, &name),
            RecorderJob::Stop => break,
        }
    }
}

/// Finishes a kept take; true only when it is durably stored.
fn finish(file: RecordingFile, name: &str) -> bool {
    match file.finish() {
        Ok(bytes) => {
            tracing::info!(name, ms = wav::duration_ms(bytes), "recording saved");
            true
        }
        Err(e) => {
            tracing::error!(name, error = %e, "recording NOT saved (disk full or I/O error)");
            false
        }
    }
}

/// Deletes a take the engine no longer wants (already saved under its final name).
fn discard_saved(dir: &Path, name: &str) {
    let Some(path) = recording_path(dir, name) else {
        tracing::warn!(name, "discard: not a plain relative name");
        return;
    };
    match fs::remove_file(&path) {
        Ok(()) => {
            if let Err(e) = sync_dir(path.parent().unwrap_or(dir)) {
                tracing::warn!(name, error = %e, "discard: folder fsync failed");
            }
            tracing::info!(name, "recording discarded");
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => tracing::error!(name, error = %e, "discard failed"),
    }
}

/// Drops a take not kept (`StopRecording { keep: false }`): no fsync is needed for a file nobody
/// was promised; a crash before the unlink leaves a `.part` the sweep deals with.
fn discard_part(file: RecordingFile, name: &str) {
    if let Err(e) = file.discard() {
        tracing::warn!(name, error = %e, "could not delete a discarded take");
    }
}

#[cfg(test)]
mod tests;
