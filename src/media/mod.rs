//! The media stack: G.711, RFC 4733 DTMF, in-band detection, the jitter buffer and the 20 ms clock
//! (the DSP pieces), and on top of them the per-leg RTP state machine (`leg`), the table that ticks
//! and bridges a worker's legs (`leg::table`), the shared prompt cache (`prompts`) and the recording
//! file layout (`wav`). All of it is sans-IO: the driver (`drivers::media`) owns sockets, files,
//! threads and the clock.

pub mod api;
pub mod dtmf;
pub mod g711;
pub mod goertzel;
pub mod jitter;
pub mod leg;
pub mod pacer;
pub mod prompts;
pub mod wav;
pub mod webrtc;
