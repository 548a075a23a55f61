//! Reading one node's YAML mapping field by field, collecting every problem instead of stopping
//! at the first.
//!
//! Nodes are read from `yaml_serde::Value` rather than derived structs so that a typo in one
//! node yields "node `x`: `promt` is not a field of a play node" at that node's line, and the
//! other nodes are still checked: an author fixing a tree sees all of its mistakes at once.

use std::time::Duration;

use yaml_serde::{Mapping, Value};

use super::error::FlowErrorKind;
use super::Retry;

pub(crate) const DEFAULT_NO_INPUT_PROMPT: &str = "ivr/no_input";
pub(crate) const DEFAULT_INVALID_PROMPT: &str = "ivr/invalid_key";
pub(crate) const DEFAULT_FAIL_PROMPT: &str = "ivr/goodbye_no_input";
pub(crate) const DEFAULT_BEEP: &str = "beep";
pub(crate) const DEFAULT_REVIEW_PROMPT: &str = "ivr/record_review";
pub(crate) const DEFAULT_EMPTY_TAKE_PROMPT: &str = "ivr/record_empty";
pub(crate) const DEFAULT_RECORD_FAILED_PROMPT: &str = "ivr/record_failed";
pub(crate) const DEFAULT_FILE_FAILED_PROMPT: &str = "ivr/file_failed";

/// Every prompt the language plays when a flow does not name its own.
pub const DEFAULT_PROMPTS: [&str; 8] = [
    DEFAULT_NO_INPUT_PROMPT,
    DEFAULT_INVALID_PROMPT,
    DEFAULT_FAIL_PROMPT,
    DEFAULT_BEEP,
    DEFAULT_REVIEW_PROMPT,
    DEFAULT_EMPTY_TAKE_PROMPT,
    DEFAULT_RECORD_FAILED_PROMPT,
    DEFAULT_FILE_FAILED_PROMPT,
];

/// A problem found while reading a node: the YAML key to point at, and what is wrong.
pub(crate) type Problem = (String, FlowErrorKind);

/// Text of a scalar (`137` and `"137"` alike); `None` for null, lists and mappings.
pub(crate) fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Variable and node names: lower-case letters, digits and `_`, not starting with a digit.
pub(crate) fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

pub(crate) fn bad(field: &str, reason: impl Into<String>) -> Problem {
    (
        field.to_owned(),
        FlowErrorKind::BadValue {
            field: field.to_owned(),
            reason: reason.into(),
        },
    )
}

/// The fields of one node and the problems found reading them.
pub(crate) struct Fields<'a> {
    map: &'a Mapping,
    pub(crate) problems: Vec<Problem>,
}

impl<'a> Fields<'a> {
    pub(crate) fn new(map: &'a Mapping) -> Self {
        Fields {
            map,
            problems: Vec::new(),
        }
    }

    pub(crate) fn get(&self, name: &str) -> Option<&'a Value> {
        self.map.get(name).filter(|v| !v.is_null())
    }

    pub(crate) fn problem(&mut self, field: &str, reason: impl Into<String>) {
        self.problems.push(bad(field, reason));
    }

    /// Flags every key that is not in `allowed` (plus `type` and `note`).
    pub(crate) fn only(&mut self, type_name: &str, allowed: &[&str]) {
        for key in self.map.keys() {
            let name = scalar(key).unwrap_or_default();
            if name != "type" && name != "note" && !allowed.contains(&name.as_str()) {
                let reason = format!(
                    "not a field of a {type_name} node; expected one of: {}",
                    allowed.join(", ")
                );
                self.problem(&name, reason);
            }
        }
    }

    pub(crate) fn text(&mut self, name: &str) -> Option<String> {
        let value = self.get(name)?;
        let text = scalar(value);
        if text.is_none() {
            self.problem(name, "expected text");
        }
        text
    }

    pub(crate) fn required(&mut self, name: &str) -> String {
        if self.get(name).is_none() {
            self.problem(name, "missing");
        }
        self.text(name).unwrap_or_default()
    }

    /// A variable name the node reads or writes.
    pub(crate) fn variable(&mut self, name: &str) -> String {
        let var = self.required(name);
        if !var.is_empty() && !is_name(&var) {
            self.problem(name, format!("`{var}` is not a variable name"));
        }
        var
    }

    pub(crate) fn flag(&mut self, name: &str, default: bool) -> bool {
        match self.get(name) {
            None => default,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                self.problem(name, "expected true or false");
                default
            }
        }
    }

    /// A whole number within `range`.
    pub(crate) fn number(&mut self, name: &str, default: u32, range: (u32, u32)) -> u32 {
        let Some(value) = self.get(name) else {
            return default;
        };
        match value.as_u64().and_then(|n| u32::try_from(n).ok()) {
            Some(n) if (range.0..=range.1).contains(&n) => n,
            _ => {
                self.problem(
                    name,
                    format!("expected a whole number from {} to {}", range.0, range.1),
                );
                default
            }
        }
    }

    pub(crate) fn seconds(&mut self, name: &str, default: u32, range: (u32, u32)) -> Duration {
        Duration::from_secs(u64::from(self.number(name, default, range)))
    }

    /// One key from `allowed` (e.g. the recording end key).
    pub(crate) fn key(&mut self, name: &str, default: char, allowed: &str) -> char {
        let Some(text) = self.text(name) else {
            return default;
        };
        let mut chars = text.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) if allowed.contains(c) => c,
            _ => {
                self.problem(name, format!("expected one of the keys {allowed}"));
                default
            }
        }
    }

    /// Prompt ids from `single` (one id) or `list` (ids); `default` when neither is given.
    pub(crate) fn prompt_list(
        &mut self,
        single: &str,
        list: &str,
        default: &[&str],
    ) -> Vec<String> {
        if let Some(one) = self.text(single) {
            return vec![one];
        }
        match self.get(list) {
            None => default.iter().map(|p| (*p).to_owned()).collect(),
            Some(Value::Sequence(items)) => {
                let prompts: Option<Vec<String>> = items.iter().map(scalar).collect();
                prompts.unwrap_or_else(|| {
                    self.problem(list, "expected a list of prompt ids");
                    Vec::new()
                })
            }
            Some(_) => {
                self.problem(list, "expected a list of prompt ids");
                Vec::new()
            }
        }
    }

    /// The usual `prompt:`/`prompts:` pair.
    pub(crate) fn prompts(&mut self) -> Vec<String> {
        self.prompt_list("prompt", "prompts", &[])
    }

    pub(crate) fn retry(&mut self, default_retries: u32) -> Retry {
        Retry {
            retries: self.number("retries", default_retries, (0, 9)),
            no_input_prompt: self
                .text("no_input_prompt")
                .unwrap_or_else(|| DEFAULT_NO_INPUT_PROMPT.into()),
            invalid_prompt: self
                .text("invalid_prompt")
                .unwrap_or_else(|| DEFAULT_INVALID_PROMPT.into()),
            fallback: self.text("fallback"),
            fail_prompt: self
                .text("fail_prompt")
                .unwrap_or_else(|| DEFAULT_FAIL_PROMPT.into()),
        }
    }

    /// A `var: value` mapping (the `set` of a set node or a menu key).
    pub(crate) fn assignments(&mut self, name: &str) -> Vec<(String, String)> {
        match self.get(name) {
            None => {
                self.problem(name, "missing");
                Vec::new()
            }
            Some(value) => read_assignments(value).unwrap_or_else(|(var, reason)| {
                self.problem(&format!("{name}.{var}"), reason);
                Vec::new()
            }),
        }
    }
}

/// Reads `{var: value, ...}`, checking names and the values of variables with a fixed meaning.
pub(crate) fn read_assignments(value: &Value) -> Result<Vec<(String, String)>, (String, String)> {
    let Value::Mapping(map) = value else {
        return Err(("set".into(), "expected `variable: value` pairs".into()));
    };
    let mut vars = Vec::new();
    for (key, value) in map {
        let var = scalar(key).unwrap_or_default();
        if !is_name(&var) {
            return Err((var.clone(), format!("`{var}` is not a variable name")));
        }
        let Some(text) = scalar(value) else {
            return Err((var, "expected a plain value".into()));
        };
        check_assignment(&var, &text).map_err(|reason| (var.clone(), reason))?;
        vars.push((var, text));
    }
    Ok(vars)
}

/// Variables the engine reads back (kind, district, case kind) must hold values it understands.
fn check_assignment(var: &str, value: &str) -> Result<(), String> {
    use crate::ivr::case::CaseKind;
    use crate::ivr::run::io::MessageKind;
    let ok = match var {
        "kind" => MessageKind::parse(value).is_some(),
        "case_kind" => CaseKind::parse(value).is_some(),
        "district" => value.parse::<u8>().is_ok_and(|d| (1..=22).contains(&d)),
        _ => true,
    };
    if ok {
        Ok(())
    } else {
        Err(format!("`{value}` is not a valid {var}"))
    }
}
