//! `wav`: bytes as a WAV file, through the two places that read WAVs from outside: the reply
//! upload (`web::replies::phone_samples`, hound, then downmix and resample to 8 kHz) and the
//! recordings sweep's header check and repair arithmetic (`media::wav`).
//!
//! Why: a supervisor's uploaded reply is any bytes an HTTP client sends, and a recording left
//! behind by a crash is whatever reached the disk. Invariants: nothing panics; the decoded reply
//! holds no more 8 kHz samples than the file's length allows; a file the sweep accepts has a
//! repaired length that fits in the file and whole samples; and our own header (`media::wav::
//! header`) followed by that many bytes of samples is accepted by both readers.

use crate::media::wav::{data_bytes_for_length, duration_ms, header, is_our_header, HEADER_LEN};
use crate::web::replies::phone_samples;

pub fn wav(data: &[u8]) {
    if let Ok(samples) = phone_samples(data) {
        // At least one byte per sample per channel and at least 1 kHz: at most 8 output
        // samples per input byte, plus the resampler's rounding.
        assert!(
            samples.len() <= data.len() * 8 + 16,
            "{} samples decoded from {} bytes",
            samples.len(),
            data.len()
        );
    }

    if is_our_header(data) {
        let len = data.len() as u64;
        if let Some(bytes) = data_bytes_for_length(len) {
            assert!(
                bytes.is_multiple_of(2),
                "a repaired recording keeps half a sample"
            );
            assert!(
                bytes <= len - HEADER_LEN as u64,
                "a repaired recording is longer than its file"
            );
            let _ = duration_ms(bytes);
        }
    }

    // Our own file of a fuzzed (small) length is read back by both readers.
    let samples = data.len().min(4000) / 2;
    let mut file = header(samples as u64 * 2).to_vec();
    file.extend(data.iter().take(samples * 2));
    assert!(is_our_header(&file), "our own header is not ours");
    assert_eq!(
        data_bytes_for_length(file.len() as u64),
        (samples > 0).then_some(samples as u64 * 2),
        "the sweep misreads our own file"
    );
    if let Err(e) = phone_samples(&file) {
        panic!("the reply reader refuses our own WAV of {samples} samples: {e:?}");
    }
}
