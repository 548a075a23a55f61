//! Reading `Digest k=v, ...` credentials (RFC 3261 §25.1 / RFC 2617 §3.2.2).
//!
//! Hand-written over bytes rather than split on commas, because quoted
//! strings may hold commas, `=` and backslash escapes. Every delimiter is
//! ASCII, so cutting there never splits a UTF-8 sequence. Unknown
//! parameters are skipped; a known one given twice is refused, so two
//! layers can never disagree on which copy counts.

use super::{DigestAlgorithm, DigestError, DigestResponse};

/// Far above any honest header (a few hundred bytes); bounds parsing work.
const MAX_HEADER_LEN: usize = 4096;

/// Reads an `Authorization` (or `Proxy-Authorization`) value. Never panics.
pub fn parse_authorization(header_value: &str) -> Result<DigestResponse, DigestError> {
    if header_value.len() > MAX_HEADER_LEN {
        return Err(DigestError::TooLong);
    }
    let trimmed = header_value.trim_start();
    let (scheme, rest) = trimmed
        .split_once(|c: char| c.is_ascii_whitespace())
        .unwrap_or((trimmed, ""));
    if !scheme.eq_ignore_ascii_case("Digest") {
        return Err(DigestError::NotDigest);
    }
    let mut fields = Fields::default();
    let mut cursor = Cursor {
        bytes: rest.as_bytes(),
        pos: 0,
    };
    while let Some((name, value)) = cursor.next_param()? {
        fields.set(&name, value)?;
    }
    fields.into_response()
}

/// The known parameters seen so far.
#[derive(Default)]
struct Fields {
    username: Option<String>,
    realm: Option<String>,
    nonce: Option<String>,
    uri: Option<String>,
    response: Option<String>,
    algorithm: Option<String>,
    qop: Option<String>,
    nc: Option<String>,
    cnonce: Option<String>,
    opaque: Option<String>,
}

impl Fields {
    fn set(&mut self, name: &str, value: String) -> Result<(), DigestError> {
        let slot = match name {
            "username" => &mut self.username,
            "realm" => &mut self.realm,
            "nonce" => &mut self.nonce,
            "uri" => &mut self.uri,
            "response" => &mut self.response,
            "algorithm" => &mut self.algorithm,
            "qop" => &mut self.qop,
            "nc" => &mut self.nc,
            "cnonce" => &mut self.cnonce,
            "opaque" => &mut self.opaque,
            _ => return Ok(()),
        };
        if slot.is_some() {
            return Err(DigestError::Malformed("duplicate parameter"));
        }
        *slot = Some(value);
        Ok(())
    }

    fn into_response(self) -> Result<DigestResponse, DigestError> {
        let algorithm = match self.algorithm {
            None => DigestAlgorithm::Md5,
            Some(text) => DigestAlgorithm::parse(&text).ok_or(DigestError::UnsupportedAlgorithm)?,
        };
        if self.qop.is_some() {
            // RFC 2617 §3.2.2: with qop, nc and cnonce are mandatory.
            require(self.nc.as_ref(), "nc")?;
            require(self.cnonce.as_ref(), "cnonce")?;
        }
        if let Some(nc) = &self.nc {
            if nc.len() != 8 || !nc.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(DigestError::BadNonceCount);
            }
        }
        Ok(DigestResponse {
            username: require(self.username, "username")?,
            realm: require(self.realm, "realm")?,
            nonce: require(self.nonce, "nonce")?,
            uri: require(self.uri, "uri")?,
            response: require(self.response, "response")?,
            algorithm,
            qop: self.qop,
            nc: self.nc,
            cnonce: self.cnonce,
            opaque: self.opaque,
        })
    }
}

fn require<T>(value: Option<T>, name: &'static str) -> Result<T, DigestError> {
    value.ok_or(DigestError::MissingField(name))
}

/// RFC 3261 `token` characters.
fn is_token_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&byte)
}

struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn bump(&mut self) -> Option<u8> {
        let byte = self.peek()?;
        self.pos += 1;
        Some(byte)
    }

    fn skip_while(&mut self, keep: impl Fn(u8) -> bool) -> &'a [u8] {
        let start = self.pos;
        while self.peek().is_some_and(&keep) {
            self.pos += 1;
        }
        self.bytes.get(start..self.pos).unwrap_or(&[])
    }

    fn skip_space(&mut self) {
        self.skip_while(|b| b.is_ascii_whitespace());
    }

    /// The next `name=value`, with the name lowercased; `None` at the end.
    fn next_param(&mut self) -> Result<Option<(String, String)>, DigestError> {
        self.skip_while(|b| b.is_ascii_whitespace() || b == b',');
        if self.peek().is_none() {
            return Ok(None);
        }
        let name = self.skip_while(is_token_byte).to_ascii_lowercase();
        if name.is_empty() {
            return Err(DigestError::Malformed("expected a parameter name"));
        }
        self.skip_space();
        if self.bump() != Some(b'=') {
            return Err(DigestError::Malformed(
                "expected '=' after a parameter name",
            ));
        }
        self.skip_space();
        let value = if self.peek() == Some(b'"') {
            self.pos += 1;
            self.quoted()?
        } else {
            self.skip_while(|b| b != b',' && !b.is_ascii_whitespace())
                .to_vec()
        };
        self.skip_space();
        if !matches!(self.peek(), None | Some(b',')) {
            return Err(DigestError::Malformed("expected ',' between parameters"));
        }
        let name = String::from_utf8(name).map_err(|_| DigestError::Malformed("name"))?;
        let value = String::from_utf8(value).map_err(|_| DigestError::Malformed("not UTF-8"))?;
        Ok(Some((name, value)))
    }

    /// The body of a quoted-string whose opening quote is consumed.
    fn quoted(&mut self) -> Result<Vec<u8>, DigestError> {
        let mut out = Vec::new();
        loop {
            match self.bump() {
                None => return Err(DigestError::Malformed("unterminated quoted string")),
                Some(b'"') => return Ok(out),
                Some(b'\\') => match self.bump() {
                    Some(escaped) => out.push(escaped),
                    None => return Err(DigestError::Malformed("dangling backslash")),
                },
                Some(byte) => out.push(byte),
            }
        }
    }
}
