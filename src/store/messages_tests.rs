use super::*;
use crate::store::test_support::TempDir;

fn message(kind: &str, at: i64) -> NewMessage {
    NewMessage {
        call_id: format!("call-{at}"),
        line: "1888".into(),
        kind: kind.into(),
        district: Some(6),
        category: None,
        case_number: None,
        caller: "09121234567".into(),
        recording: Some("2026/11/23/call1-take1-0.wav".into()),
        created_at: at,
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
    assert_eq!(status.map(|s| s.status), Some("received".to_string()));
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
        "call-40".to_string(),
        "2026/11/23/call9-conversation-1.wav".to_string(),
    );
    let second = (
        "call-40".to_string(),
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
