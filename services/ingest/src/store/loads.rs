//! Bulk loads: where each stands (the offset reached and the rows counted
//! by outcome), created on first sight and advanced by each batch under an
//! optimistic check, so two streams never both advance one load.

use chrono::{DateTime, Utc};
use fdi_kit::telemetry::db_span;
use sqlx::PgConnection;
use tracing::Instrument;

use super::{Result, Store, StoreError};
use crate::model::{LoadStep, Tally};

/// Where a bulk load stands.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct BulkLoad {
    /// Rows before this offset are decided.
    pub offset_reached: i64,
    /// Rows recorded.
    pub accepted: i64,
    /// Rows recorded before.
    pub duplicates: i64,
    /// Rows held.
    pub held: i64,
    /// Rows rejected or conflicting.
    pub rejected: i64,
    /// When the load started.
    pub create_time: DateTime<Utc>,
    /// When it last advanced.
    pub update_time: DateTime<Utc>,
    /// The content digest of the rows before `offset_reached` (`fdi_kit::load_digest`; empty for none).
    pub content_digest: Vec<u8>,
}

impl Store {
    /// The offset load `load_id` has reached and the content digest of the
    /// rows before it, creating the load on first sight.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn open_load(&self, load_id: &str) -> Result<(i64, Vec<u8>)> {
        sqlx::query("INSERT INTO bulk_loads (load_id) VALUES ($1) ON CONFLICT DO NOTHING")
            .bind(load_id)
            .execute(&self.pool)
            .instrument(db_span("INSERT", "bulk_loads"))
            .await?;
        Ok(
            sqlx::query_as("SELECT offset_reached, content_digest FROM bulk_loads WHERE load_id = $1")
                .bind(load_id)
                .fetch_one(&self.pool)
                .instrument(db_span("SELECT", "bulk_loads"))
                .await?,
        )
    }

    /// Where load `load_id` stands; `None` when there is no such load.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn bulk_load(&self, load_id: &str) -> Result<Option<BulkLoad>> {
        Ok(sqlx::query_as(
            "SELECT offset_reached, accepted, duplicates, held, rejected, create_time, update_time, content_digest
             FROM bulk_loads WHERE load_id = $1",
        )
        .bind(load_id)
        .fetch_optional(&self.pool)
        .instrument(db_span("SELECT", "bulk_loads"))
        .await?)
    }
}

/// Advances the load by one batch whose written rows came out as `written`
/// (inside the batch's transaction).
///
/// # Errors
/// [`StoreError::LoadAdvanced`] when the load no longer stands where the batch expects.
pub(super) async fn advance(tx: &mut PgConnection, step: &LoadStep, written: Tally) -> Result<()> {
    let moved = sqlx::query(
        "UPDATE bulk_loads SET offset_reached = $3, accepted = accepted + $4, duplicates = duplicates + $5,
                held = held + $6, rejected = rejected + $7, content_digest = $8, update_time = now()
         WHERE load_id = $1 AND offset_reached = $2",
    )
    .bind(&step.load_id)
    .bind(step.expected_offset)
    .bind(step.new_offset)
    .bind(written.accepted)
    .bind(written.duplicates)
    .bind(written.held)
    .bind(step.rejected + written.rejected)
    .bind(&step.new_digest)
    .execute(&mut *tx)
    .await?;
    if moved.rows_affected() == 1 {
        Ok(())
    } else {
        Err(StoreError::LoadAdvanced {
            load_id: step.load_id.clone(),
        })
    }
}
