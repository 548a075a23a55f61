//! The machine's internal records: queues, calls and agents, and the order calls are served in.
//!
//! A queue keeps its unanswered calls in a `BTreeMap` ordered by (priority descending, arrival
//! sequence ascending). That one order serves routing (first eligible call), positions for
//! announcements and the wallboard list, so they can never disagree. Agents and queues live in
//! slabs indexed by position and are never reused, so a stale index can only miss, not alias.

use std::cmp::Reverse;
use std::collections::BTreeMap;
use std::time::Duration;

use super::stats::Counters;
use super::types::{AgentConfig, AgentState, CallKey, Pending, QueueConfig};

pub(crate) type AgentIdx = usize;
pub(crate) type QueueIdx = usize;

/// Service order: higher priority first, then earlier arrival (a global sequence, so the order
/// also compares calls of different queues for an agent who serves several).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct OrderKey {
    pub priority: Reverse<u8>,
    pub seq: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Member {
    pub agent: AgentIdx,
    pub penalty: u32,
}

#[derive(Debug)]
pub(crate) struct Queue {
    pub config: QueueConfig,
    /// In agent configuration order; round-robin rotates over this list.
    pub members: Vec<Member>,
    /// Every unanswered call (waiting or ringing), in service order.
    pub queued: BTreeMap<OrderKey, CallKey>,
    /// Unanswered calls by arrival sequence: the first one is the longest waiting.
    pub by_arrival: BTreeMap<u64, CallKey>,
    /// Round-robin: index into `members` where the next search starts.
    pub rotation: usize,
    pub counters: Counters,
}

impl Queue {
    pub fn new(config: QueueConfig) -> Self {
        Queue {
            config,
            members: Vec::new(),
            queued: BTreeMap::new(),
            by_arrival: BTreeMap::new(),
            rotation: 0,
            counters: Counters::default(),
        }
    }

    pub fn enqueue(&mut self, order: OrderKey, call: CallKey) {
        self.queued.insert(order, call);
        self.by_arrival.insert(order.seq, call);
    }

    pub fn dequeue(&mut self, order: OrderKey) {
        self.queued.remove(&order);
        self.by_arrival.remove(&order.seq);
    }

    /// 1-based position of a queued call in service order.
    pub fn position(&self, order: OrderKey) -> u32 {
        let ahead = self.queued.range(..order).count();
        u32::try_from(ahead).unwrap_or(u32::MAX).saturating_add(1)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CallPhase {
    /// In the queue, nobody ringing.
    Waiting,
    /// In the queue, these agents' phones ring (several only under ring-all).
    Ringing(Vec<AgentIdx>),
    /// Bridged to an agent; no longer in the queue.
    Connected {
        agent: AgentIdx,
        answered_at: Duration,
    },
}

#[derive(Debug)]
pub(crate) struct Call {
    pub queue: QueueIdx,
    pub order: OrderKey,
    pub caller: String,
    pub arrived: Duration,
    pub phase: CallPhase,
    /// Agents who missed or declined this call; skipped for it until the retry timer clears them.
    pub tried: Vec<AgentIdx>,
}

impl Call {
    pub fn is_queued(&self) -> bool {
        !matches!(self.phase, CallPhase::Connected { .. })
    }
}

/// The call an agent finished talking on, kept through wrap-up for handle-time statistics.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HandledCall {
    pub queue: QueueIdx,
    pub talk: Duration,
    pub wrap_started: Duration,
}

#[derive(Debug)]
pub(crate) struct Agent {
    pub config: AgentConfig,
    pub state: AgentState,
    pub pending: Option<Pending>,
    /// When `state` was entered.
    pub since: Duration,
    /// Longest-idle key: last call end, or login.
    pub idle_since: Duration,
    pub missed_in_row: u32,
    pub answered_today: u32,
    /// Resolved from `config.queues` against the configured queues.
    pub memberships: Vec<(QueueIdx, u32)>,
    pub handled: Option<HandledCall>,
}

impl Agent {
    pub fn new(config: AgentConfig, now: Duration) -> Self {
        Agent {
            config,
            state: AgentState::LoggedOut,
            pending: None,
            since: now,
            idle_since: now,
            missed_in_row: 0,
            answered_today: 0,
            memberships: Vec::new(),
            handled: None,
        }
    }

    /// Logged in and not paused: counts as staff for wait estimates.
    pub fn is_staffed(&self) -> bool {
        !matches!(
            self.state,
            AgentState::LoggedOut | AgentState::Paused { .. }
        )
    }
}
