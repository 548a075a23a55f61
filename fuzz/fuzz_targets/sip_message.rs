#![no_main]
// The logic and its invariants live in the library: pasokh::fuzzing::sip::message::sip_message.
libfuzzer_sys::fuzz_target!(|data: &[u8]| pasokh::fuzzing::sip::message::sip_message(data));
