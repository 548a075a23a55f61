//! `GET /api/recordings/{*name}`: a voice message or reply, streamed from the recordings folder.
//!
//! Why it is shaped so: the names come from URLs, so they are hostile until proven otherwise.
//! A name must be a plain relative path (no `..`, no root, not a `.part` still being written:
//! the recorder's own `recording_path` rule) ending in `.wav`, and the file it reaches, with
//! symbolic links resolved, must still lie inside the folder. The file is streamed in chunks,
//! never read whole, and a single `Range` is honoured so a browser's audio player can seek.
//! Recordings are citizens' voices: the reply forbids caching.
//!
//! Who hears what: a recording is served only when it belongs to a message (its voice message,
//! the manager's reply, or the recorded conversation) that the caller may see: staff any such
//! message, a manager only those referred to their mailbox. Anything else is 404, never 403, so
//! a name cannot be confirmed by trying it. Agents are refused (403) as before. Every served
//! recording is written to the audit log before a byte leaves; when the log cannot be written
//! the answer is 503, never an unlogged listen.

use std::io::SeekFrom;
use std::path::{Path as FsPath, PathBuf};

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use super::auth::StaffOrManager;
use super::message_access::unavailable;
use super::{ApiError, Authorized, WebState};
use crate::drivers::media::recording_path;
use crate::store::{AuditEntry, Role};

/// Bytes read from disk per chunk of the reply.
const CHUNK: usize = 64 * 1024;

pub(super) async fn get_recording(
    caller: Authorized<StaffOrManager>,
    State(state): State<WebState>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let path = resolve(&state.recordings_dir, &name).await?;
    let (code, which) = allowed_recording(&state, &caller.role, &name).await?;
    let mut file = match tokio::fs::File::open(&path).await {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Err(ApiError::NotFound)
        }
        Err(error) => {
            tracing::error!(%error, path = %path.display(), "cannot open a recording");
            return Err(ApiError::Unavailable);
        }
    };
    let length = match file.metadata().await {
        Ok(meta) if meta.is_file() => meta.len(),
        Ok(_) => return Err(ApiError::NotFound),
        Err(error) => {
            tracing::error!(%error, path = %path.display(), "cannot read a recording");
            return Err(ApiError::Unavailable);
        }
    };
    // Logged before a byte is sent: a listen the log does not show must not happen.
    let detail = format!("{which} {name}");
    let actor = caller.role.to_string();
    let logged = state
        .store
        .audit(AuditEntry {
            actor: &actor,
            channel: "web",
            action: "listen",
            tracking_code: code.as_deref(),
            detail: &detail,
        })
        .await;
    if let Err(error) = logged {
        tracing::error!(%error, "cannot log a listen; the recording is not served");
        return Err(ApiError::Unavailable);
    }
    let range = headers
        .get(header::RANGE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| parse_range(value, length));
    let (status, start, count) = match range {
        None => (StatusCode::OK, 0, length),
        Some(Err(Unsatisfiable)) => return Ok(unsatisfiable(length)),
        Some(Ok((start, end))) => (StatusCode::PARTIAL_CONTENT, start, end - start + 1),
    };
    if start > 0 {
        if let Err(error) = file.seek(SeekFrom::Start(start)).await {
            tracing::error!(%error, path = %path.display(), "cannot seek in a recording");
            return Err(ApiError::Unavailable);
        }
    }
    let mut response = Response::new(Body::from_stream(chunks(file, count)));
    *response.status_mut() = status;
    let out = response.headers_mut();
    out.insert(header::CONTENT_TYPE, HeaderValue::from_static("audio/wav"));
    out.insert(header::CONTENT_LENGTH, HeaderValue::from(count));
    out.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    out.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    out.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if status == StatusCode::PARTIAL_CONTENT {
        let end = start + count - 1;
        if let Ok(value) = HeaderValue::from_str(&format!("bytes {start}-{end}/{length}")) {
            out.insert(header::CONTENT_RANGE, value);
        }
    }
    Ok(response)
}

/// The message's code and which of its recordings `name` is, if `role` may hear it; else 404.
async fn allowed_recording(
    state: &WebState,
    role: &Role,
    name: &str,
) -> Result<(Option<String>, &'static str), ApiError> {
    let row = state
        .store
        .message_of_recording(name)
        .await
        .map_err(unavailable("find a recording's message"))?
        .ok_or(ApiError::NotFound)?;
    let allowed = match role {
        Role::Admin | Role::Supervisor | Role::Screener => true,
        Role::Manager(mailbox) => row.mailbox.as_deref() == Some(mailbox.as_str()),
        Role::Agent(_) => false,
    };
    if !allowed {
        return Err(ApiError::NotFound);
    }
    let which = if row.recording.as_deref() == Some(name) {
        "voice message"
    } else if row.reply_recording.as_deref() == Some(name) {
        "reply"
    } else {
        "conversation"
    };
    Ok((row.tracking_code, which))
}

/// The file `name` names inside `dir`: 400 for a name that tries to leave the folder, 404 for
/// anything that is not an existing `.wav` inside it.
async fn resolve(dir: &FsPath, name: &str) -> Result<PathBuf, ApiError> {
    let path = recording_path(dir, name).ok_or_else(|| {
        ApiError::BadRequest("a recording name is a relative path inside the folder".into())
    })?;
    if name.contains('\\') || name.contains('\0') {
        return Err(ApiError::BadRequest(
            "a recording name is a relative path inside the folder".into(),
        ));
    }
    let is_wav = path
        .extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case("wav"));
    if !is_wav {
        return Err(ApiError::NotFound);
    }
    // Symbolic links may point anywhere: what counts is where the file really is.
    let (Ok(real_dir), Ok(real_path)) = (
        tokio::fs::canonicalize(dir).await,
        tokio::fs::canonicalize(&path).await,
    ) else {
        return Err(ApiError::NotFound);
    };
    if !real_path.starts_with(&real_dir) {
        tracing::warn!(name, "a recording name led outside the recordings folder");
        return Err(ApiError::NotFound);
    }
    Ok(real_path)
}

/// `count` bytes of `file` from where it stands, in chunks; a file that shrinks meanwhile ends
/// the body early (the client sees a short body against `Content-Length`).
fn chunks(
    file: tokio::fs::File,
    count: u64,
) -> impl futures_util::Stream<Item = std::io::Result<Bytes>> {
    futures_util::stream::unfold((file, count), |(mut file, left)| async move {
        if left == 0 {
            return None;
        }
        let size = usize::try_from(left).map_or(CHUNK, |left| left.min(CHUNK));
        let mut buffer = vec![0_u8; size];
        match file.read(&mut buffer).await {
            Ok(0) => None,
            Ok(read) => {
                buffer.truncate(read);
                Some((Ok(Bytes::from(buffer)), (file, left - read as u64)))
            }
            Err(error) => Some((Err(error), (file, 0))),
        }
    })
}

/// A range that starts at or past the end of the file.
#[derive(Debug, PartialEq, Eq)]
struct Unsatisfiable;

/// One byte range of `Range: bytes=…` (RFC 9110 §14.1.2) as inclusive `(first, last)`.
/// `None` means "ignore the header and send the whole file": not `bytes`, malformed, or
/// several ranges (which a server may answer with the whole representation).
fn parse_range(value: &str, length: u64) -> Option<Result<(u64, u64), Unsatisfiable>> {
    let spec = value.trim().strip_prefix("bytes=")?.trim();
    if spec.contains(',') {
        return None;
    }
    let (first, last) = spec.split_once('-')?;
    let (first, last) = (first.trim(), last.trim());
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if first.is_empty() {
        // `bytes=-N`: the last N bytes.
        if !digits(last) {
            return None;
        }
        let suffix: u64 = last.parse().ok()?;
        if suffix == 0 || length == 0 {
            return Some(Err(Unsatisfiable));
        }
        return Some(Ok((length.saturating_sub(suffix), length - 1)));
    }
    if !digits(first) || !(last.is_empty() || digits(last)) {
        return None;
    }
    let first: u64 = first.parse().ok()?;
    let last: u64 = if last.is_empty() {
        u64::MAX
    } else {
        last.parse().ok()?
    };
    if last < first {
        return None;
    }
    if first >= length {
        return Some(Err(Unsatisfiable));
    }
    Some(Ok((first, last.min(length - 1))))
}

fn unsatisfiable(length: u64) -> Response {
    let body = axum::Json(serde_json::json!({ "error": "range not satisfiable" }));
    let mut response = (StatusCode::RANGE_NOT_SATISFIABLE, body).into_response();
    if let Ok(value) = HeaderValue::from_str(&format!("bytes */{length}")) {
        response.headers_mut().insert(header::CONTENT_RANGE, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::super::test_http::{TestResult, TestServer};
    use super::*;
    use crate::store::{Role, Screening};

    /// A canonical 44-byte-header WAV of `samples` 16-bit samples at 8 kHz.
    fn wav(samples: usize) -> Vec<u8> {
        let data = (samples * 2) as u32;
        let mut out = Vec::new();
        out.extend_from_slice(b"RIFF");
        out.extend_from_slice(&(36 + data).to_le_bytes());
        out.extend_from_slice(b"WAVEfmt ");
        out.extend_from_slice(&16_u32.to_le_bytes());
        out.extend_from_slice(&1_u16.to_le_bytes());
        out.extend_from_slice(&1_u16.to_le_bytes());
        out.extend_from_slice(&8_000_u32.to_le_bytes());
        out.extend_from_slice(&16_000_u32.to_le_bytes());
        out.extend_from_slice(&2_u16.to_le_bytes());
        out.extend_from_slice(&16_u16.to_le_bytes());
        out.extend_from_slice(b"data");
        out.extend_from_slice(&data.to_le_bytes());
        for i in 0..samples {
            out.extend_from_slice(&((i % 251) as i16 * 97).to_le_bytes());
        }
        out
    }

    /// Files a voice message whose recording is `name`, so the recording may be served.
    async fn file_with(
        server: &TestServer,
        name: &str,
    ) -> Result<String, Box<dyn std::error::Error>> {
        // One call per name (a message is found by its call).
        let at = name.bytes().map(i64::from).sum::<i64>() * 1_000;
        let message = crate::web::messages::tests::message("complaint", "1888", at, Some(name));
        server
            .store
            .file_message(&message)
            .await?
            .ok_or_else(|| "a complaint gets a tracking code".into())
    }

    fn put(dir: &FsPath, name: &str, bytes: &[u8]) -> std::io::Result<()> {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, bytes)
    }

    #[test]
    fn ranges_follow_rfc_9110() {
        let ok = |a, b| Some(Ok((a, b)));
        assert_eq!(parse_range("bytes=0-99", 1000), ok(0, 99));
        assert_eq!(parse_range("bytes=500-", 1000), ok(500, 999));
        assert_eq!(parse_range("bytes=900-5000", 1000), ok(900, 999));
        assert_eq!(parse_range("bytes=-100", 1000), ok(900, 999));
        assert_eq!(parse_range("bytes=-5000", 1000), ok(0, 999));
        assert_eq!(parse_range("bytes=1000-", 1000), Some(Err(Unsatisfiable)));
        assert_eq!(parse_range("bytes=-0", 1000), Some(Err(Unsatisfiable)));
        for ignored in [
            "items=0-1",
            "bytes=0-1,5-6",
            "bytes=5-1",
            "bytes=a-b",
            "bytes=-",
            "bytes=1",
        ] {
            assert_eq!(parse_range(ignored, 1000), None, "{ignored}");
        }
    }

    #[tokio::test]
    async fn a_recording_streams_whole_or_by_range() -> TestResult {
        let server = TestServer::start("web-recordings").await?;
        let token = server.store.create_token(&Role::Screener).await?;
        let bytes = wav(200_000); // 25 s: several chunks
        let name = "2026/11/23/call1-take1-0a1b2c3d.wav";
        put(&server.recordings, name, &bytes)?;
        file_with(&server, name).await?;
        let path = format!("/api/recordings/{name}");
        let reply = server.get_bytes(&path, Some(&token), None).await?;
        assert_eq!(reply.status, 200);
        assert_eq!(reply.header("content-type"), Some("audio/wav"));
        assert_eq!(reply.header("cache-control"), Some("no-store"));
        assert_eq!(reply.header("accept-ranges"), Some("bytes"));
        assert_eq!(reply.body.len(), bytes.len());
        assert!(reply.body == bytes, "the file comes back byte for byte");

        let reply = server
            .get_bytes(&path, Some(&token), Some("bytes=44-1043"))
            .await?;
        assert_eq!(reply.status, 206);
        let total = bytes.len();
        let expected = format!("bytes 44-1043/{total}");
        assert_eq!(reply.header("content-range"), Some(expected.as_str()));
        assert!(reply.body == bytes[44..1044]);
        let reply = server
            .get_bytes(&path, Some(&token), Some(&format!("bytes={total}-")))
            .await?;
        assert_eq!(reply.status, 416);
        Ok(())
    }

    #[tokio::test]
    async fn names_cannot_leave_the_folder() -> TestResult {
        let server = TestServer::start("web-recordings-escape").await?;
        let token = server.store.create_token(&Role::Admin).await?;
        put(&server.recordings, "ok.wav", &wav(10))?;
        file_with(&server, "ok.wav").await?;
        file_with(&server, "link.wav").await?;
        put(&server.recordings, "notes.txt", b"hello")?;
        put(&server.recordings, "2026/11/23/live.wav.part", &wav(10))?;
        let outside = server.recordings.with_file_name("outside.wav");
        std::fs::write(&outside, wav(10))?;
        std::os::unix::fs::symlink(&outside, server.recordings.join("link.wav"))?;
        assert_eq!(
            server
                .get_bytes("/api/recordings/ok.wav", Some(&token), None)
                .await?
                .status,
            200
        );
        for (path, expected) in [
            ("/api/recordings/../outside.wav", 400),
            ("/api/recordings/%2e%2e/outside.wav", 400),
            ("/api/recordings/2026/%2E%2E/%2E%2E/outside.wav", 400),
            ("/api/recordings//etc/passwd", 400),
            ("/api/recordings/%2Fetc%2Fpasswd", 400),
            ("/api/recordings/2026/11/23/live.wav.part", 400),
            ("/api/recordings/a%5C..%5Coutside.wav", 400),
            ("/api/recordings/link.wav", 404),
            ("/api/recordings/notes.txt", 404),
            ("/api/recordings/missing.wav", 404),
            ("/api/recordings/2026", 404),
            ("/api/recordings/", 404),
        ] {
            let reply = server.get_bytes(path, Some(&token), None).await?;
            assert_eq!(reply.status, expected, "{path}");
            let json: serde_json::Value = serde_json::from_slice(&reply.body)?;
            assert!(json["error"].is_string(), "{path}");
        }
        Ok(())
    }

    #[tokio::test]
    async fn recordings_are_for_staff_and_their_manager_not_agents() -> TestResult {
        let server = TestServer::start("web-recordings-roles").await?;
        put(&server.recordings, "m.wav", &wav(10))?;
        put(&server.recordings, "stray.wav", &wav(10))?;
        let code = file_with(&server, "m.wav").await?;
        let refer = Screening::Refer {
            mailbox: "77".into(),
        };
        server
            .store
            .screen_message(&code, &refer, "screener")
            .await?;
        server
            .store
            .add_manager("78", "Other", "1234", "correct horse")
            .await?;
        let path = "/api/recordings/m.wav";
        assert_eq!(server.get_bytes(path, None, None).await?.status, 401);
        for (role, expected, stray) in [
            (Role::Admin, 200, 404),
            (Role::Supervisor, 200, 404),
            (Role::Screener, 200, 404),
            (Role::Manager("77".into()), 200, 404),
            // Another manager's recording is "not found", exactly like a name never used.
            (Role::Manager("78".into()), 404, 404),
            (Role::Agent("2001".into()), 403, 403),
        ] {
            let token = server.store.create_token(&role).await?;
            let status = server.get_bytes(path, Some(&token), None).await?.status;
            assert_eq!(status, expected, "{role}");
            let status = server
                .get_bytes("/api/recordings/stray.wav", Some(&token), None)
                .await?
                .status;
            assert_eq!(status, stray, "{role}: a file of no message");
        }
        Ok(())
    }

    #[tokio::test]
    async fn every_served_recording_is_audited_first() -> TestResult {
        let server = TestServer::start("web-recordings-audit").await?;
        put(&server.recordings, "m.wav", &wav(10))?;
        let code = file_with(&server, "m.wav").await?;
        let token = server.store.create_token(&Role::Screener).await?;
        let reply = server
            .get_bytes("/api/recordings/m.wav", Some(&token), Some("bytes=0-9"))
            .await?;
        assert_eq!(reply.status, 206);
        let log = server.store.list_audit(10, None, Some(&code)).await?;
        assert_eq!(log.len(), 1, "{log:?}");
        assert_eq!(
            (
                log[0].actor.as_str(),
                log[0].channel.as_str(),
                log[0].action.as_str()
            ),
            ("screener", "web", "listen")
        );
        assert_eq!(log[0].detail, "voice message m.wav");
        // Refused requests are not listens.
        let agent = server
            .store
            .create_token(&Role::Agent("2001".into()))
            .await?;
        server
            .get_bytes("/api/recordings/m.wav", Some(&agent), None)
            .await?;
        assert_eq!(
            server.store.list_audit(10, None, Some(&code)).await?.len(),
            1
        );
        Ok(())
    }
}
