//! Readers of the managers' mailbox nodes (`mailbox_login`, `mailbox`), with their defaults:
//! every prompt has a default under `prompts/fa/mailbox/`, so `mailbox.yaml` names only what it
//! changes.

use super::fields::*;
use super::*;

const LOGIN_FIELDS: [&str; 13] = [
    "mailbox_prompt",
    "mailbox_prompts",
    "pin_prompt",
    "pin_prompts",
    "wrong_prompt",
    "limited_prompt",
    "no_input_prompt",
    "tries",
    "max_digits",
    "first_digit_timeout",
    "inter_digit_timeout",
    "next",
    "fail",
];

pub(crate) fn read_mailbox_login(f: &mut Fields) -> NodeKind {
    f.only("mailbox_login", &LOGIN_FIELDS);
    let text = |f: &mut Fields, name: &str, default: &str| {
        f.text(name).unwrap_or_else(|| default.to_owned())
    };
    NodeKind::MailboxLogin(MailboxLoginNode {
        mailbox_prompts: f.prompt_list(
            "mailbox_prompt",
            "mailbox_prompts",
            &["mailbox/enter_mailbox"],
        ),
        pin_prompts: f.prompt_list("pin_prompt", "pin_prompts", &["mailbox/enter_pin"]),
        wrong_prompt: text(f, "wrong_prompt", "mailbox/login_wrong"),
        limited_prompt: text(f, "limited_prompt", "mailbox/login_limited"),
        no_input_prompt: text(f, "no_input_prompt", DEFAULT_NO_INPUT_PROMPT),
        tries: f.number("tries", 3, (1, 9)),
        max_digits: f.number("max_digits", 8, (1, 16)) as usize,
        terminator: '#',
        first_digit_timeout: f.seconds("first_digit_timeout", 7, (1, 60)),
        inter_digit_timeout: f.seconds("inter_digit_timeout", 4, (1, 30)),
        next: f.required("next"),
        fail: f.required("fail"),
    })
}

const PLAYER_FIELDS: [&str; 28] = [
    "count_prompts",
    "no_new_prompt",
    "empty_prompt",
    "item_prompt",
    "line_prompt_prefix",
    "lines",
    "kind_prompt_prefix",
    "menu_prompt",
    "menu_prompts",
    "reply_prompt",
    "reply_prompts",
    "beep",
    "max_seconds",
    "silence_seconds",
    "end_key",
    "review_prompt",
    "review_prompts",
    "sent_prompt",
    "marked_prompt",
    "not_saved_prompt",
    "empty_take_prompt",
    "record_failed_prompt",
    "end_prompt",
    "timeout",
    "retries",
    "no_input_prompt",
    "invalid_prompt",
    "next",
];

pub(crate) fn read_mailbox(f: &mut Fields) -> NodeKind {
    f.only("mailbox", &PLAYER_FIELDS);
    let text = |f: &mut Fields, name: &str, default: &str| {
        f.text(name).unwrap_or_else(|| default.to_owned())
    };
    let count: Option<Vec<String>> = match f.get("count_prompts") {
        None => Some(vec![
            "mailbox/you_have".into(),
            "mailbox/new_messages".into(),
        ]),
        Some(yaml_serde::Value::Sequence(items)) => items.iter().map(scalar).collect(),
        Some(_) => None,
    };
    let count_prompts = match count.as_deref() {
        Some([before, after]) => (before.clone(), after.clone()),
        _ => {
            f.problem(
                "count_prompts",
                "expected two prompts: before and after the number of new messages",
            );
            (String::new(), String::new())
        }
    };
    let lines = match f.get("lines") {
        None => vec!["137".to_owned(), "1888".to_owned()],
        Some(yaml_serde::Value::Sequence(items)) => {
            items.iter().filter_map(scalar).collect::<Vec<_>>()
        }
        Some(_) => {
            f.problem(
                "lines",
                "expected a list of lines, e.g. [\"137\", \"1888\"]",
            );
            Vec::new()
        }
    };
    NodeKind::Mailbox(Box::new(MailboxNode {
        count_prompts,
        no_new_prompt: text(f, "no_new_prompt", "mailbox/no_new_messages"),
        empty_prompt: text(f, "empty_prompt", "mailbox/no_messages"),
        item_prompt: text(f, "item_prompt", "mailbox/message_of"),
        line_prompt_prefix: text(f, "line_prompt_prefix", "mailbox/line_"),
        lines,
        kind_prompt_prefix: text(f, "kind_prompt_prefix", "mailbox/kind_"),
        menu_prompts: f.prompt_list("menu_prompt", "menu_prompts", &["mailbox/item_menu"]),
        reply_prompts: f.prompt_list(
            "reply_prompt",
            "reply_prompts",
            &["mailbox/reply_instructions"],
        ),
        beep: text(f, "beep", DEFAULT_BEEP),
        max: f.seconds("max_seconds", 180, (5, 600)),
        silence: f.seconds("silence_seconds", 5, (1, 60)),
        end_key: f.key("end_key", '#', "#*0123456789"),
        review_prompts: f.prompt_list("review_prompt", "review_prompts", &["mailbox/reply_review"]),
        sent_prompt: text(f, "sent_prompt", "mailbox/reply_sent"),
        marked_prompt: text(f, "marked_prompt", "mailbox/marked_handled"),
        not_saved_prompt: text(f, "not_saved_prompt", "mailbox/not_saved"),
        empty_take_prompt: text(f, "empty_take_prompt", DEFAULT_EMPTY_TAKE_PROMPT),
        record_failed_prompt: text(f, "record_failed_prompt", "mailbox/reply_failed"),
        end_prompt: text(f, "end_prompt", "mailbox/no_more_messages"),
        timeout: f.seconds("timeout", 6, (1, 60)),
        retries: f.number("retries", 2, (0, 9)),
        no_input_prompt: text(f, "no_input_prompt", DEFAULT_NO_INPUT_PROMPT),
        invalid_prompt: text(f, "invalid_prompt", DEFAULT_INVALID_PROMPT),
        next: f.required("next"),
    }))
}

impl MailboxNode {
    /// The prompt naming `line`, if the node has one for it.
    pub fn line_prompt(&self, line: &str) -> Option<String> {
        self.lines
            .iter()
            .any(|l| l == line)
            .then(|| format!("{}{line}", self.line_prompt_prefix))
    }

    pub fn kind_prompt(&self, kind: crate::ivr::run::io::MessageKind) -> String {
        format!("{}{}", self.kind_prompt_prefix, kind.as_str())
    }
}
