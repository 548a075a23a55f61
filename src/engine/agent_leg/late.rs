//! A phone that answers after it was cancelled. When an agent has several phones, or ring-all
//! rings several agents, two may answer at nearly the same moment: the engine has already sent
//! CANCEL to the loser, but its 200 OK crosses the CANCEL. RFC 3261 §15 says such a dialog is
//! still established and must be ACKed and then ended with a BYE; ignoring the 200 would leave
//! that call-taker's phone in a silent "call" until its own timers give up, half a minute later.

use std::time::Duration;

use crate::engine::Engine;
use crate::media::api::LegId;
use crate::sip::header;
use crate::sip::msg::{Headers, Method, Request, Response};
use crate::sip::transport::Peer;

/// An offer cancelled while it rang: enough to end the dialog should the phone answer anyway.
#[derive(Debug, Clone)]
pub struct CancelledOffer {
    pub peer: Peer,
    pub invite: Request,
}

impl Engine {
    /// Remembers a ringing offer the engine cancelled, until its INVITE gets a final response.
    pub(crate) fn remember_cancelled(&mut self, leg: LegId, peer: Peer, invite: Request) {
        self.agent_legs
            .remember_cancelled(leg, CancelledOffer { peer, invite });
    }

    /// A final response to the INVITE of a cancelled offer: a 2xx is ACKed and hung up at once;
    /// anything else (normally 487) just closes the matter. True when `leg` was such an offer.
    pub(crate) fn on_cancelled_offer_response(
        &mut self,
        leg: LegId,
        resp: &Response,
        now: Duration,
    ) -> bool {
        if resp.status < 200 {
            return self.agent_legs.is_cancelled(leg);
        }
        let Some(offer) = self.agent_legs.take_cancelled(leg) else {
            return false;
        };
        if resp.status < 300 {
            tracing::info!(leg = %leg, "a cancelled phone answered: ACK and BYE");
            self.end_late_answer(&offer, resp, now);
        }
        true
    }

    /// The offer's INVITE never got a final response (Timer B): nothing left to end.
    pub(crate) fn forget_cancelled(&mut self, leg: LegId) {
        self.agent_legs.take_cancelled(leg);
    }

    fn end_late_answer(&mut self, offer: &CancelledOffer, resp: &Response, now: Duration) {
        let target = resp
            .headers
            .get("Contact")
            .and_then(header::target_uri)
            .map_or_else(|| offer.invite.uri.clone(), str::to_string);
        let to = resp.headers.get("To").unwrap_or_default().to_string();
        let in_dialog = |engine: &mut Engine, method: Method, cseq: u32| {
            let branch = engine.new_branch();
            let mut headers = Headers::new();
            headers.push(
                "Via",
                format!(
                    "SIP/2.0/UDP {};branch={branch};rport",
                    engine.config.sip_addr
                ),
            );
            headers.push("Max-Forwards", "70");
            for name in ["From", "Call-ID"] {
                if let Some(value) = offer.invite.headers.get(name) {
                    headers.push(name, value);
                }
            }
            headers.push("To", to.clone());
            headers.push("CSeq", format!("{cseq} {}", method.as_str()));
            Request {
                method,
                uri: target.clone(),
                headers,
                body: Vec::new(),
            }
        };
        // The ACK of a 2xx is its own transaction-less request (RFC 3261 §13.2.2.4).
        let ack = in_dialog(self, Method::Ack, 1);
        self.outputs.push_back(crate::engine::Output::Transmit {
            peer: offer.peer,
            bytes: ack.to_bytes(),
        });
        let bye = in_dialog(self, Method::Bye, 2);
        self.txns.send_request(bye, offer.peer, now);
    }
}
