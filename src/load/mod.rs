//! `pasokh load day` and `pasokh load capacity`: a whole day of calls with SIPp against this
//! program's own engine, and the report a municipality can check.
//!
//! The load runs beside the engine, never inside it: it starts `pasokh serve` on a fresh data
//! folder, one SIPp per path of the day (`plan`) and one playing the call-takers, steers the
//! arrival rate through SIPp's remote control, watches what reaches the callers (`capture`),
//! and after the engine has stopped, holds every filed message against the call that made it
//! (`reconcile`). See docs/benchmarks.md.

mod capture;
mod engine;
mod growth;
mod media;
mod plan;
mod reconcile;
mod report;
mod sipp;

use std::io::IsTerminal;
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::config::Config;

pub use report::Report;

#[derive(Debug)]
pub enum LoadError {
    /// The load could not be set up or run (what to do is in the text).
    Setup(String),
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::Setup(text) => f.write_str(text),
        }
    }
}

/// `load day`'s options.
#[derive(Clone, Debug)]
pub struct DayOptions {
    pub calls: u64,
    pub minutes: f64,
    pub agents: u32,
    /// The same rate all along instead of the day's shape (the capacity steps).
    pub flat: bool,
    /// Keep the work folder (engine data, SIPp logs) even when everything matched.
    pub keep: bool,
    /// Print the live progress line (on a terminal).
    pub progress: bool,
    /// Earlier days' messages filed before the engine starts (`--prefill`).
    pub prefill: u64,
}

/// Seconds after the day's end a run waits for its last calls before giving up on them.
const DRAIN_S: f64 = 240.0;

/// What the call-takers' registrations must cover beyond the day and its drain: the engine's
/// start, the call-takers' log-in and the report's own reads.
const REGISTRATION_MARGIN_S: f64 = 300.0;

/// How long the simulated call-takers ask to stay registered: the whole run, since they
/// cannot refresh (`sipp::start_agents`). Fails with what to do when the engine's registrar
/// would shorten it.
pub fn registration_seconds(minutes: f64) -> Result<u32, LoadError> {
    let wanted = (minutes * 60.0 + DRAIN_S + REGISTRATION_MARGIN_S).ceil();
    let most = f64::from(crate::sip::registrar::MAX_EXPIRES_S);
    if wanted.is_nan() || wanted > most {
        let longest = ((most - DRAIN_S - REGISTRATION_MARGIN_S) / 60.0).floor();
        return Err(LoadError::Setup(format!(
            "--minutes {minutes} is longer than the simulated call-takers can stay registered \
             (at most {longest} minutes: registrations last at most {most} s and cannot be \
             refreshed from the port that answers the offers); give --minutes {longest} or less"
        )));
    }
    Ok((wanted as u32).max(crate::sip::registrar::DEFAULT_EXPIRES_S))
}

/// Seconds between two timed reads of the message table (`growth::probe`).
const PROBE_EVERY_S: f64 = 10.0;

/// The speech the citizens and call-takers send: a bundled prompt, real Persian speech.
fn speech(config: &Config) -> Result<Vec<i16>, LoadError> {
    media::read_speech(&config.prompts.join("ivr/record_instructions.wav"))
        .map_err(LoadError::Setup)
}

fn work_folder(label: &str) -> Result<PathBuf, LoadError> {
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!(
        "pasokh-load-{label}-{stamp}-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir)
        .map_err(|e| LoadError::Setup(format!("{}: {e}", dir.display())))?;
    Ok(dir)
}

/// `pasokh load pcaps DIR`: writes every path's caller pcap (with placeholder follow-up codes)
/// and the call-takers' audio, for reading or for running a scenario by hand.
pub fn write_pcaps(config: &Config, out: &Path) -> Result<Vec<PathBuf>, LoadError> {
    let speech = speech(config)?;
    let lengths = plan::PromptLengths::read(&config.prompts).map_err(LoadError::Setup)?;
    let codes = plan::Codes {
        filed: "00000000".into(),
        replied: "00000000".into(),
    };
    std::fs::create_dir_all(out)
        .map_err(|e| LoadError::Setup(format!("{}: {e}", out.display())))?;
    let mut written = Vec::new();
    for (i, path) in plan::paths(&lengths, &codes).iter().enumerate() {
        let file = out.join(format!("{}.pcap", path.name));
        media::write_pcap(&file, &path.audio.packets(&speech, 0x5a5a_0000 + i as u32))
            .map_err(|e| LoadError::Setup(format!("{}: {e}", file.display())))?;
        written.push(file);
    }
    let agent = out.join("agent.al");
    media::alaw_file(&agent, &speech).map_err(|e| LoadError::Setup(e.to_string()))?;
    written.push(agent);
    Ok(written)
}

/// One run of the mix: `calls` calls over `minutes`, measured and reconciled.
pub fn day(config: &Config, options: &DayOptions) -> Result<Report, LoadError> {
    sipp::check_installed()?;
    let registration_s = registration_seconds(options.minutes)?;
    let work = work_folder("day")?;
    let speech = speech(config)?;
    let lengths = plan::PromptLengths::read(&config.prompts).map_err(LoadError::Setup)?;
    let agents = engine::agent_ids(options.agents);
    let (config_file, token, codes, sip, http) =
        engine::prepare(&work, config, options.agents, options.prefill, &speech)?;
    let paths = plan::paths(&lengths, &codes);
    let counts = plan::split(options.calls, &paths);
    let media_ports = sipp::media_ports(paths.len())?;
    let (capture_lo, capture_hi) = (
        media_ports.iter().copied().min().unwrap_or(41_000),
        media_ports.iter().copied().max().unwrap_or(41_000),
    );

    // Each path's folder: its caller audio and one caller number a call.
    for (i, path) in paths.iter().enumerate() {
        let dir = work.join(path.name);
        std::fs::create_dir_all(&dir).map_err(|e| LoadError::Setup(e.to_string()))?;
        media::write_pcap(
            &dir.join("caller.pcap"),
            &path.audio.packets(&speech, 0x5a5a_0000 + i as u32),
        )
        .map_err(|e| LoadError::Setup(e.to_string()))?;
        let mut csv = String::from("SEQUENTIAL\n");
        for n in 0..counts[i].max(1) {
            match path.fixed_caller {
                Some(number) => csv.push_str(number),
                // 0912 3 PP NNNNNN: a mobile number per call, the path in its middle digits.
                None => csv.push_str(&format!("09123{:02}{:05}", i, n % 100_000)),
            }
            csv.push('\n');
        }
        std::fs::write(dir.join("callers.csv"), csv)
            .map_err(|e| LoadError::Setup(e.to_string()))?;
    }
    let agents_dir = work.join("call-takers");
    std::fs::create_dir_all(&agents_dir).map_err(|e| LoadError::Setup(e.to_string()))?;
    media::alaw_file(&agents_dir.join("agent.al"), &speech)
        .map_err(|e| LoadError::Setup(e.to_string()))?;

    let data = work.join("data");
    let mut growth = growth::Growth {
        prefilled: options.prefill,
        messages_before: growth::count_messages(&data).unwrap_or(0),
        bytes_before: growth::database_bytes(&data),
        ..growth::Growth::default()
    };
    let mut engine = engine::Engine::start(&work, config_file, token, sip, http)?;
    let result = run(
        &work,
        &mut engine,
        &paths,
        &counts,
        &media_ports,
        (capture_lo, capture_hi),
        &agents,
        &agents_dir,
        options,
        registration_s,
        &codes.filed,
    );
    engine.stop();
    let mut report = result?;
    growth.messages_after = growth::count_messages(&data).unwrap_or(0);
    growth.bytes_after = growth::database_bytes(&data);
    growth.probes = std::mem::take(&mut report.growth.probes);
    growth.rss_after_kb = report.growth.rss_after_kb;
    report.growth = growth;
    let (reconciliation, queue_waits) =
        reconcile::check(&engine.data, &paths, &report.answered_calls())?;
    report.reconcile = reconciliation;
    report.queue_waits = queue_waits;
    report.work = work.clone();
    if report.clean() && !options.keep {
        std::fs::remove_dir_all(&work).ok();
        report.work_kept = false;
    }
    Ok(report)
}

#[allow(clippy::too_many_arguments)]
fn run(
    work: &Path,
    engine: &mut engine::Engine,
    paths: &[plan::PathSpec],
    counts: &[u64],
    media_ports: &[u16],
    capture_range: (u16, u16),
    agents: &[(String, String)],
    agents_dir: &Path,
    options: &DayOptions,
    registration_s: u32,
    probe_code: &str,
) -> Result<Report, LoadError> {
    let mut agent_sipp = sipp::start_agents(agents_dir, engine.sip, agents, registration_s)?;
    // The engine picks up call-takers added to its store within a few seconds: until then a
    // login is 404.
    for (id, _) in agents {
        let path = format!("/api/agents/{id}/state");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let answer = engine::http_request(
                engine.http,
                "POST",
                &path,
                Some(&engine.admin_token),
                Some(r#"{"action":"login"}"#),
            );
            match answer {
                Ok((202, _)) | Ok((200, _)) => break,
                Ok((404, _)) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(250))
                }
                other => {
                    agent_sipp.stop();
                    return Err(LoadError::Setup(format!(
                        "call-taker {id} could not log in: {other:?}"
                    )));
                }
            }
        }
    }
    let capture = capture::Capture::start(capture_range.0, capture_range.1)?;
    let seconds = options.minutes * 60.0;
    let total = options.calls;
    let control = UdpSocket::bind("127.0.0.1:0").map_err(|e| LoadError::Setup(e.to_string()))?;
    // The rate of each path's SIPp is set once a step, to start the calls the day's shape
    // wants by the step's end, counting what SIPp has really started: SIPp forgets a fraction of
    // a call at each change of rate, and a quiet path's rate is a fraction of a call a second.
    let step = (seconds / 24.0).max(5.0);
    let mut next_step = step;
    let started = Instant::now();
    let (cpu0, _) = engine::process_usage(engine.pid());
    let mut callers = Vec::new();
    for (i, path) in paths.iter().enumerate() {
        if counts[i] == 0 {
            continue;
        }
        let share = counts[i] as f64 / total.max(1) as f64;
        let run = sipp::CallerRun {
            dir: &work.join(path.name),
            engine: engine.sip,
            dial: path.dial,
            name: path.name,
            calls: counts[i],
            rate: counts[i] as f64 * plan::share_by(step, seconds, options.flat) / step,
            hold_ms: match path.ending {
                plan::Ending::CallerHangsUp { at_ms } => Some(at_ms),
                plan::Ending::EngineHangsUp => None,
            },
            media_port: media_ports[i],
            in_band_keys: path.audio.keys == media::KeyMode::InBand,
        };
        match sipp::start_callers(&run) {
            Ok(s) => callers.push((i, share, s)),
            Err(e) => {
                for (_, _, s) in &mut callers {
                    s.stop();
                }
                agent_sipp.stop();
                capture.finish();
                return Err(e);
            }
        }
    }

    let mut timeline = Vec::new();
    let mut generator_cpu = std::collections::HashMap::new();
    let deadline = started + Duration::from_secs_f64(seconds + DRAIN_S);
    let terminal = options.progress && std::io::stderr().is_terminal();
    let mut last_tick = Instant::now();
    let mut peak_concurrent = 0.0f64;
    let mut probes = Vec::new();
    let mut next_probe = 0.0;
    loop {
        std::thread::sleep(Duration::from_millis(1000).saturating_sub(last_tick.elapsed()));
        last_tick = Instant::now();
        let t = started.elapsed().as_secs_f64();
        let steer = t >= next_step;
        if steer {
            next_step = t + step;
        }
        let mut running = 0;
        let (mut done, mut failed, mut current) = (0u64, 0u64, 0u64);
        for (i, _, s) in &mut callers {
            let row = sipp::last_stats(&s.dir);
            if s.running() {
                running += 1;
                if steer {
                    let created = sipp::stat(&row, "TotalCallCreated") as f64;
                    let wanted =
                        counts[*i] as f64 * plan::share_by(t + step, seconds, options.flat);
                    // Past the day's end, whatever is left starts at once.
                    let rate = if t >= seconds {
                        (counts[*i] as f64 - created).max(1.0)
                    } else {
                        (wanted - created).max(0.0) / step
                    };
                    s.set_rate(&control, rate);
                }
                let (cpu, _) = engine::process_usage(s.child.id());
                generator_cpu.insert(s.child.id(), cpu);
            }
            done += sipp::stat(&row, "SuccessfulCall(C)") + sipp::stat(&row, "FailedCall(C)");
            failed += sipp::stat(&row, "FailedCall(C)");
            current += sipp::stat(&row, "CurrentCall");
        }
        let (cpu_a, _) = engine::process_usage(agent_sipp.child.id());
        generator_cpu.insert(agent_sipp.child.id(), cpu_a);
        let metrics = engine.metrics().unwrap_or_default();
        let active = engine::metric_sum(&metrics, "pasokh_calls_active").unwrap_or(current as f64);
        let waiting = engine::metric_sum(&metrics, "pasokh_queue_waiting").unwrap_or(0.0);
        peak_concurrent = peak_concurrent.max(active);
        if t >= next_probe {
            next_probe = t + PROBE_EVERY_S;
            probes.push(growth::probe(engine, probe_code, t));
        }
        timeline.push(report::Sample {
            t,
            done,
            active,
            waiting,
            rss_kb: growth::resident_kb(engine.pid()),
        });
        if terminal {
            let cps = done as f64 / t.max(1.0);
            eprint!(
                "\r{done} of {total} calls done · {cps:.1} calls/s · {active:.0} at once · {failed} failed   "
            );
        }
        if running == 0 {
            break;
        }
        if Instant::now() > deadline {
            for (_, _, s) in &mut callers {
                s.stop();
            }
            break;
        }
    }
    if terminal {
        eprintln!();
    }
    let elapsed = started.elapsed().as_secs_f64();
    // Calls still with a call-taker are over by now; let the engine finish its last filings.
    std::thread::sleep(Duration::from_secs(2));
    let (cpu1, peak_rss_kb) = engine::process_usage(engine.pid());
    let rss_after_kb = growth::resident_kb(engine.pid());
    agent_sipp.stop();
    let seen = capture.finish();
    let generator_cpu_s: f64 = generator_cpu.values().sum();
    let per_path: Vec<report::PathRun> = callers
        .iter()
        .map(|(i, _, s)| {
            let offset_ms = s.started_at.duration_since(started).as_secs_f64() * 1000.0;
            report::PathRun::read(&paths[*i], counts[*i], &s.dir, media_ports[*i], offset_ms)
        })
        .collect();
    let mut report = Report::new(report::Run {
        calls: total,
        seconds: elapsed,
        minutes: options.minutes,
        agents: agents.len() as u32,
        engine_cpu_s: cpu1 - cpu0,
        engine_peak_rss_kb: peak_rss_kb,
        generator_cpu_s,
        peak_concurrent,
        timeline,
        paths: per_path,
        seen,
    });
    report.growth.probes = probes;
    report.growth.rss_after_kb = rss_after_kb;
    Ok(report)
}

/// `load capacity`: the mix at rising flat rates, each for `step_seconds`, until calls fail
/// (over 0.1%) or answers slow (p99 over 200 ms) or any message goes missing.
pub fn capacity(
    config: &Config,
    start_rate: f64,
    step_seconds: f64,
    agents: u32,
) -> Result<report::Capacity, LoadError> {
    let mut steps = Vec::new();
    let mut rate = start_rate;
    loop {
        let calls = (rate * step_seconds).round() as u64;
        // Enough call-takers for the step's share of calls to a call-taker (13%), each taking
        // about 10 s a call (ring, talk, wrap-up), with room for bursts.
        let needed = (rate * 0.131 * 10.0 * 1.5).ceil() as u32;
        let options = DayOptions {
            calls,
            minutes: step_seconds / 60.0,
            agents: agents.max(needed),
            flat: true,
            keep: false,
            progress: true,
            prefill: 0,
        };
        eprintln!("load capacity: {rate:.0} calls/s for {step_seconds:.0} s ({calls} calls, {} call-takers)", options.agents);
        let report = day(config, &options)?;
        let clean = report.capacity_clean();
        eprintln!("  {}", report.one_line());
        steps.push((rate, report));
        if !clean || steps.len() >= 12 {
            break;
        }
        rate *= 1.25;
    }
    Ok(report::Capacity { steps })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_takers_stay_registered_past_the_days_end() {
        // An hour's day ended with every call-taker's 3600 s registration expiring in its last
        // seconds: the registration must cover the day, its drain and the set-up around it.
        for minutes in [1.0, 10.0, 60.0, 111.0] {
            let asked = registration_seconds(minutes).unwrap_or(0);
            assert!(
                f64::from(asked) >= minutes * 60.0 + DRAIN_S + REGISTRATION_MARGIN_S,
                "{minutes} min: {asked} s"
            );
            assert!(asked <= crate::sip::registrar::MAX_EXPIRES_S);
        }
    }

    #[test]
    fn a_day_longer_than_a_registration_can_last_is_refused_with_the_longest_that_works() {
        let Err(LoadError::Setup(message)) = registration_seconds(120.0) else {
            panic!("a two-hour day was accepted");
        };
        assert!(message.contains("--minutes 111 or less"), "{message}");
        assert!(registration_seconds(f64::NAN).is_err());
    }
}
