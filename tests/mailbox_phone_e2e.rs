//! The managers' voice mailbox over the phone, end to end: a citizen leaves a voice message on
//! 1888 (SIPp and a test RTP peer speaking a 600 Hz tone), a screener refers it through the
//! API, the manager dials `*98`, keys mailbox and PIN as RFC 4733 events, hears the citizen's
//! recording in the RTP the engine sends, and records a reply (a 900 Hz tone); the citizen
//! then follows up by tracking code and the RTP back carries the reply.

mod common;

use std::time::{Duration, Instant};

use common::ivr_call::IvrCall;
use common::rtp::{Received, PT_EVENT};
use common::wav::{self, parse_wav};
use common::{http_get_bytes, http_send, Engine};
use serde_json::Value;

/// What the citizen says (a tone the test can find again in what the manager hears).
const CITIZEN_HZ: f32 = 600.0;
const CITIZEN_MS: u64 = 3000;
/// What the manager says in reply.
const MANAGER_HZ: f32 = 900.0;
const MANAGER_MS: u64 = 2000;

/// Milliseconds of `received` audio that are a clear tone at `hz` (20 ms frames).
fn tone_ms(received: &Received, hz: f32) -> u64 {
    received
        .pcm()
        .chunks(160)
        .filter(|frame| frame.len() == 160 && wav::is_tone(frame, hz))
        .count() as u64
        * 20
}

fn message_of(engine: &Engine, token: &str, call_id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let list = engine.get_json("/api/messages?limit=1000", token);
        if let Some(found) = list
            .as_array()
            .into_iter()
            .flatten()
            .find(|m| m["call_id"] == call_id)
        {
            return found.clone();
        }
        assert!(Instant::now() < deadline, "call {call_id} filed nothing");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A citizen leaves a voice message on 1888 (1 message, 3 complaint): returns its code.
fn leave_voice_message(engine: &Engine, admin: &str) -> String {
    let mut call = IvrCall::start(engine, "1888", Duration::from_secs(120));
    call.wait_welcome();
    call.keys("1", Duration::from_millis(600));
    call.keys("3", Duration::from_millis(200));
    call.peer
        .wait_tone_end(1000.0, 300, Duration::from_secs(60));
    call.peer
        .send_audio_pcmu(&wav::tone(&[CITIZEN_HZ], CITIZEN_MS, 6000.0));
    call.ask("", "#");
    call.peer.send_rfc4733_digits("1", PT_EVENT);
    assert!(call.wait(), "the voice message call failed");
    let message = message_of(engine, admin, &call.call_id);
    assert_eq!(message["status"], "new", "{message:#}");
    message["tracking_code"]
        .as_str()
        .unwrap_or_else(|| panic!("no tracking code: {message:#}"))
        .to_string()
}

fn refer(engine: &Engine, token: &str, code: &str, mailbox: &str) -> (u16, String) {
    http_send(
        engine.http,
        "POST",
        &format!("/api/messages/{code}/screening"),
        token,
        "application/json",
        format!(r#"{{"decision":"refer","mailbox":"{mailbox}"}}"#).as_bytes(),
    )
}

fn engine_with_manager(name: &str) -> Engine {
    let engine = Engine::start(name, "");
    engine.cli(&[
        "manager",
        "add",
        "501",
        "--name",
        "District 6 manager",
        "--pin",
        "5011",
        "--password",
        "manager501",
    ]);
    engine
}

#[test]
fn a_manager_hears_a_referred_message_on_the_phone_and_the_citizen_hears_the_reply() {
    let engine = engine_with_manager("mailbox-phone");
    let admin = engine.token("admin");
    let screener = engine.token("screener");
    let code = leave_voice_message(&engine, &admin);

    let (status, body) = refer(&engine, &screener, &code, "501");
    assert_eq!(status, 200, "refer: {body}");
    let (status, body) = refer(&engine, &screener, &code, "501");
    assert_eq!(status, 409, "a second decision: {body}");

    // The manager: *98, mailbox and PIN, then the message.
    let mut call = IvrCall::start(&engine, "*98", Duration::from_secs(150));
    call.wait_welcome();
    call.ask("501", "#");
    let heard = call.ask("5011", "#");
    let citizen = tone_ms(&heard, CITIZEN_HZ);
    eprintln!(
        "the manager heard {} ms of audio, {citizen} ms of the citizen's tone",
        heard.audible_ms(common::ivr_call::AUDIBLE)
    );
    assert!(
        citizen.abs_diff(CITIZEN_MS) <= 400,
        "the RTP to the manager carries the citizen's {CITIZEN_MS} ms at {CITIZEN_HZ} Hz: \
         {citizen} ms"
    );
    // 1: record a reply after the beep; # ends it; 1 sends it.
    call.peer.send_rfc4733_digits("1", PT_EVENT);
    call.peer
        .wait_tone_end(1000.0, 300, Duration::from_secs(60));
    call.peer
        .send_audio_pcmu(&wav::tone(&[MANAGER_HZ], MANAGER_MS, 6000.0));
    call.ask("", "#");
    // 3: listen to the take first; it is the manager's own tone.
    let own = call.ask("", "3");
    assert!(
        tone_ms(&own, MANAGER_HZ) >= MANAGER_MS - 400,
        "the manager hears their own take before sending"
    );
    call.peer.send_rfc4733_digits("1", PT_EVENT);
    assert!(
        call.wait(),
        "after the last message the engine says goodbye; log:\n{}",
        engine.log_text()
    );

    let message = engine.get_json(&format!("/api/messages/{code}"), &admin);
    assert_eq!(message["status"], "replied", "{message:#}");
    assert_eq!(message["reply_channel"], "phone", "{message:#}");
    let url = message["reply_recording_url"]
        .as_str()
        .unwrap_or_else(|| panic!("a reply: {message:#}"))
        .to_string();
    let (status, _, bytes) = http_get_bytes(engine.http, &url, &admin);
    assert_eq!(status, 200, "GET {url}");
    let reply = parse_wav(&bytes).unwrap_or_else(|e| panic!("{url}: {e}"));
    assert_eq!((reply.rate, reply.channels), (8000, 1));
    let samples = reply.mono();
    let (start, end) = wav::audible_span(&samples, 256).unwrap_or((0, 0));
    assert!(
        wav::is_tone(&samples[start..end], MANAGER_HZ),
        "the reply on disk is the manager's tone"
    );

    // The citizen follows up from the same number: the status, then the reply.
    let mut call = IvrCall::start(&engine, "1888", Duration::from_secs(120));
    call.wait_welcome();
    call.keys("2", Duration::from_millis(600));
    let heard = call.ask(&code, "#");
    call.hang_up();
    assert!(call.wait(), "the follow-up call failed");
    let replied = tone_ms(&heard, MANAGER_HZ);
    eprintln!("the citizen heard {replied} ms of the manager's reply");
    assert!(
        replied.abs_diff(MANAGER_MS) <= 400,
        "the RTP back to the citizen carries the {MANAGER_MS} ms reply: {replied} ms"
    );
    common::heard::assert_heard_prompt(&heard, "status/replied", "the status");

    // Every listen is in the audit log: the manager's on the phone.
    let audit = engine.get_json(&format!("/api/audit?tracking_code={code}"), &admin);
    let actions: Vec<(String, String, String)> = audit
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| {
            (
                a["actor"].as_str().unwrap_or_default().to_string(),
                a["channel"].as_str().unwrap_or_default().to_string(),
                a["action"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    for expected in [
        ("manager:501", "phone", "listen"),
        ("manager:501", "phone", "reply"),
        ("screener", "web", "screen"),
    ] {
        assert!(
            actions
                .iter()
                .any(|(a, c, x)| (a.as_str(), c.as_str(), x.as_str()) == expected),
            "{expected:?} missing from {actions:?}"
        );
    }
}

#[test]
fn a_wrong_pin_three_times_ends_the_call() {
    let engine = engine_with_manager("mailbox-wrong-pin");
    let admin = engine.token("admin");
    let mut call = IvrCall::start(&engine, "*98", Duration::from_secs(90));
    call.wait_welcome();
    for _ in 0..3 {
        call.ask("501", "#");
        call.ask("0000", "#");
    }
    assert!(
        call.wait(),
        "the engine hangs up after three wrong PINs; log:\n{}",
        engine.log_text()
    );
    let calls = engine.get_json("/api/calls?limit=10", &admin);
    let record = calls
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["call_id"] == call.call_id.as_str())
        .cloned()
        .unwrap_or_default();
    assert_eq!(record["hangup_by"], "engine", "{record:#}");
    assert_eq!(
        record["dtmf"], "",
        "mailbox and PIN keys are not kept in the call record: {record:#}"
    );
    assert!(
        !engine.log_text().contains("0000#"),
        "the PIN is not in the log"
    );
}
