//! The three services on one fresh database, as `fdi up` runs them, for the
//! black-box tests of this folder.

#![allow(dead_code, reason = "each test binary uses a different part")]

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::Duration,
};

use chrono::{DateTime, Utc};
use fdi_kit::{
    access::{Bearer, KeyRecord, KeyStore, Role, generate},
    config::{Common, Secret},
    domain::ProvinceCode,
};
use fdi_proto::ingest::EventInput;
use fdi_testkit::{
    ServiceGuard,
    settings::{common, secured},
    spawn_service, wait_until_serving,
};
use prost_reflect::{DynamicMessage, MethodDescriptor};
use tonic::{Request, Status, codegen::http::uri::PathAndQuery, transport::Channel};
use tonic_prost::ProstCodec;

/// Every call's deadline: generous for a debug build on a busy machine; a bound answer is far quicker.
const CALL_DEADLINE: Duration = Duration::from_secs(20);

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

/// Catalogue, ingest and analytics on a fresh database, each SERVING (anonymous calls allowed).
pub async fn start() -> Services {
    start_with(|_| {}).await
}

/// A key made straight in the key table (as `fdi keys bootstrap` does): its token.
pub async fn make_key(
    database_url: &str,
    role: Role,
    provinces: &[&str],
    expire_time: Option<DateTime<Utc>>,
) -> String {
    let store = KeyStore::connect_lazy(&fdi_kit::config::DatabaseConfig::new(database_url), "test").unwrap();
    store.migrate().await.unwrap();
    let key = generate().unwrap();
    store
        .insert(&KeyRecord {
            key_id: key.key_id.clone(),
            secret_hash: key.secret_hash,
            role,
            provinces: provinces.iter().map(|p| ProvinceCode::parse(p).unwrap()).collect(),
            description: "test".into(),
            creator: "test".into(),
            create_time: Utc::now(),
            expire_time,
            revoke_time: None,
        })
        .await
        .unwrap();
    key.token
}

/// As [`start`], with API keys required everywhere (ingest and analytics use a service key); the admin key.
pub async fn start_secured(adjust: impl Fn(&mut Common)) -> (Services, String) {
    let db = fdi_testkit::database().await;
    let admin = make_key(&db.url, Role::Admin, &[], None).await;
    let service = make_key(&db.url, Role::Service, &[], None).await;
    let mut settings = secured(&db.url);
    settings.access.service_key = Some(Secret::from(service));
    adjust(&mut settings);
    let catalogue_config = fdi_catalogue::Config::new("127.0.0.1:0".parse().unwrap(), settings.clone());
    let catalogue = spawn_service(|l, s| fdi_catalogue::serve(catalogue_config, l, s)).await;
    wait_until_serving(&catalogue.endpoint(), fdi_catalogue::SERVICE_NAME, READY).await;
    let ingest_config = fdi_ingest::Config::new("127.0.0.1:0".parse().unwrap(), settings.clone(), catalogue.endpoint());
    let ingest = spawn_service(|l, s| fdi_ingest::serve(ingest_config, l, s)).await;
    wait_until_serving(&ingest.endpoint(), fdi_ingest::SERVICE_NAME, READY).await;
    let analytics_config = fdi_analytics::Config::new("127.0.0.1:0".parse().unwrap(), settings, catalogue.endpoint());
    let analytics = spawn_service(|l, s| fdi_analytics::serve(analytics_config, l, s)).await;
    wait_until_serving(&analytics.endpoint(), fdi_analytics::SERVICE_NAME, READY).await;
    let services = Services {
        catalogue,
        ingest,
        analytics,
        database_url: db.url.clone(),
    };
    (services, admin)
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

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A service process; killed when dropped (unless it already exited).
pub struct Process {
    /// The `fdi serve` process.
    pub child: Child,
    /// `http://127.0.0.1:{port}`.
    pub endpoint: String,
    log: PathBuf,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Process {
    /// `fdi serve {service}` on `port` with `env`, logging JSON lines into `dir`.
    pub fn start(service: &str, port: u16, env: &[(&str, String)], dir: &Path) -> Self {
        let log = dir.join(format!("{service}.log"));
        let mut command = Command::new(env!("CARGO_BIN_EXE_fdi"));
        command
            .args(["serve", service])
            .env_remove("OTEL_SERVICE_NAME")
            .env_remove("OTEL_RESOURCE_ATTRIBUTES")
            .env("FDI_LOG_FORMAT", "json")
            .env("RUST_LOG", "info")
            .env("FDI_HEALTH_INTERVAL", "200ms")
            // Plaintext, explicitly (TLS itself is cli/tests/tls.rs's).
            .env("FDI_ALLOW_PLAINTEXT", "true")
            .env(
                format!("FDI_{}_ADDR", service.to_uppercase()),
                format!("127.0.0.1:{port}"),
            )
            .stdout(Stdio::from(std::fs::File::create(&log).unwrap()))
            .stderr(Stdio::inherit());
        for (key, value) in env {
            command.env(key, value);
        }
        Self {
            child: command.spawn().expect("start fdi serve"),
            endpoint: format!("http://127.0.0.1:{port}"),
            log,
        }
    }

    /// The log lines written so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The JSON log lines written so far.
    pub fn log_lines(&self) -> Vec<serde_json::Value> {
        self.log_text()
            .lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect()
    }
}

/// One call of any RPC, described by its descriptor, with `request` (two copies of it for a client stream) and
/// `credential`; the first failure status. A server stream is judged by what it answers within a moment.
pub async fn call(
    channel: Channel,
    method: &MethodDescriptor,
    request: DynamicMessage,
    credential: &Bearer,
) -> Result<(), Status> {
    let path = PathAndQuery::try_from(format!("/{}/{}", method.parent_service().full_name(), method.name())).unwrap();
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.map_err(|e| Status::unavailable(e.to_string()))?;
    // The response is decoded as `()`: callers judge statuses, and `()` skips every field.
    let codec = ProstCodec::<DynamicMessage, ()>::default();
    match (method.is_client_streaming(), method.is_server_streaming()) {
        (false, false) => grpc
            .unary(with_deadline(request, credential), path, codec)
            .await
            .map(drop),
        (true, _) => {
            let copies = vec![request.clone(), request];
            let response = grpc
                .streaming(with_deadline(tokio_stream::iter(copies), credential), path, codec)
                .await?;
            drain(response.into_inner()).await
        }
        (false, true) => {
            let response = grpc
                .server_streaming(with_deadline(request, credential), path, codec)
                .await?;
            // A subscription that stays open is fine; only what it answers within a moment is judged.
            let mut stream = response.into_inner();
            match tokio::time::timeout(Duration::from_millis(300), stream.message()).await {
                Ok(answer) => answer.map(drop),
                Err(_) => Ok(()),
            }
        }
    }
}

fn with_deadline<T>(message: T, credential: &Bearer) -> Request<T> {
    let mut request = Request::new(message);
    request.set_timeout(CALL_DEADLINE);
    credential.apply(&mut request);
    request
}

async fn drain(mut stream: tonic::Streaming<()>) -> Result<(), Status> {
    while stream.message().await?.is_some() {}
    Ok(())
}

/// New projects in `province` over 2025, asked of analytics (with `key`) until it has folded `sequence`.
pub async fn new_projects_2025(analytics: &str, key: Option<&str>, province: &str, sequence: i64) -> i64 {
    use fdi_proto::{
        analytics::{GetSummaryRequest, analytics_service_client::AnalyticsServiceClient},
        common::{Figure, Period, period},
    };
    let mut client = AnalyticsServiceClient::with_interceptor(
        Channel::from_shared(analytics.to_owned())
            .unwrap()
            .connect()
            .await
            .unwrap(),
        Bearer::new(key).unwrap(),
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let summary = client
            .get_summary(GetSummaryRequest {
                provinces: vec![province.into()],
                period: Some(Period {
                    kind: Some(period::Kind::Shorthand("2025".into())),
                }),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        if summary.as_of_sequence >= sequence {
            return summary
                .figures
                .iter()
                .find(|figure| figure.figure() == Figure::NewProjects)
                .map_or(0, |figure| figure.count);
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "analytics did not catch up: {summary:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A small register whose figures the tests of `fdi report` and `fdi export` work out by hand.
/// (key, kind, date, project, province, amount, currency): Hà Nội in 2025 in dollars and dong,
/// and in 2024; two other provinces in 2025 so there is a ranking.
pub const ROWS: [(&str, &str, &str, &str, &str, &str, &str); 9] = [
    ("h1", "new", "2025-02-10", "HN-1", "Hà Nội", "12000000", "USD"),
    ("h2", "new", "2025-03-05", "HN-2", "Hà Nội", "50000000000", "VND"),
    ("h3", "adjustment", "2025-05-20", "HN-1", "Hà Nội", "3500000", "USD"),
    (
        "h4",
        "share_purchase",
        "2025-07-01",
        "HN-3",
        "Hà Nội",
        "1250000.50",
        "USD",
    ),
    ("h5", "disbursement", "2025-06-15", "HN-1", "Hà Nội", "4000000", "USD"),
    ("h6", "new", "2024-09-09", "HN-0", "Hà Nội", "7000000", "USD"),
    ("p1", "new", "2025-04-01", "HP-1", "Hải Phòng", "40000000", "USD"),
    ("d1", "new", "2025-08-08", "DN-1", "Đà Nẵng", "2000000", "USD"),
    ("d2", "termination", "2025-11-30", "DN-1", "Đà Nẵng", "", ""),
];

/// One row of [`ROWS`] as a register row (a Korean investor, sector C).
pub fn event(row: &(&str, &str, &str, &str, &str, &str, &str)) -> EventInput {
    let (key, kind, date, project, province, amount, currency) = *row;
    EventInput {
        idempotency_key: key.into(),
        kind: kind.into(),
        event_date: date.into(),
        project_ref: project.into(),
        investor: format!("Investor {project} Co., Ltd"),
        investor_country: "KR".into(),
        province: province.into(),
        sector: "C".into(),
        amount: amount.into(),
        currency: currency.into(),
        ..Default::default()
    }
}
