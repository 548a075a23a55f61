#![no_main]
// The logic and its invariants live in the library: pasokh::fuzzing::sip::digest::digest_authorization.
libfuzzer_sys::fuzz_target!(|data: &[u8]| pasokh::fuzzing::sip::digest::digest_authorization(data));
