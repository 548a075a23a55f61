//! Browser legs in the running media runtime: a str0m peer (a browser's side of WebRTC: full
//! ICE, DTLS client) on its own loopback socket, in real time, against the workers' sockets.

use std::net::UdpSocket;
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use super::test_support::{scratch_dir, unaddressed_setup, wait_for, ScratchDir};
use super::*;
use crate::media::api::Idle;
use crate::media::g711::G711;
use crate::media::leg::test_support::tone;
use crate::media::webrtc::test_peer::{Offered, TestPeer};

const WAIT: Duration = Duration::from_secs(5);

struct Rig {
    runtime: MediaRuntime,
    events: Receiver<MediaEvent>,
    _dir: ScratchDir,
}

fn rig(name: &str) -> Rig {
    let dir = scratch_dir(name);
    let config = MediaConfig {
        workers: 2,
        bind_ip: IpAddr::from([127, 0, 0, 1]),
        recordings_dir: dir.to_path_buf(),
        prompts: Arc::new(PromptSet::new()),
        inactivity: Duration::from_secs(60),
        seed: 7,
    };
    let (tx, events) = mpsc::channel();
    let runtime = MediaRuntime::start(config, move |e| {
        let _ = tx.send(e);
    })
    .unwrap_or_else(|e| panic!("runtime did not start: {e}"));
    Rig {
        runtime,
        events,
        _dir: dir,
    }
}

/// A browser's side of one call on its own loopback socket, in real time.
struct Peer {
    peer: TestPeer,
    socket: UdpSocket,
}

impl Peer {
    fn new() -> (Peer, String) {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("peer socket: {e}"));
        let local = socket
            .local_addr()
            .unwrap_or_else(|e| panic!("peer address: {e}"));
        let _ = socket.set_read_timeout(Some(Duration::from_millis(2)));
        let (peer, offer) =
            TestPeer::offer(Instant::now(), local, Offered::G711).unwrap_or_else(|e| panic!("{e}"));
        (Peer { peer, socket }, offer)
    }

    /// Runs the peer for `span` of real time, speaking `pcm` (PCMA, 20 ms a frame) once connected.
    fn run(&mut self, span: Duration, pcm: &[i16]) {
        let end = Instant::now() + span;
        let mut next_frame = Instant::now();
        let mut frame = 0usize;
        let mut buffer = vec![0u8; 2048];
        while Instant::now() < end {
            for (to, datagram) in self.peer.poll() {
                let _ = self.socket.send_to(&datagram, to);
            }
            let now = Instant::now();
            if self.peer.connected && now >= next_frame && (frame + 1) * 160 <= pcm.len() {
                let mut payload = Vec::new();
                G711::Pcma.encode_into(&pcm[frame * 160..(frame + 1) * 160], &mut payload);
                self.peer.speak(now, frame as u64, payload);
                frame += 1;
                next_frame += Duration::from_millis(20);
            }
            match self.socket.recv_from(&mut buffer) {
                Ok((n, from)) => self.peer.receive(Instant::now(), from, &buffer[..n]),
                Err(_) => self.peer.advance(Instant::now()),
            }
        }
    }
}

fn open(rig: &Rig, leg: LegId, offer: String) -> String {
    let answer = rig.runtime.command(MediaCommand::OpenBrowser {
        setup: unaddressed_setup(leg),
        offer,
        advertised: IpAddr::from([127, 0, 0, 1]),
    });
    match answer {
        Some(MediaEvent::BrowserAnswer {
            leg: answered,
            answer,
        }) if answered == leg => answer,
        other => panic!("no answer for the browser: {other:?}"),
    }
}

#[test]
fn a_browser_leg_connects_on_the_workers_socket_and_echoes_the_browsers_audio() {
    let rig = rig("browser-echo");
    let (mut peer, offer) = Peer::new();
    let answer = open(&rig, LegId(1), offer);
    let port = rig
        .runtime
        .local_addr(LegId(1))
        .map(|a| a.port())
        .unwrap_or(0);
    assert!(
        answer.contains(&format!("127.0.0.1 {port} typ host")),
        "{answer}"
    );
    rig.runtime.command(MediaCommand::SetIdle {
        leg: LegId(1),
        idle: Idle::Echo,
    });
    peer.peer.accept(&answer).unwrap_or_else(|e| panic!("{e}"));
    let pcm = tone(&[700.0], 160 * 100, 8000.0);
    peer.run(Duration::from_secs(3), &pcm);
    assert!(peer.peer.connected, "the browser never connected");
    let (connected, others) = wait_for(
        &rig.events,
        WAIT,
        |e| matches!(e, MediaEvent::BrowserConnected { leg } if *leg == LegId(1)),
    );
    assert!(connected.is_some(), "no BrowserConnected: {others:?}");

    // The browser hears its own speech back, frame after frame, bit-exact.
    let mut first = Vec::new();
    G711::Pcma.encode_into(&pcm[..160], &mut first);
    let Some(at) = peer.peer.heard.iter().position(|p| *p == first) else {
        panic!(
            "the browser's first frame never came back ({} frames)",
            peer.peer.heard.len()
        );
    };
    let mut second = Vec::new();
    G711::Pcma.encode_into(&pcm[160..320], &mut second);
    assert_eq!(peer.peer.heard.get(at + 1), Some(&second));
    let heard = peer.peer.heard.len();
    assert!(heard >= 50, "heard {heard} frames");

    // The engine closes the leg: the browser is told, not left to time out.
    rig.runtime.command(MediaCommand::Close { leg: LegId(1) });
    let mut closed = false;
    let end = Instant::now() + WAIT;
    while Instant::now() < end && !closed {
        peer.run(Duration::from_millis(100), &[]);
        closed = peer.peer.closed || !peer.peer.rtc.is_alive();
    }
    assert!(closed, "the browser was not told the leg closed");
}

#[test]
fn a_browser_that_goes_away_fails_its_leg() {
    let rig = rig("browser-gone");
    let (mut peer, offer) = Peer::new();
    let answer = open(&rig, LegId(2), offer);
    peer.peer.accept(&answer).unwrap_or_else(|e| panic!("{e}"));
    peer.run(Duration::from_secs(1), &[]);
    assert!(peer.peer.connected);
    let _ = peer.peer.rtc.close();
    peer.run(Duration::from_millis(300), &[]);
    let (failed, others) = wait_for(
        &rig.events,
        WAIT,
        |e| matches!(e, MediaEvent::BrowserFailed { leg, .. } if *leg == LegId(2)),
    );
    match failed {
        Some(MediaEvent::BrowserFailed { reason, .. }) => {
            assert!(reason.contains("went away"), "{reason}")
        }
        _ => panic!("no BrowserFailed: {others:?}"),
    }
}

#[test]
fn an_offer_that_cannot_be_answered_opens_nothing() {
    let rig = rig("browser-refused");
    let answer = rig.runtime.command(MediaCommand::OpenBrowser {
        setup: unaddressed_setup(LegId(3)),
        offer: "v=0 not really".into(),
        advertised: IpAddr::from([127, 0, 0, 1]),
    });
    assert!(
        matches!(answer, Some(MediaEvent::BrowserRefused { leg, .. }) if leg == LegId(3)),
        "{answer:?}"
    );
    assert_eq!(rig.runtime.local_addr(LegId(3)), None);
}
