//! What a caller heard, compared with the prompt files: a prompt as it arrives over G.711 µ-law,
//! and how well it is found in the received audio. Shared by every test that asks "did the
//! engine say this?".
#![allow(dead_code)]

use super::repo_dir;
use super::rtp::{self, Received};
use super::wav::{self, read_wav};

/// The level (mean |sample|) above which a 20 ms frame counts as sound (about -42 dBFS).
const AUDIBLE: u32 = 256;

/// A prompt as the caller hears it: the WAV through G.711 µ-law.
pub fn prompt_pcm(id: &str) -> Vec<i16> {
    let path = repo_dir().join("prompts/fa").join(format!("{id}.wav"));
    let prompt = read_wav(&path);
    assert_eq!(prompt.rate, 8000, "{id} is 8 kHz");
    prompt
        .mono()
        .into_iter()
        .map(|s| rtp::ulaw_decode(rtp::ulaw_encode(s)))
        .collect()
}

/// How well the first audible 600 ms of prompt `id` match somewhere in what was heard (-1..1).
pub fn heard_prompt(heard: &Received, id: &str) -> f64 {
    let prompt = prompt_pcm(id);
    let (start, end) =
        wav::audible_span(&prompt, AUDIBLE).unwrap_or_else(|| panic!("prompt {id} has no sound"));
    let probe = &prompt[start..end.min(start + 4800)];
    let pcm = heard.pcm();
    let lags = pcm.len().saturating_sub(probe.len());
    // Coarse then fine: speech stays correlated over a few samples of lag.
    let (coarse, _) = (0..lags)
        .step_by(3)
        .map(|lag| (lag, wav::correlation_at(&pcm, probe, lag)))
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap_or((0, 0.0));
    let (_, r) = wav::best_correlation(
        &pcm,
        probe,
        coarse.saturating_sub(3)..(coarse + 4).min(lags),
    );
    r
}

/// Fails the test unless prompt `id` is found in what was heard.
pub fn assert_heard_prompt(heard: &Received, id: &str, what: &str) {
    let r = heard_prompt(heard, id);
    assert!(
        r > 0.9,
        "{what}: prompt {id} not heard (best correlation {r:.3})"
    );
}
