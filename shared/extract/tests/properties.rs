//! Robustness properties: `extract` never panics, spans are valid, values
//! are finite, on arbitrary strings and on mutated or truncated articles.

use chrono::NaiveDate;
use fdi_extract::{Extraction, Input, Language, extract};
use proptest::prelude::*;

/// Self-written articles in the four languages, used as seeds for mutation.
const ARTICLES: &[&str] = &[
    "Ninh Binh parks pull in over 920 million USD\n\nIndustrial parks in Ninh Binh issued licences to 113 new projects in the first eight months of 2025, with domestic investors committing more than 28.8 trillion VND and foreign investors more than 920 million USD. In July and August, eight new projects were registered, six of which were FDI. As of 15/9/2025 the parks housed 1,024 valid projects worth $12.5 billion. Foxconn Singapore Pte Ltd will invest US$197.8 million (VND4.7 trillion) in Song Khoai Industrial Park.",
    "Các KCN Vĩnh Phúc hút gần 300 triệu USD\n\nTrong 11 tháng đầu năm 2022, các KCN tỉnh Vĩnh Phúc đã đón 23 dự án FDI mới cùng 31 lượt dự án điều chỉnh tăng vốn. Tổng vốn đạt 298,08 triệu USD và 4.544,7 tỷ đồng. Tính đến ngày 15/11/2022, các KCN có 446 dự án còn hiệu lực. Công ty TNHH Quest Composite Technology Việt Nam rót gần 40 triệu USD vào KCN Nhơn Trạch VI.",
    "Hai Phong trakk 755,75 millioner dollar\n\nI første halvår 2022 tiltrakk industriparkene 755,75 millioner USD fordelt på 21 nye FDI-prosjekter og 18 eksisterende prosjekter som økte kapitalen. Per 10. desember huset sonene 521 prosjekter med 1\u{a0}160,8 milliarder VND. Sørkoreanske Dentium Co., Ltd investerer 117 millioner USD.",
    "Long Ans Industrieparks ziehen über 674 Mio. US-Dollar an\n\nVom Jahresbeginn bis zum 20. September 2024 wurden 96 neue Projekte registriert, davon 75 mit ausländischem Kapital und 21 inländische. Das Kapital stieg von 636,44 Mio. US-Dollar auf 674,39 Mio. US-Dollar, das inländische auf 1.553,15 Mrd. Dong nach knapp 22,77 Billionen Dong im Vorjahr.",
];

fn published() -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 10, 2).expect("valid date")
}

/// Check the invariants of one extraction of `text`.
fn check(text: &str, out: &Extraction) -> Result<(), TestCaseError> {
    let spans = out
        .money
        .iter()
        .map(|m| m.span)
        .chain(out.counts.iter().map(|c| c.span))
        .chain(out.statistics.iter().map(|s| s.span))
        .chain(out.projects.iter().map(|p| p.span));
    for [start, end] in spans {
        prop_assert!(
            start <= end && end <= text.len(),
            "span {start}..{end} outside {}",
            text.len()
        );
        prop_assert!(
            text.is_char_boundary(start) && text.is_char_boundary(end),
            "span {start}..{end} not on char boundaries"
        );
    }
    for m in &out.money {
        prop_assert!(m.value.is_finite() && m.value >= 0.0, "bad money value {}", m.value);
        prop_assert_eq!(m.currency.len(), 3);
    }
    for s in &out.statistics {
        prop_assert!(s.value.is_finite() && s.value >= 0.0);
    }
    for p in &out.projects {
        prop_assert!(p.value.is_finite() && p.value >= 0.0);
    }
    // The output always serializes.
    prop_assert!(serde_json::to_string(out).is_ok());
    Ok(())
}

fn language() -> impl Strategy<Value = Option<Language>> {
    prop_oneof![
        Just(None),
        Just(Some(Language::En)),
        Just(Some(Language::Vi)),
        Just(Some(Language::No)),
        Just(Some(Language::De)),
    ]
}

/// Text made of pieces that exercise the grammar: digits, separators, scale
/// and currency words, diacritics, punctuation, whitespace.
fn tricky_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        "[0-9]{1,6}",
        Just(".".to_string()),
        Just(",".to_string()),
        Just(" ".to_string()),
        Just("\u{a0}".to_string()),
        Just("\n".to_string()),
        Just("$".to_string()),
        Just("US$".to_string()),
        Just("VND".to_string()),
        Just(" million ".to_string()),
        Just(" tỷ đồng".to_string()),
        Just(" nghìn tỷ".to_string()),
        Just(" Mio. US-Dollar".to_string()),
        Just(" milliarder".to_string()),
        Just(" projects".to_string()),
        Just(" dự án".to_string()),
        Just(" as of ".to_string()),
        Just("first ".to_string()),
        Just(" months of 2024".to_string()),
        Just("tháng 7/".to_string()),
        Just("Bắc Ninh".to_string()),
        Just("Co., Ltd".to_string()),
        Just("(".to_string()),
        Just("–".to_string()),
        Just("ĐỒNG".to_string()),
        Just("ẞ".to_string()),
        Just("İ".to_string()),
        "\\PC{0,3}",
    ];
    prop::collection::vec(piece, 0..60).prop_map(|pieces| pieces.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn never_panics_on_arbitrary_strings(text in "\\PC{0,400}", lang in language()) {
        let out = extract(&Input { text: &text, published: published(), language: lang });
        check(&text, &out)?;
    }

    #[test]
    fn never_panics_on_grammar_fragments(text in tricky_text(), lang in language()) {
        let out = extract(&Input { text: &text, published: published(), language: lang });
        check(&text, &out)?;
    }

    #[test]
    fn never_panics_on_truncated_articles(article in 0..ARTICLES.len(), cut in 0usize..2000, lang in language()) {
        let text = ARTICLES[article];
        let mut end = cut.min(text.len());
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let truncated = &text[..end];
        let out = extract(&Input { text: truncated, published: published(), language: lang });
        check(truncated, &out)?;
    }

    #[test]
    fn never_panics_on_mutated_articles(
        article in 0..ARTICLES.len(),
        edits in prop::collection::vec((0usize..2000, 0usize..8, "\\PC{0,4}"), 1..12),
        lang in language(),
    ) {
        let mut text = ARTICLES[article].to_string();
        for (at, delete, insert) in edits {
            let mut start = at.min(text.len());
            while !text.is_char_boundary(start) {
                start -= 1;
            }
            let mut end = (start + delete).min(text.len());
            while !text.is_char_boundary(end) {
                end += 1;
            }
            text.replace_range(start..end, &insert);
        }
        let out = extract(&Input { text: &text, published: published(), language: lang });
        check(&text, &out)?;
    }

    #[test]
    fn unusual_publication_dates_are_handled(days in -800_000i64..800_000, article in 0..ARTICLES.len()) {
        let published = NaiveDate::from_ymd_opt(2000, 1, 1)
            .and_then(|d| d.checked_add_signed(chrono::Duration::days(days)))
            .unwrap_or(NaiveDate::MIN);
        let text = ARTICLES[article];
        let out = extract(&Input { text, published, language: None });
        check(text, &out)?;
    }
}

#[test]
fn extreme_dates_do_not_panic() {
    for published in [NaiveDate::MIN, NaiveDate::MAX] {
        for text in ARTICLES {
            let out = extract(&Input {
                text,
                published,
                language: None,
            });
            check(text, &out).expect("invariants");
        }
    }
}

#[test]
fn pathological_inputs_stay_fast() {
    // Long runs without sentence breaks, many numbers, many dots.
    let inputs = [
        "1 ".repeat(200_000),
        "a.".repeat(200_000),
        "$1 million projects ".repeat(20_000),
        "Co., Ltd ".repeat(30_000),
        "9".repeat(100_000),
    ];
    for text in &inputs {
        let start = std::time::Instant::now();
        let out = extract(&Input {
            text,
            published: published(),
            language: Some(Language::En),
        });
        check(text, &out).expect("invariants");
        assert!(
            start.elapsed().as_secs() < 20,
            "too slow on a {}-byte input",
            text.len()
        );
    }
}
