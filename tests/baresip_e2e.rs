//! A real softphone, baresip, registers with the engine's digest authentication.

mod common;

use std::time::Duration;

use common::phone::{Account, Baresip};
use common::{repo_dir, Engine};

/// The softphone's microphone (any 8 kHz WAV; these tests make no call).
fn beep() -> std::path::PathBuf {
    repo_dir().join("prompts/fa/beep.wav")
}

fn registered_contacts(engine: &Engine) -> u64 {
    let (_, metrics) = engine.get("/metrics", None);
    metrics
        .lines()
        .find_map(|l| l.strip_prefix("pasokh_registered_contacts "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

#[test]
fn baresip_registers_with_digest_auth_and_stays_registered() {
    let engine = Engine::start("baresip-ok", "");
    engine.cli(&[
        "agent",
        "add",
        "2001",
        "--name",
        "Maryam",
        "--password",
        "s3cret",
        "--queue",
        "137",
    ]);
    std::thread::sleep(Duration::from_millis(1500)); // the engine reloads agents every second
    let phone = Baresip::start(
        &beep(),
        Account::Agent {
            user: "2001",
            password: "s3cret",
            sip_port: engine.sip,
            auto_answer: true,
        },
    );
    assert_eq!(
        phone.registration_state(Duration::from_secs(15)),
        "OK",
        "{}",
        engine.log_text()
    );
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        phone.registration_state(Duration::from_secs(2)),
        "OK",
        "still registered"
    );
    assert_eq!(
        registered_contacts(&engine),
        1,
        "the engine holds its binding"
    );
}

#[test]
fn baresip_with_a_wrong_password_is_refused() {
    let engine = Engine::start("baresip-bad", "");
    engine.cli(&[
        "agent",
        "add",
        "2002",
        "--name",
        "Reza",
        "--password",
        "right",
        "--queue",
        "137",
    ]);
    std::thread::sleep(Duration::from_millis(1500));
    let phone = Baresip::start(
        &beep(),
        Account::Agent {
            user: "2002",
            password: "wrong",
            sip_port: engine.sip,
            auto_answer: true,
        },
    );
    assert_eq!(phone.registration_state(Duration::from_secs(15)), "ERR");
    assert_eq!(registered_contacts(&engine), 0);
}
