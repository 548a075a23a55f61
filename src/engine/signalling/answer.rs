//! Answering a call: the media leg is opened first and the 200 OK sent only once it is
//! `Opened`, because the port goes into the SDP answer and must be bound before anyone is told
//! it. A port another process holds (`PortInUse`) is set aside and the leg opened on another
//! free port; the call fails (503 with Retry-After) only when the pool has none left.

use std::time::Duration;

use crate::engine::call::{CallKey, Disposition, HangupBy, Phase};
use crate::engine::signalling::invite::leg_setup;
use crate::engine::signalling::reply::{ALLOW, SERVER};
use crate::engine::Engine;
use crate::media::api::MediaCommand;
use crate::sip::msg::{response_to, Request};
use crate::sip::sdp;
use crate::sip::txn::TxnKey;

/// Seconds a caller refused for want of resources should wait before trying again.
const RETRY_AFTER_S: &str = "5";

impl Engine {
    /// Opens the call's media leg on its port; the 200 OK follows when it is `Opened`.
    pub(crate) fn answer_call(&mut self, call_key: CallKey, _now: Duration) {
        let Some(call) = self.calls.get_mut(call_key) else {
            return;
        };
        if call.phase != Phase::Ringing {
            return;
        }
        call.phase = Phase::Opening;
        let setup = leg_setup(call);
        self.media(MediaCommand::Open(setup));
    }

    /// The leg is open on the call's port: the 200 OK with our SDP answer.
    pub(crate) fn media_opened(&mut self, call_key: CallKey, now: Duration) {
        let wall = self.wall_ms(now);
        let contact = self.contact();
        let media_ip = self.config.media_ip;
        let Some(call) = self.calls.get_mut(call_key) else {
            return;
        };
        if call.phase != Phase::Opening {
            return;
        }
        let answer = sdp::answer(
            media_ip,
            call.port,
            call.session_id,
            call.sdp_version,
            &call.negotiated,
        );
        let mut ok = response_to(&call.invite, 200, Some(&call.local_tag));
        ok.headers.push("Contact", contact);
        ok.headers.push("Allow", ALLOW);
        ok.headers.push("Server", SERVER);
        ok.headers.push("Content-Type", "application/sdp");
        ok.body = answer.into_bytes();
        call.phase = Phase::AwaitingAck;
        call.record.answered_at = Some(wall);
        let key = call.invite_key.clone();
        self.counters.calls_answered += 1;
        self.send_response(&key, &ok, now);
    }

    /// Another process holds the call's port: set it aside and open the leg on another one.
    pub(crate) fn port_in_use(&mut self, call_key: CallKey, now: Duration) {
        let opening = self
            .calls
            .get(call_key)
            .filter(|c| c.phase == Phase::Opening)
            .map(|c| c.port);
        let Some(taken) = opening else {
            return;
        };
        self.ports.set_aside(taken, now);
        let Some(port) = self.ports.take(&mut self.rng, now) else {
            return self.opening_failed(call_key, now);
        };
        let Some(call) = self.calls.get_mut(call_key) else {
            return self.ports.give_back(port);
        };
        call.port = port;
        let setup = leg_setup(call);
        self.media(MediaCommand::Open(setup));
    }

    /// The leg could not be opened: before the 200 OK the caller is told 503; after it (a
    /// re-opened leg) the call ends.
    pub(crate) fn opening_failed(&mut self, call_key: CallKey, now: Duration) {
        let unanswered = self
            .calls
            .get(call_key)
            .filter(|c| c.phase == Phase::Opening)
            .map(|c| (c.invite.clone(), c.invite_key.clone()));
        if let Some((invite, key)) = unanswered {
            self.reject_busy(&invite, &key, now);
        }
        self.end_call(call_key, Disposition::MediaFailed, HangupBy::Engine, now);
    }

    /// 503 with Retry-After: the server (not the callee) cannot take the call now.
    pub(crate) fn reject_busy(&mut self, req: &Request, key: &TxnKey, now: Duration) {
        self.counters.calls_rejected += 1;
        let tag = self.new_tag();
        let mut resp = response_to(req, 503, Some(&tag));
        resp.headers.push("Retry-After", RETRY_AFTER_S);
        resp.headers.push("Server", SERVER);
        self.send_response(key, &resp, now);
    }
}
