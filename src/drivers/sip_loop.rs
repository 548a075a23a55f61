//! The engine's driver loop: the one task that owns the `Engine`. It reads the clock, receives
//! UDP datagrams itself (no channel hop on the hot path), takes everything else (TCP messages,
//! media events, agent updates) from one channel, fires timers, and carries out the outputs.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::net::UdpSocket;
use tokio::sync::mpsc;

use crate::engine::live::LiveSnapshot;
use crate::engine::{Engine, Input, Output, StoreCommand};

use super::sip_tcp::TcpOutput;
use crate::media::api::{MediaCommand, MediaEvent};
use crate::sip::transport::{Peer, Transport};

/// What reaches the loop besides UDP.
#[derive(Debug)]
pub enum LoopMsg {
    Engine(Input),
    TcpOpened(u64, TcpOutput),
    TcpClosed(u64),
}

/// Where the engine's non-SIP outputs go. Store commands are handed over in batches (one per
/// loop iteration) so the store task is woken once per burst, not once per call. A media command
/// may be answered at once (an `Open`: whether its port could be bound), which goes straight back
/// to the engine, so a call's 200 OK waits for no channel hop.
pub struct Sinks {
    pub media: Box<dyn Fn(MediaCommand) -> Option<MediaEvent> + Send>,
    pub store: Box<dyn Fn(Vec<StoreCommand>) + Send>,
    /// Events for browser phones' pages (their WebSockets, `web::phone`).
    pub phones: Box<dyn Fn(crate::engine::PhoneId, crate::engine::PhoneEvent) + Send>,
}

/// Datagrams read per wake-up: under load one wake-up serves a burst of requests.
const UDP_BURST: usize = 256;

/// The latest `/metrics` text, refreshed by the loop about twice a second.
pub type MetricsText = Arc<Mutex<String>>;

const METRICS_EVERY: Duration = Duration::from_millis(500);

/// How often freed heap is handed back to the system (`give_back_free_memory`).
const TRIM_EVERY: Duration = Duration::from_secs(30);

/// Returns the allocator's free pages to the system. After a flood or a busy hour the engine's
/// calls and transactions are freed, but glibc keeps the pages in its arenas, so the process
/// would stay at its peak (an INVITE flood left 150 MB resident for good). Trimming every
/// `TRIM_EVERY` costs a walk of the free lists, small beside a flood, and nothing when little
/// is free.
fn give_back_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory of the allocator's own arenas.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// After the last call of a shutdown ended, the loop runs this much longer so the BYEs' answers
/// are taken and their retransmissions stop.
const LINGER_AFTER_DRAINED: Duration = Duration::from_secs(1);

/// Past the grace period, the closing prompts and BYEs get this long before the loop gives up.
const DRAIN_MARGIN: Duration = Duration::from_secs(15);

pub struct EngineLoop {
    engine: Engine,
    udp: Arc<UdpSocket>,
    inbox: mpsc::UnboundedReceiver<LoopMsg>,
    sinks: Sinks,
    start: Instant,
    tcp: HashMap<u64, TcpOutput>,
    metrics: MetricsText,
    metrics_at: Instant,
    trimmed_at: Instant,
    live: Option<tokio::sync::watch::Sender<Arc<LiveSnapshot>>>,
    pub send_errors: u64,
}

impl EngineLoop {
    pub fn new(
        engine: Engine,
        udp: Arc<UdpSocket>,
        inbox: mpsc::UnboundedReceiver<LoopMsg>,
        sinks: Sinks,
        start: Instant,
        metrics: MetricsText,
    ) -> Self {
        EngineLoop {
            engine,
            udp,
            inbox,
            sinks,
            start,
            tcp: HashMap::new(),
            metrics,
            metrics_at: start,
            trimmed_at: start,
            live: None,
            send_errors: 0,
        }
    }

    /// Publishes the supervisors' live snapshot with the metrics (about twice a second).
    pub fn with_live(mut self, live: tokio::sync::watch::Sender<Arc<LiveSnapshot>>) -> Self {
        self.live = Some(live);
        self
    }

    fn now(&self) -> Duration {
        self.start.elapsed()
    }

    /// Runs until `stop` completes (the operator's SIGTERM), then drains: the engine refuses new
    /// calls, lets the others finish within `grace` and closes the rest; the loop returns once
    /// nothing is left in flight (or the inbox closes). Everything the engine handed to the store
    /// before that has been sent to the store tasks.
    pub async fn run_until(mut self, stop: impl std::future::Future<Output = ()>, grace: Duration) {
        tokio::pin!(stop);
        let udp = self.udp.clone();
        let mut buf = vec![0u8; 65_535];
        let mut give_up_at: Option<Instant> = None;
        let mut drained_since: Option<Instant> = None;
        self.publish_metrics();
        loop {
            let deadline = self.engine.poll_timeout().map(|at| self.start + at);
            // Wake at least every METRICS_EVERY so /metrics stays fresh while idle.
            let idle_limit = Instant::now() + METRICS_EVERY;
            let sleep_until = deadline.map_or(idle_limit, |d| d.min(idle_limit));
            tokio::select! {
                received = udp.recv_from(&mut buf) => {
                    if let Ok((n, from)) = received {
                        self.on_datagram(&buf[..n], from);
                        for _ in 1..UDP_BURST {
                            match udp.try_recv_from(&mut buf) {
                                Ok((n, from)) => self.on_datagram(&buf[..n], from),
                                Err(_) => break,
                            }
                        }
                    }
                }
                message = self.inbox.recv() => {
                    let Some(message) = message else { return };
                    self.on_message(message);
                }
                _ = &mut stop, if give_up_at.is_none() => {
                    let now = self.now();
                    self.engine.handle_input(Input::Shutdown { grace }, now);
                    give_up_at = Some(Instant::now() + grace + DRAIN_MARGIN);
                }
                _ = tokio::time::sleep_until(sleep_until.into()) => {}
            }
            self.fire_due_timers();
            self.carry_out().await;
            self.refresh_metrics();
            let Some(give_up_at) = give_up_at else {
                continue;
            };
            if self.engine.is_drained() {
                let since = *drained_since.get_or_insert_with(Instant::now);
                if since.elapsed() >= LINGER_AFTER_DRAINED {
                    tracing::info!("every call ended and its message handed to the store");
                    return;
                }
            } else {
                drained_since = None;
            }
            if Instant::now() >= give_up_at {
                tracing::error!(
                    active_calls = self.engine.active_calls(),
                    "calls still open after the grace period and the closing prompts: stopping anyway"
                );
                return;
            }
        }
    }

    fn on_datagram(&mut self, bytes: &[u8], from: SocketAddr) {
        let input = Input::Sip {
            peer: Peer::udp(from),
            bytes: bytes.to_vec(),
        };
        let now = self.now();
        self.engine.handle_input(input, now);
    }

    fn on_message(&mut self, message: LoopMsg) {
        match message {
            LoopMsg::Engine(input) => {
                // A TCP connection hands over a few messages at a time: say this one is taken.
                let from_tcp = match &input {
                    Input::Sip { peer, .. } => match peer.transport {
                        Transport::Tcp(id) => self.tcp.get(&id),
                        Transport::Udp => None,
                    },
                    _ => None,
                };
                if let Some(output) = from_tcp {
                    output.handled();
                }
                let now = self.now();
                self.engine.handle_input(input, now);
            }
            LoopMsg::TcpOpened(id, writer) => {
                self.tcp.insert(id, writer);
            }
            LoopMsg::TcpClosed(id) => {
                self.tcp.remove(&id);
            }
        }
    }

    fn fire_due_timers(&mut self) {
        let now = self.now();
        if self.engine.poll_timeout().is_some_and(|at| at <= now) {
            self.engine.handle_timeout(now);
        }
    }

    async fn carry_out(&mut self) {
        let mut store = Vec::new();
        while let Some(output) = self.engine.poll_output() {
            match output {
                Output::Transmit { peer, bytes } => self.transmit(peer, &bytes).await,
                Output::Media(command) => {
                    if let Some(event) = (self.sinks.media)(command) {
                        let now = self.now();
                        self.engine.handle_input(Input::Media(event), now);
                    }
                }
                Output::Store(command) => store.push(command),
                Output::Phone { phone, event } => (self.sinks.phones)(phone, event),
            }
        }
        if !store.is_empty() {
            (self.sinks.store)(store);
        }
    }

    async fn transmit(&mut self, peer: Peer, bytes: &[u8]) {
        match peer.transport {
            Transport::Udp => self.send_udp(peer.addr, bytes).await,
            Transport::Tcp(id) => {
                let sent = self.tcp.get(&id).map(|w| w.send(bytes.to_vec()));
                if !matches!(sent, Some(Ok(()))) {
                    self.send_errors += 1;
                }
            }
        }
    }

    async fn send_udp(&mut self, to: SocketAddr, bytes: &[u8]) {
        match self.udp.try_send_to(bytes, to) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if self.udp.send_to(bytes, to).await.is_err() {
                    self.send_errors += 1;
                }
            }
            Err(_) => self.send_errors += 1,
        }
    }

    fn refresh_metrics(&mut self) {
        if self.metrics_at.elapsed() < METRICS_EVERY {
            return;
        }
        self.publish_metrics();
        if self.trimmed_at.elapsed() >= TRIM_EVERY {
            self.trimmed_at = Instant::now();
            give_back_free_memory();
        }
    }

    fn publish_metrics(&mut self) {
        self.metrics_at = Instant::now();
        let text = self.engine.metrics_text();
        if let Ok(mut slot) = self.metrics.lock() {
            *slot = text;
        }
        if let Some(live) = &self.live {
            // Waits and times in state tick on, so every refresh is news to a wallboard.
            live.send_replace(Arc::new(self.engine.live_snapshot(self.start.elapsed())));
        }
    }
}
