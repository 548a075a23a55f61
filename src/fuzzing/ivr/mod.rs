//! Targets for the IVR: the flow loader.

pub mod flow;
