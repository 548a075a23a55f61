//! SIP digest authentication: RFC 3261 §22 on top of RFC 2617 (`qop=auth`),
//! with SHA-256 from RFC 7616 / RFC 8760.
//!
//! Why this shape: everything takes and returns plain strings, so the
//! registrar, the INVITE path and the tests use it without any SIP message
//! type (general SIP crates' digest parsers do not even accept `algorithm=SHA-256`).
//! Only `qop=auth` and the legacy no-qop form are verified: `auth-int` needs
//! a body hash no agent softphone uses, and the `-sess` algorithms are never
//! offered, so a response using them can never be valid.
//! Nonces live in `digest/nonce.rs`; the parser in `digest/parse.rs`.

use md5::Md5;
use sha2::{Digest, Sha256};

mod nonce;
mod parse;

pub use nonce::{NonceCheck, NonceIssuer, DEFAULT_NONCE_LIFETIME_MS};
pub use parse::parse_authorization;

/// The hash named by `algorithm=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DigestAlgorithm {
    Md5,
    Sha256,
}

impl DigestAlgorithm {
    /// Parses "MD5", "SHA-256" and the common misspelling "SHA256", in any case.
    pub fn parse(token: &str) -> Option<Self> {
        let token = token.trim();
        if token.eq_ignore_ascii_case("MD5") {
            Some(Self::Md5)
        } else if token.eq_ignore_ascii_case("SHA-256") || token.eq_ignore_ascii_case("SHA256") {
            Some(Self::Sha256)
        } else {
            None
        }
    }

    /// The spelling RFC 7616 registers, as written in challenges.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Md5 => "MD5",
            Self::Sha256 => "SHA-256",
        }
    }

    /// Length of a hash in lowercase hex (32 for MD5, 64 for SHA-256).
    pub fn hex_len(self) -> usize {
        match self {
            Self::Md5 => 32,
            Self::Sha256 => 64,
        }
    }

    /// Hex of H(parts joined by ':'), the only way digest ever hashes.
    fn hash_joined(self, parts: &[&str]) -> String {
        match self {
            Self::Md5 => to_hex(&hash_parts::<Md5>(parts)),
            Self::Sha256 => to_hex(&hash_parts::<Sha256>(parts)),
        }
    }
}

fn hash_parts<D: Digest>(parts: &[&str]) -> Vec<u8> {
    let mut hasher = D::new();
    for (index, part) in parts.iter().enumerate() {
        if index > 0 {
            hasher.update(b":");
        }
        hasher.update(part.as_bytes());
    }
    hasher.finalize().to_vec()
}

/// The fields of an `Authorization: Digest ...` header that matter here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestResponse {
    pub username: String,
    pub realm: String,
    pub nonce: String,
    pub uri: String,
    pub response: String,
    /// MD5 when the header names none (RFC 2617 §3.2.2).
    pub algorithm: DigestAlgorithm,
    pub qop: Option<String>,
    /// Exactly 8 hex digits, kept as sent because the hash covers the text.
    pub nc: Option<String>,
    pub cnonce: Option<String>,
    pub opaque: Option<String>,
}

impl DigestResponse {
    /// The nonce count as a number, for replay checks.
    pub fn nonce_count(&self) -> Option<u32> {
        self.nc
            .as_deref()
            .and_then(|nc| u32::from_str_radix(nc, 16).ok())
    }
}

/// Why an `Authorization` value could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DigestError {
    /// The scheme is not `Digest` (e.g. `Basic`).
    NotDigest,
    /// Longer than any honest header; refused before parsing.
    TooLong,
    Malformed(&'static str),
    MissingField(&'static str),
    UnsupportedAlgorithm,
    /// `nc` is not exactly 8 hex digits.
    BadNonceCount,
}

impl std::fmt::Display for DigestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NotDigest => write!(f, "authorization scheme is not Digest"),
            Self::TooLong => write!(f, "authorization header too long"),
            Self::Malformed(why) => write!(f, "malformed digest header: {why}"),
            Self::MissingField(name) => write!(f, "digest header lacks {name}"),
            Self::UnsupportedAlgorithm => write!(f, "unsupported digest algorithm"),
            Self::BadNonceCount => write!(f, "nc is not 8 hex digits"),
        }
    }
}

impl std::error::Error for DigestError {}

/// HA1 = H(username:realm:password), what a user directory stores instead
/// of the password.
pub fn ha1_hex(alg: DigestAlgorithm, username: &str, realm: &str, password: &str) -> String {
    alg.hash_joined(&[username, realm, password])
}

/// The `qop=auth` inputs of a response (RFC 2617 §3.2.2.1), as sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QopParams<'a> {
    pub qop: &'a str,
    pub nc: &'a str,
    pub cnonce: &'a str,
}

/// The response a client with `ha1_hex` must send. `qop: None` is the
/// RFC 2069 form H(HA1:nonce:HA2). The qop inputs are grouped in one value
/// because they only ever come together.
pub fn expected_response(
    alg: DigestAlgorithm,
    ha1_hex: &str,
    method: &str,
    uri: &str,
    nonce: &str,
    qop: Option<&QopParams<'_>>,
) -> String {
    let ha2 = alg.hash_joined(&[method, uri]);
    match qop {
        Some(q) => alg.hash_joined(&[ha1_hex, nonce, q.nc, q.cnonce, q.qop, &ha2]),
        None => alg.hash_joined(&[ha1_hex, nonce, &ha2]),
    }
}

/// True when `resp.response` is right for `ha1_hex` and `method`. Does not
/// judge the nonce (see [`NonceIssuer::check`]) nor compare `uri` with the
/// Request-URI (the caller holds the message).
pub fn verify(resp: &DigestResponse, ha1_hex: &str, method: &str) -> bool {
    let qop = match resp.qop.as_deref() {
        None => None,
        Some(qop) if qop.eq_ignore_ascii_case("auth") => Some(QopParams {
            qop,
            nc: resp.nc.as_deref().unwrap_or(""),
            cnonce: resp.cnonce.as_deref().unwrap_or(""),
        }),
        Some(_) => return false,
    };
    let ha1 = ha1_hex.to_ascii_lowercase();
    let expected = expected_response(
        resp.algorithm,
        &ha1,
        method,
        &resp.uri,
        &resp.nonce,
        qop.as_ref(),
    );
    constant_time_eq(
        expected.as_bytes(),
        resp.response.to_ascii_lowercase().as_bytes(),
    )
}

/// Byte equality whose running time depends only on the lengths: every byte
/// of the longer input is visited, with no early exit on a difference, so a
/// response cannot be guessed byte by byte from timing.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = a.len() ^ b.len();
    for index in 0..a.len().max(b.len()) {
        let x = a.get(index).copied().unwrap_or(0);
        let y = b.get(index).copied().unwrap_or(0);
        diff |= usize::from(x ^ y);
    }
    std::hint::black_box(diff) == 0
}

/// The two `WWW-Authenticate` values for one challenge: SHA-256 first, then
/// MD5 (RFC 8760 §2.4: strongest first; old clients skip what they do not know).
pub fn challenge_values(realm: &str, nonce: &str, stale: bool) -> Vec<String> {
    [DigestAlgorithm::Sha256, DigestAlgorithm::Md5]
        .iter()
        .map(|alg| {
            let mut value = format!(
                "Digest realm={}, nonce={}, algorithm={}, qop=\"auth\"",
                quote(realm),
                quote(nonce),
                alg.as_str()
            );
            if stale {
                value.push_str(", stale=true");
            }
            value
        })
        .collect()
}

/// A quoted-string with `"` and `\` escaped (RFC 3261 §25.1).
fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for ch in text.chars() {
        if ch == '"' || ch == '\\' {
            out.push('\\');
        }
        out.push(ch);
    }
    out.push('"');
    out
}

/// Lowercase hex, the digest wire form of a hash.
pub fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    out
}

#[cfg(test)]
mod tests;
