//! A real PostgreSQL for tests, never a mock.
//!
//! With `DATABASE_URL` set, tests use that server; otherwise the first test
//! of a process starts a private throw-away cluster from the PostgreSQL
//! server binaries on the machine (`initdb`/`pg_ctl`, found through
//! `FDI_PG_BIN`, `pg_config --bindir` or `/usr/lib/postgresql/*/bin`). Either
//! way every test gets a database of its own, so tests run in parallel
//! without seeing each other's rows.
//!
//! A cluster started here is stopped and deleted by a small watchdog process
//! once the test process exits, however it exits.

use std::sync::{
    OnceLock,
    atomic::{AtomicU32, Ordering},
};

pub use fdi_localpg::{Cluster, find_pg_bin};
use sqlx::{Connection, PgConnection};

/// A database created for one test.
#[derive(Debug, Clone)]
pub struct TestDatabase {
    /// Connection URL of the database.
    pub url: String,
    /// Its name.
    pub name: String,
}

static SHARED_CLUSTER: OnceLock<Result<Cluster, String>> = OnceLock::new();
static COUNTER: AtomicU32 = AtomicU32::new(0);

/// The URL of the server tests use: `DATABASE_URL`, else a private cluster
/// started once per process.
///
/// # Panics
/// When no server is configured and none can be started; the message says what to install.
#[must_use]
pub fn server_url() -> String {
    if let Ok(url) = std::env::var("DATABASE_URL") {
        if !url.trim().is_empty() {
            return url;
        }
    }
    match SHARED_CLUSTER.get_or_init(|| Cluster::start().map_err(|e| e.to_string())) {
        Ok(cluster) => cluster.url("postgres"),
        Err(error) => panic!("no PostgreSQL for tests: {error}"),
    }
}

/// Creates a fresh, empty database on the test server.
///
/// # Panics
/// When the server cannot be reached or refuses to create the database.
pub async fn database() -> TestDatabase {
    let server = server_url();
    let name = format!(
        "fdi_test_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default()
    );
    let mut admin = PgConnection::connect(&server)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to the test PostgreSQL at {server}: {e}"));
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .unwrap_or_else(|e| panic!("cannot create test database {name}: {e}"));
    admin.close().await.ok();
    TestDatabase {
        url: with_database(&server, &name),
        name,
    }
}

/// The same server URL pointing at another database.
#[must_use]
pub fn with_database(url: &str, database: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    // postgres://user@host:port/db — the database is the path after the authority.
    let authority_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority_end..].find('/') {
        Some(slash) => &base[..authority_end + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{database}?{query}"),
        None => format!("{base}/{database}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_names_replace_the_path() {
        assert_eq!(
            with_database("postgres://u@h:5/postgres", "x"),
            "postgres://u@h:5/x"
        );
        assert_eq!(with_database("postgres://u@h:5", "x"), "postgres://u@h:5/x");
        assert_eq!(
            with_database("postgres://u@h/postgres?host=/tmp/s&port=1", "x"),
            "postgres://u@h/x?host=/tmp/s&port=1"
        );
    }
}
