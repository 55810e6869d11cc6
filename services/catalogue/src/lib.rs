//! The FDI Atlas catalogue service: provinces with the 2025 merger lineage,
//! industrial parks, clusters and economic zones, investors, and the
//! resolution of names in any spelling. It also serves
//! `fdi.access.v1.AccessService`, the API keys every service checks.
//!
//! [`serve`] runs the whole service on a listener until a shutdown token
//! fires; `main.rs` and the tests both use it. Layers, top down: [`api`]
//! (validate, ask, convert to protobuf; [`error`] maps failures to status),
//! [`state`] (the in-memory snapshot with the [`resolver`] index, kept in
//! step with other replicas' writes by [`replicas`]), [`store`] (all the
//! SQL), over the domain types of [`model`].

pub mod api;
pub mod error;
pub mod model;
pub mod replicas;
pub mod resolver;
pub mod seed;
pub mod state;
pub mod store;

use std::{net::SocketAddr, sync::Arc, time::Duration};

use fdi_kit::{
    config::{Common, default_duration, parse_duration, parse_listen_addr},
    service::{Identity, Skeleton},
    shutdown::CancellationToken,
};
use fdi_proto::{
    access::access_service_server::AccessServiceServer, catalogue::catalogue_service_server::CatalogueServiceServer,
};
use tokio::net::TcpListener;
use tonic::service::Routes;

use crate::{
    api::{AccessApi, CatalogueApi},
    state::Catalogue,
    store::Store,
};

/// The gRPC service name.
pub const SERVICE_NAME: &str = "fdi.catalogue.v1.CatalogueService";
/// The database schema this service owns.
pub const SCHEMA: &str = "catalogue";
/// Who the catalogue is, for the serve skeleton.
const IDENTITY: Identity = Identity {
    process: "fdi-catalogue",
    grpc_service: SERVICE_NAME,
    schema: SCHEMA,
};
/// The address the catalogue listens on unless told otherwise.
pub const DEFAULT_LISTEN: &str = "0.0.0.0:50051";
/// Largest request accepted, in bytes.
const MAX_REQUEST_BYTES: usize = 4 * 1024 * 1024;
/// How often the in-memory snapshot is reloaded unless configured: the last
/// fallback, should a notification of another replica's write be missed.
const DEFAULT_SNAPSHOT_REFRESH: &str = "30s";

/// A duration longer than zero.
fn parse_period(text: &str) -> Result<Duration, String> {
    let period = parse_duration(text)?;
    if period.is_zero() {
        return Err("must be longer than zero".to_owned());
    }
    Ok(period)
}

/// Configuration of the catalogue service (flags or environment variables).
#[derive(clap::Parser, Debug, Clone)]
#[command(name = "fdi-catalogue", version, about = "FDI Atlas catalogue service (gRPC)")]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "FDI_CATALOGUE_ADDR", default_value = DEFAULT_LISTEN, value_parser = parse_listen_addr)]
    pub listen: SocketAddr,
    /// How often the in-memory snapshot of provinces and zones is reloaded
    /// anyway. Other replicas' writes are picked up as they commit (they
    /// notify); this is the fallback should a notification be missed.
    #[arg(long, env = "FDI_CATALOGUE_SNAPSHOT_REFRESH", default_value = DEFAULT_SNAPSHOT_REFRESH, value_parser = parse_period)]
    pub snapshot_refresh: Duration,
    /// Database, server and logging settings.
    #[command(flatten)]
    pub common: Common,
}

impl Config {
    /// Settings for a catalogue on `listen` with `common` settings; every
    /// other setting has its default (as the flags do).
    #[must_use]
    pub fn new(listen: SocketAddr, common: Common) -> Self {
        Self {
            listen,
            snapshot_refresh: default_duration(DEFAULT_SNAPSHOT_REFRESH),
            common,
        }
    }
}

/// Runs the catalogue as its own process: telemetry, the configured
/// listener, serving until SIGTERM or SIGINT, telemetry flushed.
///
/// # Errors
/// When the address cannot be bound or serving fails.
pub async fn run(config: Config) -> anyhow::Result<()> {
    let (listen, log) = (config.listen, config.common.log);
    fdi_kit::server::run_process(IDENTITY.process, listen, log, |l, s| serve(config, l, s)).await
}

/// Runs the catalogue on `listener` until `shutdown` is cancelled.
///
/// The server answers at once: health says NOT_SERVING until the database
/// is reachable, migrated and the reference data is loaded.
///
/// # Errors
/// When the database URL is invalid or the server fails.
pub async fn serve(config: Config, listener: TcpListener, shutdown: CancellationToken) -> anyhow::Result<()> {
    let skeleton = Skeleton::new(IDENTITY, &config.common, shutdown)?;
    let state = Arc::new(Catalogue::new(Store::new(skeleton.pool().clone())));
    let api =
        CatalogueServiceServer::new(CatalogueApi::new(Arc::clone(&state))).max_decoding_message_size(MAX_REQUEST_BYTES);
    // The keys every service checks are managed here, next to the provinces a writer's key names.
    let keys = AccessServiceServer::new(AccessApi::new(
        skeleton.authenticator().store().clone(),
        Arc::clone(&state),
    ))
    .max_decoding_message_size(MAX_REQUEST_BYTES);
    let preparing = Arc::clone(&state);
    let database = config.common.database.clone();
    skeleton
        .policy(api::policy)
        .also_serves(fdi_proto::access::access_service_server::SERVICE_NAME)
        .prepare(move || {
            let (state, database) = (Arc::clone(&preparing), database.clone());
            async move { state.prepare(&database).await }
        })
        .after_ready({
            let state = Arc::clone(&state);
            move |shutdown| replicas::follow(state, shutdown)
        })
        .every(config.snapshot_refresh, move || {
            let state = Arc::clone(&state);
            async move {
                state.refresh().await;
            }
        })
        .serve(listener, Routes::new(api).add_service(keys))
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use fdi_kit::config::DatabaseConfig;
    use fdi_testkit::settings::{DEFAULT_TEST_URL, assert_flag_defaults};

    use super::*;

    #[test]
    fn the_constructor_has_the_flags_defaults() {
        let built = Config::new(
            DEFAULT_LISTEN.parse().unwrap(),
            Common::new(DatabaseConfig::new(DEFAULT_TEST_URL)),
        );
        assert_flag_defaults("fdi-catalogue", &built);
    }

    #[test]
    fn the_snapshot_refresh_is_a_positive_duration() {
        assert_eq!(parse_period("1h"), Ok(Duration::from_secs(3600)));
        assert!(parse_period("0s").is_err());
        assert!(parse_period("soon").is_err());
    }
}
