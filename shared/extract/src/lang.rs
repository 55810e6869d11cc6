//! Languages the extractor understands and a cheap detector for when the
//! caller does not know the language of an article.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Article language. Serialized as its ISO 639-1 code (`"en"`, `"vi"`, `"no"`, `"de"`).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    En,
    Vi,
    No,
    De,
}

impl Language {
    pub fn as_str(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::Vi => "vi",
            Language::No => "no",
            Language::De => "de",
        }
    }

    /// Whether `.` groups thousands and `,` marks decimals ("1.234,5").
    pub fn uses_decimal_comma(self) -> bool {
        !matches!(self, Language::En)
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownLanguage(pub String);

impl fmt::Display for UnknownLanguage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown language {:?} (expected en, vi, no/nb/nn or de)", self.0)
    }
}

impl std::error::Error for UnknownLanguage {}

impl FromStr for Language {
    type Err = UnknownLanguage;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "en" | "eng" | "english" => Ok(Language::En),
            "vi" | "vie" | "vietnamese" => Ok(Language::Vi),
            "no" | "nb" | "nn" | "nor" | "norwegian" => Ok(Language::No),
            "de" | "deu" | "ger" | "german" => Ok(Language::De),
            _ => Err(UnknownLanguage(s.to_string())),
        }
    }
}

/// Characters that only Vietnamese uses among our languages (tone-marked vowels, đ, ơ, ư).
fn is_vietnamese_letter(c: char) -> bool {
    matches!(c, 'đ' | 'Đ' | 'ơ' | 'Ơ' | 'ư' | 'Ư' | 'ă' | 'Ă') || ('\u{1EA0}'..='\u{1EF9}').contains(&c)
}

const NORWEGIAN_WORDS: &[&str] = &[
    "og",
    "i",
    "på",
    "er",
    "det",
    "av",
    "til",
    "som",
    "med",
    "for",
    "millioner",
    "milliarder",
    "prosjekter",
    "ikke",
    "har",
    "fra",
    "en",
    "de",
    "seg",
    "også",
];
const GERMAN_WORDS: &[&str] = &[
    "und", "der", "die", "das", "mit", "von", "den", "ist", "im", "für", "auf", "nicht", "sich", "wurden", "mehr",
    "als", "mio", "mrd", "projekte", "des",
];
const ENGLISH_WORDS: &[&str] = &[
    "the", "and", "of", "in", "to", "with", "for", "is", "was", "from", "million", "billion", "projects", "that", "by",
    "has", "have", "its",
];

/// Guess the language from letters and very common function words.
/// Cheap on purpose: looks at the first 20 kB only.
pub fn detect_language(text: &str) -> Language {
    let mut end = text.len().min(20_000);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let sample = &text[..end];
    let letters = sample.chars().filter(|c| c.is_alphabetic()).count().max(1);
    let vietnamese = sample.chars().filter(|&c| is_vietnamese_letter(c)).count();
    if vietnamese * 50 > letters {
        return Language::Vi;
    }
    let (mut en, mut no, mut de) = (0usize, 0usize, 0usize);
    let mut nordic_letters = 0usize;
    for word in sample.split(|c: char| !c.is_alphanumeric()) {
        if word.is_empty() {
            continue;
        }
        if word.contains(['æ', 'ø', 'å', 'Æ', 'Ø', 'Å']) {
            nordic_letters += 1;
        }
        let lower = word.to_lowercase();
        let w = lower.as_str();
        en += usize::from(ENGLISH_WORDS.contains(&w));
        no += usize::from(NORWEGIAN_WORDS.contains(&w));
        de += usize::from(GERMAN_WORDS.contains(&w) || w.contains(['ä', 'ö', 'ü', 'ß']));
    }
    no += nordic_letters;
    if no > en && no >= de {
        Language::No
    } else if de > en && de > no {
        Language::De
    } else {
        Language::En
    }
}
