//! The start-up sweep of the recordings folder: every `.part` left by a crash is either repaired
//! and given its final name, or moved to `quarantine/`. Never a silent orphan.
//!
//! Why it is shaped so: a `.part` exists only if the process died between creating a take and
//! renaming it (a kill -9, a power cut). If it starts with our header, every complete sample in it
//! is real audio, and the sizes can be rebuilt from the file length (`media::wav`); the caller may
//! have said something that matters, so it is kept and reported for the engine to file. Anything
//! else (torn inside the header, not our format, the final name already taken) is moved aside for
//! a person to look at, and logged. Run it before the media runtime starts.

use std::fs::{self, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::media::wav;

use super::recorder::{sync_dir, PART_SUFFIX};

/// Subfolder of the recordings folder where unrepairable files are moved.
pub const QUARANTINE_DIR: &str = "quarantine";
/// Folder nesting followed (names like `2026/11/23/x.wav` need three).
const MAX_DEPTH: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepairedRecording {
    /// The final name, relative to the recordings folder, `/`-separated (as in `RecordSpec`).
    pub name: String,
    pub duration_ms: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SweepReport {
    pub repaired: Vec<RepairedRecording>,
    /// Where each quarantined file now is.
    pub quarantined: Vec<PathBuf>,
    /// Files that could be neither repaired nor moved, with the reason.
    pub failed: Vec<(PathBuf, String)>,
}

enum Verdict {
    Repaired(RepairedRecording),
    Quarantine(&'static str),
}

/// Sweeps `dir` recursively (a missing folder is an empty report).
pub fn sweep_recordings(dir: &Path) -> SweepReport {
    let mut parts = Vec::new();
    collect_parts(dir, dir, MAX_DEPTH, &mut parts);
    parts.sort();
    let mut report = SweepReport::default();
    for part in parts {
        match repair(dir, &part) {
            Ok(Verdict::Repaired(repaired)) => {
                tracing::warn!(
                    name = repaired.name,
                    ms = repaired.duration_ms,
                    "unfinished recording repaired after a crash"
                );
                report.repaired.push(repaired);
            }
            Ok(Verdict::Quarantine(reason)) => quarantine(dir, &part, reason, &mut report),
            Err(e) => quarantine(dir, &part, &e.to_string(), &mut report),
        }
    }
    report
}

fn collect_parts(root: &Path, dir: &Path, depth: usize, out: &mut Vec<PathBuf>) {
    let is_part = |path: &Path| path.to_str().is_some_and(|p| p.ends_with(PART_SUFFIX));
    collect_files(root, dir, depth, &is_part, out);
}

/// Every file below `dir` (quarantine left out) that `keep` accepts.
fn collect_files(
    root: &Path,
    dir: &Path,
    depth: usize,
    keep: &dyn Fn(&Path) -> bool,
    out: &mut Vec<PathBuf>,
) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if depth > 0 && path != root.join(QUARANTINE_DIR) {
                collect_files(root, &path, depth - 1, keep, out);
            }
        } else if keep(&path) {
            out.push(path);
        }
    }
}

/// The finished recordings (`.wav`) last written at or after `since`, as names relative to
/// `dir` (`2026/12/06/x.wav`), sorted. A crash can only orphan a recent one, so the start-up
/// check of recordings against the database looks at these alone, not at years of archive.
pub fn recent_recordings(dir: &Path, since: SystemTime) -> Vec<String> {
    let recent = |path: &Path| {
        path.extension().is_some_and(|e| e == "wav")
            && fs::metadata(path)
                .and_then(|m| m.modified())
                .is_ok_and(|at| at >= since)
    };
    let mut found = Vec::new();
    collect_files(dir, dir, MAX_DEPTH, &recent, &mut found);
    let mut names: Vec<String> = found.iter().map(|p| relative_name(dir, p)).collect();
    names.sort();
    names
}

fn repair(root: &Path, part: &Path) -> io::Result<Verdict> {
    let Some(target) = part
        .to_str()
        .and_then(|p| p.strip_suffix(PART_SUFFIX))
        .map(PathBuf::from)
    else {
        return Ok(Verdict::Quarantine("unexpected name"));
    };
    if target.exists() {
        return Ok(Verdict::Quarantine("the final name is already taken"));
    }
    let mut file = OpenOptions::new().read(true).write(true).open(part)?;
    let length = file.metadata()?.len();
    let mut head = [0u8; wav::HEADER_LEN];
    if file.read_exact(&mut head).is_err() || !wav::is_our_header(&head) {
        return Ok(Verdict::Quarantine("no recording header"));
    }
    let Some(data_bytes) = wav::data_bytes_for_length(length) else {
        return Ok(Verdict::Quarantine("no audio after the header"));
    };
    file.set_len(wav::HEADER_LEN as u64 + data_bytes)?;
    file.seek(SeekFrom::Start(0))?;
    file.write_all(&wav::header(data_bytes))?;
    file.sync_all()?;
    drop(file);
    fs::rename(part, &target)?;
    sync_dir(target.parent().unwrap_or(root))?;
    Ok(Verdict::Repaired(RepairedRecording {
        name: relative_name(root, &target),
        duration_ms: wav::duration_ms(data_bytes),
    }))
}

fn quarantine(root: &Path, part: &Path, reason: &str, report: &mut SweepReport) {
    match move_to_quarantine(root, part) {
        Ok(dest) => {
            tracing::error!(file = %part.display(), to = %dest.display(), reason,
                "unrepairable recording quarantined");
            report.quarantined.push(dest);
        }
        Err(e) => {
            tracing::error!(file = %part.display(), reason, error = %e,
                "unrepairable recording could not be quarantined");
            report
                .failed
                .push((part.to_path_buf(), format!("{reason}; {e}")));
        }
    }
}

/// Moves `part` to `root/quarantine/<same relative path>`, never overwriting.
fn move_to_quarantine(root: &Path, part: &Path) -> io::Result<PathBuf> {
    let relative = part.strip_prefix(root).unwrap_or(part);
    let base = root.join(QUARANTINE_DIR).join(relative);
    let mut dest = base.clone();
    let mut n = 1;
    while dest.exists() {
        let mut name = base.clone().into_os_string();
        name.push(format!(".{n}"));
        dest = PathBuf::from(name);
        n += 1;
    }
    let parent = dest.parent().unwrap_or(root);
    fs::create_dir_all(parent)?;
    fs::rename(part, &dest)?;
    sync_dir(parent)?;
    sync_dir(part.parent().unwrap_or(root))?;
    Ok(dest)
}

fn relative_name(root: &Path, path: &Path) -> String {
    let relative = path.strip_prefix(root).unwrap_or(path);
    relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests;
