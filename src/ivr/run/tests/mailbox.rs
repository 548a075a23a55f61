//! The mailbox nodes on a virtual clock: the login (type-ahead, wrong PINs, silence, the
//! engine's limit) and the player (count, items, reply, review, save, mark, hang-ups).

use super::*;
use crate::calendar::JalaliDate;

const MAILBOX_FLOW: &str = r#"line: "mailbox"
start: login
nodes:
  login:
    type: mailbox_login
    next: messages
    fail: bye
  messages:
    type: mailbox
    next: bye
  bye:
    type: hangup
    prompt: p/bye
"#;

fn item(code: &str, line: &str, kind: MessageKind, is_new: bool) -> MailboxItem {
    let received = JalaliDate::new(1403, 5, 11).unwrap_or_else(|e| panic!("{e}"));
    MailboxItem {
        tracking_code: code.to_owned(),
        line: line.to_owned(),
        kind,
        received,
        recording_id: format!("rec-{code}"),
        is_new,
    }
}

fn two_items() -> Vec<MailboxItem> {
    vec![
        item("A1", "1888", MessageKind::Complaint, true),
        item("B2", "137", MessageKind::UrbanProblem, false),
    ]
}

fn verify(mailbox: &str, pin: &str) -> IvrOutput {
    IvrOutput::VerifyManager {
        mailbox: mailbox.to_owned(),
        pin: crate::ivr::Pin(pin.to_owned()),
    }
}

/// Keys 501# and 1234# after the prompts; returns the outputs of the last key.
fn log_in(run: &mut IvrRun) -> Vec<IvrOutput> {
    step(run, IvrInput::PlaybackFinished, 1);
    keys(run, "501#", 2);
    step(run, IvrInput::PlaybackFinished, 3);
    keys(run, "1234#", 4)
}

/// A run logged in with `items`, the count played and finished: the first item is playing.
fn logged_in(items: Vec<MailboxItem>) -> (IvrRun, Vec<IvrOutput>) {
    let (mut run, _) = start(small_flow(MAILBOX_FLOW));
    assert_eq!(log_in(&mut run), [verify("501", "1234")]);
    let accepted = LoginResult::Accepted {
        mailbox: "501".into(),
        items,
    };
    let out = step(&mut run, IvrInput::ManagerLogin(accepted), 5);
    (run, out)
}

fn item_prompts(line: &str, kind: &str, recording: &str) -> IvrOutput {
    let mut prompts = vec!["mailbox/message_of".to_owned()];
    prompts.extend(crate::ivr::words::date_prompts(
        JalaliDate::new(1403, 5, 11).unwrap_or_else(|e| panic!("{e}")),
    ));
    prompts.push(format!("mailbox/line_{line}"));
    prompts.push(format!("mailbox/kind_{kind}"));
    prompts.push(recording_prompt(recording));
    IvrOutput::Play {
        prompts,
        barge_in: true,
    }
}

fn listened(code: &str) -> IvrOutput {
    IvrOutput::MailboxListened {
        tracking_code: code.to_owned(),
    }
}

/// Logged in with two items, at the first item's menu (prompt finished).
fn at_first_menu() -> IvrRun {
    let (mut run, _) = logged_in(two_items());
    step(&mut run, IvrInput::PlaybackFinished, 6);
    step(&mut run, IvrInput::PlaybackFinished, 20);
    step(&mut run, IvrInput::PlaybackFinished, 25);
    run
}

/// At the first item, a reply recorded (take `take-1`, 9 s) and its review playing.
fn reviewing() -> IvrRun {
    let mut run = at_first_menu();
    assert_eq!(
        keys(&mut run, "1", 26),
        [play(&["mailbox/reply_instructions", "beep"], false)]
    );
    let out = step(&mut run, IvrInput::PlaybackFinished, 30);
    assert_eq!(
        out,
        [IvrOutput::StartRecording {
            max: secs(180),
            silence: secs(5),
            end_key: '#',
            purpose: TakePurpose::Reply,
        }]
    );
    assert_eq!(keys(&mut run, "#", 40), [IvrOutput::StopRecording]);
    let stopped = IvrInput::RecordingStopped {
        duration_ms: 9_000,
        reason: RecordEnd::Key,
        recording: Some("take-1".into()),
    };
    assert_eq!(
        step(&mut run, stopped, 40),
        [play(&["mailbox/reply_review"], true)]
    );
    run
}

#[test]
fn a_staff_flow_files_nothing_even_at_hang_up() {
    let flow = small_flow(MAILBOX_FLOW);
    assert!(!flow.files_messages());
    let (mut run, _) = start(flow);
    let out = step(&mut run, IvrInput::CallEnded, 1);
    assert_eq!(out, []);
    assert!(run.is_finished());
}

#[test]
fn a_login_with_keys_typed_during_the_prompts_is_verified() {
    let (mut run, out) = start(small_flow(MAILBOX_FLOW));
    assert_eq!(out, [play(&["mailbox/enter_mailbox"], true)]);
    // Type-ahead: the first digit stops the prompt and counts.
    assert_eq!(keys(&mut run, "5", 1), [IvrOutput::StopPlayback]);
    assert_eq!(
        keys(&mut run, "01#", 2),
        [play(&["mailbox/enter_pin"], true)]
    );
    let out = keys(&mut run, "1234#", 3);
    assert_eq!(out, [IvrOutput::StopPlayback, verify("501", "1234")]);
    assert_eq!(run.armed_timer().map(|t| t.0), Some(IvrTimer::EngineReply));
    // Keys while the engine checks are dropped.
    assert_eq!(keys(&mut run, "9", 4), []);
}

#[test]
fn a_login_accepted_says_the_count_of_new_messages_then_the_first() {
    let (mut run, out) = logged_in(two_items());
    assert_eq!(
        out,
        [play(
            &["mailbox/you_have", "num/1", "mailbox/new_messages"],
            true
        )]
    );
    assert_eq!(run.variable("mailbox"), Some("501"));
    assert_eq!(run.current_node(), "messages");
    let out = step(&mut run, IvrInput::PlaybackFinished, 6);
    assert_eq!(
        out,
        [listened("A1"), item_prompts("1888", "complaint", "rec-A1")]
    );
}

#[test]
fn three_wrong_pins_say_goodbye() {
    let (mut run, _) = start(small_flow(MAILBOX_FLOW));
    for attempt in 0..3 {
        let at = 10 * attempt;
        assert_eq!(log_in_at(&mut run, at), [verify("501", "1234")]);
        let out = step(&mut run, IvrInput::ManagerLogin(LoginResult::Wrong), at + 5);
        if attempt < 2 {
            assert_eq!(
                out,
                [play(
                    &["mailbox/login_wrong", "mailbox/enter_mailbox"],
                    true
                )]
            );
        } else {
            assert_eq!(out, [play(&["mailbox/login_wrong"], false)]);
        }
    }
    assert_eq!(
        step(&mut run, IvrInput::PlaybackFinished, 40),
        [play(&["p/bye"], false)]
    );
    assert_eq!(run.current_node(), "bye");
}

fn log_in_at(run: &mut IvrRun, at: u64) -> Vec<IvrOutput> {
    step(run, IvrInput::PlaybackFinished, at + 1);
    keys(run, "501#", at + 2);
    step(run, IvrInput::PlaybackFinished, at + 3);
    keys(run, "1234#", at + 4)
}

#[test]
fn a_limited_login_says_try_later_and_ends() {
    let (mut run, _) = start(small_flow(MAILBOX_FLOW));
    log_in(&mut run);
    let out = step(&mut run, IvrInput::ManagerLogin(LoginResult::Limited), 5);
    assert_eq!(out, [play(&["mailbox/login_limited"], false)]);
    step(&mut run, IvrInput::PlaybackFinished, 9);
    assert_eq!(run.current_node(), "bye");
}

#[test]
fn silence_at_the_login_counts_as_a_try() {
    let (mut run, _) = start(small_flow(MAILBOX_FLOW));
    step(&mut run, IvrInput::PlaybackFinished, 1);
    assert_eq!(run.armed_timer(), Some((IvrTimer::FirstDigit, secs(8))));
    run.handle_timeout(secs(8));
    assert_eq!(
        outputs(&mut run),
        [play(&["ivr/no_input", "mailbox/enter_mailbox"], true)]
    );
    // A PIN left unfinished ends by the pause, and is checked.
    step(&mut run, IvrInput::PlaybackFinished, 9);
    keys(&mut run, "501#", 10);
    step(&mut run, IvrInput::PlaybackFinished, 11);
    keys(&mut run, "12", 12);
    run.handle_timeout(secs(16));
    assert_eq!(outputs(&mut run), [verify("501", "12")]);
    step(&mut run, IvrInput::ManagerLogin(LoginResult::Wrong), 17);
    step(&mut run, IvrInput::PlaybackFinished, 18);
    run.handle_timeout(secs(25));
    // Three tries spent: silence, wrong, silence.
    assert_eq!(outputs(&mut run), [play(&["p/bye"], false)]);
}

#[test]
fn an_empty_mailbox_says_so_and_goes_on() {
    let (mut run, out) = logged_in(Vec::new());
    assert_eq!(out, [play(&["mailbox/no_messages"], false)]);
    step(&mut run, IvrInput::PlaybackFinished, 6);
    assert_eq!(run.current_node(), "bye");
}

#[test]
fn no_new_messages_still_plays_the_old_ones() {
    let items = vec![item("B2", "137", MessageKind::UrbanProblem, false)];
    let (mut run, out) = logged_in(items);
    assert_eq!(out, [play(&["mailbox/no_new_messages"], true)]);
    let out = step(&mut run, IvrInput::PlaybackFinished, 6);
    assert_eq!(
        out,
        [
            listened("B2"),
            item_prompts("137", "urban_problem", "rec-B2")
        ]
    );
}

#[test]
fn a_reply_is_sent_and_sent_is_said_only_after_the_store_saved_it() {
    let mut run = reviewing();
    let out = keys(&mut run, "1", 41);
    assert_eq!(
        out,
        [
            IvrOutput::StopPlayback,
            IvrOutput::SendReply {
                tracking_code: "A1".into(),
                recording_id: "take-1".into(),
            }
        ]
    );
    // Nothing is said while the engine saves; keys are dropped.
    assert_eq!(keys(&mut run, "1", 42), []);
    let out = step(&mut run, IvrInput::MailboxSaved(true), 43);
    assert_eq!(out, [play(&["mailbox/reply_sent"], false)]);
    let out = step(&mut run, IvrInput::PlaybackFinished, 45);
    assert_eq!(
        out,
        [
            listened("B2"),
            item_prompts("137", "urban_problem", "rec-B2")
        ]
    );
    // The sent take is the message's reply now: a hang-up does not discard it.
    assert_eq!(step(&mut run, IvrInput::CallEnded, 50), []);
}

#[test]
fn a_reply_the_store_did_not_save_is_not_said_sent_and_may_be_sent_again() {
    let mut run = reviewing();
    keys(&mut run, "1", 41);
    let out = step(&mut run, IvrInput::MailboxSaved(false), 43);
    assert_eq!(
        out,
        [play(&["mailbox/not_saved", "mailbox/reply_review"], true)]
    );
    let out = keys(&mut run, "1", 44);
    assert!(out.contains(&IvrOutput::SendReply {
        tracking_code: "A1".into(),
        recording_id: "take-1".into(),
    }));
    // The engine never answers: a failure too.
    run.handle_timeout(secs(44) + crate::ivr::run::ENGINE_REPLY_TIMEOUT);
    assert_eq!(
        outputs(&mut run),
        [play(&["mailbox/not_saved", "mailbox/reply_review"], true)]
    );
}

#[test]
fn re_recording_discards_the_take_and_listening_plays_it() {
    let mut run = reviewing();
    let out = keys(&mut run, "3", 41);
    assert_eq!(
        out,
        [
            IvrOutput::StopPlayback,
            play(&["recording:take-1", "mailbox/reply_review"], true)
        ]
    );
    let out = keys(&mut run, "2", 45);
    assert_eq!(
        out,
        [
            IvrOutput::StopPlayback,
            IvrOutput::DiscardRecording,
            play(&["mailbox/reply_instructions", "beep"], false)
        ]
    );
}

#[test]
fn hanging_up_during_a_reply_discards_it_and_files_nothing() {
    let mut run = at_first_menu();
    keys(&mut run, "1", 26);
    step(&mut run, IvrInput::PlaybackFinished, 30);
    let hung_up = IvrInput::RecordingStopped {
        duration_ms: 4_000,
        reason: RecordEnd::HangUp,
        recording: None,
    };
    assert_eq!(step(&mut run, hung_up, 34), []);
    assert_eq!(
        step(&mut run, IvrInput::CallEnded, 34),
        [IvrOutput::DiscardRecording]
    );
    // And at the review, too.
    let mut run = reviewing();
    assert_eq!(
        step(&mut run, IvrInput::CallEnded, 41),
        [IvrOutput::DiscardRecording]
    );
}

#[test]
fn next_previous_and_repeat_move_through_the_list() {
    let mut run = at_first_menu();
    let first = item_prompts("1888", "complaint", "rec-A1");
    let second = item_prompts("137", "urban_problem", "rec-B2");
    let out = keys(&mut run, "2", 26);
    assert_eq!(out, [listened("B2"), second.clone()]);
    // A key during a message is an item-menu key (barge-in).
    let out = keys(&mut run, "4", 27);
    assert_eq!(
        out,
        [IvrOutput::StopPlayback, listened("A1"), first.clone()]
    );
    let out = keys(&mut run, "3", 28);
    assert_eq!(
        out,
        [IvrOutput::StopPlayback, listened("A1"), first.clone()]
    );
    // Previous at the first message repeats it.
    let out = keys(&mut run, "4", 29);
    assert_eq!(out, [IvrOutput::StopPlayback, listened("A1"), first]);
    keys(&mut run, "2", 30);
    let out = keys(&mut run, "2", 31);
    assert_eq!(
        out,
        [
            IvrOutput::StopPlayback,
            play(&["mailbox/no_more_messages"], false)
        ]
    );
    step(&mut run, IvrInput::PlaybackFinished, 33);
    assert_eq!(run.current_node(), "bye");
}

#[test]
fn marking_handled_waits_for_the_store() {
    let mut run = at_first_menu();
    let out = keys(&mut run, "9", 26);
    assert_eq!(
        out,
        [IvrOutput::MarkHandled {
            tracking_code: "A1".into()
        }]
    );
    let out = step(&mut run, IvrInput::MailboxSaved(false), 27);
    assert_eq!(
        out,
        [play(&["mailbox/not_saved", "mailbox/item_menu"], true)]
    );
    keys(&mut run, "9", 28);
    let out = step(&mut run, IvrInput::MailboxSaved(true), 29);
    assert_eq!(out, [play(&["mailbox/marked_handled"], false)]);
    let out = step(&mut run, IvrInput::PlaybackFinished, 31);
    assert_eq!(out[0], listened("B2"));
}

#[test]
fn a_silent_item_menu_re_prompts_twice_then_goes_on() {
    let mut run = at_first_menu();
    for n in 1..=2 {
        let (_, at) = run.armed_timer().unwrap_or_else(|| panic!("armed"));
        run.handle_timeout(at);
        assert_eq!(
            outputs(&mut run),
            [play(&["ivr/no_input", "mailbox/item_menu"], true)],
            "re-prompt {n}"
        );
        step(&mut run, IvrInput::PlaybackFinished, at.as_secs() + 1);
    }
    let (_, at) = run.armed_timer().unwrap_or_else(|| panic!("armed"));
    run.handle_timeout(at);
    assert_eq!(outputs(&mut run), [play(&["p/bye"], false)]);
}

#[test]
fn a_staff_flow_may_not_file_or_queue() {
    let text = format!("{MAILBOX_FLOW}  other:\n    type: file\n    next: bye\n")
        .replace("fail: bye", "fail: other");
    let errors = match load_flow("m.yaml", &text, &|_| true, &[]) {
        Ok(_) => panic!("a file node in a staff flow loads"),
        Err(errors) => errors,
    };
    assert!(
        errors.iter().any(|e| e
            .to_string()
            .contains("a manager's call files no citizen message")),
        "{errors:?}"
    );
}

#[test]
fn a_manager_who_knows_the_menu_keys_the_mailbox_during_the_welcome() {
    let (mut run, out) = start(real("mailbox"));
    assert_eq!(out, [play(&["mailbox/welcome"], true)]);
    assert_eq!(keys(&mut run, "5", 1), [IvrOutput::StopPlayback]);
    assert_eq!(run.current_node(), "login");
    let out = keys(&mut run, "01#1234#", 2);
    assert_eq!(
        out,
        [
            play(&["mailbox/enter_pin"], true),
            IvrOutput::StopPlayback,
            verify("501", "1234")
        ]
    );
}

#[test]
fn a_pin_never_shows_in_debug_output() {
    let request = IvrOutput::VerifyManager {
        mailbox: "501".into(),
        pin: crate::ivr::Pin("5011".into()),
    };
    let shown = format!("{request:?}");
    assert!(!shown.contains("5011"), "{shown}");
    assert!(shown.contains("4 digits"), "{shown}");
}
