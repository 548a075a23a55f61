#![no_main]
// The logic and its invariants live in the library: pasokh::fuzzing::store::case_import::case_csv.
libfuzzer_sys::fuzz_target!(|data: &[u8]| pasokh::fuzzing::store::case_import::case_csv(data));
