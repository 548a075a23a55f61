//! One YAML node → one [`NodeKind`], with the defaults of each node type.
//!
//! The defaults are the centre's conventions (design): menus wait 6 s and allow two re-prompts,
//! a number waits 7 s for its first digit and 4 s between digits, a voice message lasts at most
//! 180 s, ends after 5 s of silence or on `#`, and may be re-recorded twice.

use yaml_serde::Value;

use super::error::FlowErrorKind;
use super::fields::{bad, read_assignments, scalar, Fields, Problem};
use super::nodes_io::{
    message_kind, read_file, read_lookup, read_lookup_message, read_queue, read_record, read_say,
};
use super::*;

const RETRY: [&str; 5] = [
    "retries",
    "no_input_prompt",
    "invalid_prompt",
    "fail_prompt",
    "fallback",
];
const MENU_KEYS: &str = "0123456789*#";

/// Reads a node of any type; every problem found is returned, keyed by the YAML field.
pub(crate) fn read_node(value: &Value) -> Result<NodeKind, Vec<Problem>> {
    let Value::Mapping(map) = value else {
        return Err(vec![bad(
            "type",
            "a node is a mapping with a `type:` field",
        )]);
    };
    let mut f = Fields::new(map);
    let type_name = f.required("type");
    let kind = match type_name.as_str() {
        "play" => read_play(&mut f),
        "menu" => read_menu(&mut f),
        "collect" => read_collect(&mut f),
        "say" => read_say(&mut f),
        "lookup" => read_lookup(&mut f),
        "lookup_message" => read_lookup_message(&mut f),
        "record" => read_record(&mut f),
        "queue" => read_queue(&mut f),
        "file" => read_file(&mut f),
        "hours" => read_hours(&mut f),
        "set" => read_set(&mut f),
        "goto" => read_goto(&mut f),
        "hangup" => read_hangup(&mut f),
        "end" => read_end(&mut f),
        "mailbox_login" => super::nodes_mailbox::read_mailbox_login(&mut f),
        "mailbox" => super::nodes_mailbox::read_mailbox(&mut f),
        "" => return Err(f.problems),
        other => {
            return Err(vec![bad("type", format!("unknown node type `{other}`"))]);
        }
    };
    if f.problems.is_empty() {
        Ok(kind)
    } else {
        Err(f.problems)
    }
}

fn read_play(f: &mut Fields) -> NodeKind {
    f.only("play", &["prompt", "prompts", "barge_in", "next"]);
    let prompts = f.prompts();
    if prompts.is_empty() {
        f.problem("prompts", "a play node needs at least one prompt");
    }
    NodeKind::Play(PlayNode {
        prompts,
        barge_in: f.flag("barge_in", false),
        next: f.required("next"),
    })
}

fn read_menu(f: &mut Fields) -> NodeKind {
    let mut allowed = vec!["prompt", "prompts", "barge_in", "keys", "timeout"];
    allowed.extend(RETRY);
    f.only("menu", &allowed);
    let prompts = f.prompts();
    if prompts.is_empty() {
        f.problem("prompts", "a menu needs a prompt that says its keys");
    }
    let keys = read_keys(f);
    NodeKind::Menu(MenuNode {
        prompts,
        barge_in: f.flag("barge_in", true),
        keys,
        timeout: f.seconds("timeout", 6, (1, 60)),
        retry: f.retry(2),
    })
}

fn read_keys(f: &mut Fields) -> std::collections::BTreeMap<char, KeyChoice> {
    let mut keys = std::collections::BTreeMap::new();
    let Some(Value::Mapping(map)) = f.get("keys") else {
        f.problem(
            "keys",
            "expected a mapping of keys to nodes, e.g. \"1\": next_node",
        );
        return keys;
    };
    for (key, target) in map {
        let name = scalar(key).unwrap_or_default();
        let mut chars = name.chars();
        let key_char = match (chars.next(), chars.next()) {
            (Some(c), None) if MENU_KEYS.contains(c) => c,
            _ => {
                f.problem(&name, format!("`{name}` is not a phone key ({MENU_KEYS})"));
                continue;
            }
        };
        match read_choice(&name, target) {
            Ok(choice) => {
                keys.insert(key_char, choice);
            }
            Err(problem) => f.problems.push(problem),
        }
    }
    if keys.is_empty() && f.problems.is_empty() {
        f.problem("keys", "a menu needs at least one key");
    }
    keys
}

/// A key's target: a node name, or `{next: node, set: {var: value}}`.
fn read_choice(key: &str, target: &Value) -> Result<KeyChoice, Problem> {
    let no_target = || {
        (
            key.to_owned(),
            FlowErrorKind::KeyWithoutTarget(key.to_owned()),
        )
    };
    match target {
        Value::Null => Err(no_target()),
        Value::String(next) if next.is_empty() => Err(no_target()),
        Value::String(next) => Ok(KeyChoice {
            next: next.clone(),
            set: Vec::new(),
        }),
        Value::Mapping(map) => {
            let next = map.get("next").and_then(scalar).ok_or_else(no_target)?;
            let set = match map.get("set") {
                Some(value) => read_assignments(value).map_err(|(_, r)| bad(key, r))?,
                None => Vec::new(),
            };
            if map.len() > usize::from(map.contains_key("set")) + 1 {
                return Err(bad(key, "a key takes only `next` and `set`"));
            }
            Ok(KeyChoice { next, set })
        }
        _ => Err(bad(key, "expected a node name or {next, set}")),
    }
}

fn read_collect(f: &mut Fields) -> NodeKind {
    let mut allowed = vec![
        "prompt",
        "prompts",
        "barge_in",
        "min_digits",
        "max_digits",
        "terminator",
        "first_digit_timeout",
        "inter_digit_timeout",
        "into",
        "validate",
        "range",
        "next",
    ];
    allowed.extend(RETRY);
    f.only("collect", &allowed);
    let prompts = f.prompts();
    if prompts.is_empty() {
        f.problem(
            "prompts",
            "a collect node needs a prompt that asks for the number",
        );
    }
    let min_digits = f.number("min_digits", 1, (1, 32));
    let max_digits = f.number("max_digits", 20, (1, 32));
    if min_digits > max_digits {
        f.problem("min_digits", "is larger than max_digits");
    }
    let validate = read_validation(f);
    NodeKind::Collect(CollectNode {
        prompts,
        barge_in: f.flag("barge_in", true),
        min_digits: min_digits as usize,
        max_digits: max_digits as usize,
        terminator: f.key("terminator", '#', "#*"),
        first_digit_timeout: f.seconds("first_digit_timeout", 7, (1, 60)),
        inter_digit_timeout: f.seconds("inter_digit_timeout", 4, (1, 30)),
        into: f.variable("into"),
        validate,
        retry: f.retry(2),
        next: f.required("next"),
    })
}

fn read_validation(f: &mut Fields) -> Validation {
    let validate = f.text("validate");
    let range = f.text("range");
    match (validate.as_deref(), range) {
        (Some(_), Some(_)) => {
            f.problem("range", "give either `validate` or `range`");
            Validation::Any
        }
        (None, Some(range)) => {
            let bounds = range
                .split_once('-')
                .and_then(|(lo, hi)| Some((lo.trim().parse().ok()?, hi.trim().parse().ok()?)));
            match bounds {
                Some((lo, hi)) if lo <= hi => Validation::Range(lo, hi),
                _ => {
                    f.problem("range", format!("`{range}` is not a range like 1-22"));
                    Validation::Any
                }
            }
        }
        (Some("tracking_code"), None) => Validation::TrackingCode,
        (Some("any") | None, None) => Validation::Any,
        (Some(other), None) => {
            f.problem(
                "validate",
                format!("unknown check `{other}` (tracking_code, any)"),
            );
            Validation::Any
        }
    }
}

fn read_hours(f: &mut Fields) -> NodeKind {
    f.only("hours", &["open", "closed"]);
    NodeKind::Hours(HoursNode {
        open: f.required("open"),
        closed: f.required("closed"),
    })
}

fn read_set(f: &mut Fields) -> NodeKind {
    f.only("set", &["set", "next"]);
    NodeKind::Set(SetNode {
        vars: f.assignments("set"),
        next: f.required("next"),
    })
}

fn read_goto(f: &mut Fields) -> NodeKind {
    f.only("goto", &["next"]);
    NodeKind::Goto(GotoNode {
        next: f.required("next"),
    })
}

fn read_hangup(f: &mut Fields) -> NodeKind {
    f.only("hangup", &["prompt", "prompts"]);
    NodeKind::Hangup(HangupNode {
        prompts: f.prompts(),
    })
}

fn read_end(f: &mut Fields) -> NodeKind {
    f.only("end", &["kind"]);
    NodeKind::End(EndNode {
        kind: message_kind(f),
    })
}
