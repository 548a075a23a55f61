//! What goes into the ACD and what comes out of it.
//!
//! The engine owns SIP and media; it translates SIP events into `AcdInput` values and carries out
//! each `AcdOutput` (INVITE, CANCEL, bridge, voicemail, prompt). Every reason is an enum, not a
//! string, so the engine and the wallboard can match on it and the history stays queryable.

use std::time::Duration;

use super::types::{AgentConfig, AgentState, CallKey, PauseReason, Pending, QueueConfig};

/// Everything that can happen to the ACD. Agent ids are `AgentConfig::id`.
#[derive(Debug, Clone, PartialEq)]
pub enum AcdInput {
    AgentLogin(String),
    AgentLogout(String),
    AgentPause(String, PauseReason),
    AgentUnpause(String),
    /// The agent pressed "ready" during wrap-up.
    AgentEndWrapUp(String),
    /// The softphone unregistered or stopped answering OPTIONS.
    AgentUnreachable(String),
    /// Adds an agent (logged out) or updates its name and queues.
    AgentConfigured(AgentConfig),
    AgentRemoved(String),
    /// Adds a queue or replaces an existing queue's settings (calls and today's counters stay).
    QueueConfigured(QueueConfig),
    /// Removes a queue; its waiting calls overflow.
    QueueRemoved(String),
    CallArrived {
        call: CallKey,
        queue: String,
        /// Higher is served first.
        priority: u8,
        caller: String,
    },
    /// The caller hung up while waiting or while an agent's phone rang.
    CallAbandoned(CallKey),
    /// The caller pressed the exit key (to voicemail); counted apart from abandons.
    CallExited(CallKey),
    /// The agent's leg answered (200 OK).
    OfferAccepted {
        call: CallKey,
        agent: String,
    },
    /// The agent declined (486/603): the call moves on at once.
    OfferRejected {
        call: CallKey,
        agent: String,
    },
    /// The INVITE to the agent failed (error response, timeout, transport error).
    OfferFailed {
        call: CallKey,
        agent: String,
    },
    /// A bridged call ended (either side hung up).
    CallEnded {
        call: CallKey,
    },
}

/// Everything the engine must do or record.
#[derive(Debug, Clone, PartialEq)]
pub enum AcdOutput {
    /// Ring the agent for this call (send the INVITE).
    Offer { call: CallKey, agent: String },
    /// Drop this agent's leg for this call: CANCEL it if still ringing, BYE it if it answered
    /// anyway (an answer that crossed the cancel, or lost a ring-all race).
    CancelOffer {
        call: CallKey,
        agent: String,
        reason: CancelReason,
    },
    /// Bridge the caller to the agent's answered leg.
    Connected { call: CallKey, agent: String },
    /// Take the call out of the queue (to voicemail).
    Overflow {
        call: CallKey,
        reason: OverflowReason,
    },
    /// Play the position / wait announcement. The engine must keep the exit key live while it
    /// plays (a DTMF press interrupts it and becomes `CallExited`).
    Announce {
        call: CallKey,
        position: u32,
        estimated_wait: Duration,
    },
    /// Every agent state or pending-request change, so wallboards see wrap-up and pause reasons.
    AgentStateChanged {
        agent: String,
        state: AgentState,
        pending: Option<Pending>,
        reason: ChangeReason,
        at: Duration,
    },
    /// One row of queue history for the database.
    QueueLog(QueueEvent),
    /// An agent request that cannot apply in the agent's state; nothing changed.
    Refused {
        agent: String,
        request: AgentRequest,
        refusal: Refusal,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelReason {
    RingTimeout,
    CallerAbandoned,
    CallerExited,
    AnsweredElsewhere,
    Overflow,
    AgentPaused,
    AgentLoggedOut,
    AgentRemoved,
    QueueRemoved,
    /// The answer arrived after the offer was withdrawn (or for an offer never made).
    StaleAnswer,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OverflowReason {
    MaxWait,
    /// No agent of the queue is logged in.
    NoAgents,
    UnknownQueue,
    QueueRemoved,
}

/// Why an agent's state (or pending request) changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeReason {
    Configured,
    Login,
    Logout,
    Unreachable,
    Pause,
    Unpause,
    /// The system paused the agent after too many missed offers in a row.
    MissedOffers,
    Offer,
    /// The offer was withdrawn (caller gone, another agent answered, overflow…).
    OfferCancelled,
    RingNoAnswer,
    Rejected,
    OfferFailed,
    Answered,
    CallEnded,
    WrapUpEnded,
    PendingSet,
    PendingCleared,
    Restored,
    Removed,
}

/// Which agent request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgentRequest {
    Login,
    Logout,
    Pause,
    Unpause,
    EndWrapUp,
    Unreachable,
    Remove,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    UnknownAgent,
    AlreadyLoggedIn,
    NotLoggedIn,
    NotPaused,
    NotInWrapUp,
}

/// One history row. Agent-only events (login, pause…) have no queue and no call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueEvent {
    pub at: Duration,
    pub queue: Option<String>,
    pub call: Option<CallKey>,
    pub agent: Option<String>,
    pub kind: QueueEventKind,
    /// `key=value` pairs separated by spaces, e.g. `wait_ms=12000 position=2`.
    pub detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueEventKind {
    Enter,
    Offer,
    Answer,
    Abandon,
    Exit,
    Overflow,
    RingNoAnswer,
    Reject,
    OfferFailed,
    /// The call's bridged conversation ended; detail carries the talk time.
    Complete,
    WrapUpEnd,
    Pause,
    Unpause,
    Login,
    Logout,
}

impl QueueEventKind {
    const ALL: [QueueEventKind; 15] = [
        QueueEventKind::Enter,
        QueueEventKind::Offer,
        QueueEventKind::Answer,
        QueueEventKind::Abandon,
        QueueEventKind::Exit,
        QueueEventKind::Overflow,
        QueueEventKind::RingNoAnswer,
        QueueEventKind::Reject,
        QueueEventKind::OfferFailed,
        QueueEventKind::Complete,
        QueueEventKind::WrapUpEnd,
        QueueEventKind::Pause,
        QueueEventKind::Unpause,
        QueueEventKind::Login,
        QueueEventKind::Logout,
    ];

    /// The kind a stored name stands for (`as_str` read back); None for a name never written.
    pub fn parse(name: &str) -> Option<QueueEventKind> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == name)
    }

    /// A stable lower-case name for the database.
    pub fn as_str(self) -> &'static str {
        match self {
            QueueEventKind::Enter => "enter",
            QueueEventKind::Offer => "offer",
            QueueEventKind::Answer => "answer",
            QueueEventKind::Abandon => "abandon",
            QueueEventKind::Exit => "exit",
            QueueEventKind::Overflow => "overflow",
            QueueEventKind::RingNoAnswer => "ring_no_answer",
            QueueEventKind::Reject => "reject",
            QueueEventKind::OfferFailed => "offer_failed",
            QueueEventKind::Complete => "complete",
            QueueEventKind::WrapUpEnd => "wrap_up_end",
            QueueEventKind::Pause => "pause",
            QueueEventKind::Unpause => "unpause",
            QueueEventKind::Login => "login",
            QueueEventKind::Logout => "logout",
        }
    }
}
