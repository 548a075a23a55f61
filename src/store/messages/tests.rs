use super::*;
use crate::store::test_support::TempDir;

fn message(kind: &str, at: i64) -> NewMessage {
    NewMessage {
        call_ref: format!("ref-{at}"),
        call_id: format!("call-{at}"),
        line: "1888".into(),
        kind: kind.into(),
        district: Some(6),
        category: None,
        case_number: None,
        caller: "09121234567".into(),
        recording: Some("2026/11/23/call1-take1-0.wav".into()),
        created_at: at,
        stage: crate::engine::FilingStage::Whole,
    }
}

#[tokio::test]
async fn reports_get_valid_tracking_codes_and_other_calls_none() -> Result<(), StoreError> {
    let dir = TempDir::new("messages");
    let store = Store::open(dir.path()).await?;
    let first = store.file_message(&message("complaint", 1)).await?;
    let second = store.file_message(&message("suggestion", 2)).await?;
    let inquiry = store.file_message(&message("case_inquiry", 3)).await?;
    let (Some(first), Some(second)) = (first, second) else {
        panic!("reports need codes")
    };
    assert_eq!(inquiry, None);
    assert_ne!(first, second);
    assert!(
        check_tracking_code(&first).is_ok() && first.len() == 8,
        "{first}"
    );
    let status = store.message_status(&first).await?;
    // A voice message waits for screening.
    assert_eq!(status.map(|s| s.status), Some("new".to_string()));
    // One wrong digit is caught by the check digit, never matched to another message.
    let mut wrong = first.clone().into_bytes();
    wrong[2] = if wrong[2] == b'9' { b'0' } else { wrong[2] + 1 };
    let wrong = String::from_utf8(wrong).unwrap_or_default();
    assert_eq!(store.message_status(&wrong).await?, None);
    store.close().await;
    Ok(())
}

#[tokio::test]
async fn listing_filters_and_updates_apply() -> Result<(), StoreError> {
    let dir = TempDir::new("messages-list");
    let store = Store::open(dir.path()).await?;
    store.file_message(&message("complaint", 10)).await?;
    let code = store
        .file_message(&message("criticism", 20))
        .await?
        .unwrap_or_default();
    let mut other_line = message("complaint", 30);
    other_line.line = "137".into();
    store.file_message(&other_line).await?;
    let filter = MessageFilter {
        line: Some("1888".into()),
        kind: None,
        since: Some(15),
        limit: 10,
        ..MessageFilter::default()
    };
    let listed = store.list_messages(&filter).await?;
    assert_eq!(
        listed.iter().map(|m| m.created_at).collect::<Vec<_>>(),
        vec![20]
    );
    let update = MessageUpdate {
        kind: Some("complaint".into()),
        text: Some("چاله در خیابان".into()),
        ..Default::default()
    };
    let updated = store.update_message(&code, &update).await?;
    assert_eq!(
        updated.map(|m| (m.kind, m.text)),
        Some(("complaint".into(), Some("چاله در خیابان".into())))
    );
    assert_eq!(store.update_message("10000017", &update).await?, None);
    store.close().await;
    Ok(())
}

#[tokio::test]
async fn a_conversation_recording_is_attached_to_its_calls_message_once() -> Result<(), StoreError>
{
    let dir = TempDir::new("messages-call-recording");
    let store = Store::open(dir.path()).await?;
    let mut answered = message("guidance", 40);
    answered.recording = None;
    store.file_messages(&[answered.clone()]).await?;
    let first = (
        "ref-40".to_string(),
        "2026/11/23/call9-conversation-1.wav".to_string(),
    );
    let second = (
        "ref-40".to_string(),
        "2026/11/23/call9-conversation-2.wav".to_string(),
    );
    let unknown = ("no-such-call".to_string(), "x.wav".to_string());
    store
        .attach_call_recordings(&[first.clone(), unknown])
        .await?;
    store.attach_call_recordings(&[second]).await?;
    let filter = MessageFilter {
        limit: 10,
        ..Default::default()
    };
    let listed = store.list_messages(&filter).await?;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].call_recording.as_deref(), Some(first.1.as_str()));
    assert_eq!(
        listed[0].recording, None,
        "a conversation is not a voice message"
    );
    store.close().await;
    Ok(())
}

/// A filing of the call `call_ref`; its phone chose the Call-ID `call_id`.
fn staged_with(
    kind: &str,
    call_ref: &str,
    call_id: &str,
    stage: crate::engine::FilingStage,
) -> NewMessage {
    NewMessage {
        call_ref: call_ref.into(),
        ..staged(kind, call_id, stage)
    }
}

fn staged(kind: &str, call_id: &str, stage: crate::engine::FilingStage) -> NewMessage {
    NewMessage {
        call_ref: format!("ref-{call_id}"),
        call_id: call_id.into(),
        district: None,
        recording: None,
        stage,
        ..message(kind, 10)
    }
}

#[tokio::test]
async fn a_queued_call_keeps_one_message_and_the_code_it_was_opened_with() -> Result<(), StoreError>
{
    use crate::engine::FilingStage::{Complete, Open};
    let dir = TempDir::new("messages-staged");
    let store = Store::open(dir.path()).await?;
    // Opened as the call enters the queue: a code even though a call-taker call is not a report.
    let Some(code) = store.file_message(&staged("guidance", "q1", Open)).await? else {
        panic!("an opened message needs a code for the call-taker's phone")
    };
    // Overflowed to a voice message: the same message completed, the same code read back.
    let mut voice = staged("urban_problem", "q1", Complete);
    voice.district = Some(9);
    voice.recording = Some("2026/12/06/call1-take1-0.wav".into());
    assert_eq!(store.file_message(&voice).await?, Some(code.clone()));
    let all = store
        .list_messages(&MessageFilter {
            limit: 10,
            ..MessageFilter::default()
        })
        .await?;
    assert_eq!(all.len(), 1, "one call, one message");
    let only = &all[0];
    assert_eq!(only.kind, "urban_problem");
    assert_eq!(only.district, Some(9));
    assert_eq!(only.recording.as_deref(), voice.recording.as_deref());
    assert_eq!(only.tracking_code.as_deref(), Some(code.as_str()));
    Ok(())
}

#[tokio::test]
async fn a_completion_with_no_opening_is_refused_and_files_nothing() -> Result<(), StoreError> {
    // The engine files a completion only once its opening is committed (an opening that was not
    // saved makes the message whole), so a completion with nothing to complete is an error.
    use crate::engine::FilingStage::Complete;
    let dir = TempDir::new("messages-lost-open");
    let store = Store::open(dir.path()).await?;
    let refused = store
        .file_message(&staged("complaint", "never-opened", Complete))
        .await;
    assert!(refused.is_err(), "{refused:?}");
    let listed = store
        .list_messages(&MessageFilter {
            limit: 10,
            ..MessageFilter::default()
        })
        .await?;
    assert!(listed.is_empty(), "{listed:?}");
    Ok(())
}

#[tokio::test]
async fn two_calls_with_the_same_call_id_keep_their_own_messages_and_codes(
) -> Result<(), StoreError> {
    use crate::engine::FilingStage::{Complete, Open};
    let dir = TempDir::new("messages-same-call-id");
    let store = Store::open(dir.path()).await?;
    // Two phones chose the same Call-ID; the engine gave their calls different references.
    let same = "1234@192.168.1.10";
    let (Some(first), Some(second)) = (
        store
            .file_message(&staged_with("guidance", "a1", same, Open))
            .await?,
        store
            .file_message(&staged_with("guidance", "b2", same, Open))
            .await?,
    ) else {
        panic!("opened messages get codes")
    };
    assert_ne!(first, second);
    // The first caller completes after the second opened: it must get its own code back.
    let mut voice = staged_with("complaint", "a1", same, Complete);
    voice.recording = Some("2026/12/07/a1-take1-0.wav".into());
    assert_eq!(store.file_message(&voice).await?, Some(first.clone()));
    assert_eq!(
        store
            .file_message(&staged_with("appreciation", "b2", same, Complete))
            .await?,
        Some(second.clone())
    );
    store
        .attach_call_recordings(&[("b2".into(), "2026/12/07/b2-conversation-0.wav".into())])
        .await?;
    let a = store.message(&first).await?;
    let b = store.message(&second).await?;
    assert_eq!(a.as_ref().map(|m| m.kind.as_str()), Some("complaint"));
    assert_eq!(
        a.as_ref().and_then(|m| m.recording.as_deref()),
        Some("2026/12/07/a1-take1-0.wav")
    );
    assert_eq!(a.as_ref().and_then(|m| m.call_recording.as_deref()), None);
    assert_eq!(b.as_ref().map(|m| m.kind.as_str()), Some("appreciation"));
    assert_eq!(b.as_ref().and_then(|m| m.recording.as_deref()), None);
    assert_eq!(
        b.as_ref().and_then(|m| m.call_recording.as_deref()),
        Some("2026/12/07/b2-conversation-0.wav")
    );
    assert_eq!(b.and_then(|m| m.call_id.into()), Some(same.to_string()));
    store.close().await;
    Ok(())
}
