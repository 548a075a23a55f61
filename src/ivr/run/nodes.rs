//! Entering nodes and following their branches.
//!
//! A digit typed during a barge-in prompt of a play or say node is carried into the next node
//! (`pending`): the caller who already knows the menu presses 4 during the welcome and lands in
//! key 4 without hearing the menu, as on any well-run line.

use std::sync::Arc;

use super::io::{IvrOutput, IvrTimer, MessageKind, QueueOutcome, TrailStep};
use super::{AfterPlay, IvrRun, State, ENGINE_REPLY_TIMEOUT, MAX_HOPS};
use crate::ivr::case::{CaseInfo, MessageStatus};
use crate::ivr::flow::{Flow, KindSource, NodeKind};

impl IvrRun {
    /// Goes to node `target`, optionally handing it a digit typed during the previous prompt.
    pub(super) fn go(&mut self, target: &str, pending: Option<char>) {
        self.hops += 1;
        let flow = Arc::clone(&self.flow);
        let node = match flow.node(target) {
            Some(node) if self.hops <= MAX_HOPS => node,
            // A validated flow has neither; end the call politely rather than spin or stall.
            _ => return self.hang_up(),
        };
        self.node = target.to_owned();
        self.attempts = 0;
        self.takes = 0;
        self.digits.clear();
        self.timer = None;
        self.note(TrailStep::Node(target.to_owned()));
        self.enter(&flow, &node.kind, pending);
    }

    /// Starts what the node does: a prompt, a request to the engine, or the next node at once.
    fn enter(&mut self, flow: &Flow, kind: &NodeKind, pending: Option<char>) {
        match kind {
            NodeKind::Play(n) => {
                self.play(n.prompts.clone(), n.barge_in, AfterPlay::Go(n.next.clone()))
            }
            NodeKind::Menu(n) => match pending {
                Some(digit) => self.menu_digit(digit),
                None => self.play(n.prompts.clone(), n.barge_in, AfterPlay::MenuKey),
            },
            NodeKind::Collect(n) => match pending {
                Some(digit) => {
                    self.state = State::Collecting;
                    self.collect_digit(digit);
                }
                None => self.play(n.prompts.clone(), n.barge_in, AfterPlay::Collect),
            },
            NodeKind::Say(n) => {
                let prompts = self.render_say(&n.parts);
                if prompts.is_empty() {
                    self.go(&n.next, pending);
                } else {
                    self.play(prompts, n.barge_in, AfterPlay::Go(n.next.clone()));
                }
            }
            NodeKind::Lookup(n) => self.lookup_case(&n.kind, &n.number, &n.not_found),
            NodeKind::LookupMessage(n) => self.lookup_message(&n.code, &n.not_found),
            NodeKind::Record(_) => self.start_take(&[]),
            NodeKind::Queue(n) if n.prompts.is_empty() => self.enqueue(n.queue.clone(), n.priority),
            NodeKind::Queue(n) => self.play(
                n.prompts.clone(),
                false,
                AfterPlay::Enqueue(n.queue.clone(), n.priority),
            ),
            NodeKind::File(n) if self.filed => self.go(&n.next, None),
            NodeKind::File(n) => {
                self.file_if_needed(n.kind, None);
                self.state = State::AwaitFiled;
                self.arm(IvrTimer::EngineReply, ENGINE_REPLY_TIMEOUT);
            }
            NodeKind::Hours(n) => {
                let open = flow.hours.as_ref().is_some_and(|h| {
                    h.is_open(self.ctx.today, self.ctx.weekday, self.ctx.minute_of_day)
                });
                self.go(if open { &n.open } else { &n.closed }, pending);
            }
            NodeKind::Set(n) => {
                for (var, value) in &n.vars {
                    self.vars.insert(var.clone(), value.clone());
                }
                self.go(&n.next, pending);
            }
            NodeKind::Goto(n) => self.go(&n.next, pending),
            NodeKind::Hangup(n) if n.prompts.is_empty() => self.hang_up(),
            NodeKind::Hangup(n) => self.play(n.prompts.clone(), false, AfterPlay::Hangup),
            NodeKind::End(n) => self.end(n.kind),
            NodeKind::MailboxLogin(n) => self.enter_login(n, pending),
            NodeKind::Mailbox(n) => self.enter_player(n, pending),
        }
    }

    pub(super) fn play(&mut self, prompts: Vec<String>, barge_in: bool, then: AfterPlay) {
        self.emit(IvrOutput::Play { prompts, barge_in });
        self.state = State::Playing { then, barge_in };
    }

    /// The prompt finished: do what was waiting for it.
    pub(super) fn after_play(&mut self, then: AfterPlay) {
        match then {
            AfterPlay::Go(next) => self.go(&next, None),
            AfterPlay::MenuKey => self.wait_menu_key(),
            AfterPlay::Collect => self.wait_first_digit(),
            AfterPlay::ReviewKey => self.wait_review_key(),
            AfterPlay::Record => self.start_recorder(),
            AfterPlay::Enqueue(queue, priority) => self.enqueue(queue, priority),
            AfterPlay::Hangup => self.hang_up(),
            AfterPlay::Mailbox(after) => self.mailbox_after(after),
        }
    }

    pub(super) fn on_digit(&mut self, digit: char) {
        match &self.state {
            State::Playing {
                then,
                barge_in: true,
            } => {
                let then = then.clone();
                self.emit(IvrOutput::StopPlayback);
                match then {
                    AfterPlay::Go(next) => self.go(&next, Some(digit)),
                    AfterPlay::MenuKey => self.menu_digit(digit),
                    AfterPlay::Collect => {
                        self.state = State::Collecting;
                        self.collect_digit(digit);
                    }
                    AfterPlay::ReviewKey => self.review_digit(digit),
                    AfterPlay::Mailbox(after) => self.mailbox_barge_in(after, digit),
                    // Never played with barge-in; keep the prompt's own continuation.
                    other => self.after_play(other),
                }
            }
            State::MenuKey => self.menu_digit(digit),
            State::Collecting => self.collect_digit(digit),
            State::ReviewKey => self.review_digit(digit),
            State::MailboxKeys(wait) => {
                let wait = *wait;
                self.mailbox_key(wait, digit)
            }
            State::Recording { stopping: false } => self.recording_digit(digit),
            // Keys while a prompt plays without barge-in, or while the engine works, are dropped.
            _ => {}
        }
    }

    fn lookup_case(&mut self, kind: &KindSource, number_var: &str, not_found: &str) {
        let kind = match kind {
            KindSource::Fixed(kind) => Some(*kind),
            KindSource::Var(var) => self
                .variable(var)
                .and_then(crate::ivr::case::CaseKind::parse),
        };
        let number = self.variable(number_var).map(str::to_owned);
        self.clear_case_vars();
        let (Some(kind), Some(number)) = (kind, number) else {
            return self.go(not_found, None);
        };
        self.looked_up_case = true;
        self.emit(IvrOutput::LookupCase { kind, number });
        self.state = State::AwaitCase;
        self.arm(IvrTimer::EngineReply, ENGINE_REPLY_TIMEOUT);
    }

    fn lookup_message(&mut self, code_var: &str, not_found: &str) {
        let Some(code) = self.variable(code_var).map(str::to_owned) else {
            return self.go(not_found, None);
        };
        for var in crate::ivr::flow::graph::MESSAGE_VARS {
            self.vars.remove(var);
        }
        self.looked_up_message = true;
        self.emit(IvrOutput::LookupMessage {
            tracking_code: code,
        });
        self.state = State::AwaitMessage;
        self.arm(IvrTimer::EngineReply, ENGINE_REPLY_TIMEOUT);
    }

    pub(super) fn on_case(&mut self, case: Option<CaseInfo>) {
        let Some(NodeKind::Lookup(n)) = self.current_kind() else {
            return;
        };
        match case {
            Some(case) => {
                self.set_case_vars(&case);
                self.go(&n.found, None);
            }
            None => self.go(&n.not_found, None),
        }
    }

    pub(super) fn on_message(&mut self, message: Option<MessageStatus>) {
        let Some(NodeKind::LookupMessage(n)) = self.current_kind() else {
            return;
        };
        match message {
            Some(message) => {
                self.set_message_vars(&message);
                self.go(&n.found, None);
            }
            None => self.go(&n.not_found, None),
        }
    }

    /// Lookups are refused for this caller for now: the flow's `limited` branch says so (and
    /// offers a person), else the caller is told no message was found.
    pub(super) fn on_lookup_refused(&mut self) {
        let Some(NodeKind::LookupMessage(n)) = self.current_kind() else {
            return;
        };
        self.go(n.limited.as_ref().unwrap_or(&n.not_found), None);
    }

    fn enqueue(&mut self, queue: String, priority: u8) {
        let draft = self.draft(None, Some(MessageKind::Guidance));
        self.emit(IvrOutput::Enqueue {
            queue,
            priority,
            draft,
        });
        self.state = State::AwaitQueue;
        self.timer = None;
    }

    pub(super) fn on_queue_result(&mut self, outcome: QueueOutcome) {
        let Some(NodeKind::Queue(n)) = self.current_kind() else {
            return;
        };
        let next = match outcome {
            QueueOutcome::Answered => &n.answered,
            QueueOutcome::Overflow => &n.overflow,
            QueueOutcome::NoAgents => &n.no_agents,
            QueueOutcome::Exit => &n.exit,
        };
        self.go(next, None);
    }

    /// `Filed` (with its code) or `FileFailed` (`None`) at a file node.
    pub(super) fn on_filed(&mut self, tracking_code: Option<String>) {
        let Some(NodeKind::File(n)) = self.current_kind() else {
            return;
        };
        self.timer = None;
        match (tracking_code, &n.on_failure) {
            (Some(code), _) => {
                self.vars.insert("tracking_code".to_owned(), code);
                self.go(&n.next, None);
            }
            (None, Some(on_failure)) => self.go(on_failure, None),
            (None, None) => self.play(vec![n.failure_prompt.clone()], false, AfterPlay::Hangup),
        }
    }

    /// The current node's definition (a clone of the flow handle keeps `self` free to mutate).
    pub(super) fn current_kind(&self) -> Option<NodeKind> {
        self.flow.node(&self.node).map(|n| n.kind.clone())
    }
}
