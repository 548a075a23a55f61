//! A browser's media leg: ICE-lite, DTLS-SRTP and G.711, through str0m.
//!
//! A browser phone is a media leg like a SIP phone's: the same 20 ms clock, jitter buffer,
//! bridging, recording and digits (`media::leg`). Only the wire differs: the browser's packets
//! are STUN, DTLS and SRTP on one UDP port. `BrowserTransport` sits between the leg's socket and
//! the leg: datagrams in, plain RTP out to the leg; the leg's RTP in, datagrams out. It is
//! sans-IO like the leg: it never reads the clock (the worker's `now` is turned into an `Instant`
//! from the worker's origin) and never touches a socket (it returns what to send).
//!
//! Why str0m: it is sans-IO (no thread or task per call; its sockets are the media workers'
//! sockets and its clock is theirs) and pure Rust with the rust-crypto backend (no system
//! library to install). Why ICE-lite: the engine has a public address and never sits behind a
//! NAT; the browser does the checks, the engine answers them.
//!
//! Why the leg is fed plain RTP rebuilt from str0m's depacketised frames rather than str0m's raw
//! RTP mode: audio frames are what str0m is built and tested for, and G.711 frames are RTP
//! payloads as they are, so nothing is lost: the sequence number comes from the frame's
//! sequence range and the timestamp from its RTP time, so the leg's jitter buffer sees the
//! browser's losses and reordering as it would a SIP phone's.
//!
//! Digits: str0m does not negotiate `telephone-event`, so a browser leg has none, and the leg
//! uses in-band tones both ways (its rule for any peer without telephone-event).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use str0m::change::{SdpAnswer, SdpOffer};
use str0m::format::Codec;
use str0m::media::{Frequency, MediaTime, Mid, Pt};
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Event, IceConnectionState, Input, Output, Rtc, RtcConfig};

use super::g711::G711;

pub mod test_peer;
#[cfg(test)]
mod tests;

/// The address the leg believes its browser peer has. Packets reach the leg only through the
/// transport, which vouches for them (ICE checked the path, DTLS the peer's certificate), and the
/// leg's packets leave only through the transport, so the leg needs an address that is never a
/// real peer's: one from TEST-NET-1 (RFC 5737), which no host has and no router forwards.
pub const BROWSER_PEER: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)), 9);

/// A browser that has not completed ICE and DTLS this long after the answer is given up on:
/// its leg fails and the call goes on without it (the next call-taker, or the queue).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The SSRC the leg sees on the browser's audio (any fixed value: one leg, one source).
const LEG_SSRC: u32 = 0x5041_534b;

/// Why a browser's offer cannot be answered or its leg ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BrowserError {
    /// The offer is not SDP str0m can read.
    BadOffer(String),
    /// The offer has no audio, or no codec we share (the browser must offer PCMU or PCMA).
    NoAudio,
    /// str0m refused the offer (text from it).
    Refused(String),
    /// ICE or DTLS did not complete within `CONNECT_TIMEOUT`.
    NotConnected,
    /// The browser went away: ICE consent lost, or DTLS closed.
    Disconnected,
}

impl std::fmt::Display for BrowserError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BrowserError::BadOffer(detail) => write!(f, "the offer is not valid SDP: {detail}"),
            BrowserError::NoAudio => {
                write!(
                    f,
                    "the offer has no audio with PCMU or PCMA (G.711) to answer"
                )
            }
            BrowserError::Refused(detail) => write!(f, "the offer was refused: {detail}"),
            BrowserError::NotConnected => write!(
                f,
                "ICE and DTLS did not complete within {} s",
                CONNECT_TIMEOUT.as_secs()
            ),
            BrowserError::Disconnected => write!(f, "the browser went away (ICE or DTLS closed)"),
        }
    }
}

/// An answered offer: the transport for the leg, the SDP answer for the browser, and the codec
/// the leg is opened with.
pub struct Answered {
    pub transport: BrowserTransport,
    pub answer: String,
    pub codec: G711,
    pub payload_type: u8,
}

/// Where a browser leg's connection stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Connection {
    /// Answer given; waiting for ICE and DTLS.
    Connecting,
    /// SRTP flows.
    Connected,
    /// Over, and why.
    Failed(BrowserError),
}

/// What the transport hands back after an input: datagrams to send, plain RTP for the leg.
#[derive(Debug, Default)]
pub struct Outputs {
    pub transmit: Vec<(SocketAddr, Vec<u8>)>,
    pub rtp: Vec<Vec<u8>>,
}

impl Outputs {
    pub fn clear(&mut self) {
        self.transmit.clear();
        self.rtp.clear();
    }
}

/// One browser leg's WebRTC session.
pub struct BrowserTransport {
    rtc: Rtc,
    mid: Mid,
    pt: Pt,
    /// The socket's own address (what the browser sends to: `Receive::destination`).
    local: SocketAddr,
    /// `now == 0` for the leg is this instant (the worker's origin).
    origin: Instant,
    connection: Connection,
    /// Set when the connection changed and the worker has not yet reported it.
    changed: bool,
    answered_at: Duration,
    /// str0m's next timer; it is polled no sooner.
    next_timeout: Option<Instant>,
}

/// Answers a browser's SDP offer for a leg whose socket is bound to `local` and reachable at
/// `advertised` (the host candidate the browser checks; the engine's public address).
pub fn accept_offer(
    offer: &str,
    local: SocketAddr,
    advertised: SocketAddr,
    origin: Instant,
    now: Duration,
) -> Result<Answered, BrowserError> {
    let offer =
        SdpOffer::from_sdp_string(offer).map_err(|e| BrowserError::BadOffer(e.to_string()))?;
    let at = origin + now;
    let mut rtc = RtcConfig::new()
        .set_ice_lite(true)
        .clear_codecs()
        .enable_pcma(true)
        .enable_pcmu(true)
        .build(at);
    let candidate =
        Candidate::host(advertised, "udp").map_err(|e| BrowserError::Refused(e.to_string()))?;
    rtc.add_local_candidate(candidate);
    let answer: SdpAnswer = rtc
        .sdp_api()
        .accept_offer(offer)
        .map_err(|e| BrowserError::Refused(e.to_string()))?;
    let (mid, pt, codec) = chosen_audio(&mut rtc, &answer).ok_or(BrowserError::NoAudio)?;
    let transport = BrowserTransport {
        rtc,
        mid,
        pt,
        local,
        origin,
        connection: Connection::Connecting,
        changed: false,
        answered_at: now,
        next_timeout: None,
    };
    Ok(Answered {
        transport,
        answer: answer.to_sdp_string(),
        codec,
        payload_type: *pt,
    })
}

/// The answer's audio media and the G.711 codec we send on it: PCMA first (what the SIP side
/// prefers), else PCMU. The media is read from the answer's text: str0m announces it
/// (`MediaAdded`) only once SRTP is ready, and the codec must be known now, to open the leg.
fn chosen_audio(rtc: &mut Rtc, answer: &SdpAnswer) -> Option<(Mid, Pt, G711)> {
    let text = answer.to_sdp_string();
    let audio = text
        .split("\nm=")
        .skip(1)
        // A port of 0 is a refused m-line.
        .filter(|section| section.starts_with("audio ") && !section.starts_with("audio 0 "))
        .find_map(|section| {
            section
                .lines()
                .find_map(|line| line.trim().strip_prefix("a=mid:"))
                .map(|mid| Mid::from(mid.trim()))
        });
    let mid = audio?;
    let writer = rtc.writer(mid)?;
    let mut best: Option<(Pt, G711)> = None;
    for params in writer.payload_params() {
        let codec = match params.spec().codec {
            Codec::PCMA => G711::Pcma,
            Codec::PCMU => G711::Pcmu,
            _ => continue,
        };
        if best.is_none_or(|(_, chosen)| chosen == G711::Pcmu && codec == G711::Pcma) {
            best = Some((params.pt(), codec));
        }
    }
    best.map(|(pt, codec)| (mid, pt, codec))
}

impl BrowserTransport {
    pub fn connection(&self) -> &Connection {
        &self.connection
    }

    /// The connection's state if it changed since the last call (for the worker to report once).
    pub fn take_change(&mut self) -> Option<Connection> {
        if self.changed {
            self.changed = false;
            Some(self.connection.clone())
        } else {
            None
        }
    }

    fn instant(&self, now: Duration) -> Instant {
        self.origin + now
    }

    /// A datagram from `from` arrived on the leg's socket.
    pub fn receive(&mut self, datagram: &[u8], from: SocketAddr, now: Duration, out: &mut Outputs) {
        if matches!(self.connection, Connection::Failed(_)) {
            return;
        }
        let Ok(contents) = datagram.try_into() else {
            // Not STUN, DTLS or SRTP: dropped, as the leg drops malformed RTP.
            return;
        };
        let input = Input::Receive(
            self.instant(now),
            Receive {
                proto: Protocol::Udp,
                source: from,
                destination: self.local,
                contents,
            },
        );
        if let Err(error) = self.rtc.handle_input(input) {
            tracing::debug!(%error, %from, "browser datagram refused");
        }
        self.drain(out);
    }

    /// The leg's outgoing RTP packet (built by its send half): its payload is written to the
    /// browser as one G.711 frame at the packet's RTP time.
    pub fn send_rtp(&mut self, packet: &[u8], now: Duration, out: &mut Outputs) {
        if self.connection != Connection::Connected {
            return;
        }
        let Some((timestamp, payload)) = rtp_payload(packet) else {
            return;
        };
        let wallclock = self.instant(now);
        let pt = self.pt;
        if let Some(writer) = self.rtc.writer(self.mid) {
            let time = MediaTime::new(u64::from(timestamp), Frequency::EIGHT_KHZ);
            if let Err(error) = writer.write(pt, wallclock, time, payload.to_vec()) {
                tracing::debug!(%error, "browser audio not written");
            }
        }
        self.drain(out);
    }

    /// Drives str0m's timers (ICE keep-alives, DTLS retransmissions, RTCP) and the connect
    /// deadline; called every 20 ms tick.
    pub fn tick(&mut self, now: Duration, out: &mut Outputs) {
        if matches!(self.connection, Connection::Failed(_)) {
            return;
        }
        if self.connection == Connection::Connecting
            && now.saturating_sub(self.answered_at) >= CONNECT_TIMEOUT
        {
            self.fail(BrowserError::NotConnected);
            return;
        }
        let at = self.instant(now);
        if self.next_timeout.is_none_or(|due| at >= due) {
            if let Err(error) = self.rtc.handle_input(Input::Timeout(at)) {
                tracing::debug!(%error, "browser leg timer failed");
            }
            self.drain(out);
        }
    }

    /// Ends the session (the leg closes): tells the browser (RTCP BYE and a DTLS close_notify)
    /// so its page learns at once instead of by timeout.
    pub fn close(&mut self, out: &mut Outputs) {
        if self.rtc.close().is_ok() {
            self.drain(out);
        }
        self.rtc.disconnect();
    }

    fn fail(&mut self, why: BrowserError) {
        if !matches!(self.connection, Connection::Failed(_)) {
            self.connection = Connection::Failed(why);
            self.changed = true;
        }
    }

    fn connected(&mut self) {
        if self.connection == Connection::Connecting {
            self.connection = Connection::Connected;
            self.changed = true;
        }
    }

    /// Takes everything str0m has to give until it names its next timer.
    fn drain(&mut self, out: &mut Outputs) {
        loop {
            match self.rtc.poll_output() {
                Ok(Output::Timeout(at)) => {
                    self.next_timeout = Some(at);
                    return;
                }
                Ok(Output::Transmit(transmit)) => {
                    out.transmit
                        .push((transmit.destination, transmit.contents.to_vec()));
                }
                Ok(Output::Event(event)) => self.on_event(event, out),
                Err(error) => {
                    tracing::debug!(%error, "browser leg ended by an error");
                    self.fail(BrowserError::Disconnected);
                    return;
                }
            }
            if !self.rtc.is_alive() {
                self.fail(BrowserError::Disconnected);
                return;
            }
        }
    }

    fn on_event(&mut self, event: Event, out: &mut Outputs) {
        match event {
            Event::Connected => self.connected(),
            Event::IceConnectionStateChange(IceConnectionState::Disconnected) | Event::Closed => {
                self.fail(BrowserError::Disconnected)
            }
            Event::MediaData(data) if data.mid == self.mid => {
                let sequence = data.seq_range.end().as_u16();
                let timestamp = data.time.rebase(Frequency::EIGHT_KHZ).numer() as u32;
                out.rtp
                    .push(rtp_packet(*data.pt, sequence, timestamp, &data.data));
            }
            _ => {}
        }
    }
}

/// A plain RTP packet for the leg: version 2, no CSRC, no extension.
fn rtp_packet(pt: u8, sequence: u16, timestamp: u32, payload: &[u8]) -> Vec<u8> {
    let mut packet = Vec::with_capacity(12 + payload.len());
    packet.push(0x80);
    packet.push(pt & 0x7f);
    packet.extend_from_slice(&sequence.to_be_bytes());
    packet.extend_from_slice(&timestamp.to_be_bytes());
    packet.extend_from_slice(&LEG_SSRC.to_be_bytes());
    packet.extend_from_slice(payload);
    packet
}

/// The RTP time and payload of a packet the leg built (version 2; CSRCs and an extension, if
/// any, skipped).
fn rtp_payload(packet: &[u8]) -> Option<(u32, &[u8])> {
    let first = *packet.first()?;
    if first >> 6 != 2 {
        return None;
    }
    let csrc = usize::from(first & 0x0f) * 4;
    let mut start = 12 + csrc;
    if first & 0x10 != 0 {
        let words = packet.get(start + 2..start + 4)?;
        start += 4 + usize::from(u16::from_be_bytes([words[0], words[1]])) * 4;
    }
    let timestamp = u32::from_be_bytes(packet.get(4..8)?.try_into().ok()?);
    Some((timestamp, packet.get(start..)?))
}
