//! Held rows: kept exactly as sent (as JSON) with the reason they wait,
//! one per idempotency key; listed, counted, read back in chunks for
//! re-processing, and released once settled.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use fdi_kit::telemetry::db_span;
use fdi_proto::ingest::{EventInput, HoldReason};
use sqlx::PgConnection;
use tracing::Instrument;

use super::{Result, Store};
use crate::model::{HeldCandidate, reason_from_name, reason_name};

/// A held row as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct HeldRow {
    /// Its id.
    pub id: i64,
    /// The row exactly as sent.
    pub row: EventInput,
    /// Why it is held.
    pub reason: HoldReason,
    /// Details for people.
    pub detail: String,
    /// The bulk load it came from, or empty.
    pub load_id: String,
    /// Its offset in that load.
    pub load_offset: i64,
    /// How many times it was sent or re-processed and held.
    pub attempts: i32,
    /// When it was first held.
    pub create_time: DateTime<Utc>,
    /// When it was last held.
    pub update_time: DateTime<Utc>,
    /// The key id of the API key that first sent it.
    pub creator: String,
}

/// The columns of a held row, in the order of [`HeldColumns`].
const HELD_COLUMNS: &str =
    "id, row_data, reason, detail, load_id, load_offset, attempts, create_time, update_time, creator";

type HeldColumns = (
    i64,
    serde_json::Value,
    String,
    String,
    String,
    i64,
    i32,
    DateTime<Utc>,
    DateTime<Utc>,
    String,
);

fn held_row(
    (id, data, reason, detail, load_id, load_offset, attempts, create_time, update_time, creator): HeldColumns,
) -> HeldRow {
    HeldRow {
        id,
        row: row_from_json(&data),
        reason: reason_from_name(&reason),
        detail,
        load_id,
        load_offset,
        attempts,
        create_time,
        update_time,
        creator,
    }
}

impl Store {
    /// The held row with id `id`.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn held_row(&self, id: i64) -> Result<Option<HeldRow>> {
        let row: Option<HeldColumns> = sqlx::query_as(&format!("SELECT {HELD_COLUMNS} FROM held_rows WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .instrument(db_span("SELECT", "held_rows"))
            .await?;
        Ok(row.map(held_row))
    }

    /// Up to `limit` held rows (held for `reason`, when given) after id `after`, by id.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn held_rows(&self, reason: Option<HoldReason>, after: i64, limit: i64) -> Result<Vec<HeldRow>> {
        let rows: Vec<HeldColumns> = sqlx::query_as(&format!(
            "SELECT {HELD_COLUMNS} FROM held_rows WHERE id > $1 AND ($2::text IS NULL OR reason = $2) ORDER BY id LIMIT $3"
        ))
        .bind(after)
        .bind(reason.map(reason_name))
        .bind(limit)
        .fetch_all(&self.pool)
        .instrument(db_span("SELECT", "held_rows"))
        .await?;
        Ok(rows.into_iter().map(held_row).collect())
    }

    /// How many rows are held (for `reason`, when given).
    ///
    /// # Errors
    /// When the database fails.
    pub async fn count_held(&self, reason: Option<HoldReason>) -> Result<i64> {
        let (total,): (i64,) = sqlx::query_as("SELECT count(*) FROM held_rows WHERE ($1::text IS NULL OR reason = $1)")
            .bind(reason.map(reason_name))
            .fetch_one(&self.pool)
            .instrument(db_span("SELECT", "held_rows"))
            .await?;
        Ok(total)
    }

    /// Up to `limit` held rows to re-process after id `after`, by id, as
    /// (id, row, the key that sent it): those held for `reason` when given,
    /// among `ids` unless empty.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn held_chunk(
        &self,
        reason: Option<HoldReason>,
        ids: &[i64],
        after: i64,
        limit: i64,
    ) -> Result<Vec<(i64, EventInput, String)>> {
        let rows: Vec<(i64, serde_json::Value, String)> = sqlx::query_as(
            "SELECT id, row_data, creator FROM held_rows
             WHERE id > $1 AND ($2::text IS NULL OR reason = $2) AND (cardinality($3::bigint[]) = 0 OR id = ANY($3))
             ORDER BY id LIMIT $4",
        )
        .bind(after)
        .bind(reason.map(reason_name))
        .bind(ids)
        .bind(limit)
        .fetch_all(&self.pool)
        .instrument(db_span("SELECT", "held_rows"))
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, data, creator)| (id, row_from_json(&data), creator))
            .collect())
    }

    /// Releases the held rows `ids` (settled: recorded or refused for good).
    ///
    /// # Errors
    /// When the database fails.
    pub async fn release_held(&self, ids: &[i64]) -> Result<()> {
        sqlx::query("DELETE FROM held_rows WHERE id = ANY($1)")
            .bind(ids)
            .execute(&self.pool)
            .instrument(db_span("DELETE", "held_rows"))
            .await?;
        Ok(())
    }
}

/// What holding a row under its key came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeldId {
    /// Held as row `id`: new, or held already with the same content.
    Kept(i64),
    /// The key is held already as row `id` with other content, which stays as it was.
    Other(i64),
}

/// Holds rows, one per key (inside the batch's transaction), in one
/// statement: a key held already with the same content has its reason
/// refreshed and its attempts counted (its creator stays the key that first
/// sent it); one held with other content is left unchanged (the caller
/// reports a conflict). Returns what each key came to.
pub(super) async fn insert(tx: &mut PgConnection, rows: &[&HeldCandidate]) -> Result<HashMap<String, HeldId>> {
    let keys: Vec<&str> = rows.iter().map(|r| r.key()).collect();
    let digests: Vec<&[u8]> = rows.iter().map(|r| r.digest.as_slice()).collect();
    let data: Vec<serde_json::Value> = rows.iter().map(|r| row_to_json(&r.input)).collect();
    let reasons: Vec<&str> = rows.iter().map(|r| reason_name(r.reason)).collect();
    let details: Vec<&str> = rows.iter().map(|r| r.detail.as_str()).collect();
    let loads: Vec<&str> = rows
        .iter()
        .map(|r| r.load.as_ref().map_or("", |l| &l.load_id))
        .collect();
    let offsets: Vec<i64> = rows.iter().map(|r| r.load.as_ref().map_or(0, |l| l.offset)).collect();
    let creators: Vec<&str> = rows.iter().map(|r| r.creator.as_str()).collect();
    // The outer SELECT sees held_rows as they were before the INSERT: a key
    // the upsert skipped (other content) finds its existing row there.
    let ids: Vec<(String, i64, bool)> = sqlx::query_as(
        "WITH input AS (
             SELECT DISTINCT ON (k) k, d, r, re, de, l, o, cr
             FROM unnest($1::text[], $2::bytea[], $3::jsonb[], $4::text[], $5::text[], $6::text[], $7::bigint[],
                         $8::text[])
                  AS t(k, d, r, re, de, l, o, cr)
         ), held AS (
             INSERT INTO held_rows (idempotency_key, content_digest, row_data, reason, detail, load_id, load_offset,
                                    creator)
             SELECT k, d, r, re, de, l, o, cr FROM input
             ON CONFLICT (idempotency_key) DO UPDATE SET
                 reason = EXCLUDED.reason, detail = EXCLUDED.detail,
                 attempts = held_rows.attempts + 1, update_time = now()
             WHERE held_rows.content_digest = EXCLUDED.content_digest
             RETURNING idempotency_key, id
         )
         SELECT input.k, coalesce(held.id, existing.id), held.id IS NOT NULL
         FROM input
         LEFT JOIN held ON held.idempotency_key = input.k
         LEFT JOIN held_rows existing ON existing.idempotency_key = input.k
         WHERE held.id IS NOT NULL OR existing.id IS NOT NULL",
    )
    .bind(keys)
    .bind(digests)
    .bind(data)
    .bind(reasons)
    .bind(details)
    .bind(loads)
    .bind(offsets)
    .bind(creators)
    .fetch_all(&mut *tx)
    .await?;
    Ok(ids
        .into_iter()
        .map(|(key, id, kept)| (key, if kept { HeldId::Kept(id) } else { HeldId::Other(id) }))
        .collect())
}

/// Releases the held rows of keys recorded now (inside the batch's transaction).
pub(super) async fn release_recorded(tx: &mut PgConnection, recorded: &HashMap<String, i64>) -> Result<()> {
    let keys: Vec<&String> = recorded.keys().collect();
    sqlx::query("DELETE FROM held_rows WHERE idempotency_key = ANY($1)")
        .bind(&keys)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// The fields of a row as JSON (held rows keep the row exactly as sent).
fn row_to_json(row: &EventInput) -> serde_json::Value {
    serde_json::json!({
        "idempotency_key": row.idempotency_key, "kind": row.kind, "event_date": row.event_date,
        "project_ref": row.project_ref, "project_name": row.project_name, "investor": row.investor,
        "investor_country": row.investor_country, "zone": row.zone, "province": row.province,
        "sector": row.sector, "amount": row.amount, "currency": row.currency, "scope": row.scope,
        "status": row.status, "source": row.source,
    })
}

/// A row from its JSON form.
fn row_from_json(value: &serde_json::Value) -> EventInput {
    let field = |name: &str| {
        value
            .get(name)
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    EventInput {
        idempotency_key: field("idempotency_key"),
        kind: field("kind"),
        event_date: field("event_date"),
        project_ref: field("project_ref"),
        project_name: field("project_name"),
        investor: field("investor"),
        investor_country: field("investor_country"),
        zone: field("zone"),
        province: field("province"),
        sector: field("sector"),
        amount: field("amount"),
        currency: field("currency"),
        scope: field("scope"),
        status: field("status"),
        source: field("source"),
    }
}
