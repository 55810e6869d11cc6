//! GetTargetProgress and Reconcile.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use fdi_kit::{
    domain::{self, FIRST_YEAR, LAST_YEAR, MERGER_DATE, ReportingCurrency},
    figures,
    money::{from_money, money_to_f64, to_money},
    period::{Span, date_from_proto, date_to_proto},
    status::invalid_argument,
};
use fdi_proto::{
    analytics as pb,
    common::{Figure, Scope},
};
use rust_decimal::{Decimal, prelude::ToPrimitive};

use super::{State, reporting_currency, scope_filter, span};
use crate::{
    error::{Error, Result},
    places::ProvinceRef,
    query::{Filter, GroupBy, KindSums, count_value, figure_value, money_value},
    store::{self, reported::Reported, targets::TargetValue},
};

/// A GetTargetProgress request, checked.
struct ProgressQuestion {
    province: ProvinceRef,
    year: i32,
    figure: Figure,
    scope: Scope,
    /// The year's first and last days.
    year_span: Span,
    /// The day the achievement is counted to.
    as_of: NaiveDate,
}

pub(super) async fn target_progress(
    state: &State,
    request: &pb::GetTargetProgressRequest,
) -> Result<pb::TargetProgress> {
    let question = progress_question(state, request).await?;
    let ProgressQuestion {
        province,
        year,
        figure,
        scope,
        ..
    } = &question;
    let scope_name = figures::scope_name(*scope);
    let target = store::targets::target(&state.pool, province.code.as_str(), *year, *figure, scope_name)
        .await?
        .ok_or_else(|| {
            let figure_name = figures::name(*figure).unwrap_or("");
            Error::NoTarget(format!(
                "{}/targets/{year}-{figure_name}-{scope_name}",
                province.code.resource_name()
            ))
        })?;
    let currency = progress_currency(&request.currency_code, &target)?;
    // A target of a pre-2025 unit counts what was recorded under it; of a current one, today's boundaries.
    let mut filter = province_filter(province, true, scope_filter((*scope).into())?);
    filter.include_estimates = request.include_estimates;
    let so_far = Span {
        start: question.year_span.start,
        end: question.as_of,
    };
    let (grouped, _) = state.sums(GroupBy::Nothing, so_far, &filter).await?;
    let achieved = figure_value(*figure, group_sums(&grouped), currency);
    let target_number = target_number(&target, currency)?;
    Ok(progress(&question, achieved, target_number, currency))
}

/// Checks a GetTargetProgress request: the year, figure (total capital by
/// default), scope (foreign by default), province and day.
async fn progress_question(state: &State, request: &pb::GetTargetProgressRequest) -> Result<ProgressQuestion> {
    if !domain::is_valid_year(request.year) {
        return Err(invalid_argument(
            "year",
            format!("is required: a year between {FIRST_YEAR} and {LAST_YEAR}"),
        )
        .into());
    }
    let figure = match Figure::try_from(request.figure) {
        Ok(Figure::Unspecified) => Figure::TotalCapital,
        Ok(figure) => figure,
        Err(_) => return Err(invalid_argument("figure", "is not a figure").into()),
    };
    let scope = match Scope::try_from(request.scope) {
        Ok(Scope::Unspecified) => Scope::Fdi,
        Ok(scope) => scope,
        Err(_) => return Err(invalid_argument("scope", "is not a scope").into()),
    };
    let province = state.places.province(&request.province, "province").await?;
    let year_span = Span {
        start: NaiveDate::from_ymd_opt(request.year, 1, 1).unwrap_or(NaiveDate::MIN),
        end: NaiveDate::from_ymd_opt(request.year, 12, 31).unwrap_or(NaiveDate::MAX),
    };
    let as_of = match request.as_of.as_ref() {
        Some(date) => date_from_proto(date).ok_or_else(|| invalid_argument("as_of", "must be a full valid date"))?,
        None => domain::today_in_vietnam().clamp(year_span.start, year_span.end),
    };
    if !(year_span.start..=year_span.end).contains(&as_of) {
        return Err(invalid_argument("as_of", format!("must fall within {}", request.year)).into());
    }
    Ok(ProgressQuestion {
        province,
        year: request.year,
        figure,
        scope,
        year_span,
        as_of,
    })
}

/// The currency progress is told in: the one asked for, else the target's (USD for a count).
fn progress_currency(requested: &str, target: &TargetValue) -> Result<ReportingCurrency> {
    if !requested.trim().is_empty() {
        return reporting_currency(requested, "currency_code");
    }
    let code = match target {
        TargetValue::Money { currency, .. } => currency.as_str(),
        TargetValue::Count(_) => ReportingCurrency::default().as_str(),
    };
    ReportingCurrency::parse(code).ok_or_else(|| {
        invalid_argument(
            "currency_code",
            "the target is not in USD or VND: say currency_code USD or VND",
        )
        .into()
    })
}

/// The target as a number in `currency` (a count as is).
fn target_number(target: &TargetValue, currency: ReportingCurrency) -> Result<Decimal> {
    match target {
        TargetValue::Money { amount, currency: code } if code == currency.as_str() => Ok(*amount),
        TargetValue::Money { currency: code, .. } => Err(invalid_argument(
            "currency_code",
            format!("the target is in {code}; ask in that currency"),
        )
        .into()),
        TargetValue::Count(count) => Ok(Decimal::from(*count)),
    }
}

/// Progress towards the target: the fractions achieved and projected on a
/// straight line to the year's end.
fn progress(
    question: &ProgressQuestion,
    achieved: pb::FigureValue,
    target_number: Decimal,
    currency: ReportingCurrency,
) -> pb::TargetProgress {
    let figure = question.figure;
    let achieved_number = match &achieved.converted {
        Some(money) => from_money(money).unwrap_or_default(),
        None => Decimal::from(achieved.count),
    };
    let year_start = question.year_span.start;
    let days_in_year = (question.year_span.end - year_start).num_days() + 1;
    let days_elapsed = (question.as_of - year_start).num_days() + 1;
    let projected_number =
        (achieved_number * Decimal::from(days_in_year) / Decimal::from(days_elapsed.max(1))).round_dp(6);
    let value_of = |number: Decimal| {
        if figures::is_money(figure) {
            money_value(figure, to_money(number, currency.as_str()), Vec::new())
        } else {
            count_value(figure, number.round().to_i64().unwrap_or_default())
        }
    };
    let ratio = |part: Decimal| {
        if target_number.is_zero() {
            0.0
        } else {
            (part / target_number).to_f64().unwrap_or_default()
        }
    };
    pb::TargetProgress {
        province: question.province.code.resource_name(),
        year: question.year,
        figure: figure.into(),
        target: Some(value_of(target_number)),
        fraction: ratio(achieved_number),
        projected_fraction: ratio(projected_number),
        projected_year_end: Some(value_of(projected_number)),
        achieved: Some(achieved),
        as_of: Some(date_to_proto(question.as_of)),
    }
}

/// The events of a province: as recorded under it when it is a pre-2025
/// unit, or when `today` is false; else on today's boundaries.
fn province_filter(province: &ProvinceRef, today: bool, scope: Option<&'static str>) -> Filter {
    if today && province.code == province.current {
        Filter {
            current_provinces: vec![province.code.to_string()],
            scope,
            ..Filter::default()
        }
    } else {
        Filter {
            recorded_provinces: vec![province.code.to_string()],
            scope,
            ..Filter::default()
        }
    }
}

/// The sums of the one group of an ungrouped answer.
fn group_sums(grouped: &crate::query::Grouped) -> &BTreeMap<String, KindSums> {
    static EMPTY: BTreeMap<String, KindSums> = BTreeMap::new();
    grouped.get("").unwrap_or(&EMPTY)
}

pub(super) async fn reconcile(state: &State, request: &pb::ReconcileRequest) -> Result<pb::Reconciliation> {
    let span = span(request.period.as_ref())?;
    let currency = reporting_currency(&request.currency_code, "currency_code")?;
    let province = state.places.province(&request.province, "province").await?;
    // Reports name provinces as they were: before the merger a province meant the pre-merger unit.
    // Reported figures are compared with reported events: the filter leaves estimates out.
    let scope = scope_filter(request.scope)?;
    let filter = province_filter(&province, span.end >= MERGER_DATE, scope);
    let (grouped, _) = state.sums(GroupBy::Nothing, span, &filter).await?;
    let kinds = group_sums(&grouped);

    // What documents reported for exactly this province, period and scope; the latest document wins.
    let scope_name = scope.unwrap_or(figures::scope_name(Scope::All));
    let reported = store::reported::latest(&state.pool, province.code.as_str(), span, scope_name).await?;
    let lines = figures::ALL
        .iter()
        .map(|figure| {
            let report = reported.iter().find(|r| figures::from_name(&r.metric) == Some(*figure));
            reconciliation_line(*figure, kinds, currency, report)
        })
        .collect();
    Ok(pb::Reconciliation {
        province: province.code.resource_name(),
        period: Some(span.to_proto()),
        lines,
        reported_available: !reported.is_empty(),
    })
}

/// One figure computed from the rollups beside what a document reported,
/// and the gap between them.
fn reconciliation_line(
    figure: Figure,
    kinds: &BTreeMap<String, KindSums>,
    currency: ReportingCurrency,
    report: Option<&Reported>,
) -> pb::ReconciliationLine {
    let computed = figure_value(figure, kinds, currency);
    let mut line = pb::ReconciliationLine {
        figure: figure.into(),
        computed: Some(computed.clone()),
        reported: None,
        sources: Vec::new(),
        gap: None,
        relative_gap: None,
    };
    let Some(report) = report else {
        return line;
    };
    line.sources.push(format!("documents/{}", report.document_id));
    let (reported_number, computed_number) = match (report.amount, report.currency.as_deref(), report.count) {
        (Some(amount), Some(code), _) => {
            line.reported = Some(money_value(
                figure,
                to_money(amount, code),
                vec![to_money(amount, code)],
            ));
            // The gap is measured in the reported currency when the rollups hold it (USD, VND).
            let in_reported = ReportingCurrency::parse(code).map(|code| figure_value(figure, kinds, code));
            (
                amount.to_f64(),
                in_reported
                    .as_ref()
                    .and_then(|v| v.converted.as_ref())
                    .map(money_to_f64),
            )
        }
        (_, _, Some(count)) => {
            line.reported = Some(count_value(figure, count));
            #[allow(clippy::cast_precision_loss, reason = "counts far below 2^52")]
            let numbers = (Some(count as f64), Some(computed.count as f64));
            numbers
        }
        _ => (None, None),
    };
    if let (Some(reported_number), Some(computed_number)) = (reported_number, computed_number) {
        let gap = reported_number - computed_number;
        line.gap = Some(gap);
        line.relative_gap = (reported_number != 0.0).then(|| gap / reported_number);
    }
    line
}
