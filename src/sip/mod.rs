//! SIP signalling, sans-IO: message types and parsing (`msg`, `parse`, `header`), transactions
//! (`txn`), registrar and digest authentication, SDP offer/answer. Nothing here reads a clock or
//! touches a socket: the drivers feed bytes and time in and send what comes out.

pub mod digest;
pub mod framing;
pub mod header;
pub mod msg;
pub mod parse;
pub mod registrar;
pub mod sdp;
pub mod transport;
pub mod txn;
