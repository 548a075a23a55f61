//! Targets for what the store reads from files: the cases CSV.

pub mod case_import;
