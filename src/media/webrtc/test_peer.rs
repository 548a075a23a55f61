//! A browser's side of WebRTC for the tests and the browser-bridge benchmark
//! (`examples/browser_peers.rs`): a str0m peer with full ICE (the controlling side) and the DTLS
//! client, offering G.711 audio as Chromium and Firefox do. It is driven by hand: its user
//! carries its datagrams (in memory on a virtual clock, or over a loopback socket).

use std::net::SocketAddr;
use std::time::Instant;

use str0m::change::{SdpAnswer, SdpPendingOffer};
use str0m::format::Codec;
use str0m::media::{Direction, Frequency, MediaKind, MediaTime, Mid};
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Event, Input, Output, Rtc, RtcConfig};

/// The codecs a test browser offers.
#[derive(Clone, Copy)]
pub struct Offered {
    pub pcma: bool,
    pub pcmu: bool,
    pub opus: bool,
}

impl Offered {
    pub const G711: Offered = Offered {
        pcma: true,
        pcmu: true,
        opus: false,
    };
}

pub struct TestPeer {
    pub rtc: Rtc,
    mid: Mid,
    local: SocketAddr,
    pending: Option<SdpPendingOffer>,
    pub connected: bool,
    pub closed: bool,
    /// G.711 payloads received, in order.
    pub heard: Vec<Vec<u8>>,
}

impl TestPeer {
    /// A peer at `local` and the SDP offer it makes (one send-receive audio m-line).
    pub fn offer(
        at: Instant,
        local: SocketAddr,
        codecs: Offered,
    ) -> Result<(TestPeer, String), String> {
        let mut rtc = RtcConfig::new()
            .clear_codecs()
            .enable_pcma(codecs.pcma)
            .enable_pcmu(codecs.pcmu)
            .enable_opus(codecs.opus)
            .build(at);
        let candidate =
            Candidate::host(local, "udp").map_err(|e| format!("peer candidate: {e}"))?;
        rtc.add_local_candidate(candidate);
        let mut change = rtc.sdp_api();
        let mid = change.add_media(MediaKind::Audio, Direction::SendRecv, None, None, None);
        let (offer, pending) = change
            .apply()
            .ok_or_else(|| "the peer made no offer".to_string())?;
        let peer = TestPeer {
            rtc,
            mid,
            local,
            pending: Some(pending),
            connected: false,
            closed: false,
            heard: Vec::new(),
        };
        Ok((peer, offer.to_sdp_string()))
    }

    pub fn accept(&mut self, answer: &str) -> Result<(), String> {
        let answer = SdpAnswer::from_sdp_string(answer).map_err(|e| format!("bad answer: {e}"))?;
        let pending = self.pending.take().ok_or("no pending offer")?;
        self.rtc
            .sdp_api()
            .accept_answer(pending, answer)
            .map_err(|e| format!("answer refused: {e}"))
    }

    /// Everything the peer has to say now: datagrams to send (destination, bytes); events are
    /// taken in (`connected`, `closed`, `heard`).
    pub fn poll(&mut self) -> Vec<(SocketAddr, Vec<u8>)> {
        let mut sent = Vec::new();
        loop {
            match self.rtc.poll_output() {
                Ok(Output::Timeout(_)) | Err(_) => return sent,
                Ok(Output::Transmit(t)) => sent.push((t.destination, t.contents.to_vec())),
                Ok(Output::Event(Event::Connected)) => self.connected = true,
                Ok(Output::Event(Event::Closed)) => self.closed = true,
                Ok(Output::Event(Event::MediaData(data))) => self.heard.push(data.data.to_vec()),
                Ok(Output::Event(_)) => {}
            }
        }
    }

    /// A datagram from `from` reached the peer at `at`.
    pub fn receive(&mut self, at: Instant, from: SocketAddr, datagram: &[u8]) {
        let Ok(contents) = datagram.try_into() else {
            return;
        };
        let input = Input::Receive(
            at,
            Receive {
                proto: Protocol::Udp,
                source: from,
                destination: self.local,
                contents,
            },
        );
        let _ = self.rtc.handle_input(input);
    }

    pub fn advance(&mut self, at: Instant) {
        let _ = self.rtc.handle_input(Input::Timeout(at));
    }

    /// Sends one PCMA frame (`payload`, 160 bytes) as frame number `frame` of the stream.
    pub fn speak(&mut self, at: Instant, frame: u64, payload: Vec<u8>) {
        let Some(writer) = self.rtc.writer(self.mid) else {
            return;
        };
        let Some(pt) = writer
            .payload_params()
            .find(|p| p.spec().codec == Codec::PCMA)
            .map(|p| p.pt())
        else {
            return;
        };
        let _ = writer.write(
            pt,
            at,
            MediaTime::new(frame * 160, Frequency::EIGHT_KHZ),
            payload,
        );
    }
}
