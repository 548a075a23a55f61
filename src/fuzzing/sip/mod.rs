//! Targets for the SIP signalling code: the message parser, SDP, digest credentials, and the
//! transaction layer driven by message sequences.

pub mod digest;
pub mod message;
pub mod sdp;
pub mod txn;
