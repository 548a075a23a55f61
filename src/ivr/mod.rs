//! The Persian IVR: flow trees written in YAML (`ivr-flows/*.yaml`), validated at load into a
//! graph, and walked per call by [`IvrRun`], a sans-IO state machine on a virtual clock.
//!
//! The split follows what changes together: the flow language (`flow`) is what call-centre
//! staff edit and must reject mistakes with a file, line and node; the interpreter (`run`) is
//! what the engine drives and must be deterministic; the Persian speech helpers (`words`,
//! `tracking`) are shared with the rest of the engine, and dates come from `crate::calendar`.
//! See docs/ivr.md.

pub mod case;
pub mod flow;
pub mod run;
pub mod simulate;
pub mod sms;
pub mod tracking;
pub mod words;

/// The Jalali calendar's old path (it lives in `crate::calendar` now), still named by the engine
/// and the app.
pub use crate::calendar::jalali;

/// Tracking codes naming no message that one number may key within the follow-up window before
/// its lookups are refused for a while (the engine keeps the count across calls; the simulator
/// within its one call).
pub const FOLLOW_UP_MISSES_ALLOWED: usize = 5;

#[cfg(test)]
mod tests;

pub use case::{CaseInfo, CaseKind, MessageStatus};
pub use flow::error::{FlowError, FlowErrorKind};
pub use flow::fields::DEFAULT_PROMPTS;
pub use flow::load::{load_flow, load_flows};
pub use flow::{Flow, FlowSet};
pub use run::io::{
    as_recording, recording_prompt, CallContext, IvrInput, IvrOutput, IvrTimer, LoginResult,
    MailboxItem, MessageDraft, MessageKind, Pin, QueueOutcome, RecordEnd, TakePurpose, TrailStep,
};
pub use run::IvrRun;
pub use simulate::simulate;
