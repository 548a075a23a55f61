//! The `limit` query parameter of the list endpoints (`GET /api/calls`, `GET /api/messages`):
//! one rule, so the two cannot drift apart.

use super::ApiError;

/// Rows returned when the query names no `limit`.
pub(super) const DEFAULT_LIMIT: u32 = 50;
/// The most rows one request may ask for.
pub(super) const MAX_LIMIT: u32 = 1_000;

/// `limit` as given (kept as text by the handlers so a bad value gets our JSON error, not the
/// framework's plain-text one): absent is [`DEFAULT_LIMIT`], else a whole number from 1 to
/// [`MAX_LIMIT`], else a 400.
pub(super) fn parse_limit(text: Option<&str>) -> Result<u32, ApiError> {
    let Some(text) = text else {
        return Ok(DEFAULT_LIMIT);
    };
    match text.parse::<u32>() {
        Ok(limit) if (1..=MAX_LIMIT).contains(&limit) => Ok(limit),
        _ => Err(ApiError::BadRequest(format!(
            "limit must be a whole number from 1 to {MAX_LIMIT}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_default_and_are_bounded() {
        assert_eq!(parse_limit(None), Ok(50));
        assert_eq!(parse_limit(Some("1")), Ok(1));
        assert_eq!(parse_limit(Some("1000")), Ok(1000));
        for bad in [
            "0",
            "1001",
            "-1",
            "",
            "ten",
            "5.0",
            " 5",
            "99999999999999999999",
        ] {
            assert!(
                matches!(parse_limit(Some(bad)), Err(ApiError::BadRequest(_))),
                "{bad:?}"
            );
        }
    }
}
