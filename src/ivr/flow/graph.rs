//! What each node type refers to: the nodes it can go to, the prompts it plays, the variables
//! it reads and writes. The loader checks these; the coverage test walks them.

use super::*;

/// Variables a successful case lookup sets (absent values are left unset).
pub const CASE_VARS: [&str; 12] = [
    "case_kind",
    "case_number",
    "case_district",
    "case_stage",
    "case_last_step_date",
    "case_next_step",
    "case_session_date",
    "case_verdict",
    "case_fine_rials",
    "case_served_date",
    "case_objection_deadline",
    "case_days_to_object",
];

/// Variables a successful message lookup sets.
pub const MESSAGE_VARS: [&str; 2] = ["message_status", "message_reply"];

/// Variables every run starts with (`caller_takes_sms` only when a text can reach the caller).
pub const BUILTIN_VARS: [&str; 4] = ["caller", "line", "today", "caller_takes_sms"];

impl NodeKind {
    /// `(field, node)` for every node this one can go to; menu keys read `keys.1`.
    pub fn targets(&self) -> Vec<(String, &str)> {
        let mut fields: Vec<(&str, &String)> = Vec::new();
        let mut keyed: Vec<(String, &str)> = Vec::new();
        match self {
            NodeKind::Play(n) => fields.push(("next", &n.next)),
            NodeKind::Menu(n) => {
                for (key, choice) in &n.keys {
                    keyed.push((format!("keys.{key}"), choice.next.as_str()));
                }
                fields.extend(n.retry.fallback.iter().map(|f| ("fallback", f)));
            }
            NodeKind::Collect(n) => {
                fields.push(("next", &n.next));
                fields.extend(n.retry.fallback.iter().map(|f| ("fallback", f)));
            }
            NodeKind::Say(n) => fields.push(("next", &n.next)),
            NodeKind::Lookup(n) => {
                fields.extend([("found", &n.found), ("not_found", &n.not_found)])
            }
            NodeKind::LookupMessage(n) => {
                fields.extend([("found", &n.found), ("not_found", &n.not_found)]);
                fields.extend(n.limited.iter().map(|l| ("limited", l)));
            }
            NodeKind::Record(n) => {
                fields.push(("next", &n.next));
                fields.extend(n.retry.fallback.iter().map(|f| ("fallback", f)));
                fields.extend(n.on_failure.iter().map(|f| ("on_failure", f)));
            }
            NodeKind::Queue(n) => fields.extend([
                ("answered", &n.answered),
                ("overflow", &n.overflow),
                ("no_agents", &n.no_agents),
                ("exit", &n.exit),
            ]),
            NodeKind::File(n) => {
                fields.push(("next", &n.next));
                fields.extend(n.on_failure.iter().map(|f| ("on_failure", f)));
            }
            NodeKind::Hours(n) => fields.extend([("open", &n.open), ("closed", &n.closed)]),
            NodeKind::Set(n) => fields.push(("next", &n.next)),
            NodeKind::Goto(n) => fields.push(("next", &n.next)),
            NodeKind::Hangup(_) | NodeKind::End(_) => {}
            NodeKind::MailboxLogin(n) => fields.extend([("next", &n.next), ("fail", &n.fail)]),
            NodeKind::Mailbox(n) => fields.push(("next", &n.next)),
        }
        keyed.extend(fields.into_iter().map(|(f, t)| (f.to_owned(), t.as_str())));
        keyed
    }

    /// `(field, prompt id)` for every fixed prompt the node can play, defaults included.
    pub fn prompts_used(&self) -> Vec<(&'static str, &str)> {
        let mut out = Vec::new();
        match self {
            NodeKind::Play(n) => list(&mut out, "prompts", &n.prompts),
            NodeKind::Menu(n) => {
                list(&mut out, "prompts", &n.prompts);
                retry(&mut out, &n.retry);
            }
            NodeKind::Collect(n) => {
                list(&mut out, "prompts", &n.prompts);
                retry(&mut out, &n.retry);
            }
            NodeKind::Say(n) => {
                for segment in n.parts.iter().flatten() {
                    if let Segment::Prompt(p) = segment {
                        out.push(("parts", p.as_str()));
                    }
                }
            }
            NodeKind::Record(n) => {
                list(&mut out, "prompts", &n.prompts);
                list(&mut out, "review_prompts", &n.review_prompts);
                out.push(("beep", n.beep.as_str()));
                out.push(("empty_prompt", n.empty_prompt.as_str()));
                retry(&mut out, &n.retry);
                if n.on_failure.is_none() {
                    out.push(("failure_prompt", n.failure_prompt.as_str()));
                }
            }
            NodeKind::Queue(n) => list(&mut out, "prompts", &n.prompts),
            NodeKind::File(n) if n.on_failure.is_none() => {
                out.push(("failure_prompt", n.failure_prompt.as_str()));
            }
            NodeKind::Hangup(n) => list(&mut out, "prompts", &n.prompts),
            NodeKind::MailboxLogin(n) => {
                list(&mut out, "mailbox_prompts", &n.mailbox_prompts);
                list(&mut out, "pin_prompts", &n.pin_prompts);
                out.push(("wrong_prompt", n.wrong_prompt.as_str()));
                out.push(("limited_prompt", n.limited_prompt.as_str()));
                out.push(("no_input_prompt", n.no_input_prompt.as_str()));
            }
            NodeKind::Mailbox(n) => {
                out.push(("count_prompts", n.count_prompts.0.as_str()));
                out.push(("count_prompts", n.count_prompts.1.as_str()));
                let singles = [
                    ("no_new_prompt", &n.no_new_prompt),
                    ("empty_prompt", &n.empty_prompt),
                    ("item_prompt", &n.item_prompt),
                    ("beep", &n.beep),
                    ("sent_prompt", &n.sent_prompt),
                    ("marked_prompt", &n.marked_prompt),
                    ("not_saved_prompt", &n.not_saved_prompt),
                    ("empty_take_prompt", &n.empty_take_prompt),
                    ("record_failed_prompt", &n.record_failed_prompt),
                    ("end_prompt", &n.end_prompt),
                    ("no_input_prompt", &n.no_input_prompt),
                    ("invalid_prompt", &n.invalid_prompt),
                ];
                out.extend(singles.map(|(field, p)| (field, p.as_str())));
                list(&mut out, "menu_prompts", &n.menu_prompts);
                list(&mut out, "reply_prompts", &n.reply_prompts);
                list(&mut out, "review_prompts", &n.review_prompts);
            }
            _ => {}
        }
        out
    }

    /// `(field, prompt id)` for the prompts a node builds from data rather than names: a
    /// mailbox's line and kind phrases (one per listed line, one per message kind).
    pub fn built_prompts(&self) -> Vec<(&'static str, String)> {
        match self {
            NodeKind::Mailbox(n) => {
                let lines = n
                    .lines
                    .iter()
                    .filter_map(|l| n.line_prompt(l))
                    .map(|p| ("lines", p));
                let kinds = MessageKind::ALL
                    .into_iter()
                    .map(|k| ("kind_prompt_prefix", n.kind_prompt(k)));
                lines.chain(kinds).collect()
            }
            _ => Vec::new(),
        }
    }
}

type Uses<'a> = Vec<(&'static str, &'a str)>;

fn list<'a>(out: &mut Uses<'a>, field: &'static str, prompts: &'a [String]) {
    out.extend(prompts.iter().map(|p| (field, p.as_str())));
}

fn retry<'a>(out: &mut Uses<'a>, r: &'a Retry) {
    out.push(("no_input_prompt", r.no_input_prompt.as_str()));
    out.push(("invalid_prompt", r.invalid_prompt.as_str()));
    if r.fallback.is_none() {
        out.push(("fail_prompt", r.fail_prompt.as_str()));
    }
}

impl NodeKind {
    /// `(field, variable)` for every variable the node reads.
    pub fn vars_read(&self) -> Vec<(&'static str, &str)> {
        match self {
            NodeKind::Say(n) => n
                .parts
                .iter()
                .flatten()
                .filter_map(|s| match s {
                    Segment::Value { var, .. } => Some(("parts", var.as_str())),
                    Segment::Prompt(_) => None,
                })
                .collect(),
            NodeKind::Lookup(n) => {
                let mut vars = vec![("number", n.number.as_str())];
                if let KindSource::Var(v) = &n.kind {
                    vars.push(("kind_from", v.as_str()));
                }
                vars
            }
            NodeKind::LookupMessage(n) => vec![("code", n.code.as_str())],
            _ => Vec::new(),
        }
    }

    /// Every variable the node may set.
    pub fn vars_written(&self) -> Vec<&str> {
        match self {
            NodeKind::Collect(n) => vec![n.into.as_str()],
            NodeKind::Set(n) => n.vars.iter().map(|(v, _)| v.as_str()).collect(),
            NodeKind::Menu(n) => n
                .keys
                .values()
                .flat_map(|c| c.set.iter().map(|(v, _)| v.as_str()))
                .collect(),
            NodeKind::Lookup(_) => CASE_VARS.to_vec(),
            NodeKind::LookupMessage(_) => MESSAGE_VARS.to_vec(),
            NodeKind::File(_) => vec!["tracking_code"],
            NodeKind::Record(_) => vec!["recording"],
            NodeKind::MailboxLogin(_) => vec!["mailbox"],
            _ => Vec::new(),
        }
    }

    /// Whether the node passes control on at once, without waiting for the caller or engine.
    pub fn is_instant(&self) -> bool {
        matches!(
            self,
            NodeKind::Set(_) | NodeKind::Goto(_) | NodeKind::Hours(_)
        )
    }
}
