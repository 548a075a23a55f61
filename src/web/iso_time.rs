//! Unix milliseconds to ISO-8601 UTC text, e.g. `2026-11-23T15:41:53.123Z`.
//!
//! Why our own: the API needs exactly one format, and a calendar crate for one function is not
//! worth the weight. The date part is Howard Hinnant's `civil_from_days` (proleptic Gregorian,
//! exact for the whole `i64` day range), which is checked below against published timestamps
//! and against a naive day-by-day calendar.

const MS_PER_DAY: i64 = 86_400_000;

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

/// (year, month 1..=12, day 1..=31) of the day `days` after 1970-01-01.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    // Shift the epoch to 0000-03-01 so the leap day ends each 400-year era's year.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
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

    fn is_leap(year: i64) -> bool {
        (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
    }

    #[test]
    fn agrees_with_a_naive_calendar_from_1900_to_2500() {
        let mut date = (1900_i64, 1_i64, 1_i64);
        let first_day = -25_567; // 1900-01-01, see known_instants
        for days in first_day..first_day + 600 * 366 {
            assert_eq!(civil_from_days(days), date, "day {days}");
            let month_length = match date.1 {
                2 if is_leap(date.0) => 29,
                2 => 28,
                4 | 6 | 9 | 11 => 30,
                _ => 31,
            };
            date = match date {
                (y, 12, 31) => (y + 1, 1, 1),
                (y, m, d) if d == month_length => (y, m + 1, 1),
                (y, m, d) => (y, m, d + 1),
            };
        }
    }

    #[test]
    fn extreme_inputs_do_not_panic() {
        assert!(iso8601_utc(i64::MAX).ends_with(".807Z"));
        assert!(iso8601_utc(i64::MIN).ends_with(".192Z"));
    }
}
