//! A real RTP peer for end-to-end tests: a UDP socket on 127.0.0.1 that sends G.711 audio and
//! DTMF (RFC 4733 events or in-band tones) in real time, 20 ms per packet like a phone, and keeps
//! every packet the engine sends it, with its arrival time, for the test to inspect.
//!
//! Use: bind a peer, put its `port()` in the SDP of the caller (SIPp: `-set rtp_port N` and
//! `m=audio [$rtp_port] ...`), place the call. The engine sends its RTP to that port at once, so
//! the peer learns the engine's address from the first packet (`remote`); sending from the peer's
//! port then latches the engine on it (symmetric RTP). `set_remote` overrides this (e.g. with
//! [`sdp_media_addr`] of the 200 OK).
//!
//! Receiving runs on a background thread from `bind()` until the peer is dropped, so sending
//! (which blocks, paced in real time) and receiving happen together. Every method takes `&self`:
//! share the peer in an `Arc` to send from another thread.
#![allow(dead_code)]

use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::wav;

/// Samples in one 20 ms frame at 8 kHz.
pub const FRAME: usize = 160;
pub const PT_PCMU: u8 = 0;
pub const PT_PCMA: u8 = 8;
/// The telephone-event payload type of the test scenarios' SDP.
pub const PT_EVENT: u8 = 101;
const FRAME_TIME: Duration = Duration::from_millis(20);

/// One RTP packet the peer received.
#[derive(Clone, Debug)]
pub struct Packet {
    pub at: Instant,
    pub from: SocketAddr,
    pub marker: bool,
    pub pt: u8,
    pub seq: u16,
    pub ts: u32,
    pub ssrc: u32,
    pub payload: Vec<u8>,
}

/// What to do with one packet of a DTMF event (to simulate a bad network).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    Send,
    Lose,
    Duplicate,
}

/// Timing of sent DTMF.
#[derive(Clone, Copy, Debug)]
pub struct DigitTiming {
    /// Length of each key press (rounded to 20 ms).
    pub tone_ms: u64,
    /// Silence (sent as audio) after each key press.
    pub gap_ms: u64,
}

impl DigitTiming {
    /// RFC 4733 events as a phone sends them: 100 ms presses, 100 ms apart.
    pub const EVENTS: DigitTiming = DigitTiming {
        tone_ms: 100,
        gap_ms: 100,
    };
    /// In-band tones: 80 ms tone, 80 ms pause.
    pub const INBAND: DigitTiming = DigitTiming {
        tone_ms: 80,
        gap_ms: 80,
    };
}

struct Tx {
    seq: u16,
    ts: u32,
    ssrc: u32,
    /// When the next 20 ms slot is due; `None` before the first packet.
    next: Option<Instant>,
    /// Set the marker bit on the next audio packet (start of a talk spurt).
    marker: bool,
}

struct Shared {
    packets: Mutex<Vec<Packet>>,
    remote: Mutex<Option<SocketAddr>>,
}

pub struct RtpPeer {
    socket: Arc<UdpSocket>,
    shared: Arc<Shared>,
    tx: Mutex<Tx>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl RtpPeer {
    /// Binds 127.0.0.1 on a free port and starts receiving.
    pub fn bind() -> RtpPeer {
        let socket = UdpSocket::bind("127.0.0.1:0")
            .unwrap_or_else(|e| panic!("cannot bind an RTP socket: {e}"));
        socket
            .set_read_timeout(Some(Duration::from_millis(20)))
            .unwrap_or_else(|e| panic!("set_read_timeout: {e}"));
        let socket = Arc::new(socket);
        let shared = Arc::new(Shared {
            packets: Mutex::new(Vec::new()),
            remote: Mutex::new(None),
        });
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (socket, shared, stop) = (socket.clone(), shared.clone(), stop.clone());
            std::thread::spawn(move || receive_loop(&socket, &shared, &stop))
        };
        let seed = std::process::id() ^ u32::from(socket.local_addr().map_or(0, |a| a.port()));
        RtpPeer {
            socket,
            shared,
            tx: Mutex::new(Tx {
                seq: (seed as u16).wrapping_mul(7),
                ts: seed.wrapping_mul(2_654_435_761),
                ssrc: seed.wrapping_mul(40_503) | 1,
                next: None,
                marker: true,
            }),
            stop,
            thread: Some(thread),
        }
    }

    pub fn port(&self) -> u16 {
        self.socket
            .local_addr()
            .unwrap_or_else(|e| panic!("local_addr: {e}"))
            .port()
    }

    /// Sends to `addr` from now on (instead of the source of the engine's first packet).
    pub fn set_remote(&self, addr: SocketAddr) {
        *lock(&self.shared.remote) = Some(addr);
    }

    /// Where the peer sends: the address set, or the source of the first packet received
    /// (waited for up to `within`; panics if nothing came).
    pub fn remote(&self, within: Duration) -> SocketAddr {
        let deadline = Instant::now() + within;
        loop {
            if let Some(addr) = *lock(&self.shared.remote) {
                return addr;
            }
            assert!(
                Instant::now() < deadline,
                "the engine sent no RTP to port {} within {within:?}",
                self.port()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    // ---- sending (each call blocks for the real duration of what it sends) --------------------

    /// Sends 8 kHz PCM as PCMU, one 20 ms packet every 20 ms (the last frame padded with silence).
    pub fn send_audio_pcmu(&self, samples: &[i16]) {
        self.send_audio(samples, PT_PCMU);
    }

    /// Sends 8 kHz PCM encoded as `pt` (0 PCMU or 8 PCMA), real-time paced.
    pub fn send_audio(&self, samples: &[i16], pt: u8) {
        let remote = self.remote(Duration::from_secs(10));
        let mut tx = lock(&self.tx);
        for chunk in samples.chunks(FRAME) {
            let mut frame = [0i16; FRAME];
            frame[..chunk.len()].copy_from_slice(chunk);
            let payload: Vec<u8> = frame.iter().map(|&s| encode(pt, s)).collect();
            self.pace(&mut tx);
            let marker = std::mem::take(&mut tx.marker);
            let ts = tx.ts;
            self.send_packet(&mut tx, remote, marker, pt, ts, &payload, 1);
            tx.ts = tx.ts.wrapping_add(FRAME as u32);
        }
    }

    /// Sends `duration` of digital silence as PCMU (keeps the stream going, as phones do).
    pub fn send_silence(&self, duration: Duration) {
        let samples = (duration.as_millis() as usize) * 8;
        self.send_audio_pcmu(&vec![0; samples]);
    }

    /// Sends each digit as an RFC 4733 event (payload type `pt`) like a phone: one RTP
    /// timestamp per key press, a start packet with the marker bit, continuation packets every
    /// 20 ms, then the end packet three times; 100 ms of silence between presses.
    pub fn send_rfc4733_digits(&self, digits: &str, pt: u8) {
        self.send_rfc4733_digits_with(digits, pt, DigitTiming::EVENTS, |_, _| Fate::Send);
    }

    /// As [`Self::send_rfc4733_digits`], with each event packet's fate chosen by
    /// `fate(digit_index, packet_index)`; packets of one press are numbered from 0 (the start
    /// packet); the last three are the end packets.
    pub fn send_rfc4733_digits_with(
        &self,
        digits: &str,
        pt: u8,
        timing: DigitTiming,
        fate: impl Fn(usize, usize) -> Fate,
    ) {
        let remote = self.remote(Duration::from_secs(10));
        let slots = (timing.tone_ms / 20).max(1) as usize;
        for (index, digit) in digits.chars().enumerate() {
            let code = event_code(digit).unwrap_or_else(|| panic!("not a DTMF key: {digit:?}"));
            {
                let mut tx = lock(&self.tx);
                let event_ts = tx.ts;
                // Packets 0..slots-1 carry the growing duration; the last of them is the first
                // of the three end packets.
                let total = slots + 2;
                for packet in 0..total {
                    self.pace(&mut tx);
                    let end = packet + 1 >= slots;
                    let duration = (packet.min(slots - 1) + 1) * FRAME;
                    let payload = [
                        code,
                        if end { 0x80 } else { 0 } | 10,
                        (duration >> 8) as u8,
                        duration as u8,
                    ];
                    let copies = match fate(index, packet) {
                        Fate::Send => 1,
                        Fate::Lose => 0,
                        Fate::Duplicate => 2,
                    };
                    self.send_packet(&mut tx, remote, packet == 0, pt, event_ts, &payload, copies);
                    tx.ts = tx.ts.wrapping_add(FRAME as u32);
                }
                tx.marker = true;
            }
            self.send_silence(Duration::from_millis(timing.gap_ms));
        }
    }

    /// Sends digits as in-band dual tones in PCMU audio (80 ms tone, 80 ms pause).
    pub fn send_inband_digits(&self, digits: &str) {
        self.send_inband_digits_with(digits, DigitTiming::INBAND);
    }

    pub fn send_inband_digits_with(&self, digits: &str, timing: DigitTiming) {
        let mut samples = Vec::new();
        for digit in digits.chars() {
            samples.extend(dtmf_tone(digit, timing.tone_ms, 7000.0));
            samples.extend(std::iter::repeat_n(0, timing.gap_ms as usize * 8));
        }
        self.send_audio_pcmu(&samples);
    }

    /// Waits for the next 20 ms slot (absolute deadlines, so no drift). After an idle pause the
    /// RTP clock jumps by the time that passed, and the next audio packet carries the marker.
    fn pace(&self, tx: &mut Tx) {
        let now = Instant::now();
        match tx.next {
            Some(next) if now < next => std::thread::sleep(next - now),
            Some(next) if now - next > Duration::from_millis(60) => {
                let idle_ms = (now - next).as_millis() as u32;
                tx.ts = tx
                    .ts
                    .wrapping_add(idle_ms * 8 / FRAME as u32 * FRAME as u32);
                tx.marker = true;
                tx.next = Some(now);
            }
            Some(_) => {}
            None => tx.next = Some(now),
        }
        tx.next = tx.next.map(|n| n + FRAME_TIME);
    }

    /// Sends one packet `copies` times (0: lost on the way, 2: duplicated by the network), then
    /// moves to the next sequence number.
    #[allow(clippy::too_many_arguments)]
    fn send_packet(
        &self,
        tx: &mut Tx,
        to: SocketAddr,
        marker: bool,
        pt: u8,
        ts: u32,
        payload: &[u8],
        copies: usize,
    ) {
        let mut bytes = Vec::with_capacity(12 + payload.len());
        bytes.push(0x80);
        bytes.push(if marker { 0x80 } else { 0 } | (pt & 0x7f));
        bytes.extend_from_slice(&tx.seq.to_be_bytes());
        bytes.extend_from_slice(&ts.to_be_bytes());
        bytes.extend_from_slice(&tx.ssrc.to_be_bytes());
        bytes.extend_from_slice(payload);
        for _ in 0..copies {
            self.socket
                .send_to(&bytes, to)
                .unwrap_or_else(|e| panic!("RTP send to {to}: {e}"));
        }
        tx.seq = tx.seq.wrapping_add(1);
    }

    /// Sends one hand-made datagram (malformed packets, foreign payload types…).
    pub fn send_raw(&self, bytes: &[u8]) {
        let remote = self.remote(Duration::from_secs(10));
        self.socket
            .send_to(bytes, remote)
            .unwrap_or_else(|e| panic!("RTP send to {remote}: {e}"));
    }

    // ---- receiving ------------------------------------------------------------------------------

    /// A position in the stream of received packets, for [`Self::since`].
    pub fn mark(&self) -> usize {
        lock(&self.shared.packets).len()
    }

    /// Packets received after `mark`.
    pub fn since(&self, mark: usize) -> Received {
        let packets = lock(&self.shared.packets);
        Received {
            packets: packets.get(mark..).unwrap_or_default().to_vec(),
        }
    }

    /// Every packet received so far.
    pub fn received(&self) -> Received {
        self.since(0)
    }

    /// Packets received during the next `duration` (blocks).
    pub fn receive_for(&self, duration: Duration) -> Received {
        let mark = self.mark();
        std::thread::sleep(duration);
        self.since(mark)
    }

    /// Waits until `done` holds for the packets received after `mark`; panics after `within`.
    pub fn wait_until(
        &self,
        mark: usize,
        within: Duration,
        what: &str,
        done: impl Fn(&Received) -> bool,
    ) -> Received {
        let deadline = Instant::now() + within;
        loop {
            let received = self.since(mark);
            if done(&received) {
                return received;
            }
            assert!(
                Instant::now() < deadline,
                "RTP peer: {what} did not happen within {within:?} ({} packets received)",
                received.packets.len()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Waits until the engine has played a tone of `hz` for at least `min_ms` and then stopped
    /// (e.g. the beep before a recording); returns the arrival time of the first packet after it.
    pub fn wait_tone_end(&self, hz: f32, min_ms: u64, within: Duration) -> Instant {
        let mark = self.mark();
        let frames = (min_ms / 20).max(1) as usize;
        let received = self.wait_until(mark, within, &format!("a {hz} Hz tone"), |r| {
            tone_end(r, hz, frames).is_some()
        });
        tone_end(&received, hz, frames).unwrap_or_else(|| panic!("tone end vanished"))
    }
}

impl Drop for RtpPeer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn receive_loop(socket: &UdpSocket, shared: &Shared, stop: &AtomicBool) {
    let mut buffer = [0u8; 2048];
    while !stop.load(Ordering::Relaxed) {
        let Ok((n, from)) = socket.recv_from(&mut buffer) else {
            continue;
        };
        let at = Instant::now();
        let Some(packet) = parse(&buffer[..n], from, at) else {
            continue;
        };
        lock(&shared.remote).get_or_insert(from);
        lock(&shared.packets).push(packet);
    }
}

fn parse(bytes: &[u8], from: SocketAddr, at: Instant) -> Option<Packet> {
    if bytes.len() < 12 || bytes[0] >> 6 != 2 {
        return None;
    }
    let csrc = usize::from(bytes[0] & 0x0f) * 4;
    let mut start = 12 + csrc;
    if bytes[0] & 0x10 != 0 {
        let words = usize::from(u16::from_be_bytes([
            *bytes.get(start + 2)?,
            *bytes.get(start + 3)?,
        ]));
        start += 4 + words * 4;
    }
    let mut end = bytes.len();
    if bytes[0] & 0x20 != 0 {
        end = end.checked_sub(usize::from(*bytes.last()?))?;
    }
    Some(Packet {
        at,
        from,
        marker: bytes[1] & 0x80 != 0,
        pt: bytes[1] & 0x7f,
        seq: u16::from_be_bytes([bytes[2], bytes[3]]),
        ts: u32::from_be_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]),
        ssrc: u32::from_be_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]),
        payload: bytes.get(start..end)?.to_vec(),
    })
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// The arrival time of the first packet after a run of at least `frames` packets dominated by
/// `hz`, if the run has ended.
fn tone_end(received: &Received, hz: f32, frames: usize) -> Option<Instant> {
    let mut run = 0;
    for packet in received.audio() {
        let pcm = decode(packet.pt, &packet.payload);
        if wav::is_tone(&pcm, hz) {
            run += 1;
        } else if run >= frames {
            return Some(packet.at);
        } else {
            run = 0;
        }
    }
    None
}

/// Packets received, in arrival order.
#[derive(Clone, Debug, Default)]
pub struct Received {
    pub packets: Vec<Packet>,
}

/// Inter-arrival spacing of audio packets.
#[derive(Clone, Debug)]
pub struct Spacing {
    pub intervals: usize,
    pub mean_ms: f64,
    /// 99th percentile of |interval - 20 ms|.
    pub p99_error_ms: f64,
    pub max_error_ms: f64,
    /// How far the latest packet fell behind a steady 20 ms schedule fitted to the earliest
    /// ones (0 when every packet kept time; bursts after a delay do not add up).
    pub max_lateness_ms: f64,
}

impl Received {
    /// The G.711 audio packets (PCMU and PCMA).
    pub fn audio(&self) -> impl Iterator<Item = &Packet> {
        self.packets
            .iter()
            .filter(|p| p.pt == PT_PCMU || p.pt == PT_PCMA)
    }

    /// The received audio decoded to 8 kHz PCM, packet after packet in arrival order.
    pub fn pcm(&self) -> Vec<i16> {
        self.audio()
            .flat_map(|p| decode(p.pt, &p.payload))
            .collect()
    }

    /// Milliseconds of audio packets whose mean |sample| reaches `level` (e.g. 256 ≈ -42 dBFS).
    pub fn audible_ms(&self, level: u32) -> u64 {
        wav::audible_ms(&self.pcm(), level)
    }

    /// Sequence-number steps other than +1 between consecutive packets of the same SSRC.
    pub fn sequence_breaks(&self) -> usize {
        self.packets
            .windows(2)
            .filter(|w| w[0].ssrc == w[1].ssrc && w[1].seq != w[0].seq.wrapping_add(1))
            .count()
    }

    /// Timestamp steps other than +160 between consecutive audio packets of the same SSRC.
    pub fn timestamp_breaks(&self) -> usize {
        let audio: Vec<&Packet> = self.audio().collect();
        audio
            .windows(2)
            .filter(|w| w[0].ssrc == w[1].ssrc && w[1].ts != w[0].ts.wrapping_add(FRAME as u32))
            .count()
    }

    /// Arrival spacing of consecutive audio packets.
    pub fn spacing(&self) -> Spacing {
        let times: Vec<Instant> = self.audio().map(|p| p.at).collect();
        let intervals: Vec<f64> = times
            .windows(2)
            .map(|w| (w[1] - w[0]).as_secs_f64() * 1000.0)
            .collect();
        let mut errors: Vec<f64> = intervals.iter().map(|i| (i - 20.0).abs()).collect();
        errors.sort_by(|a, b| a.total_cmp(b));
        let p99 = errors
            .get((errors.len() * 99 / 100).min(errors.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0.0);
        let offsets: Vec<f64> = times
            .iter()
            .enumerate()
            .map(|(i, t)| (*t - times[0]).as_secs_f64() * 1000.0 - 20.0 * i as f64)
            .collect();
        let earliest = offsets.iter().copied().fold(f64::INFINITY, f64::min);
        let latest = offsets.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        Spacing {
            max_lateness_ms: if offsets.is_empty() {
                0.0
            } else {
                latest - earliest
            },
            intervals: intervals.len(),
            mean_ms: intervals.iter().sum::<f64>() / intervals.len().max(1) as f64,
            p99_error_ms: p99,
            max_error_ms: errors.last().copied().unwrap_or(0.0),
        }
    }
}

// ---- SDP --------------------------------------------------------------------------------------

/// The audio address of an SDP body: the `c=` address (session or media level) and the
/// `m=audio` port.
pub fn sdp_media_addr(sdp: &str) -> SocketAddr {
    let mut ip = None;
    let mut port = None;
    for line in sdp.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("c=IN IP4 ") {
            ip = ip.or_else(|| rest.split('/').next().map(str::to_string));
        } else if let Some(rest) = line.strip_prefix("m=audio ") {
            port = rest
                .split_whitespace()
                .next()
                .and_then(|p| p.parse::<u16>().ok());
        }
    }
    let (Some(ip), Some(port)) = (ip, port) else {
        panic!("no audio address in SDP:\n{sdp}");
    };
    format!("{ip}:{port}")
        .parse()
        .unwrap_or_else(|e| panic!("bad SDP address {ip}:{port}: {e}"))
}

// ---- G.711 and DTMF ---------------------------------------------------------------------------

/// Decodes a G.711 payload (`pt` 0 PCMU, 8 PCMA).
pub fn decode(pt: u8, payload: &[u8]) -> Vec<i16> {
    match pt {
        PT_PCMU => payload.iter().map(|&b| ulaw_decode(b)).collect(),
        PT_PCMA => payload.iter().map(|&b| alaw_decode(b)).collect(),
        other => panic!("not a G.711 payload type: {other}"),
    }
}

pub fn encode(pt: u8, sample: i16) -> u8 {
    match pt {
        PT_PCMU => ulaw_encode(sample),
        PT_PCMA => alaw_encode(sample),
        other => panic!("not a G.711 payload type: {other}"),
    }
}

pub fn ulaw_encode(sample: i16) -> u8 {
    const BIAS: i32 = 0x84;
    const CLIP: i32 = 32_635;
    let mut s = i32::from(sample);
    let sign = if s < 0 {
        s = -s;
        0x80
    } else {
        0
    };
    s = s.min(CLIP) + BIAS;
    let mut exponent = 7;
    let mut mask = 0x4000;
    while exponent > 0 && s & mask == 0 {
        exponent -= 1;
        mask >>= 1;
    }
    let mantissa = (s >> (exponent + 3)) & 0x0f;
    !((sign | (exponent << 4) | mantissa) as u8)
}

pub fn ulaw_decode(byte: u8) -> i16 {
    let u = !byte;
    let exponent = i32::from((u >> 4) & 7);
    let mantissa = i32::from(u & 0x0f);
    let magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84;
    (if u & 0x80 != 0 { -magnitude } else { magnitude }) as i16
}

pub fn alaw_encode(sample: i16) -> u8 {
    const SEGMENT_END: [i32; 8] = [0x1f, 0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff];
    let mut pcm = i32::from(sample) >> 3;
    let mask = if pcm >= 0 {
        0xd5
    } else {
        pcm = -pcm - 1;
        0x55
    };
    let Some(segment) = SEGMENT_END.iter().position(|&end| pcm <= end) else {
        return 0x7f ^ mask;
    };
    let shift = if segment < 2 { 1 } else { segment };
    let value = ((segment as i32) << 4) | ((pcm >> shift) & 0x0f);
    (value as u8) ^ mask
}

pub fn alaw_decode(byte: u8) -> i16 {
    let a = byte ^ 0x55;
    let exponent = i32::from((a >> 4) & 7);
    let mantissa = i32::from(a & 0x0f);
    let magnitude = if exponent == 0 {
        (mantissa << 4) + 8
    } else {
        ((mantissa << 4) + 0x108) << (exponent - 1)
    };
    (if a & 0x80 != 0 { magnitude } else { -magnitude }) as i16
}

/// The RFC 4733 event code of a DTMF key.
pub fn event_code(digit: char) -> Option<u8> {
    match digit.to_ascii_uppercase() {
        d @ '0'..='9' => Some(d as u8 - b'0'),
        '*' => Some(10),
        '#' => Some(11),
        d @ 'A'..='D' => Some(d as u8 - b'A' + 12),
        _ => None,
    }
}

/// The (row, column) frequencies of a DTMF key.
pub fn dtmf_frequencies(digit: char) -> (f32, f32) {
    const ROWS: [f32; 4] = [697.0, 770.0, 852.0, 941.0];
    const COLUMNS: [f32; 4] = [1209.0, 1336.0, 1477.0, 1633.0];
    const KEYS: [&str; 4] = ["123A", "456B", "789C", "*0#D"];
    let digit = digit.to_ascii_uppercase();
    for (row, keys) in KEYS.iter().enumerate() {
        if let Some(column) = keys.find(digit) {
            return (ROWS[row], COLUMNS[column]);
        }
    }
    panic!("not a DTMF key: {digit:?}")
}

/// `ms` of a DTMF key's dual tone at 8 kHz, each tone of amplitude `amplitude`.
pub fn dtmf_tone(digit: char, ms: u64, amplitude: f32) -> Vec<i16> {
    let (low, high) = dtmf_frequencies(digit);
    wav::tone(&[low, high], ms, amplitude)
}
