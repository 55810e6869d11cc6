//! Mutated articles: libFuzzer mutates a corpus of real-looking articles
//! (seed it with `../shared/eval/dev/*.txt`); extraction must never panic and
//! every value must be finite and non-negative.

#![no_main]

use fdi_extract::{Input, extract};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let published = chrono::NaiveDate::from_ymd_opt(2025, 9, 30).unwrap();
    let extraction = extract(&Input { text, published, language: None });
    for money in &extraction.money {
        assert!(money.value.is_finite() && money.value >= 0.0, "{money:?}");
    }
    for statistic in &extraction.statistics {
        assert!(statistic.value.is_finite(), "{statistic:?}");
    }
});
