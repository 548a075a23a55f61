//! What runs on an answered call: the IVR of a line, the echo test, and the media events that
//! drive them. The application starts at the ACK (the caller is then surely listening) and stops in
//! `end_call`.

pub(crate) mod follow_up;
pub(crate) mod ivr;
pub(crate) mod mailbox;
pub(crate) mod queue;

use std::time::Duration;

use crate::engine::app::ivr::call_info;
use crate::engine::call::{Call, CallKey, Disposition, HangupBy};
use crate::engine::live::AgentAction;
use crate::engine::prompt_names::{BEEP, ECHO_INTRO};
use crate::engine::Engine;
use crate::ivr::IvrInput;
use crate::ivr::IvrRun;
use crate::media::api::{Idle, LegId, MediaCommand, MediaEvent};

/// Where a dialled number leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// An IVR tree: "137", "1888", or a configured extra line such as "bench".
    Line(String),
    Echo,
    Mailbox,
    Agent(String),
    /// An agent's feature code (`*21` login, `*22` logout, `*23N` pause, `*24` unpause).
    Feature(AgentAction),
}

impl Destination {
    /// Reached without credentials (see `signalling/invite.rs` for why these): the IVR lines,
    /// the echo test and the managers' mailboxes (PIN-protected). An agent's number and the
    /// feature codes need an authenticated agent.
    pub(crate) fn is_public(&self) -> bool {
        match self {
            Destination::Line(_) | Destination::Echo | Destination::Mailbox => true,
            Destination::Agent(_) | Destination::Feature(_) => false,
        }
    }
}

#[derive(Debug)]
pub enum App {
    /// A line whose flow starts at the ACK (with no flow for it, the call stays up, silent,
    /// until a side hangs up).
    Line(String),
    Ivr(Box<IvrRun>),
    /// `*43`: a short prompt, then the caller's own audio played back.
    Echo,
    /// A feature code: applied at the ACK, confirmed by a prompt, then the engine hangs up.
    Feature(AgentAction),
    /// A call to an agent's number: the engine calls the agent's softphone and bridges on answer.
    Direct(String),
    /// The call hears a closing prompt (the engine is stopping, or its call-taker's browser
    /// went away); its end is the BYE, recorded with this disposition.
    Closing(crate::engine::call::Disposition),
}

impl Engine {
    pub(crate) fn app_for(&self, destination: Destination) -> Option<App> {
        match destination {
            Destination::Line(line) => Some(App::Line(line)),
            Destination::Echo => Some(App::Echo),
            Destination::Feature(action) => Some(App::Feature(action)),
            Destination::Agent(agent) if self.has_phone(&agent) => Some(App::Direct(agent)),
            // `*98` runs the managers' mailbox flow (`ivr-flows/mailbox.yaml`).
            Destination::Mailbox if self.has_flow(mailbox::MAILBOX_LINE) => {
                Some(App::Line(mailbox::MAILBOX_LINE.to_string()))
            }
            // Without the mailbox flow, or for an agent without a registered phone:
            // 480 Temporarily Unavailable.
            Destination::Mailbox | Destination::Agent(_) => None,
        }
    }

    pub(crate) fn start_app(&mut self, call_key: CallKey, now: Duration) {
        let Some(call) = self.calls.get(call_key) else {
            return;
        };
        let leg = call.leg;
        match &call.app {
            App::Line(line) => {
                let line = line.clone();
                if !self.start_ivr(call_key, &line, now) {
                    tracing::warn!(%line, "no flow for this line: the call stays silent");
                }
            }
            App::Echo => {
                self.media(MediaCommand::SetIdle {
                    leg,
                    idle: Idle::Echo,
                });
                self.media(MediaCommand::Play {
                    leg,
                    prompts: vec![ECHO_INTRO.into(), BEEP.into()],
                    barge_in: false,
                });
            }
            App::Feature(action) => {
                let (agent, action) = (call.record.from.clone(), action.clone());
                let taken = self.agent_request(&agent, action.clone(), now);
                let prompt = match taken {
                    crate::engine::agents::RequestOutcome::Taken => {
                        crate::engine::agents::feature_prompt(&action)
                    }
                    _ => crate::engine::prompt_names::AGENT_REFUSED,
                }
                .to_string();
                self.media(MediaCommand::Play {
                    leg,
                    prompts: vec![prompt],
                    barge_in: false,
                });
            }
            App::Direct(agent) => {
                let agent = agent.clone();
                self.media(MediaCommand::SetIdle {
                    leg,
                    idle: Idle::Music,
                });
                if !self.offer_to_agent(call_key, &agent, now) {
                    self.end_call(call_key, Disposition::Completed, HangupBy::Engine, now);
                }
            }
            App::Ivr(_) | App::Closing(_) => {}
        }
    }

    pub(crate) fn stop_app(&mut self, key: CallKey, call: &mut Call, now: Duration) {
        let info = call_info(key, call, self.filings.stage(key));
        if let App::Ivr(run) = &mut call.app {
            self.stop_ivr(&info, run, now);
        }
    }

    pub(crate) fn on_media(&mut self, event: MediaEvent, now: Duration) {
        if let MediaEvent::RecordingFinished {
            leg,
            name,
            duration_ms,
            end,
            saved,
        } = event
        {
            if self.conversation_recorded(leg, &name, saved) {
                return;
            }
            return self.on_take_finished(leg, name, duration_ms, end, saved, now);
        }
        if self.on_browser_media(&event, now) {
            return;
        }
        let leg = match &event {
            MediaEvent::Opened { leg }
            | MediaEvent::PortInUse { leg }
            | MediaEvent::OpenFailed { leg }
            | MediaEvent::Digit { leg, .. }
            | MediaEvent::PlaybackFinished { leg }
            | MediaEvent::RecordingFinished { leg, .. }
            | MediaEvent::Inactive { leg }
            | MediaEvent::BrowserAnswer { leg, .. }
            | MediaEvent::BrowserRefused { leg, .. }
            | MediaEvent::BrowserConnected { leg }
            | MediaEvent::BrowserFailed { leg, .. } => *leg,
        };
        if self.is_opening_agent_leg(leg) {
            return match event {
                MediaEvent::Opened { .. } => self.agent_leg_opened(leg, now),
                MediaEvent::PortInUse { .. } => self.agent_leg_port_in_use(leg, now),
                MediaEvent::OpenFailed { .. } => self.agent_offer_impossible(leg, now),
                _ => {}
            };
        }
        let Some(call_key) = self.calls.by_leg(leg) else {
            if let MediaEvent::Inactive { .. } = event {
                self.agent_leg_inactive(leg, now);
            }
            return; // otherwise a late event of a call that already ended
        };
        match event {
            MediaEvent::Opened { .. } => self.media_opened(call_key, now),
            MediaEvent::PortInUse { .. } => self.port_in_use(call_key, now),
            MediaEvent::OpenFailed { .. } => self.opening_failed(call_key, now),
            MediaEvent::Inactive { .. } => {
                self.end_call(call_key, Disposition::RtpTimeout, HangupBy::Engine, now)
            }
            MediaEvent::Digit { digit, .. } => {
                if let Some(call) = self.calls.get_mut(call_key) {
                    // A manager's PIN never reaches the stored call record.
                    let secret = matches!(&call.app, App::Ivr(run) if run.keys_are_secret());
                    if !secret {
                        call.record.dtmf.push(digit);
                    }
                }
                if self.digit_for_queue(call_key) {
                    self.queue_digit(call_key, digit, now);
                } else {
                    self.feed(call_key, IvrInput::Digit(digit));
                }
            }
            MediaEvent::PlaybackFinished { .. } => {
                if self
                    .calls
                    .get(call_key)
                    .is_some_and(|c| matches!(c.app, App::Closing(_)))
                {
                    return self.closing_prompt_done(call_key, now);
                }
                if self.in_queue(call_key) {
                    return; // an announcement ended; the wait goes on
                }
                let feature = matches!(
                    self.calls.get(call_key).map(|c| &c.app),
                    Some(App::Feature(_))
                );
                if feature {
                    self.end_call(call_key, Disposition::Completed, HangupBy::Engine, now);
                } else {
                    self.feed(call_key, IvrInput::PlaybackFinished)
                }
            }
            // Both handled before: a finished take first, browser events on their own.
            MediaEvent::RecordingFinished { .. }
            | MediaEvent::BrowserAnswer { .. }
            | MediaEvent::BrowserRefused { .. }
            | MediaEvent::BrowserConnected { .. }
            | MediaEvent::BrowserFailed { .. } => {}
        }
    }

    /// An agent's phone that stops sending RTP mid-conversation (network gone, softphone
    /// crashed without a BYE) ends the whole call, as the caller's silence does: nobody sits
    /// bridged to a dead line, and the agent goes to wrap-up rather than staying on-call.
    fn agent_leg_inactive(&mut self, leg: LegId, now: Duration) {
        if self.browser_phones.contains(leg) {
            return self.browser_leg_lost(leg, now);
        }
        let Some(caller) = self.agent_legs.get(leg).map(|a| a.caller) else {
            return;
        };
        tracing::info!(
            leg = %leg,
            "no RTP from the agent's phone: ending the bridged call"
        );
        self.end_call(caller, Disposition::RtpTimeout, HangupBy::Engine, now);
    }
}
