//! Solar Hijri (Jalali) calendar: the dates a Tehran caller hears and keys in.
//!
//! Every conversion goes through one integer, the number of days since
//! 1970-01-01 (UTC): Unix time counts days that way, and it makes weekday,
//! `add_days` and Gregorian conversion (through [`super::gregorian`]) one line
//! each.
//!
//! The leap-year rule is the "break years" algorithm of Borkowski, as used by
//! the widely deployed jalaali-js library and its ports. The plain 33-year
//! arithmetic rule drifts from the official (astronomical) calendar outside a
//! few centuries; the break table follows the astronomical calendar over the
//! whole range this crate accepts, [`MIN_YEAR`]..=[`MAX_YEAR`].
//!
//! [`tehran_local`] reads a Unix time on Tehran's wall clock (fixed UTC+03:30,
//! see [`super::TEHRAN_UTC_OFFSET_SECONDS`]).

use std::fmt;

use super::gregorian::{civil_from_days, days_from_civil, days_in_month};
use super::{SECONDS_PER_DAY, TEHRAN_UTC_OFFSET_SECONDS};

/// Earliest Jalali year accepted.
pub const MIN_YEAR: i32 = 1;
/// Latest Jalali year accepted (the break table below ends in 3178).
pub const MAX_YEAR: i32 = 3176;

/// Years where the 33-year leap pattern restarts (Borkowski's table).
const BREAKS: [i32; 20] = [
    -61, 9, 38, 199, 426, 686, 756, 818, 1111, 1181, 1210, 1635, 2060, 2097, 2192, 2262, 2324,
    2394, 2456, 3178,
];

/// A valid date of the Solar Hijri calendar; fields compare as year, month, day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct JalaliDate {
    pub year: i32,
    pub month: u8,
    pub day: u8,
}

/// Days of the Iranian week, in order: the week starts on Saturday and ends on Friday.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Weekday {
    Saturday,
    Sunday,
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
}

/// Why a date was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DateError {
    /// The text is not `year/month/day` in digits.
    Format,
    /// The numbers do not name a day that exists in the supported range.
    OutOfRange,
}

impl fmt::Display for DateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DateError::Format => f.write_str("date is not in year/month/day form"),
            DateError::OutOfRange => f.write_str("date does not exist or is out of range"),
        }
    }
}

impl std::error::Error for DateError {}

/// Leap flag and Nowruz (1 Farvardin) of a Jalali year, from the break table.
/// Returns `(is_leap, days since 1970-01-01 of 1 Farvardin)`.
fn year_info(jy: i32) -> (bool, i64) {
    let gy = jy + 621;
    let mut leap_j = -14;
    let mut jp = BREAKS[0];
    let mut jump = 0;
    for &jm in &BREAKS[1..] {
        jump = jm - jp;
        if jy < jm {
            break;
        }
        leap_j += jump / 33 * 8 + jump % 33 / 4;
        jp = jm;
    }
    let mut n = jy - jp;
    leap_j += n / 33 * 8 + (n % 33 + 3) / 4;
    if jump % 33 == 4 && jump - n == 4 {
        leap_j += 1;
    }
    // Gregorian leap days accumulated since the same origin.
    let leap_g = gy / 4 - (gy / 100 + 1) * 3 / 4 - 150;
    let march_day = 20 + leap_j - leap_g;
    if jump - n < 6 {
        n = n - jump + (jump + 4) / 33 * 33;
    }
    // Truncating `%` on purpose: -1 means "fourth year after a leap year".
    let phase = ((n + 1) % 33 - 1) % 4;
    // Nowruz falls on the `march_day`th of March.
    let nowruz = days_from_civil(i64::from(gy), 3, 1) + i64::from(march_day) - 1;
    (phase == 0, nowruz)
}

fn year_in_range(year: i32) -> bool {
    (MIN_YEAR..=MAX_YEAR).contains(&year)
}

/// Value of one ASCII, Persian (۰-۹) or Arabic-Indic (٠-٩) digit.
fn digit_value(c: char) -> Option<u32> {
    match c {
        '0'..='9' => c.to_digit(10),
        '\u{06F0}'..='\u{06F9}' => Some(c as u32 - 0x06F0),
        '\u{0660}'..='\u{0669}' => Some(c as u32 - 0x0660),
        _ => None,
    }
}

/// Parses one date field of `min_len..=max_len` digits.
fn parse_field(field: &str, min_len: usize, max_len: usize) -> Result<u32, DateError> {
    let mut value = 0u32;
    let mut len = 0usize;
    for c in field.chars() {
        let digit = digit_value(c).ok_or(DateError::Format)?;
        len += 1;
        if len > max_len {
            return Err(DateError::Format);
        }
        value = value * 10 + digit;
    }
    if len < min_len {
        return Err(DateError::Format);
    }
    Ok(value)
}

impl JalaliDate {
    /// Builds a date, checking the month length (Esfand has 30 days in leap years).
    pub fn new(year: i32, month: u8, day: u8) -> Result<Self, DateError> {
        if !year_in_range(year) || day == 0 || day > Self::days_in_month(year, month) {
            return Err(DateError::OutOfRange);
        }
        Ok(JalaliDate { year, month, day })
    }

    /// Parses `1403/05/13` (also `-` as separator, 1-2 digit month and day,
    /// and Persian or Arabic-Indic digits, as typed on an Iranian keyboard).
    pub fn parse(s: &str) -> Result<Self, DateError> {
        let mut fields = s.trim().split(['/', '-']);
        let (Some(y), Some(m), Some(d), None) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            return Err(DateError::Format);
        };
        let year = parse_field(y, 1, 4)?;
        let month = parse_field(m, 1, 2)?;
        let day = parse_field(d, 1, 2)?;
        // The length limits above keep every value far below the casts' limits.
        Self::new(year as i32, month as u8, day as u8)
    }

    /// Converts a proleptic Gregorian date.
    pub fn from_gregorian(y: i32, m: u32, d: u32) -> Result<Self, DateError> {
        if !(1..=12).contains(&m) || d == 0 || d > days_in_month(i64::from(y), m) {
            return Err(DateError::OutOfRange);
        }
        let days = days_from_civil(i64::from(y), m, d);
        if days < Self::first_day() || days > Self::last_day() {
            return Err(DateError::OutOfRange);
        }
        Ok(Self::from_unix_days(days))
    }

    /// The same day in the proleptic Gregorian calendar: `(year, month, day)`.
    pub fn to_gregorian(self) -> (i32, u32, u32) {
        let (y, m, d) = civil_from_days(self.to_unix_days());
        // Supported Jalali years map to Gregorian years 622..=3798.
        (y as i32, m, d)
    }

    /// The date of a day counted from 1970-01-01. Days outside the supported
    /// range are clamped to its first or last day rather than panicking.
    pub fn from_unix_days(days: i64) -> Self {
        let days = days.clamp(Self::first_day(), Self::last_day());
        let (gy, _, _) = civil_from_days(days);
        let mut year = gy as i32 - 621;
        let (_, mut nowruz) = year_info(year);
        if days < nowruz {
            year -= 1;
            nowruz = year_info(year).1;
        }
        let day_of_year = days - nowruz;
        let (month, day) = if day_of_year < 186 {
            (day_of_year / 31 + 1, day_of_year % 31 + 1)
        } else {
            let rest = day_of_year - 186;
            (rest / 30 + 7, rest % 30 + 1)
        };
        JalaliDate {
            year,
            month: month as u8,
            day: day as u8,
        }
    }

    /// Days since 1970-01-01 (negative before it).
    pub fn to_unix_days(self) -> i64 {
        let month = i64::from(self.month);
        let before_month = if month <= 7 {
            (month - 1) * 31
        } else {
            186 + (month - 7) * 30
        };
        year_info(self.year).1 + before_month + i64::from(self.day) - 1
    }

    /// Day of the week; 1970-01-01 was a Thursday.
    pub fn weekday(self) -> Weekday {
        const ORDER: [Weekday; 7] = [
            Weekday::Saturday,
            Weekday::Sunday,
            Weekday::Monday,
            Weekday::Tuesday,
            Weekday::Wednesday,
            Weekday::Thursday,
            Weekday::Friday,
        ];
        ORDER[(self.to_unix_days() + 5).rem_euclid(7) as usize]
    }

    /// Whether Esfand of `year` has 30 days; `false` outside the supported range.
    pub fn is_leap_year(year: i32) -> bool {
        year_in_range(year) && year_info(year).0
    }

    /// 31 for the first six months, 30 for the next five, 29 or 30 for Esfand;
    /// 0 for a month number that does not exist.
    pub fn days_in_month(year: i32, month: u8) -> u8 {
        match month {
            1..=6 => 31,
            7..=11 => 30,
            12 if Self::is_leap_year(year) => 30,
            12 => 29,
            _ => 0,
        }
    }

    /// The date `n` days later (earlier when negative), clamped to the supported range.
    pub fn add_days(self, n: i64) -> Self {
        Self::from_unix_days(self.to_unix_days().saturating_add(n))
    }

    fn first_day() -> i64 {
        year_info(MIN_YEAR).1
    }

    fn last_day() -> i64 {
        year_info(MAX_YEAR + 1).1 - 1
    }
}

impl fmt::Display for JalaliDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}/{:02}/{:02}", self.year, self.month, self.day)
    }
}

/// Tehran wall-clock view of a Unix timestamp: date, weekday and minute of the day (0..1440).
pub fn tehran_local(unix_seconds: i64) -> (JalaliDate, Weekday, u32) {
    let local = unix_seconds.saturating_add(TEHRAN_UTC_OFFSET_SECONDS);
    let date = JalaliDate::from_unix_days(local.div_euclid(SECONDS_PER_DAY));
    let minute = (local.rem_euclid(SECONDS_PER_DAY) / 60) as u32;
    (date, date.weekday(), minute)
}

#[cfg(test)]
mod tests;
