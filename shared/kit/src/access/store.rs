//! The key table (schema `access`), read by every service and written by the
//! catalogue's AccessService and `fdi keys bootstrap`.

use chrono::{DateTime, Utc};
use sqlx::{PgPool, Row, migrate::Migrator, postgres::PgRow};

use super::Role;
use crate::{config::DatabaseConfig, db, domain::ProvinceCode};

/// The schema of the key table.
pub const SCHEMA: &str = "access";

/// The schema's migrations (`fdi db migrate` applies every schema's).
pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations/access");

/// A key as stored: everything but its secret.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyRecord {
    /// The public key id.
    pub key_id: String,
    /// Argon2id hash of the whole key.
    pub secret_hash: String,
    /// What it may do.
    pub role: Role,
    /// A writer's provinces.
    pub provinces: Vec<ProvinceCode>,
    /// What it is for.
    pub description: String,
    /// Who created it.
    pub creator: String,
    /// When.
    pub create_time: DateTime<Utc>,
    /// When it stops working.
    pub expire_time: Option<DateTime<Utc>>,
    /// When it was revoked.
    pub revoke_time: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for KeyRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRecord")
            .field("key_id", &self.key_id)
            .field("role", &self.role)
            .field("provinces", &self.provinces)
            .field("expire_time", &self.expire_time)
            .field("revoke_time", &self.revoke_time)
            .finish_non_exhaustive()
    }
}

impl KeyRecord {
    /// Whether calls with the key are accepted at `now`.
    #[must_use]
    pub fn is_active(&self, now: DateTime<Utc>) -> bool {
        self.revoke_time.is_none() && self.expire_time.is_none_or(|expiry| expiry > now)
    }
}

/// What went wrong with the key table.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database failed.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// A migration failed.
    #[error("migration: {0}")]
    Migrate(#[from] crate::db::MigrationError),
    /// A stored row breaks the table's rules.
    #[error("stored key `{0}` is corrupt")]
    Corrupt(String),
}

/// The key table.
#[derive(Debug, Clone)]
pub struct KeyStore {
    pool: PgPool,
    /// Where it is (and who migrates it).
    database: DatabaseConfig,
}

const COLUMNS: &str =
    "key_id, secret_hash, role, provinces, description, creator, create_time, expire_time, revoke_time";

impl KeyStore {
    /// A store on its own small pool (search path `access`), connecting on first use.
    ///
    /// # Errors
    /// When the URL cannot be parsed.
    pub fn connect_lazy(database: &DatabaseConfig, application: &str) -> Result<Self, sqlx::Error> {
        let database = database.clone().with_max_connections(2);
        Ok(Self {
            pool: db::connect_lazy(&database, SCHEMA, application)?,
            database,
        })
    }

    /// Creates the schema and table when missing (as the migration role, when the configuration names one).
    ///
    /// # Errors
    /// When the database is unreachable or a migration fails.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        db::migrate(&self.database, &self.pool, SCHEMA, &MIGRATOR).await?;
        Ok(())
    }

    /// Stores a new key.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn insert(&self, key: &KeyRecord) -> Result<(), StoreError> {
        let provinces: Vec<&str> = key.provinces.iter().map(ProvinceCode::as_str).collect();
        sqlx::query(
            "INSERT INTO api_keys (key_id, secret_hash, role, provinces, description, creator, create_time, expire_time)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&key.key_id)
        .bind(&key.secret_hash)
        .bind(key.role.as_str())
        .bind(&provinces)
        .bind(&key.description)
        .bind(&key.creator)
        .bind(key.create_time)
        .bind(key.expire_time)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// One key.
    ///
    /// # Errors
    /// When the database fails or the row is corrupt.
    pub async fn get(&self, key_id: &str) -> Result<Option<KeyRecord>, StoreError> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM api_keys WHERE key_id = $1"))
            .bind(key_id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| record(&row)).transpose()
    }

    /// Every key (a few hundred at most: one per board, analyst and service).
    ///
    /// # Errors
    /// When the database fails or a row is corrupt.
    pub async fn all(&self) -> Result<Vec<KeyRecord>, StoreError> {
        let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM api_keys"))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(record).collect()
    }

    /// Up to `limit` keys after key id `after`, by key id; only active ones unless `inactive_too`.
    ///
    /// # Errors
    /// When the database fails or a row is corrupt.
    pub async fn list(&self, after: &str, limit: i64, inactive_too: bool) -> Result<Vec<KeyRecord>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM api_keys
             WHERE key_id > $1
               AND ($3 OR (revoke_time IS NULL AND (expire_time IS NULL OR expire_time > now())))
             ORDER BY key_id LIMIT $2"
        ))
        .bind(after)
        .bind(limit)
        .bind(inactive_too)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(record).collect()
    }

    /// Revokes a key (once: a second revocation keeps the first time); the key as now stored.
    ///
    /// # Errors
    /// When the database fails or the row is corrupt.
    pub async fn revoke(&self, key_id: &str) -> Result<Option<KeyRecord>, StoreError> {
        let row = sqlx::query(&format!(
            "UPDATE api_keys SET revoke_time = coalesce(revoke_time, now()) WHERE key_id = $1 RETURNING {COLUMNS}"
        ))
        .bind(key_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| record(&row)).transpose()
    }

    /// Stores `key` (an admin key) only while no admin key is active; whether it was stored. One transaction
    /// under an advisory lock, so two bootstraps at the same moment cannot both make a first admin.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn insert_first_admin(&self, key: &KeyRecord) -> Result<bool, StoreError> {
        let mut transaction = self.pool.begin().await?;
        // Any constant shared by every bootstrap: the lock is released with the transaction.
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext('fdi access bootstrap'))")
            .execute(&mut *transaction)
            .await?;
        let stored = sqlx::query(
            "INSERT INTO api_keys (key_id, secret_hash, role, provinces, description, creator, create_time)
             SELECT $1, $2, 'admin', '{}', $3, $4, $5
             WHERE NOT EXISTS (SELECT 1 FROM api_keys WHERE role = 'admin' AND revoke_time IS NULL
                               AND (expire_time IS NULL OR expire_time > now()))",
        )
        .bind(&key.key_id)
        .bind(&key.secret_hash)
        .bind(&key.description)
        .bind(&key.creator)
        .bind(key.create_time)
        .execute(&mut *transaction)
        .await?
        .rows_affected()
            == 1;
        transaction.commit().await?;
        Ok(stored)
    }

    /// Whether any admin key is active (the bootstrap runs only while none is).
    ///
    /// # Errors
    /// When the database fails.
    pub async fn has_active_admin(&self) -> Result<bool, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM api_keys WHERE role = 'admin' AND revoke_time IS NULL
                             AND (expire_time IS NULL OR expire_time > now()))",
        )
        .fetch_one(&self.pool)
        .await?)
    }
}

fn record(row: &PgRow) -> Result<KeyRecord, StoreError> {
    let key_id: String = row.try_get("key_id")?;
    let corrupt = || StoreError::Corrupt(key_id.clone());
    let role = Role::parse(row.try_get::<&str, _>("role")?).ok_or_else(corrupt)?;
    let provinces = row
        .try_get::<Vec<String>, _>("provinces")?
        .iter()
        .map(|code| ProvinceCode::parse(code).ok_or_else(corrupt))
        .collect::<Result<_, _>>()?;
    Ok(KeyRecord {
        secret_hash: row.try_get("secret_hash")?,
        role,
        provinces,
        description: row.try_get("description")?,
        creator: row.try_get("creator")?,
        create_time: row.try_get("create_time")?,
        expire_time: row.try_get("expire_time")?,
        revoke_time: row.try_get("revoke_time")?,
        key_id,
    })
}
