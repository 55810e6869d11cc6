//! GetTargetProgress and Reconcile.

use chrono::NaiveDate;
use fdi_kit::{
    figures,
    money::{from_money, to_money},
    period::{Span, date_from_proto, date_to_proto},
    status::invalid_argument,
    telemetry::db_span,
};
use fdi_proto::{
    analytics as pb,
    common::{Figure, Scope},
};
use rust_decimal::{Decimal, prelude::ToPrimitive};
use tracing::Instrument;

use super::{State, reporting_currency, scope_filter, span};
use crate::{
    error::Result,
    query::{Filter, GroupBy, figure_value},
};

/// A statistic a document reported.
#[derive(sqlx::FromRow)]
struct ReportedRow {
    metric: String,
    amount: Option<Decimal>,
    currency: Option<String>,
    count: Option<i64>,
    document_id: i64,
}

#[derive(sqlx::FromRow)]
struct TargetRow {
    amount: Option<Decimal>,
    currency: Option<String>,
    count: Option<i64>,
}

/// Today in Vietnam (UTC+7).
fn today() -> NaiveDate {
    (chrono::Utc::now() + chrono::Duration::hours(7)).date_naive()
}

pub(super) async fn target_progress(
    state: &State,
    request: &pb::GetTargetProgressRequest,
) -> Result<pb::TargetProgress> {
    if !(1988..=2100).contains(&request.year) {
        return Err(invalid_argument("year", "is required: a year between 1988 and 2100").into());
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
    let year_start = NaiveDate::from_ymd_opt(request.year, 1, 1).unwrap_or(NaiveDate::MIN);
    let year_end = NaiveDate::from_ymd_opt(request.year, 12, 31).unwrap_or(NaiveDate::MAX);
    let as_of = match request.as_of.as_ref() {
        Some(date) => date_from_proto(date).ok_or_else(|| invalid_argument("as_of", "must be a full valid date"))?,
        None => today().clamp(year_start, year_end),
    };
    if !(year_start..=year_end).contains(&as_of) {
        return Err(invalid_argument("as_of", format!("must fall within {}", request.year)).into());
    }
    let target: Option<TargetRow> = sqlx::query_as(
        "SELECT amount, currency, count FROM ingest.targets
         WHERE province_code = $1 AND year = $2 AND figure = $3 AND scope = $4",
    )
    .bind(&province.code)
    .bind(request.year)
    .bind(figures::name(figure))
    .bind(figures::scope_name(scope))
    .fetch_optional(&state.pool)
    .instrument(db_span("SELECT", "targets"))
    .await?;
    let Some(target) = target else {
        return Err(fdi_kit::status::not_found(
            "target",
            &format!(
                "provinces/{}/targets/{}-{}-{}",
                province.code,
                request.year,
                figures::name(figure).unwrap_or(""),
                figures::scope_name(scope)
            ),
            &[],
        )
        .into());
    };
    let currency = if request.currency_code.trim().is_empty() {
        target.currency.clone().unwrap_or_else(|| "USD".to_owned())
    } else {
        reporting_currency(&request.currency_code, "currency_code")?
    };
    if figures::is_money(figure) && !matches!(currency.as_str(), "USD" | "VND") {
        return Err(invalid_argument(
            "currency_code",
            "the target is not in USD or VND: say currency_code USD or VND",
        )
        .into());
    }
    // A target of a pre-2025 unit counts what was recorded under it; of a current one, today's boundaries.
    let filter = if province.code == province.current {
        Filter {
            current_provinces: vec![province.code.clone()],
            scope: scope_filter(scope.into())?,
            ..Filter::default()
        }
    } else {
        Filter {
            recorded_provinces: vec![province.code.clone()],
            scope: scope_filter(scope.into())?,
            ..Filter::default()
        }
    };
    let (grouped, _) = state
        .sums(
            GroupBy::Nothing,
            Span {
                start: year_start,
                end: as_of,
            },
            &filter,
        )
        .await?;
    let empty = Default::default();
    let achieved = figure_value(figure, grouped.get("").unwrap_or(&empty), &currency);

    let target_number = match (target.amount, target.count) {
        (Some(amount), _) => {
            if target.currency.as_deref() != Some(currency.as_str()) {
                return Err(invalid_argument(
                    "currency_code",
                    format!(
                        "the target is in {}; ask in that currency",
                        target.currency.unwrap_or_default()
                    ),
                )
                .into());
            }
            amount
        }
        (None, Some(count)) => Decimal::from(count),
        (None, None) => Decimal::ZERO,
    };
    let achieved_number = match &achieved.converted {
        Some(money) => from_money(money).unwrap_or_default(),
        None => Decimal::from(achieved.count),
    };
    let days_in_year = (year_end - year_start).num_days() + 1;
    let days_elapsed = (as_of - year_start).num_days() + 1;
    let projected_number =
        (achieved_number * Decimal::from(days_in_year) / Decimal::from(days_elapsed.max(1))).round_dp(6);
    let value_of = |number: Decimal| {
        if figures::is_money(figure) {
            pb::FigureValue {
                figure: figure.into(),
                count: 0,
                converted: Some(to_money(number, &currency)),
                by_currency: Vec::new(),
            }
        } else {
            pb::FigureValue {
                figure: figure.into(),
                count: number.round().to_i64().unwrap_or_default(),
                converted: None,
                by_currency: Vec::new(),
            }
        }
    };
    let ratio = |part: Decimal| {
        if target_number.is_zero() {
            0.0
        } else {
            (part / target_number).to_f64().unwrap_or_default()
        }
    };
    Ok(pb::TargetProgress {
        province: format!("provinces/{}", province.code),
        year: request.year,
        figure: figure.into(),
        target: Some(value_of(target_number)),
        fraction: ratio(achieved_number),
        projected_fraction: ratio(projected_number),
        projected_year_end: Some(value_of(projected_number)),
        achieved: Some(achieved),
        as_of: Some(date_to_proto(as_of)),
    })
}

pub(super) async fn reconcile(state: &State, request: &pb::ReconcileRequest) -> Result<pb::Reconciliation> {
    let span = span(request.period.as_ref())?;
    let currency = reporting_currency(&request.currency_code, "currency_code")?;
    let province = state.places.province(&request.province, "province").await?;
    // Reports name provinces as they were: before 2025-07-01 a province meant the pre-merger unit.
    let reform = NaiveDate::from_ymd_opt(2025, 7, 1).unwrap_or(NaiveDate::MAX);
    let filter = if province.code == province.current && span.end >= reform {
        Filter {
            current_provinces: vec![province.code.clone()],
            scope: scope_filter(request.scope)?,
            ..Filter::default()
        }
    } else {
        Filter {
            recorded_provinces: vec![province.code.clone()],
            scope: scope_filter(request.scope)?,
            ..Filter::default()
        }
    };
    let (grouped, _) = state.sums(GroupBy::Nothing, span, &filter).await?;
    let empty = Default::default();
    let kinds = grouped.get("").unwrap_or(&empty);

    // What documents reported for exactly this province, period and scope; the latest document wins.
    let scope_name = filter.scope.unwrap_or("all");
    let reported: Vec<ReportedRow> = sqlx::query_as(
        "SELECT DISTINCT ON (metric) metric, amount, currency, count, document_id FROM ingest.reported_statistics
         WHERE province = $1 AND period_start = $2 AND period_end = $3 AND scope = $4
         ORDER BY metric, document_id DESC",
    )
    .bind(&province.code)
    .bind(span.start)
    .bind(span.end)
    .bind(scope_name)
    .fetch_all(&state.pool)
    .instrument(db_span("SELECT", "reported_statistics"))
    .await?;
    let lines: Vec<pb::ReconciliationLine> = figures::ALL
        .iter()
        .map(|figure| {
            let computed = figure_value(*figure, kinds, &currency);
            let mut line = pb::ReconciliationLine {
                figure: (*figure).into(),
                computed: Some(computed.clone()),
                reported: None,
                sources: Vec::new(),
                gap: None,
                relative_gap: None,
            };
            let Some(report) = reported.iter().find(|r| figures::from_name(&r.metric) == Some(*figure)) else {
                return line;
            };
            line.sources.push(format!("documents/{}", report.document_id));
            let (reported_number, computed_number) = match (report.amount, report.currency.as_deref(), report.count) {
                (Some(amount), Some(code), _) => {
                    line.reported = Some(pb::FigureValue {
                        figure: (*figure).into(),
                        count: 0,
                        converted: Some(to_money(amount, code)),
                        by_currency: vec![to_money(amount, code)],
                    });
                    // The gap is measured in the reported currency when the rollups hold it (USD, VND).
                    let in_reported = matches!(code, "USD" | "VND").then(|| figure_value(*figure, kinds, code));
                    (
                        amount.to_f64(),
                        in_reported
                            .as_ref()
                            .and_then(|v| v.converted.as_ref())
                            .map(fdi_kit::money::money_to_f64),
                    )
                }
                (_, _, Some(count)) => {
                    line.reported = Some(pb::FigureValue {
                        figure: (*figure).into(),
                        count,
                        converted: None,
                        by_currency: Vec::new(),
                    });
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
        })
        .collect();
    let reported_available = !reported.is_empty();
    Ok(pb::Reconciliation {
        province: format!("provinces/{}", province.code),
        period: Some(span.to_proto()),
        lines,
        reported_available,
    })
}
