//! The catalogue, ingest (whose migrations publish the feed analytics waits
//! for) and analytics on one fresh database, for this folder's tests.

#![allow(dead_code, reason = "each test binary uses a different part")]

use std::time::Duration;

use fdi_testkit::{ServiceGuard, settings::common, spawn_service, wait_until_serving};

/// How long a service may take to say SERVING.
const READY: Duration = Duration::from_secs(60);

/// The running services; dropping them stops them.
pub struct Services {
    pub catalogue: ServiceGuard,
    pub ingest: ServiceGuard,
    pub analytics: ServiceGuard,
    pub database_url: String,
}

/// An analytics service over `database_url`, with the catalogue at
/// `catalogue_url` and `tune` applied to its settings, once SERVING.
pub async fn start_analytics(
    database_url: &str,
    catalogue_url: &str,
    tune: impl FnOnce(&mut fdi_analytics::Config),
) -> ServiceGuard {
    let mut config = fdi_analytics::Config::new("127.0.0.1:0".parse().unwrap(), common(database_url), catalogue_url);
    tune(&mut config);
    let guard = spawn_service(|listener, shutdown| fdi_analytics::serve(config, listener, shutdown)).await;
    wait_until_serving(&guard.endpoint(), fdi_analytics::SERVICE_NAME, READY).await;
    guard
}

/// All three services on a fresh database, analytics configured by `tune`.
pub async fn start(tune: impl FnOnce(&mut fdi_analytics::Config)) -> Services {
    let db = fdi_testkit::database().await;
    let catalogue_config = fdi_catalogue::Config::new("127.0.0.1:0".parse().unwrap(), common(&db.url));
    let catalogue = spawn_service(|l, s| fdi_catalogue::serve(catalogue_config, l, s)).await;
    wait_until_serving(&catalogue.endpoint(), fdi_catalogue::SERVICE_NAME, READY).await;
    let ingest_config = fdi_ingest::Config::new("127.0.0.1:0".parse().unwrap(), common(&db.url), catalogue.endpoint());
    let ingest = spawn_service(|l, s| fdi_ingest::serve(ingest_config, l, s)).await;
    wait_until_serving(&ingest.endpoint(), fdi_ingest::SERVICE_NAME, READY).await;
    let analytics = start_analytics(&db.url, &catalogue.endpoint(), tune).await;
    Services {
        catalogue,
        ingest,
        analytics,
        database_url: db.url.clone(),
    }
}
