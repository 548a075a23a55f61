//! Tracking codes: the number a caller hears after leaving a report and keys
//! in later (on a worn phone keypad, often after writing it down in a hurry)
//! to follow it up.
//!
//! A code is the serial, zero-padded to at least seven digits so that every
//! code has the same rhythm when read digit by digit, followed by one Verhoeff
//! check digit. Verhoeff rather than Luhn or a mod-10 sum because it catches
//! every single wrong digit *and* every swap of two neighbouring digits, the
//! two mistakes people make most when copying numbers; so a mistyped code is
//! refused at once instead of finding someone else's report.

use std::fmt;

/// Digits before the check digit, at least.
const MIN_SERIAL_DIGITS: usize = 7;

/// Multiplication table of the dihedral group D5.
const MULTIPLY: [[u8; 10]; 10] = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
    [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
    [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
    [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
    [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
    [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
    [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
    [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
    [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
];

/// Position-dependent permutation; row `i` is the first row applied `i` times.
const PERMUTE: [[u8; 10]; 8] = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
    [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
    [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
    [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
    [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
    [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
    [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
];

/// Inverse of each element of D5.
const INVERSE: [u8; 10] = [0, 4, 3, 2, 1, 5, 6, 7, 8, 9];

/// Why a keyed-in code was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrackingError {
    /// Nothing was entered.
    Empty,
    /// Something other than digits was entered.
    NotDigits,
    /// Fewer digits than any issued code has.
    TooShort,
    /// The check digit does not match: a digit is wrong or two are swapped
    /// (or the serial is too large to ever have been issued).
    BadCheckDigit,
}

impl fmt::Display for TrackingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TrackingError::Empty => "tracking code is empty",
            TrackingError::NotDigits => "tracking code must contain only digits",
            TrackingError::TooShort => "tracking code is too short",
            TrackingError::BadCheckDigit => "tracking code check digit does not match",
        })
    }
}

impl std::error::Error for TrackingError {}

/// Verhoeff running value over `digits`, where the last digit is at position `first_position`.
fn verhoeff_state(digits: &[u8], first_position: usize) -> u8 {
    digits
        .iter()
        .rev()
        .enumerate()
        .fold(0, |state, (i, &digit)| {
            let permuted = PERMUTE[(i + first_position) % 8][usize::from(digit)];
            MULTIPLY[usize::from(state)][usize::from(permuted)]
        })
}

/// The Verhoeff check digit to append to `digits` (each 0-9).
fn check_digit(digits: &[u8]) -> u8 {
    INVERSE[usize::from(verhoeff_state(digits, 1))]
}

/// Issues the code for `serial`: at least seven digits, then the check digit.
pub fn make_tracking_code(serial: u64) -> String {
    let mut code = format!("{serial:0width$}", width = MIN_SERIAL_DIGITS);
    let digits: Vec<u8> = code.bytes().map(|b| b - b'0').collect();
    code.push(char::from(b'0' + check_digit(&digits)));
    code
}

/// Value of one ASCII, Persian (۰-۹) or Arabic-Indic (٠-٩) digit.
fn digit_value(c: char) -> Option<u8> {
    let value = match c {
        '0'..='9' => c as u32 - '0' as u32,
        '\u{06F0}'..='\u{06F9}' => c as u32 - 0x06F0,
        '\u{0660}'..='\u{0669}' => c as u32 - 0x0660,
        _ => return None,
    };
    u8::try_from(value).ok()
}

/// Checks a keyed-in code and returns the serial it carries.
/// Surrounding whitespace is ignored; Persian and Arabic-Indic digits are accepted.
pub fn check_tracking_code(code: &str) -> Result<u64, TrackingError> {
    let code = code.trim();
    if code.is_empty() {
        return Err(TrackingError::Empty);
    }
    let digits: Vec<u8> = code
        .chars()
        .map(digit_value)
        .collect::<Option<_>>()
        .ok_or(TrackingError::NotDigits)?;
    if digits.len() < MIN_SERIAL_DIGITS + 1 {
        return Err(TrackingError::TooShort);
    }
    if verhoeff_state(&digits, 0) != 0 {
        return Err(TrackingError::BadCheckDigit);
    }
    let serial_digits = &digits[..digits.len() - 1];
    serial_digits
        .iter()
        .try_fold(0u64, |serial, &digit| {
            serial.checked_mul(10)?.checked_add(u64::from(digit))
        })
        .ok_or(TrackingError::BadCheckDigit)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digits_of(s: &str) -> Vec<u8> {
        s.bytes().map(|b| b - b'0').collect()
    }

    #[test]
    fn published_verhoeff_examples() {
        // Wikipedia's worked example: 236 gets check digit 3.
        assert_eq!(check_digit(&digits_of("236")), 3);
        assert_eq!(verhoeff_state(&digits_of("2363"), 0), 0);
        // Second published example: 12345 gets check digit 1.
        assert_eq!(check_digit(&digits_of("12345")), 1);
        assert_ne!(verhoeff_state(&digits_of("2364"), 0), 0);
    }

    #[test]
    fn codes_are_padded_and_round_trip() {
        assert_eq!(make_tracking_code(236), "00002362");
        assert_eq!(check_tracking_code("00002362"), Ok(236));
        assert_eq!(make_tracking_code(0).len(), 8);
        assert_eq!(make_tracking_code(12_345_678).len(), 9);
        for serial in [0, 1, 9_999_999, 10_000_000, u64::MAX / 7, u64::MAX] {
            assert_eq!(check_tracking_code(&make_tracking_code(serial)), Ok(serial));
        }
    }

    #[test]
    fn persian_digits_and_spaces_are_accepted() {
        assert_eq!(check_tracking_code(" ۰۰۰۰۲۳۶۲ "), Ok(236));
        assert_eq!(check_tracking_code("٠٠٠٠٢٣٦٢"), Ok(236));
    }

    #[test]
    fn malformed_codes_are_refused() {
        assert_eq!(check_tracking_code(""), Err(TrackingError::Empty));
        assert_eq!(check_tracking_code("   "), Err(TrackingError::Empty));
        assert_eq!(
            check_tracking_code("0000-2362"),
            Err(TrackingError::NotDigits)
        );
        assert_eq!(
            check_tracking_code("00002362#"),
            Err(TrackingError::NotDigits)
        );
        assert_eq!(check_tracking_code("2363"), Err(TrackingError::TooShort));
        assert_eq!(
            check_tracking_code("00002368"),
            Err(TrackingError::BadCheckDigit)
        );
        // A valid checksum over a serial wider than u64 cannot have been issued.
        let mut huge = "9".repeat(25);
        huge.push(char::from(b'0' + check_digit(&digits_of(&huge))));
        assert_eq!(
            check_tracking_code(&huge),
            Err(TrackingError::BadCheckDigit)
        );
        assert_eq!(
            TrackingError::TooShort.to_string(),
            "tracking code is too short"
        );
    }

    #[test]
    fn every_single_digit_error_is_caught() {
        for serial in (0..3_000u64).map(|i| i * 3_331 + 7) {
            let text = make_tracking_code(serial);
            assert_eq!(check_tracking_code(&text), Ok(serial));
            let code = digits_of(&text);
            for position in 0..code.len() {
                for wrong in (0..10).filter(|&d| d != code[position]) {
                    let mut typo = code.clone();
                    typo[position] = wrong;
                    assert_ne!(verhoeff_state(&typo, 0), 0, "{serial}: {typo:?}");
                }
            }
        }
    }

    #[test]
    fn every_neighbour_swap_is_caught() {
        for serial in (0..3_000u64).map(|i| i * 3_331 + 7) {
            let code = digits_of(&make_tracking_code(serial));
            for position in 0..code.len() - 1 {
                if code[position] == code[position + 1] {
                    continue;
                }
                let mut swapped = code.clone();
                swapped.swap(position, position + 1);
                assert_ne!(verhoeff_state(&swapped, 0), 0, "{serial}: {swapped:?}");
            }
        }
    }
}
