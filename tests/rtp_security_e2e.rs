//! End-to-end checks of the defences of a call's media and of the RTP port pool: a spray of RTP
//! at a call's port gets nothing of the call, a port another process holds is skipped, and a
//! source that never ACKs cannot take the pool from the other callers.

mod common;

use std::net::UdpSocket;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::phone::SippCall;
use common::rtp::RtpPeer;
use common::{assert_ok, free_port, repo_dir, sipp, temp_dir, Engine};

/// A 440 Hz tone at a level the engine's echo carries back clearly.
fn tone(ms: usize) -> Vec<i16> {
    (0..ms * 8)
        .map(|n| (8000.0 * (2.0 * std::f64::consts::PI * 440.0 * n as f64 / 8000.0).sin()) as i16)
        .collect()
}

/// The value of a counter in `/metrics` (0 when absent).
fn metric(engine: &Engine, name: &str) -> u64 {
    let (_, text) = engine.get("/metrics", None);
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

#[test]
fn a_spray_before_the_caller_speaks_receives_nothing_of_the_call() {
    let engine = Engine::start("rtp-spray", "");
    let caller = RtpPeer::bind();
    let call = SippCall::start(
        engine.sip,
        "media_uac.xml",
        "*43",
        caller.port(),
        4000,
        Duration::from_secs(30),
    );
    // The engine sends to the caller's SDP address from the answer on: that is its port.
    let call_port = caller.remote(Duration::from_secs(10));
    // The attacker sprays valid PCMU (one SSRC, in sequence, paced like a phone) at the call's
    // port from another source, and keeps on; the caller starts speaking only afterwards.
    let spray = RtpPeer::bind();
    spray.set_remote(call_port);
    let sprayer = std::thread::spawn(move || {
        spray.send_audio_pcmu(&vec![-9000; 8 * 3000]);
        spray
    });
    std::thread::sleep(Duration::from_millis(60));
    let mark = caller.mark();
    caller.send_audio_pcmu(&tone(2000));
    let spray = match sprayer.join() {
        Ok(spray) => spray,
        Err(_) => panic!("the spray thread panicked"),
    };
    assert!(call.wait(), "the call failed; log:\n{}", engine.log_text());
    let heard_by_spray = spray.received().packets.len();
    println!("packets sent to a source that is not the caller: {heard_by_spray}");
    assert_eq!(
        heard_by_spray, 0,
        "packets sent to a source that is not the caller"
    );
    let heard_by_caller = caller.since(mark).packets.len();
    assert!(
        heard_by_caller >= 50,
        "the caller heard only {heard_by_caller} packets"
    );
    // The spray was seen and dropped (the workers publish their counters once a second).
    let deadline = Instant::now() + Duration::from_secs(5);
    while metric(&engine, "pasokh_rtp_foreign_total") == 0 {
        assert!(Instant::now() < deadline, "no foreign packet counted");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The RTP port range the test engine was given (`rtp_ports = "LOW-HIGH"` in its config).
fn rtp_range(engine: &Engine) -> (u16, u16) {
    let config = std::fs::read_to_string(engine.config_path()).unwrap_or_default();
    let range = config
        .lines()
        .find_map(|l| l.strip_prefix("rtp_ports = "))
        .map(|v| v.trim_matches('"').to_string())
        .unwrap_or_else(|| panic!("no rtp_ports in the config:\n{config}"));
    let parse = |p: &str| p.parse::<u16>().unwrap_or_else(|_| panic!("bad port {p}"));
    match range.split_once('-') {
        Some((low, high)) => (parse(low), parse(high)),
        None => panic!("bad range {range}"),
    }
}

#[test]
fn ports_held_by_another_process_are_skipped_and_the_call_answered() {
    let engine = Engine::start("rtp-port-in-use", "");
    let (low, high) = rtp_range(&engine);
    let even: Vec<u16> = (low..=high).filter(|p| p % 2 == 0).collect();
    let Some((&free, held)) = even.split_last() else {
        panic!("an empty range");
    };
    // Every even port but the last is held by "another process" (a port already held by
    // someone else is just as good).
    let _sockets: Vec<UdpSocket> = held
        .iter()
        .filter_map(|p| UdpSocket::bind(("127.0.0.1", *p)).ok())
        .collect();
    let caller = RtpPeer::bind();
    let call = SippCall::start(
        engine.sip,
        "media_uac.xml",
        "*43",
        caller.port(),
        1000,
        Duration::from_secs(30),
    );
    let engine_rtp = caller.remote(Duration::from_secs(10));
    assert_eq!(
        engine_rtp.port(),
        free,
        "the call's RTP is on the one free port"
    );
    caller.send_silence(Duration::from_millis(300));
    assert!(call.wait(), "the call failed; log:\n{}", engine.log_text());
}

#[test]
fn invites_never_acked_from_one_source_leave_the_pool_to_other_callers() {
    let engine = Engine::start("rtp-no-ack-flood", "max_unconfirmed_per_source = 5");
    // 60 INVITEs that are never ACKed, from 127.0.0.1: more than the pool's 50 ports.
    let work = temp_dir("sipp-flood");
    let mut flood = Command::new("sipp")
        .current_dir(&work)
        .arg(format!("127.0.0.1:{}", engine.sip))
        .arg("-sf")
        .arg(repo_dir().join("sipp-scenarios/uac_no_ack.xml"))
        .args(["-s", "137", "-i", "127.0.0.1", "-mi", "127.0.0.1"])
        .args(["-p", &free_port().to_string()])
        .args([
            "-m", "60", "-r", "300", "-l", "60", "-nostdin", "-timeout", "40s",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start sipp: {e}"));
    let deadline = Instant::now() + Duration::from_secs(15);
    while metric(&engine, "pasokh_calls_refused_source_limit_total") < 55 {
        assert!(
            Instant::now() < deadline,
            "the flood was not refused; log:\n{}",
            engine.log_text()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // Meanwhile a citizen calling from another address is answered.
    let out = sipp(
        &engine,
        "uac_basic.xml",
        "137",
        &["-i", "127.0.0.2", "-mi", "127.0.0.2"],
        Duration::from_secs(30),
    );
    let _ = flood.kill();
    let _ = flood.wait();
    assert_ok(&out, "a call from another source during the flood");
    assert_eq!(
        metric(&engine, "pasokh_calls_refused_source_limit_total"),
        55
    );
}

/// Malformed RTP in the middle of a call, from the caller's own address and from another: every
/// packet is dropped and counted, nothing is sent to the other address, and the call goes on
/// (the echo still carries the caller's voice afterwards).
#[test]
fn malformed_rtp_mid_call_is_dropped_and_counted_and_the_call_goes_on() {
    let engine = Engine::start("rtp-malformed", "");
    let caller = RtpPeer::bind();
    let call = SippCall::start(
        engine.sip,
        "media_uac.xml",
        "*43",
        caller.port(),
        6000,
        Duration::from_secs(30),
    );
    let call_port = caller.remote(Duration::from_secs(10));
    caller.send_audio_pcmu(&tone(600));
    // Not RTP at all, a version-1 header, a header cut short, a CSRC count past the end, an
    // extension longer than the packet, padding longer than the payload, and empty datagrams.
    let mut junk: Vec<Vec<u8>> = vec![
        b"hello, this is not RTP".to_vec(),
        vec![0x40, 0x00, 0x00, 0x01, 0, 0, 0, 1, 0, 0, 0, 1, 0xff, 0xff],
        vec![0x80, 0x00, 0x00],
        vec![0x8f, 0x00, 0x00, 0x01, 0, 0, 0, 1, 0, 0, 0, 1],
        vec![
            0x90, 0x00, 0x00, 0x01, 0, 0, 0, 1, 0, 0, 0, 1, 0xbe, 0xde, 0x7f, 0xff,
        ],
        vec![
            0xa0, 0x00, 0x00, 0x01, 0, 0, 0, 1, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 200,
        ],
        Vec::new(),
    ];
    junk.extend((0..200u32).map(|n| n.to_be_bytes().repeat(1 + (n as usize % 5))));
    let stranger = RtpPeer::bind();
    stranger.set_remote(call_port);
    for packet in &junk {
        caller.send_raw(packet);
        stranger.send_raw(packet);
    }
    let mark = caller.mark();
    caller.send_audio_pcmu(&tone(2000));
    assert!(call.wait(), "the call failed; log:\n{}", engine.log_text());
    let echoed = caller.since(mark).audible_ms(2000);
    assert!(
        echoed >= 1000,
        "the echo carried only {echoed} ms of the caller's voice after the junk"
    );
    assert_eq!(
        stranger.received().packets.len(),
        0,
        "nothing of the call went to the other address"
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while metric(&engine, "pasokh_rtp_malformed_total") < 100 {
        assert!(
            Instant::now() < deadline,
            "malformed packets not counted: {}",
            metric(&engine, "pasokh_rtp_malformed_total")
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}
