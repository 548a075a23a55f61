//! SIPp processes: one per path of the day (each with its own SIP and media ports, so its calls
//! and their audio can be told apart), and one playing every call-taker.

use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::engine::{free_port, media_pair_free};
use super::LoadError;

/// The scenarios, built into the program so it runs from anywhere (the same files as
/// `sipp-scenarios/load/`).
pub const CALLER_XML: &str = include_str!("../../sipp-scenarios/load/caller.xml");
pub const CALLER_WAITS_XML: &str = include_str!("../../sipp-scenarios/load/caller_waits.xml");
pub const AGENT_XML: &str = include_str!("../../sipp-scenarios/load/agent.xml");
pub const AGENT_REGISTER_XML: &str = include_str!("../../sipp-scenarios/load/agent_register.xml");

/// The call-takers' SIPp media port: its rtp_stream ports for each call are taken from here
/// up, outside the engine's range and the callers'.
const AGENT_MEDIA: u16 = 50_000;

/// Fails with what to do when SIPp is not installed.
pub fn check_installed() -> Result<(), LoadError> {
    match Command::new("sipp")
        .arg("-v")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
    {
        Ok(_) => Ok(()),
        Err(_) => Err(LoadError::Setup(
            "SIPp is not installed: `apt-get install sip-tester` (Debian's package of SIPp 3.6)"
                .into(),
        )),
    }
}

/// Picks `count` media ports (each with +2 free) from 41000 up, for the paths' SIPp runs.
pub fn media_ports(count: usize) -> Result<Vec<u16>, LoadError> {
    let mut ports = Vec::new();
    let mut port = 41_000u16;
    while ports.len() < count && port < 49_000 {
        if media_pair_free(port) {
            ports.push(port);
        }
        port += 4;
    }
    if ports.len() < count {
        return Err(LoadError::Setup(
            "no free media ports between 41000 and 49000".into(),
        ));
    }
    Ok(ports)
}

/// One running SIPp.
pub struct Sipp {
    pub child: Child,
    pub dir: PathBuf,
    /// Its remote-control UDP port (`-cp`): the day's rate is changed through it.
    pub control: u16,
    /// When it started: its traces count time from here.
    pub started_at: std::time::Instant,
}

impl Sipp {
    /// Sets the call rate (calls per second) through SIPp's remote control.
    pub fn set_rate(&self, socket: &UdpSocket, rate: f64) {
        let command = format!("cset rate {rate:.3}");
        socket
            .send_to(command.as_bytes(), ("127.0.0.1", self.control))
            .ok();
    }

    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    pub fn stop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

/// Everything a caller run needs.
pub struct CallerRun<'a> {
    pub dir: &'a Path,
    pub engine: SocketAddr,
    pub dial: &'a str,
    pub name: &'a str,
    pub calls: u64,
    pub rate: f64,
    /// The citizen hangs up this long after the answer; `None`: waits for the engine's BYE.
    pub hold_ms: Option<u64>,
    pub media_port: u16,
    /// The caller's phone has no telephone-event: keys are tones in the audio.
    pub in_band_keys: bool,
}

/// Starts the citizens' SIPp of one path in its folder (which holds caller.pcap and callers.csv).
pub fn start_callers(run: &CallerRun) -> Result<Sipp, LoadError> {
    let (file, text) = match run.hold_ms {
        Some(_) => ("caller.xml", CALLER_XML),
        None => ("caller_waits.xml", CALLER_WAITS_XML),
    };
    write(&run.dir.join(file), text)?;
    let sip_port = free_port()?;
    let control = free_port()?;
    let mut command = Command::new("sipp");
    command
        .current_dir(run.dir)
        .arg(run.engine.to_string())
        .args([
            "-sf",
            file,
            "-s",
            run.dial,
            "-i",
            "127.0.0.1",
            "-mi",
            "127.0.0.1",
        ])
        .args([
            "-p",
            &sip_port.to_string(),
            "-mp",
            &run.media_port.to_string(),
        ])
        .args(["-r", &format!("{:.3}", run.rate.max(0.001)), "-rp", "1000"])
        .args(["-m", &run.calls.to_string(), "-l", "100000"])
        .args([
            "-inf",
            "callers.csv",
            "-cid_str",
            &format!("load-{}-%u-%p", run.name),
        ])
        .args([
            "-cp",
            &control.to_string(),
            "-buff_size",
            "4194304",
            "-nostdin",
        ])
        .args(["-trace_stat", "-stf", "stat.csv", "-fd", "1"])
        .args(["-trace_rtt", "-rtt_freq", "1", "-trace_logs", "-trace_err"]);
    command.args([
        "-set",
        "second_pt",
        if run.in_band_keys { "0" } else { "101" },
    ]);
    if let Some(hold) = run.hold_ms {
        command.args(["-set", "hold_ms", &hold.to_string()]);
    }
    spawn(command, run.dir, control)
}

/// Registers every call-taker (one short SIPp run each, all from `port`, for `registration_s`
/// seconds), then starts the SIPp that answers their offers on that same port.
///
/// The registrations are never refreshed: the engine sends offers to the address a REGISTER
/// came from, and that port belongs to the answering SIPp from then on, so a refresh cannot be
/// sent from it. The run therefore asks for registrations that outlast it
/// (`registration_seconds`); a run that ended with call-takers' registrations expiring sent
/// its last queued callers to voice messages, and they no longer matched their calls.
pub fn start_agents(
    dir: &Path,
    engine: SocketAddr,
    agents: &[(String, String)],
    registration_s: u32,
) -> Result<Sipp, LoadError> {
    write(&dir.join("agent_register.xml"), AGENT_REGISTER_XML)?;
    write(&dir.join("agent.xml"), AGENT_XML)?;
    let port = free_port()?;
    for (id, password) in agents {
        let output = Command::new("sipp")
            .current_dir(dir)
            .arg(engine.to_string())
            .args([
                "-sf",
                "agent_register.xml",
                "-s",
                id,
                "-au",
                id,
                "-ap",
                password,
            ])
            .args([
                "-i",
                "127.0.0.1",
                "-p",
                &port.to_string(),
                "-m",
                "1",
                "-nostdin",
            ])
            .args(["-key", "expires", &registration_s.to_string()])
            .args(["-timeout", "10s", "-timeout_error"])
            .output()
            .map_err(|e| LoadError::Setup(format!("SIPp: {e}")))?;
        if !output.status.success() {
            return Err(LoadError::Setup(format!(
                "call-taker {id} could not register: {}",
                String::from_utf8_lossy(&output.stdout)
                    .lines()
                    .rev()
                    .take(5)
                    .collect::<Vec<_>>()
                    .join(" / ")
            )));
        }
    }
    let control = free_port()?;
    let mut command = Command::new("sipp");
    command
        .current_dir(dir)
        .arg(engine.to_string())
        .args(["-sf", "agent.xml", "-i", "127.0.0.1", "-mi", "127.0.0.1"])
        .args(["-p", &port.to_string(), "-l", "100000"])
        .args(["-mp", &AGENT_MEDIA.to_string()])
        .args([
            "-cp",
            &control.to_string(),
            "-buff_size",
            "4194304",
            "-rtp_buffsize",
            "4194304",
        ])
        .args([
            "-nostdin",
            "-trace_stat",
            "-stf",
            "stat.csv",
            "-fd",
            "1",
            "-trace_logs",
            "-trace_err",
        ]);
    spawn(command, dir, control)
}

fn spawn(mut command: Command, dir: &Path, control: u16) -> Result<Sipp, LoadError> {
    let out =
        std::fs::File::create(dir.join("sipp.out")).map_err(|e| LoadError::Setup(e.to_string()))?;
    let err = out
        .try_clone()
        .map_err(|e| LoadError::Setup(e.to_string()))?;
    let child = command
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .map_err(|e| LoadError::Setup(format!("cannot start SIPp: {e}")))?;
    let mut sipp = Sipp {
        child,
        dir: dir.to_path_buf(),
        control,
        started_at: std::time::Instant::now(),
    };
    std::thread::sleep(Duration::from_millis(200));
    if !sipp.running() {
        let said = std::fs::read_to_string(dir.join("sipp.out")).unwrap_or_default();
        return Err(LoadError::Setup(format!(
            "SIPp stopped at start in {}:\n{said}",
            dir.display()
        )));
    }
    Ok(sipp)
}

fn write(path: &Path, text: &str) -> Result<(), LoadError> {
    std::fs::write(path, text).map_err(|e| LoadError::Setup(format!("{}: {e}", path.display())))
}

/// The last row of a SIPp statistics file, by column name.
pub fn last_stats(dir: &Path) -> Option<std::collections::HashMap<String, String>> {
    let text = std::fs::read_to_string(dir.join("stat.csv")).ok()?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next()?.split(';').collect();
    let last = lines.rfind(|l| !l.trim().is_empty())?;
    Some(
        header
            .iter()
            .zip(last.split(';'))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    )
}

/// A counter of the last statistics row (0 when absent).
pub fn stat(row: &Option<std::collections::HashMap<String, String>>, name: &str) -> u64 {
    row.as_ref()
        .and_then(|r| r.get(name))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

/// Every INVITE→200 time SIPp measured in `dir` (`-trace_rtt`): (ms since SIPp started, ms).
pub fn response_times(dir: &Path) -> Vec<(f64, f64)> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if !path.to_string_lossy().ends_with("_rtt.csv") {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().unwrap_or("").split(';').collect();
        let date = header.iter().position(|h| *h == "Date_ms");
        let time = header.iter().position(|h| *h == "response_time_ms");
        let (Some(date), Some(time)) = (date, time) else {
            continue;
        };
        for line in lines {
            let fields: Vec<&str> = line.split(';').collect();
            if let (Some(d), Some(t)) = (fields.get(date), fields.get(time)) {
                if let (Ok(d), Ok(t)) = (d.trim().parse::<f64>(), t.trim().parse::<f64>()) {
                    out.push((d, t));
                }
            }
        }
    }
    out
}

/// The lines SIPp's `<log>` actions wrote in `dir` (`-trace_logs`).
pub fn log_lines(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.to_string_lossy().ends_with("_logs.log") {
                if let Ok(text) = std::fs::read_to_string(&path) {
                    out.extend(text.lines().map(str::to_string));
                }
            }
        }
    }
    out
}
