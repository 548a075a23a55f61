use super::*;
use crate::engine::{FilingStage, NewMessage};
use crate::store::test_support::TempDir;
use crate::store::MessageRow;

fn voice_message(at: i64, caller: &str, recording: Option<&str>) -> NewMessage {
    NewMessage {
        call_ref: format!("ref-{at}"),
        call_id: format!("call-{at}"),
        line: "1888".into(),
        kind: "complaint".into(),
        district: Some(6),
        category: None,
        case_number: None,
        caller: caller.into(),
        recording: recording.map(str::to_owned),
        created_at: at,
        stage: FilingStage::Whole,
    }
}

async fn file(store: &Store, at: i64, recording: Option<&str>) -> Result<String, StoreError> {
    store
        .file_message(&voice_message(at, "09121234567", recording))
        .await?
        .ok_or_else(|| StoreError::Invalid("a complaint gets a code".into()))
}

async fn store_with_managers(label: &str) -> Result<(TempDir, Store), StoreError> {
    let dir = TempDir::new(label);
    let store = Store::open(dir.path()).await?;
    store
        .add_manager("501", "District 6 manager", "1234", "password501")
        .await?;
    store
        .add_manager("502", "District 12 manager", "5678", "password502")
        .await?;
    Ok((dir, store))
}

fn refer(mailbox: &str) -> Screening {
    Screening::Refer {
        mailbox: mailbox.into(),
    }
}

fn decided(outcome: ScreeningOutcome) -> MessageRow {
    match outcome {
        ScreeningOutcome::Decided(row) => *row,
        other => panic!("expected a decision, got {other:?}"),
    }
}

#[tokio::test]
async fn managers_are_checked_by_pin_and_password_and_listed_without_secrets(
) -> Result<(), StoreError> {
    let (_dir, store) = store_with_managers("managers").await?;
    assert!(store.verify_manager_pin("501", "1234").await?);
    assert!(!store.verify_manager_pin("501", "5678").await?);
    assert!(
        !store.verify_manager_pin("503", "1234").await?,
        "no such mailbox"
    );
    assert!(
        !store
            .verify_manager("501", Secret::Password, "1234")
            .await?,
        "the PIN is not the password"
    );
    assert!(
        store
            .verify_manager("501", Secret::Password, "password501")
            .await?
    );
    let listed = store.list_managers().await?;
    let mailboxes: Vec<_> = listed.iter().map(|m| m.mailbox.as_str()).collect();
    assert_eq!(mailboxes, ["501", "502"]);
    // Adding again replaces the secrets.
    store
        .add_manager("501", "New name", "9999", "another-password")
        .await?;
    assert!(!store.verify_manager_pin("501", "1234").await?);
    assert!(store.verify_manager_pin("501", "9999").await?);
    for (mailbox, pin, password) in [
        ("5", "1234", "password1"),
        ("50a", "1234", "password1"),
        ("503", "12", "password1"),
        ("503", "12a4", "password1"),
        ("503", "1234", "short"),
    ] {
        let refused = store.add_manager(mailbox, "x", pin, password).await;
        assert!(
            matches!(refused, Err(StoreError::Invalid(_))),
            "{mailbox} {pin} {password}"
        );
    }
    Ok(())
}

#[tokio::test]
async fn a_voice_message_is_screened_once_and_every_decision_is_audited() -> Result<(), StoreError>
{
    let (_dir, store) = store_with_managers("screening").await?;
    let first = file(&store, 1, Some("2026/12/07/a-take1-0.wav")).await?;
    let second = file(&store, 2, Some("2026/12/07/b-take1-0.wav")).await?;
    let no_voice = file(&store, 3, None).await?;
    let waiting: Vec<_> = store
        .messages_to_screen(10)
        .await?
        .into_iter()
        .map(|m| m.tracking_code)
        .collect();
    assert_eq!(
        waiting,
        [Some(first.clone()), Some(second.clone())],
        "oldest first"
    );

    let row = decided(
        store
            .screen_message(&first, &refer("501"), "screener")
            .await?,
    );
    assert_eq!(
        (row.status.as_str(), row.mailbox.as_deref()),
        ("referred", Some("501"))
    );
    assert_eq!(row.screened_by.as_deref(), Some("screener"));
    assert!(row.screened_at.is_some());
    assert_eq!(
        store.screen_message(&first, &refer("502"), "admin").await?,
        ScreeningOutcome::NotWaiting("referred".into()),
        "decided already: 409"
    );
    assert_eq!(
        store
            .screen_message(&second, &refer("599"), "screener")
            .await?,
        ScreeningOutcome::UnknownMailbox
    );
    let reject = Screening::Reject {
        reason: "duplicate".into(),
    };
    let row = decided(store.screen_message(&second, &reject, "screener").await?);
    assert_eq!(
        (row.status.as_str(), row.reject_reason.as_deref()),
        ("rejected", Some("duplicate"))
    );
    let bad_reason = Screening::Reject {
        reason: "boring".into(),
    };
    assert_eq!(
        store
            .screen_message(&no_voice, &bad_reason, "screener")
            .await?,
        ScreeningOutcome::UnknownReason
    );
    assert_eq!(
        store
            .screen_message(&no_voice, &refer("501"), "screener")
            .await?,
        ScreeningOutcome::NotWaiting("received".into()),
        "a message without a voice message is not screened"
    );
    assert_eq!(
        store
            .screen_message("12345678", &refer("501"), "screener")
            .await?,
        ScreeningOutcome::NotFound
    );
    assert!(store.messages_to_screen(10).await?.is_empty());
    let audit = store.list_audit(10, None, None).await?;
    let said: Vec<_> = audit
        .iter()
        .map(|a| (a.actor.as_str(), a.action.as_str(), a.detail.as_str()))
        .collect();
    assert_eq!(
        said,
        [
            ("screener", "screen", "not referred: duplicate"),
            ("screener", "screen", "referred to mailbox 501"),
        ],
        "newest first; refused decisions are not logged"
    );
    Ok(())
}

#[tokio::test]
async fn a_reply_lands_in_the_message_with_its_audit_and_one_text() -> Result<(), StoreError> {
    let (_dir, store) = store_with_managers("replies").await?;
    let old = file(&store, 10, Some("2026/12/07/a-take1-0.wav")).await?;
    let newer = file(&store, 20, Some("2026/12/07/b-take1-0.wav")).await?;
    let other = file(&store, 30, Some("2026/12/07/c-take1-0.wav")).await?;
    for (code, mailbox) in [(&old, "501"), (&newer, "501"), (&other, "502")] {
        decided(
            store
                .screen_message(code, &refer(mailbox), "screener")
                .await?,
        );
    }
    let codes = |rows: Vec<MessageRow>| -> Vec<Option<String>> {
        rows.into_iter().map(|m| m.tracking_code).collect()
    };
    assert_eq!(
        codes(store.mailbox_messages("501").await?),
        [Some(old.clone()), Some(newer.clone())]
    );

    // Someone else's message, or an unknown one: the same refusal.
    for code in [&other, &"12345678".to_string()] {
        assert_eq!(
            store.save_reply(code, "501", "r.wav", "phone").await?,
            ReplyOutcome::NotInMailbox
        );
    }
    let reply = "2026/12/07/m-reply-1.wav";
    assert_eq!(
        store.save_reply(&old, "501", reply, "phone").await?,
        ReplyOutcome::Saved
    );
    let row = store.message(&old).await?;
    let row = row.ok_or_else(|| StoreError::Invalid("filed".into()))?;
    assert_eq!(row.status, "replied");
    assert_eq!(row.reply_recording.as_deref(), Some(reply));
    assert_eq!(row.replied_by.as_deref(), Some("manager:501"));
    assert_eq!(row.reply_channel.as_deref(), Some("phone"));
    assert_eq!(
        store.message_of_recording(reply).await?.map(|m| m.id),
        Some(row.id)
    );
    // The one still waiting comes first now; the answered one after it.
    assert_eq!(
        codes(store.mailbox_messages("501").await?),
        [Some(newer.clone()), Some(old.clone())]
    );
    // A second reply (re-recorded from the browser) replaces the first, with no second text.
    store
        .save_reply(&old, "501", "2026/12/07/web-reply-2.wav", "web")
        .await?;
    let texts = store.list_texts(10).await?;
    let replies: Vec<_> = texts.iter().filter(|t| t.reason == "reply").collect();
    assert_eq!(replies.len(), 1, "one reply text per message: {texts:?}");
    assert_eq!(replies[0].recipient, "09121234567");
    assert!(replies[0].body.contains(&old));
    let screened = texts.iter().filter(|t| t.reason == "screened").count();
    assert_eq!(screened, 3, "each screening result is texted: {texts:?}");

    assert_eq!(
        store.mark_handled(&newer, "502", "phone").await?,
        ReplyOutcome::NotInMailbox
    );
    assert_eq!(
        store.mark_handled(&newer, "501", "phone").await?,
        ReplyOutcome::Saved
    );
    let status = store.message_status(&newer).await?.map(|s| s.status);
    assert_eq!(status.as_deref(), Some("closed"));
    let handled = store.list_texts(10).await?;
    assert!(
        handled
            .iter()
            .any(|t| t.reason == "handled" && t.body.contains(&newer)),
        "handling without a reply is texted too: {handled:?}"
    );
    let actions: Vec<_> = store
        .list_audit(10, None, None)
        .await?
        .into_iter()
        .map(|a| (a.actor, a.channel, a.action))
        .collect();
    assert_eq!(
        actions[..3],
        [
            ("manager:501".into(), "phone".into(), "handled".into()),
            ("manager:501".into(), "web".into(), "reply".into()),
            ("manager:501".into(), "phone".into(), "reply".into()),
        ]
    );
    Ok(())
}

#[tokio::test]
async fn a_withheld_or_landline_caller_gets_no_text() -> Result<(), StoreError> {
    let (_dir, store) = store_with_managers("no-text").await?;
    let code = store
        .file_message(&voice_message(1, "02188776655", Some("a-take1-0.wav")))
        .await?
        .ok_or_else(|| StoreError::Invalid("code".into()))?;
    decided(
        store
            .screen_message(&code, &refer("501"), "screener")
            .await?,
    );
    store.save_reply(&code, "501", "r.wav", "web").await?;
    assert!(store.list_texts(10).await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn session_tokens_expire_and_manager_tokens_die_with_the_manager() -> Result<(), StoreError> {
    let (_dir, store) = store_with_managers("sessions").await?;
    let role = crate::store::Role::Manager("501".into());
    let lasting = store
        .create_session_token(&role, std::time::Duration::from_secs(3600))
        .await?;
    let spent = store
        .create_session_token(&role, std::time::Duration::ZERO)
        .await?;
    assert_eq!(store.verify_token(&lasting).await?, Some(role.clone()));
    assert_eq!(store.verify_token(&spent).await?, None);
    let nobody = store
        .create_token(&crate::store::Role::Manager("599".into()))
        .await?;
    assert_eq!(store.verify_token(&nobody).await?, None, "no such mailbox");
    Ok(())
}

#[tokio::test]
async fn a_mailbox_with_messages_waiting_is_not_removed() -> Result<(), StoreError> {
    let (_dir, store) = store_with_managers("remove-manager").await?;
    let code = file(&store, 1, Some("2026/12/07/a-take1-0.wav")).await?;
    decided(
        store
            .screen_message(&code, &refer("501"), "screener")
            .await?,
    );
    let refused = store.remove_manager("501").await;
    assert!(
        matches!(&refused, Err(StoreError::Invalid(why)) if why.contains("1 message")),
        "{refused:?}"
    );
    assert!(store.remove_manager("502").await?);
    assert!(!store.remove_manager("502").await?);
    store.mark_handled(&code, "501", "web").await?;
    assert!(
        store.remove_manager("501").await?,
        "answered messages do not hold it"
    );
    Ok(())
}
