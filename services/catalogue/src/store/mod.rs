//! All of the catalogue's SQL, one file per resource: reads and writes that
//! take and return the domain types of [`crate::model`] and fail with a
//! [`StoreError`]. What a client is told about a failure is decided above,
//! in [`crate::error`].

mod changes;
mod investors;
mod provinces;
mod seed;
mod zones;

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{SystemTime, UNIX_EPOCH},
};

use fdi_kit::config::DatabaseConfig;
use sqlx::{PgPool, migrate::Migrator};

pub use changes::{CHANNEL, Change, Changes};
pub use investors::{Ensured, InvestorFilter};
pub use zones::ZoneFilter;

/// The schema's migrations (`fdi db migrate` applies every schema's).
pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// What a storage call fails with.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database failed or could not be reached.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// A write would have given a second resource a key that must be unique.
    #[error("a {} with this key already exists ({})", resource.noun(), existing.as_deref().unwrap_or("unknown"))]
    UniqueViolation {
        /// The kind of resource written.
        resource: Resource,
        /// The id of the resource that holds the key, when it could be found.
        existing: Option<String>,
    },
    /// The schema could not be created or migrated.
    #[error("migrations: {0}")]
    Migration(#[from] fdi_kit::db::MigrationError),
    /// A row of the shipped reference data was refused.
    #[error("seeding {row}: {source}")]
    Seed {
        /// Which row, e.g. `province bac-ninh`.
        row: String,
        /// Why.
        source: sqlx::Error,
    },
}

/// The resources whose keys are unique.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    /// A zone: its id.
    Zone,
    /// An investor: its legal name's match key.
    Investor,
}

impl Resource {
    /// The resource's name in prose.
    #[must_use]
    pub fn noun(self) -> &'static str {
        match self {
            Self::Zone => "zone",
            Self::Investor => "investor",
        }
    }
}

/// Shorthand for storage results.
pub type StoreResult<T> = Result<T, StoreError>;

/// The catalogue's tables, through the service's pool (its search path is
/// the catalogue schema).
#[derive(Debug, Clone)]
pub struct Store {
    pool: PgPool,
    /// What tells this store's writes from other stores' (other replicas')
    /// in the notifications on [`CHANNEL`]: new for each store.
    origin: Arc<str>,
}

impl Store {
    /// A store over `pool`, with an origin of its own.
    #[must_use]
    pub fn new(pool: PgPool) -> Self {
        Self {
            pool,
            origin: new_origin().into(),
        }
    }

    /// Creates the schema when missing and applies the migrations (as the
    /// migration role when `database` names one).
    ///
    /// # Errors
    /// When the database is unreachable or a migration fails.
    pub async fn migrate(&self, database: &DatabaseConfig) -> StoreResult<()> {
        Ok(fdi_kit::db::migrate(database, &self.pool, crate::SCHEMA, &MIGRATOR).await?)
    }
}

/// 16 hex digits from the OS's randomness; should that ever fail, the
/// process, the clock and a counter, which still tell stores apart.
fn new_origin() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut bytes = [0u8; 8];
    if getrandom::fill(&mut bytes).is_ok() {
        return bytes.iter().map(|byte| format!("{byte:02x}")).collect();
    }
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos());
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{}-{nanos}-{count}", std::process::id())
}
