#![no_main]
// The logic and its invariants live in the library: pasokh::fuzzing::engine::sequence::engine.
libfuzzer_sys::fuzz_target!(|data: &[u8]| pasokh::fuzzing::engine::sequence::engine(data));
