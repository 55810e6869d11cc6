//! Health that operators can trust: every service reports NOT_SERVING while
//! PostgreSQL is down (ingest and analytics also while the catalogue is),
//! and SERVING again once it is back, without a restart.

use std::{sync::Arc, time::Duration};

use fdi_kit::config::CatalogueConfig;
use fdi_testkit::{ServiceGuard, ServingStatus, health_status, settings::common, spawn_service, wait_until_serving};
use sqlx::{Connection, PgConnection};

/// Waits until every service reports `wanted`; false when one does not within `timeout`.
async fn all_report(services: &[(&ServiceGuard, &str)], wanted: ServingStatus, timeout: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let mut all = true;
        for (guard, name) in services {
            all &= health_status(&guard.endpoint(), name).await == Some(wanted);
        }
        if all {
            return true;
        }
        if tokio::time::Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn every_service_is_not_serving_while_postgres_is_down_and_serving_once_it_is_back() {
    let cluster = Arc::new(
        tokio::task::spawn_blocking(fdi_testkit::Cluster::start)
            .await
            .unwrap()
            .expect("private cluster"),
    );
    let mut admin = PgConnection::connect(&cluster.url("postgres")).await.unwrap();
    sqlx::query("CREATE DATABASE health").execute(&mut admin).await.unwrap();
    drop(admin);
    let url = cluster.url("health");

    let catalogue_config = fdi_catalogue::Config::new("127.0.0.1:0".parse().unwrap(), common(&url));
    let catalogue = spawn_service(|l, s| fdi_catalogue::serve(catalogue_config, l, s)).await;
    wait_until_serving(
        &catalogue.endpoint(),
        fdi_catalogue::SERVICE_NAME,
        Duration::from_secs(60),
    )
    .await;
    let ingest_config = fdi_ingest::Config {
        catalogue: CatalogueConfig {
            timeout: Duration::from_secs(2),
            ..CatalogueConfig::new(catalogue.endpoint())
        },
        max_stream_rows: 1_000_000,
        ..fdi_ingest::Config::new("127.0.0.1:0".parse().unwrap(), common(&url), catalogue.endpoint())
    };
    let ingest = spawn_service(|l, s| fdi_ingest::serve(ingest_config, l, s)).await;
    wait_until_serving(&ingest.endpoint(), fdi_ingest::SERVICE_NAME, Duration::from_secs(60)).await;
    let analytics_config = fdi_analytics::Config {
        catalogue: CatalogueConfig {
            timeout: Duration::from_secs(2),
            ..CatalogueConfig::new(catalogue.endpoint())
        },
        ..fdi_analytics::Config::new("127.0.0.1:0".parse().unwrap(), common(&url), catalogue.endpoint())
    };
    let analytics = spawn_service(|l, s| fdi_analytics::serve(analytics_config, l, s)).await;
    wait_until_serving(
        &analytics.endpoint(),
        fdi_analytics::SERVICE_NAME,
        Duration::from_secs(60),
    )
    .await;
    let services = [
        (&catalogue, fdi_catalogue::SERVICE_NAME),
        (&ingest, fdi_ingest::SERVICE_NAME),
        (&analytics, fdi_analytics::SERVICE_NAME),
    ];

    let stopped = Arc::clone(&cluster);
    tokio::task::spawn_blocking(move || stopped.stop_immediate())
        .await
        .unwrap()
        .expect("pg_ctl stop -m immediate");
    assert!(
        all_report(&services, ServingStatus::NotServing, Duration::from_secs(20)).await,
        "a service kept reporting SERVING with its database down"
    );
    // The whole server ("") says the same.
    assert_eq!(
        health_status(&ingest.endpoint(), "").await,
        Some(ServingStatus::NotServing)
    );

    let restarted = Arc::clone(&cluster);
    tokio::task::spawn_blocking(move || restarted.start_server())
        .await
        .unwrap()
        .expect("restart");
    assert!(
        all_report(&services, ServingStatus::Serving, Duration::from_secs(30)).await,
        "a service did not recover once its database was back"
    );
}
