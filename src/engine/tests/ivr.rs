//! The engine running the real IVR trees on a virtual clock (no media, no database).

use crate::media::api::LegId;
use std::sync::Arc;
use std::time::Duration;

use super::{in_dialog, invite, Harness, SDP};
use crate::engine::*;
use crate::ivr::FlowSet;

pub(crate) fn real_flows() -> Arc<FlowSet> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("ivr-flows");
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if name.ends_with(".yaml") {
            files.push((
                name,
                std::fs::read_to_string(entry.path()).unwrap_or_default(),
            ));
        }
    }
    let queues = ["137", "1888", "zoning"].map(String::from);
    match crate::ivr::load_flows(&files, &|_| true, &queues) {
        Ok(set) => Arc::new(set),
        Err(errors) => panic!("flows do not load: {errors:?}"),
    }
}

pub(crate) fn ivr_harness() -> Harness {
    let mut h = Harness::with(|c| c.extra_lines = vec!["bench".into()]);
    let engine = std::mem::replace(
        &mut h.engine,
        Engine::new(EngineConfig::for_tests(h.peer.addr)),
    );
    h.engine = engine.with_flows(real_flows());
    h
}

pub(crate) fn answer(h: &mut Harness, number: &str, call_id: &str) -> String {
    h.send(&invite(number, call_id, "z9hG4bK-ivr", SDP));
    let tag = h
        .sent
        .iter()
        .find(|r| r.status == 200)
        .and_then(|r| r.to_tag())
        .unwrap_or_default()
        .to_string();
    h.send(&in_dialog("ACK", call_id, &tag, "z9hG4bK-ivr-ack", 1));
    tag
}

pub(crate) fn plays(h: &Harness) -> Vec<Vec<String>> {
    h.media
        .iter()
        .filter_map(|m| match m {
            MediaCommand::Play { prompts, .. } => Some(prompts.clone()),
            _ => None,
        })
        .collect()
}

fn filed(h: &Harness) -> Vec<NewMessage> {
    h.store
        .iter()
        .filter_map(|c| match c {
            StoreCommand::Write(StoreWrite::FileMessage { message, .. }) => Some(message.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_1888_caller_hears_the_welcome_and_a_hang_up_files_one_unusable_message() {
    let mut h = ivr_harness();
    let tag = answer(&mut h, "1888", "ivr1");
    assert!(
        plays(&h).iter().flatten().any(|p| p.contains("welcome")),
        "{:?}",
        plays(&h)
    );
    h.send(&in_dialog("BYE", "ivr1", &tag, "z9hG4bK-ivr-bye", 2));
    let messages = filed(&h);
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert_eq!(
        (messages[0].line.as_str(), messages[0].kind.as_str()),
        ("1888", "unusable")
    );
    assert_eq!(messages[0].caller, "09121234567");
}

#[test]
fn the_bench_line_plays_its_prompt_then_the_engine_hangs_up() {
    let mut h = ivr_harness();
    answer(&mut h, "bench", "ivr2");
    assert_eq!(plays(&h), vec![vec!["ivr/bench".to_string()]]);
    h.engine.handle_input(
        Input::Media(MediaEvent::PlaybackFinished { leg: LegId(1) }),
        h.now,
    );
    h.drain();
    assert!(h
        .requests
        .iter()
        .any(|r| r.method == crate::sip::msg::Method::Bye));
    assert_eq!(h.last_record().hangup_by, "engine");
    assert_eq!(filed(&h).len(), 1, "every call is filed");
}

#[test]
fn key_4_then_1_asks_for_a_zoning_file_and_looks_it_up() {
    let mut h = ivr_harness();
    let tag = answer(&mut h, "137", "ivr3");
    let digit = |h: &mut Harness, d: char| {
        h.engine.handle_input(
            Input::Media(MediaEvent::Digit {
                leg: LegId(1),
                digit: d,
            }),
            h.now,
        );
        h.drain();
    };
    let finish = |h: &mut Harness| {
        h.engine.handle_input(
            Input::Media(MediaEvent::PlaybackFinished { leg: LegId(1) }),
            h.now,
        );
        h.drain();
    };
    finish(&mut h);
    digit(&mut h, '4');
    finish(&mut h);
    digit(&mut h, '1');
    finish(&mut h);
    for d in "1403123#".chars() {
        digit(&mut h, d);
    }
    let lookup = h.store.iter().find_map(|c| match c {
        StoreCommand::Query(StoreQuery::LookupCase { kind, number, .. }) => {
            Some((kind.as_str(), number.clone()))
        }
        _ => None,
    });
    assert_eq!(
        lookup,
        Some(("zoning", "1403123".to_string())),
        "{:?}",
        plays(&h)
    );
    h.send(&in_dialog("BYE", "ivr3", &tag, "z9hG4bK-b3", 2));
    assert_eq!(h.last_record().dtmf, "411403123#");
}

#[test]
fn the_ivr_timer_is_driven_by_the_engine_clock() {
    let mut h = ivr_harness();
    let tag = answer(&mut h, "137", "ivr4");
    // Every prompt of the welcome and the main menu finishes; then the menu waits for a key.
    while h
        .engine
        .poll_timeout()
        .is_none_or(|t| t > h.now + Duration::from_secs(20))
    {
        h.engine.handle_input(
            Input::Media(MediaEvent::PlaybackFinished { leg: LegId(1) }),
            h.now,
        );
        h.drain();
        assert!(plays(&h).len() < 20, "the menu never waits for a key");
    }
    let before = plays(&h).len();
    h.advance_to(Duration::from_secs(30));
    assert!(
        plays(&h).len() > before,
        "no-input re-prompts come from the timer"
    );
    h.send(&in_dialog("BYE", "ivr4", &tag, "z9hG4bK-b4", 3));
}

#[test]
fn two_callers_whose_phones_chose_one_call_id_get_separate_calls_and_messages() {
    let mut h = ivr_harness();
    let first_tag = answer(&mut h, "1888", "same@10.0.0.1");
    // Another phone, another From tag, the same Call-ID (phones make Call-IDs as they please).
    let other_phone = |text: String| {
        text.replace("tag=caller", "tag=other-phone")
            .replace("09121234567", "09350000000")
    };
    let before = h.sent.len();
    h.send(&other_phone(invite(
        "1888",
        "same@10.0.0.1",
        "z9hG4bK-second",
        SDP,
    )));
    let second_tag = h.sent[before..]
        .iter()
        .find(|r| r.status == 200)
        .and_then(|r| r.to_tag())
        .unwrap_or_default()
        .to_string();
    assert!(!second_tag.is_empty() && second_tag != first_tag);
    h.send(&other_phone(in_dialog(
        "ACK",
        "same@10.0.0.1",
        &second_tag,
        "z9hG4bK-second-ack",
        1,
    )));
    h.send(&in_dialog(
        "BYE",
        "same@10.0.0.1",
        &first_tag,
        "z9hG4bK-first-bye",
        2,
    ));
    h.send(&other_phone(in_dialog(
        "BYE",
        "same@10.0.0.1",
        &second_tag,
        "z9hG4bK-second-bye",
        2,
    )));
    let messages = filed(&h);
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert!(messages.iter().all(|m| m.call_id == "same@10.0.0.1"));
    assert_ne!(messages[0].call_ref, messages[1].call_ref);
    assert_eq!(messages[0].caller, "09121234567");
    assert_eq!(messages[1].caller, "09350000000");
    // Each call record is keyed by its own reference, and each message names its own call.
    let mut refs: Vec<(&str, &str)> = h
        .records
        .iter()
        .map(|r| (r.call_ref.as_str(), r.from.as_str()))
        .collect();
    refs.sort();
    refs.dedup();
    assert_eq!(refs.len(), 2, "{refs:?}");
    for m in &messages {
        assert!(
            refs.contains(&(m.call_ref.as_str(), m.caller.as_str())),
            "{m:?}"
        );
    }
}

#[test]
fn a_shutdown_refuses_new_calls_and_closes_the_rest_with_a_prompt_after_the_grace() {
    let mut h = ivr_harness();
    answer(&mut h, "1888", "in-progress");
    h.engine.handle_input(
        Input::Shutdown {
            grace: Duration::from_secs(5),
        },
        h.now,
    );
    h.drain();
    assert!(h.engine.is_draining());
    // A new caller is refused at once: a proxy in front (or the phone) tries elsewhere.
    let before = h.sent.len();
    h.send(&invite("137", "late-caller", "z9hG4bK-late", SDP));
    let late: Vec<u16> = h.sent[before..].iter().map(|r| r.status).collect();
    assert_eq!(late.last(), Some(&503), "{late:?}");
    assert_eq!(h.engine.active_calls(), 1);

    // The call in progress is left alone for the grace period.
    h.advance_to(Duration::from_millis(4_900));
    let byes = |h: &Harness| {
        h.requests
            .iter()
            .filter(|r| r.method == crate::sip::msg::Method::Bye)
            .count()
    };
    assert_eq!(byes(&h), 0);
    assert!(filed(&h).is_empty());

    // Then it hears why it is being closed, and its message is filed as a hang-up files it.
    h.advance_to(Duration::from_secs(5));
    assert_eq!(
        plays(&h).last(),
        Some(&vec![crate::engine::shutdown::SERVICE_STOPPING.to_string()])
    );
    let messages = filed(&h);
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert_eq!(messages[0].caller, "09121234567");
    assert_eq!(messages[0].line, "1888");
    assert_eq!(byes(&h), 0, "the prompt plays before the BYE");

    // The prompt ends: BYE, and the record is closed.
    h.engine.handle_input(
        Input::Media(MediaEvent::PlaybackFinished { leg: LegId(1) }),
        h.now,
    );
    h.drain();
    assert_eq!(byes(&h), 1);
    assert_eq!(h.last_record().disposition, "shutdown");
    assert_eq!(h.last_record().hangup_by, "engine");
    assert_eq!(filed(&h).len(), 1, "filed once");
    assert!(h.engine.is_drained());
}

#[test]
fn a_closing_prompt_that_never_reports_its_end_still_ends_in_a_bye() {
    let mut h = ivr_harness();
    answer(&mut h, "137", "silent-media");
    h.engine.handle_input(
        Input::Shutdown {
            grace: Duration::ZERO,
        },
        h.now,
    );
    h.drain();
    h.advance_to(Duration::from_secs(1));
    assert!(!h.engine.is_drained());
    h.advance_to(Duration::from_secs(30));
    assert!(h
        .requests
        .iter()
        .any(|r| r.method == crate::sip::msg::Method::Bye));
    assert_eq!(h.last_record().disposition, "shutdown");
    assert!(h.engine.is_drained());
}
