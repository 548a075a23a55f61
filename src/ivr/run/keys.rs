//! Keys: menus and collected numbers, with their forgiving re-prompts.
//!
//! A wrong key or silence is not the caller's fault: the run says so politely and repeats the
//! question, up to the node's retry limit, then goes to the node's fallback (usually a
//! call-taker) or ends the call politely. `*` always repeats a menu or restarts a number and
//! never counts as a mistake.

use super::io::{IvrTimer, TrailStep};
use super::{AfterPlay, IvrRun, State};
use crate::ivr::flow::{CollectNode, MenuNode, NodeKind, Retry, Validation};
use crate::ivr::tracking::check_tracking_code;

/// What went wrong on an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Miss {
    NoInput,
    Invalid,
}

impl IvrRun {
    fn current_menu(&self) -> Option<MenuNode> {
        match self.current_kind()? {
            NodeKind::Menu(m) => Some(m),
            _ => None,
        }
    }

    fn current_collect(&self) -> Option<CollectNode> {
        match self.current_kind()? {
            NodeKind::Collect(c) => Some(c),
            _ => None,
        }
    }

    pub(super) fn wait_menu_key(&mut self) {
        let Some(menu) = self.current_menu() else {
            return;
        };
        self.state = State::MenuKey;
        self.arm(IvrTimer::NoInput, menu.timeout);
    }

    pub(super) fn menu_digit(&mut self, digit: char) {
        let Some(menu) = self.current_menu() else {
            return;
        };
        self.timer = None;
        if let Some(choice) = menu.keys.get(&digit) {
            let node = self.node.clone();
            self.note(TrailStep::Choice { node, key: digit });
            for (var, value) in &choice.set {
                self.vars.insert(var.clone(), value.clone());
            }
            self.go(&choice.next, None);
        } else if digit == '*' {
            self.play(menu.prompts.clone(), menu.barge_in, AfterPlay::MenuKey);
        } else {
            self.menu_miss(&menu, Miss::Invalid);
        }
    }

    pub(super) fn menu_no_input(&mut self) {
        if let Some(menu) = self.current_menu() {
            self.menu_miss(&menu, Miss::NoInput);
        }
    }

    fn menu_miss(&mut self, menu: &MenuNode, miss: Miss) {
        if self.spend_attempt(&menu.retry) {
            let prompts = reprompt(&menu.retry, miss, &menu.prompts);
            self.play(prompts, menu.barge_in, AfterPlay::MenuKey);
        }
    }

    /// Counts a failed attempt. Returns true if the caller may try again; otherwise the run has
    /// already moved to the fallback or the polite ending.
    pub(super) fn spend_attempt(&mut self, retry: &Retry) -> bool {
        self.attempts += 1;
        if self.attempts <= retry.retries {
            return true;
        }
        match &retry.fallback {
            Some(fallback) => self.go(&fallback.clone(), None),
            None => self.play(vec![retry.fail_prompt.clone()], false, AfterPlay::Hangup),
        }
        false
    }

    pub(super) fn wait_first_digit(&mut self) {
        let Some(collect) = self.current_collect() else {
            return;
        };
        self.state = State::Collecting;
        self.digits.clear();
        self.arm(IvrTimer::FirstDigit, collect.first_digit_timeout);
    }

    pub(super) fn collect_digit(&mut self, digit: char) {
        let Some(collect) = self.current_collect() else {
            return;
        };
        self.timer = None;
        if digit == collect.terminator {
            return self.collect_complete();
        }
        if digit == '*' {
            // Start the number again from the question.
            self.digits.clear();
            return self.play(
                collect.prompts.clone(),
                collect.barge_in,
                AfterPlay::Collect,
            );
        }
        if digit.is_ascii_digit() {
            self.digits.push(digit);
        }
        if self.digits.len() >= collect.max_digits {
            let until = self.now + collect.inter_digit_timeout;
            self.swallow_terminator = Some((collect.terminator, until));
            self.collect_complete();
        } else {
            self.arm(IvrTimer::InterDigit, collect.inter_digit_timeout);
        }
    }

    pub(super) fn collect_no_input(&mut self) {
        if let Some(collect) = self.current_collect() {
            self.collect_miss(&collect, Miss::NoInput);
        }
    }

    /// `#`, the last allowed digit, or a pause after some digits: check what was keyed.
    pub(super) fn collect_complete(&mut self) {
        let Some(collect) = self.current_collect() else {
            return;
        };
        self.timer = None;
        let digits = std::mem::take(&mut self.digits);
        if digits.is_empty() {
            return self.collect_miss(&collect, Miss::NoInput);
        }
        if digits.len() >= collect.min_digits && is_valid(collect.validate, &digits) {
            self.vars.insert(collect.into.clone(), digits);
            self.go(&collect.next, None);
        } else {
            self.collect_miss(&collect, Miss::Invalid);
        }
    }

    fn collect_miss(&mut self, collect: &CollectNode, miss: Miss) {
        self.digits.clear();
        if self.spend_attempt(&collect.retry) {
            let prompts = reprompt(&collect.retry, miss, &collect.prompts);
            self.play(prompts, collect.barge_in, AfterPlay::Collect);
        }
    }
}

/// The apology for `miss` followed by the question again.
pub(super) fn reprompt(retry: &Retry, miss: Miss, question: &[String]) -> Vec<String> {
    let apology = match miss {
        Miss::NoInput => &retry.no_input_prompt,
        Miss::Invalid => &retry.invalid_prompt,
    };
    std::iter::once(apology.clone())
        .chain(question.iter().cloned())
        .collect()
}

fn is_valid(validation: Validation, digits: &str) -> bool {
    match validation {
        Validation::Any => true,
        Validation::TrackingCode => check_tracking_code(digits).is_ok(),
        Validation::Range(lo, hi) => digits.parse::<u64>().is_ok_and(|n| (lo..=hi).contains(&n)),
    }
}
