//! Loads the prompt files of one language into the shared cache at start-up.
//!
//! Why it is shaped so:
//! - Everything is decoded once, before the first call: symphonia reads WAV, MP3 and Ogg Vorbis in
//!   any sample rate and channel count, and `media::prompts` mixes down and resamples to 8 kHz.
//!   A call never touches a prompt file.
//! - Ids are paths relative to the language folder (`dir` = `prompts/fa`), without extension:
//!   `prompts/fa/digit/4.wav` is `digit/4`, the same ids the IVR flows and `ivr::words` use.
//! - Start-up fails loudly: an unreadable file, or two files claiming one id (`x.wav` and
//!   `x.mp3`), is an error naming the file. A hotline that silently skips half its menu is worse
//!   than one that does not start.

use std::fmt;
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

use symphonia::core::audio::SampleBuffer;
use symphonia::core::codecs::{Decoder, DecoderOptions, CODEC_TYPE_NULL};
use symphonia::core::errors::Error as DecodeError;
use symphonia::core::formats::{FormatOptions, FormatReader};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

use crate::media::prompts::{downmix, prompt_id, resample_to_8k, to_pcm16, PromptSet};

/// Extensions loaded as prompts (other files, like the `.tsv` manifests, are ignored).
pub const AUDIO_EXTENSIONS: [&str; 3] = ["wav", "mp3", "ogg"];
/// Corrupt packets tolerated in one file (an MP3 with a damaged frame still plays).
const MAX_BAD_PACKETS: usize = 8;
/// Folder nesting followed (a symlink loop must not recurse forever).
const MAX_DEPTH: usize = 16;

#[derive(Debug)]
pub enum PromptError {
    Io {
        path: PathBuf,
        error: io::Error,
    },
    Decode {
        path: PathBuf,
        reason: String,
    },
    /// Two files map to one id.
    Duplicate {
        id: String,
        path: PathBuf,
    },
}

impl fmt::Display for PromptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PromptError::Io { path, error } => write!(f, "{}: {error}", path.display()),
            PromptError::Decode { path, reason } => {
                write!(f, "{}: cannot decode: {reason}", path.display())
            }
            PromptError::Duplicate { id, path } => {
                write!(f, "{}: a second file for prompt id `{id}`", path.display())
            }
        }
    }
}

impl std::error::Error for PromptError {}

/// Loads every `*.wav|mp3|ogg` under `dir` (recursively) as 8 kHz mono PCM.
pub fn load_prompts(dir: &Path) -> Result<PromptSet, PromptError> {
    let mut files = Vec::new();
    collect_audio_files(dir, MAX_DEPTH, &mut files)?;
    files.sort();
    let mut set = PromptSet::new();
    for path in files {
        let relative = path.strip_prefix(dir).unwrap_or(&path);
        let Some(id) = prompt_id(relative) else {
            return Err(decode_error(&path, "not a usable prompt name"));
        };
        if set.contains(&id) {
            return Err(PromptError::Duplicate { id, path });
        }
        let pcm = decode_file(&path)?;
        set.insert(id, pcm);
    }
    tracing::info!(
        prompts = set.len(),
        seconds = set.total_samples() / 8000,
        dir = %dir.display(),
        "prompts loaded"
    );
    Ok(set)
}

fn collect_audio_files(
    dir: &Path,
    depth: usize,
    out: &mut Vec<PathBuf>,
) -> Result<(), PromptError> {
    let io_error = |error| PromptError::Io {
        path: dir.to_path_buf(),
        error,
    };
    for entry in fs::read_dir(dir).map_err(io_error)? {
        let path = entry.map_err(io_error)?.path();
        if path.is_dir() {
            if depth == 0 {
                return Err(decode_error(
                    &path,
                    "folders nested too deep (a symlink loop?)",
                ));
            }
            collect_audio_files(&path, depth - 1, out)?;
        } else if is_audio(&path) {
            out.push(path);
        }
    }
    Ok(())
}

fn is_audio(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| AUDIO_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// Decodes one audio file to 8 kHz mono 16-bit.
pub fn decode_file(path: &Path) -> Result<Vec<i16>, PromptError> {
    let (interleaved, channels, rate) = decode_interleaved(path)?;
    if interleaved.is_empty() || rate == 0 {
        return Err(decode_error(path, "no audio in the file"));
    }
    let mono = downmix(&interleaved, channels);
    Ok(to_pcm16(&resample_to_8k(&mono, rate)))
}

/// All samples of the first audio track as interleaved f32, with channel count and rate.
fn decode_interleaved(path: &Path) -> Result<(Vec<f32>, usize, u32), PromptError> {
    let file = File::open(path).map_err(|error| PromptError::Io {
        path: path.to_path_buf(),
        error,
    })?;
    let stream = MediaSourceStream::new(Box::new(file), Default::default());
    let mut hint = Hint::new();
    if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
        hint.with_extension(ext);
    }
    let probed = symphonia::default::get_probe()
        .format(
            &hint,
            stream,
            &FormatOptions::default(),
            &MetadataOptions::default(),
        )
        .map_err(|e| decode_error(path, e))?;
    let mut format = probed.format;
    let Some(track) = format
        .tracks()
        .iter()
        .find(|t| t.codec_params.codec != CODEC_TYPE_NULL)
    else {
        return Err(decode_error(path, "no audio track"));
    };
    let track_id = track.id;
    let mut decoder = symphonia::default::get_codecs()
        .make(&track.codec_params, &DecoderOptions::default())
        .map_err(|e| decode_error(path, e))?;
    let mut audio = Decoded {
        samples: Vec::new(),
        channels: track.codec_params.channels.map_or(1, |c| c.count()),
        rate: track.codec_params.sample_rate.unwrap_or(0),
    };
    decode_packets(
        path,
        format.as_mut(),
        decoder.as_mut(),
        track_id,
        &mut audio,
    )?;
    Ok((audio.samples, audio.channels, audio.rate))
}

struct Decoded {
    samples: Vec<f32>,
    channels: usize,
    rate: u32,
}

/// Decodes every packet of `track_id`, skipping a few corrupt ones.
fn decode_packets(
    path: &Path,
    format: &mut dyn FormatReader,
    decoder: &mut dyn Decoder,
    track_id: u32,
    audio: &mut Decoded,
) -> Result<(), PromptError> {
    let mut bad_packets = 0;
    loop {
        let packet = match format.next_packet() {
            Ok(packet) => packet,
            Err(DecodeError::IoError(e)) if e.kind() == io::ErrorKind::UnexpectedEof => break,
            Err(e) => return Err(decode_error(path, e)),
        };
        if packet.track_id() != track_id {
            continue;
        }
        match decoder.decode(&packet) {
            Ok(decoded) => {
                let spec = *decoded.spec();
                audio.rate = spec.rate;
                audio.channels = spec.channels.count();
                let mut buffer = SampleBuffer::<f32>::new(decoded.capacity() as u64, spec);
                buffer.copy_interleaved_ref(decoded);
                audio.samples.extend_from_slice(buffer.samples());
            }
            Err(DecodeError::DecodeError(reason)) if bad_packets < MAX_BAD_PACKETS => {
                bad_packets += 1;
                tracing::warn!(path = %path.display(), reason, "corrupt audio packet skipped");
            }
            Err(e) => return Err(decode_error(path, e)),
        }
    }
    Ok(())
}

fn decode_error(path: &Path, reason: impl fmt::Display) -> PromptError {
    PromptError::Decode {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    }
}

#[cfg(test)]
mod tests;
