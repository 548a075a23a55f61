//! The engine's side of flood control (`engine::flood`): what happens to a message the guard
//! did not pass. A refused request is answered `503 Service Unavailable` with `Retry-After`,
//! statelessly (no transaction, call or registration is made for it, so a flood costs a parse
//! and a datagram, not memory); a refused response or ACK, and everything from an ignored
//! source, is dropped unread. Each is counted; a source's blocking is a security event.

use std::time::Duration;

use super::reply::SERVER;
use crate::engine::flood::Verdict;
use crate::engine::{Engine, Output};
use crate::sip::msg::{response_to, Message, Method};
use crate::sip::transport::Peer;

impl Engine {
    /// Whether `bytes` from `peer` may be handled; if not, refuses or drops it here.
    pub(crate) fn within_flood_limits(&mut self, bytes: &[u8], peer: Peer, now: Duration) -> bool {
        let source = peer.addr.ip();
        match self.flood.check(source, now) {
            Verdict::Pass => true,
            Verdict::Drop => {
                self.counters.flood_dropped += 1;
                false
            }
            Verdict::Block => {
                self.counters.flood_dropped += 1;
                self.counters.flood_blocked += 1;
                // A security event in the same shape as the failed authentications
                // (docs/security.md): the fixed message, then `ip=` for fail2ban.
                let ip = source;
                let transport = peer.via_token();
                let block_s = self.config.flood_limits.block.as_secs();
                let strikes = self.config.flood_limits.strikes;
                tracing::warn!(%ip, %transport, block_s, strikes, "SIP source flooding: ignored");
                false
            }
            Verdict::Refuse => {
                self.counters.flood_refused += 1;
                if let Ok(Message::Request(req)) = crate::sip::parse::parse(bytes) {
                    if req.method != Method::Ack {
                        let mut resp = response_to(&req, 503, None);
                        let wait = self.config.flood_limits.block.as_secs().max(1);
                        resp.headers.push("Retry-After", wait.to_string());
                        resp.headers.push("Server", SERVER);
                        self.outputs.push_back(Output::Transmit {
                            peer,
                            bytes: resp.to_bytes(),
                        });
                    }
                }
                false
            }
        }
    }
}
