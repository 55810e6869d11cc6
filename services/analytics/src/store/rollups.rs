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
    /// (one upsert per projection, a row per group), records repeated
    /// projects, moves the cursor, notifies [`FOLDED_CHANNEL`] and commits.
    ///
    /// # Errors
    /// When the database fails (nothing is applied then).
    pub async fn fold(mut self, upper: i64) -> Result<Folded> {
        let tx = &mut *self.tx;
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
            sqlx::query(&upsert_sql(projection)).execute(&mut *tx).await?;
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
    sqlx::query("TRUNCATE rollup, projects_seen, repeats")
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
    let select_dims: Vec<&str> = ALL_DIMS
        .iter()
        .map(|(dim, empty)| if projection.dims.contains(dim) { *dim } else { *empty })
        .collect();
    let group_dims = projection.dims.join(", ");
    format!(
        "INSERT INTO rollup AS r (projection, grain, period, kind, scope, status, current_province, province, zone,
                                country, sector, investor, currency, events, amount, amount_usd, amount_vnd)
         SELECT '{name}', '{grain}', {period} AS p, kind, scope, status, current_province, {dims}, currency,
                count(*), sum(amount), sum(amount_usd), sum(amount_vnd)
         FROM batch GROUP BY p, kind, scope, status, current_province, {group_dims}, currency
         ON CONFLICT (projection, grain, current_province, period, kind, scope, status, province, zone, country,
                      sector, investor, currency)
         DO UPDATE SET events = r.events + EXCLUDED.events, amount = r.amount + EXCLUDED.amount,
                       amount_usd = r.amount_usd + EXCLUDED.amount_usd, amount_vnd = r.amount_vnd + EXCLUDED.amount_vnd",
        name = projection.name,
        grain = projection.grain,
        dims = select_dims.join(", "),
    )
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
    fn upserts_keep_each_projections_dimensions() {
        let country = upsert_sql(&PROJECTIONS[3]);
        assert!(country.contains("status, current_province, province, '', country, '', 0, currency"));
        assert!(country.contains("GROUP BY p, kind, scope, status, current_province, province, country, currency"));
        assert!(upsert_sql(&PROJECTIONS[0]).contains("'d', event_date AS p"));
    }
}
