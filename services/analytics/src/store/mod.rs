//! The analytics service's storage: every SQL statement of the service, one
//! file per query family, returning domain types or a [`StoreError`].
//!
//! The service owns the `analytics` schema (the rollups, the consumer's
//! cursor, the repeated projects) and reads ingest's data only through the
//! feed ingest publishes, the views and channel named in [`fdi_kit::feed`];
//! never ingest's tables.
//!
//! - [`rollups`]: the leader's writes (batches folded exactly once, the cursor, a reset);
//! - [`lease`]: which replica leads (folds the feed into the rollups);
//! - [`batches`]: what every replica reads to fold the same batches into memory;
//! - [`notifications`]: what wakes the consumer (ingest's commits, folds, resets);
//! - [`figures`]: sums of the rollups, the SQL path of every figure;
//! - [`snapshot`]: the monthly rollups as the in-memory cube loads them;
//! - [`targets`] and [`reported`]: ingest's targets and reported statistics.

pub mod batches;
pub mod figures;
pub mod lease;
pub mod notifications;
pub mod reported;
pub mod rollups;
pub mod snapshot;
pub mod targets;

use fdi_kit::{config::DatabaseConfig, db, feed};
use sqlx::{PgPool, migrate::Migrator};

use crate::SCHEMA;

/// The schema's migrations (`fdi db migrate` applies every schema's).
pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// A statement of the store failed: the database could not be reached, or a query failed.
#[derive(Debug, thiserror::Error)]
#[error("the analytics database: {0}")]
pub struct StoreError(#[from] sqlx::Error);

impl StoreError {
    /// The database's error, for the one mapping to a status (which tells
    /// an unreachable database from a failed query).
    #[must_use]
    pub fn database_error(&self) -> &sqlx::Error {
        &self.0
    }
}

/// Shorthand for store results.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Creates the analytics schema when missing and applies its migrations
/// (as the migration role when `database` names one).
///
/// # Errors
/// When the database is unreachable or a migration fails.
pub async fn migrate(database: &DatabaseConfig, pool: &PgPool) -> Result<(), db::MigrationError> {
    db::migrate(database, pool, SCHEMA, &MIGRATOR).await
}

/// Checks that ingest's feed exists (ingest's migrations have run): the rollups follow it.
///
/// # Errors
/// When the feed's events view is not there, or the database is unreachable.
pub async fn check_feed(pool: &PgPool) -> Result<()> {
    sqlx::query(&format!("SELECT 1 FROM {} LIMIT 0", feed::EVENTS))
        .execute(pool)
        .await?;
    Ok(())
}
