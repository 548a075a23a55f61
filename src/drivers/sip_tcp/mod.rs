//! SIP over TCP: one task per connection, messages framed by Content-Length (RFC 3261 §18.3).
//! Each connection is known to the engine by a number; what the engine sends to it goes through
//! the connection's bounded output queue. A connection is closed when it is idle too long, when
//! a message does not arrive whole within a deadline of its first byte (a header dribbled in one
//! byte at a time), when its peer does not read its answers (the queue is full), or when the
//! stream is not SIP.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpLimits {
    /// Nothing received for this long closes the connection.
    pub idle: Duration,
    /// A message must arrive whole within this time of its first byte.
    pub message_deadline: Duration,
    /// Bytes the engine may have queued for a connection and not yet written.
    pub output_bytes: usize,
}

impl Default for TcpLimits {
    fn default() -> Self {
        TcpLimits {
            idle: Duration::from_secs(300),
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
    loop {
        let (stream, addr) = match listener.accept().await {
            Ok(pair) => pair,
            Err(error) => {
                tracing::warn!(%error, "TCP accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let id = ids.fetch_add(1, Ordering::Relaxed);
        let to_loop = to_loop.clone();
        let stats = stats.clone();
        stats.opened();
        tokio::spawn(async move {
            let reason = serve_connection(stream, addr, id, &to_loop, limits, &stats).await;
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
            }
            stats.closed(reason);
            let _ = to_loop.send(LoopMsg::TcpClosed(id));
        });
    }
}

/// Serves one connection until it must close; says why.
async fn serve_connection(
    stream: TcpStream,
    addr: SocketAddr,
    id: u64,
    to_loop: &mpsc::UnboundedSender<LoopMsg>,
    limits: TcpLimits,
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
    limits: TcpLimits,
    stats: &TcpStats,
) -> CloseReason {
    let mut framer = Framer::new();
    let mut chunk = [0u8; 8192];
    // When the message being received must be complete (None between messages).
    let mut message_due: Option<Instant> = None;
    loop {
        let idle_due = Instant::now() + limits.idle;
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
