//! The validated flow model: what a YAML tree becomes once [`load_flows`] accepts it.
//!
//! Node references stay names (not indices) so that a run, a log line and an error all speak
//! the flow author's vocabulary; loading guarantees every name resolves, so the interpreter may
//! treat a missing node as impossible. Defaults (timeouts, retry prompts) are filled in here,
//! once, so the interpreter never has to know what the author left out.
//!
//! [`load_flows`]: load::load_flows

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use super::case::CaseKind;
use super::run::io::MessageKind;
use hours::Hours;

mod check;
pub mod error;
pub(super) mod fields;
pub mod graph;
pub mod hours;
pub mod load;
mod nodes;
pub(super) mod nodes_io;
mod nodes_mailbox;

#[cfg(test)]
mod tests;

/// All loaded trees, by line.
#[derive(Debug, Clone, Default)]
pub struct FlowSet {
    pub(crate) flows: BTreeMap<String, Arc<Flow>>,
}

impl FlowSet {
    /// The tree answering `line` ("137", "1888", "bench").
    pub fn get(&self, line: &str) -> Option<Arc<Flow>> {
        self.flows.get(line).cloned()
    }

    pub fn lines(&self) -> impl Iterator<Item = &str> {
        self.flows.keys().map(String::as_str)
    }
}

/// One tree.
#[derive(Debug, Clone, PartialEq)]
pub struct Flow {
    pub line: String,
    /// The file it was loaded from, for messages.
    pub file: String,
    pub start: String,
    pub description: Option<String>,
    pub hours: Option<Hours>,
    pub nodes: BTreeMap<String, Node>,
}

impl Flow {
    pub fn node(&self, name: &str) -> Option<&Node> {
        self.nodes.get(name)
    }

    /// Whether a call of this flow files the citizen's one message. A staff flow (one with
    /// `mailbox_login` or `mailbox` nodes: the managers' `*98` menu) never does, not even at
    /// hang-up: a manager's call is not a citizen's message. The loader refuses `file`,
    /// `queue`, `record` and `end` nodes in a staff flow, so nothing in it could file one.
    pub fn files_messages(&self) -> bool {
        !self.nodes.values().any(|n| n.kind.is_staff())
    }
}

/// A node and the source line it was declared on.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub name: String,
    pub line: usize,
    pub kind: NodeKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    Play(PlayNode),
    Menu(MenuNode),
    Collect(CollectNode),
    Say(SayNode),
    Lookup(LookupNode),
    LookupMessage(LookupMessageNode),
    Record(RecordNode),
    Queue(QueueNode),
    File(FileNode),
    Hours(HoursNode),
    Set(SetNode),
    Goto(GotoNode),
    Hangup(HangupNode),
    End(EndNode),
    MailboxLogin(MailboxLoginNode),
    /// Boxed: the player has many prompts, and every node of every flow is a `NodeKind`.
    Mailbox(Box<MailboxNode>),
}

impl NodeKind {
    /// A node of the managers' mailbox menu (see [`Flow::files_messages`]).
    pub fn is_staff(&self) -> bool {
        matches!(self, NodeKind::MailboxLogin(_) | NodeKind::Mailbox(_))
    }

    /// The `type:` name of the node.
    pub fn type_name(&self) -> &'static str {
        match self {
            NodeKind::Play(_) => "play",
            NodeKind::Menu(_) => "menu",
            NodeKind::Collect(_) => "collect",
            NodeKind::Say(_) => "say",
            NodeKind::Lookup(_) => "lookup",
            NodeKind::LookupMessage(_) => "lookup_message",
            NodeKind::Record(_) => "record",
            NodeKind::Queue(_) => "queue",
            NodeKind::File(_) => "file",
            NodeKind::Hours(_) => "hours",
            NodeKind::Set(_) => "set",
            NodeKind::Goto(_) => "goto",
            NodeKind::Hangup(_) => "hangup",
            NodeKind::End(_) => "end",
            NodeKind::MailboxLogin(_) => "mailbox_login",
            NodeKind::Mailbox(_) => "mailbox",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct PlayNode {
    pub prompts: Vec<String>,
    pub barge_in: bool,
    pub next: String,
}

/// What a node does when the caller gives no key or a wrong one.
#[derive(Debug, Clone, PartialEq)]
pub struct Retry {
    /// Re-prompts allowed after the first attempt.
    pub retries: u32,
    pub no_input_prompt: String,
    pub invalid_prompt: String,
    /// Where to go once retries are spent; `None` ends the call politely with `fail_prompt`.
    pub fallback: Option<String>,
    pub fail_prompt: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MenuNode {
    pub prompts: Vec<String>,
    pub barge_in: bool,
    pub keys: BTreeMap<char, KeyChoice>,
    pub timeout: Duration,
    pub retry: Retry,
}

/// A menu key: the node it leads to and variables it sets on the way.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyChoice {
    pub next: String,
    pub set: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CollectNode {
    pub prompts: Vec<String>,
    pub barge_in: bool,
    pub min_digits: usize,
    pub max_digits: usize,
    pub terminator: char,
    pub first_digit_timeout: Duration,
    pub inter_digit_timeout: Duration,
    pub into: String,
    pub validate: Validation,
    pub retry: Retry,
    pub next: String,
}

/// How collected digits are checked before they are accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validation {
    Any,
    /// The tracking code's check digit must match.
    TrackingCode,
    /// A number within these bounds, inclusive.
    Range(u64, u64),
}

#[derive(Debug, Clone, PartialEq)]
pub struct SayNode {
    /// Each part is spoken only if every variable it reads is set.
    pub parts: Vec<Vec<Segment>>,
    pub barge_in: bool,
    pub next: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Prompt(String),
    Value { how: SayAs, var: String },
}

/// How a variable's value is spoken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SayAs {
    Digits,
    Number,
    /// A Jalali date `yyyy/mm/dd`, in words.
    Date,
    /// A number of rials.
    Amount,
    /// A stage name of the case kind in `case_kind`.
    Stage,
    Verdict,
    Status,
    /// A stored recording id.
    Recording,
    /// Says nothing: the part is spoken only when the variable is set (`{when: caller_takes_sms}`).
    When,
}

impl SayAs {
    pub const ALL: [SayAs; 9] = [
        SayAs::Digits,
        SayAs::Number,
        SayAs::Date,
        SayAs::Amount,
        SayAs::Stage,
        SayAs::Verdict,
        SayAs::Status,
        SayAs::Recording,
        SayAs::When,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SayAs::Digits => "digits",
            SayAs::Number => "number",
            SayAs::Date => "date",
            SayAs::Amount => "amount",
            SayAs::Stage => "stage",
            SayAs::Verdict => "verdict",
            SayAs::Status => "status",
            SayAs::Recording => "recording",
            SayAs::When => "when",
        }
    }

    pub fn parse(s: &str) -> Option<SayAs> {
        SayAs::ALL.into_iter().find(|how| how.as_str() == s)
    }
}

/// Where a lookup takes the case kind from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KindSource {
    Fixed(CaseKind),
    Var(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct LookupNode {
    pub kind: KindSource,
    /// The variable holding the case number.
    pub number: String,
    pub found: String,
    pub not_found: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LookupMessageNode {
    /// The variable holding the tracking code.
    pub code: String,
    pub found: String,
    pub not_found: String,
    /// Where a caller goes whose lookups are refused for now (too many codes that named no
    /// message); without it, to `not_found`.
    pub limited: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RecordNode {
    /// Instructions played before the beep.
    pub prompts: Vec<String>,
    pub beep: String,
    pub max: Duration,
    pub silence: Duration,
    pub end_key: char,
    pub review_prompts: Vec<String>,
    /// Takes allowed (re-recordings plus the first); the last take is kept.
    pub max_takes: u32,
    pub empty_prompt: String,
    /// Review no-input/invalid handling; `fallback` is taken when every take was empty.
    pub retry: Retry,
    pub next: String,
    /// Where to go if the recording cannot be saved; `None` ends the call politely.
    pub on_failure: Option<String>,
    pub failure_prompt: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct QueueNode {
    pub prompts: Vec<String>,
    pub queue: String,
    /// 0–9; a waiting call of higher priority is offered first, FIFO within a priority.
    pub priority: u8,
    pub answered: String,
    pub overflow: String,
    pub no_agents: String,
    pub exit: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FileNode {
    /// Overrides the `kind` variable.
    pub kind: Option<MessageKind>,
    pub next: String,
    /// Where to go if filing fails; `None` ends the call politely.
    pub on_failure: Option<String>,
    pub failure_prompt: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HoursNode {
    pub open: String,
    pub closed: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SetNode {
    pub vars: Vec<(String, String)>,
    pub next: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct GotoNode {
    pub next: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HangupNode {
    pub prompts: Vec<String>,
}

/// The call leaves the IVR without hanging up (a call-taker has it).
#[derive(Debug, Clone, PartialEq)]
pub struct EndNode {
    /// The kind filed if nothing more specific is known.
    pub kind: Option<MessageKind>,
}

/// A manager logs in: mailbox number and `#`, PIN and `#`, checked by the engine.
#[derive(Debug, Clone, PartialEq)]
pub struct MailboxLoginNode {
    /// Asks for the mailbox number.
    pub mailbox_prompts: Vec<String>,
    /// Asks for the PIN.
    pub pin_prompts: Vec<String>,
    /// Said after a wrong mailbox or PIN (before asking again, or before `fail`).
    pub wrong_prompt: String,
    /// Said when the engine refuses the login for now (too many wrong PINs), before `fail`.
    pub limited_prompt: String,
    /// Said when nothing was keyed, before asking again.
    pub no_input_prompt: String,
    /// Logins allowed (a wrong PIN and a silence each spend one) before `fail`.
    pub tries: u32,
    /// The longest mailbox number and PIN; reaching it ends the number as `#` would.
    pub max_digits: usize,
    pub terminator: char,
    pub first_digit_timeout: Duration,
    pub inter_digit_timeout: Duration,
    pub next: String,
    pub fail: String,
}

/// The player of a logged-in manager's mailbox: each message with its date, line and kind, and
/// the item menu (1 reply, 2 next, 3 repeat, 4 previous, 9 handled without a reply).
#[derive(Debug, Clone, PartialEq)]
pub struct MailboxNode {
    /// "You have" … N … "new messages".
    pub count_prompts: (String, String),
    /// Instead of the count when no message is new.
    pub no_new_prompt: String,
    /// The mailbox holds no message at all (then straight to `next`).
    pub empty_prompt: String,
    /// The lead-in of each message, before its date ("message of").
    pub item_prompt: String,
    /// Prompt of a line is `line_prompt_prefix` + line, for the lines listed in `lines`; a
    /// message of another line is read without its line.
    pub line_prompt_prefix: String,
    pub lines: Vec<String>,
    /// Prompt of a kind is `kind_prompt_prefix` + the kind's name (`criticism`…).
    pub kind_prompt_prefix: String,
    /// The item menu.
    pub menu_prompts: Vec<String>,
    /// Reply instructions played before the beep.
    pub reply_prompts: Vec<String>,
    pub beep: String,
    pub max: Duration,
    pub silence: Duration,
    pub end_key: char,
    /// "1 send, 2 re-record, 3 listen".
    pub review_prompts: Vec<String>,
    pub sent_prompt: String,
    pub marked_prompt: String,
    /// The store did not save the reply or the mark: the manager may try again.
    pub not_saved_prompt: String,
    /// A reply take shorter than the shortest take worth keeping.
    pub empty_take_prompt: String,
    /// The reply take could not be saved by the media side.
    pub record_failed_prompt: String,
    /// After the last message.
    pub end_prompt: String,
    /// Seconds the item menu and the review wait for a key.
    pub timeout: Duration,
    /// Re-prompts of the item menu and the review; then `next`.
    pub retries: u32,
    pub no_input_prompt: String,
    pub invalid_prompt: String,
    pub next: String,
}
