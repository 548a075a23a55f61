//! The call-takers of the browser-bridge benchmark (`scripts/bench-acd.sh browser`): COUNT agent
//! pages, each signed in with its password, its phone's WebSocket open and logged in, answering
//! every ring as a browser does, with a WebRTC peer built on the engine's own str0m
//! (`media::webrtc::test_peer`: full ICE, the DTLS client, G.711). Each peer speaks a steady
//! 1 kHz tone (PCMA, one frame every 20 ms) and counts the caller's frames it receives: a gap in
//! their RTP time is a lost frame.
//!
//! Usage: browser_peers HTTP_ADDR FIRST_ID COUNT RUN_S
//!   agents FIRST_ID.. with passwords `pw<ID>`; runs RUN_S seconds, then prints one JSON line.
//!
//! All peers share one thread (a current-thread runtime): the generator's CPU is then one core
//! at most, and the report gives it beside the engine's.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use pasokh::media::g711::G711;
use pasokh::media::webrtc::test_peer::{Offered, TestPeer};
use str0m::{Event, Output};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

type Error = Box<dyn std::error::Error + Send + Sync>;

/// Frames at the start of a call not counted: ICE and the jitter buffers settle.
const SETTLE: Duration = Duration::from_secs(2);

#[derive(Default, Debug, Clone, Copy)]
struct Counts {
    calls: u64,
    connected: u64,
    failed: u64,
    frames: u64,
    lost: u64,
    out_of_order: u64,
}

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().collect();
    let [_, http, first, count, run_s] = args.as_slice() else {
        return Err("usage: browser_peers HTTP_ADDR FIRST_ID COUNT RUN_S".into());
    };
    let http: SocketAddr = http.parse()?;
    let (first, count, run_s): (u32, u32, u64) = (first.parse()?, count.parse()?, run_s.parse()?);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let totals = runtime.block_on(async move {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(run_s);
        let mut peers = Vec::new();
        for id in first..first + count {
            let token = sign_in(http, id).await?;
            peers.push(tokio::spawn(page(http, token, deadline)));
        }
        eprintln!("browser_peers: {count} pages signed in");
        let mut totals = Counts::default();
        for peer in peers {
            match peer.await {
                Ok(Ok(c)) => {
                    totals.calls += c.calls;
                    totals.connected += c.connected;
                    totals.failed += c.failed;
                    totals.frames += c.frames;
                    totals.lost += c.lost;
                    totals.out_of_order += c.out_of_order;
                }
                Ok(Err(error)) => eprintln!("browser_peers: a page failed: {error}"),
                Err(error) => eprintln!("browser_peers: a page panicked: {error}"),
            }
        }
        Ok::<_, Error>(totals)
    });
    let totals = totals?;
    println!(
        "{}",
        serde_json::json!({
            "pages": count,
            "calls": totals.calls,
            "connected": totals.connected,
            "failed": totals.failed,
            "frames_received": totals.frames,
            "frames_lost": totals.lost,
            "frames_out_of_order": totals.out_of_order,
            "client_cpu_s": own_cpu_seconds(),
        })
    );
    Ok(())
}

/// Signs in as `id`: the session token from the cookie.
async fn sign_in(http: SocketAddr, id: u32) -> Result<String, Error> {
    let body = format!("agent={id}&password=pw{id}");
    let request = format!(
        "POST /agent/signin HTTP/1.1\r\nHost: {http}\r\nOrigin: http://{http}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    );
    let mut stream = TcpStream::connect(http).await?;
    stream.write_all(request.as_bytes()).await?;
    let mut reply = String::new();
    stream.read_to_string(&mut reply).await?;
    reply
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            if !name.eq_ignore_ascii_case("set-cookie") {
                return None;
            }
            let pair = value.trim().split(';').next()?;
            pair.strip_prefix("pasokh_token=").map(str::to_string)
        })
        .ok_or_else(|| {
            format!(
                "agent {id} could not sign in: {}",
                reply.lines().next().unwrap_or("")
            )
            .into()
        })
}

/// One agent page until `deadline`: its WebSocket, its calls.
async fn page(
    http: SocketAddr,
    token: String,
    deadline: tokio::time::Instant,
) -> Result<Counts, Error> {
    let mut request = format!("ws://{http}/api/phone").into_client_request()?;
    request
        .headers_mut()
        .insert("Cookie", format!("pasokh_token={token}").parse()?);
    request
        .headers_mut()
        .insert("Origin", format!("http://{http}").parse()?);
    let tcp = TcpStream::connect(http).await?;
    let (mut socket, _) = tokio_tungstenite::client_async(request, tcp).await?;
    socket
        .send(Message::text(r#"{"type":"state","action":"login"}"#))
        .await?;
    let udp = UdpSocket::bind("127.0.0.1:0").await?;
    let local = udp.local_addr()?;
    let tone = tone_frame();
    let mut counts = Counts::default();
    let mut call: Option<Call> = None;
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut buffer = vec![0u8; 2048];
    loop {
        tokio::select! {
            _ = tokio::time::sleep_until(deadline) => break,
            frame = socket.next() => {
                let Some(Ok(Message::Text(text))) = frame else {
                    if matches!(frame, None | Some(Err(_))) { break; }
                    continue;
                };
                let event: serde_json::Value = serde_json::from_str(text.as_str())?;
                match event["type"].as_str() {
                    Some("ring") if call.is_none() => {
                        let number = event["call"].as_u64().unwrap_or(0);
                        let (peer, offer) = TestPeer::offer(Instant::now(), local, Offered::G711)?;
                        call = Some(Call::new(peer));
                        counts.calls += 1;
                        let answer = serde_json::json!({"type": "answer", "call": number, "sdp": offer});
                        socket.send(Message::text(answer.to_string())).await?;
                    }
                    Some("answer") => {
                        if let (Some(c), Some(sdp)) = (call.as_mut(), event["sdp"].as_str()) {
                            c.peer.accept(sdp)?;
                        }
                    }
                    Some("ended") => {
                        if let Some(c) = call.take() {
                            c.add_to(&mut counts);
                            if event["reason"] == "failed" {
                                counts.failed += 1;
                            }
                        }
                    }
                    _ => {}
                }
            }
            received = udp.recv_from(&mut buffer) => {
                let (n, from) = received?;
                if let Some(c) = call.as_mut() {
                    c.peer.receive(Instant::now(), from, &buffer[..n]);
                }
            }
            _ = tick.tick() => {
                if let Some(c) = call.as_mut() {
                    c.speak(&tone);
                }
            }
        }
        if let Some(c) = call.as_mut() {
            for (to, datagram) in c.drain() {
                udp.send_to(&datagram, to).await?;
            }
        }
    }
    if let Some(c) = call.take() {
        c.add_to(&mut counts);
    }
    Ok(counts)
}

/// One answered call: the peer and what it heard.
struct Call {
    peer: TestPeer,
    connected_at: Option<Instant>,
    frame: u64,
    last_time: Option<u64>,
    counts: Counts,
}

impl Call {
    fn new(peer: TestPeer) -> Call {
        Call {
            peer,
            connected_at: None,
            frame: 0,
            last_time: None,
            counts: Counts::default(),
        }
    }

    fn speak(&mut self, tone: &[u8]) {
        let now = Instant::now();
        self.peer.advance(now);
        if self.connected_at.is_some() {
            self.peer.speak(now, self.frame, tone.to_vec());
            self.frame += 1;
        }
    }

    /// The peer's datagrams to send; its events counted.
    fn drain(&mut self) -> Vec<(SocketAddr, Vec<u8>)> {
        let mut out = Vec::new();
        loop {
            match self.peer.rtc.poll_output() {
                Ok(Output::Timeout(_)) | Err(_) => return out,
                Ok(Output::Transmit(t)) => out.push((t.destination, t.contents.to_vec())),
                Ok(Output::Event(Event::Connected)) => {
                    self.connected_at = Some(Instant::now());
                    self.counts.connected = 1;
                }
                Ok(Output::Event(Event::MediaData(data))) => self.heard(data.time.numer()),
                Ok(Output::Event(_)) => {}
            }
        }
    }

    /// A caller's frame with RTP time `time` (8 kHz): counted after the settling time, a jump of
    /// more than one frame is frames lost.
    fn heard(&mut self, time: u64) {
        let settled = self.connected_at.is_some_and(|at| at.elapsed() >= SETTLE);
        if let (true, Some(last)) = (settled, self.last_time) {
            self.counts.frames += 1;
            if time <= last {
                self.counts.out_of_order += 1;
            } else {
                self.counts.lost += (time - last) / 160 - 1;
            }
        }
        self.last_time = Some(self.last_time.map_or(time, |last| last.max(time)));
    }

    fn add_to(&self, counts: &mut Counts) {
        counts.connected += self.counts.connected;
        counts.frames += self.counts.frames;
        counts.lost += self.counts.lost;
        counts.out_of_order += self.counts.out_of_order;
    }
}

/// 20 ms of a 1 kHz tone in A-law: exactly 20 periods, so frame after frame is seamless.
fn tone_frame() -> Vec<u8> {
    let pcm: Vec<i16> = (0..160)
        .map(|i| {
            (8000.0 * (2.0 * std::f64::consts::PI * 1000.0 * f64::from(i) / 8000.0).sin()) as i16
        })
        .collect();
    let mut out = Vec::with_capacity(160);
    G711::Pcma.encode_into(&pcm, &mut out);
    out
}

/// This process's user + system CPU seconds (`/proc/self/stat`, clock ticks of 10 ms).
fn own_cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}
