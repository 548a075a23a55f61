//! Browser phones: a call-taker's agent page, signed in and holding its WebSocket open, is one
//! of the agent's contacts, like a registered softphone. An offer rings every contact; the first
//! to answer takes the call and the others stop ringing.
//!
//! The page and the engine speak in [`PhoneRequest`]s and [`PhoneEvent`]s (the WebSocket's JSON,
//! docs/browser-phone.md). Answering is the page's SDP offer: the engine opens a browser leg on
//! a media worker (`MediaCommand::OpenBrowser`, ICE-lite and DTLS-SRTP in `media::webrtc`),
//! returns the answer, and bridges the caller once ICE and DTLS complete. A leg's states:
//!
//! ```text
//! Ringing --answer(offer)--> Connecting --BrowserConnected--> Talking
//!    |                          |  BrowserRefused/Failed          |  hang-up, BrowserFailed,
//!    +-- cancelled, hung up ----+--> the offer failed: next agent  +--> page gone: caller hears a prompt
//! ```
//!
//! Why the page offers and only when the call-taker clicks: a leg (a port, a DTLS handshake)
//! exists only for a call someone takes, never for every ring of a ring-all; and the browser,
//! not the engine, knows its microphone and codecs.

mod table;

pub use table::BrowserPhones;

use std::time::Duration;

use serde::Serialize;

use crate::engine::call::{AgentSide, CallKey, Disposition, HangupBy};
use crate::engine::{Engine, Output};
use crate::media::api::{Idle, LegId, MediaCommand, MediaEvent};

/// The prompt a caller hears when the call-taker's page went away mid-call, before the BYE.
pub const AGENT_CONNECTION_LOST: &str = "agent/connection_lost";

/// A browser phone's number, given by the web layer when its WebSocket opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PhoneId(pub u64);

impl std::fmt::Display for PhoneId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// What the page asks of a call it was offered (`call` is the offer's number from `Ring`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhoneRequest {
    /// The call-taker clicked answer; `offer` is the browser's SDP offer.
    Answer {
        call: u64,
        offer: String,
    },
    /// Reject while ringing, hang up while connecting or talking.
    Hangup {
        call: u64,
    },
    Hold {
        call: u64,
        on: bool,
    },
    /// A key for the caller's side (sent as RFC 4733 or a tone, as the caller's leg does).
    Dtmf {
        call: u64,
        digit: char,
    },
}

/// What the engine tells a page.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum PhoneEvent {
    /// A call is offered: ring until `answer`, or until `ended`.
    Ring {
        call: u64,
        /// The caller's number, masked (`0912***4567`).
        caller: String,
        /// The number the citizen dialled (`137`, `1888`).
        line: String,
        queue: Option<String>,
        tracking_code: Option<String>,
    },
    /// The engine's SDP answer to the page's offer.
    Answer {
        call: u64,
        sdp: String,
    },
    /// ICE and DTLS are up: the call-taker and the caller hear each other.
    Connected {
        call: u64,
    },
    Held {
        call: u64,
        on: bool,
    },
    Ended {
        call: u64,
        reason: EndReason,
    },
    /// The agent's own state, on attaching and on every change.
    AgentState {
        state: String,
        reason: Option<String>,
        pending: Option<String>,
        /// Seconds of wrap-up left, while in wrap-up.
        wrap_up_s: Option<u64>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// It stopped ringing: another phone answered, the caller hung up, or nobody answered in time.
    Cancelled,
    /// The conversation ended (either side hung up).
    HungUp,
    /// The browser's audio could not be connected (no G.711 offered, ICE or DTLS failed).
    Failed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrowserLegState {
    Ringing,
    /// The page answered: the leg is open on `port`, ICE and DTLS under way.
    Connecting,
    Talking,
}

#[derive(Debug)]
pub struct BrowserLeg {
    pub caller: CallKey,
    pub agent: String,
    pub phone: PhoneId,
    pub leg: LegId,
    pub state: BrowserLegState,
    /// The media port, from the answer on.
    pub port: Option<u16>,
    /// Its audio or its page was lost mid-call (the page, if still there, hears `failed`).
    pub lost: bool,
}

impl Engine {
    /// Whether any phone of `agent` can be rung: a registered SIP contact or a browser page.
    pub(crate) fn has_phone(&self, agent: &str) -> bool {
        self.registrar.is_registered(agent) || self.browser_phones.has_phone(agent)
    }

    /// A page signed in as `agent` opened its phone: it rings from now on, and learns the
    /// agent's state at once.
    pub(crate) fn phone_attached(&mut self, phone: PhoneId, agent: String, now: Duration) {
        if !self.agents.contains_key(&agent) {
            tracing::warn!(%phone, %agent, "browser phone for an unknown agent: not attached");
            return;
        }
        tracing::info!(%phone, %agent, "browser phone attached");
        self.browser_phones.attach(phone, agent.clone());
        if let Some(event) = self.agent_state_event(&agent, now) {
            self.tell_phone(phone, event);
        }
    }

    /// The page closed (or its connection dropped). A ringing or connecting offer fails over to
    /// the agent's other phones or the next agent; a conversation ends with a prompt for the
    /// caller, never silence. An agent left with no phone at all is logged out.
    pub(crate) fn phone_detached(&mut self, phone: PhoneId, now: Duration) {
        let Some(agent) = self.browser_phones.detach(phone) else {
            return;
        };
        tracing::info!(%phone, %agent, "browser phone detached");
        for leg in self.browser_phones.legs_of_phone(phone) {
            self.browser_leg_lost(leg, now);
        }
        if !self.has_phone(&agent) {
            self.acd_input(crate::acd::AcdInput::AgentUnreachable(agent), now);
        }
    }

    pub(crate) fn phone_request(&mut self, phone: PhoneId, request: PhoneRequest, now: Duration) {
        let call = match &request {
            PhoneRequest::Answer { call, .. }
            | PhoneRequest::Hangup { call }
            | PhoneRequest::Hold { call, .. }
            | PhoneRequest::Dtmf { call, .. } => LegId(*call),
        };
        let Some(state) = self.browser_phones.of_phone(phone, call).map(|l| l.state) else {
            // A page acting on a call it no longer holds (it crossed an `ended`): tell it again.
            self.tell_phone(
                phone,
                PhoneEvent::Ended {
                    call: call.0,
                    reason: EndReason::Cancelled,
                },
            );
            return;
        };
        match (request, state) {
            (PhoneRequest::Answer { offer, .. }, BrowserLegState::Ringing) => {
                self.browser_answer(call, offer, now)
            }
            (PhoneRequest::Hangup { .. }, BrowserLegState::Ringing) => {
                self.browser_declined(call, now)
            }
            (PhoneRequest::Hangup { .. }, BrowserLegState::Connecting) => {
                self.browser_leg_lost(call, now)
            }
            (PhoneRequest::Hangup { .. }, BrowserLegState::Talking) => {
                self.browser_hung_up(call, now)
            }
            (PhoneRequest::Hold { on, .. }, BrowserLegState::Talking) => {
                self.browser_hold(call, on)
            }
            (PhoneRequest::Dtmf { digit, .. }, BrowserLegState::Talking) => {
                self.browser_dtmf(call, digit)
            }
            (request, state) => {
                tracing::info!(%phone, leg = %call, ?request, ?state, "browser request ignored in this state");
            }
        }
    }

    /// Rings `agent`'s browser phones for `call`; true when at least one rings.
    pub(crate) fn ring_browsers(&mut self, call: CallKey, agent: &str) -> bool {
        let phones = self.browser_phones.phones_of(agent);
        if phones.is_empty() {
            return false;
        }
        let Some(c) = self.calls.get(call) else {
            return false;
        };
        let caller = crate::engine::live::mask_number(&c.record.from);
        let line = c.record.to.clone();
        let queue = self
            .acd
            .queue_of_call(crate::acd::CallKey(call.0))
            .map(|q| q.name.clone());
        let tracking_code = self.filings.tracking_code(call).map(str::to_string);
        for phone in phones {
            let leg = LegId(self.new_id());
            self.browser_phones.insert(BrowserLeg {
                caller: call,
                agent: agent.to_string(),
                phone,
                leg,
                state: BrowserLegState::Ringing,
                port: None,
                lost: false,
            });
            self.tell_phone(
                phone,
                PhoneEvent::Ring {
                    call: leg.0,
                    caller: caller.clone(),
                    line: line.clone(),
                    queue: queue.clone(),
                    tracking_code: tracking_code.clone(),
                },
            );
        }
        true
    }

    /// The call-taker answered in the browser: this phone takes the offer (the agent's other
    /// phones stop ringing) and its leg opens with the page's SDP offer.
    fn browser_answer(&mut self, leg: LegId, offer: String, now: Duration) {
        let Some((caller, agent)) = self
            .browser_phones
            .get(leg)
            .map(|l| (l.caller, l.agent.clone()))
        else {
            return;
        };
        for other in self.offer_legs(caller, &agent) {
            if other != leg {
                self.drop_agent_leg(other, true, now);
            }
        }
        let Some(port) = self.ports.take(&mut self.rng, now) else {
            tracing::warn!(leg = %leg, %agent, "browser answer: no RTP port free");
            return self.browser_leg_lost(leg, now);
        };
        if let Some(browser_leg) = self.browser_phones.get_mut(leg) {
            browser_leg.state = BrowserLegState::Connecting;
            browser_leg.port = Some(port);
        }
        // A browser sends and receives from the start; where to is the transport's business.
        let setup = crate::media::api::LegSetup {
            sending: true,
            peer_sends: true,
            ..crate::engine::agent_leg::media::offer_setup(leg, port)
        };
        let advertised = self.config.media_ip;
        self.media(MediaCommand::OpenBrowser {
            setup,
            offer,
            advertised,
        });
    }

    /// The call-taker rejected the ringing call in the page: as a busy phone, the agent's other
    /// phones ring on; with none left the ACD offers the call to the next agent.
    fn browser_declined(&mut self, leg: LegId, now: Duration) {
        let Some((caller, agent)) = self.drop_browser_leg(leg, Some(EndReason::Cancelled)) else {
            return;
        };
        if self.offer_legs(caller, &agent).is_empty() {
            self.offer_not_taken(caller, &agent, 486, now);
        }
    }

    /// The leg will carry nothing: it rang on a page that went away, or its audio never
    /// connected, or it dropped mid-call. The offer fails over; a conversation ends with a
    /// prompt for the caller.
    pub(crate) fn browser_leg_lost(&mut self, leg: LegId, now: Duration) {
        let Some(state) = self.browser_phones.get(leg).map(|l| l.state) else {
            return;
        };
        if state == BrowserLegState::Talking {
            let Some(caller) = self.browser_phones.get_mut(leg).map(|l| {
                l.lost = true;
                l.caller
            }) else {
                return;
            };
            tracing::warn!(leg = %leg, "the call-taker's browser went away mid-call: the caller hears why");
            // Closing the call ends the bridge and the agent's conversation (`acd_caller_gone`).
            return self.close_with_prompt(
                caller,
                AGENT_CONNECTION_LOST,
                Disposition::MediaFailed,
                now,
            );
        }
        let Some((caller, agent)) = self.drop_browser_leg(leg, Some(EndReason::Failed)) else {
            return;
        };
        if self.offer_legs(caller, &agent).is_empty() {
            self.offer_not_taken(caller, &agent, 480, now);
        }
    }

    /// The call-taker hung up in the page: the whole call ends, as for a softphone's BYE.
    fn browser_hung_up(&mut self, leg: LegId, now: Duration) {
        let Some(caller) = self.browser_phones.get(leg).map(|l| l.caller) else {
            return;
        };
        self.drop_browser_leg(leg, Some(EndReason::HungUp));
        if !self.is_direct(caller) {
            self.acd_call_ended(caller, now);
        }
        self.end_call(caller, Disposition::Completed, HangupBy::Engine, now);
    }

    /// Hold: the caller hears music and the call-taker silence, the bridge stays; resume
    /// joins them again.
    fn browser_hold(&mut self, leg: LegId, on: bool) {
        let Some((caller, phone)) = self.browser_phones.get(leg).map(|l| (l.caller, l.phone))
        else {
            return;
        };
        let Some(caller_leg) = self.calls.get(caller).map(|c| c.leg) else {
            return;
        };
        let idle = if on { Idle::Music } else { Idle::Silence };
        self.media(MediaCommand::SetIdle {
            leg: caller_leg,
            idle,
        });
        for held in [caller_leg, leg] {
            self.media(MediaCommand::SetHeld {
                leg: held,
                held: on,
            });
        }
        self.tell_phone(phone, PhoneEvent::Held { call: leg.0, on });
    }

    fn browser_dtmf(&mut self, leg: LegId, digit: char) {
        if !matches!(digit, '0'..='9' | '*' | '#' | 'A'..='D') {
            return;
        }
        let Some(caller_leg) = self
            .browser_phones
            .get(leg)
            .and_then(|l| self.calls.get(l.caller))
            .map(|c| c.leg)
        else {
            return;
        };
        self.media(MediaCommand::SendDtmf {
            leg: caller_leg,
            digit,
        });
    }

    /// Takes a browser leg out: its media closed, its port back, its page told why (when
    /// `tell` and the page is still there). Returns the caller and agent it was offered for.
    pub(crate) fn drop_browser_leg(
        &mut self,
        leg: LegId,
        tell: Option<EndReason>,
    ) -> Option<(CallKey, String)> {
        let browser_leg = self.browser_phones.remove(leg)?;
        if let Some(call) = self.calls.get_mut(browser_leg.caller) {
            if call.agent_side == AgentSide::Bridged(leg) {
                call.agent_side = AgentSide::None;
            }
        }
        if let Some(port) = browser_leg.port {
            self.media(MediaCommand::Close { leg });
            self.ports.give_back(port);
        }
        if let (Some(reason), Some(_)) = (tell, self.browser_phones.agent_of(browser_leg.phone)) {
            self.tell_phone(
                browser_leg.phone,
                PhoneEvent::Ended {
                    call: leg.0,
                    reason,
                },
            );
        }
        Some((browser_leg.caller, browser_leg.agent))
    }

    /// A media event of a browser leg; false when `leg` is none of ours.
    pub(crate) fn on_browser_media(&mut self, event: &MediaEvent, now: Duration) -> bool {
        let leg = match event {
            MediaEvent::BrowserAnswer { leg, .. }
            | MediaEvent::BrowserRefused { leg, .. }
            | MediaEvent::BrowserConnected { leg }
            | MediaEvent::BrowserFailed { leg, .. } => *leg,
            _ => return false,
        };
        let Some((phone, caller, agent)) = self
            .browser_phones
            .get(leg)
            .map(|l| (l.phone, l.caller, l.agent.clone()))
        else {
            tracing::info!(leg = %leg, "event of a browser leg already ended: ignored");
            return true;
        };
        match event {
            MediaEvent::BrowserAnswer { answer, .. } => self.tell_phone(
                phone,
                PhoneEvent::Answer {
                    call: leg.0,
                    sdp: answer.clone(),
                },
            ),
            MediaEvent::BrowserRefused { reason, .. } => {
                tracing::warn!(leg = %leg, %agent, %reason, "browser offer refused");
                // Nothing was opened: the port goes back without a Close.
                if let Some(port) = self.browser_phones.get_mut(leg).and_then(|l| l.port.take()) {
                    self.ports.give_back(port);
                }
                self.browser_leg_lost(leg, now);
            }
            MediaEvent::BrowserFailed { reason, .. } => {
                tracing::warn!(leg = %leg, %agent, %reason, "browser leg failed");
                self.browser_leg_lost(leg, now);
            }
            MediaEvent::BrowserConnected { .. } => {
                if let Some(l) = self.browser_phones.get_mut(leg) {
                    l.state = BrowserLegState::Talking;
                }
                tracing::info!(leg = %leg, %agent, "browser phone connected");
                self.tell_phone(phone, PhoneEvent::Connected { call: leg.0 });
                if self.is_direct(caller) {
                    self.bridge_direct(caller, leg);
                } else {
                    self.acd_offer_accepted(caller, &agent, now);
                }
            }
            _ => {}
        }
        true
    }

    /// The agent's state as the page shows it.
    fn agent_state_event(&self, agent: &str, now: Duration) -> Option<PhoneEvent> {
        let view = self
            .acd
            .agent_states()
            .into_iter()
            .find(|a| a.id == agent)?;
        let reason = match &view.state {
            crate::acd::AgentState::Paused { reason } => Some(reason.label.clone()),
            _ => None,
        };
        let wrap_up_s = match &view.state {
            crate::acd::AgentState::WrapUp { until } => {
                Some(until.saturating_sub(now).as_secs_f64().ceil() as u64)
            }
            _ => None,
        };
        Some(PhoneEvent::AgentState {
            state: crate::engine::agents::wall_state(&view.state).to_string(),
            reason,
            pending: view
                .pending
                .as_ref()
                .map(crate::engine::agents::pending_name),
            wrap_up_s,
        })
    }

    /// Tells every page of `agent` its new state.
    pub(crate) fn tell_phones_agent_state(&mut self, agent: &str, now: Duration) {
        let phones = self.browser_phones.phones_of(agent);
        if phones.is_empty() {
            return;
        }
        if let Some(event) = self.agent_state_event(agent, now) {
            for phone in phones {
                self.tell_phone(phone, event.clone());
            }
        }
    }

    fn tell_phone(&mut self, phone: PhoneId, event: PhoneEvent) {
        self.outputs.push_back(Output::Phone { phone, event });
    }

    /// Every leg (SIP or browser) ringing or talking for `caller` at `agent`'s phones.
    pub(crate) fn offer_legs(&self, caller: CallKey, agent: &str) -> Vec<LegId> {
        let mut legs = self.agent_legs.of_offer(caller, agent);
        legs.extend(self.browser_phones.of_offer(caller, agent));
        legs.sort_unstable();
        legs
    }

    /// Every leg (SIP or browser) offered for `caller`, whichever agent.
    pub(crate) fn caller_legs(&self, caller: CallKey) -> Vec<LegId> {
        let mut legs = self.agent_legs.of_caller(caller);
        legs.extend(self.browser_phones.of_caller(caller));
        legs.sort_unstable();
        legs
    }
}

#[cfg(test)]
mod tests;
