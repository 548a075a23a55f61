//! Agent queues end to end: a SIPp citizen (its RTP a test peer) presses 0 on 1888, baresip
//! call-takers registered with digest auth log in with *21 and answer; the engine queues, offers,
//! bridges, moves on after ring-no-answer, counts abandons and lets the caller leave by key 1.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::phone::{Account, Baresip, SippCall};
use common::rtp::RtpPeer;
use common::wav::{read_wav, tone, write_wav};
use common::{temp_dir, Engine};
use serde_json::Value;

const CALLER_TONE: f32 = 440.0;
const AGENT_TONE: f32 = 1000.0;

/// Power of `freq` relative to the total power of `samples` (0–1): a Goertzel filter.
fn tone_share(samples: &[i16], freq: f32) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    let coeff = 2.0 * (2.0 * std::f64::consts::PI * f64::from(freq) / 8000.0).cos();
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    let mut total = 0.0f64;
    for &x in samples {
        let x = f64::from(x);
        total += x * x;
        let s = x + coeff * s1 - s2;
        s2 = s1;
        s1 = s;
    }
    let power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
    if total == 0.0 {
        0.0
    } else {
        (2.0 * power / (samples.len() as f64 * total)).min(1.0)
    }
}

/// The agent's "voice": a steady 1 kHz tone, longer than any call (baresip hangs up at its end).
fn agent_voice(dir: &Path) -> PathBuf {
    let path = dir.join("agent.wav");
    write_wav(&path, 8000, &tone(&[AGENT_TONE], 90_000, 8000.0));
    path
}

fn agent(engine: &Engine, id: &str, auto_answer: bool, voice: &Path) -> Baresip {
    let phone = Baresip::start(
        voice,
        Account::Agent {
            user: id,
            password: "pw",
            sip_port: engine.sip,
            auto_answer,
        },
    );
    phone.wait_registered(Duration::from_secs(15));
    phone
}

fn add_agents(engine: &Engine, ids: &[&str]) {
    for id in ids {
        engine.cli(&[
            "agent",
            "add",
            id,
            "--name",
            &format!("Agent {id}"),
            "--password",
            "pw",
            "--queue",
            "1888",
        ]);
    }
    std::thread::sleep(Duration::from_millis(1500)); // the engine reloads agents every second
}

/// Dials a feature code from the agent's phone and waits until the agent shows `state`.
fn feature(engine: &Engine, token: &str, phone: &Baresip, code: &str, id: &str, state: &str) {
    phone.dial(&format!("sip:{code}@127.0.0.1:{}", engine.sip));
    wait_snapshot(engine, token, Duration::from_secs(15), |s| {
        agent_state(s, id) == state
    });
}

fn agent_state(snapshot: &Value, id: &str) -> String {
    snapshot["agents"]
        .as_array()
        .and_then(|agents| agents.iter().find(|a| a["id"] == id))
        .and_then(|a| a["state"].as_str())
        .unwrap_or("")
        .to_string()
}

fn queue_1888(snapshot: &Value) -> Value {
    snapshot["queues"]
        .as_array()
        .and_then(|q| q.iter().find(|q| q["name"] == "1888"))
        .cloned()
        .unwrap_or(Value::Null)
}

fn wait_snapshot(
    engine: &Engine,
    token: &str,
    within: Duration,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + within;
    loop {
        let snapshot = engine.get_json("/api/queues", token);
        if done(&snapshot) {
            return snapshot;
        }
        assert!(
            Instant::now() < deadline,
            "the queues never reached the expected state: {snapshot:#}\n{}",
            engine.log_text()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A citizen calls 1888 and presses 0 as soon as the welcome starts; returns the call and its RTP.
fn citizen_presses_0(engine: &Engine, stay_ms: u64) -> (SippCall, RtpPeer) {
    let peer = RtpPeer::bind();
    let call = SippCall::start(
        engine.sip,
        "media_uac.xml",
        "1888",
        peer.port(),
        stay_ms,
        Duration::from_secs(stay_ms / 1000 + 40),
    );
    peer.remote(Duration::from_secs(10));
    peer.send_rfc4733_digits("0", 101);
    (call, peer)
}

fn count_wavs(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| {
            let path = e.path();
            if path.is_dir() {
                count_wavs(&path)
            } else {
                usize::from(path.extension().is_some_and(|x| x == "wav"))
            }
        })
        .sum()
}

/// The conversation recording attached to the only 1888 message, waited for; its WAV samples.
fn conversation_recording(engine: &Engine, token: &str) -> Vec<i16> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let list = engine.get_json("/api/messages?line=1888", token);
        let url = list
            .as_array()
            .into_iter()
            .flatten()
            .find_map(|m| m["call_recording_url"].as_str().map(str::to_string));
        if let Some(url) = url {
            let (status, _) = engine.get(&url, Some(token));
            assert_eq!(status, 200, "{url} plays");
            let name = url.trim_start_matches("/api/recordings/");
            return read_wav(&engine.data.join("recordings").join(name)).mono();
        }
        assert!(
            Instant::now() < deadline,
            "no conversation recording attached: {list:#}\n{}",
            engine.log_text()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_citizen_reaches_a_baresip_call_taker_and_audio_flows_both_ways() {
    // Queue 1888 records its conversations: the recording must hold both voices.
    let engine = Engine::start("acd-answer", "[queues.1888]\nrecord = true\n");
    let token = engine.token("admin");
    let dir = temp_dir("acd-answer");
    add_agents(&engine, &["2001"]);
    let phone = agent(&engine, "2001", true, &agent_voice(&dir));
    feature(&engine, &token, &phone, "*21", "2001", "available");

    let (call, peer) = citizen_presses_0(&engine, 14_000);
    wait_snapshot(&engine, &token, Duration::from_secs(20), |s| {
        agent_state(s, "2001") == "on_call"
    });
    let mark = peer.mark();
    peer.send_audio_pcmu(&tone(&[CALLER_TONE], 3000, 8000.0));
    let received = peer.since(mark);
    let heard = received.pcm();
    eprintln!(
        "citizen received {} packets, {} audible ms; 1 kHz share {:.2}",
        received.packets.len(),
        received.audible_ms(500),
        tone_share(&heard, AGENT_TONE)
    );
    assert!(call.wait(), "the citizen's call ends normally");

    assert!(
        tone_share(&heard, AGENT_TONE) > 0.5,
        "the citizen hears the agent (1 kHz share {:.2})",
        tone_share(&heard, AGENT_TONE)
    );
    let recording = phone
        .recording("dec")
        .unwrap_or_else(|| panic!("baresip recorded nothing: {}", phone.log()));
    let agent_heard = read_wav(&recording).mono();
    assert!(
        tone_share(&agent_heard, CALLER_TONE) > 0.2,
        "the agent hears the citizen (440 Hz share {:.2})",
        tone_share(&agent_heard, CALLER_TONE)
    );
    let snapshot = wait_snapshot(&engine, &token, Duration::from_secs(10), |s| {
        agent_state(s, "2001") != "on_call"
    });
    let queue = queue_1888(&snapshot);
    assert_eq!(
        (
            queue["offered_today"].as_u64(),
            queue["answered_today"].as_u64()
        ),
        (Some(1), Some(1)),
        "{queue:#}"
    );
    let conversation = conversation_recording(&engine, &token);
    let (citizen, agent) = (
        tone_share(&conversation, CALLER_TONE),
        tone_share(&conversation, AGENT_TONE),
    );
    eprintln!(
        "conversation recording: {} ms, 440 Hz share {citizen:.2}, 1 kHz share {agent:.2}",
        conversation.len() / 8
    );
    assert!(
        citizen > 0.05 && agent > 0.2,
        "both sides are in the recording (440 Hz {citizen:.2}, 1 kHz {agent:.2})"
    );
    // One call, one message: opened with a tracking code when the call was queued (the code
    // the call-taker's phone showed), completed at the answer.
    let messages = engine.get_json("/api/messages?line=1888", &token);
    let messages = messages.as_array().cloned().unwrap_or_default();
    assert_eq!(messages.len(), 1, "{messages:#?}");
    assert_eq!(messages[0]["kind"], "guidance", "{:#}", messages[0]);
    assert!(
        messages[0]["tracking_code"]
            .as_str()
            .is_some_and(|c| c.len() == 8),
        "{:#}",
        messages[0]
    );
}

#[test]
fn ring_no_answer_moves_the_call_to_a_second_call_taker() {
    let engine = Engine::start("acd-rna", "");
    let token = engine.token("admin");
    let dir = temp_dir("acd-rna");
    let voice = agent_voice(&dir);
    add_agents(&engine, &["2001", "2002"]);
    let silent = agent(&engine, "2001", false, &voice);
    feature(&engine, &token, &silent, "*21", "2001", "available");
    std::thread::sleep(Duration::from_millis(300)); // 2001 has been idle longest: offered first
    let answering = agent(&engine, "2002", true, &voice);
    feature(&engine, &token, &answering, "*21", "2002", "available");

    let (call, _peer) = citizen_presses_0(&engine, 25_000);
    wait_snapshot(&engine, &token, Duration::from_secs(15), |s| {
        agent_state(s, "2001") == "ringing"
    });
    let snapshot = wait_snapshot(&engine, &token, Duration::from_secs(25), |s| {
        agent_state(s, "2002") == "on_call"
    });
    assert_ne!(agent_state(&snapshot, "2001"), "on_call");
    drop(call);
}

#[test]
fn a_caller_who_hangs_up_while_waiting_counts_as_abandoned() {
    let engine = Engine::start("acd-abandon", "");
    let token = engine.token("admin");
    let dir = temp_dir("acd-abandon");
    add_agents(&engine, &["2001"]);
    let silent = agent(&engine, "2001", false, &agent_voice(&dir));
    feature(&engine, &token, &silent, "*21", "2001", "available");

    let (call, _peer) = citizen_presses_0(&engine, 9_000);
    wait_snapshot(&engine, &token, Duration::from_secs(15), |s| {
        queue_1888(s)["waiting"] == 1
    });
    assert!(call.wait(), "the citizen hangs up (BYE) while waiting");
    let snapshot = wait_snapshot(&engine, &token, Duration::from_secs(10), |s| {
        queue_1888(s)["abandoned_today"] == 1
    });
    assert_eq!(queue_1888(&snapshot)["waiting"], 0);
    assert_ne!(
        agent_state(&snapshot, "2001"),
        "ringing",
        "the agent's phone stopped ringing"
    );
}

#[test]
fn the_exit_key_during_an_announcement_leads_to_a_voice_message() {
    let engine = Engine::start("acd-exit", "");
    let token = engine.token("admin");
    let dir = temp_dir("acd-exit");
    add_agents(&engine, &["2001"]);
    let phone = agent(&engine, "2001", true, &agent_voice(&dir));
    feature(&engine, &token, &phone, "*21", "2001", "available");
    feature(&engine, &token, &phone, "*231", "2001", "paused"); // logged in, on a break

    let (call, peer) = citizen_presses_0(&engine, 90_000);
    wait_snapshot(&engine, &token, Duration::from_secs(15), |s| {
        queue_1888(s)["waiting"] == 1
    });
    // The first position announcement comes about 15 s in; press 1 while it plays.
    std::thread::sleep(Duration::from_secs(17));
    peer.send_rfc4733_digits("1", 101);
    let snapshot = wait_snapshot(&engine, &token, Duration::from_secs(10), |s| {
        queue_1888(s)["exited_today"] == 1
    });
    assert_eq!(queue_1888(&snapshot)["waiting"], 0);
    // The caller is now told call-takers are busy and asked for the message's kind (the menu
    // after a ~9 s prompt): 3, a complaint. Then the beep, and the caller speaks.
    std::thread::sleep(Duration::from_secs(11));
    peer.send_rfc4733_digits("3", 101);
    peer.wait_tone_end(1000.0, 300, Duration::from_secs(40));
    peer.send_audio_pcmu(&tone(&[CALLER_TONE], 2000, 8000.0));
    peer.send_rfc4733_digits("#", 101);
    let deadline = Instant::now() + Duration::from_secs(10);
    while count_wavs(&engine.data.join("recordings")) == 0 {
        assert!(
            Instant::now() < deadline,
            "a voice message was recorded: {}",
            engine.log_text()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // At the review ("1 keep, 2 record again") the caller keeps the take; the voice message
    // completes the message opened in the queue: one message, a complaint with its recording
    // and the tracking code the caller hears.
    std::thread::sleep(Duration::from_secs(1));
    peer.send_rfc4733_digits("1", 101);
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let list = engine.get_json("/api/messages?line=1888", &token);
        let list = list.as_array().cloned().unwrap_or_default();
        let done = list.len() == 1
            && list[0]["kind"] == "complaint"
            && list[0]["recording_url"].is_string()
            && list[0]["tracking_code"].is_string();
        if done {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "one complaint with its recording: {list:#?}\n{}",
            engine.log_text()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    drop(call);
}
