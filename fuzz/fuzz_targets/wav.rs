#![no_main]
// The logic and its invariants live in the library: pasokh::fuzzing::media::wav::wav.
libfuzzer_sys::fuzz_target!(|data: &[u8]| pasokh::fuzzing::media::wav::wav(data));
