//! The monthly rollups, the repeated projects and the cursor, read from one
//! snapshot, as the in-memory cube loads them.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sqlx::PgPool;
use tokio_stream::StreamExt;

use super::{Result, batches::RepeatRow};

/// One monthly rollup row of a projection the cube keeps.
#[derive(Debug, sqlx::FromRow)]
pub struct MonthlyRow {
    /// The projection (`province`, `zone`, `country` or `sector`).
    pub projection: String,
    /// The month's first day.
    pub period: NaiveDate,
    /// Event kind.
    pub kind: String,
    /// `fdi` or `ddi`.
    pub scope: String,
    /// `reported` or `estimated`.
    pub status: String,
    /// Today's province.
    pub current_province: String,
    /// The province as recorded ("" in the zone projection).
    pub province: String,
    /// The projection's own dimension (zone, country, sector; "" for provinces).
    pub dimension: String,
    /// Original currency or "".
    pub currency: String,
    /// Events.
    pub events: i64,
    /// Amount in the original currency.
    pub amount: Decimal,
    /// Amount in USD.
    pub amount_usd: Decimal,
    /// Amount in VND.
    pub amount_vnd: Decimal,
}

/// What a snapshot holds besides the monthly rows.
#[derive(Debug)]
pub struct Snapshot {
    /// The cursor the rows reflect.
    pub sequence: i64,
    /// Every event of repeated projects.
    pub repeats: Vec<RepeatRow>,
}

/// Streams the monthly rows of `projections` to `each`, then reads the
/// repeats, all from one read-only snapshot that also reads the cursor.
///
/// # Errors
/// When the database fails.
pub async fn load(pool: &PgPool, projections: &[&str], mut each: impl FnMut(MonthlyRow)) -> Result<Snapshot> {
    let mut tx = pool.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .execute(&mut *tx)
        .await?;
    let (sequence,): (i64,) = sqlx::query_as("SELECT last_sequence FROM consumer WHERE id = 1")
        .fetch_one(&mut *tx)
        .await?;
    {
        let mut rows = sqlx::query_as::<_, MonthlyRow>(
            "SELECT projection, period, kind, scope, status, current_province, province,
                    CASE projection WHEN 'zone' THEN zone WHEN 'country' THEN country
                                    WHEN 'sector' THEN sector ELSE '' END AS dimension,
                    currency, events, amount, amount_usd, amount_vnd
             FROM rollup WHERE projection = ANY($1)",
        )
        .bind(projections)
        .fetch(&mut *tx);
        while let Some(row) = rows.next().await {
            each(row?);
        }
    }
    let repeats = sqlx::query_as(
        "SELECT kind, project_ref, event_date, scope, status, province, current_province, zone, country, sector
         FROM repeats",
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Snapshot { sequence, repeats })
}
