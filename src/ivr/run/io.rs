//! The values that cross the IVR's edge: what the engine tells a run, what a run asks of the
//! engine, and the message it files.
//!
//! Every side effect (playing, recording, looking up, filing, queueing) is a request value the
//! engine carries out and answers with an input, so a whole call can run in a test without a
//! media stack or a database (design principle 5).

use std::time::Duration;

use crate::calendar::{JalaliDate, Weekday};
use crate::ivr::case::{CaseInfo, CaseKind, MessageStatus};

/// A prompt entry that names a stored recording (a manager's voice reply) rather than a prompt
/// file: `recording:<recording id>`.
pub const RECORDING_PROMPT_PREFIX: &str = "recording:";

/// The prompt entry that plays the stored recording `recording_id`.
pub fn recording_prompt(recording_id: &str) -> String {
    format!("{RECORDING_PROMPT_PREFIX}{recording_id}")
}

/// The recording id of a prompt entry made by [`recording_prompt`], if it is one.
pub fn as_recording(prompt: &str) -> Option<&str> {
    prompt.strip_prefix(RECORDING_PROMPT_PREFIX)
}

/// What the run knows about the call when it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallContext {
    /// The dialled line: "137", "1888", "bench".
    pub line: String,
    pub caller: String,
    /// Tehran's local date, for business hours, holidays and objection deadlines.
    pub today: JalaliDate,
    pub weekday: Weekday,
    /// Tehran local time, minutes since midnight.
    pub minute_of_day: u32,
}

/// Why the recorder stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordEnd {
    /// The caller pressed the end key.
    Key,
    /// The caller was silent for the silence limit.
    Silence,
    MaxLength,
    /// The caller hung up; `CallEnded` follows.
    HangUp,
}

/// How a wait in an agent queue ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueOutcome {
    /// A call-taker took the call: the IVR's part is over.
    Answered,
    /// The queue was full or the caller waited past its limit.
    Overflow,
    /// No call-taker is logged in.
    NoAgents,
    /// The caller chose to leave the queue (e.g. to leave a voice message instead).
    Exit,
}

/// A PIN as keyed on the phone. Its `Debug` hides the digits, so a request logged or printed
/// in a test failure never shows a manager's PIN.
#[derive(Clone, PartialEq, Eq)]
pub struct Pin(pub String);

impl std::fmt::Debug for Pin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Pin(<{} digits>)", self.0.len())
    }
}

/// Events the engine hands a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IvrInput {
    Digit(char),
    /// The last `Play` finished (never sent for a playback the run stopped).
    PlaybackFinished,
    CaseFound(Option<CaseInfo>),
    MessageFound(Option<MessageStatus>),
    /// The caller's lookups are refused for now (too many codes that named no message).
    LookupRefused,
    /// The recorder stopped. The media side saves every take durably the moment it stops, so
    /// `recording` is the take's id, already durable (written, synced), or `None` when it could
    /// not be saved (the caller then hears the failure if they keep it).
    RecordingStopped {
        duration_ms: u64,
        reason: RecordEnd,
        recording: Option<String>,
    },
    /// The filed message is durable and has this tracking code.
    Filed {
        tracking_code: String,
    },
    FileFailed,
    QueueResult(QueueOutcome),
    /// The answer to `VerifyManager`.
    ManagerLogin(LoginResult),
    /// The answer to `SendReply` or `MarkHandled`: true only once the store has committed it.
    MailboxSaved(bool),
    /// The caller hung up.
    CallEnded,
}

/// One message in a manager's mailbox, as the phone reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxItem {
    pub tracking_code: String,
    /// The line the citizen called: "137", "1888".
    pub line: String,
    pub kind: MessageKind,
    /// Tehran's date when the message was left.
    pub received: JalaliDate,
    /// The citizen's recording (played with [`recording_prompt`]).
    pub recording_id: String,
    /// Not yet replied to or handled (only the count of new messages depends on it).
    pub is_new: bool,
}

/// How a manager's login went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginResult {
    /// The mailbox and PIN match: its messages, new first, as the store lists them.
    Accepted {
        mailbox: String,
        items: Vec<MailboxItem>,
    },
    /// No such mailbox, or a wrong PIN (the two are not told apart).
    Wrong,
    /// Too many wrong PINs for this mailbox or from this source lately: not even asked.
    Limited,
}

/// What a take is for; the engine names the file after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TakePurpose {
    /// A citizen's voice message (`DAY/CALLREF-takeN-RANDOM.wav`).
    Message,
    /// A manager's voice reply (`DAY/CALLREF-reply-RANDOM.wav`): never filed as a citizen's
    /// message, not even by start-up recovery.
    Reply,
}

/// Requests a run makes of the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IvrOutput {
    /// Play these prompt ids in order (see [`RECORDING_PROMPT_PREFIX`]); answer with
    /// `PlaybackFinished`. With `barge_in`, a digit may arrive first and the run stops it.
    Play {
        prompts: Vec<String>,
        barge_in: bool,
    },
    StopPlayback,
    LookupCase {
        kind: CaseKind,
        number: String,
    },
    LookupMessage {
        tracking_code: String,
    },
    StartRecording {
        max: Duration,
        silence: Duration,
        end_key: char,
        purpose: TakePurpose,
    },
    StopRecording,
    /// The caller re-records or the take was empty: delete the last take's file.
    DiscardRecording,
    /// Wait in an agent queue; answer with `QueueResult`. `draft` is the message as far as the
    /// call got, opened now so the call-taker sees its tracking code while the phone rings.
    Enqueue {
        queue: String,
        /// Higher is offered first (FIFO within a priority).
        priority: u8,
        draft: MessageDraft,
    },
    /// File the call's one message; answer with `Filed` after the durable save, or `FileFailed`.
    File(MessageDraft),
    /// A manager keyed a mailbox and PIN; answer with `ManagerLogin`.
    VerifyManager {
        mailbox: String,
        pin: Pin,
    },
    /// The manager was played this message: the engine writes an audit row (who, what, when).
    /// No answer.
    MailboxListened {
        tracking_code: String,
    },
    /// Send the take `recording_id` (already durable) as the reply to the message; answer with
    /// `MailboxSaved` once the reply's row is committed (or not).
    SendReply {
        tracking_code: String,
        recording_id: String,
    },
    /// The manager marks the message handled without a reply; answer with `MailboxSaved`.
    MarkHandled {
        tracking_code: String,
    },
    Hangup,
}

/// What a call is about, as filed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageKind {
    Criticism,
    Suggestion,
    Complaint,
    Appreciation,
    UrbanProblem,
    CaseInquiry,
    FollowUp,
    Guidance,
    /// Nothing useful was said: nuisance, cut off, unrelated.
    Unusable,
}

impl MessageKind {
    pub const ALL: [MessageKind; 9] = [
        MessageKind::Criticism,
        MessageKind::Suggestion,
        MessageKind::Complaint,
        MessageKind::Appreciation,
        MessageKind::UrbanProblem,
        MessageKind::CaseInquiry,
        MessageKind::FollowUp,
        MessageKind::Guidance,
        MessageKind::Unusable,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Criticism => "criticism",
            MessageKind::Suggestion => "suggestion",
            MessageKind::Complaint => "complaint",
            MessageKind::Appreciation => "appreciation",
            MessageKind::UrbanProblem => "urban_problem",
            MessageKind::CaseInquiry => "case_inquiry",
            MessageKind::FollowUp => "follow_up",
            MessageKind::Guidance => "guidance",
            MessageKind::Unusable => "unusable",
        }
    }

    /// The inverse of [`MessageKind::as_str`].
    pub fn parse(s: &str) -> Option<MessageKind> {
        MessageKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s.trim())
    }
}

/// The message a call files: what the caller chose and said, as far as the call got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageDraft {
    pub line: String,
    pub kind: MessageKind,
    pub district: Option<u8>,
    pub category: Option<String>,
    pub case_number: Option<String>,
    /// A recording already saved durably.
    pub recording_id: Option<String>,
    /// A take is still in the recorder (the caller hung up while recording or before the save
    /// finished): the engine saves it and attaches it to this message.
    pub recording_pending: bool,
}

/// The run's named timers (design principle 3). At most one is armed at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IvrTimer {
    /// A menu or the recording review waits for a key.
    NoInput,
    /// A collect node waits for the first digit.
    FirstDigit,
    /// A collect node waits for the next digit.
    InterDigit,
    /// The recorder should have stopped by itself by now.
    RecordingSafety,
    /// A lookup, save or filing the engine has not answered.
    EngineReply,
}

impl IvrTimer {
    pub fn as_str(self) -> &'static str {
        match self {
            IvrTimer::NoInput => "no_input",
            IvrTimer::FirstDigit => "first_digit",
            IvrTimer::InterDigit => "inter_digit",
            IvrTimer::RecordingSafety => "recording_safety",
            IvrTimer::EngineReply => "engine_reply",
        }
    }

    /// Whether the run is waiting for the caller (rather than for the engine) while it runs.
    pub fn waits_for_caller(self) -> bool {
        matches!(
            self,
            IvrTimer::NoInput | IvrTimer::FirstDigit | IvrTimer::InterDigit
        )
    }
}

/// A step of the path a call took, for call logs and flow coverage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrailStep {
    /// The run entered this node.
    Node(String),
    /// A menu took this key.
    Choice { node: String, key: char },
}
