//! The proleptic Gregorian calendar as days since 1970-01-01: Howard Hinnant's `days_from_civil`
//! and `civil_from_days`, which shift the year to start on 1 March so that the leap day ends each
//! 400-year era and every month length is one formula. Years before 1 count astronomically
//! (year 0 is 1 BC, a leap year); days before 1970 are negative.
//!
//! Why our own: the crate needs these two functions and a month length, and a calendar crate
//! for them is not worth the weight.

/// Whether `year` has a 29 February.
pub fn is_leap_year(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// Days in `month` (1..=12) of `year`; 0 for a month number that does not exist.
pub fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        _ => 0,
    }
}

/// Days from 1970-01-01 to `year-month-day` (negative before it). The date is not checked:
/// callers check `month` and `day` against [`days_in_month`] first.
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let (month, day) = (i64::from(month), i64::from(day));
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// `(year, month 1..=12, day 1..=31)` of the day `days` after 1970-01-01 (before it when
/// negative); the inverse of [`days_from_civil`].
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    // Shift the epoch to 0000-03-01 so the leap day ends each 400-year era's year.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    // Both fit in u32: the day is 1..=31 and the month 1..=12 by construction.
    let day = (day_of_year - (153 * month_from_march + 2) / 5 + 1) as u32;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (days since 1970-01-01, date), computed independently (Python's `datetime.date`, and by
    /// hand for year 0).
    const KNOWN: [(i64, (i64, u32, u32)); 16] = [
        (0, (1970, 1, 1)),
        (-1, (1969, 12, 31)),
        (11_016, (2000, 2, 29)),
        (11_017, (2000, 3, 1)),
        (-25_567, (1900, 1, 1)),
        (-25_508, (1900, 3, 1)),
        (47_541, (2100, 3, 1)),
        (19_782, (2024, 2, 29)),
        (20_780, (2026, 11, 23)),
        (-135_081, (1600, 2, 29)),
        (-141_427, (1582, 10, 15)),
        (-719_162, (1, 1, 1)),
        (-719_468, (0, 3, 1)),
        (-719_469, (0, 2, 29)),
        (-719_529, (-1, 12, 31)),
        (2_932_896, (9999, 12, 31)),
    ];

    #[test]
    fn known_pairs_convert_both_ways() {
        for (days, (year, month, day)) in KNOWN {
            assert_eq!(civil_from_days(days), (year, month, day), "day {days}");
            assert_eq!(
                days_from_civil(year, month, day),
                days,
                "{year}-{month}-{day}"
            );
        }
    }

    #[test]
    fn leap_years_follow_the_400_year_rule() {
        for year in [2024, 2000, 1600, 0, -4, -400] {
            assert!(is_leap_year(year), "{year}");
            assert_eq!(days_in_month(year, 2), 29, "{year}");
        }
        for year in [2023, 2100, 1900, 1700, -1, -100] {
            assert!(!is_leap_year(year), "{year}");
            assert_eq!(days_in_month(year, 2), 28, "{year}");
        }
        let days: u32 = (1..=12).map(|m| days_in_month(2024, m)).sum();
        assert_eq!(days, 366);
        let days: u32 = (1..=12).map(|m| days_in_month(2100, m)).sum();
        assert_eq!(days, 365);
        assert_eq!(days_in_month(2024, 0), 0);
        assert_eq!(days_in_month(2024, 13), 0);
    }

    #[test]
    fn agrees_with_a_naive_calendar_from_1900_to_2500() {
        let mut date = (1900_i64, 1_u32, 1_u32);
        let first_day = -25_567; // 1900-01-01, see KNOWN
        for days in first_day..first_day + 600 * 366 {
            assert_eq!(civil_from_days(days), date, "day {days}");
            assert_eq!(days_from_civil(date.0, date.1, date.2), days, "{date:?}");
            date = match date {
                (y, 12, 31) => (y + 1, 1, 1),
                (y, m, d) if d == days_in_month(y, m) => (y, m + 1, 1),
                (y, m, d) => (y, m, d + 1),
            };
        }
    }

    #[test]
    fn negative_days_round_trip_across_eras() {
        // Over four 400-year eras each side of 1970, in a step (97 days) that lands on every
        // day of the week and of the month.
        for days in (-600_000..600_000).step_by(97) {
            let (year, month, day) = civil_from_days(days);
            assert!((1..=12).contains(&month), "day {days}");
            assert!(day >= 1 && day <= days_in_month(year, month), "day {days}");
            assert_eq!(days_from_civil(year, month, day), days, "day {days}");
        }
    }
}
