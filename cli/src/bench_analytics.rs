//! `fdi bench analytics`: loads a synthetic register, then measures every
//! analytics RPC over gRPC with a realistic mix of filters (p50, p99), the
//! same figures computed by plain SQL aggregates over the raw events table
//! in the same run, the freshness lag of new events, and the rebuild time.

use fdi_kit::access::{Authorized, Bearer};
use std::time::{Duration, Instant};

use clap::Args;
use fdi_kit::domain::{EventKind, ReportingCurrency};
use fdi_proto::{
    analytics::{self as pb, analytics_service_client::AnalyticsServiceClient},
    common::{Figure, Period, Scope, period},
    ingest::{EventInput, SubmitEventRequest, ingest_service_client::IngestServiceClient},
};
use sqlx::{Connection, PgConnection};
use tokio::net::TcpListener;
use tonic::transport::Channel;

use crate::bench::{IngestBench, fresh_system, num_cores, percentile, rate, timed_load};

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

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// Runs the benchmark: load, build, measure every RPC against plain SQL,
/// freshness, rebuild.
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
    load_register(&ingest, bench.events, system.credential()).await?;
    let catalogue = system.catalogue_endpoint().unwrap_or_default();
    let analytics = system.analytics(TcpListener::bind("127.0.0.1:0").await?, &catalogue)?;
    anyhow::ensure!(
        system.wait_serving(&analytics, fdi_analytics::SERVICE_NAME).await,
        "analytics did not start"
    );
    let mut client = AnalyticsServiceClient::with_interceptor(connect(&analytics).await?, system.credential());
    let mut ingest_client = IngestServiceClient::with_interceptor(connect(&ingest).await?, system.credential());
    time_first_build(&url).await?;
    set_targets(&mut ingest_client).await?;

    let sql_pool = sqlx::PgPool::connect(&url).await?;
    let mut sampler = Sampler {
        calls: bench.calls,
        sql_queries: bench.sql_queries,
        pick: 0,
    };
    let mut rows = Vec::with_capacity(CASES.len());
    for case in &CASES {
        rows.push(sampler.measure(case, &mut client, &sql_pool).await?);
    }
    print_table(&rows);
    measure_freshness(&mut ingest_client, &mut client, bench.probes).await?;
    time_rebuild(&url).await?;

    system.shutdown.cancel();
    system.join().await?;
    drop(cluster);
    Ok(())
}

/// Loads the synthetic register with analytics stopped, so the first build
/// can be timed over the whole feed.
async fn connect(endpoint: &str) -> anyhow::Result<Channel> {
    Ok(Channel::from_shared(endpoint.to_owned())?.connect().await?)
}

async fn load_register(ingest: &str, events: u64, credential: Bearer) -> anyhow::Result<()> {
    let (summary, load_time) = timed_load(
        ingest,
        &IngestBench {
            events,
            batch_rows: 5000,
        },
        "bench-analytics",
        &mut Vec::new(),
        credential,
    )
    .await?;
    println!(
        "  loaded {} events in {:.0} s ({:.0} events/s)",
        summary.accepted,
        load_time.as_secs_f64(),
        rate(summary.accepted, load_time)
    );
    Ok(())
}

/// The highest sequence in the feed and the consumer's cursor.
async fn feed_and_cursor(connection: &mut PgConnection) -> anyhow::Result<(i64, i64)> {
    let (last,): (i64,) = sqlx::query_as("SELECT coalesce(max(sequence), 0) FROM ingest.events")
        .fetch_one(&mut *connection)
        .await?;
    let (reached,): (i64,) = sqlx::query_as("SELECT last_sequence FROM analytics.consumer")
        .fetch_one(&mut *connection)
        .await?;
    Ok((last, reached))
}

/// Times the consumer folding the whole feed into the rollups, then the
/// monthly rollups loading into memory.
async fn time_first_build(url: &str) -> anyhow::Result<()> {
    let mut connection = PgConnection::connect(url).await?;
    let started = Instant::now();
    loop {
        let (last, reached) = feed_and_cursor(&mut connection).await?;
        if reached >= last {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let first_build = started.elapsed();
    println!("  rollups built from the feed in {:.1} s", first_build.as_secs_f64());
    while fdi_analytics::cube::loads() == 0 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    println!(
        "  monthly rollups loaded into memory {:.1} s later",
        (started.elapsed() - first_build).as_secs_f64()
    );
    Ok(())
}

/// A total-capital target for each benchmark province and year, for target progress.
async fn set_targets(ingest: &mut IngestServiceClient<Authorized>) -> anyhow::Result<()> {
    for province in PROVINCES {
        for year in [2021, 2022, 2023, 2024, 2025] {
            let target = fdi_proto::ingest::Target {
                province: (*province).into(),
                year,
                figure: Figure::TotalCapital.into(),
                scope: Scope::Fdi.into(),
                amount: Some(fdi_kit::money::to_money(
                    1_000_000_000.into(),
                    ReportingCurrency::Usd.as_str(),
                )),
                ..Default::default()
            };
            ingest
                .set_target(fdi_proto::ingest::SetTargetRequest { target: Some(target) })
                .await?;
        }
    }
    Ok(())
}

/// One measured RPC: its name, p50 and p99 over gRPC, and plain SQL's p50 and p99.
struct Measured {
    name: &'static str,
    p50: Duration,
    p99: Duration,
    sql: Option<(Duration, Duration)>,
}

/// The request of one benchmarked RPC.
enum Call {
    Summary(pb::GetSummaryRequest),
    Ranking(pb::GetRankingRequest),
    Breakdown(pb::GetBreakdownRequest),
    TargetProgress(pb::GetTargetProgressRequest),
    TimeSeries(pb::GetTimeSeriesRequest),
}

impl Call {
    async fn send(self, client: &mut AnalyticsServiceClient<Authorized>) -> Result<(), tonic::Status> {
        match self {
            Self::Summary(request) => client.get_summary(request).await.map(drop),
            Self::Ranking(request) => client.get_ranking(request).await.map(drop),
            Self::Breakdown(request) => client.get_breakdown(request).await.map(drop),
            Self::TargetProgress(request) => client.get_target_progress(request).await.map(drop),
            Self::TimeSeries(request) => client.get_time_series(request).await.map(drop),
        }
    }
}

/// Which of a province and a period's dates the plain-SQL baseline binds, in order.
#[derive(Clone, Copy)]
enum Binds {
    ProvinceAndSpan,
    Span,
    Province,
}

/// One benchmarked RPC: the request for a province and period, and the
/// plain SQL aggregate over the raw events that answers the same question.
struct Case {
    name: &'static str,
    call: fn(&str, &str) -> Call,
    sql: &'static str,
    binds: Binds,
}

const CASES: [Case; 5] = [
    Case {
        name: "GetSummary (a province, a period)",
        call: |province, period| {
            Call::Summary(pb::GetSummaryRequest {
                provinces: vec![province.to_owned()],
                period: shorthand(period),
                ..Default::default()
            })
        },
        sql: "SELECT kind, count(*), count(DISTINCT project_ref), sum(amount_usd) FROM ingest.events
              WHERE current_province_code = $1 AND event_date BETWEEN $2 AND $3 GROUP BY kind",
        binds: Binds::ProvinceAndSpan,
    },
    Case {
        name: "GetRanking (provinces by total capital)",
        call: |_province, period| {
            Call::Ranking(pb::GetRankingRequest {
                figure: Figure::TotalCapital.into(),
                period: shorthand(period),
                ..Default::default()
            })
        },
        sql: "SELECT current_province_code, sum(amount_usd) AS total FROM ingest.events
              WHERE kind IN ('new', 'adjustment', 'share_purchase') AND event_date BETWEEN $1 AND $2
              GROUP BY 1 ORDER BY total DESC",
        binds: Binds::Span,
    },
    Case {
        name: "GetBreakdown (a province by home country)",
        call: |province, period| {
            Call::Breakdown(pb::GetBreakdownRequest {
                figure: Figure::NewCapital.into(),
                by: pb::Dimension::HomeCountry.into(),
                provinces: vec![province.to_owned()],
                period: shorthand(period),
                ..Default::default()
            })
        },
        sql: "SELECT investor_country, sum(amount_usd) FROM ingest.events
              WHERE kind = 'new' AND current_province_code = $1 AND event_date BETWEEN $2 AND $3 GROUP BY 1",
        binds: Binds::ProvinceAndSpan,
    },
    Case {
        name: "GetTargetProgress (a province, a year)",
        call: |province, period| {
            let year: i32 = period.get(..4).and_then(|y| y.parse().ok()).unwrap_or(2024);
            Call::TargetProgress(pb::GetTargetProgressRequest {
                province: province.to_owned(),
                year: year.clamp(2021, 2025),
                ..Default::default()
            })
        },
        sql: "SELECT sum(amount_usd) FROM ingest.events WHERE current_province_code = $1 AND scope = 'fdi'
              AND kind IN ('new', 'adjustment', 'share_purchase') AND event_date BETWEEN $2 AND $3",
        binds: Binds::ProvinceAndSpan,
    },
    Case {
        name: "GetTimeSeries (a province, monthly, five years)",
        call: |province, _period| {
            Call::TimeSeries(pb::GetTimeSeriesRequest {
                figure: Figure::NewCapital.into(),
                provinces: vec![province.to_owned()],
                period: shorthand("2021-01-01..2025-10-31"),
                ..Default::default()
            })
        },
        sql: "SELECT date_trunc('month', event_date), sum(amount_usd) FROM ingest.events
              WHERE kind = 'new' AND current_province_code = $1 AND event_date BETWEEN '2020-01-01' AND '2025-10-31'
              GROUP BY 1",
        binds: Binds::Province,
    },
];

/// Draws provinces and periods in turn, so every RPC sees the same realistic mix.
struct Sampler {
    calls: usize,
    sql_queries: usize,
    pick: usize,
}

impl Sampler {
    fn next(&mut self) -> (&'static str, &'static str) {
        self.pick += 1;
        (
            PROVINCES[self.pick % PROVINCES.len()],
            PERIODS[(self.pick / 3) % PERIODS.len()],
        )
    }

    /// Times `case` over gRPC, then its plain-SQL baseline, in the same run.
    async fn measure(
        &mut self,
        case: &Case,
        client: &mut AnalyticsServiceClient<Authorized>,
        pool: &sqlx::PgPool,
    ) -> anyhow::Result<Measured> {
        let mut grpc = Vec::with_capacity(self.calls);
        for _ in 0..self.calls {
            let (province, period) = self.next();
            let started = Instant::now();
            (case.call)(province, period).send(client).await?;
            grpc.push(started.elapsed());
        }
        let mut sql = Vec::with_capacity(self.sql_queries);
        for _ in 0..self.sql_queries {
            let (province, period) = self.next();
            let span = fdi_kit::period::parse_shorthand(period).unwrap_or(fdi_kit::period::Span {
                start: chrono::NaiveDate::MIN,
                end: chrono::NaiveDate::MAX,
            });
            let query = match case.binds {
                Binds::ProvinceAndSpan => sqlx::query(case.sql).bind(province).bind(span.start).bind(span.end),
                Binds::Span => sqlx::query(case.sql).bind(span.start).bind(span.end),
                Binds::Province => sqlx::query(case.sql).bind(province),
            };
            let started = Instant::now();
            query.fetch_all(pool).await?;
            sql.push(started.elapsed());
        }
        Ok(Measured {
            name: case.name,
            p50: percentile(&mut grpc, 0.5),
            p99: percentile(&mut grpc, 0.99),
            sql: (!sql.is_empty()).then(|| (percentile(&mut sql, 0.5), percentile(&mut sql, 0.99))),
        })
    }
}

fn print_table(rows: &[Measured]) {
    println!();
    println!(
        "  {:<48} {:>9} {:>9} {:>11} {:>11} {:>9}",
        "RPC (gRPC, realistic filters)", "p50 ms", "p99 ms", "SQL p50 ms", "SQL p99 ms", "SQL/RPC"
    );
    for row in rows {
        let (name, p50, p99) = (row.name, ms(row.p50), ms(row.p99));
        match row.sql {
            Some((s50, s99)) => println!(
                "  {name:<48} {p50:>9.2} {p99:>9.2} {:>11.1} {:>11.1} {:>8.0}x",
                ms(s50),
                ms(s99),
                ms(s50) / p50.max(1e-6)
            ),
            None => println!("  {name:<48} {p50:>9.2} {p99:>9.2}"),
        }
    }
}

/// Freshness: single events submitted one by one, each timed until a summary shows it.
async fn measure_freshness(
    ingest: &mut IngestServiceClient<Authorized>,
    analytics: &mut AnalyticsServiceClient<Authorized>,
    probes: usize,
) -> anyhow::Result<()> {
    let mut lags = Vec::with_capacity(probes);
    for i in 0..probes {
        let event = EventInput {
            idempotency_key: format!("probe-{i}"),
            kind: EventKind::New.as_str().into(),
            event_date: "2025-06-15".into(),
            project_ref: format!("PROBE-{i}"),
            investor: "Probe Investor Co., Ltd".into(),
            investor_country: "KR".into(),
            province: "Bắc Ninh".into(),
            amount: "1000".into(),
            currency: ReportingCurrency::Usd.as_str().into(),
            ..Default::default()
        };
        let accepted = ingest
            .submit_event(SubmitEventRequest { event: Some(event) })
            .await?
            .into_inner();
        let sequence = accepted.event.map(|e| e.sequence).unwrap_or_default();
        lags.push(wait_visible(analytics, sequence).await?);
    }
    println!(
        "  freshness (acknowledged event visible in a summary): p50 {:.0} ms, p99 {:.0} ms over {} events",
        ms(percentile(&mut lags, 0.5)),
        ms(percentile(&mut lags, 0.99)),
        lags.len()
    );
    Ok(())
}

/// How long until a summary reflects the event with `sequence`.
async fn wait_visible(analytics: &mut AnalyticsServiceClient<Authorized>, sequence: i64) -> anyhow::Result<Duration> {
    let started = Instant::now();
    loop {
        let summary = analytics
            .get_summary(pb::GetSummaryRequest {
                period: shorthand("2025-06"),
                provinces: vec!["bac-ninh".into()],
                ..Default::default()
            })
            .await?
            .into_inner();
        if summary.as_of_sequence >= sequence {
            return Ok(started.elapsed());
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(30),
            "event {sequence} never became visible"
        );
    }
}

/// Rebuild: empty the rollups and time until they cover the feed again
/// (the running service's consumer and this command fold batches in turn).
async fn time_rebuild(url: &str) -> anyhow::Result<()> {
    let pool = fdi_analytics::connect(&fdi_kit::config::DatabaseConfig::new(url).with_max_connections(2)).await?;
    let mut connection = pool.acquire().await?;
    let (feed_end, _) = feed_and_cursor(&mut connection).await?;
    drop(connection);
    let started = Instant::now();
    fdi_analytics::consumer::reset(&pool).await?;
    fdi_analytics::consumer::catch_up(&pool).await?;
    let (_, reached) = feed_and_cursor(&mut *pool.acquire().await?).await?;
    anyhow::ensure!(reached >= feed_end, "the rebuild stopped at {reached} of {feed_end}");
    println!(
        "  rebuild from scratch (fdi rebuild-rollups): {:.1} s for the whole feed",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
