//! The interpreter's voice messages and filing on a virtual clock: review keys, empty takes, a
//! silent recorder or engine, failures, and hang-ups at each stage of a take.

use super::{filed, keys, outputs, play, secs, small_flow, start, step};
use crate::ivr::run::io::*;
use crate::ivr::run::IvrRun;
use crate::ivr::tracking::make_tracking_code;

/// Record a complaint, file it, read the code twice, say goodbye.
const MESSAGE_FLOW: &str = r#"line: "t"
start: kind
nodes:
  kind:
    type: set
    set: {kind: complaint}
    next: rec
  rec:
    type: record
    prompt: p/rec
    next: file
  file:
    type: file
    next: code
  code:
    type: say
    parts:
      - [p/saved, {digits: tracking_code}, p/again, {digits: tracking_code}]
    next: bye
  bye:
    type: hangup
"#;

/// A message-flow run stopped after a take of `duration_ms` ended by `#`, saved as "r1".
fn recorded(duration_ms: u64) -> IvrRun {
    recorded_as(duration_ms, Some("r1"))
}

/// The same, with the media side's save answer: the take's id, or `None` when it failed.
fn recorded_as(duration_ms: u64, recording: Option<&str>) -> IvrRun {
    let (mut run, out) = start(small_flow(MESSAGE_FLOW));
    assert_eq!(out, [play(&["p/rec", "beep"], false)]);
    let out = step(&mut run, IvrInput::PlaybackFinished, 3);
    let start_recording = IvrOutput::StartRecording {
        max: secs(180),
        silence: secs(5),
        end_key: '#',
        purpose: TakePurpose::Message,
    };
    assert_eq!(out, [start_recording]);
    assert_eq!(keys(&mut run, "#", 20), [IvrOutput::StopRecording]);
    assert_eq!(
        keys(&mut run, "5", 20),
        [],
        "keys after # are part of nothing"
    );
    let reason = RecordEnd::Key;
    let out = step(
        &mut run,
        IvrInput::RecordingStopped {
            duration_ms,
            reason,
            recording: recording.map(str::to_string),
        },
        20,
    );
    if duration_ms >= 1_500 {
        assert_eq!(out, [play(&["ivr/record_review"], true)]);
    }
    run
}

#[test]
fn the_tracking_code_is_read_twice_only_after_the_message_is_durable() {
    let mut run = recorded(30_000);
    // The take was saved when it stopped: keeping it files the message at once.
    let out = keys(&mut run, "1", 25);
    assert_eq!(out.first(), Some(&IvrOutput::StopPlayback));
    let out = out[1..].to_vec();
    let draft = MessageDraft {
        line: "t".into(),
        kind: MessageKind::Complaint,
        district: None,
        category: None,
        case_number: None,
        recording_id: Some("r1".into()),
        recording_pending: false,
    };
    assert_eq!(out, [IvrOutput::File(draft)], "no code before Filed");
    let code = make_tracking_code(5);
    let out = step(
        &mut run,
        IvrInput::Filed {
            tracking_code: code.clone(),
        },
        27,
    );
    let digits: Vec<String> = crate::ivr::words::digits_prompts(&code);
    let mut expected = vec!["p/saved".to_owned()];
    expected.extend(digits.iter().cloned());
    expected.push("p/again".into());
    expected.extend(digits.iter().cloned());
    assert_eq!(
        out,
        [IvrOutput::Play {
            prompts: expected,
            barge_in: false
        }]
    );
    assert_eq!(
        step(&mut run, IvrInput::PlaybackFinished, 40),
        [IvrOutput::Hangup]
    );
}

#[test]
fn a_hang_up_while_recording_files_the_take_as_pending() {
    let (mut run, _) = start(small_flow(MESSAGE_FLOW));
    step(&mut run, IvrInput::PlaybackFinished, 3);
    let reason = RecordEnd::HangUp;
    let stop = IvrInput::RecordingStopped {
        duration_ms: 9_000,
        reason,
        recording: None,
    };
    assert_eq!(step(&mut run, stop, 12), []);
    let out = step(&mut run, IvrInput::CallEnded, 12);
    assert_eq!(out.len(), 1, "a File and no Hangup: {out:?}");
    let draft = filed(&out)[0];
    assert_eq!(
        (draft.kind, draft.recording_pending),
        (MessageKind::Complaint, true)
    );
    assert!(run.is_finished());
}

#[test]
fn a_hang_up_in_the_review_keeps_the_saved_take() {
    let mut run = recorded(30_000);
    let out = step(&mut run, IvrInput::CallEnded, 22);
    let draft = filed(&out)[0];
    assert_eq!(
        (draft.recording_id.as_deref(), draft.recording_pending),
        (Some("r1"), false)
    );
    // A take whose save failed is not named; nothing is left pending either.
    let mut run = recorded_as(30_000, None);
    let out = step(&mut run, IvrInput::CallEnded, 22);
    let draft = filed(&out)[0];
    assert_eq!(
        (draft.recording_id.as_deref(), draft.recording_pending),
        (None, false)
    );
}

#[test]
fn a_hang_up_after_filing_does_not_file_again() {
    let mut run = recorded(30_000);
    let out = keys(&mut run, "1", 25);
    assert_eq!(filed(&out).len(), 1);
    assert_eq!(step(&mut run, IvrInput::CallEnded, 27), []);
    assert_eq!(
        step(
            &mut run,
            IvrInput::Filed {
                tracking_code: "x".into()
            },
            28
        ),
        []
    );
}

#[test]
fn a_failed_filing_apologises_and_hangs_up_without_a_second_file() {
    let mut run = recorded(30_000);
    keys(&mut run, "1", 25);
    assert_eq!(
        step(&mut run, IvrInput::FileFailed, 27),
        [play(&["ivr/file_failed"], false)]
    );
    assert_eq!(
        step(&mut run, IvrInput::PlaybackFinished, 30),
        [IvrOutput::Hangup]
    );
}

#[test]
fn a_silent_engine_counts_as_a_failed_filing() {
    let mut run = recorded(30_000);
    keys(&mut run, "1", 25);
    assert_eq!(run.armed_timer(), Some((IvrTimer::EngineReply, secs(45))));
    run.handle_timeout(secs(45));
    assert_eq!(outputs(&mut run), [play(&["ivr/file_failed"], false)]);
}

#[test]
fn a_failed_save_files_what_is_known_without_the_recording() {
    let mut run = recorded_as(30_000, None);
    assert_eq!(
        keys(&mut run, "1", 25),
        [IvrOutput::StopPlayback, play(&["ivr/record_failed"], false)]
    );
    let out = step(&mut run, IvrInput::PlaybackFinished, 30);
    let draft = filed(&out)[0];
    assert_eq!(
        (draft.recording_id.as_deref(), draft.recording_pending),
        (None, false)
    );
    assert_eq!(out.last(), Some(&IvrOutput::Hangup));
}

#[test]
fn an_empty_take_is_discarded_and_the_caller_asked_again() {
    let (mut run, _) = start(small_flow(MESSAGE_FLOW));
    step(&mut run, IvrInput::PlaybackFinished, 3);
    let stop = IvrInput::RecordingStopped {
        duration_ms: 400,
        reason: RecordEnd::Silence,
        recording: Some("r0".into()),
    };
    let out = step(&mut run, stop, 9);
    assert_eq!(
        out,
        [
            IvrOutput::DiscardRecording,
            play(&["ivr/record_empty", "p/rec", "beep"], false)
        ]
    );
}

#[test]
fn a_recorder_that_never_stops_is_stopped_and_then_taken_as_done() {
    let (mut run, _) = start(small_flow(MESSAGE_FLOW));
    step(&mut run, IvrInput::PlaybackFinished, 3);
    assert_eq!(
        run.armed_timer(),
        Some((IvrTimer::RecordingSafety, secs(188)))
    );
    run.handle_timeout(secs(188));
    assert_eq!(outputs(&mut run), [IvrOutput::StopRecording]);
    run.handle_timeout(secs(193));
    assert_eq!(outputs(&mut run), [play(&["ivr/record_review"], true)]);
}
