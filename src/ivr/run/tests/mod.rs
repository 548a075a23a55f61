//! The interpreter on a virtual clock: exact outputs and timers for barge-in, digit timing,
//! recording, filing, engine failures, stale inputs and hang-ups.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use super::io::*;
use super::IvrRun;
use crate::ivr::case::{CaseInfo, CaseKind};
use crate::ivr::flow::load::load_flow;
use crate::ivr::flow::{Flow, GotoNode, Node, NodeKind, SetNode};
use crate::ivr::tests::{case_fixture, ctx, real_flows};

mod mailbox;
mod record;
mod type_ahead;

pub(super) fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

pub(super) fn small_flow(text: &str) -> Arc<Flow> {
    match load_flow("t.yaml", text, &|_| true, &["q".to_owned()]) {
        Ok(flow) => Arc::new(flow),
        Err(e) => panic!("test flow: {e:?}"),
    }
}

pub(super) fn real(line: &str) -> Arc<Flow> {
    match real_flows().get(line) {
        Some(flow) => flow,
        None => panic!("no flow {line}"),
    }
}

pub(super) fn outputs(run: &mut IvrRun) -> Vec<IvrOutput> {
    std::iter::from_fn(|| run.poll_output()).collect()
}

pub(super) fn step(run: &mut IvrRun, input: IvrInput, at: u64) -> Vec<IvrOutput> {
    run.handle_input(input, secs(at));
    outputs(run)
}

pub(super) fn keys(run: &mut IvrRun, digits: &str, at: u64) -> Vec<IvrOutput> {
    digits
        .chars()
        .flat_map(|d| step(run, IvrInput::Digit(d), at))
        .collect()
}

pub(super) fn play(prompts: &[&str], barge_in: bool) -> IvrOutput {
    let prompts = prompts.iter().map(|p| (*p).to_owned()).collect();
    IvrOutput::Play { prompts, barge_in }
}

pub(super) fn filed(outputs: &[IvrOutput]) -> Vec<&MessageDraft> {
    outputs
        .iter()
        .filter_map(|o| match o {
            IvrOutput::File(d) => Some(d),
            _ => None,
        })
        .collect()
}

const NUMBER_FLOW: &str = r#"line: "t"
start: ask
nodes:
  ask:
    type: collect
    prompt: p/ask
    into: number
    next: bye
  bye:
    type: hangup
    prompt: p/bye
"#;

pub(super) fn start(flow: Arc<Flow>) -> (IvrRun, Vec<IvrOutput>) {
    let line = flow.line.clone();
    let mut run = IvrRun::start(flow, ctx(&line, true), Duration::ZERO);
    let out = outputs(&mut run);
    (run, out)
}

#[test]
fn a_digit_during_the_welcome_goes_straight_to_its_menu_choice() {
    let (mut run, out) = start(real("1888"));
    assert_eq!(out, [play(&["ivr/welcome_1888"], true)]);
    let out = keys(&mut run, "4", 1);
    assert_eq!(
        out,
        [IvrOutput::StopPlayback, play(&["ivr/menu_case_kind"], true)]
    );
    assert_eq!(run.current_node(), "case_kind_menu");
}

#[test]
fn keys_during_a_prompt_without_barge_in_are_dropped() {
    let (mut run, _) = start(real("1888"));
    step(&mut run, IvrInput::PlaybackFinished, 3);
    step(&mut run, IvrInput::PlaybackFinished, 9);
    assert_eq!(
        keys(&mut run, "0", 10),
        [play(&["ivr/connecting_agent"], false)]
    );
    assert_eq!(keys(&mut run, "5", 11), []);
    let queue = "1888".to_owned();
    assert_eq!(
        step(&mut run, IvrInput::PlaybackFinished, 13),
        [IvrOutput::Enqueue {
            queue,
            priority: 0,
            draft: MessageDraft {
                line: "1888".into(),
                kind: MessageKind::Guidance,
                district: None,
                category: None,
                case_number: None,
                recording_id: None,
                recording_pending: false,
            }
        }]
    );
    // A call-taker answers: the message is filed and the run ends without hanging up.
    let out = step(&mut run, IvrInput::QueueResult(QueueOutcome::Answered), 40);
    assert_eq!(
        filed(&out).first().map(|d| d.kind),
        Some(MessageKind::Guidance)
    );
    assert!(!out.contains(&IvrOutput::Hangup));
    assert!(run.is_finished() && run.poll_timeout().is_none());
}

#[test]
fn collect_times_the_first_digit_then_each_next_digit() {
    let (mut run, _) = start(small_flow(NUMBER_FLOW));
    step(&mut run, IvrInput::PlaybackFinished, 2);
    assert_eq!(run.armed_timer(), Some((IvrTimer::FirstDigit, secs(9))));
    assert!(run.waiting_for_caller());
    keys(&mut run, "1", 3);
    assert_eq!(run.armed_timer(), Some((IvrTimer::InterDigit, secs(7))));
    keys(&mut run, "2", 4);
    assert_eq!(run.poll_timeout(), Some(secs(8)));
    run.handle_timeout(secs(7));
    assert_eq!(outputs(&mut run), [], "not yet due");
    run.handle_timeout(secs(8));
    assert_eq!(outputs(&mut run), [play(&["p/bye"], false)]);
    assert_eq!(run.variable("number"), Some("12"));
}

#[test]
fn star_restarts_a_number_and_pound_ends_it() {
    let (mut run, _) = start(small_flow(NUMBER_FLOW));
    step(&mut run, IvrInput::PlaybackFinished, 2);
    assert_eq!(keys(&mut run, "9*", 3), [play(&["p/ask"], true)]);
    assert_eq!(
        keys(&mut run, "5#", 4),
        [IvrOutput::StopPlayback, play(&["p/bye"], false)]
    );
    assert_eq!(run.variable("number"), Some("5"));
}

#[test]
fn silence_at_a_menu_reprompts_then_ends_politely_and_files_once() {
    let flow = small_flow(
        "line: t\nstart: m\nnodes:\n  m:\n    type: menu\n    prompt: p/m\n    keys: {\"1\": b}\n  b:\n    type: hangup\n",
    );
    let (mut run, _) = start(flow);
    step(&mut run, IvrInput::PlaybackFinished, 0);
    assert_eq!(run.armed_timer(), Some((IvrTimer::NoInput, secs(6))));
    run.handle_timeout(secs(6));
    assert_eq!(outputs(&mut run), [play(&["ivr/no_input", "p/m"], true)]);
    assert_eq!(
        keys(&mut run, "7", 8),
        [
            IvrOutput::StopPlayback,
            play(&["ivr/invalid_key", "p/m"], true)
        ]
    );
    step(&mut run, IvrInput::PlaybackFinished, 12);
    run.handle_timeout(secs(18));
    assert_eq!(outputs(&mut run), [play(&["ivr/goodbye_no_input"], false)]);
    let out = step(&mut run, IvrInput::PlaybackFinished, 22);
    assert_eq!(filed(&out).len(), 1);
    assert_eq!(filed(&out)[0].kind, MessageKind::Unusable);
    assert_eq!(out.last(), Some(&IvrOutput::Hangup));
    assert!(run.is_finished());
    assert_eq!(
        step(&mut run, IvrInput::CallEnded, 23),
        [],
        "nothing after the end"
    );
}

fn case_flow() -> Arc<Flow> {
    small_flow(
        "line: t\nstart: ask\nnodes:\n  ask:\n    type: collect\n    prompt: p/ask\n    into: case_number\n    next: look\n  look:\n    type: lookup\n    kind: article100\n    number: case_number\n    found: yes\n    not_found: no\n  yes:\n    type: say\n    parts:\n      - [p/verdict, {verdict: case_verdict}]\n      - [p/days, {number: case_days_to_object}]\n    next: ask\n  no:\n    type: hangup\n    prompt: p/no\n",
    )
}

#[test]
fn a_lookup_the_engine_never_answers_is_not_found() {
    let (mut run, _) = start(case_flow());
    step(&mut run, IvrInput::PlaybackFinished, 1);
    let out = keys(&mut run, "555#", 2);
    let lookup = IvrOutput::LookupCase {
        kind: CaseKind::Article100,
        number: "555".into(),
    };
    assert_eq!(out, [lookup]);
    assert_eq!(
        keys(&mut run, "1", 3),
        [],
        "keys while the engine looks are dropped"
    );
    run.handle_timeout(secs(22));
    assert_eq!(outputs(&mut run), [play(&["p/no"], false)]);
    let out = step(&mut run, IvrInput::PlaybackFinished, 25);
    assert_eq!(filed(&out)[0].kind, MessageKind::CaseInquiry);
    assert_eq!(filed(&out)[0].case_number.as_deref(), Some("555"));
}

#[test]
fn a_second_case_does_not_inherit_the_first_cases_verdict() {
    let (mut run, _) = start(case_flow());
    step(&mut run, IvrInput::PlaybackFinished, 1);
    keys(&mut run, "22001840320#", 2);
    let served = case_fixture(CaseKind::Article100, "22001840320");
    let out = step(&mut run, IvrInput::CaseFound(served), 3);
    assert_eq!(
        out,
        [play(
            &["p/verdict", "verdict/fine", "p/days", "num/7"],
            false
        )]
    );
    step(&mut run, IvrInput::PlaybackFinished, 10);
    step(&mut run, IvrInput::PlaybackFinished, 12);
    keys(&mut run, "9001#", 13);
    let referred: Option<CaseInfo> = case_fixture(CaseKind::Article100, "9001");
    let out = step(&mut run, IvrInput::CaseFound(referred), 14);
    // Nothing to say for a case with no verdict: straight back to the question.
    assert_eq!(out, [play(&["p/ask"], true)]);
}

#[test]
fn answers_that_do_not_fit_the_wait_are_ignored() {
    let (mut run, _) = start(case_flow());
    assert_eq!(step(&mut run, IvrInput::CaseFound(None), 1), []);
    assert_eq!(
        step(
            &mut run,
            IvrInput::Filed {
                tracking_code: "1".into()
            },
            1
        ),
        []
    );
    assert_eq!(
        step(&mut run, IvrInput::QueueResult(QueueOutcome::Exit), 1),
        []
    );
    step(&mut run, IvrInput::PlaybackFinished, 1);
    assert_eq!(
        step(&mut run, IvrInput::PlaybackFinished, 2),
        [],
        "no prompt is playing"
    );
    assert_eq!(run.current_node(), "ask");
}

#[test]
fn a_runaway_flow_is_hung_up_instead_of_spinning() {
    // Loading refuses this loop; build it by hand to check the run's own guard.
    let node = |name: &str, kind| Node {
        name: name.into(),
        line: 1,
        kind,
    };
    let mut nodes = BTreeMap::new();
    let set = SetNode {
        vars: vec![("x".into(), "1".into())],
        next: "b".into(),
    };
    nodes.insert("a".into(), node("a", NodeKind::Set(set)));
    nodes.insert(
        "b".into(),
        node("b", NodeKind::Goto(GotoNode { next: "a".into() })),
    );
    let flow = Flow {
        line: "t".into(),
        file: "t.yaml".into(),
        start: "a".into(),
        description: None,
        hours: None,
        nodes,
    };
    let (run, out) = start(Arc::new(flow));
    assert_eq!(filed(&out).len(), 1);
    assert_eq!(out.last(), Some(&IvrOutput::Hangup));
    assert!(run.is_finished());
}
