//! Readers of the node types that ask the engine for something: say (prompts from
//! variables), lookups, the recorder, agent queues and filing.

use yaml_serde::Value;

use super::fields::*;
use super::*;
use crate::ivr::case::CaseKind;
use crate::ivr::run::io::MessageKind;

/// Shortest take worth keeping; anything shorter is treated as "nothing was said".
pub(crate) const MIN_TAKE_MS: u64 = 1_500;

pub(crate) fn read_record(f: &mut Fields) -> NodeKind {
    f.only(
        "record",
        &[
            "prompt",
            "prompts",
            "beep",
            "max_seconds",
            "silence_seconds",
            "end_key",
            "review_prompt",
            "review_prompts",
            "max_takes",
            "empty_prompt",
            "retries",
            "no_input_prompt",
            "invalid_prompt",
            "fail_prompt",
            "fallback",
            "next",
            "on_failure",
            "failure_prompt",
        ],
    );
    let prompts = f.prompts();
    if prompts.is_empty() {
        f.problem(
            "prompts",
            "a record node needs instructions before the beep",
        );
    }
    NodeKind::Record(RecordNode {
        prompts,
        beep: f.text("beep").unwrap_or_else(|| DEFAULT_BEEP.into()),
        max: f.seconds("max_seconds", 180, (5, 600)),
        silence: f.seconds("silence_seconds", 5, (1, 60)),
        end_key: f.key("end_key", '#', "#*0123456789"),
        review_prompts: f.prompt_list("review_prompt", "review_prompts", &[DEFAULT_REVIEW_PROMPT]),
        max_takes: f.number("max_takes", 3, (1, 9)),
        empty_prompt: f
            .text("empty_prompt")
            .unwrap_or_else(|| DEFAULT_EMPTY_TAKE_PROMPT.into()),
        retry: f.retry(2),
        next: f.required("next"),
        on_failure: f.text("on_failure"),
        failure_prompt: f
            .text("failure_prompt")
            .unwrap_or_else(|| DEFAULT_RECORD_FAILED_PROMPT.into()),
    })
}

/// `overflow`, `no_agents` and `exit` default to `otherwise` when it is given.
pub(crate) fn read_queue(f: &mut Fields) -> NodeKind {
    f.only(
        "queue",
        &[
            "prompt",
            "prompts",
            "queue",
            "priority",
            "answered",
            "overflow",
            "no_agents",
            "exit",
            "otherwise",
        ],
    );
    let otherwise = f.text("otherwise");
    let branch = |f: &mut Fields, name: &str| match (f.text(name), &otherwise) {
        (Some(target), _) => target,
        (None, Some(target)) => target.clone(),
        (None, None) => f.required(name),
    };
    let overflow = branch(f, "overflow");
    let no_agents = branch(f, "no_agents");
    let exit = branch(f, "exit");
    NodeKind::Queue(QueueNode {
        prompts: f.prompts(),
        queue: f.required("queue"),
        priority: u8::try_from(f.number("priority", 0, (0, 9))).unwrap_or(0),
        answered: f.required("answered"),
        overflow,
        no_agents,
        exit,
    })
}

pub(crate) fn read_say(f: &mut Fields) -> NodeKind {
    f.only("say", &["parts", "barge_in", "next"]);
    let mut parts = Vec::new();
    match f.get("parts") {
        Some(Value::Sequence(items)) => {
            for item in items {
                // A part is a list of segments; a lone segment is a part of one.
                let segments = match item {
                    Value::Sequence(segments) => segments.iter().collect(),
                    single => vec![single],
                };
                match segments.into_iter().map(read_segment).collect() {
                    Ok(part) => parts.push(part),
                    Err(reason) => f.problem("parts", reason),
                }
            }
        }
        _ => f.problem("parts", "expected a list of parts to say"),
    }
    NodeKind::Say(SayNode {
        parts,
        barge_in: f.flag("barge_in", false),
        next: f.required("next"),
    })
}

/// `prompt_id` or `{digits|number|date|amount|stage|verdict|status|recording: variable}`.
fn read_segment(value: &Value) -> Result<Segment, String> {
    if let Value::String(prompt) = value {
        return Ok(Segment::Prompt(prompt.clone()));
    }
    let how_list = SayAs::ALL.map(SayAs::as_str).join(", ");
    let expected = format!("a part is a prompt id or {{how: variable}} with how one of {how_list}");
    let Value::Mapping(map) = value else {
        return Err(expected);
    };
    let mut entries = map.iter();
    match (entries.next(), entries.next()) {
        (Some((how, var)), None) => {
            let how = scalar(how).and_then(|h| SayAs::parse(&h)).ok_or(expected)?;
            let var = scalar(var).filter(|v| is_name(v));
            let var = var.ok_or("the value to say must be a variable name")?;
            Ok(Segment::Value { how, var })
        }
        _ => Err(expected),
    }
}

pub(crate) fn read_lookup(f: &mut Fields) -> NodeKind {
    f.only(
        "lookup",
        &["kind", "kind_from", "number", "found", "not_found"],
    );
    let kind = match (f.text("kind"), f.text("kind_from")) {
        (Some(kind), None) => match CaseKind::parse(&kind) {
            Some(kind) => KindSource::Fixed(kind),
            None => {
                f.problem(
                    "kind",
                    format!("`{kind}` is not a case kind (zoning, article100)"),
                );
                KindSource::Fixed(CaseKind::Zoning)
            }
        },
        (None, Some(_)) => KindSource::Var(f.variable("kind_from")),
        _ => {
            f.problem("kind", "give exactly one of `kind` or `kind_from`");
            KindSource::Fixed(CaseKind::Zoning)
        }
    };
    NodeKind::Lookup(LookupNode {
        kind,
        number: f.variable("number"),
        found: f.required("found"),
        not_found: f.required("not_found"),
    })
}

pub(crate) fn read_lookup_message(f: &mut Fields) -> NodeKind {
    f.only("lookup_message", &["code", "found", "not_found", "limited"]);
    NodeKind::LookupMessage(LookupMessageNode {
        code: f.variable("code"),
        found: f.required("found"),
        not_found: f.required("not_found"),
        limited: f.text("limited"),
    })
}

/// A message kind written on a file or end node.
pub(crate) fn message_kind(f: &mut Fields) -> Option<MessageKind> {
    let text = f.text("kind")?;
    let kind = MessageKind::parse(&text);
    if kind.is_none() {
        let all = MessageKind::ALL.map(MessageKind::as_str).join(", ");
        f.problem("kind", format!("`{text}` is not a message kind ({all})"));
    }
    kind
}

pub(crate) fn read_file(f: &mut Fields) -> NodeKind {
    f.only("file", &["kind", "next", "on_failure", "failure_prompt"]);
    NodeKind::File(FileNode {
        kind: message_kind(f),
        next: f.required("next"),
        on_failure: f.text("on_failure"),
        failure_prompt: f
            .text("failure_prompt")
            .unwrap_or_else(|| DEFAULT_FILE_FAILED_PROMPT.into()),
    })
}
