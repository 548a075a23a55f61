//! Persian numbers, dates and durations, both as text and as the list of
//! prompt ids the IVR plays one after another.
//!
//! Both views come from one token list ([`Word`]), so what the caller hears
//! can never disagree with what a transcript or log says. A prompt id is a
//! path under `prompts/fa/` without extension (`"num/20"` is
//! `prompts/fa/num/20.wav`); the texts live in `prompts/fa/numbers.tsv`, and a
//! test checks that every id's text there matches [`number_words`].
//!
//! Persian reads numbers from the largest group down, joining every part
//! with "و": 1403 is "هزار و چهارصد و سه". One thousand is plain "هزار", but one
//! million is "یک میلیون". Past 999 billions the count of billions is read
//! ("هزار میلیارد", "دو هزار و پانصد میلیارد"), as Iranian news does, so no
//! extra prompt is needed for trillions and no `u64` can fail.

use crate::calendar::{JalaliDate, Weekday};

#[rustfmt::skip]
const SMALL: [&str; 20] = [
    "صفر", "یک", "دو", "سه", "چهار",
    "پنج", "شش", "هفت", "هشت", "نه",
    "ده", "یازده", "دوازده", "سیزده", "چهارده",
    "پانزده", "شانزده", "هفده", "هجده", "نوزده",
];
#[rustfmt::skip]
const TENS: [&str; 10] = [
    "", "", "بیست", "سی", "چهل",
    "پنجاه", "شصت", "هفتاد", "هشتاد", "نود",
];
#[rustfmt::skip]
const HUNDREDS: [&str; 10] = [
    "", "صد", "دویست", "سیصد", "چهارصد",
    "پانصد", "ششصد", "هفتصد", "هشتصد", "نهصد",
];
#[rustfmt::skip]
const ORDINAL_SMALL: [&str; 20] = [
    "", "یکم", "دوم", "سوم", "چهارم",
    "پنجم", "ششم", "هفتم", "هشتم", "نهم",
    "دهم", "یازدهم", "دوازدهم", "سیزدهم", "چهاردهم",
    "پانزدهم", "شانزدهم", "هفدهم", "هجدهم", "نوزدهم",
];
#[rustfmt::skip]
const MONTHS: [&str; 12] = [
    "فروردین", "اردیبهشت", "خرداد", "تیر", "مرداد",
    "شهریور", "مهر", "آبان", "آذر", "دی",
    "بهمن", "اسفند",
];

const THOUSAND: u64 = 1_000;
const MILLION: u64 = 1_000_000;
const BILLION: u64 = 1_000_000_000;

/// One spoken word of a number; each is exactly one prompt.
#[derive(Debug, Clone, Copy)]
enum Word {
    /// 0 to 19.
    Small(u64),
    /// 20, 30 … 90, stored as the tens digit 2..=9.
    Tens(u64),
    /// 100 … 900, stored as the hundreds digit 1..=9.
    Hundreds(u64),
    Thousand,
    Million,
    Billion,
    /// "و", between parts.
    And,
}

impl Word {
    fn prompt(self) -> String {
        match self {
            Word::Small(n) => format!("num/{n}"),
            Word::Tens(t) => format!("num/{}", t * 10),
            Word::Hundreds(h) => format!("num/{}", h * 100),
            Word::Thousand => "num/thousand".to_owned(),
            Word::Million => "num/million".to_owned(),
            Word::Billion => "num/billion".to_owned(),
            Word::And => "num/and".to_owned(),
        }
    }

    fn text(self) -> &'static str {
        // The constructors below only build in-range values; `% len` keeps
        // a future mistake from turning into a panic on a live call.
        match self {
            Word::Small(n) => SMALL[n as usize % SMALL.len()],
            Word::Tens(t) => TENS[t as usize % TENS.len()],
            Word::Hundreds(h) => HUNDREDS[h as usize % HUNDREDS.len()],
            Word::Thousand => "هزار",
            Word::Million => "میلیون",
            Word::Billion => "میلیارد",
            Word::And => "و",
        }
    }
}

/// Words for 1..=999.
fn push_below_thousand(n: u64, out: &mut Vec<Word>) {
    let (hundreds, rest) = (n / 100, n % 100);
    if hundreds > 0 {
        out.push(Word::Hundreds(hundreds));
        if rest > 0 {
            out.push(Word::And);
        }
    }
    match rest {
        0 => {}
        1..=19 => out.push(Word::Small(rest)),
        _ => {
            out.push(Word::Tens(rest / 10));
            if rest % 10 > 0 {
                out.extend([Word::And, Word::Small(rest % 10)]);
            }
        }
    }
}

/// Words for any n > 0, largest group first, parts joined by "و".
fn push_positive(n: u64, out: &mut Vec<Word>) {
    let mut parts: Vec<Vec<Word>> = Vec::new();
    let mut rest = n;
    if rest >= THOUSAND * BILLION {
        // Count the billions: "هزار میلیارد", "دو هزار و پانصد میلیارد".
        let mut part = Vec::new();
        push_positive(rest / BILLION, &mut part);
        part.push(Word::Billion);
        parts.push(part);
        rest %= BILLION;
    }
    for (scale, name) in [(BILLION, Word::Billion), (MILLION, Word::Million)] {
        let group = rest / scale;
        if group > 0 {
            let mut part = Vec::new();
            push_below_thousand(group, &mut part);
            part.push(name);
            parts.push(part);
        }
        rest %= scale;
    }
    match rest / THOUSAND {
        0 => {}
        1 => parts.push(vec![Word::Thousand]),
        group => {
            let mut part = Vec::new();
            push_below_thousand(group, &mut part);
            part.push(Word::Thousand);
            parts.push(part);
        }
    }
    let below_thousand = rest % THOUSAND;
    if below_thousand > 0 {
        let mut part = Vec::new();
        push_below_thousand(below_thousand, &mut part);
        parts.push(part);
    }
    for (i, part) in parts.into_iter().enumerate() {
        if i > 0 {
            out.push(Word::And);
        }
        out.extend(part);
    }
}

fn number_tokens(n: u64) -> Vec<Word> {
    let mut out = Vec::new();
    if n == 0 {
        out.push(Word::Small(0));
    } else {
        push_positive(n, &mut out);
    }
    out
}

fn join_texts(words: &[Word]) -> String {
    words.iter().map(|w| w.text()).collect::<Vec<_>>().join(" ")
}

/// `n` in Persian words: 1403 → "هزار و چهارصد و سه".
pub fn number_words(n: u64) -> String {
    join_texts(&number_tokens(n))
}

/// `n` as prompt ids, one per word of [`number_words`].
pub fn number_prompts(n: u64) -> Vec<String> {
    number_tokens(n).into_iter().map(Word::prompt).collect()
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

/// Digits read one by one (tracking codes, phone numbers); other characters are skipped.
pub fn digits_prompts(digits: &str) -> Vec<String> {
    digits
        .chars()
        .filter_map(digit_value)
        .map(|d| format!("digit/{d}"))
        .collect()
}

/// Text of [`digits_prompts`]: "۰۹۱۲" → "صفر نه یک دو".
pub fn digits_words(digits: &str) -> String {
    let words: Vec<&str> = digits
        .chars()
        .filter_map(digit_value)
        .map(|d| SMALL[d as usize % 10])
        .collect();
    words.join(" ")
}

/// An amount of money: the number, then "ریال".
pub fn amount_rials_prompts(n: u64) -> Vec<String> {
    let mut prompts = number_prompts(n);
    prompts.push("unit/rial".to_owned());
    prompts
}

/// Ordinal day of the month, 1..=31: "یکم", "بیست و سوم", "سی‌ام".
fn ordinal_day(day: u8) -> String {
    let day = usize::from(day);
    match day {
        0..=19 => ORDINAL_SMALL[day].to_owned(),
        20 => "بیستم".to_owned(),
        30 => "سی\u{200C}ام".to_owned(),
        _ => format!("{} و {}", TENS[day / 10 % 10], ORDINAL_SMALL[day % 10]),
    }
}

/// A date read as "thirteenth of Mordad, 1403": ordinal day, month name, year.
pub fn date_prompts(d: JalaliDate) -> Vec<String> {
    let mut prompts = vec![format!("ord/{}", d.day), format!("month/{}", d.month)];
    prompts.extend(number_prompts(u64::try_from(d.year).unwrap_or(0)));
    prompts
}

/// Text of [`date_prompts`]: "سیزدهم مرداد هزار و چهارصد و سه".
pub fn date_words(d: JalaliDate) -> String {
    let month = MONTHS
        .get(usize::from(d.month).wrapping_sub(1))
        .unwrap_or(&"");
    let year = number_words(u64::try_from(d.year).unwrap_or(0));
    format!("{} {month} {year}", ordinal_day(d.day))
}

/// Prompt id of a weekday name, e.g. "weekday/saturday".
pub fn weekday_prompt(w: Weekday) -> String {
    let name = match w {
        Weekday::Saturday => "saturday",
        Weekday::Sunday => "sunday",
        Weekday::Monday => "monday",
        Weekday::Tuesday => "tuesday",
        Weekday::Wednesday => "wednesday",
        Weekday::Thursday => "thursday",
        Weekday::Friday => "friday",
    };
    format!("weekday/{name}")
}

/// Every prompt id the functions above can return: the start-up check that each exists.
pub fn every_word_prompt() -> Vec<String> {
    let mut ids = std::collections::BTreeSet::new();
    // 0..=999 covers every group's words; the scale words come from one of each.
    for n in (0..=999).chain([1_000, 2_000_000, 3_000_000_000]) {
        ids.extend(number_prompts(n));
    }
    ids.extend(digits_prompts("0123456789"));
    ids.extend((1..=31).map(|day| format!("ord/{day}")));
    ids.extend((1..=12).map(|month| format!("month/{month}")));
    ids.extend(
        [
            Weekday::Saturday,
            Weekday::Sunday,
            Weekday::Monday,
            Weekday::Tuesday,
            Weekday::Wednesday,
            Weekday::Thursday,
            Weekday::Friday,
        ]
        .map(weekday_prompt),
    );
    ids.extend(amount_rials_prompts(1));
    ids.extend(duration_prompts(1));
    ids.extend(duration_prompts(60));
    ids.into_iter().collect()
}

/// A wait time as the caller should hear it: whole minutes, rounded up so
/// the estimate is never too hopeful ("سه دقیقه"); under a minute, seconds.
pub fn duration_prompts(seconds: u32) -> Vec<String> {
    let (count, unit) = if seconds >= 60 {
        (seconds.div_ceil(60), "unit/minute")
    } else {
        (seconds, "unit/second")
    };
    let mut prompts = number_prompts(u64::from(count));
    prompts.push(unit.to_owned());
    prompts
}

/// Latin and Arabic-Indic digits to Persian (۰-۹); everything else unchanged.
pub fn to_persian_digits(s: &str) -> String {
    s.chars()
        .map(
            |c| match digit_value(c).and_then(|d| char::from_u32(0x06F0 + d)) {
                Some(persian) => persian,
                None => c,
            },
        )
        .collect()
}

/// Persian and Arabic-Indic digits to Latin (0-9); everything else unchanged.
pub fn to_latin_digits(s: &str) -> String {
    s.chars()
        .map(
            |c| match digit_value(c).and_then(|d| char::from_digit(d, 10)) {
                Some(latin) => latin,
                None => c,
            },
        )
        .collect()
}

#[cfg(test)]
mod tests;
