//! A disk that fills during one filing and then clears: nothing may be reported saved that is
//! not committed, and the store must come back by itself once space returns.
//!
//! The fault is real, not simulated: the data folder is a small tmpfs filled to the last byte
//! with a ballast file. Mounting needs root (the test suite runs as root for its raw-socket media
//! tests); without it the test fails and says so, it never skips.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::store::test_support::TempDir;
use crate::store::*;

/// A complaint filed whole, as at the end of an IVR call.
fn report(call_id: &str, at: i64) -> crate::engine::NewMessage {
    crate::engine::NewMessage {
        call_ref: call_id.into(),
        call_id: call_id.into(),
        line: "1888".into(),
        kind: "complaint".into(),
        district: Some(6),
        category: None,
        case_number: None,
        caller: "09121234567".into(),
        recording: Some(format!("2026/12/07/{call_id}-take1-0.wav")),
        created_at: at,
        stage: crate::engine::FilingStage::Whole,
    }
}

/// A tmpfs mounted for one test, unmounted (with everything on it) when dropped.
struct SmallDisk {
    mount_point: PathBuf,
}

impl SmallDisk {
    fn mount(at: &Path, size: &str) -> SmallDisk {
        assert!(
            std::fs::create_dir_all(at).is_ok(),
            "create {}",
            at.display()
        );
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .status();
        assert!(
            matches!(status, Ok(s) if s.success()),
            "this test mounts a {size} tmpfs to fill a disk for real and needs root \
             (CAP_SYS_ADMIN): mount failed with {status:?}"
        );
        SmallDisk {
            mount_point: at.to_path_buf(),
        }
    }

    /// Writes a ballast file until the disk refuses another byte; returns its path.
    fn fill(&self) -> PathBuf {
        let ballast = self.mount_point.join("ballast");
        let Ok(mut file) = std::fs::File::create(&ballast) else {
            panic!("cannot create {}", ballast.display());
        };
        let chunk = vec![0u8; 4096];
        while file.write_all(&chunk).is_ok() {}
        // The last partial page: byte by byte until even one byte is refused.
        while file.write_all(&[0]).is_ok() {}
        let _ = file.sync_all();
        ballast
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(&self.mount_point)
            .status();
    }
}

#[tokio::test]
async fn a_full_disk_never_reports_saved_and_filing_resumes_when_space_returns(
) -> Result<(), StoreError> {
    let dir = TempDir::new("disk-full");
    let disk = SmallDisk::mount(&dir.path().join("disk"), "4m");
    let data = disk.mount_point.clone();
    let store = Store::open(&data).await?;
    let Some(before) = store.file_message(&report("before", 1)).await? else {
        panic!("a report filed on a healthy disk gets a code");
    };

    // The disk fills during the next callers' filings: every one of them must be an error (the
    // IVR then says the message could not be taken), never a code.
    let ballast = disk.fill();
    for n in 0..6 {
        let outcome = store
            .file_message(&report(&format!("full-{n}"), 10 + n))
            .await;
        assert!(
            outcome.is_err(),
            "filing {n} on a full disk was reported saved: {outcome:?}"
        );
    }

    // Space comes back: the very next caller is filed, durably and visibly.
    assert!(std::fs::remove_file(&ballast).is_ok());
    let mut after = Vec::new();
    for n in 0..4 {
        let Some(code) = store
            .file_message(&report(&format!("after-{n}"), 100 + n))
            .await?
        else {
            panic!("a report filed after space returned gets a code");
        };
        after.push(code);
    }

    // Another process's view (a second pool on the same file) sees every acknowledged code: a
    // commit that returned is not stuck inside a transaction some connection still holds.
    let other = Store::open(&data).await?;
    for code in std::iter::once(&before).chain(&after) {
        assert!(
            other.message(code).await?.is_some(),
            "{code} was acknowledged but another connection cannot see it"
        );
    }
    // And the other writer is not locked out.
    assert!(other.file_message(&report("other", 200)).await?.is_some());
    other.close().await;
    store.close().await;

    // After a restart everything acknowledged is there, and nothing that was refused.
    let reopened = Store::open(&data).await?;
    for code in std::iter::once(&before).chain(&after) {
        assert!(
            reopened.message(code).await?.is_some(),
            "{code} lost over a restart"
        );
    }
    let all = reopened
        .list_messages(&MessageFilter {
            limit: 100,
            ..MessageFilter::default()
        })
        .await?;
    assert!(
        all.iter().all(|m| !m.call_id.starts_with("full-")),
        "a refused filing was stored"
    );
    assert_eq!(all.len(), 1 + after.len() + 1);
    reopened.close().await;
    Ok(())
}
