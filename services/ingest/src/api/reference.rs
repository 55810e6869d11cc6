//! Exchange rates and province targets.

use fdi_kit::{
    figures,
    money::{from_money, is_currency_code, to_money},
    paging::{PageToken, fingerprint, page_size},
    status::{Violations, check_text, invalid_argument},
    telemetry::db_span,
};
use fdi_proto::{
    common::{Figure, Scope},
    ingest as pb,
};
use rust_decimal::Decimal;
use tracing::Instrument;

use super::province_filter;
use crate::{error::Result, pipeline::Pipeline, rates::is_valid_period, validate::parse_amount};

const MAX_RATES_PER_CALL: usize = 10_000;

pub(super) async fn create_rates(
    pipeline: &Pipeline,
    request: &pb::CreateExchangeRatesRequest,
) -> Result<pb::CreateExchangeRatesResponse> {
    if request.rates.is_empty() || request.rates.len() > MAX_RATES_PER_CALL {
        return Err(invalid_argument("rates", format!("must hold 1 to {MAX_RATES_PER_CALL} rates")).into());
    }
    let mut violations = Violations::new();
    let (mut currencies, mut periods, mut values, mut sources) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (i, rate) in request.rates.iter().enumerate() {
        let currency = rate.currency_code.trim().to_ascii_uppercase();
        if !is_currency_code(&currency) || currency == "VND" {
            violations.add(
                format!("rates[{i}].currency_code"),
                "must be an ISO 4217 code other than VND (VND is 1)",
            );
        }
        if !is_valid_period(rate.period.trim()) {
            violations.add(
                format!("rates[{i}].period"),
                "must be YYYY-MM (monthly) or YYYY (annual)",
            );
        }
        match parse_amount(rate.vnd_per_unit.trim()) {
            Some(value) if value > Decimal::ZERO => values.push(value),
            _ => violations.add(
                format!("rates[{i}].vnd_per_unit"),
                "must be a positive decimal, e.g. 25413.4",
            ),
        }
        check_text(
            &mut violations,
            &format!("rates[{i}].source"),
            &rate.source,
            2000,
            false,
        );
        currencies.push(currency);
        periods.push(rate.period.trim().to_owned());
        sources.push(rate.source.trim().to_owned());
    }
    violations.into_result()?;
    let written = sqlx::query(
        "INSERT INTO exchange_rates (currency, period, vnd_per_unit, source)
         SELECT DISTINCT ON (c, p) c, p, v, s FROM unnest($1::text[], $2::text[], $3::numeric[], $4::text[]) AS t(c, p, v, s)
         ON CONFLICT (currency, period) DO UPDATE SET vnd_per_unit = EXCLUDED.vnd_per_unit, source = EXCLUDED.source",
    )
    .bind(&currencies)
    .bind(&periods)
    .bind(&values)
    .bind(&sources)
    .execute(&pipeline.pool)
    .instrument(db_span("INSERT", "exchange_rates"))
    .await?
    .rows_affected();
    pipeline.rates.reload(&pipeline.pool).await?;
    Ok(pb::CreateExchangeRatesResponse {
        written: i32::try_from(written).unwrap_or(i32::MAX),
    })
}

pub(super) async fn list_rates(
    pipeline: &Pipeline,
    request: &pb::ListExchangeRatesRequest,
) -> Result<pb::ListExchangeRatesResponse> {
    let size = page_size(request.page_size, 100, 1000)?;
    let currency = request.currency_code.trim().to_ascii_uppercase();
    if !currency.is_empty() && !is_currency_code(&currency) {
        return Err(invalid_argument("currency_code", "must be an ISO 4217 code").into());
    }
    let query = fingerprint(&["rates", &currency]);
    let after = PageToken::decode(&request.page_token, query)?
        .map(|t| t.after)
        .unwrap_or_default();
    let (after_currency, after_period) = after.split_once('|').unwrap_or(("", ""));
    let mut rows: Vec<(String, String, Decimal, String)> = sqlx::query_as(
        "SELECT currency, period, vnd_per_unit, source FROM exchange_rates
         WHERE ($1 = '' OR currency = $1) AND (currency, period) > ($2, $3)
         ORDER BY currency, period LIMIT $4",
    )
    .bind(&currency)
    .bind(after_currency)
    .bind(after_period)
    .bind(i64::try_from(size + 1).unwrap_or(i64::MAX))
    .fetch_all(&pipeline.pool)
    .instrument(db_span("SELECT", "exchange_rates"))
    .await?;
    let next_page_token = if rows.len() > size {
        rows.truncate(size);
        let (c, p, _, _) = &rows[size - 1];
        PageToken::encode(&format!("{c}|{p}"), query)
    } else {
        String::new()
    };
    Ok(pb::ListExchangeRatesResponse {
        rates: rows
            .into_iter()
            .map(|(currency_code, period, value, source)| pb::ExchangeRate {
                currency_code,
                period,
                vnd_per_unit: value.normalize().to_string(),
                source,
            })
            .collect(),
        next_page_token,
    })
}

#[derive(sqlx::FromRow)]
struct TargetRecord {
    province_code: String,
    year: i32,
    figure: String,
    scope: String,
    amount: Option<Decimal>,
    currency: Option<String>,
    count: Option<i64>,
    source: String,
}

impl TargetRecord {
    fn to_proto(&self) -> pb::Target {
        pb::Target {
            name: format!(
                "provinces/{}/targets/{}-{}-{}",
                self.province_code, self.year, self.figure, self.scope
            ),
            province: format!("provinces/{}", self.province_code),
            year: self.year,
            figure: figures::from_name(&self.figure).unwrap_or(Figure::Unspecified).into(),
            scope: figures::scope_from_name(&self.scope).into(),
            amount: self.amount.zip(self.currency.as_deref()).map(|(a, c)| to_money(a, c)),
            count: self.count.unwrap_or_default(),
            source: self.source.clone(),
        }
    }
}

const TARGET_COLUMNS: &str = "province_code, year, figure, scope, amount, currency, count, source";

pub(super) async fn set_target(pipeline: &Pipeline, request: pb::SetTargetRequest) -> Result<pb::Target> {
    let Some(target) = request.target else {
        return Err(invalid_argument("target", "is required").into());
    };
    let mut violations = Violations::new();
    if !(1988..=2100).contains(&target.year) {
        violations.add("target.year", "must be a year between 1988 and 2100");
    }
    let figure = Figure::try_from(target.figure).ok().and_then(figures::name);
    if figure.is_none() {
        violations.add("target.figure", "is required, e.g. FIGURE_TOTAL_CAPITAL");
    }
    let scope = match Scope::try_from(target.scope) {
        Ok(Scope::Unspecified) => "fdi",
        Ok(scope) => figures::scope_name(scope),
        Err(_) => {
            violations.add("target.scope", "is not a scope");
            "fdi"
        }
    };
    let money_figure = Figure::try_from(target.figure).is_ok_and(figures::is_money);
    let amount = target.amount.as_ref().and_then(from_money);
    let currency = target
        .amount
        .as_ref()
        .map(|m| m.currency_code.trim().to_ascii_uppercase());
    if money_figure {
        if amount.is_none_or(|a| a <= Decimal::ZERO) {
            violations.add("target.amount", "is required for a money figure and must be positive");
        }
        if !currency.as_deref().is_some_and(is_currency_code) {
            violations.add("target.amount.currency_code", "must be an ISO 4217 code");
        }
        if target.count != 0 {
            violations.add("target.count", "must be empty for a money figure");
        }
    } else if figure.is_some() {
        if target.count <= 0 {
            violations.add("target.count", "is required for a count figure and must be positive");
        }
        if target.amount.is_some() {
            violations.add("target.amount", "must be empty for a count figure");
        }
    }
    check_text(&mut violations, "target.source", &target.source, 2000, false);
    check_text(&mut violations, "target.province", &target.province, 500, true);
    violations.into_result()?;
    let (province, _) = province_filter(pipeline, &target.province, "target.province").await?;
    let record: TargetRecord = sqlx::query_as(&format!(
        "INSERT INTO targets (province_code, year, figure, scope, amount, currency, count, source)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (province_code, year, figure, scope) DO UPDATE SET
            amount = EXCLUDED.amount, currency = EXCLUDED.currency, count = EXCLUDED.count,
            source = EXCLUDED.source, update_time = now()
         RETURNING {TARGET_COLUMNS}"
    ))
    .bind(&province)
    .bind(target.year)
    .bind(figure)
    .bind(scope)
    .bind(if money_figure { amount } else { None })
    .bind(if money_figure { currency } else { None })
    .bind(if money_figure { None } else { Some(target.count) })
    .bind(target.source.trim())
    .fetch_one(&pipeline.pool)
    .instrument(db_span("INSERT", "targets"))
    .await?;
    Ok(record.to_proto())
}

pub(super) async fn list_targets(
    pipeline: &Pipeline,
    request: &pb::ListTargetsRequest,
) -> Result<pb::ListTargetsResponse> {
    let size = page_size(request.page_size, 100, 1000)?;
    let province = if request.province.trim().is_empty() {
        None
    } else {
        Some(province_filter(pipeline, &request.province, "province").await?.0)
    };
    if request.year != 0 && !(1988..=2100).contains(&request.year) {
        return Err(invalid_argument("year", "must be a year between 1988 and 2100").into());
    }
    let year = (request.year != 0).then_some(request.year);
    let query = fingerprint(&["targets", province.as_deref().unwrap_or(""), &request.year.to_string()]);
    let after = PageToken::decode(&request.page_token, query)?
        .map(|t| t.after)
        .unwrap_or_default();
    let mut rows: Vec<TargetRecord> = sqlx::query_as(&format!(
        "SELECT {TARGET_COLUMNS} FROM targets
         WHERE ($1::text IS NULL OR province_code = $1) AND ($2::int IS NULL OR year = $2)
           AND (province_code || '|' || year || '|' || figure || '|' || scope) > $3
         ORDER BY province_code || '|' || year || '|' || figure || '|' || scope LIMIT $4"
    ))
    .bind(&province)
    .bind(year)
    .bind(&after)
    .bind(i64::try_from(size + 1).unwrap_or(i64::MAX))
    .fetch_all(&pipeline.pool)
    .instrument(db_span("SELECT", "targets"))
    .await?;
    let next_page_token = if rows.len() > size {
        rows.truncate(size);
        let r = &rows[size - 1];
        PageToken::encode(
            &format!("{}|{}|{}|{}", r.province_code, r.year, r.figure, r.scope),
            query,
        )
    } else {
        String::new()
    };
    Ok(pb::ListTargetsResponse {
        targets: rows.iter().map(TargetRecord::to_proto).collect(),
        next_page_token,
    })
}
