//! The load's report: a text a person reads, one JSON line a script reads, and a self-contained
//! HTML page with the day's charts.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::json;

use super::capture::Seen;
use super::growth::{self, Growth};
use super::plan::PathSpec;
use super::reconcile::Reconciliation;
use super::sipp;

/// One second of the run.
#[derive(Clone, Debug)]
pub struct Sample {
    pub t: f64,
    /// Calls finished so far (completed or failed), over every path.
    pub done: u64,
    /// Calls up at once in the engine.
    pub active: f64,
    /// Callers waiting in a queue.
    pub waiting: f64,
    /// The engine's resident memory (kB).
    pub rss_kb: u64,
}

/// What SIPp says of one path.
#[derive(Clone, Debug)]
pub struct PathRun {
    pub name: String,
    pub planned: u64,
    pub attempted: u64,
    pub completed: u64,
    pub failed: u64,
    /// Answered calls and the engine's audio port each was given.
    pub answered: Vec<(String, u16)>,
    /// (ms since the run started, INVITE→200 ms).
    pub answer_times: Vec<(f64, f64)>,
    pub media_port: u16,
    /// The first lines of SIPp's error log, when calls failed.
    pub errors: Vec<String>,
}

impl PathRun {
    /// `offset_ms`: when this path's SIPp started, from the run's start.
    pub fn read(
        path: &PathSpec,
        planned: u64,
        dir: &Path,
        media_port: u16,
        offset_ms: f64,
    ) -> PathRun {
        let row = sipp::last_stats(dir);
        let answered = sipp::log_lines(dir)
            .iter()
            .filter_map(|line| {
                let mut words = line.split_whitespace();
                (words.next()? == "answered").then_some(())?;
                let call = words.next()?.to_string();
                let port = words.next()?.parse().ok()?;
                Some((call, port))
            })
            .collect();
        let mut errors = Vec::new();
        if let Ok(entries) = std::fs::read_dir(dir) {
            for entry in entries.flatten() {
                if entry.path().to_string_lossy().ends_with("_errors.log") {
                    if let Ok(text) = std::fs::read_to_string(entry.path()) {
                        errors.extend(
                            text.lines()
                                .filter(|l| !l.trim().is_empty())
                                .take(6)
                                .map(str::to_string),
                        );
                    }
                }
            }
        }
        PathRun {
            name: path.name.to_string(),
            planned,
            attempted: sipp::stat(&row, "TotalCallCreated"),
            completed: sipp::stat(&row, "SuccessfulCall(C)"),
            failed: sipp::stat(&row, "FailedCall(C)"),
            answered,
            answer_times: sipp::response_times(dir)
                .into_iter()
                .map(|(at, ms)| (at + offset_ms, ms))
                .collect(),
            media_port,
            errors,
        }
    }
}

/// Everything measured during the run.
pub struct Run {
    pub calls: u64,
    pub seconds: f64,
    pub minutes: f64,
    pub agents: u32,
    pub engine_cpu_s: f64,
    pub engine_peak_rss_kb: u64,
    pub generator_cpu_s: f64,
    pub peak_concurrent: f64,
    pub timeline: Vec<Sample>,
    pub paths: Vec<PathRun>,
    pub seen: Seen,
}

pub struct Report {
    pub run: Run,
    pub reconcile: Reconciliation,
    pub queue_waits: Vec<f64>,
    pub growth: Growth,
    pub work: PathBuf,
    pub work_kept: bool,
}

fn percentile(values: &[f64], share: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let index = ((sorted.len() as f64 * share).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[index]
}

/// A JSON number, or null for a figure that could not be measured.
fn number(v: f64) -> serde_json::Value {
    if v.is_finite() {
        json!((v * 1000.0).round() / 1000.0)
    } else {
        serde_json::Value::Null
    }
}

impl Report {
    pub fn new(run: Run) -> Report {
        Report {
            run,
            reconcile: Reconciliation::default(),
            queue_waits: Vec::new(),
            growth: Growth::default(),
            work: PathBuf::new(),
            work_kept: true,
        }
    }

    /// Path → the Call-IDs the engine answered.
    pub fn answered_calls(&self) -> HashMap<String, HashSet<String>> {
        self.run
            .paths
            .iter()
            .map(|p| {
                (
                    p.name.clone(),
                    p.answered.iter().map(|(c, _)| c.clone()).collect(),
                )
            })
            .collect()
    }

    fn totals(&self) -> (u64, u64, u64) {
        self.run.paths.iter().fold((0, 0, 0), |t, p| {
            (t.0 + p.attempted, t.1 + p.completed, t.2 + p.failed)
        })
    }

    fn answer_ms(&self) -> Vec<f64> {
        self.run
            .paths
            .iter()
            .flat_map(|p| p.answer_times.iter().map(|(_, ms)| *ms))
            .collect()
    }

    /// The run in tenths: memory, answers and the API's reads, to see what grows.
    fn growth_windows(&self) -> Vec<growth::Window> {
        let rss: Vec<(f64, u64)> = self.run.timeline.iter().map(|s| (s.t, s.rss_kb)).collect();
        let answers: Vec<(f64, f64)> = self
            .run
            .paths
            .iter()
            .flat_map(|p| p.answer_times.iter().map(|(at, ms)| (at / 1000.0, *ms)))
            .collect();
        growth::windows(
            self.run.seconds,
            &rss,
            &answers,
            &self.growth.probes,
            percentile,
        )
    }

    /// Answered calls whose caller received the engine's audio (at least 10 packets on a
    /// stream from the port the engine's answer gave): matched per (path, engine port).
    fn rtp_arrived(&self, path: &PathRun) -> u64 {
        let mut calls_per_port: HashMap<u16, u64> = HashMap::new();
        for (_, port) in &path.answered {
            *calls_per_port.entry(*port).or_default() += 1;
        }
        let mut streams_per_port: HashMap<u16, u64> = HashMap::new();
        for ((dst, src, _), stream) in &self.run.seen.streams {
            if *dst == path.media_port && stream.packets >= 10 {
                *streams_per_port.entry(*src).or_default() += 1;
            }
        }
        calls_per_port
            .iter()
            .map(|(port, calls)| (*calls).min(streams_per_port.get(port).copied().unwrap_or(0)))
            .sum()
    }

    fn rtp_missing(&self) -> u64 {
        self.run
            .paths
            .iter()
            .map(|p| p.answered.len() as u64 - self.rtp_arrived(p))
            .sum()
    }

    /// No call failed, every answered call heard the engine, and the store matches exactly.
    pub fn clean(&self) -> bool {
        let (attempted, _, failed) = self.totals();
        failed == 0
            && attempted == self.run.calls
            && self.rtp_missing() == 0
            && self.reconcile.exact()
    }

    /// A capacity step passes: at most 0.1% failed, answers p99 within 200 ms, nothing lost.
    pub fn capacity_clean(&self) -> bool {
        let (attempted, _, failed) = self.totals();
        let p99 = percentile(&self.answer_ms(), 0.99);
        (failed as f64) <= 0.001 * attempted.max(1) as f64 && p99 <= 200.0 && self.reconcile.exact()
    }

    pub fn one_line(&self) -> String {
        let (attempted, completed, failed) = self.totals();
        let answers = self.answer_ms();
        format!(
            "{attempted} calls, {completed} completed, {failed} failed; answer p50 {:.0} ms p99 {:.0} ms; \
             {:.0} at once; engine CPU {:.0} s; messages {}",
            percentile(&answers, 0.5),
            percentile(&answers, 0.99),
            self.run.peak_concurrent,
            self.run.engine_cpu_s,
            if self.reconcile.exact() { "exact" } else { "MISMATCHED" }
        )
    }

    pub fn json(&self) -> serde_json::Value {
        let (attempted, completed, failed) = self.totals();
        let (filed, expected, saved, recordings_expected) = self.reconcile.totals();
        let answers = self.answer_ms();
        let paths: Vec<_> = self
            .run
            .paths
            .iter()
            .map(|p| {
                let check = self.reconcile.paths.get(&p.name).cloned().unwrap_or_default();
                json!({
                    "path": p.name, "planned": p.planned, "attempted": p.attempted,
                    "completed": p.completed, "failed": p.failed, "answered": p.answered.len(),
                    "engine_rtp_reached": self.rtp_arrived(p),
                    "messages_filed": check.messages_filed, "messages_expected": check.messages_expected,
                    "recordings_saved": check.recordings_saved, "recordings_expected": check.recordings_expected,
                    "missing": check.missing, "mismatched": check.wrong,
                })
            })
            .collect();
        json!({
            "calls": self.run.calls,
            "attempted": attempted,
            "completed": completed,
            "failed": failed,
            "messages_filed": filed,
            "messages_expected": expected,
            "recordings_saved": saved,
            "recordings_expected": recordings_expected,
            "stray_messages": self.reconcile.strays,
            "exact_match": self.reconcile.exact(),
            "seconds": number(self.run.seconds),
            "cps": number(attempted as f64 / self.run.seconds.max(1.0)),
            "peak_concurrent": number(self.run.peak_concurrent),
            "answer_p50_ms": number(percentile(&answers, 0.5)),
            "answer_p99_ms": number(percentile(&answers, 0.99)),
            "queue_wait_p50_s": number(percentile(&self.queue_waits, 0.5)),
            "queue_wait_p99_s": number(percentile(&self.queue_waits, 0.99)),
            "engine_cpu_s": number(self.run.engine_cpu_s),
            "engine_peak_rss_kb": self.run.engine_peak_rss_kb,
            "generator_cpu_s": number(self.run.generator_cpu_s),
            "rtp_spacing_p50_ms": number(self.run.seen.spacing_percentile(0.5)),
            "rtp_spacing_p99_ms": number(self.run.seen.spacing_percentile(0.99)),
            "rtp_packets_seen": self.run.seen.packets,
            "rtp_capture_dropped": self.run.seen.dropped,
            "calls_without_engine_rtp": self.rtp_missing(),
            "agents": self.run.agents,
            "growth": self.growth_json(),
            "paths": paths,
        })
    }

    fn growth_json(&self) -> serde_json::Value {
        let g = &self.growth;
        let (per_message_before, per_message_run) = g.bytes_per_message();
        let windows: Vec<_> = self
            .growth_windows()
            .iter()
            .map(|w| w.json(number))
            .collect();
        json!({
            "prefilled_messages": g.prefilled,
            "messages_before": g.messages_before,
            "database_bytes_before": g.bytes_before,
            "messages_after": g.messages_after,
            "database_bytes_after": g.bytes_after,
            "bytes_per_message_before": number(per_message_before),
            "bytes_per_message_run": number(per_message_run),
            "engine_rss_after_calls_kb": g.rss_after_kb,
            "tenths": windows,
        })
    }

    fn growth_text(&self, out: &mut String) {
        let g = &self.growth;
        let (per_message_before, per_message_run) = g.bytes_per_message();
        let _ = writeln!(
            out,
            "database: {:.1} MB for {} messages before the run ({} prefilled; {:.0} bytes each), \
             {:.1} MB for {} after ({:.0} bytes for each message the run added)",
            g.bytes_before as f64 / 1e6,
            g.messages_before,
            g.prefilled,
            per_message_before,
            g.bytes_after as f64 / 1e6,
            g.messages_after,
            per_message_run
        );
        let _ = writeln!(
            out,
            "engine memory once the calls were over: {:.1} MB (peak {:.1} MB)",
            g.rss_after_kb as f64 / 1024.0,
            self.run.engine_peak_rss_kb as f64 / 1024.0
        );
        let _ = writeln!(
            out,
            "by tenths of the run: until (s), engine memory (MB), answer p99 (ms), API read of one message / of the newest 50 (median ms):"
        );
        for w in self.growth_windows() {
            // A tenth with no answer (the drain) or no read shows "-", not NaN.
            let shown = |v: f64, places: usize| {
                if v.is_finite() {
                    format!("{v:.places$}")
                } else {
                    "-".into()
                }
            };
            let _ = writeln!(
                out,
                "  {:>7.0} {:>8.1} {:>8} {:>8} / {}",
                w.until,
                w.rss_kb as f64 / 1024.0,
                shown(w.answer_p99_ms, 0),
                shown(w.lookup_p50_ms, 1),
                shown(w.page_p50_ms, 1)
            );
        }
    }

    pub fn text(&self) -> String {
        let (attempted, completed, failed) = self.totals();
        let (filed, expected, saved, recordings_expected) = self.reconcile.totals();
        let answers = self.answer_ms();
        let mut out = String::new();
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let _ = writeln!(
            out,
            "pasokh load: {} calls planned over {:.1} min ({} call-takers), ran {:.0} s",
            self.run.calls, self.run.minutes, self.run.agents, self.run.seconds
        );
        let _ = writeln!(
            out,
            "\n{:<24} {:>8} {:>9} {:>6} {:>9} {:>10} {:>15} {:>15}",
            "path",
            "calls",
            "completed",
            "failed",
            "answered",
            "engine RTP",
            "messages",
            "recordings"
        );
        for p in &self.run.paths {
            let check = self
                .reconcile
                .paths
                .get(&p.name)
                .cloned()
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "{:<24} {:>8} {:>9} {:>6} {:>9} {:>10} {:>15} {:>15}",
                p.name,
                p.attempted,
                p.completed,
                p.failed,
                p.answered.len(),
                self.rtp_arrived(p),
                format!("{}/{}", check.messages_filed, check.messages_expected),
                format!("{}/{}", check.recordings_saved, check.recordings_expected),
            );
        }
        let _ = writeln!(
            out,
            "{:<24} {:>8} {:>9} {:>6}",
            "all paths", attempted, completed, failed
        );
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "calls per second: {:.1} on average; peak concurrent calls {:.0}",
            attempted as f64 / self.run.seconds.max(1.0),
            self.run.peak_concurrent
        );
        let _ = writeln!(
            out,
            "answer latency (INVITE → 200): median {:.0} ms, p99 {:.0} ms (SIPp counts whole ms; n={})",
            percentile(&answers, 0.5),
            percentile(&answers, 0.99),
            answers.len()
        );
        let _ = writeln!(
            out,
            "queue wait (enter → answered by a call-taker): median {:.1} s, p99 {:.1} s (n={})",
            percentile(&self.queue_waits, 0.5),
            percentile(&self.queue_waits, 0.99),
            self.queue_waits.len()
        );
        let _ = writeln!(
            out,
            "engine: {:.1} CPU s (user+sys) = {:.0}% of one core; peak memory {:.1} MB",
            self.run.engine_cpu_s,
            100.0 * self.run.engine_cpu_s / self.run.seconds.max(1.0),
            self.run.engine_peak_rss_kb as f64 / 1024.0
        );
        let _ = writeln!(
            out,
            "generator: SIPp used {:.1} CPU s = {:.0}% of one core, of {cores} cores",
            self.run.generator_cpu_s,
            100.0 * self.run.generator_cpu_s / self.run.seconds.max(1.0)
        );
        let _ = writeln!(
            out,
            "engine RTP at the callers: {} packets, spacing median {:.1} ms, p99 {:.1} ms; {} answered calls got none; capture dropped {}",
            self.run.seen.packets,
            self.run.seen.spacing_percentile(0.5),
            self.run.seen.spacing_percentile(0.99),
            self.rtp_missing(),
            self.run.seen.dropped
        );
        let _ = writeln!(
            out,
            "messages filed {filed} of {expected} expected, recordings saved {saved} of {recordings_expected}: {}",
            if self.reconcile.exact() {
                "exact match, path by path, each message checked against its call"
            } else {
                "MISMATCH"
            }
        );
        self.growth_text(&mut out);
        for (name, check) in &self.reconcile.paths {
            for example in &check.examples {
                let _ = writeln!(out, "  {name}: {example}");
            }
        }
        for example in &self.reconcile.examples {
            let _ = writeln!(out, "  stray: {example}");
        }
        for p in &self.run.paths {
            if p.failed > 0 {
                for line in &p.errors {
                    let _ = writeln!(out, "  {} SIPp: {line}", p.name);
                }
            }
        }
        if self.work_kept {
            let _ = writeln!(
                out,
                "engine data, logs and SIPp's traces: {}",
                self.work.display()
            );
        }
        out
    }

    /// A self-contained page: the figures and five charts over the run.
    pub fn html(&self) -> String {
        let timeline = &self.run.timeline;
        let cps: Vec<(f64, f64)> = timeline
            .windows(2)
            .map(|w| {
                (
                    w[1].t,
                    (w[1].done.saturating_sub(w[0].done)) as f64 / (w[1].t - w[0].t).max(0.001),
                )
            })
            .collect();
        let active: Vec<(f64, f64)> = timeline.iter().map(|s| (s.t, s.active)).collect();
        let waiting: Vec<(f64, f64)> = timeline.iter().map(|s| (s.t, s.waiting)).collect();
        let memory: Vec<(f64, f64)> = timeline
            .iter()
            .map(|s| (s.t, s.rss_kb as f64 / 1024.0))
            .collect();
        // Answer latency: p99 of each 5-second window.
        let mut buckets: std::collections::BTreeMap<i64, Vec<f64>> =
            std::collections::BTreeMap::new();
        for p in &self.run.paths {
            for (at, ms) in &p.answer_times {
                buckets
                    .entry((at / 5000.0).floor() as i64)
                    .or_default()
                    .push(*ms);
            }
        }
        let latency: Vec<(f64, f64)> = buckets
            .iter()
            .map(|(b, v)| (*b as f64 * 5.0 + 2.5, percentile(v, 0.99)))
            .collect();
        let figures = self.text();
        format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Pasokh load report</title>\
             <style>body{{font-family:sans-serif;margin:2em;max-width:70em}}pre{{background:#f4f4f4;padding:1em;overflow:auto}}\
             figure{{display:inline-block;margin:0 1em 1em 0}}figcaption{{font-weight:bold}}</style></head><body>\
             <h1>Pasokh load report</h1><pre>{}</pre>{}{}{}{}{}</body></html>\n",
            escape(&figures),
            chart("Calls finished per second", &cps, "#1f77b4"),
            chart("Concurrent calls in the engine", &active, "#2ca02c"),
            chart("Answer latency, p99 of each 5 s (ms)", &latency, "#d62728"),
            chart("Callers waiting in a queue", &waiting, "#9467bd"),
            chart("Engine resident memory (MB)", &memory, "#8c564b"),
        )
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// An SVG line chart of (seconds, value) points, with its axes' ranges written out.
fn chart(title: &str, points: &[(f64, f64)], colour: &str) -> String {
    let (w, h, pad) = (520.0, 220.0, 40.0);
    let max_t = points.iter().map(|p| p.0).fold(1.0, f64::max);
    let max_v = points
        .iter()
        .map(|p| p.1)
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max)
        .max(1.0);
    let line: Vec<String> = points
        .iter()
        .filter(|p| p.1.is_finite())
        .map(|(t, v)| {
            format!(
                "{:.1},{:.1}",
                pad + (w - 2.0 * pad) * t / max_t,
                h - pad - (h - 2.0 * pad) * v / max_v
            )
        })
        .collect();
    format!(
        "<figure><figcaption>{title}</figcaption><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\">\
         <line x1=\"{pad}\" y1=\"{y0}\" x2=\"{x1}\" y2=\"{y0}\" stroke=\"#888\"/><line x1=\"{pad}\" y1=\"{pad}\" x2=\"{pad}\" y2=\"{y0}\" stroke=\"#888\"/>\
         <text x=\"{pad}\" y=\"{yt}\" font-size=\"11\">0 s</text><text x=\"{x1}\" y=\"{yt}\" font-size=\"11\" text-anchor=\"end\">{max_t:.0} s</text>\
         <text x=\"2\" y=\"{ym}\" font-size=\"11\">{max_v:.0}</text><text x=\"2\" y=\"{y0}\" font-size=\"11\">0</text>\
         <polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.5\" points=\"{}\"/></svg></figure>",
        line.join(" "),
        y0 = h - pad,
        x1 = w - pad,
        yt = h - pad + 15.0,
        ym = pad + 4.0,
    )
}

/// `load capacity`'s steps and its verdict.
pub struct Capacity {
    pub steps: Vec<(f64, Report)>,
}

impl Capacity {
    fn best(&self) -> Option<&(f64, Report)> {
        self.steps.iter().rfind(|(_, r)| r.capacity_clean())
    }

    pub fn json(&self) -> serde_json::Value {
        let best = self.best();
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
        let steps: Vec<_> = self
            .steps
            .iter()
            .map(|(rate, r)| {
                let mut j = r.json();
                j["rate"] = json!(rate);
                j["clean"] = json!(r.capacity_clean());
                j.as_object_mut().map(|o| o.remove("paths"));
                j
            })
            .collect();
        json!({
            "highest_clean_cps": best.map(|(rate, _)| *rate),
            "concurrent_at_highest": best.map(|(_, r)| r.run.peak_concurrent),
            "generator_cpu_share_at_limit": self.steps.last().map(|(_, r)| r.run.generator_cpu_s / r.run.seconds.max(1.0) / cores),
            "engine_cpu_share_at_limit": self.steps.last().map(|(_, r)| r.run.engine_cpu_s / r.run.seconds.max(1.0) / cores),
            "steps": steps,
        })
    }

    pub fn text(&self) -> String {
        let mut out = String::new();
        for (rate, r) in &self.steps {
            let _ = writeln!(
                out,
                "{rate:>6.1} calls/s: {} → {}",
                r.one_line(),
                if r.capacity_clean() {
                    "clean"
                } else {
                    "NOT clean"
                }
            );
        }
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
        match self.best() {
            Some((rate, r)) => {
                let _ = writeln!(
                    out,
                    "highest clean rate: {rate:.1} calls/s with the day's mix and media, {:.0} calls at once",
                    r.run.peak_concurrent
                );
            }
            None => {
                let _ = writeln!(out, "no step was clean");
            }
        }
        if let Some((_, last)) = self.steps.last() {
            let generator = last.run.generator_cpu_s / last.run.seconds.max(1.0);
            let engine = last.run.engine_cpu_s / last.run.seconds.max(1.0);
            let _ = writeln!(
                out,
                "at the last step SIPp used {:.0}% and the engine {:.0}% of the machine's {cores} cores{}",
                100.0 * generator / cores,
                100.0 * engine / cores,
                if generator + engine > 0.9 * cores {
                    ": the machine was full, so the generator shares the limit"
                } else {
                    ""
                }
            );
        }
        out
    }
}
