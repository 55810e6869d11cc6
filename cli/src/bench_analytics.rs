//! `fdi bench analytics`: loads a synthetic register, then measures every
//! analytics RPC over gRPC with a realistic mix of filters (p50, p99), the
//! same figures computed by plain SQL aggregates over the raw events table
//! in the same run, the freshness lag of new events, and the rebuild time.

use std::time::{Duration, Instant};

use clap::Args;
use fdi_proto::{
    analytics::{self as pb, analytics_service_client::AnalyticsServiceClient},
    common::{Figure, Period, Scope, period},
    ingest::{EventInput, SubmitEventRequest, ingest_service_client::IngestServiceClient},
};
use sqlx::{Connection, PgConnection};
use tokio::net::TcpListener;

use crate::bench::{IngestBench, fresh_system, num_cores, rate, timed_load};

/// Options of `fdi bench analytics`.
#[derive(Args, Debug)]
pub struct AnalyticsBench {
    /// Synthetic events to load.
    #[arg(long, default_value_t = 10_000_000)]
    events: u64,
    /// Calls per RPC over gRPC.
    #[arg(long, default_value_t = 300)]
    calls: usize,
    /// Queries per figure with plain SQL (slow at scale).
    #[arg(long, default_value_t = 30)]
    sql_queries: usize,
    /// Single events submitted to measure freshness.
    #[arg(long, default_value_t = 50)]
    probes: usize,
}

const PROVINCES: &[&str] = &[
    "ho-chi-minh",
    "bac-ninh",
    "dong-nai",
    "hai-phong",
    "ha-noi",
    "quang-ninh",
    "tay-ninh",
    "phu-tho",
    "hung-yen",
    "ninh-binh",
];
const PERIODS: &[&str] = &["2025-M8", "2025-H1", "2024", "2023-Q3", "2022", "2024-M10", "2021-H2"];

fn shorthand(text: &str) -> Option<Period> {
    Some(Period {
        kind: Some(period::Kind::Shorthand(text.to_owned())),
    })
}

fn percentile(samples: &mut [Duration], fraction: f64) -> Duration {
    samples.sort();
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss,
        reason = "small indices"
    )]
    let index = ((samples.len() as f64 - 1.0) * fraction).round() as usize;
    samples.get(index).copied().unwrap_or_default()
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// Runs the benchmark.
///
/// # Errors
/// When the system cannot be started or a call fails.
pub async fn run(bench: AnalyticsBench) -> anyhow::Result<()> {
    println!(
        "Analytics benchmark: {} synthetic events; {} calls per RPC; {} plain-SQL queries per figure",
        bench.events, bench.calls, bench.sql_queries
    );
    println!(
        "  machine: {} cores; PostgreSQL: private throw-away cluster (fsync off)",
        num_cores()
    );
    let (cluster, mut system, url, ingest) = fresh_system("bench_analytics").await?;
    let catalogue = system.catalogue_endpoint().unwrap_or_default();

    // Load with analytics stopped, then measure how long it takes to fold everything in.
    let (summary, load_time) = timed_load(
        &ingest,
        &IngestBench {
            events: bench.events,
            batch_rows: 5000,
        },
        "bench-analytics",
        &mut Vec::new(),
    )
    .await?;
    println!(
        "  loaded {} events in {:.0} s ({:.0} events/s)",
        summary.accepted,
        load_time.as_secs_f64(),
        rate(summary.accepted, load_time)
    );
    let analytics = system.analytics(TcpListener::bind("127.0.0.1:0").await?, &catalogue)?;
    anyhow::ensure!(
        system.wait_serving(&analytics, fdi_analytics::SERVICE_NAME).await,
        "analytics did not start"
    );
    let mut client = AnalyticsServiceClient::connect(analytics.clone()).await?;
    let mut connection = PgConnection::connect(&url).await?;
    let (last,): (i64,) = sqlx::query_as("SELECT max(sequence) FROM ingest.events")
        .fetch_one(&mut connection)
        .await?;
    let started = Instant::now();
    loop {
        let (reached,): (i64,) = sqlx::query_as("SELECT last_sequence FROM analytics.consumer")
            .fetch_one(&mut connection)
            .await?;
        if reached >= last {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let first_build = started.elapsed();
    println!("  rollups built from the feed in {:.1} s", first_build.as_secs_f64());
    // Then the consumer loads the monthly rollups into memory; measure once it has.
    while fdi_analytics::cube::loads() == 0 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    println!(
        "  monthly rollups loaded into memory {:.1} s later",
        (started.elapsed() - first_build).as_secs_f64()
    );

    // Targets for target progress.
    let mut ingest_client = IngestServiceClient::connect(ingest.clone()).await?;
    for province in PROVINCES {
        for year in [2021, 2022, 2023, 2024, 2025] {
            ingest_client
                .set_target(fdi_proto::ingest::SetTargetRequest {
                    target: Some(fdi_proto::ingest::Target {
                        province: (*province).into(),
                        year,
                        figure: Figure::TotalCapital.into(),
                        scope: Scope::Fdi.into(),
                        amount: Some(fdi_proto::Money {
                            currency_code: "USD".into(),
                            units: 1_000_000_000,
                            nanos: 0,
                        }),
                        ..Default::default()
                    }),
                })
                .await?;
        }
    }

    let sql_pool = sqlx::PgPool::connect(&url).await?;
    // (RPC, p50, p99, plain SQL's p50 and p99)
    type Measured = (String, Duration, Duration, Option<(Duration, Duration)>);
    let mut rows: Vec<Measured> = Vec::new();
    let mut pick = 0usize;
    let mut next = || {
        pick += 1;
        (PROVINCES[pick % PROVINCES.len()], PERIODS[(pick / 3) % PERIODS.len()])
    };

    macro_rules! measure {
        ($name:expr, $call:expr, $sql:expr) => {{
            let mut grpc = Vec::with_capacity(bench.calls);
            for _ in 0..bench.calls {
                let (province, period) = next();
                let started = Instant::now();
                $call(province, period).await?;
                grpc.push(started.elapsed());
            }
            let mut sql = Vec::with_capacity(bench.sql_queries);
            for _ in 0..bench.sql_queries {
                let (province, period) = next();
                let span = fdi_kit::period::parse_shorthand(period).unwrap_or(fdi_kit::period::Span {
                    start: chrono::NaiveDate::MIN,
                    end: chrono::NaiveDate::MAX,
                });
                let started = Instant::now();
                $sql(&sql_pool, province, span).await?;
                sql.push(started.elapsed());
            }
            let sql_stats = (!sql.is_empty()).then(|| (percentile(&mut sql, 0.5), percentile(&mut sql, 0.99)));
            rows.push((
                $name.to_owned(),
                percentile(&mut grpc, 0.5),
                percentile(&mut grpc, 0.99),
                sql_stats,
            ));
        }};
    }

    measure!(
        "GetSummary (a province, a period)",
        |province: &str, period: &str| {
            let mut client = client.clone();
            let request = pb::GetSummaryRequest {
                provinces: vec![province.to_owned()],
                period: shorthand(period),
                ..Default::default()
            };
            async move { client.get_summary(request).await.map(|_| ()) }
        },
        |pool: &sqlx::PgPool, province: &str, span: fdi_kit::period::Span| {
            let pool = pool.clone();
            let query = sqlx::query(
                "SELECT kind, count(*), count(DISTINCT project_ref), sum(amount_usd) FROM ingest.events
                 WHERE current_province_code = $1 AND event_date BETWEEN $2 AND $3 GROUP BY kind",
            )
            .bind(province.to_owned())
            .bind(span.start)
            .bind(span.end);
            async move { query.fetch_all(&pool).await.map(|_| ()) }
        }
    );
    measure!(
        "GetRanking (provinces by total capital)",
        |_province: &str, period: &str| {
            let mut client = client.clone();
            let request = pb::GetRankingRequest {
                figure: Figure::TotalCapital.into(),
                period: shorthand(period),
                ..Default::default()
            };
            async move { client.get_ranking(request).await.map(|_| ()) }
        },
        |pool: &sqlx::PgPool, _province: &str, span: fdi_kit::period::Span| {
            let pool = pool.clone();
            let query = sqlx::query(
                "SELECT current_province_code, sum(amount_usd) AS total FROM ingest.events
                 WHERE kind IN ('new', 'adjustment', 'share_purchase') AND event_date BETWEEN $1 AND $2
                 GROUP BY 1 ORDER BY total DESC",
            )
            .bind(span.start)
            .bind(span.end);
            async move { query.fetch_all(&pool).await.map(|_| ()) }
        }
    );
    measure!(
        "GetBreakdown (a province by home country)",
        |province: &str, period: &str| {
            let mut client = client.clone();
            let request = pb::GetBreakdownRequest {
                figure: Figure::NewCapital.into(),
                by: pb::Dimension::HomeCountry.into(),
                provinces: vec![province.to_owned()],
                period: shorthand(period),
                ..Default::default()
            };
            async move { client.get_breakdown(request).await.map(|_| ()) }
        },
        |pool: &sqlx::PgPool, province: &str, span: fdi_kit::period::Span| {
            let pool = pool.clone();
            let query = sqlx::query(
                "SELECT investor_country, sum(amount_usd) FROM ingest.events
                 WHERE kind = 'new' AND current_province_code = $1 AND event_date BETWEEN $2 AND $3 GROUP BY 1",
            )
            .bind(province.to_owned())
            .bind(span.start)
            .bind(span.end);
            async move { query.fetch_all(&pool).await.map(|_| ()) }
        }
    );
    measure!(
        "GetTargetProgress (a province, a year)",
        |province: &str, period: &str| {
            let mut client = client.clone();
            let year: i32 = period.get(..4).and_then(|y| y.parse().ok()).unwrap_or(2024);
            let request = pb::GetTargetProgressRequest {
                province: province.to_owned(),
                year: year.clamp(2021, 2025),
                ..Default::default()
            };
            async move { client.get_target_progress(request).await.map(|_| ()) }
        },
        |pool: &sqlx::PgPool, province: &str, span: fdi_kit::period::Span| {
            let pool = pool.clone();
            let query = sqlx::query(
                "SELECT sum(amount_usd) FROM ingest.events WHERE current_province_code = $1 AND scope = 'fdi'
                 AND kind IN ('new', 'adjustment', 'share_purchase') AND event_date BETWEEN $2 AND $3",
            )
            .bind(province.to_owned())
            .bind(span.start)
            .bind(span.end);
            async move { query.fetch_all(&pool).await.map(|_| ()) }
        }
    );
    measure!(
        "GetTimeSeries (a province, monthly, five years)",
        |province: &str, _period: &str| {
            let mut client = client.clone();
            let request = pb::GetTimeSeriesRequest {
                figure: Figure::NewCapital.into(),
                provinces: vec![province.to_owned()],
                period: shorthand("2021-01-01..2025-10-31"),
                ..Default::default()
            };
            async move { client.get_time_series(request).await.map(|_| ()) }
        },
        |pool: &sqlx::PgPool, province: &str, _span: fdi_kit::period::Span| {
            let pool = pool.clone();
            let query = sqlx::query(
                "SELECT date_trunc('month', event_date), sum(amount_usd) FROM ingest.events
                 WHERE kind = 'new' AND current_province_code = $1 AND event_date BETWEEN '2020-01-01' AND '2025-10-31'
                 GROUP BY 1",
            )
            .bind(province.to_owned());
            async move { query.fetch_all(&pool).await.map(|_| ()) }
        }
    );

    println!();
    println!(
        "  {:<48} {:>9} {:>9} {:>11} {:>11} {:>9}",
        "RPC (gRPC, realistic filters)", "p50 ms", "p99 ms", "SQL p50 ms", "SQL p99 ms", "SQL/RPC"
    );
    for (name, p50, p99, sql) in &rows {
        match sql {
            Some((s50, s99)) => println!(
                "  {:<48} {:>9.2} {:>9.2} {:>11.1} {:>11.1} {:>8.0}x",
                name,
                ms(*p50),
                ms(*p99),
                ms(*s50),
                ms(*s99),
                ms(*s50) / ms(*p50).max(1e-6)
            ),
            None => println!("  {:<48} {:>9.2} {:>9.2}", name, ms(*p50), ms(*p99)),
        }
    }

    // Freshness: single events submitted one by one, each timed until a summary shows it.
    let mut lags = Vec::with_capacity(bench.probes);
    for i in 0..bench.probes {
        let event = EventInput {
            idempotency_key: format!("probe-{i}"),
            kind: "new".into(),
            event_date: "2025-06-15".into(),
            project_ref: format!("PROBE-{i}"),
            investor: "Probe Investor Co., Ltd".into(),
            investor_country: "KR".into(),
            province: "Bắc Ninh".into(),
            amount: "1000".into(),
            currency: "USD".into(),
            ..Default::default()
        };
        let accepted = ingest_client
            .submit_event(SubmitEventRequest { event: Some(event) })
            .await?
            .into_inner();
        let sequence = accepted.event.map(|e| e.sequence).unwrap_or_default();
        let started = Instant::now();
        loop {
            let summary = client
                .get_summary(pb::GetSummaryRequest {
                    period: shorthand("2025-06"),
                    provinces: vec!["bac-ninh".into()],
                    ..Default::default()
                })
                .await?
                .into_inner();
            if summary.as_of_sequence >= sequence {
                break;
            }
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(30),
                "event {sequence} never became visible"
            );
        }
        lags.push(started.elapsed());
    }
    println!(
        "  freshness (acknowledged event visible in a summary): p50 {:.0} ms, p99 {:.0} ms over {} events",
        ms(percentile(&mut lags, 0.5)),
        ms(percentile(&mut lags, 0.99)),
        lags.len()
    );

    // Rebuild: empty the rollups and time until they cover the feed again
    // (the running service's consumer and this command fold batches in turn).
    let pool = fdi_analytics::connect(&fdi_kit::config::DatabaseConfig {
        url: url.clone(),
        max_connections: 2,
    })
    .await?;
    let (feed_end,): (i64,) = sqlx::query_as("SELECT max(sequence) FROM ingest.events")
        .fetch_one(&pool)
        .await?;
    let started = Instant::now();
    fdi_analytics::consumer::reset(&pool).await?;
    fdi_analytics::consumer::catch_up(&pool, None).await?;
    let (reached,): (i64,) = sqlx::query_as("SELECT last_sequence FROM analytics.consumer")
        .fetch_one(&pool)
        .await?;
    anyhow::ensure!(reached >= feed_end, "the rebuild stopped at {reached} of {feed_end}");
    println!(
        "  rebuild from scratch (fdi rebuild-rollups): {:.1} s for the whole feed",
        started.elapsed().as_secs_f64()
    );

    system.shutdown.cancel();
    system.join().await?;
    drop(cluster);
    Ok(())
}
