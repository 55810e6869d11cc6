//! GetSummary, GetRanking, GetTimeSeries and GetBreakdown.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use fdi_kit::{domain::ReportingCurrency, figures, paging::PageLimits, period::Span, status::invalid_argument};
use fdi_proto::{
    analytics::{self as pb, Dimension, Granularity},
    common::{Boundaries, Figure},
};

use super::{State, boundaries, place_filter, reporting_currency, scope_filter, span};
use crate::{
    error::Result,
    query::{Filter, GroupBy, Grouped, add_values, as_number, figure_value},
};

fn required_figure(value: i32, field: &str) -> Result<Figure> {
    match Figure::try_from(value) {
        Ok(Figure::Unspecified) | Err(_) => Err(invalid_argument(
            field,
            "is required: one of the FIGURE_* values, e.g. FIGURE_NEW_CAPITAL",
        )
        .into()),
        Ok(figure) => Ok(figure),
    }
}

pub(super) async fn summary(state: &State, request: &pb::GetSummaryRequest) -> Result<pb::Summary> {
    let span = span(request.period.as_ref())?;
    let currency = reporting_currency(&request.currency_code, "currency_code")?;
    let scope = scope_filter(request.scope)?;
    let mut filter = place_filter(
        state,
        &request.provinces,
        &request.zones,
        boundaries(request.boundaries)?,
        scope,
    )
    .await?;
    filter.include_estimates = request.include_estimates;
    let group = if filter.zones.is_empty() {
        GroupBy::Nothing
    } else {
        GroupBy::Zone
    };
    let (grouped, as_of) = state.sums(group, span, &filter).await?;
    let values: Vec<Vec<pb::FigureValue>> = grouped
        .values()
        .map(|kinds| figures::ALL.iter().map(|f| figure_value(*f, kinds, currency)).collect())
        .collect();
    let figures_out = figures::ALL
        .iter()
        .enumerate()
        .map(|(i, figure)| add_values(*figure, &values.iter().map(|v| &v[i]).collect::<Vec<_>>(), currency))
        .collect();
    let provinces = filter
        .current_provinces
        .iter()
        .chain(&filter.recorded_provinces)
        .map(|code| format!("provinces/{code}"))
        .collect();
    Ok(pb::Summary {
        period: Some(span.to_proto()),
        provinces,
        scope: request.scope,
        currency_code: currency.as_str().to_owned(),
        figures: figures_out,
        as_of_sequence: as_of,
    })
}

/// What a dimension groups by, under the request's boundaries.
fn group_of(dimension: Dimension, boundaries: Boundaries) -> Result<GroupBy> {
    Ok(match dimension {
        Dimension::Unspecified | Dimension::Province => {
            if boundaries == Boundaries::AsRecorded {
                GroupBy::RecordedProvince
            } else {
                GroupBy::CurrentProvince
            }
        }
        Dimension::Zone => GroupBy::Zone,
        Dimension::HomeCountry => GroupBy::Country,
        Dimension::Investor => GroupBy::Investor,
        Dimension::Sector => GroupBy::Sector,
        Dimension::Kind => GroupBy::Kind,
    })
}

/// Ranked entries (largest first, ties share a rank) and their total.
async fn ranked(
    state: &State,
    figure: Figure,
    group: GroupBy,
    span: Span,
    filter: &Filter,
    currency: ReportingCurrency,
) -> Result<(Vec<pb::RankedEntry>, pb::FigureValue)> {
    let (grouped, _) = state.sums(group, span, filter).await?;
    let mut values: Vec<(String, pb::FigureValue)> = grouped
        .into_iter()
        .filter(|(key, _)| !key.is_empty() && key != "0")
        .map(|(key, kinds)| {
            let value = figure_value(figure, &kinds, currency);
            (key, value)
        })
        // Entities with events of other kinds only have nothing to rank.
        .filter(|(_, value)| as_number(value) != 0.0)
        .collect();
    let total = add_values(figure, &values.iter().map(|(_, v)| v).collect::<Vec<_>>(), currency);
    let total_number = as_number(&total);
    values.sort_by(|a, b| as_number(&b.1).total_cmp(&as_number(&a.1)).then_with(|| a.0.cmp(&b.0)));
    let mut entries = Vec::with_capacity(values.len());
    let mut rank = 0;
    let mut previous: Option<f64> = None;
    for (i, (key, value)) in values.into_iter().enumerate() {
        let number = as_number(&value);
        if previous != Some(number) {
            rank = i32::try_from(i + 1).unwrap_or(i32::MAX);
            previous = Some(number);
        }
        let (key, display_name) = match group {
            GroupBy::CurrentProvince | GroupBy::RecordedProvince => {
                (format!("provinces/{key}"), state.places.display_name(&key).await)
            }
            GroupBy::Zone => (format!("zones/{key}"), key),
            GroupBy::Investor => (format!("investors/{key}"), key),
            _ => (key.clone(), key),
        };
        entries.push(pb::RankedEntry {
            rank,
            key,
            display_name,
            share: if total_number == 0.0 {
                0.0
            } else {
                number / total_number
            },
            value: Some(value),
        });
    }
    Ok((entries, total))
}

/// Page sizes of a ranking.
const RANKING_PAGES: PageLimits = PageLimits { default: 20, max: 100 };

pub(super) async fn ranking(state: &State, request: &pb::GetRankingRequest) -> Result<pb::Ranking> {
    let figure = required_figure(request.figure, "figure")?;
    let span = span(request.period.as_ref())?;
    let currency = reporting_currency(&request.currency_code, "currency_code")?;
    let paging = RANKING_PAGES.check(request.page_size, &request.page_token)?;
    let dimension = Dimension::try_from(request.dimension)
        .map_err(|_| invalid_argument("dimension", format!("{} is not a dimension", request.dimension)))?;
    let boundaries = boundaries(request.boundaries)?;
    let group = group_of(dimension, boundaries)?;
    let filter = Filter {
        scope: scope_filter(request.scope)?,
        include_estimates: request.include_estimates,
        ..Filter::default()
    };
    let page = paging.for_query(&[
        "ranking",
        &request.dimension.to_string(),
        &request.figure.to_string(),
        &format!("{}..{}", span.start, span.end),
        &request.scope.to_string(),
        currency.as_str(),
        &request.boundaries.to_string(),
    ])?;
    let (entries, total) = ranked(state, figure, group, span, &filter, currency).await?;
    let total_size = i32::try_from(entries.len()).unwrap_or(i32::MAX);
    let (entries, next_page_token) = page.slice(entries)?;
    Ok(pb::Ranking {
        period: Some(span.to_proto()),
        entries,
        total: Some(total),
        next_page_token,
        total_size,
    })
}

pub(super) async fn breakdown(state: &State, request: &pb::GetBreakdownRequest) -> Result<pb::Breakdown> {
    let figure = required_figure(request.figure, "figure")?;
    let span = span(request.period.as_ref())?;
    let currency = reporting_currency(&request.currency_code, "currency_code")?;
    let limit = match request.limit {
        0 => 20,
        n @ 1..=100 => usize::try_from(n).unwrap_or(20),
        n => return Err(invalid_argument("limit", format!("is {n}; it must be between 1 and 100")).into()),
    };
    let dimension = match Dimension::try_from(request.by) {
        Ok(Dimension::Unspecified) | Err(_) => {
            return Err(invalid_argument(
                "by",
                "is required: DIMENSION_HOME_COUNTRY, _SECTOR, _ZONE, _INVESTOR, _KIND or _PROVINCE",
            )
            .into());
        }
        Ok(dimension) => dimension,
    };
    let scope = scope_filter(request.scope)?;
    let mut filter = place_filter(state, &request.provinces, &[], Boundaries::Current, scope).await?;
    filter.include_estimates = request.include_estimates;
    let (mut entries, total) = ranked(
        state,
        figure,
        group_of(dimension, Boundaries::Current)?,
        span,
        &filter,
        currency,
    )
    .await?;
    if entries.len() > limit {
        let rest: Vec<pb::RankedEntry> = entries.split_off(limit);
        let other = add_values(
            figure,
            &rest.iter().filter_map(|e| e.value.as_ref()).collect::<Vec<_>>(),
            currency,
        );
        entries.push(pb::RankedEntry {
            rank: i32::try_from(limit + 1).unwrap_or(i32::MAX),
            key: "other".into(),
            display_name: format!("{} others", rest.len()),
            share: rest.iter().map(|e| e.share).sum(),
            value: Some(other),
        });
    }
    Ok(pb::Breakdown {
        period: Some(span.to_proto()),
        entries,
        total: Some(total),
    })
}

/// What a time series of `granularity` groups by.
fn bucket_group(granularity: Granularity) -> GroupBy {
    match granularity {
        Granularity::Year => GroupBy::Year,
        Granularity::Quarter => GroupBy::Quarter,
        Granularity::Month | Granularity::Unspecified => GroupBy::Month,
    }
}

/// The bucket of `granularity` named by `label` (`YYYY-MM`, `YYYY-Qn` or
/// `YYYY`, as the sums are grouped): its label, first and last days.
fn bucket_of(label: &str, granularity: Granularity) -> Option<(String, NaiveDate, NaiveDate)> {
    let year: i32 = label.get(..4)?.parse().ok()?;
    let month_number: u32 = match label.get(5..) {
        None | Some("") => 1,
        Some(quarter) if quarter.starts_with('Q') => quarter.get(1..)?.parse::<u32>().ok()?.checked_sub(1)? * 3 + 1,
        Some(month) => month.parse().ok()?,
    };
    let (first, last, label) = match granularity {
        Granularity::Year => (1, 12, format!("{year}")),
        Granularity::Quarter => {
            let quarter = (month_number - 1) / 3 + 1;
            (quarter * 3 - 2, quarter * 3, format!("{year}-Q{quarter}"))
        }
        Granularity::Month | Granularity::Unspecified => {
            (month_number, month_number, format!("{year}-{month_number:02}"))
        }
    };
    let start = NaiveDate::from_ymd_opt(year, first, 1)?;
    let end = if last == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(year, last + 1, 1)
    }?
    .pred_opt()?;
    Some((label, start, end))
}

/// One bucket of a time series: its label, its last day and its value.
type Bucket = (String, NaiveDate, pb::FigureValue);

pub(super) async fn time_series(state: &State, request: &pb::GetTimeSeriesRequest) -> Result<pb::TimeSeries> {
    let figure = required_figure(request.figure, "figure")?;
    let span = span(request.period.as_ref())?;
    if span.end.year() - span.start.year() > 50 {
        return Err(invalid_argument("period", "spans more than 50 years").into());
    }
    let granularity = Granularity::try_from(request.granularity)
        .map_err(|_| invalid_argument("granularity", format!("{} is not a granularity", request.granularity)))?;
    let currency = reporting_currency(&request.currency_code, "currency_code")?;
    let scope = scope_filter(request.scope)?;
    let mut filter = place_filter(state, &request.provinces, &[], boundaries(request.boundaries)?, scope).await?;
    filter.include_estimates = request.include_estimates;
    // A year more at the start, for the first buckets' year-on-year growth.
    let extended = Span {
        start: NaiveDate::from_ymd_opt(span.start.year() - 1, span.start.month(), 1).unwrap_or(span.start),
        end: span.end,
    };
    // Grouped by the bucket itself, so a project with repeated `new` events counts once per bucket.
    let (by_bucket, _) = state.sums(bucket_group(granularity), extended, &filter).await?;
    let totals = bucket_totals(&by_bucket, span, granularity, figure, currency);
    Ok(pb::TimeSeries {
        points: points(&totals, span),
        compound_annual_growth: compound_annual_growth(&totals, span),
    })
}

/// The figure by bucket (keyed by first day), from the sums by bucket; every
/// bucket of the span appears, empty ones with zero.
fn bucket_totals(
    by_bucket: &Grouped,
    span: Span,
    granularity: Granularity,
    figure: Figure,
    currency: ReportingCurrency,
) -> BTreeMap<NaiveDate, Bucket> {
    let mut buckets: BTreeMap<NaiveDate, (String, NaiveDate, Vec<pb::FigureValue>)> = BTreeMap::new();
    for (bucket, kinds) in by_bucket {
        if let Some((label, start, end)) = bucket_of(bucket, granularity) {
            buckets
                .entry(start)
                .or_insert_with(|| (label, end, Vec::new()))
                .2
                .push(figure_value(figure, kinds, currency));
        }
    }
    let mut cursor = span.start;
    while cursor <= span.end {
        let month = format!("{}-{:02}", cursor.year(), cursor.month());
        if let Some((label, start, end)) = bucket_of(&month, granularity) {
            buckets.entry(start).or_insert_with(|| (label, end, Vec::new()));
            cursor = end.succ_opt().unwrap_or(NaiveDate::MAX);
        } else {
            break;
        }
    }
    buckets
        .into_iter()
        .map(|(start, (label, end, values))| {
            let total = add_values(figure, &values.iter().collect::<Vec<_>>(), currency);
            (start, (label, end, total))
        })
        .collect()
}

/// The buckets within the span (cut to it), with year-on-year growth.
fn points(totals: &BTreeMap<NaiveDate, Bucket>, span: Span) -> Vec<pb::TimeSeriesPoint> {
    let number_at = |start: NaiveDate| totals.get(&start).map(|(_, _, v)| as_number(v));
    let mut points = Vec::new();
    for (start, (label, end, value)) in totals {
        if *end < span.start || *start > span.end {
            continue;
        }
        let year_before = NaiveDate::from_ymd_opt(start.year() - 1, start.month(), 1).and_then(number_at);
        let year_on_year = match year_before {
            Some(before) if before != 0.0 => Some(as_number(value) / before - 1.0),
            _ => None,
        };
        points.push(pb::TimeSeriesPoint {
            period: Some(
                Span {
                    start: (*start).max(span.start),
                    end: (*end).min(span.end),
                }
                .to_proto(),
            ),
            label: label.clone(),
            value: Some(value.clone()),
            year_on_year,
        });
    }
    points
}

/// Compound annual growth between the first and last whole years of the span.
fn compound_annual_growth(totals: &BTreeMap<NaiveDate, Bucket>, span: Span) -> Option<f64> {
    let first_year = if span.start.ordinal() == 1 {
        span.start.year()
    } else {
        span.start.year() + 1
    };
    let last_year = if span.end.month() == 12 && span.end.day() == 31 {
        span.end.year()
    } else {
        span.end.year() - 1
    };
    let year_total = |year: i32| -> f64 {
        totals
            .iter()
            .filter(|(start, _)| start.year() == year)
            .map(|(_, (_, _, v))| as_number(v))
            .sum()
    };
    if last_year > first_year {
        let (first, last) = (year_total(first_year), year_total(last_year));
        (first > 0.0 && last > 0.0).then(|| (last / first).powf(1.0 / f64::from(last_year - first_year)) - 1.0)
    } else {
        None
    }
}
