//! Client transactions: INVITE (§17.1.1) and non-INVITE (§17.1.2).

use std::time::Duration;

use super::{State, TimerName, Txn, TxnEvent, TxnKey, TxnLayer};
use crate::sip::msg::{Headers, Method, Request, Response};
use crate::sip::transport::Peer;

impl TxnLayer {
    /// Sends a request in a new client transaction. The request must carry a unique top Via branch.
    pub fn send_request(&mut self, req: Request, peer: Peer, now: Duration) -> Option<TxnKey> {
        let key = TxnKey {
            branch: req.branch()?,
            method: req.method.as_str().to_string(),
        };
        let is_invite = req.method == Method::Invite;
        let bytes = req.to_bytes();
        let t1 = self.config.t1;
        if !peer.is_reliable() {
            let first_retransmit = if is_invite {
                TimerName::A
            } else {
                TimerName::E
            };
            self.timers.set(key.clone(), first_retransmit, now + t1);
        }
        let give_up = if is_invite {
            TimerName::B
        } else {
            TimerName::F
        };
        self.timers.set(key.clone(), give_up, now + 64 * t1);
        let txn = Txn {
            is_invite,
            is_server: false,
            state: if is_invite {
                State::Calling
            } else {
                State::Trying
            },
            peer,
            retransmit: bytes.clone(),
            interval: t1,
            request: is_invite.then_some(req),
        };
        self.txns.insert(key.clone(), txn);
        self.transmit(peer, bytes);
        Some(key)
    }

    /// Feeds a received response. Responses the TU must see come out as `TxnEvent::Response`.
    pub fn on_response(&mut self, resp: Response, now: Duration) {
        let Some(key) = TxnKey::for_response(&resp) else {
            return;
        };
        let Some(txn) = self.txns.get_mut(&key) else {
            // A retransmitted 2xx to INVITE after the transaction ended: the dialog re-ACKs it.
            if key.method == "INVITE" && (200..300).contains(&resp.status) {
                self.events.push_back(TxnEvent::Response {
                    key,
                    response: resp,
                });
            }
            return;
        };
        if txn.state == State::Completed {
            if txn.is_invite && resp.status >= 300 {
                if let Some(ack) = txn.request.as_ref().map(|r| ack_for(r, &resp)) {
                    let peer = txn.peer;
                    self.transmit(peer, ack.to_bytes());
                }
            }
            return; // a retransmitted final response
        }
        if resp.status < 200 {
            txn.state = State::Proceeding;
            if txn.is_invite {
                self.timers.cancel_all(&key, &[TimerName::A, TimerName::B]);
            }
        } else {
            self.client_final(&key, &resp, now);
        }
        self.events.push_back(TxnEvent::Response {
            key,
            response: resp,
        });
    }

    fn client_final(&mut self, key: &TxnKey, resp: &Response, now: Duration) {
        let Some(txn) = self.txns.get_mut(key) else {
            return;
        };
        let reliable = txn.peer.is_reliable();
        if txn.is_invite && resp.status < 300 {
            self.remove(key); // the 2xx's ACK belongs to the dialog (§13.2.2.4)
            return;
        }
        txn.state = State::Completed;
        if txn.is_invite {
            if let Some(ack) = txn.request.as_ref().map(|r| ack_for(r, resp)) {
                let peer = txn.peer;
                self.transmit(peer, ack.to_bytes());
            }
        }
        let names = [TimerName::A, TimerName::B, TimerName::E, TimerName::F];
        self.timers.cancel_all(key, &names);
        let (name, wait) = match (txn_is_invite(self, key), reliable) {
            (_, true) => (TimerName::K, Duration::ZERO),
            (true, false) => (TimerName::D, Duration::from_secs(32)),
            (false, false) => (TimerName::K, self.config.t4),
        };
        self.timers.set(key.clone(), name, now + wait);
    }

    pub(super) fn client_timer(&mut self, key: TxnKey, name: TimerName, now: Duration) {
        let t2 = self.config.t2;
        match name {
            TimerName::A | TimerName::E => {
                let Some(txn) = self.txns.get_mut(&key) else {
                    return;
                };
                if !matches!(
                    txn.state,
                    State::Calling | State::Trying | State::Proceeding
                ) {
                    return;
                }
                txn.interval = if name == TimerName::A {
                    txn.interval * 2
                } else if txn.state == State::Proceeding {
                    t2
                } else {
                    (txn.interval * 2).min(t2)
                };
                let (peer, bytes, next) = (txn.peer, txn.retransmit.clone(), now + txn.interval);
                self.timers.set(key, name, next);
                self.transmit(peer, bytes);
            }
            TimerName::B | TimerName::F => {
                self.remove(&key);
                self.events.push_back(TxnEvent::ClientTimeout { key });
            }
            _ => self.remove(&key),
        }
    }
}

fn txn_is_invite(layer: &TxnLayer, key: &TxnKey) -> bool {
    layer.txns.get(key).is_some_and(|t| t.is_invite)
}

/// The ACK of a non-2xx final response: same branch, the response's To (with its tag) (§17.1.1.3).
pub fn ack_for(invite: &Request, resp: &Response) -> Request {
    let mut headers = Headers::new();
    if let Some(via) = invite.headers.list("Via").into_iter().next() {
        headers.push("Via", via);
    }
    for name in ["Max-Forwards", "From"] {
        if let Some(v) = invite.headers.get(name) {
            headers.push(name, v);
        }
    }
    if let Some(to) = resp.headers.get("To") {
        headers.push("To", to);
    }
    if let Some(call_id) = invite.headers.get("Call-ID") {
        headers.push("Call-ID", call_id);
    }
    if let Some((number, _)) = invite.cseq() {
        headers.push("CSeq", format!("{number} ACK"));
    }
    for route in invite.headers.get_all("Route") {
        headers.push("Route", route);
    }
    Request {
        method: Method::Ack,
        uri: invite.uri.clone(),
        headers,
        body: Vec::new(),
    }
}
