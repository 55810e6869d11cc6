//! The rollup consumer: reads ingest's events in commit order (`sequence`)
//! and folds each batch into the rollups in the same transaction that moves
//! its cursor, so every event is applied exactly once, across restarts.
//! Woken by ingest's NOTIFY, with short polling as a fallback.

use std::time::Duration;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sqlx::{PgPool, postgres::PgListener};
use tokio::sync::broadcast;

use fdi_kit::shutdown::CancellationToken;

/// Events folded per transaction.
pub const BATCH: i64 = 20_000;
/// The channel ingest notifies after each commit.
pub const EVENTS_CHANNEL: &str = "fdi_ingest_events";
/// Polling interval when no notification arrives.
const POLL: Duration = Duration::from_millis(250);
/// Serialises appliers (the service and a rebuild) on the cursor.
const APPLY_LOCK: i64 = 0x00fd_1a71_a500_0002;

/// One projection of the rollups: its name, grain and the dimensions it keeps.
struct Projection {
    name: &'static str,
    grain: &'static str,
    dims: &'static [&'static str],
}

const PROJECTIONS: &[Projection] = &[
    Projection {
        name: "province",
        grain: "d",
        dims: &["province"],
    },
    Projection {
        name: "province",
        grain: "m",
        dims: &["province"],
    },
    Projection {
        name: "zone",
        grain: "m",
        dims: &["zone"],
    },
    Projection {
        name: "country",
        grain: "m",
        dims: &["province", "country"],
    },
    Projection {
        name: "sector",
        grain: "m",
        dims: &["province", "sector"],
    },
    Projection {
        name: "investor",
        grain: "m",
        dims: &["province", "investor"],
    },
];

/// The dimensions every projection may keep, with the value of an unkept one.
const ALL_DIMS: &[(&str, &str)] = &[
    ("province", "''"),
    ("zone", "''"),
    ("country", "''"),
    ("sector", "''"),
    ("investor", "0"),
];

fn upsert_sql(projection: &Projection) -> String {
    let period = if projection.grain == "d" {
        "event_date"
    } else {
        "date_trunc('month', event_date)::date"
    };
    let select_dims: Vec<String> = ALL_DIMS
        .iter()
        .map(|(dim, empty)| {
            if projection.dims.contains(dim) {
                (*dim).to_owned()
            } else {
                (*empty).to_owned()
            }
        })
        .collect();
    let group_dims = projection.dims.join(", ");
    format!(
        "INSERT INTO rollup AS r (projection, grain, period, kind, scope, current_province, province, zone, country,
                                sector, investor, currency, events, amount, amount_usd, amount_vnd)
         SELECT '{name}', '{grain}', {period} AS p, kind, scope, current_province, {dims}, currency,
                count(*), sum(amount), sum(amount_usd), sum(amount_vnd)
         FROM batch GROUP BY p, kind, scope, current_province, {group_dims}, currency
         ON CONFLICT (projection, grain, current_province, period, kind, scope, province, zone, country, sector,
                      investor, currency)
         DO UPDATE SET events = r.events + EXCLUDED.events, amount = r.amount + EXCLUDED.amount,
                       amount_usd = r.amount_usd + EXCLUDED.amount_usd, amount_vnd = r.amount_vnd + EXCLUDED.amount_vnd",
        name = projection.name,
        grain = projection.grain,
        dims = select_dims.join(", "),
    )
}

/// An event as the alerts see it.
#[derive(Debug, Clone)]
pub struct Applied {
    /// Its sequence.
    pub sequence: i64,
    /// Today's province.
    pub current_province: String,
    /// The province as recorded.
    pub province: String,
    /// Its date.
    pub event_date: NaiveDate,
    /// Its kind.
    pub kind: String,
    /// `fdi` or `ddi`.
    pub scope: String,
    /// Amount in USD, when any.
    pub amount_usd: Option<Decimal>,
    /// Amount in VND, when any.
    pub amount_vnd: Option<Decimal>,
}

#[derive(sqlx::FromRow)]
struct AppliedRow {
    sequence: i64,
    current_province: String,
    province: String,
    event_date: NaiveDate,
    kind: String,
    scope: String,
    currency: String,
    amount_usd: Decimal,
    amount_vnd: Decimal,
}

/// Folds the next batch of events into the rollups; returns how many events
/// it applied (0 when caught up) and publishes them to `applied`.
///
/// # Errors
/// When the database fails (nothing is applied then).
pub async fn apply_next_batch(
    pool: &PgPool,
    applied: Option<&broadcast::Sender<Vec<Applied>>>,
) -> Result<u64, sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(APPLY_LOCK)
        .execute(&mut *tx)
        .await?;
    let (last,): (i64,) = sqlx::query_as("SELECT last_sequence FROM consumer WHERE id = 1 FOR UPDATE")
        .fetch_one(&mut *tx)
        .await?;
    let (upper,): (Option<i64>,) = sqlx::query_as(
        "SELECT max(sequence) FROM (SELECT sequence FROM ingest.events WHERE sequence > $1 ORDER BY sequence LIMIT $2) s",
    )
    .bind(last)
    .bind(BATCH)
    .fetch_one(&mut *tx)
    .await?;
    let Some(upper) = upper else {
        return Ok(0);
    };
    sqlx::query(
        "CREATE TEMP TABLE batch ON COMMIT DROP AS
         SELECT sequence, kind, scope, event_date, project_ref, province_code AS province,
                current_province_code AS current_province, coalesce(zone_id, '') AS zone,
                investor_country AS country, sector, coalesce(investor_id, 0) AS investor,
                coalesce(currency, '') AS currency, coalesce(amount, 0) AS amount,
                coalesce(amount_usd, 0) AS amount_usd, coalesce(amount_vnd, 0) AS amount_vnd
         FROM ingest.events WHERE sequence > $1 AND sequence <= $2",
    )
    .bind(last)
    .bind(upper)
    .execute(&mut *tx)
    .await?;
    for projection in PROJECTIONS {
        sqlx::query(&upsert_sql(projection)).execute(&mut *tx).await?;
    }
    track_repeated_projects(&mut tx).await?;
    let events = if applied.is_some_and(|sender| sender.receiver_count() > 0) {
        sqlx::query_as::<_, AppliedRow>(
            "SELECT sequence, current_province, province, event_date, kind, scope, currency, amount_usd, amount_vnd
             FROM batch ORDER BY sequence",
        )
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .map(|row| Applied {
            sequence: row.sequence,
            current_province: row.current_province,
            province: row.province,
            event_date: row.event_date,
            kind: row.kind,
            scope: row.scope,
            amount_usd: (!row.currency.is_empty()).then_some(row.amount_usd),
            amount_vnd: (!row.currency.is_empty()).then_some(row.amount_vnd),
        })
        .collect()
    } else {
        Vec::new()
    };
    let (count,): (i64,) = sqlx::query_as("SELECT count(*) FROM batch").fetch_one(&mut *tx).await?;
    sqlx::query("UPDATE consumer SET last_sequence = $1, update_time = now() WHERE id = 1")
        .bind(upper)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    if let Some(sender) = applied
        && !events.is_empty()
    {
        let _ = sender.send(events);
    }
    Ok(u64::try_from(count).unwrap_or_default())
}

/// Records every event of projects seen with more than one `new` (or
/// `termination`) event, so distinct-project counts can subtract repeats.
async fn track_repeated_projects(tx: &mut sqlx::PgConnection) -> Result<(), sqlx::Error> {
    let repeated: Vec<(String, String)> = sqlx::query_as(
        "WITH b AS (SELECT kind, project_ref, sequence FROM batch WHERE kind IN ('new', 'termination')),
              first_seen AS (
                  INSERT INTO projects_seen (kind, project_ref, first_sequence)
                  SELECT DISTINCT ON (kind, project_ref) kind, project_ref, sequence FROM b
                  ORDER BY kind, project_ref, sequence
                  ON CONFLICT DO NOTHING
                  RETURNING kind, project_ref)
         SELECT b.kind, b.project_ref FROM b LEFT JOIN first_seen f USING (kind, project_ref)
         GROUP BY b.kind, b.project_ref
         HAVING count(*) > 1 OR bool_and(f.project_ref IS NULL)",
    )
    .fetch_all(&mut *tx)
    .await?;
    if repeated.is_empty() {
        return Ok(());
    }
    let (kinds, refs): (Vec<String>, Vec<String>) = repeated.into_iter().unzip();
    sqlx::query(
        "INSERT INTO repeats (kind, project_ref, sequence, event_date, scope, province, current_province, zone,
                              country, sector, investor)
         SELECT kind, project_ref, sequence, event_date, scope, province, current_province, zone, country, sector,
                investor
         FROM batch WHERE (kind, project_ref) IN (SELECT * FROM unnest($1::text[], $2::text[]))
         UNION ALL
         SELECT e.kind, e.project_ref, e.sequence, e.event_date, e.scope, e.province_code, e.current_province_code,
                coalesce(e.zone_id, ''), e.investor_country, e.sector, coalesce(e.investor_id, 0)
         FROM projects_seen s JOIN ingest.events e ON e.sequence = s.first_sequence
         WHERE (s.kind, s.project_ref) IN (SELECT * FROM unnest($1::text[], $2::text[]))
         ON CONFLICT DO NOTHING",
    )
    .bind(&kinds)
    .bind(&refs)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Applies batches until caught up; returns the events applied.
///
/// # Errors
/// When the database fails.
pub async fn catch_up(pool: &PgPool, applied: Option<&broadcast::Sender<Vec<Applied>>>) -> Result<u64, sqlx::Error> {
    let mut total = 0;
    loop {
        let count = apply_next_batch(pool, applied).await?;
        if count == 0 {
            return Ok(total);
        }
        total += count;
    }
}

/// Empties the rollups and rewinds the cursor, in one transaction; the
/// consumer (or [`catch_up`]) then rebuilds them from the first event.
///
/// # Errors
/// When the database fails.
pub async fn reset(pool: &PgPool) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(APPLY_LOCK)
        .execute(&mut *tx)
        .await?;
    sqlx::query("TRUNCATE rollup, projects_seen, repeats")
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE consumer SET last_sequence = 0, update_time = now() WHERE id = 1")
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}

/// Keeps the rollups fresh until shutdown: applies whatever is new, then
/// waits for ingest's notification (or the polling interval).
pub async fn run(pool: PgPool, applied: broadcast::Sender<Vec<Applied>>, shutdown: CancellationToken) {
    let mut listener: Option<PgListener> = None;
    loop {
        if shutdown.is_cancelled() {
            return;
        }
        if listener.is_none() {
            listener = match PgListener::connect_with(&pool).await {
                Ok(mut l) => l.listen(EVENTS_CHANNEL).await.ok().map(|()| l),
                Err(_) => None,
            };
        }
        match catch_up(&pool, Some(&applied)).await {
            Ok(count) if count > 0 => tracing::debug!(count, "events folded into the rollups"),
            Ok(_) => {}
            Err(error) => {
                tracing::warn!(%error, "rollup consumer failed; retrying");
                listener = None;
            }
        }
        let wait = async {
            match listener.as_mut() {
                // A notification, or the polling interval, whichever comes first.
                Some(l) => matches!(tokio::time::timeout(POLL, l.recv()).await, Ok(Err(_))),
                None => {
                    tokio::time::sleep(POLL).await;
                    false
                }
            }
        };
        tokio::select! {
            () = shutdown.cancelled() => return,
            broken = wait => {
                if broken {
                    listener = None;
                    tokio::time::sleep(POLL).await;
                }
            }
        }
    }
}
