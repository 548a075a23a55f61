//! The day's mix: every path of both trees, what the caller does on it, what it must leave
//! behind, and how the calls arrive over the day.
//!
//! Why it is shaped so:
//! - A path is a fixed script of keys and speech with times worked out from the bundled prompts'
//!   lengths, so the same call always walks the same nodes and must file the same message; the
//!   load command can then demand an exact match, path by path, instead of plausible totals.
//! - Keys are typed early wherever the node lets a key cut the prompt (the welcome, menus,
//!   collects), the way callers who know the tree do; elsewhere the caller waits for the prompt.
//! - Paths that meet a call-taker do not depend on the office hours (key 0 has none, and 137 is
//!   open around the clock), and a caller who leaves a queue for a voice message presses 1
//!   before any call-taker can answer (they ring 3 s first), so no path's outcome is a race.

use std::collections::BTreeMap;
use std::path::Path;

use super::media::{typing_ms, Act, CallerAudio, KeyMode};

/// Known demo cases (the demo's two listed numbers) and a number no case has.
pub const ZONING_CASE: &str = "14031234";
pub const ARTICLE100_CASE: &str = "22001840320";
pub const UNKNOWN_CASE: &str = "77777777";
/// The number that left the message whose reply the follow-up-with-reply path hears.
pub const REPLY_CALLER: &str = "09121887700";
/// How long a caller who waits for the engine to hang up keeps sending (silence) after their
/// last act: the engine's goodbye, a queue's wait and a conversation fit well inside.
const LISTEN_MS: u64 = 240_000;
/// How long the citizen speaks in a voice message.
pub const SPEECH_MS: u64 = 5000;

/// What a path's call must leave in the store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expected {
    pub line: &'static str,
    pub kind: &'static str,
    pub case_number: Option<&'static str>,
    pub district: Option<i64>,
    pub category: Option<&'static str>,
    /// The voice message's length must fall in this range (ms); `None`: no recording.
    pub recording_ms: Option<(u64, u64)>,
}

/// How a path's call ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// The citizen hangs up this long after the answer.
    CallerHangsUp { at_ms: u64 },
    /// The engine hangs up (after the goodbye, or when the call-taker does).
    EngineHangsUp,
}

#[derive(Clone, Debug)]
pub struct PathSpec {
    /// `1888-zoning`: the line's number, then the path.
    pub name: &'static str,
    /// What is dialled.
    pub dial: &'static str,
    /// Share of the day's calls, in tenths of a percent.
    pub per_mille: u32,
    pub audio: CallerAudio,
    pub ending: Ending,
    pub expect: Option<Expected>,
    /// The call is answered by a simulated call-taker.
    pub agent: bool,
    /// Every call comes from this number (else each call has its own).
    pub fixed_caller: Option<&'static str>,
}

/// Prompt lengths (ms) read from the bundled prompts, so the scripts follow a re-recorded tree.
pub struct PromptLengths {
    lengths: BTreeMap<String, u64>,
}

impl PromptLengths {
    pub fn read(prompts: &Path) -> Result<Self, String> {
        let mut lengths = BTreeMap::new();
        for id in [
            "ivr/record_instructions",
            "ivr/case_not_found_retry",
            "ivr/case_not_found_agent",
            "ivr/agents_busy_message",
            "ivr/agents_busy_choose_kind",
            "ivr/connecting_case_agent",
            "ivr/connecting_agent",
            "ivr/message_saved",
            "beep",
        ] {
            let path = prompts.join(format!("{id}.wav"));
            let bytes = std::fs::metadata(&path)
                .map_err(|e| format!("prompt {}: {e}", path.display()))?
                .len();
            // 8 kHz 16-bit mono after a 44-byte header.
            lengths.insert(id.to_string(), bytes.saturating_sub(44) / 16);
        }
        Ok(PromptLengths { lengths })
    }

    fn ms(&self, id: &str) -> u64 {
        self.lengths.get(id).copied().unwrap_or(0)
    }
}

/// A caller's script, built in order: `t` is the time of the next act.
struct Script {
    acts: Vec<Act>,
    t: u64,
    /// When the last key was pressed.
    last_key_at: u64,
}

impl Script {
    /// The first key: during the welcome, which it cuts short.
    fn new() -> Self {
        Script {
            acts: Vec::new(),
            t: 1000,
            last_key_at: 0,
        }
    }
    fn keys(mut self, digits: &str) -> Self {
        self.acts.push(Act::Keys {
            at_ms: self.t,
            digits: digits.into(),
        });
        self.last_key_at = self.t + typing_ms(digits).saturating_sub(200);
        self.t += typing_ms(digits) + 800;
        self
    }
    /// The next act comes once the queue the last key led to has taken the call: after its
    /// `connecting` prompt (played whole, keys dropped) and before any call-taker, who rings
    /// 3 s first, can answer.
    fn in_queue(mut self, p: &PromptLengths) -> Self {
        self.t = self.last_key_at + 100 + p.ms("ivr/connecting_agent") + 800;
        self
    }
    fn wait(mut self, ms: u64) -> Self {
        self.t += ms;
        self
    }
    fn speak(mut self, ms: u64) -> Self {
        self.acts.push(Act::Speak { at_ms: self.t, ms });
        self.t += ms + 200;
        self
    }
    /// The citizen hangs up `after` ms from now: the caller's audio runs to then.
    fn hang_up(self, after: u64, keys: KeyMode) -> (CallerAudio, Ending) {
        let at_ms = self.t + after;
        let audio = CallerAudio {
            acts: self.acts,
            length_ms: at_ms,
            keys,
        };
        (audio, Ending::CallerHangsUp { at_ms })
    }
    /// The caller waits for the engine to hang up, sending silence meanwhile (a phone never
    /// stops sending, and the engine hangs up on a silent line): for `after` ms more, enough for
    /// the rest of the tree, a queue's wait and a conversation.
    fn then_listen(self, after: u64, keys: KeyMode) -> (CallerAudio, Ending) {
        let audio = CallerAudio {
            acts: self.acts,
            length_ms: self.t + after,
            keys,
        };
        (audio, Ending::EngineHangsUp)
    }
}

/// From the end of a voice message's instructions (and beep): speak, `#`, and keep the take.
fn leave_voice_message(s: Script, p: &PromptLengths) -> Script {
    s.wait(p.ms("ivr/record_instructions") + p.ms("beep") + 600)
        .speak(SPEECH_MS)
        .keys("#")
        .wait(600)
        .keys("1")
}

/// A voice message's recording: the speech, and what the caller's line carried between the
/// beep and `#`.
fn voice_recording() -> Option<(u64, u64)> {
    Some((SPEECH_MS, SPEECH_MS + 2500))
}

/// A path every call of which comes from its own number.
fn spec(
    name: &'static str,
    dial: &'static str,
    per_mille: u32,
    (audio, ending): (CallerAudio, Ending),
    expect: Option<Expected>,
    agent: bool,
) -> PathSpec {
    PathSpec {
        name,
        dial,
        per_mille,
        audio,
        ending,
        expect,
        agent,
        fixed_caller: None,
    }
}

fn expected(line: &'static str, kind: &'static str) -> Expected {
    Expected {
        line,
        kind,
        case_number: None,
        district: None,
        category: None,
        recording_ms: None,
    }
}

/// Every path of the day, both lines, with its share.
/// The tracking codes the follow-up paths type: a filed message's, and one whose manager's
/// reply waits for `REPLY_CALLER` (both seeded before the day starts).
pub struct Codes {
    pub filed: String,
    pub replied: String,
}

pub fn paths(p: &PromptLengths, codes: &Codes) -> Vec<PathSpec> {
    let mut all = Vec::new();
    for (line, zoning, article100, unknown) in [("1888", 100, 60, 20), ("137", 87, 0, 46)] {
        let (audio, ending) = Script::new()
            .keys("4")
            .keys("1")
            .keys(&format!("{ZONING_CASE}#"))
            .hang_up(10_000, KeyMode::Rfc4733);
        all.push(spec(
            if line == "1888" {
                "1888-zoning"
            } else {
                "137-zoning"
            },
            line,
            zoning,
            (audio, ending),
            Some(Expected {
                case_number: Some(ZONING_CASE),
                district: Some(6),
                ..expected(line, "case_inquiry")
            }),
            false,
        ));
        if article100 > 0 {
            let (audio, ending) = Script::new()
                .keys("4")
                .keys("2")
                .keys(&format!("{ARTICLE100_CASE}#"))
                .hang_up(10_000, KeyMode::Rfc4733);
            all.push(spec(
                "1888-article100",
                line,
                article100,
                (audio, ending),
                Some(Expected {
                    case_number: Some(ARTICLE100_CASE),
                    district: Some(22),
                    ..expected(line, "case_inquiry")
                }),
                false,
            ));
        }
        // An unknown number, twice; nobody serves the zoning desk in the load, so the
        // question is left as a voice message with the number.
        let s = Script::new()
            .keys("4")
            .keys("1")
            .keys(&format!("{UNKNOWN_CASE}#"))
            .wait(p.ms("ivr/case_not_found_retry") + 300)
            .keys(&format!("{UNKNOWN_CASE}#"))
            .wait(
                p.ms("ivr/case_not_found_agent")
                    + p.ms("ivr/connecting_case_agent")
                    + p.ms("ivr/agents_busy_message")
                    + 300,
            );
        let (audio, ending) = leave_voice_message(s, p).then_listen(LISTEN_MS, KeyMode::Rfc4733);
        all.push(spec(
            if line == "1888" {
                "1888-case-unknown"
            } else {
                "137-case-unknown"
            },
            line,
            unknown,
            (audio, ending),
            Some(Expected {
                case_number: Some(UNKNOWN_CASE),
                recording_ms: voice_recording(),
                ..expected(line, "case_inquiry")
            }),
            false,
        ));
    }

    // 1888: key 0, a call-taker; the same queue left with key 1 for a voice message of a kind.
    let (audio, ending) = Script::new()
        .keys("0")
        .then_listen(LISTEN_MS, KeyMode::Rfc4733);
    all.push(spec(
        "1888-call-taker",
        "1888",
        32,
        (audio, ending),
        Some(expected("1888", "guidance")),
        true,
    ));
    for (name, key, kind, per_mille) in [
        ("1888-voice-complaint", "3", "complaint", 64),
        ("1888-thanks", "4", "appreciation", 32),
    ] {
        let s = Script::new()
            .keys("0")
            .in_queue(p)
            .keys("1")
            .wait(p.ms("ivr/agents_busy_choose_kind"))
            .keys(key);
        let (audio, ending) = leave_voice_message(s, p).then_listen(LISTEN_MS, KeyMode::Rfc4733);
        all.push(PathSpec {
            name,
            dial: "1888",
            per_mille,
            audio,
            ending,
            expect: Some(Expected {
                recording_ms: voice_recording(),
                ..expected("1888", kind)
            }),
            agent: false,
            fixed_caller: None,
        });
    }

    // 137: a report by district and subject, keyed in-band (an old phone), to a call-taker;
    // another left as a voice message from the queue.
    let (audio, ending) = Script::new()
        .keys("1")
        .keys("7#")
        .keys("7")
        .then_listen(LISTEN_MS, KeyMode::InBand);
    all.push(spec(
        "137-report-call-taker",
        "137",
        70,
        (audio, ending),
        Some(Expected {
            district: Some(7),
            category: Some("illegal_construction"),
            ..expected("137", "urban_problem")
        }),
        true,
    ));
    let s = Script::new()
        .keys("1")
        .keys("12#")
        .keys("1")
        .in_queue(p)
        .keys("1")
        .wait(p.ms("ivr/agents_busy_message"));
    let (audio, ending) = leave_voice_message(s, p).then_listen(LISTEN_MS, KeyMode::Rfc4733);
    all.push(spec(
        "137-report-voice",
        "137",
        145,
        (audio, ending),
        Some(Expected {
            district: Some(12),
            category: Some("asphalt"),
            recording_ms: voice_recording(),
            ..expected("137", "urban_problem")
        }),
        false,
    ));
    let (audio, ending) = Script::new()
        .keys("0")
        .then_listen(LISTEN_MS, KeyMode::Rfc4733);
    all.push(spec(
        "137-call-taker",
        "137",
        29,
        (audio, ending),
        Some(expected("137", "guidance")),
        true,
    ));

    // Both lines: a follow-up by tracking code (one hears the manager's reply), a caller who
    // hangs up in the main menu, and one who gives up in the queue before anyone answers.
    for line in ["1888", "137"] {
        let (audio, ending) = Script::new()
            .keys("2")
            .keys(&format!("{}#", codes.filed))
            .hang_up(8000, KeyMode::Rfc4733);
        all.push(spec(
            if line == "1888" {
                "1888-follow-up"
            } else {
                "137-follow-up"
            },
            line,
            if line == "1888" { 32 } else { 70 },
            (audio, ending),
            Some(expected(line, "follow_up")),
            false,
        ));
        let (audio, ending) = Script::new().wait(4000).hang_up(0, KeyMode::Rfc4733);
        all.push(spec(
            if line == "1888" {
                "1888-hang-up-in-menu"
            } else {
                "137-hang-up-in-menu"
            },
            line,
            if line == "1888" { 24 } else { 87 },
            (audio, ending),
            Some(expected(line, "unusable")),
            false,
        ));
        let (audio, ending) = Script::new()
            .keys("0")
            .in_queue(p)
            .hang_up(0, KeyMode::Rfc4733);
        // Hung up while waiting: the message opened as the call entered the queue (with its
        // tracking code) is completed as unusable.
        let name = if line == "1888" {
            "1888-abandon"
        } else {
            "137-abandon"
        };
        let share = if line == "1888" { 20 } else { 46 };
        let expect = Some(expected(line, "unusable"));
        all.push(spec(name, line, share, (audio, ending), expect, false));
    }
    let (audio, ending) = Script::new()
        .keys("2")
        .keys(&format!("{}#", codes.replied))
        .hang_up(15_000, KeyMode::Rfc4733);
    all.push(PathSpec {
        name: "1888-follow-up-reply",
        dial: "1888",
        per_mille: 16,
        audio,
        ending,
        expect: Some(expected("1888", "follow_up")),
        agent: false,
        fixed_caller: Some(REPLY_CALLER),
    });
    // *43: the echo test; it files nothing.
    let (audio, ending) = Script::new()
        .wait(1000)
        .speak(4000)
        .hang_up(1000, KeyMode::Rfc4733);
    all.push(spec("echo", "*43", 20, (audio, ending), None, false));
    all
}

/// How many of `total` calls each path gets: shares by largest remainder, so they add up.
pub fn split(total: u64, paths: &[PathSpec]) -> Vec<u64> {
    let sum: u64 = paths
        .iter()
        .map(|p| u64::from(p.per_mille))
        .sum::<u64>()
        .max(1);
    let mut counts: Vec<u64> = paths
        .iter()
        .map(|p| total * u64::from(p.per_mille) / sum)
        .collect();
    let mut rest: Vec<(u64, usize)> = paths
        .iter()
        .enumerate()
        .map(|(i, p)| (total * u64::from(p.per_mille) % sum, i))
        .collect();
    rest.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let short = total - counts.iter().sum::<u64>();
    for (_, i) in rest.into_iter().take(short as usize) {
        counts[i] += 1;
    }
    counts
}

/// A city line's day, hour by hour from midnight (relative call volume): quiet nights, a
/// morning rise, the late-morning peak, a second smaller one in the early evening.
pub const DAY_SHAPE: [u32; 24] = [
    2, 1, 1, 1, 1, 2, 3, 6, 9, 10, 10, 9, 8, 8, 9, 9, 8, 7, 7, 6, 5, 4, 3, 2,
];

/// The total call rate (calls/s) at `t_s` seconds into a day of `calls` compressed into
/// `seconds`: each hour of `DAY_SHAPE` is 1/24 of the run.
#[cfg(test)]
pub fn rate_at(t_s: f64, calls: u64, seconds: f64, flat: bool) -> f64 {
    if flat {
        return calls as f64 / seconds;
    }
    let sum: u32 = DAY_SHAPE.iter().sum();
    let hour_len = seconds / 24.0;
    let hour = ((t_s / hour_len).floor() as usize).min(23);
    let share = f64::from(DAY_SHAPE[hour]) / f64::from(sum);
    calls as f64 * share / hour_len
}

/// The share of the day's calls that should have started by `t_s` (0 to 1).
pub fn share_by(t_s: f64, seconds: f64, flat: bool) -> f64 {
    if t_s >= seconds {
        return 1.0;
    }
    if flat {
        return (t_s / seconds).max(0.0);
    }
    let sum: f64 = DAY_SHAPE.iter().map(|h| f64::from(*h)).sum();
    let hour_len = seconds / 24.0;
    let mut share = 0.0;
    for (hour, weight) in DAY_SHAPE.iter().enumerate() {
        let start = hour as f64 * hour_len;
        let within = (t_s - start).clamp(0.0, hour_len);
        share += f64::from(*weight) / sum * within / hour_len;
    }
    share
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lengths() -> PromptLengths {
        PromptLengths {
            lengths: [
                ("ivr/record_instructions", 12_000),
                ("beep", 400),
                ("ivr/agents_busy_message", 7000),
                ("ivr/agents_busy_choose_kind", 9000),
                ("ivr/case_not_found_retry", 7000),
                ("ivr/case_not_found_agent", 7000),
                ("ivr/connecting_agent", 5000),
                ("ivr/connecting_case_agent", 6000),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        }
    }

    #[test]
    fn the_shares_add_up_and_split_exactly() {
        let codes = Codes {
            filed: "12345678".into(),
            replied: "87654321".into(),
        };
        let paths = paths(&lengths(), &codes);
        let total: u32 = paths.iter().map(|p| p.per_mille).sum();
        assert_eq!(total, 1000, "shares in tenths of a percent");
        for n in [1, 7, 600, 25_000, 250_000] {
            assert_eq!(split(n, &paths).iter().sum::<u64>(), n);
        }
        let on_1888: u32 = paths
            .iter()
            .filter(|p| p.dial == "1888")
            .map(|p| p.per_mille)
            .sum();
        let key4_1888: u32 = paths
            .iter()
            .filter(|p| {
                p.dial == "1888" && p.expect.as_ref().is_some_and(|e| e.kind == "case_inquiry")
            })
            .map(|p| p.per_mille)
            .sum();
        assert_eq!(
            key4_1888 * 100 / on_1888,
            45,
            "45% of 1888's calls press key 4"
        );
        let names: std::collections::BTreeSet<_> = paths.iter().map(|p| p.name).collect();
        assert_eq!(names.len(), paths.len(), "names are unique");
    }

    #[test]
    fn the_day_shape_delivers_every_call_in_the_run() {
        let (calls, seconds) = (25_000, 600.0);
        let delivered: f64 = (0..600)
            .map(|s| rate_at(f64::from(s) + 0.5, calls, seconds, false))
            .sum();
        assert!((delivered - 25_000.0).abs() < 1.0, "{delivered}");
        let peak = (0..600)
            .map(|s| rate_at(f64::from(s), calls, seconds, false))
            .fold(0.0, f64::max);
        assert!(peak > 60.0 && peak < 90.0, "the late-morning peak: {peak}");
        assert_eq!(share_by(0.0, seconds, false), 0.0);
        assert!(
            (share_by(300.0, seconds, false) - 0.5).abs() < 0.1,
            "about half by noon"
        );
        assert_eq!(share_by(600.0, seconds, false), 1.0);
        let mut last = 0.0;
        for s in 0..=600 {
            let now = share_by(f64::from(s), seconds, false);
            assert!(now >= last, "never falls");
            last = now;
        }
    }
}
