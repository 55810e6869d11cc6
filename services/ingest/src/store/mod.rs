//! All of the service's SQL, one module per resource or family of queries:
//! the batch write (events, held rows and load progress in one
//! transaction), events, held rows, bulk loads, exchange rates, targets,
//! documents with their reported statistics, and reported projects.
//!
//! Calls return the service's own types and fail with [`StoreError`]; what a
//! client sees of a failure is decided by the API layer (`crate::error`).

mod batch;
mod documents;
mod events;
mod held;
mod loads;
mod projects;
mod rates;
mod targets;

use fdi_kit::config::DatabaseConfig;
use sqlx::{PgPool, migrate::Migrator};

pub use self::{
    batch::Written,
    documents::{Document, DocumentRecord, NewDocument, Saved, Statistic, StatisticFacts, StatisticFilter},
    events::EventFilter,
    held::HeldRow,
    loads::BulkLoad,
    projects::{Project, ProjectFacts},
    rates::{ExchangeRate, SHIPPED},
    targets::Target,
};

/// The database schema this service owns.
pub const SCHEMA: &str = "ingest";

/// The schema's migrations (`fdi db migrate` applies every schema's).
pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// What a store call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database failed or could not be reached.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// Another stream advanced the bulk load since this batch was prepared.
    #[error("bulk load `{load_id}` was advanced by another stream")]
    LoadAdvanced {
        /// The load.
        load_id: String,
    },
}

/// Which events or statistics a province selects: today's province what lies
/// in it today, a former province what was recorded under it; neither, all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProvinceFilter {
    /// Today's province.
    pub current: Option<String>,
    /// A province as recorded.
    pub recorded: Option<String>,
}

/// Shorthand for store results.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The service's tables, reached through one pool.
#[derive(Debug, Clone)]
pub struct Store {
    pool: PgPool,
}

impl Store {
    /// The store on `pool` (whose search path is [`SCHEMA`]).
    #[must_use]
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    /// Creates the schema when missing and applies the migrations (as the
    /// migration role when `database` names one).
    ///
    /// # Errors
    /// When the database is unreachable or a migration fails.
    pub async fn migrate(&self, database: &DatabaseConfig) -> Result<(), fdi_kit::db::MigrationError> {
        fdi_kit::db::migrate(database, &self.pool, SCHEMA, &MIGRATOR).await
    }
}
