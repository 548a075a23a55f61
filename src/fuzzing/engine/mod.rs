//! Targets for the engine's sans-IO core.

pub mod sequence;
