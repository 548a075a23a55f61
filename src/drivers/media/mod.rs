//! The media runtime: worker threads that own the RTP sockets of the call legs, run the pure
//! `media::leg` state machines on a 20 ms clock, and keep recordings durable.
//!
//! Why it is shaped so:
//! - Plain std threads, a few of them (two per core by default), each owning a share of the legs: no
//!   task, timer or lock per call, so 1,000+ two-way legs cost a loop, not a scheduler. Legs go to
//!   worker `leg % workers`; a bridge moves one leg so both halves share a worker.
//! - `command` is non-blocking and thread-safe: it only sends on a channel (plus a map lookup for
//!   the few legs moved by a bridge), so the engine's loop never waits for media.
//! - Events go to a callback given at start (`Fn(MediaEvent) + Send + Sync`), called on worker and
//!   recorder threads: wrap a channel sender of whatever runtime the caller uses.
//! - Recordings are finished on a separate recorder thread (fsyncs never stall the 20 ms loop).

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::media::api::{LegId, LegSetup, MediaCommand, MediaEvent};
use crate::media::leg::table::LegTable;
use crate::media::leg::LegConfig;
use crate::media::prompts::PromptSet;

mod playback_file;
mod prompt_loader;
mod recorder;
mod stats;
mod sweep;
mod worker;

pub use prompt_loader::{decode_file, load_prompts, PromptError};
pub use recorder::{recording_path, PART_SUFFIX};
/// The web layer writes a manager's browser reply exactly as the recorder writes a voice message.
pub(crate) use recorder::{sync_dir, RecordingFile};
pub use stats::{MediaStats, MediaTotals};
pub use sweep::{
    recent_recordings, sweep_recordings, RepairedRecording, SweepReport, QUARANTINE_DIR,
};

use recorder::RecorderJob;
use worker::{Worker, WorkerMsg};

/// Where media events go (called from the media threads).
pub type EventSink = Arc<dyn Fn(MediaEvent) + Send + Sync>;

#[derive(Clone)]
pub struct MediaConfig {
    /// Worker threads (about the number of cores); at least one is started.
    pub workers: usize,
    /// Address the RTP sockets bind to.
    pub bind_ip: IpAddr,
    /// Recordings are written here (`RecordSpec::name` is relative to it).
    pub recordings_dir: PathBuf,
    pub prompts: Arc<PromptSet>,
    /// No RTP for this long while RTP is expected (`LegSetup::expects_rtp`) → `Inactive` (zero:
    /// never).
    pub inactivity: Duration,
    /// Seeds every leg's SSRC and initial sequence number and timestamp.
    pub seed: u64,
}

/// What every worker shares.
pub(crate) struct Shared {
    events: EventSink,
    bind_ip: IpAddr,
    recordings_dir: PathBuf,
    recorder: Sender<RecorderJob>,
    origin: Instant,
    /// Local address of each open leg (for tests and diagnostics).
    bound: Mutex<HashMap<LegId, SocketAddr>>,
    stats: Arc<MediaStats>,
    workers: usize,
}

impl Shared {
    fn set_bound(&self, leg: LegId, addr: Option<SocketAddr>) {
        let mut bound = lock(&self.bound);
        match addr {
            Some(addr) => bound.insert(leg, addr),
            None => bound.remove(&leg),
        };
    }
}

pub struct MediaRuntime {
    workers: Vec<Sender<WorkerMsg>>,
    /// Legs moved off their home worker by a bridge.
    moved: Mutex<HashMap<LegId, usize>>,
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
    recorder_thread: Option<JoinHandle<()>>,
}

impl MediaRuntime {
    pub fn start(
        config: MediaConfig,
        events: impl Fn(MediaEvent) + Send + Sync + 'static,
    ) -> io::Result<MediaRuntime> {
        let events: EventSink = Arc::new(events);
        let (recorder, jobs) = mpsc::channel();
        let recorder_thread = {
            let (events, dir) = (Arc::clone(&events), config.recordings_dir.clone());
            thread::Builder::new()
                .name("media-recorder".into())
                .spawn(move || recorder::run_recorder(jobs, events, dir))?
        };
        let shared = Arc::new(Shared {
            events,
            bind_ip: config.bind_ip,
            recordings_dir: config.recordings_dir.clone(),
            recorder,
            origin: Instant::now(),
            bound: Mutex::new(HashMap::new()),
            stats: Arc::new(MediaStats::new(config.workers.max(1))),
            workers: config.workers.max(1),
        });
        let mut runtime = MediaRuntime {
            workers: Vec::new(),
            moved: Mutex::new(HashMap::new()),
            shared,
            threads: Vec::new(),
            recorder_thread: Some(recorder_thread),
        };
        let count = config.workers.max(1);
        let (senders, inboxes): (Vec<_>, Vec<_>) = (0..count).map(|_| mpsc::channel()).unzip();
        runtime.workers.clone_from(&senders);
        let leg_config = LegConfig {
            inactivity: config.inactivity,
            ..LegConfig::default()
        };
        for (index, inbox) in inboxes.into_iter().enumerate() {
            let table = LegTable::new(Arc::clone(&config.prompts), leg_config, config.seed);
            let shared = Arc::clone(&runtime.shared);
            let worker = Worker::new(index, table, shared, inbox, senders.clone());
            let thread = thread::Builder::new()
                .name(format!("media-worker-{index}"))
                .spawn(move || {
                    raise_priority();
                    worker.run()
                })?;
            runtime.threads.push(thread);
        }
        tracing::info!(workers = count, "media runtime started");
        Ok(runtime)
    }

    /// Hands a command to the worker owning the leg. Never blocks on media work.
    ///
    /// An `Open` is answered at once: its socket is bound here, on the caller's thread, so the
    /// engine learns whether the port is usable before it names the port in an SDP (`Opened`,
    /// `PortInUse` when another process holds it, `OpenFailed`). Other commands answer nothing.
    pub fn command(&self, command: MediaCommand) -> Option<MediaEvent> {
        match command {
            MediaCommand::Open(setup) => return Some(self.open(setup)),
            MediaCommand::OpenBrowser {
                setup,
                offer,
                advertised,
            } => return Some(self.open_browser(setup, &offer, advertised)),
            MediaCommand::DiscardRecording { name } => {
                self.send_recorder(RecorderJob::Discard { name });
            }
            MediaCommand::Bridge { a, b } => self.bridge(a, b),
            MediaCommand::Close { leg } => {
                let worker = lock(&self.moved).remove(&leg).unwrap_or(self.home(leg));
                self.send(worker, WorkerMsg::Command(command));
            }
            other => {
                let worker = command_leg(&other).map_or(0, |leg| self.route(leg));
                self.send(worker, WorkerMsg::Command(other));
            }
        }
        None
    }

    fn open(&self, setup: LegSetup) -> MediaEvent {
        let (leg, port) = (setup.leg, setup.local_port);
        match bind(self.shared.bind_ip, port) {
            Ok((socket, local)) => {
                self.shared.set_bound(leg, Some(local));
                self.send(self.route(leg), WorkerMsg::Open { setup, socket });
                MediaEvent::Opened { leg }
            }
            Err(e) if e.kind() == io::ErrorKind::AddrInUse => {
                // Not the io error's text: "Address already in use" in the log means a failed
                // start-up to whoever reads it, and this is routine.
                tracing::info!(leg = %leg, port, "RTP port held by another process");
                MediaEvent::PortInUse { leg }
            }
            Err(e) => {
                tracing::warn!(leg = %leg, port, error = %e, "RTP port could not be bound");
                MediaEvent::OpenFailed { leg }
            }
        }
    }

    /// Binds the browser leg's socket and answers the offer on this thread, like `open`: the
    /// engine gets the answer (or the reason there is none) at once and hands it to the page.
    fn open_browser(&self, mut setup: LegSetup, offer: &str, advertised: IpAddr) -> MediaEvent {
        let (leg, port) = (setup.leg, setup.local_port);
        let (socket, local) = match bind(self.shared.bind_ip, port) {
            Ok(bound) => bound,
            Err(e) if e.kind() == io::ErrorKind::AddrInUse => {
                tracing::info!(leg = %leg, port, "RTP port held by another process");
                return MediaEvent::PortInUse { leg };
            }
            Err(e) => {
                tracing::warn!(leg = %leg, port, error = %e, "RTP port could not be bound");
                return MediaEvent::OpenFailed { leg };
            }
        };
        let now = self.shared.origin.elapsed();
        let reachable = SocketAddr::new(advertised, local.port());
        match crate::media::webrtc::accept_offer(offer, local, reachable, self.shared.origin, now) {
            Ok(answered) => {
                // The leg talks to the transport, which alone talks to the browser.
                setup.codec = answered.codec;
                setup.payload_type = answered.payload_type;
                setup.telephone_event_pt = None;
                setup.remote = Some(crate::media::webrtc::BROWSER_PEER);
                self.shared.set_bound(leg, Some(local));
                let transport = Box::new(answered.transport);
                self.send(
                    self.route(leg),
                    WorkerMsg::OpenBrowser {
                        setup,
                        socket,
                        transport,
                    },
                );
                MediaEvent::BrowserAnswer {
                    leg,
                    answer: answered.answer,
                }
            }
            Err(error) => {
                tracing::info!(leg = %leg, %error, "browser offer not answered");
                MediaEvent::BrowserRefused {
                    leg,
                    reason: error.to_string(),
                }
            }
        }
    }

    /// Packet and jitter counters of every leg, refreshed by each worker once a second.
    pub fn stats(&self) -> Arc<MediaStats> {
        Arc::clone(&self.shared.stats)
    }

    /// The local RTP address of an open leg (useful when it was opened on port 0).
    pub fn local_addr(&self, leg: LegId) -> Option<SocketAddr> {
        lock(&self.shared.bound).get(&leg).copied()
    }

    /// Stops the workers (running recordings are finished and kept) and the recorder.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn bridge(&self, a: LegId, b: LegId) {
        let mut moved = lock(&self.moved);
        let route = |leg| moved.get(&leg).copied().unwrap_or(self.home(leg));
        let (home_a, home_b) = (route(a), route(b));
        if home_a == home_b {
            drop(moved);
            self.send(home_a, WorkerMsg::Command(MediaCommand::Bridge { a, b }));
            return;
        }
        moved.insert(b, home_a);
        // Sent while holding the lock, so no later command for `b` can overtake the move.
        self.send(home_a, WorkerMsg::Expect(b));
        let move_out = WorkerMsg::MoveOut {
            leg: b,
            to: home_a,
            bridge_with: a,
        };
        self.send(home_b, move_out);
    }

    fn home(&self, leg: LegId) -> usize {
        let count = self.workers.len().max(1) as u64;
        usize::try_from(leg.0 % count).unwrap_or(0)
    }

    fn route(&self, leg: LegId) -> usize {
        let moved = lock(&self.moved);
        moved.get(&leg).copied().unwrap_or(self.home(leg))
    }

    fn send(&self, worker: usize, msg: WorkerMsg) {
        let delivered = self
            .workers
            .get(worker)
            .is_some_and(|w| w.send(msg).is_ok());
        if !delivered {
            tracing::error!(worker, "media worker gone: command dropped");
        }
    }

    fn send_recorder(&self, job: RecorderJob) {
        if self.shared.recorder.send(job).is_err() {
            tracing::error!("media recorder gone: job dropped");
        }
    }

    fn stop(&mut self) {
        if self.recorder_thread.is_none() {
            return; // already stopped
        }
        for worker in &self.workers {
            let _ = worker.send(WorkerMsg::Shutdown);
        }
        for thread in self.threads.drain(..) {
            if thread.join().is_err() {
                tracing::error!("a media worker panicked");
            }
        }
        // Workers queued their last recordings before exiting; the recorder finishes them first.
        self.send_recorder(RecorderJob::Stop);
        if let Some(thread) = self.recorder_thread.take() {
            if thread.join().is_err() {
                tracing::error!("the media recorder panicked");
            }
        }
    }
}

impl Drop for MediaRuntime {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The leg a command is about (`None` for `DiscardRecording`; `a` for `Bridge`).
pub(crate) fn command_leg(command: &MediaCommand) -> Option<LegId> {
    use MediaCommand as C;
    match command {
        C::Open(setup) | C::Update(setup) | C::OpenBrowser { setup, .. } => Some(setup.leg),
        C::Play { leg, .. }
        | C::PlayRecording { leg, .. }
        | C::StopPlayback { leg }
        | C::SetIdle { leg, .. }
        | C::StartRecording { leg, .. }
        | C::StopRecording { leg, .. }
        | C::SendDtmf { leg, .. }
        | C::SetHeld { leg, .. }
        | C::Close { leg } => Some(*leg),
        C::Bridge { a, .. } => Some(*a),
        C::DiscardRecording { .. } => None,
    }
}

fn bind(ip: IpAddr, port: u16) -> io::Result<(std::net::UdpSocket, SocketAddr)> {
    let socket = std::net::UdpSocket::bind(SocketAddr::new(ip, port))?;
    socket.set_nonblocking(true)?;
    let local = socket.local_addr()?;
    Ok((socket, local))
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod browser_tests;
#[cfg(test)]
mod tests;

#[cfg(test)]
mod test_support;

/// Media workers pace packets every 20 ms: when the machine is busy, a worker waiting behind other
/// runnable threads sends late and the caller hears jitter. Real-time scheduling (SCHED_FIFO, a
/// low priority) lets the worker run as soon as its sleep ends; it needs CAP_SYS_NICE (or root),
/// and without it the worker simply keeps normal priority.
fn raise_priority() {
    let param = libc::sched_param { sched_priority: 10 };
    // SAFETY: sched_setscheduler on the calling thread (pid 0) with a valid, initialised param.
    let result = unsafe { libc::sched_setscheduler(0, libc::SCHED_FIFO, &param) };
    if result != 0 {
        tracing::info!(
            "media worker keeps normal priority (no permission for real-time scheduling)"
        );
    }
}
