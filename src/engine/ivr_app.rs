//! Runs an `IvrRun` on a call: carries out what the run asks (play, record, look up, file, queue,
//! hang up) and feeds back media events and store answers. The run's one timer is mirrored into
//! the engine's timer table, so thousands of runs cost one heap, not a scan.
//!
//! Recordings are saved durably by the media side the moment a take stops; "keep" then only
//! acknowledges, "discard" deletes. So a caller who hangs up mid-take still leaves the message:
//! the take is finished, saved, and the message filed with it when the save completes.

use std::time::Duration;

use super::apps::App;
use super::call::{CallKey, Disposition, HangupBy};
use super::store_io::{FilingStage, NewMessage, StoreCommand, StoreReply};
use super::{CallTimer, Engine, Output};
use crate::ivr::jalali::tehran_local;
use crate::ivr::{CallContext, IvrInput, IvrOutput, IvrRun, MessageDraft, RecordEnd};
use crate::media::api::{LegId, MediaCommand, RecordSpec, RecordingEnd};

/// The IVR state of one call.
#[derive(Debug)]
pub struct IvrApp {
    pub run: IvrRun,
    /// The last recording take: its file name and whether it is durably saved.
    take: Option<Take>,
    recording: bool,
    takes: u32,
}

#[derive(Debug, Clone)]
struct Take {
    name: String,
    saved: bool,
    /// The key that ends this take (the recorder consumes it; the call record still lists it).
    end_key: char,
}

/// What a run needs to know about its call, copied out so the app can be driven detached.
#[derive(Debug, Clone)]
pub(super) struct CallInfo {
    pub key: CallKey,
    pub leg: LegId,
    pub call_ref: String,
    pub call_id: String,
    pub caller: String,
    pub message_opened: bool,
}

impl Engine {
    /// Starts the flow of `line` on an answered call; false if no flow serves it.
    pub(super) fn start_ivr(&mut self, call_key: CallKey, line: &str, now: Duration) -> bool {
        let Some(flow) = self.flows.as_ref().and_then(|f| f.get(line)) else {
            return false;
        };
        let Some(call) = self.calls.get(&call_key) else {
            return false;
        };
        let (today, weekday, minute_of_day) = tehran_local(self.wall_ms(now) / 1000);
        let context = CallContext {
            line: line.to_string(),
            caller: call.record.from.clone(),
            today,
            weekday,
            minute_of_day,
        };
        let app = IvrApp {
            run: IvrRun::start(flow, context, now),
            take: None,
            recording: false,
            takes: 0,
        };
        if let Some(call) = self.calls.get_mut(&call_key) {
            call.app = App::Ivr(Box::new(app));
        }
        self.ivr_step(call_key, None, now);
        true
    }

    /// Feeds `input` (if any) to the call's run and carries out everything it asks. An input
    /// that arrives while the run is being driven (e.g. the ACD overflowing a call the moment it
    /// is queued) is deferred and fed right after, never lost.
    pub(super) fn ivr_step(&mut self, call_key: CallKey, input: Option<IvrInput>, now: Duration) {
        if self.driving.contains(&call_key) {
            if let Some(input) = input {
                self.deferred.push((call_key, input));
            }
            return;
        }
        self.driving.insert(call_key);
        let mut next = input;
        loop {
            let hung_up = self.ivr_step_once(call_key, next.take(), now);
            let pending = self.deferred.iter().position(|(k, _)| *k == call_key);
            match pending {
                Some(index) if !hung_up => next = Some(self.deferred.remove(index).1),
                _ => break,
            }
        }
        self.deferred.retain(|(k, _)| *k != call_key);
        self.driving.remove(&call_key);
    }

    /// One round of `ivr_step`; true when the call was hung up.
    fn ivr_step_once(&mut self, call_key: CallKey, input: Option<IvrInput>, now: Duration) -> bool {
        let Some(call) = self.calls.get_mut(&call_key) else {
            return true;
        };
        let App::Ivr(mut app) = std::mem::replace(&mut call.app, App::Silent) else {
            return false;
        };
        let info = call_info(call_key, call);
        if let Some(input) = input {
            app.run.handle_input(input, now);
        }
        let hang_up = self.drive(&info, &mut app, now);
        let timeout = app.run.poll_timeout();
        if let Some(call) = self.calls.get_mut(&call_key) {
            call.app = App::Ivr(app);
        }
        match timeout {
            Some(at) => self.timers.set(call_key, CallTimer::Ivr, at),
            None => self.timers.cancel(&call_key, CallTimer::Ivr),
        }
        if hang_up {
            self.end_call(call_key, Disposition::Completed, HangupBy::Engine, now);
        }
        hang_up
    }

    pub(super) fn ivr_timeout(&mut self, call_key: CallKey, now: Duration) {
        if let Some(App::Ivr(app)) = self.calls.get_mut(&call_key).map(|c| &mut c.app) {
            app.run.handle_timeout(now);
        }
        self.ivr_step(call_key, None, now);
    }

    /// The caller hung up: a take in progress is finished and saved, and the run files its message.
    pub(super) fn stop_ivr(&mut self, info: &CallInfo, app: &mut IvrApp, now: Duration) {
        if app.recording {
            self.media(MediaCommand::StopRecording {
                leg: info.leg,
                keep: true,
            });
        }
        if !app.run.is_finished() {
            app.run.handle_input(IvrInput::CallEnded, now);
        }
        self.drive(info, app, now);
        self.timers.cancel(&info.key, CallTimer::Ivr);
    }

    /// Carries out the run's requests until it has none. Returns whether it asked to hang up.
    fn drive(&mut self, info: &CallInfo, app: &mut IvrApp, now: Duration) -> bool {
        let mut hang_up = false;
        while let Some(output) = app.run.poll_output() {
            let reply = match output {
                IvrOutput::Play { prompts, barge_in } => {
                    self.media(MediaCommand::Play {
                        leg: info.leg,
                        prompts,
                        barge_in,
                    });
                    None
                }
                IvrOutput::StopPlayback => {
                    self.media(MediaCommand::StopPlayback { leg: info.leg });
                    None
                }
                IvrOutput::LookupCase { kind, number } => {
                    self.store(StoreCommand::LookupCase {
                        call: info.key,
                        kind,
                        number,
                    });
                    None
                }
                IvrOutput::LookupMessage { tracking_code } => {
                    self.look_up_message(info, tracking_code, now)
                }
                IvrOutput::StartRecording {
                    max,
                    silence,
                    end_key,
                } => {
                    self.start_take(info, app, max, silence, end_key, now);
                    None
                }
                IvrOutput::StopRecording => {
                    self.media(MediaCommand::StopRecording {
                        leg: info.leg,
                        keep: true,
                    });
                    None
                }
                IvrOutput::KeepRecording => Some(match &app.take {
                    Some(take) if take.saved => IvrInput::RecordingSaved {
                        recording_id: take.name.clone(),
                    },
                    _ => IvrInput::RecordingFailed,
                }),
                IvrOutput::DiscardRecording => {
                    if let Some(take) = app.take.take() {
                        self.media(MediaCommand::DiscardRecording { name: take.name });
                    }
                    None
                }
                IvrOutput::Enqueue {
                    queue,
                    priority,
                    draft,
                } => {
                    let opening =
                        (!info.message_opened).then(|| self.new_message(info, &draft, now));
                    let waiting = super::acd_app::Waiting { queue, priority };
                    self.enqueue_call(info.key, waiting, opening, now);
                    None
                }
                IvrOutput::File(draft) => {
                    self.file(info, app, draft, now);
                    None
                }
                IvrOutput::Hangup => {
                    hang_up = true;
                    None
                }
            };
            if let Some(input) = reply {
                app.run.handle_input(input, now);
            }
        }
        hang_up
    }

    fn start_take(
        &mut self,
        info: &CallInfo,
        app: &mut IvrApp,
        max: Duration,
        silence: Duration,
        end_key: char,
        now: Duration,
    ) {
        app.takes += 1;
        // Named after the call's reference, so a take a crash left without its message is
        // filed with its caller at start-up; the random part makes the URL unguessable.
        let name = format!(
            "{}/{}-take{}-{:08x}.wav",
            day_folder(self.wall_ms(now)),
            info.call_ref,
            app.takes,
            rand::Rng::gen::<u32>(&mut self.rng)
        );
        app.take = Some(Take {
            name: name.clone(),
            saved: false,
            end_key,
        });
        app.recording = true;
        let spec = RecordSpec {
            name,
            max,
            silence,
            end_key: Some(end_key),
        };
        self.media(MediaCommand::StartRecording {
            leg: info.leg,
            spec,
        });
    }

    fn new_message(&self, info: &CallInfo, draft: &MessageDraft, now: Duration) -> NewMessage {
        NewMessage {
            call_ref: info.call_ref.clone(),
            call_id: info.call_id.clone(),
            line: draft.line.clone(),
            kind: draft.kind.as_str().to_string(),
            district: draft.district,
            category: draft.category.clone(),
            case_number: draft.case_number.clone(),
            caller: info.caller.clone(),
            recording: draft.recording_id.clone(),
            created_at: self.wall_ms(now),
            stage: if info.message_opened {
                FilingStage::Complete
            } else {
                FilingStage::Whole
            },
        }
    }

    fn file(&mut self, info: &CallInfo, app: &IvrApp, draft: MessageDraft, now: Duration) {
        let mut message = self.new_message(info, &draft, now);
        if draft.recording_pending && message.recording.is_none() {
            match &app.take {
                Some(_) if app.recording => {
                    // The take is being finished and saved: file once the media side confirms.
                    self.pending_files.insert(info.leg, (info.key, message));
                    return;
                }
                Some(take) if take.saved => message.recording = Some(take.name.clone()),
                _ => {}
            }
        }
        self.store(StoreCommand::FileMessage {
            call: info.key,
            message,
        });
    }

    /// A take ended (key, silence, length, or stopped): tell the run, and file a message that was
    /// waiting for it.
    pub(super) fn on_take_finished(
        &mut self,
        leg: LegId,
        name: String,
        duration_ms: u64,
        end: RecordingEnd,
        saved: bool,
        now: Duration,
    ) {
        if let Some((call_key, mut message)) = self.pending_files.remove(&leg) {
            if saved {
                message.recording = Some(name.clone());
            }
            self.store(StoreCommand::FileMessage {
                call: call_key,
                message,
            });
        }
        let Some(&call_key) = self.legs.get(&leg) else {
            return;
        };
        if let Some(call) = self.calls.get_mut(&call_key) {
            if let App::Ivr(app) = &mut call.app {
                app.recording = false;
                if let Some(take) = app.take.as_mut().filter(|t| t.name == name) {
                    take.saved = saved;
                    if end == RecordingEnd::Key {
                        call.record.dtmf.push(take.end_key);
                    }
                }
            }
        }
        let reason = match end {
            RecordingEnd::Key => RecordEnd::Key,
            RecordingEnd::Silence => RecordEnd::Silence,
            RecordingEnd::MaxLength => RecordEnd::MaxLength,
            RecordingEnd::Stopped => RecordEnd::Key,
        };
        self.ivr_step(
            call_key,
            Some(IvrInput::RecordingStopped {
                duration_ms,
                reason,
            }),
            now,
        );
    }

    pub(super) fn on_store_reply(&mut self, reply: StoreReply, now: Duration) {
        let (call_key, input) = match reply {
            StoreReply::CaseFound { call, case } => (call, IvrInput::CaseFound(case)),
            StoreReply::MessageFound { call, status } => {
                (call, self.message_found(call, status, now))
            }
            StoreReply::Filed {
                call,
                saved: true,
                tracking_code,
            } => (
                call,
                IvrInput::Filed {
                    tracking_code: tracking_code.unwrap_or_default(),
                },
            ),
            StoreReply::Filed {
                call, saved: false, ..
            } => (call, IvrInput::FileFailed),
            StoreReply::Opened {
                call,
                tracking_code,
            } => return self.message_opened(call, tracking_code, now),
        };
        self.ivr_step(call_key, Some(input), now);
    }

    pub(super) fn store(&mut self, command: StoreCommand) {
        self.outputs.push_back(Output::Store(command));
    }
}

pub(super) fn call_info(key: CallKey, call: &super::call::Call) -> CallInfo {
    CallInfo {
        key,
        leg: call.leg,
        call_ref: call.record.call_ref.clone(),
        call_id: call.call_id.clone(),
        caller: call.record.from.clone(),
        message_opened: call.message_opened,
    }
}

/// `YYYY/MM/DD` (UTC) for the recordings folder, from Unix milliseconds.
pub(super) fn day_folder(unix_ms: i64) -> String {
    let (year, month, day) = crate::calendar::civil_from_days(unix_ms.div_euclid(86_400_000));
    format!("{year:04}/{month:02}/{day:02}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn day_folders_follow_the_gregorian_calendar() {
        assert_eq!(super::day_folder(0), "1970/01/01");
        assert_eq!(super::day_folder(1_722_643_200_000), "2024/08/03");
        assert_eq!(super::day_folder(951_782_400_000), "2000/02/29");
    }
}
