//! The `[queues.NAME]` tables of the configuration file: every key optional, each overriding the
//! queue's built-in default (`acd::QueueConfig::new`). The three standard queues (137, 1888,
//! zoning) always exist; a table with another name adds a queue.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::{ConfigError, FileSource, Problem};
use crate::acd::{QueueConfig, Strategy};

/// One `[queues.NAME]` table; the keys checked beyond their type keep their place in the file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct QueueFile {
    strategy: Option<Spanned<String>>,
    ring_timeout_s: Option<Spanned<u64>>,
    wrap_up_s: Option<u64>,
    max_wait_s: Option<Spanned<u64>>,
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
    files: BTreeMap<Spanned<String>, QueueFile>,
    source: &FileSource,
) -> Result<(), ConfigError> {
    for (spanned_name, file) in files {
        let name = spanned_name.get_ref();
        if name.trim().is_empty() || name.len() > 32 {
            let problem = Problem::QueueName { name: name.clone() };
            return Err(source.invalid(&spanned_name, "queues", problem));
        }
        let index = match queues.iter().position(|q| &q.name == name) {
            Some(index) => index,
            None => {
                queues.push(QueueConfig::new(name.clone()));
                queues.len() - 1
            }
        };
        apply(&mut queues[index], file).map_err(|(span, key, problem)| ConfigError::Invalid {
            at: source.origin(span),
            queue: Some(name.clone()),
            key,
            problem,
        })?;
    }
    Ok(())
}

/// A refused value: where it is, its key, and why.
type Refused = (std::ops::Range<usize>, &'static str, Problem);

fn apply(queue: &mut QueueConfig, f: QueueFile) -> Result<(), Refused> {
    if let Some(text) = f.strategy {
        queue.strategy = Strategy::parse(text.get_ref()).ok_or_else(|| {
            let given = text.get_ref().clone();
            (text.span(), "strategy", Problem::UnknownStrategy { given })
        })?;
    }
    let secs = Duration::from_secs;
    if let Some(v) = f.ring_timeout_s {
        if *v.get_ref() == 0 {
            let problem = Problem::BelowOne { why: None };
            return Err((v.span(), "ring_timeout_s", problem));
        }
        queue.ring_timeout = secs(v.into_inner());
    }
    if let Some(v) = f.max_wait_s {
        if *v.get_ref() == 0 {
            let problem = Problem::BelowOne {
                why: Some("nobody waits forever"),
            };
            return Err((v.span(), "max_wait_s", problem));
        }
        queue.max_wait = secs(v.into_inner());
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
