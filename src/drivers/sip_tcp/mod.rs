//! SIP over TCP: one task per connection, messages framed by Content-Length (RFC 3261 §18.3),
//! idle connections closed. Each connection is known to the engine by a number; what the engine
//! sends to it goes through the connection's writer channel.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

use super::sip_loop::LoopMsg;
use crate::engine::Input;
use crate::sip::transport::{Peer, Transport};

/// A single SIP message larger than this closes the connection (nothing legitimate is this big).
const MAX_MESSAGE: usize = 64 * 1024;

pub async fn accept_loop(
    listener: TcpListener,
    to_loop: mpsc::UnboundedSender<LoopMsg>,
    idle: Duration,
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
        tokio::spawn(async move { serve_connection(stream, addr, id, to_loop, idle).await });
    }
}

async fn serve_connection(
    stream: TcpStream,
    addr: SocketAddr,
    id: u64,
    to_loop: mpsc::UnboundedSender<LoopMsg>,
    idle: Duration,
) {
    let (mut reader, mut writer) = stream.into_split();
    let (tx, mut rx) = mpsc::unbounded_channel::<Vec<u8>>();
    if to_loop.send(LoopMsg::TcpOpened(id, tx)).is_err() {
        return;
    }
    let writing = tokio::spawn(async move {
        while let Some(bytes) = rx.recv().await {
            if writer.write_all(&bytes).await.is_err() {
                break;
            }
        }
    });
    let peer = Peer {
        transport: Transport::Tcp(id),
        addr,
    };
    let mut buffer: Vec<u8> = Vec::with_capacity(4096);
    let mut chunk = [0u8; 8192];
    loop {
        let read = tokio::time::timeout(idle, reader.read(&mut chunk)).await;
        let n = match read {
            Ok(Ok(n)) if n > 0 => n,
            _ => break, // closed, failed or idle too long
        };
        buffer.extend_from_slice(&chunk[..n]);
        let Ok(messages) = split_messages(&mut buffer) else {
            tracing::debug!(%addr, "TCP stream not SIP-framed; closing");
            break;
        };
        for bytes in messages {
            let input = Input::Sip { peer, bytes };
            if to_loop.send(LoopMsg::Engine(input)).is_err() {
                break;
            }
        }
    }
    writing.abort();
    let _ = to_loop.send(LoopMsg::TcpClosed(id));
}

/// The stream cannot be split into SIP messages (bad Content-Length, or a message too large).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unframeable;

/// Takes every complete message off the front of `buffer`. Err when the stream cannot be framed.
pub fn split_messages(buffer: &mut Vec<u8>) -> Result<Vec<Vec<u8>>, Unframeable> {
    let mut out = Vec::new();
    loop {
        // Keep-alive CRLFs between messages are skipped.
        let skip = buffer
            .iter()
            .take_while(|b| **b == b'\r' || **b == b'\n')
            .count();
        buffer.drain(..skip);
        let Some(head_end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") else {
            return if buffer.len() > MAX_MESSAGE {
                Err(Unframeable)
            } else {
                Ok(out)
            };
        };
        let body_len = content_length(&buffer[..head_end]).ok_or(Unframeable)?;
        let total = head_end + 4 + body_len;
        if total > MAX_MESSAGE {
            return Err(Unframeable);
        }
        if buffer.len() < total {
            return Ok(out);
        }
        out.push(buffer.drain(..total).collect());
    }
}

/// Content-Length (or its compact form `l`) of a head; absent means 0. A bad value is an error.
fn content_length(head: &[u8]) -> Option<usize> {
    let text = std::str::from_utf8(head).ok()?;
    for line in text.split("\r\n").skip(1) {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let name = name.trim();
        if name.eq_ignore_ascii_case("Content-Length") || name.eq_ignore_ascii_case("l") {
            return value.trim().parse().ok();
        }
    }
    Some(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_back_to_back_and_partial_messages() {
        let one = b"OPTIONS sip:a SIP/2.0\r\nContent-Length: 3\r\n\r\nabc".to_vec();
        let two = b"BYE sip:a SIP/2.0\r\nl: 0\r\n\r\n".to_vec();
        let mut buffer = [
            b"\r\n\r\n".to_vec(),
            one.clone(),
            two.clone(),
            b"INVITE sip:a SIP/2.0\r\nContent-Len".to_vec(),
        ]
        .concat();
        assert_eq!(split_messages(&mut buffer), Ok(vec![one, two]));
        assert!(buffer.starts_with(b"INVITE"));
    }

    #[test]
    fn refuses_unframeable_streams() {
        let mut bad = b"OPTIONS sip:a SIP/2.0\r\nContent-Length: x\r\n\r\n".to_vec();
        assert_eq!(split_messages(&mut bad), Err(Unframeable));
        let mut huge = vec![b'a'; MAX_MESSAGE + 1];
        assert_eq!(split_messages(&mut huge), Err(Unframeable));
    }
}
