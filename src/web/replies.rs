//! A manager's voice reply from the browser: `POST /api/messages/{code}/reply` (body: a PCM WAV)
//! and `POST /api/messages/{code}/handled` (answered without a voice reply).
//!
//! Why it is shaped so: a reply from the browser must be indistinguishable from one recorded on
//! the phone, because the citizen hears it on the follow-up line. So whatever the browser sends
//! (any rate, any channel count, 8 to 32-bit integer or float samples) becomes 8 kHz mono 16-bit:
//! channels are averaged, and the rate is changed with a windowed-sinc low-pass (cut-off 3.6 kHz)
//! so nothing above the phone band folds back into it as noise. The file is then written exactly
//! as the recorder writes a voice message (`RecordingFile`: `.part`, fsync, rename, fsync of the
//! folder) and only then attached to the message; the manager is told "saved" (201) only after
//! both. A file that could not be attached is deleted, so no orphan reply is left on disk.

use std::io::Cursor;

use axum::body::Bytes;
use axum::extract::Request;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rand::rngs::OsRng;
use rand::RngCore;

use super::auth::ManagerOnly;
use super::message_access::{message_for, unavailable};
use super::messages::{private, MessageJson};
use super::{ApiError, Authorized, WebState};
use crate::calendar::civil_from_days;
use crate::drivers::media::{recording_path, sync_dir, RecordingFile};
use crate::media::prompts::{downmix, resample_to_8k, to_pcm16};
use crate::store::{unix_ms_now, ReplyOutcome, Role};

/// The longest reply: five minutes, as on the phone.
const MAX_SECONDS: u64 = 5 * 60;
/// The largest body accepted: five minutes of 48 kHz mono 16-bit, and a little header room. A
/// browser that sends stereo or 32-bit must downsample first (the page sends 8 kHz mono).
pub(super) const MAX_REPLY_BYTES: usize = 48_000 * 2 * MAX_SECONDS as usize + 64 * 1024;
/// Refuses a reply whose declared `Content-Length` is over [`MAX_REPLY_BYTES`] at once: the
/// body limit alone would first wait for that many bytes, holding the connection for a client
/// that may never send them.
pub(super) async fn refuse_declared_oversize(request: Request, next: Next) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok());
    if declared.is_some_and(|length| length > MAX_REPLY_BYTES as u64) {
        return ApiError::TooLarge(format!("a reply is at most {MAX_REPLY_BYTES} bytes"))
            .into_response();
    }
    next.run(request).await
}

/// Why an upload was refused.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum WavProblem {
    NotWav(String),
    TooLong,
}

/// Decodes a PCM WAV and converts it to 8 kHz mono 16-bit samples.
pub(crate) fn phone_samples(body: &[u8]) -> Result<Vec<i16>, WavProblem> {
    let mut reader = hound::WavReader::new(Cursor::new(body))
        .map_err(|error| WavProblem::NotWav(format!("the body is not a PCM WAV file: {error}")))?;
    let spec = reader.spec();
    let channels = usize::from(spec.channels);
    if channels == 0 || spec.sample_rate < 1_000 || spec.sample_rate > 384_000 {
        return Err(WavProblem::NotWav(
            "the WAV has no channels or an impossible sample rate".into(),
        ));
    }
    let frames = u64::from(reader.duration());
    if frames > MAX_SECONDS * u64::from(spec.sample_rate) {
        return Err(WavProblem::TooLong);
    }
    let bad =
        |error: hound::Error| WavProblem::NotWav(format!("the WAV's samples are damaged: {error}"));
    // The same decoding steps as the prompts: average the channels, band-limit and resample to
    // 8 kHz, round to 16-bit.
    let interleaved: Vec<f32> = match (spec.sample_format, spec.bits_per_sample) {
        (hound::SampleFormat::Float, 32) => reader
            .samples::<f32>()
            .collect::<Result<_, _>>()
            .map_err(bad)?,
        (hound::SampleFormat::Int, bits @ 8..=32) => {
            let scale = 1.0 / (1_u64 << (bits - 1)) as f32;
            reader
                .samples::<i32>()
                .map(|s| s.map(|s| s as f32 * scale))
                .collect::<Result<_, _>>()
                .map_err(bad)?
        }
        _ => {
            return Err(WavProblem::NotWav(
                "the WAV must hold 8 to 32-bit integer or 32-bit float samples".into(),
            ))
        }
    };
    let mono = downmix(&interleaved, channels);
    Ok(to_pcm16(&resample_to_8k(&mono, spec.sample_rate)))
}

/// `YYYY/MM/DD/web-reply-<32 hex>.wav`, by today's UTC date like the recorder's names.
fn reply_name() -> Result<String, ApiError> {
    let mut random = [0_u8; 16];
    OsRng.try_fill_bytes(&mut random).map_err(|error| {
        tracing::error!(%error, "no randomness for a reply's name");
        ApiError::Unavailable
    })?;
    let hex = crate::store::tokens::hex(&random);
    let (year, month, day) = civil_from_days(unix_ms_now().div_euclid(86_400_000));
    Ok(format!("{year:04}/{month:02}/{day:02}/web-reply-{hex}.wav"))
}

/// Writes `samples` durably under `name` (see the module note).
fn write_durably(dir: &std::path::Path, name: &str, samples: &[i16]) -> std::io::Result<()> {
    let mut file = RecordingFile::create(dir, name)?;
    if let Err(error) = file.append(samples) {
        let _ = file.discard();
        return Err(error);
    }
    file.finish().map(|_| ())
}

/// Deletes a reply that could not be attached (and makes the deletion durable).
async fn remove_reply(dir: std::path::PathBuf, name: String) {
    let _ = tokio::task::spawn_blocking(move || {
        let Some(path) = recording_path(&dir, &name) else {
            return;
        };
        match std::fs::remove_file(&path) {
            Ok(()) => {
                if let Some(parent) = path.parent() {
                    let _ = sync_dir(parent);
                }
            }
            Err(error) => {
                tracing::warn!(%error, name, "cannot remove a reply that was not saved");
            }
        }
    })
    .await;
}

pub(super) async fn reply(
    caller: Authorized<ManagerOnly>,
    State(state): State<WebState>,
    Path(code): Path<String>,
    body: Bytes,
) -> Result<impl IntoResponse, ApiError> {
    let Role::Manager(mailbox) = &caller.role else {
        return Err(ApiError::Forbidden);
    };
    // Not theirs (or no such message): 404 before any work or any file.
    let row = message_for(&state, &caller.role, &code).await?;
    let code = row.tracking_code.ok_or(ApiError::NotFound)?;
    let samples = tokio::task::spawn_blocking(move || phone_samples(&body))
        .await
        .map_err(|error| {
            tracing::error!(%error, "converting a reply stopped");
            ApiError::Unavailable
        })?
        .map_err(|problem| match problem {
            WavProblem::NotWav(text) => ApiError::BadRequest(text),
            WavProblem::TooLong => {
                ApiError::TooLarge(format!("a reply is at most {MAX_SECONDS} seconds"))
            }
        })?;
    if samples.is_empty() {
        return Err(ApiError::BadRequest("the reply is empty".into()));
    }
    let name = reply_name()?;
    let dir = state.recordings_dir.clone();
    let (write_dir, write_name) = (dir.clone(), name.clone());
    let written =
        tokio::task::spawn_blocking(move || write_durably(&write_dir, &write_name, &samples)).await;
    match written {
        Ok(Ok(())) => {}
        Ok(Err(error)) => {
            tracing::error!(%error, name, "cannot write a reply");
            return Err(ApiError::Unavailable);
        }
        Err(error) => {
            tracing::error!(%error, "writing a reply stopped");
            return Err(ApiError::Unavailable);
        }
    }
    let outcome = state.store.save_reply(&code, mailbox, &name, "web").await;
    match outcome {
        Ok(ReplyOutcome::Saved) => {}
        Ok(ReplyOutcome::NotInMailbox) => {
            remove_reply(dir, name).await;
            return Err(ApiError::NotFound);
        }
        Err(error) => {
            tracing::error!(%error, "cannot save a reply");
            remove_reply(dir, name).await;
            return Err(ApiError::Unavailable);
        }
    }
    let row = message_for(&state, &caller.role, &code).await?;
    Ok((StatusCode::CREATED, private(MessageJson::from(row))))
}

pub(super) async fn handled(
    caller: Authorized<ManagerOnly>,
    State(state): State<WebState>,
    Path(code): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let Role::Manager(mailbox) = &caller.role else {
        return Err(ApiError::Forbidden);
    };
    let row = message_for(&state, &caller.role, &code).await?;
    let code = row.tracking_code.ok_or(ApiError::NotFound)?;
    match state
        .store
        .mark_handled(&code, mailbox, "web")
        .await
        .map_err(unavailable("mark a message handled"))?
    {
        ReplyOutcome::Saved => {}
        // Theirs, but not waiting any more (replied or handled already).
        ReplyOutcome::NotInMailbox => {
            return Err(ApiError::Conflict(format!(
                "the message is not waiting for an answer (its status is {})",
                row.status
            )))
        }
    }
    let row = message_for(&state, &caller.role, &code).await?;
    Ok(private(MessageJson::from(row)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::PI;

    /// The phone's sample rate, which every stored reply has.
    const RATE: u32 = 8_000;

    fn wav(rate: u32, channels: u16, seconds: f64, tone: f64) -> Vec<u8> {
        let spec = hound::WavSpec {
            channels,
            sample_rate: rate,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut bytes = Cursor::new(Vec::new());
        if let Ok(mut writer) = hound::WavWriter::new(&mut bytes, spec) {
            let frames = (f64::from(rate) * seconds) as usize;
            for n in 0..frames {
                let value = (2.0 * PI * tone * n as f64 / f64::from(rate)).sin() * 16_000.0;
                for _ in 0..channels {
                    let _ = writer.write_sample(value as i16);
                }
            }
            let _ = writer.finalize();
        }
        bytes.into_inner()
    }

    /// Energy of `freq` in `samples` (Goertzel), relative to the total energy.
    fn share(samples: &[i16], freq: f64) -> f64 {
        let w = 2.0 * PI * freq / f64::from(RATE);
        let (mut s1, mut s2) = (0.0, 0.0);
        for &x in samples {
            let s = f64::from(x) + 2.0 * w.cos() * s1 - s2;
            s2 = s1;
            s1 = s;
        }
        let power = s1 * s1 + s2 * s2 - 2.0 * w.cos() * s1 * s2;
        let total: f64 = samples.iter().map(|&x| f64::from(x).powi(2)).sum();
        2.0 * power / (samples.len() as f64 * total)
    }

    #[test]
    fn a_48k_stereo_tone_becomes_8k_mono_with_the_tone_kept() {
        let samples = phone_samples(&wav(48_000, 2, 1.0, 1_000.0));
        let Ok(samples) = samples else {
            panic!("{samples:?}")
        };
        assert_eq!(samples.len(), 8_000);
        assert!(
            share(&samples, 1_000.0) > 0.9,
            "{}",
            share(&samples, 1_000.0)
        );
    }

    #[test]
    fn tones_above_the_phone_band_are_filtered_not_folded() {
        // 6 kHz would alias to 2 kHz at 8 kHz without the low-pass.
        let samples = phone_samples(&wav(48_000, 1, 1.0, 6_000.0)).unwrap_or_default();
        assert_eq!(samples.len(), 8_000);
        // Away from the edges, where the tone's abrupt start and end are heard as clicks.
        let peak = samples[400..7_600]
            .iter()
            .map(|s| s.unsigned_abs())
            .max()
            .unwrap_or(0);
        assert!(peak < 500, "peak {peak}");
    }

    #[test]
    fn eight_khz_mono_passes_unchanged_and_junk_is_refused() {
        let body = wav(8_000, 1, 0.5, 440.0);
        let samples = phone_samples(&body).unwrap_or_default();
        assert_eq!(samples.len(), 4_000);
        assert!(matches!(
            phone_samples(b"not a wav"),
            Err(WavProblem::NotWav(_))
        ));
        assert_eq!(
            phone_samples(&wav(8_000, 1, 301.0, 440.0)),
            Err(WavProblem::TooLong)
        );
    }
}
