//! One RTP endpoint of a call (caller or agent) as a pure state machine: packets and ticks in,
//! one packet per tick and events out. No socket, no clock: `now` is a `Duration` since an origin
//! the driver chooses (its start), and the driver does all I/O.
//!
//! Why it is shaped so:
//! - One 20 ms tick does everything for a leg: pop one frame from the jitter buffer, feed the
//!   detectors and the recorder, choose what to send, build one packet. A thousand legs are then a
//!   loop over a table, with no task and no timer per call.
//! - A tick has two halves (`receive_tick`, `send_tick`) so that bridged legs can swap the frames
//!   they just heard before either builds its packet; `tick` does both for a leg on its own.
//! - What is sent, by priority: a playing prompt queue or recording, else the bridged peer's audio,
//!   else the idle source (silence, echo of the caller, looped hold music).
//! - Events (digits, playback finished, recording ended, inactivity) queue up inside the leg and
//!   are drained by the caller with `poll_event`, the same way every core module reports.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use super::api::{Idle, LegId, LegSetup, MediaEvent, RecordSpec, RecordingEnd};
use super::jitter::JitterStats;
use super::prompts::{PromptSet, MUSIC, RECORDING_PREFIX};
use play::{Cursor, Queue};
use record::RecordLimits;
use rx::Receiver;
use tx::{SendParams, Transmitter};

pub use types::{Frame, LegConfig, LegCounters, LegEvent, FRAME_SAMPLES};
use types::{SplitMix64, EVENTS_LIMIT, RELAY_DIGITS};

pub struct Leg {
    id: LegId,
    setup: LegSetup,
    config: LegConfig,
    prompts: Arc<PromptSet>,
    rx: Receiver,
    tx: Transmitter,
    playback: Option<Queue>,
    idle: Idle,
    music: Option<Cursor>,
    recording: Option<RecordLimits>,
    peer: Option<LegId>,
    /// On hold: bridged, but hearing the idle audio instead of the partner.
    held: bool,
    bridge_in: Option<Frame>,
    external: Frame,
    external_len: Option<usize>,
    out: Frame,
    recorded: Frame,
    recorded_now: bool,
    relay: VecDeque<char>,
    events: VecDeque<LegEvent>,
    counters: LegCounters,
}

impl Leg {
    /// `seed` chooses the SSRC and the initial sequence number and timestamp (RFC 3550 wants them
    /// random; seeded, a test replays bit for bit).
    pub fn new(
        setup: LegSetup,
        prompts: Arc<PromptSet>,
        config: LegConfig,
        seed: u64,
        now: Duration,
    ) -> Self {
        let mut rng = SplitMix64(seed ^ setup.leg.0.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let (ssrc, seq, ts) = (rng.next() as u32, rng.next() as u16, rng.next() as u32);
        Leg {
            id: setup.leg,
            rx: Receiver::new(&setup, config.jitter_depth, config.sdp_grace, now),
            tx: Transmitter::new(ssrc, seq, ts),
            setup,
            config,
            prompts,
            playback: None,
            idle: Idle::Silence,
            music: None,
            recording: None,
            peer: None,
            held: false,
            bridge_in: None,
            external: [0; FRAME_SAMPLES],
            external_len: None,
            out: [0; FRAME_SAMPLES],
            recorded: [0; FRAME_SAMPLES],
            recorded_now: false,
            relay: VecDeque::new(),
            events: VecDeque::with_capacity(4),
            counters: LegCounters::default(),
        }
    }

    pub fn id(&self) -> LegId {
        self.id
    }

    pub fn setup(&self) -> &LegSetup {
        &self.setup
    }

    pub fn ssrc(&self) -> u32 {
        self.tx.ssrc()
    }

    /// Where packets go: the source accepted as the peer's, else the address from its SDP.
    pub fn destination(&self) -> Option<SocketAddr> {
        self.rx.source.destination()
    }

    pub fn counters(&self) -> LegCounters {
        self.counters
    }

    pub fn jitter_stats(&self) -> JitterStats {
        self.rx.jitter().stats()
    }

    /// The bridged peer, if any.
    pub fn peer(&self) -> Option<LegId> {
        self.peer
    }

    /// A re-INVITE changed the address, codec or direction. The local port is the driver's.
    pub fn update(&mut self, setup: LegSetup, now: Duration) {
        self.rx.update(&self.setup, &setup, now);
        self.setup = setup;
    }

    /// Plays prompt ids back to back (`recording:<name>` entries are recording files), replacing
    /// whatever was playing (which then ends silently: `PlaybackFinished` belongs to the newest
    /// request only).
    pub fn play(&mut self, prompts: Vec<String>, barge_in: bool) {
        self.playback = Some(Queue::new(prompts, barge_in));
    }

    /// Plays one recording of the recordings folder (a queue of one `recording:<name>` entry).
    pub fn play_recording(&mut self, name: &str) {
        self.play(vec![format!("{RECORDING_PREFIX}{name}")], false);
    }

    /// Stops the playback without `PlaybackFinished`.
    pub fn stop_playback(&mut self) {
        self.playback = None;
    }

    pub fn is_playing(&self) -> bool {
        self.playback.is_some()
    }

    /// A held leg stays bridged but hears its idle audio, not its partner (`compose`).
    pub fn set_held(&mut self, held: bool) {
        self.held = held;
    }

    pub fn set_idle(&mut self, idle: Idle) {
        self.idle = idle;
        self.music = None;
        if idle == Idle::Music {
            match self.prompts.get(MUSIC) {
                Some(pcm) => self.music = Some(Cursor::new(Arc::clone(pcm))),
                None => {
                    self.counters.missing_prompts += 1;
                    tracing::warn!(leg = %self.id, prompt = MUSIC, "hold music missing: silence");
                }
            }
        }
    }

    /// Starts recording what the caller says (both directions when bridged). A recording already
    /// running ends first (`Stopped`, kept).
    pub fn start_recording(&mut self, spec: &RecordSpec) {
        self.stop_recording(true);
        self.recording = Some(RecordLimits::new(spec));
    }

    /// Ends the recording (`Stopped`); false if none was running.
    pub fn stop_recording(&mut self, keep: bool) -> bool {
        self.end_recording(RecordingEnd::Stopped, keep)
    }

    pub fn is_recording(&self) -> bool {
        self.recording.is_some()
    }

    /// Queues a digit to send; false if it is not a DTMF key or too many are queued.
    pub fn send_dtmf(&mut self, digit: char) -> bool {
        self.tx.queue_digit(digit)
    }

    /// The recording file the playback just reached: the driver opens it and answers with
    /// `file_opened` before the next tick.
    pub fn take_file_request(&mut self) -> Option<String> {
        self.playback.as_mut().and_then(Queue::take_file_request)
    }

    /// Whether the requested file could be opened (if not, it is skipped).
    pub fn file_opened(&mut self, ok: bool) {
        if let Some(queue) = &mut self.playback {
            queue.file_opened(ok);
        }
    }

    /// Whether the driver should `feed_external` this tick's samples of an open recording.
    pub fn wants_external(&self) -> bool {
        self.playback.as_ref().is_some_and(Queue::wants_file)
    }

    /// This tick's samples of the recording; fewer than 160 (or none fed) ends the file.
    pub fn feed_external(&mut self, samples: &[i16]) {
        let n = samples.len().min(FRAME_SAMPLES);
        self.external[..n].copy_from_slice(&samples[..n]);
        self.external_len = Some(n);
    }

    pub(super) fn set_peer(&mut self, peer: Option<LegId>) {
        self.peer = peer;
        self.held = false;
        self.bridge_in = None;
        self.relay.clear();
    }

    pub(super) fn feed_bridge(&mut self, frame: Option<&Frame>) {
        self.bridge_in = frame.copied();
    }

    pub(super) fn take_relay_digit(&mut self) -> Option<char> {
        self.relay.pop_front()
    }

    /// One datagram from the leg's socket.
    pub fn on_packet(&mut self, bytes: &[u8], from: SocketAddr, now: Duration) {
        self.rx
            .on_packet(&self.setup, bytes, from, now, &mut self.counters);
        self.handle_digits();
    }

    /// First half of a tick: this tick's heard frame, digits and inactivity.
    pub fn receive_tick(&mut self, now: Duration) {
        self.rx.tick(self.setup.codec, now, &mut self.counters);
        self.handle_digits();
        if self
            .rx
            .check_inactive(now, self.config.inactivity, self.setup.expects_rtp())
        {
            self.emit(MediaEvent::Inactive { leg: self.id });
        }
    }

    /// What the peer sent for this tick (after `receive_tick`); `None` while it sends nothing.
    pub fn heard(&self) -> Option<&Frame> {
        self.rx.heard()
    }

    /// Second half of a tick: composes, records and packetises this tick's frame.
    pub fn send_tick(&mut self, _now: Duration) -> Option<&[u8]> {
        self.recorded_now = false;
        self.compose();
        if self.setup.telephone_event_pt.is_none() {
            self.tx.overlay_tone(&mut self.out);
        }
        self.record();
        self.bridge_in = None;
        self.external_len = None;
        let params = SendParams {
            codec: self.setup.codec,
            payload_type: self.setup.payload_type,
            telephone_event_pt: self.setup.telephone_event_pt,
            may_send: self.setup.sending && self.destination().is_some(),
        };
        let sent = self.tx.packetize(params, &self.out).is_some();
        if sent {
            self.counters.sent += 1;
        }
        self.tx.packet()
    }

    /// Both halves, for a leg that is not bridged.
    pub fn tick(&mut self, now: Duration) -> Option<&[u8]> {
        self.receive_tick(now);
        self.send_tick(now)
    }

    /// The packet built by the last tick (to send to `destination()`).
    pub fn outgoing(&self) -> Option<&[u8]> {
        self.tx.packet()
    }

    /// Marks the last packet as sent, so a second look finds nothing.
    pub fn clear_outgoing(&mut self) {
        self.tx.clear_packet();
    }

    /// The frame the recorder took on the last tick (to append to the file).
    pub fn recorded_frame(&self) -> Option<&[i16]> {
        self.recorded_now.then_some(&self.recorded[..])
    }

    pub fn poll_event(&mut self) -> Option<LegEvent> {
        self.events.pop_front()
    }
}

mod compose;
mod play;
mod record;
mod rx;
mod source;
pub mod table;
#[cfg(test)]
pub(crate) mod test_support;
mod tx;
mod types;

#[cfg(test)]
mod tests;
