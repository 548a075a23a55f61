//! Real phones for end-to-end tests: baresip as a softphone (a citizen that only dials, or a
//! call-taker registered with digest auth), and SIPp as a caller whose RTP is a test peer or a
//! capture SIPp plays itself.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::pcap::{write_pcap, Captured};
use super::{free_port, repo_dir, require, temp_dir};

/// How a baresip instance presents itself.
pub enum Account<'a> {
    /// No registration: it only dials out.
    Citizen,
    /// A call-taker registering to the engine at `sip_port` (auto-answer when `auto_answer`).
    Agent {
        user: &'a str,
        password: &'a str,
        sip_port: u16,
        auto_answer: bool,
    },
}

/// baresip playing `source` as its microphone and recording what it sends (`*-enc.wav`) and
/// hears (`*-dec.wav`) in `dir/recordings`; driven over ctrl_tcp.
pub struct Baresip {
    child: Child,
    ctrl: u16,
    dir: PathBuf,
}

impl Baresip {
    pub fn start(source: &Path, account: Account) -> Baresip {
        require("baresip");
        let dir = temp_dir("baresip");
        let recordings = dir.join("recordings");
        std::fs::create_dir_all(&recordings).unwrap_or_else(|e| panic!("{e}"));
        let (sip, ctrl, rtp) = (free_port_pair(), free_port(), free_port());
        let config = format!(
            "poll_method\tepoll\nnet_interface\t127.0.0.1\nsip_listen\t127.0.0.1:{sip}\n\
audio_player\taufile,/dev/null\naudio_source\taufile,{source}\naudio_alert\taufile,/dev/null\n\
ausrc_format\ts16\nauplay_format\ts16\naudio_level\tno\n\
rtp_ports\t{rtp}-{rtp_high}\nrtcp_mux\tno\njitter_buffer_delay\t1-4\n\
module_path\t/usr/lib/baresip/modules\nmodule\tg711.so\nmodule\taufile.so\nmodule\tsndfile.so\n\
module_tmp\taccount.so\nmodule_app\tcontact.so\nmodule_app\tmenu.so\nmodule_app\tctrl_tcp.so\n\
ctrl_tcp_listen\t127.0.0.1:{ctrl}\nsnd_path\t{recordings}\n",
            source = source.display(),
            rtp_high = rtp.saturating_add(20),
            recordings = recordings.display(),
        );
        let account = match account {
            Account::Citizen => "<sip:citizen@127.0.0.1>;regint=0;audio_codecs=PCMU\n".to_string(),
            Account::Agent { user, password, sip_port, auto_answer } => format!(
                "<sip:{user}@127.0.0.1:{sip_port}>;auth_pass={password};regint=600;answermode={};audio_codecs=PCMU,PCMA\n",
                if auto_answer { "auto" } else { "manual" }
            ),
        };
        std::fs::write(dir.join("config"), config).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(dir.join("accounts"), account).unwrap_or_else(|e| panic!("{e}"));
        let log = std::fs::File::create(dir.join("baresip.log")).unwrap_or_else(|e| panic!("{e}"));
        let err = log.try_clone().unwrap_or_else(|e| panic!("{e}"));
        let child = Command::new("baresip")
            .arg("-f")
            .arg(&dir)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start baresip: {e}"));
        let phone = Baresip { child, ctrl, dir };
        let deadline = Instant::now() + Duration::from_secs(10);
        while phone.command("reginfo", "").is_none() {
            assert!(
                Instant::now() < deadline,
                "baresip did not start: {}",
                phone.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        phone
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("baresip.log")).unwrap_or_default()
    }

    /// Sends one ctrl_tcp command (netstring-framed JSON); the response's data if it succeeded.
    pub fn command(&self, command: &str, params: &str) -> Option<String> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.ctrl)).ok()?;
        stream
            .set_read_timeout(Some(Duration::from_millis(300)))
            .ok()?;
        let body =
            serde_json::json!({"command": command, "params": params, "token": "t1"}).to_string();
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
                    return (json["ok"] != false)
                        .then(|| json["data"].as_str().unwrap_or_default().to_string());
                }
            }
        }
        None
    }

    pub fn dial(&self, uri: &str) {
        self.command("dial", uri)
            .unwrap_or_else(|| panic!("baresip refused to dial {uri}: {}", self.log()));
    }

    /// Polls `reginfo` until the account shows `OK` or `ERR` and returns that word (`none` if
    /// neither within `within`).
    pub fn registration_state(&self, within: Duration) -> String {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            let info = strip_ansi(&self.command("reginfo", "").unwrap_or_default());
            for state in ["OK", "ERR"] {
                if info.split_whitespace().any(|w| w == state) {
                    return state.to_string();
                }
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        "none".into()
    }

    /// Waits until the account is registered (`reginfo` shows OK).
    pub fn wait_registered(&self, within: Duration) {
        let state = self.registration_state(within);
        assert_eq!(state, "OK", "baresip never registered: {}", self.log());
    }

    /// The file sndfile wrote for one direction of the latest call: "dec" (heard) or "enc" (sent).
    pub fn recording(&self, direction: &str) -> Option<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.dir.join("recordings"))
            .ok()?
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.to_string_lossy().ends_with(&format!("{direction}.wav")))
            .collect();
        files.sort(); // named by start time
        files.pop()
    }
}

impl Drop for Baresip {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        } else {
            eprintln!("baresip files kept in {}", self.dir.display());
        }
    }
}

/// A free port whose successor is free too (baresip binds TLS on its SIP port + 1).
fn free_port_pair() -> u16 {
    for _ in 0..50 {
        let port = free_port();
        let next = port.saturating_add(1);
        let udp = std::net::UdpSocket::bind(("127.0.0.1", next));
        let tcp = std::net::TcpListener::bind(("127.0.0.1", next));
        if udp.is_ok() && tcp.is_ok() {
            return port;
        }
    }
    panic!("no free pair of ports");
}

/// baresip colours its text: drop `ESC [ … m` sequences.
pub fn strip_ansi(text: &str) -> String {
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

pub fn take_netstring(buffer: &mut Vec<u8>) -> Option<Vec<u8>> {
    let colon = buffer.iter().position(|b| *b == b':')?;
    let length: usize = std::str::from_utf8(&buffer[..colon]).ok()?.parse().ok()?;
    if buffer.len() < colon + 1 + length + 1 {
        return None;
    }
    let message = buffer[colon + 1..colon + 1 + length].to_vec();
    buffer.drain(..colon + 1 + length + 1);
    Some(message)
}

/// One SIPp call in the background whose SDP names a test RTP peer's port (`-set rtp_port N`).
pub struct SippCall {
    child: Child,
    work: PathBuf,
    deadline: Instant,
}

impl SippCall {
    pub fn start(
        sip: u16,
        scenario: &str,
        service: &str,
        rtp_port: u16,
        pause_ms: u64,
        limit: Duration,
    ) -> SippCall {
        let rtp_port = rtp_port.to_string();
        let sets = [("rtp_port", rtp_port.as_str())];
        Self::launch(
            temp_dir("sipp-call"),
            sip,
            scenario,
            service,
            &sets,
            pause_ms,
            limit,
        )
    }

    /// A call whose RTP SIPp sends itself: `media` is written as `media.pcap` in SIPp's working
    /// folder, which the `media_pcap_*` scenarios play from SIPp's media port once answered.
    pub fn start_playing(
        sip: u16,
        scenario: &str,
        service: &str,
        media: &[Captured],
        pause_ms: u64,
        limit: Duration,
    ) -> SippCall {
        let work = temp_dir("sipp-pcap");
        write_pcap(&work.join("media.pcap"), media);
        Self::launch(work, sip, scenario, service, &[], pause_ms, limit)
    }

    fn launch(
        work: PathBuf,
        sip: u16,
        scenario: &str,
        service: &str,
        sets: &[(&str, &str)],
        pause_ms: u64,
        limit: Duration,
    ) -> SippCall {
        require("sipp");
        let out = std::fs::File::create(work.join("stdout.txt"))
            .unwrap_or_else(|e| panic!("sipp stdout: {e}"));
        let err = out
            .try_clone()
            .unwrap_or_else(|e| panic!("sipp stderr: {e}"));
        let mut command = Command::new("sipp");
        command
            .current_dir(&work)
            .arg(format!("127.0.0.1:{sip}"))
            .arg("-sf")
            .arg(repo_dir().join("sipp-scenarios").join(scenario))
            .args(["-s", service, "-i", "127.0.0.1", "-mi", "127.0.0.1"])
            .args([
                "-p",
                &free_port().to_string(),
                "-mp",
                &free_port().to_string(),
            ]);
        for (name, value) in sets {
            command.args(["-set", name, value]);
        }
        let child = command
            .args(["-d", &pause_ms.to_string()])
            .args(["-m", "1", "-r", "1", "-nostdin", "-trace_err"])
            .args(["-timeout", &format!("{}s", limit.as_secs().max(2) - 1)])
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start sipp: {e}"));
        SippCall {
            child,
            work,
            deadline: Instant::now() + limit,
        }
    }

    /// Waits for SIPp to finish (killing it past its limit); true if the call succeeded.
    pub fn wait(mut self) -> bool {
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

    /// Ends the call abruptly (the caller's phone dies); the engine sees no BYE.
    pub fn kill(mut self) {
        let _ = self.child.kill();
    }

    pub fn logs(&self) -> String {
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

impl Drop for SippCall {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.work);
    }
}
