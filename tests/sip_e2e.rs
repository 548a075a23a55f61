//! End-to-end SIP signalling with SIPp against the real binary over 127.0.0.1.

mod common;

use std::time::Duration;

use common::{assert_ok, sipp, Engine};
use serde_json::Value;

fn field<'a>(call: &'a Value, name: &str) -> &'a str {
    call.get(name).and_then(Value::as_str).unwrap_or("")
}

fn ended(calls: &[Value]) -> bool {
    !calls.is_empty() && calls.iter().all(|c| !c["ended_at"].is_null())
}

#[test]
fn options_is_answered() {
    let engine = Engine::start("options", "");
    let out = sipp(&engine, "options.xml", "137", &[], Duration::from_secs(20));
    assert_ok(&out, "OPTIONS");
}

#[test]
fn a_call_to_137_is_answered_and_the_caller_hangs_up() {
    let engine = Engine::start("basic", "");
    let out = sipp(
        &engine,
        "uac_basic.xml",
        "137",
        &["-d", "1500"],
        Duration::from_secs(30),
    );
    assert_ok(&out, "basic call");
    let token = engine.token("admin");
    let calls = engine.wait_calls(&token, Duration::from_secs(5), ended);
    assert_eq!(calls.len(), 1);
    let call = &calls[0];
    assert_eq!(field(call, "to"), "137");
    assert_eq!(field(call, "disposition"), "completed");
    assert_eq!(field(call, "hangup_by"), "caller");
    assert!(!call["answered_at"].is_null());
    for key in ["call_id", "from", "started_at", "ended_at"] {
        assert!(call.get(key).is_some(), "missing {key}: {call}");
    }
}

#[test]
fn a_call_the_engine_ends_gets_a_bye_from_the_engine() {
    // SIPp sends no RTP: the engine's RTP inactivity limit ends the call with a BYE.
    let engine = Engine::start("engine-bye", "rtp_inactivity_s = 2");
    let out = sipp(
        &engine,
        "uac_engine_hangup.xml",
        "1888",
        &[],
        Duration::from_secs(40),
    );
    assert_ok(&out, "engine hang-up");
    let token = engine.token("admin");
    let calls = engine.wait_calls(&token, Duration::from_secs(5), ended);
    assert_eq!(field(&calls[0], "hangup_by"), "engine");
    assert_eq!(field(&calls[0], "disposition"), "rtp_timeout");
}

#[test]
fn cancel_before_the_answer_gets_487() {
    let engine = Engine::start("cancel", "answer_delay_ms = 3000");
    let out = sipp(
        &engine,
        "uac_cancel.xml",
        "137",
        &[],
        Duration::from_secs(30),
    );
    assert_ok(&out, "CANCEL");
    let token = engine.token("admin");
    let calls = engine.wait_calls(&token, Duration::from_secs(5), ended);
    assert_eq!(field(&calls[0], "disposition"), "cancelled");
    assert!(calls[0]["answered_at"].is_null());
}

#[test]
fn a_retransmitted_invite_makes_one_call() {
    let engine = Engine::start("retransmit", "answer_delay_ms = 1500");
    let out = sipp(
        &engine,
        "uac_invite_retransmit.xml",
        "137",
        &[],
        Duration::from_secs(30),
    );
    assert_ok(&out, "INVITE retransmission");
    let token = engine.token("admin");
    let calls = engine.wait_calls(&token, Duration::from_secs(5), ended);
    assert_eq!(calls.len(), 1, "{calls:#?}");
    assert_eq!(field(&calls[0], "disposition"), "completed");
}

#[test]
fn a_200_without_ack_is_torn_down_at_timer_h() {
    let engine = Engine::start("no-ack", "");
    let out = sipp(
        &engine,
        "uac_no_ack.xml",
        "137",
        &[],
        Duration::from_secs(60),
    );
    assert_ok(&out, "no ACK");
    let token = engine.token("admin");
    let calls = engine.wait_calls(&token, Duration::from_secs(5), ended);
    assert_eq!(field(&calls[0], "disposition"), "no_ack");
    assert_eq!(field(&calls[0], "hangup_by"), "engine");
}

#[test]
fn unknown_numbers_are_challenged_and_bad_offers_get_488() {
    // Without credentials a number that is not public gets 401, as an agent's would: a 404 would
    // tell a scanner which numbers exist (docs/security.md).
    let engine = Engine::start("refusals", "");
    let out = sipp(
        &engine,
        "uac_expect_401.xml",
        "9999",
        &[],
        Duration::from_secs(20),
    );
    assert_ok(&out, "401");
    let out = sipp(
        &engine,
        "uac_expect_488.xml",
        "137",
        &[],
        Duration::from_secs(20),
    );
    assert_ok(&out, "488");
}

#[test]
fn the_api_requires_a_token_of_the_right_role() {
    let engine = Engine::start("api", "");
    let (status, body) = engine.get("/api/health", None);
    assert_eq!((status, body.contains("\"ok\"")), (200, true), "{body}");
    assert_eq!(engine.get("/api/calls", None).0, 401);
    assert_eq!(engine.get("/api/calls", Some("psk_wrong")).0, 401);
    let screener = engine.token("screener");
    assert_eq!(engine.get("/api/calls", Some(&screener)).0, 403);
    let supervisor = engine.token("supervisor");
    assert_eq!(engine.get("/api/calls?limit=5", Some(&supervisor)).0, 200);
    let (status, metrics) = engine.get("/metrics", None);
    assert_eq!(status, 200);
    assert!(metrics.contains("pasokh_calls_active"), "{metrics}");
}
