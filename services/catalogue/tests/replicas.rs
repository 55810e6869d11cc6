//! Catalogue replicas against one database see each other's writes within a
//! bounded time: two real servers (each with its own in-memory snapshot),
//! whose periodic refresh is an hour, so only the notification a write sends
//! on commit can bring it to the other replica within the bound.

mod common;

use std::time::Duration;

use fdi_catalogue::store::CHANNEL;
use fdi_proto::catalogue::{self as pb, ZoneKind, catalogue_service_client::CatalogueServiceClient};
use fdi_testkit::ServiceGuard;
use prost_types::FieldMask;
use sqlx::{Connection, PgConnection};
use tokio::time::{Instant, sleep};

/// How long a replica may take to resolve another's write (generous: debug builds on a busy machine).
const BOUND: Duration = Duration::from_secs(10);
/// The periodic refresh of the replicas under test: far beyond the test.
const REFRESH: Duration = Duration::from_secs(3600);

/// A replica over the database at `url`, refreshing its snapshot only every [`REFRESH`].
async fn replica(url: &str) -> (ServiceGuard, common::Client) {
    let mut config = common::config(url);
    config.snapshot_refresh = REFRESH;
    let guard = common::start_configured(config).await;
    let client = CatalogueServiceClient::connect(guard.endpoint())
        .await
        .expect("connect");
    (guard, client)
}

/// What `query` resolves to now (the resource of the match, if any), through the replica's snapshot.
async fn resolved(client: &mut common::Client, query: &str) -> Option<pb::Candidate> {
    client
        .resolve(pb::ResolveRequest {
            query: query.to_owned(),
            kinds: vec![pb::EntityKind::Zone.into()],
            ..Default::default()
        })
        .await
        .unwrap_or_else(|e| panic!("resolve {query}: {e}"))
        .into_inner()
        .r#match
}

/// Waits until `query` resolves to `resource` named `display_name` on the replica of `client`; fails after [`BOUND`].
async fn resolves_within_bound(client: &mut common::Client, query: &str, resource: &str, display_name: &str) {
    let started = Instant::now();
    loop {
        let found = resolved(client, query).await;
        if found
            .as_ref()
            .is_some_and(|m| m.resource == resource && m.display_name == display_name)
        {
            return;
        }
        assert!(
            started.elapsed() < BOUND,
            "{query:?} did not resolve to {resource} ({display_name}) within {BOUND:?}; it resolves to {found:?}"
        );
        sleep(Duration::from_millis(50)).await;
    }
}

async fn create_zone(client: &mut common::Client, display_name: &str, aliases: &[&str]) -> pb::Zone {
    client
        .create_zone(pb::CreateZoneRequest {
            zone: Some(pb::Zone {
                display_name: display_name.to_owned(),
                kind: ZoneKind::IndustrialPark.into(),
                province: "Bắc Giang".into(),
                aliases: aliases.iter().map(|&a| a.to_owned()).collect(),
                ..Default::default()
            }),
            zone_id: String::new(),
        })
        .await
        .unwrap_or_else(|e| panic!("create {display_name}: {e}"))
        .into_inner()
}

#[tokio::test]
async fn a_zone_written_on_one_replica_resolves_on_the_other() {
    let database = fdi_testkit::database().await;
    let (_a, mut a) = replica(&database.url).await;
    let (_b, mut b) = replica(&database.url).await;
    assert_eq!(resolved(&mut b, "KCN Ngọc Lâm").await, None, "not there yet");

    let created = create_zone(&mut a, "Ngoc Lam IP", &["KCN Ngọc Lâm"]).await;
    assert_eq!(created.name, "zones/ngoc-lam");
    let on_a = resolved(&mut a, "KCN Ngọc Lâm").await.map(|m| m.resource);
    assert_eq!(
        on_a.as_deref(),
        Some("zones/ngoc-lam"),
        "the replica that wrote resolves at once"
    );
    resolves_within_bound(&mut b, "KCN Ngoc Lam", "zones/ngoc-lam", "Ngoc Lam IP").await;

    // A rename with a new alias, on the other replica this time.
    b.update_zone(pb::UpdateZoneRequest {
        zone: Some(pb::Zone {
            name: "zones/ngoc-lam".into(),
            display_name: "Ngoc Lam Riverside IP".into(),
            aliases: vec!["KCN Sông Thương".into()],
            ..Default::default()
        }),
        update_mask: Some(FieldMask {
            paths: vec!["display_name".into(), "aliases".into()],
        }),
    })
    .await
    .unwrap();
    resolves_within_bound(
        &mut a,
        "Song Thuong industrial park",
        "zones/ngoc-lam",
        "Ngoc Lam Riverside IP",
    )
    .await;
    resolves_within_bound(&mut a, "Ngoc Lam", "zones/ngoc-lam", "Ngoc Lam Riverside IP").await;

    // A burst of writes on both replicas at once: each sees all of them.
    let names: Vec<String> = (1..=8).map(|n| format!("Burst Park {n} IP")).collect();
    let writes = names.clone().into_iter().enumerate().map(|(i, name)| {
        let mut client = if i % 2 == 0 { a.clone() } else { b.clone() };
        async move { create_zone(&mut client, &name, &[]).await }
    });
    let created = spawn_all(writes).await;
    for (zone, name) in created.iter().zip(&names) {
        let query = name.trim_end_matches(" IP");
        resolves_within_bound(&mut a, query, &zone.name, name).await;
        resolves_within_bound(&mut b, query, &zone.name, name).await;
    }
}

#[tokio::test]
async fn a_replica_that_lost_its_connections_reloads_once_it_listens_again() {
    let database = fdi_testkit::database().await;
    let mut admin = PgConnection::connect(&database.url).await.unwrap();
    // B connects as a role of its own, so that it alone can be cut off.
    let role = format!("fdi_replica_{}", database.name);
    let password = "replica-test-password-0123";
    sqlx::query(&format!("CREATE ROLE {role} LOGIN SUPERUSER PASSWORD '{password}'"))
        .execute(&mut admin)
        .await
        .unwrap();
    let (_a, mut a) = replica(&database.url).await;
    let (b_server, mut b) = replica(&as_role(&database.url, &role, password)).await;
    wait_for_listeners(&mut admin, 2).await;

    // B loses every connection, its listening one included, and cannot connect again for a while: the write made
    // meanwhile is notified to nobody on B's side.
    sqlx::query(&format!("ALTER ROLE {role} NOLOGIN"))
        .execute(&mut admin)
        .await
        .unwrap();
    sqlx::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1")
        .bind(&role)
        .execute(&mut admin)
        .await
        .unwrap();
    wait_for_listeners(&mut admin, 1).await;
    create_zone(&mut a, "Lost Signal IP", &[]).await;
    sleep(Duration::from_millis(500)).await;
    assert_eq!(resolved(&mut b, "Lost Signal").await, None, "B heard nothing");

    // Once it may connect, it listens again and reloads, since it may have missed writes (it did).
    sqlx::query(&format!("ALTER ROLE {role} LOGIN"))
        .execute(&mut admin)
        .await
        .unwrap();
    resolves_within_bound(&mut b, "Lost Signal", "zones/lost-signal", "Lost Signal IP").await;
    wait_for_listeners(&mut admin, 2).await;
    create_zone(&mut a, "Found Signal IP", &[]).await;
    resolves_within_bound(&mut b, "Found Signal", "zones/found-signal", "Found Signal IP").await;

    b_server.stop().await.unwrap();
    sqlx::query(&format!("DROP ROLE {role}"))
        .execute(&mut admin)
        .await
        .unwrap();
}

/// `url` (a superuser's) as `role` with `password`.
fn as_role(url: &str, role: &str, password: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("a URL");
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    let host = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    format!("{scheme}://{role}:{password}@{host}{path}")
}

/// How the statement a listening connection last ran begins.
fn listen_statement() -> String {
    format!("LISTEN \"{CHANNEL}\"")
}

/// Waits until `count` connections listen on the catalogue's channel; fails after [`BOUND`].
async fn wait_for_listeners(admin: &mut PgConnection, count: i64) {
    let started = Instant::now();
    loop {
        let (listening,): (i64,) = sqlx::query_as(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND starts_with(query, $1)",
        )
        .bind(listen_statement())
        .fetch_one(&mut *admin)
        .await
        .unwrap();
        if listening == count {
            return;
        }
        assert!(
            started.elapsed() < BOUND,
            "{listening} connections listen on {CHANNEL}, not {count}, after {BOUND:?}"
        );
        sleep(Duration::from_millis(50)).await;
    }
}

/// Runs `futures` at once, each on a task of its own, and collects their outputs in order.
async fn spawn_all<F>(futures: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut outputs = Vec::with_capacity(handles.len());
    for handle in handles {
        outputs.push(handle.await.expect("a write panicked"));
    }
    outputs
}
