//! Who may call what: a bearer-token extractor parameterised by the route's access rule.
//!
//! Why an extractor with a type parameter: the rule sits in the handler's signature
//! (`Authorized<AdminOrSupervisor>`), so a handler cannot reach its body without the check and
//! a reader sees the route's rule where the route's code is. The token is checked against the
//! store on every request (one indexed lookup), so a token removed from the database stops
//! working at once, with no cache to invalidate.

use std::marker::PhantomData;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};

use super::{ApiError, WebState};
use crate::store::Role;

/// Decides whether a role may use a route.
pub trait AccessRule: Send + Sync + 'static {
    fn allows(role: &Role) -> bool;
}

/// Admins and supervisors: call records and live statistics.
pub struct AdminOrSupervisor;

impl AccessRule for AdminOrSupervisor {
    fn allows(role: &Role) -> bool {
        matches!(role, Role::Admin | Role::Supervisor)
    }
}

/// Proof that the request carried a valid token allowed by `R`; holds the caller's role.
pub struct Authorized<R> {
    pub role: Role,
    rule: PhantomData<fn() -> R>,
}

impl<R: AccessRule> FromRequestParts<WebState> for Authorized<R> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> Result<Self, ApiError> {
        let token = bearer_token(&parts.headers).ok_or(ApiError::MissingToken)?;
        let role = match state.store.verify_token(token).await {
            Ok(Some(role)) => role,
            Ok(None) => return Err(ApiError::InvalidToken),
            Err(error) => {
                tracing::error!(%error, "cannot check an API token");
                return Err(ApiError::Unavailable);
            }
        };
        if !R::allows(&role) {
            return Err(ApiError::Forbidden);
        }
        Ok(Authorized {
            role,
            rule: PhantomData,
        })
    }
}

/// The token of `Authorization: Bearer <token>`; the scheme is case-insensitive (RFC 7235 §2.1).
fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers_with(authorization: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Ok(value) = HeaderValue::from_str(authorization) {
            headers.insert(header::AUTHORIZATION, value);
        }
        headers
    }

    #[test]
    fn bearer_tokens_are_found_in_any_scheme_case() {
        for value in [
            "Bearer psk_1",
            "bearer psk_1",
            "BEARER   psk_1 ",
            " Bearer psk_1",
        ] {
            assert_eq!(
                bearer_token(&headers_with(value)),
                Some("psk_1"),
                "{value:?}"
            );
        }
    }

    #[test]
    fn other_schemes_and_empty_tokens_are_not_tokens() {
        for value in [
            "Basic dXNlcjpwdw==",
            "Bearer",
            "Bearer  ",
            "psk_1",
            "Bearerpsk_1",
            "",
        ] {
            assert_eq!(bearer_token(&headers_with(value)), None, "{value:?}");
        }
        assert_eq!(bearer_token(&HeaderMap::new()), None);
    }

    #[test]
    fn call_records_are_for_admins_and_supervisors_only() {
        assert!(AdminOrSupervisor::allows(&Role::Admin));
        assert!(AdminOrSupervisor::allows(&Role::Supervisor));
        assert!(!AdminOrSupervisor::allows(&Role::Screener));
        assert!(!AdminOrSupervisor::allows(&Role::Agent("2001".into())));
        assert!(!AdminOrSupervisor::allows(&Role::Manager("7".into())));
    }
}
