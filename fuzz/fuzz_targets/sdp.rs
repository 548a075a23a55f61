#![no_main]
// The logic and its invariants live in the library: pasokh::fuzzing::sip::sdp::sdp.
libfuzzer_sys::fuzz_target!(|data: &[u8]| pasokh::fuzzing::sip::sdp::sdp(data));
