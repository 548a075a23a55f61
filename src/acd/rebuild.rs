//! Today's statistics rebuilt from the history after a restart.
//!
//! The counters live in memory, so without this an engine restarted in the afternoon would show a
//! day with no calls. Every figure the wallboard shows is derived from rows the machine itself
//! writes to the queue log (`emit::log`), so replaying the day's rows gives the same counters the
//! running machine had, judged by the queues' current settings (service-level threshold, abandon
//! grace). The driver picks the rows of the current Tehran day written before this start; this
//! module only counts.

use std::collections::HashMap;
use std::time::Duration;

use super::io::QueueEventKind;
use super::queue::QueueIdx;
use super::Acd;

/// One queue-log row as the store gives it back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoggedEvent<'a> {
    pub queue: Option<&'a str>,
    /// A call's identity across restarts (the engine's `call_ref`); the ACD's own call numbers
    /// start again at every start, so they cannot pair rows of an earlier run.
    pub call: Option<&'a str>,
    pub agent: Option<&'a str>,
    pub kind: &'a str,
    /// `key=value` pairs, as `QueueEvent::detail`.
    pub detail: &'a str,
}

/// The value of `key` in a detail string such as `wait_ms=12000 position=2`.
fn detail_ms(detail: &str, key: &str) -> Option<Duration> {
    detail
        .split_whitespace()
        .filter_map(|pair| pair.split_once('='))
        .find(|(name, _)| *name == key)
        .and_then(|(_, value)| value.parse::<u64>().ok())
        .map(Duration::from_millis)
}

impl Acd {
    /// Adds the figures of today's earlier rows (in the order they were written) to the
    /// counters. A call that entered and has no outcome was cut off by the restart while it
    /// waited: its caller was not served, so it counts as abandoned (after the grace). A call
    /// whose outcome is today but whose entry was yesterday was carried over by the daily reset,
    /// so it counts as offered today, as `reset_daily` does for a live engine.
    pub fn rebuild_today<'a>(&mut self, events: impl IntoIterator<Item = LoggedEvent<'a>>) {
        // Calls of each queue that entered and have no outcome yet.
        let mut open: HashMap<(QueueIdx, &'a str), u32> = HashMap::new();
        for event in events {
            let Some(kind) = QueueEventKind::parse(event.kind) else {
                continue;
            };
            let Some(q) = event
                .queue
                .and_then(|name| self.queue_names.get(name).copied())
            else {
                continue;
            };
            let wait = detail_ms(event.detail, "wait_ms").unwrap_or(Duration::ZERO);
            let outcome = matches!(
                kind,
                QueueEventKind::Answer
                    | QueueEventKind::Abandon
                    | QueueEventKind::Exit
                    | QueueEventKind::Overflow
            );
            let carried_over = outcome
                && match event.call {
                    Some(call) => match open.get_mut(&(q, call)) {
                        Some(count) if *count > 0 => {
                            *count -= 1;
                            false
                        }
                        _ => true,
                    },
                    // Without an identity the entry cannot be found; assume it was today.
                    None => false,
                };
            if kind == QueueEventKind::Answer {
                if let Some(agent) = event.agent.and_then(|id| self.agent_index(id)) {
                    if let Some(agent) = self.agent_mut(agent) {
                        agent.answered_today = agent.answered_today.saturating_add(1);
                    }
                }
            }
            let Some(queue) = self.queue_mut(q) else {
                continue;
            };
            let (threshold, grace) = (
                queue.config.service_level_threshold,
                queue.config.abandon_grace,
            );
            let c = &mut queue.counters;
            if carried_over {
                c.offered += 1;
            }
            match kind {
                QueueEventKind::Enter => {
                    c.offered += 1;
                    if let Some(call) = event.call {
                        *open.entry((q, call)).or_default() += 1;
                    }
                }
                QueueEventKind::Answer => {
                    c.answered += 1;
                    c.total_answer_wait = c.total_answer_wait.saturating_add(wait);
                    if wait <= threshold {
                        c.answered_in_threshold += 1;
                    }
                }
                QueueEventKind::Abandon => {
                    c.abandoned += 1;
                    if wait < grace {
                        c.abandoned_in_grace += 1;
                    }
                }
                QueueEventKind::Exit => c.exited += 1,
                QueueEventKind::Overflow => c.overflowed += 1,
                QueueEventKind::WrapUpEnd => {
                    let handle = detail_ms(event.detail, "handle_ms").unwrap_or(Duration::ZERO);
                    c.completed += 1;
                    c.total_handle = c.total_handle.saturating_add(handle);
                }
                _ => {}
            }
        }
        for ((q, _), count) in open {
            if let Some(queue) = self.queue_mut(q) {
                queue.counters.abandoned += u64::from(count);
            }
        }
    }
}
