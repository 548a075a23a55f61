//! The engine running the real IVR trees on a virtual clock (no media, no database).

use std::sync::Arc;
use std::time::Duration;

use super::tests::{in_dialog, invite, Harness, SDP};
use super::*;
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

pub(super) fn ivr_harness() -> Harness {
    let mut h = Harness::with(|c| c.extra_lines = vec!["bench".into()]);
    let engine = std::mem::replace(
        &mut h.engine,
        Engine::new(EngineConfig::for_tests(h.peer.addr)),
    );
    h.engine = engine.with_flows(real_flows());
    h
}

pub(super) fn answer(h: &mut Harness, number: &str, call_id: &str) -> String {
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

pub(super) fn plays(h: &Harness) -> Vec<Vec<String>> {
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
            StoreCommand::FileMessage { message, .. } => Some(message.clone()),
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
    h.engine
        .handle_input(Input::Media(MediaEvent::PlaybackFinished { leg: 1 }), h.now);
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
        h.engine
            .handle_input(Input::Media(MediaEvent::Digit { leg: 1, digit: d }), h.now);
        h.drain();
    };
    let finish = |h: &mut Harness| {
        h.engine
            .handle_input(Input::Media(MediaEvent::PlaybackFinished { leg: 1 }), h.now);
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
        StoreCommand::LookupCase { kind, number, .. } => Some((kind.as_str(), number.clone())),
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
        .map_or(true, |t| t > h.now + Duration::from_secs(20))
    {
        h.engine
            .handle_input(Input::Media(MediaEvent::PlaybackFinished { leg: 1 }), h.now);
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
