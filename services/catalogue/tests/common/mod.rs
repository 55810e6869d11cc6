//! Starting a real catalogue server on an ephemeral port against a real,
//! fresh PostgreSQL database.

#![allow(dead_code, reason = "each test binary uses a different part")]

use std::time::Duration;

use fdi_catalogue::{Config, SERVICE_NAME, serve};
use fdi_kit::config::Common;
use fdi_proto::catalogue::catalogue_service_client::CatalogueServiceClient;
use fdi_testkit::{ServiceGuard, settings::common, spawn_service, wait_until_serving};
use tonic::transport::Channel;

pub type Client = CatalogueServiceClient<Channel>;

pub fn config(database_url: &str) -> Config {
    Config::new("127.0.0.1:0".parse().unwrap(), common(database_url))
}

/// A running catalogue on a fresh database, ready to serve.
pub async fn start() -> (ServiceGuard, Client) {
    let database = fdi_testkit::database().await;
    let guard = start_with(common(&database.url)).await;
    let client = CatalogueServiceClient::connect(guard.endpoint())
        .await
        .expect("connect");
    (guard, client)
}

/// A running catalogue with `settings` (e.g. `settings::secured(url)`), ready to serve.
pub async fn start_with(settings: Common) -> ServiceGuard {
    start_configured(Config::new("127.0.0.1:0".parse().unwrap(), settings)).await
}

/// A running catalogue as `config` says, ready to serve.
pub async fn start_configured(config: Config) -> ServiceGuard {
    let guard = spawn_service(|listener, shutdown| serve(config, listener, shutdown)).await;
    wait_until_serving(&guard.endpoint(), SERVICE_NAME, Duration::from_secs(60)).await;
    guard
}
