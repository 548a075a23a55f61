//! The syntax checks a request must pass before the engine acts on it (RFC 3261 §25, as RFC 4475
//! tortures it). Each answers "is this well-formed", never "what does it mean": the values are
//! read elsewhere by `sip::header`. They are strict where a wrong guess would route a call or
//! echo something harmful (a display name whose quote never closes, a URI with spaces, two
//! Call-IDs), and liberal where RFC 3261 is (folding, spacing around `/`, `;` and `=`, case).

use super::{err, ParseError};
use crate::sip::header::split_list;
use crate::sip::msg::Headers;

/// Headers that may appear once only (RFC 3261 §7.3.1: only list-valued headers may repeat).
const SINGLE: &[&str] = &[
    "Call-ID",
    "From",
    "To",
    "CSeq",
    "Max-Forwards",
    "Content-Length",
    "Content-Type",
];

/// A byte of a head that is never sent back: the C0 controls (bar HTAB) and DEL. RFC 3261 lets
/// a quoted string carry them as quoted-pairs; a contact centre has no use for them, and a
/// response copies From/To, so a request holding one is refused whole (`400`).
pub fn is_forbidden_control(byte: u8) -> bool {
    (byte < 0x20 && byte != b'\t' && byte != b'\r' && byte != b'\n') || byte == 0x7f
}

pub fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b)
}

fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_token_byte)
}

/// A URI scheme (RFC 3986 §3.1): ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ).
pub fn scheme_of(uri: &str) -> Option<&str> {
    let (scheme, _) = uri.split_once(':')?;
    let mut bytes = scheme.bytes();
    let first_alpha = bytes.next().is_some_and(|b| b.is_ascii_alphabetic());
    let rest_ok = bytes.all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b));
    (first_alpha && rest_ok).then_some(scheme)
}

/// Whether this engine serves URIs of that scheme: SIP and SIPS, and `tel` (a dialled number).
pub fn scheme_is_served(scheme: &str) -> bool {
    ["sip", "sips", "tel"]
        .iter()
        .any(|s| s.eq_ignore_ascii_case(scheme))
}

/// The Request-URI. `Ok(false)`: well-formed but of a scheme this engine does not serve (`416`).
pub fn request_uri(uri: &str) -> Result<bool, ParseError> {
    let scheme = scheme_of(uri).ok_or_else(|| err("Request-URI has no scheme"))?;
    if uri
        .bytes()
        .any(|b| b.is_ascii_whitespace() || b"<>\"".contains(&b))
    {
        return Err(err("Request-URI has a space, quote or angle bracket"));
    }
    if !scheme_is_served(scheme) {
        return Ok(false);
    }
    if scheme.eq_ignore_ascii_case("tel") {
        return Ok(true);
    }
    let rest = &uri[scheme.len() + 1..];
    // The user part may hold `?`, `;` and `,` (RFC 4475 intmeth, semiuri); the host part starts
    // after the last `@`, since an `@` in a user must be escaped.
    let host_part = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    if host_part.contains('?') {
        // RFC 3261 §19.1.1: headers are not allowed in a Request-URI (RFC 4475 escruri).
        return Err(err("Request-URI carries headers"));
    }
    let host = host_part.split(';').next().unwrap_or_default();
    if !is_host_port(host) {
        return Err(err("Request-URI has a bad host"));
    }
    Ok(true)
}

fn is_host_port(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._:[]".contains(&b))
}

/// Every header of a request: single-valued ones present once, numbers in range, name-addrs
/// and Vias well-formed.
pub fn request_headers(headers: &Headers) -> Result<(), ParseError> {
    for name in SINGLE {
        if headers.get_all(name).count() > 1 {
            return Err(err(format!("more than one {name}")));
        }
    }
    if headers.get("Call-ID").is_some_and(|v| v.trim().is_empty()) {
        return Err(err("empty Call-ID"));
    }
    if let Some(value) = headers.get("Max-Forwards") {
        // 1*DIGIT; RFC 4475 scalar02 sends 300, and -1 is not a number at all.
        match value.trim().parse::<u32>() {
            Ok(hops) if hops <= 255 && value.trim().bytes().all(|b| b.is_ascii_digit()) => {}
            _ => return Err(err("bad Max-Forwards")),
        }
    }
    for name in ["From", "To"] {
        if let Some(value) = headers.get(name) {
            name_addr(value).map_err(|why| err(format!("{name}: {}", why.0)))?;
        }
    }
    for value in headers.get_all("Contact") {
        if value.trim() == "*" {
            continue;
        }
        for element in split_list(value) {
            name_addr(element).map_err(|why| err(format!("Contact: {}", why.0)))?;
        }
    }
    for value in headers.get_all("Via") {
        if value.trim().is_empty() || value.split(',').any(|e| e.trim().is_empty()) {
            return Err(err("empty Via element"));
        }
        for element in split_list(value) {
            via(element)?;
        }
    }
    Ok(())
}

/// `name-addr` or `addr-spec`, then `;params` (RFC 3261 §20.10, §25.1).
pub fn name_addr(value: &str) -> Result<(), ParseError> {
    let value = value.trim();
    let (uri, params) = if let Some(rest) = value.strip_prefix('"') {
        let close = closing_quote(rest).ok_or_else(|| err("display name quote not closed"))?;
        let rest = rest[close + 1..].trim_start();
        let inner = rest
            .strip_prefix('<')
            .ok_or_else(|| err("quoted display name not followed by <"))?;
        bracketed(inner)?
    } else if let Some(open) = value.find('<') {
        let display = &value[..open];
        if !display.split_whitespace().all(is_token) {
            // RFC 4475 baddn: `Bell, Alexander <sip:…>` needs quotes.
            return Err(err("display name is neither tokens nor quoted"));
        }
        bracketed(&value[open + 1..])?
    } else {
        let (uri, params) = value.split_once(';').unwrap_or((value, ""));
        let uri = uri.trim_end();
        // RFC 3261 §20.10: a URI with `,`, `?` or `;` must be in <> (RFC 4475 regbadct).
        if uri.contains([',', '?', '"', '>']) || uri.contains(char::is_whitespace) {
            return Err(err("addr-spec needs <>"));
        }
        (
            uri,
            if value.contains(';') {
                Some(params)
            } else {
                None
            },
        )
    };
    if scheme_of(uri).is_none() || uri.len() <= uri.find(':').unwrap_or(0) + 1 {
        return Err(err("URI without scheme or body"));
    }
    if let Some(params) = params {
        header_params(params)?;
    }
    Ok(())
}

/// The URI inside `<…>` (after the `<`) and the parameters after `>`.
fn bracketed(inner: &str) -> Result<(&str, Option<&str>), ParseError> {
    let close = inner.find('>').ok_or_else(|| err("< without >"))?;
    let uri = &inner[..close];
    if uri.is_empty() || uri.contains(|c: char| c.is_whitespace() || c == '<' || c == '"') {
        // RFC 4475 badaspec: `< sip:x@y >`.
        return Err(err("space or bracket inside <>"));
    }
    let after = inner[close + 1..].trim_start();
    if after.is_empty() {
        return Ok((uri, None));
    }
    let params = after
        .strip_prefix(';')
        .ok_or_else(|| err("text after > that is not a parameter"))?;
    Ok((uri, Some(params)))
}

/// Index of the quote closing a quoted string whose opening quote was just before `s`.
fn closing_quote(s: &str) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => return Some(i),
            _ => {}
        }
    }
    None
}

/// `;name[=value]` parameters (the text after the first `;`): none empty (RFC 4475 badinv01),
/// names tokens, values a token-like word or a quoted string.
fn header_params(params: &str) -> Result<(), ParseError> {
    for param in split_params(params) {
        let (name, value) = match param.split_once('=') {
            Some((n, v)) => (n.trim(), Some(v.trim())),
            None => (param.trim(), None),
        };
        if !is_token(name) {
            return Err(err("empty or bad parameter name"));
        }
        if let Some(value) = value {
            let ok = if let Some(rest) = value.strip_prefix('"') {
                closing_quote(rest).is_some_and(|end| end + 1 == rest.len())
            } else {
                !value.is_empty()
                    && !value.contains(|c: char| c.is_whitespace() || "\"<>,;".contains(c))
            };
            if !ok {
                return Err(err("bad parameter value"));
            }
        }
    }
    Ok(())
}

/// Splits at `;` outside quoted strings.
fn split_params(params: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut in_quotes, mut escaped, mut start) = (false, false, 0);
    for (i, c) in params.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_quotes => escaped = true,
            '"' => in_quotes = !in_quotes,
            ';' if !in_quotes => {
                parts.push(&params[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&params[start..]);
    parts
}

/// One Via element: `SIP / 2.0 / transport sent-by *(; param)` with LWS allowed around `/`
/// (RFC 4475 wsinv).
fn via(element: &str) -> Result<(), ParseError> {
    let (head, params) = match element.split_once(';') {
        Some((h, p)) => (h, Some(p)),
        None => (element, None),
    };
    let mut parts = head.splitn(3, '/');
    let (Some(name), Some(version), Some(rest)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(err("Via without a protocol"));
    };
    let rest = rest.trim_start();
    let (transport, sent_by) = rest
        .split_once(char::is_whitespace)
        .ok_or_else(|| err("Via without a sent-by"))?;
    // COLON allows LWS around it (RFC 3261 §25.1): `host : 5060` is `host:5060`.
    let sent_by: String = sent_by.split_whitespace().collect();
    if !is_token(name.trim())
        || !is_token(version.trim())
        || !is_token(transport)
        || !is_host_port(&sent_by)
    {
        return Err(err("bad Via"));
    }
    if let Some(params) = params {
        header_params(params)?;
    }
    Ok(())
}
