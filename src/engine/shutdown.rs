//! Stopping without cutting anyone off: the operator's SIGTERM becomes `Input::Shutdown`.
//!
//! From then on new calls are refused with `503` (a Kamailio in front, or the caller's phone,
//! tries elsewhere or later), and calls in progress get the grace period to finish by
//! themselves. When it runs out, each remaining call hears a short prompt saying the service is
//! stopping and gets a BYE; its record is closed as `shutdown` and its message filed the way a
//! caller's hang-up files it (the IVR's draft, a take in progress saved first), so a message a
//! caller left is never lost to a restart. The driver keeps running the loop until
//! [`Engine::is_drained`], so the filings reach the store before the process exits.

use std::time::Duration;

use super::app::App;
use super::call::{AgentSide, CallKey, Disposition, HangupBy, Phase};
use super::{CallTimer, Engine};
use crate::media::api::MediaCommand;

/// The prompt a call still up at the end of the grace period hears before the BYE.
pub const SERVICE_STOPPING: &str = "service/stopping";

/// How long the closing prompt may play before the BYE goes anyway (it lasts about 6 s).
const CLOSING_PROMPT_LIMIT: Duration = Duration::from_secs(9);

impl Engine {
    /// Starts draining: refuse new calls, give the others `grace`, then close them.
    pub(super) fn begin_shutdown(&mut self, grace: Duration, now: Duration) {
        if self.draining {
            return;
        }
        self.draining = true;
        tracing::info!(
            active_calls = self.calls.len(),
            grace_s = grace.as_secs(),
            "shutting down: new calls get 503, calls in progress may finish"
        );
        self.timers.set(
            crate::engine::TimerOwner::Engine,
            CallTimer::ShutdownDeadline,
            now + grace,
        );
    }

    /// True once a shutdown was asked for.
    pub fn is_draining(&self) -> bool {
        self.draining
    }

    /// Nothing left that the store or a peer is still owed: no call, no agent leg, no message
    /// waiting for its recording to be saved.
    pub fn is_drained(&self) -> bool {
        self.calls.is_empty()
            && self.agent_legs.is_empty()
            && self.browser_phones.is_empty()
            && self.recordings.nothing_waiting()
            && self.filings.nothing_held()
    }

    /// The grace period is over: every call still up is closed.
    pub(super) fn close_remaining_calls(&mut self, now: Duration) {
        let keys = self.calls.keys();
        if !keys.is_empty() {
            tracing::warn!(
                calls = keys.len(),
                "grace period over: closing the calls still in progress"
            );
        }
        for key in keys {
            self.close_for_shutdown(key, now);
        }
    }

    fn close_for_shutdown(&mut self, key: CallKey, now: Duration) {
        let Some(phase) = self.calls.get(key).map(|c| c.phase) else {
            return;
        };
        let bridged = self
            .calls
            .get(key)
            .is_some_and(|c| matches!(c.agent_side, AgentSide::Bridged(_)));
        if phase != Phase::Confirmed || bridged {
            // Not answered yet: nothing to play, but the INVITE still gets its final answer, a
            // 503 with Retry-After (the phone, or a proxy in front, tries again elsewhere or
            // later); without it the phone would ring on until its own timers gave up. Bridged
            // to a call-taker: the two are talking, and the BYE to both is the clearest end.
            if matches!(phase, Phase::Ringing | Phase::Opening) {
                if let Some((invite, invite_key)) = self
                    .calls
                    .get(key)
                    .map(|c| (c.invite.clone(), c.invite_key.clone()))
                {
                    self.reject_busy(&invite, &invite_key, now);
                }
            }
            return self.end_call(key, Disposition::Shutdown, HangupBy::Engine, now);
        }
        self.close_with_prompt(key, SERVICE_STOPPING, Disposition::Shutdown, now);
    }

    /// Ends an answered call gently: its application stops as if the caller had hung up (the
    /// IVR files its message, saving a take in progress first; a queued caller leaves the
    /// queue; a call-taker's leg is ended), the caller hears `prompt`, and the BYE follows when
    /// it ends (or after `CLOSING_PROMPT_LIMIT`). The record is closed as `disposition`.
    pub(crate) fn close_with_prompt(
        &mut self,
        key: CallKey,
        prompt: &str,
        disposition: Disposition,
        now: Duration,
    ) {
        let Some(mut call) = self.calls.remove(key) else {
            return;
        };
        self.stop_app(key, &mut call, now);
        let direct = matches!(call.app, App::Direct(_));
        let side = std::mem::take(&mut call.agent_side);
        call.app = App::Closing(disposition);
        let leg = call.leg;
        self.calls.insert(key, call);
        self.acd_caller_gone(key, side, direct, now);
        self.timers
            .cancel(&crate::engine::TimerOwner::Call(key), CallTimer::Ivr);
        self.media(MediaCommand::StopPlayback { leg });
        self.media(MediaCommand::SetIdle {
            leg,
            idle: crate::media::api::Idle::Silence,
        });
        self.media(MediaCommand::Play {
            leg,
            prompts: vec![prompt.to_string()],
            barge_in: false,
        });
        self.timers.set(
            crate::engine::TimerOwner::Call(key),
            CallTimer::ShutdownBye,
            now + CLOSING_PROMPT_LIMIT,
        );
    }

    /// The closing prompt finished (or ran too long): the BYE.
    pub(super) fn closing_prompt_done(&mut self, key: CallKey, now: Duration) {
        let Some(disposition) = self.calls.get(key).and_then(|c| match c.app {
            App::Closing(disposition) => Some(disposition),
            _ => None,
        }) else {
            return;
        };
        self.timers.cancel(
            &crate::engine::TimerOwner::Call(key),
            CallTimer::ShutdownBye,
        );
        self.end_call(key, disposition, HangupBy::Engine, now);
    }
}
