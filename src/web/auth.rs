//! Who may call what: a bearer-token extractor parameterised by the route's access rule.
//! The token comes from `Authorization: Bearer` or, for browsers, from the sign-in cookie.
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

use super::same_origin::cookie_request_allowed;
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

/// Staff who read the register: admins, supervisors and screeners (the message list).
pub struct Staff;

impl AccessRule for Staff {
    fn allows(role: &Role) -> bool {
        matches!(role, Role::Admin | Role::Supervisor | Role::Screener)
    }
}

/// Staff and call-takers: one message by its code (to read and correct it) and the case files
/// a call-taker reads to a caller.
pub struct StaffOrAgent;

impl AccessRule for StaffOrAgent {
    fn allows(role: &Role) -> bool {
        Staff::allows(role) || matches!(role, Role::Agent(_))
    }
}

/// Staff and managers: voice messages and replies (managers listen to what citizens said).
pub struct StaffOrManager;

impl AccessRule for StaffOrManager {
    fn allows(role: &Role) -> bool {
        Staff::allows(role) || matches!(role, Role::Manager(_))
    }
}

/// Anyone who may read one message: staff, the call-taker who took the call, and the manager
/// whose mailbox it was referred to (each checked further in `message_access`).
pub struct StaffAgentOrManager;

impl AccessRule for StaffAgentOrManager {
    fn allows(role: &Role) -> bool {
        StaffOrAgent::allows(role) || matches!(role, Role::Manager(_))
    }
}

/// Staff who decide on voice messages: admins and screeners.
pub struct ScreenerOrAdmin;

impl AccessRule for ScreenerOrAdmin {
    fn allows(role: &Role) -> bool {
        matches!(role, Role::Admin | Role::Screener)
    }
}

/// Admins only (the audit log).
pub struct AdminOnly;

impl AccessRule for AdminOnly {
    fn allows(role: &Role) -> bool {
        matches!(role, Role::Admin)
    }
}

/// Managers only: replying and marking handled are theirs alone.
pub struct ManagerOnly;

impl AccessRule for ManagerOnly {
    fn allows(role: &Role) -> bool {
        matches!(role, Role::Manager(_))
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
        let token = request_token(&parts.headers).ok_or(ApiError::MissingToken)?;
        let by_cookie = !parts.headers.contains_key(header::AUTHORIZATION);
        if by_cookie && !cookie_request_allowed(&parts.method, &parts.headers) {
            return Err(ApiError::Forbidden);
        }
        let role = match role_of(state, token).await {
            Ok(role) => role,
            Err(ApiError::InvalidToken) => {
                // A token the store does not know: revoked, mistyped, or guessed.
                let peer = parts
                    .extensions
                    .get::<super::PeerAddr>()
                    .map_or_else(|| "-".to_string(), |p| p.0.ip().to_string());
                let path = parts.uri.path();
                tracing::warn!(%peer, %path, "API authentication failed: unknown token");
                return Err(ApiError::InvalidToken);
            }
            Err(other) => return Err(other),
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

/// The cookie that the sign-in page sets: browsers' `EventSource` cannot send an
/// `Authorization` header, so `/api` routes also take the token from it.
pub(super) const TOKEN_COOKIE: &str = "pasokh_token";

/// The role a token stands for: `InvalidToken` when the store does not know it.
pub(super) async fn role_of(state: &WebState, token: &str) -> Result<Role, ApiError> {
    match state.store.verify_token(token).await {
        Ok(Some(role)) => Ok(role),
        Ok(None) => Err(ApiError::InvalidToken),
        Err(error) => {
            tracing::error!(%error, "cannot check an API token");
            Err(ApiError::Unavailable)
        }
    }
}

/// The request's token: from `Authorization: Bearer` when that header is present (then only from
/// it), else from the `pasokh_token` cookie.
pub(super) fn request_token(headers: &HeaderMap) -> Option<&str> {
    if headers.contains_key(header::AUTHORIZATION) {
        return bearer_token(headers);
    }
    cookie_token(headers)
}

/// The value of the `pasokh_token` cookie (RFC 6265 §5.4: `name=value` pairs split by `;`).
pub(super) fn cookie_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| name.trim() == TOKEN_COOKIE)
        .map(|(_, value)| value.trim().trim_matches('"'))
        .filter(|value| !value.is_empty())
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

    fn headers_with_cookies(cookies: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for cookie in cookies {
            if let Ok(value) = HeaderValue::from_str(cookie) {
                headers.append(header::COOKIE, value);
            }
        }
        headers
    }

    #[test]
    fn the_sign_in_cookie_carries_a_token() {
        for cookies in [
            &["pasokh_token=psk_1"][..],
            &["theme=dark; pasokh_token=psk_1; lang=fa"],
            &["theme=dark", "pasokh_token=\"psk_1\""],
            &[" pasokh_token = psk_1"],
        ] {
            let headers = headers_with_cookies(cookies);
            assert_eq!(request_token(&headers), Some("psk_1"), "{cookies:?}");
        }
        for cookies in [
            &["pasokh_token="][..],
            &["pasokh_tokenx=psk_1"],
            &["xpasokh_token=psk_1"],
            &["theme=dark"],
        ] {
            assert_eq!(request_token(&headers_with_cookies(cookies)), None);
        }
    }

    #[test]
    fn an_authorization_header_takes_precedence_over_the_cookie() {
        let mut headers = headers_with_cookies(&["pasokh_token=psk_cookie"]);
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer psk_1"),
        );
        assert_eq!(request_token(&headers), Some("psk_1"));
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Basic YTpi"),
        );
        assert_eq!(request_token(&headers), None);
    }

    #[test]
    fn call_records_are_for_admins_and_supervisors_only() {
        assert!(AdminOrSupervisor::allows(&Role::Admin));
        assert!(AdminOrSupervisor::allows(&Role::Supervisor));
        assert!(!AdminOrSupervisor::allows(&Role::Screener));
        assert!(!AdminOrSupervisor::allows(&Role::Agent("2001".into())));
        assert!(!AdminOrSupervisor::allows(&Role::Manager("77".into())));
    }

    #[test]
    fn the_register_rules_name_their_roles() {
        let agent = Role::Agent("2001".into());
        let manager = Role::Manager("77".into());
        for staff in [Role::Admin, Role::Supervisor, Role::Screener] {
            assert!(Staff::allows(&staff));
            assert!(StaffOrAgent::allows(&staff));
            assert!(StaffOrManager::allows(&staff));
        }
        assert!(!Staff::allows(&agent) && !Staff::allows(&manager));
        assert!(StaffOrAgent::allows(&agent) && !StaffOrAgent::allows(&manager));
        assert!(StaffOrManager::allows(&manager) && !StaffOrManager::allows(&agent));
    }
}
