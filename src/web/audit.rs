//! `GET /api/audit?limit=&before=&tracking_code=`: the audit log, newest first, for admins.
//!
//! Why admins only: the log says who listened to which citizen's voice; that is itself personal
//! data about staff and citizens, and only those who answer for the service read it.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};

use super::auth::AdminOnly;
use super::limit::parse_limit;
use super::message_access::{unavailable, valid_code};
use super::messages::private;
use super::{iso8601_utc, ApiError, Authorized, WebState};

#[derive(Deserialize)]
pub(super) struct AuditQuery {
    limit: Option<String>,
    /// Only entries older than this id (the last `id` of the previous page).
    before: Option<String>,
    tracking_code: Option<String>,
}

#[derive(Serialize)]
struct AuditJson {
    id: i64,
    at: String,
    actor: String,
    channel: String,
    action: String,
    tracking_code: Option<String>,
    detail: String,
}

pub(super) async fn list_audit(
    _caller: Authorized<AdminOnly>,
    State(state): State<WebState>,
    query: Result<Query<AuditQuery>, QueryRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let Query(query) = query.map_err(|rejection| ApiError::BadRequest(rejection.body_text()))?;
    let limit = parse_limit(query.limit.as_deref())?;
    let before = match query.before.as_deref() {
        None => None,
        Some(text) => Some(
            text.trim()
                .parse::<i64>()
                .ok()
                .filter(|id| *id > 0)
                .ok_or_else(|| ApiError::BadRequest("before must be an entry id".into()))?,
        ),
    };
    let code = match query.tracking_code.as_deref() {
        None => None,
        Some(text) => Some(
            valid_code(text)
                .ok_or_else(|| ApiError::BadRequest("tracking_code is not a valid code".into()))?,
        ),
    };
    let rows = state
        .store
        .list_audit(limit, before, code.as_deref())
        .await
        .map_err(unavailable("read the audit log"))?;
    let entries: Vec<AuditJson> = rows
        .into_iter()
        .map(|row| AuditJson {
            id: row.id,
            at: iso8601_utc(row.at),
            actor: row.actor,
            channel: row.channel,
            action: row.action,
            tracking_code: row.tracking_code,
            detail: row.detail,
        })
        .collect();
    Ok(private(entries))
}
