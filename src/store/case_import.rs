//! Parsing and validating the cases CSV (`pasokh cases import`). Pure: text in, good rows and
//! numbered complaints out, so every rule is tested without a database.
//!
//! Header (UTF-8): `kind,number,district,stage,last_step_date,next_step,session_date,verdict,
//! fine_rials,served_date`. Dates are Jalali `YYYY/MM/DD` in Latin or Persian digits; the last
//! four columns may be empty and must be for zoning files.

use crate::calendar::JalaliDate;
use crate::ivr::case::{stage_names, VERDICTS};
use crate::ivr::words::to_latin_digits;
use crate::ivr::{CaseInfo, CaseKind};

pub const HEADER: [&str; 10] = [
    "kind",
    "number",
    "district",
    "stage",
    "last_step_date",
    "next_step",
    "session_date",
    "verdict",
    "fine_rials",
    "served_date",
];

/// A row refused, by its line number in the file (the header is line 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRow {
    pub line: usize,
    pub reason: String,
}

#[derive(Debug, Default)]
pub struct Parsed {
    pub cases: Vec<CaseInfo>,
    pub bad: Vec<BadRow>,
}

/// Splits one CSV record (RFC 4180 quoting: `"a,b"` and `""` inside quotes).
pub fn split_record(line: &str) -> Result<Vec<String>, String> {
    let mut fields = vec![String::new()];
    let mut in_quotes = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        let field = fields.last_mut().ok_or("empty record")?;
        match (c, in_quotes) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', true) => in_quotes = false,
            ('"', false) if field.is_empty() => in_quotes = true,
            (',', false) => fields.push(String::new()),
            (c, _) => field.push(c),
        }
    }
    if in_quotes {
        return Err("unterminated quote".into());
    }
    Ok(fields.into_iter().map(|f| f.trim().to_string()).collect())
}

pub fn parse_csv(text: &str) -> Result<Parsed, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.lines().enumerate();
    let (_, header) = lines.next().ok_or("the file is empty")?;
    let header = split_record(header)?;
    if header.iter().map(String::as_str).ne(HEADER) {
        return Err(format!("line 1: the header must be `{}`", HEADER.join(",")));
    }
    let mut parsed = Parsed::default();
    for (index, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let line_number = index + 1;
        match split_record(line).and_then(|fields| parse_row(&fields)) {
            Ok(case) => parsed.cases.push(case),
            Err(reason) => parsed.bad.push(BadRow {
                line: line_number,
                reason,
            }),
        }
    }
    Ok(parsed)
}

fn optional(field: &str) -> Option<&str> {
    (!field.is_empty()).then_some(field)
}

/// Years a case date may have. A Gregorian date (`2024-08-02`) parses as a Jalali one of year
/// 2024 and would be read to callers as "2 Aban 2024"; real cases are from this century of the
/// Jalali calendar.
const PLAUSIBLE_YEARS: std::ops::RangeInclusive<i32> = 1300..=1499;

/// A Jalali date written `YYYY/MM/DD` (Latin or Persian digits), a plausible year, and a day
/// that exists in that month (Esfand 30 only in a leap year).
fn date(field: &str, name: &str) -> Result<JalaliDate, String> {
    let refused = |why: &str| {
        format!("{name} {field:?} is not a Jalali date: {why} (write YYYY/MM/DD, e.g. 1403/05/13)")
    };
    let latin = to_latin_digits(field.trim());
    let parts: Vec<&str> = latin.split('/').collect();
    let shaped = parts.len() == 3
        && parts[0].len() == 4
        && (1..=2).contains(&parts[1].len())
        && (1..=2).contains(&parts[2].len())
        && parts.iter().all(|p| p.bytes().all(|b| b.is_ascii_digit()));
    if !shaped {
        return Err(refused("not in the form YYYY/MM/DD"));
    }
    let year: i32 = parts[0].parse().map_err(|_| refused("bad year"))?;
    if !PLAUSIBLE_YEARS.contains(&year) {
        return Err(refused(&format!(
            "year {year} is outside {}-{} (is it a Gregorian date?)",
            PLAUSIBLE_YEARS.start(),
            PLAUSIBLE_YEARS.end()
        )));
    }
    JalaliDate::parse(&latin).map_err(|_| refused("no such day in that month"))
}

fn parse_row(f: &[String]) -> Result<CaseInfo, String> {
    if f.len() != HEADER.len() {
        return Err(format!(
            "expected {} columns, found {}",
            HEADER.len(),
            f.len()
        ));
    }
    let kind = CaseKind::parse(&f[0])
        .ok_or_else(|| format!("kind {:?} is not zoning or article100", f[0]))?;
    let number = to_latin_digits(&f[1]);
    if number.is_empty() || number.len() > 20 || !number.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("number {:?} must be digits only", f[1]));
    }
    let district = match optional(&f[2]) {
        None => None,
        Some(d) => match to_latin_digits(d).parse::<u8>() {
            Ok(n @ 1..=22) => Some(n),
            _ => return Err(format!("district {d:?} must be 1 to 22")),
        },
    };
    let stages = stage_names(kind);
    if !stages.contains(&f[3].as_str()) {
        return Err(format!(
            "stage {:?} is not a {} stage; the {} stages are: {}",
            f[3],
            kind.as_str(),
            kind.as_str(),
            stages.join(", ")
        ));
    }
    let next_step = optional(&f[5]).map(str::to_string);
    if let Some(next) = &next_step {
        if !stages.contains(&next.as_str()) {
            return Err(format!(
                "next_step {next:?} is not a {} stage; the {} stages are: {}",
                kind.as_str(),
                kind.as_str(),
                stages.join(", ")
            ));
        }
    }
    let case = CaseInfo {
        kind,
        number,
        district,
        stage: f[3].clone(),
        last_step_date: date(&f[4], "last_step_date")?,
        next_step,
        session_date: optional(&f[6])
            .map(|d| date(d, "session_date"))
            .transpose()?,
        verdict: optional(&f[7]).map(str::to_string),
        fine_rials: optional(&f[8])
            .map(|v| {
                to_latin_digits(v)
                    .parse::<u64>()
                    .map_err(|_| format!("fine_rials {v:?} is not a whole number"))
            })
            .transpose()?,
        served_date: optional(&f[9])
            .map(|d| date(d, "served_date"))
            .transpose()?,
    };
    check_kind_columns(&case)?;
    Ok(case)
}

fn check_kind_columns(case: &CaseInfo) -> Result<(), String> {
    if let Some(verdict) = &case.verdict {
        if !VERDICTS.contains(&verdict.as_str()) {
            return Err(format!(
                "verdict {verdict:?} is not one of {}",
                VERDICTS.join(", ")
            ));
        }
    }
    let has_article100_columns = case.session_date.is_some()
        || case.verdict.is_some()
        || case.fine_rials.is_some()
        || case.served_date.is_some();
    if case.kind == CaseKind::Zoning && has_article100_columns {
        return Err(
            "a zoning file leaves session_date, verdict, fine_rials and served_date empty".into(),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "kind,number,district,stage,last_step_date,next_step,session_date,verdict,fine_rials,served_date\n";

    #[test]
    fn good_rows_parse_and_bad_rows_are_reported_by_line() {
        let text = format!(
            "{HEAD}zoning,14031234,6,permit_issued,1403/05/13,under_construction,,,,\n\
             article100,۲۲۰۰۱۸۴۰۳۲۰,22,verdict_served,۱۴۰۳/۰۶/۰۱,objection_filed,,fine,\"250000000\",1403/06/05\n\
             zoning,12a,6,permit_issued,1403/05/13,,,,,\n\
             zoning,1,23,permit_issued,1403/05/13,,,,,\n\
             article100,2,1,flying,1403/05/13,,,,,\n\
             zoning,3,1,fees_paid,1403/13/01,,,,,\n\
             zoning,4,1,fees_paid,1403/01/01,,,fine,,\n\
             zoning,5\n"
        );
        let Ok(parsed) = parse_csv(&text) else {
            panic!("header refused")
        };
        assert_eq!(parsed.cases.len(), 2);
        assert_eq!(parsed.cases[1].number, "22001840320");
        assert_eq!(parsed.cases[1].fine_rials, Some(250_000_000));
        assert_eq!(parsed.cases[1].last_step_date.to_string(), "1403/06/01");
        let lines: Vec<usize> = parsed.bad.iter().map(|b| b.line).collect();
        assert_eq!(lines, vec![4, 5, 6, 7, 8, 9]);
    }

    #[test]
    fn only_plausible_jalali_dates_are_imported_and_bad_ones_name_their_column() {
        let row = |date: &str| {
            format!("{HEAD}zoning,14031234,6,permit_issued,{date},under_construction,,,,\n")
        };
        for good in [
            "1403/05/13",
            "۱۴۰۳/۰۵/۱۳",
            "1403/5/3",
            "1403/12/30",
            "1300/01/01",
        ] {
            let parsed = parse_csv(&row(good)).unwrap_or_default();
            assert_eq!(parsed.cases.len(), 1, "{good}: {:?}", parsed.bad);
        }
        for (bad, why) in [
            ("2024-08-02", "YYYY/MM/DD"),
            ("2024/08/02", "Gregorian"),
            ("1299/12/29", "outside 1300-1499"),
            ("1500/01/01", "outside"),
            ("1403/07/31", "no such day"),
            ("1402/12/30", "no such day"),
            ("1403/13/01", "no such day"),
            ("03/05/13", "YYYY/MM/DD"),
            ("1403/05", "YYYY/MM/DD"),
            ("1403.05.13", "YYYY/MM/DD"),
        ] {
            let parsed = parse_csv(&row(bad)).unwrap_or_default();
            assert!(parsed.cases.is_empty(), "{bad} accepted");
            let reason = parsed
                .bad
                .first()
                .map(|b| b.reason.clone())
                .unwrap_or_default();
            assert!(
                reason.contains("last_step_date") && reason.contains(why),
                "{bad}: {reason}"
            );
        }
        let bad_stage = format!("{HEAD}zoning,1,6,flying,1403/05/13,,,,,\n");
        let parsed = parse_csv(&bad_stage).unwrap_or_default();
        let reason = parsed
            .bad
            .first()
            .map(|b| b.reason.clone())
            .unwrap_or_default();
        assert!(
            reason.contains("file_opened") && reason.contains("completion_certificate_issued"),
            "the error lists the valid stages: {reason}"
        );
    }

    #[test]
    fn a_wrong_header_or_quote_is_refused() {
        assert!(parse_csv("kind,number\n").is_err());
        assert!(parse_csv("").is_err());
        assert_eq!(
            split_record("a,\"b,\"\"c\"\"\",d"),
            Ok(vec!["a".into(), "b,\"c\"".into(), "d".into()])
        );
        assert!(split_record("\"open").is_err());
    }
}
