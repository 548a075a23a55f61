//! Server transactions: INVITE (§17.2.1 + RFC 6026 Accepted) and non-INVITE (§17.2.2).

use std::time::Duration;

use super::{Incoming, State, TimerName, Txn, TxnEvent, TxnKey, TxnLayer};
use crate::sip::msg::{Method, Request, Response};
use crate::sip::transport::Peer;

impl TxnLayer {
    /// Feeds a received request. A new request opens a server transaction the TU must answer.
    pub fn on_request(&mut self, req: &Request, peer: Peer, now: Duration) -> Option<Incoming> {
        let key = TxnKey::for_request(req)?;
        let Some(txn) = self.txns.get_mut(&key) else {
            if req.method == Method::Ack {
                return Some(Incoming::AckForDialog);
            }
            self.open_server(key.clone(), req, peer);
            return Some(Incoming::New(key));
        };
        if req.method == Method::Ack {
            return Some(self.on_ack(&key, now));
        }
        // A retransmitted request: send the last response again, if there is one and it still helps.
        let resend = match txn.state {
            State::Proceeding | State::Completed => !txn.retransmit.is_empty(),
            _ => false,
        };
        if resend {
            let (peer, bytes) = (txn.peer, txn.retransmit.clone());
            self.transmit(peer, bytes);
        }
        Some(Incoming::Retransmission)
    }

    fn open_server(&mut self, key: TxnKey, req: &Request, peer: Peer) {
        let is_invite = req.method == Method::Invite;
        let txn = Txn {
            is_invite,
            is_server: true,
            state: if is_invite {
                State::Proceeding
            } else {
                State::Trying
            },
            peer,
            retransmit: Vec::new(),
            interval: self.config.t1,
            request: None,
        };
        self.txns.insert(key, txn);
    }

    fn on_ack(&mut self, key: &TxnKey, now: Duration) -> Incoming {
        let Some(txn) = self.txns.get_mut(key) else {
            return Incoming::AckForDialog;
        };
        match txn.state {
            State::Completed => {
                txn.state = State::Confirmed;
                let wait = if txn.peer.is_reliable() {
                    Duration::ZERO
                } else {
                    self.config.t4
                };
                self.timers.cancel_all(key, &[TimerName::G, TimerName::H]);
                self.timers.set(key.clone(), TimerName::I, now + wait);
                Incoming::Retransmission
            }
            State::Accepted => Incoming::AckForDialog,
            _ => Incoming::Retransmission,
        }
    }

    /// The TU saw the ACK of a 2xx (matched by dialog): stop retransmitting it. The transaction
    /// lingers (Timer L) without its bytes, only to absorb late INVITE retransmissions.
    pub fn confirm_2xx(&mut self, key: &TxnKey, now: Duration) {
        if let Some(txn) = self.txns.get_mut(key) {
            if txn.state == State::Accepted {
                txn.state = State::Confirmed;
                txn.retransmit = Vec::new();
                self.timers.cancel_all(key, &[TimerName::G, TimerName::H]);
                self.timers
                    .set(key.clone(), TimerName::L, now + 64 * self.config.t1);
            }
        }
    }

    /// Sends a response in a server transaction. Returns false if the transaction is gone or
    /// already finally answered (the response is then not sent).
    pub fn respond(&mut self, key: &TxnKey, resp: &Response, now: Duration) -> bool {
        let t1 = self.config.t1;
        let Some(txn) = self.txns.get_mut(key) else {
            return false;
        };
        if !matches!(
            txn.state,
            State::Trying | State::Proceeding | State::Calling
        ) {
            return false;
        }
        let bytes = resp.to_bytes();
        let peer = txn.peer;
        let reliable = peer.is_reliable();
        let provisional = resp.status < 200;
        txn.retransmit = bytes.clone();
        txn.interval = t1;
        if provisional {
            txn.state = State::Proceeding;
        } else if txn.is_invite {
            txn.state = if resp.status < 300 {
                State::Accepted
            } else {
                State::Completed
            };
            if !reliable {
                self.timers.set(key.clone(), TimerName::G, now + t1);
            }
            self.timers.set(key.clone(), TimerName::H, now + 64 * t1);
        } else {
            txn.state = State::Completed;
            let linger = if reliable { Duration::ZERO } else { 64 * t1 };
            self.timers.set(key.clone(), TimerName::J, now + linger);
        }
        self.transmit(peer, bytes);
        true
    }

    /// Whether a server INVITE transaction is still waiting for its final answer (so a CANCEL can
    /// still end it with 487).
    pub fn awaiting_final(&self, key: &TxnKey) -> bool {
        self.txns
            .get(key)
            .is_some_and(|t| t.is_server && matches!(t.state, State::Proceeding | State::Trying))
    }

    pub(super) fn server_timer(&mut self, key: TxnKey, name: TimerName, now: Duration) {
        let t2 = self.config.t2;
        match name {
            TimerName::G => {
                let Some(txn) = self.txns.get_mut(&key) else {
                    return;
                };
                if !matches!(txn.state, State::Completed | State::Accepted) {
                    return;
                }
                txn.interval = (txn.interval * 2).min(t2);
                let (peer, bytes, next) = (txn.peer, txn.retransmit.clone(), now + txn.interval);
                self.timers.set(key, TimerName::G, next);
                self.transmit(peer, bytes);
            }
            TimerName::H => {
                self.remove(&key);
                self.events.push_back(TxnEvent::AckTimeout { key });
            }
            _ => self.remove(&key),
        }
    }

    pub(super) fn remove(&mut self, key: &TxnKey) {
        self.txns.remove(key);
        self.timers.cancel_all(
            key,
            &[
                TimerName::A,
                TimerName::B,
                TimerName::D,
                TimerName::E,
                TimerName::F,
                TimerName::K,
                TimerName::G,
                TimerName::H,
                TimerName::I,
                TimerName::J,
                TimerName::L,
            ],
        );
    }

    /// Runs every timer due at `now`.
    pub fn handle_timeout(&mut self, now: Duration) {
        while let Some((key, name)) = self.timers.pop_due(now) {
            let is_server = self.txns.get(&key).map(|t| t.is_server);
            match is_server {
                Some(true) => self.server_timer(key, name, now),
                Some(false) => self.client_timer(key, name, now),
                None => {}
            }
        }
    }
}
