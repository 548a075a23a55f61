//! A caller and an engine in a box: runs a flow on a virtual clock with scripted keys and
//! returns a readable transcript. Used by `pasokh flows simulate` and by the golden tests.
//!
//! Each space-separated group of `keys` is typed at the next point where the run waits for the
//! caller; `_` or an empty group lets that wait time out, and when the groups run out every wait
//! times out. A few groups script the rest of the world:
//! - `hangup`: the caller hangs up at that point (also while recording);
//! - at a recording: `#` speaks for 12 s then presses `#`, `~` says nothing, anything else (or
//!   nothing) speaks for 12 s and stops by silence; `#`, `~`, `_` and `hangup` are consumed there;
//! - at a queue: `q:answered`, `q:overflow`, `q:no_agents` or `q:exit` (default: answered);
//! - at a mailbox reply or mark: `save:fail` (the store does not save it; default: saved).
//!
//! The managers' mailbox (`*98`) logs in mailbox 501 with PIN 5011 (the demo's, as `--demo` seeds it) (see [`demo_login`]), which
//! holds two messages; any other mailbox or PIN is wrong.
//!
//! Playback finishes at once (the clock moves 1 s per prompt), recordings are saved as
//! `sim-rec-N`, and the filed message gets the tracking code of serial 1 when the engine would
//! give it one (`engine::gets_tracking_code`: a report, or a call that entered a queue), else
//! `filed: no tracking code`.

use std::collections::VecDeque;
use std::time::Duration;

use super::case::{CaseInfo, CaseKind, MessageStatus};
use super::flow::FlowSet;
use super::run::io::*;
use super::run::{IvrRun, State};
use super::tracking::make_tracking_code;
use crate::calendar::JalaliDate;
use crate::engine::gets_tracking_code;

/// Steps after which a simulation is cut short (a flow that loops through fallbacks forever).
const MAX_STEPS: usize = 5_000;
const SPEECH: Duration = Duration::from_secs(12);

struct Sim<'a> {
    run: IvrRun,
    now: Duration,
    log: Vec<String>,
    groups: VecDeque<String>,
    replies: VecDeque<IvrInput>,
    recordings: u32,
    /// The call entered an agent queue: as in the engine, its message was opened there with a
    /// tracking code.
    entered_queue: bool,
    /// Codes this call keyed that named no message (past the allowance, lookups are refused).
    missed_codes: usize,
    cases: &'a dyn Fn(CaseKind, &str) -> Option<CaseInfo>,
    messages: &'a dyn Fn(&str) -> Option<MessageStatus>,
    prompt_text: &'a dyn Fn(&str) -> Option<String>,
    login: &'a dyn Fn(&str, &str) -> LoginResult,
    /// Inputs and timeouts handed to the run so far, and after how many the caller hangs up.
    steps: usize,
    hang_up_after: Option<usize>,
}

/// Runs `line`'s tree with `keys` and returns the transcript, one event per line.
pub fn simulate(
    flows: &FlowSet,
    line: &str,
    keys: &str,
    cases: &dyn Fn(CaseKind, &str) -> Option<CaseInfo>,
    messages: &dyn Fn(&str) -> Option<MessageStatus>,
    prompt_text: &dyn Fn(&str) -> Option<String>,
    ctx: CallContext,
) -> Vec<String> {
    let today = ctx.today;
    let login = |mailbox: &str, pin: &str| demo_login(mailbox, pin, today);
    let world = World {
        cases,
        messages,
        prompt_text,
        login: &login,
    };
    simulate_with(flows, line, keys, &world, ctx, None)
}

/// The simulator's mailbox: 501 with PIN 5011 (the demo's, as `--demo` seeds it) holds a new complaint on 1888 (two days old) and
/// a handled urban problem on 137 (nine days old).
pub fn demo_login(mailbox: &str, pin: &str, today: JalaliDate) -> LoginResult {
    if (mailbox, pin) != ("501", "5011") {
        return LoginResult::Wrong;
    }
    let item = |code: u64, line: &str, kind, days: i64, is_new| MailboxItem {
        tracking_code: make_tracking_code(code),
        line: line.to_owned(),
        kind,
        received: today.add_days(-days),
        recording_id: format!("demo-citizen-{code}"),
        is_new,
    };
    LoginResult::Accepted {
        mailbox: mailbox.to_owned(),
        items: vec![
            item(7, "1888", MessageKind::Complaint, 2, true),
            item(8, "137", MessageKind::UrbanProblem, 9, false),
        ],
    }
}

/// The engine's side of a simulation.
pub(crate) struct World<'a> {
    pub cases: &'a dyn Fn(CaseKind, &str) -> Option<CaseInfo>,
    pub messages: &'a dyn Fn(&str) -> Option<MessageStatus>,
    pub prompt_text: &'a dyn Fn(&str) -> Option<String>,
    /// Answers `VerifyManager` (mailbox, PIN).
    pub login: &'a dyn Fn(&str, &str) -> LoginResult,
}

/// [`simulate`], with the caller hanging up after `hang_up_after` steps (inputs and timeouts)
/// if given: the tests use it to hang up at every step of every path.
pub(crate) fn simulate_with(
    flows: &FlowSet,
    line: &str,
    keys: &str,
    world: &World,
    ctx: CallContext,
    hang_up_after: Option<usize>,
) -> Vec<String> {
    let Some(flow) = flows.get(line) else {
        return vec![format!("no flow for line {line}")];
    };
    let groups = if keys.trim().is_empty() {
        VecDeque::new()
    } else {
        keys.trim().split(' ').map(str::to_owned).collect()
    };
    let mut sim = Sim {
        run: IvrRun::start(flow, ctx, Duration::ZERO),
        now: Duration::ZERO,
        log: Vec::new(),
        groups,
        replies: VecDeque::new(),
        recordings: 0,
        entered_queue: false,
        missed_codes: 0,
        cases: world.cases,
        messages: world.messages,
        prompt_text: world.prompt_text,
        login: world.login,
        steps: 0,
        hang_up_after,
    };
    if hang_up_after == Some(0) {
        sim.hang_up("caller hangs up at step 0");
    }
    sim.drive();
    sim.log
}

impl Sim<'_> {
    fn drive(&mut self) {
        for _ in 0..MAX_STEPS {
            self.drain();
            if let Some(reply) = self.replies.pop_front() {
                self.input(reply);
            } else if self.run.is_finished() {
                self.log.push("call finished".into());
                return;
            } else if matches!(self.run.state, State::Recording { stopping: false }) {
                self.record();
            } else if self.run.waiting_for_caller() && !self.groups.is_empty() {
                self.type_group();
            } else if let Some((_, at)) = self.run.armed_timer() {
                self.time_out(at);
            } else {
                self.log.push("stuck: the run waits for nothing".into());
                return;
            }
        }
        self.log.push("simulation cut short: too many steps".into());
    }

    fn input(&mut self, input: IvrInput) {
        self.run.handle_input(input, self.now);
        self.count_step();
    }

    fn time_out(&mut self, at: Duration) {
        if let Some((timer, _)) = self.run.armed_timer() {
            self.now = self.now.max(at);
            let node = self.run.current_node().to_owned();
            self.log
                .push(format!("timeout {} at {node}", timer.as_str()));
            self.run.handle_timeout(self.now);
            self.count_step();
        }
    }

    fn count_step(&mut self) {
        self.steps += 1;
        if Some(self.steps) == self.hang_up_after {
            self.hang_up(&format!("caller hangs up at step {}", self.steps));
        }
    }

    fn hang_up(&mut self, why: &str) {
        if self.run.is_finished() {
            return;
        }
        self.drain();
        self.log.push(why.to_owned());
        self.run.handle_input(IvrInput::CallEnded, self.now);
    }

    /// Logs the trail and the outputs, queueing the engine's answers.
    fn drain(&mut self) {
        for step in self.run.drain_trail() {
            let line = match step {
                TrailStep::Node(name) => {
                    let kind = self
                        .run
                        .flow
                        .node(&name)
                        .map_or("?", |n| n.kind.type_name());
                    format!("node {name} ({kind})")
                }
                TrailStep::Choice { node, key } => format!("menu {node}: key {key}"),
            };
            self.log.push(line);
        }
        while let Some(output) = self.run.poll_output() {
            self.answer(output);
        }
    }

    fn answer(&mut self, output: IvrOutput) {
        match output {
            IvrOutput::Play { prompts, .. } => {
                for prompt in &prompts {
                    let text = match as_recording(prompt) {
                        Some(id) => format!("(recording {id})"),
                        None => (self.prompt_text)(prompt).unwrap_or_else(|| "(no text)".into()),
                    };
                    self.log.push(format!("play {prompt}: {text}"));
                }
                self.now += Duration::from_secs(prompts.len() as u64);
                self.replies.push_back(IvrInput::PlaybackFinished);
            }
            IvrOutput::StopPlayback => {
                self.log.push("stop playback".into());
                self.replies.retain(|r| *r != IvrInput::PlaybackFinished);
            }
            IvrOutput::LookupCase { kind, number } => {
                let case = (self.cases)(kind, &number);
                let found = case
                    .as_ref()
                    .map_or("not found".into(), |c| format!("found, stage {}", c.stage));
                self.log
                    .push(format!("lookup case {} {number}: {found}", kind.as_str()));
                self.replies.push_back(IvrInput::CaseFound(case));
            }
            IvrOutput::LookupMessage { tracking_code } => {
                if self.missed_codes >= super::FOLLOW_UP_MISSES_ALLOWED {
                    self.log.push(format!(
                        "lookup message {tracking_code}: refused ({} codes not found)",
                        self.missed_codes
                    ));
                    self.replies.push_back(IvrInput::LookupRefused);
                    return;
                }
                let message = (self.messages)(&tracking_code);
                self.missed_codes += usize::from(message.is_none());
                let found = message.as_ref().map_or("not found".into(), |m| {
                    format!("found, status {}", m.status)
                });
                self.log
                    .push(format!("lookup message {tracking_code}: {found}"));
                self.replies.push_back(IvrInput::MessageFound(message));
            }
            other => self.answer_slow(other),
        }
    }

    fn answer_slow(&mut self, output: IvrOutput) {
        match output {
            IvrOutput::StartRecording {
                max,
                silence,
                end_key,
                purpose,
            } => self.log.push(format!(
                "record{}: max {} s, silence {} s, end key {end_key}",
                match purpose {
                    TakePurpose::Message => "",
                    TakePurpose::Reply => " reply",
                },
                max.as_secs(),
                silence.as_secs()
            )),
            IvrOutput::StopRecording => {
                self.log.push("stop recording".into());
                let stopped = self.take_saved(millis(SPEECH), RecordEnd::Key);
                self.replies.push_back(stopped);
            }
            IvrOutput::DiscardRecording => self.log.push("discard recording".into()),
            IvrOutput::Enqueue { queue, .. } => {
                self.entered_queue = true;
                let outcome = self.queue_outcome();
                self.log.push(format!("enqueue {queue}: {outcome:?}"));
                self.replies.push_back(IvrInput::QueueResult(outcome));
            }
            IvrOutput::File(draft) => {
                self.log.push(describe_draft(&draft));
                // The engine's own rule; like the engine, a message without a code is filed
                // all the same and the flow is told so with an empty code.
                let tracking_code = if gets_tracking_code(draft.kind.as_str(), self.entered_queue) {
                    let code = make_tracking_code(1);
                    self.log.push(format!("filed: tracking code {code}"));
                    code
                } else {
                    self.log.push("filed: no tracking code".into());
                    String::new()
                };
                self.replies.push_back(IvrInput::Filed { tracking_code });
            }
            IvrOutput::Hangup => self.log.push("flow hangs up".into()),
            other => self.answer_mailbox(other),
        }
    }

    fn answer_mailbox(&mut self, output: IvrOutput) {
        match output {
            IvrOutput::VerifyManager { mailbox, pin } => {
                let result = (self.login)(&mailbox, &pin.0);
                let said = match &result {
                    LoginResult::Accepted { items, .. } => {
                        format!("accepted, {} messages", items.len())
                    }
                    LoginResult::Wrong => "wrong".into(),
                    LoginResult::Limited => "limited".into(),
                };
                // The PIN is never written out, not even by the simulator.
                self.log
                    .push(format!("verify manager: mailbox {mailbox}: {said}"));
                self.replies.push_back(IvrInput::ManagerLogin(result));
            }
            IvrOutput::MailboxListened { tracking_code } => {
                self.log.push(format!("audit: listened to {tracking_code}"))
            }
            IvrOutput::SendReply {
                tracking_code,
                recording_id,
            } => {
                let saved = self.save_outcome();
                self.log.push(format!(
                    "send reply {recording_id} to {tracking_code}: {}",
                    if saved { "saved" } else { "not saved" }
                ));
                self.replies.push_back(IvrInput::MailboxSaved(saved));
            }
            IvrOutput::MarkHandled { tracking_code } => {
                let saved = self.save_outcome();
                self.log.push(format!(
                    "mark {tracking_code} handled: {}",
                    if saved { "saved" } else { "not saved" }
                ));
                self.replies.push_back(IvrInput::MailboxSaved(saved));
            }
            _ => {}
        }
    }

    /// `save:fail` as the next group makes the store fail this save.
    fn save_outcome(&mut self) -> bool {
        if self.groups.front().is_some_and(|g| g == "save:fail") {
            self.groups.pop_front();
            return false;
        }
        true
    }

    fn queue_outcome(&mut self) -> QueueOutcome {
        let outcome = match self.groups.front().map(String::as_str) {
            Some("q:overflow") => QueueOutcome::Overflow,
            Some("q:no_agents") => QueueOutcome::NoAgents,
            Some("q:exit") => QueueOutcome::Exit,
            Some("q:answered") => QueueOutcome::Answered,
            _ => return QueueOutcome::Answered,
        };
        self.groups.pop_front();
        outcome
    }

    /// The recorder stopped and, as the media side does, saved the take at once.
    fn take_saved(&mut self, duration_ms: u64, reason: RecordEnd) -> IvrInput {
        self.recordings += 1;
        let recording_id = format!("sim-rec-{}", self.recordings);
        self.log.push(format!("take saved as {recording_id}"));
        IvrInput::RecordingStopped {
            duration_ms,
            reason,
            recording: Some(recording_id),
        }
    }

    /// The caller speaks (or not) while the recorder runs.
    fn record(&mut self) {
        let group = self.groups.front().cloned();
        let consumed = matches!(group.as_deref(), Some("#" | "~" | "_" | "" | "hangup"));
        if consumed {
            self.groups.pop_front();
        }
        self.now += SPEECH;
        match group.as_deref() {
            Some("#") => {
                self.log.push("caller speaks, then keys #".into());
                self.input(IvrInput::Digit('#'));
            }
            Some("hangup") => {
                self.input(IvrInput::RecordingStopped {
                    duration_ms: millis(SPEECH),
                    reason: RecordEnd::HangUp,
                    recording: None,
                });
                self.hang_up("caller hangs up while recording");
            }
            Some("~") => {
                self.log.push("caller says nothing".into());
                let stopped = self.take_saved(0, RecordEnd::Silence);
                self.input(stopped);
            }
            _ => {
                self.log.push("caller speaks, then falls silent".into());
                let stopped = self.take_saved(millis(SPEECH), RecordEnd::Silence);
                self.input(stopped);
            }
        }
    }

    /// Types the next group (or hangs up, or lets the wait time out).
    fn type_group(&mut self) {
        let Some(group) = self.groups.pop_front() else {
            return;
        };
        match group.as_str() {
            "hangup" => self.hang_up("caller hangs up"),
            "_" | "" => {
                if let Some((_, at)) = self.run.armed_timer() {
                    self.time_out(at);
                }
            }
            keys => {
                self.log.push(format!("caller keys {keys}"));
                for key in keys.chars() {
                    self.now += Duration::from_millis(300);
                    self.input(IvrInput::Digit(key));
                    self.drain();
                }
            }
        }
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn describe_draft(d: &MessageDraft) -> String {
    let or_dash = |v: Option<String>| v.unwrap_or_else(|| "-".into());
    format!(
        "file: line {} kind {} district {} category {} case {} recording {}{}",
        d.line,
        d.kind.as_str(),
        or_dash(d.district.map(|x| x.to_string())),
        or_dash(d.category.clone()),
        or_dash(d.case_number.clone()),
        or_dash(d.recording_id.clone()),
        if d.recording_pending {
            " (pending)"
        } else {
            ""
        },
    )
}
