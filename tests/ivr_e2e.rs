//! End-to-end tests of the 137/1888 IVR trees over loopback: SIPp does the SIP, a test RTP peer
//! (`common::rtp`) keys RFC 4733 digits, speaks, and keeps what the engine plays back; the
//! engine's HTTP API is checked for what the calls left behind.
//!
//! What the caller should hear is not written into the tests: each test asks the flow
//! simulator (`pasokh flows simulate`, against the engine's own database) which prompts the
//! keyed path plays, and compares the sound that came back with those prompt files: the span
//! of sound within ±15% of the prompts' span, and, for the prompt that proves which branch was
//! taken (the stage read, "code not valid", the status), the prompt itself found in the audio.

mod common;

use std::net::UdpSocket;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::heard::{assert_heard_prompt, heard_prompt, prompt_pcm};
use common::rtp::{self, Received, RtpPeer, PT_EVENT};
use common::wav::{self, parse_wav};
use common::{free_port, http_get, http_get_bytes, repo_dir, require, temp_dir, Engine};
use serde_json::Value;

/// The level (mean |sample|) above which a 20 ms frame counts as sound (about -42 dBFS).
const AUDIBLE: u32 = 256;
/// A pause this long after some sound means the engine is waiting for the caller.
const QUIET: Duration = Duration::from_millis(2000);
/// How far the heard span may be from the prompts' span.
const SPAN_TOLERANCE: f64 = 0.15;
/// The known zoning file of the CSV the tests import (and of `--demo`).
const ZONING_FILE: &str = "14031234";

// ---- a caller: SIPp for the signalling, an RtpPeer for the media -----------------------------

/// One SIPp call (`sipp-scenarios/ivr_caller.xml`) whose media is `peer`. The caller stays
/// until the engine hangs up or the test calls [`IvrCall::hang_up`].
struct IvrCall {
    child: Child,
    work: PathBuf,
    deadline: Instant,
    sipp_port: u16,
    call_id: String,
    peer: RtpPeer,
}

impl IvrCall {
    fn start(engine: &Engine, service: &str, limit: Duration) -> IvrCall {
        require("sipp");
        let peer = RtpPeer::bind();
        let work = temp_dir("sipp-ivr");
        let sipp_port = free_port();
        // Fixed so the test can address the call; SIPp numbers its first call 1.
        let call_id = format!("ivr-e2e-{}-{sipp_port}", std::process::id());
        let out = std::fs::File::create(work.join("stdout.txt"))
            .unwrap_or_else(|e| panic!("sipp stdout: {e}"));
        let err = out
            .try_clone()
            .unwrap_or_else(|e| panic!("sipp stderr: {e}"));
        let child = Command::new("sipp")
            .current_dir(&work)
            .arg(format!("127.0.0.1:{}", engine.sip))
            .arg("-sf")
            .arg(repo_dir().join("sipp-scenarios/ivr_caller.xml"))
            .args(["-s", service, "-i", "127.0.0.1", "-mi", "127.0.0.1"])
            .args(["-p", &sipp_port.to_string()])
            .args(["-mp", &free_port().to_string()])
            .args(["-set", "rtp_port", &peer.port().to_string()])
            .args(["-cid_str", &format!("{call_id}-%u")])
            .args(["-m", "1", "-r", "1", "-nostdin", "-trace_err"])
            .args(["-timeout", &format!("{}s", limit.as_secs().max(2) - 1)])
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start sipp: {e}"));
        IvrCall {
            child,
            work,
            deadline: Instant::now() + limit,
            sipp_port,
            call_id: format!("{call_id}-1"),
            peer,
        }
    }

    /// Waits for the engine's first prompt (the welcome), so keys are not sent into the void.
    fn wait_welcome(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.peer.mark() == 0 {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("sipp ended before any RTP came: {status}\n{}", self.logs());
            }
            assert!(
                Instant::now() < deadline,
                "no RTP from the engine within 10 s; sipp:\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        self.peer
            .wait_until(0, Duration::from_secs(10), "the welcome prompt", |r| {
                r.audible_ms(AUDIBLE) >= 300
            });
    }

    /// Keys `digits` as RFC 4733 events, then keeps the stream going for `pause`.
    fn keys(&self, digits: &str, pause: Duration) {
        self.peer.send_rfc4733_digits(digits, PT_EVENT);
        self.peer.send_silence(pause);
    }

    /// Keys `digits`, then `last`, and returns what the engine played from `last` on, once it
    /// has fallen quiet (it waits for the caller).
    fn ask(&self, digits: &str, last: &str) -> Received {
        if !digits.is_empty() {
            self.peer.send_rfc4733_digits(digits, PT_EVENT);
        }
        let mark = self.peer.mark();
        self.peer.send_rfc4733_digits(last, PT_EVENT);
        wait_quiet(&self.peer, mark, Duration::from_secs(60))
    }

    /// The caller hangs up: an INFO in the call's dialog tells SIPp to send its BYE.
    fn hang_up(&self) {
        let socket =
            UdpSocket::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("cannot bind UDP: {e}"));
        let local = socket
            .local_addr()
            .unwrap_or_else(|e| panic!("local_addr: {e}"));
        let info = format!(
            "INFO sip:caller@127.0.0.1:{port} SIP/2.0\r\n\
             Via: SIP/2.0/UDP {local};branch=z9hG4bK-hangup-{port}\r\n\
             From: <sip:test@127.0.0.1>;tag=hangup\r\n\
             To: <sip:caller@127.0.0.1:{port}>\r\n\
             Call-ID: {call_id}\r\n\
             CSeq: 1 INFO\r\n\
             Max-Forwards: 70\r\n\
             Content-Length: 0\r\n\r\n",
            port = self.sipp_port,
            call_id = self.call_id,
        );
        socket
            .send_to(info.as_bytes(), ("127.0.0.1", self.sipp_port))
            .unwrap_or_else(|e| panic!("cannot send the hang-up INFO: {e}"));
    }

    /// Waits for SIPp to finish (killing it past its limit); true if the call succeeded.
    fn wait(&mut self) -> bool {
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => {
                    if !status.success() {
                        eprintln!("sipp failed: {status}\n{}", self.logs());
                    }
                    return status.success();
                }
                Ok(None) if Instant::now() < self.deadline => {
                    std::thread::sleep(Duration::from_millis(50))
                }
                _ => {
                    eprintln!("sipp ran past its limit\n{}", self.logs());
                    return false;
                }
            }
        }
    }

    fn logs(&self) -> String {
        std::fs::read_dir(&self.work)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| {
                format!(
                    "--- {}\n{}",
                    e.file_name().to_string_lossy(),
                    std::fs::read_to_string(e.path()).unwrap_or_default()
                )
            })
            .collect()
    }
}

impl Drop for IvrCall {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.work);
    }
}

fn is_audible(packet: &rtp::Packet) -> bool {
    matches!(packet.pt, rtp::PT_PCMU | rtp::PT_PCMA)
        && wav::mean_abs(&rtp::decode(packet.pt, &packet.payload)) >= f64::from(AUDIBLE)
}

/// Waits until the engine has played something after `mark` and then been quiet for [`QUIET`].
fn wait_quiet(peer: &RtpPeer, mark: usize, within: Duration) -> Received {
    peer.wait_until(mark, within, "a prompt and then quiet", |r| {
        r.packets
            .iter()
            .rev()
            .find(|p| is_audible(p))
            .is_some_and(|p| p.at.elapsed() >= QUIET)
    })
}

// ---- what the caller should hear, from the simulator and the prompt files ---------------------

/// The simulator's transcript of `keys` on `line`, run against the engine's database.
fn simulate(engine: &Engine, line: &str, keys: &str) -> Vec<String> {
    let output = engine.cli(&["flows", "simulate", line, "--keys", keys]);
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

/// The prompt ids played after the transcript line `after` and before the line `until` (or
/// the end).
fn plays_between(transcript: &[String], after: &str, until: Option<&str>) -> Vec<String> {
    let start = transcript
        .iter()
        .position(|l| l == after)
        .unwrap_or_else(|| panic!("no line {after:?} in the transcript:\n{transcript:#?}"));
    transcript[start + 1..]
        .iter()
        .take_while(|l| until != Some(l.as_str()))
        .filter_map(|l| l.strip_prefix("play "))
        .filter_map(|l| l.split_once(':').map(|(id, _)| id.trim().to_string()))
        .collect()
}

/// The prompts played back to back.
fn prompts_pcm(ids: &[String]) -> Vec<i16> {
    ids.iter().flat_map(|id| prompt_pcm(id)).collect()
}

/// Checks that the span of sound heard is the span of the prompts, within ±15%.
fn assert_heard_span(heard: &Received, ids: &[String], what: &str) {
    let heard_ms = wav::audible_span_ms(&heard.pcm(), AUDIBLE);
    let expected_ms = wav::audible_span_ms(&prompts_pcm(ids), AUDIBLE);
    eprintln!("{what}: heard {heard_ms} ms of sound, the prompts span {expected_ms} ms ({ids:?})");
    assert!(expected_ms > 0, "{what}: the prompts are silent: {ids:?}");
    let error = (heard_ms as f64 - expected_ms as f64).abs() / expected_ms as f64;
    assert!(
        error <= SPAN_TOLERANCE,
        "{what}: heard {heard_ms} ms of sound, the prompts {ids:?} span {expected_ms} ms"
    );
}

// ---- the API side ------------------------------------------------------------------------------

/// The call record of `call_id` once the call has ended.
fn ended_call(engine: &Engine, token: &str, call_id: &str) -> Value {
    let calls = engine.wait_calls(token, Duration::from_secs(15), |calls| {
        calls
            .iter()
            .any(|c| c["call_id"] == call_id && c["disposition"] != "in_progress")
    });
    calls
        .into_iter()
        .find(|c| c["call_id"] == call_id)
        .unwrap_or_else(|| panic!("call {call_id} vanished"))
}

/// The message filed by `call_id` (every call files exactly one), waited for.
fn message_of(engine: &Engine, token: &str, call_id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let list = engine.get_json("/api/messages?limit=1000", token);
        let found: Vec<Value> = list
            .as_array()
            .into_iter()
            .flatten()
            .filter(|m| m["call_id"] == call_id)
            .cloned()
            .collect();
        if !found.is_empty() {
            assert_eq!(found.len(), 1, "one message per call: {found:#?}");
            return found[0].clone();
        }
        assert!(
            Instant::now() < deadline,
            "call {call_id} filed no message: {list:#}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The Verhoeff check (the tracking code's last digit), written out from the published tables.
fn verhoeff_ok(code: &str) -> bool {
    const D: [[u8; 10]; 10] = [
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
        [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
        [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
        [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
        [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
        [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
        [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
        [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
        [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
    ];
    const P: [[u8; 10]; 8] = [
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
        [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
        [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
        [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
        [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
        [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
        [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
    ];
    if code.is_empty() || !code.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let state = code.bytes().rev().enumerate().fold(0u8, |c, (i, b)| {
        D[usize::from(c)][usize::from(P[i % 8][usize::from(b - b'0')])]
    });
    state == 0
}

/// The same code with one digit changed: its check digit no longer fits.
fn mistyped(code: &str) -> String {
    let mut bytes = code.as_bytes().to_vec();
    bytes[2] = if bytes[2] == b'9' { b'0' } else { bytes[2] + 1 };
    String::from_utf8(bytes).unwrap_or_else(|e| panic!("{e}"))
}

/// A `PATCH` with a JSON body: (status, body).
fn http_patch(port: u16, path: &str, token: &str, body: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port))
        .unwrap_or_else(|e| panic!("cannot connect to the API: {e}"));
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let request = format!(
        "PATCH {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream
        .write_all(request.as_bytes())
        .unwrap_or_else(|e| panic!("PATCH {path}: {e}"));
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

const CSV_HEADER: &str =
    "kind,number,district,stage,last_step_date,next_step,session_date,verdict,fine_rials,served_date";

/// Imports the zoning file the key-4 tests ask about.
fn import_known_file(engine: &Engine) {
    let csv = engine.dir.join("cases.csv");
    std::fs::write(
        &csv,
        format!("{CSV_HEADER}\nzoning,{ZONING_FILE},6,permit_issued,1403/05/13,under_construction,,,,\n"),
    )
    .unwrap_or_else(|e| panic!("cannot write the CSV: {e}"));
    engine.cli(&["cases", "import", &csv.to_string_lossy()]);
}

// ---- 1. key 4, a known zoning file -------------------------------------------------------------

#[test]
fn key_4_reads_a_known_zoning_file() {
    let engine = Engine::start("ivr-key4-known", "demo = true");
    let token = engine.token("admin");
    let transcript = simulate(&engine, "1888", &format!("4 1 {ZONING_FILE}#"));
    let report = plays_between(
        &transcript,
        &format!("caller keys {ZONING_FILE}#"),
        Some("timeout no_input at case_after"),
    );
    assert!(
        report.iter().any(|id| id == "stage/zoning/permit_issued"),
        "the simulator finds the demo file: {transcript:#?}"
    );

    let mut call = IvrCall::start(&engine, "1888", Duration::from_secs(90));
    call.wait_welcome();
    // 4 over the welcome (barge-in), 1 for a zoning file, then the number and #.
    call.keys("4", Duration::from_millis(600));
    call.keys("1", Duration::from_millis(600));
    let heard = call.ask(ZONING_FILE, "#");
    call.hang_up();
    assert!(call.wait(), "the call failed; log:\n{}", engine.log_text());

    // The number digit by digit, the stage and its date, the next step, then the menu.
    assert_heard_span(&heard, &report, "the file's status");
    assert_heard_prompt(&heard, "stage/zoning/permit_issued", "the stage read");
    assert_heard_prompt(
        &heard,
        "stage/zoning/under_construction",
        "the next step read",
    );
    let record = ended_call(&engine, &token, &call.call_id);
    assert_eq!(record["dtmf"], format!("41{ZONING_FILE}#"), "{record:#}");
    assert_eq!(record["hangup_by"], "caller", "{record:#}");
    let message = message_of(&engine, &token, &call.call_id);
    assert_eq!(message["kind"], "case_inquiry", "{message:#}");
    assert_eq!(message["case_number"], ZONING_FILE, "{message:#}");
    assert_eq!(message["district"], 6, "the case's district: {message:#}");
    assert_eq!(
        message["tracking_code"],
        Value::Null,
        "only reports get codes"
    );
}

// ---- 2. key 4, an unknown number ---------------------------------------------------------------

#[test]
fn key_4_unknown_number_gets_one_retry_then_the_call_taker_line() {
    // No demo: no call-taker exists, so the zoning queue has nobody to offer.
    let engine = Engine::start("ivr-key4-unknown", "");
    let token = engine.token("admin");
    import_known_file(&engine);
    let (first, second) = ("99999999", "88888888");
    let transcript = simulate(
        &engine,
        "1888",
        &format!("4 1 {first}# {second}# q:no_agents"),
    );
    let retry = plays_between(
        &transcript,
        &format!("caller keys {first}#"),
        Some(&format!("caller keys {second}#")),
    );
    let ending = plays_between(
        &transcript,
        &format!("caller keys {second}#"),
        Some("node voice_message (record)"),
    );

    let mut call = IvrCall::start(&engine, "1888", Duration::from_secs(180));
    call.wait_welcome();
    call.keys("4", Duration::from_millis(600));
    call.keys("1", Duration::from_millis(600));
    // "Not found, check the number and enter it again", and the collect asks again.
    let heard_retry = call.ask(first, "#");
    assert_heard_span(&heard_retry, &retry, "the not-found retry");
    assert_heard_prompt(
        &heard_retry,
        "ivr/case_not_found_retry",
        "the not-found retry",
    );
    // Unknown again: "a call-taker will help you", the queue, nobody there: the question is
    // left as a voice message instead (record instructions, then the beep).
    call.peer.send_rfc4733_digits(second, PT_EVENT);
    let mark = call.peer.mark();
    call.peer.send_rfc4733_digits("#", PT_EVENT);
    call.peer
        .wait_tone_end(1000.0, 300, Duration::from_secs(60));
    let heard_ending = call.peer.since(mark);
    assert_heard_prompt(&heard_ending, "ivr/case_not_found_agent", "not found again");
    assert_heard_prompt(&heard_ending, "ivr/agents_busy_message", "nobody free");
    assert_heard_prompt(
        &heard_ending,
        "ivr/record_instructions",
        "the voice message",
    );
    assert!(
        ending.iter().any(|id| id == "ivr/agents_busy_message"),
        "the simulator takes the same way: {ending:?}"
    );
    // The caller speaks, ends with #, keeps the take with 1; the engine reads the code.
    call.peer
        .send_audio_pcmu(&wav::tone(&[440.0], 2000, 6000.0));
    let review = call.ask("", "#");
    assert_heard_prompt(&review, "ivr/record_review", "the review");
    call.peer.send_rfc4733_digits("1", PT_EVENT);
    assert!(
        call.wait(),
        "the engine should hang up after reading the code; log:\n{}",
        engine.log_text()
    );

    let record = ended_call(&engine, &token, &call.call_id);
    let dtmf = record["dtmf"].as_str().unwrap_or_default();
    let keys = format!("41{first}#{second}#");
    assert!(
        dtmf == format!("{keys}#1") || dtmf == format!("{keys}1"),
        "{record:#}"
    );
    assert_eq!(record["hangup_by"], "engine", "{record:#}");
    let message = message_of(&engine, &token, &call.call_id);
    assert_eq!(message["kind"], "case_inquiry", "{message:#}");
    assert_eq!(
        message["case_number"], second,
        "the last number typed: {message:#}"
    );
    assert!(
        message["recording_url"].is_string(),
        "the voice message is attached: {message:#}"
    );
}

// ---- 3, 4, 5. a voice message, its follow-up, and a mistyped code ------------------------------

#[test]
fn a_voice_message_is_filed_playable_and_followed_up_by_its_code() {
    const SPOKE_MS: u64 = 3000;
    let engine = Engine::start("ivr-voice-message", "");
    let admin = engine.token("admin");
    let screener = engine.token("screener");
    // A call-taker who did not take this call (it went to a voice message).
    engine.cli(&[
        "agent",
        "add",
        "2001",
        "--name",
        "Sara",
        "--password",
        "pw2001",
    ]);
    let agent = engine.token("agent:2001");

    // 3. 1888 → 1 leave a message → 3 complaint → (nobody free, or closed) → voice message.
    let mut call = IvrCall::start(&engine, "1888", Duration::from_secs(120));
    call.wait_welcome();
    call.keys("1", Duration::from_millis(600));
    call.keys("3", Duration::from_millis(200));
    call.peer
        .wait_tone_end(1000.0, 300, Duration::from_secs(60));
    call.peer
        .send_audio_pcmu(&wav::tone(&[440.0], SPOKE_MS, 6000.0));
    // # ends the take; the review asks "1 to keep, 2 to record again"; 1 keeps it.
    let review = call.ask("", "#");
    assert_heard_prompt(&review, "ivr/record_review", "the review");
    let mark = call.peer.mark();
    call.peer.send_rfc4733_digits("1", PT_EVENT);
    assert!(
        call.wait(),
        "the engine hangs up after reading the code; log:\n{}",
        engine.log_text()
    );
    let record = ended_call(&engine, &admin, &call.call_id);
    // The # that ends a take may be taken by the recorder itself (the media layer does not
    // report its end key as a digit) or reach the IVR as a key: either way the keys are these.
    let dtmf = record["dtmf"].as_str().unwrap_or_default();
    assert!(dtmf == "13#1" || dtmf == "131", "{record:#}");
    assert_eq!(record["hangup_by"], "engine", "{record:#}");

    let message = message_of(&engine, &screener, &call.call_id);
    assert_eq!(message["kind"], "complaint", "{message:#}");
    assert_eq!(message["line"], "1888", "{message:#}");
    assert_eq!(
        message["status"], "new",
        "a voice message waits for screening: {message:#}"
    );
    let code = message["tracking_code"]
        .as_str()
        .unwrap_or_else(|| panic!("a complaint has a tracking code: {message:#}"))
        .to_string();
    assert!(verhoeff_ok(&code), "{code} carries a valid check digit");
    let by_code = engine.get_json(&format!("/api/messages/{code}"), &screener);
    assert_eq!(
        by_code, message,
        "the message by its code is the listed one"
    );
    assert_eq!(
        engine.get(&format!("/api/messages/{code}"), Some(&agent)).0,
        404,
        "a call-taker sees only messages of calls it was connected to"
    );

    // The code was read to the caller: the saved message, the code twice, then goodbye. The
    // simulator files serial 1; its digits are replaced by this message's. Within hours the
    // path passes the (empty) 1888 queue, which the simulator must be told is empty.
    let open = simulate(&engine, "1888", "1 3")
        .iter()
        .any(|l| l == "node message_agent (queue)");
    let keys = if open {
        "1 3 q:no_agents # 1"
    } else {
        "1 3 # 1"
    };
    let transcript = simulate(&engine, "1888", keys);
    let mut said = plays_between(&transcript, "node voice_code (say)", None);
    let digit_runs: Vec<usize> = said
        .iter()
        .enumerate()
        .filter(|(_, id)| id.starts_with("digit/"))
        .map(|(i, _)| i)
        .collect();
    assert_eq!(
        digit_runs.len(),
        2 * code.len(),
        "the code is read twice: {said:?}"
    );
    for (n, index) in digit_runs.into_iter().enumerate() {
        said[index] = format!("digit/{}", &code[n % code.len()..n % code.len() + 1]);
    }
    let heard_code = call.peer.since(mark);
    assert_heard_span(&heard_code, &said, "the tracking code read out");
    assert_heard_prompt(
        &heard_code,
        "ivr/tracking_code_is",
        "the tracking code read out",
    );

    // The recording: listed as a URL, served as the WAV the caller spoke.
    let url = message["recording_url"]
        .as_str()
        .unwrap_or_else(|| panic!("a voice message has a recording: {message:#}"));
    let name = url
        .strip_prefix("/api/recordings/")
        .unwrap_or_else(|| panic!("recording_url {url}"));
    let (status, content_type, bytes) = http_get_bytes(engine.http, url, &screener);
    assert_eq!(status, 200, "GET {url}");
    assert_eq!(content_type, "audio/wav");
    let on_disk = common::read(&engine.data.join("recordings").join(name));
    assert!(bytes == on_disk, "the download is the file, byte for byte");
    let take = parse_wav(&bytes).unwrap_or_else(|e| panic!("{url} is not a WAV: {e}"));
    assert_eq!((take.rate, take.channels), (8000, 1), "8 kHz mono");
    assert!(take.sizes_consistent, "the header matches the file");
    let samples = take.mono();
    let audible = wav::audible_ms(&samples, AUDIBLE);
    eprintln!("recording: {} ms, {audible} ms audible", take.duration_ms());
    assert!(
        take.duration_ms().abs_diff(SPOKE_MS + 100) <= 300,
        "the recording lasts {} ms, the caller spoke {SPOKE_MS} ms then pressed #",
        take.duration_ms()
    );
    assert!(audible.abs_diff(SPOKE_MS) <= 300, "{audible} ms of sound");
    let (start, end) = wav::audible_span(&samples, AUDIBLE).unwrap_or((0, 0));
    assert_eq!(
        wav::dominant(&samples[start..end], &[300.0, 440.0, 620.0, 1000.0]),
        440.0,
        "the recording is what the caller said"
    );
    assert!(
        wav::is_tone(&samples[start..end], 440.0),
        "the recording is the caller's 440 Hz tone"
    );
    // Call-takers may correct a message but not listen to recordings; managers may listen.
    assert_eq!(
        http_get(engine.http, url, Some(&agent)).map(|r| r.0),
        Some(403)
    );
    // No token is made for a mailbox that does not exist (managers' access to recordings is
    // tested in src/web and tests/mailbox_*).
    let refused = Command::new(env!("CARGO_BIN_EXE_pasokh"))
        .args(["token", "create", "--role", "manager:77", "--config"])
        .arg(engine.config_path())
        .output()
        .unwrap_or_else(|e| panic!("cannot run pasokh token create: {e}"));
    assert!(!refused.status.success(), "a manager token is refused");
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("no mailbox 77"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    let (status, _) = http_patch(
        engine.http,
        &format!("/api/messages/{code}"),
        &agent,
        r#"{"status":"closed"}"#,
    );
    assert_eq!(status, 404, "nor may that call-taker correct it");

    // A screener refers the message: the follow-up line must now say "referred".
    let (status, body) = http_patch(
        engine.http,
        &format!("/api/messages/{code}"),
        &screener,
        r#"{"status":"referred","district":12}"#,
    );
    assert_eq!(status, 200, "PATCH: {body}");
    let patched: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
    assert_eq!(
        (&patched["status"], &patched["district"]),
        (&"referred".into(), &12.into())
    );

    // 4. Follow-up: 2, the code and #: the status is read, then the follow-up menu.
    let transcript = simulate(&engine, "1888", &format!("2 {code}#"));
    let status_said = plays_between(
        &transcript,
        &format!("caller keys {code}#"),
        Some("timeout no_input at follow_after"),
    );
    assert!(
        status_said.iter().any(|id| id == "status/referred"),
        "the simulator reads the patched status: {transcript:#?}"
    );
    let mut call = IvrCall::start(&engine, "1888", Duration::from_secs(90));
    call.wait_welcome();
    call.keys("2", Duration::from_millis(600));
    let heard = call.ask(&code, "#");
    call.hang_up();
    assert!(call.wait(), "the call failed; log:\n{}", engine.log_text());
    assert_heard_span(&heard, &status_said, "the message's status");
    let referred = heard_prompt(&heard, "status/referred");
    let received = heard_prompt(&heard, "status/received");
    assert!(
        referred > 0.9 && referred > received + 0.2,
        "the status read is the stored one: referred {referred:.3}, received {received:.3}"
    );
    let record = ended_call(&engine, &admin, &call.call_id);
    assert_eq!(record["dtmf"], format!("2{code}#"), "{record:#}");
    let follow_up = message_of(&engine, &admin, &call.call_id);
    assert_eq!(follow_up["kind"], "follow_up", "{follow_up:#}");

    // 5. A wrong check digit: "the code is not valid", asked again; the right code then works.
    let wrong = mistyped(&code);
    assert!(!verhoeff_ok(&wrong));
    let transcript = simulate(&engine, "1888", &format!("2 {wrong}# {code}#"));
    let refused = plays_between(
        &transcript,
        &format!("caller keys {wrong}#"),
        Some(&format!("caller keys {code}#")),
    );
    assert_eq!(
        refused.first().map(String::as_str),
        Some("ivr/code_invalid"),
        "{transcript:#?}"
    );
    let mut call = IvrCall::start(&engine, "1888", Duration::from_secs(90));
    call.wait_welcome();
    call.keys("2", Duration::from_millis(600));
    let heard_refusal = call.ask(&wrong, "#");
    assert_heard_span(&heard_refusal, &refused, "the refused code");
    assert_heard_prompt(&heard_refusal, "ivr/code_invalid", "the refused code");
    let heard_status = call.ask(&code, "#");
    call.hang_up();
    assert!(call.wait(), "the call failed; log:\n{}", engine.log_text());
    assert_heard_span(&heard_status, &status_said, "the status after a second try");
    assert_heard_prompt(
        &heard_status,
        "status/referred",
        "the status after a second try",
    );
    let record = ended_call(&engine, &admin, &call.call_id);
    assert_eq!(record["dtmf"], format!("2{wrong}#{code}#"), "{record:#}");
    assert_eq!(
        engine
            .get(&format!("/api/messages/{wrong}"), Some(&admin))
            .0,
        404,
        "a wrong check digit names no message"
    );
}

// ---- `pasokh cases import` ---------------------------------------------------------------------

#[test]
fn cases_import_reports_bad_rows_by_line_and_serves_the_good_ones() {
    let engine = Engine::start("ivr-cases-import", "");
    engine.cli(&[
        "agent",
        "add",
        "2001",
        "--name",
        "Sara",
        "--password",
        "pw2001",
    ]);
    let agent = engine.token("agent:2001");
    let csv = engine.dir.join("cases.csv");
    let rows = [
        CSV_HEADER,
        // 2, 3: good (Persian digits are accepted).
        "zoning,14031234,6,permit_issued,1403/05/13,under_construction,,,,",
        "article100,۲۲۰۰۱۸۴۰۳۲۰,22,verdict_served,1405/08/28,objection_filed,,fine,250000000,1405/08/28",
        // 4: bad stage; 5: bad date; 6: a zoning file with a verdict; 7: district 23.
        "zoning,5550001,6,flying,1403/05/13,,,,,",
        "zoning,5550002,6,fees_paid,1403/13/01,,,,,",
        "zoning,5550003,6,fees_paid,1403/01/01,,,fine,,",
        "article100,5550004,23,referred,1403/01/01,,,,,",
        // 8: the same number as line 2, as an Article 100 case.
        "article100,14031234,6,referred,1403/02/01,first_verdict,1403/03/01,,,",
    ];
    std::fs::write(&csv, rows.join("\n") + "\n").unwrap_or_else(|e| panic!("CSV: {e}"));
    let output = Command::new(env!("CARGO_BIN_EXE_pasokh"))
        .args(["cases", "import"])
        .arg(&csv)
        .arg("--config")
        .arg(engine.config_path())
        .output()
        .unwrap_or_else(|e| panic!("cannot run pasokh cases import: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "bad rows make the import fail");
    assert!(
        stdout.contains("imported 3 cases, 4 bad rows"),
        "stdout: {stdout}\nstderr: {stderr}"
    );
    let csv_name = csv.display().to_string();
    for (line, about) in [
        (4, "stage"),
        (5, "last_step_date"),
        (6, "zoning file"),
        (7, "district"),
    ] {
        let prefix = format!("{csv_name}:{line}: ");
        assert!(
            stderr
                .lines()
                .any(|l| l.starts_with(&prefix) && l.contains(about)),
            "line {line} ({about}) is reported: {stderr}"
        );
    }
    assert_eq!(
        stderr.lines().filter(|l| l.starts_with(&csv_name)).count(),
        4,
        "only the bad rows are reported: {stderr}"
    );

    let zoning = engine.get_json("/api/cases/14031234?kind=zoning", &agent);
    assert_eq!(
        zoning,
        serde_json::json!({
            "kind": "zoning", "number": "14031234", "district": 6, "stage": "permit_issued",
            "last_step_date": "1403/05/13", "next_step": "under_construction",
            "session_date": null, "verdict": null, "fine_rials": null, "served_date": null
        })
    );
    let article100 = engine.get_json("/api/cases/22001840320", &agent);
    assert_eq!(article100["kind"], "article100");
    assert_eq!(article100["fine_rials"], 250_000_000);
    assert_eq!(article100["served_date"], "1405/08/28");
    let shared = engine.get_json("/api/cases/14031234?kind=article100", &agent);
    assert_eq!(shared["session_date"], "1403/03/01");
    let (status, body) = engine.get("/api/cases/14031234", Some(&agent));
    assert_eq!(status, 300, "two kinds share the number: {body}");
    for number in ["5550001", "5550002", "5550003", "5550004"] {
        let (status, body) = engine.get(&format!("/api/cases/{number}"), Some(&agent));
        assert_eq!(status, 404, "bad row {number} was not imported: {body}");
    }
}
