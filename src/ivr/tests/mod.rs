//! Golden tests of the real trees (`ivr-flows/*.yaml`) driven by the simulator on a virtual
//! clock: every path of the scenario table, a hang-up at every step of every path, and the
//! share of nodes and menu keys the scenarios reach (all of them).

use std::collections::{BTreeMap, BTreeSet};

use super::case::{CaseInfo, CaseKind, MessageStatus};
use super::flow::load::load_flows;
use super::flow::{FlowSet, NodeKind};
use super::run::io::CallContext;
use super::simulate::{simulate_with, World};
use super::tracking::make_tracking_code;
use crate::calendar::JalaliDate;
use scenarios::{scenarios, Scenario};

mod filing_agreement;
mod line_1888;
mod mailbox;
mod scenarios;
mod shared_nodes;

const FLOW_FILES: [(&str, &str); 4] = [
    ("137.yaml", include_str!("../../../ivr-flows/137.yaml")),
    ("1888.yaml", include_str!("../../../ivr-flows/1888.yaml")),
    ("bench.yaml", include_str!("../../../ivr-flows/bench.yaml")),
    (
        "mailbox.yaml",
        include_str!("../../../ivr-flows/mailbox.yaml"),
    ),
];

pub(super) const IVR_MANIFEST: &str = include_str!("../../../prompts/fa/ivr.tsv");
pub(super) const MAILBOX_MANIFEST: &str = include_str!("../../../prompts/fa/mailbox.tsv");
const OTHER_MANIFESTS: [&str; 3] = [
    include_str!("../../../prompts/fa/numbers.tsv"),
    include_str!("../../../prompts/fa/common.tsv"),
    MAILBOX_MANIFEST,
];

/// `id → text` of a prompt manifest.
pub(super) fn manifest(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('\t'))
        .map(|(id, text)| (id.to_owned(), text.to_owned()))
        .collect()
}

pub(super) fn prompt_texts() -> BTreeMap<String, String> {
    let mut texts = manifest(IVR_MANIFEST);
    for other in OTHER_MANIFESTS {
        texts.extend(manifest(other));
    }
    texts
}

pub(super) fn queues() -> Vec<String> {
    ["137", "1888", "zoning"].map(String::from).to_vec()
}

pub(super) fn real_flows() -> FlowSet {
    let texts = prompt_texts();
    let files: Vec<(String, String)> = FLOW_FILES
        .iter()
        .map(|(name, text)| ((*name).to_owned(), (*text).to_owned()))
        .collect();
    match load_flows(&files, &|id| texts.contains_key(id), &queues()) {
        Ok(flows) => flows,
        Err(errors) => {
            let errors: Vec<String> = errors.iter().map(ToString::to_string).collect();
            panic!("the real trees do not load:\n{}", errors.join("\n"))
        }
    }
}

pub(super) fn date(s: &str) -> JalaliDate {
    match JalaliDate::parse(s) {
        Ok(d) => d,
        Err(e) => panic!("test date {s}: {e}"),
    }
}

/// Saturday 13 Mordad 1403, at 10:00 (open) or 22:00 (closed).
pub(super) fn ctx(line: &str, open: bool) -> CallContext {
    let today = date("1403/05/13");
    CallContext {
        line: line.to_owned(),
        caller: "09121234567".to_owned(),
        today,
        weekday: today.weekday(),
        minute_of_day: if open { 10 * 60 } else { 22 * 60 },
    }
}

/// The case records the scenarios look up.
pub(super) fn case_fixture(kind: CaseKind, number: &str) -> Option<CaseInfo> {
    let base = CaseInfo {
        kind,
        number: number.to_owned(),
        district: Some(6),
        stage: String::new(),
        last_step_date: date("1403/04/20"),
        next_step: None,
        session_date: None,
        verdict: None,
        fine_rials: None,
        served_date: None,
    };
    let (stage, next) = match (kind, number) {
        (CaseKind::Zoning, "12345") => ("permit_issued", "under_construction"),
        (CaseKind::Article100, "22001840320") => {
            return Some(CaseInfo {
                stage: "verdict_served".into(),
                last_step_date: date("1403/05/10"),
                next_step: Some("objection_filed".into()),
                verdict: Some("fine".into()),
                fine_rials: Some(150_000_000),
                served_date: Some(date("1403/05/10")),
                ..base
            })
        }
        (CaseKind::Article100, "9001") => {
            let session_date = Some(date("1403/06/01"));
            let next_step = Some("first_verdict".into());
            let stage = "referred".into();
            return Some(CaseInfo {
                stage,
                next_step,
                session_date,
                ..base
            });
        }
        (CaseKind::Article100, "9002") => {
            // A session that already took place is not announced.
            let session_date = Some(date("1403/05/01"));
            let stage = "referred".into();
            return Some(CaseInfo {
                stage,
                session_date,
                ..base
            });
        }
        _ => return None,
    };
    Some(CaseInfo {
        stage: stage.into(),
        next_step: Some(next.into()),
        ..base
    })
}

/// Serial 42 has the manager's voice reply, 43 is in progress; other codes are unknown.
pub(super) fn message_fixture(code: &str) -> Option<MessageStatus> {
    let (status, reply) = if code == make_tracking_code(42) {
        ("answered", Some("rec-77"))
    } else if code == make_tracking_code(43) {
        ("in_progress", None)
    } else {
        return None;
    };
    Some(MessageStatus {
        tracking_code: code.to_owned(),
        status: status.to_owned(),
        has_voice_reply: reply.is_some(),
        reply_recording_id: reply.map(str::to_owned),
        caller: "09121234567".to_owned(),
    })
}

/// Runs a scenario's keys on its line, hanging up after `hang_up_after` steps if given.
pub(super) fn transcript(
    flows: &FlowSet,
    s: &Scenario,
    hang_up_after: Option<usize>,
) -> Vec<String> {
    let texts = prompt_texts();
    let prompt_text = |id: &str| texts.get(id).cloned();
    let today = ctx(s.line, s.open).today;
    let login = |mailbox: &str, pin: &str| super::simulate::demo_login(mailbox, pin, today);
    let world = World {
        cases: &case_fixture,
        messages: &message_fixture,
        prompt_text: &prompt_text,
        login: &login,
    };
    simulate_with(
        flows,
        s.line,
        &s.keys,
        &world,
        ctx(s.line, s.open),
        hang_up_after,
    )
}

fn file_lines(log: &[String]) -> Vec<&String> {
    log.iter().filter(|l| l.starts_with("file:")).collect()
}

fn filed_kind(log: &[String]) -> Option<String> {
    let line = file_lines(log).into_iter().next()?;
    let rest = line.split(" kind ").nth(1)?;
    rest.split(' ').next().map(str::to_owned)
}

/// Checks one finished transcript against its scenario.
fn check(s: &Scenario, log: &[String]) -> Result<(), String> {
    let show = || {
        format!(
            "scenario `{}` ({} {:?}):\n  {}",
            s.name,
            s.line,
            s.keys,
            log.join("\n  ")
        )
    };
    if file_lines(log).len() != 1 {
        return Err(format!("expected exactly one file line; {}", show()));
    }
    if filed_kind(log).as_deref() != Some(s.kind) {
        return Err(format!("expected kind {}; {}", s.kind, show()));
    }
    if log.last().map(String::as_str) != Some("call finished") {
        return Err(format!("the call did not finish; {}", show()));
    }
    let mut lines = log.iter();
    for expected in &s.expect {
        if !lines.any(|l| l.contains(expected.as_str())) {
            return Err(format!("missing (in order) `{expected}`; {}", show()));
        }
    }
    for absent in &s.absent {
        if log.iter().any(|l| l.contains(absent.as_str())) {
            return Err(format!("unexpected `{absent}`; {}", show()));
        }
    }
    Ok(())
}

#[test]
fn every_scenario_follows_its_path_and_files_once_with_its_kind() {
    let flows = real_flows();
    let failures: Vec<String> = scenarios()
        .iter()
        .filter_map(|s| check(s, &transcript(&flows, s, None)).err())
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn a_hang_up_at_any_step_files_exactly_once() {
    let flows = real_flows();
    let mut failures = Vec::new();
    for s in scenarios() {
        for step in 0..1_000 {
            let log = transcript(&flows, &s, Some(step));
            if !log.iter().any(|l| l.starts_with("caller hangs up at step")) {
                break; // the call was over before this step
            }
            let kind = filed_kind(&log).unwrap_or_default();
            let kind_ok = kind == "unusable" || kind == s.kind || s.also.contains(&kind.as_str());
            let finished = log.last().map(String::as_str) == Some("call finished");
            if file_lines(&log).len() != 1 || !kind_ok || !finished {
                failures.push(format!(
                    "`{}` hang-up at step {step}:\n  {}",
                    s.name,
                    log.join("\n  ")
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Nodes and menu keys of every tree, as `line/node` and `line/node:key`.
fn all_nodes_and_keys(flows: &FlowSet) -> (BTreeSet<String>, BTreeSet<String>) {
    let (mut nodes, mut keys) = (BTreeSet::new(), BTreeSet::new());
    for line in flows.lines() {
        let Some(flow) = flows.get(line) else {
            continue;
        };
        for (name, node) in &flow.nodes {
            nodes.insert(format!("{line}/{name}"));
            if let NodeKind::Menu(menu) = &node.kind {
                keys.extend(menu.keys.keys().map(|k| format!("{line}/{name}:{k}")));
            }
        }
    }
    (nodes, keys)
}

#[test]
fn the_scenarios_reach_every_node_and_every_menu_key() {
    let flows = real_flows();
    let (all_nodes, all_keys) = all_nodes_and_keys(&flows);
    let (mut nodes, mut keys) = (BTreeSet::new(), BTreeSet::new());
    for s in scenarios().into_iter().chain(mailbox::scenarios()) {
        for line in transcript(&flows, &s, None) {
            if let Some(rest) = line.strip_prefix("node ") {
                let name = rest.split(' ').next().unwrap_or_default();
                nodes.insert(format!("{}/{name}", s.line));
            } else if let Some(rest) = line.strip_prefix("menu ") {
                keys.insert(format!("{}/{}", s.line, rest.replace(": key ", ":")));
            }
        }
    }
    let missed_nodes: Vec<_> = all_nodes.difference(&nodes).collect();
    let missed_keys: Vec<_> = all_keys.difference(&keys).collect();
    let node_share = 100 * (all_nodes.len() - missed_nodes.len()) / all_nodes.len().max(1);
    let key_share = 100 * (all_keys.len() - missed_keys.len()) / all_keys.len().max(1);
    assert!(
        missed_nodes.is_empty() && missed_keys.is_empty(),
        "nodes reached {node_share}% (missed {missed_nodes:?}), menu keys {key_share}% (missed {missed_keys:?})"
    );
}

#[test]
fn shared_nodes_are_identical_in_both_trees() {
    let flows = real_flows();
    let (Some(a), Some(b)) = (flows.get("137"), flows.get("1888")) else {
        panic!("both trees load");
    };
    let shared = |name: &str| {
        ["follow_", "case_", "voice_"]
            .iter()
            .any(|p| name.starts_with(p))
            || ["goodbye", "to_agent"].contains(&name)
    };
    let names_a: Vec<&String> = a.nodes.keys().filter(|n| shared(n)).collect();
    let names_b: Vec<&String> = b.nodes.keys().filter(|n| shared(n)).collect();
    assert_eq!(names_a, names_b);
    assert!(
        names_a.len() >= 20,
        "the shared set is the key-2, key-4 and voice nodes"
    );
    for name in names_a {
        let kinds = (a.node(name).map(|n| &n.kind), b.node(name).map(|n| &n.kind));
        assert_eq!(
            kinds.0, kinds.1,
            "node `{name}` differs between 137 and 1888"
        );
    }
}

#[test]
fn every_ivr_phrase_is_used_and_every_case_phrase_is_recorded() {
    let flows = real_flows();
    let mut used: BTreeSet<String> = super::case::all_case_prompts().into_iter().collect();
    // The language's own defaults, for flows that do not name their own.
    used.extend(super::DEFAULT_PROMPTS.map(String::from));
    for line in flows.lines() {
        let Some(flow) = flows.get(line) else {
            continue;
        };
        for node in flow.nodes.values() {
            used.extend(
                node.kind
                    .prompts_used()
                    .into_iter()
                    .map(|(_, p)| p.to_owned()),
            );
            used.extend(node.kind.built_prompts().into_iter().map(|(_, p)| p));
        }
    }
    let mut ivr = manifest(IVR_MANIFEST);
    ivr.extend(manifest(MAILBOX_MANIFEST));
    let unused: Vec<&String> = ivr.keys().filter(|id| !used.contains(*id)).collect();
    assert!(unused.is_empty(), "phrases no tree plays: {unused:?}");
    let texts = prompt_texts();
    let unrecorded: Vec<&String> = used.iter().filter(|id| !texts.contains_key(*id)).collect();
    assert!(
        unrecorded.is_empty(),
        "phrases without a text: {unrecorded:?}"
    );
}

/// "The result will be sent by SMS" is said only to a number a text can reach: the same voice
/// message from a landline or a withheld number ends without the promise.
#[test]
fn the_sms_promise_is_made_only_to_a_number_that_can_take_a_text() {
    let flows = real_flows();
    let texts = prompt_texts();
    let prompt_text = |id: &str| texts.get(id).cloned();
    let today = ctx("1888", false).today;
    let login = |mailbox: &str, pin: &str| super::simulate::demo_login(mailbox, pin, today);
    let world = World {
        cases: &case_fixture,
        messages: &message_fixture,
        prompt_text: &prompt_text,
        login: &login,
    };
    for (caller, promised) in [
        ("09121234567", true),
        ("+989121234567", true),
        ("02188776655", false),
        ("anonymous", false),
    ] {
        let mut context = ctx("1888", false);
        context.caller = caller.to_owned();
        let log = simulate_with(&flows, "1888", "1 2 # 1", &world, context, None);
        assert!(
            log.iter().any(|l| l.starts_with("play ivr/keep_code")),
            "{caller}: the code was read: {log:#?}"
        );
        let said = log.iter().any(|l| l.starts_with("play ivr/result_by_sms"));
        assert_eq!(said, promised, "{caller}: {log:#?}");
    }
}

/// Milliseconds of a bundled prompt's WAV (8 kHz mono 16-bit, `media::wav`'s layout).
fn prompt_ms(id: &str) -> u64 {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("prompts/fa")
        .join(format!("{id}.wav"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(
        crate::media::wav::is_our_header(&bytes),
        "{id}: not 8 kHz mono 16-bit"
    );
    let data = crate::media::wav::data_bytes_for_length(bytes.len() as u64).unwrap_or(0);
    crate::media::wav::duration_ms(data)
}

/// A caller hears the first option of the main menu within a few seconds of the answer: the
/// welcome is short, the menu names each option before its key (so the first key comes after a
/// few words, not after a sentence), and the whole first menu is over in 20 s.
#[test]
fn the_first_menu_option_is_heard_within_seconds_of_the_answer() {
    let texts = manifest(IVR_MANIFEST);
    for line in ["137", "1888"] {
        let welcome = prompt_ms(&format!("ivr/welcome_{line}"));
        let menu_id = format!("ivr/menu_main_{line}");
        let menu = prompt_ms(&menu_id);
        assert!(welcome <= 4_000, "{line}: welcome {welcome} ms");
        assert!(
            welcome + menu <= 20_000,
            "{line}: welcome and main menu {} ms",
            welcome + menu
        );
        let text = texts.get(&menu_id).cloned().unwrap_or_default();
        let keys: Vec<Option<usize>> = ["کلیدِ یک", "کلیدِ دو", "کلیدِ چهار", "کلیدِ صفر"]
            .iter()
            .map(|key| text.find(key))
            .collect();
        assert!(
            keys.iter().all(Option::is_some),
            "{line}: every key named: {text}"
        );
        assert!(
            keys.windows(2).all(|w| w[0] < w[1]),
            "{line}: keys in order: {text}"
        );
        let before_first = text[..keys[0].unwrap_or(0)].split_whitespace().count();
        assert!(
            before_first <= 4,
            "{line}: {before_first} words before key 1: {text}"
        );
    }
}
