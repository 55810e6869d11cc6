//! The PostgreSQL pool and per-service schema migrations.
//!
//! All services share one database; each owns one schema. A service's
//! connections put its schema first on the `search_path`, so its tables, and
//! sqlx's `_sqlx_migrations` ledger, live in that schema and the services'
//! migration histories never collide.

use std::{str::FromStr, time::Duration};

use sqlx::{
    PgPool,
    migrate::{MigrateError, Migrator},
    postgres::{PgConnectOptions, PgPoolOptions},
};

use crate::config::DatabaseConfig;

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

/// Creates the service's schema when missing and applies its migrations.
///
/// # Errors
/// When the database is unreachable or a migration fails.
pub async fn migrate(pool: &PgPool, schema: &'static str, migrator: &Migrator) -> Result<(), MigrateError> {
    debug_assert!(schema.chars().all(|c| c.is_ascii_lowercase() || c == '_'));
    // The schema name is a compile-time identifier of the service, never user input.
    sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
        .execute(pool)
        .await
        .map_err(MigrateError::Execute)?;
    migrator.run(pool).await
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
