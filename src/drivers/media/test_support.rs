//! Helpers for the driver tests: scratch folders and bounded waits.

use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use crate::media::api::{LegId, LegSetup, MediaEvent};
use crate::media::g711::G711;

/// A fresh, empty folder under the system temp folder, unique per test and process; removed
/// when dropped.
pub struct ScratchDir(PathBuf);

impl Deref for ScratchDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for ScratchDir {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn scratch_dir(name: &str) -> ScratchDir {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("pasokh-media-{}-{n}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    if let Err(e) = std::fs::create_dir_all(&dir) {
        panic!("cannot create {}: {e}", dir.display());
    }
    ScratchDir(dir)
}

/// Waits (at most `limit`) for the first event matching `wanted`; other events are returned too.
pub fn wait_for(
    events: &Receiver<MediaEvent>,
    limit: Duration,
    wanted: impl Fn(&MediaEvent) -> bool,
) -> (Option<MediaEvent>, Vec<MediaEvent>) {
    let deadline = Instant::now() + limit;
    let mut others = Vec::new();
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match events.recv_timeout(left) {
            Ok(event) if wanted(&event) => return (Some(event), others),
            Ok(event) => others.push(event),
            Err(_) => break,
        }
    }
    (None, others)
}

/// A leg on an OS-chosen port with no peer address yet (PCMU, sending and expecting RTP).
pub fn unaddressed_setup(leg: LegId) -> LegSetup {
    LegSetup {
        leg,
        local_port: 0,
        remote: None,
        codec: G711::Pcmu,
        payload_type: 0,
        telephone_event_pt: None,
        sending: true,
        peer_sends: true,
    }
}
