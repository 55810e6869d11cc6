//! The document pass: finds money and counts sentence by sentence, decides
//! what each figure measures (metric, scope, period, province) from the cue
//! words around it, and assembles statistics and named projects.

use crate::counts::{CountMention, find_counts};
use crate::cues::{Cue, CueIndex};
use crate::figures::{Figure, FigureRef, Reading, SentenceContext};
use crate::money::{MoneyMention, find_money};
use crate::periods::{Period, TimeCues, expression_hits, time_cues_present};
use crate::places::{ProvinceMention, find_provinces_folded};
use crate::projects::{CompanyMention, LastCompany, ProjectSentence, collect_projects, find_companies};
use crate::text::{Folded, Sentence, evidence, fold, split_sentences};
use crate::{Bounds, Count, CountKind, Extraction, Language, Metric, Money, Scope, Statistic, Stopped};
use chrono::{Datelike, NaiveDate};
use std::collections::HashMap;

/// Read one article: prepare what the whole text says, then read its
/// sentences in order, each leaving state (period in force, running totals,
/// scope, counts, last company) to the next.
///
/// Within `bounds`: `should_stop` is asked between the whole-text scans and
/// before each sentence, and the items of each kind are counted as they come.
pub fn analyse(text: &str, published: NaiveDate, language: Language, bounds: &Bounds) -> Result<Extraction, Stopped> {
    let document = Document::prepare(text, published, language, bounds)?;
    let mut pass = Pass::new(&document, bounds);
    for index in 0..document.sentences.len() {
        if bounds.stopped() {
            return Err(Stopped::Cancelled);
        }
        pass.read_sentence(index);
        pass.check_items()?;
    }
    Ok(pass.out)
}

/// `Err` when `found` items of a kind are more than the bounds allow.
fn check_count(what: &'static str, found: usize, bounds: &Bounds) -> Result<(), Stopped> {
    if found > bounds.max_items {
        return Err(Stopped::TooMany {
            what,
            limit: bounds.max_items,
        });
    }
    Ok(())
}

fn iso(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// A sentence of the article with the provinces and amounts found in it.
struct SentenceData {
    sentence: Sentence,
    provinces: Vec<ProvinceMention>,
    /// Indices of the article's money mentions that lie in the sentence.
    money: Vec<usize>,
}

/// What the whole article says before any sentence is read: amounts, cue
/// words, provinces and time expressions (each found in one pass over the
/// whole text, far cheaper than one per sentence), and the two article-wide
/// defaults that sentence readings fall back on.
struct Document<'t> {
    text: &'t str,
    published: NaiveDate,
    language: Language,
    money: Vec<MoneyMention>,
    folded: Folded,
    cues: CueIndex,
    /// (folded offset, expression bit) of every time expression.
    time_hits: Vec<(usize, u32)>,
    sentences: Vec<SentenceData>,
    /// The province the article is about, for figures whose sentence names none.
    main_province: Option<&'static str>,
    /// Scope of figures that nothing else decides.
    default_scope: Scope,
    /// Some sentence pairs USD foreign with VND domestic money.
    currency_scopes: bool,
    /// Longest evidence sentence, in bytes (see [`Bounds`]).
    max_evidence_bytes: usize,
}

impl<'t> Document<'t> {
    /// Find the amounts, cues, provinces and time expressions of the whole
    /// text, give each sentence its own, and settle the article-wide defaults.
    ///
    /// Stops between the scans when `bounds` say so, and before any
    /// evidence is copied when the amounts are more than the bounds allow.
    fn prepare(text: &'t str, published: NaiveDate, language: Language, bounds: &Bounds) -> Result<Self, Stopped> {
        let go_on = || {
            if bounds.stopped() {
                Err(Stopped::Cancelled)
            } else {
                Ok(())
            }
        };
        go_on()?;
        let money = find_money(text, language);
        check_count("money mentions", money.len(), bounds)?;
        go_on()?;
        let folded = Folded::new(text);
        let cues = CueIndex::build(&folded, language);
        go_on()?;
        let provinces = find_provinces_folded(text, &folded);
        let time_hits = expression_hits(&folded.text);
        go_on()?;
        let sentences = assign_to_sentences(text, split_sentences(text), &provinces, &money);
        let main_province = main_province(text, &sentences);
        let default_scope = default_scope(&sentences, &cues);
        let currency_scopes = sentences.iter().any(|d| pairs_currencies_with_sides(d, &money, &cues));
        Ok(Document {
            text,
            published,
            language,
            money,
            folded,
            cues,
            time_hits,
            sentences,
            main_province,
            default_scope,
            currency_scopes,
            max_evidence_bytes: bounds.max_evidence_bytes,
        })
    }

    /// The evidence of the figure at `span` in the sentence `start..end`.
    fn evidence(&self, start: usize, end: usize, span: [usize; 2]) -> String {
        evidence(self.text, (start, end), span, self.max_evidence_bytes)
    }

    /// Every amount of the article, with the sentence it stands in.
    fn money_entries(&self) -> Vec<Money> {
        let mut entries = Vec::with_capacity(self.money.len());
        for m in &self.money {
            let at = self.sentences.partition_point(|d| d.sentence.end <= m.start);
            let sentence = self
                .sentences
                .get(at)
                .filter(|d| d.sentence.start <= m.start)
                .map_or_else(String::new, |d| {
                    self.evidence(d.sentence.start, d.sentence.end, [m.start, m.end])
                });
            entries.push(Money {
                value: m.value,
                currency: m.currency.to_string(),
                span: [m.start, m.end],
                sentence,
            });
        }
        entries
    }

    /// The time expressions of the sentence `start..end`, with the offsets of
    /// its periods mapped back to the original text. Only the expressions the
    /// document-wide scan found in the sentence are parsed. A period without
    /// a year takes the year of the period in force (`carried`).
    fn time_cues(&self, start: usize, end: usize, carried: Option<Period>) -> (TimeCues, Vec<(usize, Period)>) {
        let context_year = carried.map_or(self.published.year(), |p| p.end.year());
        let folded_sentence = self.folded.slice(start, end);
        let folded_base = self.folded.folded_offset(start);
        let folded_end = folded_base + folded_sentence.len();
        let first_hit = self.time_hits.partition_point(|h| h.0 < folded_base);
        let present = self.time_hits[first_hit..]
            .iter()
            .take_while(|h| h.0 < folded_end)
            .fold(0u32, |m, h| m | h.1);
        let time = time_cues_present(folded_sentence, self.published, context_year, present);
        let periods = time
            .periods
            .iter()
            .map(|&(pos, p)| (self.folded.original(folded_base + pos), p))
            .collect();
        (time, periods)
    }

    /// The project counts of the sentence `start..end`; the digits of its
    /// amounts (`money_here`) are not counts.
    fn counts_in(&self, start: usize, end: usize, money_here: &[usize], previous_had_count: bool) -> Vec<CountMention> {
        let folded_sentence = self.folded.slice(start, end);
        let folded_base = self.folded.folded_offset(start);
        let money_spans: Vec<(usize, usize)> = money_here
            .iter()
            .map(|&k| (self.money[k].start, self.money[k].end))
            .collect();
        find_counts(
            folded_sentence,
            &|folded_offset| self.folded.original(folded_base + folded_offset),
            self.language,
            &money_spans,
            previous_had_count,
        )
    }
}

/// Give every sentence the provinces and amounts that start inside it
/// (both lists are sorted by position). Sentences whose bounds do not fall
/// on character boundaries are dropped.
fn assign_to_sentences(
    text: &str,
    sentences: Vec<Sentence>,
    all_provinces: &[ProvinceMention],
    money: &[MoneyMention],
) -> Vec<SentenceData> {
    let mut data: Vec<SentenceData> = Vec::with_capacity(sentences.len());
    let mut money_cursor = 0usize;
    for s in sentences {
        if text.get(s.start..s.end).is_none() {
            continue;
        }
        let first = all_provinces.partition_point(|p| p.start < s.start);
        let provinces: Vec<ProvinceMention> = all_provinces[first..]
            .iter()
            .take_while(|p| p.start < s.end)
            .cloned()
            .collect();
        while money_cursor < money.len() && money[money_cursor].start < s.start {
            money_cursor += 1;
        }
        let mut in_sentence = Vec::new();
        let mut k = money_cursor;
        while k < money.len() && money[k].start < s.end {
            in_sentence.push(k);
            k += 1;
        }
        data.push(SentenceData {
            sentence: s,
            provinces,
            money: in_sentence,
        });
    }
    data
}

/// The article's main province: the most mentioned (see `province_weight`),
/// the earliest named on a tie of weights.
fn main_province(text: &str, data: &[SentenceData]) -> Option<&'static str> {
    let mut tally: HashMap<&'static str, (usize, usize)> = HashMap::new();
    for (order, d) in data.iter().enumerate() {
        for p in &d.provinces {
            let weight = province_weight(text, &d.sentence, p);
            let e = tally.entry(p.code).or_insert((0, order));
            e.0 += weight;
        }
    }
    tally
        .iter()
        .max_by(|a, b| a.1.0.cmp(&b.1.0).then(b.1.1.cmp(&a.1.1)))
        .map(|(code, _)| *code)
}

/// How much one mention of a province says the article is about it: the
/// headline counts twice, and naming it as a province ("X province", "tỉnh
/// X") adds two; a dateline ("HÀ NỘI — ...") names where the story was
/// filed, not what it is about, and counts nothing.
fn province_weight(text: &str, sentence: &Sentence, p: &ProvinceMention) -> usize {
    let mut weight = if sentence.headline { 2 } else { 1 };
    // "X province", "Bac Ninh-provinsen", "tỉnh X": named as the province.
    let after = fold(
        text.get(p.end..crate::text::floor_boundary(text, p.end + 12))
            .unwrap_or(""),
    );
    let before = fold(
        text.get(crate::text::floor_boundary(text, p.start.saturating_sub(14))..p.start)
            .unwrap_or(""),
    );
    if ["-provins", " provins", " province", " provinz", "-provinz"]
        .iter()
        .any(|k| after.starts_with(k))
        || ["province of ", "tinh ", "provinz ", "provinsen "]
            .iter()
            .any(|k| before.ends_with(k))
    {
        weight += 2;
    }
    let dateline = p.start == sentence.start && [" —", " –", " - ", " ("].iter().any(|k| after.starts_with(k));
    if dateline {
        weight = 0;
    }
    weight
}

/// Default scope: an article headlined on foreign investment that never
/// mentions domestic investment reports FDI throughout.
fn default_scope(data: &[SentenceData], cues: &CueIndex) -> Scope {
    let headline_foreign = data
        .iter()
        .filter(|d| d.sentence.headline)
        .any(|d| cues.any(d.sentence.start, d.sentence.end, Cue::Foreign));
    let any_domestic = data
        .iter()
        .any(|d| cues.any(d.sentence.start, d.sentence.end, Cue::Domestic));
    if headline_foreign && !any_domestic {
        Scope::Fdi
    } else {
        Scope::All
    }
}

/// Does the sentence pair a USD amount said to be foreign with a VND
/// amount said to be domestic, as park boards' reports do ("foreign
/// investors 997 million USD, domestic investors 3.6 trillion VND")? Each
/// amount's side is the foreign or domestic cue nearest to it.
fn pairs_currencies_with_sides(d: &SentenceData, money: &[MoneyMention], cues: &CueIndex) -> bool {
    let has = |currency: &str| {
        d.money
            .iter()
            .any(|&k| !money[k].converted && money[k].currency == currency)
    };
    if !(has("USD") && has("VND")) {
        return false;
    }
    let (start, end) = (d.sentence.start, d.sentence.end);
    let sides: Vec<_> = cues
        .within(start, end)
        .filter(|h| matches!(h.cue, Cue::Foreign | Cue::Domestic))
        .collect();
    let nearest_side = |m: &MoneyMention| {
        sides
            .iter()
            .min_by_key(|h| {
                if h.start >= m.end {
                    h.start - m.end
                } else {
                    m.start.saturating_sub(h.end)
                }
            })
            .map(|h| h.cue)
    };
    let paired = |currency: &str, side: Cue| {
        d.money.iter().any(|&k| {
            let m = &money[k];
            !m.converted && m.currency == currency && nearest_side(m) == Some(side)
        })
    };
    paired("USD", Cue::Foreign) && paired("VND", Cue::Domestic)
}

/// What one sentence leaves to the sentences after it.
#[derive(Default)]
struct Carried {
    /// The reporting period in force: the last period named, or year-to-date.
    period: Option<Period>,
    /// A calendar year named after that period ("In 2023 the board ..."),
    /// in force for flows of the sentences that go on about it; running
    /// totals do not end with it.
    year: Option<Period>,
    /// As-of date of the previous sentence's running totals.
    stock_end: Option<NaiveDate>,
    /// (kind, scope, scope stated) of the previous sentence's counts.
    counts: Vec<(CountKind, Scope, bool)>,
    /// (paragraph, scope) of the previous sentence when it names one side only.
    sentence_scope: Option<(usize, Scope)>,
    /// The last named company, for sentences that continue about it.
    last_company: Option<LastCompany>,
    /// The paragraph of the previous sentence when it told of a licence
    /// ceremony.
    ceremony: Option<usize>,
}

/// Statistics already emitted: (province, metric, currency, period, scope).
type StatKey = (
    &'static str,
    Metric,
    Option<String>,
    Option<NaiveDate>,
    Option<NaiveDate>,
    Scope,
);

/// The sentence-by-sentence pass over a prepared document.
struct Pass<'d> {
    doc: &'d Document<'d>,
    carried: Carried,
    /// Values already emitted per statistic key.
    seen_stats: HashMap<StatKey, Vec<f64>>,
    out: Extraction,
    bounds: &'d Bounds<'d>,
}

impl<'d> Pass<'d> {
    /// A pass with nothing carried yet; the article's amounts are listed
    /// up front (every amount is money, whatever its sentence yields).
    fn new(doc: &'d Document<'d>, bounds: &'d Bounds<'d>) -> Self {
        Pass {
            doc,
            carried: Carried::default(),
            seen_stats: HashMap::new(),
            out: Extraction {
                language: doc.language,
                money: doc.money_entries(),
                counts: Vec::new(),
                statistics: Vec::new(),
                projects: Vec::new(),
            },
            bounds,
        }
    }

    /// `Err` when the items found so far are more than the bounds allow.
    fn check_items(&self) -> Result<(), Stopped> {
        check_count("project counts", self.out.counts.len(), self.bounds)?;
        check_count("statistics", self.out.statistics.len(), self.bounds)?;
        check_count("projects", self.out.projects.len(), self.bounds)
    }

    /// Read sentence `index`: its figures and their readings, then the
    /// counts, statistics and projects they yield, then what it leaves to
    /// the next sentence. A headline yields counts only and leaves nothing.
    fn read_sentence(&mut self, index: usize) {
        let here = Here::read(self.doc, index, &self.carried);
        let readings = here.read_figures(&self.carried);
        self.emit_counts(&here, &readings);
        let companies = here.companies();
        let statistics_before = self.out.statistics.len();
        if !here.headline && !here.is_project_level(&companies) && !here.is_ceremony(self.carried.ceremony) {
            self.emit_statistics(&here, &readings);
        }
        if !here.headline {
            let added_statistics = self.out.statistics.len() != statistics_before;
            self.emit_projects(&here, &companies, added_statistics);
            self.carry(&here, &readings);
        }
    }

    /// Every project count of the sentence, with the kind read for it.
    fn emit_counts(&mut self, here: &Here, readings: &Readings) {
        for (ci, c) in here.counts.iter().enumerate() {
            self.out.counts.push(Count {
                value: c.value,
                kind: readings.count_kinds[ci],
                span: [c.start, c.end],
                sentence: self.doc.evidence(here.start, here.end, [c.start, c.end]),
            });
        }
    }

    /// Province statistics of a sentence that reports aggregates: every
    /// figure with a province, a metric and a period is one, unless the same
    /// fact was already given.
    fn emit_statistics(&mut self, here: &Here, readings: &Readings) {
        let gate = here.money_gate();
        for (fi, fig) in here.figures.iter().enumerate() {
            let reading = readings.per_figure[fi];
            let Some(province) = here.province_at(fig.start) else {
                continue;
            };
            let Some((metric, value, currency)) = here.measure(fi, reading, &readings.count_kinds, gate) else {
                continue;
            };
            let Some((start, end)) = here.statistic_period(fi, metric) else {
                continue;
            };
            let key: StatKey = (province, metric, currency.clone(), start, end, reading.scope);
            if self.already_given(key, value) {
                continue;
            }
            self.out.statistics.push(Statistic {
                province: province.to_string(),
                metric,
                value,
                currency,
                period_start: start.map(iso),
                period_end: end.map(iso),
                scope: reading.scope,
                span: [fig.start, fig.end],
                sentence: self.doc.evidence(here.start, here.end, [fig.start, fig.end]),
            });
        }
    }

    /// Was this statistic already emitted? The same fact restated, possibly
    /// rounded ("674 Mio." then "674,39 Mio."), is one statistic. Records
    /// `value` when it is new (up to a bound per key).
    fn already_given(&mut self, key: StatKey, value: f64) -> bool {
        let values = self.seen_stats.entry(key).or_default();
        if values.iter().any(|&v| close(v, value)) || values.len() > 64 {
            return true;
        }
        values.push(value);
        false
    }

    /// Named projects of a (non-headline) sentence. Without an anaphor ("the
    /// company"), only a sentence that reads like more of the same project
    /// (no period, province, count, target or statistic) continues about the
    /// last named company.
    fn emit_projects(&mut self, here: &Here, companies: &[CompanyMention], added_statistics: bool) {
        let doc = self.doc;
        let plain_continuation = here.periods.is_empty()
            && here.counts.is_empty()
            && !here.time.year_to_date
            && !here.stock()
            && here.data.provinces.is_empty()
            && !doc.cues.any(here.start, here.end, Cue::Target)
            && !added_statistics;
        let sentence = ProjectSentence {
            text: doc.text,
            start: here.start,
            end: here.end,
            index: here.index,
            money: &doc.money,
            money_here: &here.data.money,
            companies,
            province: here.province_at(here.end),
            plain_continuation,
            max_evidence_bytes: doc.max_evidence_bytes,
            language: doc.language,
        };
        collect_projects(
            &sentence,
            &doc.cues,
            &mut self.carried.last_company,
            &mut self.out.projects,
        );
    }

    /// What a (non-headline) sentence leaves to the next: the period in
    /// force, the as-of date of its running totals, its scope when it names
    /// only foreign or only domestic investment, and its count readings.
    fn carry(&mut self, here: &Here, readings: &Readings) {
        let cues = &self.doc.cues;
        if let Some(&(_, p)) = here.periods.last() {
            self.carried.period = Some(p);
            self.carried.year = None;
        } else if let Some(p) = here.year_to_date {
            self.carried.period = Some(p);
            self.carried.year = None;
        } else if let Some(y) = here.time.year
            && self.carried.period.is_none_or(|p| p.end.year() != y)
        {
            self.carried.year = Period::full_year(y);
        }
        self.carried.stock_end = here.stock_end;
        self.carried.ceremony = here.names_ceremony().then_some(here.paragraph);
        let foreign = cues.any(here.start, here.end, Cue::Foreign);
        let domestic = cues.any(here.start, here.end, Cue::Domestic);
        self.carried.sentence_scope = match (foreign, domestic) {
            (true, false) => Some((here.paragraph, Scope::Fdi)),
            (false, true) => Some((here.paragraph, Scope::Ddi)),
            _ => None,
        };
        self.carried.counts = here
            .figures
            .iter()
            .zip(readings.per_figure.iter())
            .filter_map(|(f, r)| match f.what {
                FigureRef::Count(ci) => Some((readings.count_kinds[ci], r.scope, r.scope_explicit)),
                FigureRef::Money(_) => None,
            })
            .collect();
    }
}

/// What was decided about a sentence's figures: a reading per figure, in
/// text order, and a kind per count.
struct Readings {
    per_figure: Vec<Reading>,
    count_kinds: Vec<CountKind>,
}

/// Whether a sentence's amounts can be province statistics at all.
#[derive(Clone, Copy)]
struct MoneyGate {
    /// The sentence talks about investment or counts projects.
    invests: bool,
    /// National totals, plans or forecasts: not a province's results.
    prospective: bool,
}

/// One sentence as the pass reads it: its bounds, time expressions and
/// figures, and whether it reports running totals.
struct Here<'d> {
    doc: &'d Document<'d>,
    data: &'d SentenceData,
    index: usize,
    start: usize,
    end: usize,
    headline: bool,
    paragraph: usize,
    /// The sentence's text.
    text: &'d str,
    time: TimeCues,
    /// Periods named in the sentence, at original byte offsets.
    periods: Vec<(usize, Period)>,
    /// The period in force from earlier sentences.
    carried: Option<Period>,
    /// The calendar year in force, when one was named after the period.
    carried_year: Option<Period>,
    /// "so far this year": from 1 January.
    year_to_date: Option<Period>,
    counts: Vec<CountMention>,
    /// Money and count mentions, in text order.
    figures: Vec<Figure>,
    /// The sentence opens with "of which", "trong đó", "davon"...
    starts_with_subset: bool,
    /// As-of date when the sentence reports running totals.
    stock_end: Option<NaiveDate>,
}

impl<'d> Here<'d> {
    /// Find the time expressions, counts and figures of sentence `index`.
    fn read(doc: &'d Document<'d>, index: usize, carried: &Carried) -> Self {
        let data = &doc.sentences[index];
        let (start, end) = (data.sentence.start, data.sentence.end);
        let (time, periods) = doc.time_cues(start, end, carried.period);
        let counts = doc.counts_in(start, end, &data.money, !carried.counts.is_empty());
        let figures = figures_in_order(&doc.money, &data.money, &counts);
        let year_to_date = year_to_date_period(&time, carried.period, doc.published);
        let mut here = Here {
            doc,
            data,
            index,
            start,
            end,
            headline: data.sentence.headline,
            paragraph: data.sentence.paragraph,
            text: &doc.text[start..end],
            time,
            periods,
            carried: carried.period,
            carried_year: carried.year,
            year_to_date,
            counts,
            figures,
            starts_with_subset: opens_with_subset(doc.folded.slice(start, end))
                || doc.cues.any(start, (start + 30).min(end), Cue::Subset),
            stock_end: None,
        };
        here.stock_end = here.running_total_end(carried.stock_end);
        here
    }

    /// Running totals ("as of", "home to", or "of which" after a running
    /// total) versus period flows: the as-of date of a running total (the
    /// date stated, the previous total's, the end of the period named or in
    /// force, else publication), `None` for a flow.
    fn running_total_end(&self, previous_stock_end: Option<NaiveDate>) -> Option<NaiveDate> {
        let cues = &self.doc.cues;
        let published = self.doc.published;
        let strong_stock = cues.any(self.start, self.end, Cue::Stock);
        let weak_stock =
            cues.any(self.start, self.end, Cue::StockWeak) && self.periods.is_empty() && !self.time.year_to_date;
        let continued_stock = previous_stock_end.is_some() && self.breaks_down_previous_total();
        if !(strong_stock || weak_stock || continued_stock) || self.as_of_within_named_year() {
            return None;
        }
        // "now", "to date", "bis heute": the total at publication.
        let now = cues.any(self.start, self.end, Cue::Now).then_some(published);
        Some(
            self.time
                .as_of
                .or(if continued_stock { previous_stock_end } else { None })
                .or(now)
                // "as of the end of September": the end of the period named here.
                .or_else(|| self.periods.last().map(|(_, p)| p.end.min(published)))
                .or_else(|| self.carried.map(|p| p.end.min(published)))
                .unwrap_or(published),
        )
    }

    /// "As of 27 October the zones drew $4.7 billion in 2025": an as-of
    /// date within a year named for the figures is the end of that year's
    /// flow so far, not a running total.
    fn as_of_within_named_year(&self) -> bool {
        as_of_within_named_year(&self.time).is_some()
    }

    /// Does the sentence break down the total of the sentence before
    /// ("of which", "Khu vực FDI chiếm ...", "utgjør 3 081 av dem", "auf
    /// weitere 275 Projekte")? Only without a period or a licensing verb of
    /// its own, which would make it a flow.
    fn breaks_down_previous_total(&self) -> bool {
        let cues = &self.doc.cues;
        // "Of which ...", and "Total registered capital ..." right after a
        // running total.
        let subset = self.starts_with_subset
            || cues.any(self.start, self.end, Cue::Subset)
            || cues.any(self.start, self.end, Cue::Overall);
        let flow = !self.periods.is_empty()
            || self.time.year_to_date
            || self.time.year.is_some()
            || [Cue::New, Cue::Added, Cue::Licensed, Cue::Operating, Cue::Prospective]
                .iter()
                .any(|&cue| cues.any(self.start, self.end, cue));
        subset && !flow
    }

    /// The sentence reports running totals ("as of", "home to").
    fn stock(&self) -> bool {
        self.stock_end.is_some()
    }

    /// Read every figure in text order: what each count counts, what each
    /// amount measures and whose money it is. A figure's reading leans on
    /// those of the figures before it, so they are read one by one.
    fn read_figures(&self, carried: &Carried) -> Readings {
        let doc = self.doc;
        // Scope of the previous sentence (same paragraph) when it is unambiguous.
        let inherited_sentence_scope = carried
            .sentence_scope
            .filter(|(p, _)| *p == self.paragraph)
            .map(|(_, s)| s);
        let context = SentenceContext {
            text: doc.text,
            cues: &doc.cues,
            figures: &self.figures,
            counts: &self.counts,
            money: &doc.money,
            start: self.start,
            end: self.end,
            stock: self.stock(),
            paired: self.pairs_usd_with_vnd(),
            default_scope: doc.default_scope,
            currency_scopes: doc.currency_scopes,
            inherited_sentence_scope,
            starts_with_subset: self.starts_with_subset,
            previous_counts: &carried.counts,
        };
        let mut readings = Readings {
            per_figure: Vec::with_capacity(self.figures.len()),
            count_kinds: vec![CountKind::Other; self.counts.len()],
        };
        for (fi, fig) in self.figures.iter().enumerate() {
            let reading = match fig.what {
                FigureRef::Count(ci) => {
                    let (kind, reading) = context.read_count(fi, ci, &readings.per_figure, &readings.count_kinds);
                    readings.count_kinds[ci] = kind;
                    reading
                }
                FigureRef::Money(mi) => context.read_money(fi, mi, &readings.per_figure),
            };
            readings.per_figure.push(reading);
        }
        readings
    }

    /// A sentence that pairs a USD amount with a VND amount (conversions
    /// aside) reads USD as foreign and VND as domestic money.
    fn pairs_usd_with_vnd(&self) -> bool {
        let money = &self.doc.money;
        let currencies: Vec<&str> = self
            .data
            .money
            .iter()
            .filter(|&&k| !money[k].converted)
            .map(|&k| money[k].currency)
            .collect();
        currencies.contains(&"USD") && currencies.contains(&"VND")
    }

    /// Companies named in the sentence, at article offsets.
    fn companies(&self) -> Vec<CompanyMention> {
        find_companies(self.text)
            .into_iter()
            .map(|c| CompanyMention {
                name: c.name,
                start: c.start + self.start,
                end: c.end + self.start,
            })
            .collect()
    }

    /// A sentence about one investor (named, or "the company") carries no
    /// province statistics.
    fn is_project_level(&self, companies: &[CompanyMention]) -> bool {
        !companies.is_empty() || self.doc.cues.any(self.start, self.end, Cue::CompanyAnaphor)
    }

    /// A ceremony handing over licences, or the next sentence of its
    /// paragraph going on about it ("The projects' registered capital
    /// totals ..."): its batch is not a province's period result.
    fn is_ceremony(&self, previous_ceremony_paragraph: Option<usize>) -> bool {
        let goes_on = previous_ceremony_paragraph == Some(self.paragraph)
            && self.periods.is_empty()
            && self.time.year.is_none()
            && self.counts.is_empty()
            && !self.stock();
        goes_on || self.names_ceremony()
    }

    fn names_ceremony(&self) -> bool {
        self.doc.cues.any(self.start, self.end, Cue::Ceremony)
    }

    /// Whether the sentence's amounts can be statistics: it must talk
    /// about investment (or count projects), and national totals are not a
    /// province's unless the sentence names one.
    fn money_gate(&self) -> MoneyGate {
        let cues = &self.doc.cues;
        let invests = cues.any(self.start, self.end, Cue::Investment) || !self.counts.is_empty();
        let national = cues.any(self.start, self.end, Cue::National) && self.data.provinces.is_empty();
        MoneyGate {
            invests,
            prospective: national || cues.any(self.start, self.end, Cue::Prospective),
        }
    }

    /// Metric, value and currency of figure `fi` as a statistic: counts of
    /// new or adjusted projects, and amounts with a metric that are
    /// investment totals (not conversions, plans, averages or other money).
    fn measure(
        &self,
        fi: usize,
        reading: Reading,
        count_kinds: &[CountKind],
        gate: MoneyGate,
    ) -> Option<(Metric, f64, Option<String>)> {
        match self.figures[fi].what {
            FigureRef::Count(ci) => {
                let metric = match count_kinds[ci] {
                    CountKind::NewProjects => Metric::NewProjects,
                    CountKind::AdjustedProjects => Metric::AdjustedProjects,
                    _ => return None,
                };
                Some((metric, self.counts[ci].value as f64, None))
            }
            FigureRef::Money(mi) => {
                let m = &self.doc.money[mi];
                let capital_metric = matches!(reading.metric, Some(Metric::NewCapital | Metric::AddedCapital));
                // "$50-100 million per project": an average, not a total.
                let per_unit = self.doc.cues.any(
                    crate::figures::clause_start(self.doc.text, self.start, m.start),
                    crate::figures::clause_end(self.doc.text, m.end, self.end),
                    Cue::PerUnit,
                );
                if m.converted || gate.prospective || per_unit || !(gate.invests || capital_metric) {
                    return None;
                }
                let metric = reading.metric?;
                Some((metric, m.value, Some(m.currency.to_string())))
            }
        }
    }

    /// Period bounds of figure `fi` as a statistic of `metric`: running
    /// totals end at their as-of date, targets cover a calendar year, and
    /// other figures take their period (moved back a year when a comparison
    /// makes the figure the earlier period's).
    fn statistic_period(&self, fi: usize, metric: Metric) -> Option<(Option<NaiveDate>, Option<NaiveDate>)> {
        let fig = self.figures[fi];
        if self.stock() && matches!(fig.what, FigureRef::Money(_)) {
            return Some((None, self.stock_end));
        }
        if metric == Metric::TargetCapital {
            // "the goal for the 2017-2020 period": several whole years.
            if let Some(&(_, p)) = self.periods.iter().find(|(_, p)| p.start.year() != p.end.year()) {
                return Some((Some(p.start), Some(p.end)));
            }
            let year = self
                .time
                .year
                .or_else(|| self.period_for(fig.start).map(|p| p.end.year()))
                .unwrap_or(self.doc.published.year());
            return Period::full_year(year).map(|p| (Some(p.start), Some(p.end)));
        }
        let mut p = self.period_after(fi).or_else(|| self.period_for(fig.start))?;
        if self.time.comparison && is_previous_period(self.doc.text, &self.figures, fi, self.start) {
            p = p.previous_year()?;
        }
        Some((Some(p.start), Some(p.end)))
    }

    /// A period named right after figure `fi` in its own clause ("...,
    /// of which 150 million USD in September").
    fn period_after(&self, fi: usize) -> Option<Period> {
        let fig = self.figures[fi];
        let next = self.figures.get(fi + 1).map_or(self.end, |n| n.start);
        let clause_end = crate::figures::clause_end(self.doc.text, fig.end, next.max(fig.end));
        self.periods
            .iter()
            .find(|(at, _)| *at >= fig.end && *at < clause_end)
            .map(|&(_, p)| p)
    }

    /// Period of a figure at `pos`: the last period named before it (else
    /// the first named), year-to-date, a bare year that differs from the
    /// period in force, else the year or the period in force.
    fn period_for(&self, pos: usize) -> Option<Period> {
        if let Some(&(_, p)) = self.periods.iter().rev().find(|(at, _)| *at < pos) {
            return Some(p);
        }
        if let Some(&(_, p)) = self.periods.first() {
            return Some(p);
        }
        if let Some(p) = self.year_to_date {
            return Some(p);
        }
        if let Some(y) = self.time.year
            && self.carried.is_none_or(|c| c.end.year() != y)
        {
            return Period::full_year(y);
        }
        self.carried_year.or(self.carried)
    }

    /// Province of a figure at `pos`: one named between the previous figure
    /// and this one; else the article's main province when the sentence
    /// names it; else the last province named before the figure ("behind
    /// Hanoi" after a figure is a comparison); else the main province.
    fn province_at(&self, pos: usize) -> Option<&'static str> {
        let here = &self.data.provinces;
        let main_province = self.doc.main_province;
        // "..., followed by Dong Nai with $1.5 billion"
        let previous_figure_end = self.figures.iter().rev().find(|f| f.end <= pos).map(|f| f.end);
        if let Some(after) = previous_figure_end
            && let Some(p) = here.iter().rev().find(|p| p.start >= after && p.start < pos)
        {
            return Some(p.code);
        }
        if main_province.is_some_and(|mp| here.iter().any(|p| p.code == mp)) {
            main_province
        } else {
            here.iter()
                .rev()
                .find(|p| p.start < pos)
                .map(|p| p.code)
                .or(main_province)
        }
    }
}

/// The sentence's amounts and counts as figures, in text order (an amount
/// before a count starting at the same offset).
fn figures_in_order(money: &[MoneyMention], money_here: &[usize], counts: &[CountMention]) -> Vec<Figure> {
    let mut figures: Vec<Figure> = money_here
        .iter()
        .map(|&k| Figure {
            start: money[k].start,
            end: money[k].end,
            phrase_end: money[k].end,
            what: FigureRef::Money(k),
        })
        .chain(counts.iter().enumerate().map(|(k, c)| Figure {
            start: c.start,
            end: c.end,
            phrase_end: c.phrase_end,
            what: FigureRef::Count(k),
        }))
        .collect();
    figures.sort_by_key(|f| f.start);
    figures
}

/// Openings of a sentence that breaks down a total given before it.
const SUBSET_OPENINGS: &[&str] = &[
    "trong do",
    "of which",
    "of these",
    "davon",
    "av disse",
    "av dette",
    "including",
    "of the total",
    "of this",
    "among them",
];

/// Does the (folded) sentence open with "of which", "trong đó", "davon",
/// "X av dem"...?
fn opens_with_subset(folded_sentence: &str) -> bool {
    let head: String = folded_sentence.chars().take(24).collect();
    SUBSET_OPENINGS.iter().any(|m| head.starts_with(m))
        || head.split_whitespace().nth(1) == Some("av") && head.split_whitespace().nth(2) == Some("dem")
}

/// Year-to-date ("so far this year"): from 1 January to the as-of date,
/// the end of the period already reported, or publication.
fn year_to_date_period(time: &TimeCues, carried: Option<Period>, published: NaiveDate) -> Option<Period> {
    if let Some(as_of) = as_of_within_named_year(time) {
        return NaiveDate::from_ymd_opt(as_of.year(), 1, 1).map(|start| Period { start, end: as_of });
    }
    if !time.year_to_date {
        return None;
    }
    let year = carried.map_or(published.year(), |p| p.end.year());
    // A period in force that ends after publication was a plan ("from
    // July"), not the end of what was reported.
    let end = time
        .as_of
        .or_else(|| {
            carried
                .filter(|p| p.end.year() == year && p.end <= published)
                .map(|p| p.end)
        })
        .unwrap_or(published);
    NaiveDate::from_ymd_opt(year, 1, 1).map(|start| Period { start, end })
}

/// The as-of date of a sentence that also names its year ("Per 27.
/// oktober ... i 2025").
fn as_of_within_named_year(time: &TimeCues) -> Option<NaiveDate> {
    time.as_of.filter(|d| time.year == Some(d.year()))
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 0.005 * a.abs().max(b.abs())
}

/// In a comparison sentence, is figure `fi` the earlier period's value?
/// "von 636 auf 674", "22,77 Billionen im Vorjahr", "from X a year earlier".
fn is_previous_period(text: &str, figures: &[Figure], fi: usize, sentence_start: usize) -> bool {
    let fig = figures[fi];
    let before_start = if fi == 0 { sentence_start } else { figures[fi - 1].end };
    let before = fold(text.get(before_start..fig.start).unwrap_or(""));
    let after_end = figures.get(fi + 1).map_or(text.len().min(fig.end + 60), |n| n.start);
    let after = fold(
        text.get(fig.end..crate::text::floor_boundary(text, after_end))
            .unwrap_or(""),
    );
    let after = after.trim_start();
    let from_to = before.trim_end().ends_with("von")
        || before.trim_end().ends_with("from")
        || before.trim_end().ends_with("fra")
        || before.trim_end().ends_with("tu");
    let followed_by_new =
        after.starts_with("auf") || after.starts_with("to ") || after.starts_with("til") || after.starts_with("len");
    let earlier_marker = [
        "im vorjahr",
        "a year earlier",
        "last year",
        "the previous year",
        "i fjor",
        "cung ky nam truoc",
        "nam truoc",
        "im vorjahreszeitraum",
        "in the same period last year",
    ]
    .iter()
    .any(|m| after.starts_with(m));
    (from_to && followed_by_new && fi + 1 < figures.len()) || earlier_marker
}
