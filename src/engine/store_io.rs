//! The engine's requests to the store and the store's answers, as values (design.md principle 5):
//! the engine never waits on the database, so a slow disk slows filing, not signalling.

use super::call::CallKey;
use super::cdr::CallRecord;
use crate::ivr::{CaseInfo, CaseKind, MessageStatus};

/// A message to file: every call leaves one (the centre's register).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    pub call_id: String,
    /// `137` or `1888` (or a configured extra line).
    pub line: String,
    pub kind: String,
    pub district: Option<u8>,
    pub category: Option<String>,
    pub case_number: Option<String>,
    pub caller: String,
    /// The voice message's recording name, already durable on disk.
    pub recording: Option<String>,
    /// Unix milliseconds.
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub enum StoreCommand {
    /// Insert or update a call detail record.
    Call(CallRecord),
    LookupCase {
        call: CallKey,
        kind: CaseKind,
        number: String,
    },
    LookupMessage {
        call: CallKey,
        tracking_code: String,
    },
    /// File a message durably and answer with its tracking code.
    FileMessage { call: CallKey, message: NewMessage },
}

#[derive(Debug, Clone, PartialEq)]
pub enum StoreReply {
    CaseFound {
        call: CallKey,
        case: Option<CaseInfo>,
    },
    MessageFound {
        call: CallKey,
        status: Option<MessageStatus>,
    },
    /// `saved: false`: the message could not be saved (the caller must not hear "saved").
    /// Reports carry a tracking code; other messages none.
    Filed {
        call: CallKey,
        saved: bool,
        tracking_code: Option<String>,
    },
}
