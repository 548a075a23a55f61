//! `mailbox_login`: the mailbox number and `#`, the PIN and `#`, checked by the engine.
//!
//! The engine, not the run, limits wrong PINs (per mailbox and per source address, across
//! calls): someone guessing simply calls again. The run only limits the tries of one call, and
//! counts a silence as a try, so an open line cannot sit in the login forever. Digits typed
//! during a prompt count (barge-in): a manager who knows the menu keys straight ahead.

use super::{After, Wait};
use crate::ivr::flow::{MailboxLoginNode, NodeKind};
use crate::ivr::run::io::{IvrOutput, IvrTimer, LoginResult};
use crate::ivr::run::{IvrRun, State, ENGINE_REPLY_TIMEOUT};

impl IvrRun {
    fn current_login(&self) -> Option<MailboxLoginNode> {
        match self.current_kind()? {
            NodeKind::MailboxLogin(n) => Some(n),
            _ => None,
        }
    }

    pub(in crate::ivr::run) fn enter_login(&mut self, n: &MailboxLoginNode, pending: Option<char>) {
        self.mailbox.tries = 0;
        self.mailbox.typed_mailbox.clear();
        match pending {
            Some(digit) => {
                self.state = State::MailboxKeys(Wait::MailboxNumber);
                self.login_digit(Wait::MailboxNumber, digit);
            }
            None => self.ask_mailbox(n, &[]),
        }
    }

    /// `before` (an apology), then the question for the mailbox number.
    fn ask_mailbox(&mut self, n: &MailboxLoginNode, before: &[String]) {
        self.digits.clear();
        self.mailbox.typed_mailbox.clear();
        let prompts = before.iter().chain(&n.mailbox_prompts).cloned().collect();
        self.mailbox_play(prompts, true, After::Wait(Wait::MailboxNumber));
    }

    pub(super) fn login_digit(&mut self, wait: Wait, digit: char) {
        let Some(n) = self.current_login() else {
            return;
        };
        if digit == n.terminator {
            return self.login_field_done();
        }
        if digit == '*' {
            // Start this number again.
            self.digits.clear();
            let prompts = match wait {
                Wait::Pin => n.pin_prompts.clone(),
                _ => n.mailbox_prompts.clone(),
            };
            return self.mailbox_play(prompts, true, After::Wait(wait));
        }
        if digit.is_ascii_digit() {
            self.digits.push(digit);
        }
        if self.digits.len() >= n.max_digits {
            let until = self.now + n.inter_digit_timeout;
            self.swallow_terminator = Some((n.terminator, until));
            self.login_field_done();
        } else {
            self.arm(IvrTimer::InterDigit, n.inter_digit_timeout);
        }
    }

    /// `#`, the last allowed digit or a pause after some digits: the field is complete.
    pub(super) fn login_field_done(&mut self) {
        let Some(n) = self.current_login() else {
            return;
        };
        let State::MailboxKeys(wait) = self.state else {
            return;
        };
        self.timer = None;
        let digits = std::mem::take(&mut self.digits);
        if digits.is_empty() {
            return self.login_no_input();
        }
        match wait {
            Wait::MailboxNumber => {
                self.mailbox.typed_mailbox = digits;
                self.mailbox_play(n.pin_prompts.clone(), true, After::Wait(Wait::Pin));
            }
            _ => {
                let mailbox = std::mem::take(&mut self.mailbox.typed_mailbox);
                self.emit(IvrOutput::VerifyManager {
                    mailbox,
                    pin: crate::ivr::Pin(digits),
                });
                self.state = State::AwaitLogin;
                self.arm(IvrTimer::EngineReply, ENGINE_REPLY_TIMEOUT);
            }
        }
    }

    /// Nothing was keyed: a try spent, then the login starts again (or ends).
    pub(super) fn login_no_input(&mut self) {
        let Some(n) = self.current_login() else {
            return;
        };
        self.mailbox.tries += 1;
        if self.mailbox.tries >= n.tries {
            return self.login_failed();
        }
        self.ask_mailbox(&n, std::slice::from_ref(&n.no_input_prompt));
    }

    /// The engine's answer to `VerifyManager` (a silent engine counts as a wrong login).
    pub(in crate::ivr::run) fn on_login(&mut self, result: LoginResult) {
        let Some(n) = self.current_login() else {
            return;
        };
        self.timer = None;
        match result {
            LoginResult::Accepted { mailbox, items } => {
                self.vars.insert("mailbox".to_owned(), mailbox);
                self.mailbox.items = items;
                self.mailbox.index = 0;
                self.go(&n.next, None);
            }
            LoginResult::Wrong => {
                self.mailbox.tries += 1;
                if self.mailbox.tries >= n.tries {
                    self.mailbox_play(vec![n.wrong_prompt.clone()], false, After::Fail);
                } else {
                    self.ask_mailbox(&n, std::slice::from_ref(&n.wrong_prompt));
                }
            }
            LoginResult::Limited => {
                self.mailbox_play(vec![n.limited_prompt.clone()], false, After::Fail)
            }
        }
    }

    pub(super) fn login_failed(&mut self) {
        if let Some(n) = self.current_login() {
            self.go(&n.fail, None);
        }
    }
}
