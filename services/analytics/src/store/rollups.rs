//! The consumer's writes: each batch of the feed's events is folded into the
//! rollups in the transaction that moves the cursor, so every event is
//! applied exactly once; [`reset`] empties them for a rebuild.

use fdi_kit::{domain::EventKind, feed};
use sqlx::{PgConnection, PgPool, Postgres, Transaction};

use super::Result;

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

    /// The sequence that ends the next batch of at most `limit` events after
    /// the cursor; `None` when there is none (caught up).
    ///
    /// # Errors
    /// When the database fails.
    pub async fn next_batch_end(&mut self, limit: i64) -> Result<Option<i64>> {
        let (upper,): (Option<i64>,) = sqlx::query_as(&format!(
            "SELECT max(sequence) FROM (SELECT sequence FROM {events} WHERE sequence > $1 ORDER BY sequence LIMIT $2) s",
            events = feed::EVENTS
        ))
        .bind(self.cursor)
        .bind(limit)
        .fetch_one(&mut *self.tx)
        .await?;
        Ok(upper)
    }

    /// Folds the events after the cursor up to `upper` into the rollups
    /// (one append per projection, a row per group), records repeated
    /// projects, moves the cursor, notifies [`FOLDED_CHANNEL`] and commits.
    ///
    /// # Errors
    /// When the database fails (nothing is applied then).
    pub async fn fold(mut self, upper: i64) -> Result<Folded> {
        let tx = &mut *self.tx;
        // Room to aggregate a whole batch in memory (the default spills to disk).
        sqlx::query("SET LOCAL work_mem = '64MB'").execute(&mut *tx).await?;
        sqlx::query(&format!(
            "CREATE TEMP TABLE batch ON COMMIT DROP AS
             SELECT sequence, kind, scope, status, event_date, project_ref, province_code AS province,
                    current_province_code AS current_province, coalesce(zone_id, '') AS zone,
                    investor_country AS country, sector, coalesce(investor_id, 0) AS investor,
                    coalesce(currency, '') AS currency, coalesce(amount, 0) AS amount,
                    coalesce(amount_usd, 0) AS amount_usd, coalesce(amount_vnd, 0) AS amount_vnd, create_time
             FROM {events} WHERE sequence > $1 AND sequence <= $2",
            events = feed::EVENTS
        ))
        .bind(self.cursor)
        .bind(upper)
        .execute(&mut *tx)
        .await?;
        for projection in PROJECTIONS {
            sqlx::query(&append_sql(projection)).execute(&mut *tx).await?;
        }
        track_repeated_projects(tx, upper).await?;
        // How long the newest of these events waited since ingest recorded it (the database's clock).
        let (events, lag_seconds): (i64, f64) = sqlx::query_as(
            "SELECT count(*), coalesce(extract(epoch FROM clock_timestamp() - max(create_time))::float8, 0) FROM batch",
        )
        .fetch_one(&mut *tx)
        .await?;
        set_cursor(tx, upper).await?;
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(FOLDED_CHANNEL)
            .bind(upper.to_string())
            .execute(&mut *tx)
            .await?;
        self.tx.commit().await?;
        Ok(Folded { events, lag_seconds })
    }
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

/// One projection of the rollups: its name and the dimensions it keeps
/// besides kind, scope, status, today's province and currency.
struct Projection {
    name: &'static str,
    dims: &'static [&'static str],
}

const PROJECTIONS: &[Projection] = &[
    Projection {
        name: "province",
        dims: &["province"],
    },
    Projection {
        name: "zone",
        dims: &["zone"],
    },
    Projection {
        name: "country",
        dims: &["country"],
    },
    Projection {
        name: "sector",
        dims: &["sector"],
    },
    Projection {
        name: "investor",
        dims: &["investor"],
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

/// Appends one row per group of the batch to a projection, and counts the
/// rows each month gained for compaction.
fn append_sql(projection: &Projection) -> String {
    let select_dims: Vec<&str> = ALL_DIMS
        .iter()
        .map(|(dim, empty)| if projection.dims.contains(dim) { *dim } else { *empty })
        .collect();
    let group_dims = projection.dims.join(", ");
    format!(
        "WITH appended AS (
             INSERT INTO rollup (projection, period, kind, scope, status, current_province, province, zone, country,
                                 sector, investor, currency, events, amount, amount_usd, amount_vnd)
             SELECT '{name}', date_trunc('month', event_date)::date AS p, kind, scope, status, current_province,
                    {dims}, currency, count(*), sum(amount), sum(amount_usd), sum(amount_vnd)
             FROM batch GROUP BY p, kind, scope, status, current_province, {group_dims}, currency
             RETURNING period)
         INSERT INTO rollup_partitions AS r (projection, period, rows_added)
         SELECT '{name}', period, count(*) FROM appended GROUP BY period
         ON CONFLICT (projection, period) DO UPDATE SET rows_added = r.rows_added + EXCLUDED.rows_added",
        name = projection.name,
        dims = select_dims.join(", "),
    )
}

/// A projection's month whose appended rows outweigh its compacted ones.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Partition {
    /// The projection.
    pub projection: String,
    /// The month's first day.
    pub period: chrono::NaiveDate,
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

/// Records every event of projects seen with more than one `new` (or
/// `termination`) event, stamped with the batch's cursor `folded_at`, so
/// distinct-project counts can subtract repeats.
async fn track_repeated_projects(tx: &mut PgConnection, folded_at: i64) -> Result<()> {
    let project_kinds = PROJECT_KINDS.map(EventKind::as_str);
    let repeated: Vec<(String, String)> = sqlx::query_as(
        "WITH b AS (SELECT kind, project_ref, sequence FROM batch WHERE kind = ANY($1)),
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
    .bind(project_kinds.as_slice())
    .fetch_all(&mut *tx)
    .await?;
    if repeated.is_empty() {
        return Ok(());
    }
    let (kinds, refs): (Vec<String>, Vec<String>) = repeated.into_iter().unzip();
    sqlx::query(&format!(
        "INSERT INTO repeats (kind, project_ref, sequence, event_date, scope, status, province, current_province,
                              zone, country, sector, investor, folded_at)
         SELECT kind, project_ref, sequence, event_date, scope, status, province, current_province, zone, country,
                sector, investor, $3
         FROM batch WHERE (kind, project_ref) IN (SELECT * FROM unnest($1::text[], $2::text[]))
         UNION ALL
         SELECT e.kind, e.project_ref, e.sequence, e.event_date, e.scope, e.status, e.province_code,
                e.current_province_code, coalesce(e.zone_id, ''), e.investor_country, e.sector,
                coalesce(e.investor_id, 0), $3
         FROM projects_seen s JOIN {events} e ON e.sequence = s.first_sequence
         WHERE (s.kind, s.project_ref) IN (SELECT * FROM unnest($1::text[], $2::text[]))
         ON CONFLICT DO NOTHING",
        events = feed::EVENTS
    ))
    .bind(&kinds)
    .bind(&refs)
    .bind(folded_at)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_keep_each_projections_dimensions() {
        let country = append_sql(&PROJECTIONS[2]);
        assert!(country.contains("status, current_province,\n                    '', '', country, '', 0, currency"));
        assert!(country.contains("GROUP BY p, kind, scope, status, current_province, country, currency"));
        let province = append_sql(&PROJECTIONS[0]);
        assert!(province.contains("province, '', '', '', 0, currency"));
    }
}
