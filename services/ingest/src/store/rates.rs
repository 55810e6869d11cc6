//! Exchange rates: dong per unit of a currency by month (`YYYY-MM`) or
//! year (`YYYY`), seeded with the shipped series, written by operators,
//! listed, and read whole into the in-memory table of the write path.

use fdi_kit::telemetry::db_span;
use rust_decimal::Decimal;
use tracing::Instrument;

use super::{Result, Store};

/// One rate.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ExchangeRate {
    /// ISO 4217 code.
    pub currency: String,
    /// `YYYY-MM` or `YYYY`.
    pub period: String,
    /// Dong per unit.
    pub vnd_per_unit: Decimal,
    /// Where the rate comes from.
    pub source: String,
    /// The key id of whoever last wrote it (read back only; a write names its creator separately).
    #[sqlx(default)]
    pub creator: String,
}

/// Inserts rates given as arrays, recorded as made by `$5`; the first of a (currency, period) given twice wins.
const INSERT_RATES: &str = "INSERT INTO exchange_rates (currency, period, vnd_per_unit, source, creator)
     SELECT DISTINCT ON (c, p) c, p, v, s, $5 FROM unnest($1::text[], $2::text[], $3::numeric[], $4::text[]) AS t(c, p, v, s)";

/// Who the rates seeded from the shipped series are recorded as made by.
pub const SHIPPED: &str = "shipped";

impl Store {
    /// Writes rates that are not there yet (a rate present is kept: an
    /// operator's correction wins over a shipped value).
    ///
    /// # Errors
    /// When the database fails.
    pub async fn seed_rates(&self, rates: &[ExchangeRate]) -> Result<()> {
        self.insert_rates(rates, "ON CONFLICT DO NOTHING", SHIPPED).await?;
        Ok(())
    }

    /// Writes rates for the key `creator`, replacing those present (which
    /// then name it as their creator); returns how many were written.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn save_rates(&self, rates: &[ExchangeRate], creator: &str) -> Result<u64> {
        self.insert_rates(
            rates,
            "ON CONFLICT (currency, period) DO UPDATE SET vnd_per_unit = EXCLUDED.vnd_per_unit, source = EXCLUDED.source,
                 creator = EXCLUDED.creator",
            creator,
        )
        .await
    }

    async fn insert_rates(&self, rates: &[ExchangeRate], on_conflict: &str, creator: &str) -> Result<u64> {
        let currencies: Vec<&str> = rates.iter().map(|r| r.currency.as_str()).collect();
        let periods: Vec<&str> = rates.iter().map(|r| r.period.as_str()).collect();
        let values: Vec<Decimal> = rates.iter().map(|r| r.vnd_per_unit).collect();
        let sources: Vec<&str> = rates.iter().map(|r| r.source.as_str()).collect();
        Ok(sqlx::query(&format!("{INSERT_RATES} {on_conflict}"))
            .bind(currencies)
            .bind(periods)
            .bind(values)
            .bind(sources)
            .bind(creator)
            .execute(&self.pool)
            .instrument(db_span("INSERT", "exchange_rates"))
            .await?
            .rows_affected())
    }

    /// Every rate as (currency, period, dong per unit). Not traced, as the
    /// write path's table reloads it on a timer.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn rate_table(&self) -> Result<Vec<(String, String, Decimal)>> {
        Ok(
            sqlx::query_as("SELECT currency, period, vnd_per_unit FROM exchange_rates")
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// Up to `limit` rates (of `currency`, unless empty) after (currency,
    /// period) `after`, by currency and period.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn exchange_rates(&self, currency: &str, after: (&str, &str), limit: i64) -> Result<Vec<ExchangeRate>> {
        Ok(sqlx::query_as(
            "SELECT currency, period, vnd_per_unit, source, creator FROM exchange_rates
             WHERE ($1 = '' OR currency = $1) AND (currency, period) > ($2, $3)
             ORDER BY currency, period LIMIT $4",
        )
        .bind(currency)
        .bind(after.0)
        .bind(after.1)
        .bind(limit)
        .fetch_all(&self.pool)
        .instrument(db_span("SELECT", "exchange_rates"))
        .await?)
    }
}
