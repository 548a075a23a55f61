#![no_main]
// The logic and its invariants live in the library: pasokh::fuzzing::ivr::flow::ivr_flow.
libfuzzer_sys::fuzz_target!(|data: &[u8]| pasokh::fuzzing::ivr::flow::ivr_flow(data));
