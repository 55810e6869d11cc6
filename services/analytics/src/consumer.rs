//! The rollup consumer: reads ingest's events in commit order (`sequence`)
//! and folds each batch into the rollups in the same transaction that moves
//! its cursor, so every event is applied exactly once, across restarts.
//! Woken by ingest's NOTIFY, with short polling as a fallback.

use std::{
    sync::{Arc, OnceLock},
    time::Duration,
};

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sqlx::{PgPool, postgres::PgListener};
use tokio::sync::broadcast;

use fdi_kit::shutdown::CancellationToken;
use opentelemetry::metrics::Histogram;

use crate::cube::{BatchRow, Cube, RepeatRow};

/// Events folded per transaction.
pub const BATCH: i64 = 20_000;
/// The channel ingest notifies after each commit.
pub const EVENTS_CHANNEL: &str = "fdi_ingest_events";
/// The channel [`reset`] notifies, so running services drop what they hold in memory.
pub const RESET_CHANNEL: &str = "fdi_analytics_reset";
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

/// The `fdi.analytics.freshness_lag` metric: seconds from ingest's commit of
/// an event to its rollups' commit (the newest event of each batch).
fn freshness_lag() -> &'static Histogram<f64> {
    static LAG: OnceLock<Histogram<f64>> = OnceLock::new();
    LAG.get_or_init(|| {
        opentelemetry::global::meter("fdi-atlas")
            .f64_histogram("fdi.analytics.freshness_lag")
            .with_unit("s")
            .with_description("From an event recorded by ingest to its figures in the rollups")
            .build()
    })
}

/// Who follows the batches the consumer applies: Watch subscribers and the in-memory cube.
#[derive(Debug, Clone)]
pub struct Followers {
    /// Batches of events as they are folded (for Watch).
    pub applied: broadcast::Sender<Vec<Applied>>,
    /// The monthly rollups in memory.
    pub cube: Arc<Cube>,
}

impl From<&BatchRow> for Applied {
    fn from(row: &BatchRow) -> Self {
        let has_amount = !row.currency.is_empty();
        Self {
            sequence: row.sequence,
            current_province: row.current_province.clone(),
            province: row.province.clone(),
            event_date: row.event_date,
            kind: row.kind.clone(),
            scope: row.scope.clone(),
            amount_usd: has_amount.then_some(row.amount_usd),
            amount_vnd: has_amount.then_some(row.amount_vnd),
        }
    }
}

/// Folds the next batch of events into the rollups; returns how many events
/// it applied (0 when caught up) and hands them to the `followers`.
///
/// # Errors
/// When the database fails (nothing is applied then).
pub async fn apply_next_batch(pool: &PgPool, followers: Option<&Followers>) -> Result<u64, sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(APPLY_LOCK)
        .execute(&mut *tx)
        .await?;
    let (last,): (i64,) = sqlx::query_as("SELECT last_sequence FROM consumer WHERE id = 1 FOR UPDATE")
        .fetch_one(&mut *tx)
        .await?;
    if let Some(followers) = followers {
        // Another process may have applied events (or rebuilt the rollups).
        followers.cube.check_cursor(last);
    }
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
    fold_batch(tx, last, upper, followers).await
}

/// Folds the events after `last` up to `upper` into the rollups, moves the
/// cursor and commits; then hands the batch to the followers.
#[tracing::instrument(name = "analytics.apply", skip_all, fields(from = last, to = upper, events = tracing::field::Empty))]
async fn fold_batch(
    mut tx: sqlx::Transaction<'_, sqlx::Postgres>,
    last: i64,
    upper: i64,
    followers: Option<&Followers>,
) -> Result<u64, sqlx::Error> {
    sqlx::query(
        "CREATE TEMP TABLE batch ON COMMIT DROP AS
         SELECT sequence, kind, scope, event_date, project_ref, province_code AS province,
                current_province_code AS current_province, coalesce(zone_id, '') AS zone,
                investor_country AS country, sector, coalesce(investor_id, 0) AS investor,
                coalesce(currency, '') AS currency, coalesce(amount, 0) AS amount,
                coalesce(amount_usd, 0) AS amount_usd, coalesce(amount_vnd, 0) AS amount_vnd, create_time
         FROM ingest.events WHERE sequence > $1 AND sequence <= $2",
    )
    .bind(last)
    .bind(upper)
    .execute(&mut *tx)
    .await?;
    for projection in PROJECTIONS {
        sqlx::query(&upsert_sql(projection)).execute(&mut *tx).await?;
    }
    let repeats = track_repeated_projects(&mut tx).await?;
    let watched = followers.is_some_and(|f| f.applied.receiver_count() > 0);
    let cube = followers.map(|f| f.cube.as_ref()).filter(|cube| cube.is_loaded());
    let rows: Vec<BatchRow> = if watched || cube.is_some() {
        sqlx::query_as(
            "SELECT sequence, kind, scope, event_date, province, current_province, zone, country, sector, currency,
                    amount, amount_usd, amount_vnd
             FROM batch ORDER BY sequence",
        )
        .fetch_all(&mut *tx)
        .await?
    } else {
        Vec::new()
    };
    // How long the newest of these events waited since ingest recorded it (the database's clock).
    let (count, lag): (i64, f64) =
        sqlx::query_as("SELECT count(*), extract(epoch FROM clock_timestamp() - max(create_time))::float8 FROM batch")
            .fetch_one(&mut *tx)
            .await?;
    sqlx::query("UPDATE consumer SET last_sequence = $1, update_time = now() WHERE id = 1")
        .bind(upper)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    freshness_lag().record(lag.max(0.0), &[]);
    tracing::Span::current().record("events", count);
    if let Some(cube) = cube {
        cube.apply(last, upper, &rows, repeats);
    }
    if let Some(followers) = followers
        && watched
    {
        let _ = followers.applied.send(rows.iter().map(Applied::from).collect());
    }
    Ok(u64::try_from(count).unwrap_or_default())
}

/// Records every event of projects seen with more than one `new` (or
/// `termination`) event, so distinct-project counts can subtract repeats.
/// Returns the rows it recorded.
async fn track_repeated_projects(tx: &mut sqlx::PgConnection) -> Result<Vec<RepeatRow>, sqlx::Error> {
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
        return Ok(Vec::new());
    }
    let (kinds, refs): (Vec<String>, Vec<String>) = repeated.into_iter().unzip();
    sqlx::query_as(
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
         ON CONFLICT DO NOTHING
         RETURNING kind, project_ref, event_date, scope, province, current_province, zone, country, sector",
    )
    .bind(&kinds)
    .bind(&refs)
    .fetch_all(&mut *tx)
    .await
}

/// Applies batches until caught up; returns the events applied.
///
/// # Errors
/// When the database fails.
pub async fn catch_up(pool: &PgPool, followers: Option<&Followers>) -> Result<u64, sqlx::Error> {
    let mut total = 0;
    loop {
        let count = apply_next_batch(pool, followers).await?;
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
    sqlx::query("SELECT pg_notify($1, '')")
        .bind(RESET_CHANNEL)
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}

/// Keeps the rollups fresh until shutdown: applies whatever is new, loads
/// the cube once caught up, then waits for ingest's notification (or the
/// polling interval).
pub async fn run(pool: PgPool, followers: Followers, shutdown: CancellationToken) {
    let mut listener: Option<PgListener> = None;
    loop {
        if shutdown.is_cancelled() {
            return;
        }
        if listener.is_none() {
            listener = match PgListener::connect_with(&pool).await {
                Ok(mut l) => l.listen_all([EVENTS_CHANNEL, RESET_CHANNEL]).await.ok().map(|()| l),
                Err(_) => None,
            };
        }
        match catch_up(&pool, Some(&followers)).await {
            Ok(count) => {
                if count > 0 {
                    tracing::debug!(count, "events folded into the rollups");
                }
                if !followers.cube.is_loaded() {
                    load_cube(&pool, &followers.cube).await;
                }
            }
            Err(error) => {
                tracing::warn!(%error, "rollup consumer failed; retrying");
                listener = None;
            }
        }
        let wait = async {
            match listener.as_mut() {
                // A notification, or the polling interval, whichever comes first.
                Some(l) => match tokio::time::timeout(POLL, l.recv()).await {
                    Ok(Ok(notification)) => {
                        if notification.channel() == RESET_CHANNEL {
                            followers.cube.invalidate();
                        }
                        false
                    }
                    Ok(Err(_)) => true,
                    Err(_) => false,
                },
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

async fn load_cube(pool: &PgPool, cube: &Cube) {
    let started = std::time::Instant::now();
    match cube.load(pool).await {
        Ok(sequence) => tracing::info!(
            sequence,
            elapsed_ms = started.elapsed().as_millis(),
            "monthly rollups loaded into memory"
        ),
        Err(error) => tracing::warn!(%error, "could not load the monthly rollups into memory; answering from SQL"),
    }
}
