//! The engine's side of the ACD: a caller the IVR sends to a queue waits (music on hold, position
//! announcements), the ACD's offers become INVITEs to agents, its `Connected` a media bridge, its
//! overflow a voice message. The ACD itself stays a pure state machine (`crate::acd`).
//!
//! While a caller waits, their keys belong to the queue, not the IVR: `1` leaves the queue for a
//! voice message, even in the middle of an announcement (announcements are played with barge-in,
//! so the exit key is never blocked by a prompt).

use crate::engine::StoreWrite;
use std::time::Duration;

use crate::acd::{self, AcdInput, AcdOutput, ChangeReason, OverflowReason};
use crate::engine::call::{AgentSide, CallKey};
use crate::engine::Engine;
use crate::ivr::words::{duration_prompts, number_prompts};
use crate::ivr::{IvrInput, QueueOutcome};
use crate::media::api::LegId;
use crate::media::api::{Idle, MediaCommand, RecordSpec};

use crate::engine::prompt_names::{
    QUEUE_ALL_BUSY, QUEUE_ESTIMATED_WAIT, QUEUE_IN_LINE, QUEUE_PRESS1_VOICEMAIL,
    QUEUE_YOUR_POSITION,
};
use crate::engine::{FilingStage, NewMessage};

/// The longest conversation recorded (a forgotten call must not fill the disk).
pub const MAX_CONVERSATION: Duration = Duration::from_secs(4 * 3600);

/// The key that takes a waiting caller out of the queue to leave a voice message.
pub const EXIT_KEY: char = '1';

/// The queue a call waits in and its priority (from the flow's `queue` node).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Waiting {
    pub queue: String,
    pub priority: u8,
}

impl Engine {
    /// The caller starts waiting. A call entering its first queue has its message opened first
    /// (`opening`), and is offered to agents once the store has given it a tracking code, so
    /// the code rings on the agent's phone with the caller's number.
    pub(crate) fn enqueue_call(
        &mut self,
        call: CallKey,
        waiting: Waiting,
        opening: Option<NewMessage>,
        now: Duration,
    ) {
        let Some(c) = self.calls.get_mut(call) else {
            return;
        };
        let leg = c.leg;
        let opening = opening.map(|mut message| {
            message.stage = FilingStage::Open;
            message
        });
        let still_opening = matches!(c.agent_side, AgentSide::Opening(_));
        if !still_opening {
            c.agent_side = AgentSide::Queued;
        }
        self.media(MediaCommand::SetIdle {
            leg,
            idle: Idle::Music,
        });
        // "All call-takers are busy" only when they are: a call that will ring a free call-taker
        // at once hears the music (the flow has just said it is being connected).
        if !self.acd.would_ring_at_once(&waiting.queue) {
            self.media(MediaCommand::Play {
                leg,
                prompts: vec![QUEUE_ALL_BUSY.into()],
                barge_in: true,
            });
        }
        match opening {
            Some(message) => {
                self.filings.opening_sent(call);
                self.write(StoreWrite::FileMessage { call, message });
                if let Some(c) = self.calls.get_mut(call) {
                    c.agent_side = AgentSide::Opening(waiting);
                }
            }
            // Its message is still being opened: it arrives when the store answers.
            None if still_opening => {}
            None => self.call_arrives(call, waiting, now),
        }
    }

    /// The store answered the opening of a queued call's message (`None`: not saved; the call
    /// is queued all the same and its message filed whole when the call ends). A filing that
    /// waited for this answer goes now.
    pub(crate) fn message_opened(
        &mut self,
        call: CallKey,
        tracking_code: Option<String>,
        now: Duration,
    ) {
        let saved = tracking_code.is_some();
        if let Some(message) = self.filings.opened(call, saved, tracking_code) {
            self.write(StoreWrite::FileMessage { call, message });
        }
        if !self.calls.contains(call) {
            self.filings.call_ended(call);
        }
        // Still waiting (not gone, not left by the exit key while the store answered).
        let Some(c) = self
            .calls
            .get_mut(call)
            .filter(|c| matches!(c.agent_side, AgentSide::Opening(_)))
        else {
            return;
        };
        let AgentSide::Opening(waiting) = std::mem::replace(&mut c.agent_side, AgentSide::Queued)
        else {
            return;
        };
        self.call_arrives(call, waiting, now);
    }

    fn call_arrives(&mut self, call: CallKey, waiting: Waiting, now: Duration) {
        let Some(c) = self.calls.get(call) else {
            return;
        };
        let arrived = AcdInput::CallArrived {
            call: acd::CallKey(call.0),
            queue: waiting.queue,
            priority: waiting.priority,
            caller: c.record.from.clone(),
        };
        self.acd_input(arrived, now);
    }

    pub(crate) fn acd_input(&mut self, input: AcdInput, now: Duration) {
        self.acd.handle_input(input, now);
        self.drain_acd(now);
    }

    pub(crate) fn acd_timeout(&mut self, now: Duration) {
        self.acd.handle_timeout(now);
        self.drain_acd(now);
    }

    fn drain_acd(&mut self, now: Duration) {
        while let Some(output) = self.acd.poll_output() {
            match output {
                AcdOutput::Offer { call, agent } => {
                    if !self.offer_to_agent(CallKey(call.0), &agent, now) {
                        self.acd
                            .handle_input(AcdInput::OfferFailed { call, agent }, now);
                    }
                }
                AcdOutput::CancelOffer { call, agent, .. } => {
                    self.cancel_offer(CallKey(call.0), &agent, now)
                }
                AcdOutput::Connected { call, agent } => self.connect(CallKey(call.0), &agent, now),
                AcdOutput::Overflow { call, reason } => self.overflow(CallKey(call.0), reason),
                AcdOutput::Announce {
                    call,
                    position,
                    estimated_wait,
                } => self.announce(CallKey(call.0), position, estimated_wait),
                AcdOutput::AgentStateChanged {
                    agent,
                    state,
                    reason,
                    ..
                } => {
                    log_agent_state(&agent, &state, reason);
                    self.agent_state_changed(&agent, now)
                }
                AcdOutput::QueueLog(event) => self.queue_log(event),
                AcdOutput::Refused {
                    agent,
                    request,
                    refusal,
                } => {
                    self.agent_refusals += 1;
                    tracing::info!(%agent, ?request, ?refusal, "agent request refused");
                }
            }
        }
    }

    fn cancel_offer(&mut self, call: CallKey, agent: &str, now: Duration) {
        for leg in self.offer_legs(call, agent) {
            self.drop_agent_leg(leg, true, now);
        }
    }

    /// The agent answered and the ACD confirmed: caller and agent hear each other.
    fn connect(&mut self, call: CallKey, agent: &str, now: Duration) {
        let Some(agent_leg) = self.offer_legs(call, agent).into_iter().next() else {
            return;
        };
        let tracking_code = self.filings.tracking_code(call).map(str::to_string);
        if let Some(c) = self.calls.get_mut(call) {
            c.agent_side = AgentSide::Bridged(agent_leg);
            let leg = c.leg;
            if let Some(tracking_code) = tracking_code {
                let at_ms = self.wall_ms(now);
                self.write(StoreWrite::AgentConnected {
                    tracking_code,
                    agent: agent.to_string(),
                    at_ms,
                });
            }
            self.media(MediaCommand::StopPlayback { leg });
            self.media(MediaCommand::SetIdle {
                leg,
                idle: Idle::Silence,
            });
            self.media(MediaCommand::Bridge {
                a: leg,
                b: agent_leg,
            });
            self.record_conversation_if_asked(call, leg, now);
        }
        self.feed(call, IvrInput::QueueResult(QueueOutcome::Answered));
    }

    /// A queue with `record = true` records the conversation on the caller's leg (a bridged leg
    /// records both directions mixed); the file is attached to the call's message once saved.
    fn record_conversation_if_asked(&mut self, call: CallKey, leg: LegId, now: Duration) {
        let record = self
            .acd
            .queue_of_call(acd::CallKey(call.0))
            .is_some_and(|q| q.record);
        let Some(c) = self.calls.get(call).filter(|_| record) else {
            return;
        };
        let call_ref = c.record.call_ref.clone();
        let name = format!(
            "{}/{call_ref}-conversation-{:08x}.wav",
            crate::engine::app::ivr::day_folder(self.wall_ms(now)),
            rand::Rng::gen::<u32>(&mut self.rng)
        );
        self.recordings.conversation_started(leg, call_ref);
        let spec = RecordSpec {
            name,
            max: MAX_CONVERSATION,
            silence: Duration::ZERO,
            end_key: None,
        };
        self.media(MediaCommand::StartRecording { leg, spec });
    }

    /// A conversation recording ended (the call ended, or it reached its maximum length).
    /// Returns false when the leg records no conversation.
    pub(crate) fn conversation_recorded(&mut self, leg: LegId, name: &str, saved: bool) -> bool {
        let Some(call_ref) = self.recordings.conversation_finished(leg) else {
            return false;
        };
        if saved {
            self.write(StoreWrite::AttachCallRecording {
                call_ref,
                name: name.to_string(),
            });
        } else {
            tracing::error!(leg = %leg, name, "conversation recording could not be saved");
        }
        true
    }

    fn overflow(&mut self, call: CallKey, reason: OverflowReason) {
        self.leave_queue(call);
        let outcome = match reason {
            OverflowReason::NoAgents => QueueOutcome::NoAgents,
            _ => QueueOutcome::Overflow,
        };
        self.feed(call, IvrInput::QueueResult(outcome));
    }

    /// The caller stops waiting; returns where it stood.
    fn leave_queue(&mut self, call: CallKey) -> AgentSide {
        let Some(c) = self.calls.get_mut(call) else {
            return AgentSide::None;
        };
        let was = std::mem::take(&mut c.agent_side);
        let leg = c.leg;
        self.media(MediaCommand::StopPlayback { leg });
        self.media(MediaCommand::SetIdle {
            leg,
            idle: Idle::Silence,
        });
        was
    }

    fn announce(&mut self, call: CallKey, position: u32, wait: Duration) {
        let Some(c) = self.calls.get(call) else {
            return;
        };
        let mut prompts = vec![QUEUE_YOUR_POSITION.to_string()];
        prompts.extend(number_prompts(u64::from(position)));
        prompts.push(QUEUE_IN_LINE.into());
        prompts.push(QUEUE_ESTIMATED_WAIT.into());
        prompts.extend(duration_prompts(
            u32::try_from(wait.as_secs()).unwrap_or(u32::MAX),
        ));
        prompts.push(QUEUE_PRESS1_VOICEMAIL.into());
        let leg = c.leg;
        self.media(MediaCommand::Play {
            leg,
            prompts,
            barge_in: true,
        });
    }

    /// A key pressed while the caller waits: the exit key leaves the queue; others are ignored.
    pub(crate) fn queue_digit(&mut self, call: CallKey, digit: char, now: Duration) {
        if digit != EXIT_KEY {
            return;
        }
        // A call whose message is still being opened has not reached the ACD yet.
        if !matches!(self.leave_queue(call), AgentSide::Opening(_)) {
            self.acd_input(AcdInput::CallExited(acd::CallKey(call.0)), now);
        }
        self.feed(call, IvrInput::QueueResult(QueueOutcome::Exit));
    }

    /// The caller is gone (hung up, or closed by a shutdown), and stood `side` with the
    /// call-takers: abandon while waiting, or end the conversation with the agent, and stop
    /// every phone still ringing for it. A direct call has no queue to tell.
    pub(crate) fn acd_caller_gone(
        &mut self,
        call: CallKey,
        side: AgentSide,
        direct: bool,
        now: Duration,
    ) {
        if direct {
            for leg in self.caller_legs(call) {
                self.drop_agent_leg(leg, true, now);
            }
            return;
        }
        if side == AgentSide::Queued {
            self.acd_input(AcdInput::CallAbandoned(acd::CallKey(call.0)), now);
        }
        if let AgentSide::Bridged(leg) = side {
            self.drop_agent_leg(leg, true, now);
            self.acd_input(
                AcdInput::CallEnded {
                    call: acd::CallKey(call.0),
                },
                now,
            );
        }
        let ringing = self.caller_legs(call);
        for leg in ringing {
            self.drop_agent_leg(leg, true, now);
        }
    }

    pub(crate) fn acd_call_ended(&mut self, call: CallKey, now: Duration) {
        if let Some(c) = self.calls.get_mut(call) {
            c.agent_side = AgentSide::None;
        }
        self.acd_input(
            AcdInput::CallEnded {
                call: acd::CallKey(call.0),
            },
            now,
        );
    }

    pub(crate) fn acd_offer_accepted(&mut self, call: CallKey, agent: &str, now: Duration) {
        let input = AcdInput::OfferAccepted {
            call: acd::CallKey(call.0),
            agent: agent.to_string(),
        };
        self.acd_input(input, now);
        // An answer the ACD did not confirm (it crossed a cancel) was dropped via CancelOffer.
        if !self.calls.contains(call) {
            for leg in self.offer_legs(call, agent) {
                self.drop_agent_leg(leg, true, now);
            }
        }
    }

    pub(crate) fn acd_offer_refused(
        &mut self,
        call: CallKey,
        agent: &str,
        status: u16,
        now: Duration,
    ) {
        let (call, agent) = (acd::CallKey(call.0), agent.to_string());
        let input = match status {
            486 | 600 | 603 => AcdInput::OfferRejected { call, agent },
            _ => AcdInput::OfferFailed { call, agent },
        };
        self.acd_input(input, now);
    }

    /// Is this call in the ACD's hands (waiting or talking)?
    pub(crate) fn in_queue(&self, call: CallKey) -> bool {
        self.calls
            .get(call)
            .is_some_and(|c| c.agent_side.is_waiting())
    }
}

/// Log-ins, log-outs and pauses at `info` (an operator's record of who was taking calls when);
/// the moves of every call (offered, on call, wrap-up) only at `debug`.
fn log_agent_state(agent: &str, state: &crate::acd::AgentState, reason: ChangeReason) {
    let event = match reason {
        ChangeReason::Login => "agent logged in",
        ChangeReason::Logout => "agent logged out",
        ChangeReason::Unreachable => "agent logged out: no registered softphone",
        ChangeReason::Pause | ChangeReason::MissedOffers => "agent paused",
        ChangeReason::Unpause => "agent unpaused",
        ChangeReason::Removed => "agent removed",
        _ => {
            tracing::debug!(%agent, state = %state.name(), ?reason, "agent state");
            return;
        }
    };
    // One word, so `key=value` stays splittable on spaces ("no answer" → no_answer).
    let pause_reason = match state {
        crate::acd::AgentState::Paused { reason } => reason.label.replace(' ', "_"),
        _ => "-".to_string(),
    };
    tracing::info!(%agent, state = %state.name(), %pause_reason, "{event}");
}
