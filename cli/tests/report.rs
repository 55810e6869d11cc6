//! `fdi report` against the real services (catalogue, ingest, analytics) on a
//! real PostgreSQL: a small register loaded through ingest, the expected
//! figures computed here from the loaded rows, then the report's text and
//! charts checked against them; unknown provinces and bad periods fail with
//! the service's suggestions and violations, and the command exits non-zero.

mod common;

use std::{collections::BTreeMap, collections::BTreeSet, time::Duration};

use fdi_cli::report::{self, Currency, ReportArgs, ScopeArg, ServiceError, format_amount};
use fdi_kit::money::from_money;
use fdi_proto::{
    analytics::{self as pb, analytics_service_client::AnalyticsServiceClient},
    common::{Figure, Period, Scope, period},
    ingest::{self as ing, ingest_service_client::IngestServiceClient},
};
use rust_decimal::Decimal;
use tonic::Code;

/// Loads the rows; returns each event's dollar amount as ingest converted it, and the last sequence.
async fn load(ingest_url: &str) -> (BTreeMap<String, Decimal>, i64) {
    let mut ingest = IngestServiceClient::connect(ingest_url.to_owned()).await.unwrap();
    for row in &common::ROWS {
        let response = ingest
            .submit_event(ing::SubmitEventRequest {
                event: Some(common::event(row)),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(response.outcome(), ing::Outcome::Accepted, "{response:?}");
    }
    let events = ingest
        .list_events(ing::ListEventsRequest {
            page_size: Some(100),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .events;
    assert_eq!(events.len(), common::ROWS.len());
    let last = events.iter().map(|e| e.sequence).max().unwrap();
    let usd = events
        .into_iter()
        .map(|e| {
            let amount = e
                .amount_usd
                .as_ref()
                .map(|m| from_money(m).unwrap())
                .unwrap_or_default();
            (e.idempotency_key, amount)
        })
        .collect();
    (usd, last)
}

/// Polls GetSummary until analytics has folded every loaded event.
async fn wait_for_analytics(analytics_url: &str, sequence: i64) {
    let mut client = AnalyticsServiceClient::connect(analytics_url.to_owned()).await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let summary = client
            .get_summary(pb::GetSummaryRequest {
                provinces: vec!["Hà Nội".into()],
                period: Some(Period {
                    kind: Some(period::Kind::Shorthand("2025".into())),
                }),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        if summary.as_of_sequence >= sequence {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "analytics did not catch up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn args(province: &str, period: &str, analytics: &str, out: &std::path::Path) -> ReportArgs {
    ReportArgs {
        province: province.into(),
        period: period.into(),
        analytics: analytics.into(),
        currency: Currency::Usd,
        scope: ScopeArg::All,
        figure: Figure::TotalCapital,
        top: 10,
        out: out.to_owned(),
    }
}

#[tokio::test]
async fn report_shows_the_loaded_figures_and_draws_the_charts() {
    let services = common::start().await;
    let (ingest_url, analytics_url) = (services.ingest.endpoint(), services.analytics.endpoint());
    let (usd, last) = load(&ingest_url).await;
    let mut ingest = IngestServiceClient::connect(ingest_url.clone()).await.unwrap();
    ingest
        .set_target(ing::SetTargetRequest {
            target: Some(ing::Target {
                province: "Hà Nội".into(),
                year: 2025,
                figure: Figure::TotalCapital.into(),
                scope: Scope::Fdi.into(),
                amount: Some(fdi_kit::money::to_money(
                    rust_decimal::Decimal::from(50_000_000_i64),
                    "USD",
                )),
                ..Default::default()
            }),
        })
        .await
        .unwrap();
    wait_for_analytics(&analytics_url, last).await;

    // What the report must say, from the rows.
    let capital = |kind: &str| matches!(kind, "new" | "adjustment" | "share_purchase");
    let in_2025 = |row: &&(&str, &str, &str, &str, &str, &str, &str)| row.2.starts_with("2025");
    let ha_noi: Vec<_> = common::ROWS
        .iter()
        .filter(in_2025)
        .filter(|r| r.4 == "Hà Nội")
        .collect();
    let total_usd: Decimal = ha_noi.iter().filter(|r| capital(r.1)).map(|r| usd[r.0]).sum();
    let total_vnd_recorded: Decimal = ha_noi
        .iter()
        .filter(|r| capital(r.1) && r.6 == "VND")
        .map(|r| r.5.parse::<Decimal>().unwrap())
        .sum();
    let new_projects = ha_noi
        .iter()
        .filter(|r| r.1 == "new")
        .map(|r| r.3)
        .collect::<BTreeSet<_>>()
        .len();
    let mut by_province: BTreeMap<&str, Decimal> = BTreeMap::new();
    for row in common::ROWS.iter().filter(in_2025).filter(|r| capital(r.1)) {
        *by_province.entry(row.4).or_default() += usd[row.0];
    }
    by_province.retain(|_, v| !v.is_zero());
    let rank = 1 + by_province.values().filter(|v| **v > total_usd).count();

    let out = tempfile::tempdir().unwrap();
    let request = args("ha noi", "2025", &analytics_url, out.path());
    let mut client = authorized_client(&analytics_url).await;
    let fetched = report::fetch(&mut client, &request).await.unwrap();
    let text = report::render_text(&fetched);
    println!("{text}");

    assert!(text.contains("Hà Nội (provinces/ha-noi), 2025"), "{text}");
    let total_line = text.lines().find(|l| l.contains("Total capital")).unwrap();
    assert!(total_line.contains(&format_amount(total_usd, "USD")), "{total_line}");
    assert!(
        total_line.contains(&format_amount(total_vnd_recorded, "VND")),
        "{total_line}"
    );
    let projects_line = text.lines().find(|l| l.contains("New projects")).unwrap();
    assert!(projects_line.contains(&format!(" {new_projects} ")), "{projects_line}");
    assert!(
        text.contains(&format!(
            "Rank {rank} of {} provinces by total capital",
            by_province.len()
        )),
        "{text}"
    );
    assert!(
        text.contains("Target 2025 (fdi total capital): 50,000,000.00 USD"),
        "{text}"
    );
    // A year is charted against the years before it: 2021-2025, with 2024's event.
    let labels: Vec<&str> = fetched.series.points.iter().map(|p| p.label.as_str()).collect();
    assert_eq!(labels, ["2021", "2022", "2023", "2024", "2025"]);

    let written = report::write_charts(&fetched, out.path()).unwrap();
    let names: Vec<String> = written
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["ha-noi-2025-timeseries.svg", "ha-noi-2025-ranking.svg"]);
    for path in &written {
        let svg = std::fs::read_to_string(path).unwrap();
        assert!(svg.starts_with("<svg"), "{}", path.display());
    }
    let ranking = std::fs::read_to_string(&written[1]).unwrap();
    assert!(ranking.contains("Hà Nội"));
    assert!(ranking.contains("Hải Phòng"));

    // The command itself, as a user runs it: text, then the paths written.
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_fdi"))
        .args(["report", "--province", "Hà Nội", "--period", "2025-H1", "--analytics"])
        .arg(&analytics_url)
        .arg("--out")
        .arg(out.path())
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    println!("{stdout}");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("Total capital by month:"), "{stdout}");
    assert!(stdout.contains("ha-noi-2025-H1-ranking.svg"), "{stdout}");
}

#[tokio::test]
async fn unknown_provinces_and_bad_periods_fail_with_the_details() {
    let services = common::start().await;
    let analytics_url = services.analytics.endpoint();
    let out = tempfile::tempdir().unwrap();
    let mut client = authorized_client(&analytics_url).await;

    let error = report::fetch(&mut client, &args("Ha Nom", "2025", &analytics_url, out.path()))
        .await
        .unwrap_err();
    let error = error.downcast_ref::<ServiceError>().expect("a service error");
    assert_eq!(error.code, Code::NotFound);
    assert!(error.suggestions.iter().any(|s| s == "provinces/ha-noi"), "{error:?}");
    assert!(error.to_string().contains("try: --province ha-noi"), "{error}");

    let error = report::fetch(&mut client, &args("Hà Nội", "2025-H3", &analytics_url, out.path()))
        .await
        .unwrap_err();
    let error = error.downcast_ref::<ServiceError>().expect("a service error");
    assert_eq!(error.code, Code::InvalidArgument);
    assert_eq!(error.violations[0].0, "period.shorthand", "{error:?}");

    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_fdi"))
        .args(["report", "--province", "Ha Nom", "--period", "2025", "--analytics"])
        .arg(&analytics_url)
        .arg("--out")
        .arg(out.path())
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stderr}");
    assert!(!output.status.success());
    assert!(stderr.contains("try: --province ha-noi"), "{stderr}");
    assert_eq!(
        std::fs::read_dir(out.path()).unwrap().count(),
        0,
        "no chart for a failed report"
    );
}

/// A client as `fdi report` makes one (its key from `FDI_API_KEY`: none here, the services allow anonymous calls).
async fn authorized_client(url: &str) -> AnalyticsServiceClient<fdi_kit::access::Authorized> {
    let channel = tonic::transport::Channel::from_shared(url.to_owned())
        .unwrap()
        .connect()
        .await
        .unwrap();
    AnalyticsServiceClient::with_interceptor(channel, fdi_kit::access::Bearer::default())
}
