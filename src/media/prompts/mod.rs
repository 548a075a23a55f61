//! The shared prompt cache and the sample-rate conversion that fills it.
//!
//! Why it is shaped so:
//! - Every prompt is decoded, mixed down and resampled to 8 kHz mono 16-bit **once** at start-up and
//!   shared by every call as an `Arc<[i16]>`: a thousand calls playing the same menu hold one copy,
//!   and a call only keeps a cursor (an `Arc` clone and an index) into it.
//! - The cache stores linear PCM, not G.711: a prompt can then be sent to a PCMU or a PCMA leg, mixed
//!   into a bridged recording, or echoed, and encoding a 20 ms frame costs well under a microsecond.
//! - Resampling is a windowed-sinc (Blackman) low-pass interpolator: a plain linear interpolation
//!   from 44.1 or 48 kHz folds everything above 4 kHz back into the speech band as hiss. For the usual
//!   rational ratios (48 k, 44.1 k, 22.05 k, 16 k → 8 k) the kernel is tabulated per phase, so start-up
//!   costs a few hundred multiply-adds per output sample and no trigonometry.
//! - Decoding files is the driver's job (symphonia); this module only sees sample slices, so it is
//!   tested on synthetic tones.

use std::collections::HashMap;
use std::path::{Component, Path};
use std::sync::Arc;

/// The rate of everything in the cache (and of G.711).
pub const SAMPLE_RATE: u32 = 8000;
/// The prompt looped as music on hold.
pub const MUSIC: &str = "moh/music";
/// A queue entry `recording:<name>` plays the recording `<name>` of the recordings folder (the
/// IVR's `RECORDING_PROMPT_PREFIX`; a saved take's recording id is its file name).
pub const RECORDING_PREFIX: &str = "recording:";

/// Zero crossings of the sinc on each side of the centre (quality vs start-up time).
const ZERO_CROSSINGS: f64 = 16.0;
/// Pass band as a fraction of the lower Nyquist frequency (3.68 kHz when going to 8 kHz).
const PASS_FRACTION: f64 = 0.92;
/// Largest number of kernel phases tabulated; odd ratios above it are computed directly.
const MAX_PHASES: u64 = 1024;

/// Prompt id → 8 kHz mono PCM. Ids are paths relative to the language folder without extension,
/// with `/` separators: `digit/4`, `moh/music`.
#[derive(Debug, Clone, Default)]
pub struct PromptSet {
    prompts: HashMap<String, Arc<[i16]>>,
}

impl PromptSet {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) a prompt.
    pub fn insert(&mut self, id: impl Into<String>, pcm: impl Into<Arc<[i16]>>) {
        self.prompts.insert(id.into(), pcm.into());
    }

    pub fn get(&self, id: &str) -> Option<&Arc<[i16]>> {
        self.prompts.get(id)
    }

    pub fn contains(&self, id: &str) -> bool {
        self.prompts.contains_key(id)
    }

    pub fn len(&self) -> usize {
        self.prompts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.prompts.is_empty()
    }

    /// Every id, in no particular order.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.prompts.keys().map(String::as_str)
    }

    /// Total samples held (for a start-up log line).
    pub fn total_samples(&self) -> usize {
        self.prompts.values().map(|p| p.len()).sum()
    }
}

/// The prompt id of a file given by its path relative to the language folder: `digit/4.wav` →
/// `digit/4`. `None` for paths that cannot name a prompt (absolute, `..`, non-UTF-8, empty).
pub fn prompt_id(relative: &Path) -> Option<String> {
    let stem = relative.with_extension("");
    let mut parts = Vec::new();
    for component in stem.components() {
        match component {
            Component::Normal(part) => parts.push(part.to_str()?),
            Component::CurDir => {}
            _ => return None,
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

/// Averages interleaved channels into one. `channels == 0` is treated as mono.
pub fn downmix(interleaved: &[f32], channels: usize) -> Vec<f32> {
    if channels <= 1 {
        return interleaved.to_vec();
    }
    let scale = 1.0 / channels as f32;
    interleaved
        .chunks_exact(channels)
        .map(|frame| frame.iter().sum::<f32>() * scale)
        .collect()
}

/// Converts full-scale float samples (±1.0) to 16-bit, rounding and clipping. The scale is 32768,
/// the one decoders use for 16-bit sources, so an 8 kHz 16-bit file comes back bit-exact.
pub fn to_pcm16(samples: &[f32]) -> Vec<i16> {
    samples
        .iter()
        .map(|&s| (s * 32768.0).round().clamp(-32768.0, 32767.0) as i16)
        .collect()
}

/// Resamples mono audio from `from_hz` to 8 kHz through a band-limiting windowed-sinc filter.
/// `from_hz == 0` yields nothing (a corrupt header must not divide by zero).
pub fn resample_to_8k(input: &[f32], from_hz: u32) -> Vec<f32> {
    if from_hz == SAMPLE_RATE || input.is_empty() {
        return input.to_vec();
    }
    if from_hz == 0 {
        return Vec::new();
    }
    let divisor = gcd(u64::from(from_hz), u64::from(SAMPLE_RATE));
    // Output k sits at input position k * step / phases.
    let phases = u64::from(SAMPLE_RATE) / divisor;
    let step = u64::from(from_hz) / divisor;
    let kernel = Kernel::new(from_hz);
    let out_len = (input.len() as u64 * phases).div_ceil(step);
    let table = (phases <= MAX_PHASES).then(|| kernel.table(phases));
    (0..out_len)
        .map(|k| {
            let position = k * step;
            let centre = (position / phases) as usize;
            let phase = position % phases;
            match &table {
                Some(table) => table.apply(input, centre, phase as usize),
                None => kernel.direct(input, centre, phase as f64 / phases as f64),
            }
        })
        .collect()
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a.max(1)
}

/// The low-pass interpolation kernel for one input rate, in input-sample units.
struct Kernel {
    /// Cut-off as a fraction of the input Nyquist frequency.
    cutoff: f64,
    /// Taps on each side of the centre.
    half_taps: usize,
}

impl Kernel {
    fn new(from_hz: u32) -> Self {
        let cutoff = PASS_FRACTION * (f64::from(SAMPLE_RATE) / f64::from(from_hz)).min(1.0);
        Kernel {
            cutoff,
            half_taps: (ZERO_CROSSINGS / cutoff).ceil() as usize,
        }
    }

    /// Weight of the input sample `offset` samples away from the output position.
    fn weight(&self, offset: f64) -> f64 {
        let half_width = self.half_taps as f64;
        if offset.abs() >= half_width {
            return 0.0;
        }
        let x = offset * self.cutoff;
        let sinc = if x.abs() < 1e-12 {
            1.0
        } else {
            (std::f64::consts::PI * x).sin() / (std::f64::consts::PI * x)
        };
        let u = offset / half_width;
        let blackman = 0.42
            + 0.5 * (std::f64::consts::PI * u).cos()
            + 0.08 * (2.0 * std::f64::consts::PI * u).cos();
        sinc * blackman
    }

    /// Taps for input samples `centre - half_taps + 1 ..= centre + half_taps` at `fraction` past
    /// `centre`, normalised to unity gain at DC.
    fn taps(&self, fraction: f64) -> Vec<f32> {
        let first = 1 - self.half_taps as i64;
        let weights: Vec<f64> = (0..2 * self.half_taps as i64)
            .map(|i| self.weight((first + i) as f64 - fraction))
            .collect();
        let sum: f64 = weights.iter().sum();
        let norm = if sum.abs() > 1e-9 { 1.0 / sum } else { 1.0 };
        weights.iter().map(|w| (w * norm) as f32).collect()
    }

    fn table(&self, phases: u64) -> TapTable {
        TapTable {
            half_taps: self.half_taps,
            taps: (0..phases)
                .map(|p| self.taps(p as f64 / phases as f64))
                .collect(),
        }
    }

    fn direct(&self, input: &[f32], centre: usize, fraction: f64) -> f32 {
        convolve(input, centre, self.half_taps, &self.taps(fraction))
    }
}

struct TapTable {
    half_taps: usize,
    taps: Vec<Vec<f32>>,
}

impl TapTable {
    fn apply(&self, input: &[f32], centre: usize, phase: usize) -> f32 {
        match self.taps.get(phase) {
            Some(taps) => convolve(input, centre, self.half_taps, taps),
            None => 0.0,
        }
    }
}

/// Sum of `taps` against the input around `centre`; samples outside the input count as zero.
fn convolve(input: &[f32], centre: usize, half_taps: usize, taps: &[f32]) -> f32 {
    let first = centre as i64 + 1 - half_taps as i64;
    let skip = usize::try_from(-first).unwrap_or(0);
    let start = usize::try_from(first).unwrap_or(0);
    let Some(window) = input.get(start..) else {
        return 0.0;
    };
    taps.iter().skip(skip).zip(window).map(|(t, s)| t * s).sum()
}

#[cfg(test)]
mod tests;
