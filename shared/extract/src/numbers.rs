//! Number grammar: digit strings with language-dependent separators,
//! scale words ("million", "tỷ", "Mrd.") and small written-out numbers.

use crate::lang::Language;

/// Parse a digit string such as "1.234,5", "9,189.41", "1 160,8" or "28.8".
///
/// The language decides which of `.` and `,` is the decimal mark; a lone
/// separator followed by anything other than exactly three digits is taken
/// as a decimal mark whatever the language ("2,5 tỷ", "28.8 trillion").
pub fn parse_number(raw: &str, language: Language) -> Option<f64> {
    let (thousands, decimal) = if language.uses_decimal_comma() {
        ('.', ',')
    } else {
        (',', '.')
    };
    let cleaned: String = raw
        .chars()
        .filter(|c| !matches!(c, ' ' | '\u{a0}' | '\u{202f}' | '\u{2009}'))
        .collect();
    let separators: Vec<(usize, char)> = cleaned.char_indices().filter(|&(_, c)| c == '.' || c == ',').collect();
    let mut digits = String::with_capacity(cleaned.len());
    match separators.as_slice() {
        [] => digits.push_str(&cleaned),
        [(pos, sep)] => {
            let after = cleaned.len() - pos - 1;
            let is_decimal = *sep == decimal || after != 3;
            for (i, c) in cleaned.char_indices() {
                if i == *pos {
                    if is_decimal {
                        digits.push('.');
                    }
                } else {
                    digits.push(c);
                }
            }
        }
        many => {
            // Several separators: the last one is decimal when it differs
            // from the others ("1.234,5" / "1,234.5"), else all group thousands.
            let first = many[0].1;
            let last = many[many.len() - 1];
            let last_is_decimal = last.1 != first || (last.1 == decimal && first != thousands);
            for (i, c) in cleaned.char_indices() {
                if c == '.' || c == ',' {
                    if last_is_decimal && i == last.0 {
                        digits.push('.');
                    }
                } else {
                    digits.push(c);
                }
            }
        }
    }
    let value: f64 = digits.parse().ok()?;
    value.is_finite().then_some(value)
}

/// Multiplier for a scale word, by language. `word` is lowercase.
pub fn scale_multiplier(word: &str, language: Language) -> Option<f64> {
    let lower = word.to_lowercase();
    let w = lower.trim_end_matches('.');
    // Long-scale "billion" means 10^12 in Norwegian and German.
    let long_scale = matches!(language, Language::No | Language::De);
    let value = match w {
        "nghìn tỷ" | "ngàn tỷ" | "nghìn tỉ" | "ngàn tỉ" => 1e12,
        "triệu" => 1e6,
        "tỷ" | "tỉ" => 1e9,
        "nghìn" | "ngàn" | "tsd" | "tausend" => 1e3,
        "million" | "millions" | "mln" | "millioner" | "millionen" | "mio" | "mill" => 1e6,
        "milliard" | "milliarder" | "milliarde" | "milliarden" | "mrd" | "bln" | "bn" => 1e9,
        "billion" | "billions" => {
            if long_scale {
                1e12
            } else {
                1e9
            }
        }
        "billioner" | "billionen" | "trillion" | "trillions" => 1e12,
        _ => return None,
    };
    Some(value)
}

/// Small numbers written out in words, as they appear before "projects".
pub fn written_number(word: &str, language: Language) -> Option<u64> {
    written_number_folded(&crate::text::fold(word), language)
}

/// `written_number` for an accent-folded lowercase word ("sau", "funf", "atte").
pub fn written_number_folded(w: &str, language: Language) -> Option<u64> {
    // Written numbers are short words; skip the table for anything else.
    if w.len() > 9 || w.is_empty() || w.as_bytes()[0].is_ascii_digit() {
        return None;
    }
    let table: &[(&str, u64)] = match language {
        Language::En => &[
            ("one", 1),
            ("two", 2),
            ("three", 3),
            ("four", 4),
            ("five", 5),
            ("six", 6),
            ("seven", 7),
            ("eight", 8),
            ("nine", 9),
            ("ten", 10),
            ("eleven", 11),
            ("twelve", 12),
            ("fifteen", 15),
            ("twenty", 20),
            ("thirty", 30),
            ("forty", 40),
            ("fifty", 50),
            ("sixty", 60),
            ("seventy", 70),
            ("eighty", 80),
            ("ninety", 90),
            ("dozen", 12),
        ],
        Language::Vi => &[
            ("hai", 2),
            ("ba", 3),
            ("bon", 4),
            ("nam", 5),
            ("sau", 6),
            ("bay", 7),
            ("tam", 8),
            ("chin", 9),
            ("muoi", 10),
        ],
        Language::No => &[
            ("to", 2),
            ("tre", 3),
            ("fire", 4),
            ("fem", 5),
            ("seks", 6),
            ("sju", 7),
            ("syv", 7),
            ("atte", 8),
            ("ni", 9),
            ("ti", 10),
            ("elleve", 11),
            ("tolv", 12),
            ("femten", 15),
            ("tjue", 20),
        ],
        Language::De => &[
            ("zwei", 2),
            ("drei", 3),
            ("vier", 4),
            ("funf", 5),
            ("sechs", 6),
            ("sieben", 7),
            ("acht", 8),
            ("neun", 9),
            ("zehn", 10),
            ("elf", 11),
            ("zwolf", 12),
            ("funfzehn", 15),
            ("zwanzig", 20),
        ],
    };
    table.iter().find(|(name, _)| *name == w).map(|&(_, v)| v)
}

/// Parse a count written either in digits ("1,234", "3.974") or in words.
pub fn parse_count(word: &str, language: Language) -> Option<u64> {
    if word.chars().next().is_some_and(|c| c.is_ascii_digit()) {
        let v = parse_number(word, language)?;
        // A count is a whole number; "1,5" is not one.
        return (v.fract() == 0.0 && (0.0..1e9).contains(&v)).then_some(v as u64);
    }
    written_number(word, language)
}
