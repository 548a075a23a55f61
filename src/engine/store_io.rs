//! The engine's requests to the store and the store's answers, as values (docs/architecture.md,
//! rule 5): the engine never waits on the database, so a slow disk slows filing, not signalling.

use super::call::cdr::CallRecord;
use super::call::CallKey;
use crate::acd::{AgentState, PauseReason, Pending};
use crate::ivr::{CaseInfo, CaseKind, MailboxItem, MessageStatus};

/// An agent's state as saved for a restart: the state's name, a pause reason, a pending change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentStateRow {
    pub id: String,
    pub state: String,
    pub reason_code: Option<u16>,
    pub reason_label: Option<String>,
    /// `pause`, `logout` or `remove`.
    pub pending: Option<String>,
    pub pending_code: Option<u16>,
}

impl AgentStateRow {
    pub fn from_acd(id: &str, state: &AgentState, pending: Option<&Pending>) -> Self {
        let (reason_code, reason_label) = match state {
            AgentState::Paused { reason } => (Some(reason.code), Some(reason.label.clone())),
            _ => (None, None),
        };
        let (pending, pending_code) = match pending {
            Some(Pending::Pause(reason)) => (Some("pause".to_string()), Some(reason.code)),
            Some(Pending::Logout) => (Some("logout".to_string()), None),
            Some(Pending::Remove) => (Some("remove".to_string()), None),
            None => (None, None),
        };
        AgentStateRow {
            id: id.to_string(),
            state: state.name().to_string(),
            reason_code,
            reason_label,
            pending,
            pending_code,
        }
    }

    /// The saved state; a call-bound state comes back as Available (the call did not survive).
    pub fn state(&self) -> AgentState {
        match self.state.as_str() {
            "logged_out" => AgentState::LoggedOut,
            "paused" => AgentState::Paused {
                reason: self.reason(),
            },
            _ => AgentState::Available,
        }
    }

    fn reason(&self) -> PauseReason {
        let code = self.reason_code.unwrap_or(1);
        match &self.reason_label {
            Some(label) => PauseReason::new(code, label.clone()),
            None => PauseReason::standard(code).unwrap_or_else(|| PauseReason::new(code, "other")),
        }
    }

    pub fn pending(&self) -> Option<Pending> {
        match self.pending.as_deref() {
            Some("pause") => {
                let code = self.pending_code.unwrap_or(1);
                Some(Pending::Pause(
                    PauseReason::standard(code).unwrap_or_else(|| PauseReason::new(code, "other")),
                ))
            }
            Some("logout") => Some(Pending::Logout),
            Some("remove") => Some(Pending::Remove),
            _ => None,
        }
    }
}

/// One registered contact of an agent's softphone, kept across a restart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationRow {
    pub agent: String,
    pub uri: String,
    pub source: String,
    pub call_id: String,
    pub cseq: u32,
    /// Unix milliseconds.
    pub expires_at_ms: i64,
}

/// One queue event for the history (`queue_log` table).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueLogRow {
    pub at_ms: i64,
    pub queue: Option<String>,
    pub call: Option<u64>,
    /// The call's `call_ref` (the `call` number above starts again at every start).
    pub call_ref: Option<String>,
    pub agent: Option<String>,
    pub kind: String,
    pub detail: String,
}

/// A message to file: every call leaves one (the centre's register).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    /// The engine's identifier of the call (`CallRecord::call_ref`): how a message opened in
    /// stages is found again. Never the Call-ID, which the caller's phone chose.
    pub call_ref: String,
    /// The SIP Call-ID, as data.
    pub call_id: String,
    /// `137` or `1888` (or a configured extra line).
    pub line: String,
    pub kind: String,
    pub district: Option<u8>,
    pub category: Option<String>,
    pub case_number: Option<String>,
    pub caller: String,
    /// The voice message's recording name, already durable on disk.
    pub recording: Option<String>,
    /// Unix milliseconds.
    pub created_at: i64,
    pub stage: FilingStage,
}

/// How a filing relates to the call's one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FilingStage {
    /// The whole message at once (a call that never waited for a call-taker).
    #[default]
    Whole,
    /// Opened as the call enters an agent queue, so the call-taker's phone can show the tracking
    /// code while ringing and the call-taker can correct the message during the call: it gets a
    /// tracking code whatever its kind.
    Open,
    /// Completes the message opened for this call (`call_ref`): kind, and whatever the flow
    /// learned. Sent only once the opening is committed (`engine::filings`); the store refuses
    /// a completion with no opening.
    Complete,
}

/// What the engine asks of the store: a write, or a query whose answer comes back as
/// `Input::Store`. The drivers run them differently (`docs/drivers.md`): writes through the
/// call-record writer and the filer, in order; each query on a task of its own, so a slow write
/// never holds up a caller's lookup.
#[derive(Debug, Clone, PartialEq)]
pub enum StoreCommand {
    Write(StoreWrite),
    Query(StoreQuery),
}

#[derive(Debug, Clone, PartialEq)]
pub enum StoreWrite {
    /// Insert or update a call detail record.
    Call(CallRecord),
    /// File a message durably and answer with its tracking code (`StoreReply::Filed`, or
    /// `StoreReply::Opened` for an opening).
    FileMessage {
        call: CallKey,
        message: NewMessage,
    },
    AgentState(AgentStateRow),
    /// An agent's registered contacts after a REGISTER changed them (none: all removed).
    Registrations {
        agent: String,
        rows: Vec<RegistrationRow>,
    },
    QueueLog(QueueLogRow),
    /// The ACD connected `agent` to the call whose message has `tracking_code`: from now on
    /// that agent may read and correct the message (and no other agent's).
    AgentConnected {
        tracking_code: String,
        agent: String,
        /// Unix milliseconds.
        at_ms: i64,
    },
    /// A conversation recording was saved: attach it to the message of the call (filed earlier,
    /// so it goes through the filer, in order).
    AttachCallRecording {
        call_ref: String,
        name: String,
    },
    /// Who did what to which message, when (a manager listening to a message on the phone).
    Audit {
        /// `manager:501`.
        actor: String,
        /// `phone`.
        channel: String,
        /// `listen`.
        action: String,
        tracking_code: Option<String>,
        detail: String,
    },
}

/// A question for the store; its answer is a `StoreReply` for the same call.
#[derive(Debug, Clone, PartialEq)]
pub enum StoreQuery {
    LookupCase {
        call: CallKey,
        kind: CaseKind,
        number: String,
    },
    LookupMessage {
        call: CallKey,
        tracking_code: String,
    },
    /// A manager's login on `*98`: answered by `StoreReply::ManagerVerified` (with the
    /// mailbox's messages when the PIN is right).
    VerifyManager {
        call: CallKey,
        mailbox: String,
        pin: crate::ivr::Pin,
    },
    /// Save the durable take `recording` as the reply to the message `tracking_code` referred
    /// to `mailbox`; answered by `StoreReply::MailboxSaved` once committed (or not).
    SaveReply {
        call: CallKey,
        tracking_code: String,
        recording: String,
        mailbox: String,
    },
    /// Mark the message handled without a reply; answered by `StoreReply::MailboxSaved`.
    MarkHandled {
        call: CallKey,
        tracking_code: String,
        mailbox: String,
    },
}

impl StoreQuery {
    /// Whether answering it only reads: such a query runs on the connections kept for callers
    /// (`Store::for_callers`), so a caller never waits behind writes for one.
    pub fn only_reads(&self) -> bool {
        matches!(
            self,
            StoreQuery::LookupCase { .. } | StoreQuery::LookupMessage { .. }
        )
    }
}

/// The store's verdict on a manager's login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManagerCheck {
    /// The PIN is right: the mailbox's messages, new first.
    Accepted(Vec<MailboxItem>),
    /// No such mailbox or a wrong PIN.
    Wrong,
    /// The store could not answer (not counted as a wrong PIN).
    Failed,
}

#[derive(Debug, Clone, PartialEq)]
pub enum StoreReply {
    CaseFound {
        call: CallKey,
        case: Option<CaseInfo>,
    },
    MessageFound {
        call: CallKey,
        status: Option<MessageStatus>,
    },
    /// `saved: false`: the message could not be saved (the caller must not hear "saved").
    /// Reports carry a tracking code; other messages none.
    Filed {
        call: CallKey,
        saved: bool,
        tracking_code: Option<String>,
    },
    /// The answer to a `FilingStage::Open` filing; `None` if it could not be saved (the call is
    /// queued anyway: a citizen is never kept from a call-taker by the database).
    Opened {
        call: CallKey,
        tracking_code: Option<String>,
    },
    ManagerVerified {
        call: CallKey,
        mailbox: String,
        check: ManagerCheck,
    },
    /// A reply or a mark: `saved` only once its transaction committed.
    MailboxSaved { call: CallKey, saved: bool },
}
