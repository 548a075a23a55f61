//! RFC 3264 offer/answer for the engine's single audio stream.
//!
//! The answer takes the first audio m= line with a port over plain RTP
//! (RTP/AVP or RTP/AVPF) and rejects every other line with port 0, because
//! RFC 3264 §6 requires one answer line per offered line, in order. The
//! codec follows the OFFER's order among those we support, so the caller's
//! preference wins and no transcoding choice is ever made here.
//! `Negotiated` keeps the offer's line list so `answer` can print it back.

use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};

use super::{parse, Codec, Direction, MediaDescription, SdpError, SessionDescription};

/// Payload type of telephone-event in our own offers (RFC 4733).
const OFFER_TELEPHONE_EVENT_PT: u8 = 101;

/// One offered m= line, enough to print its rejection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferedLine {
    pub media: String,
    pub proto: String,
    /// The first format, echoed in a rejected line (RFC 3264 §6).
    pub format: String,
}

/// The outcome of an offer/answer exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negotiated {
    pub codec: Codec,
    pub payload_type: u8,
    pub telephone_event_pt: Option<u8>,
    /// Where to send RTP; `None` for c=0.0.0.0 (old-style hold).
    pub remote_rtp: Option<SocketAddr>,
    /// The peer's direction as written (sendrecv when absent).
    pub direction: Direction,
    /// Ours: the mirror of the peer's, without sending when it gave no address.
    pub answer_direction: Direction,
    /// The peer's a=ptime, if any.
    pub ptime: Option<u32>,
    /// Profile of the chosen line, echoed in the answer.
    pub proto: String,
    /// Index of the chosen line among `media_lines`.
    pub media_index: usize,
    pub media_lines: Vec<OfferedLine>,
}

/// Chooses codec, address and direction for an offer; `prefer` lists the
/// codecs we accept (its order does not matter: the offer's order decides).
pub fn negotiate(offer: &SessionDescription, prefer: &[Codec]) -> Result<Negotiated, SdpError> {
    let (media_index, media) = pick_audio(offer)?;
    let (codec, payload_type) = pick_codec(media, prefer)?;
    let connection = media
        .connection
        .or(offer.connection)
        .ok_or(SdpError::NoConnection)?;
    let remote_rtp =
        (!connection.is_unspecified()).then(|| SocketAddr::new(connection, media.port));
    let direction = media
        .direction
        .or(offer.direction)
        .unwrap_or(Direction::SendRecv);
    let mut answer_direction = direction.answered();
    if remote_rtp.is_none() {
        // RFC 3264 §8.4: 0.0.0.0 means "do not send to me".
        answer_direction = answer_direction.without_sending();
    }
    Ok(Negotiated {
        codec,
        payload_type,
        telephone_event_pt: telephone_event(media),
        remote_rtp,
        direction,
        answer_direction,
        ptime: media.ptime.or(offer.ptime),
        proto: media.proto.clone(),
        media_index,
        media_lines: offer.media.iter().map(offered_line).collect(),
    })
}

fn is_plain_rtp(proto: &str) -> bool {
    proto.eq_ignore_ascii_case("RTP/AVP") || proto.eq_ignore_ascii_case("RTP/AVPF")
}

fn pick_audio(offer: &SessionDescription) -> Result<(usize, &MediaDescription), SdpError> {
    let mut audio_elsewhere = false;
    for (index, media) in offer.media.iter().enumerate() {
        if !media.media.eq_ignore_ascii_case("audio") || media.port == 0 {
            continue;
        }
        if is_plain_rtp(&media.proto) {
            return Ok((index, media));
        }
        audio_elsewhere = true;
    }
    Err(if audio_elsewhere {
        SdpError::UnsupportedTransport
    } else {
        SdpError::NoAudio
    })
}

/// The first offered format that maps to a codec in `prefer`.
fn pick_codec(media: &MediaDescription, prefer: &[Codec]) -> Result<(Codec, u8), SdpError> {
    media
        .formats
        .iter()
        .filter_map(|format| format.parse::<u8>().ok())
        .find_map(|pt| {
            codec_of(media, pt)
                .filter(|c| prefer.contains(c))
                .map(|c| (c, pt))
        })
        .ok_or(SdpError::NoCommonCodec)
}

/// An rtpmap decides; without one, the RFC 3551 static types 0 and 8.
fn codec_of(media: &MediaDescription, pt: u8) -> Option<Codec> {
    let Some(map) = media.rtpmap(pt) else {
        return match pt {
            0 => Some(Codec::Pcmu),
            8 => Some(Codec::Pcma),
            _ => None,
        };
    };
    if map.clock_rate != 8000 || map.channels.is_some_and(|channels| channels != 1) {
        return None;
    }
    [Codec::Pcmu, Codec::Pcma]
        .into_iter()
        .find(|codec| map.encoding.eq_ignore_ascii_case(codec.encoding_name()))
}

/// The first listed telephone-event at 8 kHz (the rate of G.711 audio).
fn telephone_event(media: &MediaDescription) -> Option<u8> {
    media
        .formats
        .iter()
        .filter_map(|format| format.parse::<u8>().ok())
        .find(|pt| {
            media.rtpmap(*pt).is_some_and(|map| {
                map.encoding.eq_ignore_ascii_case("telephone-event") && map.clock_rate == 8000
            })
        })
}

fn offered_line(media: &MediaDescription) -> OfferedLine {
    OfferedLine {
        media: media.media.clone(),
        proto: media.proto.clone(),
        format: media
            .formats
            .first()
            .cloned()
            .unwrap_or_else(|| "0".to_string()),
    }
}

/// Reads the answer to one of our offers (from [`offer`]). The fields mean
/// the same as for an answer we give: `direction` is the peer's,
/// `answer_direction` ours, and the codec is the first one the answer lists.
pub fn parse_answer(body: &str, prefer: &[Codec]) -> Result<Negotiated, SdpError> {
    let description = parse(body)?;
    let refused = description
        .media
        .iter()
        .find(|media| media.media.eq_ignore_ascii_case("audio"))
        .is_some_and(|media| media.port == 0);
    if refused {
        return Err(SdpError::Rejected);
    }
    negotiate(&description, prefer)
}

/// Our offer for calls the engine places: PCMU, PCMA, telephone-event.
pub fn offer(local_ip: IpAddr, local_port: u16, session_id: u64, version: u64) -> String {
    let mut out = session_header(local_ip, session_id, version);
    let te = OFFER_TELEPHONE_EVENT_PT;
    let _ = write!(
        out,
        "m=audio {local_port} RTP/AVP 0 8 {te}\r\n\
         a=rtpmap:0 PCMU/8000\r\n\
         a=rtpmap:8 PCMA/8000\r\n\
         a=rtpmap:{te} telephone-event/8000\r\n\
         a=fmtp:{te} 0-16\r\n\
         a=ptime:20\r\n\
         a=sendrecv\r\n"
    );
    out
}

/// Our answer: the chosen audio line with one codec (and telephone-event
/// when offered), and every other offered line rejected with port 0.
pub fn answer(
    local_ip: IpAddr,
    local_port: u16,
    session_id: u64,
    version: u64,
    negotiated: &Negotiated,
) -> String {
    let mut out = session_header(local_ip, session_id, version);
    let mut audio_written = false;
    for (index, line) in negotiated.media_lines.iter().enumerate() {
        if index == negotiated.media_index {
            write_audio(&mut out, local_port, negotiated);
            audio_written = true;
        } else {
            let _ = write!(out, "m={} 0 {} {}\r\n", line.media, line.proto, line.format);
        }
    }
    if !audio_written {
        write_audio(&mut out, local_port, negotiated);
    }
    out
}

fn session_header(local_ip: IpAddr, session_id: u64, version: u64) -> String {
    let family = if local_ip.is_ipv4() { "IP4" } else { "IP6" };
    format!(
        "v=0\r\no=pasokh {session_id} {version} IN {family} {local_ip}\r\n\
         s=pasokh\r\nc=IN {family} {local_ip}\r\nt=0 0\r\n"
    )
}

fn write_audio(out: &mut String, local_port: u16, n: &Negotiated) {
    let pt = n.payload_type;
    let _ = write!(out, "m=audio {local_port} {} {pt}", n.proto);
    if let Some(te) = n.telephone_event_pt {
        let _ = write!(out, " {te}");
    }
    let _ = write!(
        out,
        "\r\na=rtpmap:{pt} {}/8000\r\n",
        n.codec.encoding_name()
    );
    if let Some(te) = n.telephone_event_pt {
        let _ = write!(
            out,
            "a=rtpmap:{te} telephone-event/8000\r\na=fmtp:{te} 0-16\r\n"
        );
    }
    let _ = write!(
        out,
        "a=ptime:20\r\na={}\r\n",
        n.answer_direction.as_attribute()
    );
}
