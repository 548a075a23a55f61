//! Salted, slow hashes for managers' PINs and passwords.
//!
//! Why PBKDF2 and not a plain hash as for API tokens: a token is 160 random bits, but a PIN is
//! four to eight digits and a password is chosen by a person, so a stolen database must not
//! give them away at the speed of SHA-256. PBKDF2-HMAC-SHA256 (RFC 8018) with a random 16-byte
//! salt and 100,000 iterations costs about 40 ms per check on one core: nothing for a sign-in,
//! a wall against guessing offline. (A short PIN still falls to a patient attacker holding the
//! file; the phone guards it online with a lockout, and the file is the operator's to protect.)
//! The text form names its own algorithm and iteration count, so they can be raised later
//! without invalidating stored hashes.

use rand::rngs::OsRng;
use rand::RngCore;

use crate::store::tokens::hex;
use crate::store::StoreError;

const ALGORITHM: &str = "pbkdf2-sha256";
const ITERATIONS: u32 = 100_000;
const SALT_BYTES: usize = 16;
const HASH_BYTES: usize = 32;

/// Hashes `secret` with a fresh salt: `pbkdf2-sha256$ITERATIONS$SALT$HASH` (hex).
pub(crate) fn hash_secret(secret: &str) -> Result<String, StoreError> {
    let mut salt = [0_u8; SALT_BYTES];
    OsRng
        .try_fill_bytes(&mut salt)
        .map_err(|error| StoreError::Random(error.to_string()))?;
    let hash = derive(secret, &salt, ITERATIONS);
    Ok(format!(
        "{ALGORITHM}${ITERATIONS}${}${}",
        hex(&salt),
        hex(&hash)
    ))
}

/// Whether `secret` matches `stored`. A malformed stored hash matches nothing.
pub(crate) fn verify_secret(secret: &str, stored: &str) -> bool {
    let mut parts = stored.split('$');
    let (Some(ALGORITHM), Some(iterations), Some(salt), Some(hash), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return false;
    };
    let (Ok(iterations), Some(salt), Some(expected)) =
        (iterations.parse::<u32>(), unhex(salt), unhex(hash))
    else {
        return false;
    };
    if iterations == 0 || expected.len() != HASH_BYTES {
        return false;
    }
    // Compared in constant time, so the time says nothing about how much matched.
    crate::sip::digest::constant_time_eq(&derive(secret, &salt, iterations), &expected)
}

/// Does the same work as checking a secret, for a mailbox that does not exist: a guesser must
/// not learn which mailboxes exist from how fast "wrong" comes back.
pub(crate) fn burn_equal_time(secret: &str) {
    let _ = derive(secret, &[0_u8; SALT_BYTES], ITERATIONS);
}

fn derive(secret: &str, salt: &[u8], iterations: u32) -> [u8; HASH_BYTES] {
    let mut out = [0_u8; HASH_BYTES];
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(secret.as_bytes(), salt, iterations, &mut out);
    out
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_matches_its_own_hash_only() -> Result<(), StoreError> {
        let stored = hash_secret("1234")?;
        assert!(stored.starts_with("pbkdf2-sha256$100000$"));
        assert!(verify_secret("1234", &stored));
        assert!(!verify_secret("1235", &stored));
        assert!(!verify_secret("", &stored));
        let again = hash_secret("1234")?;
        assert_ne!(stored, again, "each hash has its own salt");
        Ok(())
    }

    #[test]
    fn a_malformed_stored_hash_matches_nothing() {
        for bad in [
            "",
            "1234",
            "md5$1$00$00",
            "pbkdf2-sha256$0$00$00",
            "pbkdf2-sha256$x$00$00",
            "pbkdf2-sha256$1$0$00",
            "pbkdf2-sha256$1$00$00$extra",
        ] {
            assert!(!verify_secret("1234", bad), "{bad}");
        }
    }
}
