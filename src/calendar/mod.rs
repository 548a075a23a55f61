//! Dates for a Tehran hotline, in one place: Gregorian dates as days since 1970-01-01
//! ([`gregorian`]), the Solar Hijri calendar callers hear and key in ([`jalali`]), and Tehran's
//! wall clock ([`tehran_local`]).
//!
//! Every conversion goes through one integer, the number of days since 1970-01-01 (UTC): Unix
//! time counts days that way, so a timestamp, a Gregorian date and a Jalali date are each one
//! division or one function away from the others. Pure std code: no clock is read, time is
//! passed in.
//!
//! Time zone: Iran abolished daylight saving time in 2022, so Tehran is a fixed UTC+03:30
//! ([`TEHRAN_UTC_OFFSET_SECONDS`]). Nothing here models the older summer offset; a timestamp
//! from a summer before 2022 comes out one hour early.

pub mod gregorian;
pub mod jalali;

pub use gregorian::{civil_from_days, days_from_civil, days_in_month, is_leap_year};
pub use jalali::{tehran_local, DateError, JalaliDate, Weekday};

/// Seconds in a day (no leap seconds: Unix time has none).
pub const SECONDS_PER_DAY: i64 = 86_400;
/// Milliseconds in a day.
pub const MS_PER_DAY: i64 = SECONDS_PER_DAY * 1_000;
/// Tehran's offset from UTC, all year round since 2022: +03:30.
pub const TEHRAN_UTC_OFFSET_SECONDS: i64 = 3 * 3600 + 30 * 60;

/// Unix milliseconds of the Tehran midnight that began the day `unix_ms` falls in: where the
/// queues' "today" starts.
pub fn tehran_day_start_ms(unix_ms: i64) -> i64 {
    let offset = TEHRAN_UTC_OFFSET_SECONDS * 1_000;
    let local = unix_ms.saturating_add(offset);
    local - local.rem_euclid(MS_PER_DAY) - offset
}

#[cfg(test)]
mod day_start_tests {
    #[test]
    fn a_tehran_day_starts_at_20_30_utc_the_evening_before() {
        // 2026-11-23T20:00:00Z is 23:30 in Tehran; the day began at 2026-11-22T20:30:00Z.
        assert_eq!(
            super::tehran_day_start_ms(1_795_464_000_000),
            1_795_464_000_000 - (23 * 60 + 30) * 60_000
        );
        // Exactly at Tehran midnight a new day begins.
        assert_eq!(
            super::tehran_day_start_ms(1_795_465_800_000),
            1_795_465_800_000
        );
    }
}
