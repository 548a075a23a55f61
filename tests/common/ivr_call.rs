//! One caller of the IVR over loopback: SIPp (`sipp-scenarios/ivr_caller.xml`) does the SIP and
//! a test RTP peer keys RFC 4733 digits, speaks, and keeps what the engine plays back.

use std::net::UdpSocket;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::rtp::{self, Received, RtpPeer, PT_EVENT};
use super::wav;
use super::{free_port, repo_dir, require, temp_dir, Engine};

/// The level (mean |sample|) above which a 20 ms frame counts as sound (about -42 dBFS).
pub const AUDIBLE: u32 = 256;
/// A pause this long after some sound means the engine is waiting for the caller.
pub const QUIET: Duration = Duration::from_millis(2000);

// ---- a caller: SIPp for the signalling, an RtpPeer for the media -----------------------------

/// One SIPp call (`sipp-scenarios/ivr_caller.xml`) whose media is `peer`. The caller stays
/// until the engine hangs up or the test calls [`IvrCall::hang_up`].
pub struct IvrCall {
    child: Child,
    work: PathBuf,
    deadline: Instant,
    sipp_port: u16,
    pub call_id: String,
    pub peer: RtpPeer,
}

impl IvrCall {
    pub fn start(engine: &Engine, service: &str, limit: Duration) -> IvrCall {
        require("sipp");
        let peer = RtpPeer::bind();
        let work = temp_dir("sipp-ivr");
        let sipp_port = free_port();
        // Fixed so the test can address the call; SIPp numbers its first call 1.
        let call_id = format!("ivr-e2e-{}-{sipp_port}", std::process::id());
        let out = std::fs::File::create(work.join("stdout.txt"))
            .unwrap_or_else(|e| panic!("sipp stdout: {e}"));
        let err = out
            .try_clone()
            .unwrap_or_else(|e| panic!("sipp stderr: {e}"));
        let child = Command::new("sipp")
            .current_dir(&work)
            .arg(format!("127.0.0.1:{}", engine.sip))
            .arg("-sf")
            .arg(repo_dir().join("sipp-scenarios/ivr_caller.xml"))
            .args(["-s", service, "-i", "127.0.0.1", "-mi", "127.0.0.1"])
            .args(["-p", &sipp_port.to_string()])
            .args(["-mp", &free_port().to_string()])
            .args(["-set", "rtp_port", &peer.port().to_string()])
            .args(["-cid_str", &format!("{call_id}-%u")])
            .args(["-m", "1", "-r", "1", "-nostdin", "-trace_err"])
            .args(["-timeout", &format!("{}s", limit.as_secs().max(2) - 1)])
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start sipp: {e}"));
        IvrCall {
            child,
            work,
            deadline: Instant::now() + limit,
            sipp_port,
            call_id: format!("{call_id}-1"),
            peer,
        }
    }

    /// Waits for the engine's first prompt (the welcome), so keys are not sent into the void.
    pub fn wait_welcome(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.peer.mark() == 0 {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("sipp ended before any RTP came: {status}\n{}", self.logs());
            }
            assert!(
                Instant::now() < deadline,
                "no RTP from the engine within 10 s; sipp:\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        self.peer
            .wait_until(0, Duration::from_secs(10), "the welcome prompt", |r| {
                r.audible_ms(AUDIBLE) >= 300
            });
    }

    /// Keys `digits` as RFC 4733 events, then keeps the stream going for `pause`.
    pub fn keys(&self, digits: &str, pause: Duration) {
        self.peer.send_rfc4733_digits(digits, PT_EVENT);
        self.peer.send_silence(pause);
    }

    /// Keys `digits`, then `last`, and returns what the engine played from `last` on, once it
    /// has fallen quiet (it waits for the caller).
    pub fn ask(&self, digits: &str, last: &str) -> Received {
        if !digits.is_empty() {
            self.peer.send_rfc4733_digits(digits, PT_EVENT);
        }
        let mark = self.peer.mark();
        self.peer.send_rfc4733_digits(last, PT_EVENT);
        wait_quiet(&self.peer, mark, Duration::from_secs(60))
    }

    /// The caller hangs up: an INFO in the call's dialog tells SIPp to send its BYE.
    pub fn hang_up(&self) {
        let socket =
            UdpSocket::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("cannot bind UDP: {e}"));
        let local = socket
            .local_addr()
            .unwrap_or_else(|e| panic!("local_addr: {e}"));
        let info = format!(
            "INFO sip:caller@127.0.0.1:{port} SIP/2.0\r\n\
             Via: SIP/2.0/UDP {local};branch=z9hG4bK-hangup-{port}\r\n\
             From: <sip:test@127.0.0.1>;tag=hangup\r\n\
             To: <sip:caller@127.0.0.1:{port}>\r\n\
             Call-ID: {call_id}\r\n\
             CSeq: 1 INFO\r\n\
             Max-Forwards: 70\r\n\
             Content-Length: 0\r\n\r\n",
            port = self.sipp_port,
            call_id = self.call_id,
        );
        socket
            .send_to(info.as_bytes(), ("127.0.0.1", self.sipp_port))
            .unwrap_or_else(|e| panic!("cannot send the hang-up INFO: {e}"));
    }

    /// Waits for SIPp to finish (killing it past its limit); true if the call succeeded.
    pub fn wait(&mut self) -> bool {
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => {
                    if !status.success() {
                        eprintln!("sipp failed: {status}\n{}", self.logs());
                    }
                    return status.success();
                }
                Ok(None) if Instant::now() < self.deadline => {
                    std::thread::sleep(Duration::from_millis(50))
                }
                _ => {
                    eprintln!("sipp ran past its limit\n{}", self.logs());
                    return false;
                }
            }
        }
    }

    pub fn logs(&self) -> String {
        std::fs::read_dir(&self.work)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| {
                format!(
                    "--- {}\n{}",
                    e.file_name().to_string_lossy(),
                    std::fs::read_to_string(e.path()).unwrap_or_default()
                )
            })
            .collect()
    }
}

impl Drop for IvrCall {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.work);
    }
}

pub fn is_audible(packet: &rtp::Packet) -> bool {
    matches!(packet.pt, rtp::PT_PCMU | rtp::PT_PCMA)
        && wav::mean_abs(&rtp::decode(packet.pt, &packet.payload)) >= f64::from(AUDIBLE)
}

/// Waits until the engine has played something after `mark` and then been quiet for [`QUIET`].
pub fn wait_quiet(peer: &RtpPeer, mark: usize, within: Duration) -> Received {
    peer.wait_until(mark, within, "a prompt and then quiet", |r| {
        r.packets
            .iter()
            .rev()
            .find(|p| is_audible(p))
            .is_some_and(|p| p.at.elapsed() >= QUIET)
    })
}
