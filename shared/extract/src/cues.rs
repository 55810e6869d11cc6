//! Cue words that tell what a figure is about: new versus added capital,
//! foreign versus domestic, running totals, targets... The words
//! themselves are data, one table per language, in `lexicon`; this module
//! compiles them and indexes their occurrences in an article. All
//! patterns run on accent-folded lowercase text (see `text::Folded`).

use crate::lang::Language;
use crate::lexicon;
use crate::text::Folded;
use regex::Regex;
use std::sync::LazyLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cue {
    /// Newly licensed projects / capital.
    New,
    /// Weaker "new" cue for project counts only ("attracted", "tiếp nhận").
    NewWeak,
    /// Certificates handed out: new projects when said before a count.
    Licensed,
    /// Capital added to existing projects.
    Added,
    /// "additional", "extra": added capital, but not "additional projects".
    AddedMoneyOnly,
    Target,
    Foreign,
    Domestic,
    /// Converted sums of both ("quy đổi"): scope all.
    Converted,
    /// Running totals at a date ("as of", "home to", "còn hiệu lực").
    Stock,
    /// Running-total wording that yields to an explicit period ("dermed", "bringing the total").
    StockWeak,
    /// Investment vocabulary (capital, FDI, vốn...): money in a sentence
    /// without it is not an investment statistic.
    Investment,
    /// Projects about to start operating: counts of kind "other".
    Operating,
    /// "the company", "selskapet": a sentence about one investor.
    CompanyAnaphor,
    /// "combined", "in total": a sum over several projects.
    Combined,
    /// A superset that later parts of the sentence split up ("total number", "insgesamt").
    Superset,
    /// Capital contributions and share purchases: a third kind of FDI flow
    /// with no metric of its own.
    Contribution,
    /// A source country ("from Japan", "South Korea led with"): per-country
    /// figures are not province totals.
    Country,
    /// Figures for the whole country, not a province.
    National,
    /// Averages and per-project amounts: not totals.
    PerUnit,
    /// Plans, pipelines and forecasts: not reported results.
    Prospective,
    /// The amount is a new total, not an addition ("taking ... to").
    NewTotal,
    /// Projects in operation ("projects in operation", "aktive
    /// prosjekter"): a count of them is a running total.
    InOperation,
    /// Projects already there ("existing", "bestehenden"): a count of
    /// them in a flow sentence counts projects that added capital.
    Existing,
    /// Projects terminated, revoked or that reduced their capital: counts
    /// of kind "other", their money no statistic.
    Withdrawn,
    /// Money that is not investment: revenue, exports, budget
    /// contributions, donations, wages, enterprises' charter capital.
    NotInvestment,
    /// A ceremony handing over licences: its totals are not a province's.
    Ceremony,
    /// A breakdown of a total given before ("of which", "trong đó",
    /// "utgjør", "darunter"): it continues that total's kind.
    Subset,
    /// "new and additional capital", "vốn cấp mới và tăng thêm": the
    /// amount is the total of both.
    NewAndAdded,
    /// "total", "gesamte", "tổng": an overall figure, not the capital of
    /// the projects counted just before.
    Overall,
    /// "now", "to date", "bis heute": a running total at publication.
    Now,
    /// "last year", "i fjor", "im Vorjahr": an earlier time than the
    /// figure before.
    Past,
    /// "since 2014", "to date", "lũy kế": an amount accumulated over years,
    /// not one event's.
    Cumulative,
}

/// The regex of one lexicon phrase (see `lexicon` for its marks).
fn phrase_pattern(phrase: &str) -> String {
    let (phrase, open_start) = match phrase.strip_prefix('*') {
        Some(rest) => (rest, true),
        None => (phrase, false),
    };
    let (phrase, at_end) = match phrase.strip_suffix('$') {
        Some(rest) => (rest, true),
        None => (phrase, false),
    };
    let mut pattern = String::from(if open_start { "" } else { r"(?-u:\b)" });
    for (i, part) in phrase.split(" ~ ").enumerate() {
        if i > 0 {
            pattern.push_str(r"(?-u:\b)[^.,;]{0,40}(?-u:\b)");
        }
        for c in part.chars() {
            match c {
                '*' => pattern.push_str("[0-9a-z_]*"),
                '#' => pattern.push_str(r"\d"),
                _ => pattern.push_str(&regex::escape(c.encode_utf8(&mut [0; 4]))),
            }
        }
    }
    if at_end {
        pattern.push_str(r"(?-u:\b)\s*$");
    } else if phrase.ends_with(|c: char| c.is_ascii_alphanumeric()) {
        pattern.push_str(r"(?-u:\b)");
    }
    pattern
}

/// "(?:a|b|c)" of literal words.
fn one_of(words: &[&str]) -> String {
    let escaped: Vec<String> = words.iter().map(|w| regex::escape(w)).collect();
    format!("(?:{})", escaped.join("|"))
}

/// Source-country phrases ("from Japan", "Korea led", "Japanese investors",
/// "nhà đầu tư Nhật Bản"), built from the lists in `lexicon`.
fn country_pattern() -> String {
    let countries = one_of(lexicon::COUNTRY_NAMES);
    let mut after_investor: Vec<&str> = lexicon::COUNTRY_NAMES.to_vec();
    after_investor.extend_from_slice(lexicon::COUNTRY_SHORT_VI);
    format!(
        r"(?-u:\b){from} {countries}(?-u:\b)|(?-u:\b){countries} {ranked}(?-u:\b)|(?-u:\b){nationalities} {nouns}(?-u:\b)|(?-u:\b){investor} {after}(?-u:\b)",
        from = one_of(lexicon::COUNTRY_FROM),
        ranked = one_of(lexicon::COUNTRY_RANKED),
        nationalities = one_of(lexicon::NATIONALITIES),
        nouns = one_of(lexicon::INVESTOR_NOUNS),
        investor = regex::escape(lexicon::INVESTOR_FROM_VI),
        after = one_of(&after_investor),
    )
}

/// The cue regexes of one language: one alternation per cue over the
/// shared and the language's phrases, plus the source countries. The
/// new-total prefixes are kept apart (they are matched before an amount,
/// not indexed).
struct Compiled {
    indexed: Vec<(Cue, Regex)>,
    new_total: Regex,
}

fn compile(language: Language) -> Compiled {
    let mut phrases: Vec<(Cue, Vec<String>)> = Vec::new();
    for (cue, list) in lexicon::SHARED.iter().chain(lexicon::table(language)) {
        let patterns = list.iter().map(|p| phrase_pattern(p));
        match phrases.iter_mut().find(|(c, _)| c == cue) {
            Some((_, existing)) => existing.extend(patterns),
            None => phrases.push((*cue, patterns.collect())),
        }
    }
    let mut new_total = Regex::new("$^").expect("empty regex");
    let mut indexed = Vec::with_capacity(phrases.len() + 1);
    for (cue, patterns) in phrases {
        let re = Regex::new(&patterns.join("|")).expect("cue regex");
        if cue == Cue::NewTotal {
            new_total = re;
        } else {
            indexed.push((cue, re));
        }
    }
    indexed.push((Cue::Country, Regex::new(&country_pattern()).expect("country regex")));
    Compiled { indexed, new_total }
}

static ENGLISH: LazyLock<Compiled> = LazyLock::new(|| compile(Language::En));
static VIETNAMESE: LazyLock<Compiled> = LazyLock::new(|| compile(Language::Vi));
static NORWEGIAN: LazyLock<Compiled> = LazyLock::new(|| compile(Language::No));
static GERMAN: LazyLock<Compiled> = LazyLock::new(|| compile(Language::De));

fn compiled(language: Language) -> &'static Compiled {
    match language {
        Language::En => &ENGLISH,
        Language::Vi => &VIETNAMESE,
        Language::No => &NORWEGIAN,
        Language::De => &GERMAN,
    }
}

/// One cue occurrence, as original-text byte offsets.
#[derive(Debug, Clone, Copy)]
pub struct CueHit {
    pub cue: Cue,
    pub start: usize,
    pub end: usize,
}

/// All cue hits of a document, sorted by position.
pub struct CueIndex {
    hits: Vec<CueHit>,
}

impl CueIndex {
    /// Index the cues of a whole folded document (one pass per cue kind;
    /// long haystacks are much cheaper for the regex engine than many
    /// short ones).
    pub fn build(folded: &Folded, language: Language) -> Self {
        let mut hits = Vec::new();
        for (cue, re) in &compiled(language).indexed {
            for m in re.find_iter(&folded.text) {
                hits.push(CueHit {
                    cue: *cue,
                    start: folded.original(m.start()),
                    end: folded.original(m.end()),
                });
            }
        }
        hits.sort_by_key(|h| h.start);
        CueIndex { hits }
    }

    /// Hits lying entirely inside `[start, end)`.
    pub fn within(&self, start: usize, end: usize) -> impl Iterator<Item = &CueHit> {
        let first = self.hits.partition_point(|h| h.start < start);
        self.hits[first..]
            .iter()
            .take_while(move |h| h.start < end)
            .filter(move |h| h.end <= end)
    }

    pub fn any(&self, start: usize, end: usize, cue: Cue) -> bool {
        self.within(start, end).any(|h| h.cue == cue)
    }

    /// The hit of one of `cues` nearest to `end` (searching backwards).
    pub fn last_of(&self, start: usize, end: usize, cues: &[Cue]) -> Option<CueHit> {
        self.within(start, end)
            .filter(|h| cues.contains(&h.cue))
            .last()
            .copied()
    }

    /// The hit of one of `cues` nearest to `start` (searching forwards).
    pub fn first_of(&self, start: usize, end: usize, cues: &[Cue]) -> Option<CueHit> {
        self.within(start, end).find(|h| cues.contains(&h.cue)).copied()
    }
}

/// Does the folded text right before an amount say it is a new total
/// ("taking the project's total capital to")?
pub fn is_new_total_prefix(folded_before: &str, language: Language) -> bool {
    compiled(language).new_total.is_match(folded_before)
}

#[cfg(test)]
mod pattern_tests {
    use super::*;

    #[test]
    fn all_patterns_compile() {
        for language in [Language::En, Language::Vi, Language::No, Language::De] {
            assert!(compiled(language).indexed.len() > 20);
        }
    }

    #[test]
    fn phrases_become_word_bounded_patterns() {
        assert_eq!(phrase_pattern("as of"), r"(?-u:\b)as of(?-u:\b)");
        assert_eq!(phrase_pattern("*invest*"), "invest[0-9a-z_]*");
        assert!(
            Regex::new(&phrase_pattern("raised ~ capital")).is_ok_and(|r| r.is_match("raised its charter capital"))
        );
        assert!(Regex::new(&phrase_pattern("per #")).is_ok_and(|r| r.is_match("per 27. oktober")));
        assert!(is_new_total_prefix("taking the total capital to ", Language::En));
    }
}
