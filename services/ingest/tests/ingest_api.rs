//! Black-box tests of every ingest RPC against real servers and PostgreSQL.

mod common;

use fdi_proto::{
    catalogue::{self as cat, catalogue_service_client::CatalogueServiceClient},
    common::{EventKind, Figure, Period, Scope, period},
    ingest::{self as pb, EventInput, HoldReason, Outcome},
};
use sqlx::{Connection, PgConnection};
use tokio_stream::StreamExt;
use tonic::Code;
use tonic_types::StatusExt;

async fn submit(client: &mut common::Client, event: EventInput) -> Result<pb::SubmitEventResponse, tonic::Status> {
    client
        .submit_event(pb::SubmitEventRequest { event: Some(event) })
        .await
        .map(tonic::Response::into_inner)
}

/// The load content digest of `rows` (what a client resuming after them sends).
fn digest(rows: &[EventInput]) -> String {
    let mut chain = fdi_kit::load_digest::ContentChain::new();
    chain.extend(rows);
    chain.to_hex()
}

async fn count_events(database_url: &str) -> i64 {
    let mut connection = PgConnection::connect(database_url).await.unwrap();
    let (count,): (i64,) = sqlx::query_as("SELECT count(*) FROM ingest.events")
        .fetch_one(&mut connection)
        .await
        .unwrap();
    count
}

#[tokio::test]
async fn submit_is_exactly_once_and_links_merged_provinces() {
    let mut system = common::start().await;
    let client = &mut system.client;

    let accepted = submit(client, common::new_project("k-1", "Bắc Giang", "246000000"))
        .await
        .unwrap();
    assert_eq!(accepted.outcome(), Outcome::Accepted);
    let event = accepted.event.expect("the recorded event");
    assert!(event.sequence > 0);
    assert_eq!(event.name, format!("events/{}", event.sequence));
    assert_eq!(event.province, "provinces/bac-giang", "kept as recorded");
    assert_eq!(
        event.current_province, "provinces/bac-ninh",
        "linked to today's province"
    );
    assert_eq!(event.kind(), EventKind::New);
    assert_eq!(event.scope(), Scope::Fdi);
    assert_eq!(
        event.creator, "anonymous",
        "recorded by the anonymous caller of an open server"
    );
    assert_eq!(
        event.amount.as_ref().map(|m| (m.units, m.currency_code.as_str())),
        Some((246_000_000, "USD"))
    );
    assert_eq!(event.amount_usd.as_ref().map(|m| m.units), Some(246_000_000));
    // May 2024: 25,433.7 VND per USD in the shipped series.
    assert_eq!(event.amount_vnd.as_ref().map(|m| m.units), Some(6_256_690_200_000));
    assert!(
        event.investor.starts_with("investors/"),
        "the investor was created in the catalogue"
    );

    let mut catalogue = CatalogueServiceClient::connect(system.catalogue.endpoint())
        .await
        .unwrap();
    let investor = catalogue
        .get_investor(cat::GetInvestorRequest {
            name: event.investor.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(investor.country_code, "SG");

    // Same key, same content (differently formatted): a no-op reporting success.
    let mut same = common::new_project("k-1", " Bắc Giang ", "246000000.00");
    same.currency = "usd".into();
    let duplicate = submit(client, same).await.unwrap();
    assert_eq!(duplicate.outcome(), Outcome::Duplicate);
    assert_eq!(duplicate.event.unwrap().sequence, event.sequence);

    // Same key, different content: ALREADY_EXISTS naming the key.
    let conflict = submit(client, common::new_project("k-1", "Bắc Giang", "999"))
        .await
        .unwrap_err();
    assert_eq!(conflict.code(), Code::AlreadyExists);
    let info = conflict.get_details_error_info().expect("error info");
    assert_eq!(info.reason, "IDEMPOTENCY_KEY_REUSED");
    assert_eq!(info.metadata["idempotency_key"], "k-1");
    assert_eq!(count_events(&system.database_url).await, 1);

    let got = client
        .get_event(pb::GetEventRequest {
            name: event.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got, event);
    let missing = client
        .get_event(pb::GetEventRequest {
            name: "events/999999".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
}

#[tokio::test]
async fn events_are_listed_with_filters_and_pages() {
    let mut system = common::start().await;
    let client = &mut system.client;
    let mut sequences = Vec::new();
    for (i, province) in ["Bắc Giang", "Bắc Ninh", "Hải Phòng", "Bắc Giang"].iter().enumerate() {
        let mut row = common::new_project(&format!("list-{i}"), province, "1000");
        if i == 2 {
            row.kind = "adjustment".into();
            row.event_date = "2023-02-01".into();
            row.investor_country = "VN".into();
            row.currency = "VND".into();
        }
        sequences.push(submit(client, row).await.unwrap().event.unwrap().sequence);
    }
    assert!(
        sequences.windows(2).all(|w| w[0] < w[1]),
        "sequence numbers increase: {sequences:?}"
    );

    let list = |request: pb::ListEventsRequest| {
        let mut client = client.clone();
        async move { client.list_events(request).await.unwrap().into_inner().events }
    };
    let bac_ninh = list(pb::ListEventsRequest {
        province: "Bắc Ninh".into(),
        ..Default::default()
    })
    .await;
    assert_eq!(
        bac_ninh.len(),
        3,
        "today's Bắc Ninh includes events recorded under Bắc Giang"
    );
    let bac_giang = list(pb::ListEventsRequest {
        province: "bac giang".into(),
        ..Default::default()
    })
    .await;
    assert_eq!(bac_giang.len(), 2, "a merged unit lists what was recorded under it");
    let adjustments = list(pb::ListEventsRequest {
        kind: EventKind::Adjustment.into(),
        ..Default::default()
    })
    .await;
    assert_eq!(adjustments.len(), 1);
    assert_eq!(adjustments[0].scope(), Scope::Ddi);
    let in_2023 = list(pb::ListEventsRequest {
        period: Some(Period {
            kind: Some(period::Kind::Shorthand("2023".into())),
        }),
        ..Default::default()
    })
    .await;
    assert_eq!(in_2023.len(), 1);
    let fdi = list(pb::ListEventsRequest {
        scope: Scope::Fdi.into(),
        ..Default::default()
    })
    .await;
    assert_eq!(fdi.len(), 3);
    let investor = bac_ninh[0].investor.clone();
    let by_investor = list(pb::ListEventsRequest {
        investor,
        ..Default::default()
    })
    .await;
    assert_eq!(by_investor.len(), 4);
    let after = list(pb::ListEventsRequest {
        after_sequence: sequences[1],
        ..Default::default()
    })
    .await;
    assert_eq!(after.iter().map(|e| e.sequence).collect::<Vec<_>>(), &sequences[2..]);

    let first = client
        .list_events(pb::ListEventsRequest {
            page_size: Some(3),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.events.len(), 3);
    let second = client
        .list_events(pb::ListEventsRequest {
            page_size: Some(3),
            page_token: first.next_page_token,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(second.events.len(), 1);
    assert!(second.next_page_token.is_empty());

    let unknown = client
        .list_events(pb::ListEventsRequest {
            province: "Bac Nihn".into(),
            ..Default::default()
        })
        .await;
    // A typo one edit away resolves; a name that matches nothing is NOT_FOUND with suggestions.
    assert!(unknown.is_ok());
    let nowhere = client
        .list_events(pb::ListEventsRequest {
            province: "Atlantis".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(nowhere.code(), Code::NotFound);
    let zone = client
        .list_events(pb::ListEventsRequest {
            zone: "KCN Quang Châu".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(zone.into_inner().events.is_empty());
}

#[tokio::test]
async fn unresolvable_rows_are_held_and_reprocessed_once_reference_data_exists() {
    let mut system = common::start().await;
    let client = &mut system.client;

    let mut unknown_zone = common::new_project("held-zone", "", "5000000");
    unknown_zone.zone = "Ngoc Lam Industrial Park".into();
    let mut no_rate = common::new_project("held-eur", "Bắc Ninh", "1000000");
    no_rate.currency = "EUR".into();
    let unknown_province = common::new_project("held-province", "Atlantis", "1");
    let mut zone_decides = common::new_project("zone-decides", "", "700");
    zone_decides.zone = "KCN Quang Châu".into();
    zone_decides.event_date = "2024-01-10".into();

    let held = submit(client, unknown_zone).await.unwrap();
    assert_eq!(held.outcome(), Outcome::Held);
    let held_row = held.held_row.expect("held row");
    assert_eq!(held_row.reason(), HoldReason::UnknownZone);
    assert!(
        held_row.detail.contains("Ngoc Lam Industrial Park"),
        "{}",
        held_row.detail
    );
    assert_eq!(
        submit(client, no_rate).await.unwrap().held_row.unwrap().reason(),
        HoldReason::NoExchangeRate
    );
    assert_eq!(
        submit(client, unknown_province)
            .await
            .unwrap()
            .held_row
            .unwrap()
            .reason(),
        HoldReason::UnknownProvince
    );
    let recorded = submit(client, zone_decides).await.unwrap().event.unwrap();
    assert_eq!(recorded.zone, "zones/quang-chau");
    assert_eq!(
        recorded.province, "provinces/bac-giang",
        "before the reform, the zone's recorded province"
    );
    assert_eq!(recorded.current_province, "provinces/bac-ninh");

    // Re-sending a held row does not duplicate it.
    let mut again = common::new_project("held-zone", "", "5000000");
    again.zone = "Ngoc Lam Industrial Park".into();
    assert_eq!(submit(client, again.clone()).await.unwrap().outcome(), Outcome::Held);
    let listed = client
        .list_held_rows(pb::ListHeldRowsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.total_size, 3);
    let zone_row = listed
        .held_rows
        .iter()
        .find(|r| r.reason() == HoldReason::UnknownZone)
        .unwrap();
    assert_eq!(zone_row.attempts, 2);
    assert_eq!(
        zone_row.row.as_ref().unwrap().zone,
        "Ngoc Lam Industrial Park",
        "kept exactly as sent"
    );
    let only_rates = client
        .list_held_rows(pb::ListHeldRowsRequest {
            reason: HoldReason::NoExchangeRate.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(only_rates.held_rows.len(), 1);

    // Nothing changed yet: re-processing keeps them held.
    let unchanged = client
        .reprocess_held_rows(pb::ReprocessHeldRowsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!((unchanged.processed, unchanged.still_held), (3, 3));

    // The reference data arrives: a zone in the catalogue, a EUR rate through the API.
    let mut catalogue = CatalogueServiceClient::connect(system.catalogue.endpoint())
        .await
        .unwrap();
    catalogue
        .create_zone(cat::CreateZoneRequest {
            zone: Some(cat::Zone {
                display_name: "Ngoc Lam IP".into(),
                kind: cat::ZoneKind::IndustrialPark.into(),
                province: "Bắc Giang".into(),
                ..Default::default()
            }),
            zone_id: String::new(),
        })
        .await
        .unwrap();
    let written = client
        .create_exchange_rates(pb::CreateExchangeRatesRequest {
            rates: vec![pb::ExchangeRate {
                currency_code: "EUR".into(),
                period: "2024".into(),
                vnd_per_unit: "27000".into(),
                source: "test".into(),
                ..Default::default()
            }],
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(written.written, 1);

    let result = client
        .reprocess_held_rows(pb::ReprocessHeldRowsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!((result.processed, result.accepted, result.still_held), (3, 2, 1));
    let left = client
        .list_held_rows(pb::ListHeldRowsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(left.held_rows.len(), 1);
    assert_eq!(left.held_rows[0].reason(), HoldReason::UnknownProvince);

    let eur = client
        .list_events(pb::ListEventsRequest {
            province: "Bắc Ninh".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .events
        .into_iter()
        .find(|e| e.idempotency_key == "held-eur")
        .expect("recorded after re-processing");
    assert_eq!(eur.amount_vnd.unwrap().units, 27_000_000_000);
    // 27e9 VND at May 2024's 25,433.7 VND/USD.
    assert_eq!(eur.amount_usd.unwrap().units, 1_061_583);
    // Re-sending the now recorded row is a duplicate, not a new held row.
    assert_eq!(submit(client, again).await.unwrap().outcome(), Outcome::Duplicate);
}

async fn bulk(
    client: &mut common::Client,
    messages: Vec<pb::LoadEventsRequest>,
) -> (Vec<pb::LoadEventsResponse>, Option<tonic::Status>) {
    let mut stream = client
        .load_events(tokio_stream::iter(messages))
        .await
        .unwrap()
        .into_inner();
    let mut acks = Vec::new();
    while let Some(item) = stream.next().await {
        match item {
            Ok(ack) => acks.push(ack),
            Err(status) => return (acks, Some(status)),
        }
    }
    (acks, None)
}

#[tokio::test]
async fn bulk_loads_acknowledge_batches_resume_and_never_duplicate() {
    let mut system = common::start().await;
    let client = &mut system.client;
    let mut rows = common::register("bulk", 300);
    rows[10].amount = "12,5".into();
    rows[11].event_date = "2999-01-01".into();
    rows[12].currency = "ABC".into();
    let batch = |start: usize, end: usize| pb::LoadEventsRequest {
        load_id: "register-2024".into(),
        start_offset: start as i64,
        rows: rows[start..end].to_vec(),
        expected_content_digest: if start > 0 {
            digest(&rows[..start])
        } else {
            String::new()
        },
    };

    let (acks, error) = bulk(client, vec![batch(0, 100), batch(100, 200)]).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(acks.iter().map(|a| a.offset_reached).collect::<Vec<_>>(), [100, 200]);
    assert_eq!((acks[0].accepted, acks[0].rejected), (97, 3));
    let fields: Vec<&str> = acks[0]
        .issues
        .iter()
        .flat_map(|i| i.field_violations.iter().map(|v| v.field.as_str()))
        .collect();
    assert_eq!(fields, ["rows[10].amount", "rows[11].event_date", "rows[12].currency"]);
    assert!(acks[0].issues.iter().all(|i| i.outcome() == Outcome::Rejected));

    // A client that lost its connection asks where the load stands and resumes; re-sent rows are skipped.
    let progress = client
        .get_bulk_load(pb::GetBulkLoadRequest {
            name: "bulkLoads/register-2024".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (progress.offset_reached, progress.accepted, progress.rejected),
        (200, 197, 3)
    );
    let (acks, error) = bulk(client, vec![batch(150, 250), batch(250, 300)]).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(acks[0].offset_reached, 250);
    assert_eq!(
        (acks[0].accepted, acks[0].duplicates),
        (50, 50),
        "the first 50 rows were already decided"
    );
    assert_eq!(count_events(&system.database_url).await, 297);

    // A gap is refused.
    let (_, error) = bulk(client, vec![batch(250, 260)]).await;
    let load_done = error.is_none();
    assert!(load_done, "rows before the offset are skipped, not a gap");
    let (_, gap) = bulk(
        client,
        vec![pb::LoadEventsRequest {
            load_id: "register-2024".into(),
            start_offset: 400,
            rows: rows[..5].to_vec(),
            expected_content_digest: String::new(),
        }],
    )
    .await;
    assert_eq!(gap.unwrap().code(), Code::FailedPrecondition);

    // Replaying the whole file under a new load: every row a duplicate, nothing inserted.
    let replay: Vec<pb::LoadEventsRequest> = (0..3)
        .map(|i| pb::LoadEventsRequest {
            load_id: "replay".into(),
            start_offset: i * 100,
            rows: rows[(i * 100) as usize..(i * 100 + 100) as usize].to_vec(),
            expected_content_digest: String::new(),
        })
        .collect();
    let (acks, error) = bulk(client, replay).await;
    assert!(error.is_none(), "{error:?}");
    let duplicates: i32 = acks.iter().map(|a| a.duplicates).sum();
    let accepted: i32 = acks.iter().map(|a| a.accepted).sum();
    assert_eq!((accepted, duplicates), (0, 297));
    assert_eq!(count_events(&system.database_url).await, 297);

    // Oversized batches and missing load ids are refused; the service keeps serving.
    let (_, too_big) = bulk(
        client,
        vec![pb::LoadEventsRequest {
            load_id: "big".into(),
            start_offset: 0,
            rows: vec![EventInput::default(); 5001],
            expected_content_digest: String::new(),
        }],
    )
    .await;
    assert_eq!(too_big.unwrap().code(), Code::InvalidArgument);
    let (_, no_id) = bulk(
        client,
        vec![pb::LoadEventsRequest {
            load_id: String::new(),
            start_offset: 0,
            rows: rows[..1].to_vec(),
            expected_content_digest: String::new(),
        }],
    )
    .await;
    assert_eq!(no_id.unwrap().code(), Code::InvalidArgument);
    assert_eq!(
        submit(client, common::new_project("after", "Hà Nội", "1"))
            .await
            .unwrap()
            .outcome(),
        Outcome::Accepted
    );
}

#[tokio::test]
async fn every_class_of_bad_input_is_refused_with_the_field() {
    let mut system = common::start().await;
    let client = &mut system.client;
    type Breakage = Box<dyn Fn(&mut EventInput)>;
    let cases: Vec<(&str, Breakage)> = vec![
        ("event.idempotency_key", Box::new(|r| r.idempotency_key.clear())),
        ("event.project_ref", Box::new(|r| r.project_ref.clear())),
        ("event.investor", Box::new(|r| r.investor.clear())),
        ("event.amount", Box::new(|r| r.amount = "one million".into())),
        ("event.amount", Box::new(|r| r.amount = "1000000000000000.01".into())),
        ("event.event_date", Box::new(|r| r.event_date = "20/05/2024".into())),
        ("event.event_date", Box::new(|r| r.event_date = "1987-06-30".into())),
        ("event.event_date", Box::new(|r| r.event_date = "2999-12-31".into())),
        ("event.currency", Box::new(|r| r.currency = "DOLLARS".into())),
        ("event.kind", Box::new(|r| r.kind = "merger".into())),
        ("event.province", Box::new(|r| r.province.clear())),
    ];
    for (field, break_it) in cases {
        let mut row = common::new_project("bad", "Bắc Ninh", "100");
        break_it(&mut row);
        let status = submit(client, row).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{field}");
        let violations = status
            .get_details_bad_request()
            .expect("bad request details")
            .field_violations;
        assert_eq!(violations[0].field, field, "{}", status.message());
    }
    let no_event = client
        .submit_event(pb::SubmitEventRequest { event: None })
        .await
        .unwrap_err();
    assert_eq!(no_event.code(), Code::InvalidArgument);
    assert_eq!(count_events(&system.database_url).await, 0);
    for page_size in [0, 1_000_000] {
        let status = client
            .list_events(pb::ListEventsRequest {
                page_size: Some(page_size),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument);
    }
    let token = client
        .list_held_rows(pb::ListHeldRowsRequest {
            page_token: "zzz".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(token.code(), Code::InvalidArgument);
    let inverted = client
        .list_events(pb::ListEventsRequest {
            period: Some(Period {
                kind: Some(period::Kind::Shorthand("2025-05-01..2025-01-01".into())),
            }),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(inverted.code(), Code::InvalidArgument);
}

#[tokio::test]
async fn exchange_rates_and_targets() {
    let mut system = common::start().await;
    let client = &mut system.client;
    let usd = client
        .list_exchange_rates(pb::ListExchangeRatesRequest {
            currency_code: "USD".into(),
            page_size: Some(1000),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(
        usd.rates
            .iter()
            .any(|r| r.period == "2024-12" && r.vnd_per_unit == "25413.4"),
        "shipped series"
    );
    let bad = client
        .create_exchange_rates(pb::CreateExchangeRatesRequest {
            rates: vec![pb::ExchangeRate {
                currency_code: "EUR".into(),
                period: "2024-13".into(),
                vnd_per_unit: "-1".into(),
                source: String::new(),
                ..Default::default()
            }],
        })
        .await
        .unwrap_err();
    let fields: Vec<_> = bad
        .get_details_bad_request()
        .unwrap()
        .field_violations
        .into_iter()
        .map(|v| v.field)
        .collect();
    assert_eq!(fields, ["rates[0].period", "rates[0].vnd_per_unit"]);

    let target = client
        .set_target(pb::SetTargetRequest {
            target: Some(pb::Target {
                province: "Hải Dương".into(),
                year: 2023,
                figure: Figure::TotalCapital.into(),
                scope: Scope::Fdi.into(),
                amount: Some(fdi_proto::Money {
                    currency_code: "USD".into(),
                    units: 1_000_000_000,
                    nanos: 0,
                }),
                source: "provincial plan".into(),
                ..Default::default()
            }),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(target.name, "provinces/hai-duong/targets/2023-total_capital-fdi");
    let counted = client
        .set_target(pb::SetTargetRequest {
            target: Some(pb::Target {
                province: "hai-duong".into(),
                year: 2023,
                figure: Figure::NewProjects.into(),
                count: 60,
                ..Default::default()
            }),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(counted.scope(), Scope::Fdi, "targets are FDI unless said otherwise");
    let listed = client
        .list_targets(pb::ListTargetsRequest {
            province: "Hai Duong".into(),
            year: 2023,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.targets.len(), 2);
    let invalid = client
        .set_target(pb::SetTargetRequest {
            target: Some(pb::Target {
                province: "Hai Duong".into(),
                year: 2023,
                figure: Figure::TotalCapital.into(),
                count: 5,
                ..Default::default()
            }),
        })
        .await
        .unwrap_err();
    assert_eq!(invalid.code(), Code::InvalidArgument);
    let unknown = client
        .set_target(pb::SetTargetRequest {
            target: Some(pb::Target {
                province: "Atlantis".into(),
                year: 2023,
                figure: Figure::NewProjects.into(),
                count: 5,
                ..Default::default()
            }),
        })
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);
}

#[tokio::test]
async fn a_stream_under_another_clients_load_id_is_refused_and_the_owner_resumes() {
    let mut system = common::start().await;
    let endpoint = system.ingest.endpoint();
    let database_url = system.database_url.clone();
    let client = &mut system.client;
    let owner = common::register("owner", 200);
    let intruder = common::register("intruder", 150);
    let batch = |rows: &[EventInput], start: usize, end: usize, expected: String| pb::LoadEventsRequest {
        load_id: "shared-load".into(),
        start_offset: start as i64,
        rows: rows[start..end].to_vec(),
        expected_content_digest: expected,
    };
    let progress = |client: &mut common::Client| {
        let mut client = client.clone();
        async move {
            client
                .get_bulk_load(pb::GetBulkLoadRequest {
                    name: "bulkLoads/shared-load".into(),
                })
                .await
                .unwrap()
                .into_inner()
        }
    };

    // Client A loads 100 rows in two batches and stops.
    let (acks, error) = bulk(
        client,
        vec![
            batch(&owner, 0, 50, String::new()),
            batch(&owner, 50, 100, String::new()),
        ],
    )
    .await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(acks.iter().map(|a| a.offset_reached).collect::<Vec<_>>(), [50, 100]);
    assert_eq!(acks[1].content_digest, digest(&owner[..100]));
    let before = progress(client).await;
    assert_eq!((before.offset_reached, before.accepted), (100, 100));
    assert_eq!(before.content_digest, digest(&owner[..100]));
    assert_eq!(count_events(&database_url).await, 100);

    // Client B streams 50 other rows under the same id from the offset: without a digest,
    // with the digest of its own rows, and from offset 0 with other rows before the offset.
    let attempts = [
        vec![batch(&intruder, 100, 150, String::new())],
        vec![batch(&intruder, 100, 150, digest(&intruder[..100]))],
        vec![batch(&intruder, 0, 150, String::new())],
        vec![
            batch(&intruder, 0, 60, String::new()),
            batch(&intruder, 60, 150, String::new()),
        ],
    ];
    for (i, attempt) in attempts.into_iter().enumerate() {
        let (acks, error) = bulk(client, attempt).await;
        let status = error.unwrap_or_else(|| panic!("attempt {i} was not refused: {acks:?}"));
        assert_eq!(status.code(), Code::FailedPrecondition, "attempt {i}: {status:?}");
        let info = status.get_error_details().error_info().cloned().unwrap();
        assert_eq!(info.reason, "LOAD_CONTENT_MISMATCH", "attempt {i}");
        assert_eq!(info.metadata.get("load_id").map(String::as_str), Some("shared-load"));
        // Batches wholly before the offset are acknowledged as decided, never recorded.
        assert!(
            acks.iter()
                .all(|a| a.accepted == 0 && a.held == 0 && a.offset_reached == 100),
            "attempt {i}: {acks:?}"
        );
    }
    // A malformed digest is an invalid argument.
    let (_, error) = bulk(client, vec![batch(&intruder, 100, 150, "not-hex".into())]).await;
    assert_eq!(error.unwrap().code(), Code::InvalidArgument);
    // The loader refuses another file under the id at once, without recording anything.
    let source = intruder.clone();
    let open: fdi_client::loader::OpenRows = Box::new(move |offset| {
        Ok(Box::new(
            source.clone().into_iter().skip(usize::try_from(offset).unwrap()),
        ))
    });
    let options = fdi_client::loader::LoadOptions::new(endpoint.clone(), "shared-load");
    let refused = fdi_client::loader::load(&options, open, &mut |_| {}).await.unwrap_err();
    assert!(refused.to_string().contains("other rows"), "{refused:#}");
    assert_eq!(progress(client).await, before, "the load did not move");
    assert_eq!(count_events(&database_url).await, 100, "nothing was recorded");

    // Client A resumes with the right digest and completes; every one of its rows is recorded.
    let (acks, error) = bulk(
        client,
        vec![
            batch(&owner, 100, 150, digest(&owner[..100])),
            batch(&owner, 150, 200, String::new()),
        ],
    )
    .await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(acks.iter().map(|a| a.offset_reached).collect::<Vec<_>>(), [150, 200]);
    assert_eq!((acks[0].accepted, acks[1].accepted), (50, 50));
    let after = progress(client).await;
    assert_eq!((after.offset_reached, after.accepted, after.duplicates), (200, 200, 0));
    assert_eq!(after.content_digest, digest(&owner));
    assert_eq!(count_events(&database_url).await, 200);

    // The owner's loader resumes the finished load with its file: nothing is sent twice.
    let source = owner.clone();
    let open: fdi_client::loader::OpenRows = Box::new(move |offset| {
        Ok(Box::new(
            source.clone().into_iter().skip(usize::try_from(offset).unwrap()),
        ))
    });
    let summary = fdi_client::loader::load(&options, open, &mut |_| {}).await.unwrap();
    assert_eq!((summary.offset_reached, summary.accepted), (200, 0));
    assert_eq!(count_events(&database_url).await, 200);
}

#[tokio::test]
async fn the_bulk_loader_reopens_full_streams_and_totals_match() {
    // A small per-call limit forces the loader through many calls.
    let system = common::start_with(|config| config.max_stream_rows = 700).await;
    let rows = common::register("loader", 3000);
    let expected_sum: i64 = rows.iter().map(|r| r.amount.parse::<i64>().unwrap()).sum();
    let source = rows.clone();
    let open: fdi_client::loader::OpenRows = Box::new(move |offset| {
        let rows = source.clone();
        Ok(Box::new(rows.into_iter().skip(usize::try_from(offset).unwrap())))
    });
    let mut options = fdi_client::loader::LoadOptions::new(system.ingest.endpoint(), "loader-file");
    options.batch_rows = 250;
    let mut acks = 0;
    let summary = fdi_client::loader::load(&options, open, &mut |_| acks += 1)
        .await
        .unwrap();
    assert_eq!(
        (summary.offset_reached, summary.accepted, summary.rejected),
        (3000, 3000, 0)
    );
    assert!(
        summary.resumptions >= 4,
        "reopened after each full stream: {}",
        summary.resumptions
    );
    assert_eq!(acks, 12);

    let mut connection = PgConnection::connect(&system.database_url).await.unwrap();
    let (count, sum): (i64, rust_decimal::Decimal) = sqlx::query_as("SELECT count(*), sum(amount) FROM ingest.events")
        .fetch_one(&mut connection)
        .await
        .unwrap();
    assert_eq!((count, sum), (3000, rust_decimal::Decimal::from(expected_sum)));
}
