//! A real catalogue and a real ingest service on ephemeral ports, over a
//! fresh PostgreSQL database.

#![allow(dead_code, reason = "each test binary uses a different part")]

use std::time::Duration;

use fdi_proto::ingest::{EventInput, ingest_service_client::IngestServiceClient};
use fdi_testkit::{ServiceGuard, settings::common, spawn_service, wait_until_serving};
use tonic::transport::Channel;

pub type Client = IngestServiceClient<Channel>;

pub struct System {
    pub catalogue: ServiceGuard,
    pub ingest: ServiceGuard,
    pub client: Client,
    pub database_url: String,
}

pub fn catalogue_config(database_url: &str) -> fdi_catalogue::Config {
    fdi_catalogue::Config::new("127.0.0.1:0".parse().unwrap(), common(database_url))
}

pub fn ingest_config(database_url: &str, catalogue_url: &str) -> fdi_ingest::Config {
    fdi_ingest::Config::new("127.0.0.1:0".parse().unwrap(), common(database_url), catalogue_url)
}

pub async fn start_catalogue(database_url: &str) -> ServiceGuard {
    let config = catalogue_config(database_url);
    let guard = spawn_service(|listener, shutdown| fdi_catalogue::serve(config, listener, shutdown)).await;
    wait_until_serving(&guard.endpoint(), fdi_catalogue::SERVICE_NAME, Duration::from_secs(60)).await;
    guard
}

/// Catalogue and ingest on a fresh database, with `adjust` applied to the ingest configuration.
pub async fn start_with(adjust: impl FnOnce(&mut fdi_ingest::Config)) -> System {
    let database = fdi_testkit::database().await;
    let catalogue = start_catalogue(&database.url).await;
    let mut config = ingest_config(&database.url, &catalogue.endpoint());
    adjust(&mut config);
    let ingest = spawn_service(|listener, shutdown| fdi_ingest::serve(config, listener, shutdown)).await;
    wait_until_serving(&ingest.endpoint(), fdi_ingest::SERVICE_NAME, Duration::from_secs(60)).await;
    let client = IngestServiceClient::connect(ingest.endpoint()).await.expect("connect");
    System {
        catalogue,
        ingest,
        client,
        database_url: database.url,
    }
}

pub async fn start() -> System {
    start_with(|_| {}).await
}

/// A valid new-project row.
pub fn new_project(key: &str, province: &str, amount: &str) -> EventInput {
    EventInput {
        idempotency_key: key.to_owned(),
        kind: "new".into(),
        event_date: "2024-05-20".into(),
        project_ref: format!("GCN-{key}"),
        project_name: "Electronics components plant".into(),
        investor: "Foxconn Singapore Pte. Ltd.".into(),
        investor_country: "SG".into(),
        province: province.to_owned(),
        sector: "C".into(),
        amount: amount.to_owned(),
        currency: "USD".into(),
        ..Default::default()
    }
}

/// `n` synthetic rows with known totals: amounts 1000 + i USD, spread over provinces and kinds.
pub fn register(prefix: &str, n: u64) -> Vec<EventInput> {
    const PROVINCES: [&str; 6] = [
        "Bắc Giang",
        "bac-ninh",
        "Hai Duong",
        "Hải Phòng",
        "Vĩnh Phúc",
        "Ho Chi Minh City",
    ];
    (0..n)
        .map(|i| {
            let kind = ["new", "adjustment", "disbursement"][(i % 3) as usize];
            EventInput {
                idempotency_key: format!("{prefix}-{i}"),
                kind: kind.into(),
                event_date: format!("2024-{:02}-{:02}", i % 12 + 1, i % 28 + 1),
                project_ref: format!("{prefix}-P{}", i / 3),
                investor: format!("Test Investor {} Co., Ltd", i % 50),
                investor_country: ["KR", "JP", "VN"][(i % 3) as usize].into(),
                province: PROVINCES[(i % 6) as usize].into(),
                amount: (1000 + i).to_string(),
                currency: "USD".into(),
                ..Default::default()
            }
        })
        .collect()
}
