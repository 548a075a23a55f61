//! Call-takers in headless Chromium: the agent page signs in with the softphone's password, opens
//! its phone (a WebSocket), logs in, rings when a SIPp citizen presses 0 on 1888, and answers
//! with WebRTC (ICE-lite, DTLS-SRTP, G.711) through the release binary's media workers. Chromium's
//! microphone is a WAV file with a known tone; the citizen's RTP is a test peer.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::browser::{wait_for, Browser};
use common::phone::{Account, Baresip, SippCall};
use common::rtp::RtpPeer;
use common::wav::{tone, write_wav};
use common::{temp_dir, Engine};
use pasokh::store::Store;
use serde_json::{json, Value};

const BROWSER_TONE: f32 = 1000.0;
const CITIZEN_TONE: f32 = 440.0;

/// Power of `freq` relative to the total power of `samples` (0–1): a Goertzel filter.
fn tone_share(samples: &[i16], freq: f32) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    let coeff = 2.0 * (2.0 * std::f64::consts::PI * f64::from(freq) / 8000.0).cos();
    let (mut s1, mut s2, mut total) = (0.0f64, 0.0f64, 0.0f64);
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

/// Chromium with a fake microphone playing `voice`, permission granted, loopback ICE allowed.
fn chromium_with_microphone(voice: &Path) -> Browser {
    Browser::start(&[
        "--use-fake-ui-for-media-stream".into(),
        "--use-fake-device-for-media-stream".into(),
        format!("--use-file-for-fake-audio-capture={}", voice.display()),
        "--allow-loopback-in-peer-connection".into(),
        "--autoplay-policy=no-user-gesture-required".into(),
    ])
}

fn add_agent(engine: &Engine, id: &str) {
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

fn wait_agents_loaded(engine: &Engine, token: &str, ids: &[&str]) {
    wait_snapshot(engine, token, Duration::from_secs(15), |s| {
        ids.iter().all(|id| !agent_state(s, id).is_empty())
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

/// Signs in on the agent page as `id` and waits for its phone to be connected.
fn sign_in(browser: &Browser, engine: &Engine, id: &str) {
    browser.navigate(&format!("http://127.0.0.1:{}/agent", engine.http));
    let field = |css: &str| wait_for(Duration::from_secs(10), css, || browser.find(css));
    browser.type_into(&field("#agent"), id);
    browser.type_into(&field("#password"), "pw");
    browser.click(&field("#signin"));
    wait_for(Duration::from_secs(15), "the phone connects", || {
        browser
            .text_of("#connection")
            .filter(|t| t.contains("متصل هستید"))
    });
    wait_for(Duration::from_secs(10), "the microphone is ready", || {
        browser.text_of("#mic").filter(|t| t.contains("آماده"))
    });
}

fn click(browser: &Browser, css: &str) {
    let element = wait_for(Duration::from_secs(10), css, || browser.find(css));
    browser.click(&element);
}

fn visible(browser: &Browser, css: &str) -> bool {
    let script = "const e = document.querySelector(arguments[0]); return !!e && !e.classList.contains('hidden');";
    browser.script(script, json!([css])) == Some(Value::Bool(true))
}

/// Logs the page's agent in with its button and waits for the wallboard to agree.
fn log_in_on_page(browser: &Browser, engine: &Engine, token: &str, id: &str) {
    click(browser, "#login");
    wait_snapshot(engine, token, Duration::from_secs(10), |s| {
        agent_state(s, id) == "available"
    });
    wait_for(Duration::from_secs(10), "the page shows available", || {
        browser.text_of("#state").filter(|t| t.contains("آماده"))
    });
}

/// A citizen calls 1888 and presses 0; `scenario` decides who hangs up.
fn citizen_presses_0(engine: &Engine, scenario: &str, stay_ms: u64) -> (SippCall, RtpPeer) {
    let peer = RtpPeer::bind();
    let call = SippCall::start(
        engine.sip,
        scenario,
        "1888",
        peer.port(),
        stay_ms,
        Duration::from_secs(stay_ms / 1000 + 60),
    );
    peer.remote(Duration::from_secs(10));
    peer.send_rfc4733_digits("0", 101);
    (call, peer)
}

fn wait_ringing(browser: &Browser) {
    wait_for(Duration::from_secs(20), "the page rings", || {
        visible(browser, "#ring-panel").then_some(())
    });
}

/// What the page measured of the caller's audio: packets and total energy received.
fn received_by_page(browser: &Browser) -> (u64, f64) {
    let script = "const m = document.getElementById('rx-level'); \
                  return [Number(m.dataset.packets || 0), Number(m.dataset.energy || 0)];";
    let value = browser.script(script, json!([])).unwrap_or(Value::Null);
    (
        value[0].as_u64().unwrap_or(0),
        value[1].as_f64().unwrap_or(0.0),
    )
}

fn queue_log(data: &Path) -> Vec<(String, Option<String>)> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("runtime: {e}"));
    runtime.block_on(async {
        let store = Store::open(data)
            .await
            .unwrap_or_else(|e| panic!("store: {e}"));
        let rows = store
            .queue_log_since(0)
            .await
            .unwrap_or_else(|e| panic!("queue log: {e}"));
        store.close().await;
        rows.into_iter().map(|r| (r.kind, r.agent)).collect()
    })
}

fn count(log: &[(String, Option<String>)], kind: &str, agent: &str) -> usize {
    log.iter()
        .filter(|(k, a)| k == kind && a.as_deref() == Some(agent))
        .count()
}

#[test]
fn a_call_taker_answers_in_chromium_audio_flows_both_ways_and_the_page_hangs_up() {
    let engine = Engine::start("browser-phone", "");
    let token = engine.token("admin");
    let dir = temp_dir("browser-phone");
    add_agent(&engine, "2001");
    wait_agents_loaded(&engine, &token, &["2001"]);
    let voice = dir.join("voice.wav");
    write_wav(&voice, 8000, &tone(&[BROWSER_TONE], 120_000, 9000.0));
    let browser = chromium_with_microphone(&voice);
    sign_in(&browser, &engine, "2001");
    log_in_on_page(&browser, &engine, &token, "2001");

    let (call, peer) = citizen_presses_0(&engine, "media_uac_wait_bye.xml", 60_000);
    wait_ringing(&browser);
    let code = browser.text_of("#ring-code").unwrap_or_default();
    assert_eq!(
        code.trim().len(),
        8,
        "the ring shows the tracking code: {code:?}"
    );
    let caller = browser.text_of("#ring-caller").unwrap_or_default();
    assert!(
        caller.contains("***"),
        "the caller's number is masked: {caller:?}"
    );
    click(&browser, "#answer");
    wait_snapshot(&engine, &token, Duration::from_secs(20), |s| {
        agent_state(s, "2001") == "on_call"
    });
    wait_for(Duration::from_secs(10), "the page says talking", || {
        browser
            .text_of("#call-status")
            .filter(|t| t.contains("در حال گفتگو"))
    });

    let mark = peer.mark();
    peer.send_audio_pcmu(&tone(&[CITIZEN_TONE], 4000, 8000.0));
    let heard = peer.since(mark).pcm();
    let share = tone_share(&heard, BROWSER_TONE);
    eprintln!(
        "the citizen received {} ms; 1 kHz share {share:.2}",
        heard.len() / 8
    );
    assert!(
        share > 0.3,
        "the citizen hears the browser's tone (1 kHz share {share:.2})"
    );
    let (packets, energy) = received_by_page(&browser);
    eprintln!("the page received {packets} packets, total audio energy {energy:.3}");
    assert!(
        packets > 100,
        "the page receives the citizen's RTP ({packets} packets)"
    );
    assert!(energy > 0.01, "and it is not silence (energy {energy:.3})");

    // The message of the call, read and corrected by the call-taker during the call.
    wait_for(Duration::from_secs(10), "the message panel opens", || {
        visible(&browser, "#message-panel").then_some(())
    });
    let text = browser
        .find("#msg-text")
        .unwrap_or_else(|| panic!("no message text field"));
    browser.type_into(&text, "چراغ کوچه خاموش است");
    click(&browser, "#msg-save");
    wait_for(Duration::from_secs(10), "the message is saved", || {
        browser
            .text_of("#msg-status")
            .filter(|t| t.contains("ذخیره شد"))
    });
    let message = engine.get_json(&format!("/api/messages/{}", code.trim()), &token);
    assert_eq!(message["text"], "چراغ کوچه خاموش است", "{message:#}");

    // Hold: the citizen hears music, not the call-taker; resuming joins them again.
    click(&browser, "#hold");
    wait_for(Duration::from_secs(10), "the page shows the hold", || {
        browser
            .text_of("#call-status")
            .filter(|t| t.contains("انتظار"))
    });
    let mark = peer.mark();
    peer.send_audio_pcmu(&tone(&[CITIZEN_TONE], 2000, 8000.0));
    let on_hold = peer.since(mark);
    let held_share = tone_share(&on_hold.pcm(), BROWSER_TONE);
    eprintln!(
        "on hold the citizen heard {} audible ms; 1 kHz share {held_share:.2}",
        on_hold.audible_ms(500)
    );
    assert!(
        held_share < 0.1,
        "on hold the call-taker is not heard ({held_share:.2})"
    );
    assert!(
        on_hold.audible_ms(500) > 1000,
        "on hold the citizen hears music"
    );
    click(&browser, "#hold");
    wait_for(Duration::from_secs(10), "the page resumes", || {
        browser
            .text_of("#call-status")
            .filter(|t| t.contains("در حال گفتگو"))
    });
    std::thread::sleep(Duration::from_millis(300));
    let mark = peer.mark();
    peer.send_audio_pcmu(&tone(&[CITIZEN_TONE], 2000, 8000.0));
    let resumed = tone_share(&peer.since(mark).pcm(), BROWSER_TONE);
    assert!(
        resumed > 0.3,
        "resumed: the citizen hears the call-taker again ({resumed:.2})"
    );
    // A key from the page's pad reaches the citizen as an RFC 4733 event (payload type 101).
    let mark = peer.mark();
    click(&browser, "#pad button[data-key='5']");
    peer.send_audio_pcmu(&tone(&[CITIZEN_TONE], 1000, 8000.0));
    let events: Vec<u8> = peer
        .since(mark)
        .packets
        .iter()
        .filter(|p| p.pt == 101)
        .filter_map(|p| p.payload.first().copied())
        .collect();
    assert!(
        events.contains(&5),
        "the citizen receives the key 5: {events:?}"
    );

    click(&browser, "#hangup");
    assert!(call.wait(), "the citizen gets the engine's BYE");
    wait_for(Duration::from_secs(10), "the page ends the call", || {
        (!visible(&browser, "#call-panel")).then_some(())
    });
    let snapshot = wait_snapshot(&engine, &token, Duration::from_secs(10), |s| {
        agent_state(s, "2001") == "wrap_up"
    });
    let queue = snapshot["queues"]
        .as_array()
        .and_then(|q| q.iter().find(|q| q["name"] == "1888"))
        .cloned()
        .unwrap_or(Value::Null);
    assert_eq!(queue["answered_today"].as_u64(), Some(1), "{queue:#}");
    let log = queue_log(&engine.data);
    assert_eq!(count(&log, "answer", "2001"), 1, "{log:?}");
    assert_eq!(count(&log, "complete", "2001"), 1, "{log:?}");
}

#[test]
fn the_citizen_hanging_up_ends_the_call_in_the_page() {
    let engine = Engine::start("browser-phone-citizen-bye", "");
    let token = engine.token("admin");
    let dir = temp_dir("browser-phone-citizen-bye");
    add_agent(&engine, "2001");
    wait_agents_loaded(&engine, &token, &["2001"]);
    let voice = dir.join("voice.wav");
    write_wav(&voice, 8000, &tone(&[BROWSER_TONE], 60_000, 9000.0));
    let browser = chromium_with_microphone(&voice);
    sign_in(&browser, &engine, "2001");
    log_in_on_page(&browser, &engine, &token, "2001");
    let (call, _peer) = citizen_presses_0(&engine, "media_uac.xml", 14_000);
    wait_ringing(&browser);
    click(&browser, "#answer");
    wait_snapshot(&engine, &token, Duration::from_secs(20), |s| {
        agent_state(s, "2001") == "on_call"
    });
    assert!(call.wait(), "the citizen hangs up normally");
    wait_for(Duration::from_secs(10), "the page ends the call", || {
        (!visible(&browser, "#call-panel") && visible(&browser, "#last-call")).then_some(())
    });
    wait_snapshot(&engine, &token, Duration::from_secs(10), |s| {
        let answered = s["agents"][0]["answered_today"].as_u64();
        answered == Some(1) && agent_state(s, "2001") != "on_call"
    });
}

#[test]
fn ring_all_a_baresip_softphone_and_the_page_ring_together_and_the_first_to_answer_wins() {
    let engine = Engine::start("browser-phone-ring-all", "");
    let token = engine.token("admin");
    let dir = temp_dir("browser-phone-ring-all");
    add_agent(&engine, "2001");
    wait_agents_loaded(&engine, &token, &["2001"]);
    let voice = dir.join("voice.wav");
    write_wav(&voice, 8000, &tone(&[BROWSER_TONE], 60_000, 9000.0));
    let softphone_voice = dir.join("softphone.wav");
    write_wav(&softphone_voice, 8000, &tone(&[700.0], 60_000, 8000.0));
    let softphone = Baresip::start(
        &softphone_voice,
        Account::Agent {
            user: "2001",
            password: "pw",
            sip_port: engine.sip,
            auto_answer: false,
        },
    );
    softphone.wait_registered(Duration::from_secs(15));
    let browser = chromium_with_microphone(&voice);
    sign_in(&browser, &engine, "2001");
    log_in_on_page(&browser, &engine, &token, "2001");

    // First call: both ring; the page answers; the softphone is cancelled.
    let (call, _peer) = citizen_presses_0(&engine, "media_uac.xml", 14_000);
    wait_ringing(&browser);
    wait_for(Duration::from_secs(10), "the softphone rings too", || {
        softphone.log().contains("Incoming call").then_some(())
    });
    click(&browser, "#answer");
    wait_snapshot(&engine, &token, Duration::from_secs(20), |s| {
        agent_state(s, "2001") == "on_call"
    });
    wait_for(
        Duration::from_secs(10),
        "the softphone stops ringing",
        || {
            let log = softphone.log();
            // baresip's words for the engine's CANCEL of a call it was offering.
            log.contains("session closed").then_some(())
        },
    );
    assert!(call.wait());
    wait_snapshot(&engine, &token, Duration::from_secs(30), |s| {
        agent_state(s, "2001") == "available"
    });

    // Second call: the softphone answers first; the page stops ringing.
    let (call, _peer) = citizen_presses_0(&engine, "media_uac.xml", 14_000);
    wait_ringing(&browser);
    wait_for(Duration::from_secs(10), "the softphone rings", || {
        (softphone.log().matches("Incoming call").count() >= 2).then_some(())
    });
    softphone.command("accept", "");
    wait_snapshot(&engine, &token, Duration::from_secs(20), |s| {
        agent_state(s, "2001") == "on_call"
    });
    wait_for(Duration::from_secs(10), "the page stops ringing", || {
        (!visible(&browser, "#ring-panel")).then_some(())
    });
    assert!(
        !visible(&browser, "#call-panel"),
        "the page never took the call"
    );
    assert!(call.wait());
    let log = queue_log(&engine.data);
    assert_eq!(count(&log, "answer", "2001"), 2, "{log:?}");
}

#[test]
fn a_browser_that_never_connects_passes_the_call_to_the_next_agent_and_a_closed_page_gives_a_prompt(
) {
    let engine = Engine::start("browser-phone-failover", "");
    let token = engine.token("admin");
    let dir = temp_dir("browser-phone-failover");
    add_agent(&engine, "2001");
    add_agent(&engine, "2002");
    wait_agents_loaded(&engine, &token, &["2001", "2002"]);
    let voice = dir.join("voice.wav");
    write_wav(&voice, 8000, &tone(&[BROWSER_TONE], 60_000, 9000.0));
    let browser = chromium_with_microphone(&voice);
    sign_in(&browser, &engine, "2001");
    log_in_on_page(&browser, &engine, &token, "2001");
    // The page's answers name ICE credentials its browser does not use: ICE never completes.
    browser.script(
        "const send = WebSocket.prototype.send; \
         WebSocket.prototype.send = function (data) { \
           const m = JSON.parse(data); \
           if (m.type === 'answer') { m.sdp = m.sdp.replace(/a=ice-ufrag:\\S+/g, 'a=ice-ufrag:wrong'); data = JSON.stringify(m); } \
           return send.call(this, data); };",
        json!([]),
    );
    let (call, peer) = citizen_presses_0(&engine, "media_uac_wait_bye.xml", 60_000);
    wait_ringing(&browser);
    // 2002 comes on with a softphone that answers by itself while the page rings.
    let softphone_voice = dir.join("softphone.wav");
    write_wav(&softphone_voice, 8000, &tone(&[700.0], 90_000, 8000.0));
    let softphone = Baresip::start(
        &softphone_voice,
        Account::Agent {
            user: "2002",
            password: "pw",
            sip_port: engine.sip,
            auto_answer: true,
        },
    );
    softphone.wait_registered(Duration::from_secs(15));
    softphone.dial(&format!("sip:*21@127.0.0.1:{}", engine.sip));
    wait_snapshot(&engine, &token, Duration::from_secs(15), |s| {
        agent_state(s, "2002") == "available"
    });
    click(&browser, "#answer");
    let started = Instant::now();
    wait_snapshot(&engine, &token, Duration::from_secs(30), |s| {
        agent_state(s, "2002") == "on_call"
    });
    eprintln!(
        "the failed browser leg handed the call on after {:?}",
        started.elapsed()
    );
    wait_for(
        Duration::from_secs(10),
        "the page says the audio failed",
        || {
            browser
                .text_of("#last-call")
                .filter(|t| t.contains("برقرار نشد"))
        },
    );
    let log = queue_log(&engine.data);
    assert!(
        log.iter()
            .any(|(k, a)| k == "offer_failed" && a.as_deref() == Some("2001")),
        "{log:?}"
    );
    assert!(
        engine.log_text().contains("browser leg failed"),
        "the reason is logged"
    );
    // 2002 logs out and hangs up: the next call is the page's alone.
    let (status, body) = common::http_send(
        engine.http,
        "POST",
        "/api/agents/2002/state",
        &token,
        "application/json",
        br#"{"action":"logout"}"#,
    );
    assert_eq!(status, 202, "{body}");
    softphone.command("hangup", "");
    assert!(call.wait(), "the citizen's call with 2002 ends with a BYE");
    drop(peer);

    // A page closed mid-call: the citizen hears a prompt, then the BYE.
    browser.navigate(&format!("http://127.0.0.1:{}/agent", engine.http));
    wait_for(Duration::from_secs(15), "the phone connects again", || {
        browser
            .text_of("#connection")
            .filter(|t| t.contains("متصل هستید"))
    });
    // Reloading detached the page's phone and left the agent without one: logged out.
    wait_snapshot(&engine, &token, Duration::from_secs(10), |s| {
        agent_state(s, "2001") == "logged_out"
    });
    log_in_on_page(&browser, &engine, &token, "2001");
    let (call, peer) = citizen_presses_0(&engine, "media_uac_wait_bye.xml", 60_000);
    wait_ringing(&browser);
    click(&browser, "#answer");
    wait_snapshot(&engine, &token, Duration::from_secs(20), |s| {
        agent_state(s, "2001") == "on_call"
    });
    let mark = peer.mark();
    browser.navigate("about:blank");
    assert!(call.wait(), "the citizen gets a BYE");
    let after = peer.since(mark);
    eprintln!(
        "after the page closed the citizen heard {} audible ms",
        after.audible_ms(500)
    );
    assert!(
        after.audible_ms(500) > 1500,
        "the citizen heard a prompt before the BYE ({} audible ms)",
        after.audible_ms(500)
    );
    // The call's record is written as it ends: it says why it ended.
    wait_for(
        Duration::from_secs(10),
        "a call recorded as media_failed",
        || {
            let calls = engine.get_json("/api/calls?limit=5", &token);
            calls
                .as_array()
                .is_some_and(|c| c.iter().any(|r| r["disposition"] == "media_failed"))
                .then_some(())
        },
    );
}
