//! A real softphone, baresip, registers with the engine's digest authentication.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{free_port, repo_dir, require, temp_dir, Engine};

struct Baresip {
    child: Child,
    ctrl: u16,
}

impl Baresip {
    /// Starts baresip with one account registering to the engine as `user` with `password`.
    fn start(engine: &Engine, user: &str, password: &str) -> Baresip {
        require("baresip");
        let dir = temp_dir("baresip");
        let (sip, ctrl) = (free_port(), free_port());
        let wav = repo_dir().join("prompts/fa/beep.wav");
        let config = format!(
            "poll_method\tepoll\nnet_interface\t127.0.0.1\nsip_listen\t127.0.0.1:{sip}\n\
audio_player\taufile,/dev/null\naudio_source\taufile,{}\naudio_alert\taufile,/dev/null\n\
rtp_ports\t{}-{}\nmodule_path\t/usr/lib/baresip/modules\nmodule\tg711.so\nmodule\taufile.so\n\
module_tmp\taccount.so\nmodule_app\tcontact.so\nmodule_app\tmenu.so\nmodule_app\tctrl_tcp.so\nctrl_tcp_listen\t127.0.0.1:{ctrl}\n",
            wav.display(),
            free_port(),
            free_port().saturating_add(200)
        );
        let account = format!(
            "<sip:{user}@127.0.0.1:{port}>;auth_pass={password};regint=3600;answermode=auto;audio_codecs=PCMU,PCMA\n",
            port = engine.sip
        );
        std::fs::write(dir.join("config"), config).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(dir.join("accounts"), account).unwrap_or_else(|e| panic!("{e}"));
        let child = Command::new("baresip")
            .arg("-f")
            .arg(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start baresip: {e}"));
        Baresip { child, ctrl }
    }

    /// Sends one ctrl_tcp command (netstring-framed JSON) and returns the response's data.
    fn command(&self, command: &str) -> Option<String> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.ctrl)).ok()?;
        stream
            .set_read_timeout(Some(Duration::from_millis(300)))
            .ok()?;
        let body = format!("{{\"command\":\"{command}\",\"params\":\"\",\"token\":\"t1\"}}");
        stream
            .write_all(format!("{}:{body},", body.len()).as_bytes())
            .ok()?;
        let deadline = Instant::now() + Duration::from_secs(3);
        let mut buffer = Vec::new();
        while Instant::now() < deadline {
            let mut chunk = [0u8; 4096];
            if let Ok(n) = stream.read(&mut chunk) {
                buffer.extend_from_slice(&chunk[..n]);
            }
            while let Some(message) = take_netstring(&mut buffer) {
                let json: serde_json::Value = serde_json::from_slice(&message).ok()?;
                if json.get("response").and_then(|r| r.as_bool()) == Some(true) {
                    return json
                        .get("data")
                        .and_then(|d| d.as_str())
                        .map(str::to_string);
                }
            }
        }
        None
    }

    /// Polls `reginfo` until the account shows `OK` or `ERR`; returns that word.
    fn registration_state(&self, within: Duration) -> String {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Some(info) = self.command("reginfo") {
                let words: Vec<String> = strip_ansi(&info)
                    .split_whitespace()
                    .map(str::to_string)
                    .collect();
                for state in ["OK", "ERR"] {
                    if words.iter().any(|w| w == state) {
                        return state.to_string();
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        "none".into()
    }
}

impl Drop for Baresip {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// baresip colours its text: drop `ESC [ … m` sequences.
fn strip_ansi(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for end in chars.by_ref() {
                if end == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn take_netstring(buffer: &mut Vec<u8>) -> Option<Vec<u8>> {
    let colon = buffer.iter().position(|b| *b == b':')?;
    let length: usize = std::str::from_utf8(&buffer[..colon]).ok()?.parse().ok()?;
    if buffer.len() < colon + 1 + length + 1 {
        return None;
    }
    let message = buffer[colon + 1..colon + 1 + length].to_vec();
    buffer.drain(..colon + 1 + length + 1);
    Some(message)
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
    let phone = Baresip::start(&engine, "2001", "s3cret");
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
    let phone = Baresip::start(&engine, "2002", "wrong");
    assert_eq!(phone.registration_state(Duration::from_secs(15)), "ERR");
    assert_eq!(registered_contacts(&engine), 0);
}
