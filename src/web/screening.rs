//! Screening over HTTP: `POST /api/messages/{code}/screening` (refer a voice message to a
//! manager's mailbox, or not), `GET /api/screening` (the queue of voice messages waiting, with
//! the mailbox the configuration suggests for each) and `GET /api/managers` (whom to refer to).
//!
//! Why it is shaped so: the store makes the decision atomic (only a `new` message moves, with its
//! audit row in the same transaction), so two screeners clicking at once get one 200 and one 409.
//! This layer only turns the outcome into a status: 404 says whether the message or the mailbox
//! was missing, because a screener may see both lists anyway.

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};

use super::auth::ScreenerOrAdmin;
use super::limit::parse_limit;
use super::message_access::{unavailable, valid_code};
use super::messages::{private, MessageJson};
use super::{ApiError, Authorized, WebState};
use crate::store::{check_mailbox, Screening, ScreeningOutcome, REJECT_REASONS};

/// Body of `POST /api/messages/{code}/screening`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScreeningBody {
    decision: String,
    mailbox: Option<String>,
    reason: Option<String>,
}

fn parse_screening(body: &[u8]) -> Result<Screening, ApiError> {
    let body: ScreeningBody = serde_json::from_slice(body)
        .map_err(|error| ApiError::BadRequest(format!("body must be a JSON object: {error}")))?;
    match (body.decision.trim(), body.mailbox, body.reason) {
        ("refer", Some(mailbox), None) => {
            let mailbox = mailbox.trim().to_string();
            check_mailbox(&mailbox)
                .map_err(|_| ApiError::BadRequest("mailbox must be 2 to 8 digits".into()))?;
            Ok(Screening::Refer { mailbox })
        }
        ("reject", None, Some(reason)) => {
            let reason = reason.trim().to_string();
            if !REJECT_REASONS.contains(&reason.as_str()) {
                return Err(ApiError::BadRequest(format!(
                    "reason must be one of {}",
                    REJECT_REASONS.join(", ")
                )));
            }
            Ok(Screening::Reject { reason })
        }
        _ => Err(ApiError::BadRequest(
            "give {\"decision\":\"refer\",\"mailbox\":\"501\"} or \
             {\"decision\":\"reject\",\"reason\":\"...\"}"
                .into(),
        )),
    }
}

pub(super) async fn screen(
    caller: Authorized<ScreenerOrAdmin>,
    State(state): State<WebState>,
    Path(code): Path<String>,
    body: Bytes,
) -> Result<impl IntoResponse, ApiError> {
    let decision = parse_screening(&body)?;
    let code = valid_code(&code).ok_or(ApiError::NotFoundWhat("unknown message".into()))?;
    let actor = caller.role.to_string();
    let outcome = state
        .store
        .screen_message(&code, &decision, &actor)
        .await
        .map_err(unavailable("screen a message"))?;
    match outcome {
        ScreeningOutcome::Decided(row) => Ok(private(MessageJson::from(*row))),
        ScreeningOutcome::NotFound => Err(ApiError::NotFoundWhat("unknown message".into())),
        ScreeningOutcome::NotWaiting(status) => Err(ApiError::Conflict(format!(
            "the message is not waiting for screening (its status is {status})"
        ))),
        ScreeningOutcome::UnknownMailbox => Err(ApiError::NotFoundWhat(match decision {
            Screening::Refer { mailbox } => format!("unknown mailbox {mailbox}"),
            Screening::Reject { .. } => "unknown mailbox".into(),
        })),
        ScreeningOutcome::UnknownReason => Err(ApiError::BadRequest(format!(
            "reason must be one of {}",
            REJECT_REASONS.join(", ")
        ))),
    }
}

#[derive(Deserialize)]
pub(super) struct QueueQuery {
    limit: Option<String>,
}

/// One message of the screening queue: the message and the mailbox suggested for it.
#[derive(Serialize)]
struct QueueItem {
    #[serde(flatten)]
    message: MessageJson,
    suggested_mailbox: Option<String>,
}

/// `GET /api/screening`: voice messages waiting for a decision, oldest first.
pub(super) async fn queue(
    _caller: Authorized<ScreenerOrAdmin>,
    State(state): State<WebState>,
    query: Result<Query<QueueQuery>, QueryRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let Query(query) = query.map_err(|rejection| ApiError::BadRequest(rejection.body_text()))?;
    let limit = parse_limit(query.limit.as_deref())?;
    let rows = state
        .store
        .messages_to_screen(limit)
        .await
        .map_err(unavailable("list messages to screen"))?;
    let items: Vec<QueueItem> = rows
        .into_iter()
        .map(|row| {
            let district = row.district.and_then(|d| u8::try_from(d).ok());
            let suggested_mailbox = state
                .mailbox_routes
                .suggest(&row.line, district)
                .map(str::to_string);
            QueueItem {
                message: MessageJson::from(row),
                suggested_mailbox,
            }
        })
        .collect();
    Ok(private(items))
}

#[derive(Serialize)]
struct ManagerJson {
    mailbox: String,
    name: String,
}

/// `GET /api/managers`: `[{mailbox, name}]`, by mailbox (never a secret).
pub(super) async fn managers(
    _caller: Authorized<ScreenerOrAdmin>,
    State(state): State<WebState>,
) -> Result<impl IntoResponse, ApiError> {
    let rows = state
        .store
        .list_managers()
        .await
        .map_err(unavailable("list managers"))?;
    let managers: Vec<ManagerJson> = rows
        .into_iter()
        .map(|m| ManagerJson {
            mailbox: m.mailbox,
            name: m.name,
        })
        .collect();
    Ok(private(managers))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions_are_checked() {
        assert_eq!(
            parse_screening(br#"{"decision":"refer","mailbox":"501"}"#),
            Ok(Screening::Refer {
                mailbox: "501".into()
            })
        );
        assert_eq!(
            parse_screening(br#"{"decision":"reject","reason":"duplicate"}"#),
            Ok(Screening::Reject {
                reason: "duplicate".into()
            })
        );
        for bad in [
            "",
            "{}",
            r#"{"decision":"refer"}"#,
            r#"{"decision":"refer","mailbox":"5"}"#,
            r#"{"decision":"refer","mailbox":"50a"}"#,
            r#"{"decision":"reject","reason":"boring"}"#,
            r#"{"decision":"reject","reason":"duplicate","mailbox":"501"}"#,
            r#"{"decision":"maybe"}"#,
            r#"{"decision":"refer","mailbox":"501","x":1}"#,
        ] {
            assert!(
                matches!(
                    parse_screening(bad.as_bytes()),
                    Err(ApiError::BadRequest(_))
                ),
                "{bad}"
            );
        }
    }
}
