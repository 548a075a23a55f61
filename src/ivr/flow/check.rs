//! Whole-flow checks, run once every node has been read: targets, reachability, prompts,
//! queues, variables, business hours and loops that would spin without waiting.
//!
//! Prompts spoken from variables (numbers, dates, stages…) are checked too, by asking the word
//! builders for a representative sample and the case lists for every phrase: a tree that reads
//! dates must not discover at the first caller that a month name was never recorded.

use std::collections::{BTreeMap, BTreeSet};

use super::error::{FlowError, FlowErrorKind, SourceMap};
use super::graph::BUILTIN_VARS;
use super::{Flow, NodeKind, SayAs, Segment};
use crate::calendar::JalaliDate;
use crate::ivr::case::{stage_names, stage_prompt, status_prompt, verdict_prompt, CaseKind};
use crate::ivr::case::{SPOKEN_STATUSES, VERDICTS};
use crate::ivr::words;

pub(crate) struct CheckEnv<'a> {
    pub src: &'a SourceMap<'a>,
    /// Every node name in the file, including nodes that failed to read.
    pub names: &'a BTreeSet<String>,
    pub prompt_exists: &'a dyn Fn(&str) -> bool,
    pub queues: &'a [String],
    /// Off when some node failed to read: its targets and variables are unknown, so
    /// reachability and variable checks would only add false alarms.
    pub complete: bool,
}

struct Checker<'a> {
    flow: &'a Flow,
    env: &'a CheckEnv<'a>,
    errors: &'a mut Vec<FlowError>,
}

impl Checker<'_> {
    fn push(&mut self, node: &str, field: &str, kind: FlowErrorKind) {
        self.errors.push(FlowError {
            file: self.flow.file.clone(),
            line: self.env.src.locate(node, field),
            node: Some(node.to_owned()),
            kind,
        });
    }
}

pub(crate) fn check_flow(flow: &Flow, env: &CheckEnv, errors: &mut Vec<FlowError>) {
    if !env.names.contains(&flow.start) {
        errors.push(FlowError {
            file: flow.file.clone(),
            line: env.src.top("start"),
            node: None,
            kind: FlowErrorKind::UnknownStart(flow.start.clone()),
        });
    }
    let mut c = Checker { flow, env, errors };
    let written = variables_written(flow);
    let mut dynamic = DynamicPrompts::default();
    for (name, node) in &flow.nodes {
        for (field, target) in node.kind.targets() {
            if !env.names.contains(target) {
                let target = target.to_owned();
                c.push(
                    name,
                    &field,
                    FlowErrorKind::UnknownTarget {
                        field: field.clone(),
                        target,
                    },
                );
            }
        }
        for (field, prompt) in node.kind.prompts_used() {
            if !(env.prompt_exists)(prompt) {
                c.push(name, field, FlowErrorKind::MissingPrompt(prompt.to_owned()));
            }
        }
        for (field, prompt) in node.kind.built_prompts() {
            if !(env.prompt_exists)(&prompt) {
                c.push(name, field, FlowErrorKind::MissingPrompt(prompt));
            }
        }
        for (field, var) in node.kind.vars_read() {
            if env.complete && !written.contains(var) {
                c.push(name, field, FlowErrorKind::UnknownVariable(var.to_owned()));
            }
        }
        check_node_specifics(&mut c, name, &node.kind, &mut dynamic);
    }
    if env.complete && env.names.contains(&flow.start) {
        check_reachable(&mut c);
    }
    check_loops(&mut c);
}

fn variables_written(flow: &Flow) -> BTreeSet<&str> {
    let mut vars: BTreeSet<&str> = BUILTIN_VARS.into_iter().collect();
    for node in flow.nodes.values() {
        vars.extend(node.kind.vars_written());
    }
    vars
}

fn check_node_specifics(
    c: &mut Checker,
    name: &str,
    kind: &NodeKind,
    dynamic: &mut DynamicPrompts,
) {
    match kind {
        NodeKind::Queue(q) if !c.env.queues.contains(&q.queue) => {
            c.push(name, "queue", FlowErrorKind::UnknownQueue(q.queue.clone()));
        }
        NodeKind::Hours(_) if c.flow.hours.is_none() => {
            let reason = "an hours node needs an `hours:` section in the file".to_owned();
            c.push(
                name,
                "type",
                FlowErrorKind::BadValue {
                    field: "type".into(),
                    reason,
                },
            );
        }
        // A staff flow files no citizen message: nothing in it may file, queue, take a
        // citizen's voice message or hand the call to a call-taker.
        NodeKind::File(_) | NodeKind::Queue(_) | NodeKind::Record(_) | NodeKind::End(_)
            if !c.flow.files_messages() =>
        {
            let reason = format!(
                "a `{}` node cannot be in a flow with mailbox nodes: a manager's call files no \
                 citizen message",
                kind.type_name()
            );
            c.push(
                name,
                "type",
                FlowErrorKind::BadValue {
                    field: "type".into(),
                    reason,
                },
            );
        }
        NodeKind::Mailbox(_) => {
            // The count of new messages (at most 50 are listed) and every date of a year.
            for how in [SayAs::Number, SayAs::Date] {
                for prompt in dynamic.needed(how) {
                    if !(c.env.prompt_exists)(&prompt) {
                        c.push(name, "type", FlowErrorKind::MissingPrompt(prompt));
                    }
                }
            }
        }
        NodeKind::Say(say) => {
            let hows: BTreeSet<SayAs> = say
                .parts
                .iter()
                .flatten()
                .filter_map(|s| match s {
                    Segment::Value { how, .. } => Some(*how),
                    Segment::Prompt(_) => None,
                })
                .collect();
            for how in hows {
                for prompt in dynamic.needed(how) {
                    if !(c.env.prompt_exists)(&prompt) {
                        c.push(name, "parts", FlowErrorKind::MissingPrompt(prompt));
                    }
                }
            }
        }
        _ => {}
    }
}

/// Prompt ids a value segment can produce, computed once per kind of value.
#[derive(Default)]
struct DynamicPrompts {
    cache: BTreeMap<SayAs, BTreeSet<String>>,
}

/// Numbers whose words together use every number word the builders know.
fn sample_numbers() -> impl Iterator<Item = u64> {
    let big = [
        1_000,
        1_403,
        12_345,
        100_000,
        1_000_000,
        150_000_000,
        1_234_567_890,
    ];
    (0..=999).chain(big)
}

impl DynamicPrompts {
    fn needed(&mut self, how: SayAs) -> BTreeSet<String> {
        self.cache
            .entry(how)
            .or_insert_with(|| sample_prompts(how))
            .clone()
    }
}

fn sample_prompts(how: SayAs) -> BTreeSet<String> {
    match how {
        SayAs::Digits => words::digits_prompts("0123456789").into_iter().collect(),
        SayAs::Number => sample_numbers().flat_map(words::number_prompts).collect(),
        SayAs::Amount => sample_numbers()
            .flat_map(words::amount_rials_prompts)
            .collect(),
        SayAs::Date => (1..=12u8)
            .flat_map(|m| (1..=31u8).filter_map(move |d| JalaliDate::new(1403, m, d).ok()))
            .flat_map(words::date_prompts)
            .collect(),
        SayAs::Stage => CaseKind::ALL
            .into_iter()
            .flat_map(|k| {
                stage_names(k)
                    .iter()
                    .filter_map(move |s| stage_prompt(k, s))
            })
            .collect(),
        SayAs::Verdict => VERDICTS.iter().filter_map(|v| verdict_prompt(v)).collect(),
        SayAs::Status => SPOKEN_STATUSES
            .iter()
            .filter_map(|s| status_prompt(s))
            .collect(),
        SayAs::Recording | SayAs::When => BTreeSet::new(),
    }
}

fn check_reachable(c: &mut Checker) {
    let mut seen = BTreeSet::new();
    let mut todo = vec![c.flow.start.as_str()];
    while let Some(name) = todo.pop() {
        if !seen.insert(name) {
            continue;
        }
        if let Some(node) = c.flow.nodes.get(name) {
            todo.extend(node.kind.targets().into_iter().map(|(_, t)| t));
        }
    }
    let unreachable: Vec<String> = c
        .flow
        .nodes
        .keys()
        .filter(|n| !seen.contains(n.as_str()))
        .cloned()
        .collect();
    for name in unreachable {
        c.errors.push(FlowError {
            file: c.flow.file.clone(),
            line: c.env.src.node(&name),
            node: Some(name),
            kind: FlowErrorKind::Unreachable,
        });
    }
}

/// A cycle made only of set/goto/hours nodes would spin forever within one input.
fn check_loops(c: &mut Checker) {
    let instant = |name: &str| c.flow.nodes.get(name).is_some_and(|n| n.kind.is_instant());
    let mut reported: BTreeSet<String> = BTreeSet::new();
    let mut loops = Vec::new();
    for start in c.flow.nodes.keys().filter(|n| instant(n)) {
        // Follow instant nodes depth-first from `start`, looking for a way back to it.
        let mut stack = vec![vec![start.clone()]];
        while let Some(path) = stack.pop() {
            let Some(node) = path.last().and_then(|last| c.flow.nodes.get(last)) else {
                continue;
            };
            for (_, target) in node.kind.targets() {
                if target == start {
                    if !path.iter().any(|n| reported.contains(n)) {
                        reported.extend(path.iter().cloned());
                        let mut cycle = path.clone();
                        cycle.push(start.clone());
                        loops.push(cycle);
                    }
                } else if instant(target) && !path.iter().any(|n| n == target) {
                    let mut longer = path.clone();
                    longer.push(target.to_owned());
                    stack.push(longer);
                }
            }
        }
    }
    for cycle in loops {
        if let Some(first) = cycle.first().cloned() {
            c.push(&first, "next", FlowErrorKind::Loop(cycle));
        }
    }
}
