//! Server nonces that verify without a table, plus bounded replay state.
//!
//! A nonce carries when it was issued and a serial counter, but sealed: it is
//! `hex(tag ‖ sealed)`, 64 hex characters, where `tag` is the first 16 bytes
//! of HMAC-SHA-256(mac key, issued_ms ‖ counter) and `sealed` is
//! `issued_ms ‖ counter` XORed with the first 16 bytes of
//! HMAC-SHA-256(encryption key, tag). This is the SIV construction
//! (deterministic authenticated encryption, RFC 5297's idea with HMAC as the
//! PRF): the counter never repeats, so the tag is a fresh pseudorandom value
//! per nonce and the whole nonce looks random to anyone without the secret.
//! Why sealed rather than plain: a nonce in clear told a scanner the
//! engine's uptime (the time origin is the start) and how many challenges
//! it had sent. Why deterministic rather than drawn from an RNG: the issuer
//! stays sans-IO and a scenario replays bit for bit from its seed.
//!
//! Opening a nonce checks the tag (forgery, corruption or another secret
//! fail here); the time then makes expiry a subtraction, so issuing a
//! challenge stores nothing: a flood of unauthenticated REGISTERs costs no
//! memory. Replay state (the highest `nc` seen) is kept only for nonces used
//! by a request whose digest was already verified, in a map ordered by
//! counter (so by issue time) and pruned from the front once expired; past a
//! hard cap the oldest entry is evicted and everything at or below it is
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

/// Bytes of the tag kept in a nonce; 128 bits are plenty against forgery.
const TAG_LEN: usize = 16;

/// Bytes of the sealed payload: issued_ms and counter, 8 bytes each.
const PAYLOAD_LEN: usize = 16;

/// Labels that derive the two keys from the one secret, so neither key is
/// ever used for both jobs.
const MAC_KEY_LABEL: &[u8] = b"pasokh nonce tag";
const ENC_KEY_LABEL: &[u8] = b"pasokh nonce seal";

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
    mac_key: [u8; 32],
    enc_key: [u8; 32],
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
            mac_key: hmac_sha256(&secret, MAC_KEY_LABEL),
            enc_key: hmac_sha256(&secret, ENC_KEY_LABEL),
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
        let tag = self.tag_of(&payload);
        let sealed = xor(&payload, &self.keystream(&tag));
        let mut nonce = to_hex(&tag);
        nonce.push_str(&to_hex(&sealed));
        nonce
    }

    /// Judges `nonce` used with nonce count `nc` (pass 1 for a request
    /// without qop, which makes such a nonce single-use). Records `nc` only
    /// when the answer is `Valid`.
    pub fn check(&mut self, nonce: &str, nc: u32, now_ms: u64) -> NonceCheck {
        let Some((tag, sealed)) = decode(nonce) else {
            return NonceCheck::Invalid;
        };
        let payload = xor(&sealed, &self.keystream(&tag));
        let genuine = constant_time_eq(&tag, &self.tag_of(&payload));
        let (issued_ms, counter) = payload_fields(&payload);
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

    /// The SIV tag of a payload: names the nonce and authenticates it.
    fn tag_of(&self, payload: &[u8; PAYLOAD_LEN]) -> [u8; TAG_LEN] {
        first_16(&hmac_sha256(&self.mac_key, payload))
    }

    /// The bytes XORed over the payload, drawn from the tag.
    fn keystream(&self, tag: &[u8; TAG_LEN]) -> [u8; PAYLOAD_LEN] {
        first_16(&hmac_sha256(&self.enc_key, tag))
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

fn payload_bytes(issued_ms: u64, counter: u64) -> [u8; PAYLOAD_LEN] {
    let mut payload = [0u8; PAYLOAD_LEN];
    payload[..8].copy_from_slice(&issued_ms.to_be_bytes());
    payload[8..].copy_from_slice(&counter.to_be_bytes());
    payload
}

fn payload_fields(payload: &[u8; PAYLOAD_LEN]) -> (u64, u64) {
    let mut issued = [0u8; 8];
    let mut counter = [0u8; 8];
    issued.copy_from_slice(&payload[..8]);
    counter.copy_from_slice(&payload[8..]);
    (u64::from_be_bytes(issued), u64::from_be_bytes(counter))
}

fn first_16(bytes: &[u8; 32]) -> [u8; 16] {
    let mut out = [0u8; 16];
    out.copy_from_slice(&bytes[..16]);
    out
}

fn xor(a: &[u8; 16], b: &[u8; 16]) -> [u8; 16] {
    let mut out = [0u8; 16];
    for (index, byte) in out.iter_mut().enumerate() {
        *byte = a[index] ^ b[index];
    }
    out
}

/// Splits a nonce into (tag, sealed payload); `None` unless it is exactly
/// 64 hex characters.
fn decode(nonce: &str) -> Option<([u8; TAG_LEN], [u8; PAYLOAD_LEN])> {
    // Checked up front: from_str_radix alone would also take a '+' sign.
    if nonce.len() != 2 * (TAG_LEN + PAYLOAD_LEN) || !nonce.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut bytes = [0u8; TAG_LEN + PAYLOAD_LEN];
    for (byte, pair) in bytes.iter_mut().zip(nonce.as_bytes().chunks(2)) {
        let text = std::str::from_utf8(pair).ok()?;
        *byte = u8::from_str_radix(text, 16).ok()?;
    }
    let mut tag = [0u8; TAG_LEN];
    let mut sealed = [0u8; PAYLOAD_LEN];
    tag.copy_from_slice(&bytes[..TAG_LEN]);
    sealed.copy_from_slice(&bytes[TAG_LEN..]);
    Some((tag, sealed))
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
