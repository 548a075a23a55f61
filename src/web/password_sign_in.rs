//! The password sign-in the managers' mailbox page and the agent page share: one flow, so the
//! lockout, the audit log and "an unknown account looks like a wrong password" hold for both.
//!
//! Failures count per account and per source address in the [`super::SignInLimiter`] (five in
//! 15 minutes, then 429 for the rest of the window); a good password clears its account's count
//! and gets a 12-hour session token for the account's role. Every sign-in and every failure,
//! lockouts included, is written to the audit log, and an attempt whose log entry cannot be
//! written is refused as unavailable.

use std::net::IpAddr;

use axum::http::{HeaderMap, StatusCode};

use super::mailbox::{ip_key, log, SESSION};
use super::wallboard::{form_value, same_origin};
use super::WebState;
use crate::store::{check_mailbox, Role, Secret, StoreError};

/// Who signs in with a password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Account {
    /// A manager: mailbox number and the web password (never the phone PIN).
    Manager,
    /// A call-taker: agent number and the softphone's password.
    Agent,
}

impl Account {
    /// The form field that names the account.
    fn field(self) -> &'static str {
        match self {
            Account::Manager => "mailbox",
            Account::Agent => "agent",
        }
    }

    fn well_formed(self, id: &str) -> bool {
        match self {
            Account::Manager => check_mailbox(id).is_ok(),
            Account::Agent => crate::store::check_name("agent id", id).is_ok(),
        }
    }

    fn role(self, id: String) -> Role {
        match self {
            Account::Manager => Role::Manager(id),
            Account::Agent => Role::Agent(id),
        }
    }

    /// The actor in the log and the audit log; malformed ids are not repeated there.
    fn actor(self, id: &str) -> String {
        let kind = match self {
            Account::Manager => "manager",
            Account::Agent => "agent",
        };
        if self.well_formed(id) {
            format!("{kind}:{id}")
        } else {
            format!("{kind}:?")
        }
    }

    async fn verify(self, state: &WebState, id: &str, password: &str) -> Result<bool, StoreError> {
        match self {
            Account::Manager => {
                state
                    .store
                    .verify_manager(id, Secret::Password, password)
                    .await
            }
            Account::Agent => {
                state
                    .store
                    .verify_agent_password(id, &state.phones.realm, password)
                    .await
            }
        }
    }
}

/// Why the sign-in form is shown again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Problem {
    /// Unknown account or wrong password: one answer for both.
    Wrong,
    Locked,
    Unavailable,
    OtherOrigin,
}

impl Problem {
    pub(super) fn status(self) -> StatusCode {
        match self {
            Self::Wrong => StatusCode::UNAUTHORIZED,
            Self::Locked => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::OtherOrigin => StatusCode::FORBIDDEN,
        }
    }

    pub(super) fn text(self, account: Account) -> &'static str {
        match (self, account) {
            (Self::Wrong, Account::Manager) => "شمارهٔ صندوق یا گذرواژه نادرست است.",
            (Self::Wrong, Account::Agent) => "شمارهٔ کارشناس یا گذرواژه نادرست است.",
            (Self::Locked, _) => {
                "تلاش‌های نادرست بیش از اندازه بود؛ پانزده دقیقه بعد دوباره تلاش کنید."
            }
            (Self::Unavailable, _) => "سامانه موقتاً پاسخ نمی‌دهد؛ چند لحظه بعد دوباره تلاش کنید.",
            (Self::OtherOrigin, _) => "این درخواست از صفحهٔ دیگری آمده است.",
        }
    }
}

/// Checks a sign-in form (`<field>` and `password`) from `peer`: the new session token, or why
/// not.
pub(super) async fn sign_in(
    account: Account,
    state: &WebState,
    peer: IpAddr,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<String, Problem> {
    if !same_origin(headers) {
        return Err(Problem::OtherOrigin);
    }
    let id = form_value(body, account.field()).unwrap_or_default();
    let id = crate::ivr::words::to_latin_digits(id.trim());
    let password = form_value(body, "password").unwrap_or_default();
    let account_key = format!("{}:{id}", account.field());
    let keys = [account_key.clone(), format!("ip:{}", ip_key(peer))];
    let actor = account.actor(&id);
    let limiter = &state.sign_in_limiter;
    let failed = |reason: &str| {
        tracing::warn!(%actor, %peer, %reason, "web sign-in failed");
    };
    // A failure that cannot be logged is not answered as a failure: the log is the record.
    let logged = |ok: bool, problem: Problem| {
        if ok {
            problem
        } else {
            Problem::Unavailable
        }
    };
    if limiter.locked(&keys) {
        failed("locked_out");
        // Logged as a failure too: a lockout is what an attack on an account looks like.
        let ok = log(state, &actor, "sign_in_failed", "locked out").await;
        return Err(logged(ok, Problem::Locked));
    }
    let verified = if account.well_formed(&id) && !password.is_empty() {
        account.verify(state, &id, &password).await
    } else {
        Ok(false)
    };
    match verified {
        Ok(true) => {}
        Ok(false) => {
            let (reason, detail) = match account {
                Account::Manager => ("wrong_mailbox_or_password", "wrong mailbox or password"),
                Account::Agent => ("wrong_agent_or_password", "wrong agent or password"),
            };
            failed(reason);
            limiter.failed(&keys);
            let ok = log(state, &actor, "sign_in_failed", detail).await;
            return Err(logged(ok, Problem::Wrong));
        }
        Err(error) => {
            tracing::error!(%error, %actor, "cannot check a password");
            return Err(Problem::Unavailable);
        }
    }
    limiter.succeeded(&account_key);
    let token = state
        .store
        .create_session_token(&account.role(id), SESSION)
        .await
        .map_err(|error| {
            tracing::error!(%error, %actor, "cannot make a web session");
            Problem::Unavailable
        })?;
    if !log(state, &actor, "sign_in", "password").await {
        return Err(Problem::Unavailable);
    }
    Ok(token)
}
