//! `fdi up`: everything a newcomer needs, in one process: a private
//! PostgreSQL when `DATABASE_URL` is unset (data kept under `.fdi/`), every
//! service on its port, the reference data, and example calls; Ctrl-C stops
//! it all cleanly.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use anyhow::Context;
use clap::Args;
use fdi_kit::{
    config::{DatabaseConfig, ServerConfig, parse_listen_addr},
    shutdown::CancellationToken,
    telemetry::{LogConfig, LogFormat},
};
use fdi_localpg::Cluster;
use sqlx::{Connection, PgConnection};
use tokio::{net::TcpListener, task::JoinSet};

/// Options of `fdi up`.
#[derive(Args, Debug)]
pub struct UpArgs {
    /// PostgreSQL URL; when unset a private cluster is started under --data-dir.
    #[arg(long, env = "DATABASE_URL")]
    database_url: Option<String>,
    /// Where the private PostgreSQL keeps its data.
    #[arg(long, env = "FDI_DATA_DIR", default_value = ".fdi")]
    data_dir: PathBuf,
    /// Port of the private PostgreSQL.
    #[arg(long, env = "FDI_PG_PORT", default_value_t = 55432)]
    pg_port: u16,
    /// Catalogue listen address.
    #[arg(long, env = "FDI_CATALOGUE_ADDR", default_value = "0.0.0.0:50051", value_parser = parse_listen_addr)]
    catalogue_addr: SocketAddr,
    /// Ingest listen address.
    #[arg(long, env = "FDI_INGEST_ADDR", default_value = "0.0.0.0:50052", value_parser = parse_listen_addr)]
    ingest_addr: SocketAddr,
    /// Synthetic events loaded on first start so there is data to look at (0 for none).
    #[arg(long, env = "FDI_DEMO_EVENTS", default_value_t = 20_000)]
    demo_events: u64,
    /// Log format of the services.
    #[arg(long, env = "FDI_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
}

/// Creates the `fdi` database on a fresh private cluster.
async fn ensure_database(cluster: &Cluster) -> anyhow::Result<String> {
    let mut admin = PgConnection::connect(&cluster.url("postgres"))
        .await
        .context("connecting to the private PostgreSQL")?;
    let exists: Option<(i32,)> = sqlx::query_as("SELECT 1 FROM pg_database WHERE datname = 'fdi'")
        .fetch_optional(&mut admin)
        .await?;
    if exists.is_none() {
        sqlx::query("CREATE DATABASE fdi").execute(&mut admin).await?;
    }
    Ok(cluster.url("fdi"))
}

fn local(addr: SocketAddr) -> String {
    if addr.ip().is_unspecified() {
        format!("localhost:{}", addr.port())
    } else {
        addr.to_string()
    }
}

/// Runs the system until Ctrl-C.
///
/// # Errors
/// When PostgreSQL cannot be started or a service fails.
pub async fn run(args: UpArgs) -> anyhow::Result<()> {
    fdi_kit::telemetry::init(
        &LogConfig {
            format: args.log_format,
        },
        "info,sqlx=warn",
    );
    let shutdown = fdi_kit::shutdown::on_signal();

    let (database_url, cluster) = match args.database_url.filter(|u| !u.trim().is_empty()) {
        Some(url) => (url, None),
        None => {
            let root = args.data_dir.join("postgres");
            println!(
                "Starting a private PostgreSQL in {} on port {} ...",
                root.display(),
                args.pg_port
            );
            let cluster = tokio::task::spawn_blocking(move || Cluster::open(&root, args.pg_port))
                .await?
                .map_err(|e| anyhow::anyhow!(e))?;
            (ensure_database(&cluster).await?, Some(cluster))
        }
    };
    let database = DatabaseConfig {
        url: database_url.clone(),
        max_connections: 10,
    };
    let log = LogConfig {
        format: args.log_format,
    };

    let mut services = JoinSet::new();
    let catalogue_listener = TcpListener::bind(args.catalogue_addr)
        .await
        .with_context(|| format!("binding the catalogue to {}", args.catalogue_addr))?;
    let catalogue = fdi_catalogue::Config {
        listen: args.catalogue_addr,
        database: database.clone(),
        server: ServerConfig::default(),
        log: log.clone(),
    };
    services.spawn(fdi_catalogue::serve(catalogue, catalogue_listener, shutdown.clone()));
    let catalogue_endpoint = format!("http://{}", local(args.catalogue_addr));

    let ingest_listener = TcpListener::bind(args.ingest_addr)
        .await
        .with_context(|| format!("binding ingest to {}", args.ingest_addr))?;
    let ingest = fdi_ingest::Config {
        listen: args.ingest_addr,
        catalogue_url: catalogue_endpoint.clone(),
        catalogue_timeout: Duration::from_secs(5),
        max_batch_rows: 5000,
        max_stream_rows: 2_000_000,
        stream_idle_timeout: Duration::from_secs(60),
        database: database.clone(),
        server: ServerConfig::default(),
        log: log.clone(),
    };
    services.spawn(fdi_ingest::serve(ingest, ingest_listener, shutdown.clone()));
    let ingest_endpoint = format!("http://{}", local(args.ingest_addr));

    let ready = wait_serving(&catalogue_endpoint, fdi_catalogue::SERVICE_NAME, &shutdown).await
        && wait_serving(&ingest_endpoint, fdi_ingest::SERVICE_NAME, &shutdown).await;
    if ready {
        if args.demo_events > 0 {
            let loaded = crate::demo_data::load_demo_register(&ingest_endpoint, args.demo_events).await;
            match loaded {
                Ok(Some(summary)) => println!(
                    "Loaded a synthetic demo register: {} events accepted ({} held, {} rejected).",
                    summary.accepted, summary.held, summary.rejected
                ),
                Ok(None) => println!("The demo register is already loaded."),
                Err(error) => eprintln!("The demo register could not be loaded: {error:#}"),
            }
        }
        print_welcome(&database_url, args.catalogue_addr, args.ingest_addr);
    }

    // One service failing stops the others.
    let mut outcome = Ok(());
    while let Some(joined) = services.join_next().await {
        let result = joined.map_err(anyhow::Error::from).and_then(|r| r);
        if let Err(error) = result {
            eprintln!("a service failed: {error:#}");
            outcome = Err(error);
            shutdown.cancel();
        }
    }
    if let Some(cluster) = cluster {
        println!("Stopping the private PostgreSQL ...");
        tokio::task::spawn_blocking(move || cluster.stop())
            .await?
            .map_err(|e| anyhow::anyhow!(e))?;
    }
    println!("Stopped.");
    outcome
}

async fn wait_serving(endpoint: &str, service: &str, shutdown: &CancellationToken) -> bool {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    while tokio::time::Instant::now() < deadline && !shutdown.is_cancelled() {
        if fdi_kit::server::health_status(endpoint, service).await == Some(tonic_health::ServingStatus::Serving) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    false
}

fn print_welcome(database_url: &str, catalogue: SocketAddr, ingest: SocketAddr) {
    let catalogue = local(catalogue);
    let ingest = local(ingest);
    println!(
        "
FDI Atlas is running.

  catalogue  {catalogue}   fdi.catalogue.v1.CatalogueService
  ingest     {ingest}   fdi.ingest.v1.IngestService
  database   {database_url}

Try:
  grpcurl -plaintext {catalogue} list
  grpcurl -plaintext -d '{{\"query\": \"Bắc Giang\"}}' {catalogue} fdi.catalogue.v1.CatalogueService/Resolve
  grpcurl -plaintext -d '{{\"include_merged\": true, \"page_size\": 5}}' {catalogue} fdi.catalogue.v1.CatalogueService/ListProvinces
  grpcurl -plaintext -d '{{\"province\": \"provinces/bac-ninh\"}}' {catalogue} fdi.catalogue.v1.CatalogueService/ListZones
  grpcurl -plaintext -d '{{\"province\": \"Bắc Ninh\", \"page_size\": 3}}' {ingest} fdi.ingest.v1.IngestService/ListEvents
  grpcurl -plaintext -d '{{\"event\": {{\"idempotency_key\": \"try-1\", \"kind\": \"new\", \"event_date\": \"2025-03-01\", \"project_ref\": \"GCN-try-1\", \"investor\": \"Example Electronics Co., Ltd\", \"investor_country\": \"KR\", \"province\": \"Bắc Giang\", \"amount\": \"25000000\", \"currency\": \"USD\"}}}}' {ingest} fdi.ingest.v1.IngestService/SubmitEvent

Press Ctrl-C to stop.
"
    );
}
