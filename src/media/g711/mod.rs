//! G.711 µ-law (PCMU, payload type 0) and A-law (PCMA, payload type 8) companding.
//!
//! Why it is shaped so:
//! - Decoding is a single indexed load from a 256-entry table per law. The tables are built at compile
//!   time by `const fn` from the segment formula, so there is no start-up step, no lazy global and no
//!   branch per sample: with 1,000+ calls every cycle per sample counts.
//! - Encoding is computed (a `leading_zeros` finds the segment) rather than looked up: a full 64 Ki-entry
//!   encode table would cost 64 KiB per law and evict far more useful cache lines than it saves.
//! - Negative inputs use the one's-complement magnitude (`!x`), as the ITU-T G.191 reference code does, so
//!   the decision thresholds are symmetric around -0.5 and `i16::MIN` needs no special case.
//! - Slice helpers append to a caller-owned `Vec`, so a call that reuses its buffers never allocates.
//!
//! Scale: linear samples are 16-bit. µ-law values are the G.711 14-bit values times 4 (peak ±32124),
//! A-law values are the 13-bit values times 8 (peak ±32256).

/// µ-law bias added before segment search (33 in 14-bit units, here on the 16-bit scale).
const ULAW_BIAS: i32 = 0x84;
/// Largest 16-bit magnitude µ-law can represent before the bias would overflow segment 7.
const ULAW_CLIP: i32 = 32635;

const fn ulaw_decode_formula(code: u8) -> i16 {
    let inverted = !code;
    let segment = ((inverted >> 4) & 0x07) as i32;
    let mantissa = (inverted & 0x0F) as i32;
    let magnitude = (((mantissa << 3) + ULAW_BIAS) << segment) - ULAW_BIAS;
    if inverted & 0x80 != 0 {
        -magnitude as i16
    } else {
        magnitude as i16
    }
}

const fn alaw_decode_formula(code: u8) -> i16 {
    let toggled = code ^ 0x55;
    let segment = ((toggled >> 4) & 0x07) as i32;
    let mantissa = (toggled & 0x0F) as i32;
    let magnitude = if segment == 0 {
        (mantissa << 4) + 8
    } else {
        ((mantissa << 4) + 0x108) << (segment - 1)
    };
    if toggled & 0x80 != 0 {
        magnitude as i16
    } else {
        -magnitude as i16
    }
}

/// Which law a table is built for (a `const fn` cannot call through a function pointer).
#[derive(Clone, Copy)]
enum Law {
    Ulaw,
    Alaw,
}

const fn build_table(law: Law) -> [i16; 256] {
    let mut table = [0i16; 256];
    let mut code = 0usize;
    while code < 256 {
        table[code] = match law {
            Law::Ulaw => ulaw_decode_formula(code as u8),
            Law::Alaw => alaw_decode_formula(code as u8),
        };
        code += 1;
    }
    table
}

static ULAW_TO_LINEAR: [i16; 256] = build_table(Law::Ulaw);
static ALAW_TO_LINEAR: [i16; 256] = build_table(Law::Alaw);

/// Magnitude for companding: one's complement for negatives (G.191 style), so it is never > 32767.
#[inline]
fn magnitude_and_sign(sample: i16) -> (i32, bool) {
    if sample < 0 {
        (i32::from(!sample), true)
    } else {
        (i32::from(sample), false)
    }
}

/// Encodes one 16-bit linear sample to a µ-law code.
#[inline]
pub fn ulaw_encode(sample: i16) -> u8 {
    let (magnitude, negative) = magnitude_and_sign(sample);
    let biased = magnitude.min(ULAW_CLIP) + ULAW_BIAS;
    // biased is in 132..=32767: its top set bit is bit 7 (segment 0) .. bit 14 (segment 7).
    let segment = (24 - biased.leading_zeros()) as i32;
    let mantissa = (biased >> (segment + 3)) & 0x0F;
    let sign = if negative { 0x80 } else { 0x00 };
    !((sign | (segment << 4) | mantissa) as u8)
}

/// Decodes one µ-law code to a 16-bit linear sample (table lookup).
#[inline]
pub fn ulaw_decode(code: u8) -> i16 {
    ULAW_TO_LINEAR[usize::from(code)]
}

/// Encodes one 16-bit linear sample to an A-law code.
#[inline]
pub fn alaw_encode(sample: i16) -> u8 {
    let (magnitude, negative) = magnitude_and_sign(sample);
    let twelve_bit = magnitude >> 4; // 0..=2047
    let code = if twelve_bit < 32 {
        // Segments 0 and 1 share the same step, so the value is the code directly.
        twelve_bit
    } else {
        // Top set bit is bit 5 (segment 2) .. bit 10 (segment 7): segment = bit index - 3.
        let segment = (28 - twelve_bit.leading_zeros()) as i32;
        (segment << 4) | ((twelve_bit >> (segment - 1)) & 0x0F)
    };
    let sign = if negative { 0x00 } else { 0x80 };
    ((sign | code) as u8) ^ 0x55
}

/// Decodes one A-law code to a 16-bit linear sample (table lookup).
#[inline]
pub fn alaw_decode(code: u8) -> i16 {
    ALAW_TO_LINEAR[usize::from(code)]
}

/// The two G.711 laws as negotiated in SDP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum G711 {
    /// µ-law, static RTP payload type 0.
    Pcmu,
    /// A-law, static RTP payload type 8.
    Pcma,
}

impl G711 {
    /// The static RTP payload type (RFC 3551).
    pub fn payload_type(&self) -> u8 {
        match self {
            G711::Pcmu => 0,
            G711::Pcma => 8,
        }
    }

    /// The code that decodes to (near) zero, used to fill silence without encoding.
    pub fn silence_byte(&self) -> u8 {
        match self {
            G711::Pcmu => 0xFF,
            G711::Pcma => 0xD5,
        }
    }

    /// Appends the encoded form of `pcm` to `out` (no allocation if `out` has capacity).
    pub fn encode_into(&self, pcm: &[i16], out: &mut Vec<u8>) {
        match self {
            G711::Pcmu => out.extend(pcm.iter().map(|&s| ulaw_encode(s))),
            G711::Pcma => out.extend(pcm.iter().map(|&s| alaw_encode(s))),
        }
    }

    /// Appends the decoded form of `bytes` to `out` (no allocation if `out` has capacity).
    pub fn decode_into(&self, bytes: &[u8], out: &mut Vec<i16>) {
        let table = match self {
            G711::Pcmu => &ULAW_TO_LINEAR,
            G711::Pcma => &ALAW_TO_LINEAR,
        };
        out.extend(bytes.iter().map(|&b| table[usize::from(b)]));
    }

    /// Whether a frame is a pause: no sample louder than `QUIET_PEAK` (about -42 dBFS, well
    /// under speech and line tones, above the noise floor of a quiet room).
    pub fn is_quiet(&self, bytes: &[u8]) -> bool {
        let table = match self {
            G711::Pcmu => &ULAW_TO_LINEAR,
            G711::Pcma => &ALAW_TO_LINEAR,
        };
        bytes
            .iter()
            .all(|&b| table[usize::from(b)].unsigned_abs() < QUIET_PEAK)
    }
}

/// Loudest sample of a frame that still counts as a pause (see [`G711::is_quiet`]).
pub const QUIET_PEAK: u16 = 256;

#[cfg(test)]
mod tests;
