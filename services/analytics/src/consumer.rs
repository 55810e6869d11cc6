//! The rollup consumer, for any number of replicas.
//!
//! **One leader folds.** The replica holding the lease ([`store::lease`]) reads
//! ingest's events from the published feed in commit order (`sequence`) and
//! folds each batch into the rollups in the same transaction that moves the
//! cursor, so every event is applied exactly once, across restarts and
//! leader changes. It is woken by ingest's NOTIFY, with short polling as a
//! fallback, and folds up to [`BATCH`] events a turn: when it falls behind,
//! turns grow and each group's row is written once for more events. A fold
//! appends one row per group of its batch (no conflict checks: the cheapest
//! write PostgreSQL has); beside it, the leader compacts each month whose
//! appended rows outgrew what it held, merging them into one row per group.
//!
//! **Every replica follows.** Each replica, the leader included, keeps its
//! in-memory cube current by folding the same events into memory: woken by
//! the leader's notification after each fold, it reads the events between
//! its cube's sequence and the new cursor, and the repeated projects those
//! batches recorded, from one snapshot ([`store::batches`]), and hands the
//! events to its Watch subscribers. The cube is loaded from the rollups once
//! at startup and again only after a rebuild. The SQL is the store's.

use std::{
    sync::{
        Arc, OnceLock,
        atomic::{AtomicBool, Ordering},
    },
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
    fold::FoldEvent,
    store::{
        self, StoreError,
        batches::Since,
        lease::Lease,
        notifications::{Notice, Notifications},
        rollups::{Batch, Turn},
    },
};

/// Most events folded per transaction.
pub const BATCH: i64 = 100_000;
/// Polling interval when no notification arrives.
const POLL: Duration = Duration::from_millis(250);
/// How often a replica that does not lead tries to take the lease.
const LEASE_RETRY: Duration = Duration::from_millis(500);
/// A batch this large means the leader is catching up (a full-speed load, a
/// rebuild): compaction waits, leaving it the machine.
const BUSY_BATCH: u64 = 5_000;
/// Fewest appended rows worth compacting a partition for.
const MIN_COMPACTION_ROWS: i64 = 1000;
/// How long compaction rests when nothing is worth compacting.
const COMPACTION_IDLE: Duration = Duration::from_secs(1);

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
    /// `reported` or `estimated`.
    pub status: String,
    /// Amount in USD, when any.
    pub amount_usd: Option<Decimal>,
    /// Amount in VND, when any.
    pub amount_vnd: Option<Decimal>,
}

impl From<&FoldEvent> for Applied {
    fn from(row: &FoldEvent) -> Self {
        let has_amount = !row.currency.is_empty();
        Self {
            sequence: row.sequence,
            current_province: row.current_province.clone(),
            province: row.province.clone(),
            event_date: row.event_date,
            kind: row.kind.clone(),
            scope: row.scope.clone(),
            status: row.status.clone(),
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

/// Who follows the batches folded: Watch subscribers and the in-memory cube.
#[derive(Debug, Clone)]
pub struct Followers {
    /// Batches of events as they are folded (for Watch), with the cursor each batch ends at.
    pub applied: broadcast::Sender<Arc<AppliedBatch>>,
    /// The monthly rollups in memory.
    pub cube: Arc<Cube>,
}

/// Events folded into a replica's memory, from just after `from` to `to`.
#[derive(Debug)]
pub struct AppliedBatch {
    /// The sequence the replica had before.
    pub from: i64,
    /// The cursor it has now.
    pub to: i64,
    /// The events, in commit order.
    pub events: Vec<Applied>,
}

/// Folds the next batch (`read_ahead` when it follows the cursor) and,
/// meanwhile, reads the batch after it on another connection; returns the
/// events folded and that next batch.
#[tracing::instrument(name = "analytics.apply", skip_all, fields(from, to, events))]
async fn apply_reading_ahead(pool: &PgPool, read_ahead: Option<Batch>) -> Result<(u64, Option<Batch>), StoreError> {
    let mut turn = Turn::begin(pool).await?;
    let span = tracing::Span::current();
    span.record("from", turn.cursor());
    let batch = match read_ahead {
        Some(batch) if batch.after == turn.cursor() => batch,
        _ => turn.read(BATCH).await?,
    };
    // The next batch starts where this one ends: read and aggregate it while this one is written.
    let next = batch.upper.map(|after| {
        let pool = pool.clone();
        tokio::spawn(async move { store::rollups::read_batch(&mut *pool.acquire().await?, after, BATCH).await })
    });
    let folded = turn.fold(batch).await?;
    if let Some(upper) = folded.upper {
        freshness_lag().record(folded.lag_seconds.max(0.0), &[]);
        span.record("to", upper);
    }
    span.record("events", folded.events);
    let next = match next {
        // An empty batch read ahead says nothing about what arrived since.
        Some(task) => task.await.ok().and_then(Result::ok).filter(|b| b.events > 0),
        None => None,
    };
    Ok((u64::try_from(folded.events).unwrap_or_default(), next))
}

/// Applies batches until caught up; returns the events applied.
///
/// # Errors
/// When the database fails.
pub async fn catch_up(pool: &PgPool) -> Result<u64, StoreError> {
    let mut total = 0;
    let mut read_ahead = None;
    loop {
        let (count, next) = apply_reading_ahead(pool, read_ahead).await?;
        if count == 0 {
            return Ok(total);
        }
        total += count;
        read_ahead = next;
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

/// Runs the consumer's two tasks until shutdown: leading when this replica
/// holds the lease, and following on every replica.
pub async fn run(pool: PgPool, followers: Followers, holder: String, shutdown: CancellationToken) {
    tokio::join!(
        lead(pool.clone(), holder, shutdown.clone()),
        follow(pool, followers, shutdown)
    );
}

/// Takes the lease whenever it is free and, while holding it, folds and compacts.
async fn lead(pool: PgPool, holder: String, shutdown: CancellationToken) {
    let mut candidate: Option<Lease> = None;
    while !shutdown.is_cancelled() {
        let taken = match candidate.as_mut() {
            Some(lease) => lease.try_take(&holder).await,
            None => match Lease::connect(&pool).await {
                Ok(lease) => candidate.insert(lease).try_take(&holder).await,
                Err(error) => Err(error),
            },
        };
        match taken {
            Ok(true) => {
                if let Some(lease) = candidate.take() {
                    tracing::info!(%holder, "this replica leads: it folds the feed into the rollups");
                    lead_with(&pool, lease, &shutdown).await;
                }
            }
            Ok(false) => {}
            Err(error) => {
                tracing::warn!(%error, "could not try the leader's lease; retrying");
                candidate = None;
            }
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(LEASE_RETRY) => {}
        }
    }
}

/// Folds and compacts while `lease` holds, until it is lost or shutdown.
async fn lead_with(pool: &PgPool, lease: Lease, shutdown: &CancellationToken) {
    let leading = shutdown.child_token();
    let catching_up = AtomicBool::new(false);
    tokio::join!(
        async {
            fold_while_leading(pool, lease, shutdown, &catching_up).await;
            leading.cancel();
        },
        compact_while_leading(pool, &leading, &catching_up)
    );
}

/// Folds whatever is new, then waits for ingest's notification (or the
/// polling interval), until the lease is lost or shutdown.
async fn fold_while_leading(pool: &PgPool, mut lease: Lease, shutdown: &CancellationToken, catching_up: &AtomicBool) {
    let mut notifications: Option<Notifications> = None;
    let mut read_ahead = None;
    loop {
        if shutdown.is_cancelled() {
            lease.release().await;
            return;
        }
        if let Err(error) = lease.check().await {
            tracing::warn!(%error, "the leader's lease is lost; another replica will fold");
            return;
        }
        if notifications.is_none() {
            notifications = Notifications::listen(pool, &[Notice::Events]).await.ok();
        }
        match apply_reading_ahead(pool, read_ahead.take()).await {
            // More may be waiting: check the lease and fold again.
            Ok((count, next)) if count > 0 => {
                catching_up.store(count >= BUSY_BATCH, Ordering::Relaxed);
                read_ahead = next;
                continue;
            }
            Ok(_) => catching_up.store(false, Ordering::Relaxed),
            Err(error) => {
                tracing::warn!(%error, "folding failed; retrying");
                notifications = None;
            }
        }
        tokio::select! {
            () = shutdown.cancelled() => {}
            woken = wait(notifications.as_mut()) => {
                if woken == Woken::Broken {
                    notifications = None;
                }
            }
        }
    }
}

/// Compacts the rollups' partitions that gained as many rows as they held,
/// one at a time beside the folding, until the lease is lost; not while the
/// leader catches up (the folding has the machine then; compaction follows).
async fn compact_while_leading(pool: &PgPool, leading: &CancellationToken, catching_up: &AtomicBool) {
    while !leading.is_cancelled() {
        if !catching_up.load(Ordering::Relaxed) {
            match store::rollups::next_to_compact(pool, MIN_COMPACTION_ROWS).await {
                Ok(Some(partition)) => {
                    match store::rollups::compact(pool, &partition).await {
                        Ok(left) => tracing::debug!(
                            projection = partition.projection,
                            period = %partition.period,
                            appended = partition.rows_added,
                            left,
                            "rollups compacted"
                        ),
                        Err(error) => tracing::warn!(%error, "compaction failed; retrying"),
                    }
                    continue;
                }
                Ok(None) => {}
                Err(error) => tracing::warn!(%error, "could not look for rollups to compact"),
            }
        }
        tokio::select! {
            () = leading.cancelled() => return,
            () = tokio::time::sleep(COMPACTION_IDLE) => {}
        }
    }
}

/// Keeps this replica's cube current and its Watch subscribers fed until
/// shutdown: loads the cube when it holds nothing, then folds what the
/// leader folded, woken by its notification (or the polling interval).
async fn follow(pool: PgPool, followers: Followers, shutdown: CancellationToken) {
    let mut notifications: Option<Notifications> = None;
    while !shutdown.is_cancelled() {
        if notifications.is_none() {
            notifications = Notifications::listen(&pool, &[Notice::Folded, Notice::Reset])
                .await
                .ok();
        }
        if let Err(error) = follow_once(&pool, &followers).await {
            tracing::warn!(%error, "could not follow the rollups; retrying");
            notifications = None;
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            woken = wait(notifications.as_mut()) => match woken {
                Woken::Broken => notifications = None,
                // Rebuilt rollups may end where the cube is and still differ from it.
                Woken::By(Notice::Reset) => followers.cube.invalidate(),
                Woken::By(_) | Woken::Polling => {}
            },
        }
    }
}

/// Loads the cube when it holds nothing; otherwise folds into it (and hands
/// to Watch) what the rollups gained since its sequence.
async fn follow_once(pool: &PgPool, followers: &Followers) -> Result<(), StoreError> {
    let Some(from) = followers.cube.sequence() else {
        return load_cube(pool, &followers.cube).await;
    };
    match store::batches::folded_since(pool, from).await? {
        Since::Nothing => {}
        Since::Rewound => {
            tracing::info!(cube = from, "the rollups were rebuilt; reloading the cube");
            followers.cube.invalidate();
            load_cube(pool, &followers.cube).await?;
        }
        Since::Folded { cursor, rows, repeats } => {
            // Built even with no subscriber: one may subscribe before the send.
            let events = rows.iter().map(Applied::from).collect();
            followers.cube.apply(from, cursor, &rows, repeats);
            let _ = followers.applied.send(Arc::new(AppliedBatch {
                from,
                to: cursor,
                events,
            }));
        }
    }
    Ok(())
}

/// What ended a wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Woken {
    /// A notification.
    By(Notice),
    /// The polling interval.
    Polling,
    /// The listening connection broke (listen again).
    Broken,
}

/// Waits for a notification or the polling interval, whichever comes first
/// (after a pause when the connection broke).
async fn wait(notifications: Option<&mut Notifications>) -> Woken {
    let Some(notifications) = notifications else {
        tokio::time::sleep(POLL).await;
        return Woken::Polling;
    };
    match tokio::time::timeout(POLL, notifications.recv()).await {
        Ok(Ok(notice)) => Woken::By(notice),
        Err(_) => Woken::Polling,
        Ok(Err(_)) => {
            tokio::time::sleep(POLL).await;
            Woken::Broken
        }
    }
}

async fn load_cube(pool: &PgPool, cube: &Cube) -> Result<(), StoreError> {
    let started = std::time::Instant::now();
    let sequence = cube.load(pool).await?;
    tracing::info!(
        sequence,
        elapsed_ms = started.elapsed().as_millis(),
        "monthly rollups loaded into memory"
    );
    Ok(())
}
