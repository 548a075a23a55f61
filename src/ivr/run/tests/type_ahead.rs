//! Type-ahead: keys pressed while a question or its apology plays are the start of the answer,
//! on every collect node of the real trees, and a key during the welcome is a main-menu choice.

use super::*;
use crate::ivr::tracking::make_tracking_code;

/// The node after the welcome was cut by a key: the main menu's choice `key`, with the prompt
/// of that choice already playing (with barge-in).
fn choose_during_welcome(line: &str, key: &str) -> IvrRun {
    let (mut run, out) = start(real(line));
    assert_eq!(out, [play(&[&format!("ivr/welcome_{line}")], true)]);
    let out = keys(&mut run, key, 1);
    assert_eq!(
        out.first(),
        Some(&IvrOutput::StopPlayback),
        "{line}: {out:?}"
    );
    run
}

/// Whether `out` stopped the prompt and then asked for `kind`/`number`.
fn looked_up(out: &[IvrOutput], number: &str) -> bool {
    out.iter()
        .any(|o| matches!(o, IvrOutput::LookupCase { number: n, .. } if n == number))
}

#[test]
fn a_key_during_the_welcome_of_either_line_is_a_main_menu_choice() {
    for line in ["137", "1888"] {
        let mut run = choose_during_welcome(line, "4");
        assert_eq!(run.current_node(), "case_kind_menu", "{line}");
        let out = step(&mut run, IvrInput::PlaybackFinished, 3);
        assert_eq!(out, [], "{line}: the menu waits for its key");
        keys(&mut run, "1", 4);
        assert_eq!(run.current_node(), "case_number", "{line}");
    }
}

#[test]
fn a_case_number_typed_during_its_question_is_the_answer() {
    for line in ["137", "1888"] {
        let mut run = choose_during_welcome(line, "4");
        keys(&mut run, "1", 2); // during the case-kind menu
        assert_eq!(run.current_node(), "case_number");
        let out = keys(&mut run, "12345#", 3);
        assert_eq!(
            out.first(),
            Some(&IvrOutput::StopPlayback),
            "{line}: {out:?}"
        );
        assert!(looked_up(&out, "12345"), "{line}: {out:?}");
    }
}

#[test]
fn a_case_number_typed_during_the_no_input_apology_is_the_answer() {
    for line in ["137", "1888"] {
        let mut run = choose_during_welcome(line, "41");
        step(&mut run, IvrInput::PlaybackFinished, 3);
        run.handle_timeout(secs(20)); // no first digit
        let out = outputs(&mut run);
        assert!(
            out.iter()
                .any(|o| matches!(o, IvrOutput::Play { barge_in: true, .. })),
            "{line}: the apology and question again, with barge-in: {out:?}"
        );
        let out = keys(&mut run, "9876#", 21);
        assert_eq!(
            out.first(),
            Some(&IvrOutput::StopPlayback),
            "{line}: {out:?}"
        );
        assert!(looked_up(&out, "9876"), "{line}: {out:?}");
    }
}

/// "Not found, enter the number again": the keys pressed while it plays are the new number.
#[test]
fn a_case_number_typed_during_not_found_enter_it_again_is_the_answer() {
    for line in ["137", "1888"] {
        let mut run = choose_during_welcome(line, "41");
        keys(&mut run, "12345#", 2);
        let out = step(&mut run, IvrInput::CaseFound(None), 3);
        assert_eq!(out, [play(&["ivr/case_not_found_retry"], true)], "{line}");
        let out = keys(&mut run, "54321#", 4);
        assert_eq!(
            out.first(),
            Some(&IvrOutput::StopPlayback),
            "{line}: {out:?}"
        );
        assert_eq!(run.current_node(), "case_lookup_again", "{line}");
        assert!(looked_up(&out, "54321"), "{line}: {out:?}");
    }
}

#[test]
fn a_case_number_typed_during_the_second_question_is_the_answer() {
    for line in ["137", "1888"] {
        let mut run = choose_during_welcome(line, "41");
        keys(&mut run, "12345#", 2);
        step(&mut run, IvrInput::CaseFound(None), 3);
        step(&mut run, IvrInput::PlaybackFinished, 6);
        assert_eq!(run.current_node(), "case_number_again", "{line}");
        let out = keys(&mut run, "777#", 7);
        assert_eq!(
            out.first(),
            Some(&IvrOutput::StopPlayback),
            "{line}: {out:?}"
        );
        assert!(looked_up(&out, "777"), "{line}: {out:?}");
    }
}

#[test]
fn a_tracking_code_typed_during_its_question_or_the_invalid_apology_is_the_answer() {
    let code = make_tracking_code(42);
    for line in ["137", "1888"] {
        let mut run = choose_during_welcome(line, "2");
        assert_eq!(run.current_node(), "follow_code");
        // Too short: the apology and the question again, with barge-in.
        let out = keys(&mut run, "1234#", 2);
        assert_eq!(
            out,
            [
                IvrOutput::StopPlayback,
                play(&["ivr/code_invalid", "ivr/enter_tracking_code"], true)
            ],
            "{line}"
        );
        let out = keys(&mut run, &format!("{code}#"), 3);
        assert_eq!(
            out.first(),
            Some(&IvrOutput::StopPlayback),
            "{line}: {out:?}"
        );
        assert!(
            out.contains(&IvrOutput::LookupMessage {
                tracking_code: code.clone()
            }),
            "{line}: {out:?}"
        );
    }
}

#[test]
fn a_district_typed_during_its_question_or_the_invalid_apology_is_the_answer() {
    let mut run = choose_during_welcome("137", "1");
    assert_eq!(run.current_node(), "report_district");
    let out = keys(&mut run, "23", 2); // two digits end it; 23 is not a district
    assert_eq!(
        out,
        [
            IvrOutput::StopPlayback,
            play(&["ivr/district_invalid", "ivr/enter_district"], true)
        ]
    );
    let out = keys(&mut run, "6#", 3);
    assert_eq!(out.first(), Some(&IvrOutput::StopPlayback), "{out:?}");
    assert_eq!(run.current_node(), "report_category");
}

/// "All call-takers are busy" on 1888 asks what kind of message follows: a key pressed during it
/// is that choice.
#[test]
fn a_kind_typed_during_all_busy_on_1888_is_the_choice() {
    let mut run = choose_during_welcome("1888", "0");
    step(&mut run, IvrInput::PlaybackFinished, 3);
    step(&mut run, IvrInput::QueueResult(QueueOutcome::NoAgents), 4);
    assert_eq!(run.current_node(), "agent_busy");
    let out = keys(&mut run, "3", 5);
    assert_eq!(out.first(), Some(&IvrOutput::StopPlayback), "{out:?}");
    assert_eq!(run.current_node(), "voice_message");
}
