//! The FDI Atlas analytics service: the figures provinces report (new
//! projects, new and added capital, share purchases, realised capital,
//! terminations), rankings, time series, breakdowns, target progress,
//! reconciliation and alerts, answered from rollups that a consumer keeps
//! fresh from ingest's events, exactly once.
//!
//! [`serve`] runs the service; [`consumer::reset`] and [`consumer::catch_up`]
//! rebuild the rollups from scratch (`fdi rebuild-rollups`).

pub mod api;
pub mod consumer;
pub mod cube;
pub mod error;
pub mod places;
pub mod query;

use std::{net::SocketAddr, sync::Arc, time::Duration};

use fdi_kit::{
    config::{DatabaseConfig, ServerConfig, parse_duration, parse_listen_addr},
    db,
    server::{self, Readiness, spawn_readiness},
    shutdown::CancellationToken,
    telemetry::LogConfig,
};
use fdi_proto::analytics::analytics_service_server::AnalyticsServiceServer;
use sqlx::{PgPool, migrate::Migrator};
use tokio::{net::TcpListener, sync::broadcast};
use tonic::transport::Endpoint;

use crate::{
    api::{AnalyticsApi, State},
    cube::Cube,
    places::Places,
};

/// The gRPC service name.
pub const SERVICE_NAME: &str = "fdi.analytics.v1.AnalyticsService";
/// The database schema this service owns.
pub const SCHEMA: &str = "analytics";

static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Configuration of the analytics service (flags or environment variables).
#[derive(clap::Parser, Debug, Clone)]
#[command(name = "fdi-analytics", version, about = "FDI Atlas analytics service (gRPC)")]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "FDI_ANALYTICS_ADDR", default_value = "0.0.0.0:50053", value_parser = parse_listen_addr)]
    pub listen: SocketAddr,
    /// Where the catalogue service is (names in requests).
    #[arg(long, env = "FDI_CATALOGUE_URL", default_value = "http://localhost:50051")]
    pub catalogue_url: String,
    /// Deadline of each call to the catalogue.
    #[arg(long, env = "FDI_CATALOGUE_TIMEOUT", default_value = "5s", value_parser = parse_duration)]
    pub catalogue_timeout: Duration,
    /// Database settings.
    #[command(flatten)]
    pub database: DatabaseConfig,
    /// Server settings.
    #[command(flatten)]
    pub server: ServerConfig,
    /// Logging settings.
    #[command(flatten)]
    pub log: LogConfig,
}

/// Connects to the analytics schema (for `fdi rebuild-rollups`).
///
/// # Errors
/// When the URL is invalid, the database unreachable or a migration fails.
pub async fn connect(database: &DatabaseConfig) -> anyhow::Result<PgPool> {
    let pool = db::connect_lazy(database, SCHEMA, "fdi-analytics")?;
    db::migrate(&pool, SCHEMA, &MIGRATOR).await?;
    Ok(pool)
}

/// Runs the analytics service on `listener` until `shutdown` is cancelled.
///
/// # Errors
/// When the database or catalogue URL is invalid or the server fails.
pub async fn serve(config: Config, listener: TcpListener, shutdown: CancellationToken) -> anyhow::Result<()> {
    let pool = db::connect_lazy(&config.database, SCHEMA, "fdi-analytics")?;
    db::observe_pool(&pool, SCHEMA);
    let catalogue = Endpoint::from_shared(config.catalogue_url.clone())?
        .connect_timeout(config.catalogue_timeout)
        .tcp_nodelay(true)
        .connect_lazy();
    let (applied, _) = broadcast::channel(256);
    let state = Arc::new(State {
        pool: pool.clone(),
        places: Places::new(catalogue, config.catalogue_timeout),
        applied,
        cube: Arc::new(Cube::new()),
    });
    let (readiness, health_service) = Readiness::new(&[SERVICE_NAME]).await;

    // The consumer starts once the schema is migrated and ingest's feed exists.
    let (prepared, mut prepared_watch) = tokio::sync::watch::channel(false);
    let prepare = {
        let pool = pool.clone();
        move || {
            let pool = pool.clone();
            let prepared = prepared.clone();
            async move {
                db::migrate(&pool, SCHEMA, &MIGRATOR)
                    .await
                    .map_err(|e| format!("migrations: {e}"))?;
                // The feed must exist before the rollups can follow it.
                sqlx::query("SELECT 1 FROM ingest.events LIMIT 0")
                    .execute(&pool)
                    .await
                    .map_err(|e| format!("ingest's events are not there yet: {e}"))?;
                prepared.send_replace(true);
                Ok(())
            }
        }
    };
    let probe = {
        let pool = pool.clone();
        move || {
            let pool = pool.clone();
            async move { db::is_reachable(&pool, Duration::from_secs(2)).await }
        }
    };
    let readiness_task = spawn_readiness(
        readiness,
        config.server.health_interval,
        shutdown.clone(),
        prepare,
        probe,
    );
    let consumer_task = tokio::spawn({
        let followers = consumer::Followers {
            applied: state.applied.clone(),
            cube: Arc::clone(&state.cube),
        };
        let (pool, shutdown) = (pool.clone(), shutdown.clone());
        async move {
            if prepared_watch.wait_for(|ready| *ready).await.is_ok() {
                consumer::run(pool, followers, shutdown).await;
            }
        }
    });

    let (reflection_v1, reflection_v1alpha) = server::reflection(&[SERVICE_NAME]);
    let serving = server::builder(&config.server)
        .add_service(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(AnalyticsServiceServer::new(AnalyticsApi::new(state)))
        .serve_with_incoming_shutdown(server::incoming(listener), shutdown.clone().cancelled_owned());
    let result = server::serve_with_grace(serving, shutdown, config.server.shutdown_grace).await;

    readiness_task.abort();
    consumer_task.abort();
    pool.close().await;
    result?;
    tracing::info!("analytics stopped");
    Ok(())
}
