//! The FDI Atlas ingest service: investment events in bulk, exactly once,
//! nothing lost. Rows are validated, their names resolved through the
//! catalogue (cached), amounts converted at the event month's rate, and each
//! batch recorded in one transaction with its sequence numbers, held rows and
//! load progress.
//!
//! [`serve`] runs the whole service on a listener until a shutdown token
//! fires; `main.rs`, `fdi up` and the tests use it. The client side (the
//! resuming bulk loader, the CSV/JSONL register reader and writer, the demo
//! register generator) is the `fdi-client` crate.

pub mod api;
pub mod error;
pub mod model;
pub mod pipeline;
pub mod rates;
pub mod references;
pub mod store;
pub mod validate;

use std::{net::SocketAddr, sync::Arc, time::Duration};

use fdi_kit::{
    config::{DatabaseConfig, ServerConfig, parse_duration, parse_listen_addr},
    db,
    server::{self, Readiness, spawn_readiness},
    shutdown::CancellationToken,
    telemetry::LogConfig,
};
use fdi_proto::ingest::ingest_service_server::IngestServiceServer;
use sqlx::migrate::Migrator;
use tokio::net::TcpListener;
use tonic::transport::Endpoint;

use crate::{
    api::{IngestApi, Limits},
    pipeline::Pipeline,
    rates::Rates,
    references::References,
};

/// The gRPC service name.
pub const SERVICE_NAME: &str = "fdi.ingest.v1.IngestService";
/// The database schema this service owns.
pub const SCHEMA: &str = "ingest";
/// Largest message accepted, in bytes (a full batch of rows fits several times).
const MAX_MESSAGE_BYTES: usize = 16 * 1024 * 1024;
/// How often exchange rates are reloaded to pick up other replicas' writes.
const RATES_REFRESH: Duration = Duration::from_secs(30);

static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Configuration of the ingest service (flags or environment variables).
#[derive(clap::Parser, Debug, Clone)]
#[command(name = "fdi-ingest", version, about = "FDI Atlas ingest service (gRPC)")]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "FDI_INGEST_ADDR", default_value = "0.0.0.0:50052", value_parser = parse_listen_addr)]
    pub listen: SocketAddr,
    /// Where the catalogue service is.
    #[arg(long, env = "FDI_CATALOGUE_URL", default_value = "http://localhost:50051")]
    pub catalogue_url: String,
    /// Deadline of each call to the catalogue.
    #[arg(long, env = "FDI_CATALOGUE_TIMEOUT", default_value = "5s", value_parser = parse_duration)]
    pub catalogue_timeout: Duration,
    /// Rows per bulk-load message.
    #[arg(long, env = "FDI_INGEST_MAX_BATCH_ROWS", default_value_t = 5000)]
    pub max_batch_rows: usize,
    /// Rows per bulk-load call (the client then opens a new call and resumes).
    #[arg(long, env = "FDI_INGEST_MAX_STREAM_ROWS", default_value_t = 2_000_000)]
    pub max_stream_rows: u64,
    /// How long a bulk-load stream may stay silent before it is closed.
    #[arg(long, env = "FDI_INGEST_STREAM_IDLE_TIMEOUT", default_value = "60s", value_parser = parse_duration)]
    pub stream_idle_timeout: Duration,
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

/// Runs the ingest service on `listener` until `shutdown` is cancelled.
///
/// Health says NOT_SERVING until the database is migrated and the rates are
/// loaded, and whenever the database or the catalogue stops answering.
///
/// # Errors
/// When the database or catalogue URL is invalid or the server fails.
pub async fn serve(config: Config, listener: TcpListener, shutdown: CancellationToken) -> anyhow::Result<()> {
    let pool = db::connect_lazy(&config.database, SCHEMA, "fdi-ingest")?;
    db::observe_pool(&pool, SCHEMA);
    let catalogue = Endpoint::from_shared(config.catalogue_url.clone())?
        .connect_timeout(config.catalogue_timeout)
        .tcp_nodelay(true)
        .connect_lazy();
    let pipeline = Arc::new(Pipeline {
        pool: pool.clone(),
        references: References::new(catalogue, config.catalogue_timeout),
        rates: Rates::default(),
    });
    let (readiness, health_service) = Readiness::new(&[SERVICE_NAME]).await;

    let prepare = {
        let pipeline = Arc::clone(&pipeline);
        move || {
            let pipeline = Arc::clone(&pipeline);
            async move {
                db::migrate(&pipeline.pool, SCHEMA, &MIGRATOR)
                    .await
                    .map_err(|e| format!("migrations: {e}"))?;
                Rates::seed(&pipeline.pool).await?;
                pipeline
                    .rates
                    .reload(&pipeline.pool)
                    .await
                    .map_err(|e| format!("loading exchange rates: {e}"))
            }
        }
    };
    let probe = {
        let pool = pool.clone();
        let catalogue_url = config.catalogue_url.clone();
        move || {
            let pool = pool.clone();
            let catalogue_url = catalogue_url.clone();
            async move {
                db::is_reachable(&pool, Duration::from_secs(2)).await
                    && server::health_status(&catalogue_url, "fdi.catalogue.v1.CatalogueService").await
                        == Some(server::ServingStatus::Serving)
            }
        }
    };
    let readiness_task = spawn_readiness(
        readiness,
        config.server.health_interval,
        shutdown.clone(),
        prepare,
        probe,
    );
    let rates_task = tokio::spawn({
        let pipeline = Arc::clone(&pipeline);
        let shutdown = shutdown.clone();
        async move {
            loop {
                tokio::select! {
                    () = shutdown.cancelled() => break,
                    () = tokio::time::sleep(RATES_REFRESH) => {}
                }
                if let Err(error) = pipeline.rates.reload(&pipeline.pool).await {
                    tracing::debug!(%error, "exchange rates not refreshed");
                }
            }
        }
    });

    let limits = Limits {
        max_batch_rows: config.max_batch_rows,
        max_stream_rows: config.max_stream_rows,
        stream_idle_timeout: config.stream_idle_timeout,
    };
    let (reflection_v1, reflection_v1alpha) = server::reflection(&[SERVICE_NAME]);
    let ingest = IngestServiceServer::new(IngestApi::new(pipeline, limits))
        .max_decoding_message_size(MAX_MESSAGE_BYTES)
        .max_encoding_message_size(MAX_MESSAGE_BYTES);
    let serving = server::builder(&config.server)
        .add_service(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(ingest)
        .serve_with_incoming_shutdown(server::incoming(listener), shutdown.clone().cancelled_owned());
    let result = server::serve_with_grace(serving, shutdown, config.server.shutdown_grace).await;

    readiness_task.abort();
    rates_task.abort();
    pool.close().await;
    result?;
    tracing::info!("ingest stopped");
    Ok(())
}
