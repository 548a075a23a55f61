//! After the engine has stopped: every message the day filed, held against the call that made
//! it. A path's answered calls must each have exactly one message, of the path's line, kind,
//! case number, district and subject, with a recording of the right length when the caller
//! left one; and no message may name a call that was not made.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use crate::drivers::media::recording_path;
use crate::store::{MessageFilter, MessageRow, Store};

use super::plan::{Expected, PathSpec};
use super::LoadError;

/// One path's reconciliation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PathCheck {
    pub messages_expected: u64,
    pub messages_filed: u64,
    pub recordings_expected: u64,
    pub recordings_saved: u64,
    /// Answered calls without a message.
    pub missing: u64,
    /// Messages that do not match their call (and why, for the first few).
    pub wrong: u64,
    pub examples: Vec<String>,
}

/// The whole day's reconciliation, path by path.
#[derive(Clone, Debug, Default)]
pub struct Reconciliation {
    pub paths: BTreeMap<String, PathCheck>,
    /// Messages whose call is not one the load made (or that was not answered).
    pub strays: u64,
    pub examples: Vec<String>,
}

impl Reconciliation {
    pub fn exact(&self) -> bool {
        self.strays == 0
            && self.paths.values().all(|p| {
                p.missing == 0
                    && p.wrong == 0
                    && p.messages_filed == p.messages_expected
                    && p.recordings_saved == p.recordings_expected
            })
    }
    pub fn totals(&self) -> (u64, u64, u64, u64) {
        self.paths.values().fold((0, 0, 0, 0), |t, p| {
            (
                t.0 + p.messages_filed,
                t.1 + p.messages_expected,
                t.2 + p.recordings_saved,
                t.3 + p.recordings_expected,
            )
        })
    }
}

/// The path of a load call from its Call-ID (`load-NAME-N-PID`).
pub fn path_of(call_id: &str) -> Option<&str> {
    let rest = call_id.strip_prefix("load-")?;
    let mut parts = rest.rsplitn(3, '-');
    let _pid = parts.next()?;
    let _n = parts.next()?;
    parts.next()
}

/// Why `m` is not what its path's call should have left (`None`: it is).
/// `recorded_ms`: the length of the message's recording on disk, if it has one there.
fn mismatch(m: &MessageRow, e: &Expected, recorded_ms: Option<u64>) -> Option<String> {
    let mut why = Vec::new();
    if m.line != e.line {
        why.push(format!("line {} (expected {})", m.line, e.line));
    }
    if m.kind != e.kind {
        why.push(format!("kind {} (expected {})", m.kind, e.kind));
    }
    if m.case_number.as_deref() != e.case_number {
        why.push(format!(
            "case {:?} (expected {:?})",
            m.case_number, e.case_number
        ));
    }
    if e.district.is_some() && m.district != e.district {
        why.push(format!(
            "district {:?} (expected {:?})",
            m.district, e.district
        ));
    }
    if e.category.is_some() && m.category.as_deref() != e.category {
        why.push(format!(
            "category {:?} (expected {:?})",
            m.category, e.category
        ));
    }
    match (e.recording_ms, &m.recording) {
        (None, Some(name)) => why.push(format!("a recording {name} where none was left")),
        (Some(_), None) => why.push("no recording".into()),
        (Some((lo, hi)), Some(name)) => match recorded_ms {
            Some(ms) if ms >= lo && ms <= hi => {}
            Some(ms) => why.push(format!("recording {name} is {ms} ms (expected {lo}-{hi})")),
            None => why.push(format!("recording {name} is not on disk")),
        },
        (None, None) => {}
    }
    (!why.is_empty()).then(|| {
        format!(
            "{} ({}): {}",
            m.call_id,
            m.tracking_code.as_deref().unwrap_or("-"),
            why.join(", ")
        )
    })
}

/// A recording's length from its size: 8 kHz 16-bit mono after the 44-byte header.
fn recording_length_ms(recordings: &Path, name: &str) -> Option<u64> {
    let path = recording_path(recordings, name)?;
    let bytes = std::fs::metadata(path).ok()?.len();
    Some(bytes.saturating_sub(44) / 16)
}

/// Reads the stopped engine's store and checks it against the answered calls of each path.
pub fn check(
    data: &Path,
    paths: &[PathSpec],
    answered: &HashMap<String, HashSet<String>>,
) -> Result<(Reconciliation, Vec<f64>), LoadError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| LoadError::Setup(e.to_string()))?;
    let messages = runtime.block_on(async {
        let store = Store::open(data)
            .await
            .map_err(|e| LoadError::Setup(format!("reading the store: {e}")))?;
        let filter = MessageFilter {
            limit: u32::MAX,
            ..MessageFilter::default()
        };
        let rows = store.list_messages(&filter).await;
        let log = store.queue_log(u32::MAX).await;
        store.close().await;
        let rows = rows.map_err(|e| LoadError::Setup(format!("reading the messages: {e}")))?;
        let log = log.map_err(|e| LoadError::Setup(format!("reading the queue log: {e}")))?;
        Ok::<_, LoadError>((rows, log))
    })?;
    let (messages, log) = messages;
    // Queue waits: from each call's `enter` to its `answer` (the call numbers of one run).
    let mut entered: HashMap<u64, i64> = HashMap::new();
    let mut waits = Vec::new();
    let mut log = log;
    log.sort_by_key(|r| r.at_ms);
    for row in &log {
        let Some(call) = row.call else { continue };
        match row.kind.as_str() {
            "enter" => {
                entered.insert(call, row.at_ms);
            }
            "answer" => {
                if let Some(at) = entered.remove(&call) {
                    waits.push((row.at_ms - at) as f64 / 1000.0);
                }
            }
            _ => {}
        }
    }
    let recordings = data.join("recordings");
    let mut out = Reconciliation::default();
    let by_name: HashMap<&str, &PathSpec> = paths.iter().map(|p| (p.name, p)).collect();
    let mut seen_calls: HashSet<&str> = HashSet::new();
    for path in paths {
        let calls = answered.get(path.name).map_or(0, |c| c.len() as u64);
        let check = out.paths.entry(path.name.to_string()).or_default();
        if let Some(e) = &path.expect {
            check.messages_expected = calls;
            if e.recording_ms.is_some() {
                check.recordings_expected = calls;
            }
        }
    }
    for m in &messages {
        if m.call_id.starts_with("load-seed-") {
            continue;
        }
        let name = path_of(&m.call_id);
        let spec = name.and_then(|n| by_name.get(n));
        let made = name.is_some_and(|n| {
            answered
                .get(n)
                .is_some_and(|calls| calls.contains(&m.call_id))
        });
        let (Some(spec), true) = (spec, made) else {
            out.strays += 1;
            if out.examples.len() < 5 {
                out.examples.push(format!(
                    "{} ({} {}): no such answered call",
                    m.call_id, m.line, m.kind
                ));
            }
            continue;
        };
        let check = out.paths.entry(spec.name.to_string()).or_default();
        let Some(expected) = &spec.expect else {
            check.wrong += 1;
            if check.examples.len() < 3 {
                check.examples.push(format!(
                    "{}: this path files nothing, but {} was filed",
                    m.call_id, m.kind
                ));
            }
            continue;
        };
        if !seen_calls.insert(m.call_id.as_str()) {
            check.wrong += 1;
            if check.examples.len() < 3 {
                check
                    .examples
                    .push(format!("{}: a second message for one call", m.call_id));
            }
            continue;
        }
        check.messages_filed += 1;
        let recorded_ms = m
            .recording
            .as_deref()
            .and_then(|n| recording_length_ms(&recordings, n));
        if expected.recording_ms.is_some() && recorded_ms.is_some() {
            check.recordings_saved += 1;
        }
        if let Some(why) = mismatch(m, expected, recorded_ms) {
            check.wrong += 1;
            if check.examples.len() < 3 {
                check.examples.push(why);
            }
        }
    }
    for path in paths {
        if path.expect.is_none() {
            continue;
        }
        let Some(calls) = answered.get(path.name) else {
            continue;
        };
        let missing: Vec<&String> = calls
            .iter()
            .filter(|c| !seen_calls.contains(c.as_str()))
            .collect();
        let check = out.paths.entry(path.name.to_string()).or_default();
        check.missing = missing.len() as u64;
        for call in missing
            .iter()
            .take(3usize.saturating_sub(check.examples.len()))
        {
            check
                .examples
                .push(format!("{call}: answered, but no message"));
        }
    }
    Ok((out, waits))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_id_names_its_path() {
        assert_eq!(path_of("load-1888-zoning-17-4242"), Some("1888-zoning"));
        assert_eq!(path_of("load-echo-1-9"), Some("echo"));
        assert_eq!(path_of("other-1-2"), None);
        assert_eq!(path_of("load-x"), None);
    }
}
