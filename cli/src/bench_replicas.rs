//! `fdi bench replicas`: ingest and analytics replicas as separate `fdi
//! serve` processes over one private PostgreSQL, measured in one run:
//! ingest's commit rate under a sustained full-speed load and the leader's
//! fold rate (a rebuild of the whole feed), with their ratio; how far each
//! analytics replica lags behind ingest (sampled every 100 ms) during the
//! load and during a steady trickle; cube reloads after startup; RPC
//! latencies on each replica during the load and after it; and the failover
//! after a SIGKILL of the leader.

use std::{
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use clap::Args;
use fdi_client::{
    demo::{DemoConfig, generate},
    loader::{LoadOptions, OpenRows, load},
};
use fdi_kit::access::{Authorized, Bearer};
use fdi_proto::{
    analytics::{self as pb, analytics_service_client::AnalyticsServiceClient},
    common::{Figure, Period, period},
};
use sqlx::PgPool;
use tokio::{net::TcpListener, task::JoinHandle};

use crate::{
    bench::{fresh_database, num_cores, percentile, rate},
    local_keys::LocalKeys,
    system::System,
};

/// Options of `fdi bench replicas`.
#[derive(Args, Debug)]
pub struct ReplicasBench {
    /// Events of the sustained full-speed load (split among the ingest replicas).
    #[arg(long, default_value_t = 1_000_000)]
    events: u64,
    /// Ingest replicas loading at once (1 or 2).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u8).range(1..=2))]
    ingest_replicas: u8,
    /// Seconds of the steady trickle.
    #[arg(long, default_value_t = 20)]
    trickle_seconds: u64,
    /// Events per second of the trickle.
    #[arg(long, default_value_t = 1000)]
    trickle_rate: u64,
}

/// How often lag and latency are sampled.
const SAMPLE_EVERY: Duration = Duration::from_millis(100);
/// Analytics replicas.
const ANALYTICS_REPLICAS: usize = 2;

/// One `fdi serve` process; killed when dropped.
struct Replica {
    child: Child,
    endpoint: String,
    log: PathBuf,
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Replica {
    /// The times this replica loaded its cube, from its log.
    fn cube_loads(&self) -> usize {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter(|line| line.contains("monthly rollups loaded into memory"))
            .count()
    }
}

/// What every replica process is started with.
struct Launcher {
    dir: PathBuf,
    env: Vec<(&'static str, String)>,
}

impl Launcher {
    fn new(url: &str, catalogue: &str, keys: &LocalKeys) -> anyhow::Result<Self> {
        let dir = std::env::temp_dir().join(format!("fdi-bench-replicas-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let unlimited = "1000000".to_owned();
        Ok(Self {
            dir,
            env: vec![
                ("DATABASE_URL", url.to_owned()),
                ("FDI_CATALOGUE_URL", catalogue.to_owned()),
                ("FDI_SERVICE_KEY", keys.service.clone()),
                ("FDI_ALLOW_PLAINTEXT", "true".to_owned()),
                ("FDI_CALLER_RATE", unlimited.clone()),
                ("FDI_CALLER_BURST", unlimited.clone()),
                ("FDI_CALLER_MAX_CALLS", unlimited),
                ("FDI_LOG_FORMAT", "json".to_owned()),
                (
                    "RUST_LOG",
                    std::env::var("FDI_BENCH_LOG").unwrap_or_else(|_| "info,sqlx=warn".to_owned()),
                ),
            ],
        })
    }

    /// `fdi serve {service}` on a free port, SERVING.
    async fn start(&self, system: &System, service: &str, grpc_name: &str, n: usize) -> anyhow::Result<Replica> {
        let port = TcpListener::bind("127.0.0.1:0").await?.local_addr()?.port();
        let log = self.dir.join(format!("{service}-{n}.log"));
        let mut command = Command::new(std::env::current_exe()?);
        command
            .args(["serve", service])
            .envs(self.env.iter().map(|(k, v)| (*k, v.as_str())))
            .env(
                format!("FDI_{}_ADDR", service.to_uppercase()),
                format!("127.0.0.1:{port}"),
            )
            .stdout(Stdio::from(std::fs::File::create(&log)?))
            .stderr(Stdio::null());
        let replica = Replica {
            child: command.spawn()?,
            endpoint: format!("http://127.0.0.1:{port}"),
            log,
        };
        anyhow::ensure!(
            system.wait_serving(&replica.endpoint, grpc_name).await,
            "{service} replica {n} did not start (log: {})",
            replica.log.display()
        );
        Ok(replica)
    }
}

/// Runs the benchmark.
///
/// # Errors
/// When the system cannot be started or a call fails.
pub async fn run(bench: ReplicasBench) -> anyhow::Result<()> {
    println!(
        "Replica benchmark: {} events through {} ingest replica(s) and {ANALYTICS_REPLICAS} analytics replicas, \
         each its own process",
        bench.events, bench.ingest_replicas
    );
    println!(
        "  machine: {} cores, shared by every process and PostgreSQL (private throw-away cluster, fsync off)",
        num_cores()
    );
    let (cluster, url, database) = fresh_database("bench_replicas").await?;
    let keys = crate::local_keys::ensure(&database, None).await?;
    let mut system = System::new(
        database,
        fdi_kit::telemetry::LogConfig::TEXT,
        fdi_kit::shutdown::on_signal(),
    );
    system.secure(&keys)?;
    system.unlimited_callers();
    let catalogue = system.catalogue(TcpListener::bind("127.0.0.1:0").await?)?;
    anyhow::ensure!(
        system.wait_serving(&catalogue, fdi_catalogue::SERVICE_NAME).await,
        "the catalogue did not start"
    );
    let launcher = Launcher::new(&url, &catalogue, &keys)?;
    let mut ingest = Vec::new();
    for n in 0..usize::from(bench.ingest_replicas) {
        ingest.push(launcher.start(&system, "ingest", fdi_ingest::SERVICE_NAME, n).await?);
    }
    let mut analytics = Vec::new();
    for n in 0..ANALYTICS_REPLICAS {
        analytics.push(
            launcher
                .start(&system, "analytics", fdi_analytics::SERVICE_NAME, n)
                .await?,
        );
    }
    let pool = PgPool::connect(&url).await?;
    let bench_run = Run {
        pool,
        url: url.clone(),
        credential: system.credential(),
        ingest: ingest.iter().map(|r| r.endpoint.clone()).collect(),
    };

    let commit_rate = bench_run.full_speed_load(&analytics, bench.events).await?;
    bench_run.trickle(&analytics, &bench).await?;
    let reloads: Vec<String> = analytics
        .iter()
        .map(|r| r.cube_loads().saturating_sub(1).to_string())
        .collect();
    println!("  cube reloads after startup: {} (one per replica)", reloads.join(", "));
    let compacted = bench_run.wait_compacted().await?;
    println!(
        "  compaction done {:.1} s later (rollup rows: {} appended, {} left)",
        compacted.0.as_secs_f64(),
        compacted.1,
        compacted.2
    );
    bench_run.steady_latencies(&analytics).await?;
    bench_run.failover(&mut analytics).await?;
    bench_run.fold_rate(commit_rate).await?;

    drop(analytics);
    drop(ingest);
    system.shutdown.cancel();
    system.join().await?;
    drop(cluster);
    if std::env::var_os("FDI_BENCH_TRACE").is_none() {
        let _ = std::fs::remove_dir_all(&launcher.dir);
    }
    Ok(())
}

/// What every phase uses.
#[derive(Clone)]
struct Run {
    pool: PgPool,
    url: String,
    credential: Bearer,
    ingest: Vec<String>,
}

/// Lag samples (seconds) and latencies (ms) by replica and RPC.
#[derive(Default)]
struct Samples {
    lag: Vec<f64>,
    latencies: Vec<Vec<(&'static str, f64)>>,
}

impl Run {
    /// Loads `events` through every ingest replica at once, sampling lag and
    /// latencies; prints them and returns ingest's commit rate.
    async fn full_speed_load(&self, analytics: &[Replica], events: u64) -> anyhow::Result<f64> {
        let share = events / u64::try_from(self.ingest.len()).unwrap_or(1);
        let started = Instant::now();
        let loads: Vec<JoinHandle<anyhow::Result<u64>>> = self
            .ingest
            .iter()
            .enumerate()
            .map(|(n, endpoint)| self.load(endpoint, &format!("full-speed-{n}"), 100 + n as u64, share, 0..share))
            .collect();
        let samples = self
            .sample_while(analytics, || loads.iter().all(JoinHandle::is_finished))
            .await?;
        let load_time = started.elapsed();
        let mut accepted = 0;
        for load in loads {
            accepted += load.await??;
        }
        let commit_rate = rate(accepted, load_time);
        println!(
            "  full-speed load: {accepted} events committed in {:.1} s: ingest commits {commit_rate:.0} events/s",
            load_time.as_secs_f64()
        );
        let caught_up = self.wait_caught_up(analytics).await?;
        println!(
            "  every replica current {:.1} s after the load ended",
            caught_up.as_secs_f64()
        );
        print_lag("lag behind ingest during the full-speed load", samples.lag);
        print_latencies("RPC latency during the load", &samples.latencies);
        Ok(commit_rate)
    }

    /// A steady trickle of single batches, sampling lag.
    async fn trickle(&self, analytics: &[Replica], bench: &ReplicasBench) -> anyhow::Result<()> {
        let tick = Duration::from_millis(100);
        let per_tick = (bench.trickle_rate / 10).max(1);
        let ticks = bench.trickle_seconds * 10;
        let run = self.clone();
        let feeder = tokio::spawn(async move {
            let mut interval = tokio::time::interval(tick);
            for n in 0..ticks {
                interval.tick().await;
                let rows = n * per_tick..(n + 1) * per_tick;
                run.load(&run.ingest[0], &format!("trickle-{n}"), 7, ticks * per_tick, rows)
                    .await??;
            }
            anyhow::Ok(())
        });
        let samples = self.sample_while(analytics, || feeder.is_finished()).await?;
        feeder.await??;
        print_lag(
            &format!("lag behind ingest during a {} events/s trickle", bench.trickle_rate),
            samples.lag,
        );
        Ok(())
    }

    /// Waits until the leader has compacted every month worth compacting;
    /// the time it took, and the rollup rows before and after.
    async fn wait_compacted(&self) -> anyhow::Result<(Duration, i64, i64)> {
        let started = Instant::now();
        let rows = || async {
            let (rows,): (i64,) = sqlx::query_as("SELECT count(*) FROM analytics.rollup")
                .fetch_one(&self.pool)
                .await?;
            anyhow::Ok(rows)
        };
        let before = rows().await?;
        loop {
            let (pending,): (i64,) = sqlx::query_as(
                "SELECT count(*) FROM analytics.rollup_partitions
                 WHERE rows_added > 0 AND rows_added >= greatest(rows_compacted, 1000)",
            )
            .fetch_one(&self.pool)
            .await?;
            if pending == 0 {
                return Ok((started.elapsed(), before, rows().await?));
            }
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(1200),
                "compaction never finished"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Latencies on each replica with nothing loading.
    async fn steady_latencies(&self, analytics: &[Replica]) -> anyhow::Result<()> {
        let mut latencies = vec![Vec::new(); analytics.len()];
        let mut clients = self.clients(analytics).await?;
        for round in 0..100 {
            for (n, client) in clients.iter_mut().enumerate() {
                for question in QUESTIONS {
                    latencies[n].push(timed(client, question, round).await?);
                }
            }
        }
        print_latencies("RPC latency with nothing loading", &latencies);
        Ok(())
    }

    /// SIGKILLs the leader during a trickle: how long until another replica
    /// holds the lease, and until its figures are current again.
    async fn failover(&self, analytics: &mut Vec<Replica>) -> anyhow::Result<()> {
        let leader = self.leader_index(analytics).await?;
        let run = self.clone();
        let feeder = tokio::spawn(async move {
            for n in 0..50u64 {
                let rows = n * 100..(n + 1) * 100;
                run.load(&run.ingest[0], &format!("failover-{n}"), 8, 5000, rows)
                    .await??;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            anyhow::Ok(())
        });
        tokio::time::sleep(Duration::from_secs(1)).await;
        let mut killed = analytics.remove(leader);
        let last_before = self.ingest_last().await?;
        let killed_at = Instant::now();
        killed.child.kill()?;
        killed.child.wait()?;
        let survivor_pid = analytics[0].child.id();
        let lease = loop {
            if self.leader_pid().await? == Some(survivor_pid) {
                break killed_at.elapsed();
            }
            anyhow::ensure!(killed_at.elapsed() < Duration::from_secs(60), "nobody took the lease");
            tokio::time::sleep(Duration::from_millis(10)).await;
        };
        let mut client = self.clients(&analytics[..1]).await?.remove(0);
        let current = loop {
            if as_of(&mut client).await? >= last_before {
                break killed_at.elapsed();
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        };
        feeder.await??;
        drop(killed);
        println!(
            "  failover after SIGKILL of the leader: lease taken in {:.2} s; figures current again in {:.2} s",
            lease.as_secs_f64(),
            current.as_secs_f64()
        );
        Ok(())
    }

    /// Empties the rollups and times the leader folding the whole feed again.
    async fn fold_rate(&self, commit_rate: f64) -> anyhow::Result<()> {
        let feed_end = self.ingest_last().await?;
        let (events,): (i64,) = sqlx::query_as("SELECT count(*) FROM ingest.events")
            .fetch_one(&self.pool)
            .await?;
        let database = fdi_kit::config::DatabaseConfig::new(self.url.clone()).with_max_connections(2);
        let analytics_pool = fdi_analytics::connect(&database).await?;
        let started = Instant::now();
        fdi_analytics::consumer::reset(&analytics_pool).await?;
        loop {
            let (cursor,): (i64,) = sqlx::query_as("SELECT last_sequence FROM analytics.consumer")
                .fetch_one(&self.pool)
                .await?;
            if cursor >= feed_end {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let elapsed = started.elapsed();
        let fold_rate = rate(u64::try_from(events).unwrap_or_default(), elapsed);
        println!(
            "  fold rate: the leader rebuilt the rollups of {events} events in {:.1} s: {fold_rate:.0} events/s, \
             {:.1} x ingest's commit rate",
            elapsed.as_secs_f64(),
            fold_rate / commit_rate
        );
        Ok(())
    }

    /// Loads rows `rows` of the synthetic register (`seed`, `total` rows) as load `load_id`.
    fn load(
        &self,
        endpoint: &str,
        load_id: &str,
        seed: u64,
        total: u64,
        rows: std::ops::Range<u64>,
    ) -> JoinHandle<anyhow::Result<u64>> {
        let mut options = LoadOptions::new(endpoint, load_id);
        options.batch_rows = 5000;
        options.credential = self.credential.clone();
        tokio::spawn(async move {
            let open: OpenRows = Box::new(move |offset| {
                let register = generate(DemoConfig {
                    events: total,
                    seed,
                    ..DemoConfig::default()
                });
                let skip = usize::try_from(rows.start + offset).unwrap_or(usize::MAX);
                let take = usize::try_from(rows.end - rows.start).unwrap_or(0);
                Ok(Box::new(register.skip(skip).take(take.saturating_sub(offset as usize))))
            });
            Ok(load(&options, open, &mut |_| {}).await?.accepted)
        })
    }

    async fn clients(&self, analytics: &[Replica]) -> anyhow::Result<Vec<AnalyticsServiceClient<Authorized>>> {
        let mut clients = Vec::new();
        for replica in analytics {
            let channel = tonic::transport::Channel::from_shared(replica.endpoint.clone())?
                .connect()
                .await?;
            clients.push(AnalyticsServiceClient::with_interceptor(
                channel,
                self.credential.clone(),
            ));
        }
        Ok(clients)
    }

    /// Samples every [`SAMPLE_EVERY`] until `done`: each replica's lag
    /// behind ingest, and one call of a rotating question on each.
    async fn sample_while(&self, analytics: &[Replica], done: impl Fn() -> bool) -> anyhow::Result<Samples> {
        let mut clients = self.clients(analytics).await?;
        let mut samples = Samples {
            latencies: vec![Vec::new(); analytics.len()],
            ..Samples::default()
        };
        let mut interval = tokio::time::interval(SAMPLE_EVERY);
        let mut round = 0;
        while !done() {
            interval.tick().await;
            for (n, client) in clients.iter_mut().enumerate() {
                let as_of = as_of(client).await?;
                let lag = self.lag_behind(as_of).await?;
                if std::env::var_os("FDI_BENCH_TRACE").is_some() {
                    eprintln!("t={round} replica={n} as_of={as_of} lag={lag:.2}");
                }
                samples.lag.push(lag);
                let question = QUESTIONS[round % QUESTIONS.len()];
                samples.latencies[n].push(timed(client, question, round).await?);
            }
            round += 1;
        }
        Ok(samples)
    }

    /// Seconds since ingest committed the oldest event a replica at `as_of` does not reflect (0 when none).
    async fn lag_behind(&self, as_of: i64) -> anyhow::Result<f64> {
        let lag: Option<(f64,)> = sqlx::query_as(
            "SELECT extract(epoch FROM clock_timestamp() - create_time)::float8 FROM ingest.events
             WHERE sequence > $1 ORDER BY sequence LIMIT 1",
        )
        .bind(as_of)
        .fetch_optional(&self.pool)
        .await?;
        Ok(lag.map_or(0.0, |(seconds,)| seconds.max(0.0)))
    }

    async fn ingest_last(&self) -> anyhow::Result<i64> {
        let (last,): (i64,) = sqlx::query_as("SELECT coalesce(max(sequence), 0) FROM ingest.events")
            .fetch_one(&self.pool)
            .await?;
        Ok(last)
    }

    async fn wait_caught_up(&self, analytics: &[Replica]) -> anyhow::Result<Duration> {
        let started = Instant::now();
        let last = self.ingest_last().await?;
        for mut client in self.clients(analytics).await? {
            while as_of(&mut client).await? < last {
                anyhow::ensure!(
                    started.elapsed() < Duration::from_secs(600),
                    "a replica never caught up"
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        Ok(started.elapsed())
    }

    /// The process id the leader recorded (`host/pid`).
    async fn leader_pid(&self) -> anyhow::Result<Option<u32>> {
        let (leader,): (String,) = sqlx::query_as("SELECT leader FROM analytics.consumer")
            .fetch_one(&self.pool)
            .await?;
        Ok(leader.rsplit('/').next().and_then(|pid| pid.parse().ok()))
    }

    async fn leader_index(&self, analytics: &[Replica]) -> anyhow::Result<usize> {
        let pid = self.leader_pid().await?;
        analytics
            .iter()
            .position(|r| Some(r.child.id()) == pid)
            .ok_or_else(|| anyhow::anyhow!("no replica leads"))
    }
}

/// The questions asked of the replicas (whole months, as the news asks).
const QUESTIONS: [&str; 4] = ["summary", "ranking", "breakdown", "target_progress"];
const PERIODS: [&str; 4] = ["2025-H1", "2024", "2023-Q3", "2025-M8"];

fn shorthand(text: &str) -> Option<Period> {
    Some(Period {
        kind: Some(period::Kind::Shorthand(text.to_owned())),
    })
}

/// The replica's `as_of_sequence` for a whole-year summary.
async fn as_of(client: &mut AnalyticsServiceClient<Authorized>) -> anyhow::Result<i64> {
    Ok(client
        .get_summary(pb::GetSummaryRequest {
            period: shorthand("2024"),
            ..Default::default()
        })
        .await?
        .into_inner()
        .as_of_sequence)
}

/// One call of `question` (varied by `round`) and its latency in ms.
async fn timed(
    client: &mut AnalyticsServiceClient<Authorized>,
    question: &'static str,
    round: usize,
) -> anyhow::Result<(&'static str, f64)> {
    let period = shorthand(PERIODS[round % PERIODS.len()]);
    let started = Instant::now();
    match question {
        "summary" => drop(
            client
                .get_summary(pb::GetSummaryRequest {
                    period,
                    provinces: vec!["bac-ninh".into()],
                    ..Default::default()
                })
                .await?,
        ),
        "ranking" => drop(
            client
                .get_ranking(pb::GetRankingRequest {
                    dimension: pb::Dimension::Province.into(),
                    figure: Figure::TotalCapital.into(),
                    period,
                    ..Default::default()
                })
                .await?,
        ),
        "breakdown" => drop(
            client
                .get_breakdown(pb::GetBreakdownRequest {
                    figure: Figure::NewCapital.into(),
                    by: pb::Dimension::HomeCountry.into(),
                    period,
                    ..Default::default()
                })
                .await?,
        ),
        _ => {
            // No target is set: NOT_FOUND after the same work of resolving and reading.
            let _ = client
                .get_target_progress(pb::GetTargetProgressRequest {
                    province: "bac-ninh".into(),
                    year: 2025,
                    ..Default::default()
                })
                .await;
        }
    }
    Ok((question, started.elapsed().as_secs_f64() * 1000.0))
}

fn print_lag(what: &str, mut lag: Vec<f64>) {
    let max = lag.iter().copied().fold(0.0, f64::max);
    println!(
        "  {what}: p50 {:.2} s, p99 {:.2} s, max {max:.2} s ({} samples)",
        percentile(&mut lag, 0.5),
        percentile(&mut lag, 0.99),
        lag.len()
    );
}

fn print_latencies(what: &str, by_replica: &[Vec<(&'static str, f64)>]) {
    println!("  {what} (ms, p50 / p99):");
    for (n, samples) in by_replica.iter().enumerate() {
        let cells: Vec<String> = QUESTIONS
            .iter()
            .map(|question| {
                let mut times: Vec<f64> = samples.iter().filter(|(q, _)| q == question).map(|(_, t)| *t).collect();
                format!(
                    "{question} {:.2} / {:.2}",
                    percentile(&mut times, 0.5),
                    percentile(&mut times, 0.99)
                )
            })
            .collect();
        println!("    replica {n}: {}", cells.join("; "));
    }
}
