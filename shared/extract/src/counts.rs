//! Project counts: "113 new secondary projects", "23 dự án FDI mới",
//! "21 nye FDI-prosjekter", "96 neue Projekte", "eight newly registered
//! projects", plus elliptical list members ("davon 75 mit ausländischem
//! Kapital und 21 inländische", "six of which", "396 av dem").

use crate::lang::Language;
use crate::numbers::parse_count;

use regex::Regex;
use std::sync::LazyLock;

#[derive(Debug, Clone)]
pub struct CountMention {
    pub value: u64,
    /// Span of the number itself.
    pub start: usize,
    pub end: usize,
    /// End of the noun phrase ("... projects"); equals `end` for elliptical counts.
    pub phrase_end: usize,
    /// A list member without its own noun ("und 21 inländische").
    pub elliptical: bool,
}

static WORD: LazyLock<Regex> = LazyLock::new(|| {
    // Numbers may group thousands with spaces ("4 200 prosjekter").
    Regex::new(r"\d{1,3}(?:[ \u{a0}\u{202f}]\d{3})+(?-u:\b)|\d+(?:[.,]\d+)*|[\p{L}\p{M}\p{N}]+").expect("word regex")
});

struct Word<'s> {
    start: usize,
    end: usize,
    folded: &'s str,
    is_number: bool,
}

/// Words that may not stand between a number and "projects".
const STOPWORDS: &[&str] = &[
    "of",
    "in",
    "with",
    "for",
    "from",
    "to",
    "and",
    "or",
    "at",
    "by",
    "on",
    "the",
    "a",
    "an",
    "than",
    "per",
    "og",
    "i",
    "pa",
    "med",
    "av",
    "til",
    "fra",
    "und",
    "mit",
    "von",
    "zu",
    "fur",
    "im",
    "der",
    "die",
    "das",
    "den",
    "va",
    "cua",
    "cho",
    "voi",
    "trong",
    "tai",
    "la",
    "co",
    "tren",
    "cac",
    "nhung",
    "hectares",
    "hectare",
    "ha",
    "percent",
    "prosent",
    "prozent",
    "countries",
    "investors",
    "parks",
    "workers",
    "which",
    "that",
    "these",
    "those",
    "their",
    "its",
    "were",
    "was",
    "are",
    "is",
    "have",
    "has",
    "had",
    "been",
    "be",
    "will",
    "would",
    "nam",
    "thang",
    "year",
    "years",
    "months",
    "month",
    "nhat",
    "khu",
    "kcn",
    "about",
    "around",
    "nearly",
    "over",
    "more",
    "than",
    "all",
    "remaining",
    "some",
    "such",
    "ar",
    "aret",
    "jahr",
];

/// Words after a number that show it counts something other than projects.
const UNITS: &[&str] = &[
    "hectares",
    "hectare",
    "ha",
    "percent",
    "prosent",
    "prozent",
    "countries",
    "investors",
    "parks",
    "workers",
    "m2",
    "km",
    "years",
    "months",
    "jobs",
    "firms",
    "companies",
    "enterprises",
    "hektar",
    "lander",
    "land",
    "arbeidere",
    "beschaftigte",
    "kcn",
    "khu",
    "nha",
    "doanh",
];

/// Words before a number that make it a re-mention ("all four projects").
const ANAPHORIC: &[&str] = &[
    "all",
    "remaining",
    "these",
    "those",
    "both",
    "ca",
    "alle",
    "disse",
    "diese",
    "samtlige",
];

/// Substrings of every project noun (folded), for a quick pre-check.
const PROJECT_STEMS: &[&str] = &[
    "project", "du an", "prosjekt", "projekt", "vorhaben", "factor", "plant", "fabrik", "werke",
];

/// Length in words of a project noun starting at word `j`, if any.
fn project_noun(words: &[Word], j: usize, new_before: bool) -> Option<usize> {
    let w = words.get(j)?.folded;
    if w == "du" && words.get(j + 1).is_some_and(|n| n.folded == "an") {
        return Some(2);
    }
    let is_noun = matches!(
        w,
        "project" | "projects" | "vorhaben" | "projekt" | "projekte" | "projekten"
    ) || w.ends_with("prosjekter")
        || w.ends_with("prosjektene")
        || w == "prosjekt"
        || (w.ends_with("projekte") && w.len() > 8);
    if is_noun {
        return Some(1);
    }
    // Factories and plants count as projects only when said to be new.
    let plant = matches!(w, "factories" | "plants" | "fabrikker" | "fabriken" | "werke");
    (plant && new_before).then_some(1)
}

fn is_new_word(w: &str) -> bool {
    matches!(w, "new" | "newly" | "nye" | "neue" | "neuen" | "moi")
}

fn scope_adjective(w: &str) -> bool {
    [
        "foreign",
        "domestic",
        "fdi",
        "ddi",
        "auslandisch",
        "inlandisch",
        "innenlandsk",
        "utenlandsk",
        "utenlandsinvest",
    ]
    .iter()
    .any(|p| w.starts_with(p))
}

/// Find the project counts in one sentence (`sentence` = its text, `base` =
/// its byte offset in the article). `money_spans` are excluded.
/// `previous_sentence_had_count` enables anaphoric "396 av dem".
pub fn find_counts(
    folded_sentence: &str,
    to_original: &dyn Fn(usize) -> usize,
    language: Language,
    money_spans: &[(usize, usize)],
    previous_sentence_had_count: bool,
) -> Vec<CountMention> {
    // Cheap exit for the many sentences that mention no projects at all.
    let mentions_projects = PROJECT_STEMS.iter().any(|stem| folded_sentence.contains(stem));
    if !mentions_projects && !previous_sentence_had_count {
        return Vec::new();
    }
    // Words are read from the folded sentence (no per-word allocation);
    // spans are mapped back to the original text at the end.
    let sentence = folded_sentence;
    let words: Vec<Word> = WORD
        .find_iter(sentence)
        .map(|m| Word {
            start: m.start(),
            end: m.end(),
            folded: m.as_str(),
            is_number: m.as_str().starts_with(|c: char| c.is_ascii_digit()),
        })
        .collect();
    let in_money = |w: &Word| {
        money_spans
            .iter()
            .any(|&(s, e)| to_original(w.start) < e && to_original(w.end) > s)
    };
    let value_of = |w: &Word| -> Option<u64> {
        let raw = &sentence[w.start..w.end];
        if w.is_number {
            // Dates and percentages are not counts.
            let next = sentence[w.end..].chars().next();
            if matches!(next, Some('%' | '/')) || sentence[..w.start].ends_with('/') {
                return None;
            }
            if sentence[w.end..].trim_start().starts_with('%') {
                return None;
            }
        }
        let value = if w.is_number {
            parse_count(raw, language)
        } else {
            crate::numbers::written_number_folded(w.folded, language)
        };
        value.filter(|&v| v > 0)
    };
    let mut out: Vec<CountMention> = Vec::new();
    let mut used = vec![false; words.len()];
    for j in 0..words.len() {
        let new_before = (j.saturating_sub(3)..j).any(|k| is_new_word(words[k].folded));
        let Some(noun_len) = project_noun(&words, j, new_before) else {
            continue;
        };
        // Walk back over at most three modifiers to the number.
        let mut k = j;
        let mut found = None;
        for steps in 0..4 {
            if k == 0 {
                break;
            }
            k -= 1;
            let w = &words[k];
            let gap = &sentence[w.end..words[k + 1].start];
            if gap
                .chars()
                .any(|c| matches!(c, ',' | ';' | ':' | '(' | ')' | '.' | '–'))
            {
                break;
            }
            if let Some(v) = value_of(w) {
                if !in_money(w) && !used[k] {
                    found = Some((k, v));
                }
                break;
            }
            // "Two of the projects"
            let of_the = steps <= 1 && matches!(w.folded, "the" | "these") && k >= 1 && words[k - 1].folded == "of";
            if of_the {
                continue;
            }
            if w.folded == "of" && k + 1 < j && matches!(words[k + 1].folded, "the" | "these") {
                continue;
            }
            if STOPWORDS.contains(&w.folded) || w.is_number {
                break;
            }
        }
        // "all four projects", "the remaining two projects": anaphoric
        // re-mentions of projects already counted.
        let anaphoric = found.is_some_and(|(k, _)| k > 0 && ANAPHORIC.contains(&words[k - 1].folded));
        if anaphoric {
            continue;
        }
        if let Some((k, value)) = found {
            used[k] = true;
            let noun_end = words[j + noun_len - 1].end;
            out.push(CountMention {
                value,
                start: to_original(words[k].start),
                end: to_original(words[k].end),
                phrase_end: to_original(noun_end),
                elliptical: false,
            });
        }
    }
    // Elliptical list members after a count in the same sentence.
    let first_standard = out.iter().map(|c| c.start).min();
    for k in 0..words.len() {
        if used[k] || in_money(&words[k]) {
            continue;
        }
        let Some(value) = value_of(&words[k]) else {
            continue;
        };
        // Years are not list members ("a further 15 in 2025").
        if words[k].is_number && (1900..=2100).contains(&value) {
            continue;
        }
        let next: Vec<&str> = words[k + 1..].iter().take(3).map(|w| w.folded).collect();
        let subset_after = matches!(
            next.as_slice(),
            ["of", "which", ..]
                | ["of", "them", ..]
                | ["of", "these", ..]
                | ["av", "dem", ..]
                | ["davon", ..]
                | ["trong", "so", ..]
        );
        let prior_count = first_standard.is_some_and(|s| s < to_original(words[k].start));
        if subset_after && (prior_count || previous_sentence_had_count) {
            out.push(elliptical(&words[k], to_original, value));
            used[k] = true;
            continue;
        }
        if !prior_count {
            continue;
        }
        let before: Vec<&str> = words[..k].iter().rev().take(2).map(|w| w.folded).collect();
        let gap_before = if k > 0 {
            &sentence[words[k - 1].end..words[k].start]
        } else {
            ""
        };
        let marker_before = matches!(
            before.as_slice(),
            ["davon", ..]
                | ["do", "trong", ..]
                | ["which", "of", ..]
                | ["including", ..]
                | ["gom", ..]
                | ["herav", ..]
                | ["further", "a", ..]
                | ["other", "the", ..]
                | ["another", ..]
                | ["and", ..]
                | ["og", ..]
                | ["und", ..]
                | ["va", ..]
                | ["mens", ..]
                | ["while", ..]
                | ["sowie", ..]
                | ["con", ..]
        ) || gap_before.contains(['–', '(', ','])
            || gap_before.contains(" - ");
        let follower = next.first().copied().unwrap_or("");
        let follower_ok = scope_adjective(follower)
            || matches!(
                follower,
                "mit" | "in" | "i" | "er" | "were" | "are" | "received" | "voi" | "co" | "had" | "have" | "um"
            );
        let unit_after = next.first().is_some_and(|w| UNITS.contains(w));
        if marker_before && follower_ok && !unit_after {
            out.push(elliptical(&words[k], to_original, value));
            used[k] = true;
        }
    }
    out.sort_by_key(|c| c.start);
    out
}

fn elliptical(w: &Word, to_original: &dyn Fn(usize) -> usize, value: u64) -> CountMention {
    CountMention {
        value,
        start: to_original(w.start),
        end: to_original(w.end),
        phrase_end: to_original(w.end),
        elliptical: true,
    }
}

#[cfg(test)]
mod pattern_tests {
    use super::*;

    #[test]
    fn all_patterns_compile() {
        LazyLock::force(&WORD);
    }
}
