//! Replicas as real processes over one PostgreSQL: two ingest replicas
//! loading at once keep exactly-once; two analytics replicas (one leads the
//! fold, both follow it in memory) answer every question alike, alert every
//! Watch subscriber once per event, load their cube once, and survive a
//! SIGKILL of the leader with the figures a single applier computes.

mod common;

use std::{
    collections::BTreeSet,
    sync::{Arc, Mutex},
    time::Duration,
};

use common::{Process, free_port};
use fdi_client::{
    demo::{DemoConfig, generate},
    loader::{LoadOptions, LoadSummary, OpenRows, load},
};
use fdi_proto::{
    analytics::{self as pb, analytics_service_client::AnalyticsServiceClient},
    common::{Figure, Period, period},
};
use sqlx::PgPool;
use tempfile::TempDir;
use tokio::task::JoinHandle;
use tonic::transport::Channel;

/// How long a service may take to say SERVING (debug builds on a busy machine).
const READY: Duration = Duration::from_secs(120);
/// Generous bound for catching up: the assertions are about what, not how fast.
const CATCH_UP: Duration = Duration::from_secs(120);

/// The catalogue, two ingest replicas and analytics replicas, each its own `fdi serve` process.
struct Cluster {
    dir: TempDir,
    database_url: String,
    catalogue: Process,
    ingest: Vec<Process>,
    analytics: Vec<Process>,
}

impl Cluster {
    async fn start(analytics_replicas: usize) -> Self {
        let database = fdi_testkit::database().await;
        let dir = tempfile::tempdir().unwrap();
        let catalogue = Process::start("catalogue", free_port(), &base_env(&database.url, ""), dir.path());
        fdi_testkit::wait_until_serving(&catalogue.endpoint, fdi_catalogue::SERVICE_NAME, READY).await;
        let mut cluster = Self {
            database_url: database.url.clone(),
            ingest: Vec::new(),
            analytics: Vec::new(),
            catalogue,
            dir,
        };
        for _ in 0..2 {
            let ingest = cluster.replica("ingest");
            fdi_testkit::wait_until_serving(&ingest.endpoint, fdi_ingest::SERVICE_NAME, READY).await;
            cluster.ingest.push(ingest);
        }
        for _ in 0..analytics_replicas {
            let analytics = cluster.replica("analytics");
            fdi_testkit::wait_until_serving(&analytics.endpoint, fdi_analytics::SERVICE_NAME, READY).await;
            cluster.analytics.push(analytics);
        }
        cluster
    }

    /// One more replica of `service`, logging into its own directory.
    fn replica(&self, service: &str) -> Process {
        let dir = self.dir.path().join(format!("{service}-{}", free_port()));
        std::fs::create_dir_all(&dir).unwrap();
        Process::start(
            service,
            free_port(),
            &base_env(&self.database_url, &self.catalogue.endpoint),
            &dir,
        )
    }

    async fn pool(&self) -> PgPool {
        PgPool::connect(&self.database_url).await.unwrap()
    }
}

fn base_env(database_url: &str, catalogue: &str) -> Vec<(&'static str, String)> {
    vec![
        ("DATABASE_URL", database_url.to_owned()),
        ("FDI_ALLOW_ANONYMOUS", "true".to_owned()),
        ("FDI_CATALOGUE_URL", catalogue.to_owned()),
    ]
}

/// Loads `events` synthetic rows of `seed` through the ingest at `endpoint`, as load `load_id`.
fn load_demo(endpoint: &str, load_id: &str, seed: u64, events: u64) -> JoinHandle<LoadSummary> {
    let options = LoadOptions {
        batch_rows: 300,
        ..LoadOptions::new(endpoint, load_id)
    };
    tokio::spawn(async move {
        let open: OpenRows = Box::new(move |offset| {
            let rows = generate(DemoConfig {
                events,
                seed,
                ..DemoConfig::default()
            });
            Ok(Box::new(rows.skip(usize::try_from(offset).unwrap_or(usize::MAX))))
        });
        load(&options, open, &mut |_| {}).await.unwrap()
    })
}

async fn analytics_client(endpoint: &str) -> AnalyticsServiceClient<Channel> {
    AnalyticsServiceClient::connect(endpoint.to_owned()).await.unwrap()
}

/// A Watch stream alerting on every event with an amount, collecting the alerts' events as they arrive.
struct Watcher {
    alerts: Arc<Mutex<Vec<String>>>,
    _task: JoinHandle<()>,
}

impl Watcher {
    async fn start(endpoint: &str) -> Self {
        let mut stream = analytics_client(endpoint)
            .await
            .watch(pb::WatchRequest {
                threshold: Some(fdi_kit::money::to_money(rust_decimal::Decimal::from(0_i64), "USD")),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        let alerts = Arc::new(Mutex::new(Vec::new()));
        let collected = Arc::clone(&alerts);
        let task = tokio::spawn(async move {
            while let Ok(Some(alert)) = stream.message().await {
                // A gap shows as an entry of its own, which no expected list holds.
                let entry = if alert.kind() == pb::AlertKind::Gap {
                    format!("gap {}..{}", alert.gap_first_sequence, alert.gap_last_sequence)
                } else {
                    alert.event
                };
                collected.lock().unwrap().push(entry);
            }
        });
        Self { alerts, _task: task }
    }

    /// The alerts received, once `count` have arrived (or a generous bound
    /// passed) and a moment more, in which a repeated alert would arrive too.
    async fn alerts(&self, count: usize) -> Vec<String> {
        let deadline = tokio::time::Instant::now() + CATCH_UP;
        while self.alerts.lock().unwrap().len() < count && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        self.alerts.lock().unwrap().clone()
    }
}

/// The events with an amount of zero or more (those a zero threshold alerts on), as `events/{sequence}`.
async fn events_with_amounts(pool: &PgPool) -> Vec<String> {
    let sequences: Vec<(i64,)> =
        sqlx::query_as("SELECT sequence FROM ingest.events WHERE amount_usd >= 0 ORDER BY sequence")
            .fetch_all(pool)
            .await
            .unwrap();
    sequences.into_iter().map(|(s,)| format!("events/{s}")).collect()
}

async fn last_sequence(pool: &PgPool) -> i64 {
    let (last,): (i64,) = sqlx::query_as("SELECT coalesce(max(sequence), 0) FROM ingest.events")
        .fetch_one(pool)
        .await
        .unwrap();
    last
}

fn shorthand(text: &str) -> Option<Period> {
    Some(Period {
        kind: Some(period::Kind::Shorthand(text.to_owned())),
    })
}

/// Waits until the replica at `endpoint` answers as of `sequence`.
async fn wait_caught_up(endpoint: &str, sequence: i64) {
    let mut client = analytics_client(endpoint).await;
    let deadline = tokio::time::Instant::now() + CATCH_UP;
    loop {
        let summary = client
            .get_summary(pb::GetSummaryRequest {
                period: shorthand("2024"),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        if summary.as_of_sequence >= sequence {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{endpoint} stayed at {} of {sequence}",
            summary.as_of_sequence
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Sets a 2024 target for Bắc Ninh through the ingest at `endpoint` (for GetTargetProgress).
async fn set_target(endpoint: &str) {
    use fdi_proto::ingest::{SetTargetRequest, Target, ingest_service_client::IngestServiceClient};
    IngestServiceClient::connect(endpoint.to_owned())
        .await
        .unwrap()
        .set_target(SetTargetRequest {
            target: Some(Target {
                province: "bac-ninh".into(),
                year: 2024,
                figure: Figure::TotalCapital.into(),
                scope: fdi_proto::common::Scope::Fdi.into(),
                amount: Some(fdi_kit::money::to_money(
                    rust_decimal::Decimal::from(500_000_000_i64),
                    "USD",
                )),
                ..Default::default()
            }),
        })
        .await
        .unwrap();
}

/// The answers of every analytics RPC but Watch, to a set of questions, as text.
async fn answers(endpoint: &str) -> Vec<String> {
    let mut client = analytics_client(endpoint).await;
    let mut out = Vec::new();
    for (period, include_estimates) in [("2024", false), ("2023-03-05..2025-02-11", false), ("2025-H1", true)] {
        let summary = client
            .get_summary(pb::GetSummaryRequest {
                period: shorthand(period),
                include_estimates,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        out.push(format!("{summary:?}"));
        for dimension in [
            pb::Dimension::Province,
            pb::Dimension::Zone,
            pb::Dimension::HomeCountry,
            pb::Dimension::Investor,
            pb::Dimension::Sector,
            pb::Dimension::Kind,
        ] {
            let ranking = client
                .get_ranking(pb::GetRankingRequest {
                    dimension: dimension.into(),
                    figure: Figure::TotalCapital.into(),
                    period: shorthand(period),
                    include_estimates,
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner();
            out.push(format!("{ranking:?}"));
        }
        let breakdown = client
            .get_breakdown(pb::GetBreakdownRequest {
                figure: Figure::NewProjects.into(),
                by: pb::Dimension::Sector.into(),
                period: shorthand(period),
                provinces: vec!["Bắc Ninh".into()],
                include_estimates,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        out.push(format!("{breakdown:?}"));
        let reconciliation = client
            .reconcile(pb::ReconcileRequest {
                province: "Đồng Nai".into(),
                period: shorthand(period),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        out.push(format!("{reconciliation:?}"));
    }
    for include_estimates in [false, true] {
        let progress = client
            .get_target_progress(pb::GetTargetProgressRequest {
                province: "Bắc Ninh".into(),
                year: 2024,
                include_estimates,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        out.push(format!("{progress:?}"));
    }
    let series = client
        .get_time_series(pb::GetTimeSeriesRequest {
            figure: Figure::NewProjects.into(),
            granularity: pb::Granularity::Quarter.into(),
            period: shorthand("2020-01-01..2025-12-31"),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    out.push(format!("{series:?}"));
    out
}

/// The times a replica loaded its cube, from its log.
fn cube_loads(process: &Process) -> usize {
    process
        .log_lines()
        .iter()
        .filter(|line| line["message"] == "monthly rollups loaded into memory")
        .count()
}

/// The process id of the replica that leads, from the cursor's row (`host/pid`).
async fn leader_pid(pool: &PgPool) -> Option<u32> {
    let (leader,): (String,) = sqlx::query_as("SELECT leader FROM analytics.consumer")
        .fetch_one(pool)
        .await
        .unwrap();
    leader.rsplit('/').next()?.parse().ok()
}

#[tokio::test(flavor = "multi_thread")]
async fn two_of_each_answer_alike_alert_everywhere_and_record_each_row_once() {
    let cluster = Cluster::start(2).await;
    let pool = cluster.pool().await;
    let watchers = [
        Watcher::start(&cluster.analytics[0].endpoint).await,
        Watcher::start(&cluster.analytics[1].endpoint).await,
    ];

    // Two files at once through two ingest replicas, and the first again through the second.
    let (first, second) = (&cluster.ingest[0].endpoint, &cluster.ingest[1].endpoint);
    set_target(second).await;
    let loads = [
        load_demo(first, "file-a", 11, 2500),
        load_demo(second, "file-b", 12, 2500),
        load_demo(second, "file-a-again", 11, 2500),
    ];
    let mut summaries = Vec::new();
    for load in loads {
        summaries.push(load.await.unwrap());
    }
    let accepted: u64 = summaries.iter().map(|s| s.accepted).sum();
    let (rows, recorded): (i64, i64) =
        sqlx::query_as("SELECT count(*), count(DISTINCT idempotency_key) FROM ingest.events")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(rows, 5000, "each row of the two files once: {summaries:?}");
    assert_eq!(recorded, rows);
    assert_eq!(accepted, 5000, "the repeated file was all duplicates: {summaries:?}");

    let last = last_sequence(&pool).await;
    for replica in &cluster.analytics {
        wait_caught_up(&replica.endpoint, last).await;
    }
    let (one, other) = (
        answers(&cluster.analytics[0].endpoint).await,
        answers(&cluster.analytics[1].endpoint).await,
    );
    assert_eq!(one, other, "both replicas answer alike");
    assert!(
        one[0].contains(&format!("as_of_sequence: {last}")),
        "as of the last event: {}",
        one[0]
    );

    // Every subscriber, on either replica, got one alert per event with an amount.
    let wanted = events_with_amounts(&pool).await;
    let loads_each: Vec<usize> = cluster.analytics.iter().map(cube_loads).collect();
    for watcher in &watchers {
        let alerted = watcher.alerts(wanted.len()).await;
        let distinct: BTreeSet<&String> = alerted.iter().collect();
        assert_eq!(distinct.len(), alerted.len(), "no alert twice");
        assert_eq!(alerted, wanted, "one alert per event, in commit order");
    }
    // Steady state: each replica loaded its cube once, at startup, and followed the folds from there.
    assert_eq!(loads_each, vec![1, 1], "cube loads per replica");
}

#[tokio::test(flavor = "multi_thread")]
async fn after_a_sigkill_of_the_leader_another_folds_and_figures_match_a_single_applier() {
    let mut cluster = Cluster::start(2).await;
    let pool = cluster.pool().await;
    let watchers = [
        Watcher::start(&cluster.analytics[0].endpoint).await,
        Watcher::start(&cluster.analytics[1].endpoint).await,
    ];
    set_target(&cluster.ingest[0].endpoint).await;
    let loads = [
        load_demo(&cluster.ingest[0].endpoint, "file-a", 21, 3000),
        load_demo(&cluster.ingest[1].endpoint, "file-b", 22, 3000),
    ];

    // Mid-load: the leader has folded something, and is killed.
    let deadline = tokio::time::Instant::now() + CATCH_UP;
    let leader = loop {
        let (cursor,): (i64,) = sqlx::query_as("SELECT last_sequence FROM analytics.consumer")
            .fetch_one(&pool)
            .await
            .unwrap();
        if cursor > 0
            && let Some(pid) = leader_pid(&pool).await
        {
            break cluster
                .analytics
                .iter()
                .position(|p| p.child.id() == pid)
                .expect("the leader is one of the replicas");
        }
        assert!(tokio::time::Instant::now() < deadline, "nothing was folded");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let mut killed = cluster.analytics.remove(leader);
    killed.child.kill().unwrap(); // SIGKILL
    killed.child.wait().unwrap();
    let survivor = &cluster.analytics[0];
    for load in loads {
        load.await.unwrap();
    }

    // The survivor takes the lease and folds the rest.
    let last = last_sequence(&pool).await;
    wait_caught_up(&survivor.endpoint, last).await;
    assert_eq!(leader_pid(&pool).await, Some(survivor.child.id()));
    let after_failover = answers(&survivor.endpoint).await;

    // The same figures from a single applier: the rollups rebuilt from the feed by this test alone.
    let analytics_pool = fdi_analytics::connect(&fdi_kit::config::DatabaseConfig::new(&cluster.database_url))
        .await
        .unwrap();
    fdi_analytics::consumer::reset(&analytics_pool).await.unwrap();
    fdi_analytics::consumer::catch_up(&analytics_pool).await.unwrap();
    wait_caught_up(&survivor.endpoint, last).await;
    assert_eq!(answers(&survivor.endpoint).await, after_failover);

    // The survivor's subscriber saw every event once, across the leader change.
    let wanted = events_with_amounts(&pool).await;
    let survivor_watcher = &watchers[1 - leader];
    let alerted = survivor_watcher.alerts(wanted.len()).await;
    assert_eq!(alerted, wanted, "one alert per event on the surviving replica");
    drop(killed);
}
