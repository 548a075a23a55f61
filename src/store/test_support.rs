//! Test helpers shared by the store and web tests: a real folder per test, removed afterwards,
//! so every test runs against a real SQLite file and none sees another's data.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use crate::engine::CallRecord;

static NEXT_DIR: AtomicU32 = AtomicU32::new(0);

/// A unique, freshly created folder under the system temp dir, deleted (with its contents) on drop.
pub(crate) struct TempDir {
    path: PathBuf,
}

impl TempDir {
    pub(crate) fn new(label: &str) -> Self {
        let serial = NEXT_DIR.fetch_add(1, Ordering::Relaxed);
        let name = format!(
            "pasokh-test-{label}-{}-{serial}-{}",
            std::process::id(),
            super::unix_ms_now()
        );
        let path = std::env::temp_dir().join(name);
        // A failure here surfaces as a clear error in the test's first file operation.
        let _ = std::fs::create_dir_all(&path);
        Self { path }
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        // Ignored on purpose: a leftover temp folder must not turn a passing test into a panic.
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// A finished call with recognisable fields.
pub(crate) fn call(call_id: &str, started_at: i64) -> CallRecord {
    CallRecord {
        call_ref: format!("ref-{call_id}"),
        call_id: call_id.to_string(),
        from: "09121234567".to_string(),
        to: "137".to_string(),
        started_at,
        answered_at: Some(started_at + 1_000),
        ended_at: Some(started_at + 61_000),
        disposition: "completed".to_string(),
        hangup_by: "caller".to_string(),
        dtmf: "4".to_string(),
    }
}
