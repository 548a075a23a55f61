//! In-dialog requests (ACK, BYE, re-INVITE, INFO), CANCEL, and the one place a call ends.
//!
//! Every way a call can finish (caller BYE, CANCEL, no ACK, RTP timeout, the application hanging
//! up) goes through `end_call`, which frees the port, closes the media leg, forgets the dialog and
//! writes the final call record exactly once.

use crate::engine::StoreWrite;
use std::time::Duration;

use crate::engine::call::{CallKey, Disposition, HangupBy, Phase};
use crate::engine::signalling::invite::leg_setup;
use crate::engine::signalling::reply::SERVER;
use crate::engine::Engine;
use crate::media::api::LegId;
use crate::media::api::MediaCommand;
use crate::sip::msg::{response_to, Headers, Method, Request, Response};
use crate::sip::sdp;
use crate::sip::txn::TxnKey;

impl Engine {
    /// An agent leg's dialog: the agent's requests carry our From tag as their To tag.
    fn agent_dialog_of(&self, req: &Request) -> Option<LegId> {
        self.agent_legs.by_dialog(req.call_id()?, req.to_tag()?)
    }

    fn dialog_of(&self, req: &Request) -> Option<CallKey> {
        self.calls.by_dialog(req.call_id()?, req.to_tag()?)
    }

    /// The ACK of a 2xx: confirms the call (starting its application) or a re-INVITE.
    pub(crate) fn on_dialog_ack(&mut self, req: &Request, now: Duration) {
        let Some(call_key) = self.dialog_of(req) else {
            return; // a stray ACK: nothing to confirm, nothing to answer
        };
        let Some(call) = self.calls.get_mut(call_key) else {
            return;
        };
        if let Some(key) = call.reinvite_key.take() {
            self.txns.confirm_2xx(&key, now);
            return;
        }
        if call.phase != Phase::AwaitingAck {
            return;
        }
        call.phase = Phase::Confirmed;
        self.admission.confirmed(call.peer.addr.ip());
        let key = call.invite_key.clone();
        self.txns.confirm_2xx(&key, now);
        self.start_app(call_key, now);
    }

    pub(crate) fn on_bye(&mut self, req: &Request, key: &TxnKey, now: Duration) {
        if let Some(leg) = self.agent_dialog_of(req) {
            let resp = response_to(req, 200, None);
            self.send_response(key, &resp, now);
            return self.on_agent_bye(leg, now);
        }
        let Some(call_key) = self.dialog_of(req) else {
            return self.reply(req, key, 481, now);
        };
        let resp = response_to(req, 200, None);
        self.send_response(key, &resp, now);
        self.end_call(call_key, Disposition::Completed, HangupBy::Caller, now);
    }

    /// CANCEL (§9.2): 200 to the CANCEL itself; if the INVITE is still unanswered, 487 to it and the
    /// call ends as cancelled. A CANCEL that crosses our 200 changes nothing: the caller will BYE.
    pub(crate) fn on_cancel(&mut self, req: &Request, key: &TxnKey, now: Duration) {
        let invite_key = key.with_method(&Method::Invite);
        if !self.txns.exists(&invite_key) {
            return self.reply(req, key, 481, now);
        }
        let ok = response_to(req, 200, None);
        self.send_response(key, &ok, now);
        if !self.txns.awaiting_final(&invite_key) {
            return;
        }
        let Some(call_key) = self.calls.by_invite(&invite_key) else {
            return;
        };
        if let Some(call) = self.calls.get(call_key) {
            let terminated = response_to(&call.invite, 487, Some(&call.local_tag));
            self.send_response(&invite_key, &terminated, now);
        }
        self.end_call(call_key, Disposition::Cancelled, HangupBy::Caller, now);
    }

    /// A re-INVITE: hold (`sendonly`/`inactive`), unhold, or a new address. A bad offer gets 488
    /// and the call goes on as it was (RFC 3261 §14.2).
    pub(crate) fn on_reinvite(&mut self, req: Request, key: TxnKey, now: Duration) {
        let Some(call_key) = self.dialog_of(&req) else {
            return self.reply(&req, &key, 481, now);
        };
        let body = String::from_utf8_lossy(&req.body);
        let offer = sdp::parse(&body);
        let media_ip = self.config.media_ip;
        let contact = self.contact();
        let Some(call) = self.calls.get_mut(call_key) else {
            return;
        };
        let negotiated = match offer.and_then(|o| sdp::negotiate(&o, &[call.negotiated.codec])) {
            Ok(n) => n,
            Err(_) => return self.reply(&req, &key, 488, now),
        };
        call.negotiated = negotiated;
        call.sdp_version += 1;
        let answer = sdp::answer(
            media_ip,
            call.port,
            call.session_id,
            call.sdp_version,
            &call.negotiated,
        );
        let mut ok = response_to(&req, 200, None);
        ok.headers.push("Contact", contact);
        ok.headers.push("Content-Type", "application/sdp");
        ok.body = answer.into_bytes();
        call.reinvite_key = Some(key.clone());
        let setup = leg_setup(call);
        self.send_response(&key, &ok, now);
        self.media(MediaCommand::Update(setup));
    }

    /// INFO in a dialog is acknowledged (SIP INFO DTMF is not used: RFC 4733 is).
    pub(crate) fn on_info(&mut self, req: &Request, key: &TxnKey, now: Duration) {
        let status = if self.dialog_of(req).is_some() {
            200
        } else {
            481
        };
        let resp = response_to(req, status, None);
        self.send_response(key, &resp, now);
    }

    /// Timer H: our 2xx was never acknowledged. The dialog is ended with a BYE (§13.3.1.4).
    pub(crate) fn on_ack_timeout(&mut self, key: TxnKey, now: Duration) {
        let Some(call_key) = self.calls.by_invite(&key) else {
            return;
        };
        let unconfirmed = self
            .calls
            .get(call_key)
            .is_some_and(|c| c.phase == Phase::AwaitingAck);
        if unconfirmed {
            self.end_call(call_key, Disposition::NoAck, HangupBy::Engine, now);
        }
    }

    /// Responses to requests we sent: INVITEs to agents matter; BYE/CANCEL answers end there.
    pub(crate) fn on_client_response(&mut self, key: TxnKey, resp: Response, now: Duration) {
        if key.method != "INVITE" {
            if resp.status >= 200 {
                self.ping_answered(&key);
            }
            return;
        }
        if let Some(leg) = self.agent_legs.by_invite(&key) {
            // The transaction is over at a final failure, or once the leg is gone (its CANCEL
            // crossed by this answer); a provisional answer to a cancelled offer waits on.
            let over = resp.status >= 300 || !self.agent_legs.contains(leg);
            if over && !(resp.status < 200 && self.agent_legs.is_cancelled(leg)) {
                self.agent_legs.invite_done(&key);
            }
            if self.on_cancelled_offer_response(leg, &resp, now) {
                return;
            }
            self.on_agent_invite_response(leg, resp, now);
        }
    }

    /// Timer B: an agent's phone never answered the INVITE at all (unreachable).
    pub(crate) fn on_client_timeout(&mut self, key: TxnKey, now: Duration) {
        if self.ping_timed_out(&key, now) {
            return;
        }
        let Some(leg) = self.agent_legs.invite_done(&key) else {
            return;
        };
        self.forget_cancelled(leg);
        if let Some(agent_leg) = self.agent_legs.get(leg) {
            let (caller, agent) = (agent_leg.caller, agent_leg.agent.clone());
            self.drop_agent_leg(leg, false, now);
            self.acd_offer_refused(caller, &agent, 408, now);
        }
    }

    /// Ends a call: BYE if the engine hangs up a confirmed dialog, media closed, port freed, dialog
    /// forgotten, final record written. Calling it twice is harmless.
    pub(crate) fn end_call(
        &mut self,
        call_key: CallKey,
        disposition: Disposition,
        by: HangupBy,
        now: Duration,
    ) {
        let Some(mut call) = self.calls.remove(call_key) else {
            return;
        };
        let answered = matches!(call.phase, Phase::AwaitingAck | Phase::Confirmed);
        if by == HangupBy::Engine && answered {
            self.send_bye(&mut call, now);
        }
        self.timers.cancel_all(
            &crate::engine::TimerOwner::Call(call_key),
            &crate::engine::CallTimer::OF_A_CALL,
        );
        let direct = matches!(call.app, crate::engine::app::App::Direct(_));
        let side = std::mem::take(&mut call.agent_side);
        self.acd_caller_gone(call_key, side, direct, now);
        self.stop_app(call_key, &mut call, now);
        let tracking_code = call
            .tracking_code
            .take()
            .or_else(|| self.filings.tracking_code(call_key).map(str::to_string));
        self.filings.call_ended(call_key);
        if call.phase != Phase::Ringing {
            self.media(MediaCommand::Close { leg: call.leg });
        }
        self.ports.give_back(call.port);
        self.admission
            .ended(call.peer.addr.ip(), call.phase == Phase::Confirmed);
        call.record.ended_at = Some(self.wall_ms(now));
        call.record.disposition = disposition.as_str().to_string();
        call.record.hangup_by = by.as_str().to_string();
        self.counters.calls_ended += 1;
        log_call_ended(&call.record, tracking_code.as_deref());
        self.write(StoreWrite::Call(call.record));
    }

    fn send_bye(&mut self, call: &mut crate::engine::call::Call, now: Duration) {
        call.local_cseq += 1;
        let branch = self.new_branch();
        let invite = &call.invite;
        let mut headers = Headers::new();
        headers.push(
            "Via",
            format!(
                "SIP/2.0/{} {};branch={branch};rport",
                call.peer.via_token(),
                self.config.sip_addr
            ),
        );
        headers.push("Max-Forwards", "70");
        let to = invite.headers.get("To").unwrap_or_default();
        headers.push("From", format!("{to};tag={}", call.local_tag));
        headers.push("To", invite.headers.get("From").unwrap_or_default());
        headers.push("Call-ID", call.call_id.clone());
        headers.push("CSeq", format!("{} BYE", call.local_cseq));
        headers.push("User-Agent", SERVER);
        let target = invite
            .headers
            .get("Contact")
            .and_then(crate::sip::header::target_uri)
            .unwrap_or(&invite.uri)
            .to_string();
        let bye = Request {
            method: Method::Bye,
            uri: target,
            headers,
            body: Vec::new(),
        };
        self.txns.send_request(bye, call.peer, now);
    }
}

/// The call's closing line: what an operator needs to find a call and its message (the caller
/// masked as in the other log lines; the full number is behind a token in `/api/calls`).
fn log_call_ended(record: &crate::engine::CallRecord, tracking_code: Option<&str>) {
    let duration_ms = record
        .ended_at
        .unwrap_or(record.started_at)
        .saturating_sub(record.started_at);
    tracing::info!(
        call_ref = %record.call_ref,
        to = %record.to,
        from = %crate::engine::live::mask_number_for_log(&record.from),
        disposition = %record.disposition,
        hangup_by = %record.hangup_by,
        duration_s = %format_args!("{}.{}", duration_ms / 1000, (duration_ms % 1000) / 100),
        tracking_code = %tracking_code.unwrap_or("-"),
        "call ended"
    );
}
