//! Reporting periods: "the first eight months of 2025", "H1", "Q1 2024",
//! "11 tháng đầu năm 2022", "første halvår", "vom Jahresbeginn bis zum
//! 20. September 2024", "so far this year", "as of 15/11/2022"...
//! Expressions are matched on accent-folded lowercase text and resolved
//! against the publication date (and the period already in force).

use chrono::{Datelike, NaiveDate};
use regex::{Captures, Regex};
use std::sync::LazyLock;

const MONTH: &str = r"january|february|march|april|may|june|july|august|september|october|november|december|januar|februar|mars|marz|maerz|mai|juni|juli|oktober|desember|dezember|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|okt|nov|dec|des|dez";
/// Month names written out (no abbreviations, which are common words too).
const MONTH_FULL: &str = r"january|february|march|april|may|june|july|august|september|october|november|december|januar|februar|mars|marz|maerz|mai|juni|juli|oktober|desember|dezember";
const SMALL_NUMBER: &str = r"\d{1,2}|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|hai|ba|bon|nam|sau|bay|tam|chin|muoi mot|muoi hai|muoi|to|tre|fire|fem|seks|sju|syv|atte|ni|ti|elleve|tolv|zwei|drei|vier|funf|fuenf|sechs|sieben|acht|neun|zehn|elf|zwolf";

fn month_number(name: &str) -> Option<u32> {
    let n = match name {
        "january" | "januar" | "jan" => 1,
        "february" | "februar" | "feb" => 2,
        "march" | "mars" | "marz" | "maerz" | "mar" => 3,
        "april" | "apr" => 4,
        "may" | "mai" => 5,
        "june" | "juni" | "jun" => 6,
        "july" | "juli" | "jul" => 7,
        "august" | "aug" => 8,
        "september" | "sept" | "sep" => 9,
        "october" | "oktober" | "oct" | "okt" => 10,
        "november" | "nov" => 11,
        "december" | "desember" | "dezember" | "dec" | "des" | "dez" => 12,
        _ => return None,
    };
    Some(n)
}

fn small_number(word: &str) -> Option<u32> {
    if let Ok(n) = word.parse::<u32>() {
        return Some(n);
    }
    let n = match word {
        "one" => 1,
        "two" | "hai" | "to" | "zwei" => 2,
        "three" | "ba" | "tre" | "drei" => 3,
        "four" | "bon" | "fire" | "vier" => 4,
        "five" | "nam" | "fem" | "funf" | "fuenf" => 5,
        "six" | "sau" | "seks" | "sechs" => 6,
        "seven" | "bay" | "sju" | "syv" | "sieben" => 7,
        "eight" | "tam" | "atte" | "acht" => 8,
        "nine" | "chin" | "ni" | "neun" => 9,
        "ten" | "muoi" | "ti" | "zehn" => 10,
        "eleven" | "muoi mot" | "elleve" | "elf" => 11,
        "twelve" | "muoi hai" | "tolv" | "zwolf" => 12,
        _ => return None,
    };
    Some(n)
}

fn ordinal(word: &str) -> Option<u32> {
    let n = match word {
        "first" | "1st" | "i" | "1" | "forste" | "ersten" | "erste" => 1,
        "second" | "2nd" | "ii" | "2" | "andre" | "zweiten" | "zweite" => 2,
        "third" | "3rd" | "iii" | "3" | "tredje" | "dritten" | "dritte" => 3,
        "fourth" | "4th" | "iv" | "4" | "fjerde" | "vierten" | "vierte" => 4,
        _ => return None,
    };
    Some(n)
}

pub fn end_of_month(year: i32, month: u32) -> Option<NaiveDate> {
    let (ny, nm) = if month >= 12 {
        (year.checked_add(1)?, 1)
    } else {
        (year, month + 1)
    };
    NaiveDate::from_ymd_opt(ny, nm, 1)?.pred_opt()
}

fn date(year: i32, month: u32, day: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(year, month, day)
}

/// A closed reporting period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub start: NaiveDate,
    pub end: NaiveDate,
}

impl Period {
    /// The same period one year earlier ("Vorjahreszeitraum").
    pub fn previous_year(self) -> Option<Period> {
        let shift =
            |d: NaiveDate| date(d.year() - 1, d.month(), d.day()).or_else(|| end_of_month(d.year() - 1, d.month()));
        Some(Period {
            start: shift(self.start)?,
            end: shift(self.end)?,
        })
    }

    pub fn full_year(year: i32) -> Option<Period> {
        Some(Period {
            start: date(year, 1, 1)?,
            end: date(year, 12, 31)?,
        })
    }
}

/// What a sentence says about time.
#[derive(Debug, Clone, Default)]
pub struct TimeCues {
    /// Explicit periods (first eight months, Q1, January–November 12...)
    /// with their byte offsets in the folded sentence, in order.
    pub periods: Vec<(usize, Period)>,
    /// An as-of date for running totals ("as of March 27", "tính đến 15/11").
    pub as_of: Option<NaiveDate>,
    /// "so far this year", "từ đầu năm": starts on 1 January, end implied.
    pub year_to_date: bool,
    /// A bare calendar year ("in 2024", "năm nay").
    pub year: Option<i32>,
    /// The sentence compares with an earlier period ("same period last year").
    pub comparison: bool,
}

static FIRST_N_MONTHS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?-u:\b)(?P<n>{SMALL_NUMBER})[ -](?:forste )?(?:months?|thang|manedene|maneder|monaten|monate)(?-u:\b)"
    ))
    .expect("months regex")
});
static QUARTER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?-u:\b)(?:(?P<a>first|second|third|fourth|1st|2nd|3rd|4th)[ -]quarter|q(?P<b>[1-4])|quy (?P<c>iv|iii|ii|i|1|2|3|4)|(?P<d>forste|andre|tredje|fjerde) kvartal|(?P<e>ersten|zweiten|dritten|vierten) quartal)(?-u:\b)",
    )
    .expect("quarter regex")
});
static FIRST_HALF: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?-u:\b)(?:first half|first-half|h1|nua dau nam|forste halvar|ersten halbjahr|erste halbjahr|1\. halbjahr)(?-u:\b)")
        .expect("half regex")
});
static SECOND_HALF: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?-u:\b)(?:second half|second-half|h2|6 thang cuoi nam|nua cuoi nam|andre halvar|zweiten halbjahr|zweite halbjahr|2\. halbjahr)(?-u:\b)")
        .expect("second half regex")
});
static MONTH_RANGE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?-u:\b)(?:between|from|fra|vom|von|tu) (?:(?P<d1>\d{{1,2}})\.? )?(?:thang )?(?P<m1>{MONTH}|\d{{1,2}})(?: (?P<d1b>\d{{1,2}})(?-u:\b))?(?:,? (?P<y1>(?:19|20)\d{{2}}))? ?(?:and|to|til|bis|den|until|-|–) (?:zum |den )?(?:(?P<d2>\d{{1,2}})\.? )?(?:thang )?(?P<m2>{MONTH}|\d{{1,2}})(?: (?P<d2b>\d{{1,2}})(?-u:\b))?(?:,? (?P<y2>(?:19|20)\d{{2}}))?"
    ))
    .expect("range regex")
});
static YEAR_START_UNTIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?-u:\b)(?:vom jahresbeginn|seit jahresbeginn|seit jahresanfang|fra arets begynnelse|fra starten av aret|since the (?:beginning|start) of the year|from the (?:beginning|start) of the year|tu dau nam)(?: \d{{4}})? (?:bis|til|to|until|den(?: het)?) (?:zum |den |ngay )?(?:(?P<d>\d{{1,2}})\.? )?(?:thang )?(?P<m>{MONTH}|\d{{1,2}})(?: (?P<db>\d{{1,2}})(?-u:\b))?(?:,? (?P<y>(?:19|20)\d{{2}}))?"
    ))
    .expect("year-start regex")
});
static UNTIL_MONTH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?-u:\b)(?:bis(?: ende)?|by the end of|to the end of|as of the end of|at the end of|through|den het thang|den cuoi thang|tinh den het thang|tinh den cuoi thang|ved utgangen av|innen utgangen av|til utgangen av|frem til) (?P<m>{MONTH}|\d{{1,2}})(?-u:\b)(?:[ /](?P<y>(?:19|20)\d{{2}}))?"
    ))
    .expect("until regex")
});
/// "từ đầu năm đến ngày 20/10/2024", "since the beginning of the year to 20/10".
static YEAR_START_UNTIL_DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?-u:\b)(?:tu dau nam|since the (?:beginning|start) of the year|from the (?:beginning|start) of the year|from january 1|tu ngay 1/1)(?: (?:nam )?\d{4})? (?:den|to|until|through|til)(?: het)?(?: ngay)? (?P<d>\d{1,2})/(?P<m>\d{1,2})(?:/(?P<y>(?:19|20)\d{2}))?")
        .expect("year-start date regex")
});
static MONTH_PAIR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?-u:\b)(?:thang )?(?P<m1>{MONTH}) (?:and|og|und|va) (?:thang )?(?P<m2>{MONTH})(?-u:\b)(?: (?P<y>(?:19|20)\d{{2}}))?"
    ))
    .expect("pair regex")
});
static VI_MONTH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?-u:\b)thang (?P<m>\d{1,2})(?:/| nam )(?P<y>(?:19|20)\d{2})(?-u:\b)|(?-u:\b)(?:trong|rieng) thang (?P<m2>\d{1,2})(?-u:\b)")
        .expect("vi month regex")
});
static YEAR_TO_DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?-u:\b)(?:so far this year|so far in \d{4}|since the (?:beginning|start) of (?:the|this) year|from the (?:beginning|start) of the year|year[- ]to[- ]date|tu dau nam|hittil i ar|hittil i \d{4}|siden arets begynnelse|fra begynnelsen av aret|seit jahresbeginn|seit jahresanfang|bisher in diesem jahr|since january|siden januar|seit januar|tu thang 1)(?-u:\b)")
        .expect("ytd regex")
});
static AS_OF: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?-u:\b)(?:as of|as at|as on|tinh den|tinh toi|luy ke den|per|stand|zum stichtag|bis zum) (?:(?:het )?ngay )?(?:(?P<d1>\d{{1,2}})/(?P<m1>\d{{1,2}})(?:/(?P<y1>(?:19|20)\d{{2}}))?|(?P<d2>\d{{1,2}})\.? (?P<m2>{MONTH})(?: (?P<y2>(?:19|20)\d{{2}}))?|(?P<m3>{MONTH}) (?P<d3>\d{{1,2}})(?:st|nd|rd|th)?(?:,? (?P<y3>(?:19|20)\d{{2}}))?)"
    ))
    .expect("as-of regex")
});
static YEAR_RANGE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?-u:\b)(?P<a>(?:19|20)\d{2}) ?[-–] ?(?P<b>(?:19|20)\d{2})(?-u:\b)").expect("year range regex")
});
static BARE_YEAR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?-u:\b)(?:in|i|im jahr|nam|year|for|during|of)\s(?P<y>(?:19|20)\d{2})(?-u:\b)|(?-u:\b)(?P<this>this year|nam nay|i ar|dieses jahr|in diesem jahr)(?-u:\b)")
        .expect("year regex")
});
static COMPARISON: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"same period|compared|year[- ]on[- ]year|a year earlier|last year|previous year|cung ky|so voi|samme periode|i fjor|vorjahr|im vergleich|gegenuber")
        .expect("comparison regex")
});

static YEARISH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:19|20)[0-9]{2}|this year|nam nay|i ar|dieses jahr|diesem jahr").expect("year presence regex")
});
/// "since 2016", "siden 2016", "seit 2016", "từ năm 2016": from that
/// year's first day to publication.
static SINCE_YEAR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?-u:\b)(?:since|siden|seit|tu nam) (?P<y>(?:19|20)\d{2})(?-u:\b)").expect("since-year regex")
});

/// "in April", "im Mai", "April on its own": that one month.
static ONE_MONTH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?-u:\b)(?:in|im|i|during) (?P<m>{MONTH_FULL})(?: (?P<y>(?:19|20)\d{{2}}))?(?-u:\b)|(?-u:\b)(?P<m2>{MONTH_FULL}) (?:on its own|alone|by itself|alene|allein)(?-u:\b)"
    ))
    .expect("one-month regex")
});

/// Presence of a written-out month (for `ONE_MONTH`).
static MONTH_NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(&format!("(?:{MONTH_FULL})")).expect("month name regex"));

static MONTHS_WORD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"months?|thang|maned|monat").expect("months word regex"));

/// The expressions in the order of the presence bit masks.
fn expressions() -> [&'static Regex; 17] {
    [
        &YEAR_START_UNTIL,
        &MONTH_RANGE,
        &FIRST_N_MONTHS,
        &QUARTER,
        &FIRST_HALF,
        &UNTIL_MONTH,
        &MONTH_PAIR,
        &VI_MONTH,
        &YEAR_RANGE,
        &AS_OF,
        &YEAR_TO_DATE,
        &BARE_YEAR,
        &COMPARISON,
        &YEAR_START_UNTIL_DATE,
        &SECOND_HALF,
        &SINCE_YEAR,
        &ONE_MONTH,
    ]
}

/// Where each time expression occurs in a whole folded document, as
/// (folded offset, bit of the expression). One fast pass per expression over
/// the document; the slower capture-group parsing then runs only on the
/// sentences that contain a hit.
pub fn expression_hits(folded_document: &str) -> Vec<(usize, u32)> {
    let mut hits = Vec::new();
    // Years are found once for the three expressions that share them.
    let years: Vec<usize> = YEARISH.find_iter(folded_document).map(|m| m.start()).collect();
    for (i, re) in expressions().iter().enumerate() {
        let bit = 1u32 << i;
        // Expressions that start with a number or a very common short word
        // defeat the regex engine's literal prefilter; for presence, look for
        // a cheaper superset instead (the month word, a year).
        let presence: &Regex = match i {
            2 => &MONTHS_WORD,
            8 | 11 | 15 => {
                hits.extend(years.iter().map(|&start| (start, bit)));
                continue;
            }
            16 => &MONTH_NAME,
            _ => re,
        };
        hits.extend(presence.find_iter(folded_document).map(|m| (m.start(), bit)));
    }
    hits.sort_unstable();
    hits
}

/// Run `re` only when its presence bit is set.
fn captures<'h>(present: u32, index: usize, re: &Regex, haystack: &'h str) -> Vec<Captures<'h>> {
    if present & (1 << index) != 0 {
        re.captures_iter(haystack).collect()
    } else {
        Vec::new()
    }
}

fn year_of(caps: &Captures, name: &str) -> Option<i32> {
    caps.name(name).and_then(|m| m.as_str().parse().ok())
}

/// "first eight months of 2025", "quý I/2024", "første halvår 2022": the
/// year stated within a few words after the expression.
fn trailing_year(caps: &Captures, folded: &str, max: usize) -> Option<i32> {
    year_after(folded, caps.get(0)?.end(), max)
}

/// A year (1900–2099) within `max` bytes after `end`, with no full stop or
/// other number in between.
fn year_after(folded: &str, end: usize, max: usize) -> Option<i32> {
    let tail = folded.get(end..)?;
    let mut digits_start = None;
    for (i, c) in tail.char_indices() {
        if i > max {
            break;
        }
        if c.is_ascii_digit() {
            digits_start = Some(i);
            break;
        }
        if c == '.' {
            return None;
        }
    }
    let start = digits_start?;
    let digits: String = tail[start..].chars().take_while(char::is_ascii_digit).collect();
    if digits.len() != 4 {
        return None;
    }
    let year: i32 = digits.parse().ok()?;
    (1900..2100).contains(&year).then_some(year)
}

/// Year an expression without an explicit year refers to: the context year,
/// moved back when the period would otherwise end after publication.
fn implied_year(context_year: i32, end_month: u32, published: NaiveDate) -> i32 {
    // Reports often appear a few weeks before the period they name closes
    // ("first half" published on 29 June), so only a clearly future period
    // is moved back a year.
    let slack = chrono::Days::new(62);
    match (end_of_month(context_year, end_month), published.checked_add_days(slack)) {
        (Some(end), Some(limit)) if end > limit && context_year >= published.year() => context_year - 1,
        _ => context_year,
    }
}

fn month_token(s: &str) -> Option<u32> {
    month_number(s).or_else(|| s.parse().ok().filter(|m| (1..=12).contains(m)))
}

/// Read the time expressions of one folded sentence.
#[cfg(test)]
pub fn time_cues(folded: &str, published: NaiveDate, context_year: i32) -> TimeCues {
    time_cues_present(folded, published, context_year, u32::MAX)
}

/// `time_cues` for a sentence whose expressions are known (bit mask from
/// `expression_hits`) to be among `present`.
pub fn time_cues_present(folded: &str, published: NaiveDate, context_year: i32, present: u32) -> TimeCues {
    let mut cues = TimeCues::default();
    if present == 0 {
        return cues;
    }
    let comparisons: Vec<usize> = if present & (1 << 12) != 0 {
        COMPARISON.find_iter(folded).map(|m| m.start()).collect()
    } else {
        Vec::new()
    };
    cues.comparison = !comparisons.is_empty();
    // A period right after "same period of" / "so với cùng kỳ" is the
    // comparison base, not the reporting period.
    let in_comparison = |pos: usize| comparisons.iter().any(|&c| c <= pos && pos - c <= 30);
    let years = Years {
        folded,
        published,
        context_year,
    };
    cues.periods = reporting_periods(present, &years, &in_comparison);
    if let Some(c) = captures(present, 9, &AS_OF, folded).into_iter().next() {
        cues.as_of = read_as_of(&c, &years);
    }
    cues.year_to_date = present & (1 << 10) != 0 && YEAR_TO_DATE.is_match(folded);
    cues.year = captures(present, 11, &BARE_YEAR, folded)
        .into_iter()
        .filter(|c| !in_comparison(c.get(0).map_or(0, |m| m.start())))
        .find_map(|c| {
            if c.name("this").is_some() {
                Some(context_year)
            } else {
                year_of(&c, "y")
            }
        });
    cues
}

/// The sentence and dates that expressions without a year are resolved against.
struct Years<'s> {
    /// The folded sentence.
    folded: &'s str,
    published: NaiveDate,
    /// The year of the period in force.
    context_year: i32,
}

impl Years<'_> {
    /// The year captured as `name`, else the year implied for a period
    /// ending in `end_month`.
    fn captured(&self, c: &Captures, name: &str, end_month: u32) -> i32 {
        year_of(c, name).unwrap_or_else(|| self.implied(end_month))
    }

    /// The year stated within `max` bytes after the match, else the year
    /// implied for a period ending in `end_month`.
    fn trailing(&self, c: &Captures, max: usize, end_month: u32) -> i32 {
        trailing_year(c, self.folded, max).unwrap_or_else(|| self.implied(end_month))
    }

    /// See `implied_year`.
    fn implied(&self, end_month: u32) -> i32 {
        implied_year(self.context_year, end_month, self.published)
    }
}

/// How one match of a period expression reads as a period.
type ReadPeriod = fn(&Captures, &Years) -> Option<Period>;

/// The period expressions with their presence bits, in the order their
/// readings are collected (which decides between two readings of the same
/// words that start and end together).
static PERIOD_EXPRESSIONS: [(usize, &LazyLock<Regex>, ReadPeriod); 13] = [
    (0, &YEAR_START_UNTIL, read_year_start_until),
    (13, &YEAR_START_UNTIL_DATE, read_year_start_until_date),
    (1, &MONTH_RANGE, read_month_range),
    (2, &FIRST_N_MONTHS, read_first_n_months),
    (3, &QUARTER, read_quarter),
    (4, &FIRST_HALF, |c, years| months(years.trailing(c, 15, 6), 1, 6)),
    (14, &SECOND_HALF, |c, years| months(years.trailing(c, 15, 12), 7, 12)),
    (5, &UNTIL_MONTH, read_until_month),
    (6, &MONTH_PAIR, read_month_pair),
    (7, &VI_MONTH, read_vi_month),
    (8, &YEAR_RANGE, read_year_range),
    (16, &ONE_MONTH, read_one_month),
    (15, &SINCE_YEAR, |c, years| {
        Some(Period {
            start: date(year_of(c, "y")?, 1, 1)?,
            end: years.published,
        })
    }),
];

/// The reporting periods named in a sentence, as (folded offset, period):
/// every reading of every period expression, except comparison bases and
/// readings overlapping an earlier one.
fn reporting_periods(present: u32, years: &Years, in_comparison: &dyn Fn(usize) -> bool) -> Vec<(usize, Period)> {
    let mut candidates: Vec<(usize, usize, Period)> = Vec::new();
    for (bit, re, read) in &PERIOD_EXPRESSIONS {
        for c in captures(present, *bit, re, years.folded) {
            let span = c.get(0).map_or((0, 0), |m| (m.start(), m.end()));
            if let Some(p) = read(&c, years)
                && p.start <= p.end
                && !in_comparison(span.0)
            {
                candidates.push((span.0, span.1, p));
            }
        }
    }
    // Overlapping readings of the same words ("between January and
    // November 12" also reads as "January and November"): keep the one that
    // starts first, and the longer of two starting together.
    candidates.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
    let mut kept: Vec<(usize, usize, Period)> = Vec::new();
    for c in candidates {
        if kept.last().is_none_or(|k| c.0 >= k.1) {
            kept.push(c);
        }
    }
    kept.into_iter().map(|(start, _, p)| (start, p)).collect()
}

/// The whole months `first..=last` of `year`.
fn months(year: i32, first: u32, last: u32) -> Option<Period> {
    Some(Period {
        start: date(year, first, 1)?,
        end: end_of_month(year, last)?,
    })
}

/// Day `day` of a month, or the month's last day when no day is given.
fn day_or_month_end(year: i32, month: u32, day: Option<u32>) -> Option<NaiveDate> {
    match day {
        Some(d) => date(year, month, d),
        None => end_of_month(year, month),
    }
}

/// A day number captured as `name` or, in the other word order, as `alternative`.
fn day_of(c: &Captures, name: &str, alternative: &str) -> Option<u32> {
    c.name(name)
        .or(c.name(alternative))
        .and_then(|d| d.as_str().parse().ok())
}

/// "vom Jahresbeginn bis zum 20. September", "fra årets begynnelse til
/// august": from 1 January to the day (or the end of the month) named.
fn read_year_start_until(c: &Captures, years: &Years) -> Option<Period> {
    let m = month_token(c.name("m")?.as_str())?;
    let y = years.captured(c, "y", m);
    let end = day_or_month_end(y, m, day_of(c, "d", "db"))?;
    Some(Period {
        start: date(y, 1, 1)?,
        end,
    })
}

/// "từ đầu năm đến ngày 20/10/2024": from 1 January to a numeric date.
fn read_year_start_until_date(c: &Captures, years: &Years) -> Option<Period> {
    let m = month_token(c.name("m")?.as_str())?;
    let day: u32 = c.name("d")?.as_str().parse().ok()?;
    let y = years.captured(c, "y", m);
    Some(Period {
        start: date(y, 1, 1)?,
        end: date(y, m, day)?,
    })
}

/// "between January and November 12", "fra 1. januar til 10. desember":
/// a month (or day) to a month (or day), the start a year earlier when its
/// month comes after the end's.
fn read_month_range(c: &Captures, years: &Years) -> Option<Period> {
    let m1 = month_token(c.name("m1")?.as_str())?;
    let m2 = month_token(c.name("m2")?.as_str())?;
    let y = year_of(c, "y2")
        .or_else(|| year_of(c, "y1"))
        .unwrap_or_else(|| years.implied(m2));
    let d1 = day_of(c, "d1", "d1b").unwrap_or(1);
    let end = day_or_month_end(y, m2, day_of(c, "d2", "d2b"))?;
    let y1 = year_of(c, "y1").unwrap_or(if m1 <= m2 { y } else { y - 1 });
    Some(Period {
        start: date(y1, m1, d1)?,
        end,
    })
}

/// "the first eight months", "11 tháng đầu năm": January to month n; a
/// trailing window ("the last six months", "6 tháng cuối năm") is not one.
fn read_first_n_months(c: &Captures, years: &Years) -> Option<Period> {
    let folded = years.folded;
    let n = small_number(c.name("n")?.as_str()).filter(|n| (1..=12).contains(n))?;
    let whole = c.get(0)?;
    let from = crate::text::floor_boundary(folded, whole.start().saturating_sub(12));
    let before = folded.get(from..whole.start()).unwrap_or("");
    let trailing_window = [
        "last ",
        "past ",
        "remaining ",
        "next ",
        "coming ",
        "siste ",
        "letzten ",
        "nachsten ",
    ]
    .iter()
    .any(|w| before.ends_with(w));
    if trailing_window || folded.get(whole.end()..).is_some_and(|r| r.starts_with(" cuoi")) {
        return None;
    }
    months(years.trailing(c, 25, n), 1, n)
}

/// "Q1", "quý II/2023", "første kvartal": the quarter's three months.
fn read_quarter(c: &Captures, years: &Years) -> Option<Period> {
    let q = ["a", "b", "c", "d", "e"]
        .iter()
        .find_map(|n| c.name(n))
        .and_then(|m| ordinal(m.as_str()))?;
    let (m1, m2) = (q * 3 - 2, q * 3);
    months(years.trailing(c, 15, m2), m1, m2)
}

/// "by the end of June", "bis September": January to the month named.
fn read_until_month(c: &Captures, years: &Years) -> Option<Period> {
    let m = month_token(c.name("m")?.as_str())?;
    months(years.captured(c, "y", m), 1, m)
}

/// "July and August": the two months and any between.
fn read_month_pair(c: &Captures, years: &Years) -> Option<Period> {
    let m1 = month_token(c.name("m1")?.as_str())?;
    let m2 = month_token(c.name("m2")?.as_str())?;
    if m2 <= m1 {
        return None;
    }
    months(years.captured(c, "y", m2), m1, m2)
}

/// "tháng 7/2024", "trong tháng 7", "in April": one month.
fn read_vi_month(c: &Captures, years: &Years) -> Option<Period> {
    let m = month_token(c.name("m").or(c.name("m2"))?.as_str())?;
    months(years.captured(c, "y", m), m, m)
}

/// "in April", "April on its own": one month, unless it opens a range or
/// a pair ("in July and August") or lies after publication ("due to be
/// completed in January 2025": a plan, not a report).
fn read_one_month(c: &Captures, years: &Years) -> Option<Period> {
    let rest = years.folded.get(c.get(0)?.end()..).unwrap_or("");
    let opens_range = [" and ", " og ", " und ", " va ", " to ", " til ", " bis ", "-", " –"]
        .iter()
        .any(|w| rest.starts_with(w));
    let p = read_vi_month(c, years).filter(|_| !opens_range)?;
    (p.start <= years.published).then_some(p)
}

/// "2015 - 2020": whole years, at most thirty of them.
fn read_year_range(c: &Captures, _: &Years) -> Option<Period> {
    let a: i32 = c.name("a")?.as_str().parse().ok()?;
    let b: i32 = c.name("b")?.as_str().parse().ok()?;
    if b <= a || b - a > 30 {
        return None;
    }
    Some(Period {
        start: date(a, 1, 1)?,
        end: date(b, 12, 31)?,
    })
}

/// "as of 15/11/2022", "per 10. desember", "as of March 27": the date of a
/// running total; without a year, the context year unless that puts the
/// date after publication.
fn read_as_of(c: &Captures, years: &Years) -> Option<NaiveDate> {
    let (d, m, y) = if let Some(d) = c.name("d1") {
        (d.as_str(), c.name("m1")?.as_str(), year_of(c, "y1"))
    } else if let Some(d) = c.name("d2") {
        (d.as_str(), c.name("m2")?.as_str(), year_of(c, "y2"))
    } else {
        (c.name("d3")?.as_str(), c.name("m3")?.as_str(), year_of(c, "y3"))
    };
    let day: u32 = d.parse().ok()?;
    let month = month_token(m)?;
    let (context_year, published) = (years.context_year, years.published);
    let year = y.unwrap_or_else(|| {
        let candidate = date(context_year, month, day.min(28));
        match candidate {
            Some(cd) if cd > published && context_year >= published.year() => context_year - 1,
            _ => context_year,
        }
    });
    date(year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::fold;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("valid date")
    }

    /// The first period of `sentence` published on `published`.
    fn first_period(sentence: &str, published: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
        let cues = time_cues(&fold(sentence), published, published.year());
        cues.periods.first().map(|(_, p)| (p.start, p.end))
    }

    #[test]
    fn english_first_n_months() {
        let p = first_period("licences in the first eight months of 2025, with", d(2025, 9, 30));
        assert_eq!(p, Some((d(2025, 1, 1), d(2025, 8, 31))));
        let p = first_period(
            "In the first five months of this year, the province drew",
            d(2021, 5, 21),
        );
        assert_eq!(p, Some((d(2021, 1, 1), d(2021, 5, 31))));
    }

    #[test]
    fn quarters_and_halves() {
        assert_eq!(
            first_period("in the first quarter of 2024", d(2024, 4, 30)),
            Some((d(2024, 1, 1), d(2024, 3, 31)))
        );
        assert_eq!(
            first_period("Q1 results", d(2024, 4, 30)),
            Some((d(2024, 1, 1), d(2024, 3, 31)))
        );
        assert_eq!(
            first_period("trong quý II/2023", d(2023, 7, 5)),
            Some((d(2023, 4, 1), d(2023, 6, 30)))
        );
        assert_eq!(
            first_period("in H1, the city", d(2022, 7, 2)),
            Some((d(2022, 1, 1), d(2022, 6, 30)))
        );
        assert_eq!(
            first_period("in the first half of the year", d(2023, 7, 10)),
            Some((d(2023, 1, 1), d(2023, 6, 30)))
        );
        assert_eq!(
            first_period("i første halvår 2022", d(2022, 6, 29)),
            Some((d(2022, 1, 1), d(2022, 6, 30)))
        );
        assert_eq!(
            first_period("im ersten Halbjahr", d(2024, 7, 15)),
            Some((d(2024, 1, 1), d(2024, 6, 30)))
        );
    }

    #[test]
    fn vietnamese_periods() {
        assert_eq!(
            first_period("Trong 11 tháng đầu năm 2022, các KCN", d(2022, 12, 16)),
            Some((d(2022, 1, 1), d(2022, 11, 30)))
        );
        assert_eq!(
            first_period("trong 6 tháng đầu năm, tỉnh", d(2023, 7, 3)),
            Some((d(2023, 1, 1), d(2023, 6, 30)))
        );
        assert_eq!(
            first_period("riêng trong tháng 7/2024, đơn vị", d(2024, 8, 6)),
            Some((d(2024, 7, 1), d(2024, 7, 31)))
        );
    }

    #[test]
    fn ranges_with_days() {
        assert_eq!(
            first_period(
                "reached $889 million between January and November 12 this year",
                d(2023, 11, 14)
            ),
            Some((d(2023, 1, 1), d(2023, 11, 12)))
        );
        assert_eq!(
            first_period("Fra 1. januar til 10. desember 2024 tiltrakk", d(2024, 12, 20)),
            Some((d(2024, 1, 1), d(2024, 12, 10)))
        );
        assert_eq!(
            first_period("fra januar til august", d(2024, 9, 10)),
            Some((d(2024, 1, 1), d(2024, 8, 31)))
        );
        assert_eq!(
            first_period("vom Jahresbeginn bis zum 20. September 2024 angezogen", d(2024, 10, 2)),
            Some((d(2024, 1, 1), d(2024, 9, 20)))
        );
        assert_eq!(
            first_period("bis September", d(2024, 10, 2)),
            Some((d(2024, 1, 1), d(2024, 9, 30)))
        );
        assert_eq!(
            first_period("In July and August together", d(2025, 9, 30)),
            Some((d(2025, 7, 1), d(2025, 8, 31)))
        );
        assert_eq!(
            first_period("By the end of June 2023, the province", d(2023, 7, 10)),
            Some((d(2023, 1, 1), d(2023, 6, 30)))
        );
        assert_eq!(
            first_period("In the 2015 - 2020 period", d(2020, 10, 5)),
            Some((d(2015, 1, 1), d(2020, 12, 31)))
        );
    }

    #[test]
    fn year_start_until_a_date() {
        assert_eq!(
            first_period("Tính từ đầu năm đến ngày 20/10/2024, tỉnh thu hút", d(2024, 10, 25)),
            Some((d(2024, 1, 1), d(2024, 10, 20)))
        );
        assert_eq!(
            first_period("from January 1 to October 20, the city", d(2024, 10, 25)),
            Some((d(2024, 1, 1), d(2024, 10, 20)))
        );
        assert_eq!(
            first_period("as of the end of September, the province", d(2024, 10, 5)),
            Some((d(2024, 1, 1), d(2024, 9, 30)))
        );
    }

    #[test]
    fn second_half_and_trailing_windows() {
        assert_eq!(
            first_period("in the second half of 2023", d(2024, 1, 20)),
            Some((d(2023, 7, 1), d(2023, 12, 31)))
        );
        assert_eq!(first_period("over the last six months", d(2024, 5, 1)), None);
        assert_eq!(
            first_period("trong 6 tháng cuối năm", d(2024, 12, 20)),
            Some((d(2024, 7, 1), d(2024, 12, 31)))
        );
    }

    #[test]
    fn a_period_after_publication_means_last_year() {
        // Published in January: "the first 11 months" are last year's.
        assert_eq!(
            first_period("in the first 11 months", d(2024, 1, 5)),
            Some((d(2023, 1, 1), d(2023, 11, 30)))
        );
    }

    #[test]
    fn as_of_dates_and_year_to_date() {
        let c = time_cues(&fold("Tính đến ngày 15/11/2022, các KCN"), d(2022, 12, 16), 2022);
        assert_eq!(c.as_of, Some(d(2022, 11, 15)));
        let c = time_cues(&fold("As of March 27, 2024, the parks"), d(2024, 4, 30), 2024);
        assert_eq!(c.as_of, Some(d(2024, 3, 27)));
        let c = time_cues(&fold("As of May 15, Binh Duong"), d(2021, 5, 21), 2021);
        assert_eq!(c.as_of, Some(d(2021, 5, 15)));
        let c = time_cues(&fold("Per 10. desember huset sonene"), d(2024, 12, 20), 2024);
        assert_eq!(c.as_of, Some(d(2024, 12, 10)));
        assert!(time_cues(&fold("so far this year"), d(2024, 5, 1), 2024).year_to_date);
        assert!(time_cues(&fold("Lũy kế từ đầu năm"), d(2024, 5, 1), 2024).year_to_date);
    }

    #[test]
    fn comparison_periods_are_not_reporting_periods() {
        let c = time_cues(&fold("So với cùng kỳ năm 2021, kết quả này"), d(2022, 12, 16), 2022);
        assert!(c.comparison);
        assert_eq!(c.year, None);
    }

    #[test]
    fn all_patterns_compile() {
        for re in expressions() {
            assert!(!re.as_str().is_empty());
        }
        LazyLock::force(&MONTHS_WORD);
        LazyLock::force(&YEARISH);
    }

    #[test]
    fn previous_year_shift() {
        let p = Period {
            start: d(2024, 1, 1),
            end: d(2024, 2, 29),
        };
        assert_eq!(
            p.previous_year(),
            Some(Period {
                start: d(2023, 1, 1),
                end: d(2023, 2, 28)
            })
        );
    }
}
