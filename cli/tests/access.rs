//! Who may do what, against the three services with API keys required (the
//! production default): every RPC of the contracts, called by every role and
//! by nobody, is allowed or refused as the roles promise; bad, expired and
//! revoked keys are refused (a revocation on every replica); a caller over
//! its rate or in-flight limit is refused while another is served; and no key
//! ever appears in a log.

mod common;

use std::{collections::HashMap, process::Command, time::Duration};

use chrono::Utc;
use common::{Process, call, free_port, make_key, new_projects_2025, start_secured};
use fdi_kit::access::{Bearer, KeyStore, Role, parse_token};
use fdi_proto::catalogue::{GetProvinceRequest, catalogue_service_client::CatalogueServiceClient};
use prost_reflect::{DescriptorPool, DynamicMessage};
use tonic::{Code, transport::Channel};
use tonic_types::StatusExt;

/// Who may call each RPC, as the roles are promised (README "Roles"): R read, W write (a writer, for its
/// provinces), G register investors (services), C curate, A admin.
const NEEDS: &[(&str, char)] = &[
    ("CatalogueService/GetProvince", 'R'),
    ("CatalogueService/ListProvinces", 'R'),
    ("CatalogueService/GetZone", 'R'),
    ("CatalogueService/ListZones", 'R'),
    ("CatalogueService/CreateZone", 'C'),
    ("CatalogueService/UpdateZone", 'C'),
    ("CatalogueService/GetInvestor", 'R'),
    ("CatalogueService/ListInvestors", 'R'),
    ("CatalogueService/CreateInvestor", 'C'),
    ("CatalogueService/EnsureInvestors", 'G'),
    ("CatalogueService/Resolve", 'R'),
    ("CatalogueService/BatchResolve", 'R'),
    ("AccessService/CreateApiKey", 'A'),
    ("AccessService/GetApiKey", 'A'),
    ("AccessService/ListApiKeys", 'A'),
    ("AccessService/RevokeApiKey", 'A'),
    ("IngestService/SubmitEvent", 'W'),
    ("IngestService/LoadEvents", 'W'),
    ("IngestService/GetBulkLoad", 'R'),
    ("IngestService/GetEvent", 'R'),
    ("IngestService/ListEvents", 'R'),
    ("IngestService/ListHeldRows", 'R'),
    ("IngestService/ReprocessHeldRows", 'A'),
    ("IngestService/CreateExchangeRates", 'C'),
    ("IngestService/ListExchangeRates", 'R'),
    ("IngestService/SetTarget", 'C'),
    ("IngestService/ListTargets", 'R'),
    ("IngestService/IngestDocument", 'W'),
    ("IngestService/GetDocument", 'R'),
    ("IngestService/ListReportedStatistics", 'R'),
    ("IngestService/PromoteProject", 'W'),
    ("AnalyticsService/GetSummary", 'R'),
    ("AnalyticsService/GetRanking", 'R'),
    ("AnalyticsService/GetTimeSeries", 'R'),
    ("AnalyticsService/GetBreakdown", 'R'),
    ("AnalyticsService/GetTargetProgress", 'R'),
    ("AnalyticsService/Reconcile", 'R'),
    ("AnalyticsService/Watch", 'R'),
];

/// What each role may do, in the letters of [`NEEDS`].
fn grants(role: Role) -> &'static str {
    match role {
        Role::Reader => "R",
        Role::Writer => "RW",
        Role::Curator => "RC",
        Role::Service => "RG",
        Role::Admin => "RWGCA",
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_rpc_is_open_to_exactly_the_roles_promised() {
    let (system, admin) = start_secured(|_| {}).await;
    let url = &system.database_url;
    let mut keys = vec![(None, None)];
    for role in [Role::Reader, Role::Writer, Role::Curator, Role::Service] {
        let provinces: &[&str] = if role == Role::Writer { &["bac-ninh"] } else { &[] };
        keys.push((Some(role), Some(make_key(url, role, provinces, None).await)));
    }
    keys.push((Some(Role::Admin), Some(admin)));
    let pool = DescriptorPool::decode(fdi_proto::FILE_DESCRIPTOR_SET).unwrap();
    let channels = HashMap::from([
        ("fdi.catalogue.v1", connect(&system.catalogue.endpoint()).await),
        ("fdi.access.v1", connect(&system.catalogue.endpoint()).await),
        ("fdi.ingest.v1", connect(&system.ingest.endpoint()).await),
        ("fdi.analytics.v1", connect(&system.analytics.endpoint()).await),
    ]);
    let mut checked = 0;
    for service in pool.services().filter(|s| channels.contains_key(s.package_name())) {
        for method in service.methods() {
            let path = format!("{}/{}", service.name(), method.name());
            let needs = NEEDS.iter().find(|(p, _)| *p == path).map(|(_, needs)| *needs);
            let needs = needs.unwrap_or_else(|| panic!("{path} is not in this test's table: add what it needs"));
            for (role, token) in &keys {
                // An empty request: whoever may call gets past the access check (to validation or an answer).
                let request = DynamicMessage::new(method.input());
                let credential = Bearer::new(token.as_deref()).unwrap();
                let outcome = call(channels[service.package_name()].clone(), &method, request, &credential).await;
                let code = outcome.err().map_or(Code::Ok, |status| status.code());
                let expected = match role {
                    None => Some(Code::Unauthenticated),
                    Some(role) if !grants(*role).contains(needs) => Some(Code::PermissionDenied),
                    Some(_) => None,
                };
                match expected {
                    Some(expected) => assert_eq!(code, expected, "{path} called as {role:?}"),
                    None => assert!(
                        ![Code::Unauthenticated, Code::PermissionDenied].contains(&code),
                        "{path} called as {role:?}: {code:?}"
                    ),
                }
                checked += 1;
            }
        }
    }
    assert_eq!(
        checked,
        NEEDS.len() * keys.len(),
        "an RPC of the table is missing from the contracts"
    );
    // Health stays open to probes without a key.
    for (endpoint, service) in system.health_checks() {
        assert_eq!(
            fdi_testkit::health_status(&endpoint, service).await,
            Some(fdi_testkit::ServingStatus::Serving)
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_expired_and_revoked_keys_are_refused_on_every_replica() {
    let (system, admin) = start_secured(|_| {}).await;
    let url = system.database_url.clone();
    // A second catalogue replica on the same database.
    let mut settings = fdi_testkit::settings::secured(&url);
    settings.access.key_refresh = Duration::from_millis(200);
    let config = fdi_catalogue::Config::new("127.0.0.1:0".parse().unwrap(), settings);
    let replica = fdi_testkit::spawn_service(|l, s| fdi_catalogue::serve(config, l, s)).await;
    fdi_testkit::wait_until_serving(
        &replica.endpoint(),
        fdi_catalogue::SERVICE_NAME,
        Duration::from_secs(120),
    )
    .await;
    let replicas = [system.catalogue.endpoint(), replica.endpoint()];

    let reader = make_key(&url, Role::Reader, &[], None).await;
    for endpoint in &replicas {
        assert_eq!(read_province(endpoint, Some(&reader)).await, Code::Ok);
        assert_eq!(read_province(endpoint, Some(&admin)).await, Code::Ok);
    }
    let mut tampered = reader.clone();
    let last = if tampered.ends_with('A') { "B" } else { "A" };
    tampered.replace_range(tampered.len() - 1.., last);
    let expired = make_key(&url, Role::Reader, &[], Some(Utc::now() - chrono::Duration::minutes(1))).await;
    for bad in [
        tampered.as_str(),
        expired.as_str(),
        "fdi_not-a-key",
        "",
        "Basic dXNlcjpwYXNz",
    ] {
        assert_eq!(
            read_province(&replicas[0], Some(bad)).await,
            Code::Unauthenticated,
            "{bad}"
        );
    }

    // Revoked through the key table (as `fdi keys revoke` does, through either replica).
    let store = KeyStore::connect_lazy(&fdi_kit::config::DatabaseConfig::new(url.as_str()), "test").unwrap();
    store.revoke(parse_token(&reader).unwrap()).await.unwrap().unwrap();
    for endpoint in &replicas {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while read_province(endpoint, Some(&reader)).await != Code::Unauthenticated {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{endpoint} still accepts a revoked key"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(
            read_province(endpoint, Some(&admin)).await,
            Code::Ok,
            "other keys keep working"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_caller_over_its_rate_is_refused_while_another_is_served() {
    let (system, _admin) = start_secured(|settings| {
        settings.access.caller_rate = 1;
        settings.access.caller_burst = 3;
    })
    .await;
    let busy = make_key(&system.database_url, Role::Reader, &[], None).await;
    let other = make_key(&system.database_url, Role::Reader, &[], None).await;
    let endpoint = system.catalogue.endpoint();
    let mut refused = None;
    for _ in 0..10 {
        let mut client =
            CatalogueServiceClient::with_interceptor(connect(&endpoint).await, Bearer::new(Some(&busy)).unwrap());
        if let Err(status) = client.get_province(province_request()).await {
            refused = Some(status);
            break;
        }
    }
    let refused = refused.expect("ten quick calls at one call per second, burst 3: some must be refused");
    assert_eq!(refused.code(), Code::ResourceExhausted, "{refused:?}");
    let retry = refused.get_details_retry_info().expect("a retry delay");
    assert!(retry.retry_delay.is_some_and(|delay| delay > Duration::ZERO));
    assert_eq!(
        read_province(&endpoint, Some(&other)).await,
        Code::Ok,
        "another caller is served"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_caller_over_its_calls_in_flight_is_refused_while_another_is_served() {
    let (system, _admin) = start_secured(|settings| settings.access.caller_max_calls = 2).await;
    let busy = make_key(&system.database_url, Role::Reader, &[], None).await;
    let other = make_key(&system.database_url, Role::Reader, &[], None).await;
    let endpoint = system.analytics.endpoint();
    let watch = || async {
        let mut client = fdi_proto::analytics::analytics_service_client::AnalyticsServiceClient::with_interceptor(
            connect(&endpoint).await,
            Bearer::new(Some(&busy)).unwrap(),
        );
        // The client stays with its stream: dropping the last handle of a channel closes its connection.
        let stream = client.watch(watch_request()).await;
        stream.map(|stream| (client, stream))
    };
    let first = watch().await.expect("first stream");
    let second = watch().await.expect("second stream");
    let third = watch().await.expect_err("a third stream is over the limit of two");
    assert_eq!(third.code(), Code::ResourceExhausted);
    assert_eq!(
        read_province(&system.catalogue.endpoint(), Some(&other)).await,
        Code::Ok
    );
    let mut other_client = fdi_proto::analytics::analytics_service_client::AnalyticsServiceClient::with_interceptor(
        connect(&endpoint).await,
        Bearer::new(Some(&other)).unwrap(),
    );
    other_client
        .watch(watch_request())
        .await
        .expect("another caller's stream");
    drop((first, second));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while watch().await.is_err() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "ended streams must free their slots"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn keys_never_appear_in_logs() {
    let database = fdi_testkit::database().await;
    let admin = make_key(&database.url, Role::Admin, &[], None).await;
    let reader = make_key(&database.url, Role::Reader, &[], None).await;
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("DATABASE_URL", database.url.clone()),
        // Debug logs of every crate: the most a misconfigured deployment would print.
        ("RUST_LOG", "debug".to_owned()),
    ];
    let catalogue = Process::start("catalogue", free_port(), &env, dir.path());
    fdi_testkit::wait_until_serving(
        &catalogue.endpoint,
        fdi_catalogue::SERVICE_NAME,
        Duration::from_secs(120),
    )
    .await;
    let mut tampered = reader.clone();
    tampered.replace_range(tampered.len() - 4.., "AAAA");
    assert_eq!(read_province(&catalogue.endpoint, Some(&admin)).await, Code::Ok);
    assert_eq!(read_province(&catalogue.endpoint, Some(&reader)).await, Code::Ok);
    assert_eq!(
        read_province(&catalogue.endpoint, Some(&tampered)).await,
        Code::Unauthenticated
    );
    let mut client = CatalogueServiceClient::with_interceptor(
        connect(&catalogue.endpoint).await,
        Bearer::new(Some(&reader)).unwrap(),
    );
    let denied = client
        .create_zone(fdi_proto::catalogue::CreateZoneRequest::default())
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    assert!(!denied.message().contains(secret_of(&reader)), "{}", denied.message());
    let log = catalogue.log_text();
    assert!(log.lines().count() > 10, "the service logged: {log}");
    for token in [&admin, &reader, &tampered] {
        assert!(!log.contains(secret_of(token)), "a key's secret is in the log");
    }
    assert!(
        log.contains(parse_token(&reader).unwrap()),
        "key ids name callers in the log"
    );
}

/// The secret part of a key (after `fdi_{key_id}_`).
fn secret_of(token: &str) -> &str {
    &token[21..]
}

async fn connect(endpoint: &str) -> Channel {
    Channel::from_shared(endpoint.to_owned())
        .unwrap()
        .connect()
        .await
        .unwrap()
}

fn province_request() -> GetProvinceRequest {
    GetProvinceRequest {
        name: "provinces/bac-ninh".into(),
    }
}

/// The code of a GetProvince call with `token` (none without).
async fn read_province(endpoint: &str, token: Option<&str>) -> Code {
    let credential = Bearer::new(token).unwrap();
    let mut client = CatalogueServiceClient::with_interceptor(connect(endpoint).await, credential);
    client
        .get_province(province_request())
        .await
        .err()
        .map_or(Code::Ok, |status| status.code())
}

fn watch_request() -> fdi_proto::analytics::WatchRequest {
    fdi_proto::analytics::WatchRequest {
        target_crossings: true,
        ..Default::default()
    }
}

/// A row of a new project, as a register would carry it.
fn new_project(key: &str, province: &str, date: &str) -> fdi_proto::ingest::EventInput {
    fdi_proto::ingest::EventInput {
        idempotency_key: key.into(),
        kind: "new".into(),
        event_date: date.into(),
        project_ref: format!("GCN-{key}"),
        investor: "Example Electronics Co., Ltd".into(),
        investor_country: "KR".into(),
        province: province.into(),
        amount: "1000000".into(),
        currency: "USD".into(),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_writers_rows_outside_its_provinces_are_in_no_figure() {
    let (system, admin) = start_secured(|_| {}).await;
    let writer = make_key(&system.database_url, Role::Writer, &["bac-ninh"], None).await;
    let rows = vec![
        new_project("bn-1", "Bắc Ninh", "2025-03-01"),
        new_project("hn-1", "Hà Nội", "2025-03-02"),
        new_project("bg-before", "Bắc Giang", "2025-03-03"),
        new_project("bg-after", "Bắc Giang", "2025-08-04"),
        new_project("hn-2", "Hà Nội", "2025-08-05"),
    ];
    let source = rows.clone();
    let open: fdi_client::loader::OpenRows = Box::new(move |offset| {
        Ok(Box::new(
            source.clone().into_iter().skip(usize::try_from(offset).unwrap()),
        ))
    });
    let mut options = fdi_client::loader::LoadOptions::new(system.ingest.endpoint(), "writer-file");
    options.credential = Bearer::new(Some(&writer)).unwrap();
    let summary = fdi_client::loader::load(&options, open, &mut |_| {}).await.unwrap();
    assert_eq!(
        (summary.offset_reached, summary.accepted, summary.rejected),
        (5, 3, 2),
        "{summary:?}"
    );
    // The last sequence is that of the third accepted row; figures are read once analytics has folded it.
    let stored: Vec<i64> = sqlx::query_scalar("SELECT sequence FROM ingest.events ORDER BY sequence")
        .fetch_all(&sqlx::PgPool::connect(&system.database_url).await.unwrap())
        .await
        .unwrap();
    assert_eq!(stored.len(), 3);
    let last = *stored.last().unwrap();
    assert_eq!(
        new_projects_2025(&system.analytics.endpoint(), Some(&admin), "Hà Nội", last).await,
        0
    );
    assert_eq!(
        new_projects_2025(&system.analytics.endpoint(), Some(&admin), "Bắc Ninh", last).await,
        3
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn reflection_can_be_switched_off_while_health_stays_open() {
    let (system, _admin) = start_secured(|settings| settings.access.reflection = false).await;
    let address = system.catalogue.endpoint().trim_start_matches("http://").to_owned();
    let listed = Command::new(fdi_testkit::grpcurl())
        .args(["-plaintext", &address, "list"])
        .output()
        .unwrap();
    assert!(
        !listed.status.success(),
        "reflection answered: {}",
        String::from_utf8_lossy(&listed.stdout)
    );
    assert_eq!(
        fdi_testkit::health_status(&system.catalogue.endpoint(), fdi_catalogue::SERVICE_NAME).await,
        Some(fdi_testkit::ServingStatus::Serving)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn bootstraps_at_the_same_moment_make_one_first_admin() {
    let db = fdi_testkit::database().await;
    let store = KeyStore::connect_lazy(&fdi_kit::config::DatabaseConfig::new(db.url.as_str()), "test").unwrap();
    store.migrate().await.unwrap();
    let attempt = || {
        let store = store.clone();
        tokio::spawn(async move {
            let key = fdi_kit::access::generate().unwrap();
            let record = fdi_kit::access::KeyRecord {
                key_id: key.key_id,
                secret_hash: key.secret_hash,
                role: Role::Admin,
                provinces: Vec::new(),
                description: "bootstrap".into(),
                creator: "bootstrap".into(),
                create_time: Utc::now(),
                expire_time: None,
                revoke_time: None,
            };
            store.insert_first_admin(&record).await.unwrap()
        })
    };
    let attempts: Vec<_> = (0..4).map(|_| attempt()).collect();
    let mut stored = 0;
    for attempt in attempts {
        stored += usize::from(attempt.await.unwrap());
    }
    assert_eq!(stored, 1);
    assert_eq!(store.all().await.unwrap().len(), 1);
    assert!(store.has_active_admin().await.unwrap());
}
