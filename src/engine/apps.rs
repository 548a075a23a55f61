//! What runs on an answered call: the IVR of a line, the echo test, and the media events that
//! drive them. The application starts at the ACK (the caller is then surely listening) and stops in
//! `end_call`.

use std::time::Duration;

use super::call::{Call, CallKey, Disposition, HangupBy};
use super::Engine;
use crate::media::api::{Idle, MediaCommand, MediaEvent};

/// Where a dialled number leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// An IVR tree: "137", "1888", or a configured extra line such as "bench".
    Line(String),
    Echo,
    Mailbox,
    Agent(String),
}

#[derive(Debug)]
pub enum App {
    /// An IVR line whose flow is not loaded: the call stays up, silent, until a side hangs up.
    Silent,
    /// `*43`: a short prompt, then the caller's own audio played back.
    Echo,
}

impl Engine {
    pub(super) fn app_for(&self, destination: Destination) -> Option<App> {
        match destination {
            Destination::Line(_) => Some(App::Silent),
            Destination::Echo => Some(App::Echo),
            // The managers' mailbox and agent-to-agent calls are not served yet: 480.
            Destination::Mailbox | Destination::Agent(_) => None,
        }
    }

    pub(super) fn start_app(&mut self, call_key: CallKey, _now: Duration) {
        let Some(call) = self.calls.get(&call_key) else {
            return;
        };
        let leg = call.leg;
        match call.app {
            App::Silent => {}
            App::Echo => {
                self.media(MediaCommand::SetIdle {
                    leg,
                    idle: Idle::Echo,
                });
                self.media(MediaCommand::Play {
                    leg,
                    prompts: vec!["echo/intro".into(), "beep".into()],
                    barge_in: false,
                });
            }
        }
    }

    pub(super) fn stop_app(&mut self, _call: &mut Call, _now: Duration) {}

    pub(super) fn on_media(&mut self, event: MediaEvent, now: Duration) {
        let leg = match &event {
            MediaEvent::OpenFailed { leg }
            | MediaEvent::Digit { leg, .. }
            | MediaEvent::PlaybackFinished { leg }
            | MediaEvent::RecordingFinished { leg, .. }
            | MediaEvent::Inactive { leg } => *leg,
        };
        let Some(&call_key) = self.legs.get(&leg) else {
            return; // a late event of a call that already ended
        };
        match event {
            MediaEvent::OpenFailed { .. } => {
                self.end_call(call_key, Disposition::MediaFailed, HangupBy::Engine, now)
            }
            MediaEvent::Inactive { .. } => {
                self.end_call(call_key, Disposition::RtpTimeout, HangupBy::Engine, now)
            }
            MediaEvent::Digit { digit, .. } => {
                if let Some(call) = self.calls.get_mut(&call_key) {
                    call.record.dtmf.push(digit);
                }
            }
            MediaEvent::PlaybackFinished { .. } | MediaEvent::RecordingFinished { .. } => {}
        }
    }
}
