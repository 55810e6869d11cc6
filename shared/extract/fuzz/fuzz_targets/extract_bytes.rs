//! Arbitrary bytes: whatever is valid UTF-8 goes through `extract` in every
//! language and with a date taken from the input; it must never panic, and
//! every span must lie on character boundaries of the text.

#![no_main]

use fdi_extract::{Input, Language, extract};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let language = match selector % 5 {
        0 => None,
        1 => Some(Language::En),
        2 => Some(Language::Vi),
        3 => Some(Language::No),
        _ => Some(Language::De),
    };
    let days = i64::from(selector) * 97;
    let published = chrono::NaiveDate::from_ymd_opt(1990, 1, 1).unwrap() + chrono::Duration::days(days);
    let extraction = extract(&Input { text, published, language });
    for span in extraction.money.iter().map(|m| m.span).chain(extraction.counts.iter().map(|c| c.span)) {
        assert!(span[0] <= span[1] && span[1] <= text.len());
        assert!(text.is_char_boundary(span[0]) && text.is_char_boundary(span[1]));
    }
});
