//! `fdi up`: everything a newcomer needs, in one process: a private
//! PostgreSQL when `DATABASE_URL` is unset (data kept under `.fdi/`; the
//! server binaries installed from apt when missing), every
//! service on its port, the reference data, and example calls; Ctrl-C stops
//! it all cleanly.

use std::{net::SocketAddr, path::PathBuf};

use anyhow::Context;
use clap::Args;
use fdi_kit::{
    config::{DatabaseConfig, parse_listen_addr},
    telemetry::{LogConfig, LogFormat},
};
use fdi_localpg::Cluster;
use sqlx::{Connection, PgConnection};
use tokio::net::TcpListener;

use crate::system::System;

/// Options of `fdi up`.
#[derive(Args, Debug)]
pub struct UpArgs {
    /// PostgreSQL URL; when unset a private cluster is started under --data-dir.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
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
    /// Analytics listen address.
    #[arg(long, env = "FDI_ANALYTICS_ADDR", default_value = "0.0.0.0:50053", value_parser = parse_listen_addr)]
    analytics_addr: SocketAddr,
    /// Synthetic events loaded on first start so there is data to look at (0 for none).
    #[arg(long, env = "FDI_DEMO_EVENTS", default_value_t = 20_000)]
    demo_events: u64,
    /// Serve over TLS with a development CA and certificate made under --data-dir/tls (grpcurl then needs
    /// `-cacert .fdi/tls/ca.pem` instead of `-plaintext`).
    #[arg(long, env = "FDI_UP_TLS")]
    tls: bool,
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
    crate::system::endpoint(addr).trim_start_matches("http://").to_owned()
}

/// Runs the system until Ctrl-C.
///
/// # Errors
/// When PostgreSQL cannot be started or a service fails.
pub async fn run(args: UpArgs) -> anyhow::Result<()> {
    let log = LogConfig {
        format: args.log_format,
    };
    // One process runs all three services: one resource, `fdi` (spans still name their service).
    let telemetry = fdi_kit::telemetry::init(&log, "info,sqlx=warn", "fdi");
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
            let cluster = tokio::task::spawn_blocking(move || {
                // On a machine without them, the server binaries are installed first (as cli/test.sh does).
                fdi_localpg::ensure_server_binaries(&mut |line| println!("{line}"))?;
                Cluster::open(&root, args.pg_port)
            })
            .await?
            .map_err(|e| anyhow::anyhow!(e))?;
            (ensure_database(&cluster).await?, Some(cluster))
        }
    };
    let database = DatabaseConfig::new(database_url.clone());
    let keys = crate::local_keys::ensure(&database, Some(&args.data_dir))
        .await
        .context("preparing the local API keys")?;
    let mut system = System::new(database, log, shutdown);
    system.secure(&keys)?;
    if args.tls {
        system.use_tls(crate::certs::ensure(&args.data_dir.join("tls"), &[], false)?);
    }
    let catalogue = system.catalogue(bind(args.catalogue_addr).await?)?;
    let ingest = system.ingest(bind(args.ingest_addr).await?, &catalogue, 2_000_000)?;
    let analytics = system.analytics(bind(args.analytics_addr).await?, &catalogue)?;

    let ready = system.wait_serving(&catalogue, fdi_catalogue::SERVICE_NAME).await
        && system.wait_serving(&ingest, fdi_ingest::SERVICE_NAME).await
        && system.wait_serving(&analytics, fdi_analytics::SERVICE_NAME).await;
    if ready {
        if args.demo_events > 0 {
            match crate::demo_data::load_demo_register(&ingest, args.demo_events, system.credential(), system.tls())
                .await
            {
                Ok(Some(summary)) => println!(
                    "Loaded a synthetic demo register: {} events accepted ({} held, {} rejected).",
                    summary.accepted, summary.held, summary.rejected
                ),
                Ok(None) => println!("The demo register is already loaded."),
                Err(error) => eprintln!("The demo register could not be loaded: {error:#}"),
            }
        }
        print_welcome(
            &database_url,
            &keys.admin,
            &args.data_dir,
            system.tls().ca.as_deref(),
            [args.catalogue_addr, args.ingest_addr, args.analytics_addr],
        );
    }

    let outcome = system.join().await;
    telemetry.shutdown().await;
    if let Some(cluster) = cluster {
        println!("Stopping the private PostgreSQL ...");
        tokio::task::spawn_blocking(move || cluster.stop())
            .await?
            .map_err(|e| anyhow::anyhow!(e))?;
    }
    println!("Stopped.");
    outcome
}

async fn bind(addr: SocketAddr) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {addr} (is another `fdi up` running?)"))
}

fn print_welcome(
    database_url: &str,
    admin_key: &str,
    data_dir: &std::path::Path,
    ca: Option<&std::path::Path>,
    [catalogue, ingest, analytics]: [SocketAddr; 3],
) {
    // The password stays out of the terminal (and of whatever records it).
    let database = fdi_kit::config::redact_url(database_url);
    let catalogue = local(catalogue);
    let ingest = local(ingest);
    let analytics = local(analytics);
    let key_file = data_dir.join("admin.key").display().to_string();
    let welcome = format!(
        "
FDI Atlas is running.

  catalogue  {catalogue}   fdi.catalogue.v1.CatalogueService
  ingest     {ingest}   fdi.ingest.v1.IngestService
  analytics  {analytics}   fdi.analytics.v1.AnalyticsService
  database   {database}

Every call needs an API key. This local admin key is saved in {key_file} (only you can read it):

  export FDI_API_KEY={admin_key}

`fdi import`, `fdi report` and `fdi export` read it from FDI_API_KEY; grpcurl sends it with -H (health and `list` need none).
Make keys for others with `fdi keys create --role reader` (or writer --province bac-ninh, curator, admin).

Try:
  grpcurl -plaintext {catalogue} list
  grpcurl -plaintext -H \"authorization: Bearer $FDI_API_KEY\" -d '{{\"query\": \"Bắc Giang\"}}' {catalogue} fdi.catalogue.v1.CatalogueService/Resolve
  grpcurl -plaintext -H \"authorization: Bearer $FDI_API_KEY\" -d '{{\"include_merged\": true, \"page_size\": 5}}' {catalogue} fdi.catalogue.v1.CatalogueService/ListProvinces
  grpcurl -plaintext -H \"authorization: Bearer $FDI_API_KEY\" -d '{{\"province\": \"provinces/bac-ninh\"}}' {catalogue} fdi.catalogue.v1.CatalogueService/ListZones
  grpcurl -plaintext -H \"authorization: Bearer $FDI_API_KEY\" -d '{{\"province\": \"Bắc Ninh\", \"page_size\": 3}}' {ingest} fdi.ingest.v1.IngestService/ListEvents
  grpcurl -plaintext -H \"authorization: Bearer $FDI_API_KEY\" -d '{{\"event\": {{\"idempotency_key\": \"try-1\", \"kind\": \"new\", \"event_date\": \"2025-03-01\", \"project_ref\": \"GCN-try-1\", \"investor\": \"Example Electronics Co., Ltd\", \"investor_country\": \"KR\", \"province\": \"Bắc Giang\", \"amount\": \"25000000\", \"currency\": \"USD\"}}}}' {ingest} fdi.ingest.v1.IngestService/SubmitEvent
  grpcurl -plaintext -H \"authorization: Bearer $FDI_API_KEY\" -d '{{\"provinces\": [\"Bắc Ninh\"], \"period\": {{\"shorthand\": \"2025-M8\"}}}}' {analytics} fdi.analytics.v1.AnalyticsService/GetSummary
  grpcurl -plaintext -H \"authorization: Bearer $FDI_API_KEY\" -d '{{\"figure\": \"FIGURE_TOTAL_CAPITAL\", \"period\": {{\"shorthand\": \"2025-H1\"}}, \"scope\": \"SCOPE_FDI\", \"page_size\": 5}}' {analytics} fdi.analytics.v1.AnalyticsService/GetRanking

Press Ctrl-C to stop.
"
    );
    // Over TLS, grpcurl verifies the services against the development CA instead of speaking plaintext.
    match ca {
        Some(ca) => print!(
            "{}",
            welcome.replace("grpcurl -plaintext", &format!("grpcurl -cacert {}", ca.display()))
        ),
        None => print!("{welcome}"),
    }
}
