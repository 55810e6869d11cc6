//! The three services on one fresh database, as `fdi up` runs them, for the
//! black-box tests of this folder.

#![allow(dead_code, reason = "each test binary uses a different part")]

use std::time::Duration;

use fdi_testkit::{ServiceGuard, settings::common, spawn_service, wait_until_serving};

/// How long a service may take to say SERVING (debug builds on a busy machine).
const READY: Duration = Duration::from_secs(120);

/// The running services; dropping them stops them.
pub struct Services {
    pub catalogue: ServiceGuard,
    pub ingest: ServiceGuard,
    pub analytics: ServiceGuard,
    pub database_url: String,
}

impl Services {
    /// Each service's endpoint and health service name.
    pub fn health_checks(&self) -> [(String, &'static str); 3] {
        [
            (self.catalogue.endpoint(), fdi_catalogue::SERVICE_NAME),
            (self.ingest.endpoint(), fdi_ingest::SERVICE_NAME),
            (self.analytics.endpoint(), fdi_analytics::SERVICE_NAME),
        ]
    }
}

/// Catalogue, ingest and analytics on a fresh database, each SERVING.
pub async fn start() -> Services {
    start_with(|_| {}).await
}

/// As [`start`], with `adjust` applied to the catalogue's settings.
pub async fn start_with(adjust: impl FnOnce(&mut fdi_catalogue::Config)) -> Services {
    let db = fdi_testkit::database().await;
    let mut catalogue_config = fdi_catalogue::Config::new("127.0.0.1:0".parse().unwrap(), common(&db.url));
    adjust(&mut catalogue_config);
    let catalogue = spawn_service(|l, s| fdi_catalogue::serve(catalogue_config, l, s)).await;
    wait_until_serving(&catalogue.endpoint(), fdi_catalogue::SERVICE_NAME, READY).await;
    let ingest_config = fdi_ingest::Config::new("127.0.0.1:0".parse().unwrap(), common(&db.url), catalogue.endpoint());
    let ingest = spawn_service(|l, s| fdi_ingest::serve(ingest_config, l, s)).await;
    wait_until_serving(&ingest.endpoint(), fdi_ingest::SERVICE_NAME, READY).await;
    let analytics_config =
        fdi_analytics::Config::new("127.0.0.1:0".parse().unwrap(), common(&db.url), catalogue.endpoint());
    let analytics = spawn_service(|l, s| fdi_analytics::serve(analytics_config, l, s)).await;
    wait_until_serving(&analytics.endpoint(), fdi_analytics::SERVICE_NAME, READY).await;
    Services {
        catalogue,
        ingest,
        analytics,
        database_url: db.url.clone(),
    }
}
