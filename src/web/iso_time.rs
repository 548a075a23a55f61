//! Unix milliseconds to ISO-8601 UTC text, e.g. `2026-11-23T15:41:53.123Z`.
//!
//! Why our own: the API needs exactly one format, and a calendar crate for one function is not
//! worth the weight. The date part is `calendar::civil_from_days` (proleptic Gregorian, checked
//! there against a naive day-by-day calendar); the tests below check whole instants against
//! published timestamps.

use crate::calendar::{civil_from_days, MS_PER_DAY};

/// Formats `unix_ms` (milliseconds since 1970-01-01T00:00:00Z) as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
/// Times before 1970 work; years outside 0..=9999 print with more digits or a sign.
pub fn iso8601_utc(unix_ms: i64) -> String {
    let days = unix_ms.div_euclid(MS_PER_DAY);
    let ms_of_day = unix_ms.rem_euclid(MS_PER_DAY);
    let (year, month, day) = civil_from_days(days);
    let (hour, minute) = (ms_of_day / 3_600_000, ms_of_day / 60_000 % 60);
    let (second, milli) = (ms_of_day / 1_000 % 60, ms_of_day % 1_000);
    format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{milli:03}Z")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_instants() {
        // Expected values computed independently (Python's datetime, UTC).
        let cases = [
            (0, "1970-01-01T00:00:00.000Z"),
            (1_795_448_513_123, "2026-11-23T15:41:53.123Z"),
            (951_782_400_000, "2000-02-29T00:00:00.000Z"),
            (-1, "1969-12-31T23:59:59.999Z"),
            (4_107_542_400_000, "2100-03-01T00:00:00.000Z"),
            (-2_208_988_800_000, "1900-01-01T00:00:00.000Z"),
            (253_402_300_799_999, "9999-12-31T23:59:59.999Z"),
        ];
        for (unix_ms, text) in cases {
            assert_eq!(iso8601_utc(unix_ms), text, "{unix_ms}");
        }
    }

    #[test]
    fn extreme_inputs_do_not_panic() {
        assert!(iso8601_utc(i64::MAX).ends_with(".807Z"));
        assert!(iso8601_utc(i64::MIN).ends_with(".192Z"));
    }
}
