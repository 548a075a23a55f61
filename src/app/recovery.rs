//! Start-up recovery of recordings a crash (power loss, `kill -9`) left without a message: the
//! media sweep repairs the WAV headers of takes cut off mid-write, and a take that was saved but
//! whose message row never got written (the crash fell between the two) is found by comparing
//! the recent files with the database. Each is filed as a message for the screeners to hear, so
//! no voice message is ever a silent orphan.

use std::path::Path;
use std::time::{Duration, SystemTime};

use crate::drivers::media::{recent_recordings, SweepReport};
use crate::engine::{is_reply_take, NewMessage};
use crate::store::Store;

/// Files written this recently are checked against the database at start-up.
const RECENT_FILES: Duration = Duration::from_secs(48 * 3600);
/// Messages filed this recently are searched for them (a take is written after its call's
/// message may have been opened, and a conversation lasts at most 4 h).
const RECENT_MESSAGES: Duration = Duration::from_secs(72 * 3600);

pub async fn file_repaired(store: &Store, report: SweepReport) {
    for bad in &report.quarantined {
        tracing::warn!(file = %bad.display(), "unreadable recording moved to quarantine");
    }
    for (path, error) in &report.failed {
        tracing::error!(file = %path.display(), %error, "recording could not be checked");
    }
    for repaired in report.repaired {
        if is_reply_take(&repaired.name) {
            // A reply cut off mid-write was never sent: the manager did not hear "sent".
            continue; // `file_orphans` removes it if no message names it
        }
        tracing::warn!(name = %repaired.name, duration_ms = repaired.duration_ms,
            "recording repaired after a crash: filing it for screening");
        file_recovered(store, &repaired.name).await;
    }
}

/// Deletes a reply file that no message names. A reply is attached to its message only after
/// its file is durable, and the manager hears "sent" only after that: a file without its row is
/// one the manager was never told was sent, so keeping it would only leave a recording of a
/// manager's voice that nobody can find or is allowed to hear.
async fn remove_unsent_reply(store: &Store, recordings: &Path, name: &str) {
    match store.message_of_recording(name).await {
        Ok(Some(_)) => {}
        Ok(None) => {
            let path = recordings.join(name);
            match std::fs::remove_file(&path) {
                Ok(()) => {
                    tracing::warn!(%name, "reply without its message after a crash: removed (it was never sent)")
                }
                Err(error) => tracing::error!(%name, %error, "unsent reply could not be removed"),
            }
        }
        Err(error) => tracing::error!(%name, %error, "reply not checked against the messages"),
    }
}

/// Files every recent recording that no message refers to. Run after `file_repaired`.
pub async fn file_orphans(store: &Store, recordings: &Path) {
    let now = SystemTime::now();
    let files = recent_recordings(recordings, now - RECENT_FILES);
    if files.is_empty() {
        return;
    }
    let since_ms = crate::store::unix_ms_now() - RECENT_MESSAGES.as_millis() as i64;
    let filed = match store.recordings_filed_since(since_ms).await {
        Ok(filed) => filed,
        Err(error) => {
            tracing::error!(%error, "recordings not checked against the messages");
            return;
        }
    };
    for name in files.iter().filter(|name| !filed.contains(*name)) {
        // A reply may answer a message older than the window above: it is looked up by name.
        if is_reply_take(name) {
            remove_unsent_reply(store, recordings, name).await;
            continue;
        }
        tracing::warn!(%name, "saved recording without a message after a crash: filing it for screening");
        file_recovered(store, name).await;
    }
}

/// Files a recovered recording for screening. The engine names a take after its call
/// (`DAY/CALLREF-take1-RANDOM.wav`), so the call's record gives back the caller's number and the
/// line; a voice-message take completes the message the call had opened, if any (keeping its
/// tracking code), instead of filing a second one.
async fn file_recovered(store: &Store, name: &str) {
    // A manager's voice reply (`DAY/CALLREF-reply-RANDOM.wav`) is never a citizen's message
    // (the callers above remove an unsent one first; this keeps it so whoever calls this).
    if is_reply_take(name) {
        tracing::info!(%name, "manager's reply without a message row: not filed");
        return;
    }
    let call = match call_ref_of(name) {
        Some(call_ref) => store.call_by_ref(call_ref).await.unwrap_or_else(|error| {
            tracing::error!(%name, %error, "the recording's call could not be read");
            None
        }),
        None => None,
    };
    let is_take = name.contains("-take");
    // A take of a call whose message exists completes it; any other recording is filed whole.
    let complete = match (&call, is_take) {
        (Some(c), true) => store
            .has_message_for_call(&c.call_ref)
            .await
            .unwrap_or_else(|error| {
                tracing::error!(%name, %error, "the recording's message could not be looked for");
                false
            }),
        _ => false,
    };
    let message = NewMessage {
        call_ref: call
            .as_ref()
            .map_or_else(|| format!("recovered:{name}"), |c| c.call_ref.clone()),
        call_id: call
            .as_ref()
            .map_or_else(|| format!("recovered:{name}"), |c| c.call_id.clone()),
        line: call.as_ref().map(|c| c.to.clone()).unwrap_or_default(),
        kind: "unusable".into(),
        district: None,
        category: Some("recovered_recording".into()),
        case_number: None,
        caller: call.as_ref().map(|c| c.from.clone()).unwrap_or_default(),
        recording: Some(name.to_string()),
        created_at: crate::store::unix_ms_now(),
        stage: if complete {
            crate::engine::FilingStage::Complete
        } else {
            crate::engine::FilingStage::Whole
        },
    };
    if let Err(error) = store.file_message(&message).await {
        tracing::error!(%name, %error, "recovered recording could not be filed");
    }
}

/// The call reference at the start of an engine-made recording name, if it has one: a citizen's
/// take (`CALLREF-takeN-…`), a manager's reply (`CALLREF-reply-…`) or a conversation.
fn call_ref_of(name: &str) -> Option<&str> {
    let file = name.rsplit('/').next()?;
    let (call_ref, _) = file
        .split_once("-take")
        .or_else(|| file.split_once("-reply-"))
        .or_else(|| file.split_once("-conversation-"))?;
    (!call_ref.is_empty() && call_ref.bytes().all(|b| b.is_ascii_hexdigit())).then_some(call_ref)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_support::TempDir;

    fn message_with(recording: &str) -> NewMessage {
        NewMessage {
            call_ref: "c1".into(),
            call_id: "c1".into(),
            line: "1888".into(),
            kind: "complaint".into(),
            district: None,
            category: None,
            case_number: None,
            caller: "09120000000".into(),
            recording: Some(recording.into()),
            created_at: crate::store::unix_ms_now(),
            stage: crate::engine::FilingStage::Whole,
        }
    }

    #[tokio::test]
    async fn an_unsent_reply_is_removed_and_a_sent_one_kept_however_old_its_message(
    ) -> Result<(), Box<dyn std::error::Error>> {
        let dir = TempDir::new("recovery-replies");
        let store = Store::open(dir.path()).await?;
        let recordings = dir.path().join("recordings");
        let day = recordings.join("2026/12/07");
        std::fs::create_dir_all(&day)?;
        let names = [
            "abc123-reply-00ff.wav",
            "web-reply-0123456789abcdef.wav",
            "def456-reply-0aa0.wav",
        ];
        for name in names {
            std::fs::write(day.join(name), b"RIFF")?;
        }
        // A message filed ten days ago (outside the recent window), referred and answered now
        // with the last file.
        let mut old = message_with("2026/11/27/c1-take1-0.wav");
        old.created_at -= 10 * 24 * 3600 * 1000;
        let code = store.file_message(&old).await?.ok_or("a code")?;
        store.add_manager("501", "M", "1234", "password501").await?;
        let refer = crate::store::Screening::Refer {
            mailbox: "501".into(),
        };
        store.screen_message(&code, &refer, "screener").await?;
        let sent = format!("2026/12/07/{}", names[2]);
        store.save_reply(&code, "501", &sent, "phone").await?;

        file_orphans(&store, &recordings).await;

        assert!(!day.join(names[0]).exists(), "a phone reply never sent");
        assert!(!day.join(names[1]).exists(), "a browser reply never sent");
        assert!(day.join(names[2]).exists(), "the sent reply stays");
        let filed = store
            .list_messages(&crate::store::MessageFilter {
                limit: 100,
                ..Default::default()
            })
            .await?;
        assert_eq!(
            filed.len(),
            1,
            "no reply is ever filed as a citizen's message"
        );
        assert!(is_reply_take("x/abc-reply-1.wav") && is_reply_take("web-reply-1.wav"));
        assert!(!is_reply_take("x/abc-take1-1.wav") && !is_reply_take("x/abc-conversation-1.wav"));
        Ok(())
    }

    #[tokio::test]
    async fn a_saved_take_without_its_message_is_filed_and_a_filed_one_is_left_alone(
    ) -> Result<(), Box<dyn std::error::Error>> {
        let dir = TempDir::new("recovery-orphans");
        let store = Store::open(dir.path()).await?;
        let recordings = dir.path().join("recordings");
        let day = recordings.join("2026/12/06");
        std::fs::create_dir_all(&day)?;
        std::fs::create_dir_all(recordings.join("quarantine"))?;
        for name in ["filed.wav", "orphan.wav"] {
            std::fs::write(day.join(name), b"RIFF")?;
        }
        std::fs::write(recordings.join("quarantine/broken.wav"), b"x")?;
        store
            .file_message(&message_with("2026/12/06/filed.wav"))
            .await?;

        file_orphans(&store, &recordings).await;
        // Run twice (a second restart): nothing is filed again.
        file_orphans(&store, &recordings).await;

        let filed = store.recordings_filed_since(0).await?;
        let mut names: Vec<&String> = filed.iter().collect();
        names.sort();
        assert_eq!(names, ["2026/12/06/filed.wav", "2026/12/06/orphan.wav"]);
        let recovered = store
            .list_messages(&crate::store::MessageFilter {
                limit: 100,
                ..Default::default()
            })
            .await?
            .into_iter()
            .filter(|m| m.category.as_deref() == Some("recovered_recording"))
            .count();
        assert_eq!(recovered, 1, "the orphan, once; never the quarantined file");
        store.close().await;
        Ok(())
    }

    #[test]
    fn the_call_reference_is_read_from_engine_made_names_only() {
        assert_eq!(
            call_ref_of("2026/12/07/00c0ffee12345678-take2-0a1b2c3d.wav"),
            Some("00c0ffee12345678")
        );
        assert_eq!(
            call_ref_of("2026/12/07/00c0ffee12345678-conversation-0a1b2c3d.wav"),
            Some("00c0ffee12345678")
        );
        assert_eq!(
            call_ref_of("2026/12/07/00c0ffee12345678-reply-0a1b2c3d.wav"),
            Some("00c0ffee12345678")
        );
        assert_eq!(call_ref_of("2026/12/06/orphan.wav"), None);
        assert_eq!(call_ref_of("2026/12/06/../x-take1-0.wav"), None);
    }

    #[tokio::test]
    async fn a_recovered_take_keeps_its_callers_number_and_line(
    ) -> Result<(), Box<dyn std::error::Error>> {
        let dir = TempDir::new("recovery-caller");
        let store = Store::open(dir.path()).await?;
        let record = crate::engine::CallRecord {
            call_ref: "00c0ffee12345678".into(),
            ..crate::store::test_support::call("phone-chosen@10.0.0.1", 1_000)
        };
        store.upsert_calls(std::slice::from_ref(&record)).await?;
        let recordings = dir.path().join("recordings");
        let day = recordings.join("2026/12/07");
        std::fs::create_dir_all(&day)?;
        std::fs::write(day.join("00c0ffee12345678-take1-0a1b2c3d.wav"), b"RIFF")?;

        file_orphans(&store, &recordings).await;

        let messages = store
            .list_messages(&crate::store::MessageFilter {
                limit: 10,
                ..Default::default()
            })
            .await?;
        assert_eq!(messages.len(), 1);
        let m = &messages[0];
        assert_eq!(m.caller, record.from, "the caller's number is kept");
        assert_eq!(m.line, record.to);
        assert_eq!(m.call_ref.as_deref(), Some("00c0ffee12345678"));
        assert_eq!(m.call_id, record.call_id);
        assert_eq!(m.category.as_deref(), Some("recovered_recording"));
        store.close().await;
        Ok(())
    }

    #[tokio::test]
    async fn a_managers_reply_without_a_row_is_never_filed_as_a_citizens_message(
    ) -> Result<(), Box<dyn std::error::Error>> {
        let dir = TempDir::new("recovery-reply");
        let store = Store::open(dir.path()).await?;
        let record = crate::engine::CallRecord {
            call_ref: "00c0ffee12345679".into(),
            ..crate::store::test_support::call("manager@10.0.0.2", 1_000)
        };
        store.upsert_calls(std::slice::from_ref(&record)).await?;
        let recordings = dir.path().join("recordings");
        let day = recordings.join("2026/12/07");
        std::fs::create_dir_all(&day)?;
        std::fs::write(day.join("00c0ffee12345679-reply-0a1b2c3d.wav"), b"RIFF")?;

        file_orphans(&store, &recordings).await;

        let messages = store
            .list_messages(&crate::store::MessageFilter {
                limit: 10,
                ..Default::default()
            })
            .await?;
        assert!(messages.is_empty(), "a reply is not a citizen's message");
        store.close().await;
        Ok(())
    }
}
