//! Business hours of a line: open ranges per weekday and holidays on the Jalali calendar.
//!
//! The run is told the local date, weekday and minute (it reads no clock), so "are we open"
//! is a pure function of the flow and the call context. Holidays are written either as a
//! full date (`1404/01/12`, e.g. a lunar holiday that moves every year) or as `mm/dd`
//! for the fixed solar holidays that come back every year (Nowruz `01/01`..`01/04`).

use yaml_serde::{Mapping, Value};

use crate::calendar::{JalaliDate, Weekday};

/// Weekday names as written in a flow, in the Iranian week's order (Saturday first, Friday last).
pub const WEEKDAY_NAMES: [&str; 7] = [
    "saturday",
    "sunday",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
];

const MINUTES_PER_DAY: u32 = 24 * 60;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Holiday {
    /// Every year on this month and day.
    Annual { month: u8, day: u8 },
    /// This one date.
    Date(JalaliDate),
}

/// Open ranges (minutes since midnight, end exclusive) for each weekday, Saturday first.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Hours {
    pub week: [Vec<(u32, u32)>; 7],
    pub holidays: Vec<Holiday>,
}

fn weekday_index(w: Weekday) -> usize {
    match w {
        Weekday::Saturday => 0,
        Weekday::Sunday => 1,
        Weekday::Monday => 2,
        Weekday::Tuesday => 3,
        Weekday::Wednesday => 4,
        Weekday::Thursday => 5,
        Weekday::Friday => 6,
    }
}

impl Hours {
    /// Whether the line is open at `minute_of_day` on `today`.
    pub fn is_open(&self, today: JalaliDate, weekday: Weekday, minute_of_day: u32) -> bool {
        let holiday = self.holidays.iter().any(|h| match h {
            Holiday::Annual { month, day } => today.month == *month && today.day == *day,
            Holiday::Date(d) => *d == today,
        });
        !holiday
            && self.week[weekday_index(weekday)]
                .iter()
                .any(|&(from, to)| (from..to).contains(&minute_of_day))
    }

    /// Reads the `hours:` mapping. Errors are `(field, reason)` pairs.
    pub fn from_yaml(map: &Mapping) -> Result<Hours, Vec<(String, String)>> {
        let mut hours = Hours::default();
        let mut errors = Vec::new();
        for (key, value) in map {
            let field = key.as_str().unwrap_or("?").to_owned();
            let result = if field == "holidays" {
                parse_holidays(value).map(|h| hours.holidays = h)
            } else if let Some(i) = WEEKDAY_NAMES.iter().position(|d| *d == field) {
                parse_day(value).map(|ranges| hours.week[i] = ranges)
            } else {
                Err(format!(
                    "unknown field; expected a weekday ({}) or holidays",
                    WEEKDAY_NAMES.join(", ")
                ))
            };
            if let Err(reason) = result {
                errors.push((field, reason));
            }
        }
        if errors.is_empty() {
            Ok(hours)
        } else {
            Err(errors)
        }
    }
}

/// A day: `closed`, `"08:00-12:00, 14:00-20:00"`, or a list of ranges.
fn parse_day(value: &Value) -> Result<Vec<(u32, u32)>, String> {
    let texts: Vec<&str> = match value {
        Value::String(s) => s.split(',').collect(),
        Value::Sequence(items) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .ok_or("a range must be text like \"08:00-20:00\"")
            })
            .collect::<Result<_, _>>()?,
        _ => return Err("expected \"closed\" or ranges like \"08:00-20:00\"".into()),
    };
    let mut ranges = Vec::new();
    for text in texts.iter().map(|t| t.trim()) {
        if text != "closed" {
            ranges.push(parse_range(text)?);
        }
    }
    Ok(ranges)
}

fn parse_range(text: &str) -> Result<(u32, u32), String> {
    let bad = || format!("bad range `{text}`; expected HH:MM-HH:MM (end up to 24:00)");
    let (from, to) = text.split_once('-').ok_or_else(bad)?;
    let (from, to) = (
        parse_clock(from).ok_or_else(bad)?,
        parse_clock(to).ok_or_else(bad)?,
    );
    if from >= to {
        return Err(format!("range `{text}` ends before it starts"));
    }
    Ok((from, to))
}

fn parse_clock(text: &str) -> Option<u32> {
    let (h, m) = text.trim().split_once(':')?;
    let all_digits = |s: &str| (1..=2).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(h) || m.len() != 2 || !all_digits(m) {
        return None;
    }
    let minutes = h.parse::<u32>().ok()? * 60 + m.parse::<u32>().ok()?;
    (m.parse::<u32>().ok()? < 60 && minutes <= MINUTES_PER_DAY).then_some(minutes)
}

fn parse_holidays(value: &Value) -> Result<Vec<Holiday>, String> {
    let Value::Sequence(items) = value else {
        return Err("expected a list of dates like \"01/01\" or \"1404/01/12\"".into());
    };
    items
        .iter()
        .map(|item| {
            let text = item.as_str().ok_or("a holiday must be quoted text")?;
            parse_holiday(text)
        })
        .collect()
}

fn parse_holiday(text: &str) -> Result<Holiday, String> {
    if let Ok(date) = JalaliDate::parse(text) {
        return Ok(Holiday::Date(date));
    }
    let bad = || format!("bad holiday `{text}`; expected mm/dd or yyyy/mm/dd");
    let (m, d) = text.trim().split_once('/').ok_or_else(bad)?;
    let month: u8 = m.parse().map_err(|_| bad())?;
    let day: u8 = d.parse().map_err(|_| bad())?;
    // A leap year (1403) admits every month/day that can ever occur.
    JalaliDate::new(1403, month, day).map_err(|_| bad())?;
    Ok(Holiday::Annual { month, day })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hours(yaml: &str) -> Result<Hours, Vec<(String, String)>> {
        match yaml_serde::from_str::<Mapping>(yaml) {
            Ok(map) => Hours::from_yaml(&map),
            Err(e) => panic!("test yaml: {e}"),
        }
    }

    fn date(s: &str) -> JalaliDate {
        match JalaliDate::parse(s) {
            Ok(d) => d,
            Err(e) => panic!("test date {s}: {e}"),
        }
    }

    #[test]
    fn open_within_ranges_and_closed_on_friday_and_holidays() {
        let yaml = "saturday: \"07:30-12:00, 13:00-19:30\"\nthursday: [\"07:30-13:00\"]\n\
                    friday: closed\nholidays: [\"01/01\", \"1404/04/14\"]\n";
        let Ok(h) = hours(yaml) else {
            panic!("hours should parse")
        };
        let sat = date("1403/05/13");
        assert!(h.is_open(sat, Weekday::Saturday, 7 * 60 + 30));
        assert!(!h.is_open(sat, Weekday::Saturday, 12 * 60 + 30));
        assert!(!h.is_open(sat, Weekday::Saturday, 19 * 60 + 30));
        assert!(h.is_open(sat, Weekday::Thursday, 12 * 60 + 59));
        assert!(!h.is_open(sat, Weekday::Friday, 10 * 60));
        // A day not mentioned is closed.
        assert!(!h.is_open(sat, Weekday::Sunday, 10 * 60));
        assert!(!h.is_open(date("1405/01/01"), Weekday::Saturday, 10 * 60));
        assert!(!h.is_open(date("1404/04/14"), Weekday::Saturday, 10 * 60));
        assert!(h.is_open(date("1405/04/14"), Weekday::Saturday, 10 * 60));
    }

    #[test]
    fn whole_day_reaches_midnight() {
        let Ok(h) = hours("sunday: \"00:00-24:00\"") else {
            panic!("hours should parse")
        };
        assert!(h.is_open(date("1403/05/14"), Weekday::Sunday, 0));
        assert!(h.is_open(date("1403/05/14"), Weekday::Sunday, 24 * 60 - 1));
    }

    #[test]
    fn bad_values_name_their_field() {
        let Err(errors) = hours(
            "monday: \"9-17\"\ntuesday: \"18:00-08:00\"\nfunday: closed\nholidays: [\"13/01\"]",
        ) else {
            panic!("bad hours accepted")
        };
        let fields: Vec<&str> = errors.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(fields, ["monday", "tuesday", "funday", "holidays"]);
        assert!(hours("monday: \"08:60-09:00\"").is_err());
        assert!(hours("monday: \"08:00-24:01\"").is_err());
    }
}
