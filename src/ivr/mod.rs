//! The Persian IVR: flow trees written in YAML (`ivr-flows/*.yaml`), validated at load into a
//! graph, and walked per call by [`IvrRun`], a sans-IO state machine on a virtual clock.
//!
//! The split follows what changes together: the flow language (`flow*`) is what call-centre
//! staff edit and must reject mistakes with a file, line and node; the interpreter (`run*`) is
//! what the engine drives and must be deterministic; the Persian speech helpers (`words`,
//! `jalali`, `tracking`) are shared with the rest of the engine. See docs/ivr.md.

pub mod case;
pub mod flow;
mod flow_check;
pub mod flow_error;
mod flow_fields;
pub mod flow_graph;
pub mod flow_hours;
pub mod flow_load;
mod flow_nodes;
mod flow_nodes_io;
pub mod jalali;
pub mod run;
pub mod run_io;
mod run_keys;
mod run_nodes;
mod run_record;
mod run_say;
pub mod simulate;
pub mod tracking;
pub mod words;

/// Tracking codes naming no message that one number may key within the follow-up window before
/// its lookups are refused for a while (the engine keeps the count across calls; the simulator
/// within its one call).
pub const FOLLOW_UP_MISSES_ALLOWED: usize = 5;

#[cfg(test)]
mod flow_tests;
#[cfg(test)]
mod run_golden_1888;
#[cfg(test)]
mod run_golden_cases;
#[cfg(test)]
mod run_golden_shared;
#[cfg(test)]
mod run_golden_tests;
#[cfg(test)]
mod run_record_tests;
#[cfg(test)]
mod run_tests;

pub use case::{CaseInfo, CaseKind, MessageStatus};
pub use flow::{Flow, FlowSet};
pub use flow_error::{FlowError, FlowErrorKind};
pub use flow_fields::DEFAULT_PROMPTS;
pub use flow_load::{load_flow, load_flows};
pub use run::IvrRun;
pub use run_io::{
    as_recording, recording_prompt, CallContext, IvrInput, IvrOutput, IvrTimer, MessageDraft,
    MessageKind, QueueOutcome, RecordEnd, TrailStep,
};
pub use simulate::simulate;
