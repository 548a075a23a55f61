//! The interpreter: one call's walk through a flow, as a pure state machine on a virtual clock.
//!
//! Time is a `Duration` since any origin the engine chooses (the same origin for every call of
//! the run); the run never reads a clock. The engine feeds [`IvrInput`]s and timeouts, drains
//! [`IvrOutput`]s with `poll_output`, and arms one timer from `poll_timeout` (design
//! principles 1–3). The run waits in exactly one [`State`] at a time, so every input either
//! fits the state it arrives in or is ignored (a late `Filed` after a hang-up, a digit during a
//! lookup): nothing a caller or a slow engine does can make it act twice.
//!
//! One rule is the reason for much of the shape: every call files exactly one message. The
//! flow's `file` node files it; if the call ends first (the caller hangs up, the flow hangs up,
//! or a call-taker takes the call) the run files what it knows at that moment, including a take
//! still in the recorder, so no call leaves without a record and no voice message is lost.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use super::flow::Flow;
use io::*;

pub mod io;
mod keys;
mod mailbox;
mod nodes;
mod record;
mod say;

#[cfg(test)]
mod tests;

/// Consecutive node changes without a wait before the run gives up on a runaway flow.
pub(super) const MAX_HOPS: u32 = 64;
/// Trail steps kept per call (a call that loops in menus for an hour must not grow forever).
const MAX_TRAIL: usize = 512;
/// How long the run waits for the engine to answer a lookup, a save or a filing.
pub(super) const ENGINE_REPLY_TIMEOUT: Duration = Duration::from_secs(20);

/// What the run is waiting for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum State {
    /// A prompt is playing; `then` says what comes after it.
    Playing {
        then: AfterPlay,
        barge_in: bool,
    },
    /// A menu waits for a key.
    MenuKey,
    /// A collect node gathers digits.
    Collecting,
    /// The recording review ("1 keep, 2 re-record") waits for a key.
    ReviewKey,
    Recording {
        stopping: bool,
    },
    AwaitCase,
    AwaitMessage,
    AwaitQueue,
    AwaitFiled,
    /// A mailbox node waits for keys: login digits, the item menu or the reply review.
    MailboxKeys(mailbox::Wait),
    /// The engine checks a manager's mailbox and PIN.
    AwaitLogin,
    /// The engine saves a reply or a mark; nothing is said until it answers.
    AwaitMailboxSaved,
    Finished,
}

/// What follows a prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum AfterPlay {
    Go(String),
    MenuKey,
    Collect,
    ReviewKey,
    Record,
    Enqueue(String, u8),
    Hangup,
    /// A step of a mailbox node.
    Mailbox(mailbox::After),
}

/// Which take is the caller's voice message. The run owns this choice; the engine only knows
/// what the recorder is doing, and the media side owns the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Take {
    None,
    /// The recorder is running (a hang-up now leaves the message waiting for its save).
    InRecorder,
    /// Recorded and saved (`None`: the save failed), not yet kept or discarded.
    Recorded(Option<String>),
    Kept(String),
}

/// One call in the IVR.
#[derive(Debug)]
pub struct IvrRun {
    pub(super) flow: Arc<Flow>,
    pub(super) ctx: CallContext,
    pub(super) node: String,
    pub(super) state: State,
    pub(super) vars: BTreeMap<String, String>,
    pub(super) outputs: VecDeque<IvrOutput>,
    pub(super) timer: Option<(IvrTimer, Duration)>,
    /// Failed attempts at the current node (no input, wrong key, empty take).
    pub(super) attempts: u32,
    /// Takes recorded at the current record node.
    pub(super) takes: u32,
    pub(super) digits: String,
    pub(super) take: Take,
    pub(super) filed: bool,
    pub(super) looked_up_case: bool,
    pub(super) looked_up_message: bool,
    pub(super) hops: u32,
    pub(super) now: Duration,
    /// A number ended by its last allowed digit: a terminator typed right after it is the
    /// caller finishing the number out of habit, not a key for the next node.
    pub(super) swallow_terminator: Option<(char, Duration)>,
    /// A manager's session in the mailbox nodes (empty in a citizen's call).
    pub(super) mailbox: mailbox::Session,
    trail: Vec<TrailStep>,
}

impl IvrRun {
    /// Starts a call at the flow's start node.
    pub fn start(flow: Arc<Flow>, ctx: CallContext, now: Duration) -> Self {
        let mut vars = BTreeMap::new();
        vars.insert("caller".to_owned(), ctx.caller.clone());
        // Set only for a number a text can reach, so a flow promises an SMS to no one else.
        if crate::ivr::sms::sms_recipient(&ctx.caller).is_some() {
            vars.insert("caller_takes_sms".to_owned(), "yes".to_owned());
        }
        vars.insert("line".to_owned(), ctx.line.clone());
        vars.insert("today".to_owned(), ctx.today.to_string());
        let start = flow.start.clone();
        // A staff flow files nothing: the run starts as if its message were filed already.
        let filed = !flow.files_messages();
        let mut run = IvrRun {
            flow,
            ctx,
            node: start.clone(),
            state: State::Finished,
            vars,
            outputs: VecDeque::new(),
            timer: None,
            attempts: 0,
            takes: 0,
            digits: String::new(),
            take: Take::None,
            filed,
            looked_up_case: false,
            looked_up_message: false,
            hops: 0,
            now,
            swallow_terminator: None,
            mailbox: mailbox::Session::default(),
            trail: Vec::new(),
        };
        run.go(&start, None);
        run
    }

    pub fn handle_input(&mut self, input: IvrInput, now: Duration) {
        if self.is_finished() {
            return;
        }
        self.now = now;
        self.hops = 0;
        match input {
            IvrInput::Digit(d) => {
                let swallow = self.swallow_terminator.take();
                if swallow.is_some_and(|(key, until)| key == d && now <= until) {
                    return;
                }
                self.on_digit(d)
            }
            IvrInput::PlaybackFinished => {
                if let State::Playing { then, .. } = &self.state {
                    let then = then.clone();
                    self.after_play(then);
                }
            }
            IvrInput::CaseFound(case) if self.state == State::AwaitCase => self.on_case(case),
            IvrInput::MessageFound(m) if self.state == State::AwaitMessage => self.on_message(m),
            IvrInput::LookupRefused if self.state == State::AwaitMessage => {
                self.on_lookup_refused()
            }
            IvrInput::RecordingStopped {
                duration_ms,
                reason,
                recording,
            } => self.on_recording_stopped(duration_ms, reason, recording),
            IvrInput::Filed { tracking_code } if self.state == State::AwaitFiled => {
                self.on_filed(Some(tracking_code))
            }
            IvrInput::FileFailed if self.state == State::AwaitFiled => self.on_filed(None),
            IvrInput::QueueResult(outcome) if self.state == State::AwaitQueue => {
                self.on_queue_result(outcome)
            }
            IvrInput::ManagerLogin(result) if self.state == State::AwaitLogin => {
                self.on_login(result)
            }
            IvrInput::MailboxSaved(saved) if self.state == State::AwaitMailboxSaved => {
                self.on_mailbox_saved(saved)
            }
            IvrInput::CallEnded => self.on_call_ended(),
            // Answers that do not fit the current wait are stale: ignore them.
            _ => {}
        }
    }

    pub fn poll_output(&mut self) -> Option<IvrOutput> {
        self.outputs.pop_front()
    }

    /// When the armed timer fires, if one is armed.
    pub fn poll_timeout(&self) -> Option<Duration> {
        self.timer.map(|(_, at)| at)
    }

    /// The armed timer and its deadline.
    pub fn armed_timer(&self) -> Option<(IvrTimer, Duration)> {
        self.timer
    }

    pub fn handle_timeout(&mut self, now: Duration) {
        let Some((timer, at)) = self.timer else {
            return;
        };
        if now < at || self.is_finished() {
            return;
        }
        self.timer = None;
        self.now = now;
        self.hops = 0;
        self.on_timer(timer);
    }

    pub fn is_finished(&self) -> bool {
        self.state == State::Finished
    }

    pub fn current_node(&self) -> &str {
        &self.node
    }

    /// A variable's value (`district`, `tracking_code`, `case_stage`…).
    pub fn variable(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }

    /// Whether the keys typed now are secret: every key of a staff flow (the managers' mailbox).
    /// The engine keeps them out of the call record, which is stored and shown to staff. Not
    /// only the keys at the `mailbox_login` node: a manager who knows the menu types mailbox and
    /// PIN ahead, during the welcome, and those keys are the PIN all the same.
    pub fn keys_are_secret(&self) -> bool {
        !self.flow.files_messages()
            || self
                .flow
                .node(&self.node)
                .is_some_and(|n| matches!(n.kind, super::flow::NodeKind::MailboxLogin(_)))
    }

    /// Whether the run waits for the caller's keys (rather than for a prompt or the engine).
    pub fn waiting_for_caller(&self) -> bool {
        self.timer.is_some_and(|(t, _)| t.waits_for_caller())
    }

    /// The nodes entered and menu keys taken since the last call, for call logs and coverage.
    pub fn drain_trail(&mut self) -> Vec<TrailStep> {
        std::mem::take(&mut self.trail)
    }

    pub(super) fn note(&mut self, step: TrailStep) {
        if self.trail.len() < MAX_TRAIL {
            self.trail.push(step);
        }
    }

    pub(super) fn arm(&mut self, timer: IvrTimer, after: Duration) {
        self.timer = Some((timer, self.now + after));
    }

    pub(super) fn emit(&mut self, output: IvrOutput) {
        self.outputs.push_back(output);
    }

    fn on_timer(&mut self, timer: IvrTimer) {
        match (timer, &self.state) {
            (IvrTimer::NoInput, State::MenuKey) => self.menu_no_input(),
            (IvrTimer::NoInput, State::ReviewKey) => self.review_no_input(),
            (IvrTimer::FirstDigit, State::Collecting) => self.collect_no_input(),
            (IvrTimer::InterDigit, State::Collecting) => self.collect_complete(),
            (IvrTimer::RecordingSafety, State::Recording { .. }) => self.recording_overdue(),
            (IvrTimer::EngineReply, State::AwaitCase) => self.on_case(None),
            (IvrTimer::EngineReply, State::AwaitMessage) => self.on_message(None),
            (IvrTimer::EngineReply, State::AwaitFiled) => self.on_filed(None),
            (_, State::MailboxKeys(wait)) => {
                let wait = *wait;
                self.mailbox_timer(timer, wait)
            }
            (IvrTimer::EngineReply, State::AwaitLogin) => self.on_login(LoginResult::Wrong),
            (IvrTimer::EngineReply, State::AwaitMailboxSaved) => self.on_mailbox_saved(false),
            _ => {}
        }
    }

    fn on_call_ended(&mut self) {
        self.discard_unsent_reply();
        self.file_if_needed(None, None);
        self.finish();
    }

    /// The flow hangs up: file what is known if nothing was filed, then hang up.
    pub(super) fn hang_up(&mut self) {
        self.discard_unsent_reply();
        self.file_if_needed(None, None);
        self.emit(IvrOutput::Hangup);
        self.finish();
    }

    /// The call leaves the IVR without hanging up (a call-taker has it).
    pub(super) fn end(&mut self, default_kind: Option<MessageKind>) {
        self.file_if_needed(None, default_kind);
        self.finish();
    }

    fn finish(&mut self) {
        self.state = State::Finished;
        self.timer = None;
    }

    /// Emits the call's one `File` unless it was already emitted.
    pub(super) fn file_if_needed(
        &mut self,
        explicit: Option<MessageKind>,
        default: Option<MessageKind>,
    ) {
        if !self.filed {
            self.filed = true;
            let draft = self.draft(explicit, default);
            self.emit(IvrOutput::File(draft));
        }
    }

    /// The message as far as the call got. The kind is, in order: the node's own, the `kind`
    /// variable, what the caller looked up, the node's default, and otherwise `unusable`.
    pub(super) fn draft(
        &self,
        explicit: Option<MessageKind>,
        default: Option<MessageKind>,
    ) -> MessageDraft {
        let looked_up = if self.looked_up_case {
            Some(MessageKind::CaseInquiry)
        } else if self.looked_up_message {
            Some(MessageKind::FollowUp)
        } else {
            None
        };
        let kind = explicit
            .or_else(|| self.variable("kind").and_then(MessageKind::parse))
            .or(looked_up)
            .or(default)
            .unwrap_or(MessageKind::Unusable);
        let (recording_id, recording_pending) = match &self.take {
            Take::None | Take::Recorded(None) => (None, false),
            Take::InRecorder => (None, true),
            Take::Recorded(Some(id)) | Take::Kept(id) => (Some(id.clone()), false),
        };
        MessageDraft {
            line: self.ctx.line.clone(),
            kind,
            // A case inquiry is routed by the case's district when the caller gave none.
            district: ["district", "case_district"]
                .iter()
                .find_map(|var| self.variable(var).and_then(|d| d.parse().ok())),
            category: self.variable("category").map(str::to_owned),
            case_number: self.variable("case_number").map(str::to_owned),
            recording_id,
            recording_pending,
        }
    }
}
