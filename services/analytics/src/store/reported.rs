//! Figures that news documents reported, read from ingest's feed (for reconciliation).

use fdi_kit::{feed, period::Span, telemetry::db_span};
use rust_decimal::Decimal;
use sqlx::PgPool;
use tracing::Instrument;

use super::Result;

/// A figure a document reported.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Reported {
    /// What was reported: a figure's stored name, or another metric.
    pub metric: String,
    /// The amount, for money metrics.
    pub amount: Option<Decimal>,
    /// The amount's currency.
    pub currency: Option<String>,
    /// The count, for project metrics.
    pub count: Option<i64>,
    /// The document it comes from.
    pub document_id: i64,
}

/// What documents reported for exactly this province (as named then),
/// period and scope (`fdi`, `ddi` or `all`): per metric, the latest document's figure.
///
/// # Errors
/// When the database fails.
pub async fn latest(pool: &PgPool, province: &str, span: Span, scope: &str) -> Result<Vec<Reported>> {
    let reported = sqlx::query_as(&format!(
        "SELECT DISTINCT ON (metric) metric, amount, currency, count, document_id FROM {statistics}
         WHERE province = $1 AND period_start = $2 AND period_end = $3 AND scope = $4
         ORDER BY metric, document_id DESC",
        statistics = feed::REPORTED_STATISTICS
    ))
    .bind(province)
    .bind(span.start)
    .bind(span.end)
    .bind(scope)
    .fetch_all(pool)
    .instrument(db_span("SELECT", "reported_statistics"))
    .await?;
    Ok(reported)
}
