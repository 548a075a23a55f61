//! Server nonces that verify without a table, plus bounded replay state.
//!
//! A nonce is `hex(issued_ms) ‖ hex(counter) ‖ hex(HMAC-SHA-256(secret,
//! issued_ms ‖ counter)[..16])`, 64 hex characters. The MAC makes forgery
//! detectable and the embedded time makes expiry a subtraction, so issuing a
//! challenge stores nothing: a flood of unauthenticated REGISTERs costs no
//! memory. Replay state (the highest `nc` seen) is kept only for nonces
//! used by a request whose digest was already verified, in a map ordered by
//! counter (so by issue time) and pruned from the front once expired; past
//! a hard cap the oldest entry is evicted and everything at or below it is
//! answered `Stale`, so eviction can never reopen a replay.
//!
//! Time is milliseconds from any origin the caller likes, as long as it is
//! the same origin for `issue` and `check`. The secret must be fresh at
//! each process start (the counter restarts at zero).

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use super::{constant_time_eq, to_hex};

/// How long a nonce stays usable: 60 s.
pub const DEFAULT_NONCE_LIFETIME_MS: u64 = 60_000;

/// At most this many nonces carry replay state at once.
const MAX_TRACKED_NONCES: usize = 65_536;

/// Bytes of the MAC kept in a nonce; 128 bits are plenty against forgery.
const MAC_LEN: usize = 16;

/// The verdict on a nonce presented with a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonceCheck {
    Valid,
    /// Genuine but expired: re-challenge with `stale=true`.
    Stale,
    /// Not issued by this issuer (forged, corrupted or from another secret).
    Invalid,
    /// `nc` not greater than the last one seen with this nonce.
    Replayed,
}

/// Issues and checks nonces; see the module doc for the format.
pub struct NonceIssuer {
    secret: [u8; 32],
    lifetime_ms: u64,
    next_counter: u64,
    /// counter → (issued_ms, highest nc accepted).
    seen: BTreeMap<u64, (u64, u32)>,
    /// Counters below this were evicted before expiry: never valid again.
    forgotten_below: u64,
    /// Cap on `seen`; a field (not only the constant) so tests can reach it.
    pub(super) max_tracked: usize,
}

impl NonceIssuer {
    pub fn new(secret: [u8; 32]) -> Self {
        Self {
            secret,
            lifetime_ms: DEFAULT_NONCE_LIFETIME_MS,
            next_counter: 0,
            seen: BTreeMap::new(),
            forgotten_below: 0,
            max_tracked: MAX_TRACKED_NONCES,
        }
    }

    /// Changes how long a nonce stays valid.
    pub fn with_lifetime_ms(mut self, lifetime_ms: u64) -> Self {
        self.lifetime_ms = lifetime_ms;
        self
    }

    pub fn lifetime_ms(&self) -> u64 {
        self.lifetime_ms
    }

    /// How many nonces currently carry replay state (for metrics and tests).
    pub fn tracked(&self) -> usize {
        self.seen.len()
    }

    pub fn issue(&mut self, now_ms: u64) -> String {
        let counter = self.next_counter;
        self.next_counter = self.next_counter.wrapping_add(1);
        let payload = payload_bytes(now_ms, counter);
        let mac = hmac_sha256(&self.secret, &payload);
        let mut nonce = to_hex(&payload);
        nonce.push_str(&to_hex(mac.get(..MAC_LEN).unwrap_or(&[])));
        nonce
    }

    /// Judges `nonce` used with nonce count `nc` (pass 1 for a request
    /// without qop, which makes such a nonce single-use). Records `nc` only
    /// when the answer is `Valid`.
    pub fn check(&mut self, nonce: &str, nc: u32, now_ms: u64) -> NonceCheck {
        let Some((issued_ms, counter, mac)) = decode(nonce) else {
            return NonceCheck::Invalid;
        };
        let expected = hmac_sha256(&self.secret, &payload_bytes(issued_ms, counter));
        let genuine = constant_time_eq(&mac, expected.get(..MAC_LEN).unwrap_or(&[]));
        if !genuine || counter >= self.next_counter {
            return NonceCheck::Invalid;
        }
        self.prune(now_ms);
        if self.is_expired(issued_ms, now_ms) || counter < self.forgotten_below {
            return NonceCheck::Stale;
        }
        match self.seen.get_mut(&counter) {
            Some((_, last_nc)) if nc <= *last_nc => NonceCheck::Replayed,
            Some((_, last_nc)) => {
                *last_nc = nc;
                NonceCheck::Valid
            }
            None if nc == 0 => NonceCheck::Replayed,
            None => {
                self.seen.insert(counter, (issued_ms, nc));
                self.evict_over_cap();
                NonceCheck::Valid
            }
        }
    }

    fn is_expired(&self, issued_ms: u64, now_ms: u64) -> bool {
        now_ms.saturating_sub(issued_ms) > self.lifetime_ms
    }

    /// Drops expired entries from the front (oldest counters first).
    fn prune(&mut self, now_ms: u64) {
        let lifetime_ms = self.lifetime_ms;
        while let Some(entry) = self.seen.first_entry() {
            if now_ms.saturating_sub(entry.get().0) <= lifetime_ms {
                break;
            }
            entry.remove();
        }
    }

    fn evict_over_cap(&mut self) {
        while self.seen.len() > self.max_tracked {
            let Some((counter, _)) = self.seen.pop_first() else {
                break;
            };
            self.forgotten_below = self.forgotten_below.max(counter.saturating_add(1));
        }
    }
}

fn payload_bytes(issued_ms: u64, counter: u64) -> [u8; 16] {
    let mut payload = [0u8; 16];
    payload[..8].copy_from_slice(&issued_ms.to_be_bytes());
    payload[8..].copy_from_slice(&counter.to_be_bytes());
    payload
}

/// Splits a nonce into (issued_ms, counter, mac); `None` unless it is
/// exactly 64 hex characters.
fn decode(nonce: &str) -> Option<(u64, u64, Vec<u8>)> {
    // Checked up front: from_str_radix alone would also take a '+' sign.
    if nonce.len() != 32 + 2 * MAC_LEN || !nonce.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let issued_ms = u64::from_str_radix(nonce.get(..16)?, 16).ok()?;
    let counter = u64::from_str_radix(nonce.get(16..32)?, 16).ok()?;
    let mut mac = Vec::with_capacity(MAC_LEN);
    let mac_hex = nonce.get(32..)?.as_bytes();
    for pair in mac_hex.chunks(2) {
        let text = std::str::from_utf8(pair).ok()?;
        mac.push(u8::from_str_radix(text, 16).ok()?);
    }
    Some((issued_ms, counter, mac))
}

/// HMAC-SHA-256 (RFC 2104), small enough to own rather than add a crate.
pub(super) fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut block_key = [0u8; BLOCK];
    if key.len() > BLOCK {
        block_key[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block_key[..key.len()].copy_from_slice(key);
    }
    let inner_pad: Vec<u8> = block_key.iter().map(|b| b ^ 0x36).collect();
    let outer_pad: Vec<u8> = block_key.iter().map(|b| b ^ 0x5c).collect();
    let inner = Sha256::new()
        .chain_update(&inner_pad)
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(&outer_pad)
        .chain_update(inner)
        .finalize()
        .into()
}
