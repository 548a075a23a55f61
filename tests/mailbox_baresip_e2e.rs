//! The mailbox loop with real softphones: baresip as the citizen (its microphone a 600 Hz tone)
//! leaves a voice message on 1888; it is referred through the API; baresip as the manager (its
//! microphone a 900 Hz tone) dials `*98`, keys mailbox and PIN (`sndcode`, RFC 4733), hears the
//! message and records a reply; the citizen's baresip follows up and hears the reply.
//!
//! baresip cannot tell the test when a prompt ends, so keys are sent after the prompts before
//! them have played: their lengths are read from the prompt files, plus a margin.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::phone::{Account, Baresip};
use common::wav::{self, read_wav, write_wav};
use common::{http_send, repo_dir, temp_dir, Engine};
use serde_json::Value;

const CITIZEN_HZ: f32 = 600.0;
const MANAGER_HZ: f32 = 900.0;
/// Added to each wait for the prompts before a key: the network, the jitter buffer, a late
/// start of the playback.
const MARGIN: Duration = Duration::from_millis(1500);

/// How long the prompts `ids` play.
fn prompts_ms(ids: &[&str]) -> Duration {
    let ms: u64 = ids
        .iter()
        .map(|id| read_wav(&repo_dir().join(format!("prompts/fa/{id}.wav"))).duration_ms())
        .sum();
    Duration::from_millis(ms)
}

/// Waits for `ids` to play, then sends `keys` one by one.
fn after(phone: &Baresip, ids: &[&str], keys: &str) {
    std::thread::sleep(prompts_ms(ids) + MARGIN);
    for key in keys.chars() {
        phone
            .command("sndcode", &key.to_string())
            .unwrap_or_else(|| panic!("baresip did not send {key}: {}", phone.log()));
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// A microphone: a steady tone for three minutes (the source must outlast the call).
fn microphone(dir: &Path, hz: f32) -> PathBuf {
    let path = dir.join(format!("mic-{hz}.wav"));
    write_wav(&path, 8000, &wav::tone(&[hz], 180_000, 5000.0));
    path
}

/// Milliseconds of clear tone at `hz` in a recording (20 ms frames).
fn tone_ms(path: &Path, hz: f32) -> u64 {
    let samples = read_wav(path).mono();
    samples
        .chunks(160)
        .filter(|f| f.len() == 160 && wav::is_tone(f, hz))
        .count() as u64
        * 20
}

/// The newest call to `to`, once it has ended.
fn ended_call_to(engine: &Engine, token: &str, to: &str, within: Duration) -> Value {
    let deadline = Instant::now() + within;
    loop {
        let calls = engine.get_json("/api/calls?limit=20", token);
        let newest = calls
            .as_array()
            .into_iter()
            .flatten()
            .find(|c| c["to"] == to)
            .cloned();
        if let Some(call) = newest.filter(|c| !c["ended_at"].is_null()) {
            return call;
        }
        assert!(
            Instant::now() < deadline,
            "no ended call to {to}: {calls:#}\n{}",
            engine.log_text()
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

#[test]
fn baresip_citizen_and_manager_close_the_loop() {
    let engine = Engine::start("mailbox-baresip", "");
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
    let admin = engine.token("admin");
    let screener = engine.token("screener");
    let work = temp_dir("mailbox-baresip-mics");
    let citizen_mic = microphone(&work, CITIZEN_HZ);
    let manager_mic = microphone(&work, MANAGER_HZ);
    let sip = engine.sip;

    // 1. The citizen: 1888, 1 (a message), 3 (complaint); nobody is free, so a voice message:
    //    three seconds of the microphone after the beep, #, then 1 to keep it.
    let citizen = Baresip::start(&citizen_mic, Account::Citizen);
    citizen.dial(&format!("sip:1888@127.0.0.1:{sip}"));
    after(&citizen, &["ivr/welcome_1888"], "1");
    after(&citizen, &[], "3");
    // Within the call-takers' hours the empty queue is tried first; outside them, the closed
    // notice: the simulator (on the engine's own clock and flows) says which.
    let transcript = engine.cli(&["flows", "simulate", "1888", "--keys", "1 3"]);
    let open = String::from_utf8_lossy(&transcript.stdout).contains("node message_agent (queue)");
    let before_beep: &[&str] = if open {
        &[
            "ivr/connecting_agent",
            "ivr/agents_busy_message",
            "ivr/record_instructions",
            "beep",
        ]
    } else {
        &["ivr/office_closed", "ivr/record_instructions", "beep"]
    };
    after(&citizen, before_beep, "");
    std::thread::sleep(Duration::from_secs(3));
    after(&citizen, &[], "#");
    after(&citizen, &[], "1");
    let call = ended_call_to(&engine, &admin, "1888", Duration::from_secs(60));
    let messages = engine.get_json("/api/messages?status=new", &admin);
    let message = messages
        .as_array()
        .into_iter()
        .flatten()
        .find(|m| m["call_ref"] == call["call_ref"])
        .cloned()
        .unwrap_or_else(|| panic!("the voice message: {messages:#}\n{}", citizen.log()));
    let code = message["tracking_code"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(message["kind"], "complaint", "{message:#}");

    // 2. Referred to mailbox 501.
    let (status, body) = http_send(
        engine.http,
        "POST",
        &format!("/api/messages/{code}/screening"),
        &screener,
        "application/json",
        br#"{"decision":"refer","mailbox":"501"}"#,
    );
    assert_eq!(status, 200, "{body}");

    // 3. The manager: *98, 501#, 5011#; the message is read and played; 1, the reply after the
    //    beep, #, then 1 to send it.
    let manager = Baresip::start(&manager_mic, Account::Citizen);
    manager.dial(&format!("sip:*98@127.0.0.1:{sip}"));
    after(
        &manager,
        &["mailbox/welcome", "mailbox/enter_mailbox"],
        "501#",
    );
    after(&manager, &["mailbox/enter_pin"], "5011#");
    // The count, the date, line and kind, the recording itself (about 3 s), the item menu.
    std::thread::sleep(Duration::from_secs(10));
    after(&manager, &["mailbox/item_menu"], "1");
    after(&manager, &["mailbox/reply_instructions", "beep"], "");
    std::thread::sleep(Duration::from_secs(2));
    after(&manager, &[], "#");
    after(&manager, &[], "1");
    ended_call_to(&engine, &admin, "*98", Duration::from_secs(60));
    manager.command("hangup", "");
    let heard = manager
        .recording("dec")
        .unwrap_or_else(|| panic!("the manager's baresip recorded nothing: {}", manager.log()));
    let citizen_heard = tone_ms(&heard, CITIZEN_HZ);
    eprintln!("the manager heard {citizen_heard} ms of the citizen's tone");
    assert!(
        citizen_heard >= 2000,
        "the manager heard the citizen's message: {citizen_heard} ms of {CITIZEN_HZ} Hz"
    );
    let message = engine.get_json(&format!("/api/messages/{code}"), &admin);
    assert_eq!(message["status"], "replied", "{message:#}");
    assert_eq!(message["reply_channel"], "phone", "{message:#}");

    // 4. The citizen follows up: 2, the code, #: the status, then the manager's reply.
    citizen.dial(&format!("sip:1888@127.0.0.1:{sip}"));
    after(&citizen, &["ivr/welcome_1888"], "2");
    after(&citizen, &["ivr/enter_tracking_code"], &format!("{code}#"));
    std::thread::sleep(
        prompts_ms(&[
            "ivr/message_status_is",
            "status/replied",
            "ivr/manager_reply_follows",
        ]) + Duration::from_secs(5),
    );
    citizen.command("hangup", "");
    ended_call_to(&engine, &admin, "1888", Duration::from_secs(30));
    let heard = citizen
        .recording("dec")
        .unwrap_or_else(|| panic!("the citizen's baresip recorded nothing"));
    let reply_heard = tone_ms(&heard, MANAGER_HZ);
    eprintln!("the citizen heard {reply_heard} ms of the manager's reply");
    assert!(
        reply_heard >= 1200,
        "the citizen heard the manager's reply: {reply_heard} ms of {MANAGER_HZ} Hz"
    );
    let _ = std::fs::remove_dir_all(&work);
}
