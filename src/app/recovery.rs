//! Start-up recovery of recordings cut off by a crash (power loss, `kill -9`): the media sweep
//! repairs their WAV headers; here each repaired recording is filed as a message for the
//! screeners to hear, so no voice message is ever a silent orphan.

use crate::drivers::media::SweepReport;
use crate::engine::NewMessage;
use crate::store::Store;

pub async fn file_repaired(store: &Store, report: SweepReport) {
    for bad in &report.quarantined {
        tracing::warn!(file = %bad.display(), "unreadable recording moved to quarantine");
    }
    for (path, error) in &report.failed {
        tracing::error!(file = %path.display(), %error, "recording could not be checked");
    }
    for repaired in report.repaired {
        let message = NewMessage {
            call_id: format!("recovered:{}", repaired.name),
            line: String::new(),
            kind: "unusable".into(),
            district: None,
            category: Some("recovered_recording".into()),
            case_number: None,
            caller: String::new(),
            recording: Some(repaired.name.clone()),
            created_at: crate::store::unix_ms_now(),
            stage: crate::engine::FilingStage::Whole,
        };
        match store.file_message(&message).await {
            Ok(_) => {
                tracing::warn!(name = %repaired.name, duration_ms = repaired.duration_ms, "recording repaired after a crash and filed for screening")
            }
            Err(error) => {
                tracing::error!(name = %repaired.name, %error, "repaired recording could not be filed")
            }
        }
    }
}
