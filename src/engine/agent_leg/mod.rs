//! The engine as a caller: the INVITE that offers a queued call to an agent's softphone, and the
//! dialog that follows (ACK of the 2xx, CANCEL, BYE either way). The caller's leg and the agent's
//! leg are separate dialogs joined by a media bridge (a B2BUA), so the agent's phone sees the
//! citizen's number and the call's tracking code in the INVITE's headers.

pub(crate) mod late;
pub(crate) mod media;
pub(crate) mod ping;
mod table;

pub use table::AgentLegs;

use std::time::Duration;

use crate::engine::call::{AgentSide, CallKey};
use crate::engine::signalling::invite::negotiated_setup;
use crate::engine::signalling::reply::SERVER;
use crate::engine::{Engine, Output};
use crate::media::api::{LegId, MediaCommand};
use crate::sip::header;
use crate::sip::msg::{Headers, Method, Request, Response};
use crate::sip::sdp::{self, Codec, Negotiated};
use crate::sip::transport::Peer;
use crate::sip::txn::TxnKey;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgentLegState {
    /// The leg's port is being bound; the INVITE that names it goes out once it is `Opened`
    /// (a port another process holds is replaced first, see `agent_leg_media.rs`).
    Opening,
    Ringing,
    /// 2xx received and ACKed; media open.
    Answered,
}

#[derive(Debug)]
pub struct AgentLeg {
    pub caller: CallKey,
    pub agent: String,
    pub leg: LegId,
    pub port: u16,
    pub peer: Peer,
    pub invite: Request,
    pub invite_key: TxnKey,
    pub call_id: String,
    pub local_tag: String,
    pub remote_tag: Option<String>,
    pub remote_target: String,
    pub state: AgentLegState,
    pub cseq: u32,
    /// The ACK sent for the 2xx, re-sent if the 2xx is retransmitted.
    pub ack: Option<Vec<u8>>,
}

/// Where an agent's binding says to send requests: `udp:127.0.0.1:5062` → a peer.
pub(crate) fn peer_of(source: &str) -> Option<Peer> {
    let addr = source.strip_prefix("udp:")?.parse().ok()?;
    Some(Peer::udp(addr))
}

impl Engine {
    /// Offers caller `call` to `agent`: an INVITE to each of the agent's registered contacts
    /// (a desk phone and a softphone ring together; the first to answer takes the call and the
    /// others are cancelled). False if no INVITE could be sent (no contact, no free port): the
    /// ACD is then told the offer failed.
    pub(crate) fn offer_to_agent(&mut self, call: CallKey, agent: &str, now: Duration) -> bool {
        let bindings = self.registrar.bindings(agent, crate::engine::as_ms(now));
        let mut offered = false;
        for binding in bindings {
            offered |= self.offer_to_contact(call, agent, binding, now);
        }
        offered |= self.ring_browsers(call, agent);
        offered
    }

    fn offer_to_contact(
        &mut self,
        call: CallKey,
        agent: &str,
        binding: crate::sip::registrar::Binding,
        now: Duration,
    ) -> bool {
        let Some(peer) = peer_of(&binding.source) else {
            return false;
        };
        let Some(port) = self.ports.take(&mut self.rng, now) else {
            return false;
        };
        let tracking = self.filings.tracking_code(call).map(str::to_string);
        let (caller, tracking) = match self.calls.get(call) {
            Some(c) => (c.record.from.clone(), tracking),
            None => {
                self.ports.give_back(port);
                return false;
            }
        };
        let leg = LegId(self.new_id());
        let local_tag = self.new_tag();
        let call_id = format!("{:016x}@pasokh", rand::Rng::gen::<u64>(&mut self.rng));
        let branch = self.new_branch();
        let offer = sdp::offer(self.config.media_ip, port, leg.0, 1);
        let mut headers = Headers::new();
        headers.push(
            "Via",
            format!("SIP/2.0/UDP {};branch={branch};rport", self.config.sip_addr),
        );
        headers.push("Max-Forwards", "70");
        headers.push(
            "From",
            format!(
                "\"{caller}\" <sip:{caller}@{}>;tag={local_tag}",
                self.config.sip_addr
            ),
        );
        headers.push("To", format!("<sip:{agent}@{}>", self.config.sip_addr));
        headers.push("Call-ID", call_id.clone());
        headers.push("CSeq", "1 INVITE");
        headers.push("Contact", self.contact());
        headers.push("User-Agent", SERVER);
        headers.push("X-Pasokh-Caller", caller.clone());
        if let Some(code) = &tracking {
            headers.push("X-Pasokh-Tracking-Code", code.clone());
        }
        headers.push("Content-Type", "application/sdp");
        let invite = Request {
            method: Method::Invite,
            uri: binding.uri.clone(),
            headers,
            body: offer.into_bytes(),
        };
        // Keyed for now by the branch the INVITE will carry; the transaction layer's key replaces
        // it when the INVITE is sent (`agent_leg_opened`).
        let key = TxnKey {
            branch,
            method: "INVITE".into(),
        };
        self.media(MediaCommand::Open(
            crate::engine::agent_leg::media::offer_setup(leg, port),
        ));
        self.agent_legs.insert(AgentLeg {
            caller: call,
            agent: agent.to_string(),
            leg,
            port,
            peer,
            invite,
            invite_key: key,
            call_id: call_id.clone(),
            local_tag: local_tag.clone(),
            remote_tag: None,
            remote_target: binding.uri,
            state: AgentLegState::Opening,
            cseq: 1,
            ack: None,
        });
        true
    }

    /// Whether `caller` dialled an agent's number (no queue involved).
    pub(crate) fn is_direct(&self, caller: CallKey) -> bool {
        self.calls
            .get(caller)
            .is_some_and(|c| matches!(c.app, crate::engine::app::App::Direct(_)))
    }

    /// None of the agent's phones took the offer (`status`: their answer, or ours when none could
    /// be sent): a direct caller is told by a hang-up, a queued one goes to the ACD's next agent.
    pub(crate) fn offer_not_taken(
        &mut self,
        caller: CallKey,
        agent: &str,
        status: u16,
        now: Duration,
    ) {
        if self.is_direct(caller) {
            self.end_call(
                caller,
                crate::engine::Disposition::Completed,
                crate::engine::HangupBy::Engine,
                now,
            );
        } else {
            self.acd_offer_refused(caller, agent, status, now);
        }
    }

    /// A response to the agent leg's INVITE (or a retransmitted 2xx).
    pub(crate) fn on_agent_invite_response(&mut self, leg: LegId, resp: Response, now: Duration) {
        let Some(agent_leg) = self.agent_legs.get_mut(leg) else {
            return;
        };
        if resp.status < 200 {
            return;
        }
        if resp.status >= 300 {
            let (caller, agent) = (agent_leg.caller, agent_leg.agent.clone());
            self.drop_agent_leg(leg, false, now);
            let others = self.offer_legs(caller, &agent);
            if resp.status >= 600 {
                // Declined everywhere (RFC 3261 §21.6): stop the agent's other phones too.
                for other in others {
                    self.drop_agent_leg(other, true, now);
                }
            } else if !others.is_empty() {
                return; // another of the agent's phones still rings
            }
            return self.offer_not_taken(caller, &agent, resp.status, now);
        }
        if let Some(ack) = &agent_leg.ack {
            let (peer, bytes) = (agent_leg.peer, ack.clone());
            self.outputs.push_back(Output::Transmit { peer, bytes });
            return; // a retransmitted 2xx: ACK again
        }
        agent_leg.remote_tag = resp.to_tag().map(str::to_string);
        if let Some(target) = resp.headers.get("Contact").and_then(header::target_uri) {
            agent_leg.remote_target = target.to_string();
        }
        let answer = sdp::parse_answer(
            &String::from_utf8_lossy(&resp.body),
            &[Codec::Pcmu, Codec::Pcma],
        );
        self.ack_agent_2xx(leg, &resp);
        let (caller, agent) = match self.agent_legs.get(leg) {
            Some(l) => (l.caller, l.agent.clone()),
            None => return,
        };
        // This phone took the call: the agent's other phones stop ringing.
        for other in self.offer_legs(caller, &agent) {
            if other != leg {
                self.drop_agent_leg(other, true, now);
            }
        }
        match answer {
            Ok(negotiated) if self.is_direct(caller) => {
                self.open_agent_media(leg, &negotiated);
                self.bridge_direct(caller, leg);
            }
            Ok(negotiated) => {
                self.open_agent_media(leg, &negotiated);
                self.acd_offer_accepted(caller, &agent, now);
            }
            Err(_) => {
                self.drop_agent_leg(leg, true, now);
                self.acd_offer_refused(caller, &agent, 488, now);
            }
        }
    }

    fn ack_agent_2xx(&mut self, leg: LegId, resp: &Response) {
        let branch = self.new_branch();
        let sip_addr = self.config.sip_addr;
        let Some(agent_leg) = self.agent_legs.get_mut(leg) else {
            return;
        };
        let mut headers = Headers::new();
        headers.push(
            "Via",
            format!("SIP/2.0/UDP {sip_addr};branch={branch};rport"),
        );
        headers.push("Max-Forwards", "70");
        for name in ["From", "Call-ID"] {
            if let Some(v) = agent_leg.invite.headers.get(name) {
                headers.push(name, v);
            }
        }
        headers.push("To", resp.headers.get("To").unwrap_or_default());
        headers.push("CSeq", "1 ACK");
        let ack = Request {
            method: Method::Ack,
            uri: agent_leg.remote_target.clone(),
            headers,
            body: Vec::new(),
        };
        let bytes = ack.to_bytes();
        agent_leg.ack = Some(bytes.clone());
        agent_leg.state = AgentLegState::Answered;
        let peer = agent_leg.peer;
        self.outputs.push_back(Output::Transmit { peer, bytes });
    }

    /// The agent answered: the leg, open since the offer, now knows where to send and how.
    fn open_agent_media(&mut self, leg: LegId, negotiated: &Negotiated) {
        if let Some(agent_leg) = self.agent_legs.get(leg) {
            let setup = negotiated_setup(leg, agent_leg.port, negotiated);
            self.media(MediaCommand::Update(setup));
        }
    }

    /// Ends an agent leg: CANCEL while it rings, BYE once answered (when `hang_up`), and frees
    /// its port and media. Harmless for a leg already gone.
    pub(crate) fn drop_agent_leg(&mut self, leg: LegId, hang_up: bool, now: Duration) {
        if let Some((state, lost)) = self.browser_phones.get(leg).map(|l| (l.state, l.lost)) {
            use crate::engine::browser_phone::BrowserLegState;
            use crate::engine::EndReason;
            let reason = match state {
                _ if lost => EndReason::Failed,
                BrowserLegState::Talking => EndReason::HungUp,
                _ => EndReason::Cancelled,
            };
            self.drop_browser_leg(leg, Some(reason));
            return;
        }
        let Some(agent_leg) = self.agent_legs.remove(leg) else {
            return;
        };
        if let Some(call) = self.calls.get_mut(agent_leg.caller) {
            if call.agent_side == AgentSide::Bridged(leg) {
                call.agent_side = AgentSide::None;
            }
        }
        match agent_leg.state {
            AgentLegState::Opening => {}
            AgentLegState::Ringing if hang_up => {
                self.send_agent_request(&agent_leg, Method::Cancel, now);
                self.remember_cancelled(leg, agent_leg.peer, agent_leg.invite.clone());
            }
            AgentLegState::Ringing => {}
            AgentLegState::Answered => {
                if hang_up {
                    self.send_agent_request(&agent_leg, Method::Bye, now);
                }
            }
        }
        // The leg's media has been open since the offer, whatever state it reached.
        self.media(MediaCommand::Close { leg });
        self.ports.give_back(agent_leg.port);
    }

    /// CANCEL (same branch as the INVITE, §9.1) or an in-dialog BYE to the agent.
    fn send_agent_request(&mut self, agent_leg: &AgentLeg, method: Method, now: Duration) {
        let mut headers = Headers::new();
        let (uri, cseq) = if method == Method::Cancel {
            if let Some(via) = agent_leg.invite.top_via() {
                headers.push("Via", via);
            }
            (agent_leg.invite.uri.clone(), agent_leg.cseq)
        } else {
            let branch = self.new_branch();
            headers.push(
                "Via",
                format!("SIP/2.0/UDP {};branch={branch};rport", self.config.sip_addr),
            );
            (agent_leg.remote_target.clone(), agent_leg.cseq + 1)
        };
        headers.push("Max-Forwards", "70");
        if let Some(from) = agent_leg.invite.headers.get("From") {
            headers.push("From", from);
        }
        let to = agent_leg.invite.headers.get("To").unwrap_or_default();
        match (&agent_leg.remote_tag, method == Method::Bye) {
            (Some(tag), true) => headers.push("To", format!("{to};tag={tag}")),
            _ => headers.push("To", to),
        }
        headers.push("Call-ID", agent_leg.call_id.clone());
        headers.push("CSeq", format!("{cseq} {}", method.as_str()));
        let request = Request {
            method,
            uri,
            headers,
            body: Vec::new(),
        };
        self.txns.send_request(request, agent_leg.peer, now);
    }

    /// A direct call answered: caller and agent hear each other (no queue involved).
    pub(crate) fn bridge_direct(&mut self, caller: CallKey, agent_leg: LegId) {
        let Some(call) = self.calls.get_mut(caller) else {
            return;
        };
        let leg = call.leg;
        call.agent_side = AgentSide::Bridged(agent_leg);
        self.media(MediaCommand::SetIdle {
            leg,
            idle: crate::media::api::Idle::Silence,
        });
        self.media(MediaCommand::Bridge {
            a: leg,
            b: agent_leg,
        });
    }

    /// BYE from an agent's phone: the agent hung up the conversation.
    pub(crate) fn on_agent_bye(&mut self, leg: LegId, now: Duration) {
        let Some(agent_leg) = self.agent_legs.get(leg) else {
            return;
        };
        let caller = agent_leg.caller;
        self.drop_agent_leg(leg, false, now);
        if !self.is_direct(caller) {
            self.acd_call_ended(caller, now);
        }
        self.end_call(
            caller,
            crate::engine::Disposition::Completed,
            crate::engine::HangupBy::Engine,
            now,
        );
    }
}
