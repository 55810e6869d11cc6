//! `fdi export` against the real services on real PostgreSQL, run as a user
//! runs it (the `fdi` binary):
//! - a generated register imported into one system, exported as CSV and as
//!   JSON Lines, and the CSV imported into a second, fresh system: the same
//!   events (the second system's export is byte for byte the first's) and
//!   the same figures; importing the export again adds nothing to either;
//!   a failure in the middle says how many rows were written;
//! - a ranking, a time series and a summary exported and checked against
//!   the analytics RPCs' answers, exact amounts included, and the README's
//!   export examples run as written;
//! - bad flag values fail with a clear message and a non-zero exit.

mod common;

use std::{
    ffi::OsStr,
    path::{Path, PathBuf},
    process::{Output, Stdio},
    time::Duration,
};

use fdi_client::{
    demo::{DemoConfig, generate},
    interchange::{Format, RowReader, RowWriter},
};
use fdi_kit::{money::from_money, period::date_from_proto};
use fdi_proto::{
    analytics::{self as pb, analytics_service_client::AnalyticsServiceClient},
    common::{Boundaries, DateRange, Figure, Period, Scope, period},
    ingest::{self as ing, EventInput, ingest_service_client::IngestServiceClient},
};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tonic::transport::Channel;

/// Runs `fdi` with `args`; its output.
async fn fdi<S: AsRef<OsStr>>(args: impl IntoIterator<Item = S>) -> Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_fdi"))
        .args(args)
        .env_remove("FDI_API_KEY")
        .output()
        .await
        .unwrap()
}

/// Runs `fdi` and insists that it succeeds; its standard output.
async fn fdi_ok<S: AsRef<OsStr>>(args: impl IntoIterator<Item = S>) -> String {
    let output = fdi(args).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    String::from_utf8(output.stdout).unwrap()
}

/// Every recorded event (fewer than a page of 1000 here), in sequence order.
async fn recorded(ingest: &str) -> Vec<ing::Event> {
    let mut client = IngestServiceClient::connect(ingest.to_owned()).await.unwrap();
    let request = ing::ListEventsRequest {
        page_size: Some(1000),
        ..Default::default()
    };
    let page = client.list_events(request).await.unwrap().into_inner();
    assert!(page.next_page_token.is_empty(), "more events than the tests load");
    page.events
}

/// The rows of a register file.
fn register(path: &Path) -> Vec<EventInput> {
    let format = Format::from_path(path).unwrap();
    RowReader::new(std::fs::File::open(path).unwrap(), format)
        .unwrap()
        .map(|row| row.unwrap().1)
        .collect()
}

/// Writes `rows` as a register file.
fn write_register(path: &Path, rows: impl IntoIterator<Item = EventInput>) {
    let file = std::fs::File::create(path).unwrap();
    let mut writer = RowWriter::new(file, Format::from_path(path).unwrap()).unwrap();
    for row in rows {
        writer.write_row(&row).unwrap();
    }
    writer.finish().unwrap();
}

/// The number after `label` in `fdi import`'s summary (`  accepted    12`).
fn counted(summary: &str, label: &str) -> u64 {
    summary
        .lines()
        .find_map(|line| line.trim().strip_prefix(label))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|number| number.parse().ok())
        .unwrap_or_else(|| panic!("no `{label}` in {summary}"))
}

fn range(text: &str) -> Option<Period> {
    let span = fdi_kit::period::parse_shorthand(text).unwrap();
    Some(Period {
        kind: Some(period::Kind::Range(span.to_proto())),
    })
}

/// The provinces by total capital over `period`, in one answer.
async fn ranking(client: &mut AnalyticsServiceClient<Channel>, period: &str) -> pb::Ranking {
    let request = pb::GetRankingRequest {
        figure: Figure::TotalCapital.into(),
        period: range(period),
        page_size: Some(100),
        ..Default::default()
    };
    client.get_ranking(request).await.unwrap().into_inner()
}

/// Every figure of the country, and of each province ranked, as one system answers them.
async fn figures(analytics: &str) -> Vec<(String, Vec<pb::FigureValue>)> {
    let mut client = AnalyticsServiceClient::connect(analytics.to_owned()).await.unwrap();
    let ranking = ranking(&mut client, "2015-01-01..2030-12-31").await;
    assert!(ranking.entries.len() > 5, "{ranking:?}");
    let mut answers = Vec::new();
    let places = std::iter::once(String::new()).chain(ranking.entries.into_iter().map(|e| e.key));
    for place in places {
        for (currency, boundaries, scope) in [
            ("USD", Boundaries::Current, Scope::All),
            ("VND", Boundaries::AsRecorded, Scope::Fdi),
            ("USD", Boundaries::Current, Scope::Ddi),
        ] {
            for period in ["2015-01-01..2030-12-31", "2025-H1"] {
                let summary = client
                    .get_summary(pb::GetSummaryRequest {
                        provinces: if place.is_empty() { vec![] } else { vec![place.clone()] },
                        period: range(period),
                        scope: scope.into(),
                        currency_code: currency.into(),
                        boundaries: boundaries.into(),
                        ..Default::default()
                    })
                    .await
                    .unwrap()
                    .into_inner();
                answers.push((
                    format!("{place} {period} {currency} {boundaries:?} {scope:?}"),
                    summary.figures,
                ));
            }
        }
    }
    answers
}

#[tokio::test]
async fn exported_events_load_into_a_fresh_system_with_the_same_figures() {
    let (first, second) = tokio::join!(common::start(), common::start());
    let dir = tempfile::tempdir().unwrap();
    let original = dir.path().join("register.csv");
    write_register(
        &original,
        generate(DemoConfig {
            events: 900,
            seed: 7,
            ..DemoConfig::default()
        }),
    );
    let summary = fdi_ok([
        OsStr::new("import"),
        original.as_os_str(),
        OsStr::new("--endpoint"),
        OsStr::new(&first.ingest.endpoint()),
        OsStr::new("--load-id"),
        OsStr::new("original"),
    ])
    .await;
    let events = recorded(&first.ingest.endpoint()).await;
    assert_eq!(counted(&summary, "accepted"), events.len() as u64, "{summary}");
    assert_eq!(events.len(), 900, "the whole register is recorded: {summary}");

    // CSV in one go, JSON Lines in pages of seven: the same rows, one per event, with the recorded keys.
    let csv = dir.path().join("events.csv");
    let jsonl = dir.path().join("events.jsonl");
    let ingest = first.ingest.endpoint();
    fdi_ok([
        "export",
        "events",
        "--ingest",
        &ingest,
        "--output",
        csv.to_str().unwrap(),
    ])
    .await;
    let output = fdi([
        "export",
        "events",
        "--ingest",
        &ingest,
        "--page-size",
        "7",
        "-o",
        jsonl.to_str().unwrap(),
    ])
    .await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "Exported {} events to {} (jsonl).",
            events.len(),
            jsonl.display()
        )),
        "{stderr}"
    );
    let rows = register(&csv);
    assert_eq!(rows, register(&jsonl));
    let keys: Vec<&str> = rows.iter().map(|row| row.idempotency_key.as_str()).collect();
    let recorded_keys: Vec<&str> = events.iter().map(|event| event.idempotency_key.as_str()).collect();
    assert_eq!(keys, recorded_keys);

    // Into a fresh system: every row recorded, the same events (its export is the first one's, byte for
    // byte) and the same figures, whatever the currency, boundaries, scope, province or period.
    let summary = fdi_ok([
        OsStr::new("import"),
        csv.as_os_str(),
        OsStr::new("--endpoint"),
        OsStr::new(&second.ingest.endpoint()),
    ])
    .await;
    assert_eq!(counted(&summary, "accepted"), events.len() as u64, "{summary}");
    let again = dir.path().join("again.csv");
    fdi_ok([
        "export",
        "events",
        "--ingest",
        &second.ingest.endpoint(),
        "-o",
        again.to_str().unwrap(),
    ])
    .await;
    assert_eq!(std::fs::read(&again).unwrap(), std::fs::read(&csv).unwrap());
    let last = |events: &[ing::Event]| events.last().unwrap().sequence;
    let last_second = last(&recorded(&second.ingest.endpoint()).await);
    let (analytics_first, analytics_second) = (first.analytics.endpoint(), second.analytics.endpoint());
    let (new_first, new_second) = tokio::join!(
        common::new_projects_2025(&analytics_first, None, "Hà Nội", last(&events)),
        common::new_projects_2025(&analytics_second, None, "Hà Nội", last_second),
    );
    assert_eq!(new_first, new_second);
    let (figures_first, figures_second) = tokio::join!(figures(&analytics_first), figures(&analytics_second));
    for ((asked, one), (_, other)) in figures_first.iter().zip(&figures_second) {
        assert_eq!(one, other, "{asked}");
    }
    assert_eq!(figures_first.len(), figures_second.len());

    // Loaded again where the events are recorded: nothing added. The second system recorded them from
    // these very rows, so every one is a duplicate. The first recorded them from the generated rows, most
    // of which spelt a place otherwise (`Bắc Giang`, not `bac-giang`): the same key with other content is
    // refused as a conflict, and only the rows written as the export writes them are duplicates.
    let second_again = import_again(&csv, &second.ingest.endpoint(), "again-second", events.len()).await;
    assert_eq!(second_again, (events.len() as u64, 0));
    let (duplicates, conflicts) = import_again(&csv, &first.ingest.endpoint(), "again-first", events.len()).await;
    assert_eq!(duplicates + conflicts, events.len() as u64);
    assert!(conflicts > 0, "the generated register spells places in many ways");

    stopped_in_the_middle(first, events.len()).await;
}

/// Imports `file` again under a new load id, checks it added nothing to the `events` recorded; its duplicates
/// and rejections.
async fn import_again(file: &Path, ingest: &str, load_id: &str, events: usize) -> (u64, u64) {
    let summary = fdi_ok([
        "import",
        file.to_str().unwrap(),
        "--endpoint",
        ingest,
        "--load-id",
        load_id,
    ])
    .await;
    assert_eq!(counted(&summary, "accepted"), 0, "{summary}");
    assert_eq!(recorded(ingest).await.len(), events);
    (counted(&summary, "duplicates"), counted(&summary, "rejected"))
}

/// An export whose service stops in the middle exits non-zero, keeps the rows it wrote and says how many, and
/// how to fetch the rest. The test reads nothing until the service has stopped: with the pipe full, the export
/// waits before its next call, so the service stops in the middle whatever the machine's speed.
async fn stopped_in_the_middle(system: common::Services, events: usize) {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_fdi"))
        .args([
            "export",
            "events",
            "--page-size",
            "1",
            "--ingest",
            &system.ingest.endpoint(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut header = String::new();
    stdout.read_line(&mut header).await.unwrap();
    assert!(header.starts_with("idempotency_key,kind,"), "{header}");
    tokio::time::sleep(Duration::from_secs(2)).await;
    system.ingest.stop().await.unwrap();
    let mut rows = String::new();
    stdout.read_to_string(&mut rows).await.unwrap();
    let output = child.wait_with_output().await.unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stderr}");
    assert!(!output.status.success());
    let written = rows.lines().count();
    assert!(written > 0 && written < events, "{written} of {events}");
    assert!(
        stderr.contains(&format!(
            "The export is incomplete: {written} events were written to standard output before it stopped"
        )),
        "{stderr}"
    );
    assert!(stderr.contains("ingest ListEvents answered Unavailable"), "{stderr}");
    assert!(stderr.contains("--after-sequence"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// The records of a CSV file, header first.
fn csv_records(path: &Path) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_path(path)
        .unwrap()
        .records()
        .map(|record| record.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

/// A figure's value as the export writes it: the count, or the exact converted amount and its currency.
fn value_cells(value: Option<&pb::FigureValue>) -> (String, String) {
    let value = value.unwrap();
    match &value.converted {
        Some(money) => (
            from_money(money).unwrap().normalize().to_string(),
            money.currency_code.clone(),
        ),
        None => (value.count.to_string(), String::new()),
    }
}

fn days(range: Option<&DateRange>) -> (String, String) {
    let range = range.unwrap();
    let day = |date: Option<&fdi_proto::Date>| date_from_proto(date.unwrap()).unwrap().to_string();
    (day(range.start.as_ref()), day(range.end.as_ref()))
}

#[tokio::test]
async fn figure_tables_match_the_rpc_answers() {
    let system = common::start().await;
    let (ingest, analytics) = (system.ingest.endpoint(), system.analytics.endpoint());
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("rows.jsonl");
    write_register(&file, common::ROWS.iter().map(common::event));
    let summary = fdi_ok(["import", file.to_str().unwrap(), "--endpoint", &ingest]).await;
    assert_eq!(counted(&summary, "accepted"), common::ROWS.len() as u64, "{summary}");
    let last = recorded(&ingest).await.last().unwrap().sequence;
    assert_eq!(common::new_projects_2025(&analytics, None, "Hà Nội", last).await, 2);
    let mut client = AnalyticsServiceClient::connect(analytics.clone()).await.unwrap();

    // A ranking a page at a time, against the whole ranking in one answer.
    let ranking_csv = dir.path().join("ranking.csv");
    let output = fdi([
        "export",
        "ranking",
        "--figure",
        "total-capital",
        "--period",
        "2025",
        "--page-size",
        "1",
        "--analytics",
        &analytics,
        "-o",
        ranking_csv.to_str().unwrap(),
    ])
    .await;
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let ranking = ranking(&mut client, "2025").await;
    let records = csv_records(&ranking_csv);
    assert_eq!(
        records[0],
        ["rank", "key", "name", "value", "currency", "as_recorded", "share"]
    );
    assert_eq!(records.len(), 1 + ranking.entries.len());
    assert_eq!(ranking.entries.len(), 3);
    for (record, entry) in records[1..].iter().zip(&ranking.entries) {
        let (value, currency) = value_cells(entry.value.as_ref());
        assert_eq!(record[0], entry.rank.to_string());
        assert_eq!(record[1], entry.key);
        assert_eq!(record[2], entry.display_name);
        assert_eq!((&record[3], &record[4]), (&value, &currency));
        assert_eq!(record[6].parse::<f64>().unwrap(), entry.share);
    }
    // The dollars as recorded stay exact to the cent: 12,000,000 + 3,500,000 + 1,250,000.50.
    let ha_noi = records.iter().find(|r| r[1] == "provinces/ha-noi").unwrap();
    assert_eq!(ha_noi[4], "USD");
    assert!(ha_noi[5].contains("16750000.5 USD"), "{ha_noi:?}");
    assert!(ha_noi[5].contains("50000000000 VND"), "{ha_noi:?}");

    // A time series in dong by quarter, against GetTimeSeries.
    let series_csv = dir.path().join("series.csv");
    fdi_ok([
        "export",
        "timeseries",
        "--figure",
        "new_capital",
        "--period",
        "2024-01-01..2025-12-31",
        "--granularity",
        "quarter",
        "--province",
        "ha noi",
        "--currency",
        "vnd",
        "--analytics",
        &analytics,
        "--output",
        series_csv.to_str().unwrap(),
    ])
    .await;
    let series = client
        .get_time_series(pb::GetTimeSeriesRequest {
            figure: Figure::NewCapital.into(),
            granularity: pb::Granularity::Quarter.into(),
            period: range("2024-01-01..2025-12-31"),
            provinces: vec!["ha noi".into()],
            currency_code: "VND".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let records = csv_records(&series_csv);
    assert_eq!(
        records[0].join(","),
        "label,period_start,period_end,value,currency,as_recorded,year_on_year"
    );
    assert_eq!(records.len(), 1 + 8, "eight quarters");
    for (record, point) in records[1..].iter().zip(&series.points) {
        let (start, end) = days(point.period.as_ref());
        let (value, currency) = value_cells(point.value.as_ref());
        assert_eq!(record[..5], [point.label.clone(), start, end, value, currency]);
        assert_eq!(record[6], point.year_on_year.map(|g| g.to_string()).unwrap_or_default());
    }
    let q1 = records.iter().find(|r| r[0] == "2025-Q1").unwrap();
    assert_eq!(q1[4], "VND");
    assert!(
        q1[5].contains("50000000000 VND") && q1[5].contains("12000000 USD"),
        "{q1:?}"
    );

    // Every figure as JSON Lines on standard output, against GetSummary.
    let stdout = fdi_ok([
        "export",
        "summary",
        "--province",
        "Hà Nội",
        "--period",
        "2025",
        "--format",
        "jsonl",
        "--analytics",
        &analytics,
    ])
    .await;
    let summary = client
        .get_summary(pb::GetSummaryRequest {
            provinces: vec!["Hà Nội".into()],
            period: range("2025"),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let lines: Vec<serde_json::Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 9);
    for (line, value) in lines.iter().zip(&summary.figures) {
        let (amount, currency) = value_cells(Some(value));
        assert_eq!(line["figure"], fdi_kit::figures::name(value.figure()).unwrap());
        assert_eq!(
            (line["value"].as_str().unwrap(), line["currency"].as_str().unwrap()),
            (amount.as_str(), currency.as_str())
        );
        assert_eq!(line["provinces"], "provinces/ha-noi");
        assert_eq!(line["period_end"], "2025-12-31");
    }

    // A province the catalogue does not know: the service's suggestions, a non-zero exit, no file.
    let refused = dir.path().join("refused.csv");
    let output = fdi([
        "export",
        "summary",
        "--province",
        "Ha Nom",
        "--period",
        "2025",
        "--analytics",
        &analytics,
        "-o",
        refused.to_str().unwrap(),
    ])
    .await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("analytics GetSummary answered NotFound"), "{stderr}");
    assert!(stderr.contains("try: --province ha-noi"), "{stderr}");
    assert!(!refused.exists());

    readme_examples(&ingest, &analytics).await;
}

/// Every `fdi export` command of the README's "Exporting figures", run as written (in `bash`, in a fresh
/// folder) with `fdi` the binary under test and the services' addresses in the environment.
async fn readme_examples(ingest: &str, analytics: &str) {
    let readme = include_str!("../../README.md");
    let section = readme
        .split("\n## Exporting figures\n")
        .nth(1)
        .expect("README has a section `## Exporting figures`");
    let section = section.split("\n## ").next().unwrap();
    let commands: Vec<&str> = section.lines().filter(|line| line.starts_with("fdi export ")).collect();
    assert!(commands.len() >= 6, "{commands:?}");
    let dir = tempfile::tempdir().unwrap();
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_fdi"));
    for command in commands {
        let output = tokio::process::Command::new("bash")
            .args(["-c", &format!("fdi() {{ \"$FDI_BIN\" \"$@\"; }}; {command}")])
            .current_dir(dir.path())
            .env("FDI_BIN", &bin)
            .env("FDI_INGEST_URL", ingest)
            .env("FDI_ANALYTICS_URL", analytics)
            .env_remove("FDI_API_KEY")
            .output()
            .await
            .unwrap();
        assert!(
            output.status.success(),
            "{command}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    assert!(
        std::fs::read_dir(dir.path()).unwrap().count() >= 5,
        "the examples write their files"
    );
}

#[tokio::test]
async fn bad_flag_values_fail_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let spreadsheet = dir.path().join("events.xlsx");
    let unreachable = format!("http://127.0.0.1:{}", common::free_port());
    let cases: [(Vec<&str>, &str); 7] = [
        (
            vec!["summary", "--period", "2025-H3"],
            "`2025-H3` is not a period; use 2025, 2025-H1",
        ),
        (
            vec!["events", "--kind", "merger"],
            "`merger` is not an event kind; use one of new, adjustment, share_purchase",
        ),
        (
            vec!["ranking", "--figure", "profit", "--period", "2025"],
            "`profit` is not a figure; use one of new_projects",
        ),
        (vec!["events", "--page-size", "5000"], "5000 is not in 1..=1000"),
        (
            vec!["timeseries", "--period", "2025", "--granularity", "week"],
            "invalid value 'week'",
        ),
        (
            vec!["events", "--ingest", &unreachable, "-o", spreadsheet.to_str().unwrap()],
            "say --format csv or --format jsonl",
        ),
        (
            vec!["events", "--ingest", &unreachable],
            "cannot reach the ingest service at http://127.0.0.1:",
        ),
    ];
    for (args, expected) in cases {
        let output = fdi(std::iter::once("export").chain(args.iter().copied())).await;
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{args:?} succeeded");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(output.stdout.is_empty(), "{args:?} wrote rows");
    }
    assert!(!spreadsheet.exists());
}
