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
//! - Finishing happens on its own thread: an `fsync` can take tens of milliseconds, and the media
//!   worker that owns a thousand legs must not miss their 20 ms deadlines for it. The worker only
//!   appends 320 bytes per tick to an 8 KiB buffer. The same thread deletes discarded takes, so a
//!   discard can never overtake the save it undoes.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Seek, SeekFrom, Write};
use std::path::{Component, Path, PathBuf};
use std::sync::mpsc::Receiver;

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

/// Work for the recorder thread.
pub enum RecorderJob {
    Finish {
        leg: LegId,
        name: String,
        file: RecordingFile,
        duration_ms: u64,
        end: RecordingEnd,
        keep: bool,
    },
    Discard {
        name: String,
    },
    Stop,
}

/// The recorder thread: finishes or discards files in order, then reports.
pub fn run_recorder(jobs: Receiver<RecorderJob>, events: EventSink, dir: PathBuf) {
    while let Ok(job) = jobs.recv() {
        match job {
            RecorderJob::Finish {
                leg,
                name,
                file,
                duration_ms,
                end,
                keep,
            } => {
                let saved = if keep {
                    finish(file, &name)
                } else {
                    discard_part(file, &name);
                    false
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
