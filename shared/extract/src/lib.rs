//! Extract investment figures from news articles about foreign and domestic
//! investment into Vietnamese provinces and industrial parks.
//!
//! ```
//! use fdi_extract::{extract, Input, Language};
//! let published = chrono::NaiveDate::from_ymd_opt(2025, 9, 30).unwrap();
//! let text = "Ninh Binh drew 920 million USD of FDI in the first eight months of 2025.";
//! let out = extract(&Input { text, published, language: Some(Language::En) });
//! assert_eq!(out.money[0].value, 920_000_000.0);
//! assert_eq!(out.statistics[0].province, "ninh-binh");
//! ```

mod counts;
mod cues;
mod figures;
mod lang;
mod lexicon;
mod money;
mod numbers;
mod periods;
mod places;
mod projects;
mod statistics;
mod text;

pub use lang::{Language, UnknownLanguage, detect_language};
pub use numbers::{parse_number, scale_multiplier, written_number};
pub use periods::Period;
pub use places::find_provinces;

use serde::{Deserialize, Serialize};

/// Documents larger than this are the caller's responsibility to reject;
/// `extract` still handles them without panicking.
pub const MAX_DOCUMENT_BYTES: usize = 5 * 1024 * 1024;

/// One article to analyse.
#[derive(Debug, Clone)]
pub struct Input<'a> {
    pub text: &'a str,
    /// Publication date, used to resolve "this year", "the first six months"...
    pub published: chrono::NaiveDate,
    /// Detected from the text when `None`.
    pub language: Option<Language>,
}

/// A monetary amount mentioned in the text.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Money {
    /// Whole currency units.
    pub value: f64,
    /// ISO 4217 code.
    pub currency: String,
    /// Byte offsets of the amount in the text.
    pub span: [usize; 2],
    pub sentence: String,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum CountKind {
    NewProjects,
    AdjustedProjects,
    TotalProjects,
    Other,
}

/// An explicit count of investment projects.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Count {
    pub value: u64,
    pub kind: CountKind,
    pub span: [usize; 2],
    pub sentence: String,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    NewCapital,
    AddedCapital,
    TotalCapital,
    NewProjects,
    AdjustedProjects,
    TargetCapital,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    Fdi,
    Ddi,
    All,
}

/// An aggregate figure reported for a province over a period.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Statistic {
    /// Province code from the embedded table, e.g. `bac-ninh`.
    pub province: String,
    pub metric: Metric,
    pub value: f64,
    /// `None` for project counts.
    pub currency: Option<String>,
    /// ISO date; `None` for running totals.
    pub period_start: Option<String>,
    pub period_end: Option<String>,
    pub scope: Scope,
    pub span: [usize; 2],
    pub sentence: String,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ProjectKind {
    New,
    Expansion,
}

/// A project of a named investor.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Project {
    /// `None` when the text names the project but not its investor.
    pub investor: Option<String>,
    /// The project's own name when it is listed without an investor
    /// ("Dong Son dry port"); omitted from JSON when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// ISO 3166-1 alpha-2, when the text states the nationality.
    pub investor_country: Option<String>,
    pub zone: Option<String>,
    pub province: Option<String>,
    pub value: f64,
    pub currency: String,
    pub kind: ProjectKind,
    pub span: [usize; 2],
    pub sentence: String,
}

/// Everything extracted from one article.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Extraction {
    pub language: Language,
    pub money: Vec<Money>,
    pub counts: Vec<Count>,
    pub statistics: Vec<Statistic>,
    pub projects: Vec<Project>,
}

/// Extract all figures from one article. Never panics. Unbounded: a
/// caller that serves untrusted text uses [`extract_with`].
pub fn extract(input: &Input) -> Extraction {
    match extract_with(input, &Bounds::NONE) {
        Ok(extraction) => extraction,
        // Unreachable: no bound can be reached.
        Err(_) => Extraction {
            language: language_of(input),
            money: Vec::new(),
            counts: Vec::new(),
            statistics: Vec::new(),
            projects: Vec::new(),
        },
    }
}

/// Bounds on one extraction, for callers that serve untrusted text.
#[derive(Clone, Copy)]
pub struct Bounds<'a> {
    /// Most items of each kind (money, counts, statistics, projects);
    /// beyond, the extraction stops with [`Stopped::TooMany`].
    pub max_items: usize,
    /// Longest evidence sentence, in bytes. A longer sentence is clipped
    /// to this many bytes around its figure (on character boundaries), with
    /// "…" where it was cut, so evidence takes O(items), not
    /// O(items × sentence). Sentences this short or shorter are unchanged.
    pub max_evidence_bytes: usize,
    /// Asked between the passes and before each sentence; `true` stops the
    /// extraction with [`Stopped::Cancelled`] (the caller is gone, its
    /// deadline passed).
    pub should_stop: Option<&'a (dyn Fn() -> bool + Sync)>,
}

impl Bounds<'_> {
    /// No bounds: what [`extract`] uses.
    pub const NONE: Bounds<'static> = Bounds {
        max_items: usize::MAX,
        max_evidence_bytes: usize::MAX,
        should_stop: None,
    };

    pub(crate) fn stopped(&self) -> bool {
        self.should_stop.is_some_and(|stop| stop())
    }
}

impl std::fmt::Debug for Bounds<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bounds")
            .field("max_items", &self.max_items)
            .field("max_evidence_bytes", &self.max_evidence_bytes)
            .field("should_stop", &self.should_stop.is_some())
            .finish()
    }
}

/// Why a bounded extraction stopped before its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopped {
    /// `should_stop` said so.
    Cancelled,
    /// The article holds more than `limit` items of one kind (`what`:
    /// "money mentions", "project counts", "statistics" or "projects").
    TooMany { what: &'static str, limit: usize },
}

impl std::fmt::Display for Stopped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stopped::Cancelled => f.write_str("the extraction was cancelled"),
            Stopped::TooMany { what, limit } => write!(f, "the article holds more than {limit} {what}"),
        }
    }
}

impl std::error::Error for Stopped {}

/// Extract all figures from one article within `bounds`. Never panics.
///
/// # Errors
/// [`Stopped`] when `should_stop` said so or an item limit was passed.
pub fn extract_with(input: &Input, bounds: &Bounds) -> Result<Extraction, Stopped> {
    let language = language_of(input);
    statistics::analyse(input.text, input.published, language, bounds)
}

fn language_of(input: &Input) -> Language {
    input.language.unwrap_or_else(|| detect_language(input.text))
}
