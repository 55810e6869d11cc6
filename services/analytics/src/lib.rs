//! The FDI Atlas analytics service: the figures provinces report (new
//! projects, new and added capital, share purchases, realised capital,
//! terminations), rankings, time series, breakdowns, target progress,
//! reconciliation and alerts, answered from rollups that a consumer keeps
//! fresh from ingest's published feed, exactly once.
//!
//! The layers: [`api`] reads and validates requests and converts answers;
//! [`query`] holds the questions and computes the figures; [`cube`] answers
//! whole-month questions from memory; [`consumer`] folds the feed into the
//! rollups ([`fold`] aggregates each batch); [`store`] holds every SQL statement; [`places`] resolves names
//! through the catalogue.
//!
//! [`serve`] runs the service; [`consumer::reset`] and [`consumer::catch_up`]
//! rebuild the rollups from scratch (`fdi rebuild-rollups`).

pub mod api;
pub mod consumer;
pub mod cube;
pub mod error;
pub mod fold;
pub mod places;
pub mod query;
pub mod store;

use std::{net::SocketAddr, num::NonZeroUsize, sync::Arc};

use fdi_kit::{
    access::{Bearer, Permission},
    catalogue::Catalogue,
    config::{CatalogueConfig, Common, DatabaseConfig, parse_listen_addr},
    db,
    service::{Identity, Skeleton},
    shutdown::CancellationToken,
};
use fdi_proto::analytics::analytics_service_server::AnalyticsServiceServer;
use sqlx::PgPool;
use tokio::{net::TcpListener, sync::broadcast};
use tonic::service::Routes;

use crate::{
    api::{AnalyticsApi, State, WatchLimits, Watchers},
    cube::Cube,
    places::Places,
};

/// The gRPC service name.
pub const SERVICE_NAME: &str = "fdi.analytics.v1.AnalyticsService";
/// The database schema this service owns.
pub const SCHEMA: &str = "analytics";
/// Who analytics is, for the serve skeleton.
const IDENTITY: Identity = Identity {
    process: "fdi-analytics",
    grpc_service: SERVICE_NAME,
    schema: SCHEMA,
};
/// Batches of applied events a slow Watch subscriber may fall behind by.
const WATCH_BACKLOG: usize = 256;

/// Address to listen on unless configured.
pub const DEFAULT_LISTEN: &str = "0.0.0.0:50053";
/// Watch streams open at once on the service, unless configured.
pub const DEFAULT_MAX_WATCHERS: NonZeroUsize = NonZeroUsize::new(1000).unwrap();
/// Watch streams open at once from one caller (peer IP address), unless configured.
pub const DEFAULT_MAX_WATCHERS_PER_CALLER: NonZeroUsize = NonZeroUsize::new(16).unwrap();

/// Configuration of the analytics service (flags or environment variables).
#[derive(clap::Parser, Debug, Clone)]
#[command(name = "fdi-analytics", version, about = "FDI Atlas analytics service (gRPC)")]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "FDI_ANALYTICS_ADDR", default_value = DEFAULT_LISTEN, value_parser = parse_listen_addr)]
    pub listen: SocketAddr,
    /// Watch streams open at once on the whole service; one more is refused with RESOURCE_EXHAUSTED.
    #[arg(long, env = "FDI_ANALYTICS_MAX_WATCHERS", default_value_t = DEFAULT_MAX_WATCHERS)]
    pub max_watchers: NonZeroUsize,
    /// Watch streams open at once from one caller (its IP address, until callers
    /// authenticate); one more is refused with RESOURCE_EXHAUSTED.
    #[arg(long, env = "FDI_ANALYTICS_MAX_WATCHERS_PER_CALLER", default_value_t = DEFAULT_MAX_WATCHERS_PER_CALLER)]
    pub max_watchers_per_caller: NonZeroUsize,
    /// Where the catalogue is (names in requests).
    #[command(flatten)]
    pub catalogue: CatalogueConfig,
    /// Database, server and logging settings.
    #[command(flatten)]
    pub common: Common,
}

impl Config {
    /// The service listening on `listen` with `common` settings and the
    /// catalogue at `catalogue_url`; every other setting has its default (as the flags do).
    #[must_use]
    pub fn new(listen: SocketAddr, common: Common, catalogue_url: impl Into<String>) -> Self {
        Self {
            listen,
            max_watchers: DEFAULT_MAX_WATCHERS,
            max_watchers_per_caller: DEFAULT_MAX_WATCHERS_PER_CALLER,
            catalogue: CatalogueConfig::new(catalogue_url),
            common,
        }
    }
}

/// Connects to the analytics schema (for `fdi rebuild-rollups`).
///
/// # Errors
/// When the URL is invalid, the database unreachable or a migration fails.
pub async fn connect(database: &DatabaseConfig) -> anyhow::Result<PgPool> {
    let pool = db::connect_lazy(database, SCHEMA, IDENTITY.process)?;
    store::migrate(database, &pool).await?;
    Ok(pool)
}

/// Runs the analytics service as its own process: telemetry, the configured
/// listener, serving until SIGTERM or SIGINT, telemetry flushed.
///
/// # Errors
/// When the address cannot be bound or serving fails.
pub async fn run(config: Config) -> anyhow::Result<()> {
    let (listen, log) = (config.listen, config.common.log);
    fdi_kit::server::run_process(IDENTITY.process, listen, log, |l, s| serve(config, l, s)).await
}

/// Runs the analytics service on `listener` until `shutdown` is cancelled:
/// ready once its schema is migrated and ingest's feed exists; the consumer
/// then keeps the rollups fresh. Health follows the database.
///
/// # Errors
/// When the database or catalogue URL is invalid or the server fails.
pub async fn serve(config: Config, listener: TcpListener, shutdown: CancellationToken) -> anyhow::Result<()> {
    let skeleton = Skeleton::new(IDENTITY, &config.common, shutdown)?;
    let pool = skeleton.pool().clone();
    let catalogue = Catalogue::connect_lazy(&config.catalogue, &config.common.tls)?
        .with_credential(Bearer::from_secret(config.common.access.service_key.as_ref())?);
    let (applied, _) = broadcast::channel(WATCH_BACKLOG);
    let state = Arc::new(State {
        pool: pool.clone(),
        places: Places::new(catalogue),
        applied,
        cube: Arc::new(Cube::new()),
        watchers: Arc::new(Watchers::new(WatchLimits {
            max_watchers: config.max_watchers,
            max_watchers_per_caller: config.max_watchers_per_caller,
        })),
    });
    let followers = consumer::Followers {
        applied: state.applied.clone(),
        cube: Arc::clone(&state.cube),
    };
    let routes = Routes::new(AnalyticsServiceServer::new(AnalyticsApi::new(state)));
    skeleton
        .prepare({
            let (pool, database) = (pool.clone(), config.common.database.clone());
            move || prepare(database.clone(), pool.clone())
        })
        .after_ready(move |shutdown| consumer::run(pool, followers, replica_name(), shutdown))
        .policy(policy)
        .serve(listener, routes)
        .await?;
    Ok(())
}

/// How this replica names itself as the leader: its host (the pod's name
/// on Kubernetes) and process id.
fn replica_name() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .map(|host| host.trim().to_owned())
        .filter(|host| !host.is_empty())
        .unwrap_or_else(|| "localhost".to_owned());
    format!("{host}/{}", std::process::id())
}

/// What each RPC needs: every analytics RPC reads (rebuilding the rollups is `fdi rebuild-rollups`, an
/// operator's command on the database, not an RPC).
fn policy(path: &str) -> Option<Permission> {
    path.strip_prefix("/fdi.analytics.v1.AnalyticsService/")
        .map(|_| Permission::Read)
}

/// What makes the service ready: its schema migrated (as `database` says),
/// and ingest's feed there (and readable) for the rollups to follow.
async fn prepare(database: DatabaseConfig, pool: PgPool) -> Result<(), String> {
    store::migrate(&database, &pool)
        .await
        .map_err(|e| format!("migrations: {e}"))?;
    store::check_feed(&pool).await.map_err(|e| {
        format!("ingest's feed cannot be read yet (not migrated, or not granted: run `fdi db roles` again): {e}")
    })
}

#[cfg(test)]
mod tests {
    use fdi_kit::config::DEFAULT_CATALOGUE_URL;
    use fdi_testkit::settings::{DEFAULT_TEST_URL, assert_flag_defaults};

    use super::*;

    #[test]
    fn every_analytics_rpc_reads_and_nothing_else_is_open() {
        for method in [
            "GetSummary",
            "GetRanking",
            "GetTimeSeries",
            "GetBreakdown",
            "GetTargetProgress",
            "Reconcile",
            "Watch",
        ] {
            assert_eq!(
                policy(&format!("/fdi.analytics.v1.AnalyticsService/{method}")),
                Some(Permission::Read)
            );
        }
        assert_eq!(policy("/fdi.ingest.v1.IngestService/SubmitEvent"), None);
    }

    #[test]
    fn the_constructor_has_the_flags_defaults() {
        let built = Config::new(
            DEFAULT_LISTEN.parse().unwrap(),
            Common::new(DatabaseConfig::new(DEFAULT_TEST_URL)),
            DEFAULT_CATALOGUE_URL,
        );
        assert_flag_defaults("fdi-analytics", &built);
    }
}
