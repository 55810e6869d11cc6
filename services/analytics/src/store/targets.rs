//! Province targets, read from ingest's feed.

use fdi_kit::{
    domain::{ReportingCurrency, Scope},
    feed, figures,
    telemetry::db_span,
};
use fdi_proto::common::Figure;
use rust_decimal::Decimal;
use sqlx::PgPool;
use tracing::Instrument;

use super::Result;

/// What a target asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetValue {
    /// An amount of money, in the target's currency.
    Money {
        /// The amount.
        amount: Decimal,
        /// Its ISO 4217 code, as set.
        currency: String,
    },
    /// A number of projects (0 when the target holds neither).
    Count(i64),
}

/// The target of `province` for `year`, `figure` and `scope` (stored names), when one is set.
///
/// # Errors
/// When the database fails.
pub async fn target(
    pool: &PgPool,
    province: &str,
    year: i32,
    figure: Figure,
    scope: &str,
) -> Result<Option<TargetValue>> {
    let row: Option<(Option<Decimal>, Option<String>, Option<i64>)> = sqlx::query_as(&format!(
        "SELECT amount, currency, count FROM {targets}
         WHERE province_code = $1 AND year = $2 AND figure = $3 AND scope = $4",
        targets = feed::TARGETS
    ))
    .bind(province)
    .bind(year)
    .bind(figures::name(figure))
    .bind(scope)
    .fetch_optional(pool)
    .instrument(db_span("SELECT", "targets"))
    .await?;
    Ok(row.map(|(amount, currency, count)| match (amount, currency) {
        (Some(amount), Some(currency)) => TargetValue::Money { amount, currency },
        _ => TargetValue::Count(count.unwrap_or_default()),
    }))
}

/// A money target in a reporting currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoneyTarget {
    /// Foreign or domestic; `None` for all investment.
    pub scope: Option<Scope>,
    /// The amount.
    pub amount: Decimal,
    /// Its currency.
    pub currency: ReportingCurrency,
}

/// The targets of `province` for `year` on `figure` set in USD or VND, every scope.
///
/// # Errors
/// When the database fails.
pub async fn money_targets(pool: &PgPool, province: &str, year: i32, figure: Figure) -> Result<Vec<MoneyTarget>> {
    let currencies = ReportingCurrency::ALL.iter().map(|c| c.as_str()).collect::<Vec<_>>();
    let rows: Vec<(String, Decimal, String)> = sqlx::query_as(&format!(
        "SELECT scope, amount, currency FROM {targets}
         WHERE province_code = $1 AND year = $2 AND figure = $3 AND currency = ANY($4)",
        targets = feed::TARGETS
    ))
    .bind(province)
    .bind(year)
    .bind(figures::name(figure))
    .bind(&currencies)
    .fetch_all(pool)
    .instrument(db_span("SELECT", "targets"))
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(scope, amount, currency)| {
            Some(MoneyTarget {
                scope: Scope::parse(&scope),
                amount,
                currency: ReportingCurrency::parse(&currency)?,
            })
        })
        .collect())
}
