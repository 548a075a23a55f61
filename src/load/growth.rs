//! What grows as the tables grow. A day replayed over and over (or ten days' calls in an hour)
//! must leave the engine's memory flat, each message costing the same bytes on disk, and reads
//! of the message table as quick at the end as at the start. The load measures all three:
//! the engine's resident memory every second, the database's size and message count before and
//! after, and every 10 s the time the API takes to read one message by its tracking code and
//! the newest page of messages. `--prefill N` files N earlier messages (spread over the ten
//! days before the run) before the engine starts, so a short run meets tables of many days.

use std::path::Path;
use std::time::Instant;

use serde_json::json;

use crate::engine::{FilingStage, NewMessage};
use crate::store::{Store, StoreError};

use super::engine::{http_request, Engine};

/// Messages filed per transaction when prefilling: big enough that 250,000 take seconds, not
/// one fsync each.
const PREFILL_BATCH: usize = 2_000;
const TEN_DAYS_MS: i64 = 10 * 24 * 3_600 * 1_000;

/// Call-IDs of prefilled messages start so: the reconciliation skips them like the seeds.
pub const PREFILL_CALL_ID: &str = "load-seed-prefill-";

/// The mix of an ordinary day's messages, one entry per tenth: (line, kind, category, case).
const PREFILL_MIX: [(&str, &str, Option<&str>, bool); 10] = [
    ("1888", "case_inquiry", None, true),
    ("1888", "case_inquiry", None, true),
    ("1888", "case_inquiry", None, true),
    ("1888", "complaint", None, false),
    ("1888", "guidance", None, false),
    ("1888", "appreciation", None, false),
    ("137", "urban_problem", Some("asphalt"), false),
    ("137", "urban_problem", Some("illegal_construction"), false),
    ("137", "case_inquiry", None, true),
    ("137", "guidance", None, false),
];

/// Files `count` messages as earlier days' calls would have: the day's mix of lines and kinds,
/// one caller each, spread evenly over the ten days before `now_ms`. They carry no recording
/// (250,000 WAV files would measure the disk, not the tables).
pub async fn prefill(store: &Store, count: u64, now_ms: i64) -> Result<(), StoreError> {
    let mut batch = Vec::with_capacity(PREFILL_BATCH);
    for n in 0..count {
        let (line, kind, category, case) = PREFILL_MIX[(n % 10) as usize];
        let at = now_ms - TEN_DAYS_MS + (n as i64 * TEN_DAYS_MS) / count.max(1) as i64;
        batch.push(NewMessage {
            call_ref: format!("{PREFILL_CALL_ID}{n}"),
            call_id: format!("{PREFILL_CALL_ID}{n}"),
            line: line.into(),
            kind: kind.into(),
            district: Some((n % 22 + 1) as u8),
            category: category.map(str::to_string),
            case_number: case.then(|| format!("{}", 1_400_000 + n % 50_000)),
            caller: format!("0912{:07}", n % 10_000_000),
            recording: None,
            created_at: at,
            stage: FilingStage::Whole,
        });
        if batch.len() == PREFILL_BATCH {
            store.file_messages(&batch).await?;
            batch.clear();
        }
    }
    if !batch.is_empty() {
        store.file_messages(&batch).await?;
    }
    Ok(())
}

/// The database's bytes on disk (the file and its write-ahead log).
pub fn database_bytes(data: &Path) -> u64 {
    ["pasokh.db", "pasokh.db-wal"]
        .iter()
        .filter_map(|name| std::fs::metadata(data.join(name)).ok())
        .map(|m| m.len())
        .sum()
}

/// The messages in the store at `data` (the engine must not be running).
pub fn count_messages(data: &Path) -> Option<u64> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .ok()?;
    runtime.block_on(async {
        let store = Store::open(data).await.ok()?;
        let count = store.count_messages().await.ok();
        store.close().await;
        count
    })
}

/// Resident memory now (kB) of process `pid`, from /proc (0 when it cannot be read).
pub fn resident_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// One probe of the API's reads: the time to read one message by its tracking code and the
/// newest page of 50 (ms; NaN when the read failed).
#[derive(Clone, Copy, Debug)]
pub struct Probe {
    pub t: f64,
    pub lookup_ms: f64,
    pub page_ms: f64,
}

pub fn probe(engine: &Engine, code: &str, t: f64) -> Probe {
    let timed = |path: &str| {
        let start = Instant::now();
        match http_request(engine.http, "GET", path, Some(&engine.admin_token), None) {
            Ok((200, _)) => start.elapsed().as_secs_f64() * 1000.0,
            _ => f64::NAN,
        }
    };
    Probe {
        t,
        lookup_ms: timed(&format!("/api/messages/{code}")),
        page_ms: timed("/api/messages?limit=50"),
    }
}

/// The store before and after the run, and the probes taken during it.
#[derive(Clone, Debug, Default)]
pub struct Growth {
    pub prefilled: u64,
    pub messages_before: u64,
    pub bytes_before: u64,
    pub messages_after: u64,
    pub bytes_after: u64,
    pub probes: Vec<Probe>,
    /// The engine's resident memory once the calls were over (kB).
    pub rss_after_kb: u64,
}

impl Growth {
    /// Bytes on disk per message before the run, and per message the run added.
    pub fn bytes_per_message(&self) -> (f64, f64) {
        let before = self.bytes_before as f64 / self.messages_before.max(1) as f64;
        let added = self.messages_after.saturating_sub(self.messages_before);
        let day = self.bytes_after.saturating_sub(self.bytes_before) as f64 / added.max(1) as f64;
        (before, day)
    }
}

/// One tenth of the run: its end (s), the engine's highest memory (kB), answer p99 (ms), and
/// the API's reads (median ms).
#[derive(Clone, Copy, Debug)]
pub struct Window {
    pub until: f64,
    pub rss_kb: u64,
    pub answer_p99_ms: f64,
    pub lookup_p50_ms: f64,
    pub page_p50_ms: f64,
}

impl Window {
    pub fn json(&self, number: impl Fn(f64) -> serde_json::Value) -> serde_json::Value {
        json!({
            "until_s": number(self.until),
            "engine_rss_kb": self.rss_kb,
            "answer_p99_ms": number(self.answer_p99_ms),
            "lookup_p50_ms": number(self.lookup_p50_ms),
            "page_p50_ms": number(self.page_p50_ms),
        })
    }
}

/// Splits the run into tenths. `rss`: (s, kB) samples; `answers`: (s, ms).
pub fn windows(
    seconds: f64,
    rss: &[(f64, u64)],
    answers: &[(f64, f64)],
    probes: &[Probe],
    percentile: impl Fn(&[f64], f64) -> f64,
) -> Vec<Window> {
    let width = (seconds / 10.0).max(1.0);
    (0..10)
        .map(|k| {
            let (from, until) = (k as f64 * width, (k + 1) as f64 * width);
            let inside = |t: f64| t >= from && (t < until || k == 9);
            let answer: Vec<f64> = answers
                .iter()
                .filter(|(t, _)| inside(*t))
                .map(|a| a.1)
                .collect();
            let reads = |pick: fn(&Probe) -> f64| -> Vec<f64> {
                probes
                    .iter()
                    .filter(|p| inside(p.t))
                    .map(pick)
                    .filter(|v| v.is_finite())
                    .collect()
            };
            Window {
                until,
                rss_kb: rss
                    .iter()
                    .filter(|(t, _)| inside(*t))
                    .map(|r| r.1)
                    .max()
                    .unwrap_or(0),
                answer_p99_ms: percentile(&answer, 0.99),
                lookup_p50_ms: percentile(&reads(|p| p.lookup_ms), 0.5),
                page_p50_ms: percentile(&reads(|p| p.page_ms), 0.5),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn median(v: &[f64], share: f64) -> f64 {
        if v.is_empty() {
            return f64::NAN;
        }
        let mut s = v.to_vec();
        s.sort_by(f64::total_cmp);
        s[((s.len() as f64 * share).ceil() as usize).clamp(1, s.len()) - 1]
    }

    #[test]
    fn tenths_take_their_own_samples() {
        let rss: Vec<(f64, u64)> = (0..100).map(|t| (t as f64, 1000 + t as u64)).collect();
        let answers = vec![(5.0, 3.0), (95.0, 40.0), (100.0, 7.0)];
        let probes = vec![
            Probe {
                t: 1.0,
                lookup_ms: 2.0,
                page_ms: f64::NAN,
            },
            Probe {
                t: 99.0,
                lookup_ms: 9.0,
                page_ms: 4.0,
            },
        ];
        let w = windows(100.0, &rss, &answers, &probes, median);
        assert_eq!(w.len(), 10);
        assert_eq!(w[0].rss_kb, 1009);
        assert_eq!(w[9].rss_kb, 1099);
        assert_eq!(w[0].answer_p99_ms, 3.0);
        // The last tenth keeps the sample at the run's very end.
        assert_eq!(w[9].answer_p99_ms, 40.0);
        assert_eq!(w[0].lookup_p50_ms, 2.0);
        assert!(w[0].page_p50_ms.is_nan(), "a failed read is not a time");
        assert_eq!(w[9].page_p50_ms, 4.0);
        assert!(w[5].answer_p99_ms.is_nan());
    }

    #[test]
    fn bytes_per_message_counts_only_what_the_run_added() {
        let g = Growth {
            messages_before: 1000,
            bytes_before: 400_000,
            messages_after: 1500,
            bytes_after: 600_000,
            ..Growth::default()
        };
        assert_eq!(g.bytes_per_message(), (400.0, 400.0));
    }

    #[tokio::test]
    async fn prefill_files_the_mix_over_ten_days() -> Result<(), crate::store::StoreError> {
        let dir = crate::store::test_support::TempDir::new("load-prefill");
        let store = Store::open(dir.path()).await?;
        let now = 1_800_000_000_000;
        prefill(&store, 4_005, now).await?;
        assert_eq!(store.count_messages().await?, 4_005);
        let page = store
            .list_messages(&crate::store::MessageFilter {
                limit: u32::MAX,
                ..Default::default()
            })
            .await?;
        assert!(page
            .iter()
            .all(|m| m.created_at >= now - TEN_DAYS_MS && m.created_at < now));
        assert_eq!(page.iter().filter(|m| m.line == "137").count(), 1_600);
        assert!(page.iter().all(|m| m.call_id.starts_with(PREFILL_CALL_ID)));
        store.close().await;
        Ok(())
    }
}
