//! The PostgreSQL pool and per-service schema migrations.
//!
//! All services share one database; each owns one schema. A service's
//! connections put its schema first on the `search_path`, so its tables, and
//! sqlx's `_sqlx_migrations` ledger, live in that schema and the services'
//! migration histories never collide.
//!
//! Where the roles of `fdi db roles` are in use, a service connects as its
//! own role, which may not run DDL, and its migrations run as the schemas'
//! owner through `FDI_MIGRATION_DATABASE_URL`: every migration goes through
//! [`migrate`], which picks the connection. [`role_password`] and
//! [`scram_secret`] make and hash those roles' passwords.

use std::{collections::HashMap, str::FromStr, time::Duration};

use base64::{Engine, engine::general_purpose::STANDARD};
use sha2::{Digest, Sha256};
use sqlx::{
    PgPool,
    migrate::{MigrateError, Migrator},
    postgres::{PgConnectOptions, PgPoolOptions},
};

use crate::config::{DatabaseConfig, Migrations};

/// Builds a pool that connects on first use, so a service can start (and
/// report NOT_SERVING) while the database is still unreachable.
///
/// # Errors
/// When the URL cannot be parsed.
pub fn connect_lazy(config: &DatabaseConfig, schema: &'static str, application: &str) -> Result<PgPool, sqlx::Error> {
    let options = PgConnectOptions::from_str(&config.url)?
        .options([("search_path", schema)])
        .application_name(application);
    Ok(PgPoolOptions::new()
        .max_connections(config.max_connections)
        .min_connections(0)
        .acquire_timeout(Duration::from_secs(5))
        .idle_timeout(Duration::from_secs(300))
        .connect_lazy_with(options))
}

/// Why a schema's migrations are not in place.
#[derive(Debug, thiserror::Error)]
pub enum MigrationError {
    /// Applying them failed.
    #[error(transparent)]
    Apply(#[from] MigrateError),
    /// Verifying: the schema's ledger cannot be read (not migrated yet, or the database is unreachable).
    #[error("cannot read the migration ledger of schema {schema} (has `fdi db migrate` run?): {source}")]
    Ledger {
        /// The schema.
        schema: &'static str,
        /// The database's error.
        source: sqlx::Error,
    },
    /// Verifying: a migration this build knows is not in the ledger.
    #[error("migration {version} ({description}) of schema {schema} is not applied yet: run `fdi db migrate`")]
    NotApplied {
        /// The schema.
        schema: &'static str,
        /// The migration's version.
        version: i64,
        /// What it does.
        description: String,
    },
    /// Verifying: the ledger holds a different migration under a version this build knows.
    #[error(
        "migration {version} of schema {schema} was applied from another file than this build's (checksums differ)"
    )]
    Modified {
        /// The schema.
        schema: &'static str,
        /// The migration's version.
        version: i64,
    },
}

/// Puts `schema`'s migrations in place as `database.migrations` says: applies
/// them ([`apply_as_configured`]) or only checks that someone else did
/// ([`verify`]). Every service's readiness goes through here.
///
/// # Errors
/// When applying fails, or a migration is missing or different.
pub async fn migrate(
    database: &DatabaseConfig,
    pool: &PgPool,
    schema: &'static str,
    migrator: &Migrator,
) -> Result<(), MigrationError> {
    match database.migrations {
        Migrations::Apply => Ok(apply_as_configured(database, pool, schema, migrator).await?),
        Migrations::Verify => verify(pool, schema, migrator).await,
    }
}

/// Creates `schema` when missing and applies `migrator` to it: as the role of
/// `database.migration_url` when that is set (the schemas' owner, over one
/// connection of its own, closed afterwards), else over `pool` (the service's
/// own connections, as before roles were separated).
///
/// # Errors
/// When the migration URL is invalid, the database unreachable or a migration fails.
pub async fn apply_as_configured(
    database: &DatabaseConfig,
    pool: &PgPool,
    schema: &'static str,
    migrator: &Migrator,
) -> Result<(), MigrateError> {
    let Some(url) = &database.migration_url else {
        return apply(pool, schema, migrator).await;
    };
    let application = format!(
        "{} migrations",
        pool.connect_options().get_application_name().unwrap_or("fdi")
    );
    let options = PgConnectOptions::from_str(url)
        .map_err(MigrateError::Execute)?
        .options([("search_path", schema)])
        .application_name(&application);
    // A pool of one connection (for the same connect timeout), closed when the migrations are done.
    let owner = PgPoolOptions::new()
        .max_connections(1)
        .min_connections(0)
        .acquire_timeout(Duration::from_secs(5))
        .connect_lazy_with(options);
    let result = apply(&owner, schema, migrator).await;
    owner.close().await;
    result
}

/// Checks, without any DDL, that every migration of `migrator` is in
/// `schema`'s ledger as this build has it (same checksum): what a service run
/// with `FDI_MIGRATIONS=verify` does, as its role may not migrate.
///
/// # Errors
/// When the ledger cannot be read, or a migration is missing or different.
pub async fn verify(pool: &PgPool, schema: &'static str, migrator: &Migrator) -> Result<(), MigrationError> {
    // The schema name is a compile-time identifier of the service, never user input.
    let applied: HashMap<i64, Vec<u8>> = sqlx::query_as(&format!(
        "SELECT version, checksum FROM {schema}._sqlx_migrations WHERE success"
    ))
    .fetch_all(pool)
    .await
    .map_err(|source| MigrationError::Ledger { schema, source })?
    .into_iter()
    .collect();
    for migration in migrator.iter().filter(|m| m.migration_type.is_up_migration()) {
        match applied.get(&migration.version) {
            None => {
                return Err(MigrationError::NotApplied {
                    schema,
                    version: migration.version,
                    description: migration.description.to_string(),
                });
            }
            Some(checksum) if checksum.as_slice() != &*migration.checksum => {
                return Err(MigrationError::Modified {
                    schema,
                    version: migration.version,
                });
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// Creates `schema` when missing and applies `migrator` over `pool` (whose
/// search path is `schema`).
async fn apply(pool: &PgPool, schema: &'static str, migrator: &Migrator) -> Result<(), MigrateError> {
    debug_assert!(schema.chars().all(|c| c.is_ascii_lowercase() || c == '_'));
    // The schema name is a compile-time identifier of the service, never user input.
    sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
        .execute(pool)
        .await
        .map_err(MigrateError::Execute)?;
    migrator.run(pool).await
}

/// Why a role password cannot be made or hashed.
#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    /// PostgreSQL normalises other passwords (SASLprep) before hashing them, which is not done here.
    #[error("a role password must be 16 to 1000 printable ASCII characters without spaces")]
    Unsupported,
    /// The operating system gave no randomness.
    #[error("no randomness from the operating system: {0}")]
    Randomness(getrandom::Error),
}

/// A new password for a database role: 256 random bits as 64 hex digits,
/// which need no escaping in a connection URL.
///
/// # Errors
/// When the operating system gives no randomness.
pub fn role_password() -> Result<String, PasswordError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(PasswordError::Randomness)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Iterations of the SCRAM secret, as PostgreSQL's own default (`scram_iterations`).
const SCRAM_ITERATIONS: u32 = 4096;

/// The SCRAM-SHA-256 secret PostgreSQL stores for `password`
/// (`SCRAM-SHA-256$4096:salt$StoredKey:ServerKey`, RFC 5802 and 7677), as
/// `psql`'s `\password` computes it: given to `CREATE ROLE … PASSWORD`, it is
/// stored as is, so the password itself never reaches the server, its logs
/// or `pg_stat_statements`.
///
/// # Errors
/// When `password` is not 16 to 1000 printable ASCII characters without
/// spaces (for which PostgreSQL's SASLprep changes nothing), or the operating
/// system gives no randomness for the salt.
pub fn scram_secret(password: &str) -> Result<String, PasswordError> {
    if !(16..=1000).contains(&password.len()) || !password.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(PasswordError::Unsupported);
    }
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(PasswordError::Randomness)?;
    Ok(scram_secret_with(password, &salt, SCRAM_ITERATIONS))
}

fn scram_secret_with(password: &str, salt: &[u8], iterations: u32) -> String {
    // Hi(): PBKDF2 with HMAC-SHA-256, one block of 32 bytes.
    let mut block = hmac_sha256(password.as_bytes(), &[salt, &1u32.to_be_bytes()].concat());
    let mut salted = block;
    for _ in 1..iterations {
        block = hmac_sha256(password.as_bytes(), &block);
        for (byte, next) in salted.iter_mut().zip(block) {
            *byte ^= next;
        }
    }
    let client_key = hmac_sha256(&salted, b"Client Key");
    let stored_key = Sha256::digest(client_key);
    let server_key = hmac_sha256(&salted, b"Server Key");
    format!(
        "SCRAM-SHA-256${iterations}:{}${}:{}",
        STANDARD.encode(salt),
        STANDARD.encode(stored_key),
        STANDARD.encode(server_key)
    )
}

/// HMAC-SHA-256 (RFC 2104).
fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut padded = [0u8; BLOCK];
    if key.len() > BLOCK {
        padded[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        padded[..key.len()].copy_from_slice(key);
    }
    let inner_pad: Vec<u8> = padded.iter().map(|b| b ^ 0x36).collect();
    let outer_pad: Vec<u8> = padded.iter().map(|b| b ^ 0x5c).collect();
    let inner = Sha256::new().chain_update(&inner_pad).chain_update(message).finalize();
    Sha256::new()
        .chain_update(&outer_pad)
        .chain_update(inner)
        .finalize()
        .into()
}

/// Whether the database answers a trivial query within `timeout`.
pub async fn is_reachable(pool: &PgPool, timeout: Duration) -> bool {
    matches!(
        tokio::time::timeout(timeout, sqlx::query("SELECT 1").execute(pool)).await,
        Ok(Ok(_))
    )
}

/// Whether an error means the database could not be reached (as opposed to a
/// query that failed), so callers answer UNAVAILABLE and clients retry.
#[must_use]
pub fn is_connectivity_error(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Tls(_) => true,
        sqlx::Error::Database(db) => {
            // Class 08: connection exception; 57P01-57P03: admin shutdown, crash shutdown, cannot connect now.
            db.code()
                .is_some_and(|code| code.starts_with("08") || matches!(code.as_ref(), "57P01" | "57P02" | "57P03"))
        }
        _ => false,
    }
}

/// Whether an error is a unique-constraint violation (SQLSTATE 23505).
#[must_use]
pub fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.code().as_deref() == Some("23505"))
}

/// The status a client gets for a failed query: UNAVAILABLE when `database`
/// could not be reached (clients retry), else INTERNAL; either way the
/// details are logged here and never sent.
#[must_use]
pub fn failure_status(error: &sqlx::Error, database: &str) -> tonic::Status {
    if is_connectivity_error(error) {
        tracing::warn!(%error, database, "database unreachable");
        crate::status::unavailable(database)
    } else {
        tracing::error!(%error, database, "database error");
        crate::status::internal()
    }
}

/// Reports the pool's connections (idle and used) as the
/// `db.client.connection.count` metric, read at each export.
pub fn observe_pool(pool: &PgPool, name: &'static str) {
    let pool = pool.clone();
    let meter = opentelemetry::global::meter("fdi-atlas");
    // Registered for the life of the meter provider; the handle is not needed.
    let _gauge = meter
        .i64_observable_up_down_counter("db.client.connection.count")
        .with_description("Database connections in the pool, by state")
        .with_callback(move |observer| {
            let size = i64::from(pool.size());
            let idle = i64::try_from(pool.num_idle()).unwrap_or(size);
            for (state, count) in [("idle", idle), ("used", size - idle)] {
                observer.observe(
                    count,
                    &[
                        opentelemetry::KeyValue::new("db.client.connection.state", state),
                        opentelemetry::KeyValue::new("db.client.connection.pool.name", name),
                    ],
                );
            }
        })
        .build();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(text: &str) -> Vec<u8> {
        STANDARD.decode(text).unwrap()
    }

    /// RFC 7677's example exchange (user `user`, password `pencil`) succeeds against the secret made here:
    /// the server's signature is the one the RFC shows, and the client's proof checks against the stored key.
    #[test]
    fn scram_secrets_verify_rfc_7677s_exchange() {
        let secret = scram_secret_with("pencil", &decode("W22ZaJ0SNY7soEsUEjb6gQ=="), 4096);
        let rest = secret
            .strip_prefix("SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$")
            .unwrap();
        let (stored_key, server_key) = rest.split_once(':').unwrap();
        let auth_message = "n=user,r=rOprNGfwEbeRWgbNEkqO,\
            r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,\
            c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
        assert_eq!(
            hmac_sha256(&decode(server_key), auth_message.as_bytes()).to_vec(),
            decode("6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")
        );
        let client_signature = hmac_sha256(&decode(stored_key), auth_message.as_bytes());
        let client_key: Vec<u8> = decode("dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
            .iter()
            .zip(client_signature)
            .map(|(proof, signature)| proof ^ signature)
            .collect();
        assert_eq!(Sha256::digest(client_key).to_vec(), decode(stored_key));
    }

    #[test]
    fn hmac_matches_rfc_4231() {
        // Test case 2 of RFC 4231; case 6 has a key longer than a block.
        let hex = |digest: [u8; 32]| digest.iter().map(|b| format!("{b:02x}")).collect::<String>();
        assert_eq!(
            hex(hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            hex(hmac_sha256(
                &[0xaa_u8; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            )),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn role_passwords_are_fresh_and_hashable() {
        let (first, second) = (role_password().unwrap(), role_password().unwrap());
        assert_ne!(first, second);
        assert_eq!(first.len(), 64);
        let secret = scram_secret(&first).unwrap();
        assert!(secret.starts_with("SCRAM-SHA-256$4096:"), "{secret}");
        assert!(!secret.contains(&first));
        // Two secrets of one password differ by their salt.
        assert_ne!(scram_secret(&first).unwrap(), secret);
        for refused in ["short", "with a space in it, long", "ünïcödé-password-long"] {
            assert!(
                matches!(scram_secret(refused), Err(PasswordError::Unsupported)),
                "{refused}"
            );
        }
    }
}
