//! One engine per data folder: `pasokh serve` holds an exclusive lock on `<data>/pasokh.lock`
//! for as long as it runs.
//!
//! Why: two engines on one folder would share one SQLite file (which copes) but also one
//! recordings folder, whose start-up recovery would take the other engine's takes in progress
//! for a crash's leftovers, and both would answer on whatever ports they managed to bind. The
//! lock is `flock(2)`: the kernel drops it when the process dies, however it dies, so a
//! `kill -9` never leaves a stale lock behind to clear by hand.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

use super::error::CliError;

/// The lock file inside the data folder.
pub const LOCK_FILE: &str = "pasokh.lock";

/// Held for the engine's lifetime; dropping it (or the process ending) releases the folder.
#[derive(Debug)]
pub struct DataLock {
    _file: File,
}

/// Takes the data folder's lock, or says who holds it.
pub fn lock_data_folder(data: &Path) -> Result<DataLock, CliError> {
    let failed = |detail: String| CliError::DataLock {
        path: data.to_path_buf(),
        detail,
    };
    std::fs::create_dir_all(data)
        .map_err(|error| failed(format!("cannot create the folder: {error}")))?;
    let path: PathBuf = data.join(LOCK_FILE);
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|error| failed(format!("cannot open {}: {error}", path.display())))?;
    // SAFETY: flock only reads the descriptor, which `file` keeps open.
    let taken = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0;
    if !taken {
        let mut holder = String::new();
        let _ = file.read_to_string(&mut holder);
        let holder = holder.trim();
        return Err(CliError::DataFolderInUse {
            path: data.to_path_buf(),
            pid: holder.parse().ok(),
        });
    }
    let _ = file.set_len(0);
    let _ = file.seek(SeekFrom::Start(0));
    let _ = write!(file, "{}", std::process::id());
    let _ = file.sync_all();
    Ok(DataLock { _file: file })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_support::TempDir;

    #[test]
    fn a_second_engine_on_the_same_folder_is_refused_until_the_first_stops() {
        let dir = TempDir::new("data-lock");
        let first = lock_data_folder(dir.path());
        assert!(first.is_ok(), "{first:?}");
        match lock_data_folder(dir.path()) {
            Err(CliError::DataFolderInUse { pid, .. }) => {
                assert_eq!(pid, Some(std::process::id()), "the holder's pid is named");
            }
            other => panic!("a second lock was not refused: {other:?}"),
        }
        let said = lock_data_folder(dir.path())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            said.contains("another pasokh") && said.contains("--data"),
            "{said}"
        );
        drop(first);
        assert!(
            lock_data_folder(dir.path()).is_ok(),
            "released when dropped"
        );
    }
}
