#![no_main]
// The logic and its invariants live in the library: pasokh::fuzzing::sip::txn::sip_txn.
libfuzzer_sys::fuzz_target!(|data: &[u8]| pasokh::fuzzing::sip::txn::sip_txn(data));
