//! The ACD's configuration and state vocabulary.
//!
//! Kept apart from the machine so the engine, the store and the web layer can name agent states,
//! pause reasons and queue settings without depending on routing internals. Every value here is
//! plain data: the driver persists it, the wallboard renders it.

use std::time::Duration;

/// The engine's handle for one caller's call; unique while the call lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CallKey(pub u64);

/// How a queue picks among available agents of its best penalty tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Strategy {
    /// The agent idle longest (since their last call ended, or since login).
    #[default]
    LongestIdle,
    /// Every available agent of the tier rings at once; the first to answer wins.
    RingAll,
    /// A per-queue rotation over the queue's member list.
    RoundRobin,
    /// The agent who answered the fewest calls today (ties: longest idle).
    FewestCalls,
}

impl Strategy {
    /// The configuration file's names: `longest-idle`, `ring-all`, `round-robin`, `fewest-calls`.
    pub fn parse(text: &str) -> Option<Strategy> {
        Some(match text {
            "longest-idle" => Strategy::LongestIdle,
            "ring-all" => Strategy::RingAll,
            "round-robin" => Strategy::RoundRobin,
            "fewest-calls" => Strategy::FewestCalls,
            _ => return None,
        })
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            Strategy::LongestIdle => "longest-idle",
            Strategy::RingAll => "ring-all",
            Strategy::RoundRobin => "round-robin",
            Strategy::FewestCalls => "fewest-calls",
        }
    }
}

/// One queue's settings. `QueueConfig::new` gives the documented defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueConfig {
    pub name: String,
    pub strategy: Strategy,
    /// How long one offer rings before it counts as a missed offer (at least 1 s is used).
    pub ring_timeout: Duration,
    /// After-call work time; zero sends the agent straight back to Available.
    pub wrap_up: Duration,
    /// Nobody waits longer than this: the call overflows (to voicemail).
    pub max_wait: Duration,
    /// Delay before the first position announcement.
    pub announce_first: Duration,
    /// Period of later announcements; zero disables announcements.
    pub announce_every: Duration,
    /// Answered within this wait counts towards the service level.
    pub service_level_threshold: Duration,
    /// Abandons within this wait are left out of the service level.
    pub abandon_grace: Duration,
    /// Missed offers in a row before the system pauses the agent ("no answer"); zero: never.
    pub max_missed_offers: u32,
    /// How long an agent who missed a call is skipped for that same call.
    pub retry_delay: Duration,
    /// Handle time assumed for wait estimates until today's average exists.
    pub default_handle_time: Duration,
    /// Record every conversation (caller and agent mixed) and attach it to the call's message.
    pub record: bool,
}

impl QueueConfig {
    pub fn new(name: impl Into<String>) -> Self {
        QueueConfig {
            name: name.into(),
            strategy: Strategy::LongestIdle,
            ring_timeout: Duration::from_secs(15),
            wrap_up: Duration::from_secs(10),
            max_wait: Duration::from_secs(300),
            announce_first: Duration::from_secs(15),
            announce_every: Duration::from_secs(30),
            service_level_threshold: Duration::from_secs(20),
            abandon_grace: Duration::from_secs(5),
            max_missed_offers: 3,
            retry_delay: Duration::from_secs(5),
            default_handle_time: Duration::from_secs(180),
            record: false,
        }
    }
}

/// One call-taker and the queues they serve, with a penalty per queue (0 is best).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentConfig {
    pub id: String,
    pub name: String,
    pub queues: Vec<(String, u32)>,
}

/// Why an agent is paused: a code for reports and a label for people.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PauseReason {
    pub code: u16,
    pub label: String,
}

impl PauseReason {
    /// The code the system uses when it pauses an agent after missed offers.
    pub const NO_ANSWER_CODE: u16 = 9;

    pub fn new(code: u16, label: impl Into<String>) -> Self {
        PauseReason {
            code,
            label: label.into(),
        }
    }

    /// The system's pause after `max_missed_offers` missed offers in a row.
    pub fn no_answer() -> Self {
        PauseReason::new(Self::NO_ANSWER_CODE, "no answer")
    }

    /// The standard reasons: 1 break, 2 lunch, 3 training, 4 meeting, 9 no answer.
    pub fn standard(code: u16) -> Option<Self> {
        let label = match code {
            1 => "break",
            2 => "lunch",
            3 => "training",
            4 => "meeting",
            Self::NO_ANSWER_CODE => "no answer",
            _ => return None,
        };
        Some(PauseReason::new(code, label))
    }
}

/// The one agent state machine. `Offered` and `OnCall` name the call they belong to, so an agent
/// can never hold two offers or be offered while on a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentState {
    LoggedOut,
    Available,
    Offered { call: CallKey },
    OnCall { call: CallKey },
    WrapUp { until: Duration },
    Paused { reason: PauseReason },
}

impl AgentState {
    /// A stable lower-case name for the database and the wallboard.
    pub fn name(&self) -> &'static str {
        match self {
            AgentState::LoggedOut => "logged_out",
            AgentState::Available => "available",
            AgentState::Offered { .. } => "offered",
            AgentState::OnCall { .. } => "on_call",
            AgentState::WrapUp { .. } => "wrap_up",
            AgentState::Paused { .. } => "paused",
        }
    }

    pub fn is_logged_in(&self) -> bool {
        !matches!(self, AgentState::LoggedOut)
    }
}

/// A request that cannot take effect now and will when the agent's call (and wrap-up) allows.
/// It is part of the visible agent state, never a hidden flag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pending {
    /// Pause once wrap-up ends.
    Pause(PauseReason),
    /// Log out as soon as the current call ends.
    Logout,
    /// Log out and drop the agent's configuration as soon as the current call ends.
    Remove,
}
