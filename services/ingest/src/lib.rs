//! The FDI Atlas ingest service: investment events in bulk, exactly once,
//! nothing lost. Rows are validated, their names resolved through the
//! catalogue (cached), amounts converted at the event month's rate, and each
//! batch recorded in one transaction with its sequence numbers, held rows and
//! load progress.
//!
//! Layers: `api` (the gRPC handlers: validate, call, convert) over
//! `pipeline` (the write path: `validate`, `references`, `rates`) over
//! `store` (all of the SQL), with `model` the types they share and `error`
//! the one mapping of failures to gRPC status.
//!
//! [`serve`] runs the whole service on a listener until a shutdown token
//! fires; `main.rs`, `fdi up` and the tests use it. The client side (the
//! resuming bulk loader, the CSV/JSONL register reader and writer, the demo
//! register generator) is the `fdi-client` crate.

pub mod access;
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
    access::{Bearer, Permission},
    catalogue::Catalogue,
    config::{CatalogueConfig, Common, DatabaseConfig, default_duration, parse_duration, parse_listen_addr},
    service::{Identity, Skeleton},
    shutdown::CancellationToken,
};
use fdi_proto::ingest::ingest_service_server::IngestServiceServer;
use tokio::net::TcpListener;
use tonic::service::Routes;

use crate::{
    api::{IngestApi, Limits},
    pipeline::Pipeline,
    rates::Rates,
    references::References,
    store::{SCHEMA, Store},
};

/// The gRPC service name.
pub const SERVICE_NAME: &str = "fdi.ingest.v1.IngestService";
/// Largest message accepted, in bytes (a full batch of rows fits several times).
const MAX_MESSAGE_BYTES: usize = 16 * 1024 * 1024;
/// How often exchange rates are reloaded to pick up other replicas' writes.
const RATES_REFRESH: Duration = Duration::from_secs(30);

/// Who the service is.
const IDENTITY: Identity = Identity {
    process: "fdi-ingest",
    grpc_service: SERVICE_NAME,
    schema: SCHEMA,
};

/// Default address to listen on.
pub const DEFAULT_LISTEN: &str = "0.0.0.0:50052";
const DEFAULT_MAX_BATCH_ROWS: usize = 5000;
const DEFAULT_MAX_STREAM_ROWS: u64 = 2_000_000;
const DEFAULT_STREAM_IDLE_TIMEOUT: &str = "60s";
const DEFAULT_MAX_DOCUMENT_ITEMS: usize = 1000;

/// A count of at least one.
fn parse_at_least_one(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(0) => Err("must be at least 1".to_owned()),
        Ok(n) => Ok(n),
        Err(error) => Err(error.to_string()),
    }
}

/// Extractions that may run at once unless configured: one per core (at least two).
#[must_use]
pub fn default_max_extractions() -> usize {
    std::thread::available_parallelism().map_or(2, |cores| cores.get().max(2))
}

/// Configuration of the ingest service (flags or environment variables).
#[derive(clap::Parser, Debug, Clone)]
#[command(name = "fdi-ingest", version, about = "FDI Atlas ingest service (gRPC)")]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "FDI_INGEST_ADDR", default_value = DEFAULT_LISTEN, value_parser = parse_listen_addr)]
    pub listen: SocketAddr,
    /// Where the catalogue is.
    #[command(flatten)]
    pub catalogue: CatalogueConfig,
    /// Rows per bulk-load message.
    #[arg(long, env = "FDI_INGEST_MAX_BATCH_ROWS", default_value_t = DEFAULT_MAX_BATCH_ROWS)]
    pub max_batch_rows: usize,
    /// Rows per bulk-load call (the client then opens a new call and resumes).
    #[arg(long, env = "FDI_INGEST_MAX_STREAM_ROWS", default_value_t = DEFAULT_MAX_STREAM_ROWS)]
    pub max_stream_rows: u64,
    /// How long a bulk-load stream may stay silent before it is closed.
    #[arg(long, env = "FDI_INGEST_STREAM_IDLE_TIMEOUT", default_value = DEFAULT_STREAM_IDLE_TIMEOUT, value_parser = parse_duration)]
    pub stream_idle_timeout: Duration,
    /// Document extractions that may run at once; an `IngestDocument` call
    /// that finds none free before its deadline fails with RESOURCE_EXHAUSTED.
    #[arg(long, env = "FDI_INGEST_MAX_EXTRACTIONS", default_value_t = default_max_extractions(), value_parser = parse_at_least_one)]
    pub max_extractions: usize,
    /// Most items of each kind (money mentions, project counts, statistics,
    /// projects) extracted from one document; a document with more is
    /// refused with INVALID_ARGUMENT.
    #[arg(long, env = "FDI_INGEST_MAX_DOCUMENT_ITEMS", default_value_t = DEFAULT_MAX_DOCUMENT_ITEMS, value_parser = parse_at_least_one)]
    pub max_document_items: usize,
    /// Database, server and logging settings.
    #[command(flatten)]
    pub common: Common,
}

impl Config {
    /// The configuration of a service listening on `listen` with `common`
    /// settings, calling the catalogue at `catalogue_url`; everything else as
    /// the flags default it.
    #[must_use]
    pub fn new(listen: SocketAddr, common: Common, catalogue_url: impl Into<String>) -> Self {
        Self {
            listen,
            catalogue: CatalogueConfig::new(catalogue_url),
            max_batch_rows: DEFAULT_MAX_BATCH_ROWS,
            max_stream_rows: DEFAULT_MAX_STREAM_ROWS,
            stream_idle_timeout: default_duration(DEFAULT_STREAM_IDLE_TIMEOUT),
            max_extractions: default_max_extractions(),
            max_document_items: DEFAULT_MAX_DOCUMENT_ITEMS,
            common,
        }
    }
}

/// Runs the ingest service as its own process: telemetry, the configured
/// listener, serving until SIGTERM or SIGINT, telemetry flushed.
///
/// # Errors
/// When the address cannot be bound or serving fails.
pub async fn run(config: Config) -> anyhow::Result<()> {
    let (listen, log) = (config.listen, config.common.log);
    fdi_kit::server::run_process(IDENTITY.process, listen, log, |l, s| serve(config, l, s)).await
}

/// Runs the ingest service on `listener` until `shutdown` is cancelled.
///
/// Health says NOT_SERVING until the database is migrated and the rates are
/// loaded, and whenever the database or the catalogue stops answering.
///
/// # Errors
/// When the database or catalogue URL is invalid or the server fails.
pub async fn serve(config: Config, listener: TcpListener, shutdown: CancellationToken) -> anyhow::Result<()> {
    let skeleton = Skeleton::new(IDENTITY, &config.common, shutdown)?;
    let catalogue = Catalogue::connect_lazy(&config.catalogue, &config.common.tls)?
        .with_credential(Bearer::from_secret(config.common.access.service_key.as_ref())?);
    let pipeline = Arc::new(Pipeline {
        store: Store::new(skeleton.pool().clone()),
        references: References::new(catalogue),
        rates: Rates::default(),
    });
    let limits = Limits {
        max_batch_rows: config.max_batch_rows,
        max_stream_rows: config.max_stream_rows,
        stream_idle_timeout: config.stream_idle_timeout,
        max_extractions: config.max_extractions,
        max_document_items: config.max_document_items,
        request_timeout: config.common.server.request_timeout,
    };
    let ingest = IngestServiceServer::new(IngestApi::new(Arc::clone(&pipeline), limits))
        .max_decoding_message_size(MAX_MESSAGE_BYTES)
        .max_encoding_message_size(MAX_MESSAGE_BYTES);
    let ready = Arc::clone(&pipeline);
    let database = config.common.database.clone();
    skeleton
        .prepare(move || {
            let (pipeline, database) = (Arc::clone(&ready), database.clone());
            async move { get_ready(&pipeline, &database).await }
        })
        .depends_on(&config.catalogue.url, fdi_kit::catalogue::SERVICE_NAME)
        .every(RATES_REFRESH, move || {
            let pipeline = Arc::clone(&pipeline);
            async move {
                if let Err(error) = pipeline.reload_rates().await {
                    tracing::debug!(%error, "exchange rates not refreshed");
                }
            }
        })
        .policy(policy)
        .serve(listener, Routes::new(ingest))
        .await?;
    Ok(())
}

/// What each RPC needs. Writing needs a writer (whose provinces the
/// pipeline checks row by row) or an admin; rates and targets are reference
/// data, a curator's; re-processing held rows records other keys' rows, so it
/// is an admin's. A method missing here needs an admin until it is classified.
fn policy(path: &str) -> Option<Permission> {
    let method = path.strip_prefix("/fdi.ingest.v1.IngestService/")?;
    match method {
        "SubmitEvent" | "LoadEvents" | "IngestDocument" | "PromoteProject" => Some(Permission::Write),
        "CreateExchangeRates" | "SetTarget" => Some(Permission::Curate),
        "ReprocessHeldRows" => Some(Permission::Admin),
        "GetBulkLoad"
        | "GetEvent"
        | "ListEvents"
        | "ListHeldRows"
        | "ListExchangeRates"
        | "ListTargets"
        | "GetDocument"
        | "ListReportedStatistics" => Some(Permission::Read),
        _ => None,
    }
}

/// Makes the service ready: the schema migrated (as `database` says), the
/// shipped rates seeded, the rate table loaded.
async fn get_ready(pipeline: &Pipeline, database: &DatabaseConfig) -> Result<(), String> {
    pipeline
        .store
        .migrate(database)
        .await
        .map_err(|e| format!("migrations: {e}"))?;
    let shipped = rates::shipped()?;
    pipeline
        .store
        .seed_rates(&shipped)
        .await
        .map_err(|e| format!("seeding exchange rates: {e}"))?;
    pipeline
        .reload_rates()
        .await
        .map_err(|e| format!("loading exchange rates: {e}"))
}

#[cfg(test)]
mod tests {
    use fdi_kit::config::{DEFAULT_CATALOGUE_URL, DatabaseConfig};
    use fdi_testkit::settings::{DEFAULT_TEST_URL, assert_flag_defaults};

    use super::*;

    #[test]
    fn every_ingest_rpc_has_its_permission() {
        let expected = [
            ("SubmitEvent", Permission::Write),
            ("LoadEvents", Permission::Write),
            ("IngestDocument", Permission::Write),
            ("PromoteProject", Permission::Write),
            ("CreateExchangeRates", Permission::Curate),
            ("SetTarget", Permission::Curate),
            ("ReprocessHeldRows", Permission::Admin),
            ("GetBulkLoad", Permission::Read),
            ("GetEvent", Permission::Read),
            ("ListEvents", Permission::Read),
            ("ListHeldRows", Permission::Read),
            ("ListExchangeRates", Permission::Read),
            ("ListTargets", Permission::Read),
            ("GetDocument", Permission::Read),
            ("ListReportedStatistics", Permission::Read),
        ];
        for (method, permission) in expected {
            assert_eq!(
                policy(&format!("/{SERVICE_NAME}/{method}")),
                Some(permission),
                "{method}"
            );
        }
        // Every RPC of the contract is among them: a new one fails here until it is classified.
        let contract = include_str!("../../../proto/fdi/ingest/v1/ingest_service.proto");
        let rpcs: Vec<&str> = contract
            .lines()
            .filter_map(|line| line.trim().strip_prefix("rpc "))
            .filter_map(|rest| rest.split('(').next())
            .collect();
        assert_eq!(rpcs.len(), expected.len(), "{rpcs:?}");
        for rpc in rpcs {
            assert!(
                expected.iter().any(|(method, _)| *method == rpc),
                "{rpc} has no permission"
            );
        }
        assert_eq!(policy(&format!("/{SERVICE_NAME}/DropEverything")), None);
        assert_eq!(policy("/fdi.catalogue.v1.CatalogueService/ListProvinces"), None);
        assert_eq!(policy(&format!("/{SERVICE_NAME}")), None);
    }

    #[test]
    fn the_constructor_has_the_flags_defaults() {
        let built = Config::new(
            DEFAULT_LISTEN.parse().unwrap(),
            Common::new(DatabaseConfig::new(DEFAULT_TEST_URL)),
            DEFAULT_CATALOGUE_URL,
        );
        assert_flag_defaults("fdi-ingest", &built);
    }
}
