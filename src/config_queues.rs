//! The `[queues.NAME]` tables of the configuration file: every key optional, each overriding the
//! queue's built-in default (`acd::QueueConfig::new`). The three standard queues (137, 1888,
//! zoning) always exist; a table with another name adds a queue.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

use crate::acd::{QueueConfig, Strategy};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct QueueFile {
    strategy: Option<String>,
    ring_timeout_s: Option<u64>,
    wrap_up_s: Option<u64>,
    max_wait_s: Option<u64>,
    announce_first_s: Option<u64>,
    announce_every_s: Option<u64>,
    service_level_s: Option<u64>,
    abandon_grace_s: Option<u64>,
    max_missed_offers: Option<u32>,
    record: Option<bool>,
}

/// Applies the file's queue tables to `queues` (adding the queues it names that do not exist).
pub(super) fn apply_queue_files(
    queues: &mut Vec<QueueConfig>,
    files: BTreeMap<String, QueueFile>,
) -> Result<(), String> {
    for (name, file) in files {
        if name.trim().is_empty() || name.len() > 32 {
            return Err(format!("queue name {name:?} must be 1 to 32 characters"));
        }
        let index = match queues.iter().position(|q| q.name == name) {
            Some(index) => index,
            None => {
                queues.push(QueueConfig::new(name.clone()));
                queues.len() - 1
            }
        };
        apply(&mut queues[index], file).map_err(|e| format!("queue {name:?}: {e}"))?;
    }
    Ok(())
}

fn apply(queue: &mut QueueConfig, f: QueueFile) -> Result<(), String> {
    if let Some(text) = f.strategy {
        queue.strategy = Strategy::parse(&text).ok_or_else(|| {
            format!(
                "strategy {text:?} is not one of longest-idle, ring-all, round-robin, fewest-calls"
            )
        })?;
    }
    let secs = Duration::from_secs;
    if let Some(v) = f.ring_timeout_s {
        if v == 0 {
            return Err("ring_timeout_s must be at least 1".into());
        }
        queue.ring_timeout = secs(v);
    }
    if let Some(v) = f.max_wait_s {
        if v == 0 {
            return Err("max_wait_s must be at least 1: nobody waits forever".into());
        }
        queue.max_wait = secs(v);
    }
    queue.wrap_up = f.wrap_up_s.map_or(queue.wrap_up, secs);
    queue.announce_first = f.announce_first_s.map_or(queue.announce_first, secs);
    queue.announce_every = f.announce_every_s.map_or(queue.announce_every, secs);
    queue.service_level_threshold = f
        .service_level_s
        .map_or(queue.service_level_threshold, secs);
    queue.abandon_grace = f.abandon_grace_s.map_or(queue.abandon_grace, secs);
    queue.max_missed_offers = f.max_missed_offers.unwrap_or(queue.max_missed_offers);
    queue.record = f.record.unwrap_or(queue.record);
    Ok(())
}
