//! The file side of a worker's legs: the recording being written, the recording being played,
//! and turning leg events into engine events (after the recorder thread made a take durable).
//!
//! A browser leg's WebRTC transport lives here too: it stands between the socket and the leg.
//!
//! Why it is shaped so: a leg's socket and files travel with it (`LegIo` is the `Io` of its table
//! entry), so moving a leg to another worker for a bridge moves everything at once. A take's
//! samples are collected here and handed to the recorder thread every half second: no file is
//! opened or written on the worker (recorder/mod.rs). A take the recorder could not create or
//! write (disk full) raises its flag, the worker ends it at the next tick, and the recorder
//! reports `saved: false`.

use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::time::Duration;

use crate::media::api::{LegId, MediaEvent, RecordSpec, RecordingEnd};
use crate::media::leg::{Leg, LegEvent, FRAME_SAMPLES};
use crate::media::webrtc::{BrowserTransport, Connection, Outputs, BROWSER_PEER};

use super::Worker;
use crate::drivers::media::playback_file::RecordingReader;
use crate::drivers::media::recorder::{next_take, recording_path, RecorderJob};
use crate::drivers::media::Shared;

pub struct LegIo {
    pub socket: UdpSocket,
    recording: Option<ActiveRecording>,
    reader: Option<RecordingReader>,
    /// A browser leg's ICE/DTLS/SRTP session; `None` for a SIP phone's plain RTP.
    browser: Option<Box<BrowserTransport>>,
    /// What the transport last handed back (kept to reuse its buffers).
    browser_out: Outputs,
}

/// Samples handed to the recorder thread at a time: half a second, 8 KB.
const BATCH_SAMPLES: usize = 4_000;

struct ActiveRecording {
    take: u64,
    name: String,
    /// Raised by the recorder thread when the take could not be created or written.
    failed: Arc<AtomicBool>,
    /// The worker has ended the take for that.
    stopped: bool,
    /// Samples not yet handed to the recorder thread.
    batch: Vec<i16>,
}

impl ActiveRecording {
    /// Hands the collected samples to the recorder thread. If it is gone, the take's `Finish`
    /// cannot be sent either, and the take is reported not saved there.
    fn flush(&mut self, recorder: &Sender<RecorderJob>) {
        if self.batch.is_empty() {
            return;
        }
        let samples = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH_SAMPLES));
        let _ = recorder.send(RecorderJob::Append {
            take: self.take,
            samples,
        });
    }
}

impl LegIo {
    pub fn new(socket: UdpSocket) -> Self {
        LegIo {
            socket,
            recording: None,
            reader: None,
            browser: None,
            browser_out: Outputs::default(),
        }
    }

    /// A browser's leg: its datagrams go through `transport`.
    pub fn browser(socket: UdpSocket, transport: Box<BrowserTransport>) -> Self {
        LegIo {
            browser: Some(transport),
            ..LegIo::new(socket)
        }
    }

    pub fn is_browser(&self) -> bool {
        self.browser.is_some()
    }

    /// A datagram for a browser leg: STUN and DTLS are answered, SRTP becomes the leg's RTP.
    pub fn browser_received(
        &mut self,
        leg: &mut Leg,
        datagram: &[u8],
        from: SocketAddr,
        now: Duration,
    ) {
        if let Some(transport) = &mut self.browser {
            transport.receive(datagram, from, now, &mut self.browser_out);
        }
        self.flush_browser(leg, now);
    }

    /// The leg's packet of this tick, encrypted and sent to the browser.
    pub fn browser_send(&mut self, leg: &mut Leg, now: Duration) {
        if let (Some(transport), Some(packet)) = (&mut self.browser, leg.outgoing()) {
            transport.send_rtp(packet, now, &mut self.browser_out);
        }
        leg.clear_outgoing();
        self.flush_browser(leg, now);
    }

    /// Runs the transport's timers and reports a change of its connection to the engine.
    pub fn browser_tick(&mut self, leg: &mut Leg, now: Duration, shared: &Shared) {
        let Some(transport) = &mut self.browser else {
            return;
        };
        transport.tick(now, &mut self.browser_out);
        let change = transport.take_change();
        self.flush_browser(leg, now);
        let id = leg.id();
        match change {
            Some(Connection::Connected) => {
                tracing::info!(leg = %id, "browser leg connected");
                (shared.events)(MediaEvent::BrowserConnected { leg: id });
            }
            Some(Connection::Failed(why)) => {
                tracing::info!(leg = %id, reason = %why, "browser leg failed");
                (shared.events)(MediaEvent::BrowserFailed {
                    leg: id,
                    reason: why.to_string(),
                });
            }
            Some(Connection::Connecting) | None => {}
        }
    }

    /// The leg is closing: the browser is told (DTLS close) rather than left to time out.
    pub fn browser_close(&mut self) {
        if let Some(transport) = &mut self.browser {
            transport.close(&mut self.browser_out);
            self.send_to_browser();
        }
        self.browser_out.clear();
    }

    /// Sends the datagrams the transport produced, from the leg's own socket. A full socket
    /// buffer or an unreachable browser loses that datagram; never fatal.
    fn send_to_browser(&mut self) {
        for (to, datagram) in self.browser_out.transmit.drain(..) {
            if let Err(e) = self.socket.send_to(&datagram, to) {
                tracing::trace!(%to, error = %e, "browser send failed");
            }
        }
    }

    /// Sends what the transport wants sent and gives the leg the RTP it decrypted.
    fn flush_browser(&mut self, leg: &mut Leg, now: Duration) {
        self.send_to_browser();
        for packet in self.browser_out.rtp.drain(..) {
            leg.on_packet(&packet, BROWSER_PEER, now);
        }
    }

    /// Gives the leg this tick's samples of the recording it plays.
    pub fn feed_playback(&mut self, leg: &mut Leg) {
        if !leg.wants_external() {
            self.reader = None;
            return;
        }
        let mut frame = [0i16; FRAME_SAMPLES];
        let n = self.reader.as_mut().map_or(0, |r| r.read_frame(&mut frame));
        leg.feed_external(&frame[..n]);
        if n < FRAME_SAMPLES {
            self.reader = None;
        }
    }

    /// Opens the recording the leg's playback just reached (a `recording:<name>` entry or a
    /// `PlayRecording`). One that cannot be opened is logged and skipped, like a missing prompt.
    pub fn open_requested(&mut self, leg: &mut Leg, recordings_dir: &Path) {
        let Some(name) = leg.take_file_request() else {
            return;
        };
        let opened = recording_path(recordings_dir, &name)
            .ok_or_else(|| "not a plain relative name".to_string())
            .and_then(|path| RecordingReader::open(&path).map_err(|e| e.to_string()));
        match opened {
            Ok(reader) => {
                self.reader = Some(reader);
                leg.file_opened(true);
            }
            Err(e) => {
                tracing::warn!(leg = %leg.id(), name, error = %e, "recording to play could not be opened");
                leg.file_opened(false);
            }
        }
    }

    /// Collects the frame the leg recorded this tick, handing a full batch to the recorder; a
    /// take the recorder failed is ended here.
    pub fn write_recorded(&mut self, leg: &mut Leg, recorder: &Sender<RecorderJob>) {
        let Some(active) = &mut self.recording else {
            return;
        };
        if active.failed.load(Ordering::Relaxed) {
            if !active.stopped {
                active.stopped = true;
                tracing::error!(leg = %leg.id(), name = active.name,
                    "recording could not be written (disk full?): ending the take");
                leg.stop_recording(true);
            }
            return;
        }
        let Some(frame) = leg.recorded_frame() else {
            return;
        };
        active.batch.extend_from_slice(frame);
        if active.batch.len() >= BATCH_SAMPLES {
            active.flush(recorder);
        }
    }
}

/// Forwards a leg's events: media events straight to the engine, recording ends to the recorder
/// thread (which reports `RecordingFinished` once the file is durable or has failed).
pub fn dispatch_events(leg: &mut Leg, io: &mut LegIo, shared: &Shared) {
    while let Some(event) = leg.poll_event() {
        match event {
            LegEvent::Media(event) => (shared.events)(event),
            LegEvent::RecordingEnded {
                end,
                duration_ms,
                keep,
            } => finish_recording(leg.id(), io, shared, end, duration_ms, keep),
        }
    }
}

fn finish_recording(
    leg: LegId,
    io: &mut LegIo,
    shared: &Shared,
    end: RecordingEnd,
    duration_ms: u64,
    keep: bool,
) {
    let Some(mut active) = io.recording.take() else {
        tracing::warn!(leg = %leg, "a recording ended that had no file");
        return;
    };
    active.flush(&shared.recorder);
    let job = RecorderJob::Finish {
        take: active.take,
        leg,
        name: active.name.clone(),
        duration_ms,
        end,
        keep: keep && !active.failed.load(Ordering::Relaxed),
    };
    if shared.recorder.send(job).is_err() {
        tracing::error!(
            leg = %leg,
            name = active.name,
            "recorder thread gone: recording NOT saved"
        );
        (shared.events)(not_saved(leg, active.name, end));
    }
}

fn not_saved(leg: LegId, name: String, end: RecordingEnd) -> MediaEvent {
    MediaEvent::RecordingFinished {
        leg,
        name,
        duration_ms: 0,
        end,
        saved: false,
    }
}

impl Worker {
    pub(super) fn start_recording(&mut self, leg: LegId, spec: RecordSpec) {
        let shared = std::sync::Arc::clone(&self.shared);
        let Some(entry) = self.table.get_mut(leg) else {
            tracing::warn!(leg = %leg, name = spec.name, "recording on an unknown leg");
            (shared.events)(not_saved(leg, spec.name, RecordingEnd::Stopped));
            return;
        };
        // A take already running is finished first (kept).
        entry.leg.stop_recording(true);
        dispatch_events(&mut entry.leg, &mut entry.io, &shared);
        // The file is created on the recorder thread, never here (see the module's note).
        let take = next_take();
        let failed = Arc::new(AtomicBool::new(false));
        let open = RecorderJob::Open {
            take,
            name: spec.name.clone(),
            failed: Arc::clone(&failed),
        };
        if shared.recorder.send(open).is_err() {
            tracing::error!(leg = %leg, name = spec.name, "recorder thread gone: recording not started");
            (shared.events)(not_saved(leg, spec.name, RecordingEnd::Stopped));
            return;
        }
        entry.io.recording = Some(ActiveRecording {
            take,
            name: spec.name.clone(),
            failed,
            stopped: false,
            batch: Vec::with_capacity(BATCH_SAMPLES),
        });
        entry.leg.start_recording(&spec);
    }
}
