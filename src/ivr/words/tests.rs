//! Tests for Persian number words, checked against how the numbers are
//! written in Persian grammar references, and against prompts/fa/numbers.tsv.

use super::*;
use std::collections::{BTreeSet, HashMap};

const MANIFEST: &str = include_str!("../../../prompts/fa/numbers.tsv");

/// 1..=19 as a Persian schoolbook writes them.
#[rustfmt::skip]
const ONE_TO_NINETEEN: [&str; 19] = [
    "یک", "دو", "سه", "چهار", "پنج",
    "شش", "هفت", "هشت", "نه", "ده",
    "یازده", "دوازده", "سیزده", "چهارده", "پانزده",
    "شانزده", "هفده", "هجده", "نوزده",
];

/// Kasra: a pronunciation hint in the manifest (it makes espeak-ng say the
/// ezafe of "سیزدهمِ مرداد"), not part of the written words.
const KASRA: char = '\u{0650}';

/// id → text of numbers.tsv, with the kasra hints removed.
fn manifest() -> HashMap<&'static str, String> {
    MANIFEST
        .lines()
        .filter(|line| !line.trim().is_empty() && !line.starts_with('#'))
        .filter_map(|line| line.split_once('\t'))
        .map(|(id, text)| (id, text.replace(KASRA, "")))
        .collect()
}

/// Texts of `prompts` from the manifest, joined like the words functions do.
fn spoken(prompts: &[String]) -> String {
    let texts = manifest();
    let words: Vec<&str> = prompts
        .iter()
        .map(|id| match texts.get(id.as_str()) {
            Some(text) => text.as_str(),
            None => panic!("prompt {id} missing from numbers.tsv"),
        })
        .collect();
    words.join(" ")
}

#[test]
fn small_numbers() {
    assert_eq!(number_words(0), "صفر");
    for (n, expected) in (1..).zip(ONE_TO_NINETEEN) {
        assert_eq!(number_words(n), expected);
        assert_eq!(number_words(100 + n), format!("صد و {expected}"));
    }
    assert_eq!(number_words(20), "بیست");
    assert_eq!(number_words(21), "بیست و یک");
    assert_eq!(number_words(99), "نود و نه");
    assert_eq!(number_words(100), "صد");
    assert_eq!(number_words(200), "دویست");
    assert_eq!(number_words(350), "سیصد و پنجاه");
    assert_eq!(number_words(512), "پانصد و دوازده");
    assert_eq!(number_words(999), "نهصد و نود و نه");
}

#[test]
fn thousands_millions_billions() {
    let table: [(u64, &str); 16] = [
        (1_000, "هزار"),
        (1_001, "هزار و یک"),
        (1_403, "هزار و چهارصد و سه"),
        (2_000, "دو هزار"),
        (10_000, "ده هزار"),
        (100_000, "صد هزار"),
        (101_000, "صد و یک هزار"),
        (1_000_000, "یک میلیون"),
        (1_000_001, "یک میلیون و یک"),
        (1_001_000, "یک میلیون و هزار"),
        (2_500_000, "دو میلیون و پانصد هزار"),
        (1_000_000_000, "یک میلیارد"),
        (25_000_000_000, "بیست و پنج میلیارد"),
        (1_000_000_000_000, "هزار میلیارد"),
        (2_500_000_000_001, "دو هزار و پانصد میلیارد و یک"),
        (1_000_000_000_000_000, "یک میلیون میلیارد"),
    ];
    for (n, expected) in table {
        assert_eq!(number_words(n), expected, "{n}");
    }
}

#[test]
fn largest_u64_is_read_without_panicking() {
    assert_eq!(
        number_words(u64::MAX),
        "هجده میلیارد و چهارصد و چهل و شش میلیون و هفتصد و چهل و چهار هزار و هفتاد و سه \
         میلیارد و هفتصد و نه میلیون و پانصد و پنجاه و یک هزار و ششصد و پانزده"
    );
}

#[test]
fn prompts_say_exactly_the_words() {
    let samples = (0..=2_100u64)
        .chain((0..400).map(|i| i * 7_919_993))
        .chain((0..64).map(|bit| 1u64 << bit))
        .chain((0..=20).map(|i| u64::MAX - i))
        .chain([1_000_000, 1_000_001, 25_000_000_000, 1_000_000_000_000]);
    for n in samples {
        assert_eq!(spoken(&number_prompts(n)), number_words(n), "{n}");
    }
    assert_eq!(
        number_prompts(1_403),
        ["num/thousand", "num/and", "num/400", "num/and", "num/3"]
    );
}

#[test]
fn every_manifest_entry_is_used_and_every_prompt_exists() {
    let mut used = BTreeSet::new();
    for n in (0..1_000).chain([1_000_000, 1_000_000_000, 2_000]) {
        used.extend(number_prompts(n));
    }
    used.extend(digits_prompts("0123456789"));
    used.extend(amount_rials_prompts(5));
    used.extend(duration_prompts(5));
    used.extend(duration_prompts(65));
    for day in 1..=31 {
        let d = JalaliDate {
            year: 1403,
            month: 1,
            day,
        };
        used.extend(date_prompts(d));
    }
    for month in 1..=12 {
        used.extend(date_prompts(JalaliDate {
            year: 1403,
            month,
            day: 1,
        }));
    }
    let start = JalaliDate {
        year: 1403,
        month: 5,
        day: 13,
    };
    used.extend((0..7).map(|i| weekday_prompt(start.add_days(i).weekday())));
    let listed: BTreeSet<String> = manifest().keys().map(|id| id.to_string()).collect();
    assert_eq!(used, listed);
}

#[test]
fn dates_are_read_with_ordinal_day_and_month_name() {
    let d = JalaliDate {
        year: 1403,
        month: 5,
        day: 13,
    };
    assert_eq!(date_words(d), "سیزدهم مرداد هزار و چهارصد و سه");
    assert_eq!(
        date_prompts(d),
        [
            "ord/13",
            "month/5",
            "num/thousand",
            "num/and",
            "num/400",
            "num/and",
            "num/3"
        ]
    );
    let first = JalaliDate {
        year: 1404,
        month: 1,
        day: 1,
    };
    assert_eq!(date_words(first), "یکم فروردین هزار و چهارصد و چهار");
    let last = JalaliDate {
        year: 1399,
        month: 12,
        day: 30,
    };
    assert_eq!(
        date_words(last),
        "سی\u{200C}ام اسفند هزار و سیصد و نود و نه"
    );
    let third = JalaliDate {
        year: 1357,
        month: 11,
        day: 23,
    };
    assert_eq!(
        date_words(third),
        "بیست و سوم بهمن هزار و سیصد و پنجاه و هفت"
    );
    // Every day of a leap year: the prompts say what the text says.
    let mut day = JalaliDate {
        year: 1403,
        month: 1,
        day: 1,
    };
    for _ in 0..366 {
        assert_eq!(spoken(&date_prompts(day)), date_words(day), "{day}");
        day = day.add_days(1);
    }
}

#[test]
fn digits_are_read_one_by_one() {
    assert_eq!(digits_words("0912"), "صفر نه یک دو");
    assert_eq!(digits_words("۰۲۱-۸۸"), "صفر دو یک هشت هشت");
    assert_eq!(digits_prompts("1٣۷"), ["digit/1", "digit/3", "digit/7"]);
    assert_eq!(digits_prompts("abc"), Vec::<String>::new());
    assert_eq!(spoken(&digits_prompts("4071")), digits_words("4071"));
}

#[test]
fn units_follow_the_number() {
    assert_eq!(
        amount_rials_prompts(50_000),
        ["num/50", "num/thousand", "unit/rial"]
    );
    assert_eq!(spoken(&amount_rials_prompts(1_500)), "هزار و پانصد ریال");
    assert_eq!(spoken(&duration_prompts(0)), "صفر ثانیه");
    assert_eq!(spoken(&duration_prompts(45)), "چهل و پنج ثانیه");
    assert_eq!(spoken(&duration_prompts(60)), "یک دقیقه");
    assert_eq!(spoken(&duration_prompts(121)), "سه دقیقه");
    assert!(spoken(&duration_prompts(u32::MAX)).ends_with("دقیقه"));
}

#[test]
fn weekday_ids() {
    assert_eq!(weekday_prompt(Weekday::Saturday), "weekday/saturday");
    assert_eq!(weekday_prompt(Weekday::Friday), "weekday/friday");
}

#[test]
fn digit_scripts_convert_both_ways() {
    assert_eq!(to_persian_digits("1403/05/13"), "۱۴۰۳/۰۵/۱۳");
    assert_eq!(to_persian_digits("٤٥ ab"), "۴۵ ab");
    assert_eq!(to_latin_digits("۱۴۰۳/۰۵/۱۳"), "1403/05/13");
    assert_eq!(to_latin_digits("٠٩ x۹"), "09 x9");
}
