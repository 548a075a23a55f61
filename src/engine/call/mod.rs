//! One call as the engine keeps it: its dialog identifiers, its media leg, its application and its
//! call detail record. The phases are explicit so every path ends the call exactly once.

pub mod cdr;
mod table;

pub use table::Calls;

use crate::media::api::LegId;
use crate::sip::msg::Request;
use crate::sip::sdp::Negotiated;
use crate::sip::transport::Peer;
use crate::sip::txn::TxnKey;

use crate::engine::app::queue::Waiting;
use crate::engine::app::App;
use crate::engine::call::cdr::CallRecord;

/// Our own number for a call (Call-IDs are the peer's and may collide across peers). A type of
/// its own, so a media leg's number can never be passed where a call is meant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CallKey(pub u64);

impl std::fmt::Display for CallKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Ringing before the answer timer fires (CANCEL still possible).
    Ringing,
    /// Answering: the media leg is being opened on the port of the SDP answer; the 200 OK
    /// waits for it (CANCEL still possible).
    Opening,
    /// 200 OK sent, waiting for the ACK (Timer G retransmits, Timer H gives up).
    AwaitingAck,
    Confirmed,
}

/// How a call ended, as written in the call record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    Completed,
    Cancelled,
    NoAck,
    RtpTimeout,
    MediaFailed,
    /// Still up when the engine's shutdown grace period ran out.
    Shutdown,
}

impl Disposition {
    pub fn as_str(self) -> &'static str {
        match self {
            Disposition::Completed => "completed",
            Disposition::Cancelled => "cancelled",
            Disposition::NoAck => "no_ack",
            Disposition::RtpTimeout => "rtp_timeout",
            Disposition::MediaFailed => "media_failed",
            Disposition::Shutdown => "shutdown",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HangupBy {
    Caller,
    Engine,
}

impl HangupBy {
    pub fn as_str(self) -> &'static str {
        match self {
            HangupBy::Caller => "caller",
            HangupBy::Engine => "engine",
        }
    }
}

#[derive(Debug)]
pub struct Call {
    pub call_id: String,
    pub invite: Request,
    pub invite_key: TxnKey,
    /// A re-INVITE answered 2xx and waiting for its ACK.
    pub reinvite_key: Option<TxnKey>,
    pub peer: Peer,
    pub local_tag: String,
    pub remote_tag: String,
    /// Our CSeq for requests we send in the dialog (BYE).
    pub local_cseq: u32,
    pub phase: Phase,
    pub leg: LegId,
    pub port: u16,
    pub negotiated: Negotiated,
    pub session_id: u64,
    pub sdp_version: u64,
    pub app: App,
    /// Where the caller stands with the call-takers.
    pub agent_side: AgentSide,
    /// What the recorder is doing with the caller's voice-message takes.
    pub recorder: Recorder,
    /// Takes recorded so far (numbers the files).
    pub takes: u32,
    /// The manager's mailbox this call logged into on `*98` (set only by the store's answer to
    /// the login, so a run cannot act for a mailbox it did not log into).
    pub manager: Option<String>,
    /// The tracking code of the call's message once the store has given it (for the call's
    /// closing log line; a code given after the call ended is logged by the filer).
    pub tracking_code: Option<String>,
    pub record: CallRecord,
}

/// Where a caller stands with the call-takers. A call dialled to an agent's number directly
/// (`App::Direct`) is `None` while the agent's phone rings and `Bridged` once it answers.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum AgentSide {
    #[default]
    None,
    /// Sent to a queue; its message is being opened, and the call reaches the ACD once the
    /// store has answered, so the tracking code rings on the agent's phone.
    Opening(Waiting),
    /// Waiting in the ACD's queue (its keys belong to the queue, not the IVR).
    Queued,
    /// Talking to a call-taker on this agent leg.
    Bridged(LegId),
}

impl AgentSide {
    /// Waiting for a call-taker, in the ACD or about to be.
    pub fn is_waiting(&self) -> bool {
        matches!(self, AgentSide::Opening(_) | AgentSide::Queued)
    }
}

/// The voice-message recorder on the caller's leg.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Recorder {
    #[default]
    Idle,
    /// A take is being recorded into `name`; `end_key` ends it (the recorder consumes the key,
    /// the call record still lists it).
    Running { name: String, end_key: char },
    /// The last take stopped and its file exists (deleted if the caller re-records).
    Stopped { name: String },
}
