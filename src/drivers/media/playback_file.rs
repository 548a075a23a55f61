//! A recording played to a caller (a voice message, a manager's reply), read 20 ms at a time.
//!
//! Why it is shaped so: our own recordings are 8 kHz mono 16-bit WAV, so they are streamed from
//! disk through an 8 KiB buffer (a leg holds no seconds of audio). A file in any other format (a
//! reply uploaded as MP3) is decoded whole with the prompt decoder and played from memory: rare,
//! and correct rather than refused.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use crate::media::leg::FRAME_SAMPLES;

use super::prompt_loader::{decode_file, PromptError};

pub enum RecordingReader {
    Stream(hound::WavReader<BufReader<File>>),
    Memory { pcm: Vec<i16>, pos: usize },
}

impl RecordingReader {
    pub fn open(path: &Path) -> Result<Self, PromptError> {
        if let Ok(reader) = hound::WavReader::open(path) {
            let spec = reader.spec();
            if spec.sample_rate == 8000
                && spec.channels == 1
                && spec.bits_per_sample == 16
                && spec.sample_format == hound::SampleFormat::Int
            {
                return Ok(RecordingReader::Stream(reader));
            }
        }
        Ok(RecordingReader::Memory {
            pcm: decode_file(path)?,
            pos: 0,
        })
    }

    /// Fills `out` with the next samples; fewer than a frame means the end (or a read error).
    pub fn read_frame(&mut self, out: &mut [i16; FRAME_SAMPLES]) -> usize {
        match self {
            RecordingReader::Stream(reader) => {
                let mut n = 0;
                for (slot, sample) in out.iter_mut().zip(reader.samples::<i16>()) {
                    match sample {
                        Ok(value) => {
                            *slot = value;
                            n += 1;
                        }
                        Err(_) => break,
                    }
                }
                n
            }
            RecordingReader::Memory { pcm, pos } => {
                let rest = pcm.get(*pos..).unwrap_or(&[]);
                let n = rest.len().min(FRAME_SAMPLES);
                out[..n].copy_from_slice(&rest[..n]);
                *pos += n;
                n
            }
        }
    }
}
