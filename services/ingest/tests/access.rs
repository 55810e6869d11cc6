//! Black-box tests of who may write what through ingest: an ingest service
//! with API keys required (the catalogue behind it lets ingest in
//! anonymously), keys written straight into the test database, and the
//! results checked through the API and in the tables.

mod common;

use chrono::Utc;
use fdi_kit::{
    access::{Bearer, KeyRecord, KeyStore, Role, generate},
    config::DatabaseConfig,
    domain::ProvinceCode,
};
use fdi_proto::{
    catalogue::{self as cat, catalogue_service_client::CatalogueServiceClient},
    common::{Figure, Scope},
    ingest::{self as pb, EventInput, HoldReason, Outcome, ingest_service_client::IngestServiceClient},
};
use sqlx::{Connection, PgConnection};
use tokio_stream::StreamExt;
use tonic::{Code, Status, service::interceptor::InterceptedService, transport::Channel};
use tonic_types::StatusExt;

type Client = IngestServiceClient<InterceptedService<Channel, Bearer>>;

/// Ingest with keys required, in front of a catalogue that allows anonymous calls.
async fn start_secured() -> common::System {
    common::start_with(|config| config.common.access.allow_anonymous = false).await
}

/// A key of `role` for `provinces`, written into the database: its id and a client that sends it.
async fn key(system: &common::System, role: Role, provinces: &[&str]) -> (String, Client) {
    let store = KeyStore::connect_lazy(&DatabaseConfig::new(&system.database_url), "ingest-access-test").unwrap();
    store.migrate().await.unwrap();
    let made = generate().unwrap();
    store
        .insert(&KeyRecord {
            key_id: made.key_id.clone(),
            secret_hash: made.secret_hash.clone(),
            role,
            provinces: provinces.iter().map(|p| ProvinceCode::parse(p).unwrap()).collect(),
            description: format!("{} for a test", role.as_str()),
            creator: "test".into(),
            create_time: Utc::now(),
            expire_time: None,
            revoke_time: None,
        })
        .await
        .unwrap();
    let channel = Channel::from_shared(system.ingest.endpoint())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let client = IngestServiceClient::with_interceptor(channel, Bearer::new(Some(&made.token)).unwrap());
    (made.key_id, client)
}

fn row(key: &str, province: &str, date: &str) -> EventInput {
    EventInput {
        event_date: date.to_owned(),
        ..common::new_project(key, province, "1000000")
    }
}

async fn submit(client: &mut Client, event: EventInput) -> Result<pb::SubmitEventResponse, Status> {
    client
        .submit_event(pb::SubmitEventRequest { event: Some(event) })
        .await
        .map(tonic::Response::into_inner)
}

async fn load(client: &mut Client, load_id: &str, rows: Vec<EventInput>) -> pb::LoadEventsResponse {
    let message = pb::LoadEventsRequest {
        load_id: load_id.to_owned(),
        start_offset: 0,
        rows,
        expected_content_digest: String::new(),
    };
    let mut acks = client
        .load_events(tokio_stream::iter([message]))
        .await
        .unwrap()
        .into_inner();
    let ack = acks.next().await.expect("an acknowledgement").unwrap();
    assert!(acks.next().await.is_none(), "one batch, one acknowledgement");
    ack
}

/// `SELECT count(*)` of a query over the test database.
async fn count(database_url: &str, sql: &str) -> i64 {
    let mut connection = PgConnection::connect(database_url).await.unwrap();
    let (count,): (i64,) = sqlx::query_as(sql).fetch_one(&mut connection).await.unwrap();
    count
}

/// The keys of every recorded event, as the API lists them, with their creators.
async fn listed(client: &mut Client) -> Vec<(String, String)> {
    let events = client
        .list_events(pb::ListEventsRequest::default())
        .await
        .unwrap()
        .into_inner()
        .events;
    events.into_iter().map(|e| (e.idempotency_key, e.creator)).collect()
}

fn assert_denied(status: &Status, key_id: &str) {
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    assert!(status.message().contains(key_id), "{}", status.message());
}

#[tokio::test]
async fn a_writer_loads_the_rows_of_its_provinces_and_no_others() {
    let system = start_secured().await;
    let (writer_id, mut writer) = key(&system, Role::Writer, &["bac-ninh"]).await;
    let rows = vec![
        row("bn-after", "Bắc Ninh", "2025-08-01"),
        row("hn-before", "Hà Nội", "2024-05-20"),
        row("bg-before", "Bắc Giang", "2025-03-01"),
        row("bn-before", "bac-ninh", "2024-05-20"),
        row("hn-after", "ha-noi", "2025-08-01"),
        row("bg-after", "Bắc Giang", "2025-08-01"),
        // Unknown to the catalogue: it cannot be checked, so it is refused, not held.
        row("nowhere", "Atlantis", "2024-05-20"),
    ];
    let ack = load(&mut writer, "scoped-load", rows.clone()).await;
    assert_eq!((ack.accepted, ack.held, ack.rejected, ack.duplicates), (4, 0, 3, 0));
    assert_eq!(ack.offset_reached, 7, "refused rows move the offset like rejected ones");
    let mut chain = fdi_kit::load_digest::ContentChain::new();
    chain.extend(&rows);
    assert_eq!(ack.content_digest, chain.to_hex(), "and the content digest covers them");
    let denied: Vec<i64> = ack.issues.iter().map(|issue| issue.offset).collect();
    assert_eq!(denied, [1, 4, 6]);
    for issue in &ack.issues {
        assert_eq!(issue.outcome(), Outcome::Rejected);
        let [violation] = issue.field_violations.as_slice() else {
            panic!("one violation: {issue:?}");
        };
        assert_eq!(violation.field, format!("rows[{}].province", issue.offset));
        assert!(
            violation.description.starts_with("permission denied"),
            "{}",
            violation.description
        );
        assert!(violation.description.contains(&writer_id), "{}", violation.description);
        assert!(
            violation.description.contains("provinces/bac-ninh"),
            "{}",
            violation.description
        );
        assert!(issue.reason.contains("permission denied"), "{}", issue.reason);
    }
    assert!(ack.issues[2].field_violations[0].description.contains("Atlantis"));

    let load_state = writer
        .get_bulk_load(pb::GetBulkLoadRequest {
            name: "bulkLoads/scoped-load".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((load_state.accepted, load_state.rejected, load_state.held), (4, 3, 0));

    let url = &system.database_url;
    assert_eq!(count(url, "SELECT count(*) FROM ingest.events").await, 4);
    assert_eq!(count(url, "SELECT count(*) FROM ingest.held_rows").await, 0);
    assert_eq!(
        count(
            url,
            "SELECT count(*) FROM ingest.events WHERE current_province_code <> 'bac-ninh'"
        )
        .await,
        0
    );
    let mut recorded = listed(&mut writer).await;
    recorded.sort();
    let expected = ["bg-after", "bg-before", "bn-after", "bn-before"];
    assert_eq!(recorded, expected.map(|k| (k.to_owned(), writer_id.clone())));

    let first = writer
        .get_event(pb::GetEventRequest {
            name: "events/1".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.creator, writer_id, "the event names the key that recorded it");
    assert_eq!(
        count(
            url,
            &format!("SELECT count(*) FROM ingest.events WHERE creator = '{writer_id}'")
        )
        .await,
        4
    );
}

#[tokio::test]
async fn a_pre_merger_writer_keeps_its_old_rows_only() {
    let system = start_secured().await;
    let (writer_id, mut bac_giang) = key(&system, Role::Writer, &["bac-giang"]).await;

    let before = submit(&mut bac_giang, row("bg-2025-03", "Bắc Giang", "2025-03-01"))
        .await
        .unwrap();
    assert_eq!(before.outcome(), Outcome::Accepted);
    let event = before.event.unwrap();
    assert_eq!(
        (event.province.as_str(), event.current_province.as_str()),
        ("provinces/bac-giang", "provinces/bac-ninh")
    );
    assert_eq!(event.creator, writer_id);

    let after = submit(&mut bac_giang, row("bg-2025-08", "Bắc Giang", "2025-08-01"))
        .await
        .unwrap_err();
    assert_denied(&after, &writer_id);
    let info = after.get_details_error_info().expect("ErrorInfo");
    assert_eq!(info.reason, fdi_ingest::access::PROVINCE_OUT_OF_SCOPE);
    let bac_ninh = submit(&mut bac_giang, row("bn-2025-03", "Bắc Ninh", "2025-03-01"))
        .await
        .unwrap_err();
    assert_denied(&bac_ninh, &writer_id);

    // The same rows in a bulk load: the pre-merger one goes in, the other is refused.
    let ack = load(
        &mut bac_giang,
        "bac-giang-load",
        vec![
            row("bg-load-before", "Bắc Giang", "2024-12-31"),
            row("bg-load-after", "Bắc Giang", "2025-07-01"),
        ],
    )
    .await;
    assert_eq!((ack.accepted, ack.rejected), (1, 1));
    assert_eq!(ack.issues[0].offset, 1);

    let keys: Vec<String> = listed(&mut bac_giang).await.into_iter().map(|(k, _)| k).collect();
    assert_eq!(keys, ["bg-2025-03", "bg-load-before"]);
    assert_eq!(
        count(&system.database_url, "SELECT count(*) FROM ingest.held_rows").await,
        0
    );
}

#[tokio::test]
async fn each_method_needs_its_role() {
    let system = start_secured().await;
    let (_, mut reader) = key(&system, Role::Reader, &[]).await;
    let (writer_id, mut writer) = key(&system, Role::Writer, &["bac-ninh"]).await;
    let (curator_id, mut curator) = key(&system, Role::Curator, &[]).await;

    let refused = submit(&mut reader, row("by-reader", "Bắc Ninh", "2024-05-20"))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");
    assert!(
        reader.list_events(pb::ListEventsRequest::default()).await.is_ok(),
        "a reader reads"
    );

    let target = pb::Target {
        province: "Bắc Ninh".into(),
        year: 2025,
        figure: Figure::TotalCapital.into(),
        scope: Scope::Fdi.into(),
        amount: Some(fdi_proto::Money {
            currency_code: "USD".into(),
            units: 5_000_000_000,
            nanos: 0,
        }),
        ..Default::default()
    };
    let request = || pb::SetTargetRequest {
        target: Some(target.clone()),
    };
    let by_writer = writer.set_target(request()).await.unwrap_err();
    assert_eq!(by_writer.code(), Code::PermissionDenied, "{by_writer:?}");
    assert!(by_writer.message().contains(&writer_id));
    let rates = pb::CreateExchangeRatesRequest {
        rates: vec![pb::ExchangeRate {
            currency_code: "EUR".into(),
            period: "2024".into(),
            vnd_per_unit: "27000".into(),
            source: "test".into(),
            ..Default::default()
        }],
    };
    let rates_by_writer = writer.create_exchange_rates(rates.clone()).await.unwrap_err();
    assert_eq!(rates_by_writer.code(), Code::PermissionDenied);
    let reprocess = writer
        .reprocess_held_rows(pb::ReprocessHeldRowsRequest::default())
        .await
        .unwrap_err();
    assert_eq!(reprocess.code(), Code::PermissionDenied, "re-processing is an admin's");

    // A curator sets reference data, and is recorded (and shown) as having done it.
    let set = curator.set_target(request()).await.unwrap().into_inner();
    assert_eq!(set.creator, curator_id);
    curator.create_exchange_rates(rates).await.unwrap();
    let listed = curator
        .list_exchange_rates(pb::ListExchangeRatesRequest::default())
        .await
        .unwrap()
        .into_inner()
        .rates;
    assert!(
        listed
            .iter()
            .any(|rate| rate.currency_code == "EUR" && rate.creator == curator_id),
        "{listed:?}"
    );
    assert!(listed.iter().any(|rate| rate.creator == "shipped"));
    let url = &system.database_url;
    assert_eq!(
        count(
            url,
            &format!("SELECT count(*) FROM ingest.targets WHERE creator = '{curator_id}'")
        )
        .await,
        1
    );
    assert_eq!(
        count(
            url,
            &format!("SELECT count(*) FROM ingest.exchange_rates WHERE creator = '{curator_id}'")
        )
        .await,
        1
    );
    assert!(
        count(
            url,
            "SELECT count(*) FROM ingest.exchange_rates WHERE creator = 'shipped'"
        )
        .await
            > 40
    );
    let curator_writes = submit(&mut curator, row("by-curator", "Bắc Ninh", "2024-05-20"))
        .await
        .unwrap_err();
    assert_eq!(curator_writes.code(), Code::PermissionDenied);

    // Without a key, nothing.
    let mut anonymous = system.client.clone();
    let status = anonymous
        .list_events(pb::ListEventsRequest::default())
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
}

/// The article of the documents tests: Bắc Ninh's figures for the first half of 2025, and a project in one of
/// its zones.
const ARTICLE: &str = "Bac Ninh industrial parks draw 1.2 billion USD in six months
In the first six months of 2025, Bac Ninh's industrial parks attracted 45 new projects with a total newly registered capital of 1.2 billion USD, the provincial industrial park management board said on July 8.
Korea's Example Components Co., Ltd will invest 150 million USD in a new factory at Yen Phong II-C Industrial Park, which is scheduled to start production next year.
";

#[tokio::test]
async fn documents_and_promotions_are_checked_against_the_writers_provinces() {
    let system = start_secured().await;
    let (ha_noi_id, mut ha_noi) = key(&system, Role::Writer, &["ha-noi"]).await;
    let (bac_ninh_id, mut bac_ninh) = key(&system, Role::Writer, &["bac-ninh"]).await;
    let request = || pb::IngestDocumentRequest {
        text: ARTICLE.to_owned(),
        url: "https://example.org/bac-ninh-h1".into(),
        title: "Bac Ninh industrial parks".into(),
        published: Some(fdi_proto::Date {
            year: 2025,
            month: 7,
            day: 10,
        }),
        language: String::new(),
    };
    let outside = ha_noi.ingest_document(request()).await.unwrap_err();
    assert_denied(&outside, &ha_noi_id);
    assert!(
        outside.message().contains("provinces/bac-ninh"),
        "{}",
        outside.message()
    );
    assert_eq!(
        count(&system.database_url, "SELECT count(*) FROM ingest.documents").await,
        0
    );

    let document = bac_ninh.ingest_document(request()).await.unwrap().into_inner();
    assert_eq!(document.creator, bac_ninh_id);
    let project = document.projects.first().expect("the named project").name.clone();

    let promote = || pb::PromoteProjectRequest {
        name: project.clone(),
        ..Default::default()
    };
    let by_ha_noi = ha_noi.promote_project(promote()).await.unwrap_err();
    assert_denied(&by_ha_noi, &ha_noi_id);
    let promoted = bac_ninh.promote_project(promote()).await.unwrap().into_inner();
    assert_eq!(promoted.outcome(), Outcome::Accepted);
    assert_eq!(promoted.event.unwrap().creator, bac_ninh_id);
}

#[tokio::test]
async fn held_rows_keep_the_key_that_sent_them() {
    let system = start_secured().await;
    let (writer_id, mut writer) = key(&system, Role::Writer, &["bac-ninh"]).await;
    let (_, mut admin) = key(&system, Role::Admin, &[]).await;

    // Its province is known and the writer's, its zone not yet: held, checked by the province.
    let mut zone_unknown = row("zone-unknown", "Bắc Ninh", "2024-05-20");
    zone_unknown.zone = "Ngoc Lam Industrial Park".into();
    let held = submit(&mut writer, zone_unknown).await.unwrap();
    assert_eq!(held.outcome(), Outcome::Held);
    let held_row = held.held_row.unwrap();
    assert_eq!(held_row.reason(), HoldReason::UnknownZone);
    assert_eq!(held_row.creator, writer_id);
    // Only a zone, unknown: the row's province cannot be checked, so it is refused rather than held.
    let mut only_zone = row("only-zone", "", "2024-05-20");
    only_zone.zone = "Ngoc Lam Industrial Park".into();
    let refused = submit(&mut writer, only_zone).await.unwrap_err();
    assert_denied(&refused, &writer_id);
    assert_eq!(
        count(&system.database_url, "SELECT count(*) FROM ingest.held_rows").await,
        1
    );

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
    let reprocessed = admin
        .reprocess_held_rows(pb::ReprocessHeldRowsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(reprocessed.accepted, 1);
    let recorded = listed(&mut admin).await;
    assert_eq!(
        recorded,
        [("zone-unknown".to_owned(), writer_id)],
        "recorded as made by the writer that sent it, not the admin that re-processed it"
    );
}
