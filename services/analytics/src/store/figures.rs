//! Sums of the rollups for the figures: a period read as whole months
//! (monthly rows) plus the days at its edges (the feed's events), by group,
//! kind and currency, less the repeated projects. The in-memory cube answers the same
//! questions for whole months; this is the path for everything else.

use chrono::NaiveDate;
use fdi_kit::{feed, period::Span, telemetry::db_span};
use rust_decimal::Decimal;
use sqlx::{PgPool, Postgres, postgres::PgArguments, query::QueryAs};
use tracing::Instrument;

use super::Result;
use crate::query::{Filter, GroupBy, Grouped, Windows};

/// A range that matches nothing, for absent windows (dates PostgreSQL can hold).
const NONE: (NaiveDate, NaiveDate) = match (NaiveDate::from_ymd_opt(9999, 12, 31), NaiveDate::from_ymd_opt(1, 1, 1)) {
    (Some(late), Some(early)) => (late, early),
    _ => panic!("valid dates"),
};

#[derive(sqlx::FromRow)]
struct SumRow {
    g: String,
    kind: String,
    currency: String,
    events: i64,
    amount: Decimal,
    usd: Decimal,
    vnd: Decimal,
}

/// Sums the rollups over `span` for the events `filter` selects, by
/// `group`, and the cursor they reflect, from one snapshot.
///
/// # Errors
/// When the database fails.
pub async fn sums(pool: &PgPool, group: GroupBy, span: Span, filter: &Filter) -> Result<(Grouped, i64)> {
    read_sums(pool, group, span, filter)
        .instrument(db_span("SELECT", "rollup"))
        .await
}

async fn read_sums(pool: &PgPool, group: GroupBy, span: Span, filter: &Filter) -> Result<(Grouped, i64)> {
    let mut tx = pool.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .execute(&mut *tx)
        .await?;
    let (as_of,): (i64,) = sqlx::query_as("SELECT last_sequence FROM consumer WHERE id = 1")
        .fetch_one(&mut *tx)
        .await?;
    let windows = Windows::of(span);
    let months = windows.months.unwrap_or(NONE);
    let head = windows.head.unwrap_or(NONE);
    let tail = windows.tail.unwrap_or(NONE);
    let sql = sums_sql(group);
    let query = sqlx::query_as(&sql)
        .bind(group.projection())
        .bind(months.0)
        .bind(months.1)
        .bind(head.0)
        .bind(head.1)
        .bind(tail.0)
        .bind(tail.1)
        .bind(as_of);
    let rows: Vec<SumRow> = bind_filter(query, filter).fetch_all(&mut *tx).await?;
    let mut grouped = Grouped::new();
    for row in rows {
        let sums = grouped.entry(row.g).or_default().entry(row.kind).or_default();
        sums.events += row.events;
        if !row.currency.is_empty() {
            *sums.by_currency.entry(row.currency).or_default() += row.amount;
        }
        sums.usd += row.usd;
        sums.vnd += row.vnd;
    }

    // Projects with more than one `new` (or `termination`) event count once per group.
    let sql = format!(
        "SELECT g, kind, sum(n - 1)::bigint FROM (
             SELECT {g} AS g, kind, project_ref, count(*) AS n FROM repeats
             WHERE event_date BETWEEN $1 AND $2 AND {filtered}
             GROUP BY 1, kind, project_ref) t
         WHERE n > 1 GROUP BY g, kind",
        g = group_expression(group, "event_date"),
        filtered = filter_conditions(3),
    );
    let query = sqlx::query_as(&sql).bind(span.start).bind(span.end);
    let repeats: Vec<(String, String, i64)> = bind_filter(query, filter).fetch_all(&mut *tx).await?;
    tx.commit().await?;
    for (g, kind, extra) in repeats {
        grouped.entry(g).or_default().entry(kind).or_default().repeats += extra;
    }
    Ok((grouped, as_of))
}

/// The sums' statement: whole months from the monthly rows, and the days
/// at the edges from the feed's events up to the cursor (`$8`), so every
/// projection answers any range. Parameters: projection, months, head and
/// tail days, cursor, then the filter's.
fn sums_sql(group: GroupBy) -> String {
    format!(
        "SELECT {g} AS g, kind, currency, sum(events)::bigint AS events, sum(amount) AS amount,
                sum(amount_usd) AS usd, sum(amount_vnd) AS vnd
         FROM (SELECT period, kind, scope, status, province, current_province, zone, country, sector, investor,
                      currency, events, amount, amount_usd, amount_vnd
               FROM rollup
               WHERE projection = $1 AND period BETWEEN $2 AND $3
               UNION ALL
               SELECT event_date, kind, scope, status, province_code, current_province_code, coalesce(zone_id, ''),
                      investor_country, sector, coalesce(investor_id, 0), coalesce(currency, ''), 1,
                      coalesce(amount, 0), coalesce(amount_usd, 0), coalesce(amount_vnd, 0)
               FROM {events}
               WHERE (event_date BETWEEN $4 AND $5 OR event_date BETWEEN $6 AND $7) AND sequence <= $8) r
         WHERE {filtered}
         GROUP BY 1, kind, currency",
        g = group_expression(group, "period"),
        events = feed::EVENTS,
        filtered = filter_conditions(9),
    )
}

/// The grouping expression over a table with the rollup's columns and `date_column`.
fn group_expression(group: GroupBy, date_column: &str) -> String {
    match group {
        GroupBy::Nothing => "''".to_owned(),
        GroupBy::CurrentProvince => "current_province".to_owned(),
        GroupBy::RecordedProvince => "province".to_owned(),
        GroupBy::Zone => "zone".to_owned(),
        GroupBy::Country => "country".to_owned(),
        GroupBy::Sector => "sector".to_owned(),
        GroupBy::Investor => "investor::text".to_owned(),
        GroupBy::Kind => "kind".to_owned(),
        GroupBy::Month => format!("to_char({date_column}, 'YYYY-MM')"),
        GroupBy::Quarter => format!("to_char({date_column}, 'YYYY-\"Q\"Q')"),
        GroupBy::Year => format!("to_char({date_column}, 'YYYY')"),
    }
}

/// The conditions of a [`Filter`] over a table with the rollup's columns;
/// [`bind_filter`] binds their values from parameter `$first` on.
fn filter_conditions(first: usize) -> String {
    let (scope, current, recorded, zones, estimates) = (first, first + 1, first + 2, first + 3, first + 4);
    format!(
        "(${scope}::text IS NULL OR scope = ${scope})
         AND (${estimates}::boolean OR status = 'reported')
         AND (cardinality(${current}::text[]) = 0 OR current_province = ANY(${current}))
         AND (cardinality(${recorded}::text[]) = 0 OR province = ANY(${recorded}))
         AND (cardinality(${zones}::text[]) = 0 OR zone = ANY(${zones}))"
    )
}

/// Binds the values of [`filter_conditions`], in its order.
fn bind_filter<'q, O>(
    query: QueryAs<'q, Postgres, O, PgArguments>,
    filter: &'q Filter,
) -> QueryAs<'q, Postgres, O, PgArguments> {
    query
        .bind(filter.scope)
        .bind(&filter.current_provinces)
        .bind(&filter.recorded_provinces)
        .bind(&filter.zones)
        .bind(filter.include_estimates)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_conditions_number_their_parameters_from_the_first() {
        let conditions = filter_conditions(3);
        assert!(conditions.starts_with("($3::text IS NULL OR scope = $3)"));
        assert!(conditions.contains("($7::boolean OR status = 'reported')"));
        assert!(conditions.contains("current_province = ANY($4)"));
        assert!(conditions.contains("province = ANY($5)"));
        assert!(conditions.trim_end().ends_with("zone = ANY($6))"));
    }
}
