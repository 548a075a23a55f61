//! Carries out the engine's store commands: call records go to the batching writer; lookups and
//! filings run as tasks and answer the engine through its inbox. Filing answers only after the
//! transaction committed, so the caller never hears "saved" for a message that was not.

use tokio::sync::mpsc;

use super::sip_loop::LoopMsg;
use crate::engine::{Input, StoreCommand, StoreReply};
use crate::store::{CallWriter, Store};

/// Starts the driver; returns the sender the engine loop's store sink uses.
pub fn spawn(
    store: Store,
    writer: CallWriter,
    to_loop: mpsc::UnboundedSender<LoopMsg>,
) -> mpsc::UnboundedSender<StoreCommand> {
    let (tx, mut rx) = mpsc::unbounded_channel::<StoreCommand>();
    tokio::spawn(async move {
        while let Some(command) = rx.recv().await {
            match command {
                StoreCommand::Call(record) => writer.submit(record),
                other => {
                    let (store, to_loop) = (store.clone(), to_loop.clone());
                    tokio::spawn(async move {
                        if let Some(reply) = answer(&store, other).await {
                            let _ = to_loop.send(LoopMsg::Engine(Input::Store(reply)));
                        }
                    });
                }
            }
        }
    });
    tx
}

async fn answer(store: &Store, command: StoreCommand) -> Option<StoreReply> {
    Some(match command {
        StoreCommand::LookupCase { call, kind, number } => {
            let case = store
                .find_case(kind, &number)
                .await
                .unwrap_or_else(|error| {
                    tracing::error!(%error, "case lookup failed");
                    None
                });
            StoreReply::CaseFound { call, case }
        }
        StoreCommand::LookupMessage {
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
        StoreCommand::FileMessage { call, message } => match store.file_message(&message).await {
            Ok(code) => StoreReply::Filed {
                call,
                saved: true,
                tracking_code: code,
            },
            Err(error) => {
                tracing::error!(%error, call_id = %message.call_id, "a message could not be filed");
                StoreReply::Filed {
                    call,
                    saved: false,
                    tracking_code: None,
                }
            }
        },
        StoreCommand::Call(_) => return None, // handled by the writer, never here
    })
}
