use super::*;
use crate::engine::tests::ivr::{ivr_harness, plays};
use crate::engine::tests::{in_dialog, invite, Harness, SDP};
use crate::engine::{Input, StoreCommand, StoreQuery, StoreReply};
use crate::ivr::tracking::make_tracking_code;
use crate::media::api::LegId;
use crate::media::api::MediaEvent;

const CALLER: &str = "09121234567";

fn status(caller: &str) -> MessageStatus {
    MessageStatus {
        tracking_code: make_tracking_code(4_711),
        status: "answered".into(),
        has_voice_reply: true,
        reply_recording_id: Some("2026/11/23/reply-77.wav".into()),
        caller: caller.into(),
    }
}

#[test]
fn a_caller_is_limited_after_too_many_wrong_codes_until_the_window_passes() {
    let mut guard = FollowUpGuard::default();
    let start = Duration::from_secs(100);
    for i in 0..MAX_MISSED_CODES {
        assert!(!guard.limited(CALLER, start), "miss {i}");
        guard.missed(CALLER, start + Duration::from_secs(i as u64));
    }
    assert!(guard.limited(CALLER, start + Duration::from_secs(60)));
    assert!(
        !guard.limited("09350000000", start),
        "other numbers are not"
    );
    let later = start + MISSED_CODES_WINDOW + Duration::from_secs(MAX_MISSED_CODES as u64);
    assert!(!guard.limited(CALLER, later), "the window has passed");
}

#[test]
fn the_guard_forgets_quiet_numbers_rather_than_grow_without_bound() {
    let mut guard = FollowUpGuard::default();
    for n in 0..MAX_CALLERS {
        guard.missed(&format!("0912{n:07}"), Duration::ZERO);
    }
    guard.missed("09350000000", MISSED_CODES_WINDOW);
    assert_eq!(guard.callers(), 1);
}

#[test]
fn only_the_number_that_left_the_message_hears_the_reply() {
    let own = for_caller(status(CALLER), CALLER);
    assert!(own.has_voice_reply && own.reply_recording_id.is_some());
    let other = for_caller(status(CALLER), "09350000000");
    assert_eq!(
        other.status, "answered",
        "the status is for anyone with the code"
    );
    assert!(!other.has_voice_reply && other.reply_recording_id.is_none());
}

// ---- the same on the 137 line, on the engine's virtual clock ---------------------------------

/// A 137 call from `caller` that chose 2 (follow up).
fn follow_up_call(h: &mut Harness, call_id: &str, caller: &str) {
    h.send(&invite("137", call_id, "z9hG4bK-fu", SDP).replace(CALLER, caller));
    let tag = h
        .sent
        .iter()
        .rev()
        .find(|r| r.status == 200)
        .and_then(|r| r.to_tag())
        .unwrap_or_default()
        .to_string();
    h.send(&in_dialog("ACK", call_id, &tag, "z9hG4bK-fu-ack", 1));
    finish(h);
    digit(h, '2');
    finish(h);
}

fn digit(h: &mut Harness, d: char) {
    let leg = h
        .engine
        .calls
        .values()
        .map(|c| c.leg)
        .max()
        .unwrap_or(LegId(1));
    h.engine
        .handle_input(Input::Media(MediaEvent::Digit { leg, digit: d }), h.now);
    h.drain();
}

fn finish(h: &mut Harness) {
    let leg = h
        .engine
        .calls
        .values()
        .map(|c| c.leg)
        .max()
        .unwrap_or(LegId(1));
    h.engine
        .handle_input(Input::Media(MediaEvent::PlaybackFinished { leg }), h.now);
    h.drain();
}

/// Keys a code; returns the call of the lookup the engine sent to the store, if it sent one.
fn key_code(h: &mut Harness, code: &str) -> Option<CallKey> {
    let before = lookups(h);
    for d in code.chars().chain(['#']) {
        digit(h, d);
    }
    let calls: Vec<CallKey> = h
        .store
        .iter()
        .filter_map(|c| match c {
            StoreCommand::Query(StoreQuery::LookupMessage { call, .. }) => Some(*call),
            _ => None,
        })
        .collect();
    (calls.len() > before).then(|| calls[calls.len() - 1])
}

fn lookups(h: &Harness) -> usize {
    h.store
        .iter()
        .filter(|c| matches!(c, StoreCommand::Query(StoreQuery::LookupMessage { .. })))
        .count()
}

fn reply(h: &mut Harness, call: CallKey, status: Option<MessageStatus>) {
    let found = StoreReply::MessageFound { call, status };
    h.engine.handle_input(Input::Store(found), h.now);
    h.drain();
}

#[test]
fn wrong_codes_past_the_limit_do_not_reach_the_store_until_the_window_passes() {
    let mut h = ivr_harness();
    follow_up_call(&mut h, "fu1", CALLER);
    for i in 0..MAX_MISSED_CODES {
        let Some(call) = key_code(&mut h, &make_tracking_code(1_000 + i as u64)) else {
            panic!("lookup {i} reaches the store")
        };
        reply(&mut h, call, None);
        finish(&mut h); // "not found", then the retry menu: 1 enters another code
        digit(&mut h, '1');
        finish(&mut h);
    }
    let heard_before = plays(&h).len();
    assert_eq!(
        key_code(&mut h, &make_tracking_code(4_711)),
        None,
        "refused"
    );
    let heard: Vec<String> = plays(&h)[heard_before..].concat();
    // Told plainly that follow-up by code must wait, never that the message does not exist.
    assert!(
        heard.iter().any(|p| p == "ivr/followup_limited"),
        "the caller hears to try later: {heard:?}"
    );
    assert!(
        !heard.iter().any(|p| p == "ivr/message_not_found"),
        "{heard:?}"
    );

    // The same number calling again is still refused; after the window it is heard again.
    follow_up_call(&mut h, "fu2", CALLER);
    assert_eq!(key_code(&mut h, &make_tracking_code(4_711)), None);
    h.advance_to(h.now + MISSED_CODES_WINDOW);
    follow_up_call(&mut h, "fu3", CALLER);
    assert!(key_code(&mut h, &make_tracking_code(4_711)).is_some());
}

#[test]
fn the_reply_is_played_to_the_number_that_left_the_message_only() {
    for (caller, hears_reply) in [(CALLER, true), ("09350000000", false)] {
        let mut h = ivr_harness();
        follow_up_call(&mut h, "fu-reply", caller);
        let Some(call) = key_code(&mut h, &make_tracking_code(4_711)) else {
            panic!("the lookup reaches the store")
        };
        reply(&mut h, call, Some(status(CALLER)));
        let heard: Vec<String> = plays(&h).concat();
        assert!(
            heard.iter().any(|p| p == "ivr/message_status_is"),
            "{caller}: the status is read: {heard:?}"
        );
        assert_eq!(
            heard.iter().any(|p| p.contains("reply-77")),
            hears_reply,
            "{caller}: {heard:?}"
        );
    }
}
