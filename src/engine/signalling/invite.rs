//! A new INVITE: where the dialled number goes, the offer/answer, the port, and the answer.
//!
//! The order of checks decides the response code a peer sees: loop/hops first (482/483), then
//! authentication (401) for every number that is not public, then the number (404), then the
//! body (406/415/488), then resources (503: the source's limits, then the port pool).
//!
//! Why authentication comes before the number: a 404 for an unknown number beside a 401 or a
//! 480 for an agent's number told a scanner (sipvicious' `svwar`) which agents exist, and an
//! agent's number dialled without credentials was bridged to the agent's phone (toll fraud
//! through any trunk an agent's phone can reach). Now only the public numbers answer without
//! credentials: `137`, `1888`, the `--line` numbers, `*43` (the echo test: it reaches nothing
//! beyond the engine and is how a citizen's phone checks its audio) and `*98` (the managers'
//! mailboxes, behind their own PIN and its lockout, dialled from any phone). Anything else, an
//! agent's number, a feature code or a number that does not exist, gets the same 401 challenge
//! whoever the caller claims to be; only an authenticated agent learns that a number is 404.
//!
//! A call exists in the map only once every check passed, so a rejected INVITE never leaks a
//! port or a dialog.
//! The answer itself (opening the leg, then the 200 OK) is in `answer.rs`.

use crate::engine::StoreWrite;
use std::time::Duration;

use crate::engine::app::Destination;
use crate::engine::call::cdr::CallRecord;
use crate::engine::call::{Call, CallKey, Phase};
use crate::engine::live::mask_number_for_log;
use crate::engine::{CallTimer, Engine};
use crate::media::api::LegId;
use crate::media::api::LegSetup;
use crate::sip::header;
use crate::sip::msg::{response_to, Method, Request};
use crate::sip::sdp::{self, Codec};
use crate::sip::transport::Peer;
use crate::sip::txn::TxnKey;

impl Engine {
    /// A request that opened a new server transaction.
    pub(crate) fn route_request(&mut self, req: Request, key: TxnKey, peer: Peer, now: Duration) {
        if !matches!(req.method, Method::Ack | Method::Cancel) {
            // RFC 3261 §8.2.2.3: this engine supports no extension, so any Require is refused
            // with 420 naming what it asked for (RFC 4475 bext01). Proxy-Require is for proxies.
            let required = req.headers.list("Require");
            if !required.is_empty() {
                return self.reply_with(
                    &req,
                    &key,
                    420,
                    &[("Unsupported", required.join(", "))],
                    now,
                );
            }
        }
        match req.method {
            Method::Invite if req.to_tag().is_some() => self.on_reinvite(req, key, now),
            Method::Invite => self.on_invite(req, key, peer, now),
            Method::Bye => self.on_bye(&req, &key, now),
            Method::Cancel => self.on_cancel(&req, &key, now),
            Method::Options => self.on_options(&req, &key, now),
            Method::Register => self.on_register(&req, &key, peer, now),
            Method::Info if req.to_tag().is_some() => self.on_info(&req, &key, now),
            Method::Info => self.reply(&req, &key, 481, now), // INFO belongs to a dialog
            Method::Ack => {}
            // RFC 3261 §8.2.1: a method recognised but not supported is 405, one not recognised
            // 501; both carry Allow.
            Method::Other(_) => self.reply(&req, &key, 501, now),
            _ => self.reply(&req, &key, 405, now),
        }
    }

    fn reject(&mut self, req: &Request, key: &TxnKey, status: u16, now: Duration) {
        self.counters.calls_rejected += 1;
        self.reply(req, key, status, now);
    }

    fn on_invite(&mut self, req: Request, key: TxnKey, peer: Peer, now: Duration) {
        self.counters.calls_offered += 1;
        if self.draining {
            // Stopping: the caller's phone (or a proxy in front) tries again elsewhere or later.
            return self.reject(&req, &key, 503, now);
        }
        let call_id = req.call_id().unwrap_or_default().to_string();
        let from_tag = req.from_tag().unwrap_or_default().to_string();
        if self.calls.has_remote(&call_id, &from_tag) {
            return self.reject(&req, &key, 482, now); // same call, new branch: a merged request
        }
        if req.headers.get("Max-Forwards").map(str::trim) == Some("0") {
            return self.reject(&req, &key, 483, now);
        }
        let number = req.dialled_number().unwrap_or_default();
        let destination = self.destination(&number);
        if !destination.as_ref().is_some_and(Destination::is_public)
            && !self.authorize_invite(&req, &key, peer, now)
        {
            return;
        }
        let Some(destination) = destination else {
            return self.reject(&req, &key, 404, now);
        };
        if matches!(destination, Destination::Feature(_)) && !self.sent_by_agent(&req) {
            return self.reject(&req, &key, 403, now); // feature codes are for agents only
        }
        let Some(app) = self.app_for(destination) else {
            return self.reject(&req, &key, 480, now);
        };
        if !accepts_sdp(&req) {
            // The answer would carry SDP, which Accept excludes (RFC 3261 §21.4.7, RFC 4475 sdp01).
            return self.reject(&req, &key, 406, now);
        }
        let is_sdp = req
            .headers
            .get("Content-Type")
            .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/sdp"));
        if !is_sdp {
            return self.reject(&req, &key, if req.body.is_empty() { 488 } else { 415 }, now);
        }
        let body = String::from_utf8_lossy(&req.body);
        let negotiated =
            match sdp::parse(&body).and_then(|o| sdp::negotiate(&o, &[Codec::Pcmu, Codec::Pcma])) {
                Ok(n) => n,
                Err(_) => return self.reject(&req, &key, 488, now),
            };
        let source = peer.addr.ip();
        if let Err(refusal) = self.admission.check(source) {
            tracing::info!(%source, ?refusal, "INVITE refused: the source is over its limit");
            self.counters.calls_refused_source_limit += 1;
            return self.reject_busy(&req, &key, now);
        }
        let Some(port) = self.ports.take(&mut self.rng, now) else {
            return self.reject_busy(&req, &key, now);
        };
        // The caller's media leg shares the call's number (but not its type).
        let id = self.new_id();
        let call_key = CallKey(id);
        let local_tag = self.new_tag();
        let call_ref = self.new_call_ref();
        let record = CallRecord {
            call_ref,
            call_id: call_id.clone(),
            from: caller_of(&req),
            to: number,
            started_at: self.wall_ms(now),
            answered_at: None,
            ended_at: None,
            disposition: "in_progress".into(),
            hangup_by: String::new(),
            dtmf: String::new(),
        };
        self.write(StoreWrite::Call(record.clone()));
        tracing::info!(
            call_ref = %record.call_ref,
            to = %record.to,
            from = %mask_number_for_log(&record.from),
            %source,
            "call started"
        );
        let trying = response_to(&req, 100, None);
        self.send_response(&key, &trying, now);
        let session_id = self.rng_u64() >> 1;
        let call = Call {
            call_id: call_id.clone(),
            invite: req,
            invite_key: key.clone(),
            reinvite_key: None,
            peer,
            local_tag: local_tag.clone(),
            remote_tag: from_tag.clone(),
            local_cseq: 1,
            phase: Phase::Ringing,
            leg: LegId(id),
            port,
            negotiated,
            session_id,
            sdp_version: 1,
            app,
            agent_side: Default::default(),
            recorder: Default::default(),
            takes: 0,
            manager: None,
            tracking_code: None,
            record,
        };
        self.calls.insert(call_key, call);
        self.admission.started(source);
        if self.config.answer_delay.is_zero() {
            self.answer_call(call_key, now);
        } else {
            self.send_ringing(call_key, now);
            self.timers.set(
                crate::engine::TimerOwner::Call(call_key),
                CallTimer::Answer,
                now + self.config.answer_delay,
            );
        }
    }

    fn send_ringing(&mut self, call_key: CallKey, now: Duration) {
        let Some(call) = self.calls.get(call_key) else {
            return;
        };
        let mut ringing = response_to(&call.invite, 180, Some(&call.local_tag));
        ringing.headers.push("Contact", self.contact());
        let key = call.invite_key.clone();
        self.send_response(&key, &ringing, now);
    }

    fn rng_u64(&mut self) -> u64 {
        use rand::Rng;
        self.rng.gen()
    }

    /// Where a dialled number goes, if anywhere.
    fn destination(&self, number: &str) -> Option<Destination> {
        match number {
            "137" | "1888" => Some(Destination::Line(number.to_string())),
            "*43" => Some(Destination::Echo),
            "*98" => Some(Destination::Mailbox),
            n if crate::engine::agents::feature_action(n).is_some() => {
                crate::engine::agents::feature_action(n).map(Destination::Feature)
            }
            n if self.config.extra_lines.iter().any(|l| l == n) => {
                Some(Destination::Line(n.to_string()))
            }
            n if self.agents.contains_key(n) => Some(Destination::Agent(n.to_string())),
            _ => None,
        }
    }
}

/// The media parameters of a call as negotiated.
pub(crate) fn leg_setup(call: &Call) -> LegSetup {
    negotiated_setup(call.leg, call.port, &call.negotiated)
}

/// The media parameters of any leg from its offer/answer.
pub(crate) fn negotiated_setup(leg: LegId, port: u16, n: &crate::sip::sdp::Negotiated) -> LegSetup {
    LegSetup {
        leg,
        local_port: port,
        remote: n.remote_rtp,
        codec: match n.codec {
            Codec::Pcmu => crate::media::g711::G711::Pcmu,
            Codec::Pcma => crate::media::g711::G711::Pcma,
        },
        payload_type: n.payload_type,
        telephone_event_pt: n.telephone_event_pt,
        sending: n.answer_direction.sends(),
        peer_sends: n.direction.sends(),
    }
}

/// The caller's number: the From URI's user part (or the whole URI when it has none).
fn caller_of(req: &Request) -> String {
    let from = req.headers.get("From").unwrap_or_default();
    let uri = header::name_addr_uri(from).unwrap_or_default();
    header::uri_user(uri).unwrap_or(uri).to_string()
}

/// Whether a request's Accept (absent: SDP, RFC 3261 §20.1) admits an SDP answer.
fn accepts_sdp(req: &Request) -> bool {
    let mut ranges = req.headers.list("Accept").into_iter().peekable();
    if ranges.peek().is_none() {
        return true;
    }
    ranges.any(|range| {
        let media = range.split(';').next().unwrap_or_default().trim();
        ["application/sdp", "application/*", "*/*"]
            .iter()
            .any(|ok| media.eq_ignore_ascii_case(ok))
    })
}
