//! Nothing lost, nothing twice: the ingest process killed (SIGKILL) in the
//! middle of a bulk load, and PostgreSQL crashed and restarted during one.

mod common;

use std::{
    process::{Child, Command, Stdio},
    sync::{Arc, atomic::Ordering},
    time::Duration,
};

use fdi_client::loader::{LoadOptions, LoadSummary, OpenRows, load};
use fdi_proto::ingest::EventInput;
use fdi_testkit::{ServingStatus, health_status};
use rust_decimal::Decimal;
use sqlx::{Connection, PgConnection};

const ROWS: u64 = 20_000;

fn rows_from(rows: Arc<Vec<EventInput>>) -> OpenRows {
    Box::new(move |offset| {
        let rows = Arc::clone(&rows);
        Ok(Box::new(
            (usize::try_from(offset).unwrap()..rows.len()).map(move |i| rows[i].clone()),
        ))
    })
}

async fn totals(database_url: &str) -> (i64, i64, Decimal) {
    let mut connection = PgConnection::connect(database_url).await.unwrap();
    sqlx::query_as("SELECT count(*), count(DISTINCT idempotency_key), coalesce(sum(amount), 0) FROM ingest.events")
        .fetch_one(&mut connection)
        .await
        .unwrap()
}

fn expected_sum(rows: &[EventInput]) -> Decimal {
    rows.iter().map(|r| r.amount.parse::<Decimal>().unwrap()).sum()
}

fn spawn_ingest(port: u16, database_url: &str, catalogue_url: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_fdi-ingest"))
        .env("DATABASE_URL", database_url)
        .env("FDI_INGEST_ADDR", format!("127.0.0.1:{port}"))
        .env("FDI_CATALOGUE_URL", catalogue_url)
        // What is tested here is durability, not keys: calls are let in as the anonymous admin.
        .env("FDI_ALLOW_ANONYMOUS", "true")
        .env("FDI_ALLOW_PLAINTEXT", "true")
        .env("FDI_HEALTH_INTERVAL", "200ms")
        .env("FDI_LOG_FORMAT", "text")
        .env("RUST_LOG", "error")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start fdi-ingest")
}

#[tokio::test]
async fn sigkill_during_a_bulk_load_loses_and_duplicates_nothing() {
    let database = fdi_testkit::database().await;
    let catalogue = common::start_catalogue(&database.url).await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let mut child = spawn_ingest(port, &database.url, &catalogue.endpoint());
    fdi_testkit::wait_until_serving(&endpoint, fdi_ingest::SERVICE_NAME, Duration::from_secs(60)).await;

    let rows = Arc::new(common::register("kill", ROWS));
    let mut options = LoadOptions::new(endpoint.clone(), "kill-test");
    options.batch_rows = 500;
    options.max_attempts = 200;
    let acknowledged = Arc::new(std::sync::atomic::AtomicI64::new(0));
    let loader = tokio::spawn({
        let (options, rows, acknowledged) = (options.clone(), Arc::clone(&rows), Arc::clone(&acknowledged));
        async move {
            load(&options, rows_from(rows), &mut |ack| {
                acknowledged.store(ack.offset_reached, Ordering::SeqCst)
            })
            .await
        }
    });

    // Kill the service three times at different points of the load, restarting it each time.
    let mut kills = 0;
    for threshold in [3_000, 8_000, 14_000] {
        while acknowledged.load(Ordering::SeqCst) < threshold && !loader.is_finished() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        if loader.is_finished() {
            break;
        }
        child.kill().expect("SIGKILL");
        child.wait().unwrap();
        kills += 1;
        tokio::time::sleep(Duration::from_millis(300)).await;
        child = spawn_ingest(port, &database.url, &catalogue.endpoint());
    }
    let summary: LoadSummary = loader.await.unwrap().expect("the load completes");
    child.kill().ok();
    child.wait().ok();

    assert_eq!(kills, 3, "the load outlived three kills");
    assert!(summary.resumptions >= 3, "{summary:?}");
    assert_eq!(summary.offset_reached, ROWS);
    assert_eq!(summary.rejected, 0);
    let (count, distinct, sum) = totals(&database.url).await;
    assert_eq!(count, ROWS as i64, "every acknowledged row present");
    assert_eq!(distinct, count, "exactly once");
    assert_eq!(sum, expected_sum(&rows), "totals equal the input file's");
}

#[tokio::test]
async fn postgres_crash_and_restart_during_a_load_loses_nothing() {
    let cluster = Arc::new(
        tokio::task::spawn_blocking(fdi_testkit::Cluster::start)
            .await
            .unwrap()
            .expect("private cluster"),
    );
    let mut admin = PgConnection::connect(&cluster.url("postgres")).await.unwrap();
    sqlx::query("CREATE DATABASE crash").execute(&mut admin).await.unwrap();
    drop(admin);
    let database_url = cluster.url("crash");

    let catalogue = common::start_catalogue(&database_url).await;
    let config = common::ingest_config(&database_url, &catalogue.endpoint());
    let ingest = fdi_testkit::spawn_service(|listener, shutdown| fdi_ingest::serve(config, listener, shutdown)).await;
    fdi_testkit::wait_until_serving(&ingest.endpoint(), fdi_ingest::SERVICE_NAME, Duration::from_secs(60)).await;

    let rows = Arc::new(common::register("crash", ROWS));
    let mut options = LoadOptions::new(ingest.endpoint(), "crash-test");
    options.batch_rows = 500;
    options.max_attempts = 200;
    let acknowledged = Arc::new(std::sync::atomic::AtomicI64::new(0));
    let loader = tokio::spawn({
        let (options, rows, acknowledged) = (options.clone(), Arc::clone(&rows), Arc::clone(&acknowledged));
        async move {
            load(&options, rows_from(rows), &mut |ack| {
                acknowledged.store(ack.offset_reached, Ordering::SeqCst)
            })
            .await
        }
    });
    while acknowledged.load(Ordering::SeqCst) < 5_000 {
        assert!(!loader.is_finished(), "the load ended before the crash");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let stopped = Arc::clone(&cluster);
    tokio::task::spawn_blocking(move || stopped.stop_immediate())
        .await
        .unwrap()
        .expect("pg_ctl stop -m immediate");
    let saw_not_serving = wait_for(&ingest.endpoint(), ServingStatus::NotServing, Duration::from_secs(20)).await;
    let restarted = Arc::clone(&cluster);
    tokio::task::spawn_blocking(move || restarted.start_server())
        .await
        .unwrap()
        .expect("restart");
    let saw_serving = wait_for(&ingest.endpoint(), ServingStatus::Serving, Duration::from_secs(30)).await;

    let summary = loader.await.unwrap().expect("the load completes");
    assert!(saw_not_serving, "health said NOT_SERVING while the database was down");
    assert!(saw_serving, "health recovered");
    assert_eq!(summary.offset_reached, ROWS);
    let (count, distinct, sum) = totals(&database_url).await;
    assert_eq!((count, distinct), (ROWS as i64, ROWS as i64));
    assert_eq!(sum, expected_sum(&rows));
}

async fn wait_for(endpoint: &str, wanted: ServingStatus, timeout: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + timeout;
    while tokio::time::Instant::now() < deadline {
        if health_status(endpoint, fdi_ingest::SERVICE_NAME).await == Some(wanted) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}
