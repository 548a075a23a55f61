//! API errors: one enum, one JSON shape, the right status and headers for each.
//!
//! Why an enum and not free-form strings: the status code is part of the contract (401 means
//! "get a token", 403 "this token may not", 503 "try again later"), so it is chosen in one
//! place. Messages never echo the token or any stored data back.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

/// Realm named in `WWW-Authenticate` challenges (RFC 6750 §3).
const REALM: &str = "pasokh";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// A query parameter or body is wrong; the text says which and how.
    BadRequest(String),
    /// No usable `Authorization: Bearer` header.
    MissingToken,
    /// A bearer token that the store does not know.
    InvalidToken,
    /// A valid token whose role may not use this endpoint.
    Forbidden,
    NotFound,
    /// Not found, saying what was missing (e.g. "unknown mailbox 509") where that reveals nothing
    /// the caller may not know.
    NotFoundWhat(String),
    /// The request conflicts with the resource's state (a message screened already).
    Conflict(String),
    /// The body is larger than the route accepts.
    TooLarge(String),
    /// Too many failed attempts; try again later.
    TooManyRequests,
    /// The store failed (disk full, file locked...); details go to the log, not the client.
    Unavailable,
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::MissingToken | Self::InvalidToken => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::NotFound | Self::NotFoundWhat(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn message(&self) -> String {
        match self {
            Self::BadRequest(reason)
            | Self::NotFoundWhat(reason)
            | Self::Conflict(reason)
            | Self::TooLarge(reason) => reason.clone(),
            Self::TooManyRequests => "too many failed attempts, try again later".to_string(),
            Self::MissingToken => "missing bearer token".to_string(),
            Self::InvalidToken => "invalid or unknown token".to_string(),
            Self::Forbidden => "this token's role may not use this endpoint".to_string(),
            Self::NotFound => "not found".to_string(),
            Self::Unavailable => "store unavailable, try again later".to_string(),
        }
    }

    /// The RFC 6750 challenge: plain for a missing token, `invalid_token` for a bad one.
    fn challenge(&self) -> Option<String> {
        match self {
            Self::MissingToken => Some(format!("Bearer realm=\"{REALM}\"")),
            Self::InvalidToken => {
                Some(format!("Bearer realm=\"{REALM}\", error=\"invalid_token\""))
            }
            _ => None,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Json(serde_json::json!({ "error": self.message() }));
        let mut response = (self.status(), body).into_response();
        if let Some(challenge) = self.challenge() {
            if let Ok(value) = HeaderValue::from_str(&challenge) {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, value);
            }
        }
        response
    }
}
