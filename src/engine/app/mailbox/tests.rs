use super::*;
use crate::engine::tests::ivr::{ivr_harness, plays};
use crate::engine::tests::{in_dialog, invite, Harness, SDP};
use crate::engine::{Input, StoreCommand, StoreReply};
use crate::ivr::{MailboxItem, MessageKind};
use crate::media::api::{LegId, MediaCommand, MediaEvent, RecordingEnd};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

#[test]
fn a_mailbox_is_limited_after_five_wrong_pins_until_the_window_passes() {
    let mut guard = PinGuard::default();
    let start = Duration::from_secs(100);
    for i in 0..MAX_WRONG_PER_MAILBOX {
        // From a different address each time: the mailbox's own count limits it.
        let source = ip(&format!("10.0.0.{}", i + 1));
        assert!(!guard.limited("501", source, start), "try {i}");
        guard.failed("501", source, start + Duration::from_secs(i as u64));
    }
    assert!(guard.limited("501", ip("10.9.9.9"), start + Duration::from_secs(60)));
    assert!(
        !guard.limited("502", ip("10.9.9.9"), start),
        "other mailboxes are not"
    );
    let later = start + WRONG_PIN_WINDOW + Duration::from_secs(MAX_WRONG_PER_MAILBOX as u64);
    assert!(!guard.limited("501", ip("10.9.9.9"), later));
}

#[test]
fn a_source_is_limited_after_ten_wrong_pins_on_any_mailboxes() {
    let mut guard = PinGuard::default();
    let source = ip("192.0.2.7");
    for i in 0..MAX_WRONG_PER_SOURCE {
        assert!(!guard.limited(&format!("6{i:02}"), source, Duration::ZERO));
        guard.failed(&format!("6{i:02}"), source, Duration::ZERO);
    }
    assert!(
        guard.limited("700", source, Duration::ZERO),
        "even a fresh mailbox"
    );
    assert!(!guard.limited("700", ip("192.0.2.8"), Duration::ZERO));
}

// ---- on the engine's virtual clock, with the real mailbox flow -------------------------------

fn leg(h: &Harness) -> LegId {
    h.engine
        .calls
        .values()
        .map(|c| c.leg)
        .max()
        .unwrap_or(LegId(1))
}

fn keys(h: &mut Harness, digits: &str) {
    for digit in digits.chars() {
        let leg = leg(h);
        h.engine
            .handle_input(Input::Media(MediaEvent::Digit { leg, digit }), h.now);
        h.drain();
    }
}

fn finish(h: &mut Harness) {
    let leg = leg(h);
    h.engine
        .handle_input(Input::Media(MediaEvent::PlaybackFinished { leg }), h.now);
    h.drain();
}

/// Dials `*98`, hears the welcome out; returns the dialog tag.
fn dial(h: &mut Harness, call_id: &str) -> String {
    h.send(&invite("*98", call_id, &format!("z9hG4bK-{call_id}"), SDP));
    let tag = h
        .sent
        .iter()
        .rev()
        .find(|r| r.status == 200)
        .and_then(|r| r.to_tag())
        .unwrap_or_default()
        .to_string();
    h.send(&in_dialog(
        "ACK",
        call_id,
        &tag,
        &format!("z9hG4bK-{call_id}-ack"),
        1,
    ));
    finish(h);
    tag
}

fn logins(h: &Harness) -> Vec<(CallKey, String)> {
    h.store
        .iter()
        .filter_map(|c| match c {
            StoreCommand::Query(StoreQuery::VerifyManager { call, mailbox, .. }) => {
                Some((*call, mailbox.clone()))
            }
            _ => None,
        })
        .collect()
}

/// Keys a mailbox and PIN; the login query the store got, if it got one.
fn try_login(h: &mut Harness, mailbox: &str) -> Option<CallKey> {
    let before = logins(h).len();
    keys(h, &format!("{mailbox}#1234#"));
    let after = logins(h);
    (after.len() > before).then(|| after[after.len() - 1].0)
}

fn answer(h: &mut Harness, call: CallKey, mailbox: &str, check: ManagerCheck) {
    let reply = StoreReply::ManagerVerified {
        call,
        mailbox: mailbox.into(),
        check,
    };
    h.engine.handle_input(Input::Store(reply), h.now);
    h.drain();
}

fn items() -> Vec<MailboxItem> {
    let received = crate::calendar::JalaliDate::new(1403, 5, 11).unwrap_or_else(|e| panic!("{e}"));
    vec![MailboxItem {
        tracking_code: "00000072".into(),
        line: "1888".into(),
        kind: MessageKind::Complaint,
        received,
        recording_id: "2026/12/01/abc-take1-00000001.wav".into(),
        is_new: true,
    }]
}

fn heard(h: &Harness) -> Vec<String> {
    plays(h).concat()
}

#[test]
fn star_98_runs_the_mailbox_flow_and_files_nothing() {
    let mut h = ivr_harness();
    let tag = dial(&mut h, "mb1");
    assert!(
        heard(&h).contains(&"mailbox/welcome".to_string()),
        "{:?}",
        heard(&h)
    );
    assert!(heard(&h).contains(&"mailbox/enter_mailbox".to_string()));
    h.send(&in_dialog("BYE", "mb1", &tag, "z9hG4bK-mb1-bye", 2));
    let filed = h
        .store
        .iter()
        .any(|c| matches!(c, StoreCommand::Write(StoreWrite::FileMessage { .. })));
    assert!(!filed, "a manager's call files no message: {:?}", h.store);
}

#[test]
fn star_98_without_the_mailbox_flow_is_temporarily_unavailable() {
    let mut h = Harness::new();
    h.send(&invite("*98", "mb0", "z9hG4bK-mb0", SDP));
    assert!(h.statuses().contains(&480), "{:?}", h.statuses());
}

#[test]
fn wrong_pins_past_a_mailboxs_limit_do_not_reach_the_store() {
    let mut h = ivr_harness();
    let mut wrong = 0;
    for n in 0..2 {
        dial(&mut h, &format!("mbw{n}"));
        for _ in 0..3 {
            if wrong == MAX_WRONG_PER_MAILBOX {
                break;
            }
            let Some(call) = try_login(&mut h, "501") else {
                panic!("login {wrong} reaches the store")
            };
            answer(&mut h, call, "501", ManagerCheck::Wrong);
            wrong += 1;
            finish(&mut h); // "wrong", then the mailbox prompt again
        }
    }
    assert_eq!(
        try_login(&mut h, "501"),
        None,
        "limited without asking the store"
    );
    assert!(heard(&h).contains(&"mailbox/login_limited".to_string()));
    // Another mailbox from the same source is still asked; after the window, 501 is too.
    dial(&mut h, "mbw9");
    assert!(try_login(&mut h, "502").is_some());
    h.advance_to(h.now + WRONG_PIN_WINDOW);
    dial(&mut h, "mbw10");
    assert!(try_login(&mut h, "501").is_some());
}

#[test]
fn wrong_pins_past_a_sources_limit_limit_every_mailbox() {
    let mut h = ivr_harness();
    for n in 0..MAX_WRONG_PER_SOURCE {
        if n % 3 == 0 {
            dial(&mut h, &format!("mbs{n}"));
        }
        let mailbox = format!("6{n:02}");
        let Some(call) = try_login(&mut h, &mailbox) else {
            panic!("login {n} reaches the store")
        };
        answer(&mut h, call, &mailbox, ManagerCheck::Wrong);
        finish(&mut h);
    }
    dial(&mut h, "mbs-last");
    assert_eq!(try_login(&mut h, "700"), None);
}

#[test]
fn a_reply_is_named_reply_and_sent_is_said_only_after_the_store_saved_it() {
    let mut h = ivr_harness();
    dial(&mut h, "mbr");
    let Some(call) = try_login(&mut h, "501") else {
        panic!("the login reaches the store")
    };
    answer(&mut h, call, "501", ManagerCheck::Accepted(items()));
    finish(&mut h); // the count
    let dtmf = &h.engine.calls.get(call).map(|c| c.record.dtmf.clone());
    assert_eq!(
        dtmf.as_deref(),
        Some(""),
        "the login keys are not in the call record"
    );
    let listened = h.store.iter().any(|c| {
        matches!(c, StoreCommand::Write(StoreWrite::Audit { actor, action, tracking_code, .. })
            if actor == "manager:501" && action == "listen"
                && tracking_code.as_deref() == Some("00000072"))
    });
    assert!(listened, "the listen is audited: {:?}", h.store);
    finish(&mut h); // the message
    finish(&mut h); // the item menu
    keys(&mut h, "1");
    finish(&mut h); // instructions and beep
    let name = h
        .media
        .iter()
        .find_map(|m| match m {
            MediaCommand::StartRecording { spec, .. } => Some(spec.name.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("a reply take starts"));
    assert!(
        name.contains("-reply-") && !name.contains("-take"),
        "{name}"
    );
    let leg = leg(&h);
    let stopped = MediaEvent::RecordingFinished {
        leg,
        name: name.clone(),
        duration_ms: 8_000,
        end: RecordingEnd::Key,
        saved: true,
    };
    h.engine.handle_input(Input::Media(stopped), h.now);
    h.drain();
    keys(&mut h, "1"); // send
    let save = h.store.iter().find_map(|c| match c {
        StoreCommand::Query(StoreQuery::SaveReply {
            tracking_code,
            recording,
            mailbox,
            ..
        }) => Some((tracking_code.clone(), recording.clone(), mailbox.clone())),
        _ => None,
    });
    assert_eq!(save, Some(("00000072".into(), name, "501".into())));
    assert!(
        !heard(&h).contains(&"mailbox/reply_sent".to_string()),
        "not before the store"
    );
    let saved = StoreReply::MailboxSaved { call, saved: true };
    h.engine.handle_input(Input::Store(saved), h.now);
    h.drain();
    assert!(heard(&h).contains(&"mailbox/reply_sent".to_string()));
}

#[test]
fn hanging_up_during_a_reply_drops_the_take_and_files_nothing() {
    let mut h = ivr_harness();
    let tag = dial(&mut h, "mbh");
    let Some(call) = try_login(&mut h, "501") else {
        panic!("the login reaches the store")
    };
    answer(&mut h, call, "501", ManagerCheck::Accepted(items()));
    finish(&mut h);
    keys(&mut h, "1");
    finish(&mut h);
    h.send(&in_dialog("BYE", "mbh", &tag, "z9hG4bK-mbh-bye", 2));
    let stops: Vec<bool> = h
        .media
        .iter()
        .filter_map(|m| match m {
            MediaCommand::StopRecording { keep, .. } => Some(*keep),
            _ => None,
        })
        .collect();
    assert_eq!(stops, [false], "the unsent reply is not kept");
    assert!(!h
        .store
        .iter()
        .any(|c| matches!(c, StoreCommand::Write(StoreWrite::FileMessage { .. }))));
}

#[test]
fn a_reply_from_a_call_that_did_not_log_in_is_refused() {
    // The run cannot act for a mailbox the store did not accept for its call.
    let mut h = ivr_harness();
    dial(&mut h, "mbn");
    let Some(call) = try_login(&mut h, "501") else {
        panic!("the login reaches the store")
    };
    answer(&mut h, call, "501", ManagerCheck::Failed);
    assert!(h
        .engine
        .calls
        .get(call)
        .is_some_and(|c| c.manager.is_none()));
}
