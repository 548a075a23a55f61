//! A tiny WAV reader/writer and the audio measures the media tests assert on: level, audible
//! duration, tone detection (Goertzel), dominant frequency, and cross-correlation.
#![allow(dead_code)]

use std::path::Path;

pub const RATE: u32 = 8000;

/// A decoded WAV file: interleaved samples as 16-bit.
#[derive(Clone, Debug)]
pub struct Wav {
    pub rate: u32,
    pub channels: u16,
    pub samples: Vec<i16>,
    /// The RIFF and data sizes agree with the file's length.
    pub sizes_consistent: bool,
}

impl Wav {
    pub fn duration_ms(&self) -> u64 {
        let frames = self.samples.len() as u64 / u64::from(self.channels.max(1));
        frames * 1000 / u64::from(self.rate.max(1))
    }

    /// The first channel only.
    pub fn mono(&self) -> Vec<i16> {
        self.samples
            .iter()
            .step_by(usize::from(self.channels.max(1)))
            .copied()
            .collect()
    }
}

/// Reads a PCM WAV file (16-bit integer, or 32-bit float converted to 16-bit); panics with the
/// reason if it is not one.
pub fn read_wav(path: &Path) -> Wav {
    let bytes =
        std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    parse_wav(&bytes).unwrap_or_else(|e| panic!("{} is not a valid WAV: {e}", path.display()))
}

pub fn parse_wav(bytes: &[u8]) -> Result<Wav, String> {
    if bytes.len() < 12 || &bytes[0..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        return Err("no RIFF/WAVE header".into());
    }
    let riff_size = u32_at(bytes, 4) as usize;
    let mut sizes_consistent = riff_size + 8 == bytes.len();
    let mut at = 12;
    let mut format: Option<(u16, u16, u32, u16)> = None;
    while at + 8 <= bytes.len() {
        let id = &bytes[at..at + 4];
        let size = u32_at(bytes, at + 4) as usize;
        let body = at + 8;
        if id == b"fmt " {
            if size < 16 || body + 16 > bytes.len() {
                return Err("short fmt chunk".into());
            }
            let mut tag = u16_at(bytes, body);
            if tag == 0xfffe && size >= 26 {
                tag = u16_at(bytes, body + 24); // WAVE_FORMAT_EXTENSIBLE: the sub-format
            }
            format = Some((
                tag,
                u16_at(bytes, body + 2),
                u32_at(bytes, body + 4),
                u16_at(bytes, body + 14),
            ));
        } else if id == b"data" {
            let (tag, channels, rate, bits) = format.ok_or("data before fmt")?;
            let mut end = body.saturating_add(size);
            if end != bytes.len() {
                sizes_consistent = sizes_consistent && end <= bytes.len();
            }
            if size == 0 || end > bytes.len() {
                // A header never finished (the writer was cut off): the rest of the file.
                sizes_consistent = false;
                end = bytes.len();
            }
            let data = &bytes[body..end];
            let samples = match (tag, bits) {
                (1, 16) => data
                    .chunks_exact(2)
                    .map(|c| i16::from_le_bytes([c[0], c[1]]))
                    .collect(),
                (3, 32) => data
                    .chunks_exact(4)
                    .map(|c| {
                        let f = f32::from_le_bytes([c[0], c[1], c[2], c[3]]);
                        (f * 32767.0).clamp(-32768.0, 32767.0) as i16
                    })
                    .collect(),
                other => return Err(format!("unsupported format (tag, bits) {other:?}")),
            };
            return Ok(Wav {
                rate,
                channels,
                samples,
                sizes_consistent,
            });
        }
        at = body + size + (size & 1);
    }
    Err("no data chunk".into())
}

/// Writes 8 kHz (or `rate`) mono 16-bit PCM.
pub fn write_wav(path: &Path, rate: u32, samples: &[i16]) {
    let data = (samples.len() * 2) as u32;
    let mut bytes = Vec::with_capacity(44 + samples.len() * 2);
    bytes.extend_from_slice(b"RIFF");
    bytes.extend_from_slice(&(36 + data).to_le_bytes());
    bytes.extend_from_slice(b"WAVEfmt ");
    bytes.extend_from_slice(&16u32.to_le_bytes());
    bytes.extend_from_slice(&1u16.to_le_bytes());
    bytes.extend_from_slice(&1u16.to_le_bytes());
    bytes.extend_from_slice(&rate.to_le_bytes());
    bytes.extend_from_slice(&(rate * 2).to_le_bytes());
    bytes.extend_from_slice(&2u16.to_le_bytes());
    bytes.extend_from_slice(&16u16.to_le_bytes());
    bytes.extend_from_slice(b"data");
    bytes.extend_from_slice(&data.to_le_bytes());
    for s in samples {
        bytes.extend_from_slice(&s.to_le_bytes());
    }
    std::fs::write(path, bytes).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
}

fn u16_at(bytes: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([bytes[at], bytes[at + 1]])
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

// ---- signals ----------------------------------------------------------------------------------

/// `ms` at 8 kHz of the sum of sines at `freqs`, each of `amplitude`.
pub fn tone(freqs: &[f32], ms: u64, amplitude: f32) -> Vec<i16> {
    let n = ms as usize * RATE as usize / 1000;
    (0..n)
        .map(|i| {
            let t = i as f32 / RATE as f32;
            let v: f32 = freqs
                .iter()
                .map(|f| amplitude * (2.0 * std::f32::consts::PI * f * t).sin())
                .sum();
            v.clamp(-32768.0, 32767.0) as i16
        })
        .collect()
}

// ---- measures ---------------------------------------------------------------------------------

/// Mean |sample|.
pub fn mean_abs(samples: &[i16]) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    samples
        .iter()
        .map(|s| f64::from(s.unsigned_abs()))
        .sum::<f64>()
        / samples.len() as f64
}

pub fn rms(samples: &[i16]) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    (samples.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / samples.len() as f64).sqrt()
}

/// Milliseconds of 20 ms frames (8 kHz) whose mean |sample| reaches `level`.
pub fn audible_ms(samples: &[i16], level: u32) -> u64 {
    samples
        .chunks(160)
        .filter(|f| mean_abs(f) >= f64::from(level))
        .count() as u64
        * 20
}

/// First and last audible 20 ms frame (8 kHz), as sample offsets `[start, end)`.
pub fn audible_span(samples: &[i16], level: u32) -> Option<(usize, usize)> {
    let loud: Vec<usize> = samples
        .chunks(160)
        .enumerate()
        .filter(|(_, f)| mean_abs(f) >= f64::from(level))
        .map(|(i, _)| i)
        .collect();
    Some((
        *loud.first()? * 160,
        ((*loud.last()? + 1) * 160).min(samples.len()),
    ))
}

/// Length in ms of [`audible_span`].
pub fn audible_span_ms(samples: &[i16], level: u32) -> u64 {
    audible_span(samples, level).map_or(0, |(a, b)| (b - a) as u64 * 1000 / u64::from(RATE))
}

/// Power of `samples` at `hz` (Goertzel), normalised to the power of a sine: a full-length sine
/// of amplitude A gives about A²/2.
pub fn goertzel(samples: &[i16], hz: f32) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    let n = samples.len() as f64;
    let w = 2.0 * std::f64::consts::PI * f64::from(hz) / f64::from(RATE);
    let coeff = 2.0 * w.cos();
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    for &x in samples {
        let s0 = f64::from(x) + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    let power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
    2.0 * power / (n * n)
}

/// True when `samples` are loud and mostly a sine at `hz` (over 60% of their power).
pub fn is_tone(samples: &[i16], hz: f32) -> bool {
    let total = rms(samples).powi(2);
    total > 500.0 * 500.0 / 2.0 && goertzel(samples, hz) > 0.6 * total
}

/// Of `candidates`, the frequency with the most power in `samples`.
pub fn dominant(samples: &[i16], candidates: &[f32]) -> f32 {
    candidates
        .iter()
        .copied()
        .max_by(|a, b| goertzel(samples, *a).total_cmp(&goertzel(samples, *b)))
        .unwrap_or(0.0)
}

/// Normalised cross-correlation of `probe` with `signal[lag..lag+probe.len()]`.
pub fn correlation_at(signal: &[i16], probe: &[i16], lag: usize) -> f64 {
    let Some(window) = signal.get(lag..lag + probe.len()) else {
        return 0.0;
    };
    let (mut dot, mut a2, mut b2) = (0.0f64, 0.0f64, 0.0f64);
    for (&a, &b) in window.iter().zip(probe) {
        let (a, b) = (f64::from(a), f64::from(b));
        dot += a * b;
        a2 += a * a;
        b2 += b * b;
    }
    if a2 == 0.0 || b2 == 0.0 {
        0.0
    } else {
        dot / (a2 * b2).sqrt()
    }
}

/// The lag in `lags` where `probe` best matches `signal`, and that correlation (-1..1).
pub fn best_correlation(
    signal: &[i16],
    probe: &[i16],
    lags: std::ops::Range<usize>,
) -> (usize, f64) {
    lags.map(|lag| (lag, correlation_at(signal, probe, lag)))
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap_or((0, 0.0))
}
