//! SIP over TCP: one task per connection, messages framed by Content-Length (RFC 3261 §18.3).
//! Each connection is known to the engine by a number; what the engine sends to it goes through
//! the connection's bounded output queue. A connection is closed when it is idle too long (and
//! sooner when it has sent nothing since it opened), when a message does not arrive whole within
//! a deadline of its first byte (a header dribbled in one byte at a time), when its peer does not
//! read its answers (the queue is full), or when the stream is not SIP. One source may hold only
//! so many connections at once (trusted sources, the operator's own proxy, excepted): 2,000 idle
//! connections from one address would otherwise each hold a task and buffers.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::sip_loop::LoopMsg;
use crate::engine::Input;
use crate::sip::framing::Framer;
use crate::sip::transport::{Peer, Transport};

mod output;
mod stats;

pub use output::{output_queue, OutputQueue, QueueControl, Refused, TcpOutput, IN_FLIGHT};
pub use stats::{CloseReason, TcpStats};

/// A read this small that leaves a message incomplete looks like a header dribbled in: before
/// reading again the connection waits `COALESCE`, so what follows arrives in one read. Each read
/// costs a system call and a wake-up whatever its size; a legitimate segment is far larger.
const SMALL_READ: usize = 64;
const COALESCE: Duration = Duration::from_millis(5);

/// Limits of every connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpLimits {
    /// Nothing received for this long closes the connection.
    pub idle: Duration,
    /// A connection that has sent no whole message this long after opening is closed.
    pub first_message: Duration,
    /// Connections one source may hold open at once.
    pub max_per_source: usize,
    /// Sources not held to `max_per_source`.
    pub trusted: Arc<[IpAddr]>,
    /// A message must arrive whole within this time of its first byte.
    pub message_deadline: Duration,
    /// Bytes the engine may have queued for a connection and not yet written.
    pub output_bytes: usize,
}

impl Default for TcpLimits {
    fn default() -> Self {
        TcpLimits {
            idle: Duration::from_secs(300),
            first_message: Duration::from_secs(10),
            max_per_source: 32,
            trusted: Arc::from(crate::engine::FloodLimits::default().trusted),
            message_deadline: Duration::from_secs(5),
            output_bytes: 1024 * 1024,
        }
    }
}

pub async fn accept_loop(
    listener: TcpListener,
    to_loop: mpsc::UnboundedSender<LoopMsg>,
    limits: TcpLimits,
    stats: Arc<TcpStats>,
) {
    let ids = Arc::new(AtomicU64::new(1));
    let open = Arc::new(OpenBySource::default());
    loop {
        let (stream, addr) = match listener.accept().await {
            Ok(pair) => pair,
            Err(error) => {
                tracing::warn!(%error, "TCP accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        stats.opened();
        let source = addr.ip();
        let capped = !limits.trusted.contains(&source);
        if capped && !open.take(source, limits.max_per_source) {
            // Dropping the stream closes it at once: nothing was read, nothing is kept.
            drop(stream);
            stats.closed(CloseReason::TooManyFromSource);
            tracing::debug!(%addr, limit = limits.max_per_source, "SIP TCP connection over the per-source limit; closed");
            continue;
        }
        let id = ids.fetch_add(1, Ordering::Relaxed);
        let to_loop = to_loop.clone();
        let stats = stats.clone();
        let limits = limits.clone();
        let open = open.clone();
        tokio::spawn(async move {
            let reason = serve_connection(stream, addr, id, &to_loop, &limits, &stats).await;
            if capped {
                open.give_back(source);
            }
            match reason {
                CloseReason::Peer | CloseReason::Idle => {}
                CloseReason::NotReading => tracing::warn!(
                    %addr,
                    limit = limits.output_bytes,
                    "SIP TCP peer does not read its answers; closing the connection"
                ),
                CloseReason::SlowMessage => tracing::warn!(
                    %addr,
                    deadline_ms = limits.message_deadline.as_millis() as u64,
                    "SIP TCP message not complete within its deadline; closing the connection"
                ),
                CloseReason::Unframeable => {
                    tracing::debug!(%addr, "TCP stream not SIP-framed; closing")
                }
                CloseReason::Silent => {
                    tracing::debug!(%addr, "SIP TCP connection sent no message in time; closing")
                }
                CloseReason::TooManyFromSource => {}
            }
            stats.closed(reason);
            let _ = to_loop.send(LoopMsg::TcpClosed(id));
        });
    }
}

/// Connections open per source (only the sources held to the limit).
#[derive(Default)]
struct OpenBySource(Mutex<HashMap<IpAddr, usize>>);

impl OpenBySource {
    /// Counts one more connection from `source` unless it already has `max`.
    fn take(&self, source: IpAddr, max: usize) -> bool {
        let Ok(mut open) = self.0.lock() else {
            return true; // a poisoned count must not refuse every caller
        };
        let count = open.entry(source).or_insert(0);
        if *count >= max {
            return false;
        }
        *count += 1;
        true
    }

    fn give_back(&self, source: IpAddr) {
        if let Ok(mut open) = self.0.lock() {
            if let Some(count) = open.get_mut(&source) {
                *count = count.saturating_sub(1);
                if *count == 0 {
                    open.remove(&source);
                }
            }
        }
    }
}

/// Serves one connection until it must close; says why.
async fn serve_connection(
    stream: TcpStream,
    addr: SocketAddr,
    id: u64,
    to_loop: &mpsc::UnboundedSender<LoopMsg>,
    limits: &TcpLimits,
    stats: &TcpStats,
) -> CloseReason {
    let (reader, writer) = stream.into_split();
    let (output, queue) = output_queue(limits.output_bytes);
    let control = queue.control();
    if to_loop.send(LoopMsg::TcpOpened(id, output)).is_err() {
        return CloseReason::Peer;
    }
    let writing = tokio::spawn(write_queued(queue, writer));
    let peer = Peer {
        transport: Transport::Tcp(id),
        addr,
    };
    let reason = tokio::select! {
        reason = read_messages(reader, peer, to_loop, &control, limits, stats) => reason,
        () = control.overflowed() => CloseReason::NotReading,
    };
    // Dropping the writer task drops its queue, and with it every answer not yet written; wait
    // for that so a closed connection holds no memory.
    writing.abort();
    let _ = writing.await;
    reason
}

/// Writes what the engine queued, in order, until the socket fails or the queue closes.
async fn write_queued(mut queue: OutputQueue, mut writer: OwnedWriteHalf) {
    while let Some(bytes) = queue.next().await {
        if writer.write_all(&bytes).await.is_err() {
            break;
        }
        queue.written(&bytes);
    }
}

/// Reads and frames messages and hands them to the engine, until the connection must close.
async fn read_messages(
    mut reader: OwnedReadHalf,
    peer: Peer,
    to_loop: &mpsc::UnboundedSender<LoopMsg>,
    control: &QueueControl,
    limits: &TcpLimits,
    stats: &TcpStats,
) -> CloseReason {
    let mut framer = Framer::new();
    // Until a whole message has come, the connection is held to the shorter first-message time.
    let mut silent_until = Some(Instant::now() + limits.first_message);
    let mut chunk = [0u8; 8192];
    // When the message being received must be complete (None between messages).
    let mut message_due: Option<Instant> = None;
    loop {
        let idle_due = silent_until.unwrap_or_else(|| Instant::now() + limits.idle);
        let due = message_due.map_or(idle_due, |at| at.min(idle_due));
        let n = match tokio::time::timeout_at(due, reader.read(&mut chunk)).await {
            Ok(Ok(n)) if n > 0 => {
                stats.read();
                n
            }
            Ok(_) => return CloseReason::Peer,
            Err(_) if message_due.is_some_and(|at| at <= Instant::now()) => {
                return CloseReason::SlowMessage
            }
            Err(_) if silent_until.is_some() => return CloseReason::Silent,
            Err(_) => return CloseReason::Idle,
        };
        let Ok(messages) = framer.push(&chunk[..n]) else {
            return CloseReason::Unframeable;
        };
        // A message completed here means whatever follows it started in this read.
        if !messages.is_empty() || message_due.is_none() {
            message_due = framer
                .is_mid_message()
                .then(|| Instant::now() + limits.message_deadline);
        }
        if !messages.is_empty() {
            silent_until = None;
        }
        for bytes in messages {
            // While the engine is behind with this peer's messages, nothing more is read.
            control.may_hand_over().await;
            let input = Input::Sip { peer, bytes };
            if to_loop.send(LoopMsg::Engine(input)).is_err() {
                return CloseReason::Peer;
            }
        }
        if let Some(due) = message_due {
            // Checked here too: a read that is always ready never lets the timeout fire.
            if Instant::now() >= due {
                return CloseReason::SlowMessage;
            }
            if n < SMALL_READ {
                tokio::time::sleep(COALESCE).await;
            }
        }
    }
}

#[cfg(test)]
mod tests;
