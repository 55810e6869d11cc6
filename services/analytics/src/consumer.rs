//! The rollup consumer: reads ingest's events from the published feed in
//! commit order (`sequence`) and folds each batch into the rollups in the
//! same transaction that moves its cursor, so every event is applied exactly
//! once, across restarts. Woken by ingest's NOTIFY, with short polling as a
//! fallback. The SQL is [`crate::store::rollups`]'s.

use std::{
    sync::{Arc, OnceLock},
    time::Duration,
};

use chrono::NaiveDate;
use fdi_kit::shutdown::CancellationToken;
use opentelemetry::metrics::Histogram;
use rust_decimal::Decimal;
use sqlx::PgPool;
use tokio::sync::broadcast;

use crate::{
    cube::Cube,
    store::{
        self, StoreError,
        notifications::{Notice, Notifications},
        rollups::{BatchRow, Turn},
    },
};

/// Events folded per transaction.
pub const BATCH: i64 = 20_000;
/// Polling interval when no notification arrives.
const POLL: Duration = Duration::from_millis(250);

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

/// Folds the next batch of events into the rollups; returns how many events
/// it applied (0 when caught up) and hands them to the `followers`.
///
/// # Errors
/// When the database fails (nothing is applied then).
pub async fn apply_next_batch(pool: &PgPool, followers: Option<&Followers>) -> Result<u64, StoreError> {
    let mut turn = Turn::begin(pool).await?;
    if let Some(followers) = followers {
        // Another process may have applied events (or rebuilt the rollups).
        followers.cube.check_cursor(turn.cursor());
    }
    let Some(upper) = turn.next_batch_end(BATCH).await? else {
        return Ok(0);
    };
    fold_batch(turn, upper, followers).await
}

/// Folds the events after the turn's cursor up to `upper` into the rollups,
/// moves the cursor and commits; then hands the batch to the followers.
#[tracing::instrument(name = "analytics.apply", skip_all, fields(from = turn.cursor(), to = upper, events = tracing::field::Empty))]
async fn fold_batch(turn: Turn, upper: i64, followers: Option<&Followers>) -> Result<u64, StoreError> {
    let last = turn.cursor();
    let watched = followers.is_some_and(|f| f.applied.receiver_count() > 0);
    let cube = followers.map(|f| f.cube.as_ref()).filter(|cube| cube.is_loaded());
    let folded = turn.fold(upper, watched || cube.is_some()).await?;
    freshness_lag().record(folded.lag_seconds.max(0.0), &[]);
    tracing::Span::current().record("events", folded.events);
    if let Some(cube) = cube {
        cube.apply(last, upper, &folded.rows, folded.repeats);
    }
    if let Some(followers) = followers
        && watched
    {
        let _ = followers.applied.send(folded.rows.iter().map(Applied::from).collect());
    }
    Ok(u64::try_from(folded.events).unwrap_or_default())
}

/// Applies batches until caught up; returns the events applied.
///
/// # Errors
/// When the database fails.
pub async fn catch_up(pool: &PgPool, followers: Option<&Followers>) -> Result<u64, StoreError> {
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
/// consumer (or [`catch_up`]) then rebuilds them from the first event, and
/// running services drop what they hold in memory.
///
/// # Errors
/// When the database fails.
pub async fn reset(pool: &PgPool) -> Result<(), StoreError> {
    store::rollups::reset(pool).await
}

/// Keeps the rollups fresh until shutdown: applies whatever is new, loads
/// the cube once caught up, then waits for ingest's notification (or the
/// polling interval).
pub async fn run(pool: PgPool, followers: Followers, shutdown: CancellationToken) {
    let mut notifications: Option<Notifications> = None;
    loop {
        if shutdown.is_cancelled() {
            return;
        }
        if notifications.is_none() {
            notifications = Notifications::listen(&pool).await.ok();
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
                notifications = None;
            }
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            broken = wait(notifications.as_mut(), &followers.cube) => {
                if broken {
                    notifications = None;
                    tokio::time::sleep(POLL).await;
                }
            }
        }
    }
}

/// Waits for a notification, or the polling interval, whichever comes
/// first; a reset drops the cube. Returns whether the connection broke.
async fn wait(notifications: Option<&mut Notifications>, cube: &Cube) -> bool {
    let Some(notifications) = notifications else {
        tokio::time::sleep(POLL).await;
        return false;
    };
    match tokio::time::timeout(POLL, notifications.recv()).await {
        Ok(Ok(Notice::Reset)) => {
            cube.invalidate();
            false
        }
        Ok(Ok(Notice::Events)) | Err(_) => false,
        Ok(Err(_)) => true,
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
