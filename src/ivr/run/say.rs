//! Speaking values: a say node's parts become prompt ids, and lookups become variables.
//!
//! A part is spoken whole or not at all: if any value in it is unset or cannot be spoken (an
//! Article 100 case with no verdict yet, a stage the phrase list does not know), the caller
//! hears nothing of that part rather than a lead-in followed by silence.

use super::io::recording_prompt;
use super::IvrRun;
use crate::calendar::JalaliDate;
use crate::ivr::case::{
    stage_prompt, status_prompt, verdict_prompt, CaseInfo, CaseKind, MessageStatus,
};
use crate::ivr::flow::graph::CASE_VARS;
use crate::ivr::flow::{SayAs, Segment};
use crate::ivr::words;

/// Case variables that are the caller's question rather than the answer: kept across lookups.
const CASE_QUESTION_VARS: [&str; 2] = ["case_kind", "case_number"];

impl IvrRun {
    pub(super) fn render_say(&self, parts: &[Vec<Segment>]) -> Vec<String> {
        parts
            .iter()
            .filter_map(|part| self.render_part(part))
            .flatten()
            .collect()
    }

    fn render_part(&self, part: &[Segment]) -> Option<Vec<String>> {
        let mut prompts = Vec::new();
        for segment in part {
            match segment {
                Segment::Prompt(p) => prompts.push(p.clone()),
                Segment::Value { how, var } => {
                    prompts.extend(self.say_value(*how, self.variable(var)?)?);
                }
            }
        }
        Some(prompts)
    }

    fn say_value(&self, how: SayAs, value: &str) -> Option<Vec<String>> {
        let one = |p: Option<String>| p.map(|p| vec![p]);
        let prompts = match how {
            SayAs::Digits => words::digits_prompts(value),
            SayAs::Number => words::number_prompts(value.trim().parse().ok()?),
            SayAs::Amount => words::amount_rials_prompts(value.trim().parse().ok()?),
            SayAs::Date => words::date_prompts(JalaliDate::parse(value).ok()?),
            SayAs::Stage => {
                let kind = CaseKind::parse(self.variable("case_kind")?)?;
                return one(stage_prompt(kind, value));
            }
            SayAs::Verdict => return one(verdict_prompt(value)),
            SayAs::Status => return one(status_prompt(value)),
            SayAs::Recording if value.is_empty() => return None,
            SayAs::Recording => vec![recording_prompt(value)],
            SayAs::When => return Some(Vec::new()),
        };
        (!prompts.is_empty()).then_some(prompts)
    }

    /// Forgets the answer of an earlier lookup (a second file must not inherit its verdict).
    pub(super) fn clear_case_vars(&mut self) {
        for var in CASE_VARS {
            if !CASE_QUESTION_VARS.contains(&var) {
                self.vars.remove(var);
            }
        }
    }

    /// What the case readers speak. A session date is set only while it is still ahead, and the
    /// days left to object only while the verdict is served and the deadline not passed.
    pub(super) fn set_case_vars(&mut self, case: &CaseInfo) {
        let today = self.ctx.today;
        let date = |d: JalaliDate| d.to_string();
        let values = [
            ("case_kind", Some(case.kind.as_str().to_owned())),
            ("case_number", Some(case.number.clone())),
            ("case_district", case.district.map(|d| d.to_string())),
            ("case_stage", Some(case.stage.clone())),
            ("case_last_step_date", Some(date(case.last_step_date))),
            (
                "case_next_step",
                case.next_step.clone().filter(|s| !s.is_empty()),
            ),
            (
                "case_session_date",
                case.session_date.filter(|d| *d >= today).map(date),
            ),
            (
                "case_verdict",
                case.verdict.clone().filter(|v| !v.is_empty()),
            ),
            ("case_fine_rials", case.fine_rials.map(|f| f.to_string())),
            ("case_served_date", case.served_date.map(date)),
            (
                "case_objection_deadline",
                case.objection_deadline().map(date),
            ),
            (
                "case_days_to_object",
                case.days_left_to_object(today).map(|d| d.to_string()),
            ),
        ];
        for (var, value) in values {
            match value {
                Some(value) => self.vars.insert(var.to_owned(), value),
                None => self.vars.remove(var),
            };
        }
    }

    pub(super) fn set_message_vars(&mut self, message: &MessageStatus) {
        self.vars
            .insert("message_status".to_owned(), message.status.clone());
        match (&message.reply_recording_id, message.has_voice_reply) {
            (Some(id), true) if !id.is_empty() => {
                self.vars.insert("message_reply".to_owned(), id.clone());
            }
            _ => {
                self.vars.remove("message_reply");
            }
        }
    }
}
