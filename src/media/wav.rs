//! The one WAV layout recordings are written in (8 kHz, mono, 16-bit PCM, the canonical 44-byte
//! header), and the arithmetic to repair a header left unfinished by a crash.
//!
//! Why it is shaped so: the recorder streams samples to disk and only writes the real sizes into
//! the header when the recording ends. A process killed mid-recording leaves a `.part` file whose
//! header says "0 bytes of data" followed by valid samples. Because the layout is fixed, the sizes
//! can be recomputed from the file length alone, so the start-up sweep can save every complete
//! sample of such a file. Anything that does not start with this exact header is not ours (or is
//! torn before the samples began) and is quarantined rather than guessed at.

use super::prompts::SAMPLE_RATE;

pub const HEADER_LEN: usize = 44;
const CHANNELS: u16 = 1;
const BITS_PER_SAMPLE: u16 = 16;
const BYTES_PER_SAMPLE: u32 = 2;
/// Largest data chunk the 32-bit RIFF size can describe (kept even).
const MAX_DATA_BYTES: u64 = (u32::MAX - 36) as u64 & !1;

/// The header for `data_bytes` bytes of samples (clamped to what RIFF can describe).
pub fn header(data_bytes: u64) -> [u8; HEADER_LEN] {
    let data = u32::try_from(data_bytes.min(MAX_DATA_BYTES)).unwrap_or(0);
    let mut h = [0u8; HEADER_LEN];
    h[0..4].copy_from_slice(b"RIFF");
    h[4..8].copy_from_slice(&(36 + data).to_le_bytes());
    h[8..12].copy_from_slice(b"WAVE");
    h[12..16].copy_from_slice(b"fmt ");
    h[16..20].copy_from_slice(&16u32.to_le_bytes());
    h[20..22].copy_from_slice(&1u16.to_le_bytes()); // PCM
    h[22..24].copy_from_slice(&CHANNELS.to_le_bytes());
    h[24..28].copy_from_slice(&SAMPLE_RATE.to_le_bytes());
    h[28..32].copy_from_slice(&(SAMPLE_RATE * BYTES_PER_SAMPLE).to_le_bytes());
    h[32..34].copy_from_slice(&(CHANNELS * BITS_PER_SAMPLE / 8).to_le_bytes());
    h[34..36].copy_from_slice(&BITS_PER_SAMPLE.to_le_bytes());
    h[36..40].copy_from_slice(b"data");
    h[40..44].copy_from_slice(&data.to_le_bytes());
    h
}

/// Whether `bytes` begins with our header layout (sizes not checked: a torn file has zeros there).
pub fn is_our_header(bytes: &[u8]) -> bool {
    let Some(found) = bytes.first_chunk::<HEADER_LEN>() else {
        return false;
    };
    let expected = header(0);
    // Everything but the two size fields must match.
    found[0..4] == expected[0..4] && found[8..40] == expected[8..40]
}

/// For a file of `file_len` bytes with our header: how many data bytes it holds (whole samples
/// only, so a sample torn in half is cut off). `None` when there is no sample at all.
pub fn data_bytes_for_length(file_len: u64) -> Option<u64> {
    let data = file_len.checked_sub(HEADER_LEN as u64)?.min(MAX_DATA_BYTES) & !1;
    (data > 0).then_some(data)
}

/// Milliseconds of audio in `data_bytes` bytes.
pub fn duration_ms(data_bytes: u64) -> u64 {
    data_bytes / u64::from(BYTES_PER_SAMPLE) * 1000 / u64::from(SAMPLE_RATE)
}

/// Appends samples as little-endian bytes (the WAV sample order).
pub fn samples_to_bytes(samples: &[i16], out: &mut Vec<u8>) {
    out.reserve(samples.len() * 2);
    for s in samples {
        out.extend_from_slice(&s.to_le_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The canonical header of a 1-second 8 kHz mono 16-bit file, byte by byte.
    #[test]
    fn header_matches_the_canonical_layout() {
        let h = header(16000);
        let expected: [u8; 44] = [
            b'R', b'I', b'F', b'F', 0xA4, 0x3E, 0, 0, b'W', b'A', b'V', b'E', b'f', b'm', b't',
            b' ', 16, 0, 0, 0, 1, 0, 1, 0, 0x40, 0x1F, 0, 0, 0x80, 0x3E, 0, 0, 2, 0, 16, 0, b'd',
            b'a', b't', b'a', 0x80, 0x3E, 0, 0,
        ];
        assert_eq!(h, expected);
        assert!(is_our_header(&h));
        assert!(is_our_header(&header(0)));
    }

    #[test]
    fn foreign_or_short_headers_are_not_ours() {
        assert!(!is_our_header(&header(0)[..43]));
        let mut stereo = header(0);
        stereo[22] = 2;
        assert!(!is_our_header(&stereo));
        let mut rifx = header(0);
        rifx[3] = b'X';
        assert!(!is_our_header(&rifx));
        assert!(!is_our_header(&[0u8; 100]));
    }

    #[test]
    fn repaired_sizes_come_from_the_file_length() {
        assert_eq!(data_bytes_for_length(44), None);
        assert_eq!(data_bytes_for_length(45), None);
        assert_eq!(data_bytes_for_length(10), None);
        assert_eq!(data_bytes_for_length(46), Some(2));
        assert_eq!(data_bytes_for_length(44 + 16001), Some(16000));
        assert_eq!(data_bytes_for_length(u64::MAX), Some(MAX_DATA_BYTES));
    }

    #[test]
    fn durations_and_sample_bytes() {
        assert_eq!(duration_ms(16000), 1000);
        assert_eq!(duration_ms(320), 20);
        let mut out = Vec::new();
        samples_to_bytes(&[1, -2, 0x1234], &mut out);
        assert_eq!(out, vec![1, 0, 0xFE, 0xFF, 0x34, 0x12]);
    }
}
