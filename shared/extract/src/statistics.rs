//! The document pass: finds money and counts sentence by sentence, decides
//! what each figure measures (metric, scope, period, province) from the cue
//! words around it, and assembles statistics and named projects.

use crate::counts::{CountMention, find_counts};
use crate::cues::{Cue, CueIndex};
use crate::figures::{Figure, FigureRef, Reading, SentenceContext};
use crate::money::find_money;
use crate::periods::{Period, TimeCues, expression_hits, time_cues_present};
use crate::places::{ProvinceMention, find_provinces_folded};
use crate::projects::{CompanyMention, LastCompany, ProjectSentence, collect_projects, find_companies};
use crate::text::{Folded, Sentence, fold, split_sentences};
use crate::{Count, CountKind, Extraction, Language, Metric, Money, Scope, Statistic};
use chrono::{Datelike, NaiveDate};
use std::collections::HashMap;

struct SentenceData {
    sentence: Sentence,
    time: TimeCues,
    /// Period candidates with original byte offsets.
    periods: Vec<(usize, Period)>,
    provinces: Vec<ProvinceMention>,
    money: Vec<usize>,
}

fn iso(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

pub fn analyse(text: &str, published: NaiveDate, language: Language) -> Extraction {
    let sentences = split_sentences(text);
    let money = find_money(text, language);
    let folded_text = Folded::new(text);
    let cues = CueIndex::build(&folded_text);
    let all_provinces = find_provinces_folded(text, &folded_text);
    let time_hits = expression_hits(&folded_text.text);

    // Per-sentence preparation.
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
            time: TimeCues::default(),
            periods: Vec::new(),
            provinces,
            money: in_sentence,
        });
    }

    // The article's main province: most mentioned, headline counted twice.
    let mut tally: HashMap<&'static str, (usize, usize)> = HashMap::new();
    for (order, d) in data.iter().enumerate() {
        for p in &d.provinces {
            let mut weight = if d.sentence.headline { 2 } else { 1 };
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
            // A dateline ("HÀ NỘI — ...") names where the story was filed,
            // not necessarily what it is about.
            let dateline =
                p.start == d.sentence.start && [" —", " –", " - ", " ("].iter().any(|k| after.starts_with(k));
            if dateline {
                weight = 0;
            }
            let e = tally.entry(p.code).or_insert((0, order));
            e.0 += weight;
        }
    }
    let main_province = tally
        .iter()
        .max_by(|a, b| a.1.0.cmp(&b.1.0).then(b.1.1.cmp(&a.1.1)))
        .map(|(code, _)| *code);

    // Default scope: an article headlined on foreign investment that never
    // mentions domestic investment reports FDI throughout.
    let headline_foreign = data
        .iter()
        .filter(|d| d.sentence.headline)
        .any(|d| cues.any(d.sentence.start, d.sentence.end, Cue::Foreign));
    let any_domestic = data
        .iter()
        .any(|d| cues.any(d.sentence.start, d.sentence.end, Cue::Domestic));
    let default_scope = if headline_foreign && !any_domestic {
        Scope::Fdi
    } else {
        Scope::All
    };

    let mut out = Extraction {
        language,
        money: Vec::with_capacity(money.len()),
        counts: Vec::new(),
        statistics: Vec::new(),
        projects: Vec::new(),
    };
    for m in &money {
        let at = data.partition_point(|d| d.sentence.end <= m.start);
        let sentence = data
            .get(at)
            .filter(|d| d.sentence.start <= m.start)
            .and_then(|d| text.get(d.sentence.start..d.sentence.end))
            .unwrap_or("");
        out.money.push(Money {
            value: m.value,
            currency: m.currency.to_string(),
            span: [m.start, m.end],
            sentence: sentence.to_string(),
        });
    }

    let mut carried: Option<Period> = None;
    let mut previous_stock_end: Option<NaiveDate> = None;
    let mut previous_counts: Vec<(CountKind, Scope, bool)> = Vec::new();
    let mut previous_sentence_scope: Option<(usize, Scope)> = None;
    // The last named company, for sentences that continue about it.
    let mut last_company: Option<LastCompany> = None;
    // Statistics already emitted: (province, metric, currency, period, scope) -> values.
    let mut seen_stats: HashMap<StatKey, Vec<f64>> = HashMap::new();

    #[allow(clippy::needless_range_loop)] // `data[index]` is also updated in the loop
    for index in 0..data.len() {
        let (s_start, s_end, headline, paragraph) = {
            let s = &data[index].sentence;
            (s.start, s.end, s.headline, s.paragraph)
        };
        let s_text = &text[s_start..s_end];
        let context_year = carried.map_or(published.year(), |p| p.end.year());
        let folded_sentence = folded_text.slice(s_start, s_end);
        let folded_base = folded_text.folded_offset(s_start);
        let folded_end = folded_base + folded_sentence.len();
        let first_hit = time_hits.partition_point(|h| h.0 < folded_base);
        let present = time_hits[first_hit..]
            .iter()
            .take_while(|h| h.0 < folded_end)
            .fold(0u16, |m, h| m | h.1);
        let time = time_cues_present(folded_sentence, published, context_year, present);
        let periods: Vec<(usize, Period)> = time
            .periods
            .iter()
            .map(|&(pos, p)| (folded_text.original(folded_base + pos), p))
            .collect();
        data[index].periods = periods.clone();
        data[index].time = time.clone();

        let money_here: Vec<usize> = data[index].money.clone();
        let money_spans: Vec<(usize, usize)> = money_here.iter().map(|&k| (money[k].start, money[k].end)).collect();
        let counts: Vec<CountMention> = find_counts(
            folded_sentence,
            &|folded_offset| folded_text.original(folded_base + folded_offset),
            language,
            &money_spans,
            !previous_counts.is_empty(),
        );

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

        // Running totals ("as of", "home to") versus period flows.
        let starts_with_subset = {
            let head: String = folded_sentence.chars().take(24).collect();
            [
                "trong do",
                "of which",
                "of these",
                "davon",
                "av disse",
                "av dette",
                "including",
                "of the total",
                "of this",
                "av dette",
                "davon",
                "among them",
            ]
            .iter()
            .any(|m| head.starts_with(m))
                || head.split_whitespace().nth(1) == Some("av") && head.split_whitespace().nth(2) == Some("dem")
        };
        let strong_stock = cues.any(s_start, s_end, Cue::Stock);
        let weak_stock = cues.any(s_start, s_end, Cue::StockWeak) && periods.is_empty() && !time.year_to_date;
        let continued_stock = starts_with_subset && previous_stock_end.is_some();
        let stock = strong_stock || weak_stock || continued_stock;
        let stock_end = if stock {
            Some(
                time.as_of
                    .or(if continued_stock { previous_stock_end } else { None })
                    // "as of the end of September": the end of the period named here.
                    .or_else(|| periods.last().map(|(_, p)| p.end.min(published)))
                    .or_else(|| carried.map(|p| p.end.min(published)))
                    .unwrap_or(published),
            )
        } else {
            None
        };

        // Year-to-date: from 1 January to the as-of date, the end of the
        // period already reported, or publication.
        let ytd_period = if time.year_to_date {
            let year = carried.map_or(published.year(), |p| p.end.year());
            let end = time
                .as_of
                .or_else(|| carried.filter(|p| p.end.year() == year).map(|p| p.end))
                .unwrap_or(published);
            NaiveDate::from_ymd_opt(year, 1, 1).map(|start| Period { start, end })
        } else {
            None
        };
        let period_for = |pos: usize| -> Option<Period> {
            if let Some(&(_, p)) = periods.iter().rev().find(|(at, _)| *at < pos) {
                return Some(p);
            }
            if let Some(&(_, p)) = periods.first() {
                return Some(p);
            }
            if let Some(p) = ytd_period {
                return Some(p);
            }
            if let Some(y) = time.year
                && carried.is_none_or(|c| c.end.year() != y)
            {
                return Period::full_year(y);
            }
            carried
        };

        // Scope of the previous sentence (same paragraph) when it is unambiguous.
        let inherited_sentence_scope = previous_sentence_scope.filter(|(p, _)| *p == paragraph).map(|(_, s)| s);

        // USD with foreign and VND with domestic when a sentence pairs them.
        let currencies: Vec<&str> = money_here
            .iter()
            .filter(|&&k| !money[k].converted)
            .map(|&k| money[k].currency)
            .collect();
        let paired = currencies.contains(&"USD") && currencies.contains(&"VND");

        let mut readings: Vec<Reading> = Vec::with_capacity(figures.len());
        let mut count_kinds: Vec<CountKind> = vec![CountKind::Other; counts.len()];
        let context = SentenceContext {
            text,
            cues: &cues,
            figures: &figures,
            counts: &counts,
            money: &money,
            start: s_start,
            end: s_end,
            stock,
            paired,
            default_scope,
            inherited_sentence_scope,
            starts_with_subset,
            previous_counts: &previous_counts,
        };
        for (fi, fig) in figures.iter().enumerate() {
            let reading = match fig.what {
                FigureRef::Count(ci) => {
                    let (kind, reading) = context.read_count(fi, ci, &readings, &count_kinds);
                    count_kinds[ci] = kind;
                    reading
                }
                FigureRef::Money(mi) => context.read_money(fi, mi, &readings),
            };
            readings.push(reading);
        }

        // Counts output.
        for (ci, c) in counts.iter().enumerate() {
            out.counts.push(Count {
                value: c.value,
                kind: count_kinds[ci],
                span: [c.start, c.end],
                sentence: s_text.to_string(),
            });
        }

        // Companies: a sentence about one investor carries no province statistics.
        let companies: Vec<CompanyMention> = find_companies(s_text)
            .into_iter()
            .map(|c| CompanyMention {
                name: c.name,
                start: c.start + s_start,
                end: c.end + s_start,
            })
            .collect();
        let project_level = !companies.is_empty() || cues.any(s_start, s_end, Cue::CompanyAnaphor);

        // Province of a figure: the article's main province when the sentence
        // names it, else the last province named before the figure ("behind
        // Hanoi" after a figure is a comparison), else the main province.
        let province_at = |pos: usize| -> Option<&'static str> {
            let here = &data[index].provinces;
            // A province named between the previous figure and this one
            // ("..., followed by Dong Nai with $1.5 billion") is this figure's.
            let previous_figure_end = figures.iter().rev().find(|f| f.end <= pos).map(|f| f.end);
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
        };
        let province = province_at(s_end);

        let statistics_before = out.statistics.len();
        if !headline && !project_level {
            {
                // Money counts as an investment figure when the sentence talks
                // about investment, counts projects, or the cue names capital flows.
                let invests = cues.any(s_start, s_end, Cue::Investment) || !counts.is_empty();
                // National totals are not a province's, unless the sentence names one.
                let national = cues.any(s_start, s_end, Cue::National) && data[index].provinces.is_empty();
                let prospective = national || cues.any(s_start, s_end, Cue::Prospective);
                for (fi, fig) in figures.iter().enumerate() {
                    let reading = readings[fi];
                    let Some(province) = province_at(fig.start) else {
                        continue;
                    };
                    let (metric, value, currency) = match fig.what {
                        FigureRef::Count(ci) => {
                            let metric = match count_kinds[ci] {
                                CountKind::NewProjects => Metric::NewProjects,
                                CountKind::AdjustedProjects => Metric::AdjustedProjects,
                                _ => continue,
                            };
                            (metric, counts[ci].value as f64, None)
                        }
                        FigureRef::Money(mi) => {
                            let m = &money[mi];
                            let capital_metric =
                                matches!(reading.metric, Some(Metric::NewCapital | Metric::AddedCapital));
                            // "$50-100 million per project": an average, not a total.
                            let per_unit = cues.any(
                                crate::figures::clause_start(text, s_start, m.start),
                                crate::figures::clause_end(text, m.end, s_end),
                                Cue::PerUnit,
                            );
                            if m.converted || prospective || per_unit || !(invests || capital_metric) {
                                continue;
                            }
                            let Some(metric) = reading.metric else {
                                continue;
                            };
                            (metric, m.value, Some(m.currency.to_string()))
                        }
                    };
                    let (start, end) = if stock && matches!(fig.what, FigureRef::Money(_)) {
                        (None, stock_end)
                    } else if metric == Metric::TargetCapital {
                        let year = time
                            .year
                            .or_else(|| period_for(fig.start).map(|p| p.end.year()))
                            .unwrap_or(published.year());
                        match Period::full_year(year) {
                            Some(p) => (Some(p.start), Some(p.end)),
                            None => continue,
                        }
                    } else {
                        let Some(mut p) = period_for(fig.start) else {
                            continue;
                        };
                        if time.comparison && is_previous_period(text, &figures, fi, s_start) {
                            match p.previous_year() {
                                Some(prev) => p = prev,
                                None => continue,
                            }
                        }
                        (Some(p.start), Some(p.end))
                    };
                    let key: StatKey = (province, metric, currency.clone(), start, end, reading.scope);
                    // The same fact restated, possibly rounded ("674 Mio." then
                    // "674,39 Mio."), is one statistic.
                    let values = seen_stats.entry(key).or_default();
                    if values.iter().any(|&v| close(v, value)) || values.len() > 64 {
                        continue;
                    }
                    values.push(value);
                    out.statistics.push(Statistic {
                        province: province.to_string(),
                        metric,
                        value,
                        currency,
                        period_start: start.map(iso),
                        period_end: end.map(iso),
                        scope: reading.scope,
                        span: [fig.start, fig.end],
                        sentence: s_text.to_string(),
                    });
                }
            }
        }

        // Named projects.
        if !headline {
            // Without an anaphor ("the company"), only a sentence that reads
            // like more of the same project (no period, province, count,
            // target or statistic) continues about the last named company.
            let plain_continuation = periods.is_empty()
                && counts.is_empty()
                && !time.year_to_date
                && !stock
                && data[index].provinces.is_empty()
                && !cues.any(s_start, s_end, Cue::Target)
                && out.statistics.len() == statistics_before;
            let sentence = ProjectSentence {
                text,
                start: s_start,
                end: s_end,
                index,
                money: &money,
                money_here: &money_here,
                companies: &companies,
                province,
                plain_continuation,
            };
            collect_projects(&sentence, &cues, &mut last_company, &mut out.projects);
        }

        // Carry state to the next sentence.
        if !headline {
            if let Some(&(_, p)) = periods.last() {
                carried = Some(p);
            } else if let Some(p) = ytd_period {
                carried = Some(p);
            }
            previous_stock_end = stock_end;
            let foreign = cues.any(s_start, s_end, Cue::Foreign);
            let domestic = cues.any(s_start, s_end, Cue::Domestic);
            previous_sentence_scope = match (foreign, domestic) {
                (true, false) => Some((paragraph, Scope::Fdi)),
                (false, true) => Some((paragraph, Scope::Ddi)),
                _ => None,
            };
            let count_readings: Vec<(CountKind, Scope, bool)> = figures
                .iter()
                .zip(readings.iter())
                .filter_map(|(f, r)| match f.what {
                    FigureRef::Count(ci) => Some((count_kinds[ci], r.scope, r.scope_explicit)),
                    FigureRef::Money(_) => None,
                })
                .collect();
            previous_counts = count_readings;
        }
    }
    out
}

type StatKey = (
    &'static str,
    Metric,
    Option<String>,
    Option<NaiveDate>,
    Option<NaiveDate>,
    Scope,
);

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
