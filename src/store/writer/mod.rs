//! The background call-record writer: the engine submits without waiting, one task commits.
//!
//! Why a task with a channel: the engine's event loop must never stall on an fsync. Each round
//! the task takes everything queued (up to a cap), keeps only the last version of each call,
//! and commits it in one transaction — group commit, so the cost is one fsync per round however
//! many calls changed. A failed round is retried briefly (the CLI may hold the file), then
//! logged and counted; the counters feed `/metrics`. `flush` is a marker sent down the same
//! channel, so it resolves only after everything submitted before it has been tried.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use super::Store;
use crate::engine::CallRecord;

/// Most commands taken per round (so most records per transaction): one round never holds
/// the write lock for long.
const MAX_BATCH: usize = 4096;

/// How long a round waits for more records before committing.
const GATHER: Duration = Duration::from_millis(50);

/// Pauses before retrying a failed round; after the last, the round is dropped and counted.
const RETRY_PAUSES: [Duration; 2] = [Duration::from_millis(100), Duration::from_millis(500)];

enum Command {
    Save(CallRecord),
    Flush(oneshot::Sender<()>),
}

#[derive(Default)]
struct Counters {
    batches: AtomicU64,
    written: AtomicU64,
    failed: AtomicU64,
}

/// A snapshot of the writer's counters since it started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WriterCounters {
    /// Transactions committed.
    pub batches: u64,
    /// Records committed (after coalescing several updates of one call into one).
    pub written: u64,
    /// Records dropped because their transaction kept failing.
    pub failed: u64,
}

/// Sending side of the writer; clone it freely. The task ends when every clone is dropped,
/// after writing what was queued.
#[derive(Clone)]
pub struct CallWriter {
    commands: mpsc::UnboundedSender<Command>,
    counters: Arc<Counters>,
}

impl CallWriter {
    /// Starts the writer task. Must be called inside a Tokio runtime (it uses `tokio::spawn`).
    pub fn spawn(store: Store) -> CallWriter {
        let (commands, queue) = mpsc::unbounded_channel();
        let counters = Arc::new(Counters::default());
        tokio::spawn(run(store, queue, Arc::clone(&counters)));
        CallWriter { commands, counters }
    }

    /// Queues a record; never blocks. A newer record for the same call replaces an older one.
    pub fn submit(&self, record: CallRecord) {
        if self.commands.send(Command::Save(record)).is_err() {
            // Only possible if the task is gone (runtime shutting down): count, do not panic.
            self.counters.failed.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Waits until every record submitted before this call has been committed or given up on.
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.commands.send(Command::Flush(done)).is_ok() {
            // An error means the task ended; nothing is left to wait for either way.
            let _ = wait.await;
        }
    }

    pub fn counters(&self) -> WriterCounters {
        WriterCounters {
            batches: self.counters.batches.load(Ordering::Relaxed),
            written: self.counters.written.load(Ordering::Relaxed),
            failed: self.counters.failed.load(Ordering::Relaxed),
        }
    }
}

async fn run(store: Store, mut queue: mpsc::UnboundedReceiver<Command>, counters: Arc<Counters>) {
    let mut batch = Batch::default();
    let mut flushes = Vec::new();
    while let Some(first) = queue.recv().await {
        // Let a round gather: at thousands of calls a second a commit per record would cost a
        // thread hand-off and an fsync each. No caller waits on a call record, so a short delay
        // is free; an explicit flush (shutdown, tests) does not wait.
        if !matches!(first, Command::Flush(_)) {
            tokio::time::sleep(GATHER).await;
        }
        batch.take(first, &mut flushes);
        // Counting commands, not distinct calls, bounds a round even when one call's updates
        // arrive as fast as they are read.
        for _ in 1..MAX_BATCH {
            let Ok(next) = queue.try_recv() else { break };
            batch.take(next, &mut flushes);
        }
        let records = batch.drain();
        write_with_retries(&store, &records, &counters).await;
        for done in flushes.drain(..) {
            let _ = done.send(());
        }
    }
}

async fn write_with_retries(store: &Store, records: &[CallRecord], counters: &Counters) {
    if records.is_empty() {
        return;
    }
    let count = u64::try_from(records.len()).unwrap_or(u64::MAX);
    let mut pauses = RETRY_PAUSES.iter();
    loop {
        match store.upsert_calls(records).await {
            Ok(()) => {
                counters.batches.fetch_add(1, Ordering::Relaxed);
                counters.written.fetch_add(count, Ordering::Relaxed);
                return;
            }
            Err(error) => match pauses.next() {
                Some(pause) => {
                    tracing::warn!(%error, records = count, "call records not saved; retrying");
                    tokio::time::sleep(*pause).await;
                }
                None => {
                    tracing::error!(%error, records = count, "call records lost");
                    counters.failed.fetch_add(count, Ordering::Relaxed);
                    return;
                }
            },
        }
    }
}

/// Records of one round, one slot per call, in order of each call's first appearance.
#[derive(Default)]
struct Batch {
    records: Vec<CallRecord>,
    slot_of: HashMap<String, usize>,
}

impl Batch {
    fn take(&mut self, command: Command, flushes: &mut Vec<oneshot::Sender<()>>) {
        match command {
            Command::Save(record) => self.add(record),
            Command::Flush(done) => flushes.push(done),
        }
    }

    fn add(&mut self, record: CallRecord) {
        match self.slot_of.get(&record.call_ref) {
            Some(&slot) => {
                if let Some(existing) = self.records.get_mut(slot) {
                    *existing = record;
                }
            }
            None => {
                self.slot_of
                    .insert(record.call_ref.clone(), self.records.len());
                self.records.push(record);
            }
        }
    }

    fn drain(&mut self) -> Vec<CallRecord> {
        self.slot_of.clear();
        std::mem::take(&mut self.records)
    }
}

#[cfg(test)]
mod tests;
