//! Load-time validation: each kind of mistake is reported with the file, the line and the node.

use super::error::{FlowError, FlowErrorKind};
use super::load::{load_flow, load_flows};
use super::{Flow, NodeKind, Validation};

const FILE: &str = "t.yaml";

/// Prompts under `missing/` do not exist; every other prompt does.
fn load(text: &str) -> Result<Flow, Vec<FlowError>> {
    load_flow(
        FILE,
        text,
        &|p| !p.starts_with("missing/"),
        &["q1".to_owned()],
    )
}

fn errors(text: &str) -> Vec<FlowError> {
    match load(text) {
        Ok(_) => panic!("flow accepted:\n{text}"),
        Err(errors) => errors,
    }
}

/// Asserts exactly one error, at `line` and `node`, and returns its kind.
fn one_error(text: &str, line: usize, node: Option<&str>) -> FlowErrorKind {
    let errors = errors(text);
    assert_eq!(errors.len(), 1, "expected one error, got {errors:#?}");
    let [error] = <[FlowError; 1]>::try_from(errors).unwrap_or_else(|_| panic!("one error"));
    assert_eq!(error.file, FILE);
    assert_eq!((error.line, error.node.as_deref()), (line, node), "{error}");
    error.kind
}

/// A valid flow; tests replace one line of it.
const BASE: &str = r#"line: "t"
start: menu
nodes:
  menu:
    type: menu
    prompt: p/menu
    keys:
      "1": bye
      "2": ask
  ask:
    type: collect
    prompt: p/ask
    into: number
    next: say
  say:
    type: say
    parts:
      - [p/you_said, {digits: number}]
    next: bye
  bye:
    type: hangup
    prompt: p/bye
"#;

fn with(from: &str, to: &str) -> String {
    assert!(BASE.contains(from), "`{from}` is not in the base flow");
    BASE.replacen(from, to, 1)
}

#[test]
fn the_base_flow_loads_with_defaults() {
    let flow = match load(BASE) {
        Ok(flow) => flow,
        Err(e) => panic!("{e:?}"),
    };
    assert_eq!((flow.line.as_str(), flow.start.as_str()), ("t", "menu"));
    let Some(NodeKind::Collect(ask)) = flow.node("ask").map(|n| &n.kind) else {
        panic!("ask is a collect node");
    };
    assert_eq!(
        (ask.min_digits, ask.max_digits, ask.terminator),
        (1, 20, '#')
    );
    assert_eq!(ask.first_digit_timeout.as_secs(), 7);
    assert_eq!(ask.inter_digit_timeout.as_secs(), 4);
    assert_eq!(ask.validate, Validation::Any);
    assert_eq!(flow.node("ask").map(|n| n.line), Some(10));
}

#[test]
fn yaml_syntax_errors_carry_their_line() {
    let kind = one_error(&with("    keys:\n", "    keys: [\n"), 9, None);
    assert!(matches!(kind, FlowErrorKind::Syntax(_)), "{kind:?}");
    let kind = one_error(&with("start: menu\n", "start: menu\nstart2: x\n"), 3, None);
    assert!(matches!(kind, FlowErrorKind::Syntax(m) if m.contains("start2")));
}

#[test]
fn a_syntax_error_never_names_a_line_past_the_end() {
    // An unclosed list on the last line, no newline after it, and lone CRs the YAML reader
    // counts as line breaks: the error still names a line of the file.
    let text = format!("{}# a\r# b\rflow: [x,", BASE);
    let last = text.lines().count();
    let errors = errors(&text);
    assert!(!errors.is_empty());
    assert!(
        errors.iter().all(|e| e.line >= 1 && e.line <= last),
        "{errors:#?}"
    );
}

#[test]
fn unknown_targets_point_at_the_field() {
    let kind = one_error(
        &with("    next: bye\n", "    next: bye2\n"),
        19,
        Some("say"),
    );
    assert_eq!(
        kind,
        FlowErrorKind::UnknownTarget {
            field: "next".into(),
            target: "bye2".into()
        }
    );
    // The `say` node is now unreachable too, so both are reported.
    let errors = errors(&with("\"2\": ask", "\"2\": asc"));
    let lines: Vec<(usize, Option<&str>)> =
        errors.iter().map(|e| (e.line, e.node.as_deref())).collect();
    assert_eq!(
        lines,
        [(9, Some("menu")), (10, Some("ask")), (15, Some("say"))]
    );
    assert!(
        matches!(&errors[0].kind, FlowErrorKind::UnknownTarget { field, .. } if field == "keys.2")
    );
    assert_eq!(errors[1].kind, FlowErrorKind::Unreachable);
}

#[test]
fn unknown_start_names_the_start_line() {
    let kind = one_error(&with("start: menu", "start: welcome"), 2, None);
    assert_eq!(kind, FlowErrorKind::UnknownStart("welcome".into()));
}

#[test]
fn unreachable_node_is_reported_at_its_line() {
    let text = format!("{BASE}  orphan:\n    type: hangup\n");
    assert_eq!(
        one_error(&text, 23, Some("orphan")),
        FlowErrorKind::Unreachable
    );
}

#[test]
fn missing_prompts_are_reported_fixed_and_spoken() {
    let kind = one_error(
        &with("prompt: p/ask", "prompt: missing/ask"),
        12,
        Some("ask"),
    );
    assert_eq!(kind, FlowErrorKind::MissingPrompt("missing/ask".into()));
    // A say node reading digits needs every digit recorded.
    let result = load_flow(FILE, BASE, &|p| p != "digit/5", &[]);
    let Err(errors) = result else {
        panic!("a missing digit prompt was accepted")
    };
    assert_eq!(errors.len(), 1);
    assert_eq!(
        (errors[0].line, errors[0].node.as_deref()),
        (17, Some("say"))
    );
    assert_eq!(
        errors[0].kind,
        FlowErrorKind::MissingPrompt("digit/5".into())
    );
    // Defaults count too: a menu without its own re-prompt needs `ivr/no_input`.
    let result = load_flow(FILE, BASE, &|p| p != "ivr/no_input", &[]);
    assert!(
        result.is_err_and(|e| e.len() == 2),
        "menu and collect use the default"
    );
}

#[test]
fn a_menu_key_without_target_is_reported_at_the_key() {
    let kind = one_error(&with("\"1\": bye", "\"1\":"), 8, Some("menu"));
    assert_eq!(kind, FlowErrorKind::KeyWithoutTarget("1".into()));
}

#[test]
fn bad_field_values_name_node_field_and_line() {
    let cases: [(&str, &str, usize, &str, &str); 8] = [
        ("\"1\": bye", "\"12\": bye", 8, "menu", "12"),
        (
            "    prompt: p/menu",
            "    prompt: p/menu\n    timeout: 0",
            7,
            "menu",
            "timeout",
        ),
        (
            "    into: number",
            "    into: number\n    min_digits: 9\n    max_digits: 3",
            14,
            "ask",
            "min_digits",
        ),
        (
            "    into: number",
            "    into: number\n    range: 22-1",
            14,
            "ask",
            "range",
        ),
        (
            "    into: number",
            "    into: number\n    validate: luhn",
            14,
            "ask",
            "validate",
        ),
        ("    into: number", "    into: Number", 13, "ask", "into"),
        (
            "    type: hangup",
            "    type: hangup\n    next: menu",
            22,
            "bye",
            "next",
        ),
        ("    type: hangup", "    type: hang_up", 21, "bye", "type"),
    ];
    for (from, to, line, node, field) in cases {
        let kind = one_error(&with(from, to), line, Some(node));
        assert!(
            matches!(&kind, FlowErrorKind::BadValue { field: f, .. } if f == field),
            "{to}: {kind:?}"
        );
    }
}

#[test]
fn set_values_with_a_meaning_are_checked() {
    let set = "    type: set\n    set: {kind: praise}\n    next: menu";
    let kind = one_error(
        &with("    type: hangup\n    prompt: p/bye", set),
        22,
        Some("bye"),
    );
    assert!(matches!(kind, FlowErrorKind::BadValue { field, .. } if field == "set.kind"));
    let key = "\"1\": {next: bye, set: {district: 23}}";
    let kind = one_error(&with("\"1\": bye", key), 8, Some("menu"));
    assert!(matches!(kind, FlowErrorKind::BadValue { reason, .. } if reason.contains("district")));
}

#[test]
fn a_queue_priority_outside_0_to_9_is_a_bad_value() {
    let queue =
        "    type: queue\n    queue: q1\n    priority: 12\n    answered: menu\n    otherwise: menu";
    let kind = one_error(
        &with("    type: hangup\n    prompt: p/bye", queue),
        23, // the priority line itself
        Some("bye"),
    );
    assert!(
        matches!(&kind, FlowErrorKind::BadValue { field, .. } if field == "priority"),
        "{kind:?}"
    );
    let ok =
        "    type: queue\n    queue: q1\n    priority: 9\n    answered: menu\n    otherwise: menu";
    let flow = load(&with("    type: hangup\n    prompt: p/bye", ok));
    let node = flow
        .ok()
        .and_then(|f| f.nodes.get("bye").map(|n| n.kind.clone()));
    assert!(
        matches!(node, Some(NodeKind::Queue(ref q)) if q.priority == 9),
        "{node:?}"
    );
}

#[test]
fn unknown_queue_is_reported_at_the_queue_field() {
    let queue = "    type: queue\n    queue: q2\n    answered: menu\n    otherwise: menu";
    let kind = one_error(
        &with("    type: hangup\n    prompt: p/bye", queue),
        22,
        Some("bye"),
    );
    assert_eq!(kind, FlowErrorKind::UnknownQueue("q2".into()));
}

#[test]
fn variables_read_must_be_set_somewhere() {
    let kind = one_error(
        &with("{digits: number}", "{digits: numbr}"),
        17,
        Some("say"),
    );
    assert_eq!(kind, FlowErrorKind::UnknownVariable("numbr".into()));
}

#[test]
fn hours_are_checked_and_required_by_hours_nodes() {
    let hours_node = "    type: hours\n    open: bye\n    closed: bye";
    let text = with(
        "    type: menu\n    prompt: p/menu\n    keys:\n      \"1\": bye\n      \"2\": ask",
        hours_node,
    );
    let text = text.replace("  ask:", "  unused_ask:");
    // Without `hours:` the node cannot decide; the other nodes are now unreachable.
    let errs = errors(&text);
    assert!(errs.iter().any(|e| e.line == 5
        && e.node.as_deref() == Some("menu")
        && matches!(&e.kind, FlowErrorKind::BadValue { reason, .. } if reason.contains("hours"))));
    let bad_hours = "start: menu\nhours:\n  monday: \"9-17\"\n";
    let kind = one_error(&with("start: menu\n", bad_hours), 4, None);
    assert!(matches!(kind, FlowErrorKind::BadValue { field, .. } if field == "monday"));
}

#[test]
fn loops_that_never_wait_are_refused() {
    let text = format!("{BASE}  spin_a:\n    type: set\n    set: {{x: \"1\"}}\n    next: spin_b\n  spin_b:\n    type: goto\n    next: spin_a\n");
    let text = text.replace("\"2\": ask", "\"2\": ask\n      \"3\": spin_a");
    let errs = errors(&text);
    assert_eq!(errs.len(), 1, "{errs:#?}");
    assert_eq!(errs[0].node.as_deref(), Some("spin_a"));
    assert_eq!(
        errs[0].kind,
        FlowErrorKind::Loop(vec!["spin_a".into(), "spin_b".into(), "spin_a".into()])
    );
}

#[test]
fn bad_node_names_and_all_errors_at_once() {
    let text = with("  bye:", "  Bye:").replace("prompt: p/ask", "prompt: missing/x");
    let errs = errors(&text);
    let kinds: Vec<String> = errs.iter().map(ToString::to_string).collect();
    // The rename also breaks two targets and orphans the node; the missing prompt is separate.
    assert!(errs.len() >= 4, "{kinds:#?}");
    assert!(kinds
        .iter()
        .any(|k| k.starts_with("t.yaml:20: node `Bye`:") && k.contains("lower-case")));
    assert!(kinds
        .iter()
        .any(|k| k.starts_with("t.yaml:12: node `ask`: prompt `missing/x`")));
}

#[test]
fn flow_sets_refuse_two_files_for_one_line() {
    let files = [
        ("a.yaml".to_owned(), BASE.to_owned()),
        ("b.yaml".to_owned(), BASE.to_owned()),
    ];
    let Err(errs) = load_flows(&files, &|_| true, &[]) else {
        panic!("duplicate line accepted")
    };
    assert_eq!(errs.len(), 1);
    assert_eq!((errs[0].file.as_str(), errs[0].line), ("b.yaml", 1));
    assert_eq!(errs[0].kind, FlowErrorKind::DuplicateLine("t".into()));
    let one = load_flows(&files[..1], &|_| true, &[]);
    assert!(one.is_ok_and(|set| set.get("t").is_some() && set.get("137").is_none()));
}

#[test]
fn a_node_defined_twice_is_a_syntax_error_at_its_second_definition() {
    let text = format!("{BASE}  bye:\n    type: hangup\n");
    let kind = one_error(&text, 23, Some("bye"));
    assert!(
        matches!(&kind, FlowErrorKind::Syntax(m) if m.contains("duplicate")),
        "{kind:?}"
    );
}

const MAILBOX: &str = r#"line: "m"
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
"#;

#[test]
fn mailbox_nodes_load_with_their_defaults_and_make_a_staff_flow() {
    let flow = load(MAILBOX).unwrap_or_else(|e| panic!("{e:?}"));
    assert!(!flow.files_messages());
    let Some(NodeKind::MailboxLogin(login)) = flow.node("login").map(|n| n.kind.clone()) else {
        panic!("a login node")
    };
    assert_eq!((login.tries, login.max_digits), (3, 8));
    assert_eq!(login.mailbox_prompts, ["mailbox/enter_mailbox"]);
    let Some(NodeKind::Mailbox(player)) = flow.node("messages").map(|n| n.kind.clone()) else {
        panic!("a player node")
    };
    assert_eq!(
        player.line_prompt("137").as_deref(),
        Some("mailbox/line_137")
    );
    assert_eq!(player.line_prompt("bench"), None);
    assert!(load(BASE).is_ok_and(|f| f.files_messages()));
}

#[test]
fn mailbox_node_mistakes_are_reported_at_their_line() {
    let kind = one_error(
        &MAILBOX.replace("    fail: bye\n", "    fail: bye\n    tries: 0\n"),
        8,
        Some("login"),
    );
    assert!(
        matches!(kind, FlowErrorKind::BadValue { ref field, .. } if field == "tries"),
        "{kind:?}"
    );
    let kind = one_error(
        &MAILBOX.replace("    next: messages\n", ""),
        4,
        Some("login"),
    );
    assert!(
        matches!(kind, FlowErrorKind::BadValue { ref field, .. } if field == "next"),
        "{kind:?}"
    );
    let kind = one_error(
        &MAILBOX.replace(
            "    type: mailbox\n",
            "    type: mailbox\n    count_prompts: [p/one]\n",
        ),
        10,
        Some("messages"),
    );
    assert!(
        matches!(kind, FlowErrorKind::BadValue { ref field, .. } if field == "count_prompts"),
        "{kind:?}"
    );
    // Every message kind needs its phrase: a missing one is found at load, not by a manager.
    let all = errors(&MAILBOX.replace(
        "    type: mailbox\n",
        "    type: mailbox\n    kind_prompt_prefix: missing/kind_\n",
    ));
    assert_eq!(all.len(), crate::ivr::MessageKind::ALL.len(), "{all:?}");
    assert!(all.iter().all(|e| e.line == 10
        && matches!(&e.kind, FlowErrorKind::MissingPrompt(p) if p.starts_with("missing/kind_"))));
}
