//! Tests for the Jalali calendar, against dates published in Iranian
//! official calendars and news (Nowruz days, the 1357 revolution day).

use super::*;

fn date(year: i32, month: u8, day: u8) -> JalaliDate {
    JalaliDate { year, month, day }
}

type Jalali = (i32, u8, u8);
type Gregorian = (i32, u32, u32);

/// (Jalali, Gregorian) pairs from published calendars.
const KNOWN_PAIRS: [(Jalali, Gregorian); 10] = [
    ((1403, 1, 1), (2024, 3, 20)),
    ((1404, 1, 1), (2025, 3, 21)),
    ((1403, 5, 13), (2024, 8, 3)),
    ((1399, 12, 30), (2021, 3, 20)),
    ((1402, 12, 29), (2024, 3, 19)),
    ((1357, 11, 22), (1979, 2, 11)),
    ((1348, 10, 11), (1970, 1, 1)),
    ((1400, 1, 1), (2021, 3, 21)),
    ((1375, 12, 30), (1997, 3, 20)),
    ((1403, 12, 30), (2025, 3, 20)),
];

#[test]
fn known_pairs_convert_both_ways() {
    for ((jy, jm, jd), greg) in KNOWN_PAIRS {
        let j = date(jy, jm, jd);
        assert_eq!(j.to_gregorian(), greg, "{j} to Gregorian");
        assert_eq!(
            JalaliDate::from_gregorian(greg.0, greg.1, greg.2),
            Ok(j),
            "{greg:?} to Jalali"
        );
    }
}

#[test]
fn unix_epoch_is_day_zero() {
    assert_eq!(date(1348, 10, 11).to_unix_days(), 0);
    assert_eq!(JalaliDate::from_unix_days(0), date(1348, 10, 11));
    assert_eq!(JalaliDate::from_unix_days(-1), date(1348, 10, 10));
}

#[test]
fn leap_years_match_the_official_calendar() {
    // Leap years of the official calendar between 1390 and 1410.
    let leap: Vec<i32> = (1390..=1410)
        .filter(|&y| JalaliDate::is_leap_year(y))
        .collect();
    assert_eq!(leap, vec![1391, 1395, 1399, 1403, 1408]);
    assert_eq!(JalaliDate::days_in_month(1403, 12), 30);
    assert_eq!(JalaliDate::days_in_month(1402, 12), 29);
    assert_eq!(JalaliDate::days_in_month(1402, 6), 31);
    assert_eq!(JalaliDate::days_in_month(1402, 7), 30);
    assert_eq!(JalaliDate::days_in_month(1402, 13), 0);
    assert!(!JalaliDate::is_leap_year(0));
    assert!(!JalaliDate::is_leap_year(i32::MAX));
}

#[test]
fn year_lengths_agree_with_leap_flag() {
    for year in MIN_YEAR..MAX_YEAR {
        let length = date(year + 1, 1, 1).to_unix_days() - date(year, 1, 1).to_unix_days();
        let expected = if JalaliDate::is_leap_year(year) {
            366
        } else {
            365
        };
        assert_eq!(length, expected, "length of year {year}");
    }
}

#[test]
fn round_trip_over_many_days() {
    let start = date(1300, 1, 1).to_unix_days();
    let mut previous = JalaliDate::from_unix_days(start - 1);
    for days in start..start + 200 * 366 {
        let j = JalaliDate::from_unix_days(days);
        assert_eq!(j.to_unix_days(), days);
        assert_eq!(JalaliDate::new(j.year, j.month, j.day), Ok(j));
        assert!(j > previous, "{j} after {previous}");
        let (gy, gm, gd) = j.to_gregorian();
        assert_eq!(JalaliDate::from_gregorian(gy, gm, gd), Ok(j));
        previous = j;
    }
}

#[test]
fn weekdays_follow_the_iranian_week() {
    let Ok(d) = JalaliDate::from_gregorian(2024, 8, 3) else {
        panic!("valid date rejected");
    };
    assert_eq!(d.weekday(), Weekday::Saturday);
    assert_eq!(d.add_days(6).weekday(), Weekday::Friday);
    assert_eq!(d.add_days(-1).weekday(), Weekday::Friday);
    // 1970-01-01 was a Thursday.
    assert_eq!(JalaliDate::from_unix_days(0).weekday(), Weekday::Thursday);
    // 22 Bahman 1357 was a Sunday.
    assert_eq!(date(1357, 11, 22).weekday(), Weekday::Sunday);
}

#[test]
fn new_rejects_impossible_days() {
    assert_eq!(JalaliDate::new(1402, 12, 30), Err(DateError::OutOfRange));
    assert_eq!(JalaliDate::new(1403, 12, 30), Ok(date(1403, 12, 30)));
    assert_eq!(JalaliDate::new(1403, 7, 31), Err(DateError::OutOfRange));
    assert_eq!(JalaliDate::new(1403, 0, 1), Err(DateError::OutOfRange));
    assert_eq!(JalaliDate::new(1403, 1, 0), Err(DateError::OutOfRange));
    assert_eq!(JalaliDate::new(0, 1, 1), Err(DateError::OutOfRange));
    assert_eq!(
        JalaliDate::new(MAX_YEAR + 1, 1, 1),
        Err(DateError::OutOfRange)
    );
}

#[test]
fn parse_accepts_latin_persian_and_arabic_digits() {
    let expected = Ok(date(1403, 5, 13));
    assert_eq!(JalaliDate::parse("1403/05/13"), expected);
    assert_eq!(JalaliDate::parse(" 1403/5/13 "), expected);
    assert_eq!(JalaliDate::parse("1403-05-13"), expected);
    assert_eq!(JalaliDate::parse("۱۴۰۳/۰۵/۱۳"), expected);
    assert_eq!(JalaliDate::parse("١٤٠٣/٥/١٣"), expected);
}

#[test]
fn parse_rejects_malformed_text() {
    for bad in [
        "",
        "1403",
        "1403/05",
        "1403/05/13/1",
        "1403//13",
        "14a3/05/13",
        "1403/005/13",
        "14030/05/13",
        "1403/05/13x",
        "۱۴۰۳/۰۵/",
        "1403/+5/13",
    ] {
        assert_eq!(JalaliDate::parse(bad), Err(DateError::Format), "{bad:?}");
    }
    assert_eq!(JalaliDate::parse("1403/13/01"), Err(DateError::OutOfRange));
    assert_eq!(JalaliDate::parse("1402/12/30"), Err(DateError::OutOfRange));
}

#[test]
fn display_pads_month_and_day() {
    assert_eq!(date(1403, 5, 13).to_string(), "1403/05/13");
    assert_eq!(date(1403, 12, 1).to_string(), "1403/12/01");
    assert_eq!(
        DateError::Format.to_string(),
        "date is not in year/month/day form"
    );
}

#[test]
fn from_gregorian_rejects_invalid_dates() {
    assert_eq!(
        JalaliDate::from_gregorian(2023, 2, 29),
        Err(DateError::OutOfRange)
    );
    assert_eq!(
        JalaliDate::from_gregorian(2024, 13, 1),
        Err(DateError::OutOfRange)
    );
    assert_eq!(
        JalaliDate::from_gregorian(2024, 4, 31),
        Err(DateError::OutOfRange)
    );
    assert_eq!(
        JalaliDate::from_gregorian(100, 1, 1),
        Err(DateError::OutOfRange)
    );
    assert_eq!(
        JalaliDate::from_gregorian(i32::MAX, 1, 1),
        Err(DateError::OutOfRange)
    );
    assert!(JalaliDate::from_gregorian(2024, 2, 29).is_ok());
}

#[test]
fn extreme_inputs_clamp_instead_of_panicking() {
    let first = JalaliDate::from_unix_days(i64::MIN);
    let last = JalaliDate::from_unix_days(i64::MAX);
    assert_eq!(first, date(MIN_YEAR, 1, 1));
    assert_eq!(last.year, MAX_YEAR);
    assert_eq!(
        (last.month, last.day),
        (12, JalaliDate::days_in_month(MAX_YEAR, 12))
    );
    assert_eq!(last.add_days(i64::MAX), last);
    assert_eq!(first.add_days(i64::MIN), first);
    let _ = tehran_local(i64::MAX);
    let _ = tehran_local(i64::MIN);
}

#[test]
fn tehran_is_utc_plus_three_thirty() {
    // 2024-08-03 00:00:00 UTC is 03:30 on Saturday 13 Mordad 1403 in Tehran.
    let midnight_utc = 19_938 * 86_400;
    assert_eq!(
        tehran_local(midnight_utc),
        (date(1403, 5, 13), Weekday::Saturday, 210)
    );
    // 20:29:59 UTC is still 23:59 that day; 20:30 UTC is the next day.
    assert_eq!(
        tehran_local(midnight_utc + 20 * 3600 + 29 * 60 + 59),
        (date(1403, 5, 13), Weekday::Saturday, 1439)
    );
    assert_eq!(
        tehran_local(midnight_utc + 20 * 3600 + 30 * 60),
        (date(1403, 5, 14), Weekday::Sunday, 0)
    );
    // Before the epoch: 1969-12-31 21:00 UTC is 00:30 on 1970-01-01 in Tehran.
    assert_eq!(
        tehran_local(-3 * 3600),
        (date(1348, 10, 11), Weekday::Thursday, 30)
    );
}
