//! SIP transactions (RFC 3261 §17, with RFC 6026's Accepted state), sans-IO.
//!
//! The layer owns every live transaction in a map keyed by `TxnKey` and all their timers in one
//! `TimerTable`. It absorbs retransmissions (re-sending the last response), retransmits over UDP
//! (timers A, E, G), and reports what the transaction user must act on as `TxnEvent` values. It
//! never touches a socket or a clock: bytes to send come out of `poll_output`, time comes in.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use super::msg::{Method, Request, Response};
use super::transport::Peer;
use crate::timer::TimerTable;

/// RFC 3261 timer base values.
#[derive(Debug, Clone, Copy)]
pub struct TimerConfig {
    pub t1: Duration,
    pub t2: Duration,
    pub t4: Duration,
}

impl Default for TimerConfig {
    fn default() -> Self {
        TimerConfig {
            t1: Duration::from_millis(500),
            t2: Duration::from_secs(4),
            t4: Duration::from_secs(5),
        }
    }
}

/// Identifies a transaction: the top Via branch and the method (ACK folds into INVITE, §17.2.3).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TxnKey {
    pub branch: String,
    pub method: String,
}

impl TxnKey {
    /// The server-side key of a request; RFC 2543 peers without a magic-cookie branch are keyed by
    /// Call-ID, CSeq number and From tag instead, and so is a branch that is the cookie alone
    /// (RFC 4475 badbranch: it names no transaction, so it cannot tell two apart).
    pub fn for_request(req: &Request) -> Option<TxnKey> {
        let method = match req.method {
            Method::Ack => Method::Invite,
            ref m => m.clone(),
        };
        let branch = match req.branch() {
            // RFC 3261 §17.2.3: the branch and the top Via's sent-by together name a server
            // transaction; two peers may pick the same branch (RFC 4475's messages do).
            Some(b) if b.starts_with("z9hG4bK") && b.len() > "z9hG4bK".len() => {
                let via = req.top_via().unwrap_or_default();
                let sent_by = super::header::via_sent_by(&via).unwrap_or_default();
                format!("{b} {}", sent_by.to_ascii_lowercase())
            }
            _ => {
                let (cseq, _) = req.cseq()?;
                format!(
                    "2543:{}:{}:{}",
                    req.call_id()?,
                    cseq,
                    req.from_tag().unwrap_or("")
                )
            }
        };
        Some(TxnKey {
            branch,
            method: method.as_str().to_string(),
        })
    }

    /// The client-side key a response matches: its top Via branch and CSeq method.
    pub fn for_response(resp: &Response) -> Option<TxnKey> {
        let (_, method) = resp.cseq()?;
        Some(TxnKey {
            branch: resp.branch()?,
            method: method.as_str().to_string(),
        })
    }

    pub fn with_method(&self, method: &Method) -> TxnKey {
        TxnKey {
            branch: self.branch.clone(),
            method: method.as_str().to_string(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TimerName {
    A,
    B,
    D,
    E,
    F,
    K,
    G,
    H,
    I,
    J,
    L,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Trying,
    Calling,
    Proceeding,
    Completed,
    Confirmed,
    Accepted,
}

#[derive(Debug)]
struct Txn {
    is_invite: bool,
    is_server: bool,
    state: State,
    peer: Peer,
    /// The request (client) or last response (server) to retransmit, already printed.
    retransmit: Vec<u8>,
    interval: Duration,
    /// For a client INVITE: the request, to build the ACK of a non-2xx answer.
    request: Option<Request>,
}

/// What the transaction user must act on.
#[derive(Debug, Clone, PartialEq)]
pub enum TxnEvent {
    /// Bytes to send.
    Transmit { peer: Peer, bytes: Vec<u8> },
    /// A client transaction got a response the TU must see (not a retransmission).
    Response { key: TxnKey, response: Response },
    /// A client transaction timed out (Timer B or F): treat as a 408.
    ClientTimeout { key: TxnKey },
    /// A server INVITE transaction's 2xx was never acknowledged (Timer H in Accepted), or its final
    /// non-2xx was never acknowledged (Timer H in Completed).
    AckTimeout { key: TxnKey },
    /// A UDP transport error is not modelled; a TCP peer vanishing is reported by the driver.
    Terminated { key: TxnKey },
}

/// How a request the layer received must be handled by the TU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming {
    /// A new transaction: the TU must answer it with `respond`.
    New(TxnKey),
    /// A retransmission, handled here (the last response was sent again, or it was absorbed).
    Retransmission,
    /// An ACK that matched no INVITE transaction in Completed: the ACK of a 2xx, for the dialog.
    AckForDialog,
}

#[derive(Debug, Default)]
pub struct TxnLayer {
    config: TimerConfig,
    txns: HashMap<TxnKey, Txn>,
    timers: TimerTable<TxnKey, TimerName>,
    events: VecDeque<TxnEvent>,
}

impl TxnLayer {
    pub fn new(config: TimerConfig) -> Self {
        TxnLayer {
            config,
            txns: HashMap::new(),
            timers: TimerTable::new(),
            events: VecDeque::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.txns.len()
    }

    pub fn is_empty(&self) -> bool {
        self.txns.is_empty()
    }

    pub fn poll_output(&mut self) -> Option<TxnEvent> {
        self.events.pop_front()
    }

    pub fn poll_timeout(&mut self) -> Option<Duration> {
        self.timers.next_deadline()
    }

    pub fn exists(&self, key: &TxnKey) -> bool {
        self.txns.contains_key(key)
    }

    fn transmit(&mut self, peer: Peer, bytes: Vec<u8>) {
        self.events.push_back(TxnEvent::Transmit { peer, bytes });
    }
}

mod server;

mod client;

#[cfg(test)]
mod tests;
