//! Loading flow files: YAML text in, a validated [`FlowSet`] or every error out.
//!
//! Loading is pure: the caller reads the files, and says which prompts exist and which queues
//! are configured, so the same function serves the engine's start-up, the `flows check`
//! command and the tests. A flow that loads cannot send a call to a node that does not exist,
//! play a prompt that was never recorded, or wait in a queue nobody serves.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde::Deserialize;
use yaml_serde::{Mapping, Value};

use super::check::check_flow;
use super::error::{FlowError, FlowErrorKind, SourceMap};
use super::fields::{is_name, scalar};
use super::hours::Hours;
use super::nodes::read_node;
use super::{Flow, FlowSet, Node};

/// The top level of a flow file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    line: Value,
    start: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    hours: Option<Mapping>,
    nodes: Mapping,
}

/// Loads every `(file name, contents)` pair; each file is one line's tree.
pub fn load_flows(
    files: &[(String, String)],
    prompt_exists: &dyn Fn(&str) -> bool,
    queues: &[String],
) -> Result<FlowSet, Vec<FlowError>> {
    let mut set = FlowSet::default();
    let mut errors = Vec::new();
    for (file, text) in files {
        match load_flow(file, text, prompt_exists, queues) {
            Ok(flow) if set.flows.contains_key(&flow.line) => errors.push(FlowError {
                file: file.clone(),
                line: SourceMap::new(text).top("line"),
                node: None,
                kind: FlowErrorKind::DuplicateLine(flow.line),
            }),
            Ok(flow) => {
                set.flows.insert(flow.line.clone(), Arc::new(flow));
            }
            Err(mut e) => errors.append(&mut e),
        }
    }
    if errors.is_empty() {
        Ok(set)
    } else {
        Err(errors)
    }
}

/// Loads and validates one file.
pub fn load_flow(
    file: &str,
    text: &str,
    prompt_exists: &dyn Fn(&str) -> bool,
    queues: &[String],
) -> Result<Flow, Vec<FlowError>> {
    let src = SourceMap::new(text);
    let at = |line: usize, node: Option<&str>, kind: FlowErrorKind| FlowError {
        file: file.to_owned(),
        line,
        node: node.map(str::to_owned),
        kind,
    };
    let raw = parse_file(text, &src, &at)?;
    let mut errors = Vec::new();
    let line = scalar(&raw.line).unwrap_or_else(|| {
        let reason = "expected the line's number, e.g. \"137\"".to_owned();
        let kind = FlowErrorKind::BadValue {
            field: "line".into(),
            reason,
        };
        errors.push(at(src.top("line"), None, kind));
        String::new()
    });
    let (nodes, names) = read_nodes(&raw.nodes, &src, &mut errors, &at);
    let all_read = errors.is_empty();
    let hours = raw
        .hours
        .as_ref()
        .and_then(|map| read_hours(map, &src, &mut errors, &at));
    let flow = Flow {
        line,
        file: file.to_owned(),
        start: raw.start,
        description: raw.description,
        hours,
        nodes,
    };
    let env = super::check::CheckEnv {
        src: &src,
        names: &names,
        prompt_exists,
        queues,
        complete: all_read,
    };
    check_flow(&flow, &env, &mut errors);
    if errors.is_empty() {
        Ok(flow)
    } else {
        Err(errors)
    }
}

/// The YAML itself, with the top level's shape; a failure here is the file's only error.
fn parse_file(text: &str, src: &SourceMap, at: &At) -> Result<RawFile, Vec<FlowError>> {
    yaml_serde::from_str(text).map_err(|e| {
        let message = e.to_string();
        // yaml_serde places a duplicate key at the start of its mapping; point at the copy.
        if let Some((key, line)) = src.duplicate(&message) {
            return vec![at(line, Some(&key), FlowErrorKind::Syntax(message))];
        }
        // The YAML reader counts a lone CR as a line break and puts an error at the end of the
        // text on the line after the last; an operator's editor has neither, so the line named
        // is never past the file's last line (found by the ivr_flow fuzz target).
        let last_line = text.lines().count().max(1);
        let line = e.location().map_or(1, |l| l.line()).min(last_line);
        vec![at(line, None, FlowErrorKind::Syntax(message))]
    })
}

fn read_hours(
    map: &Mapping,
    src: &SourceMap,
    errors: &mut Vec<FlowError>,
    at: &At,
) -> Option<Hours> {
    Hours::from_yaml(map)
        .map_err(|problems| {
            for (field, reason) in problems {
                let line = src.section_field("hours", &field);
                let kind = FlowErrorKind::BadValue { field, reason };
                errors.push(at(line, None, kind));
            }
        })
        .ok()
}

type At<'a> = dyn Fn(usize, Option<&str>, FlowErrorKind) -> FlowError + 'a;

/// Reads every node; returns the nodes that read cleanly and the names of all of them.
fn read_nodes(
    raw: &Mapping,
    src: &SourceMap,
    errors: &mut Vec<FlowError>,
    at: &At,
) -> (BTreeMap<String, Node>, BTreeSet<String>) {
    let mut nodes = BTreeMap::new();
    let mut names = BTreeSet::new();
    for (key, value) in raw {
        let name = scalar(key).unwrap_or_default();
        names.insert(name.clone());
        if !is_name(&name) {
            let kind = FlowErrorKind::BadValue {
                field: name.clone(),
                reason: "node names are lower-case letters, digits and _".into(),
            };
            errors.push(at(src.node(&name), Some(&name), kind));
        }
        match read_node(value) {
            Ok(kind) => {
                let line = src.node(&name);
                nodes.insert(name.clone(), Node { name, line, kind });
            }
            Err(problems) => {
                for (field, kind) in problems {
                    errors.push(at(src.locate(&name, &field), Some(&name), kind));
                }
            }
        }
    }
    (nodes, names)
}
