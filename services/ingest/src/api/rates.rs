//! CreateExchangeRates and ListExchangeRates.

use fdi_kit::{
    access::Caller,
    domain::ReportingCurrency,
    money::is_currency_code,
    status::{Violations, check_text, invalid_argument},
};
use fdi_proto::ingest as pb;
use rust_decimal::Decimal;

use super::PAGE_LIMITS;
use crate::{
    error::Result,
    pipeline::Pipeline,
    rates::is_valid_period,
    store::ExchangeRate,
    validate::{MAX_SOURCE_CHARS, parse_amount},
};

const MAX_RATES_PER_CALL: usize = 10_000;

impl From<ExchangeRate> for pb::ExchangeRate {
    fn from(rate: ExchangeRate) -> Self {
        Self {
            currency_code: rate.currency,
            period: rate.period,
            vnd_per_unit: rate.vnd_per_unit.normalize().to_string(),
            source: rate.source,
            creator: rate.creator,
        }
    }
}

pub(super) async fn create(
    pipeline: &Pipeline,
    caller: &Caller,
    request: pb::CreateExchangeRatesRequest,
) -> Result<pb::CreateExchangeRatesResponse> {
    if request.rates.is_empty() || request.rates.len() > MAX_RATES_PER_CALL {
        return Err(invalid_argument("rates", format!("must hold 1 to {MAX_RATES_PER_CALL} rates")).into());
    }
    let mut violations = Violations::new();
    let rates: Vec<ExchangeRate> = request
        .rates
        .iter()
        .enumerate()
        .map(|(i, rate)| checked_rate(&mut violations, i, rate))
        .collect();
    violations.into_result()?;
    let written = pipeline.store.save_rates(&rates, &caller.key_id).await?;
    pipeline.reload_rates().await?;
    Ok(pb::CreateExchangeRatesResponse {
        written: i32::try_from(written).unwrap_or(i32::MAX),
    })
}

/// Rate `i` of a request, trimmed, its problems added to `violations`.
fn checked_rate(violations: &mut Violations, i: usize, rate: &pb::ExchangeRate) -> ExchangeRate {
    let currency = rate.currency_code.trim().to_ascii_uppercase();
    if !is_currency_code(&currency) || currency == ReportingCurrency::Vnd.as_str() {
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
    let vnd_per_unit = parse_amount(rate.vnd_per_unit.trim()).filter(|value| *value > Decimal::ZERO);
    if vnd_per_unit.is_none() {
        violations.add(
            format!("rates[{i}].vnd_per_unit"),
            "must be a positive decimal, e.g. 25413.4",
        );
    }
    check_text(
        violations,
        &format!("rates[{i}].source"),
        &rate.source,
        MAX_SOURCE_CHARS,
        false,
    );
    ExchangeRate {
        currency,
        period: rate.period.trim().to_owned(),
        vnd_per_unit: vnd_per_unit.unwrap_or_default(),
        source: rate.source.trim().to_owned(),
        // Named by the store from the caller's key.
        creator: String::new(),
    }
}

pub(super) async fn list(
    pipeline: &Pipeline,
    request: pb::ListExchangeRatesRequest,
) -> Result<pb::ListExchangeRatesResponse> {
    let paging = PAGE_LIMITS.check(request.page_size, &request.page_token)?;
    let currency = request.currency_code.trim().to_ascii_uppercase();
    if !currency.is_empty() && !is_currency_code(&currency) {
        return Err(invalid_argument("currency_code", "must be an ISO 4217 code").into());
    }
    let page = paging.for_query(&["rates", &currency])?;
    let after = page.after.as_deref().unwrap_or_default();
    let after = after.split_once('|').unwrap_or(("", ""));
    let rates = pipeline
        .store
        .exchange_rates(&currency, after, page.fetch_limit())
        .await?;
    let (rates, next_page_token) = page.finish(rates, |r| format!("{}|{}", r.currency, r.period));
    Ok(pb::ListExchangeRatesResponse {
        rates: rates.into_iter().map(pb::ExchangeRate::from).collect(),
        next_page_token,
    })
}
