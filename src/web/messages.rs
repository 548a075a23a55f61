//! The register over HTTP: `GET /api/messages` (the list), `GET /api/messages/{code}` (one
//! message) and `PATCH /api/messages/{code}` (a call-taker's or screener's corrections).
//!
//! Why it is shaped so: the wire type is separate from the store row, so the JSON keeps its
//! shape when the table grows, times are ISO-8601 like `/api/calls`, and a recording is shown as
//! the URL that plays it (`/api/recordings/...`) rather than a file name a client would have to
//! know how to turn into one. Every value a client sends is checked here against the same closed
//! lists the IVR uses (message kinds, statuses, districts 1-22), so the register never holds a
//! status the follow-up line could not read out. A tracking code with a wrong check digit is
//! simply "not found": it can never name another message.

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue};
use axum::response::IntoResponse;
use axum::Json;
use serde::{Deserialize, Serialize};

use super::auth::{StaffAgentOrManager, StaffOrAgent, StaffOrManager};
use super::limit::parse_limit;
use super::message_access::{message_for, unavailable};
use super::{iso8601_utc, ApiError, Authorized, WebState};
use crate::calendar::{days_from_civil, days_in_month, tehran_local, MS_PER_DAY};
use crate::ivr::case::MESSAGE_STATUSES;
use crate::ivr::MessageKind;
use crate::store::{check_mailbox, MessageCursor, MessageFilter, MessageRow, MessageUpdate, Role};

/// Longest category name and line name accepted (they are short identifiers).
const MAX_NAME_CHARS: usize = 100;
/// Longest transcription or note a client may store on a message.
const MAX_TEXT_CHARS: usize = 20_000;

/// Query of `GET /api/messages`; kept as text so bad values get our JSON 400.
#[derive(Deserialize)]
pub(super) struct ListQuery {
    line: Option<String>,
    kind: Option<String>,
    since: Option<String>,
    limit: Option<String>,
    /// Where the page starts: the `X-Next-Cursor` of the previous page.
    cursor: Option<String>,
    status: Option<String>,
    /// Messages referred to this manager's mailbox.
    mailbox: Option<String>,
}

/// One message as the API shows it; absent values are `null`.
#[derive(Debug, Serialize)]
pub(super) struct MessageJson {
    tracking_code: Option<String>,
    /// The call it came from, as `/api/calls` names it (`call_ref`).
    call_ref: Option<String>,
    call_id: String,
    line: String,
    kind: String,
    district: Option<i64>,
    category: Option<String>,
    case_number: Option<String>,
    caller: String,
    status: String,
    text: Option<String>,
    created_at: String,
    recording_url: Option<String>,
    reply_recording_url: Option<String>,
    /// The recorded conversation with a call-taker, when the queue records.
    call_recording_url: Option<String>,
    /// The date in the Solar Hijri calendar, Tehran time (`1405/09/02 19:11`), for Persian pages.
    received_jalali: String,
    /// The manager's mailbox a screener referred it to.
    mailbox: Option<String>,
    /// Why a screener did not refer it (`incomplete_message`, ...).
    reject_reason: Option<String>,
    screened_by: Option<String>,
    screened_at: Option<String>,
    replied_at: Option<String>,
    /// `phone` or `web`.
    reply_channel: Option<String>,
}

/// `1405/09/02 19:11`: the Tehran wall-clock date a Persian reader expects.
pub(super) fn jalali_time(unix_ms: i64) -> String {
    let (date, _, minute) = tehran_local(unix_ms.div_euclid(1_000));
    format!("{date} {:02}:{:02}", minute / 60, minute % 60)
}

impl From<MessageRow> for MessageJson {
    fn from(row: MessageRow) -> Self {
        MessageJson {
            tracking_code: row.tracking_code,
            call_ref: row.call_ref,
            call_id: row.call_id,
            line: row.line,
            kind: row.kind,
            district: row.district,
            category: row.category,
            case_number: row.case_number,
            caller: row.caller,
            status: row.status,
            text: row.text,
            created_at: iso8601_utc(row.created_at),
            recording_url: row.recording.as_deref().map(recording_url),
            reply_recording_url: row.reply_recording.as_deref().map(recording_url),
            call_recording_url: row.call_recording.as_deref().map(recording_url),
            received_jalali: jalali_time(row.created_at),
            mailbox: row.mailbox,
            reject_reason: row.reject_reason,
            screened_by: row.screened_by,
            screened_at: row.screened_at.map(iso8601_utc),
            replied_at: row.replied_at.map(iso8601_utc),
            reply_channel: row.reply_channel,
        }
    }
}

/// The URL that plays a recording of the recordings folder. Engine names are plain
/// (`2026/11/23/call7-take1-0a1b2c3d.wav`); anything else is percent-encoded, slashes kept.
pub(super) fn recording_url(name: &str) -> String {
    let mut url = String::from("/api/recordings/");
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            url.push(char::from(byte));
        } else {
            url.push_str(&format!("%{byte:02X}"));
        }
    }
    url
}

/// Messages hold callers' numbers and words: no shared cache may keep them.
pub(super) fn private<T: Serialize>(value: T) -> impl IntoResponse {
    ([(header::CACHE_CONTROL, "no-store")], Json(value))
}

pub(super) async fn list_messages(
    caller: Authorized<StaffOrManager>,
    State(state): State<WebState>,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let Query(query) = query.map_err(|rejection| ApiError::BadRequest(rejection.body_text()))?;
    let mut filter = parse_filter(&query)?;
    // A manager sees only their own mailbox: asking for another is refused outright (the
    // caller named it, so a 403 tells them nothing new), and no filter means "mine".
    if let Role::Manager(own) = &caller.role {
        if filter.mailbox.as_ref().is_some_and(|asked| asked != own) {
            return Err(ApiError::Forbidden);
        }
        filter.mailbox = Some(own.clone());
    }
    let cursor = match query.cursor.as_deref() {
        None => None,
        Some(text) => Some(MessageCursor::parse(text).ok_or_else(|| {
            ApiError::BadRequest("cursor must be the X-Next-Cursor of a previous page".into())
        })?),
    };
    let rows = state
        .store
        .list_messages_page(&filter, cursor)
        .await
        .map_err(unavailable("list messages"))?;
    // A full page may have more after it: say where the next one starts.
    let next = rows
        .last()
        .filter(|_| rows.len() == filter.limit as usize)
        .map(|row| MessageCursor::after(row).to_string());
    let messages: Vec<MessageJson> = rows.into_iter().map(MessageJson::from).collect();
    let mut response = private(messages).into_response();
    if let Some(value) = next.and_then(|next| HeaderValue::from_str(&next).ok()) {
        response.headers_mut().insert(NEXT_CURSOR, value);
    }
    Ok(response)
}

/// Response header of a full page of `GET /api/messages`: the `cursor` of the next page.
const NEXT_CURSOR: &str = "x-next-cursor";

pub(super) async fn get_message(
    caller: Authorized<StaffAgentOrManager>,
    State(state): State<WebState>,
    Path(code): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let row = message_for(&state, &caller.role, &code).await?;
    Ok(private(MessageJson::from(row)))
}

pub(super) async fn patch_message(
    caller: Authorized<StaffOrAgent>,
    State(state): State<WebState>,
    Path(code): Path<String>,
    body: Bytes,
) -> Result<impl IntoResponse, ApiError> {
    let update = parse_update(&body)?;
    // Checked before writing: an agent may not change a message it may not read.
    let code = message_for(&state, &caller.role, &code)
        .await?
        .tracking_code
        .ok_or(ApiError::NotFound)?;
    let row = state
        .store
        .update_message(&code, &update)
        .await
        .map_err(unavailable("update a message"))?
        .ok_or(ApiError::NotFound)?;
    Ok(private(MessageJson::from(row)))
}

fn parse_filter(query: &ListQuery) -> Result<MessageFilter, ApiError> {
    let line = match query.line.as_deref() {
        None => None,
        Some(line) => Some(name(line, "line")?),
    };
    let kind = match query.kind.as_deref() {
        None => None,
        Some(kind) => Some(message_kind(kind)?),
    };
    let since = query.since.as_deref().map(parse_since).transpose()?;
    let status = match query.status.as_deref().map(str::trim) {
        None => None,
        Some(status) if MESSAGE_STATUSES.contains(&status) => Some(status.to_string()),
        Some(_) => {
            return Err(ApiError::BadRequest(format!(
                "status must be one of {}",
                MESSAGE_STATUSES.join(", ")
            )))
        }
    };
    let mailbox = match query.mailbox.as_deref().map(str::trim) {
        None => None,
        Some(mailbox) => {
            check_mailbox(mailbox)
                .map_err(|_| ApiError::BadRequest("mailbox must be 2 to 8 digits".into()))?;
            Some(mailbox.to_string())
        }
    };
    Ok(MessageFilter {
        line,
        kind,
        since,
        status,
        mailbox,
        limit: parse_limit(query.limit.as_deref())?,
    })
}

/// A short identifier (line, category): not empty, no control characters, at most 100 chars.
fn name(text: &str, field: &str) -> Result<String, ApiError> {
    let text = text.trim();
    if text.is_empty()
        || text.chars().count() > MAX_NAME_CHARS
        || text.chars().any(char::is_control)
    {
        return Err(ApiError::BadRequest(format!(
            "{field} must be 1 to {MAX_NAME_CHARS} characters without control characters"
        )));
    }
    Ok(text.to_string())
}

fn message_kind(text: &str) -> Result<String, ApiError> {
    MessageKind::parse(text)
        .map(|kind| kind.as_str().to_string())
        .ok_or_else(|| {
            let kinds: Vec<&str> = MessageKind::ALL.iter().map(|k| k.as_str()).collect();
            ApiError::BadRequest(format!("kind must be one of {}", kinds.join(", ")))
        })
}

/// `since`: Unix milliseconds (digits only), or ISO-8601 UTC: `2026-11-23`,
/// `2026-11-23T15:41:53Z` or `2026-11-23T15:41:53.123Z`.
fn parse_since(text: &str) -> Result<i64, ApiError> {
    let bad = || {
        ApiError::BadRequest(
            "since must be Unix milliseconds or an ISO-8601 UTC time like 2026-11-23T15:41:53Z"
                .to_string(),
        )
    };
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse::<i64>().map_err(|_| bad());
    }
    parse_iso8601_utc(text).ok_or_else(bad)
}

/// Parses the ISO-8601 UTC forms `parse_since` accepts, to Unix milliseconds.
fn parse_iso8601_utc(text: &str) -> Option<i64> {
    let (date, time) = match text.split_once('T') {
        Some((date, time)) => (date, Some(time.strip_suffix('Z')?)),
        None => (text, None),
    };
    let number = |s: &str, len: usize| -> Option<i64> {
        (s.len() == len && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    let mut parts = date.split('-');
    let year = number(parts.next()?, 4)?;
    let month = u32::try_from(number(parts.next()?, 2)?).ok()?;
    let day = u32::try_from(number(parts.next()?, 2)?).ok()?;
    if parts.next().is_some() || !(1..=12).contains(&month) {
        return None;
    }
    if day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let mut ms = days_from_civil(year, month, day) * MS_PER_DAY;
    if let Some(time) = time {
        let (hms, fraction) = match time.split_once('.') {
            Some((hms, fraction)) => (hms, Some(fraction)),
            None => (time, None),
        };
        let mut parts = hms.split(':');
        let hour = number(parts.next()?, 2)?;
        let minute = number(parts.next()?, 2)?;
        let second = number(parts.next()?, 2)?;
        if parts.next().is_some() || hour > 23 || minute > 59 || second > 59 {
            return None;
        }
        ms += ((hour * 60 + minute) * 60 + second) * 1_000;
        if let Some(fraction) = fraction {
            if fraction.is_empty()
                || fraction.len() > 9
                || !fraction.bytes().all(|b| b.is_ascii_digit())
            {
                return None;
            }
            // Milliseconds: the first three digits, padded (".5" is 500 ms).
            let millis: String = fraction.chars().chain("000".chars()).take(3).collect();
            ms += millis.parse::<i64>().ok()?;
        }
    }
    Some(ms)
}

/// Body of `PATCH /api/messages/{code}`: any of these; absent or `null` leaves a field as it is.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PatchBody {
    kind: Option<String>,
    category: Option<String>,
    district: Option<i64>,
    text: Option<String>,
    status: Option<String>,
}

fn parse_update(body: &[u8]) -> Result<MessageUpdate, ApiError> {
    let patch: PatchBody = serde_json::from_slice(body)
        .map_err(|error| ApiError::BadRequest(format!("body must be a JSON object: {error}")))?;
    let mut update = MessageUpdate::default();
    if let Some(kind) = patch.kind {
        update.kind = Some(message_kind(&kind)?);
    }
    if let Some(category) = patch.category {
        update.category = Some(name(&category, "category")?);
    }
    if let Some(district) = patch.district {
        update.district = match u8::try_from(district) {
            Ok(d @ 1..=22) => Some(d),
            _ => return Err(ApiError::BadRequest("district must be 1 to 22".into())),
        };
    }
    if let Some(text) = patch.text {
        if text.chars().count() > MAX_TEXT_CHARS {
            return Err(ApiError::BadRequest(format!(
                "text must be at most {MAX_TEXT_CHARS} characters"
            )));
        }
        update.text = Some(text);
    }
    if let Some(status) = patch.status {
        let status = status.trim();
        if !MESSAGE_STATUSES.contains(&status) {
            return Err(ApiError::BadRequest(format!(
                "status must be one of {}",
                MESSAGE_STATUSES.join(", ")
            )));
        }
        update.status = Some(status.to_string());
    }
    let MessageUpdate {
        kind,
        category,
        district,
        text,
        status,
    } = &update;
    if kind.is_none()
        && category.is_none()
        && district.is_none()
        && text.is_none()
        && status.is_none()
    {
        return Err(ApiError::BadRequest(
            "give at least one of kind, category, district, text, status".into(),
        ));
    }
    Ok(update)
}

#[cfg(test)]
pub(super) mod tests {
    use super::super::test_http::{TestResult, TestServer};
    use super::*;
    use crate::engine::NewMessage;
    use crate::store::Role;

    pub(in super::super) fn message(
        kind: &str,
        line: &str,
        at: i64,
        recording: Option<&str>,
    ) -> NewMessage {
        NewMessage {
            call_ref: format!("ref-{at}"),
            call_id: format!("call-{at}"),
            line: line.into(),
            kind: kind.into(),
            district: Some(6),
            category: Some("asphalt".into()),
            case_number: None,
            caller: "09121234567".into(),
            recording: recording.map(str::to_string),
            created_at: at,
            stage: crate::engine::FilingStage::Whole,
        }
    }

    /// The same code with one digit changed (so its check digit no longer fits).
    fn mistyped(code: &str) -> String {
        let mut bytes = code.as_bytes().to_vec();
        bytes[3] = if bytes[3] == b'9' { b'0' } else { bytes[3] + 1 };
        String::from_utf8(bytes).unwrap_or_default()
    }

    pub(in super::super) async fn patch(
        server: &TestServer,
        path: &str,
        token: &str,
        body: &str,
    ) -> Result<super::super::test_http::Reply, Box<dyn std::error::Error>> {
        server
            .send(&format!(
                "PATCH {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\
                 Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            ))
            .await
    }

    #[test]
    fn since_takes_unix_ms_or_iso_utc() {
        assert_eq!(parse_since("0"), Ok(0));
        assert_eq!(parse_since("1795448513123"), Ok(1_795_448_513_123));
        assert_eq!(
            parse_since("2026-11-23T15:41:53.123Z"),
            Ok(1_795_448_513_123)
        );
        assert_eq!(parse_since("2026-11-23T15:41:53Z"), Ok(1_795_448_513_000));
        assert_eq!(parse_since("2026-11-23T15:41:53.1Z"), Ok(1_795_448_513_100));
        assert_eq!(parse_since("2000-02-29"), Ok(951_782_400_000));
        assert_eq!(parse_since("1969-12-31T23:59:59.999Z"), Ok(-1));
        for bad in [
            "",
            "yesterday",
            "-5",
            "2026-11-23T15:41:53",
            "2026-11-23T15:41:53+03:30",
            "2026-02-29",
            "2026-13-01",
            "2026-11-23T24:00:00Z",
            "2026-11-23T15:41:53.Z",
            "26-11-23",
            "99999999999999999999",
        ] {
            assert!(
                matches!(parse_since(bad), Err(ApiError::BadRequest(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn iso_parsing_inverts_the_formatter() {
        for ms in [
            0,
            -1,
            951_782_400_000,
            1_795_448_513_123,
            4_107_542_400_000,
            -2_208_988_800_000,
        ] {
            assert_eq!(parse_iso8601_utc(&iso8601_utc(ms)), Some(ms), "{ms}");
        }
        let mut day = -25_567_i64; // 1900-01-01
        while day < 200_000 {
            let ms = day * 86_400_000 + 45_296_789;
            assert_eq!(parse_iso8601_utc(&iso8601_utc(ms)), Some(ms), "{ms}");
            day += 17;
        }
    }

    #[test]
    fn recording_urls_keep_engine_names_and_encode_the_rest() {
        assert_eq!(
            recording_url("2026/11/23/call7-take1-0a1b2c3d.wav"),
            "/api/recordings/2026/11/23/call7-take1-0a1b2c3d.wav"
        );
        assert_eq!(
            recording_url("a b?#.wav"),
            "/api/recordings/a%20b%3F%23.wav"
        );
    }

    #[test]
    fn updates_are_checked_field_by_field() {
        let ok = parse_update(
            br#"{"kind":" complaint","category":"sidewalk","district":22,"text":"","status":"referred"}"#,
        );
        let Ok(update) = ok else {
            panic!("a good update was refused: {ok:?}")
        };
        assert_eq!(update.kind.as_deref(), Some("complaint"));
        assert_eq!(update.district, Some(22));
        assert_eq!(update.text.as_deref(), Some(""));
        assert_eq!(update.status.as_deref(), Some("referred"));
        let only_status = parse_update(br#"{"status":"closed","kind":null}"#);
        assert!(matches!(only_status, Ok(MessageUpdate { kind: None, .. })));
        for bad in [
            "",
            "[]",
            "{}",
            r#"{"kind":null}"#,
            r#"{"kind":"complain"}"#,
            r#"{"status":"done"}"#,
            r#"{"district":0}"#,
            r#"{"district":23}"#,
            r#"{"district":"6"}"#,
            r#"{"district":-1}"#,
            r#"{"category":"  "}"#,
            r#"{"tracking_code":"10000017"}"#,
            r#"{"status":"closed""#,
        ] {
            assert!(
                matches!(parse_update(bad.as_bytes()), Err(ApiError::BadRequest(_))),
                "{bad:?}"
            );
        }
    }

    #[tokio::test]
    async fn messages_are_listed_newest_first_and_filtered() -> TestResult {
        let server = TestServer::start("web-messages").await?;
        let token = server.store.create_token(&Role::Screener).await?;
        let recording = "2026/11/23/call1-take1-0a1b2c3d.wav";
        let codes = server
            .store
            .file_messages(&[
                message("complaint", "1888", 1_795_448_513_123, Some(recording)),
                message("case_inquiry", "1888", 1_795_448_600_000, None),
                message("urban_problem", "137", 1_795_448_700_000, None),
            ])
            .await?;
        let reply = server.get("/api/messages", Some(&token)).await?;
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(reply.header("cache-control"), Some("no-store"));
        let listed = reply.json()?;
        let kinds: Vec<&str> = listed
            .as_array()
            .map(|m| m.iter().filter_map(|m| m["kind"].as_str()).collect())
            .unwrap_or_default();
        assert_eq!(kinds, ["urban_problem", "case_inquiry", "complaint"]);
        assert_eq!(
            listed[2],
            serde_json::json!({
                "tracking_code": codes[0], "call_ref": "ref-1795448513123",
                "call_id": "call-1795448513123", "line": "1888",
                "kind": "complaint", "district": 6, "category": "asphalt", "case_number": null,
                "caller": "09121234567", "status": "new", "text": null,
                "created_at": "2026-11-23T15:41:53.123Z",
                "recording_url": format!("/api/recordings/{recording}"),
                "reply_recording_url": null,
                "call_recording_url": null,
                "received_jalali": "1405/09/02 19:11",
                "mailbox": null, "reject_reason": null, "screened_by": null,
                "screened_at": null, "replied_at": null, "reply_channel": null
            })
        );
        assert_eq!(listed[1]["tracking_code"], serde_json::Value::Null);

        let count = |value: serde_json::Value| value.as_array().map_or(0, Vec::len);
        for (query, expected) in [
            ("line=1888", 2),
            ("line=137&kind=urban_problem", 1),
            ("kind=complaint", 1),
            ("kind=guidance", 0),
            ("since=1795448600000", 2),
            ("since=2026-11-23T15:43:20Z", 2),
            ("since=2026-11-23T15:43:20.001Z", 1),
            ("since=2026-11-24", 0),
            ("limit=1", 1),
        ] {
            let reply = server
                .get(&format!("/api/messages?{query}"), Some(&token))
                .await?;
            assert_eq!(reply.status, 200, "{query}: {}", reply.body);
            assert_eq!(count(reply.json()?), expected, "{query}");
        }
        for query in [
            "limit=0",
            "limit=1001",
            "limit=x",
            "kind=nonsense",
            "since=tomorrow",
            "line=",
        ] {
            let reply = server
                .get(&format!("/api/messages?{query}"), Some(&token))
                .await?;
            assert_eq!(reply.status, 400, "{query}");
            assert!(reply.json()?["error"].is_string(), "{query}");
        }
        Ok(())
    }

    #[tokio::test]
    async fn the_list_is_for_staff_and_one_message_also_for_agents() -> TestResult {
        let server = TestServer::start("web-messages-roles").await?;
        let Some(code) = server
            .store
            .file_message(&message("suggestion", "1888", 5_000, None))
            .await?
        else {
            panic!("a suggestion gets a tracking code")
        };
        let one = format!("/api/messages/{code}");
        // Agent 2001 took the call; 2002 did not, and does not learn the message exists.
        server
            .store
            .link_agent_to_message(&code, "2001", 6_000)
            .await?;
        assert_eq!(server.get("/api/messages", None).await?.status, 401);
        assert_eq!(server.get(&one, None).await?.status, 401);
        // A manager lists their own (empty) mailbox, and this message, referred to nobody, is
        // not theirs; they never correct messages.
        let cases = [
            (Role::Admin, 200, 200, 200),
            (Role::Supervisor, 200, 200, 200),
            (Role::Screener, 200, 200, 200),
            (Role::Agent("2001".into()), 403, 200, 200),
            (Role::Agent("2002".into()), 403, 404, 404),
            (Role::Manager("77".into()), 200, 404, 403),
        ];
        for (role, list, single, patched) in cases {
            let token = server.store.create_token(&role).await?;
            let got = server.get("/api/messages", Some(&token)).await?.status;
            assert_eq!(got, list, "{role} list");
            let got = server.get(&one, Some(&token)).await?.status;
            assert_eq!(got, single, "{role} one");
            let got = patch(&server, &one, &token, r#"{"status":"referred"}"#)
                .await?
                .status;
            assert_eq!(got, patched, "{role} patch");
        }
        Ok(())
    }

    #[tokio::test]
    async fn one_message_by_code_and_a_mistyped_code_is_404() -> TestResult {
        let server = TestServer::start("web-message-one").await?;
        let token = server
            .store
            .create_token(&Role::Agent("2001".into()))
            .await?;
        let Some(code) = server
            .store
            .file_message(&message("complaint", "137", 7_000, None))
            .await?
        else {
            panic!("a complaint gets a tracking code")
        };
        server
            .store
            .link_agent_to_message(&code, "2001", 7_500)
            .await?;
        let reply = server
            .get(&format!("/api/messages/{code}"), Some(&token))
            .await?;
        assert_eq!(reply.status, 200, "{}", reply.body);
        let json = reply.json()?;
        assert_eq!(json["tracking_code"], code.as_str());
        assert_eq!(json["line"], "137");
        assert_eq!(json["recording_url"], serde_json::Value::Null);
        let persian: String = code
            .chars()
            .filter_map(|c| c.to_digit(10))
            .filter_map(|d| char::from_u32(0x06F0 + d))
            .collect();
        let encoded: String = persian.bytes().map(|b| format!("%{b:02X}")).collect();
        let reply = server
            .get(&format!("/api/messages/{encoded}"), Some(&token))
            .await?;
        assert_eq!(reply.status, 200, "Persian digits name the same message");
        for other in [mistyped(&code), "10000000".into(), "abc".into(), "1".into()] {
            let reply = server
                .get(&format!("/api/messages/{other}"), Some(&token))
                .await?;
            assert_eq!(reply.status, 404, "{other}");
            assert_eq!(reply.json()?["error"], "not found");
            let reply = patch(
                &server,
                &format!("/api/messages/{other}"),
                &token,
                r#"{"status":"closed"}"#,
            )
            .await?;
            assert_eq!(reply.status, 404, "patch {other}");
        }
        Ok(())
    }

    #[tokio::test]
    async fn corrections_are_saved_and_returned() -> TestResult {
        let server = TestServer::start("web-message-patch").await?;
        let token = server
            .store
            .create_token(&Role::Agent("2002".into()))
            .await?;
        let Some(code) = server
            .store
            .file_message(&message("criticism", "1888", 9_000, None))
            .await?
        else {
            panic!("a criticism gets a tracking code")
        };
        server
            .store
            .link_agent_to_message(&code, "2002", 9_500)
            .await?;
        let path = format!("/api/messages/{code}");
        let reply = patch(
            &server,
            &path,
            &token,
            r#"{"kind":"complaint","district":12,"text":"چاله در خیابان","status":"referred"}"#,
        )
        .await?;
        assert_eq!(reply.status, 200, "{}", reply.body);
        let json = reply.json()?;
        assert_eq!(json["kind"], "complaint");
        assert_eq!(json["district"], 12);
        assert_eq!(json["text"], "چاله در خیابان");
        assert_eq!(json["status"], "referred");
        assert_eq!(json["category"], "asphalt", "untouched fields stay");
        let again = server.get(&path, Some(&token)).await?.json()?;
        assert_eq!(again, json);
        let status = server.store.message_status(&code).await?;
        assert_eq!(status.map(|s| s.status).as_deref(), Some("referred"));

        for bad in [r#"{"status":"lost"}"#, r#"{"district":30}"#, "{}", "nope"] {
            let reply = patch(&server, &path, &token, bad).await?;
            assert_eq!(reply.status, 400, "{bad}");
            assert!(reply.json()?["error"].is_string(), "{bad}");
        }
        let unchanged = server.get(&path, Some(&token)).await?.json()?;
        assert_eq!(unchanged["status"], "referred");
        Ok(())
    }
}
