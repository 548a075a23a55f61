//! Parsing SIP bytes into `sip::msg` types, with rsip inside.
//!
//! rsip rejects two things RFC 3261 requires a UA to accept (RFC 4475 "wsinv"): folded header lines
//! (CRLF followed by whitespace, §7.3.1) and compact header names (`v:`, `f:`, `i:`…, §7.3.3). So
//! the bytes are first normalised here: lines unfolded, compact names expanded, the body cut at
//! Content-Length. rsip then tokenizes and validates the normalised text (start line, URI, header
//! syntax) and its result is converted into the project's own types. Extension methods rsip does
//! not know are parsed too, so the engine can answer them `501` instead of `400`.

use super::msg::{Headers, Message, Method, Request, Response};

/// Why bytes are not a SIP message. The text goes into the `400` reason's log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError(pub String);

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "malformed SIP message: {}", self.0)
    }
}

impl std::error::Error for ParseError {}

fn err(why: impl Into<String>) -> ParseError {
    ParseError(why.into())
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

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b)
}

fn cut_body(headers: &Headers, raw: &[u8]) -> Result<Vec<u8>, ParseError> {
    let Some(value) = headers.get("Content-Length") else {
        return Ok(raw.to_vec());
    };
    let length: usize = value
        .trim()
        .parse()
        .map_err(|_| err("bad Content-Length"))?;
    if length > raw.len() {
        return Err(err("body shorter than Content-Length"));
    }
    Ok(raw[..length].to_vec())
}

fn parse_request(start: &str, headers: Headers, body: Vec<u8>) -> Result<Message, ParseError> {
    let mut parts = start.split(' ');
    let (Some(method), Some(uri), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(err("bad request line"));
    };
    if version != "SIP/2.0" {
        return Err(err("unsupported SIP version"));
    }
    if method.is_empty() || !method.bytes().all(is_token_byte) {
        return Err(err("bad method"));
    }
    let method = Method::from_token(method);
    validate_with_rsip(&method, uri, &headers)?;
    for required in ["Via", "From", "To", "Call-ID", "CSeq"] {
        if headers.get(required).is_none() {
            return Err(err(format!("missing {required}")));
        }
    }
    match headers.get("CSeq").and_then(super::header::parse_cseq) {
        Some((_, ref cseq_method)) if *cseq_method == method => {}
        Some(_) => return Err(err("CSeq method differs from the request method")),
        None => return Err(err("bad CSeq")),
    }
    Ok(Message::Request(Request {
        method,
        uri: uri.to_string(),
        headers,
        body,
    }))
}

fn parse_response(start: &str, headers: Headers, body: Vec<u8>) -> Result<Message, ParseError> {
    let mut parts = start.splitn(3, ' ');
    let (Some("SIP/2.0"), Some(code)) = (parts.next(), parts.next()) else {
        return Err(err("bad status line"));
    };
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

/// rsip validates the request line and the header syntax of the normalised request. An extension
/// method rsip does not know is validated as OPTIONS: only the method token differs.
fn validate_with_rsip(method: &Method, uri: &str, headers: &Headers) -> Result<(), ParseError> {
    let method_token = match method {
        Method::Other(_) => "OPTIONS",
        known => known.as_str(),
    };
    let mut text = format!("{method_token} {uri} SIP/2.0\r\n");
    for (name, value) in headers.iter() {
        text.push_str(name);
        text.push_str(": ");
        text.push_str(value);
        text.push_str("\r\n");
    }
    text.push_str("\r\n");
    rsip::Request::try_from(text.as_bytes())
        .map(|_| ())
        .map_err(|e| err(format!("rsip: {e}")))
}

#[cfg(test)]
mod tests;
