//! Monetary amounts: "$246 million", "28.8 trillion VND", "4.544,7 tỷ đồng",
//! "755,75 millioner dollar", "674 Mio. US-Dollar", "VND2.2 trillion".

use crate::lang::Language;
use crate::numbers::{parse_number, scale_multiplier};
use regex::Regex;
use std::sync::LazyLock;

/// One money mention found in the text.
#[derive(Debug, Clone)]
pub struct MoneyMention {
    pub value: f64,
    pub currency: &'static str,
    pub start: usize,
    pub end: usize,
    /// A conversion in parentheses right after another amount
    /// ("VND2.2 trillion ($85.7 million)"): listed as money, but it is not a
    /// separate figure for statistics or projects.
    pub converted: bool,
}

const NUMBER: &str = r"\d{1,3}(?:(?:[.,]|[ \u{00A0}\u{202F}])\d{3})+(?:[.,]\d+)?|\d+(?:[.,]\d+)?";

// Only the digits are found with a regex (fast, ASCII); the scale and
// currency words around them are read by hand below.
static NUMBER_RE: LazyLock<Regex> = LazyLock::new(|| Regex::new(NUMBER).expect("number regex"));

/// Scale words, longest first so that "millioner" wins over "million".
const SCALE_WORDS: &[&str] = &[
    "nghìn tỷ",
    "ngàn tỷ",
    "nghìn tỉ",
    "ngàn tỉ",
    "millioner",
    "millionen",
    "millions",
    "million",
    "milliarder",
    "milliarden",
    "milliarde",
    "milliard",
    "billioner",
    "billionen",
    "billions",
    "billion",
    "trillions",
    "trillion",
    "triệu",
    "tỷ",
    "tỉ",
    "nghìn",
    "ngàn",
    "mln",
    "bln",
    "bn",
    "mio.",
    "mrd.",
    "mill.",
    "tsd.",
    "mio",
    "mrd",
    "tausend",
];
/// Currency words after the amount, longest first.
const CURRENCY_WORDS: &[&str] = &[
    "đô la mỹ",
    "đô la",
    "đôla",
    "u.s. dollars",
    "u.s. dollar",
    "us-dollars",
    "us-dollar",
    "us dollars",
    "us dollar",
    "dollars",
    "dollar",
    "usd",
    "vnđ",
    "vnd",
    "đồng",
    "dong",
    "euros",
    "euro",
    "eur",
    "€",
    "nok",
    "kroner",
    "yen",
    "jpy",
    "won",
    "krw",
    "sgd",
    "yuan",
    "cny",
    "rmb",
];
/// Currency marks before the amount ("US$246 million", "VND2.2 trillion").
const CURRENCY_PREFIXES: &[&str] = &[
    "us$", "s$", "$", "€", "¥", "₩", "usd", "vnđ", "vnd", "eur", "nok", "sgd", "jpy", "krw",
];

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric()
}

/// If `rest` starts (case-insensitively) with one of `words` ending at a
/// word boundary, return that word and its byte length in `rest`.
fn match_word<'w>(rest: &str, words: &[&'w str]) -> Option<(&'w str, usize)> {
    let first = rest.chars().next()?.to_lowercase().next()?;
    for w in words.iter().filter(|w| w.starts_with(first)) {
        let mut len = 0usize;
        let mut ok = true;
        let mut chars = rest.chars();
        for expected in w.chars() {
            match chars.next() {
                Some(c) if c.to_lowercase().eq(expected.to_lowercase()) => len += c.len_utf8(),
                _ => {
                    ok = false;
                    break;
                }
            }
        }
        if !ok {
            continue;
        }
        let last_is_word = w.chars().last().is_some_and(is_word_char);
        let next_is_word = rest[len..].chars().next().is_some_and(is_word_char);
        if last_is_word && next_is_word {
            continue;
        }
        return Some((w, len));
    }
    None
}

/// Skip up to `max` spaces (and a hyphen when `hyphen`) at the start of `rest`.
fn skip_gap(rest: &str, max: usize, hyphen: bool) -> usize {
    let mut len = 0;
    for c in rest.chars().take(max) {
        if c == ' ' || c == '\u{a0}' || c == '\u{202f}' || (hyphen && c == '-') {
            len += c.len_utf8();
        } else {
            break;
        }
    }
    len
}

/// A currency mark right before `start`: returns (code, start of the mark).
fn currency_before(text: &str, start: usize) -> Option<(&'static str, usize)> {
    let head_start = crate::text::floor_boundary(text, start.saturating_sub(6));
    let head = &text[head_start..start];
    let trimmed = head.trim_end_matches([' ', '\u{a0}']);
    let lower = trimmed.to_lowercase();
    for p in CURRENCY_PREFIXES {
        if lower.ends_with(p) {
            let mark_start = head_start + trimmed.len() - p.len().min(trimmed.len());
            // The mark must itself start a word ("FUSD" is not "USD").
            let before = text[..crate::text::floor_boundary(text, mark_start)]
                .chars()
                .next_back();
            let letters = p.chars().all(char::is_alphabetic);
            if letters && before.is_some_and(is_word_char) {
                continue;
            }
            if !text.is_char_boundary(mark_start) {
                continue;
            }
            return currency_code(p).map(|c| (c, mark_start));
        }
    }
    None
}

/// A number with whatever scale word and currency marks surround it.
#[derive(Debug, Clone)]
struct Candidate<'t> {
    digits: &'t str,
    start: usize,
    end: usize,
    currency: Option<&'static str>,
    scale: Option<&'static str>,
}

/// Words joining the two ends of a range or pair ("50-100 million",
/// "từ 2 đến 3 tỷ USD", "5 and 10 million USD").
const RANGE_CONNECTORS: &[&str] = &[
    "-", "–", "to", "and", "or", "đến", "tới", "và", "hoặc", "til", "og", "eller", "bis", "und", "oder",
];

fn looks_like_year(c: &Candidate) -> bool {
    c.digits.len() == 4
        && c.digits.bytes().all(|b| b.is_ascii_digit())
        && (1900..=2100).contains(&c.digits.parse::<u32>().unwrap_or(0))
}

/// Find every money mention in `text`.
pub fn find_money(text: &str, language: Language) -> Vec<MoneyMention> {
    let mut candidates: Vec<Candidate> = NUMBER_RE
        .find_iter(text)
        .filter_map(|num| read_candidate(text, num))
        .collect();
    share_range_marks(text, &mut candidates);
    let mut out: Vec<MoneyMention> = Vec::new();
    for c in candidates {
        let Some((value, currency)) = amount_of(&c, language) else {
            continue;
        };
        let converted = out.last().is_some_and(|prev| {
            let between = text.get(prev.end.min(c.start)..c.start).unwrap_or("");
            between.contains('(') && between.chars().filter(|ch| ch.is_alphanumeric()).count() < 25
        });
        out.push(MoneyMention {
            value,
            currency,
            start: c.start,
            end: c.end,
            converted,
        });
    }
    out
}

/// The number `num` with the currency mark before it and the scale and
/// currency words after it; `None` when it is not a possible amount (part
/// of a word, "5%", "5th", "5 Dong Nai").
fn read_candidate<'t>(text: &'t str, num: regex::Match<'t>) -> Option<Candidate<'t>> {
    let prefix = currency_before(text, num.start());
    // The number must start a word: "A320" or "COVID-19" are not amounts.
    if prefix.is_none() {
        let mut back = text[..num.start()].chars().rev();
        let before = back.next();
        // "$50-100 million": a dash right after a digit opens a range.
        let range_dash = matches!(before, Some('-' | '–')) && back.next().is_some_and(|c| c.is_ascii_digit());
        if !range_dash && before.is_some_and(|c| c.is_alphanumeric() || c == '.' || c == ',' || c == '-') {
            return None;
        }
    }
    let mut end = num.end();
    let mut scale = None;
    let gap = skip_gap(&text[end..], 1, true);
    let gap = gap + skip_gap(&text[end + gap..], 1, false);
    if let Some((w, len)) = match_word(&text[end + gap..], SCALE_WORDS) {
        scale = Some(w);
        end += gap + len;
    }
    let mut suffix = None;
    if let Some((code, len)) = currency_after(text, end, scale.is_some(), prefix.is_some()) {
        suffix = Some(code);
        end += len;
    }
    if scale.is_none() && suffix.is_none() {
        // "5%", "5th" or "5 Dong ...": not an amount.
        let next = text[end..].chars().next();
        if next.is_some_and(|c| c.is_alphanumeric() || c == '%') {
            return None;
        }
    }
    Some(Candidate {
        digits: num.as_str(),
        start: prefix.map_or(num.start(), |p| p.1),
        end,
        currency: prefix.map(|p| p.0).or(suffix),
        scale,
    })
}

/// A currency word after an amount ending at `end`: (code, length with the
/// gap before it). "dong"/"won" alone after a bare number is too ambiguous
/// ("5 Dong Nai ..."): it needs a scale word, or no name after it and no
/// capital unless a currency mark came first.
fn currency_after(text: &str, end: usize, scaled: bool, prefixed: bool) -> Option<(&'static str, usize)> {
    let gap = skip_gap(&text[end..], 2, true);
    let (w, len) = match_word(&text[end + gap..], CURRENCY_WORDS)?;
    let raw = &text[end + gap..end + gap + len];
    let after = &text[end + gap + len..];
    let name_follows = after.starts_with(' ') && after[1..].starts_with(char::is_uppercase);
    let ambiguous =
        matches!(w, "dong" | "won") && !scaled && (name_follows || raw.starts_with(char::is_uppercase) && !prefixed);
    if ambiguous {
        return None;
    }
    currency_code(w).map(|code| (code, gap + len))
}

/// Ranges and pairs share their scale and currency: "$50-100 million" is
/// $50 million and $100 million.
fn share_range_marks(text: &str, candidates: &mut [Candidate]) {
    for i in 1..candidates.len() {
        let (left, right) = candidates.split_at_mut(i);
        let a = &mut left[i - 1];
        let b = &mut right[0];
        let between = text.get(a.end..b.start).unwrap_or("").trim();
        if !RANGE_CONNECTORS.contains(&between.to_lowercase().as_str()) || looks_like_year(a) || looks_like_year(b) {
            continue;
        }
        // A bare right end must not be followed by a word ("... và 349 dự án").
        let b_bare = b.currency.is_none() && b.scale.is_none();
        if b_bare && text[b.end..].trim_start().starts_with(char::is_alphabetic) {
            continue;
        }
        let a_is_money = a.currency.is_some() || a.scale.is_some();
        let b_is_money = b.currency.is_some();
        if !(a_is_money || b_is_money) {
            continue;
        }
        if a.scale.is_none() && (a.currency.is_none() || b.currency.is_none() || a.currency == b.currency) {
            a.scale = b.scale;
        }
        if a.currency.is_none() {
            a.currency = b.currency;
        }
        if b.currency.is_none() {
            b.currency = a.currency;
        }
    }
}

/// Value in whole currency units and currency code of a candidate, if it
/// is an amount: it needs a currency (Vietnamese amounts in tỷ without one
/// are in đồng) and a finite, non-negative value.
fn amount_of(c: &Candidate, language: Language) -> Option<(f64, &'static str)> {
    let currency = match c.currency {
        Some(code) => code,
        None if language == Language::Vi
            && matches!(
                c.scale,
                Some("tỷ" | "tỉ" | "nghìn tỷ" | "ngàn tỷ" | "nghìn tỉ" | "ngàn tỉ")
            ) =>
        {
            "VND"
        }
        None => return None,
    };
    let base = parse_number(c.digits, language)?;
    let multiplier = c.scale.and_then(|w| scale_multiplier(w, language)).unwrap_or(1.0);
    // Whole currency units: 1.045,6 × 10^6 should not print as 1045599999.9999999.
    let value = if multiplier > 1.0 {
        (base * multiplier).round()
    } else {
        base
    };
    (value.is_finite() && value >= 0.0).then_some((value, currency))
}

fn currency_code(raw: &str) -> Option<&'static str> {
    let lower = raw.trim().to_lowercase();
    let code = match lower.as_str() {
        "s$" | "sgd" => "SGD",
        "$" | "us$" | "usd" | "dollar" | "dollars" | "us-dollar" | "us-dollars" | "us dollar" | "us dollars"
        | "u.s. dollar" | "u.s. dollars" => "USD",
        "vnd" | "vnđ" | "đồng" | "dong" => "VND",
        "đô la mỹ" | "đô la" | "đôla" => "USD",
        "€" | "eur" | "euro" | "euros" => "EUR",
        "nok" | "kroner" => "NOK",
        "¥" | "yen" | "jpy" => "JPY",
        "₩" | "won" | "krw" => "KRW",
        "yuan" | "cny" | "rmb" => "CNY",
        _ => return None,
    };
    Some(code)
}

#[cfg(test)]
mod pattern_tests {
    use super::*;

    #[test]
    fn all_patterns_compile() {
        LazyLock::force(&NUMBER_RE);
    }

    /// `currency_after` relies on this: a currency word always has a code.
    #[test]
    fn every_currency_word_and_mark_has_a_code() {
        for w in CURRENCY_WORDS.iter().chain(CURRENCY_PREFIXES) {
            assert!(currency_code(w).is_some(), "{w}");
        }
    }
}
