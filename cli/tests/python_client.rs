//! The contracts from another stack: `cli/tests/python/client_test.py` generates
//! a Python client from `proto/` with grpcio-tools (the reference protoc) and
//! drives the three services, started here in-process on a fresh database:
//! Resolve, SubmitEvent, a LoadEvents stream of a few hundred rows,
//! GetBulkLoad, ListEvents and GetSummary. The script checks every answer;
//! this test then checks from Rust that what it sent is recorded and counted.
//!
//! The Python comes from `FDI_PYTHON`, else `.tools/venv/bin/python`, where
//! `cli/test.sh` installs grpcio-tools. Without it the test fails and says so.

mod common;

use std::{path::PathBuf, process::Command, time::Duration, time::Instant};

use fdi_proto::{
    analytics::{GetSummaryRequest, analytics_service_client::AnalyticsServiceClient},
    common::{Figure, Period, period},
    ingest::{GetBulkLoadRequest, ListEventsRequest, ingest_service_client::IngestServiceClient},
};

/// Rows the script streams, and per message.
const ROWS: i64 = 300;
const BATCH_ROWS: i64 = 100;
const LOAD_ID: &str = "python-client-test";

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The Python with grpcio-tools, or a failure that says how to get it.
fn python() -> PathBuf {
    let python = std::env::var_os("FDI_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join(".tools/venv/bin/python"));
    let probe = Command::new(&python)
        .args(["-c", "import grpc, grpc_tools.protoc"])
        .output();
    match probe {
        Ok(output) if output.status.success() => python,
        Ok(output) => panic!(
            "{} has no grpcio-tools ({}); run cli/test.sh, which installs it into .tools/venv",
            python.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        ),
        Err(error) => panic!(
            "no Python at {} ({error}); run cli/test.sh, which installs one with grpcio-tools into .tools/venv \
             (or set FDI_PYTHON)",
            python.display()
        ),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_python_client_generated_by_protoc_drives_every_service() {
    let python = python();
    let services = common::start().await;
    let (catalogue, ingest, analytics) = (&services.catalogue, &services.ingest, &services.analytics);

    let script = workspace().join("cli/tests/python/client_test.py");
    let mut command = tokio::process::Command::new(&python);
    command
        .arg(&script)
        .args(["--catalogue", &catalogue.addr.to_string()])
        .args(["--ingest", &ingest.addr.to_string()])
        .args(["--analytics", &analytics.addr.to_string()])
        .args(["--rows", &ROWS.to_string(), "--batch-rows", &BATCH_ROWS.to_string()])
        .args(["--load-id", LOAD_ID])
        .arg("--proto")
        .arg(workspace().join("proto"))
        .kill_on_drop(true);
    let started = Instant::now();
    let output = tokio::time::timeout(Duration::from_secs(300), command.output())
        .await
        .expect("the Python client did not finish within 5 minutes")
        .expect("the Python client could not be started");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    println!("{stdout}{stderr}python client took {:.1?}", started.elapsed());
    assert!(
        output.status.success(),
        "the Python client failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    assert!(stdout.contains("python client: all checks passed"), "{stdout}");

    // What the script sent, seen from Rust: the load, its events, and analytics' figures.
    let mut client = IngestServiceClient::connect(ingest.endpoint()).await.unwrap();
    let load = client
        .get_bulk_load(GetBulkLoadRequest {
            name: format!("bulkLoads/{LOAD_ID}"),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (load.offset_reached, load.accepted, load.rejected),
        (ROWS, ROWS, 0),
        "{load:?}"
    );
    let events = client
        .list_events(ListEventsRequest {
            page_size: Some(1000),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    // The bulk rows and the one submitted event (its duplicate is not a new event).
    assert_eq!(events.events.len() as i64, ROWS + 1);
    assert!(events.next_page_token.is_empty());
    let loaded = events
        .events
        .iter()
        .filter(|e| e.idempotency_key.starts_with(&format!("{LOAD_ID}-")) && e.province == "provinces/hai-phong")
        .count();
    assert_eq!(loaded as i64, ROWS);
    let summary = AnalyticsServiceClient::connect(analytics.endpoint())
        .await
        .unwrap()
        .get_summary(GetSummaryRequest {
            provinces: vec!["Hải Phòng".into()],
            period: Some(Period {
                kind: Some(period::Kind::Shorthand("2025".into())),
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let new_projects = summary
        .figures
        .iter()
        .find(|f| f.figure() == Figure::NewProjects)
        .map(|f| f.count);
    assert_eq!(new_projects, Some(ROWS), "{summary:?}");
}
