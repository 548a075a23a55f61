//! End-to-end tests of the RTP media engine: real peers over loopback. SIPp carries the SIP, a
//! test RTP peer (`common::rtp`) sends and receives the media; baresip is a real softphone that
//! plays a WAV as its microphone and records what it hears.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::heard::assert_heard_prompt;
use common::phone::{Account, Baresip, SippCall};
use common::rtp::{DigitTiming, Fate, RtpPeer, PT_EVENT};
use common::wav::{self, parse_wav, read_wav};
use common::{http_get_bytes, repo_dir, require, temp_dir, Engine};

/// The level (mean |sample|) above which a 20 ms frame counts as sound: the engine's own
/// silence measure (about -42 dBFS).
const AUDIBLE: u32 = 256;

/// The single call of the test once it has ended (not `in_progress`).
fn ended_call(engine: &Engine, token: &str) -> serde_json::Value {
    let calls = engine.wait_calls(token, Duration::from_secs(10), |calls| {
        calls.len() == 1 && calls[0]["disposition"] != "in_progress"
    });
    calls[0].clone()
}

// ---- 1. RFC 4733 digits --------------------------------------------------------------------

#[test]
fn rfc4733_digits_are_reported_exactly() {
    let engine = Engine::start("media-rfc4733", "");
    let token = engine.token("admin");
    let peer = RtpPeer::bind();
    // The echo test (*43) keeps the call up whatever is typed and records every digit.
    let call = SippCall::start(
        engine.sip,
        "media_uac.xml",
        "*43",
        peer.port(),
        7000,
        Duration::from_secs(30),
    );
    peer.remote(Duration::from_secs(10));
    peer.send_silence(Duration::from_millis(300));
    peer.send_rfc4733_digits("4", PT_EVENT);
    peer.send_silence(Duration::from_millis(500));
    peer.send_rfc4733_digits("1234567890*#", PT_EVENT);
    // Two presses of the same key are two digits (each press has its own RTP timestamp).
    peer.send_rfc4733_digits("99", PT_EVENT);
    peer.send_silence(Duration::from_millis(300));
    assert!(call.wait(), "the call failed; log:\n{}", engine.log_text());
    let record = ended_call(&engine, &token);
    assert_eq!(record["dtmf"], "41234567890*#99", "{record:#}");
    assert_eq!(record["hangup_by"], "caller", "{record:#}");
}

#[test]
fn rfc4733_digits_survive_lost_and_duplicated_packets() {
    let engine = Engine::start("media-rfc4733-lossy", "");
    let token = engine.token("admin");
    let peer = RtpPeer::bind();
    let call = SippCall::start(
        engine.sip,
        "media_uac.xml",
        "*43",
        peer.port(),
        6000,
        Duration::from_secs(30),
    );
    peer.remote(Duration::from_secs(10));
    peer.send_silence(Duration::from_millis(300));
    // A press is 7 packets: 0 start, 1-3 continuation, 4-6 the end packet three times.
    peer.send_rfc4733_digits_with("5577", PT_EVENT, DigitTiming::EVENTS, |digit, packet| {
        match (digit, packet) {
            (0, 0..=3) => Fate::Lose,      // only the end packets arrive
            (1, _) => Fate::Duplicate,     // every packet twice
            (2, 4..=6) => Fate::Lose,      // no end packet at all: the next press ends it
            (3, 1 | 2) => Fate::Lose,      // a hole in the middle
            (3, 4..=6) => Fate::Duplicate, // six end packets
            _ => Fate::Send,
        }
    });
    // The last press with every end packet lost: it ends by the receiver's timeout.
    peer.send_rfc4733_digits_with("8", PT_EVENT, DigitTiming::EVENTS, |_, packet| {
        if packet >= 4 {
            Fate::Lose
        } else {
            Fate::Send
        }
    });
    peer.send_silence(Duration::from_millis(600));
    assert!(call.wait(), "the call failed; log:\n{}", engine.log_text());
    let record = ended_call(&engine, &token);
    assert_eq!(record["dtmf"], "55778", "{record:#}");
}

// ---- 3. in-band DTMF -----------------------------------------------------------------------

#[test]
fn inband_digits_are_detected_without_telephone_event() {
    let engine = Engine::start("media-inband", "");
    let token = engine.token("admin");
    let peer = RtpPeer::bind();
    // The SDP offers PCMU only: the keys can only come as tones in the audio.
    let call = SippCall::start(
        engine.sip,
        "media_uac_pcmu.xml",
        "*43",
        peer.port(),
        7000,
        Duration::from_secs(30),
    );
    peer.remote(Duration::from_secs(10));
    peer.send_silence(Duration::from_millis(300));
    peer.send_inband_digits("1234567890*#");
    peer.send_silence(Duration::from_millis(300));
    peer.send_inband_digits("00");
    peer.send_silence(Duration::from_millis(300));
    assert!(call.wait(), "the call failed; log:\n{}", engine.log_text());
    let record = ended_call(&engine, &token);
    assert_eq!(record["dtmf"], "1234567890*#00", "{record:#}");
}

// ---- the engine's outgoing stream while a prompt plays ---------------------------------------

#[test]
fn prompt_stream_is_continuous_and_paced_at_20_ms() {
    let engine = Engine::start("media-pacing", "extra_lines = [\"bench\"]");
    let token = engine.token("admin");
    let peer = RtpPeer::bind();
    let call = SippCall::start(
        engine.sip,
        "media_uac_wait_bye.xml",
        "bench",
        peer.port(),
        0,
        Duration::from_secs(30),
    );
    assert!(call.wait(), "the call failed; log:\n{}", engine.log_text());
    let record = ended_call(&engine, &token);
    assert_eq!(record["hangup_by"], "engine", "{record:#}");
    let received = peer.received();
    let spacing = received.spacing();
    let prompt = read_wav(&repo_dir().join("prompts/fa/ivr/bench.wav")).mono();
    let heard = received.pcm();
    eprintln!(
        "engine RTP: {} packets, mean spacing {:.2} ms, p99 |error| {:.2} ms, max {:.2} ms, \
         max lateness {:.2} ms; heard audible span {} ms, prompt's {} ms",
        received.packets.len(),
        spacing.mean_ms,
        spacing.p99_error_ms,
        spacing.max_error_ms,
        spacing.max_lateness_ms,
        wav::audible_span_ms(&heard, AUDIBLE),
        wav::audible_span_ms(&prompt, AUDIBLE),
    );
    assert!(
        received.packets.len() >= 140,
        "a 2.8 s prompt is at least 140 packets"
    );
    let ssrcs: std::collections::BTreeSet<u32> = received.packets.iter().map(|p| p.ssrc).collect();
    assert_eq!(ssrcs.len(), 1, "one SSRC for the whole call");
    assert_eq!(
        received.sequence_breaks(),
        0,
        "sequence numbers +1 per packet"
    );
    assert_eq!(received.timestamp_breaks(), 0, "timestamps +160 per packet");
    assert!(
        received.packets.iter().all(|p| p.payload.len() == 160),
        "20 ms payloads"
    );
    assert!(
        (spacing.mean_ms - 20.0).abs() < 0.5,
        "mean spacing {:.2} ms",
        spacing.mean_ms
    );
    // Tolerant bounds: the test machine may be busy, and the peer's own receive thread is
    // timed too (quiet machine: p99 under 5 ms). No drift (the mean above), and the stream
    // never falls more than three frames behind its schedule (a phone's jitter buffer absorbs
    // that).
    assert!(
        spacing.p99_error_ms < 30.0,
        "p99 spacing error {:.2} ms",
        spacing.p99_error_ms
    );
    assert!(
        spacing.max_lateness_ms < 60.0,
        "the stream fell {:.2} ms behind its 20 ms schedule",
        spacing.max_lateness_ms
    );
    // What the peer heard is the prompt, sample for sample after G.711.
    let span = wav::audible_span_ms(&heard, AUDIBLE) as i64;
    let expected = wav::audible_span_ms(&prompt, AUDIBLE) as i64;
    assert!(
        (span - expected).abs() <= 100,
        "heard {span} ms of sound, the prompt has {expected} ms"
    );
    let probe = &prompt[4000..12000];
    let (_, r) = wav::best_correlation(&heard, probe, 0..heard.len().saturating_sub(probe.len()));
    assert!(r > 0.95, "the peer heard the prompt (correlation {r:.3})");
}

// ---- 5 and 6. the engine records what the peer says -------------------------------------------

/// A SIPp caller on 1888 whose audio is the test's RTP peer, taken to the voice message's beep
/// (see `reach_the_1888_beep`), the recorder listening from then on.
fn call_1888_to_the_beep(engine: &Engine) -> (RtpPeer, SippCall) {
    let peer = RtpPeer::bind();
    let call = SippCall::start(
        engine.sip,
        "media_uac_wait_bye.xml",
        "1888",
        peer.port(),
        0,
        Duration::from_secs(120),
    );
    reach_the_1888_beep(&peer);
    (peer, call)
}

/// Keys of the 1888 path to a voice message: 1 (leave a message, typed over the welcome), 1
/// (criticism). With no call-taker logged in (or outside hours) the caller then hears an
/// explanation, the recording instructions and the beep. Returns when the beep has ended.
fn reach_the_1888_beep(peer: &RtpPeer) {
    let start = peer.mark();
    peer.remote(Duration::from_secs(10));
    peer.wait_until(start, Duration::from_secs(10), "the welcome prompt", |r| {
        r.audible_ms(AUDIBLE) >= 300
    });
    peer.send_rfc4733_digits("1", PT_EVENT);
    peer.send_silence(Duration::from_millis(800));
    peer.send_rfc4733_digits("1", PT_EVENT);
    peer.wait_tone_end(1000.0, 300, Duration::from_secs(60));
}

/// After the beep: the caller speaks `spoke_ms` of a 440+620 Hz chord at once, ends the take
/// with # (a 100 ms press; the take ends when its end packet arrives), then keeps it with 1,
/// typed over the review prompt. Returns the mark of what the engine plays from the 1 on.
fn speak_and_keep(peer: &RtpPeer, spoke_ms: u64) -> usize {
    peer.send_audio_pcmu(&wav::tone(&[440.0, 620.0], spoke_ms, 5000.0));
    peer.send_rfc4733_digits("#", PT_EVENT);
    peer.send_silence(Duration::from_millis(1000));
    let mark = peer.mark();
    peer.send_rfc4733_digits("1", PT_EVENT);
    mark
}

/// Every finished recording (`*.wav`) and leftover `*.part` under `dir`.
fn recordings(dir: &Path) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let mut wavs = Vec::new();
    let mut parts = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(&folder).into_iter().flatten().flatten() {
            let path = entry.path();
            let name = path.to_string_lossy().to_string();
            if path.is_dir() {
                stack.push(path);
            } else if name.ends_with(".wav") {
                wavs.push(path);
            } else if name.ends_with(".part") {
                parts.push(path);
            }
        }
    }
    (wavs, parts)
}

/// The messages filed so far; fails the test when `GET /api/messages` does not answer a list.
fn messages(engine: &Engine, token: &str) -> Vec<serde_json::Value> {
    let list = engine.get_json("/api/messages?limit=50", token);
    list.as_array()
        .cloned()
        .unwrap_or_else(|| panic!("GET /api/messages is not a list: {list:#}"))
}

/// The message whose recording is `url`, waited for (the store files it asynchronously).
fn message_with_recording(engine: &Engine, token: &str, url: &str) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let list = messages(engine, token);
        if let Some(message) = list.iter().find(|m| m["recording_url"] == url) {
            return message.clone();
        }
        assert!(
            Instant::now() < deadline,
            "no message with {url}: {list:#?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The recording's name relative to the recordings folder, as the API's URLs carry it.
fn recording_name(engine: &Engine, wav: &Path) -> String {
    wav.strip_prefix(engine.data.join("recordings"))
        .unwrap_or_else(|_| panic!("{} is not under recordings/", wav.display()))
        .to_string_lossy()
        .to_string()
}

/// The day folder a recording made now lands in: recordings/YYYY/MM/DD (UTC).
fn check_day_folder(engine: &Engine, wav: &Path) {
    let relative = wav
        .strip_prefix(engine.data.join("recordings"))
        .unwrap_or_else(|_| panic!("{} is not under recordings/", wav.display()));
    let parts: Vec<String> = relative
        .iter()
        .map(|p| p.to_string_lossy().to_string())
        .collect();
    assert_eq!(
        parts.len(),
        4,
        "YYYY/MM/DD/name.wav: {}",
        relative.display()
    );
    assert!(
        parts[0].len() == 4 && parts[1].len() == 2 && parts[2].len() == 2,
        "{}",
        relative.display()
    );
}

#[test]
fn voice_message_recording_lasts_as_long_as_the_caller_spoke() {
    const SPOKE_MS: u64 = 4000;
    let engine = Engine::start("media-record", "");
    let token = engine.token("admin");
    let (peer, call) = call_1888_to_the_beep(&engine);
    // The recorder starts as the beep ends.
    speak_and_keep(&peer, SPOKE_MS);
    assert!(
        call.wait(),
        "the engine should hang up after the tracking code; log:\n{}",
        engine.log_text()
    );
    let record = ended_call(&engine, &token);
    // Every key in order, the # that ended the take included.
    assert_eq!(record["dtmf"], "11#1", "{record:#}");
    let (wavs, parts) = recordings(&engine.data.join("recordings"));
    assert!(parts.is_empty(), "no .part left: {parts:?}");
    assert_eq!(wavs.len(), 1, "one voice message: {wavs:?}");
    check_day_folder(&engine, &wavs[0]);
    let take = read_wav(&wavs[0]);
    assert_eq!((take.rate, take.channels), (8000, 1), "8 kHz mono");
    assert!(take.sizes_consistent, "the header matches the file");
    let samples = take.mono();
    let audible = wav::audible_ms(&samples, AUDIBLE);
    eprintln!(
        "recording: {} ms long, {audible} ms audible, rms {:.0}",
        take.duration_ms(),
        wav::rms(&samples)
    );
    // From the recorder's start to the # press's end packet: the speech, plus the 100 ms
    // press (the end packet comes 100 ms after the press began), plus the few ms between
    // the beep's end and the first speech packet.
    let expected = SPOKE_MS + 100;
    assert!(
        take.duration_ms().abs_diff(expected) <= 300,
        "recording lasts {} ms, expected about {expected} ms",
        take.duration_ms()
    );
    assert!(
        audible.abs_diff(SPOKE_MS) <= 300,
        "{audible} ms of sound recorded, the caller spoke {SPOKE_MS} ms"
    );
    let (start, end) = wav::audible_span(&samples, AUDIBLE).unwrap_or((0, 0));
    let voiced = &samples[start..end];
    // The recording is what the caller said: the chord's two tones hold the power.
    let total = wav::rms(voiced).powi(2);
    for hz in [440.0, 620.0] {
        assert!(
            wav::goertzel(voiced, hz) > 0.3 * total,
            "{hz} Hz is in the recording"
        );
    }
    for hz in [300.0, 1000.0] {
        assert!(wav::goertzel(voiced, hz) < 0.01 * total, "no {hz} Hz");
    }
    assert!(
        engine.log_text().contains("recording saved"),
        "the engine logs the durable save"
    );
    // Filed as a 1888 criticism with this recording.
    let url = format!("/api/recordings/{}", recording_name(&engine, &wavs[0]));
    let message = message_with_recording(&engine, &token, &url);
    assert_eq!(
        (&message["line"], &message["kind"]),
        (&"1888".into(), &"criticism".into()),
        "{message:#}"
    );
}

/// A voice message the engine has acknowledged: filed with its recording, its tracking code
/// read to the caller, the call then ended by the engine.
struct Acknowledged {
    code: String,
    message: serde_json::Value,
    url: String,
    wav: Vec<u8>,
}

/// Leaves a voice message of `spoke_ms` on 1888 (the engine's first call) and waits for the
/// engine to acknowledge it.
fn leave_acknowledged_message(engine: &Engine, token: &str, spoke_ms: u64) -> Acknowledged {
    let (peer, call) = call_1888_to_the_beep(engine);
    let kept = speak_and_keep(&peer, spoke_ms);
    assert!(
        call.wait(),
        "the engine should hang up after the tracking code; log:\n{}",
        engine.log_text()
    );
    assert_eq!(ended_call(engine, token)["hangup_by"], "engine");
    assert_heard_prompt(
        &peer.since(kept),
        "ivr/tracking_code_is",
        "the tracking code read out",
    );
    let (wavs, _) = recordings(&engine.data.join("recordings"));
    assert_eq!(wavs.len(), 1, "the kept take: {wavs:?}");
    let url = format!("/api/recordings/{}", recording_name(engine, &wavs[0]));
    let message = message_with_recording(engine, token, &url);
    let code = message["tracking_code"]
        .as_str()
        .filter(|code| !code.is_empty())
        .unwrap_or_else(|| panic!("a voice message has a tracking code: {message:#}"))
        .to_string();
    let (status, _, wav) = http_get_bytes(engine.http, &url, token);
    assert_eq!(status, 200, "GET {url}");
    Acknowledged {
        code,
        message,
        url,
        wav,
    }
}

/// A tmpfs mounted on the engine's data folder, so the test can fill the disk for real.
struct SmallDisk(PathBuf);

impl SmallDisk {
    fn mount(at: &Path, size: &str) {
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .status();
        assert!(
            matches!(status, Ok(s) if s.success()),
            "this test fills a real disk: mounting a {size} tmpfs needs root (CAP_SYS_ADMIN); \
             mount said {status:?}"
        );
    }

    /// Writes a ballast file until not one more byte fits.
    fn fill(at: &Path) -> SmallDisk {
        use std::io::Write;
        let ballast = at.join("ballast");
        let mut file = std::fs::File::create(&ballast)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", ballast.display()));
        let chunk = vec![0u8; 4096];
        while file.write_all(&chunk).is_ok() {}
        while file.write_all(&[0]).is_ok() {}
        SmallDisk(ballast)
    }

    fn clear(self) {
        std::fs::remove_file(&self.0)
            .unwrap_or_else(|e| panic!("cannot remove {}: {e}", self.0.display()));
    }
}

/// Unmounts the test's small disk however the test ends (`-l`: even while the engine, dropped
/// after it, still has files open there).
struct Unmount(PathBuf);

impl Drop for Unmount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

#[test]
fn a_disk_full_for_one_call_never_tells_it_saved_and_the_next_caller_is_filed_durably() {
    let mut engine = Engine::start_on_prepared_data("media-disk-full", "", &|data| {
        SmallDisk::mount(data, "24m")
    });
    let _unmount = Unmount(engine.data.clone());
    let token = engine.token("admin");

    // The disk fills just before a caller leaves a voice message.
    let ballast = SmallDisk::fill(&engine.data);
    let (peer, call) = call_1888_to_the_beep(&engine);
    let kept = speak_and_keep(&peer, 2000);
    let hung_up = call.wait();
    let heard = peer.since(kept);
    let told_saved = common::heard::heard_prompt(&heard, "ivr/tracking_code_is");
    let told_failed = common::heard::heard_prompt(&heard, "ivr/file_failed")
        .max(common::heard::heard_prompt(&heard, "ivr/record_failed"));
    eprintln!("on the full disk: tracking code {told_saved:.2}, failure {told_failed:.2}");
    // A prompt counts as heard above 0.9 (`assert_heard_prompt`); speech correlates ~0.5.
    assert!(
        hung_up,
        "the engine ends the call; log:\n{}",
        engine.log_text()
    );
    assert!(
        told_saved <= 0.9,
        "a caller on a full disk was read a tracking code; log:\n{}",
        engine.log_text()
    );
    assert!(
        told_failed > 0.9,
        "the caller is told plainly the message could not be taken"
    );

    // Space comes back: the next caller is filed, visibly, and it survives a restart.
    ballast.clear();
    let (peer, call) = call_1888_to_the_beep(&engine);
    let kept = speak_and_keep(&peer, 2000);
    assert!(call.wait(), "the engine hangs up after the code");
    assert_heard_prompt(
        &peer.since(kept),
        "ivr/tracking_code_is",
        "the tracking code once space is back",
    );
    let filed: Vec<serde_json::Value> = messages(&engine, &token)
        .into_iter()
        .filter(|m| m["tracking_code"].is_string())
        .collect();
    assert_eq!(filed.len(), 1, "one acknowledged message: {filed:#?}");
    let code = filed[0]["tracking_code"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    engine.terminate();
    assert_eq!(engine.wait_exit(Duration::from_secs(40)), Some(0));
    engine.restart();
    let after = engine.get_json(&format!("/api/messages/{code}"), &token);
    assert_eq!(after["tracking_code"], code.as_str(), "{after:#}");
    assert!(after["recording_url"].is_string(), "{after:#}");
    engine.kill9();
}

#[test]
fn sigterm_refuses_new_calls_closes_the_others_after_the_grace_and_files_every_message() {
    const SPOKE_MS: u64 = 1500;
    let mut engine = Engine::start("media-sigterm", "shutdown_grace_s = 3");
    let token = engine.token("admin");
    // A caller in the middle of a voice message when the operator stops the engine.
    let (peer, call) = call_1888_to_the_beep(&engine);
    peer.send_audio_pcmu(&wav::tone(&[440.0, 620.0], SPOKE_MS, 5000.0));
    let stopping = peer.mark();
    engine.terminate();

    // A new caller during the grace period is refused (503: try elsewhere or later).
    let refused = common::sipp(
        &engine,
        "uac_refused_while_stopping.xml",
        "137",
        &[],
        Duration::from_secs(10),
    );
    common::assert_ok(&refused, "a call while stopping is refused with 503");

    // The call in progress hears why and gets a BYE; the engine then exits by itself.
    assert!(
        call.wait(),
        "the engine hangs up the call still up after the grace; log:\n{}",
        engine.log_text()
    );
    assert_heard_prompt(
        &peer.since(stopping),
        "service/stopping",
        "the closing prompt before the BYE",
    );
    let exit = engine.wait_exit(Duration::from_secs(30));
    assert_eq!(exit, Some(0), "a clean exit; log:\n{}", engine.log_text());

    // After the restart: the call record is closed, and the caller's message is filed with their
    // number and the take they were recording, not found later as an anonymous orphan.
    engine.restart();
    let calls = engine.get_json("/api/calls", &token);
    let calls = calls.as_array().cloned().unwrap_or_default();
    assert_eq!(calls.len(), 1, "the refused call never started: {calls:#?}");
    assert_eq!(calls[0]["disposition"], "shutdown", "{calls:#?}");
    assert_eq!(calls[0]["hangup_by"], "engine");
    let filed = messages(&engine, &token);
    assert_eq!(filed.len(), 1, "{filed:#?}");
    let message = &filed[0];
    assert_eq!(message["line"], "1888");
    assert!(
        message["caller"]
            .as_str()
            .is_some_and(|c| c.starts_with("0912000")),
        "{message:#}"
    );
    assert_ne!(message["category"], "recovered_recording", "{message:#}");
    let url = message["recording_url"]
        .as_str()
        .unwrap_or_else(|| panic!("the take was filed with the message: {message:#}"));
    let (status, _, wav) = http_get_bytes(engine.http, url, &token);
    assert_eq!(status, 200, "GET {url}");
    let take = parse_wav(&wav).unwrap_or_else(|e| panic!("{url} is not a WAV: {e}"));
    assert!(take.sizes_consistent, "the take was closed properly");
    let audible = wav::audible_ms(&take.mono(), AUDIBLE);
    assert!(
        audible.abs_diff(SPOKE_MS) <= 300,
        "{audible} ms of sound in the take, the caller spoke {SPOKE_MS} ms"
    );
    let log = engine.log_text();
    assert!(
        !log.contains("recording repaired") && !log.contains("without a message"),
        "nothing was left for start-up recovery; log:\n{log}"
    );
}

#[test]
fn recording_survives_kill_9_and_is_repaired_at_restart() {
    const KEPT_MS: u64 = 2000;
    const SPOKE_MS: u64 = 3000;
    let mut engine = Engine::start("media-kill9", "");
    let token = engine.token("admin");
    // First a message the engine acknowledged: nothing of it may be lost to the crash.
    let kept = leave_acknowledged_message(&engine, &token, KEPT_MS);
    let kept_take =
        parse_wav(&kept.wav).unwrap_or_else(|e| panic!("{} is not a WAV: {e}", kept.url));
    assert!(
        kept_take.duration_ms().abs_diff(KEPT_MS + 100) <= 300,
        "the kept take lasts {} ms, the caller spoke {KEPT_MS} ms then pressed #",
        kept_take.duration_ms()
    );
    // Then a second caller, cut off mid-take by the crash.
    let (peer, call) = call_1888_to_the_beep(&engine);
    peer.send_audio_pcmu(&wav::tone(&[440.0, 620.0], SPOKE_MS, 5000.0));
    // The take is written through an 8 KiB buffer (512 ms of audio): keep the call going a
    // little so the speech itself has reached the file when the power goes.
    peer.send_silence(Duration::from_millis(1000));
    let (_, parts) = recordings(&engine.data.join("recordings"));
    assert_eq!(
        parts.len(),
        1,
        "the take is being written as .part: {parts:?}"
    );
    engine.kill9();
    drop(call);
    let part_len = std::fs::metadata(&parts[0]).map(|m| m.len()).unwrap_or(0);
    engine.restart();
    let log = engine.log_text();
    assert!(
        log.contains("recording repaired after a crash"),
        "the sweep repairs the take; log:\n{log}"
    );

    // The acknowledged message and its recording are as they were before the crash.
    let message = engine.get_json(&format!("/api/messages/{}", kept.code), &token);
    assert_eq!(
        message, kept.message,
        "the acknowledged message after the restart"
    );
    let (status, _, wav) = http_get_bytes(engine.http, &kept.url, &token);
    assert_eq!(status, 200, "GET {} after the restart", kept.url);
    let take = parse_wav(&wav).unwrap_or_else(|e| panic!("{} is not a WAV: {e}", kept.url));
    assert!(
        take.sizes_consistent,
        "the kept take's header matches the file"
    );
    assert_eq!(
        take.duration_ms(),
        kept_take.duration_ms(),
        "the kept take lasts as long as before the crash"
    );
    assert!(wav == kept.wav, "the kept take is unchanged, byte for byte");

    // The interrupted take is repaired in place and filed for screening.
    let (wavs, parts_left) = recordings(&engine.data.join("recordings"));
    assert!(parts_left.is_empty(), "no .part left: {parts_left:?}");
    assert_eq!(
        wavs.len(),
        2,
        "the kept take and the repaired one: {wavs:?}"
    );
    let kept_name = kept.url.trim_start_matches("/api/recordings/");
    let repaired: Vec<&PathBuf> = wavs
        .iter()
        .filter(|w| recording_name(&engine, w) != kept_name)
        .collect();
    assert_eq!(repaired.len(), 1, "the repaired take: {wavs:?}");
    let repaired = repaired[0];
    check_day_folder(&engine, repaired);
    assert_eq!(
        std::fs::metadata(repaired).map(|m| m.len()).unwrap_or(0),
        part_len,
        "the repaired file is the .part, renamed"
    );
    let take = read_wav(repaired);
    assert_eq!((take.rate, take.channels), (8000, 1), "8 kHz mono");
    assert!(
        take.sizes_consistent,
        "the repaired header matches the file"
    );
    let samples = take.mono();
    let audible = wav::audible_ms(&samples, AUDIBLE);
    eprintln!(
        "repaired recording: {} ms long, {audible} ms audible",
        take.duration_ms()
    );
    assert!(
        audible.abs_diff(SPOKE_MS) <= 300,
        "{audible} ms of sound in the repaired take, the caller spoke {SPOKE_MS} ms"
    );
    assert!(
        take.duration_ms() >= SPOKE_MS && take.duration_ms() <= SPOKE_MS + 1600,
        "repaired take lasts {} ms",
        take.duration_ms()
    );
    let url = format!("/api/recordings/{}", recording_name(&engine, repaired));
    let recovered = message_with_recording(&engine, &token, &url);
    assert_eq!(
        recovered["category"], "recovered_recording",
        "{recovered:#}"
    );
}

/// Runs sox, failing the test if it fails.
fn sox(args: &[&str]) {
    require("sox");
    let output = Command::new("sox")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run sox: {e}"));
    assert!(
        output.status.success(),
        "sox {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Tone steps the echo test must give back, 300 ms each.
const STEPS_HZ: [f32; 6] = [440.0, 660.0, 1100.0, 550.0, 880.0, 1320.0];

/// The softphone's microphone: the tone steps with a second of silence after them, five times,
/// then a minute of silence (the source must outlast the call, or baresip hangs up).
fn tone_steps_wav(dir: &Path) -> PathBuf {
    let mut steps = Vec::new();
    for (i, hz) in STEPS_HZ.iter().enumerate() {
        let step = dir.join(format!("step{i}.wav"));
        sox(&[
            "-n",
            "-r",
            "8000",
            "-c",
            "1",
            "-b",
            "16",
            step.to_str().unwrap_or_default(),
            "synth",
            "0.3",
            "sine",
            &hz.to_string(),
            "vol",
            "0.4",
        ]);
        steps.push(step.to_string_lossy().to_string());
    }
    let sequence = dir.join("sequence.wav").to_string_lossy().to_string();
    let mut args: Vec<&str> = steps.iter().map(String::as_str).collect();
    args.push(&sequence);
    sox(&args);
    let source = dir.join("source.wav");
    sox(&[
        &sequence,
        source.to_str().unwrap_or_default(),
        "pad",
        "0",
        "1",
        "repeat",
        "4",
        "pad",
        "0",
        "60",
    ]);
    source
}

#[test]
fn baresip_hears_its_own_audio_from_the_echo_test() {
    let engine = Engine::start("media-echo-baresip", "");
    let token = engine.token("admin");
    let work = temp_dir("echo-source");
    let source = tone_steps_wav(&work);
    let phone = Baresip::start(&source, Account::Citizen);
    phone.dial(&format!("sip:*43@127.0.0.1:{}", engine.sip));
    // The intro and beep take about 6.2 s, then the echo: listen for 7 s of it.
    std::thread::sleep(Duration::from_secs(13));
    phone.command("hangup", "");
    let record = ended_call(&engine, &token);
    assert_eq!(record["hangup_by"], "caller", "{record:#}");
    let (Some(heard), Some(sent)) = (phone.recording("dec"), phone.recording("enc")) else {
        panic!("baresip recorded nothing; log:\n{}", phone.log());
    };
    let heard = read_wav(&heard);
    let sent = read_wav(&sent);
    assert_eq!(heard.rate, 8000, "PCMU at 8 kHz");
    let (heard, sent) = (heard.mono(), sent.mono());
    eprintln!(
        "baresip heard {} ms ({} ms audible), sent {} ms",
        heard.len() / 8,
        wav::audible_ms(&heard, AUDIBLE),
        sent.len() / 8
    );
    // First the intro prompt…
    let intro = read_wav(&repo_dir().join("prompts/fa/echo/intro.wav")).mono();
    let probe = &intro[8000..24000];
    let (at, r) = wav::best_correlation(&heard, probe, 0..40_000);
    assert!(
        r > 0.9,
        "baresip heard the echo test's intro (correlation {r:.3})"
    );
    assert!(
        at < 16_000,
        "the intro starts within a second ({at} samples)"
    );
    // …then the echo: look at 4 s of what was heard from 7.5 s on, and find it in what
    // baresip sent.
    let window = heard
        .get(60_000..92_000)
        .unwrap_or_else(|| panic!("baresip heard only {} ms", heard.len() / 8));
    assert!(
        wav::audible_ms(window, AUDIBLE) > 1500,
        "the echo is not silence"
    );
    let lags = 60_000usize.saturating_sub(8000)..60_000;
    let (lag, r) = wav::best_correlation(&sent, window, lags);
    let delay_ms = (60_000 - lag) / 8;
    eprintln!("echo: correlation {r:.3} at a delay of {delay_ms} ms");
    assert!(
        r > 0.8,
        "what baresip heard is what it sent (correlation {r:.3})"
    );
    // And tone by tone: each 300 ms step heard has the frequency that was sent.
    let mut matched = 0;
    let mut loud = 0;
    for chunk in window.chunks(800) {
        if wav::mean_abs(chunk) < 1000.0 {
            continue;
        }
        loud += 1;
        let at = lag + (chunk.as_ptr() as usize - window.as_ptr() as usize) / 2;
        let original = &sent[at..at + chunk.len()];
        if wav::dominant(chunk, &STEPS_HZ) == wav::dominant(original, &STEPS_HZ) {
            matched += 1;
        }
    }
    assert!(
        loud >= 10 && matched * 10 >= loud * 9,
        "{matched} of {loud} loud 100 ms slices have the frequency that was sent"
    );
    let _ = std::fs::remove_dir_all(&work);
}

#[test]
fn baresip_records_the_prompt_the_engine_plays() {
    let engine = Engine::start("media-bench-baresip", "extra_lines = [\"bench\"]");
    let token = engine.token("admin");
    let work = temp_dir("bench-source");
    let source = work.join("silence.wav");
    sox(&[
        "-n",
        "-r",
        "8000",
        "-c",
        "1",
        "-b",
        "16",
        source.to_str().unwrap_or_default(),
        "trim",
        "0",
        "60",
    ]);
    let phone = Baresip::start(&source, Account::Citizen);
    phone.dial(&format!("sip:bench@127.0.0.1:{}", engine.sip));
    let record = ended_call(&engine, &token);
    assert_eq!(
        record["hangup_by"], "engine",
        "the bench line hangs up: {record:#}"
    );
    let Some(heard) = phone.recording("dec") else {
        panic!("baresip recorded nothing; log:\n{}", phone.log());
    };
    let heard = read_wav(&heard);
    assert_eq!(heard.rate, 8000, "PCMU at 8 kHz");
    let heard = heard.mono();
    let prompt_wav = read_wav(&repo_dir().join("prompts/fa/ivr/bench.wav"));
    let prompt = prompt_wav.mono();
    let span = wav::audible_span_ms(&heard, AUDIBLE);
    let expected = wav::audible_span_ms(&prompt, AUDIBLE);
    eprintln!(
        "baresip heard {} ms, audible from first to last sound {span} ms; the prompt file lasts \
         {} ms, {expected} ms from first to last sound",
        heard.len() / 8,
        prompt_wav.duration_ms()
    );
    assert!(wav::rms(&heard) > 300.0, "not silence");
    assert!(
        span.abs_diff(expected) <= 100,
        "heard {span} ms of prompt, the prompt has {expected} ms"
    );
    let probe = &prompt[4000..12000];
    let (_, r) = wav::best_correlation(&heard, probe, 0..heard.len().saturating_sub(probe.len()));
    assert!(
        r > 0.9,
        "what baresip heard is the prompt (correlation {r:.3})"
    );
    let _ = std::fs::remove_dir_all(&work);
}

// ---- prompts at start-up -----------------------------------------------------------------

/// A copy of the bundled prompts with `change` applied, and what `pasokh serve` says with it.
/// The exit code is `None` when the engine was still running at the limit (it started).
fn serve_with_changed_prompts(name: &str, change: impl FnOnce(&Path)) -> (Option<i32>, String) {
    let dir = temp_dir(name);
    let prompts = dir.join("prompts");
    let copied = Command::new("cp")
        .arg("-r")
        .arg(repo_dir().join("prompts/fa"))
        .arg(&prompts)
        .status()
        .is_ok_and(|s| s.success());
    assert!(copied, "cannot copy the prompts");
    change(&prompts);
    let config = format!(
        "sip = \"127.0.0.1:{}\"\nhttp = \"127.0.0.1:{}\"\ndata = \"{}\"\nprompts = \"{}\"\nflows = \"{}\"\n",
        common::free_port(),
        common::free_port(),
        dir.join("data").display(),
        prompts.display(),
        repo_dir().join("ivr-flows").display(),
    );
    let config_path = dir.join("pasokh.toml");
    std::fs::write(&config_path, config).unwrap_or_else(|e| panic!("config: {e}"));
    let mut command = Command::new(env!("CARGO_BIN_EXE_pasokh"));
    command.args(["serve", "--config"]).arg(&config_path);
    // A healthy engine would run until killed at the limit; a refused start exits at once.
    let output = common::run_bounded(command, Duration::from_secs(15));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.code(), text)
}

#[test]
fn a_missing_prompt_the_engine_plays_by_name_stops_the_start_naming_the_file() {
    let (code, text) = serve_with_changed_prompts("prompt-missing", |prompts| {
        std::fs::remove_file(prompts.join("queue/in_line.wav"))
            .unwrap_or_else(|e| panic!("remove: {e}"));
    });
    assert!(
        code.is_some_and(|c| c != 0),
        "the engine must refuse to start (exit {code:?}); output:\n{text}"
    );
    assert!(
        text.contains("queue/in_line.wav") && text.contains("missing"),
        "the error names the file; output:\n{text}"
    );
}

#[test]
fn an_unreadable_prompt_stops_the_start_naming_the_file() {
    let (code, text) = serve_with_changed_prompts("prompt-unreadable", |prompts| {
        std::fs::write(prompts.join("ivr/goodbye.wav"), b"RIFF\x10\0\0\0WAVEjunk")
            .unwrap_or_else(|e| panic!("write: {e}"));
    });
    assert!(
        code.is_some_and(|c| c != 0),
        "the engine must refuse to start (exit {code:?}); output:\n{text}"
    );
    assert!(
        text.contains("ivr/goodbye.wav"),
        "the error names the file; output:\n{text}"
    );
}
