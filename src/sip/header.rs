//! Small, allocation-light helpers over header values: list splitting that respects quotes and
//! angle brackets, `;param=value` lookup, name-addr URIs, CSeq. They accept anything: a malformed
//! value yields `None`, never a panic, because every byte here came from the network.

use super::msg::Method;

/// Splits a comma-separated header value into its elements, ignoring commas inside quotes or `<>`.
pub fn split_list(value: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut in_quotes, mut in_angle, mut escaped) = (false, false, false);
    let mut start = 0;
    for (i, c) in value.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_quotes => escaped = true,
            '"' => in_quotes = !in_quotes,
            '<' if !in_quotes => in_angle = true,
            '>' if !in_quotes => in_angle = false,
            ',' if !in_quotes && !in_angle => {
                parts.push(value[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(value[start..].trim());
    parts.retain(|p| !p.is_empty());
    parts
}

/// The part of a header value that carries header parameters: after `>` for a name-addr, else the
/// whole value (an addr-spec or a Via, whose parameters follow the first `;`).
fn params_part(value: &str) -> &str {
    match value.rfind('>') {
        Some(pos) => &value[pos + 1..],
        None => value,
    }
}

/// The value of a `;name=value` header parameter (case-insensitive name). A flag parameter without
/// `=` yields `Some("")`.
pub fn param<'a>(value: &'a str, name: &str) -> Option<&'a str> {
    let part = params_part(value);
    let mut pieces = part.split(';');
    pieces.next(); // the URI, sent-by or empty before the first parameter
    for piece in pieces {
        let (key, val) = match piece.split_once('=') {
            Some((k, v)) => (k.trim(), v.trim()),
            None => (piece.trim(), ""),
        };
        if key.eq_ignore_ascii_case(name) {
            return Some(val.trim_matches('"'));
        }
    }
    None
}

/// The URI inside a name-addr (`"Name" <sip:x@y>;tag=1`) or an addr-spec (`sip:x@y;tag=1`).
pub fn name_addr_uri(value: &str) -> Option<&str> {
    if let Some(open) = value.find('<') {
        let close = value[open..].find('>')? + open;
        return Some(value[open + 1..close].trim());
    }
    let uri = value.trim();
    let uri = uri.split(';').next().unwrap_or(uri);
    if uri.is_empty() {
        None
    } else {
        Some(uri)
    }
}

/// The URI of a Contact (or any name-addr) fit to be a Request-URI we send: non-empty, with a
/// scheme, and without whitespace or control bytes. A peer's Contact that passed the inbound
/// parse can still be unusable as our request line (the engine once sent a BYE it could not
/// parse itself); the caller then falls back to a URI it already trusts.
pub fn target_uri(value: &str) -> Option<&str> {
    name_addr_uri(value).filter(|uri| {
        !uri.is_empty()
            && uri.contains(':')
            && !uri
                .bytes()
                .any(|b| b <= b' ' || b == 0x7f || b == b'<' || b == b'>')
    })
}

/// The user part of a SIP URI (`sip:137@host` → `137`), without a password or user parameters
/// (`sip:137;par=x@host` → `137`, RFC 4475 semiuri). The user ends at the last `@`: one inside a
/// user is escaped, and none can appear in the host, parameters or headers.
pub fn uri_user(uri: &str) -> Option<&str> {
    if let Some(number) = uri.strip_prefix("tel:") {
        return number.split([';', '?']).next();
    }
    let rest = uri
        .strip_prefix("sip:")
        .or_else(|| uri.strip_prefix("sips:"))?;
    let (userinfo, _) = rest.rsplit_once('@')?;
    userinfo.split([':', ';']).next()
}

/// Decodes `%XX` escapes. An escape that is not two hex digits, or one that decodes to a byte that
/// is not text (a `%00`, RFC 4475 escnull), is kept as written: the result is compared with
/// numbers and names, never used to build bytes.
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let decoded = (bytes[i] == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok())
            .filter(|b| !b.is_ascii_control());
        match decoded {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_string())
}

/// The host[:port] part of a SIP URI.
pub fn uri_host_port(uri: &str) -> Option<&str> {
    let rest = uri
        .strip_prefix("sip:")
        .or_else(|| uri.strip_prefix("sips:"))?;
    let rest = match rest.find('@') {
        Some(at) => &rest[at + 1..],
        None => rest,
    };
    let end = rest.find([';', '?', '>']).unwrap_or(rest.len());
    Some(&rest[..end])
}

/// `CSeq: 12 INVITE` → (12, INVITE).
pub fn parse_cseq(value: &str) -> Option<(u32, Method)> {
    let mut it = value.split_whitespace();
    let number = it.next()?.parse().ok()?;
    let method = Method::from_token(it.next()?);
    if it.next().is_some() {
        return None;
    }
    Some((number, method))
}

/// The sent-by (`host[:port]`) of a Via element: `SIP/2.0/UDP 1.2.3.4:5060;branch=…`.
pub fn via_sent_by(via: &str) -> Option<&str> {
    let after_proto = via.trim().split_once(char::is_whitespace)?.1.trim_start();
    let end = after_proto.find(';').unwrap_or(after_proto.len());
    Some(after_proto[..end].trim())
}

/// The transport token of a Via element (`UDP`, `TCP`…).
pub fn via_transport(via: &str) -> Option<&str> {
    let proto = via.trim().split(char::is_whitespace).next()?;
    proto.rsplit('/').next()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_target_uri_must_be_usable_as_a_request_line() {
        assert_eq!(
            target_uri("<sip:a@192.0.2.1:5060;transport=tcp>"),
            Some("sip:a@192.0.2.1:5060;transport=tcp")
        );
        assert_eq!(target_uri("sip:a@192.0.2.1"), Some("sip:a@192.0.2.1"));
        // Found by the engine fuzz target: a Contact with a space inside its brackets became the
        // BYE's Request-URI, and the engine sent a request line it could not parse itself.
        assert_eq!(target_uri("<sip:a@host x>"), None);
        assert_eq!(target_uri("<sip:a@host\tx>"), None);
        assert_eq!(target_uri("<>"), None);
        assert_eq!(target_uri("<nocolon>"), None);
    }

    #[test]
    fn splits_lists_but_not_inside_quotes_or_brackets() {
        let v = r#""Doe, John" <sip:a@b;x=1,2>, <sip:c@d>;expires=60"#;
        assert_eq!(
            split_list(v),
            vec![r#""Doe, John" <sip:a@b;x=1,2>"#, "<sip:c@d>;expires=60"]
        );
    }

    #[test]
    fn finds_params_after_the_name_addr_only() {
        let v = "<sip:a@b;tag=inner>;tag=outer;lr";
        assert_eq!(param(v, "tag"), Some("outer"));
        assert_eq!(param(v, "lr"), Some(""));
        let via = "SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-1;rport";
        assert_eq!(param(via, "branch"), Some("z9hG4bK-1"));
        assert_eq!(param(via, "received"), None);
    }

    #[test]
    fn extracts_uris_and_users() {
        assert_eq!(name_addr_uri("\"x\" <sip:137@h>;tag=1"), Some("sip:137@h"));
        assert_eq!(name_addr_uri("sip:1888@h;tag=1"), Some("sip:1888@h"));
        assert_eq!(uri_user("sip:137@127.0.0.1:5060;user=phone"), Some("137"));
        assert_eq!(uri_user("sip:*43@h"), Some("*43"));
        assert_eq!(uri_user("sip:127.0.0.1"), None);
        assert_eq!(
            uri_host_port("sip:2001@127.0.0.1:5070;ob"),
            Some("127.0.0.1:5070")
        );
    }

    #[test]
    fn percent_decodes_users_but_keeps_bad_and_control_escapes() {
        assert_eq!(percent_decode("%31%33%37"), "137");
        assert_eq!(percent_decode("I%20have"), "I have");
        assert_eq!(percent_decode("%Z%45"), "%ZE");
        assert_eq!(percent_decode("null-%00-null"), "null-%00-null");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%e2%82"), "%e2%82");
    }

    #[test]
    fn parses_cseq_and_via_parts() {
        assert_eq!(parse_cseq("12 INVITE"), Some((12, Method::Invite)));
        assert_eq!(parse_cseq("x INVITE"), None);
        assert_eq!(parse_cseq("1 INVITE extra"), None);
        let via = "SIP/2.0/TCP 10.0.0.1:5070 ;branch=z9hG4bKx";
        assert_eq!(via_sent_by(via), Some("10.0.0.1:5070"));
        assert_eq!(via_transport(via), Some("TCP"));
    }

    #[test]
    fn malformed_values_do_not_panic() {
        for junk in [
            "",
            "<",
            ">",
            "<sip:",
            ";;;=",
            "\"unterminated",
            "sip:",
            "\u{0645}<>",
        ] {
            let _ = split_list(junk);
            let _ = param(junk, "tag");
            let _ = name_addr_uri(junk);
            let _ = uri_user(junk);
            let _ = via_sent_by(junk);
        }
    }
}
