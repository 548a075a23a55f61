//! Which message a token may read or correct by its code.
//!
//! Staff see the whole register. A call-taker sees only the messages of calls it was connected
//! to (linked by the engine when the ACD connected it; see `store::messages::access`), during the
//! call and after it. Any other message is "not found", exactly like a code nobody was given, so
//! an agent's token cannot even tell which codes exist. A manager sees only the messages referred
//! to their mailbox, by the same rule.

use super::{ApiError, WebState};
use crate::ivr::tracking::check_tracking_code;
use crate::ivr::words::to_latin_digits;
use crate::store::{MessageRow, Role, StoreError};

pub(super) fn unavailable(action: &'static str) -> impl FnOnce(StoreError) -> ApiError {
    move |error| {
        tracing::error!(%error, "cannot {action}");
        ApiError::Unavailable
    }
}

/// The code in Latin digits when its check digit is right; `None` otherwise (a 404: a mistyped
/// code never reaches the database).
pub(super) fn valid_code(text: &str) -> Option<String> {
    let code = to_latin_digits(text.trim());
    check_tracking_code(&code).ok().map(|_| code)
}

/// The message with this code, if `role` may see it; else `NotFound`.
pub(super) async fn message_for(
    state: &WebState,
    role: &Role,
    code: &str,
) -> Result<MessageRow, ApiError> {
    let code = valid_code(code).ok_or(ApiError::NotFound)?;
    let row = state
        .store
        .message(&code)
        .await
        .map_err(unavailable("read a message"))?
        .ok_or(ApiError::NotFound)?;
    match role {
        Role::Admin | Role::Supervisor | Role::Screener => Ok(row),
        Role::Agent(agent) => {
            let handled = state
                .store
                .agent_handled(row.id, agent)
                .await
                .map_err(unavailable("check an agent's messages"))?;
            if handled {
                Ok(row)
            } else {
                Err(ApiError::NotFound)
            }
        }
        // A manager reads only what was referred to their mailbox; anything else does not exist
        // for them, like an agent's view of other calls.
        Role::Manager(mailbox) if row.mailbox.as_deref() == Some(mailbox.as_str()) => Ok(row),
        Role::Manager(_) => Err(ApiError::NotFound),
    }
}
