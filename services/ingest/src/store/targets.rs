//! Province targets: at most one per province, year, figure and scope;
//! set (replacing the one there) and listed.

use fdi_kit::telemetry::db_span;
use rust_decimal::Decimal;
use tracing::Instrument;

use super::{Result, Store};

/// A province's target for one year, figure and scope.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Target {
    /// The province as named when the target was set.
    pub province_code: String,
    /// The calendar year.
    pub year: i32,
    /// The figure's stored name.
    pub figure: String,
    /// `fdi`, `ddi` or `all`.
    pub scope: String,
    /// The amount, for money figures.
    pub amount: Option<Decimal>,
    /// Its ISO 4217 currency (exactly when `amount` is given).
    pub currency: Option<String>,
    /// The count, for count figures.
    pub count: Option<i64>,
    /// Where the target comes from.
    pub source: String,
    /// The key id of whoever set it.
    pub creator: String,
}

const TARGET_COLUMNS: &str = "province_code, year, figure, scope, amount, currency, count, source, creator";

impl Store {
    /// Sets a target, replacing the one for the same province, year, figure
    /// and scope (which then names the new creator).
    ///
    /// # Errors
    /// When the database fails.
    pub async fn set_target(&self, target: &Target) -> Result<Target> {
        Ok(sqlx::query_as(&format!(
            "INSERT INTO targets (province_code, year, figure, scope, amount, currency, count, source, creator)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             ON CONFLICT (province_code, year, figure, scope) DO UPDATE SET
                amount = EXCLUDED.amount, currency = EXCLUDED.currency, count = EXCLUDED.count,
                source = EXCLUDED.source, creator = EXCLUDED.creator, update_time = now()
             RETURNING {TARGET_COLUMNS}"
        ))
        .bind(&target.province_code)
        .bind(target.year)
        .bind(&target.figure)
        .bind(&target.scope)
        .bind(target.amount)
        .bind(&target.currency)
        .bind(target.count)
        .bind(&target.source)
        .bind(&target.creator)
        .fetch_one(&self.pool)
        .instrument(db_span("INSERT", "targets"))
        .await?)
    }

    /// Up to `limit` targets (of `province` and `year` when given) after the
    /// key `after` (`province|year|figure|scope`), by that key.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn targets(
        &self,
        province: Option<&str>,
        year: Option<i32>,
        after: &str,
        limit: i64,
    ) -> Result<Vec<Target>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {TARGET_COLUMNS} FROM targets
             WHERE ($1::text IS NULL OR province_code = $1) AND ($2::int IS NULL OR year = $2)
               AND (province_code || '|' || year || '|' || figure || '|' || scope) > $3
             ORDER BY province_code || '|' || year || '|' || figure || '|' || scope LIMIT $4"
        ))
        .bind(province)
        .bind(year)
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .instrument(db_span("SELECT", "targets"))
        .await?)
    }
}

impl Target {
    /// The target's key in listing order (`province|year|figure|scope`).
    #[must_use]
    pub fn key(&self) -> String {
        format!("{}|{}|{}|{}", self.province_code, self.year, self.figure, self.scope)
    }
}
