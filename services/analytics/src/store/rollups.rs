//! The consumer's writes: each batch of the feed's events is folded into the
//! rollups in the transaction that moves the cursor, so every event is
//! applied exactly once; [`reset`] empties them for a rebuild.

use chrono::NaiveDate;
use fdi_kit::{domain::EventKind, feed};
use sqlx::{PgConnection, PgPool, Postgres, Transaction};

use super::Result;
use crate::fold::{Deltas, FoldEvent};

/// The channel [`reset`] notifies, so running services drop what they hold in memory.
pub const RESET_CHANNEL: &str = "fdi_analytics_reset";
/// The channel every fold notifies on commit, with the new cursor: every
/// replica then folds the same events into its memory.
pub const FOLDED_CHANNEL: &str = "fdi_analytics_folded";
/// Serialises appliers (the service and a rebuild) on the cursor.
const APPLY_LOCK: i64 = 0x00fd_1a71_a500_0002;
/// The kinds of event that start or end a project: a project counts once
/// per kind however many such events it has.
const PROJECT_KINDS: [EventKind; 2] = [EventKind::New, EventKind::Termination];

/// What folding a batch did.
#[derive(Debug, Default)]
pub struct Folded {
    /// Events folded.
    pub events: i64,
    /// The cursor now (`None` when there was nothing to fold).
    pub upper: Option<i64>,
    /// Seconds from ingest's commit of the batch's newest event to now (the database's clock).
    pub lag_seconds: f64,
}

/// One applier's turn: a transaction holding the appliers' lock and the
/// cursor row. Dropped without [`Turn::fold`], it changes nothing.
///
/// The lock is the fence behind the leader's lease: even two replicas that
/// both believe they lead (one whose lease connection just died) take turns,
/// and each turn starts from the cursor the previous one committed.
pub struct Turn {
    tx: Transaction<'static, Postgres>,
    cursor: i64,
}

impl Turn {
    /// Takes the appliers' lock and reads the cursor.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn begin(pool: &PgPool) -> Result<Self> {
        let mut tx = begin_locked(pool).await?;
        let (cursor,): (i64,) = sqlx::query_as("SELECT last_sequence FROM consumer WHERE id = 1 FOR UPDATE")
            .fetch_one(&mut *tx)
            .await?;
        Ok(Self { tx, cursor })
    }

    /// The last sequence folded into the rollups.
    #[must_use]
    pub fn cursor(&self) -> i64 {
        self.cursor
    }

    /// The batch of at most `limit` events after the cursor.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn read(&mut self, limit: i64) -> Result<Batch> {
        read_batch(&mut self.tx, self.cursor, limit).await
    }

    /// Folds `batch` into the rollups: its rows appended with `COPY` (a row
    /// per group), with the months' counts for compaction, the repeated
    /// projects and the cursor, in one transaction;
    /// notifies [`FOLDED_CHANNEL`] and commits. A batch with no event, or one
    /// that does not follow the cursor (read ahead of a turn that found the
    /// cursor elsewhere), changes nothing.
    ///
    /// # Errors
    /// When the database fails (nothing is applied then).
    pub async fn fold(mut self, batch: Batch) -> Result<Folded> {
        let (Some(upper), Some(newest)) = (batch.upper, batch.newest) else {
            return Ok(Folded::default());
        };
        if batch.after != self.cursor {
            return Ok(Folded::default());
        }
        let tx = &mut *self.tx;
        // Room to find a whole batch's repeated projects in memory (the default spills to disk).
        sqlx::query("SET LOCAL work_mem = '64MB'").execute(&mut *tx).await?;
        append(tx, &batch.rows).await?;
        count_partitions(tx, &batch.partitions).await?;
        record_repeats(tx, self.cursor, upper).await?;
        let (lag_seconds,): (f64,) = sqlx::query_as(
            "UPDATE consumer SET last_sequence = $1, update_time = now() WHERE id = 1
             RETURNING extract(epoch FROM clock_timestamp() - $2::timestamptz)::float8",
        )
        .bind(upper)
        .bind(newest)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(FOLDED_CHANNEL)
            .bind(upper.to_string())
            .execute(&mut *tx)
            .await?;
        self.tx.commit().await?;
        Ok(Folded {
            events: batch.events,
            upper: Some(upper),
            lag_seconds,
        })
    }
}

/// The feed's columns as [`FoldEvent`] reads them (what the fold and the
/// followers need of each event).
pub const FEED_COLUMNS: &str = "sequence, create_time, kind, scope, status, event_date, province_code AS province,
    current_province_code AS current_province, coalesce(zone_id, '') AS zone, investor_country AS country, sector,
    coalesce(investor_id, 0) AS investor, coalesce(currency, '') AS currency, coalesce(amount, 0) AS amount,
    coalesce(amount_usd, 0) AS amount_usd, coalesce(amount_vnd, 0) AS amount_vnd";

/// A batch of the feed ready to fold: the events after a sequence,
/// aggregated in memory ([`Deltas`]) into the rows to append (CSV, in
/// [`ROLLUP_COLUMNS`] order) and the rows each projection's month gains.
#[derive(Debug, Default)]
pub struct Batch {
    /// The sequence the events follow.
    pub after: i64,
    /// The last event's sequence, when there is one.
    pub upper: Option<i64>,
    /// When ingest recorded the newest event.
    pub newest: Option<chrono::DateTime<chrono::Utc>>,
    /// Events in the batch.
    pub events: i64,
    /// The rows to append.
    rows: Vec<u8>,
    /// Rows appended by projection and month.
    partitions: Vec<(&'static str, NaiveDate, i64)>,
}

impl Batch {
    /// Aggregates the events that follow `after` (CPU work: off the async threads).
    ///
    /// # Errors
    /// When the rows cannot be written (never for the feed's values).
    pub fn prepare(after: i64, events: &[FoldEvent]) -> Result<Self> {
        let deltas = Deltas::of(events);
        let mut csv = csv::Writer::from_writer(Vec::with_capacity(deltas.rows.len() * 96));
        for (key, sums) in &deltas.rows {
            csv.write_record([
                key.projection.name(),
                &key.period.to_string(),
                key.kind,
                key.scope,
                key.status,
                key.current_province,
                key.province,
                key.zone,
                key.country,
                key.sector,
                &key.investor.to_string(),
                key.currency,
                &sums.events.to_string(),
                &sums.amount.to_string(),
                &sums.amount_usd.to_string(),
                &sums.amount_vnd.to_string(),
            ])
            .map_err(|e| sqlx::Error::Protocol(format!("writing the rollup rows: {e}")))?;
        }
        let rows = csv
            .into_inner()
            .map_err(|e| sqlx::Error::Protocol(format!("writing the rollup rows: {e}")))?;
        Ok(Self {
            after,
            upper: events.last().map(|e| e.sequence),
            newest: events.iter().map(|e| e.create_time).max(),
            events: i64::try_from(events.len()).unwrap_or(i64::MAX),
            rows,
            partitions: deltas
                .rows_by_partition()
                .into_iter()
                .map(|((projection, period), rows)| (projection.name(), period, rows))
                .collect(),
        })
    }
}

/// The (at most `limit`) events after `after`, in commit order, ready to
/// fold. Sequences commit in order, so what this reads is a prefix of all
/// that will ever follow `after`, and may be read ahead of the turn that folds it.
///
/// # Errors
/// When the database fails.
pub async fn read_batch(connection: &mut PgConnection, after: i64, limit: i64) -> Result<Batch> {
    let events: Vec<FoldEvent> = sqlx::query_as(&format!(
        "SELECT {FEED_COLUMNS} FROM {events} WHERE sequence > $1 ORDER BY sequence LIMIT $2",
        events = feed::EVENTS
    ))
    .bind(after)
    .bind(limit)
    .fetch_all(connection)
    .await?;
    tokio::task::spawn_blocking(move || Batch::prepare(after, &events))
        .await
        .map_err(|e| sqlx::Error::Protocol(format!("aggregating a batch: {e}")))?
}

/// The rollup's columns, in the order [`append`] writes them.
const ROLLUP_COLUMNS: &str = "projection, period, kind, scope, status, current_province, province, zone, country, \
                              sector, investor, currency, events, amount, amount_usd, amount_vnd";

/// Appends a batch's rows with `COPY` (CSV; an empty field is an empty
/// text, never NULL), the cheapest way into a table PostgreSQL has.
async fn append(tx: &mut PgConnection, rows: &[u8]) -> Result<()> {
    let mut copy = tx
        .copy_in_raw(&format!(
            "COPY rollup ({ROLLUP_COLUMNS}) FROM STDIN WITH (FORMAT csv, FORCE_NOT_NULL \
             (kind, scope, status, current_province, province, zone, country, sector, currency))"
        ))
        .await?;
    for chunk in rows.chunks(1 << 20) {
        copy.send(chunk).await?;
    }
    copy.finish().await?;
    Ok(())
}

/// Adds the rows each projection's month gained to what compaction weighs.
async fn count_partitions(tx: &mut PgConnection, partitions: &[(&str, NaiveDate, i64)]) -> Result<()> {
    let projections: Vec<&str> = partitions.iter().map(|(projection, _, _)| *projection).collect();
    let periods: Vec<NaiveDate> = partitions.iter().map(|(_, period, _)| *period).collect();
    let rows: Vec<i64> = partitions.iter().map(|(_, _, rows)| *rows).collect();
    sqlx::query(
        "INSERT INTO rollup_partitions AS r (projection, period, rows_added)
         SELECT * FROM unnest($1::text[], $2::date[], $3::bigint[])
         ON CONFLICT (projection, period) DO UPDATE SET rows_added = r.rows_added + EXCLUDED.rows_added",
    )
    .bind(&projections)
    .bind(&periods)
    .bind(&rows)
    .execute(tx)
    .await?;
    Ok(())
}

/// Records every event of projects seen with more than one `new` (or
/// `termination`) event in the batch `(after, upper]`, stamped with `upper`,
/// so distinct-project counts can subtract repeats: the projects first seen
/// now are remembered; a project with several such events in the batch, or
/// seen in an earlier one, has all its batch events recorded, and its first
/// event too when that came earlier (already there when it had been repeated
/// before: `ON CONFLICT DO NOTHING`).
async fn record_repeats(tx: &mut PgConnection, after: i64, upper: i64) -> Result<()> {
    let project_kinds = PROJECT_KINDS.map(EventKind::as_str);
    // The joins below are between a batch's own rows, which the planner cannot size while a load outruns
    // the feed's statistics; a nested loop between them would be quadratic, hashing stays linear.
    sqlx::query("SET LOCAL enable_nestloop = off").execute(&mut *tx).await?;
    let repeated: Vec<(String, String, i64)> = sqlx::query_as(&format!(
        "WITH b AS MATERIALIZED (
                  SELECT kind, project_ref, sequence FROM {events}
                  WHERE sequence > $1 AND sequence <= $2 AND kind = ANY($3)),
              first_seen AS (
                  INSERT INTO projects_seen (kind, project_ref, first_sequence)
                  SELECT DISTINCT ON (kind, project_ref) kind, project_ref, sequence FROM b
                  ORDER BY kind, project_ref, sequence
                  ON CONFLICT DO NOTHING
                  RETURNING kind, project_ref),
              repeated AS MATERIALIZED (
                  SELECT b.kind, b.project_ref FROM b LEFT JOIN first_seen f USING (kind, project_ref)
                  GROUP BY b.kind, b.project_ref
                  HAVING count(*) > 1 OR bool_and(f.project_ref IS NULL))
         SELECT b.kind, b.project_ref, b.sequence FROM b JOIN repeated USING (kind, project_ref)",
        events = feed::EVENTS
    ))
    .bind(after)
    .bind(upper)
    .bind(project_kinds.as_slice())
    .fetch_all(&mut *tx)
    .await?;
    sqlx::query("SET LOCAL enable_nestloop = on").execute(&mut *tx).await?;
    if repeated.is_empty() {
        return Ok(());
    }
    let mut sequences: Vec<i64> = repeated.iter().map(|(_, _, sequence)| *sequence).collect();
    let (kinds, refs): (Vec<String>, Vec<String>) = repeated.into_iter().map(|(k, r, _)| (k, r)).unzip();
    // Each repeated project's first event, which an earlier batch may hold.
    let firsts: Vec<(i64,)> = sqlx::query_as(
        "SELECT first_sequence FROM projects_seen
         WHERE (kind, project_ref) IN (SELECT * FROM unnest($1::text[], $2::text[]))",
    )
    .bind(&kinds)
    .bind(&refs)
    .fetch_all(&mut *tx)
    .await?;
    sequences.extend(firsts.into_iter().map(|(sequence,)| sequence));
    sqlx::query(&format!(
        "INSERT INTO repeats (kind, project_ref, sequence, event_date, scope, status, province, current_province,
                              zone, country, sector, investor, folded_at)
         SELECT kind, project_ref, sequence, event_date, scope, status, province_code, current_province_code,
                coalesce(zone_id, ''), investor_country, sector, coalesce(investor_id, 0), $2
         FROM {events} WHERE sequence = ANY($1)
         ON CONFLICT DO NOTHING",
        events = feed::EVENTS
    ))
    .bind(&sequences)
    .bind(upper)
    .execute(tx)
    .await?;
    Ok(())
}

/// Empties the rollups and rewinds the cursor, in one transaction, and
/// notifies [`RESET_CHANNEL`]; the consumer then rebuilds them from the first event.
///
/// # Errors
/// When the database fails.
pub async fn reset(pool: &PgPool) -> Result<()> {
    let mut tx = begin_locked(pool).await?;
    sqlx::query("TRUNCATE rollup, rollup_partitions, projects_seen, repeats")
        .execute(&mut *tx)
        .await?;
    set_cursor(&mut tx, 0).await?;
    sqlx::query("SELECT pg_notify($1, '')")
        .bind(RESET_CHANNEL)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// A transaction holding the appliers' lock (the service and a rebuild take turns).
async fn begin_locked(pool: &PgPool) -> Result<Transaction<'static, Postgres>> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(APPLY_LOCK)
        .execute(&mut *tx)
        .await?;
    Ok(tx)
}

async fn set_cursor(tx: &mut PgConnection, sequence: i64) -> Result<()> {
    sqlx::query("UPDATE consumer SET last_sequence = $1, update_time = now() WHERE id = 1")
        .bind(sequence)
        .execute(tx)
        .await?;
    Ok(())
}

/// A projection's month whose appended rows outweigh its compacted ones.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Partition {
    /// The projection.
    pub projection: String,
    /// The month's first day.
    pub period: NaiveDate,
    /// The rows appended since the last compaction, as read.
    pub rows_added: i64,
}

/// The partition most worth compacting, when one has gained at least as
/// many rows as compaction left it (and `min_rows` or more): each compaction
/// then rewrites at most about twice what was appended, so its cost stays
/// proportional to the folding.
///
/// # Errors
/// When the database fails.
pub async fn next_to_compact(pool: &PgPool, min_rows: i64) -> Result<Option<Partition>> {
    Ok(sqlx::query_as(
        "SELECT projection, period, rows_added FROM rollup_partitions
         WHERE rows_added > 0 AND rows_added >= greatest(rows_compacted, $1)
         ORDER BY rows_added DESC LIMIT 1",
    )
    .bind(min_rows)
    .fetch_optional(pool)
    .await?)
}

/// Merges a partition's rows into one per group, in one transaction:
/// readers see the same sums before and after. Folds may append to it
/// meanwhile; their rows stay, and are counted for the next compaction.
/// Returns the rows it left.
///
/// # Errors
/// When the database fails (nothing changes then).
pub async fn compact(pool: &PgPool, partition: &Partition) -> Result<i64> {
    let mut tx = pool.begin().await?;
    let (merged,): (i64,) = sqlx::query_as(
        "WITH moved AS (DELETE FROM rollup WHERE projection = $1 AND period = $2 RETURNING *),
              merged AS (
                  INSERT INTO rollup (projection, period, kind, scope, status, current_province, province, zone,
                                      country, sector, investor, currency, events, amount, amount_usd, amount_vnd)
                  SELECT projection, period, kind, scope, status, current_province, province, zone, country, sector,
                         investor, currency, sum(events), sum(amount), sum(amount_usd), sum(amount_vnd)
                  FROM moved
                  GROUP BY projection, period, kind, scope, status, current_province, province, zone, country,
                           sector, investor, currency
                  RETURNING 1)
         SELECT count(*) FROM merged",
    )
    .bind(&partition.projection)
    .bind(partition.period)
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE rollup_partitions SET rows_compacted = $3, rows_added = greatest(rows_added - $4, 0)
         WHERE projection = $1 AND period = $2",
    )
    .bind(&partition.projection)
    .bind(partition.period)
    .bind(merged)
    .bind(partition.rows_added)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(merged)
}
