//! Managers' voice mailboxes in a real browser, against the release binary: a voice message is
//! filed in a fresh data folder, a screener refers it from `/screening` in headless Chromium, the
//! manager signs in at `/mailbox`, plays it, records a reply through a fake microphone fed from a
//! WAV file with a 1 kHz tone, and sends it. Then the API must show the message `replied` by
//! `web`, the file on disk must be 8 kHz mono 16-bit, about as long as the take, and hold the
//! tone, the citizen following up on 1888 from the number that left the message must hear it
//! (SIPp and a test RTP peer), and the audit log must show the listen. Chromium and chromedriver are required: the test
//! fails loudly without them.

mod common;

use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};

use common::browser::{http, wait_for, Browser};
use common::ivr_call::IvrCall;
use common::{require, temp_dir, Engine};
use pasokh::engine::{FilingStage, NewMessage};
use pasokh::store::{Role, Store};

// ---- the test --------------------------------------------------------------------------------

const VOICE: &str = "2026/11/23/call1-take1-e2e00001.wav";
const MANAGER_PASSWORD: &str = "manager-pass-501";
const TONE_HZ: f64 = 1_000.0;

/// A 16-bit mono WAV of a sine at `hz`.
fn write_tone(path: &Path, rate: u32, seconds: f64, hz: f64) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap_or_else(|e| panic!("{e}"));
    }
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer =
        hound::WavWriter::create(path, spec).unwrap_or_else(|e| panic!("cannot write a WAV: {e}"));
    for n in 0..(f64::from(rate) * seconds) as usize {
        let value = (2.0 * std::f64::consts::PI * hz * n as f64 / f64::from(rate)).sin();
        writer
            .write_sample((value * 16_000.0) as i16)
            .unwrap_or_else(|e| panic!("{e}"));
    }
    writer.finalize().unwrap_or_else(|e| panic!("{e}"));
}

/// Share of the energy of `samples` (at `rate`) at `hz` (Goertzel).
fn share_at(samples: &[i16], rate: f64, hz: f64) -> f64 {
    let w = 2.0 * std::f64::consts::PI * hz / rate;
    let (mut s1, mut s2) = (0.0_f64, 0.0_f64);
    for &x in samples {
        let s = f64::from(x) + 2.0 * w.cos() * s1 - s2;
        s2 = s1;
        s1 = s;
    }
    let power = s1 * s1 + s2 * s2 - 2.0 * w.cos() * s1 * s2;
    let total: f64 = samples.iter().map(|&x| f64::from(x).powi(2)).sum();
    if total == 0.0 {
        return 0.0;
    }
    2.0 * power / (samples.len() as f64 * total)
}

/// What the test put in the data folder before the engine started.
struct Prepared {
    code: String,
    screener: String,
    admin: String,
}

/// Managers 501 and 502, one voice message from district 6 of 1888 (with its recording), and
/// tokens for a screener and an admin, written with the store API into `data`.
fn prepare(data: &Path) -> Prepared {
    write_tone(&data.join("recordings").join(VOICE), 8_000, 1.5, 440.0);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("runtime: {e}"));
    runtime.block_on(async {
        let store = Store::open(data)
            .await
            .unwrap_or_else(|e| panic!("store: {e}"));
        store
            .add_manager("501", "مدیر منطقهٔ ۶", "1234", MANAGER_PASSWORD)
            .await
            .unwrap_or_else(|e| panic!("manager: {e}"));
        store
            .add_manager("502", "مدیر منطقهٔ ۱۲", "1234", "manager-pass-502")
            .await
            .unwrap_or_else(|e| panic!("manager: {e}"));
        let message = NewMessage {
            call_ref: "e2e-1".into(),
            call_id: "e2e-call-1".into(),
            line: "1888".into(),
            kind: "complaint".into(),
            district: Some(6),
            category: None,
            case_number: None,
            // The number SIPp's caller scenario calls from, so its follow-up hears the reply.
            caller: "09120001".into(),
            recording: Some(VOICE.into()),
            created_at: 1_795_448_513_123,
            stage: FilingStage::Whole,
        };
        let code = store
            .file_message(&message)
            .await
            .unwrap_or_else(|e| panic!("file: {e}"))
            .unwrap_or_else(|| panic!("a complaint gets a tracking code"));
        let screener = store
            .create_token(&Role::Screener)
            .await
            .unwrap_or_else(|e| panic!("token: {e}"));
        let admin = store
            .create_token(&Role::Admin)
            .await
            .unwrap_or_else(|e| panic!("token: {e}"));
        store.close().await;
        Prepared {
            code,
            screener,
            admin,
        }
    })
}

fn api(port: u16, path: &str, token: &str) -> Value {
    let auth = format!("Bearer {token}");
    let (status, body) = http(
        port,
        "GET",
        path,
        &[("Authorization", &auth)],
        None,
        Duration::from_secs(10),
    )
    .unwrap_or_else(|e| panic!("GET {path}: {e}"));
    assert_eq!(status, 200, "GET {path}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {path}: {e}: {body}"))
}

fn wait_visible(browser: &Browser, css: &str, what: &str) -> String {
    let script = "const e = document.querySelector(arguments[0]); \
                  return e && !e.hidden && e.offsetParent !== null;";
    wait_for(Duration::from_secs(15), what, || {
        (browser.script(script, json!([css]))? == json!(true)).then_some(())?;
        browser.find(css)
    })
}

#[test]
fn a_manager_hears_a_referred_message_and_replies_from_the_browser() {
    require("chromium");
    require("chromedriver");
    let prepared = std::cell::RefCell::new(None);
    let engine =
        Engine::start_on_prepared_data("mailbox-web", "[mailboxes.1888]\n6 = \"501\"\n", &|data| {
            *prepared.borrow_mut() = Some(prepare(data));
        });
    let Prepared {
        code,
        screener,
        admin,
    } = prepared
        .borrow_mut()
        .take()
        .unwrap_or_else(|| panic!("the data folder was prepared"));
    let port = engine.http;
    let base = format!("http://127.0.0.1:{port}");

    let tone = temp_dir("mailbox-mic").join("tone.wav");
    write_tone(&tone, 48_000, 10.0, TONE_HZ);
    let browser = Browser::start(&[
        "--use-fake-ui-for-media-stream".into(),
        "--use-fake-device-for-media-stream".into(),
        format!("--use-file-for-fake-audio-capture={}", tone.display()),
        "--autoplay-policy=no-user-gesture-required".into(),
    ]);

    // The screener signs in with a token and refers the message to the suggested mailbox.
    browser.navigate(&format!("{base}/screening"));
    let field = wait_for(Duration::from_secs(10), "the screening sign-in", || {
        browser.find("#token")
    });
    browser.type_into(&field, &screener);
    let button = browser
        .find("#signin")
        .unwrap_or_else(|| panic!("no sign-in button"));
    browser.click(&button);
    let item = format!("li.message[data-code=\"{code}\"]");
    wait_for(
        Duration::from_secs(15),
        "the message in the screening queue",
        || browser.find(&item),
    );
    let suggested = browser
        .script(
            "return document.querySelector(arguments[0] + ' select.mailbox').value;",
            json!([item]),
        )
        .unwrap_or_default();
    assert_eq!(
        suggested,
        json!("501"),
        "the configured suggestion is pre-selected"
    );
    let lang = browser.script(
        "return document.documentElement.lang + '/' + document.dir;",
        json!([]),
    );
    assert_eq!(lang, Some(json!("fa/rtl")));
    let refer = browser
        .find(&format!("{item} button.refer"))
        .unwrap_or_else(|| panic!("no refer button"));
    browser.click(&refer);
    wait_for(
        Duration::from_secs(10),
        "the message leaves the queue",
        || browser.find(&item).is_none().then_some(()),
    );
    let message = api(port, &format!("/api/messages/{code}"), &admin);
    assert_eq!(message["status"], "referred", "{message}");
    assert_eq!(message["mailbox"], "501");

    // The manager signs in with mailbox and password.
    browser.navigate(&format!("{base}/mailbox"));
    let field = wait_for(Duration::from_secs(10), "the mailbox sign-in", || {
        browser.find("#mailbox")
    });
    browser.type_into(&field, "501");
    let field = browser
        .find("#password")
        .unwrap_or_else(|| panic!("no password field"));
    browser.type_into(&field, MANAGER_PASSWORD);
    let button = browser
        .find("#signin")
        .unwrap_or_else(|| panic!("no sign-in button"));
    browser.click(&button);
    wait_for(
        Duration::from_secs(15),
        "the message in the mailbox",
        || browser.find(&item),
    );

    // Plays the citizen's voice message to its end.
    let play = "const a = document.querySelector(arguments[0] + ' audio.voice'); \
                window.__ended = false; a.addEventListener('ended', () => { window.__ended = true; }); \
                a.play(); return true;";
    browser.script(play, json!([item]));
    wait_for(
        Duration::from_secs(15),
        "the voice message plays to its end",
        || {
            let state = browser.script(
                "const a = document.querySelector(arguments[0] + ' audio.voice'); \
             return [a.readyState, a.currentTime, window.__ended, a.error ? a.error.code : 0];",
                json!([item]),
            )?;
            assert_eq!(state[3], json!(0), "the player failed: {state}");
            (state[0].as_i64()? >= 2 && state[1].as_f64()? > 0.0 && state[2] == json!(true))
                .then_some(())
        },
    );

    // Records about two seconds, listens to the take, sends it.
    let record = wait_visible(
        &browser,
        &format!("{item} button.record"),
        "the record button",
    );
    browser.click(&record);
    let stop = wait_visible(&browser, &format!("{item} button.stop"), "the stop button");
    std::thread::sleep(Duration::from_secs(2));
    browser.click(&stop);
    let send = wait_visible(&browser, &format!("{item} button.send"), "the send button");
    let take = browser.script(
        "const a = document.querySelector(arguments[0] + ' audio.take'); return a.src;",
        json!([item]),
    );
    assert!(
        take.as_ref()
            .and_then(Value::as_str)
            .is_some_and(|src| src.starts_with("blob:")),
        "the take can be heard before sending: {take:?}"
    );
    browser.click(&send);
    let replied = wait_for(Duration::from_secs(15), "the reply is saved", || {
        let message = api(port, &format!("/api/messages/{code}"), &admin);
        (message["status"] == "replied").then_some(message)
    });
    assert_eq!(replied["reply_channel"], "web", "{replied}");
    let url = replied["reply_recording_url"].as_str().unwrap_or_default();
    let name = url.strip_prefix("/api/recordings/").unwrap_or_default();
    assert!(name.contains("web-reply-"), "{replied}");

    let reader = hound::WavReader::open(engine.data.join("recordings").join(name))
        .unwrap_or_else(|e| panic!("the reply on disk: {e}"));
    let spec = reader.spec();
    assert_eq!(
        (spec.sample_rate, spec.channels, spec.bits_per_sample),
        (8_000, 1, 16)
    );
    assert_eq!(spec.sample_format, hound::SampleFormat::Int);
    let samples: Vec<i16> = reader
        .into_samples::<i16>()
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("the reply's samples: {e}"));
    let seconds = samples.len() as f64 / 8_000.0;
    assert!(
        (1.5..=4.0).contains(&seconds),
        "a ~2 s take lasted {seconds:.2} s"
    );
    // The fake microphone may start with a few silent frames: look at the middle.
    let middle = &samples[samples.len() / 4..samples.len() * 3 / 4];
    let share = share_at(middle, 8_000.0, TONE_HZ);
    assert!(
        share > 0.5,
        "1 kHz holds only {share:.2} of the reply's energy"
    );

    // The reply is heard on the phone: the citizen follows up on 1888 (2, the code, #) from
    // the number that left the message, and the RTP back carries the 1 kHz reply.
    let mut call = IvrCall::start(&engine, "1888", Duration::from_secs(120));
    call.wait_welcome();
    call.keys("2", Duration::from_millis(600));
    let heard = call.ask(&code, "#");
    call.hang_up();
    assert!(call.wait(), "the follow-up call failed");
    let reply_ms = heard
        .pcm()
        .chunks(160)
        .filter(|frame| frame.len() == 160 && common::wav::is_tone(frame, TONE_HZ as f32))
        .count()
        * 20;
    eprintln!("the citizen heard {reply_ms} ms of the browser reply");
    assert!(
        reply_ms >= 1200,
        "the citizen hears the reply recorded in the browser: {reply_ms} ms of 1 kHz"
    );

    // The audit log shows the manager's listen, the screening and the reply.
    let log = api(port, &format!("/api/audit?tracking_code={code}"), &admin);
    let entries = log.as_array().cloned().unwrap_or_default();
    let has = |actor: &str, action: &str, detail: &str| {
        entries.iter().any(|e| {
            e["actor"] == actor
                && e["action"] == action
                && e["detail"].as_str().is_some_and(|d| d.starts_with(detail))
        })
    };
    assert!(has("manager:501", "listen", "voice message"), "{log}");
    assert!(
        has("screener", "screen", "referred to mailbox 501"),
        "{log}"
    );
    assert!(has("manager:501", "reply", ""), "{log}");
    let signed_in = api(port, "/api/audit", &admin);
    assert!(
        signed_in.as_array().is_some_and(|list| list
            .iter()
            .any(|e| e["actor"] == "manager:501" && e["action"] == "sign_in")),
        "{signed_in}"
    );
}
