//! The browser transport on a virtual clock against a real WebRTC peer: a str0m client (full
//! ICE, the controlling side, as a browser is) on an in-memory network. Datagrams are carried by
//! hand, so every test is exact and takes no wall time.

use std::time::{Duration, Instant};

use super::test_peer::{Offered, TestPeer};
use super::*;

const SERVER: &str = "10.0.0.1:40000";
const CLIENT: &str = "10.0.0.2:50000";

/// The instant the virtual clock starts from. str0m takes `Instant`s, and one cannot be made
/// without reading the clock once; every later instant is this one plus virtual time, so
/// nothing in a test depends on when it ran.
fn virtual_origin() -> Instant {
    // Deliberate, tests only: the one read of the clock, as an anchor (see above).
    Instant::now()
}

fn addr(text: &str) -> SocketAddr {
    text.parse()
        .unwrap_or_else(|e| panic!("bad test address {text}: {e}"))
}

/// The two ends and the in-memory network between them, on a virtual clock.
struct Call {
    origin: Instant,
    now: Duration,
    server: BrowserTransport,
    browser: TestPeer,
    out: Outputs,
    /// Plain RTP the server handed its leg.
    leg_heard: Vec<Vec<u8>>,
    /// Deliver packets at all (false: a browser that never completes the handshake).
    network_up: bool,
}

impl Call {
    fn answered(pcma: bool, pcmu: bool) -> (Call, G711, u8) {
        let origin = virtual_origin();
        let codecs = Offered {
            pcma,
            pcmu,
            opus: false,
        };
        let (mut browser, offer) =
            TestPeer::offer(origin, addr(CLIENT), codecs).unwrap_or_else(|e| panic!("{e}"));
        let answered = accept_offer(&offer, addr(SERVER), addr(SERVER), origin, Duration::ZERO)
            .unwrap_or_else(|e| panic!("offer not answered: {e}"));
        assert!(
            answered.answer.contains("a=ice-lite"),
            "{}",
            answered.answer
        );
        assert!(answered
            .answer
            .contains(SERVER.split(':').next().unwrap_or("")));
        browser
            .accept(&answered.answer)
            .unwrap_or_else(|e| panic!("{e}"));
        let call = Call {
            origin,
            now: Duration::ZERO,
            server: answered.transport,
            browser,
            out: Outputs::default(),
            leg_heard: Vec::new(),
            network_up: true,
        };
        (call, answered.codec, answered.payload_type)
    }

    /// Carries datagrams both ways until neither side has more (at the current instant).
    fn exchange(&mut self) {
        for _ in 0..50 {
            let from_browser: Vec<Vec<u8>> = self
                .browser
                .poll()
                .into_iter()
                .map(|(_, data)| data)
                .collect();
            let mut moved = !from_browser.is_empty();
            if self.network_up {
                for datagram in from_browser {
                    self.server
                        .receive(&datagram, addr(CLIENT), self.now, &mut self.out);
                }
            }
            let to_browser: Vec<Vec<u8>> =
                self.out.transmit.drain(..).map(|(_, data)| data).collect();
            moved |= !to_browser.is_empty();
            self.leg_heard.append(&mut self.out.rtp);
            if self.network_up {
                let at = self.origin + self.now;
                for datagram in to_browser {
                    self.browser.receive(at, addr(SERVER), &datagram);
                }
            }
            if !moved {
                return;
            }
        }
    }

    /// Advances the virtual clock one 20 ms tick on both sides.
    fn tick(&mut self) {
        self.now += Duration::from_millis(20);
        let at = self.origin + self.now;
        self.browser.advance(at);
        self.server.tick(self.now, &mut self.out);
        self.exchange();
    }

    fn run_until(&mut self, limit: Duration, done: impl Fn(&Call) -> bool) -> bool {
        let end = self.now + limit;
        while self.now < end {
            if done(self) {
                return true;
            }
            self.tick();
        }
        done(self)
    }
}

/// A recognisable G.711 payload per frame.
fn frame_payload(frame: u64) -> Vec<u8> {
    (0..160)
        .map(|i| ((frame as usize * 7 + i) % 251) as u8)
        .collect()
}

#[test]
fn a_browser_connects_over_ice_lite_and_dtls_and_g711_flows_both_ways() {
    let (mut call, codec, pt) = Call::answered(true, true);
    assert_eq!(codec, G711::Pcma, "PCMA is preferred when both are offered");
    assert_eq!(pt, 8);
    call.exchange();
    assert!(
        call.run_until(Duration::from_secs(3), |c| c.browser.connected
            && c.server.connection() == &Connection::Connected),
        "not connected: {:?}",
        call.server.connection()
    );
    assert_eq!(call.server.take_change(), Some(Connection::Connected));
    assert_eq!(call.server.take_change(), None, "reported once");

    // One second of audio each way, 20 ms a frame.
    for frame in 0..50u64 {
        let at = call.origin + call.now;
        call.browser.speak(at, frame, frame_payload(frame));
        let packet = rtp_packet(
            pt,
            1000 + frame as u16,
            5000 + frame as u32 * 160,
            &[0xd5; 160],
        );
        call.server.send_rtp(&packet, call.now, &mut call.out);
        call.tick();
    }
    call.tick();

    // The leg got plain RTP carrying the browser's payloads, in order, 160 samples apart.
    assert!(
        call.leg_heard.len() >= 48,
        "leg heard {}",
        call.leg_heard.len()
    );
    let first = &call.leg_heard[0];
    assert_eq!(first[0], 0x80);
    assert_eq!(first[1] & 0x7f, 8);
    let payloads: Vec<&[u8]> = call.leg_heard.iter().map(|p| &p[12..]).collect();
    let start = (0..50u64)
        .find(|f| frame_payload(*f) == payloads[0])
        .unwrap_or_else(|| panic!("the first payload is none the browser sent"));
    for (i, payload) in payloads.iter().enumerate() {
        assert_eq!(
            *payload,
            frame_payload(start + i as u64).as_slice(),
            "frame {i}"
        );
    }
    let stamp = |p: &Vec<u8>| u32::from_be_bytes([p[4], p[5], p[6], p[7]]);
    assert_eq!(stamp(&call.leg_heard[1]).wrapping_sub(stamp(first)), 160);

    // The browser heard the leg's frames.
    assert!(
        call.browser.heard.len() >= 48,
        "browser heard {}",
        call.browser.heard.len()
    );
    assert!(call.browser.heard.iter().all(|p| p == &vec![0xd5; 160]));
}

#[test]
fn a_pcmu_only_browser_gets_pcmu() {
    let (_, codec, pt) = Call::answered(false, true);
    assert_eq!((codec, pt), (G711::Pcmu, 0));
}

#[test]
fn a_browser_that_never_completes_the_handshake_fails_after_the_connect_timeout() {
    let (mut call, _, _) = Call::answered(true, true);
    call.network_up = false;
    call.exchange();
    assert!(
        !call.run_until(CONNECT_TIMEOUT - Duration::from_millis(40), |c| matches!(
            c.server.connection(),
            Connection::Failed(_)
        ))
    );
    assert!(
        call.run_until(Duration::from_millis(100), |c| c.server.connection()
            == &Connection::Failed(BrowserError::NotConnected))
    );
    assert_eq!(
        call.server.take_change(),
        Some(Connection::Failed(BrowserError::NotConnected))
    );
    // Nothing more is sent for a failed leg.
    call.out.clear();
    call.server
        .send_rtp(&rtp_packet(8, 1, 1, &[0; 160]), call.now, &mut call.out);
    call.server
        .tick(call.now + Duration::from_secs(1), &mut call.out);
    assert!(call.out.transmit.is_empty());
}

#[test]
fn a_browser_that_hangs_up_ends_the_leg() {
    let (mut call, _, _) = Call::answered(true, false);
    call.exchange();
    assert!(
        call.run_until(Duration::from_secs(3), |c| c.server.connection()
            == &Connection::Connected)
    );
    let _ = call.server.take_change();
    let _ = call.browser.rtc.close();
    assert!(
        call.run_until(Duration::from_secs(5), |c| matches!(
            c.server.connection(),
            Connection::Failed(BrowserError::Disconnected)
        )),
        "{:?}",
        call.server.connection()
    );
}

#[test]
fn offers_that_cannot_be_answered_say_why() {
    let origin = virtual_origin();
    let local = addr(SERVER);
    let refused = |offer: &str| match accept_offer(offer, local, local, origin, Duration::ZERO) {
        Ok(_) => panic!("answered: {offer}"),
        Err(error) => error,
    };
    assert!(matches!(refused("hello"), BrowserError::BadOffer(_)));
    let opus = Offered {
        pcma: false,
        pcmu: false,
        opus: true,
    };
    let (_, opus_only) =
        TestPeer::offer(origin, addr(CLIENT), opus).unwrap_or_else(|e| panic!("{e}"));
    let error = refused(&opus_only);
    assert!(
        matches!(error, BrowserError::NoAudio | BrowserError::Refused(_)),
        "{error:?}"
    );
    assert!(BrowserError::NoAudio.to_string().contains("PCMU or PCMA"));
}

#[test]
fn the_legs_packets_are_read_whatever_their_header_carries() {
    let packet = rtp_packet(8, 7, 320, &[1, 2, 3]);
    assert_eq!(rtp_payload(&packet), Some((320, &[1u8, 2, 3][..])));
    // One CSRC and a one-word extension before the payload.
    let mut odd = vec![
        0x91, 8, 0, 7, 0, 0, 1, 64, 0, 0, 0, 1, 9, 9, 9, 9, 0xbe, 0xde, 0, 1,
    ];
    odd.extend_from_slice(&[0, 0, 0, 0, 4, 5]);
    assert_eq!(rtp_payload(&odd), Some((320, &[4u8, 5][..])));
    assert_eq!(rtp_payload(&[0x40, 0]), None);
    assert_eq!(
        rtp_payload(&[0x90, 8, 0, 7, 0, 0, 1, 64, 0, 0, 0, 1, 0xbe]),
        None
    );
}
