//! The FDI Atlas catalogue service: provinces with the 2025 merger lineage,
//! industrial parks, clusters and economic zones, investors, and the
//! resolution of names in any spelling.
//!
//! [`serve`] runs the whole service on a listener until a shutdown token
//! fires; `main.rs` and the tests both use it.

pub mod api;
pub mod error;
pub mod model;
pub mod resolver;
pub mod seed;
pub mod state;

use std::{net::SocketAddr, sync::Arc, time::Duration};

use fdi_kit::{
    config::{DatabaseConfig, ServerConfig, parse_listen_addr},
    db,
    server::{self, Readiness, spawn_readiness},
    shutdown::CancellationToken,
    telemetry::LogConfig,
};
use fdi_proto::catalogue::catalogue_service_server::CatalogueServiceServer;
use sqlx::migrate::Migrator;
use tokio::net::TcpListener;

use crate::{api::CatalogueApi, state::Catalogue};

/// The gRPC service name.
pub const SERVICE_NAME: &str = "fdi.catalogue.v1.CatalogueService";
/// The database schema this service owns.
pub const SCHEMA: &str = "catalogue";
/// Largest request accepted, in bytes.
const MAX_REQUEST_BYTES: usize = 4 * 1024 * 1024;
/// How often the in-memory snapshot is reloaded to pick up other replicas' writes.
const SNAPSHOT_REFRESH: Duration = Duration::from_secs(30);

static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Configuration of the catalogue service (flags or environment variables).
#[derive(clap::Parser, Debug, Clone)]
#[command(name = "fdi-catalogue", version, about = "FDI Atlas catalogue service (gRPC)")]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "FDI_CATALOGUE_ADDR", default_value = "0.0.0.0:50051", value_parser = parse_listen_addr)]
    pub listen: SocketAddr,
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

/// Runs the catalogue on `listener` until `shutdown` is cancelled.
///
/// The server answers at once: health says NOT_SERVING until the database
/// is reachable, migrated and the reference data is loaded.
///
/// # Errors
/// When the database URL is invalid or the server fails.
pub async fn serve(config: Config, listener: TcpListener, shutdown: CancellationToken) -> anyhow::Result<()> {
    let pool = db::connect_lazy(&config.database, SCHEMA, "fdi-catalogue")?;
    db::observe_pool(&pool, SCHEMA);
    let state = Arc::new(Catalogue::new(pool.clone()));
    let (readiness, health_service) = Readiness::new(&[SERVICE_NAME]).await;

    let prepare = {
        let state = Arc::clone(&state);
        move || {
            let state = Arc::clone(&state);
            async move {
                db::migrate(&state.pool, SCHEMA, &MIGRATOR)
                    .await
                    .map_err(|e| format!("migrations: {e}"))?;
                seed::apply(&state.pool).await?;
                state.reload().await.map_err(|e| format!("loading reference data: {e}"))
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
    let refresh_task = tokio::spawn({
        let state = Arc::clone(&state);
        let shutdown = shutdown.clone();
        async move {
            loop {
                tokio::select! {
                    () = shutdown.cancelled() => break,
                    () = tokio::time::sleep(SNAPSHOT_REFRESH) => {}
                }
                if state.snapshot().is_ok()
                    && let Err(error) = state.reload().await
                {
                    tracing::warn!(%error, "snapshot refresh failed; keeping the previous one");
                }
            }
        }
    });

    let (reflection_v1, reflection_v1alpha) = server::reflection(&[SERVICE_NAME]);
    let catalogue = CatalogueServiceServer::new(CatalogueApi::new(state)).max_decoding_message_size(MAX_REQUEST_BYTES);
    let serving = server::builder(&config.server)
        .add_service(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(catalogue)
        .serve_with_incoming_shutdown(server::incoming(listener), shutdown.clone().cancelled_owned());
    let result = server::serve_with_grace(serving, shutdown, config.server.shutdown_grace).await;

    readiness_task.abort();
    refresh_task.abort();
    pool.close().await;
    result?;
    tracing::info!("catalogue stopped");
    Ok(())
}
