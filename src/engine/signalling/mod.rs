//! The engine as a SIP user agent server for callers and agents' phones: new INVITEs and their
//! answer, in-dialog requests and the one place a call ends, REGISTER, and out-of-dialog answers.

pub(crate) mod answer;
pub(crate) mod dialog;
pub(crate) mod flooding;
pub(crate) mod invite;
pub(crate) mod register;
pub(crate) mod reply;
