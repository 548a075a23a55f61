//! Parsing SIP bytes into `sip::msg` types.
//!
//! The bytes are first normalised: lines unfolded (§7.3.1), compact names expanded (§7.3.3), the
//! body cut at Content-Length. The request line and the headers a UA acts on are then checked by
//! `validate` against RFC 3261's grammar, as RFC 4475's torture messages exercise it (docs/
//! sip-torture.md). A failure carries the status the engine answers with: `400` for bad syntax,
//! `505` for another SIP version, `416` for a Request-URI scheme this engine does not serve.
//! Extension methods are kept by name, so the engine can answer them `501` instead of `400`.

use super::msg::{Headers, Message, Method, Request, Response};

mod validate;

pub use validate::is_forbidden_control;

/// Why bytes are not a SIP message (the text goes into a log line), and the status a request
/// that carries enough headers to be answered gets for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError(pub String, pub u16);

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "malformed SIP message: {}", self.0)
    }
}

impl std::error::Error for ParseError {}

fn err(why: impl Into<String>) -> ParseError {
    ParseError(why.into(), 400)
}

/// Compact forms (RFC 3261 §7.3.3 and extensions) and canonical spellings of common names.
fn canonical_name(name: &str) -> &str {
    const NAMES: &[(&str, &str)] = &[
        ("v", "Via"),
        ("f", "From"),
        ("t", "To"),
        ("i", "Call-ID"),
        ("m", "Contact"),
        ("l", "Content-Length"),
        ("c", "Content-Type"),
        ("k", "Supported"),
        ("s", "Subject"),
        ("e", "Content-Encoding"),
        ("o", "Event"),
        ("r", "Refer-To"),
        ("u", "Allow-Events"),
        ("via", "Via"),
        ("from", "From"),
        ("to", "To"),
        ("call-id", "Call-ID"),
        ("cseq", "CSeq"),
        ("contact", "Contact"),
        ("content-length", "Content-Length"),
        ("content-type", "Content-Type"),
        ("max-forwards", "Max-Forwards"),
        ("expires", "Expires"),
        ("authorization", "Authorization"),
        ("www-authenticate", "WWW-Authenticate"),
        ("record-route", "Record-Route"),
        ("route", "Route"),
        ("user-agent", "User-Agent"),
    ];
    NAMES
        .iter()
        .find(|(short, _)| short.eq_ignore_ascii_case(name))
        .map(|(_, long)| *long)
        .unwrap_or(name)
}

/// The head split into unfolded lines, and the raw body after the blank line.
fn split_head(bytes: &[u8]) -> Result<(Vec<String>, &[u8]), ParseError> {
    let (head, body) = match find(bytes, b"\r\n\r\n") {
        Some(pos) => (&bytes[..pos], &bytes[pos + 4..]),
        None => match find(bytes, b"\n\n") {
            Some(pos) => (&bytes[..pos], &bytes[pos + 2..]),
            None => (bytes, &bytes[bytes.len()..]),
        },
    };
    if head.iter().copied().any(is_forbidden_control) {
        return Err(err("control byte in the head"));
    }
    let head = std::str::from_utf8(head).map_err(|_| err("head is not UTF-8"))?;
    let mut lines: Vec<String> = Vec::new();
    for raw in head.split('\n') {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if line.starts_with([' ', '\t']) {
            let Some(last) = lines.last_mut() else {
                return Err(err("continuation line before the start line"));
            };
            last.push(' ');
            last.push_str(line.trim_start());
        } else if !line.is_empty() || !lines.is_empty() {
            lines.push(line.to_string());
        }
    }
    // Leading CRLFs (keep-alives before a message) are skipped above.
    Ok((lines, body))
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Parses one complete message (a UDP datagram or one TCP frame).
pub fn parse(bytes: &[u8]) -> Result<Message, ParseError> {
    let (lines, raw_body) = split_head(bytes)?;
    let start = lines.first().ok_or_else(|| err("empty message"))?;
    let mut headers = Headers::new();
    for line in &lines[1..] {
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| err(format!("header line without colon: {line:.40}")))?;
        let name = name.trim();
        if name.is_empty() || !name.bytes().all(is_token_byte) {
            return Err(err(format!("bad header name: {name:.40}")));
        }
        headers.push(canonical_name(name), value.trim());
    }
    let body = cut_body(&headers, raw_body)?;
    if start.starts_with("SIP/") {
        parse_response(start, headers, body)
    } else {
        parse_request(start, headers, body)
    }
}

use validate::is_token_byte;

fn cut_body(headers: &Headers, raw: &[u8]) -> Result<Vec<u8>, ParseError> {
    let Some(value) = headers.get("Content-Length") else {
        return Ok(raw.to_vec());
    };
    let value = value.trim();
    // 1*DIGIT: `+5` parses as a number but is not one here; `-999` is RFC 4475 ncl.
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(err("bad Content-Length"));
    }
    let length: usize = value.parse().map_err(|_| err("bad Content-Length"))?;
    if length > raw.len() {
        return Err(err("body shorter than Content-Length"));
    }
    Ok(raw[..length].to_vec())
}

fn parse_request(start: &str, headers: Headers, body: Vec<u8>) -> Result<Message, ParseError> {
    // Exactly `Method SP Request-URI SP SIP-Version`: RFC 4475 lwsruri, lwsstart and trws have
    // extra SPs, which this engine refuses rather than guesses around.
    let mut parts = start.split(' ');
    let (Some(method), Some(uri), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(err("bad request line"));
    };
    if version != "SIP/2.0" {
        return Err(if is_sip_version(version) {
            ParseError("unsupported SIP version".into(), 505)
        } else {
            err("bad SIP version")
        });
    }
    if method.is_empty() || !method.bytes().all(is_token_byte) {
        return Err(err("bad method"));
    }
    let method = Method::from_token(method);
    let served_scheme = validate::request_uri(uri)?;
    for required in ["Via", "From", "To", "Call-ID", "CSeq"] {
        if headers.get(required).is_none() {
            return Err(err(format!("missing {required}")));
        }
    }
    validate::request_headers(&headers)?;
    match headers.get("CSeq").and_then(super::header::parse_cseq) {
        // RFC 3261 §8.1.1.5: the number is below 2**31 (RFC 4475 scalar02).
        Some((number, _)) if number >= 1 << 31 => return Err(err("CSeq number too large")),
        Some((_, ref cseq_method)) if *cseq_method == method => {}
        // An unknown method is answered 501 whatever its CSeq says (RFC 4475 mismatch02 prefers
        // 501 to 400: it stays right when the method becomes known).
        Some(_) if matches!(method, Method::Other(_)) => {}
        Some(_) => return Err(err("CSeq method differs from the request method")),
        None => return Err(err("bad CSeq")),
    }
    if !served_scheme {
        return Err(ParseError("unsupported Request-URI scheme".into(), 416));
    }
    Ok(Message::Request(Request {
        method,
        uri: uri.to_string(),
        headers,
        body,
    }))
}

/// `SIP/` 1*DIGIT `.` 1*DIGIT: a SIP version, if not ours (`505`, RFC 4475 badvers).
fn is_sip_version(version: &str) -> bool {
    let Some((major, minor)) = version.strip_prefix("SIP/").and_then(|v| v.split_once('.')) else {
        return false;
    };
    [major, minor]
        .iter()
        .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

fn parse_response(start: &str, headers: Headers, body: Vec<u8>) -> Result<Message, ParseError> {
    let mut parts = start.splitn(3, ' ');
    let (Some("SIP/2.0"), Some(code)) = (parts.next(), parts.next()) else {
        return Err(err("bad status line"));
    };
    if code.len() != 3 {
        return Err(err("status code is not three digits"));
    }
    let status: u16 = code.parse().map_err(|_| err("bad status code"))?;
    if !(100..700).contains(&status) {
        return Err(err("status code out of range"));
    }
    Ok(Message::Response(Response {
        status,
        reason: parts.next().unwrap_or("").to_string(),
        headers,
        body,
    }))
}

#[cfg(test)]
mod tests;
