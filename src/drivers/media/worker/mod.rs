//! One media worker thread: a share of the legs, their sockets and files, and a 20 ms loop.
//!
//! Why it is shaped so:
//! - No task and no timer per call: the thread sleeps until the
//!   next absolute 20 ms deadline of its `Pacer`, then for every leg drains the non-blocking
//!   socket with `recv_from` until `WouldBlock`, runs one tick of the whole `LegTable`, and sends
//!   each leg's one packet. About one system call per packet each way.
//! - Commands arrive on a channel and are applied at the next tick, in order (no wake-up per
//!   command).
//! - Bridged legs must share a worker (the table swaps their frames within a tick). The runtime
//!   sends `Expect` to the destination and `MoveOut` to the source; the destination holds back
//!   commands for a leg in transit until its `Adopt` arrives, so ordering is never lost.

use std::collections::HashMap;
use std::io;
use std::net::UdpSocket;
use std::sync::mpsc::{Receiver, Sender, TryRecvError};
use std::sync::Arc;
use std::time::Duration;

use crate::media::api::{LegId, LegSetup, MediaCommand};
use crate::media::leg::table::{Applied, Entry, LegTable};
use crate::media::leg::Leg;
use crate::media::pacer::{Pacer, FRAME};
use crate::media::webrtc::BrowserTransport;

use super::stats::MediaTotals;
use super::Shared;
use leg_io::{dispatch_events, LegIo};

mod leg_io;

/// Most datagrams read from one socket per tick (a flood on one leg must not starve the others).
const MAX_READS_PER_TICK: usize = 32;
/// Largest datagram read; anything longer is truncated by the kernel and fails to parse.
const RECV_BUFFER: usize = 2048;
/// Frames between publications of the worker's counters (1 s).
const STATS_EVERY_FRAMES: u64 = 50;
/// A wake-up later than this after its deadline is counted as late.
const LATE_WAKEUP: Duration = Duration::from_millis(1);

pub enum WorkerMsg {
    Command(MediaCommand),
    /// A new leg, its socket already bound (by `MediaRuntime::command`).
    Open {
        setup: LegSetup,
        socket: UdpSocket,
    },
    /// A new browser leg: its socket bound and the browser's offer answered.
    OpenBrowser {
        setup: LegSetup,
        socket: UdpSocket,
        transport: Box<BrowserTransport>,
    },
    /// A leg is on its way here: hold its commands until it arrives.
    Expect(LegId),
    /// Send this leg to worker `to`, to be bridged there with `bridge_with`.
    MoveOut {
        leg: LegId,
        to: usize,
        bridge_with: LegId,
    },
    Adopt {
        leg: LegId,
        entry: Option<Box<Entry<LegIo>>>,
        bridge_with: LegId,
    },
    Shutdown,
}

pub struct Worker {
    index: usize,
    pub(super) table: LegTable<LegIo>,
    pub(super) shared: Arc<Shared>,
    inbox: Receiver<WorkerMsg>,
    peers: Vec<Sender<WorkerMsg>>,
    pacer: Pacer,
    in_transit: HashMap<LegId, Vec<WorkerMsg>>,
    buffer: Vec<u8>,
    /// Counters of the legs this worker closed.
    closed: MediaTotals,
    frames_since_stats: u64,
}

impl Worker {
    pub fn new(
        index: usize,
        table: LegTable<LegIo>,
        shared: Arc<Shared>,
        inbox: Receiver<WorkerMsg>,
        peers: Vec<Sender<WorkerMsg>>,
    ) -> Self {
        // Workers tick at evenly spread phases of the 20 ms frame: their send bursts then never
        // compete with each other for the cores, and the rest of the machine always has a core.
        let phase = FRAME.as_nanos() as u64 * index as u64 / shared.workers.max(1) as u64;
        let start = shared.origin.elapsed() + Duration::from_nanos(phase);
        Worker {
            index,
            table,
            shared,
            inbox,
            peers,
            pacer: Pacer::new(start),
            in_transit: HashMap::new(),
            buffer: vec![0; RECV_BUFFER],
            closed: MediaTotals::default(),
            frames_since_stats: 0,
        }
    }

    pub(super) fn now(&self) -> Duration {
        self.shared.origin.elapsed()
    }

    /// Sleeps to the next 20 ms deadline, then applies every queued command and runs the tick.
    /// Commands are picked up at the tick rather than waking the thread for each one: a sender
    /// then never pays for a futex wake-up (that cost dominated at thousands of calls a second),
    /// and a command waits at most one frame.
    pub fn run(mut self) {
        loop {
            let deadline = self.pacer.next_deadline();
            self.wait_until(deadline);
            let now = self.now();
            self.count_wakeup(now.saturating_sub(deadline));
            let skipped_before = self.pacer.skipped();
            let due = self.pacer.frames_due(now);
            if self.pacer.skipped() > skipped_before {
                // Rare and worth knowing: audio was dropped because this thread did not run.
                tracing::warn!(
                    worker = self.index,
                    late_ms = now.saturating_sub(deadline).as_millis() as u64,
                    skipped = self.pacer.skipped() - skipped_before,
                    "media worker stalled: frames skipped"
                );
            }
            for frame in 0..due {
                // Packets built on the previous tick go out first, before any work whose length
                // varies with traffic: each leg's send time then depends only on the wake-up and
                // its steady place in the loop, so the 20 ms spacing holds (one frame of delay).
                self.send_prepared();
                if frame == 0 {
                    if !self.apply_queued_commands() {
                        self.close_all();
                        return;
                    }
                    self.receive_all(now);
                }
                self.frame(now);
            }
            self.frames_since_stats += u64::from(due);
            if self.frames_since_stats >= STATS_EVERY_FRAMES {
                self.frames_since_stats = 0;
                self.publish_stats();
            }
        }
    }

    fn wait_until(&self, deadline: Duration) {
        let now = self.now();
        if now < deadline {
            std::thread::sleep(deadline - now);
        }
    }

    fn count_wakeup(&mut self, lateness: Duration) {
        self.closed.wakeups += 1;
        if lateness > LATE_WAKEUP {
            self.closed.late_wakeups += 1;
        }
    }

    /// Closed legs plus the open ones, into this worker's slot of the shared counters.
    fn publish_stats(&self) {
        let mut totals = self.closed;
        for entry in self.table.iter() {
            totals.add_leg(&entry.leg);
        }
        totals.pacer_skipped = self.pacer.skipped();
        self.shared.stats.publish(self.index, totals);
    }

    /// Applies every command waiting in the inbox; false when the runtime is shutting down.
    fn apply_queued_commands(&mut self) -> bool {
        loop {
            match self.inbox.try_recv() {
                Ok(msg) => {
                    if !self.handle(msg) {
                        return false;
                    }
                }
                Err(TryRecvError::Empty) => return true,
                Err(TryRecvError::Disconnected) => return false,
            }
        }
    }

    /// Drains every leg's socket into its leg (a browser leg's through its transport).
    fn receive_all(&mut self, now: Duration) {
        let buffer = &mut self.buffer;
        for entry in self.table.iter_mut() {
            for _ in 0..MAX_READS_PER_TICK {
                match entry.io.socket.recv_from(buffer) {
                    Ok((n, from)) if entry.io.is_browser() => {
                        entry
                            .io
                            .browser_received(&mut entry.leg, &buffer[..n], from, now)
                    }
                    Ok((n, from)) => entry.leg.on_packet(&buffer[..n], from, now),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        tracing::debug!(leg = %entry.leg.id(), error = %e, "rtp receive error");
                        break;
                    }
                }
            }
        }
    }

    /// One 20 ms frame: feed played recordings, tick, then per leg send, record, open the file
    /// its playback reached, and report.
    /// Sends every leg's packet built by the last tick.
    fn send_prepared(&mut self) {
        let now = self.now();
        for entry in self.table.iter_mut() {
            if entry.io.is_browser() {
                entry.io.browser_send(&mut entry.leg, now);
            } else {
                send_packet(&mut entry.leg, &entry.io.socket);
            }
        }
    }

    fn frame(&mut self, now: Duration) {
        for entry in self.table.iter_mut() {
            entry.io.feed_playback(&mut entry.leg);
            if entry.io.is_browser() {
                entry.io.browser_tick(&mut entry.leg, now, &self.shared);
            }
        }
        self.table.tick(now);
        for entry in self.table.iter_mut() {
            entry
                .io
                .write_recorded(&mut entry.leg, &self.shared.recorder);
            entry
                .io
                .open_requested(&mut entry.leg, &self.shared.recordings_dir);
            dispatch_events(&mut entry.leg, &mut entry.io, &self.shared);
        }
    }

    /// Handles one message; false to stop the thread.
    fn handle(&mut self, msg: WorkerMsg) -> bool {
        match msg {
            WorkerMsg::Shutdown => return false,
            WorkerMsg::Expect(leg) => {
                self.in_transit.entry(leg).or_default();
            }
            WorkerMsg::Open { setup, socket } => self.open(setup, LegIo::new(socket)),
            WorkerMsg::OpenBrowser {
                setup,
                socket,
                transport,
            } => self.open(setup, LegIo::browser(socket, transport)),
            WorkerMsg::Command(command) => match self.waiting_leg(&command) {
                Some(leg) => self.hold(leg, WorkerMsg::Command(command)),
                None => self.command(command),
            },
            WorkerMsg::MoveOut {
                leg,
                to,
                bridge_with,
            } => {
                if self.in_transit.contains_key(&leg) {
                    self.hold(
                        leg,
                        WorkerMsg::MoveOut {
                            leg,
                            to,
                            bridge_with,
                        },
                    );
                } else {
                    self.move_out(leg, to, bridge_with);
                }
            }
            WorkerMsg::Adopt {
                leg,
                entry,
                bridge_with,
            } => self.adopt(leg, entry, bridge_with),
        }
        true
    }

    fn hold(&mut self, leg: LegId, msg: WorkerMsg) {
        self.in_transit.entry(leg).or_default().push(msg);
    }

    /// The first leg named by `command` that is still on its way here.
    fn waiting_leg(&self, command: &MediaCommand) -> Option<LegId> {
        let legs = match command {
            MediaCommand::Bridge { a, b } => [Some(*a), Some(*b)],
            other => [super::command_leg(other), None],
        };
        legs.into_iter()
            .flatten()
            .find(|leg| self.in_transit.contains_key(leg))
    }

    fn move_out(&mut self, leg: LegId, to: usize, bridge_with: LegId) {
        let entry = self.table.remove(leg).map(Box::new);
        let Some(peer) = self.peers.get(to) else {
            tracing::error!(leg = %leg, to, "no such media worker");
            return;
        };
        let msg = WorkerMsg::Adopt {
            leg,
            entry,
            bridge_with,
        };
        if peer.send(msg).is_err() {
            tracing::error!(leg = %leg, to, "media worker gone: leg dropped");
        }
    }

    fn adopt(&mut self, leg: LegId, entry: Option<Box<Entry<LegIo>>>, bridge_with: LegId) {
        let held = self.in_transit.remove(&leg).unwrap_or_default();
        match entry {
            Some(entry) => {
                if let Some(mut old) = self.table.insert(*entry) {
                    self.closed.add_leg(&old.leg);
                    old.leg.stop_recording(true);
                    dispatch_events(&mut old.leg, &mut old.io, &self.shared);
                }
                let bridge = MediaCommand::Bridge {
                    a: bridge_with,
                    b: leg,
                };
                self.handle(WorkerMsg::Command(bridge));
            }
            None => tracing::warn!(leg = %leg, "bridge: the leg to move was not open"),
        }
        for msg in held {
            self.handle(msg);
        }
    }

    fn command(&mut self, command: MediaCommand) {
        let now = self.now();
        match command {
            MediaCommand::Open(setup) | MediaCommand::OpenBrowser { setup, .. } => {
                // The runtime binds and sends `WorkerMsg::Open`; a bare `Open` has no socket.
                tracing::warn!(leg = %setup.leg, "open without a socket: ignored");
            }
            MediaCommand::Close { leg } => self.close(leg),
            MediaCommand::StartRecording { leg, spec } => self.start_recording(leg, spec),
            other => {
                let leg = super::command_leg(&other);
                match self.table.apply(other, now) {
                    Applied::Done => {}
                    Applied::UnknownLeg => tracing::debug!(?leg, "command for an unknown leg"),
                    Applied::NeedsDriver => {}
                }
                if let Some(entry) = leg.and_then(|leg| self.table.get_mut(leg)) {
                    dispatch_events(&mut entry.leg, &mut entry.io, &self.shared);
                }
            }
        }
    }

    fn open(&mut self, setup: LegSetup, io: LegIo) {
        let now = self.now();
        let leg = setup.leg;
        if self.table.contains(leg) {
            tracing::warn!(leg = %leg, "open of an open leg: treated as an update");
            self.table.apply(MediaCommand::Update(setup), now);
            return;
        }
        if self.table.open(setup, io, now).is_err() {
            self.shared.set_bound(leg, None);
        }
    }

    fn close(&mut self, leg: LegId) {
        if let Some(mut entry) = self.table.remove(leg) {
            entry.io.browser_close();
            self.closed.add_leg(&entry.leg);
            entry.leg.stop_recording(true);
            dispatch_events(&mut entry.leg, &mut entry.io, &self.shared);
        }
        self.shared.set_bound(leg, None);
    }

    /// Shutdown: every recording still running is finished and kept.
    fn close_all(&mut self) {
        let legs: Vec<LegId> = self.table.ids().collect();
        for leg in legs {
            self.close(leg);
        }
    }
}

fn send_packet(leg: &mut Leg, socket: &UdpSocket) {
    if let (Some(packet), Some(to)) = (leg.outgoing(), leg.destination()) {
        if let Err(e) = socket.send_to(packet, to) {
            // A full socket buffer or an unreachable peer loses one frame; never fatal.
            tracing::trace!(leg = %leg.id(), error = %e, "rtp send failed");
        }
    }
    leg.clear_outgoing();
}
