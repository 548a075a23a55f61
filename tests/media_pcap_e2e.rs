//! End-to-end tests where SIPp sends the caller's media itself (`play_pcap_audio`): the stock
//! RFC 4733 captures SIPp ships, in-band tones, and speech the engine must record. The engine
//! never sees a test peer here, only SIPp's own RTP.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::pcap::{concatenate, read_pcap, Captured, StreamWriter};
use common::phone::SippCall;
use common::rtp::{decode, dtmf_tone, PT_EVENT, PT_PCMA, PT_PCMU};
use common::wav::{self, read_wav};
use common::{repo_dir, require, temp_dir, Engine};

/// The level (mean |sample|) above which a 20 ms frame counts as sound.
const AUDIBLE: u32 = 256;
/// Where Debian's sip-tester package puts SIPp's sample captures.
const SIPP_PCAPS: &str = "/usr/share/sip-tester";

fn stock_capture(name: &str) -> Vec<Captured> {
    require("sipp");
    let path = Path::new(SIPP_PCAPS).join(name);
    assert!(
        path.is_file(),
        "SIPp's sample capture {} is missing: install sip-tester (./scripts/test.sh does)",
        path.display()
    );
    read_pcap(&path)
}

/// The single call of the test once it has ended.
fn ended_call(engine: &Engine, token: &str) -> serde_json::Value {
    let calls = engine.wait_calls(token, Duration::from_secs(10), |calls| {
        calls.len() == 1 && calls[0]["disposition"] != "in_progress"
    });
    calls[0].clone()
}

/// Runs one SIPp call to `service` playing `media`, lasting the capture plus `tail_ms`.
/// Fails the test at once, saying why, when SIPp cannot send its media: `play_pcap_audio`
/// sends from a raw socket, which needs root or CAP_NET_RAW. Without it SIPp's call would fail
/// with nothing that points at the cause; a test that needs it is never skipped.
fn require_raw_sockets() {
    // SAFETY: socket(2) with constant arguments; the descriptor is closed at once.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_RAW, libc::IPPROTO_UDP) };
    let refused = std::io::Error::last_os_error();
    if fd >= 0 {
        // SAFETY: `fd` is the descriptor just opened, closed once.
        unsafe { libc::close(fd) };
        return;
    }
    // SIPp may hold the capability itself (`setcap cap_net_raw+ep`) while the test does not.
    let sipp_capable = std::process::Command::new("sh")
        .args(["-c", "getcap \"$(command -v sipp)\""])
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).contains("cap_net_raw"));
    assert!(
        sipp_capable,
        "this test needs root or CAP_NET_RAW: SIPp's play_pcap_audio sends the caller's media \
         from a raw socket ({refused}). Run the tests as root, or give SIPp the capability: \
         sudo setcap cap_net_raw+ep \"$(command -v sipp)\""
    );
}

fn play(engine: &Engine, scenario: &str, service: &str, media: &[Captured], tail_ms: u64) {
    require_raw_sockets();
    let last = media.last().map_or(Duration::ZERO, |p| p.at);
    let pause_ms = last.as_millis() as u64 + tail_ms;
    let call = SippCall::start_playing(
        engine.sip,
        scenario,
        service,
        media,
        pause_ms,
        Duration::from_millis(pause_ms) + Duration::from_secs(20),
    );
    assert!(
        call.wait(),
        "the SIPp call failed; log:\n{}",
        engine.log_text()
    );
}

#[test]
fn sipp_plays_stock_rfc4733_captures_and_the_engine_reports_those_digits() {
    // SIPp's captures of one phone's presses, in the order they were captured (their sequence
    // numbers and RTP timestamps rise from one file to the next).
    let keys = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "star", "pound"];
    let parts: Vec<Vec<Captured>> = keys
        .iter()
        .map(|key| stock_capture(&format!("dtmf_2833_{key}.pcap")))
        .collect();
    for part in &parts {
        assert!(
            part.iter().all(|p| p.pt() == PT_EVENT),
            "telephone-event, PT 101"
        );
    }
    let media = concatenate(&parts, Duration::from_millis(300));
    let engine = Engine::start("pcap-rfc4733", "");
    let token = engine.token("admin");
    // The echo test (*43) keeps the call up whatever is typed and records every digit.
    play(&engine, "media_pcap_uac.xml", "*43", &media, 1500);
    let record = ended_call(&engine, &token);
    assert_eq!(record["dtmf"], "123456789*#", "{record:#}");
    assert_eq!(record["hangup_by"], "caller", "{record:#}");
}

#[test]
fn sipp_plays_inband_tones_and_the_engine_reports_them() {
    let keys = "1234567890*#";
    let mut stream = StreamWriter::default();
    stream.silence(500, PT_PCMU);
    for key in keys.chars() {
        stream.audio(&dtmf_tone(key, 80, 7000.0), PT_PCMU);
        stream.silence(80, PT_PCMU);
    }
    stream.silence(500, PT_PCMU);
    let engine = Engine::start("pcap-inband", "");
    let token = engine.token("admin");
    // PCMU only in the offer: no telephone-event, so the keys can only be heard.
    play(
        &engine,
        "media_pcap_uac_pcmu.xml",
        "*43",
        stream.packets(),
        1000,
    );
    let record = ended_call(&engine, &token);
    assert_eq!(record["dtmf"], keys, "{record:#}");
}

// ---- the engine records what SIPp plays ------------------------------------------------------

/// A flows folder with the bundled trees plus a test line `rec` that takes a voice message at
/// once: a beep as its instructions, the beep, the recording (ended by #), the review.
fn flows_with_a_recording_line() -> PathBuf {
    let dir = temp_dir("pcap-flows");
    for entry in std::fs::read_dir(repo_dir().join("ivr-flows"))
        .into_iter()
        .flatten()
        .flatten()
    {
        let path = entry.path();
        if let Some(name) = path.file_name() {
            std::fs::copy(&path, dir.join(name))
                .unwrap_or_else(|e| panic!("copy {}: {e}", path.display()));
        }
    }
    let flow = "line: \"rec\"\ndescription: \"Test line: a voice message at once\"\nstart: take\n\
                nodes:\n  take:\n    type: record\n    prompt: beep\n    next: file\n\
                \n  file:\n    type: file\n    next: bye\n\n  bye:\n    type: hangup\n";
    std::fs::write(dir.join("rec.yaml"), flow).unwrap_or_else(|e| panic!("rec.yaml: {e}"));
    dir
}

/// The speech of SIPp's sample capture (`g711a.pcap`, 30 ms PCMA packets), decoded.
fn sipp_sample_speech() -> Vec<i16> {
    let packets = stock_capture("g711a.pcap");
    assert!(packets.iter().all(|p| p.pt() == PT_PCMA), "PCMA");
    packets
        .iter()
        .flat_map(|p| decode(PT_PCMA, p.payload()))
        .collect()
}

/// Every finished recording under `dir`.
fn wav_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(&folder).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "wav") {
                found.push(path);
            }
        }
    }
    found
}

#[test]
fn the_engine_records_what_sipp_plays() {
    let beep = read_wav(&repo_dir().join("prompts/fa/beep.wav")).duration_ms();
    let speech = sipp_sample_speech();
    let speech_ms = speech.len() as u64 / 8;
    // Silence while the instructions (a beep) and the beep play, then the speech, then # to end
    // the take; 1 at the review keeps it.
    const LEAD_MS: u64 = 600;
    let mut stream = StreamWriter::default();
    stream.silence(2 * beep + LEAD_MS, PT_PCMA);
    stream.audio(&speech, PT_PCMA);
    stream.key_press('#', PT_EVENT);
    stream.silence(1500, PT_PCMA);
    stream.key_press('1', PT_EVENT);
    stream.silence(300, PT_PCMA);
    let flows = flows_with_a_recording_line();
    let engine = Engine::start_with_flows("pcap-record", "extra_lines = [\"rec\"]", &flows);
    let _ = std::fs::remove_dir_all(&flows); // read at start-up
    let token = engine.token("admin");
    play(
        &engine,
        "media_pcap_uac_wait_bye.xml",
        "rec",
        stream.packets(),
        5000,
    );
    let record = ended_call(&engine, &token);
    assert_eq!(record["dtmf"], "#1", "{record:#}");
    let wavs = wav_files(&engine.data.join("recordings"));
    assert_eq!(wavs.len(), 1, "one voice message: {wavs:?}");
    let take = read_wav(&wavs[0]);
    assert_eq!((take.rate, take.channels), (8000, 1), "8 kHz mono");
    assert!(take.sizes_consistent, "the header matches the file");
    let samples = take.mono();
    // Where the speech sits in the take: the recorder starts as the beep ends, about LEAD_MS
    // before SIPp's speech.
    let (lag, correlation) =
        wav::best_correlation(&samples, &speech, 0..(LEAD_MS as usize * 8 * 2));
    let lead_ms = lag as u64 / 8;
    eprintln!(
        "recording: {} ms, speech {speech_ms} ms at {lead_ms} ms, correlation {correlation:.3}",
        take.duration_ms()
    );
    assert!(
        correlation > 0.9,
        "the take is SIPp's speech (correlation {correlation:.3})"
    );
    assert!(
        lead_ms.abs_diff(LEAD_MS) <= 300,
        "speech starts {lead_ms} ms into the take"
    );
    // The take lasts from the recorder's start to the # press's first end packet, sent 80 ms
    // after the press began.
    let expected = lead_ms + speech_ms + 80;
    assert!(
        take.duration_ms().abs_diff(expected) <= 100,
        "recording lasts {} ms, expected {expected} ms",
        take.duration_ms()
    );
    let heard = wav::audible_span_ms(&samples, AUDIBLE);
    let played = wav::audible_span_ms(&speech, AUDIBLE);
    assert!(
        heard.abs_diff(played) <= 60,
        "{heard} ms of sound recorded, SIPp played {played} ms"
    );
}

/// Without CAP_NET_RAW a media test must fail loudly, naming the permission, not skip or fail
/// with an unrelated SIPp error: this test runs one of them again with the capability dropped
/// from its bounding set (`setpriv`, util-linux) and reads what it says.
#[test]
fn without_cap_net_raw_a_pcap_test_fails_naming_the_permission() {
    require("setpriv");
    let exe = std::env::current_exe().unwrap_or_else(|e| panic!("test binary: {e}"));
    let output = common::run_bounded(
        {
            let mut command = std::process::Command::new("setpriv");
            command
                .args(["--bounding-set=-net_raw", "--inh-caps=-net_raw"])
                .arg(&exe)
                .args([
                    "--exact",
                    "sipp_plays_inband_tones_and_the_engine_reports_them",
                    "--test-threads=1",
                ]);
            command
        },
        Duration::from_secs(120),
    );
    let said = String::from_utf8_lossy(&output.stdout).to_string()
        + &String::from_utf8_lossy(&output.stderr);
    let sipp_capable = std::process::Command::new("sh")
        .args(["-c", "getcap \"$(command -v sipp)\""])
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).contains("cap_net_raw"));
    if sipp_capable {
        // SIPp holds the capability itself: the media test may pass without the test's own.
        return;
    }
    assert!(
        !output.status.success(),
        "passed without CAP_NET_RAW:\n{said}"
    );
    assert!(
        said.contains("needs root or CAP_NET_RAW") && said.contains("setcap cap_net_raw+ep"),
        "{said}"
    );
}
