//! `fdi bench`: benchmarks that print their figures together with the
//! baseline measured in the same run, on a fresh private PostgreSQL.

use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Args, Subcommand};
use fdi_client::{
    demo::{DemoConfig, generate},
    loader::{LoadOptions, LoadSummary, load},
};
use fdi_kit::{config::DatabaseConfig, telemetry::LogConfig};
use fdi_localpg::Cluster;
use sqlx::{Connection, PgConnection};
use tokio::net::TcpListener;

use crate::system::System;

/// Options of `fdi bench`.
#[derive(Args, Debug)]
pub struct BenchArgs {
    #[command(subcommand)]
    which: Which,
}

#[derive(Subcommand, Debug)]
enum Which {
    /// Bulk load over the streaming RPC against the plain-SQL ceiling, and a replay.
    Ingest(IngestBench),
    /// Every analytics RPC over gRPC against plain SQL over the raw events; freshness; rebuild time.
    Analytics(crate::bench_analytics::AnalyticsBench),
    /// Ingest and analytics replicas as separate processes: commit and fold rates, lag, reloads, failover.
    Replicas(crate::bench_replicas::ReplicasBench),
}

#[derive(Args, Debug)]
pub(crate) struct IngestBench {
    /// Synthetic events to load.
    #[arg(long, default_value_t = 1_000_000)]
    pub(crate) events: u64,
    /// Rows per batch (both paths).
    #[arg(long, default_value_t = 5000)]
    pub(crate) batch_rows: usize,
}

/// Runs a benchmark.
///
/// # Errors
/// When PostgreSQL or a service cannot be started, or a load fails.
pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    let telemetry = fdi_kit::telemetry::init(&LogConfig::TEXT, "warn,sqlx=error", "fdi-bench");
    let outcome = match args.which {
        Which::Ingest(bench) => ingest(bench).await,
        Which::Analytics(bench) => crate::bench_analytics::run(bench).await,
        Which::Replicas(bench) => crate::bench_replicas::run(bench).await,
    };
    telemetry.shutdown().await;
    outcome
}

/// The resident set of this process now and at its peak, in MiB (Linux).
fn memory_mib() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// A fresh private PostgreSQL with an empty database: the cluster, the database's URL and its settings.
pub(crate) async fn fresh_database(database: &str) -> anyhow::Result<(Cluster, String, DatabaseConfig)> {
    let cluster = tokio::task::spawn_blocking(Cluster::start)
        .await?
        .map_err(|e| anyhow::anyhow!(e))?;
    let mut admin = PgConnection::connect(&cluster.url("postgres")).await?;
    sqlx::query(&format!("CREATE DATABASE {database}"))
        .execute(&mut admin)
        .await?;
    let url = cluster.url(database);
    let settings = DatabaseConfig::new(url.clone()).with_max_connections(8);
    Ok((cluster, url, settings))
}

/// A fresh private PostgreSQL with an empty database, and the system on it.
pub(crate) async fn fresh_system(database: &str) -> anyhow::Result<(Cluster, System, String, String)> {
    let (cluster, url, database) = fresh_database(database).await?;
    // The system runs as in production: every call is checked against its API key.
    let keys = crate::local_keys::ensure(&database, None).await?;
    let mut system = System::new(database, LogConfig::TEXT, fdi_kit::shutdown::on_signal());
    system.secure(&keys)?;
    system.unlimited_callers();
    let catalogue = system.catalogue(TcpListener::bind("127.0.0.1:0").await?)?;
    let ingest = system.ingest(TcpListener::bind("127.0.0.1:0").await?, &catalogue, u64::MAX)?;
    anyhow::ensure!(
        system.wait_serving(&ingest, fdi_ingest::SERVICE_NAME).await,
        "ingest did not start"
    );
    Ok((cluster, system, url, ingest))
}

pub(crate) fn rate(rows: u64, elapsed: Duration) -> f64 {
    #[allow(clippy::cast_precision_loss, reason = "row counts far below 2^52")]
    let rows = rows as f64;
    rows / elapsed.as_secs_f64().max(1e-9)
}

async fn ingest(bench: IngestBench) -> anyhow::Result<()> {
    let events = bench.events;
    println!(
        "Ingest benchmark: {events} synthetic events, {} rows per batch",
        bench.batch_rows
    );
    println!(
        "  machine: {} cores; PostgreSQL: private throw-away cluster (fsync off), same for both paths",
        num_cores()
    );
    let (cluster, system, url, endpoint) = fresh_system("bench_ingest").await?;

    let mut samples = Vec::new();
    let (first, first_time) = timed_load(&endpoint, &bench, "bench-first", &mut samples, system.credential()).await?;
    anyhow::ensure!(first.accepted == events, "expected every event accepted: {first:?}");
    let (replay, replay_time) =
        timed_load(&endpoint, &bench, "bench-replay", &mut Vec::new(), system.credential()).await?;
    anyhow::ensure!(
        replay.accepted == 0 && replay.duplicates == events,
        "a replay must insert nothing: {replay:?}"
    );
    let (_, peak) = memory_mib();

    let (ceiling_rows, ceiling_time) = ceiling(&url, bench.batch_rows).await?;
    anyhow::ensure!(ceiling_rows == events, "the ceiling inserted {ceiling_rows} rows");

    let service = rate(events, first_time);
    let replayed = rate(events, replay_time);
    let baseline = rate(ceiling_rows, ceiling_time);
    println!();
    println!("  {:<64} {:>12}  {:>8}", "path", "events/s", "seconds");
    println!(
        "  {:<64} {:>12.0}  {:>8.1}",
        "service: LoadEvents stream, end to end (first load)",
        service,
        first_time.as_secs_f64()
    );
    println!(
        "  {:<64} {:>12.0}  {:>8.1}",
        "service: replay of the same file (new load id)",
        replayed,
        replay_time.as_secs_f64()
    );
    println!(
        "  {:<64} {:>12.0}  {:>8.1}",
        "ceiling: INSERT .. SELECT FROM UNNEST .. ON CONFLICT DO NOTHING",
        baseline,
        ceiling_time.as_secs_f64()
    );
    println!(
        "  ratio service / ceiling: {:.2}   replay / ceiling: {:.2}",
        service / baseline,
        replayed / baseline
    );
    println!(
        "  replay inserted: {} rows (duplicates: {})",
        replay.accepted, replay.duplicates
    );
    let resident: Vec<String> = samples
        .iter()
        .map(|(rows, mib)| format!("{rows}: {mib:.0} MiB"))
        .collect();
    println!(
        "  resident memory during the first load (process running client and services): {}",
        resident.join(", ")
    );
    println!("  peak resident memory: {peak:.0} MiB");

    system.shutdown.cancel();
    system.join().await?;
    drop(cluster);
    Ok(())
}

/// Loads the synthetic register (seed 42) under `load_id`, sampling resident
/// memory at each quarter; returns the summary and the wall time.
pub(crate) async fn timed_load(
    endpoint: &str,
    bench: &IngestBench,
    load_id: &str,
    samples: &mut Vec<(u64, f64)>,
    credential: fdi_kit::access::Bearer,
) -> anyhow::Result<(LoadSummary, Duration)> {
    let events = bench.events;
    let register = move |offset: u64| {
        let rows = generate(DemoConfig {
            events,
            seed: 42,
            ..DemoConfig::default()
        });
        Ok(Box::new(rows.skip(usize::try_from(offset).unwrap_or(usize::MAX)))
            as Box<dyn Iterator<Item = fdi_proto::ingest::EventInput> + Send>)
    };
    let mut options = LoadOptions::new(endpoint, load_id);
    options.batch_rows = bench.batch_rows;
    options.credential = credential;
    let quarter = (events / 4).max(1);
    let mut next_sample = quarter;
    let started = Instant::now();
    let summary = load(&options, Box::new(register), &mut |ack| {
        let reached = u64::try_from(ack.offset_reached).unwrap_or_default();
        if reached >= next_sample {
            samples.push((reached, memory_mib().0));
            next_sample += quarter;
        }
    })
    .await?;
    Ok((summary, started.elapsed()))
}

/// The value at `fraction` (0.5: the median) of `samples`, which it sorts; the default when empty.
pub(crate) fn percentile<T: Copy + Default + PartialOrd>(samples: &mut [T], fraction: f64) -> T {
    samples.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss,
        reason = "small indices"
    )]
    let index = ((samples.len() as f64 - 1.0) * fraction).round() as usize;
    samples.get(index).copied().unwrap_or_default()
}

pub(crate) fn num_cores() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}

/// The plain-SQL ceiling: the rows the service recorded, read back batch by
/// batch and inserted straight into a table like `ingest.events` (same
/// indexes, same unique key) with the fastest plain statement; only the
/// inserts are timed.
async fn ceiling(url: &str, batch_rows: usize) -> anyhow::Result<(u64, Duration)> {
    let mut connection = PgConnection::connect(url).await?;
    sqlx::query("CREATE SCHEMA ceiling").execute(&mut connection).await?;
    sqlx::query("CREATE TABLE ceiling.events (LIKE ingest.events INCLUDING ALL)")
        .execute(&mut connection)
        .await?;
    let mut after = 0i64;
    let mut inserted = 0u64;
    let mut elapsed = Duration::ZERO;
    let limit = i64::try_from(batch_rows).unwrap_or(5000);
    loop {
        // Column-wise read of one batch, in the exact form it is inserted.
        let batch: Option<CeilingBatch> = sqlx::query_as(
            "SELECT max(sequence) AS last, array_agg(sequence) AS sequence, array_agg(idempotency_key) AS keys,
                    array_agg(content_digest) AS digests, array_agg(kind) AS kinds, array_agg(event_date) AS dates,
                    array_agg(project_ref) AS project_refs, array_agg(project_name) AS project_names,
                    array_agg(investor_id) AS investor_ids, array_agg(investor_text) AS investor_texts,
                    array_agg(investor_country) AS countries, array_agg(zone_id) AS zones,
                    array_agg(province_code) AS provinces, array_agg(current_province_code) AS currents,
                    array_agg(sector) AS sectors, array_agg(amount) AS amounts, array_agg(currency) AS currencies,
                    array_agg(amount_usd) AS usd, array_agg(amount_vnd) AS vnd, array_agg(scope) AS scopes,
                    array_agg(status) AS statuses, array_agg(source) AS sources, array_agg(load_id) AS load_ids,
                    array_agg(load_offset) AS offsets
             FROM (SELECT * FROM ingest.events WHERE sequence > $1 ORDER BY sequence LIMIT $2) AS b
             HAVING count(*) > 0",
        )
        .bind(after)
        .bind(limit)
        .fetch_optional(&mut connection)
        .await
        .context("reading a batch back")?;
        let Some(batch) = batch else { break };
        after = batch.last;
        let started = Instant::now();
        let result = sqlx::query(
            "INSERT INTO ceiling.events
             SELECT * FROM unnest($1::bigint[], $2::text[], $3::bytea[], $4::text[], $5::date[], $6::text[],
                                  $7::text[], $8::bigint[], $9::text[], $10::text[], $11::text[], $12::text[],
                                  $13::text[], $14::text[], $15::numeric[], $16::text[], $17::numeric[],
                                  $18::numeric[], $19::text[], $20::text[], $21::text[], $22::text[], $23::bigint[],
                                  $24::timestamptz[])
             ON CONFLICT (idempotency_key) DO NOTHING",
        )
        .bind(&batch.sequence)
        .bind(&batch.keys)
        .bind(&batch.digests)
        .bind(&batch.kinds)
        .bind(&batch.dates)
        .bind(&batch.project_refs)
        .bind(&batch.project_names)
        .bind(&batch.investor_ids)
        .bind(&batch.investor_texts)
        .bind(&batch.countries)
        .bind(&batch.zones)
        .bind(&batch.provinces)
        .bind(&batch.currents)
        .bind(&batch.sectors)
        .bind(&batch.amounts)
        .bind(&batch.currencies)
        .bind(&batch.usd)
        .bind(&batch.vnd)
        .bind(&batch.scopes)
        .bind(&batch.statuses)
        .bind(&batch.sources)
        .bind(&batch.load_ids)
        .bind(&batch.offsets)
        .bind(vec![chrono::Utc::now(); batch.sequence.len()])
        .execute(&mut connection)
        .await?;
        elapsed += started.elapsed();
        inserted += result.rows_affected();
    }
    Ok((inserted, elapsed))
}

/// One batch of `ingest.events`, column by column.
#[derive(sqlx::FromRow)]
struct CeilingBatch {
    last: i64,
    sequence: Vec<i64>,
    keys: Vec<String>,
    digests: Vec<Vec<u8>>,
    kinds: Vec<String>,
    dates: Vec<chrono::NaiveDate>,
    project_refs: Vec<String>,
    project_names: Vec<String>,
    investor_ids: Vec<Option<i64>>,
    investor_texts: Vec<String>,
    countries: Vec<String>,
    zones: Vec<Option<String>>,
    provinces: Vec<String>,
    currents: Vec<String>,
    sectors: Vec<String>,
    amounts: Vec<Option<rust_decimal::Decimal>>,
    currencies: Vec<Option<String>>,
    usd: Vec<Option<rust_decimal::Decimal>>,
    vnd: Vec<Option<rust_decimal::Decimal>>,
    scopes: Vec<String>,
    statuses: Vec<String>,
    sources: Vec<String>,
    load_ids: Vec<Option<String>>,
    offsets: Vec<Option<i64>>,
}
