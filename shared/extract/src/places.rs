//! Province recognition against the embedded 63-province table
//! (`data/provinces.csv`): Vietnamese names with or without diacritics,
//! English names, possessives ("Hai Duong's") and Scandinavian/German
//! genitives ("Da Nangs", "Long Ans").

use crate::text::{Folded, fold, tokens};
use std::collections::HashMap;
use std::sync::LazyLock;

const PROVINCES_CSV: &str = include_str!("../../../data/provinces.csv");

/// Names that are not in the table but are common in news text.
const EXTRA_ALIASES: &[(&str, &str)] = &[
    ("ho chi minh city", "ho-chi-minh"),
    ("hcmc", "ho-chi-minh"),
    ("hcm city", "ho-chi-minh"),
    ("hcm", "ho-chi-minh"),
    ("thanh pho ho chi minh", "ho-chi-minh"),
    ("tp hcm", "ho-chi-minh"),
    ("tphcm", "ho-chi-minh"),
    ("sai gon", "ho-chi-minh"),
    ("saigon", "ho-chi-minh"),
    ("thua thien hue", "hue"),
    ("ba ria vung tau", "ba-ria-vung-tau"),
    ("brvt", "ba-ria-vung-tau"),
    ("hanoi", "ha-noi"),
    ("haiphong", "hai-phong"),
    ("danang", "da-nang"),
    ("dak lak", "dak-lak"),
    ("daklak", "dak-lak"),
    ("dac lac", "dak-lak"),
    ("dak nong", "dak-nong"),
    ("khanh hoa", "khanh-hoa"),
    ("thanh hoa", "thanh-hoa"),
    ("hoa binh", "hoa-binh"),
];

pub struct ProvinceTable {
    /// First folded token of a name -> (all folded tokens, province code).
    by_first_token: HashMap<String, Vec<(Vec<String>, &'static str)>>,
}

fn name_tokens(name: &str) -> Vec<String> {
    let folded = fold(name);
    tokens(&folded).into_iter().map(|t| t.text.to_string()).collect()
}

impl ProvinceTable {
    fn load() -> Self {
        let mut by_first_token: HashMap<String, Vec<(Vec<String>, &'static str)>> = HashMap::new();
        let mut add = |name: &str, code: &'static str| {
            let toks = name_tokens(name);
            let Some(first) = toks.first().cloned() else {
                return;
            };
            let entry = by_first_token.entry(first).or_default();
            if !entry.iter().any(|(t, c)| *t == toks && *c == code) {
                entry.push((toks, code));
            }
        };
        for line in PROVINCES_CSV.lines().skip(1) {
            let fields: Vec<&'static str> = line.split(',').collect();
            if fields.len() < 8 {
                continue;
            }
            let code = fields[0];
            for name in [fields[1], fields[2], fields[7]] {
                add(name, code);
            }
        }
        for (alias, code) in EXTRA_ALIASES {
            add(alias, code);
        }
        // Longest names first so "ho chi minh city" wins over "ho chi minh".
        for list in by_first_token.values_mut() {
            list.sort_by_key(|entry| std::cmp::Reverse(entry.0.len()));
        }
        ProvinceTable { by_first_token }
    }
}

pub static PROVINCES: LazyLock<ProvinceTable> = LazyLock::new(ProvinceTable::load);

/// A province name found in the text.
#[derive(Debug, Clone)]
pub struct ProvinceMention {
    pub code: &'static str,
    pub start: usize,
    pub end: usize,
}

/// Does folded token `tok` match name part `part`, allowing a genitive `s`
/// on the last part ("nangs", "ans")?
fn token_matches(tok: &str, part: &str, last: bool) -> bool {
    tok == part || (last && tok.len() == part.len() + 1 && tok.ends_with('s') && tok.starts_with(part))
}

/// Every province mention in `text`, in order.
pub fn find_provinces(text: &str) -> Vec<ProvinceMention> {
    find_provinces_folded(text, &Folded::new(text))
}

/// `find_provinces` on an already folded text (`folded` must be `Folded::new(text)`).
pub fn find_provinces_folded(text: &str, folded: &Folded) -> Vec<ProvinceMention> {
    let table = &*PROVINCES;
    let toks = tokens(&folded.text);
    let mut out = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        let mut matched = None;
        if let Some(candidates) = table.by_first_token.get(toks[i].text) {
            // Names must be capitalised in the original ("Hue", not "hue").
            let original_start = folded.original(toks[i].start);
            let capitalised = text[original_start..].chars().next().is_some_and(char::is_uppercase);
            for (parts, code) in candidates.iter().filter(|_| capitalised) {
                let n = parts.len();
                if i + n > toks.len() {
                    continue;
                }
                // Multi-word names need their words separated by spaces or
                // dashes only, not by sentence punctuation.
                let contiguous = (i..i + n - 1).all(|k| {
                    let gap = &folded.text[toks[k].end..toks[k + 1].start];
                    gap.len() <= 5 && gap.chars().all(|c| c == ' ' || c == '-' || c == '–')
                });
                if !contiguous {
                    continue;
                }
                let ok = parts
                    .iter()
                    .enumerate()
                    .all(|(k, p)| token_matches(toks[i + k].text, p, k + 1 == n && n > 1));
                if ok {
                    matched = Some((n, *code));
                    break;
                }
            }
        }
        if let Some((n, code)) = matched {
            out.push(ProvinceMention {
                code,
                start: folded.original(toks[i].start),
                end: folded.original(toks[i + n - 1].end),
            });
            i += n;
        } else {
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod pattern_tests {
    use super::*;

    #[test]
    fn all_patterns_compile() {
        LazyLock::force(&PROVINCES);
    }
}
