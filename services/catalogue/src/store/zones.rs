//! Zones: all of them (for the snapshot), one by id, filtered pages, create,
//! and update under a row lock (both notify the catalogue's channel).

use fdi_kit::telemetry::db_span;
use sqlx::{PgExecutor, Postgres, postgres::PgArguments, query::QueryAs};
use tracing::Instrument;

use super::{Resource, Store, StoreError, StoreResult, changes};
use crate::model::{NewZone, ZoneFields, ZoneRecord};

/// The columns of [`ZoneRecord`], in order.
const COLUMNS: &str = "id, display_name, kind, province_code, original_province_code, area_ha, status, developer, \
    aliases, notes, source_url, revision, create_time, update_time, creator, updater";

/// `INSERT` of a zone's id and fields, bound by [`bind_zone`], and of its
/// creator (`$12`, also its first updater).
const INSERT: &str = "INSERT INTO zones (id, display_name, kind, province_code, original_province_code, area_ha, \
    status, developer, aliases, notes, source_url, creator, updater) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)";

/// Who the shipped zones are recorded as created by, in place of a key id.
const SEED: &str = "seed";

/// Which zones a list shows; `None` restricts nothing.
#[derive(Debug, Clone, Default)]
pub struct ZoneFilter {
    /// Zones in this province today.
    pub province: Option<String>,
    /// Zones recorded under this (pre-2025) province.
    pub original_province: Option<String>,
    /// Zones of this stored kind.
    pub kind: Option<&'static str>,
}

/// Binds a zone's id as `$1` and its fields as `$2` to `$11`, in the order of [`INSERT`].
fn bind_zone<'q>(sql: &'q str, id: &'q str, fields: &'q ZoneFields) -> QueryAs<'q, Postgres, ZoneRecord, PgArguments> {
    sqlx::query_as(sql)
        .bind(id)
        .bind(&fields.display_name)
        .bind(&fields.kind)
        .bind(&fields.province_code)
        .bind(&fields.original_province_code)
        .bind(fields.area_ha)
        .bind(&fields.status)
        .bind(&fields.developer)
        .bind(&fields.aliases)
        .bind(&fields.notes)
        .bind(&fields.source_url)
}

/// Adds a shipped zone, created by [`SEED`], unless its id exists (user
/// edits are kept). A zone of that id stored before creators were recorded
/// (creator `unknown`, see `0002_creator.sql`) is claimed by the seed, and
/// so is its updater unless it has been updated since.
pub(super) async fn insert_if_new(executor: impl PgExecutor<'_>, zone: &NewZone) -> Result<(), sqlx::Error> {
    let sql = format!(
        "{INSERT} ON CONFLICT (id) DO UPDATE SET creator = EXCLUDED.creator,
            updater = CASE WHEN zones.revision = 1 THEN EXCLUDED.updater ELSE zones.updater END
         WHERE zones.creator = 'unknown'
         RETURNING {COLUMNS}"
    );
    bind_zone(&sql, &zone.id, &zone.fields)
        .bind(SEED)
        .fetch_optional(executor)
        .await?;
    Ok(())
}

impl Store {
    /// Every zone.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn zones(&self) -> StoreResult<Vec<ZoneRecord>> {
        Ok(sqlx::query_as(&format!("SELECT {COLUMNS} FROM zones"))
            .fetch_all(&self.pool)
            .await?)
    }

    /// The zone with this id, if any.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn zone(&self, id: &str) -> StoreResult<Option<ZoneRecord>> {
        Ok(sqlx::query_as(&format!("SELECT {COLUMNS} FROM zones WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .instrument(db_span("SELECT", "zones"))
            .await?)
    }

    /// Up to `limit` zones matching `filter` with ids after `after`, by id,
    /// and how many match in all.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn list_zones(
        &self,
        filter: &ZoneFilter,
        after: Option<&str>,
        limit: i64,
    ) -> StoreResult<(Vec<ZoneRecord>, i64)> {
        let matching = "($1::text IS NULL OR province_code = $1) AND ($2::text IS NULL OR original_province_code = $2)
                  AND ($3::text IS NULL OR kind = $3)";
        let zones = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM zones WHERE {matching} AND ($4::text IS NULL OR id > $4) ORDER BY id LIMIT $5"
        ))
        .bind(&filter.province)
        .bind(&filter.original_province)
        .bind(filter.kind)
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .instrument(db_span("SELECT", "zones"))
        .await?;
        let (total,): (i64,) = sqlx::query_as(&format!("SELECT count(*) FROM zones WHERE {matching}"))
            .bind(&filter.province)
            .bind(&filter.original_province)
            .bind(filter.kind)
            .fetch_one(&self.pool)
            .instrument(db_span("SELECT", "zones"))
            .await?;
        Ok((zones, total))
    }

    /// Creates a zone for the key `creator`, and tells every replica on commit.
    ///
    /// # Errors
    /// [`StoreError::UniqueViolation`] when the id is taken; else when the database fails.
    pub async fn create_zone(&self, zone: &NewZone, creator: &str) -> StoreResult<ZoneRecord> {
        let mut tx = self.pool.begin().await?;
        let sql = format!("{INSERT} RETURNING {COLUMNS}");
        let created = bind_zone(&sql, &zone.id, &zone.fields)
            .bind(creator)
            .fetch_one(&mut *tx)
            .instrument(db_span("INSERT", "zones"))
            .await
            .map_err(|error| {
                if fdi_kit::db::is_unique_violation(&error) {
                    StoreError::UniqueViolation {
                        resource: Resource::Zone,
                        existing: Some(zone.id.clone()),
                    }
                } else {
                    error.into()
                }
            })?;
        changes::notify(&mut tx, &self.origin, &format!("zones/{}", created.id)).await?;
        tx.commit().await?;
        Ok(created)
    }

    /// Rewrites a zone's fields with what `edit` makes of the stored zone,
    /// which stays locked in between (no other write interleaves); a new
    /// revision, by the key `updater`, told to every replica on commit.
    /// `Ok(None)` when there is no such zone; an error from `edit` leaves the
    /// zone unchanged.
    ///
    /// # Errors
    /// `edit`'s error, or when the database fails.
    pub async fn update_zone<E: From<StoreError>>(
        &self,
        id: &str,
        updater: &str,
        edit: impl FnOnce(ZoneRecord) -> Result<ZoneFields, E>,
    ) -> Result<Option<ZoneRecord>, E> {
        let mut tx = self.pool.begin().await.map_err(StoreError::from)?;
        let current: Option<ZoneRecord> =
            sqlx::query_as(&format!("SELECT {COLUMNS} FROM zones WHERE id = $1 FOR UPDATE"))
                .bind(id)
                .fetch_optional(&mut *tx)
                .instrument(db_span("SELECT", "zones"))
                .await
                .map_err(StoreError::from)?;
        let Some(current) = current else {
            return Ok(None);
        };
        let fields = edit(current)?;
        let sql = format!(
            "UPDATE zones SET display_name = $2, kind = $3, province_code = $4, original_province_code = $5,
                    area_ha = $6, status = $7, developer = $8, aliases = $9, notes = $10, source_url = $11,
                    revision = revision + 1, update_time = now(), updater = $12
             WHERE id = $1 RETURNING {COLUMNS}"
        );
        let updated = bind_zone(&sql, id, &fields)
            .bind(updater)
            .fetch_one(&mut *tx)
            .instrument(db_span("UPDATE", "zones"))
            .await
            .map_err(StoreError::from)?;
        changes::notify(&mut tx, &self.origin, &format!("zones/{id}"))
            .await
            .map_err(StoreError::from)?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(Some(updated))
    }
}
