//! Every analytics RPC checked against figures computed independently, in
//! the test, from the same register loaded through ingest: merged provinces,
//! currency conversion, capital reductions, terminations, re-issued
//! certificates; plus freshness, exactly-once across a restart of the
//! analytics service, and rebuild equality.

mod common;

use std::{collections::BTreeMap, collections::BTreeSet, time::Duration};

use chrono::{Datelike, NaiveDate};
use fdi_kit::money::from_money;
use fdi_proto::{
    analytics::{self as pb, analytics_service_client::AnalyticsServiceClient},
    common::{Boundaries, DateRange, Figure, Period, Scope, period},
    ingest::{self as ing, EventInput, ingest_service_client::IngestServiceClient},
};
use fdi_testkit::{ServiceGuard, settings::database};
use rust_decimal::Decimal;
use tonic::{Code, transport::Channel};

type Analytics = AnalyticsServiceClient<Channel>;
type Ingest = IngestServiceClient<Channel>;

struct System {
    _catalogue: ServiceGuard,
    _ingest: ServiceGuard,
    analytics: ServiceGuard,
    catalogue_url: String,
    database_url: String,
    ingest: Ingest,
}

async fn start() -> System {
    let common::Services {
        catalogue,
        ingest,
        analytics,
        database_url,
    } = common::start(|_| {}).await;
    let ingest_client = IngestServiceClient::connect(ingest.endpoint()).await.unwrap();
    System {
        catalogue_url: catalogue.endpoint(),
        _catalogue: catalogue,
        _ingest: ingest,
        analytics,
        database_url,
        ingest: ingest_client,
    }
}

/// The register: every kind, merged provinces, USD/VND/EUR, reductions, terminations, a re-issued certificate.
fn register() -> Vec<EventInput> {
    const PLACES: [&str; 6] = ["Bắc Giang", "Bắc Ninh", "Hải Dương", "Hải Phòng", "Hà Nội", "Đồng Nai"];
    let mut rows = Vec::new();
    for i in 0..240u32 {
        let kind = [
            "new",
            "adjustment",
            "share_purchase",
            "disbursement",
            "new",
            "termination",
        ][(i % 6) as usize];
        let domestic = i % 4 == 0;
        let euro = i % 23 == 0 && !domestic;
        let (country, currency, amount) = if domestic {
            ("VN", "VND", format!("{}", 5_000_000_000u64 + u64::from(i) * 1_000_000))
        } else if euro {
            ("DE", "EUR", format!("{}.50", 1_000_000 + i * 100))
        } else {
            (
                ["KR", "JP", "SG"][(i % 3) as usize],
                "USD",
                format!("{}", 2_000_000 + i * 10_000),
            )
        };
        let amount = match kind {
            "adjustment" if i % 7 == 0 => format!("-{amount}"),
            "termination" if i % 2 == 0 => String::new(),
            _ => amount,
        };
        let month = i % 22; // 2024-01 .. 2025-10
        let date = format!("{}-{:02}-{:02}", 2024 + month / 12, month % 12 + 1, i % 27 + 1);
        rows.push(EventInput {
            idempotency_key: format!("r-{i}"),
            kind: kind.into(),
            event_date: date,
            project_ref: format!("P-{}", i / 2),
            investor: format!("Investor {} Co., Ltd", i % 9),
            investor_country: country.into(),
            province: PLACES[(i % 6) as usize].into(),
            sector: ["C", "L", "F"][(i % 3) as usize].into(),
            currency: if amount.is_empty() {
                String::new()
            } else {
                currency.into()
            },
            amount,
            ..Default::default()
        });
    }
    // A re-issued certificate: two `new` events of one project, in two months of 2025.
    for (key, date) in [("reissue-1", "2025-02-10"), ("reissue-2", "2025-05-20")] {
        rows.push(EventInput {
            idempotency_key: key.into(),
            kind: "new".into(),
            event_date: date.into(),
            project_ref: "P-REISSUED".into(),
            investor: "Investor 1 Co., Ltd".into(),
            investor_country: "KR".into(),
            province: "Bắc Giang".into(),
            amount: "1000000".into(),
            currency: "USD".into(),
            ..Default::default()
        });
    }
    rows
}

/// An event as the test computes figures from it.
#[derive(Debug, Clone)]
struct Recorded {
    kind: String,
    date: NaiveDate,
    project: String,
    province: String,
    current: String,
    country: String,
    sector: String,
    zone: String,
    fdi: bool,
    estimated: bool,
    amount: Option<(String, Decimal)>,
    usd: Decimal,
    vnd: Decimal,
}

async fn load(ingest: &mut Ingest, rows: Vec<EventInput>) {
    let mut rates = ingest.clone();
    rates
        .create_exchange_rates(ing::CreateExchangeRatesRequest {
            rates: ["2024", "2025"]
                .iter()
                .map(|year| ing::ExchangeRate {
                    currency_code: "EUR".into(),
                    period: (*year).into(),
                    vnd_per_unit: "27500".into(),
                    source: "test".into(),
                    ..Default::default()
                })
                .collect(),
        })
        .await
        .unwrap();
    for row in rows {
        let response = ingest
            .submit_event(ing::SubmitEventRequest { event: Some(row) })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(response.outcome(), ing::Outcome::Accepted, "{response:?}");
    }
}

async fn recorded(ingest: &mut Ingest) -> (Vec<Recorded>, i64) {
    let mut events = Vec::new();
    let mut token = String::new();
    loop {
        let page = ingest
            .list_events(ing::ListEventsRequest {
                page_size: Some(1000),
                page_token: token,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        events.extend(page.events);
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    let last = events.iter().map(|e| e.sequence).max().unwrap_or_default();
    let code = |name: &str| name.trim_start_matches("provinces/").to_owned();
    let rows = events
        .into_iter()
        .map(|e| Recorded {
            kind: match e.kind() {
                fdi_proto::common::EventKind::New => "new",
                fdi_proto::common::EventKind::Adjustment => "adjustment",
                fdi_proto::common::EventKind::SharePurchase => "share_purchase",
                fdi_proto::common::EventKind::Disbursement => "disbursement",
                _ => "termination",
            }
            .into(),
            date: fdi_kit::period::date_from_proto(e.event_date.as_ref().unwrap()).unwrap(),
            project: e.project_ref.clone(),
            province: code(&e.province),
            current: code(&e.current_province),
            country: e.investor_country.clone(),
            sector: e.sector.clone(),
            zone: e.zone.clone(),
            fdi: e.scope() == Scope::Fdi,
            estimated: e.status() == ing::EventStatus::Estimated,
            amount: e
                .amount
                .as_ref()
                .map(|m| (m.currency_code.clone(), from_money(m).unwrap())),
            usd: e
                .amount_usd
                .as_ref()
                .map(|m| from_money(m).unwrap())
                .unwrap_or_default(),
            vnd: e
                .amount_vnd
                .as_ref()
                .map(|m| from_money(m).unwrap())
                .unwrap_or_default(),
        })
        .collect();
    (rows, last)
}

/// The figures of the specification, computed directly from events.
#[derive(Debug, PartialEq)]
struct Expected {
    counts: BTreeMap<Figure, i64>,
    money: BTreeMap<Figure, Decimal>,
    by_currency: BTreeMap<Figure, BTreeMap<String, Decimal>>,
}

fn expected(events: &[&Recorded], currency: &str) -> Expected {
    let converted = |e: &Recorded| if currency == "VND" { e.vnd } else { e.usd };
    fn of<'a>(events: &'a [&'a Recorded], kinds: &'a [&'a str]) -> impl Iterator<Item = &'a &'a Recorded> {
        events.iter().filter(move |e| kinds.contains(&e.kind.as_str()))
    }
    let distinct = |kind: &str| {
        of(events, &[kind])
            .map(|e| e.project.clone())
            .collect::<BTreeSet<_>>()
            .len() as i64
    };
    let mut counts = BTreeMap::new();
    counts.insert(Figure::NewProjects, distinct("new"));
    counts.insert(Figure::AdjustedProjects, of(events, &["adjustment"]).count() as i64);
    counts.insert(Figure::SharePurchases, of(events, &["share_purchase"]).count() as i64);
    counts.insert(Figure::TerminatedProjects, distinct("termination"));
    let mut money = BTreeMap::new();
    let mut by_currency = BTreeMap::new();
    for (figure, kinds) in [
        (Figure::NewCapital, &["new"][..]),
        (Figure::AddedCapital, &["adjustment"][..]),
        (Figure::SharePurchaseCapital, &["share_purchase"][..]),
        (Figure::TotalCapital, &["new", "adjustment", "share_purchase"][..]),
        (Figure::RealisedCapital, &["disbursement"][..]),
    ] {
        money.insert(figure, of(events, kinds).map(|e| converted(e)).sum());
        let mut sums: BTreeMap<String, Decimal> = BTreeMap::new();
        for e in of(events, kinds) {
            if let Some((code, amount)) = &e.amount {
                *sums.entry(code.clone()).or_default() += amount;
            }
        }
        by_currency.insert(figure, sums);
    }
    Expected {
        counts,
        money,
        by_currency,
    }
}

fn actual(figures: &[pb::FigureValue]) -> Expected {
    let mut result = Expected {
        counts: BTreeMap::new(),
        money: BTreeMap::new(),
        by_currency: BTreeMap::new(),
    };
    for value in figures {
        let figure = value.figure();
        if let Some(money) = &value.converted {
            result.money.insert(figure, from_money(money).unwrap());
            result.by_currency.insert(
                figure,
                value
                    .by_currency
                    .iter()
                    .map(|m| (m.currency_code.clone(), from_money(m).unwrap()))
                    .collect(),
            );
        } else {
            result.counts.insert(figure, value.count);
        }
    }
    result
}

fn range(start: NaiveDate, end: NaiveDate) -> Option<Period> {
    Some(Period {
        kind: Some(period::Kind::Range(DateRange {
            start: Some(fdi_kit::period::date_to_proto(start)),
            end: Some(fdi_kit::period::date_to_proto(end)),
        })),
    })
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

async fn wait_caught_up(client: &mut Analytics, sequence: i64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        // Whole months, as the queries that follow ask (the in-memory cube answers them).
        let summary = client
            .get_summary(pb::GetSummaryRequest {
                period: range(day(2024, 1, 1), day(2025, 12, 31)),
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
            "analytics did not catch up to {sequence}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn every_figure_matches_the_register() {
    let mut system = start().await;
    load(&mut system.ingest, register()).await;
    let (events, last) = recorded(&mut system.ingest).await;
    let mut client = AnalyticsServiceClient::connect(system.analytics.endpoint())
        .await
        .unwrap();
    wait_caught_up(&mut client, last).await;

    // Summaries: the whole country, today's Bắc Ninh (with Bắc Giang) over ragged dates, Bắc Giang as recorded,
    // in VND, foreign only.
    type Selects = Box<dyn Fn(&Recorded) -> bool>;
    let cases: Vec<(&str, pb::GetSummaryRequest, Selects, &str)> = vec![
        (
            "country, 2025-H1",
            pb::GetSummaryRequest {
                period: Some(Period {
                    kind: Some(period::Kind::Shorthand("2025-H1".into())),
                }),
                ..Default::default()
            },
            Box::new(|e: &Recorded| e.date >= day(2025, 1, 1) && e.date <= day(2025, 6, 30)),
            "USD",
        ),
        (
            "Bắc Ninh today, ragged dates",
            pb::GetSummaryRequest {
                provinces: vec!["Bắc Ninh".into()],
                period: range(day(2024, 2, 14), day(2025, 5, 20)),
                ..Default::default()
            },
            Box::new(|e: &Recorded| {
                e.current == "bac-ninh" && e.date >= day(2024, 2, 14) && e.date <= day(2025, 5, 20)
            }),
            "USD",
        ),
        (
            "Bắc Giang as recorded, VND",
            pb::GetSummaryRequest {
                provinces: vec!["bac giang".into()],
                boundaries: Boundaries::AsRecorded.into(),
                period: Some(Period {
                    kind: Some(period::Kind::Shorthand("2025".into())),
                }),
                currency_code: "VND".into(),
                ..Default::default()
            },
            Box::new(|e: &Recorded| e.province == "bac-giang" && e.date.format("%Y").to_string() == "2025"),
            "VND",
        ),
        (
            "FDI into Hải Phòng (with Hải Dương), first eight months of 2025",
            pb::GetSummaryRequest {
                provinces: vec!["Hai Duong".into(), "Hải Phòng".into()],
                scope: Scope::Fdi.into(),
                period: Some(Period {
                    kind: Some(period::Kind::Shorthand("2025-M8".into())),
                }),
                ..Default::default()
            },
            Box::new(|e: &Recorded| {
                e.current == "hai-phong" && e.fdi && e.date >= day(2025, 1, 1) && e.date <= day(2025, 8, 31)
            }),
            "USD",
        ),
    ];
    for (name, request, select, currency) in cases {
        let summary = client.get_summary(request).await.unwrap().into_inner();
        let chosen: Vec<&Recorded> = events.iter().filter(|e| select(e)).collect();
        assert!(!chosen.is_empty(), "{name}: the case selects events");
        assert_eq!(actual(&summary.figures), expected(&chosen, currency), "{name}");
    }

    // The re-issued certificate counts once.
    let reissued = client
        .get_summary(pb::GetSummaryRequest {
            provinces: vec!["Bắc Giang".into()],
            boundaries: Boundaries::AsRecorded.into(),
            period: range(day(2025, 2, 1), day(2025, 5, 31)),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let chosen: Vec<&Recorded> = events
        .iter()
        .filter(|e| e.province == "bac-giang" && e.date >= day(2025, 2, 1) && e.date <= day(2025, 5, 31))
        .collect();
    assert!(chosen.iter().filter(|e| e.project == "P-REISSUED").count() == 2);
    assert_eq!(actual(&reissued.figures), expected(&chosen, "USD"));

    // Ranking of today's provinces by total capital in 2025, with shares of the national total.
    let ranking = client
        .get_ranking(pb::GetRankingRequest {
            figure: Figure::TotalCapital.into(),
            period: Some(Period {
                kind: Some(period::Kind::Shorthand("2025".into())),
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let in_2025: Vec<&Recorded> = events
        .iter()
        .filter(|e| e.date.format("%Y").to_string() == "2025")
        .collect();
    let mut by_province: BTreeMap<String, Decimal> = BTreeMap::new();
    for e in &in_2025 {
        if matches!(e.kind.as_str(), "new" | "adjustment" | "share_purchase") {
            *by_province.entry(e.current.clone()).or_default() += e.usd;
        }
    }
    let mut order: Vec<(String, Decimal)> = by_province.into_iter().collect();
    order.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let got: Vec<(String, Decimal)> = ranking
        .entries
        .iter()
        .map(|e| {
            (
                e.key.trim_start_matches("provinces/").to_owned(),
                from_money(e.value.as_ref().unwrap().converted.as_ref().unwrap()).unwrap(),
            )
        })
        .collect();
    assert_eq!(got, order);
    assert_eq!(ranking.entries[0].rank, 1);
    assert_eq!(ranking.entries[0].display_name, "Bắc Ninh");
    let share_sum: f64 = ranking.entries.iter().map(|e| e.share).sum();
    assert!((share_sum - 1.0).abs() < 1e-9);

    // Breakdown by home country.
    let breakdown = client
        .get_breakdown(pb::GetBreakdownRequest {
            figure: Figure::NewProjects.into(),
            by: pb::Dimension::HomeCountry.into(),
            period: Some(Period {
                kind: Some(period::Kind::Shorthand("2024".into())),
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let mut projects: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for e in events
        .iter()
        .filter(|e| e.kind == "new" && e.date.format("%Y").to_string() == "2024")
    {
        projects.entry(e.country.clone()).or_default().insert(e.project.clone());
    }
    let got: BTreeMap<String, i64> = breakdown
        .entries
        .iter()
        .map(|e| (e.key.clone(), e.value.as_ref().unwrap().count))
        .collect();
    let want: BTreeMap<String, i64> = projects.into_iter().map(|(c, p)| (c, p.len() as i64)).collect();
    assert_eq!(got, want);

    // Monthly time series with year-on-year growth.
    let series = client
        .get_time_series(pb::GetTimeSeriesRequest {
            figure: Figure::RealisedCapital.into(),
            granularity: pb::Granularity::Month.into(),
            period: Some(Period {
                kind: Some(period::Kind::Shorthand("2025-01-01..2025-10-31".into())),
            }),
            provinces: vec!["Bắc Ninh".into()],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(series.points.len(), 10);
    let monthly = |year: i32, month: u32| -> Decimal {
        events
            .iter()
            .filter(|e| {
                e.current == "bac-ninh"
                    && e.kind == "disbursement"
                    && e.date.format("%Y-%m").to_string() == format!("{year}-{month:02}")
            })
            .map(|e| e.usd)
            .sum()
    };
    for (i, point) in series.points.iter().enumerate() {
        let month = u32::try_from(i + 1).unwrap();
        assert_eq!(point.label, format!("2025-{month:02}"));
        let value = from_money(point.value.as_ref().unwrap().converted.as_ref().unwrap()).unwrap();
        assert_eq!(value, monthly(2025, month), "{}", point.label);
        let before = monthly(2024, month);
        match point.year_on_year {
            Some(growth) if !before.is_zero() => {
                let expected = (value / before).to_string().parse::<f64>().unwrap() - 1.0;
                assert!(
                    (growth - expected).abs() < 1e-9,
                    "{}: {growth} vs {expected}",
                    point.label
                );
            }
            None => assert!(before.is_zero(), "{}: growth missing", point.label),
            Some(growth) => panic!("{}: growth {growth} from zero", point.label),
        }
    }

    // Target progress: a straight-line projection of the year end.
    let mut ingest = system.ingest.clone();
    ingest
        .set_target(ing::SetTargetRequest {
            target: Some(ing::Target {
                province: "Bắc Ninh".into(),
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
    let progress = client
        .get_target_progress(pb::GetTargetProgressRequest {
            province: "provinces/bac-ninh".into(),
            year: 2025,
            as_of: Some(fdi_kit::period::date_to_proto(day(2025, 6, 30))),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let achieved: Decimal = events
        .iter()
        .filter(|e| e.current == "bac-ninh" && e.fdi && e.date >= day(2025, 1, 1) && e.date <= day(2025, 6, 30))
        .filter(|e| matches!(e.kind.as_str(), "new" | "adjustment" | "share_purchase"))
        .map(|e| e.usd)
        .sum();
    let got = from_money(progress.achieved.as_ref().unwrap().converted.as_ref().unwrap()).unwrap();
    assert_eq!(got, achieved);
    let fraction: f64 = (achieved / Decimal::from(50_000_000)).to_string().parse().unwrap();
    assert!((progress.fraction - fraction).abs() < 1e-9);
    assert!(
        (progress.projected_fraction - fraction * 365.0 / 181.0).abs() < 1e-6,
        "{progress:?}"
    );

    // Reconciliation: nothing reported yet, then a news article about the same province and period.
    let reconcile = |client: &mut Analytics| {
        let mut client = client.clone();
        async move {
            client
                .reconcile(pb::ReconcileRequest {
                    province: "Bắc Ninh".into(),
                    period: Some(Period {
                        kind: Some(period::Kind::Shorthand("2025-H1".into())),
                    }),
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner()
        }
    };
    let before = reconcile(&mut client).await;
    assert!(!before.reported_available);
    // Before the 2025 reform a report's "Bắc Ninh" is the pre-merger unit: the computed side counts what was recorded there.
    let computed: Vec<pb::FigureValue> = before.lines.iter().filter_map(|l| l.computed.clone()).collect();
    let chosen: Vec<&Recorded> = events
        .iter()
        .filter(|e| e.province == "bac-ninh" && e.date >= day(2025, 1, 1) && e.date <= day(2025, 6, 30))
        .collect();
    assert_eq!(actual(&computed), expected(&chosen, "USD"));

    let article = "In the first six months of 2025, Bac Ninh's industrial parks attracted 45 new projects with a total newly registered capital of 1.2 billion USD, the provincial industrial park management board said.";
    ingest
        .ingest_document(ing::IngestDocumentRequest {
            text: article.into(),
            url: "https://example.org/bac-ninh-2025-h1".into(),
            published: Some(fdi_proto::Date {
                year: 2025,
                month: 7,
                day: 10,
            }),
            ..Default::default()
        })
        .await
        .unwrap();
    let after = reconcile(&mut client).await;
    assert!(after.reported_available);
    let line = after.lines.iter().find(|l| l.figure() == Figure::NewCapital).unwrap();
    assert_eq!(
        line.reported
            .as_ref()
            .and_then(|r| r.converted.as_ref())
            .map(|m| m.units),
        Some(1_200_000_000)
    );
    assert_eq!(line.sources.len(), 1);
    let computed_usd: f64 = expected(&chosen, "USD").money[&Figure::NewCapital]
        .to_string()
        .parse()
        .unwrap();
    assert!((line.gap.unwrap() - (1.2e9 - computed_usd)).abs() < 1.0, "{line:?}");
    let projects = after.lines.iter().find(|l| l.figure() == Figure::NewProjects).unwrap();
    assert_eq!(projects.reported.as_ref().map(|r| r.count), Some(45));
    assert_eq!(
        projects.gap,
        Some(45.0 - expected(&chosen, "USD").counts[&Figure::NewProjects] as f64)
    );
}

#[tokio::test]
async fn bad_requests_are_refused_clearly() {
    let system = start().await;
    let mut client = AnalyticsServiceClient::connect(system.analytics.endpoint())
        .await
        .unwrap();
    let inverted = client
        .get_summary(pb::GetSummaryRequest {
            period: range(day(2025, 5, 1), day(2025, 1, 1)),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(inverted.code(), Code::InvalidArgument);
    let missing = client.get_summary(pb::GetSummaryRequest::default()).await.unwrap_err();
    assert_eq!(missing.code(), Code::InvalidArgument);
    let unknown = client
        .get_summary(pb::GetSummaryRequest {
            provinces: vec!["Atlantis".into()],
            period: Some(Period {
                kind: Some(period::Kind::Shorthand("2025".into())),
            }),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);
    let typo = client
        .get_summary(pb::GetSummaryRequest {
            provinces: vec!["Bac Ngin".into()],
            period: Some(Period {
                kind: Some(period::Kind::Shorthand("2025".into())),
            }),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(
        typo.message().contains("provinces/bac-ninh"),
        "suggests the nearest: {}",
        typo.message()
    );
    let currency = client
        .get_summary(pb::GetSummaryRequest {
            currency_code: "EUR".into(),
            period: Some(Period {
                kind: Some(period::Kind::Shorthand("2025".into())),
            }),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(currency.code(), Code::InvalidArgument);
    let huge = client
        .get_ranking(pb::GetRankingRequest {
            figure: Figure::NewCapital.into(),
            page_size: Some(1_000_000),
            period: Some(Period {
                kind: Some(period::Kind::Shorthand("2025".into())),
            }),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(huge.code(), Code::InvalidArgument);
    let no_figure = client
        .get_ranking(pb::GetRankingRequest {
            period: Some(Period {
                kind: Some(period::Kind::Shorthand("2025".into())),
            }),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(no_figure.code(), Code::InvalidArgument);
    let negative_resume = client
        .watch(pb::WatchRequest {
            target_crossings: true,
            resume_after_sequence: -1,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(negative_resume.code(), Code::InvalidArgument);
    let no_target = client
        .get_target_progress(pb::GetTargetProgressRequest {
            province: "Hà Nội".into(),
            year: 2025,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(no_target.code(), Code::NotFound);
}

#[tokio::test]
async fn fresh_within_a_second_watched_and_exactly_once_across_a_restart_and_a_rebuild() {
    let mut system = start().await;
    let mut client = AnalyticsServiceClient::connect(system.analytics.endpoint())
        .await
        .unwrap();
    let mut watch = client
        .watch(pb::WatchRequest {
            threshold: Some(fdi_kit::money::to_money(
                rust_decimal::Decimal::from(100_000_000_i64),
                "USD",
            )),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();

    // Freshness: an acknowledged event shows in a summary.
    let mut big = register()[0].clone();
    big.idempotency_key = "big-1".into();
    big.amount = "250000000".into();
    big.currency = "USD".into();
    big.investor_country = "SG".into();
    big.event_date = "2025-03-03".into();
    let accepted = system
        .ingest
        .submit_event(ing::SubmitEventRequest { event: Some(big) })
        .await
        .unwrap()
        .into_inner();
    let sequence = accepted.event.unwrap().sequence;
    let started = std::time::Instant::now();
    wait_caught_up(&mut client, sequence).await;
    eprintln!("freshness: visible after {:?}", started.elapsed());
    let alert = tokio::time::timeout(Duration::from_secs(10), watch.message())
        .await
        .expect("an alert")
        .unwrap()
        .unwrap();
    assert_eq!(alert.kind(), pb::AlertKind::LargeEvent);
    assert_eq!(alert.event, format!("events/{sequence}"));

    // Exactly once across a restart: stop analytics in the middle of the load, start it again.
    let rows = register();
    let (first, second) = rows.split_at(rows.len() / 2);
    load(&mut system.ingest, first.to_vec()).await;
    system.analytics.stop().await.unwrap();
    let mut ingest = system.ingest.clone();
    for row in second {
        ingest
            .submit_event(ing::SubmitEventRequest {
                event: Some(row.clone()),
            })
            .await
            .unwrap();
    }
    let restarted = common::start_analytics(&system.database_url, &system.catalogue_url, |_| {}).await;
    let mut client = AnalyticsServiceClient::connect(restarted.endpoint()).await.unwrap();
    let (events, last) = recorded(&mut system.ingest).await;
    wait_caught_up(&mut client, last).await;
    let whole = || pb::GetSummaryRequest {
        period: Some(Period {
            kind: Some(period::Kind::Shorthand("2024-01-01..2025-12-31".into())),
        }),
        ..Default::default()
    };
    let before = client.get_summary(whole()).await.unwrap().into_inner();
    assert_eq!(
        actual(&before.figures),
        expected(&events.iter().collect::<Vec<_>>(), "USD")
    );

    // Rebuild from scratch: identical figures.
    let pool = fdi_analytics::connect(&database(&system.database_url)).await.unwrap();
    fdi_analytics::consumer::reset(&pool).await.unwrap();
    fdi_analytics::consumer::catch_up(&pool).await.unwrap();
    // The service follows the rebuild in memory; its answers say how far (as_of_sequence).
    wait_caught_up(&mut client, last).await;
    let after = client.get_summary(whole()).await.unwrap().into_inner();
    assert_eq!(after.figures, before.figures);
    let ranking = |client: &mut Analytics| {
        let mut client = client.clone();
        async move {
            client
                .get_ranking(pb::GetRankingRequest {
                    figure: Figure::NewProjects.into(),
                    dimension: pb::Dimension::Investor.into(),
                    period: Some(Period {
                        kind: Some(period::Kind::Shorthand("2025".into())),
                    }),
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner()
                .entries
        }
    };
    let rebuilt = ranking(&mut client).await;
    fdi_analytics::consumer::reset(&pool).await.unwrap();
    fdi_analytics::consumer::catch_up(&pool).await.unwrap();
    wait_caught_up(&mut client, last).await;
    assert_eq!(ranking(&mut client).await, rebuilt);
}

/// The in-memory cube, loaded from the rollups, answers every question it
/// takes exactly as the SQL over the rollups does.
#[tokio::test]
async fn the_cube_answers_as_the_rollup_tables_do() {
    use fdi_analytics::query::{Filter, GroupBy, sums};
    use fdi_kit::period::parse_shorthand;

    let mut system = start().await;
    load(&mut system.ingest, register()).await;
    let (_, last) = recorded(&mut system.ingest).await;
    let mut client = AnalyticsServiceClient::connect(system.analytics.endpoint())
        .await
        .unwrap();
    wait_caught_up(&mut client, last).await;

    let pool = fdi_analytics::connect(&database(&system.database_url)).await.unwrap();
    let cube = fdi_analytics::cube::Cube::new();
    assert!(
        cube.sums(GroupBy::Nothing, parse_shorthand("2024").unwrap(), &Filter::default())
            .is_none()
    );
    assert_eq!(cube.load(&pool).await.unwrap(), last);
    let filters = [
        Filter::default(),
        Filter {
            scope: Some("fdi"),
            ..Filter::default()
        },
        Filter {
            current_provinces: vec!["bac-ninh".into(), "ha-noi".into()],
            ..Filter::default()
        },
        Filter {
            recorded_provinces: vec!["bac-giang".into()],
            scope: Some("ddi"),
            ..Filter::default()
        },
        Filter {
            current_provinces: vec!["nowhere".into()],
            ..Filter::default()
        },
        Filter {
            zones: vec!["no-such-zone".into()],
            ..Filter::default()
        },
        Filter {
            include_estimates: true,
            ..Filter::default()
        },
    ];
    let groups = [
        GroupBy::Nothing,
        GroupBy::CurrentProvince,
        GroupBy::RecordedProvince,
        GroupBy::Zone,
        GroupBy::Country,
        GroupBy::Sector,
        GroupBy::Kind,
        GroupBy::Month,
        GroupBy::Quarter,
        GroupBy::Year,
    ];
    let mut compared = 0;
    for period in [
        "2024",
        "2025-H1",
        "2024-01-01..2025-12-31",
        "2025-M5",
        "2025-Q2",
        "2023",
    ] {
        let span = parse_shorthand(period).unwrap();
        for group in groups {
            for filter in &filters {
                let (from_cube, as_of) = cube.sums(group, span, filter).expect("whole months");
                let (from_sql, sql_as_of) = sums(&pool, group, span, filter).await.unwrap();
                assert_eq!(from_cube, from_sql, "{group:?} over {period} for {filter:?}");
                assert_eq!((as_of, sql_as_of), (last, last));
                compared += usize::from(!from_sql.is_empty());
            }
        }
    }
    assert!(compared > 100, "only {compared} non-empty comparisons");

    // Compaction merges each month's appended rows into one per group and changes no sum.
    let by_country = |pool: sqlx::PgPool| async move {
        sums(
            &pool,
            GroupBy::Country,
            parse_shorthand("2024-01-01..2025-12-31").unwrap(),
            &Filter::default(),
        )
        .await
        .unwrap()
    };
    let before = by_country(pool.clone()).await;
    let rows = |pool: sqlx::PgPool| async move {
        let (rows,): (i64,) = sqlx::query_as("SELECT count(*) FROM rollup")
            .fetch_one(&pool)
            .await
            .unwrap();
        rows
    };
    let appended = rows(pool.clone()).await;
    while let Some(partition) = fdi_analytics::store::rollups::next_to_compact(&pool, 0).await.unwrap() {
        fdi_analytics::store::rollups::compact(&pool, &partition).await.unwrap();
    }
    assert!(rows(pool.clone()).await < appended, "fewer rows after compaction");
    assert_eq!(by_country(pool.clone()).await, before);
    // Questions it does not take: ragged periods, investors.
    assert!(
        cube.sums(
            GroupBy::Nothing,
            parse_shorthand("2024-01-05..2024-03-31").unwrap(),
            &Filter::default()
        )
        .is_none()
    );
    assert!(
        cube.sums(GroupBy::Investor, parse_shorthand("2024").unwrap(), &Filter::default())
            .is_none()
    );
}

/// Rows the register does not have: a project re-issued within one quarter
/// (two months), and events promoted from news (estimated), one of them a
/// second `new` of a reported project.
fn more_rows() -> Vec<EventInput> {
    let row = |key: &str, kind: &str, date: &str, project: &str, status: &str| EventInput {
        idempotency_key: key.into(),
        kind: kind.into(),
        event_date: date.into(),
        project_ref: project.into(),
        investor: "Investor 2 Co., Ltd".into(),
        investor_country: "JP".into(),
        province: "Hà Nội".into(),
        sector: "C".into(),
        amount: "3000000".into(),
        currency: "USD".into(),
        status: status.into(),
        ..Default::default()
    };
    vec![
        row("quarter-1", "new", "2024-04-03", "P-QUARTER", "reported"),
        row("quarter-2", "new", "2024-06-25", "P-QUARTER", "reported"),
        row("estimate-1", "new", "2024-02-03", "P-0", "estimated"),
        row("estimate-2", "new", "2025-03-03", "P-ESTIMATED", "estimated"),
        row("estimate-3", "adjustment", "2025-03-09", "P-ESTIMATED", "estimated"),
        EventInput {
            zone: "KCN Quang Châu".into(),
            province: "Bắc Giang".into(),
            ..row("zone-1", "new", "2024-06-25", "P-ZONE-1", "reported")
        },
        EventInput {
            zone: "KCN Quang Châu".into(),
            province: "Bắc Giang".into(),
            ..row("zone-2", "adjustment", "2025-01-30", "P-ZONE-1", "reported")
        },
        EventInput {
            zone: "KCN Quang Châu".into(),
            province: "Bắc Giang".into(),
            ..row("zone-3", "new", "2024-09-10", "P-ZONE-2", "reported")
        },
    ]
}

/// A figure's value as the test compares it: a count, or the converted amount.
fn number(figure: Figure, value: &pb::FigureValue) -> Decimal {
    match &value.converted {
        Some(money) if fdi_kit::figures::is_money(figure) => from_money(money).unwrap(),
        _ => Decimal::from(value.count),
    }
}

fn expected_number(figure: Figure, events: &[&Recorded]) -> Decimal {
    let expected = expected(events, "USD");
    expected
        .money
        .get(&figure)
        .copied()
        .unwrap_or_else(|| Decimal::from(expected.counts.get(&figure).copied().unwrap_or_default()))
}

/// Every entry of a ranking, through all its pages, by key.
async fn ranking_entries(client: &mut Analytics, request: pb::GetRankingRequest) -> BTreeMap<String, Decimal> {
    let figure = request.figure();
    let mut entries = BTreeMap::new();
    let mut token = String::new();
    loop {
        let page = client
            .get_ranking(pb::GetRankingRequest {
                page_size: Some(100),
                page_token: token,
                ..request.clone()
            })
            .await
            .unwrap()
            .into_inner();
        for entry in page.entries {
            entries.insert(entry.key, number(figure, entry.value.as_ref().unwrap()));
        }
        if page.next_page_token.is_empty() {
            return entries;
        }
        token = page.next_page_token;
    }
}

/// Zone-free dimensions over ragged periods (partial months at both ends),
/// quarterly and yearly buckets, and estimates, each against the events.
#[tokio::test]
async fn any_range_counts_each_project_once_per_bucket_and_keeps_estimates_apart() {
    let mut system = start().await;
    let mut rows = register();
    rows.extend(more_rows());
    load(&mut system.ingest, rows).await;
    let (events, last) = recorded(&mut system.ingest).await;
    let mut client = AnalyticsServiceClient::connect(system.analytics.endpoint())
        .await
        .unwrap();
    wait_caught_up(&mut client, last).await;
    let reported: Vec<&Recorded> = events.iter().filter(|e| !e.estimated).collect();
    assert_eq!(
        events.len() - reported.len(),
        3,
        "the estimated rows were recorded as estimated"
    );

    type Key = fn(&Recorded) -> String;
    let by_country: Key = |e| e.country.clone();
    let by_sector: Key = |e| e.sector.clone();
    let by_zone: Key = |e| e.zone.clone();
    let mut compared = 0;
    for (start, end) in [
        (day(2024, 3, 10), day(2025, 2, 17)),
        (day(2025, 1, 5), day(2025, 2, 1)),
        (day(2024, 6, 2), day(2024, 6, 20)),
    ] {
        let inside: Vec<&Recorded> = reported
            .iter()
            .copied()
            .filter(|e| e.date >= start && e.date <= end)
            .collect();
        for (dimension, key) in [
            (pb::Dimension::HomeCountry, by_country),
            (pb::Dimension::Sector, by_sector),
            (pb::Dimension::Zone, by_zone),
        ] {
            for figure in [Figure::NewProjects, Figure::TotalCapital, Figure::RealisedCapital] {
                let answered = ranking_entries(
                    &mut client,
                    pb::GetRankingRequest {
                        dimension: dimension.into(),
                        figure: figure.into(),
                        period: range(start, end),
                        ..Default::default()
                    },
                )
                .await;
                let mut wanted = BTreeMap::new();
                for group in inside.iter().map(|e| key(e)).collect::<BTreeSet<_>>() {
                    let members: Vec<&Recorded> = inside.iter().copied().filter(|e| key(e) == group).collect();
                    let value = expected_number(figure, &members);
                    if !group.is_empty() && !value.is_zero() {
                        wanted.insert(group, value);
                    }
                }
                assert_eq!(answered, wanted, "{dimension:?} {figure:?} over {start}..{end}");
                compared += answered.len();
            }
        }
        let investors = ranking_entries(
            &mut client,
            pb::GetRankingRequest {
                dimension: pb::Dimension::Investor.into(),
                figure: Figure::NewCapital.into(),
                period: range(start, end),
                ..Default::default()
            },
        )
        .await;
        assert_eq!(
            investors.values().copied().sum::<Decimal>(),
            expected_number(Figure::NewCapital, &inside),
            "investors' new capital over {start}..{end}"
        );
    }
    assert!(compared > 20, "only {compared} entries compared");
    // A zone's own summary over ragged periods, against its events.
    let zone = events.iter().find(|e| !e.zone.is_empty()).unwrap().zone.clone();
    for (start, end) in [
        (day(2024, 6, 20), day(2025, 1, 30)),
        (day(2024, 6, 26), day(2024, 9, 10)),
    ] {
        let summary = client
            .get_summary(pb::GetSummaryRequest {
                zones: vec![zone.clone()],
                period: range(start, end),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        let inside: Vec<&Recorded> = reported
            .iter()
            .copied()
            .filter(|e| e.zone == zone && e.date >= start && e.date <= end)
            .collect();
        assert!(!inside.is_empty());
        assert_eq!(
            actual(&summary.figures),
            expected(&inside, "USD"),
            "{zone} over {start}..{end}"
        );
    }

    // Buckets: a project re-issued in two months of one quarter (or year) counts once there.
    for (granularity, bucket) in [
        (
            pb::Granularity::Quarter,
            (|d: NaiveDate| format!("{}-Q{}", d.year(), (d.month() - 1) / 3 + 1)) as fn(NaiveDate) -> String,
        ),
        (pb::Granularity::Year, |d: NaiveDate| d.year().to_string()),
        (pb::Granularity::Month, |d: NaiveDate| {
            format!("{}-{:02}", d.year(), d.month())
        }),
    ] {
        let series = client
            .get_time_series(pb::GetTimeSeriesRequest {
                figure: Figure::NewProjects.into(),
                granularity: granularity.into(),
                period: range(day(2024, 1, 1), day(2025, 12, 31)),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        for point in &series.points {
            let members: Vec<&Recorded> = reported
                .iter()
                .copied()
                .filter(|e| bucket(e.date) == point.label)
                .collect();
            assert_eq!(
                number(Figure::NewProjects, point.value.as_ref().unwrap()),
                expected_number(Figure::NewProjects, &members),
                "{granularity:?} {}",
                point.label
            );
        }
    }

    // Estimates: left out by default, counted on request.
    for (include_estimates, counted) in [(false, reported.clone()), (true, events.iter().collect())] {
        let summary = client
            .get_summary(pb::GetSummaryRequest {
                period: range(day(2024, 1, 1), day(2025, 12, 31)),
                include_estimates,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            actual(&summary.figures),
            expected(&counted, "USD"),
            "include_estimates {include_estimates}"
        );
    }
}
