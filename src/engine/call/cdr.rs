//! The call detail record: one row per call, whatever its end (design: written when the call is
//! accepted and updated at its end, so even a crash leaves a row).

use serde::Serialize;

/// A call as the store and `/api/calls` see it. Times are Unix milliseconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CallRecord {
    /// The engine's own identifier of the call, unique across calls and restarts: the key of
    /// the call record and what the call's message names. The Call-ID below is the caller's
    /// phone's choice and may collide with another call's.
    pub call_ref: String,
    /// The SIP Call-ID, as data.
    pub call_id: String,
    /// The caller (From URI user), as dialled from; personal data: only behind a token.
    pub from: String,
    /// The dialled number (Request-URI user).
    pub to: String,
    pub started_at: i64,
    pub answered_at: Option<i64>,
    pub ended_at: Option<i64>,
    /// `in_progress` while the call lasts, then e.g. `completed`, `cancelled`, `no_ack`,
    /// `rtp_timeout`, `not_found`, `rejected_codec`, `failed`.
    pub disposition: String,
    /// `caller`, `engine`, or empty while in progress / when nobody hung up (rejected calls).
    pub hangup_by: String,
    /// DTMF digits received during the call, in order.
    pub dtmf: String,
}
