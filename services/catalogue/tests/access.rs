//! Black-box tests of API keys: the catalogue's AccessService, and the access layer's decisions on the
//! catalogue's own methods, against a real server and database with keys required (`settings::secured`) or,
//! where only what the RPCs do matters, with anonymous calls allowed.

mod common;

use std::{
    collections::BTreeSet,
    process::Command,
    time::{Duration, Instant},
};

use chrono::Utc;
use fdi_kit::{
    access::{Bearer, KeyRecord, KeyStore, Role, generate, parse_token},
    config::DatabaseConfig,
};
use fdi_proto::{
    access::{self as pb, access_service_client::AccessServiceClient},
    catalogue::{self as cat, catalogue_service_client::CatalogueServiceClient},
};
use fdi_testkit::{
    ServiceGuard,
    settings::{common, secured},
};
use tonic::{
    Code, Status,
    service::interceptor::InterceptedService,
    transport::{Channel, Endpoint},
};
use tonic_types::StatusExt;

type Keys = AccessServiceClient<InterceptedService<Channel, Bearer>>;
type Catalogue = CatalogueServiceClient<InterceptedService<Channel, Bearer>>;

/// A catalogue with keys required, and the secret of an admin key written into its database as
/// `fdi keys bootstrap` does.
async fn start_secured() -> (ServiceGuard, String) {
    let database = fdi_testkit::database().await;
    let admin = bootstrap_admin(&database.url).await;
    (common::start_with(secured(&database.url)).await, admin)
}

/// A catalogue that lets every call in as the anonymous admin.
async fn start_open() -> ServiceGuard {
    let database = fdi_testkit::database().await;
    common::start_with(common(&database.url)).await
}

async fn bootstrap_admin(url: &str) -> String {
    let store = KeyStore::connect_lazy(&DatabaseConfig::new(url), "access-test").unwrap();
    store.migrate().await.unwrap();
    let key = generate().unwrap();
    store
        .insert(&KeyRecord {
            key_id: key.key_id.clone(),
            secret_hash: key.secret_hash.clone(),
            role: Role::Admin,
            provinces: Vec::new(),
            description: "test admin".into(),
            creator: "bootstrap".into(),
            create_time: Utc::now(),
            expire_time: None,
            revoke_time: None,
        })
        .await
        .unwrap();
    key.token
}

async fn channel(guard: &ServiceGuard) -> Channel {
    Endpoint::from_shared(guard.endpoint())
        .unwrap()
        .connect()
        .await
        .expect("connect")
}

fn keys(channel: &Channel, token: Option<&str>) -> Keys {
    AccessServiceClient::with_interceptor(channel.clone(), Bearer::new(token).unwrap())
}

fn catalogue(channel: &Channel, token: Option<&str>) -> Catalogue {
    CatalogueServiceClient::with_interceptor(channel.clone(), Bearer::new(token).unwrap())
}

fn key(role: pb::Role, provinces: &[&str]) -> pb::ApiKey {
    pb::ApiKey {
        role: role.into(),
        provinces: provinces.iter().map(|p| (*p).to_owned()).collect(),
        description: format!("{} for a test", role.as_str_name()),
        ..Default::default()
    }
}

async fn create(client: &mut Keys, api_key: pb::ApiKey) -> Result<pb::CreateApiKeyResponse, Status> {
    client
        .create_api_key(pb::CreateApiKeyRequest { api_key: Some(api_key) })
        .await
        .map(tonic::Response::into_inner)
}

async fn list_provinces(client: &mut Catalogue) -> Result<cat::ListProvincesResponse, Status> {
    client
        .list_provinces(cat::ListProvincesRequest {
            page_size: Some(3),
            ..Default::default()
        })
        .await
        .map(tonic::Response::into_inner)
}

/// The fields of an INVALID_ARGUMENT's field violations.
fn violated_fields(status: &Status) -> Vec<String> {
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    status
        .get_details_bad_request()
        .expect("a BadRequest detail")
        .field_violations
        .into_iter()
        .map(|v| v.field)
        .collect()
}

#[tokio::test]
async fn an_admin_makes_a_writer_key_that_reads_but_may_not_curate_or_manage_keys() {
    let (server, admin_token) = start_secured().await;
    let channel = channel(&server).await;
    let mut admin = keys(&channel, Some(&admin_token));

    let created = create(&mut admin, key(pb::Role::Writer, &["provinces/bac-ninh", "bac-giang"]))
        .await
        .expect("created");
    let stored = created.api_key.expect("the key");
    let key_id = parse_token(&created.secret).expect("the secret is a key").to_owned();
    assert_eq!(stored.name, format!("apiKeys/{key_id}"));
    assert_eq!(stored.role(), pb::Role::Writer);
    assert_eq!(stored.provinces, ["provinces/bac-ninh", "provinces/bac-giang"]);
    assert_eq!(
        stored.creator,
        parse_token(&admin_token).unwrap(),
        "the creator is the calling key"
    );
    assert!(stored.create_time.is_some() && stored.expire_time.is_none() && stored.revoke_time.is_none());

    let fetched = admin
        .get_api_key(pb::GetApiKeyRequest {
            name: stored.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(fetched, stored);
    assert!(!format!("{fetched:?}").contains("argon2"), "no hash is ever returned");

    // The secret works at once, for what a writer may do on the catalogue: read.
    let mut writer = catalogue(&channel, Some(&created.secret));
    assert_eq!(
        list_provinces(&mut writer)
            .await
            .expect("a writer reads")
            .provinces
            .len(),
        3
    );
    let zone = writer
        .create_zone(cat::CreateZoneRequest {
            zone: Some(cat::Zone {
                display_name: "KCN Thử Nghiệm".into(),
                kind: cat::ZoneKind::IndustrialPark.into(),
                province: "provinces/bac-ninh".into(),
                ..Default::default()
            }),
            zone_id: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(zone.code(), Code::PermissionDenied, "{zone:?}");
    let mut writer_keys = keys(&channel, Some(&created.secret));
    let denied = create(&mut writer_keys, key(pb::Role::Admin, &[])).await.unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied, "{denied:?}");

    // Without a key, or with a made-up one, nothing but health and reflection answers.
    let anonymous = list_provinces(&mut catalogue(&channel, None)).await.unwrap_err();
    assert_eq!(anonymous.code(), Code::Unauthenticated, "{anonymous:?}");
    let forged = format!("{}{}", &created.secret[..created.secret.len() - 4], "AAAA");
    let forged = list_provinces(&mut catalogue(&channel, Some(&forged)))
        .await
        .unwrap_err();
    assert_eq!(forged.code(), Code::Unauthenticated, "{forged:?}");
    let listed = keys(&channel, None)
        .list_api_keys(pb::ListApiKeysRequest::default())
        .await
        .unwrap_err();
    assert_eq!(listed.code(), Code::Unauthenticated);
}

#[tokio::test]
async fn zones_and_investors_name_the_key_that_wrote_them() {
    let (server, admin_token) = start_secured().await;
    let channel = channel(&server).await;
    let mut admin_keys = keys(&channel, Some(&admin_token));
    let curator = create(&mut admin_keys, key(pb::Role::Curator, &[]))
        .await
        .unwrap()
        .secret;
    let service = create(&mut admin_keys, key(pb::Role::Service, &[]))
        .await
        .unwrap()
        .secret;
    let (admin_id, curator_id, service_id) = (
        parse_token(&admin_token).unwrap(),
        parse_token(&curator).unwrap(),
        parse_token(&service).unwrap(),
    );
    let mut as_admin = catalogue(&channel, Some(&admin_token));
    let mut as_curator = catalogue(&channel, Some(&curator));
    let mut as_service = catalogue(&channel, Some(&service));

    // The shipped zones are the seed's.
    let seeded = as_curator
        .get_zone(cat::GetZoneRequest {
            name: "zones/quang-chau".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((seeded.creator.as_str(), seeded.updater.as_str()), ("seed", "seed"));

    // A curator's zone is the curator's (a creator sent along is ignored), until an admin changes it.
    let created = as_curator
        .create_zone(cat::CreateZoneRequest {
            zone: Some(cat::Zone {
                display_name: "KCN Thử Nghiệm".into(),
                kind: cat::ZoneKind::IndustrialPark.into(),
                province: "provinces/bac-giang".into(),
                creator: "someone-else".into(),
                updater: "someone-else".into(),
                ..Default::default()
            }),
            zone_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (created.creator.as_str(), created.updater.as_str()),
        (curator_id, curator_id)
    );
    let updated = as_admin
        .update_zone(cat::UpdateZoneRequest {
            zone: Some(cat::Zone {
                name: created.name.clone(),
                status: "operating".into(),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["status".into()],
            }),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (updated.creator.as_str(), updated.updater.as_str()),
        (curator_id, admin_id)
    );
    let masked = as_admin
        .update_zone(cat::UpdateZoneRequest {
            zone: Some(cat::Zone {
                name: created.name.clone(),
                creator: admin_id.into(),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["creator".into()],
            }),
        })
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&masked), ["update_mask.paths[0]"]);
    let fetched = as_curator
        .get_zone(cat::GetZoneRequest {
            name: created.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(fetched, updated);
    let listed = as_curator
        .list_zones(cat::ListZonesRequest {
            province: "bac-giang".into(),
            page_size: Some(500),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let writers = |name: &str| {
        listed
            .zones
            .iter()
            .find(|zone| zone.name == name)
            .map(|zone| (zone.creator.as_str(), zone.updater.as_str()))
    };
    assert_eq!(writers(&created.name), Some((curator_id, admin_id)));
    assert_eq!(writers("zones/quang-chau"), Some(("seed", "seed")));

    // An investor is the curator's that created it; one ingest meets first, the service key's.
    let investor = as_curator
        .create_investor(cat::CreateInvestorRequest {
            investor: Some(cat::Investor {
                display_name: "Hyosung Corporation".into(),
                creator: "someone-else".into(),
                ..Default::default()
            }),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(investor.creator, curator_id);
    let ask = |name: &str| cat::Investor {
        display_name: name.into(),
        ..Default::default()
    };
    let ensured = as_service
        .ensure_investors(cat::EnsureInvestorsRequest {
            investors: vec![ask("HYOSUNG CORP."), ask("Amkor Technology Vietnam Co., Ltd")],
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(ensured.created, 1);
    let creators: Vec<&str> = ensured.investors.iter().map(|i| i.creator.as_str()).collect();
    assert_eq!(creators, [curator_id, service_id], "a known investor keeps its creator");
    let fetched = as_curator
        .get_investor(cat::GetInvestorRequest {
            name: ensured.investors[1].name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(fetched.creator, service_id);
    let listed = as_curator
        .list_investors(cat::ListInvestorsRequest::default())
        .await
        .unwrap()
        .into_inner();
    let creators: Vec<(&str, &str)> = listed
        .investors
        .iter()
        .map(|i| (i.name.as_str(), i.creator.as_str()))
        .collect();
    assert_eq!(
        creators,
        [
            (investor.name.as_str(), curator_id),
            (fetched.name.as_str(), service_id)
        ]
    );
}

#[tokio::test]
async fn a_revoked_key_is_refused_within_two_seconds() {
    let (server, admin_token) = start_secured().await;
    let channel = channel(&server).await;
    let mut admin = keys(&channel, Some(&admin_token));
    let created = create(&mut admin, key(pb::Role::Reader, &[])).await.unwrap();
    let name = created.api_key.unwrap().name;
    let mut reader = catalogue(&channel, Some(&created.secret));
    list_provinces(&mut reader).await.expect("the new key works");

    let revoked = admin
        .revoke_api_key(pb::RevokeApiKeyRequest { name: name.clone() })
        .await
        .unwrap()
        .into_inner();
    let revoke_time = revoked.revoke_time.expect("revoked");
    let started = Instant::now();
    let refused = loop {
        match list_provinces(&mut reader).await {
            Err(status) => break status,
            Ok(_) if started.elapsed() < Duration::from_secs(2) => tokio::time::sleep(Duration::from_millis(50)).await,
            Ok(_) => panic!("the revoked key still works after {:?}", started.elapsed()),
        }
    };
    assert_eq!(refused.code(), Code::Unauthenticated, "{refused:?}");
    assert!(refused.message().contains("revoked"), "{refused:?}");

    // Revoking again changes nothing; the key stays readable to admins.
    let again = admin
        .revoke_api_key(pb::RevokeApiKeyRequest { name: name.clone() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again.revoke_time, Some(revoke_time));
    let fetched = admin
        .get_api_key(pb::GetApiKeyRequest { name })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(fetched.revoke_time, Some(revoke_time));
}

#[tokio::test]
async fn where_anonymous_calls_are_allowed_keys_are_made_by_anonymous() {
    let server = start_open().await;
    let channel = channel(&server).await;
    let created = create(&mut keys(&channel, None), key(pb::Role::Service, &[]))
        .await
        .unwrap();
    let stored = created.api_key.unwrap();
    assert_eq!(stored.creator, "anonymous");
    assert_eq!(stored.role(), pb::Role::Service);
    assert!(stored.provinces.is_empty());
}

#[tokio::test]
async fn wrong_keys_are_refused_with_field_violations() {
    let server = start_open().await;
    let channel = channel(&server).await;
    let mut client = keys(&channel, None);
    let future = prost_types::Timestamp {
        seconds: Utc::now().timestamp() + 86_400,
        nanos: 0,
    };
    let past = prost_types::Timestamp {
        seconds: Utc::now().timestamp() - 1,
        nanos: 0,
    };
    let cases: Vec<(pb::ApiKey, Vec<&str>)> = vec![
        (key(pb::Role::Writer, &[]), vec!["api_key.provinces"]),
        (
            key(pb::Role::Writer, &["bac-ninh", "provinces/atlantis", "bac-nihn"]),
            vec!["api_key.provinces[1]", "api_key.provinces[2]"],
        ),
        (key(pb::Role::Reader, &["bac-ninh"]), vec!["api_key.provinces"]),
        (key(pb::Role::Unspecified, &[]), vec!["api_key.role"]),
        (
            pb::ApiKey {
                role: 42,
                ..Default::default()
            },
            vec!["api_key.role"],
        ),
        (
            pb::ApiKey {
                description: "x".repeat(501),
                ..key(pb::Role::Reader, &[])
            },
            vec!["api_key.description"],
        ),
        (
            pb::ApiKey {
                expire_time: Some(past),
                ..key(pb::Role::Reader, &[])
            },
            vec!["api_key.expire_time"],
        ),
        (
            pb::ApiKey {
                expire_time: Some(future),
                ..key(pb::Role::Unspecified, &["nowhere"])
            },
            vec!["api_key.role", "api_key.provinces[0]"],
        ),
    ];
    for (api_key, expected) in cases {
        let status = create(&mut client, api_key.clone()).await.unwrap_err();
        assert_eq!(violated_fields(&status), expected, "{api_key:?}: {status:?}");
    }
    let typo = create(&mut client, key(pb::Role::Writer, &["bac-nihn"]))
        .await
        .unwrap_err();
    assert!(
        typo.message().contains("provinces/bac-ninh"),
        "suggests the nearest: {typo:?}"
    );
    let missing = client
        .create_api_key(pb::CreateApiKeyRequest { api_key: None })
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&missing), ["api_key"]);

    // What is right is accepted: the longest description, an expiry ahead, a duplicate province once.
    let created = create(
        &mut client,
        pb::ApiKey {
            description: "x".repeat(500),
            expire_time: Some(future),
            ..key(pb::Role::Writer, &["bac-ninh", "provinces/bac-ninh"])
        },
    )
    .await
    .unwrap()
    .api_key
    .unwrap();
    assert_eq!(created.provinces, ["provinces/bac-ninh"]);
    assert_eq!(created.expire_time, Some(future));
}

#[tokio::test]
async fn unknown_keys_are_not_found_and_malformed_names_invalid() {
    let server = start_open().await;
    let channel = channel(&server).await;
    let mut client = keys(&channel, None);
    for name in ["apiKeys/0123456789abcdef", "0123456789abcdef"] {
        let got = client
            .get_api_key(pb::GetApiKeyRequest { name: name.into() })
            .await
            .unwrap_err();
        assert_eq!(got.code(), Code::NotFound, "{name}: {got:?}");
        let revoked = client
            .revoke_api_key(pb::RevokeApiKeyRequest { name: name.into() })
            .await
            .unwrap_err();
        assert_eq!(revoked.code(), Code::NotFound, "{name}: {revoked:?}");
    }
    let secret = generate().unwrap().token;
    for name in [
        "",
        "apiKeys/",
        "users/0123",
        "apiKeys/NOT-A-KEY",
        "apiKeys/0123/4567",
        secret.as_str(),
    ] {
        let got = client
            .get_api_key(pb::GetApiKeyRequest { name: name.into() })
            .await
            .unwrap_err();
        assert_eq!(violated_fields(&got), ["name"], "{name}");
        assert!(!got.message().contains(&secret), "a pasted secret is not echoed");
        let revoked = client
            .revoke_api_key(pb::RevokeApiKeyRequest { name: name.into() })
            .await
            .unwrap_err();
        assert_eq!(violated_fields(&revoked), ["name"], "{name}");
    }
}

async fn list_all(client: &mut Keys, page_size: i32, show_inactive: bool) -> Vec<String> {
    let mut names = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = client
            .list_api_keys(pb::ListApiKeysRequest {
                page_size: Some(page_size),
                page_token: page_token.clone(),
                show_inactive,
            })
            .await
            .unwrap()
            .into_inner();
        assert!(page.api_keys.len() <= usize::try_from(page_size).unwrap());
        names.extend(page.api_keys.into_iter().map(|key| key.name));
        if page.next_page_token.is_empty() {
            return names;
        }
        page_token = page.next_page_token;
    }
}

#[tokio::test]
async fn keys_are_listed_by_key_id_in_pages_with_inactive_ones_on_request() {
    let server = start_open().await;
    let channel = channel(&server).await;
    let mut client = keys(&channel, None);
    let mut made = Vec::new();
    for _ in 0..5 {
        made.push(
            create(&mut client, key(pb::Role::Reader, &[]))
                .await
                .unwrap()
                .api_key
                .unwrap()
                .name,
        );
    }
    client
        .revoke_api_key(pb::RevokeApiKeyRequest { name: made[2].clone() })
        .await
        .unwrap();

    let all = list_all(&mut client, 2, true).await;
    let mut sorted = made.clone();
    sorted.sort();
    assert_eq!(all, sorted, "every key once, by key id");
    let active = list_all(&mut client, 2, false).await;
    assert_eq!(
        active,
        sorted
            .iter()
            .filter(|name| **name != made[2])
            .cloned()
            .collect::<Vec<_>>()
    );
    assert_eq!(list_all(&mut client, 1000, true).await, sorted);
    let whole = client
        .list_api_keys(pb::ListApiKeysRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(whole.api_keys.len(), 4, "default page of 100, active keys only");
    assert!(whole.next_page_token.is_empty());

    for page_size in [0, -1, 1001] {
        let status = client
            .list_api_keys(pb::ListApiKeysRequest {
                page_size: Some(page_size),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(violated_fields(&status), ["page_size"], "{page_size}");
    }
    let first = client
        .list_api_keys(pb::ListApiKeysRequest {
            page_size: Some(1),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let other_query = client
        .list_api_keys(pb::ListApiKeysRequest {
            page_token: first.next_page_token,
            show_inactive: true,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&other_query), ["page_token"]);
    let names: BTreeSet<_> = all.iter().collect();
    assert_eq!(names.len(), 5);
}

#[tokio::test]
async fn grpcurl_calls_with_the_bearer_header_the_cli_prints() {
    let (server, admin_token) = start_secured().await;
    let addr = server.addr.to_string();
    let grpcurl = |args: Vec<String>| {
        tokio::task::spawn_blocking(move || Command::new(fdi_testkit::grpcurl()).args(&args).output().unwrap())
    };
    let call = |token: Option<&str>, method: &str, body: &str| {
        let mut args = vec!["-plaintext".to_owned()];
        if let Some(token) = token {
            args.extend(["-H".to_owned(), format!("authorization: Bearer {token}")]);
        }
        args.extend(["-d".to_owned(), body.to_owned(), addr.clone(), method.to_owned()]);
        grpcurl(args)
    };
    let listed = call(Some(&admin_token), "fdi.access.v1.AccessService/ListApiKeys", "{}")
        .await
        .unwrap();
    assert!(listed.status.success(), "{}", String::from_utf8_lossy(&listed.stderr));
    let listed: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(listed["apiKeys"][0]["role"], "ROLE_ADMIN", "{listed}");
    assert!(!listed.to_string().contains("argon2"));

    let read = call(
        Some(&admin_token),
        "fdi.catalogue.v1.CatalogueService/GetProvince",
        r#"{"name":"bac-ninh"}"#,
    )
    .await
    .unwrap();
    assert!(read.status.success(), "{}", String::from_utf8_lossy(&read.stderr));
    let refused = call(
        None,
        "fdi.catalogue.v1.CatalogueService/GetProvince",
        r#"{"name":"bac-ninh"}"#,
    )
    .await
    .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("Unauthenticated"));
}
