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

/// Words that may not stand between a number and "projects", beyond `MEASURES`.
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

/// Units and things counted other than projects: a number followed by one
/// counts something else, and none may stand between a number and
/// "projects" (both `STOPWORDS` and `UNITS`).
const MEASURES: &[&str] = &[
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
];

/// Words that may not stand between a number and "projects".
fn is_stopword(w: &str) -> bool {
    STOPWORDS.contains(&w) || MEASURES.contains(&w)
}

/// Words after a number that show it counts something other than projects.
fn is_unit(w: &str) -> bool {
    UNITS.contains(&w) || MEASURES.contains(&w)
}

/// More of `is_unit`, beyond `MEASURES`.
const UNITS: &[&str] = &[
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

/// Words before a number that make it a re-mention ("all four projects",
/// "the other three projects").
const ANAPHORIC: &[&str] = &[
    "all",
    "remaining",
    "other",
    "these",
    "those",
    "both",
    "ca",
    "alle",
    "disse",
    "diese",
    "samtlige",
];

/// Words right after a project noun that make its count a re-mention
/// ("hai dự án còn lại", the remaining two projects).
const ANAPHORIC_AFTER: &[&[&str]] = &[&["con", "lai"], &["remaining"], &["ubrige"], &["ovrige"]];

/// Vietnamese words after which "năm" is the year, not five ("mỗi năm",
/// each year; "trong năm", within the year).
const YEAR_BEFORE_NAM: &[&str] = &["moi", "hang", "trong", "cung", "cuoi", "dau", "giua", "nay", "qua"];

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
    let reader = CountReader {
        sentence: folded_sentence,
        words: words_of(folded_sentence),
        to_original,
        language,
        money_spans,
    };
    let mut used = vec![false; reader.words.len()];
    let mut out = reader.counts_before_nouns(&mut used);
    reader.add_list_members(&mut out, &mut used, previous_sentence_had_count);
    out.sort_by_key(|c| c.start);
    out
}

/// The words and numbers of a folded sentence. Words are read from the
/// folded sentence (no per-word allocation); spans are mapped back to the
/// original text only for the counts found.
fn words_of(sentence: &str) -> Vec<Word<'_>> {
    WORD.find_iter(sentence)
        .map(|m| Word {
            start: m.start(),
            end: m.end(),
            folded: m.as_str(),
            is_number: m.as_str().starts_with(|c: char| c.is_ascii_digit()),
        })
        .collect()
}

/// One sentence's words, read for project counts.
struct CountReader<'s> {
    /// The folded sentence.
    sentence: &'s str,
    words: Vec<Word<'s>>,
    to_original: &'s dyn Fn(usize) -> usize,
    language: Language,
    /// Amounts (original offsets): their digits are not counts.
    money_spans: &'s [(usize, usize)],
}

impl CountReader<'_> {
    /// Is the word part of an amount ("5 million USD" counts nothing)?
    fn in_money(&self, w: &Word) -> bool {
        self.money_spans
            .iter()
            .any(|&(s, e)| (self.to_original)(w.start) < e && (self.to_original)(w.end) > s)
    }

    /// The count a word states ("113", "eight"), if any; dates and
    /// percentages are not counts.
    fn value_of(&self, w: &Word) -> Option<u64> {
        let sentence = self.sentence;
        let raw = &sentence[w.start..w.end];
        if w.is_number {
            let next = sentence[w.end..].chars().next();
            if matches!(next, Some('%' | '/')) || sentence[..w.start].ends_with('/') {
                return None;
            }
            if sentence[w.end..].trim_start().starts_with('%') {
                return None;
            }
        }
        let value = if w.is_number {
            parse_count(raw, self.language)
        } else {
            crate::numbers::written_number_folded(w.folded, self.language)
        };
        value.filter(|&v| v > 0)
    }

    /// Counts standing before a project noun ("113 new secondary projects"),
    /// except re-mentions ("all four projects"). Marks their numbers `used`.
    fn counts_before_nouns(&self, used: &mut [bool]) -> Vec<CountMention> {
        let words = &self.words;
        let mut out: Vec<CountMention> = Vec::new();
        for j in 0..words.len() {
            let new_before = (j.saturating_sub(3)..j).any(|k| is_new_word(words[k].folded));
            let Some(noun_len) = project_noun(words, j, new_before) else {
                continue;
            };
            let found = self.number_before_noun(j, used);
            // "all four projects", "the remaining two projects": anaphoric
            // re-mentions of projects already counted.
            let anaphoric = found.is_some_and(|(k, _)| k > 0 && ANAPHORIC.contains(&words[k - 1].folded))
                || self.re_mentioned_after(j + noun_len);
            if anaphoric {
                continue;
            }
            if let Some((k, value)) = found {
                used[k] = true;
                let noun_end = words[j + noun_len - 1].end;
                out.push(CountMention {
                    value,
                    start: (self.to_original)(words[k].start),
                    end: (self.to_original)(words[k].end),
                    phrase_end: (self.to_original)(noun_end),
                    elliptical: false,
                });
            }
        }
        out
    }

    /// Do the words from `after` re-mention projects counted before
    /// ("... dự án còn lại")?
    fn re_mentioned_after(&self, after: usize) -> bool {
        let next = self.words.get(after..).unwrap_or(&[]);
        ANAPHORIC_AFTER
            .iter()
            .any(|a| a.len() <= next.len() && a.iter().zip(next).all(|(x, w)| *x == w.folded))
    }

    /// A number written in words that is not a count here: Vietnamese
    /// written numbers stand right before their noun, and "năm" after a
    /// time word is the year.
    fn written_number_misread(&self, k: usize, j: usize) -> bool {
        let words = &self.words;
        if words[k].is_number || self.language != Language::Vi {
            return false;
        }
        let year = words[k].folded == "nam" && k > 0 && YEAR_BEFORE_NAM.contains(&words[k - 1].folded);
        k + 1 != j || year
    }

    /// "Twenty-three": a unit joined by a hyphen to the tens before it
    /// is one number, starting at the tens. Returns (word, value).
    fn with_tens_before(&self, k: usize, unit: u64) -> (usize, u64) {
        let words = &self.words;
        let tens = k
            .checked_sub(1)
            .filter(|&t| unit < 10 && &self.sentence[words[t].end..words[k].start] == "-")
            .and_then(|t| {
                let v = self.value_of(&words[t]).filter(|v| v % 10 == 0 && *v >= 20)?;
                Some((t, v))
            });
        tens.map_or((k, unit), |(t, v)| (t, v + unit))
    }

    /// "domestic and foreign-invested projects": a conjunction between
    /// two scope words is part of the noun phrase.
    fn joins_scope_words(&self, k: usize) -> bool {
        let words = &self.words;
        matches!(words[k].folded, "and" | "or" | "og" | "und" | "va" | "eller" | "oder")
            && k > 0
            && scope_adjective(words[k - 1].folded)
            && words.get(k + 1).is_some_and(|w| scope_adjective(w.folded))
    }

    /// The number of the project noun at word `j`: walk back over at most
    /// four modifiers ("Two of the projects" included), stopping at
    /// punctuation, stop words and other numbers. Returns (word, value).
    fn number_before_noun(&self, j: usize, used: &[bool]) -> Option<(usize, u64)> {
        let words = &self.words;
        let mut k = j;
        for steps in 0..5 {
            if k == 0 {
                break;
            }
            k -= 1;
            let w = &words[k];
            let gap = &self.sentence[w.end..words[k + 1].start];
            if gap
                .chars()
                .any(|c| matches!(c, ',' | ';' | ':' | '(' | ')' | '.' | '–'))
            {
                break;
            }
            if let Some(v) = self.value_of(w) {
                if !self.in_money(w) && !used[k] && !self.written_number_misread(k, j) {
                    return Some(self.with_tens_before(k, v));
                }
                break;
            }
            // "Two of the projects", "Twenty-three of those projects"
            let of_the =
                steps <= 1 && matches!(w.folded, "the" | "these" | "those") && k >= 1 && words[k - 1].folded == "of";
            if of_the {
                continue;
            }
            if w.folded == "of" && k + 1 < j && matches!(words[k + 1].folded, "the" | "these" | "those") {
                continue;
            }
            // "11 more FDI projects"
            if w.folded == "more" && k > 0 && self.value_of(&words[k - 1]).is_some() {
                continue;
            }
            // "53 av prosjektene": a part of the projects named before.
            let part_of_definite = w.folded == "av" && k + 1 == j && words[j].folded.ends_with("ene");
            if self.joins_scope_words(k) || part_of_definite {
                continue;
            }
            if is_stopword(w.folded) || w.is_number {
                break;
            }
        }
        None
    }

    /// Elliptical list members: subset counts ("six of which", "396 av
    /// dem") after a count here or in the previous sentence, and members
    /// after a count in the same sentence ("davon 75 mit ausländischem
    /// Kapital und 21 inländische").
    fn add_list_members(&self, out: &mut Vec<CountMention>, used: &mut [bool], previous_sentence_had_count: bool) {
        let words = &self.words;
        let first_standard = out.iter().map(|c| c.start).min();
        for k in 0..words.len() {
            if used[k] || self.in_money(&words[k]) {
                continue;
            }
            let Some(value) = self.value_of(&words[k]).or_else(|| self.german_one(&words[k])) else {
                continue;
            };
            // Years are not list members ("a further 15 in 2025").
            if words[k].is_number && (1900..=2100).contains(&value) {
                continue;
            }
            let next: Vec<&str> = words[k + 1..].iter().take(3).map(|w| w.folded).collect();
            let prior_count = first_standard.is_some_and(|s| s < (self.to_original)(words[k].start));
            let member = (is_subset_head(&next) && (prior_count || previous_sentence_had_count))
                || (prior_count && self.continues_list(k, &next));
            if member {
                out.push(elliptical(&words[k], self.to_original, value));
                used[k] = true;
            }
        }
    }

    /// German "eines" (one) as a list member ("sieben mit inländischem und
    /// eines mit ausländischem Kapital").
    fn german_one(&self, w: &Word) -> Option<u64> {
        (self.language == Language::De && matches!(w.folded, "eines" | "einer")).then_some(1)
    }

    /// Is number `k` (followed by the words `next`) one more member of a
    /// list: introduced by "davon", "and", "while", a dash or comma, and
    /// followed by a scope adjective or a verb, not by a unit?
    fn continues_list(&self, k: usize, next: &[&str]) -> bool {
        let words = &self.words;
        let before: Vec<&str> = words[..k].iter().rev().take(2).map(|w| w.folded).collect();
        let gap_before = if k > 0 {
            &self.sentence[words[k - 1].end..words[k].start]
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
                | ["hvorav", ..]
                | ["darunter", ..]
                | ["further", "a", ..]
                | ["other", "the", ..]
                | ["andre", "de", ..]
                | ["anderen", "die", ..]
                | ["another", ..]
                | ["and", ..]
                | ["og", ..]
                | ["und", ..]
                | ["va", ..]
                | ["mens", ..]
                | ["while", ..]
                | ["sowie", ..]
                | ["con", ..]
        ) || gap_before.contains(['–', '(', ',', ':'])
            || gap_before.contains(" - ");
        let follower = next.first().copied().unwrap_or("");
        let follower_ok = scope_adjective(follower)
            || matches!(
                follower,
                "mit"
                    | "in"
                    | "i"
                    | "er"
                    | "were"
                    | "are"
                    | "received"
                    | "voi"
                    | "co"
                    | "had"
                    | "have"
                    | "um"
                    // where the projects are: "the other 38 inside them"
                    | "inside"
                    | "outside"
                    | "within"
                    | "innenfor"
                    | "utenfor"
                    | "innerhalb"
                    | "auserhalb"
                    | "ngoai"
            );
        let unit_after = next.first().is_some_and(|w| is_unit(w));
        marker_before && follower_ok && !unit_after
    }
}

/// Do the words after a number make it a subset ("of which", "av dem",
/// "trong số") or one more group of projects ("and 11 others")?
fn is_subset_head(next: &[&str]) -> bool {
    matches!(
        next,
        ["of", "which", ..]
            | ["of", "them", ..]
            | ["of", "these", ..]
            | ["av", "dem", ..]
            | ["davon", ..]
            | ["darunter", ..]
            | ["hvorav", ..]
            | ["trong", "so", ..]
            // "and 11 others" after a count
            | ["others", ..]
            | ["andere", ..]
            | ["andre", ..]
            | ["du", "an", "khac", ..]
    )
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
