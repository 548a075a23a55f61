//! The vocabulary between the engine and the media workers: commands the engine emits for a call
//! leg, and events the media side reports back. Values only, so the engine is tested without
//! sockets and the media workers without SIP.

use std::net::SocketAddr;
use std::time::Duration;

use super::g711::G711;

/// One RTP endpoint of a call (a caller leg, an agent leg). Numbered by the engine; a type of its
/// own, so a leg can never be passed where a call is meant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LegId(pub u64);

impl std::fmt::Display for LegId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// What a leg sends when no prompt is playing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idle {
    Silence,
    /// The caller's own audio, played back (`*43`).
    Echo,
    /// Music on hold, looped.
    Music,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LegSetup {
    pub leg: LegId,
    pub local_port: u16,
    pub remote: Option<SocketAddr>,
    pub codec: G711,
    pub payload_type: u8,
    pub telephone_event_pt: Option<u8>,
    /// Whether we may send (false on hold: `sendonly` from the peer is `recvonly` for us, etc.).
    pub sending: bool,
    /// Whether the peer said it sends to us (`sendrecv` or `sendonly`): a peer that declared
    /// `recvonly` or `inactive` sends nothing by design, so its silence is no fault.
    pub peer_sends: bool,
}

impl LegSetup {
    /// Whether a silent peer counts as gone: only when it said it would send, and not on hold
    /// (a held call may stay quiet for as long as the hold lasts).
    pub fn expects_rtp(&self) -> bool {
        self.sending && self.peer_sends
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct RecordSpec {
    /// File name (no folder) inside the recordings folder, e.g. `2026/11/23/abcd.wav`.
    pub name: String,
    pub max: Duration,
    /// Silence that ends the recording (zero: never).
    pub silence: Duration,
    /// The key that ends the recording, if any.
    pub end_key: Option<char>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum MediaCommand {
    Open(LegSetup),
    /// Opens a browser's leg (WebRTC, `media::webrtc`) on `setup.local_port` by answering the
    /// browser's SDP `offer`; `advertised` is the address the browser is told to reach (the
    /// engine's public one). Answered at once with `BrowserAnswer` (or why not). The setup's
    /// codec, payload types and remote are chosen by the answer, not taken from `setup`.
    OpenBrowser {
        setup: LegSetup,
        offer: String,
        advertised: std::net::IpAddr,
    },
    /// The peer re-negotiated (re-INVITE): new address, hold/unhold.
    Update(LegSetup),
    /// Plays prompt ids back to back; `barge_in`: a DTMF key stops them.
    Play {
        leg: LegId,
        prompts: Vec<String>,
        barge_in: bool,
    },
    /// Plays a recording (a voice message or reply) by its name in the recordings folder.
    PlayRecording {
        leg: LegId,
        name: String,
    },
    StopPlayback {
        leg: LegId,
    },
    SetIdle {
        leg: LegId,
        idle: Idle,
    },
    StartRecording {
        leg: LegId,
        spec: RecordSpec,
    },
    /// Ends the recording; `keep` false discards it.
    StopRecording {
        leg: LegId,
        keep: bool,
    },
    /// Deletes a saved take the caller chose to record again (never leaves an orphan file).
    DiscardRecording {
        name: String,
    },
    /// Relays two legs to each other (caller ↔ agent).
    Bridge {
        a: LegId,
        b: LegId,
    },
    SendDtmf {
        leg: LegId,
        digit: char,
    },
    /// Holds (or resumes) a bridged leg: while held it hears its idle audio (music for a
    /// caller, silence for a call-taker) instead of its partner, and the bridge stays.
    SetHeld {
        leg: LegId,
        held: bool,
    },
    Close {
        leg: LegId,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordingEnd {
    Key,
    Silence,
    MaxLength,
    /// Stopped by the engine (hang-up or flow).
    Stopped,
}

#[derive(Debug, Clone, PartialEq)]
pub enum MediaEvent {
    /// The leg is open on its port: the port may be put in an SDP.
    Opened {
        leg: LegId,
    },
    /// Another process holds the port: open the leg on another one.
    PortInUse {
        leg: LegId,
    },
    /// The port could not be bound for another reason (no permission, no such address).
    OpenFailed {
        leg: LegId,
    },
    Digit {
        leg: LegId,
        digit: char,
    },
    PlaybackFinished {
        leg: LegId,
    },
    /// Recording ended and is durably stored (`saved` true), or failed (disk full…).
    RecordingFinished {
        leg: LegId,
        name: String,
        duration_ms: u64,
        end: RecordingEnd,
        saved: bool,
    },
    /// No RTP received for the inactivity limit while the peer was expected to send.
    Inactive {
        leg: LegId,
    },
    /// A browser leg is open: `answer` is the SDP for the browser (ICE-lite, DTLS fingerprint,
    /// the G.711 codec chosen, the host candidate).
    BrowserAnswer {
        leg: LegId,
        answer: String,
    },
    /// A browser's offer could not be answered (no G.711 audio, not SDP); nothing was opened.
    BrowserRefused {
        leg: LegId,
        reason: String,
    },
    /// The browser completed ICE and DTLS: its audio flows.
    BrowserConnected {
        leg: LegId,
    },
    /// The browser never connected, or went away: the leg carries nothing any more (the engine
    /// closes it and carries on without that browser).
    BrowserFailed {
        leg: LegId,
        reason: String,
    },
}
