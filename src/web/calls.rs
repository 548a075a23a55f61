//! `GET /api/calls?limit=N`: the most recent call detail records, newest first.
//!
//! Why a separate JSON type: the store speaks Unix milliseconds, people and scripts read
//! ISO-8601, and the wire shape must not change when the record type grows a field.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;
use serde::{Deserialize, Serialize};

use super::limit::parse_limit;
use super::{iso8601_utc, AdminOrSupervisor, ApiError, Authorized, WebState};
use crate::engine::CallRecord;

#[derive(Deserialize)]
pub(super) struct CallsQuery {
    /// Kept as text so a bad value gets our JSON error, not the framework's plain-text one.
    limit: Option<String>,
}

/// One call as the API shows it; absent times are `null`.
#[derive(Debug, Serialize)]
struct CallJson {
    /// The engine's own identifier of the call: unique, unlike the Call-ID the phone chose.
    call_ref: String,
    call_id: String,
    from: String,
    to: String,
    started_at: String,
    answered_at: Option<String>,
    ended_at: Option<String>,
    disposition: String,
    hangup_by: String,
    dtmf: String,
}

impl From<CallRecord> for CallJson {
    fn from(record: CallRecord) -> Self {
        CallJson {
            call_ref: record.call_ref,
            call_id: record.call_id,
            from: record.from,
            to: record.to,
            started_at: iso8601_utc(record.started_at),
            answered_at: record.answered_at.map(iso8601_utc),
            ended_at: record.ended_at.map(iso8601_utc),
            disposition: record.disposition,
            hangup_by: record.hangup_by,
            dtmf: record.dtmf,
        }
    }
}

pub(super) async fn list_calls(
    _caller: Authorized<AdminOrSupervisor>,
    State(state): State<WebState>,
    query: Result<Query<CallsQuery>, QueryRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let Query(query) = query.map_err(|rejection| ApiError::BadRequest(rejection.body_text()))?;
    let limit = parse_limit(query.limit.as_deref())?;
    let records = state.store.list_calls(limit).await.map_err(|error| {
        tracing::error!(%error, "cannot list calls");
        ApiError::Unavailable
    })?;
    let calls: Vec<CallJson> = records.into_iter().map(CallJson::from).collect();
    // Caller numbers are personal data: no shared cache may keep them.
    Ok(([(header::CACHE_CONTROL, "no-store")], Json(calls)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_become_iso_times_and_nulls() {
        let record = CallRecord {
            call_ref: "00c0ffee00c0ffee".into(),
            call_id: "c1".into(),
            from: "09121234567".into(),
            to: "1888".into(),
            started_at: 1_795_448_513_123,
            answered_at: None,
            ended_at: Some(1_795_448_514_000),
            disposition: "cancelled".into(),
            hangup_by: "caller".into(),
            dtmf: String::new(),
        };
        let json = serde_json::to_value(CallJson::from(record)).ok();
        let expected = serde_json::json!({
            "call_ref": "00c0ffee00c0ffee", "call_id": "c1", "from": "09121234567", "to": "1888",
            "started_at": "2026-11-23T15:41:53.123Z", "answered_at": null,
            "ended_at": "2026-11-23T15:41:54.000Z", "disposition": "cancelled",
            "hangup_by": "caller", "dtmf": ""
        });
        assert_eq!(json, Some(expected));
    }
}
