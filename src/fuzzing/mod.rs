//! Fuzzing entry points: one function per fuzz target, taking the fuzzer's raw bytes.
//!
//! Why they live in the library rather than in `fuzz/fuzz_targets/`:
//! - The cargo-fuzz targets (a separate crate under `fuzz/`, built on nightly) are one-line calls
//!   into these functions, and the stable test `tests/fuzz_corpus.rs` replays every committed
//!   corpus file through the very same functions, so the corpora keep being exercised by
//!   `cargo test` without nightly or libFuzzer.
//! - They sit next to the code they exercise and may use its public API only; nothing here is
//!   called by the engine itself.
//!
//! Every function must never panic on any input: a panic is the crash the fuzzer reports. Where a
//! cheap invariant exists (a parsed value printed back parses to the same thing), it is asserted
//! with `assert!`, so a broken invariant is reported as a crash too.
//!
//! See docs/fuzzing.md for what each target covers and how to run them.

pub mod engine;
pub mod input;
pub mod ivr;
pub mod media;
pub mod sip;
pub mod store;

/// One target's entry point: any bytes, never a panic.
pub type Target = fn(&[u8]);

/// Every target by name, as `fuzz/fuzz_targets/<name>.rs` and `fuzz/corpus/<name>/` spell it.
pub const TARGETS: &[(&str, Target)] = &[
    ("sip_message", sip::message::sip_message),
    ("sdp", sip::sdp::sdp),
    ("digest_authorization", sip::digest::digest_authorization),
    ("sip_txn", sip::txn::sip_txn),
    ("rtp", media::rtp::rtp),
    ("telephone_event", media::dtmf::telephone_event),
    ("wav", media::wav::wav),
    ("ivr_flow", ivr::flow::ivr_flow),
    ("case_csv", store::case_import::case_csv),
    ("engine", engine::sequence::engine),
];

/// The entry function of the target called `name`.
pub fn target(name: &str) -> Option<fn(&[u8])> {
    TARGETS.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
}

#[cfg(test)]
mod tests;
