//! `case_csv`: bytes as the cases CSV of `pasokh cases import`, through
//! `store::case_import::parse_csv` (RFC 4180 quoting, Jalali dates in Latin or Persian digits,
//! stage and verdict names).
//!
//! Why: the file comes from another office's spreadsheet export; a bad row must be refused with
//! its line number while the good rows import. Invariants: nothing panics; every row is either a
//! case or a numbered complaint, never both and never lost (blank lines aside); complaint line
//! numbers are inside the file.

use crate::store::case_import::{parse_csv, split_record};

pub fn case_csv(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for line in text.lines().take(4) {
        let _ = split_record(line);
    }
    let Ok(parsed) = parse_csv(text) else {
        return;
    };
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    let rows = body
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .count();
    assert_eq!(
        parsed.cases.len() + parsed.bad.len(),
        rows,
        "rows lost or counted twice"
    );
    let lines = body.lines().count();
    for bad in &parsed.bad {
        assert!(
            (2..=lines).contains(&bad.line),
            "a complaint names line {} of a {lines}-line file",
            bad.line
        );
    }
}
