//! Runs an `IvrRun` on a call: carries out what the run asks (play, record, look up, file, queue,
//! hang up) and feeds back media events and store answers. The run's one timer is mirrored into
//! the engine's timer table, so thousands of runs cost one heap, not a scan.
//!
//! Inputs reach a run only through `feed`, which queues them; `Engine::handle_input` drains the
//! queue after each input, in order. So an application step that leads back into the same call
//! (queue → overflow → IVR) never re-enters the run while it is being driven: the overflow is
//! queued and fed once the step that caused it is over. The run stays in its call while it is
//! driven; each output is taken out, carried out, and its answer (if any) fed straight back.
//!
//! Who owns what of a voice message: the run decides which take is the message (`ivr::run`), the
//! call knows what its recorder is doing (`call::Recorder`), the media side owns the file and
//! saves it durably the moment the take stops. A caller who hangs up mid-take still leaves the
//! message: the take is stopped, saved, and the message filed with it when the save completes
//! (`Recordings::waiting_files`).

use crate::engine::{StoreQuery, StoreWrite};
use std::time::Duration;

use crate::engine::app::App;
use crate::engine::call::{CallKey, Disposition, HangupBy, Recorder};
use crate::engine::recordings::is_reply_take;
use crate::engine::store_io::{FilingStage, NewMessage, StoreCommand, StoreReply};
use crate::engine::{CallTimer, Engine, Output, TimerOwner};
use crate::ivr::jalali::tehran_local;
use crate::ivr::{CallContext, IvrInput, IvrOutput, IvrRun, MessageDraft, RecordEnd, TakePurpose};
use crate::media::api::{LegId, MediaCommand, RecordSpec, RecordingEnd};

/// What a run's outputs need to know about its call, copied out once per output.
#[derive(Debug, Clone)]
pub(crate) struct CallInfo {
    pub key: CallKey,
    pub leg: LegId,
    pub call_ref: String,
    pub call_id: String,
    pub caller: String,
    /// How a filing now relates to the call's message (whole, or completing the opened one;
    /// `None` while the opening is unanswered).
    pub filing_stage: Option<FilingStage>,
    /// A take is in the recorder (a filing that names it waits for its save).
    pub take_running: bool,
    /// The take in the recorder, or the last one stopped (a reply discarded at hang-up).
    pub take_name: Option<String>,
    /// Where the call's INVITE came from (wrong PINs are counted per source).
    pub source: std::net::IpAddr,
    /// The manager's mailbox the call logged into (`*98`).
    pub manager: Option<String>,
}

/// What carrying out one of the run's outputs led to.
enum Step {
    Done,
    /// An answer the engine has at once (a refused lookup), fed straight back to the run.
    Reply(IvrInput),
    HangUp,
}

impl Engine {
    /// Starts the flow of `line` on an answered call; false if no flow serves it.
    pub(crate) fn start_ivr(&mut self, call_key: CallKey, line: &str, now: Duration) -> bool {
        let Some(flow) = self.flows.as_ref().and_then(|f| f.get(line)) else {
            return false;
        };
        let (today, weekday, minute_of_day) = tehran_local(self.wall_ms(now) / 1000);
        let Some(call) = self.calls.get_mut(call_key) else {
            return false;
        };
        let context = CallContext {
            line: line.to_string(),
            caller: call.record.from.clone(),
            today,
            weekday,
            minute_of_day,
        };
        call.app = App::Ivr(Box::new(IvrRun::start(flow, context, now)));
        self.ivr_step(call_key, None, now);
        true
    }

    /// Queues `input` for the call's run; it is fed once the current step is over.
    pub(crate) fn feed(&mut self, call: CallKey, input: IvrInput) {
        self.app_events.push_back((call, input));
    }

    /// Feeds the queued inputs to their runs, in order, including any their steps queue.
    pub(crate) fn run_app_events(&mut self, now: Duration) {
        while let Some((call, input)) = self.app_events.pop_front() {
            self.ivr_step(call, Some(input), now);
        }
    }

    fn run_of(&mut self, call: CallKey) -> Option<&mut IvrRun> {
        match &mut self.calls.get_mut(call)?.app {
            App::Ivr(run) => Some(run),
            _ => None,
        }
    }

    /// Feeds `input` (if any) to the call's run and carries out everything it asks.
    fn ivr_step(&mut self, call_key: CallKey, input: Option<IvrInput>, now: Duration) {
        let Some(run) = self.run_of(call_key) else {
            return;
        };
        if let Some(input) = input {
            run.handle_input(input, now);
        }
        let mut hang_up = false;
        while let Some(output) = self.run_of(call_key).and_then(|run| run.poll_output()) {
            let stage = self.filings.stage(call_key);
            let Some(info) = self
                .calls
                .get(call_key)
                .map(|c| call_info(call_key, c, stage))
            else {
                return;
            };
            match self.carry_out(&info, output, now) {
                Step::Done => {}
                Step::Reply(input) => {
                    if let Some(run) = self.run_of(call_key) {
                        run.handle_input(input, now);
                    }
                }
                Step::HangUp => hang_up = true,
            }
        }
        let owner = TimerOwner::Call(call_key);
        match self.run_of(call_key).and_then(|run| run.poll_timeout()) {
            Some(at) => self.timers.set(owner, CallTimer::Ivr, at),
            None => self.timers.cancel(&owner, CallTimer::Ivr),
        }
        if hang_up {
            self.end_call(call_key, Disposition::Completed, HangupBy::Engine, now);
        }
    }

    pub(crate) fn ivr_timeout(&mut self, call_key: CallKey, now: Duration) {
        if let Some(run) = self.run_of(call_key) {
            run.handle_timeout(now);
        }
        self.ivr_step(call_key, None, now);
    }

    /// The call ended (it is out of the calls already): a take in progress is stopped and
    /// saved, and the run files its message.
    pub(crate) fn stop_ivr(&mut self, info: &CallInfo, run: &mut IvrRun, now: Duration) {
        let reply_take = info.take_name.as_deref().is_some_and(is_reply_take);
        if info.take_running {
            // A citizen's take is kept (it is their message); a manager's unsent reply is not.
            self.media(MediaCommand::StopRecording {
                leg: info.leg,
                keep: !reply_take,
            });
        }
        if !run.is_finished() {
            run.handle_input(IvrInput::CallEnded, now);
        }
        while let Some(output) = run.poll_output() {
            // The call is out of the table: a reply the run discards at hang-up is named here
            // (a running one was already stopped without keeping it, above).
            if output == IvrOutput::DiscardRecording {
                if let (Some(name), false) = (&info.take_name, info.take_running) {
                    self.media(MediaCommand::DiscardRecording { name: name.clone() });
                }
                continue;
            }
            if let Step::Reply(input) = self.carry_out(info, output, now) {
                run.handle_input(input, now);
            }
        }
        self.timers
            .cancel(&TimerOwner::Call(info.key), CallTimer::Ivr);
    }

    /// Carries out one of the run's requests.
    fn carry_out(&mut self, info: &CallInfo, output: IvrOutput, now: Duration) -> Step {
        match output {
            IvrOutput::Play { prompts, barge_in } => self.media(MediaCommand::Play {
                leg: info.leg,
                prompts,
                barge_in,
            }),
            IvrOutput::StopPlayback => self.media(MediaCommand::StopPlayback { leg: info.leg }),
            IvrOutput::LookupCase { kind, number } => self.query(StoreQuery::LookupCase {
                call: info.key,
                kind,
                number,
            }),
            IvrOutput::LookupMessage { tracking_code } => {
                if let Some(refused) = self.look_up_message(info, tracking_code, now) {
                    return Step::Reply(refused);
                }
            }
            IvrOutput::StartRecording {
                max,
                silence,
                end_key,
                purpose,
            } => self.start_take(info, (max, silence, end_key), purpose, now),
            IvrOutput::StopRecording => self.media(MediaCommand::StopRecording {
                leg: info.leg,
                keep: true,
            }),
            IvrOutput::DiscardRecording => {
                let stopped = self
                    .calls
                    .get_mut(info.key)
                    .map(|c| std::mem::take(&mut c.recorder));
                if let Some(Recorder::Stopped { name }) = stopped {
                    self.media(MediaCommand::DiscardRecording { name });
                }
            }
            IvrOutput::Enqueue {
                queue,
                priority,
                draft,
            } => {
                let opening = (info.filing_stage == Some(FilingStage::Whole))
                    .then(|| self.new_message(info, &draft, now));
                let waiting = crate::engine::app::queue::Waiting { queue, priority };
                self.enqueue_call(info.key, waiting, opening, now);
            }
            IvrOutput::File(draft) => self.file(info, draft, now),
            IvrOutput::Hangup => return Step::HangUp,
            IvrOutput::VerifyManager { mailbox, pin } => {
                if let Some(limited) = self.verify_manager(info, mailbox, pin, now) {
                    return Step::Reply(limited);
                }
            }
            IvrOutput::MailboxListened { tracking_code } => {
                self.mailbox_listened(info, tracking_code)
            }
            IvrOutput::SendReply {
                tracking_code,
                recording_id,
            } => {
                if let Some(refused) = self.save_in_mailbox(info, tracking_code, Some(recording_id))
                {
                    return Step::Reply(refused);
                }
            }
            IvrOutput::MarkHandled { tracking_code } => {
                if let Some(refused) = self.save_in_mailbox(info, tracking_code, None) {
                    return Step::Reply(refused);
                }
            }
        }
        Step::Done
    }

    fn start_take(
        &mut self,
        info: &CallInfo,
        (max, silence, end_key): (Duration, Duration, char),
        purpose: TakePurpose,
        now: Duration,
    ) {
        let day = day_folder(self.wall_ms(now));
        let random = rand::Rng::gen::<u32>(&mut self.rng);
        let Some(call) = self.calls.get_mut(info.key) else {
            return;
        };
        // Named after the call's reference, so a take a crash left without its message is
        // filed with its caller at start-up; the random part makes the URL unguessable. A
        // manager's reply is `-reply-`, never `-takeN-`: recovery must not file it as a
        // citizen's message.
        let name = match purpose {
            TakePurpose::Message => {
                call.takes += 1;
                format!(
                    "{day}/{}-take{}-{random:08x}.wav",
                    info.call_ref, call.takes
                )
            }
            TakePurpose::Reply => format!("{day}/{}-reply-{random:08x}.wav", info.call_ref),
        };
        call.recorder = Recorder::Running {
            name: name.clone(),
            end_key,
        };
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
            // Settled when the filing is sent (`send_filing`), or set to `Open` by the queue.
            stage: FilingStage::Whole,
        }
    }

    /// Files the run's message; one that names a take still in the recorder waits for its save.
    fn file(&mut self, info: &CallInfo, draft: MessageDraft, now: Duration) {
        let message = self.new_message(info, &draft, now);
        if draft.recording_pending && message.recording.is_none() && info.take_running {
            self.recordings.wait_for_take(info.leg, info.key, message);
            return;
        }
        self.send_filing(info.key, message);
    }

    /// Sends the call's filing with the stage its message is at, or holds it until the store
    /// has answered the call's opening (`Filings`).
    fn send_filing(&mut self, call: CallKey, mut message: NewMessage) {
        match self.filings.stage(call) {
            Some(stage) => {
                message.stage = stage;
                self.write(StoreWrite::FileMessage { call, message });
            }
            None => self.filings.hold(call, message),
        }
    }

    /// A take ended (key, silence, length, or stopped), saved durably or not: file a message
    /// that was waiting for it, and tell the run.
    pub(crate) fn on_take_finished(
        &mut self,
        leg: LegId,
        name: String,
        duration_ms: u64,
        end: RecordingEnd,
        saved: bool,
        _now: Duration,
    ) {
        if let Some((call_key, mut message)) = self.recordings.take_saved(leg) {
            if saved {
                message.recording = Some(name.clone());
            }
            self.send_filing(call_key, message);
        }
        let Some(call_key) = self.calls.by_leg(leg) else {
            return;
        };
        if let Some(call) = self.calls.get_mut(call_key) {
            if let Recorder::Running {
                name: running,
                end_key,
            } = &call.recorder
            {
                if *running == name {
                    if end == RecordingEnd::Key {
                        call.record.dtmf.push(*end_key);
                    }
                    call.recorder = Recorder::Stopped { name: name.clone() };
                }
            }
        }
        let reason = match end {
            RecordingEnd::Key => RecordEnd::Key,
            RecordingEnd::Silence => RecordEnd::Silence,
            RecordingEnd::MaxLength => RecordEnd::MaxLength,
            RecordingEnd::Stopped => RecordEnd::Key,
        };
        let recording = saved.then_some(name);
        self.feed(
            call_key,
            IvrInput::RecordingStopped {
                duration_ms,
                reason,
                recording,
            },
        );
    }

    pub(crate) fn on_store_reply(&mut self, reply: StoreReply, now: Duration) {
        let (call_key, input) = match reply {
            StoreReply::CaseFound { call, case } => (call, IvrInput::CaseFound(case)),
            StoreReply::MessageFound { call, status } => {
                (call, self.message_found(call, status, now))
            }
            StoreReply::Filed {
                call,
                saved: true,
                tracking_code,
            } => {
                if let (Some(c), Some(code)) = (self.calls.get_mut(call), &tracking_code) {
                    c.tracking_code = Some(code.clone());
                }
                let tracking_code = tracking_code.unwrap_or_default();
                (call, IvrInput::Filed { tracking_code })
            }
            StoreReply::Filed {
                call, saved: false, ..
            } => (call, IvrInput::FileFailed),
            StoreReply::Opened {
                call,
                tracking_code,
            } => return self.message_opened(call, tracking_code, now),
            StoreReply::ManagerVerified {
                call,
                mailbox,
                check,
            } => (call, self.manager_verified(call, mailbox, check, now)),
            StoreReply::MailboxSaved { call, saved } => (call, IvrInput::MailboxSaved(saved)),
        };
        self.feed(call_key, input);
    }

    pub(crate) fn write(&mut self, write: StoreWrite) {
        self.outputs
            .push_back(Output::Store(StoreCommand::Write(write)));
    }

    pub(crate) fn query(&mut self, query: StoreQuery) {
        self.outputs
            .push_back(Output::Store(StoreCommand::Query(query)));
    }
}

pub(crate) fn call_info(
    key: CallKey,
    call: &crate::engine::call::Call,
    filing_stage: Option<FilingStage>,
) -> CallInfo {
    CallInfo {
        key,
        leg: call.leg,
        call_ref: call.record.call_ref.clone(),
        call_id: call.call_id.clone(),
        caller: call.record.from.clone(),
        filing_stage,
        take_running: matches!(call.recorder, Recorder::Running { .. }),
        take_name: match &call.recorder {
            Recorder::Running { name, .. } | Recorder::Stopped { name } => Some(name.clone()),
            Recorder::Idle => None,
        },
        source: call.peer.addr.ip(),
        manager: call.manager.clone(),
    }
}

/// `YYYY/MM/DD` (UTC) for the recordings folder, from Unix milliseconds.
pub(crate) fn day_folder(unix_ms: i64) -> String {
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
