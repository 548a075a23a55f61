//! SDP (RFC 4566) reading, and RFC 3264 offer/answer for one audio stream.
//!
//! Why this shape: the engine speaks G.711 (PCMU/PCMA) with RFC 4733
//! telephone-events and nothing else, so the model keeps only what that
//! decision needs (connection, m= lines, rtpmap/fmtp, direction, ptime) and
//! skips every other line. Parsing is tolerant of what real phones send
//! (LF-only endings, blank lines, unknown attributes, malformed attributes
//! that do not matter) but strict where a wrong guess would misroute media:
//! an unreadable c= or m= line is an error. Negotiation and printing live
//! in `sdp/negotiate.rs`; strings in, strings out, no SIP types.

use std::net::IpAddr;

mod negotiate;
pub use negotiate::{answer, negotiate, offer, parse_answer, Negotiated, OfferedLine};

/// Bodies larger than this are refused unread (a Chrome offer is ~6 KiB).
const MAX_SDP_LEN: usize = 64 * 1024;
/// More m= lines than any real call uses.
const MAX_MEDIA_LINES: usize = 32;

/// Media direction attribute (RFC 3264 §5.1); sendrecv when absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    SendRecv,
    SendOnly,
    RecvOnly,
    Inactive,
}

impl Direction {
    fn from_attribute(name: &str) -> Option<Self> {
        match name {
            "sendrecv" => Some(Self::SendRecv),
            "sendonly" => Some(Self::SendOnly),
            "recvonly" => Some(Self::RecvOnly),
            "inactive" => Some(Self::Inactive),
            _ => None,
        }
    }

    pub fn as_attribute(self) -> &'static str {
        match self {
            Self::SendRecv => "sendrecv",
            Self::SendOnly => "sendonly",
            Self::RecvOnly => "recvonly",
            Self::Inactive => "inactive",
        }
    }

    /// The answer's direction for this offered one (RFC 3264 §6.1).
    pub fn answered(self) -> Self {
        match self {
            Self::SendOnly => Self::RecvOnly,
            Self::RecvOnly => Self::SendOnly,
            same => same,
        }
    }

    /// Whether media flows from the side holding this direction.
    pub fn sends(self) -> bool {
        matches!(self, Self::SendRecv | Self::SendOnly)
    }

    /// This direction with sending dropped (peer gave no address).
    pub fn without_sending(self) -> Self {
        match self {
            Self::SendRecv | Self::RecvOnly => Self::RecvOnly,
            Self::SendOnly | Self::Inactive => Self::Inactive,
        }
    }
}

/// The codecs the media stack implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Codec {
    Pcmu,
    Pcma,
}

impl Codec {
    /// RFC 3551 static payload type.
    pub fn static_payload_type(self) -> u8 {
        match self {
            Self::Pcmu => 0,
            Self::Pcma => 8,
        }
    }

    pub fn encoding_name(self) -> &'static str {
        match self {
            Self::Pcmu => "PCMU",
            Self::Pcma => "PCMA",
        }
    }
}

/// `a=rtpmap:<pt> <encoding>/<clock>[/<channels>]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtpMap {
    pub payload_type: u8,
    pub encoding: String,
    pub clock_rate: u32,
    pub channels: Option<u32>,
}

/// One m= section.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MediaDescription {
    pub media: String,
    pub port: u16,
    pub proto: String,
    /// Payload types for RTP profiles; other tokens for other protocols.
    pub formats: Vec<String>,
    pub connection: Option<IpAddr>,
    pub rtpmaps: Vec<RtpMap>,
    pub fmtps: Vec<(u8, String)>,
    pub direction: Option<Direction>,
    pub ptime: Option<u32>,
}

impl MediaDescription {
    pub fn rtpmap(&self, payload_type: u8) -> Option<&RtpMap> {
        self.rtpmaps
            .iter()
            .find(|map| map.payload_type == payload_type)
    }
}

/// A parsed description: session-level values plus its m= sections.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SessionDescription {
    /// The o= line's value, as sent.
    pub origin: Option<String>,
    pub connection: Option<IpAddr>,
    pub direction: Option<Direction>,
    pub ptime: Option<u32>,
    pub media: Vec<MediaDescription>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SdpError {
    /// `line` is 1-based; 0 when the body is empty.
    Malformed {
        line: usize,
        reason: &'static str,
    },
    TooLarge,
    /// No audio m= line with a port.
    NoAudio,
    /// Audio is offered only over a profile we do not speak (SRTP, DTLS).
    UnsupportedTransport,
    /// Neither c= at session nor at media level for the chosen stream.
    NoConnection,
    NoCommonCodec,
    /// The answer refused our audio stream (port 0).
    Rejected,
}

impl std::fmt::Display for SdpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Malformed { line, reason } => write!(f, "SDP line {line}: {reason}"),
            Self::TooLarge => write!(f, "SDP body too large"),
            Self::NoAudio => write!(f, "no usable audio stream"),
            Self::UnsupportedTransport => write!(f, "audio only over an unsupported profile"),
            Self::NoConnection => write!(f, "no connection address for audio"),
            Self::NoCommonCodec => write!(f, "no common codec"),
            Self::Rejected => write!(f, "audio stream rejected"),
        }
    }
}

impl std::error::Error for SdpError {}

/// Parses an SDP body. Never panics.
pub fn parse(body: &str) -> Result<SessionDescription, SdpError> {
    if body.len() > MAX_SDP_LEN {
        return Err(SdpError::TooLarge);
    }
    let mut session = SessionDescription::default();
    let mut seen_version = false;
    for (index, raw) in body.split('\n').enumerate() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if line.trim().is_empty() {
            continue;
        }
        let malformed = |reason| SdpError::Malformed {
            line: index + 1,
            reason,
        };
        let (kind, value) = split_line(line).ok_or(malformed("expected <type>=<value>"))?;
        if !seen_version {
            if kind != b'v' || value.trim() != "0" {
                return Err(malformed("a description starts with v=0"));
            }
            seen_version = true;
            continue;
        }
        apply_line(&mut session, kind, value).map_err(malformed)?;
    }
    if !seen_version {
        return Err(SdpError::Malformed {
            line: 0,
            reason: "empty description",
        });
    }
    Ok(session)
}

fn split_line(line: &str) -> Option<(u8, &str)> {
    let bytes = line.as_bytes();
    match bytes {
        [kind, b'=', ..] if kind.is_ascii_alphabetic() => Some((*kind, line.get(2..)?)),
        _ => None,
    }
}

fn apply_line(session: &mut SessionDescription, kind: u8, value: &str) -> Result<(), &'static str> {
    match kind {
        b'o' if session.media.is_empty() => session.origin = Some(value.to_string()),
        b'c' => {
            let address = parse_connection(value)?;
            match session.media.last_mut() {
                // RFC 4566 allows several c= for layered multicast: keep the first.
                Some(media) => {
                    media.connection.get_or_insert(address);
                }
                None => {
                    session.connection.get_or_insert(address);
                }
            }
        }
        b'm' => {
            if session.media.len() >= MAX_MEDIA_LINES {
                return Err("too many m= lines");
            }
            session.media.push(parse_media_line(value)?);
        }
        b'a' => match session.media.last_mut() {
            Some(media) => apply_media_attribute(media, value),
            None => apply_session_attribute(session, value),
        },
        _ => {}
    }
    Ok(())
}

/// `IN IP4 192.0.2.1` (a multicast `/ttl` suffix is dropped).
fn parse_connection(value: &str) -> Result<IpAddr, &'static str> {
    let mut parts = value.split_whitespace();
    let (Some(net), Some(_addrtype), Some(address)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err("c= needs network type, address type and address");
    };
    if net != "IN" {
        return Err("c= network type is not IN");
    }
    let host = address.split('/').next().unwrap_or(address);
    host.parse().map_err(|_| "c= address is not an IP address")
}

/// `audio 49170[/2] RTP/AVP 0 8 101`.
fn parse_media_line(value: &str) -> Result<MediaDescription, &'static str> {
    let mut parts = value.split_whitespace();
    let (Some(media), Some(port), Some(proto)) = (parts.next(), parts.next(), parts.next()) else {
        return Err("m= needs media, port and protocol");
    };
    let port = port.split('/').next().unwrap_or(port);
    Ok(MediaDescription {
        media: media.to_string(),
        port: port.parse().map_err(|_| "m= port is not a number")?,
        proto: proto.to_string(),
        formats: parts.map(str::to_string).collect(),
        ..MediaDescription::default()
    })
}

fn apply_session_attribute(session: &mut SessionDescription, value: &str) {
    if let Some(direction) = Direction::from_attribute(value.trim()) {
        session.direction = Some(direction);
    } else if let Some(ptime) = value.strip_prefix("ptime:") {
        session.ptime = ptime.trim().parse().ok().or(session.ptime);
    }
}

/// Attributes that do not parse are skipped: they are optional hints.
fn apply_media_attribute(media: &mut MediaDescription, value: &str) {
    let (name, rest) = value.split_once(':').unwrap_or((value, ""));
    match name.trim() {
        "rtpmap" => media.rtpmaps.extend(parse_rtpmap(rest)),
        "fmtp" => {
            if let Some((pt, params)) = rest.trim().split_once(' ') {
                if let Ok(pt) = pt.parse::<u8>() {
                    media.fmtps.push((pt, params.trim().to_string()));
                }
            }
        }
        "ptime" => media.ptime = rest.trim().parse().ok().or(media.ptime),
        other => {
            if let Some(direction) = Direction::from_attribute(other) {
                media.direction = Some(direction);
            }
        }
    }
}

fn parse_rtpmap(value: &str) -> Option<RtpMap> {
    let (pt, encoding) = value.trim().split_once(' ')?;
    let mut pieces = encoding.trim().split('/');
    let name = pieces.next()?;
    let clock_rate = pieces.next()?.trim().parse().ok()?;
    let channels = match pieces.next() {
        Some(text) => Some(text.trim().parse().ok()?),
        None => None,
    };
    Some(RtpMap {
        payload_type: pt.parse().ok().filter(|pt| *pt <= 127)?,
        encoding: name.to_string(),
        clock_rate,
        channels,
    })
}

#[cfg(test)]
mod tests;
