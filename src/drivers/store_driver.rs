//! Carries out the engine's store commands: call records go to the batching writer; lookups run
//! as tasks; filings go to one filer task that commits whatever has queued in one transaction
//! (group commit: one fsync for a burst of calls) and only then answers each call, so the caller
//! never hears "saved" for a message that was not.

use crate::engine::{StoreQuery, StoreWrite};
use tokio::sync::mpsc;

use super::sip_loop::LoopMsg;
use crate::engine::ManagerCheck;
use crate::engine::{CallKey, FilingStage, Input, NewMessage, StoreCommand, StoreReply};
use crate::ivr::jalali::tehran_local;
use crate::ivr::{MailboxItem, MessageKind};
use crate::store::{AuditEntry, CallWriter, MessageRow, ReplyOutcome, Store};

/// Filings committed together at most (a bound on one transaction's size).
const FILING_BATCH: usize = 512;

/// How long the filer waits for more filings before committing.
const FILING_GATHER: std::time::Duration = std::time::Duration::from_millis(10);

/// Starts the driver; returns the sender the engine loop's store sink uses, and a handle that
/// completes once every command sent before that sender was dropped has been carried out (the
/// filer ends last: it commits what is queued, then sees its inbox closed). Shutdown waits on it
/// so no filing is lost to the exit.
pub fn spawn(
    store: Store,
    writer: CallWriter,
    to_loop: mpsc::UnboundedSender<LoopMsg>,
) -> (
    mpsc::UnboundedSender<Vec<StoreCommand>>,
    tokio::task::JoinHandle<()>,
) {
    let (tx, mut rx) = mpsc::unbounded_channel::<Vec<StoreCommand>>();
    let (filings, filing_inbox) = mpsc::unbounded_channel::<Filing>();
    let filer = tokio::spawn(file_in_batches(
        store.clone(),
        filing_inbox,
        to_loop.clone(),
    ));
    tokio::spawn(async move {
        while let Some(batch) = rx.recv().await {
            let (mut states, mut log, mut links) = (Vec::new(), Vec::new(), Vec::new());
            for command in batch {
                match command {
                    StoreCommand::Write(StoreWrite::Call(record)) => writer.submit(record),
                    StoreCommand::Write(StoreWrite::AgentState(row)) => states.push(row),
                    StoreCommand::Write(StoreWrite::QueueLog(row)) => log.push(row),
                    StoreCommand::Write(StoreWrite::AgentConnected {
                        tracking_code,
                        agent,
                        at_ms,
                    }) => links.push((tracking_code, agent, at_ms)),
                    StoreCommand::Write(StoreWrite::Registrations { agent, rows }) => {
                        if let Err(error) = store.save_registrations(&agent, &rows).await {
                            tracing::error!(%error, %agent, "registrations not saved");
                        }
                    }
                    StoreCommand::Write(StoreWrite::FileMessage { call, message }) => {
                        let _ = filings.send(Filing::Message(call, message));
                    }
                    StoreCommand::Write(StoreWrite::AttachCallRecording { call_ref, name }) => {
                        let _ = filings.send(Filing::CallRecording { call_ref, name });
                    }
                    StoreCommand::Write(StoreWrite::Audit {
                        actor,
                        channel,
                        action,
                        tracking_code,
                        detail,
                    }) => {
                        let entry = AuditEntry {
                            actor: &actor,
                            channel: &channel,
                            action: &action,
                            tracking_code: tracking_code.as_deref(),
                            detail: &detail,
                        };
                        if let Err(error) = store.audit(entry).await {
                            tracing::error!(%error, %actor, %action, "audit row not written");
                        }
                    }
                    // A query gets a task of its own: a caller's lookup never waits behind
                    // writes. Its answer comes back through the loop as an input.
                    StoreCommand::Query(query) => {
                        let store = if query.only_reads() {
                            store.for_callers()
                        } else {
                            store.clone()
                        };
                        let to_loop = to_loop.clone();
                        tokio::spawn(async move {
                            let reply = look_up(&store, query).await;
                            let _ = to_loop.send(LoopMsg::Engine(Input::Store(reply)));
                        });
                    }
                }
            }
            if !states.is_empty() {
                if let Err(error) = store.save_agent_states(&states).await {
                    tracing::error!(%error, "agent states not saved");
                }
            }
            if !log.is_empty() {
                if let Err(error) = store.append_queue_log(&log).await {
                    tracing::error!(%error, "queue log not written");
                }
            }
            for (code, agent, at_ms) in links {
                if let Err(error) = store.link_agent_to_message(&code, &agent, at_ms).await {
                    tracing::error!(%error, %agent, "agent not linked to its call's message");
                }
            }
        }
        // The engine's sink is gone: closing `filings` lets the filer finish and end.
        drop(filings);
    });
    (tx, filer)
}

/// What the filer writes, in the order the engine asked: a conversation recording always follows
/// the filing of its call's message.
enum Filing {
    Message(CallKey, NewMessage),
    CallRecording { call_ref: String, name: String },
}

async fn file_in_batches(
    store: Store,
    mut inbox: mpsc::UnboundedReceiver<Filing>,
    to_loop: mpsc::UnboundedSender<LoopMsg>,
) {
    while let Some(first) = inbox.recv().await {
        // A few milliseconds gather a burst into one transaction (one fsync) under load, at a
        // cost the caller does not notice before hearing "saved".
        tokio::time::sleep(FILING_GATHER).await;
        let mut batch = vec![first];
        while batch.len() < FILING_BATCH {
            match inbox.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let (mut filed, mut messages, mut recordings) = (Vec::new(), Vec::new(), Vec::new());
        for filing in batch {
            match filing {
                Filing::Message(call, message) => {
                    filed.push((call, message.stage, message.call_ref.clone()));
                    messages.push(message);
                }
                Filing::CallRecording { call_ref, name } => recordings.push((call_ref, name)),
            }
        }
        let outcome = store.file_messages(&messages).await;
        if let Err(error) = &outcome {
            tracing::error!(%error, count = messages.len(), "messages could not be filed");
        }
        // After the messages: a recording may belong to a message of this very batch.
        if !recordings.is_empty() {
            if let Err(error) = store.attach_call_recordings(&recordings).await {
                tracing::error!(%error, count = recordings.len(), "conversation recordings not attached");
            }
        }
        for (index, (call, stage, call_ref)) in filed.into_iter().enumerate() {
            let code = outcome
                .as_ref()
                .ok()
                .and_then(|c| c.get(index).cloned().flatten());
            // The link between a call's lines and its message, also for a message filed after
            // the call ended (a voice message the caller hung up on).
            if let Some(code) = &code {
                let stage = match stage {
                    FilingStage::Whole => "whole",
                    FilingStage::Open => "opened",
                    FilingStage::Complete => "completed",
                };
                tracing::info!(%call_ref, tracking_code = %code, %stage, "message filed");
            }
            let reply = match stage {
                FilingStage::Open => StoreReply::Opened {
                    call,
                    tracking_code: code,
                },
                _ => StoreReply::Filed {
                    call,
                    saved: outcome.is_ok(),
                    tracking_code: code,
                },
            };
            let _ = to_loop.send(LoopMsg::Engine(Input::Store(reply)));
        }
    }
}

async fn look_up(store: &Store, query: StoreQuery) -> StoreReply {
    match query {
        StoreQuery::LookupCase { call, kind, number } => {
            let case = store
                .find_case(kind, &number)
                .await
                .unwrap_or_else(|error| {
                    tracing::error!(%error, "case lookup failed");
                    None
                });
            StoreReply::CaseFound { call, case }
        }
        StoreQuery::LookupMessage {
            call,
            tracking_code,
        } => {
            let status = store
                .message_status(&tracking_code)
                .await
                .unwrap_or_else(|error| {
                    tracing::error!(%error, "message lookup failed");
                    None
                });
            StoreReply::MessageFound { call, status }
        }
        StoreQuery::VerifyManager { call, mailbox, pin } => {
            let check = verify_manager(store, &mailbox, &pin.0).await;
            StoreReply::ManagerVerified {
                call,
                mailbox,
                check,
            }
        }
        StoreQuery::SaveReply {
            call,
            tracking_code,
            recording,
            mailbox,
        } => {
            let saved = match store
                .save_reply(&tracking_code, &mailbox, &recording, "phone")
                .await
            {
                Ok(outcome) => outcome == ReplyOutcome::Saved,
                Err(error) => {
                    tracing::error!(%error, %mailbox, "reply not saved");
                    false
                }
            };
            StoreReply::MailboxSaved { call, saved }
        }
        StoreQuery::MarkHandled {
            call,
            tracking_code,
            mailbox,
        } => {
            let saved = match store.mark_handled(&tracking_code, &mailbox, "phone").await {
                Ok(outcome) => outcome == ReplyOutcome::Saved,
                Err(error) => {
                    tracing::error!(%error, %mailbox, "message not marked handled");
                    false
                }
            };
            StoreReply::MailboxSaved { call, saved }
        }
    }
}

/// A manager's login: the PIN, then the mailbox's messages as the phone reads them.
async fn verify_manager(store: &Store, mailbox: &str, pin: &str) -> ManagerCheck {
    match store.verify_manager_pin(mailbox, pin).await {
        Ok(false) => return ManagerCheck::Wrong,
        Ok(true) => {}
        Err(error) => {
            tracing::error!(%error, %mailbox, "manager PIN not checked");
            return ManagerCheck::Failed;
        }
    }
    match store.mailbox_messages(mailbox).await {
        Ok(rows) => ManagerCheck::Accepted(rows.iter().filter_map(mailbox_item).collect()),
        Err(error) => {
            tracing::error!(%error, %mailbox, "mailbox messages not read");
            ManagerCheck::Failed
        }
    }
}

/// A message row as the phone reads it: only voice messages with a tracking code can be played
/// and answered; the date is Tehran's, in the Jalali calendar.
fn mailbox_item(row: &MessageRow) -> Option<MailboxItem> {
    Some(MailboxItem {
        tracking_code: row.tracking_code.clone()?,
        line: row.line.clone(),
        kind: MessageKind::parse(&row.kind).unwrap_or(MessageKind::Unusable),
        received: tehran_local(row.created_at.div_euclid(1000)).0,
        recording_id: row.recording.clone().filter(|r| !r.is_empty())?,
        is_new: row.status == "referred",
    })
}
