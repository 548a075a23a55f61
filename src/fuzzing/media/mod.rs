//! Targets for the media code: RTP into a leg, RFC 4733 telephone events, WAV input.

pub mod dtmf;
pub mod rtp;
pub mod wav;
