//! `digest_authorization`: bytes as an `Authorization` header value, through
//! `sip::digest::parse_authorization` and `verify`.
//!
//! Why: REGISTER and agent INVITEs carry credentials before anyone is authenticated, so this
//! parser sees every stranger's bytes. Quoted strings, escapes and duplicate parameters are where
//! hand-written parsers break. Checking the parsed response against a password must not panic
//! either (hex lengths, algorithms and qop come from the header).

use crate::sip::digest::{ha1_hex, parse_authorization, verify, DigestAlgorithm};

pub fn digest_authorization(data: &[u8]) {
    let Ok(value) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(response) = parse_authorization(value) else {
        return;
    };
    let _ = response.nonce_count();
    for alg in [DigestAlgorithm::Md5, DigestAlgorithm::Sha256] {
        let ha1 = ha1_hex(alg, &response.username, &response.realm, "secret");
        let _ = verify(&response, &ha1, "REGISTER");
    }
}
