//! What the engine sends to one TCP connection waits here until the socket takes it. The queue is
//! bounded in bytes: a peer that sends requests but never reads the answers would otherwise make
//! the engine hold every answer it cannot deliver. Past the bound the connection is closed.
//!
//! The other direction is bounded too: the connection hands the engine at most `IN_FLIGHT`
//! messages it has not yet handled, then stops reading, so a peer that sends faster than the
//! engine answers is slowed by TCP flow control instead of filling the engine's inbox.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::sync::{mpsc, Notify, Semaphore};

/// Why a message was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The peer is not reading: its queue is full and the connection is being closed.
    Full,
    /// The connection has gone.
    Closed,
}

/// The engine's handle on one connection's output queue.
#[derive(Debug, Clone)]
pub struct TcpOutput {
    sender: mpsc::UnboundedSender<Vec<u8>>,
    shared: Arc<Shared>,
}

/// The connection task's end: takes queued messages off for writing.
#[derive(Debug)]
pub struct OutputQueue {
    receiver: mpsc::UnboundedReceiver<Vec<u8>>,
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    queued: AtomicUsize,
    limit: usize,
    overflowed: AtomicBool,
    overflow: Notify,
    /// Messages the engine may have received from this connection and not yet handled.
    in_flight: Semaphore,
}

/// Messages of one connection the engine may have waiting in its inbox.
pub const IN_FLIGHT: usize = 64;

/// A queue holding at most `limit` bytes not yet written to the socket.
pub fn output_queue(limit: usize) -> (TcpOutput, OutputQueue) {
    let (sender, receiver) = mpsc::unbounded_channel();
    let shared = Arc::new(Shared {
        queued: AtomicUsize::new(0),
        limit,
        overflowed: AtomicBool::new(false),
        overflow: Notify::new(),
        in_flight: Semaphore::new(IN_FLIGHT),
    });
    let output = TcpOutput {
        sender,
        shared: shared.clone(),
    };
    (output, OutputQueue { receiver, shared })
}

impl TcpOutput {
    /// Queues a message, or refuses it when it would take the queue past its limit; the first
    /// refusal tells the connection to close (a peer that does not read is not served).
    pub fn send(&self, bytes: Vec<u8>) -> Result<(), Refused> {
        let shared = &self.shared;
        if shared.overflowed.load(Ordering::Relaxed) {
            return Err(Refused::Full);
        }
        let len = bytes.len();
        let before = shared.queued.fetch_add(len, Ordering::AcqRel);
        if before + len > shared.limit {
            shared.queued.fetch_sub(len, Ordering::AcqRel);
            shared.overflowed.store(true, Ordering::Relaxed);
            shared.overflow.notify_one();
            return Err(Refused::Full);
        }
        self.sender.send(bytes).map_err(|_| {
            shared.queued.fetch_sub(len, Ordering::AcqRel);
            Refused::Closed
        })
    }

    /// The engine has handled one message read from this connection.
    pub fn handled(&self) {
        self.shared.in_flight.add_permits(1);
    }

    /// True once the connection's end of the queue is gone, with whatever it still held.
    pub fn is_closed(&self) -> bool {
        self.sender.is_closed()
    }

    /// Bytes queued and not yet written.
    pub fn queued_bytes(&self) -> usize {
        self.shared.queued.load(Ordering::Acquire)
    }
}

impl OutputQueue {
    /// The next message to write; None when the engine has dropped its handle.
    pub async fn next(&mut self) -> Option<Vec<u8>> {
        self.receiver.recv().await
    }

    /// Marks a message taken by `next` as written.
    pub fn written(&self, bytes: &[u8]) {
        self.shared.queued.fetch_sub(bytes.len(), Ordering::AcqRel);
    }

    /// The connection task's controls: overflow signal and intake limit.
    pub fn control(&self) -> QueueControl {
        QueueControl(self.shared.clone())
    }
}

/// What the connection's reader needs of the queue.
#[derive(Debug, Clone)]
pub struct QueueControl(Arc<Shared>);

impl QueueControl {
    /// Completes once the engine has found the queue full.
    pub async fn overflowed(&self) {
        // `notify_one` keeps a permit when nobody waits yet, so an overflow is never missed.
        self.0.overflow.notified().await;
    }

    /// Waits until the engine may take one more message from this connection.
    pub async fn may_hand_over(&self) {
        if let Ok(permit) = self.0.in_flight.acquire().await {
            // Given back by `TcpOutput::handled` once the engine has handled the message.
            permit.forget();
        }
    }
}
