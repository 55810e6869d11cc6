//! Black-box tests of every catalogue RPC against a real server and database.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use fdi_proto::catalogue::{self as pb, EntityKind, ProvinceStatus, ZoneKind};
use prost_types::FieldMask;
use tonic::Code;
use tonic_types::StatusExt;
use unicode_normalization::UnicodeNormalization;

async fn resolve(client: &mut common::Client, query: &str) -> pb::ResolveResponse {
    client
        .resolve(pb::ResolveRequest {
            query: query.to_owned(),
            ..Default::default()
        })
        .await
        .unwrap_or_else(|e| panic!("resolve {query}: {e}"))
        .into_inner()
}

async fn all_provinces(client: &mut common::Client, include_merged: bool, page_size: i32) -> Vec<pb::Province> {
    let mut provinces = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = client
            .list_provinces(pb::ListProvincesRequest {
                page_size: Some(page_size),
                page_token: page_token.clone(),
                include_merged,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        provinces.extend(page.provinces);
        if page.next_page_token.is_empty() {
            return provinces;
        }
        page_token = page.next_page_token;
    }
}

#[tokio::test]
async fn provinces_carry_the_2025_merger_lineage() {
    let (_server, mut client) = common::start().await;

    let current = all_provinces(&mut client, false, 10).await;
    assert_eq!(current.len(), 34, "34 units since 2025-07-01");
    assert!(current.iter().all(|p| p.status() == ProvinceStatus::Current));
    let all = all_provinces(&mut client, true, 7).await;
    assert_eq!(all.len(), 63, "63 pre-2025 units");
    let codes: BTreeSet<_> = all.iter().map(|p| p.code.as_str()).collect();
    assert_eq!(codes.len(), 63, "paging returns each province once");

    // Every merged unit points at a current unit that lists it as absorbed, effective 2025-07-01.
    let by_name: BTreeMap<_, _> = all.iter().map(|p| (p.name.as_str(), p)).collect();
    let merged: Vec<_> = all.iter().filter(|p| p.status() == ProvinceStatus::Merged).collect();
    assert_eq!(merged.len(), 29);
    for unit in &merged {
        let target = by_name[unit.merged_into.as_str()];
        assert_eq!(
            target.status(),
            ProvinceStatus::Current,
            "{} merged into a current unit",
            unit.code
        );
        assert!(
            target.absorbed.contains(&unit.name),
            "{} lists {}",
            target.code,
            unit.code
        );
        assert_eq!(unit.current_province, target.name);
        let date = unit.merge_effective_date.as_ref().unwrap();
        assert_eq!((date.year, date.month, date.day), (2025, 7, 1));
    }

    let bac_giang = client
        .get_province(pb::GetProvinceRequest {
            name: "provinces/bac-giang".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(bac_giang.display_name, "Bắc Giang");
    assert_eq!(bac_giang.merged_into, "provinces/bac-ninh");
    assert_eq!(bac_giang.gso_code_pre2025, "24");

    let bac_ninh = client
        .get_province(pb::GetProvinceRequest {
            name: "bac-ninh".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(bac_ninh.absorbed, ["provinces/bac-giang"]);
    assert_eq!(bac_ninh.current_province, "provinces/bac-ninh");
    assert_eq!(bac_ninh.gso_code_2025, "24");

    let units = client
        .list_provinces(pb::ListProvincesRequest {
            current_province: "Phú Thọ".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let unit_codes: Vec<_> = units.provinces.iter().map(|p| p.code.as_str()).collect();
    assert_eq!(unit_codes, ["hoa-binh", "phu-tho", "vinh-phuc"]);
}

#[tokio::test]
async fn resolve_handles_spellings_diacritics_and_mergers() {
    let (_server, mut client) = common::start().await;
    let nfd: String = "Bắc Giang".nfd().collect();
    for query in [
        "Bắc Giang",
        "bac giang",
        "Bac Giang province",
        "BAC GIANG",
        "tỉnh Bắc Giang",
        nfd.as_str(),
    ] {
        let response = resolve(&mut client, query).await;
        let found = response.r#match.unwrap_or_else(|| panic!("{query} resolves"));
        assert_eq!(found.resource, "provinces/bac-giang", "{query}");
        assert_eq!(
            found.current_province, "provinces/bac-ninh",
            "{query}: Bắc Giang is part of Bắc Ninh today"
        );
        assert_eq!(found.kind(), EntityKind::Province);
        assert!((found.score - 1.0).abs() < f64::EPSILON);
    }
    let cases = [
        ("Đà Nẵng", "provinces/da-nang"),
        ("da nang", "provinces/da-nang"),
        ("Ho Chi Minh City", "provinces/ho-chi-minh"),
        ("TP.HCM", "provinces/ho-chi-minh"),
        ("Thừa Thiên Huế", "provinces/hue"),
        ("Hanoi", "provinces/ha-noi"),
        ("KCN Quang Châu", "zones/quang-chau"),
        ("Quang Chau industrial park", "zones/quang-chau"),
        ("Yen Phong II-C industrial park", "zones/yen-phong-ii-c"),
        ("KCN Yên Phong II-C", "zones/yen-phong-ii-c"),
        ("Amata City Ha Long", "zones/song-khoai"),
        ("Bac Ninhh", "provinces/bac-ninh"),
    ];
    for (query, expected) in cases {
        let response = resolve(&mut client, query).await;
        assert_eq!(
            response.r#match.map(|m| m.resource).as_deref(),
            Some(expected),
            "{query}"
        );
    }
    let zone = resolve(&mut client, "KCN Quang Châu").await.r#match.unwrap();
    assert_eq!(zone.kind(), EntityKind::Zone);
    assert_eq!(zone.current_province, "provinces/bac-ninh");
    assert_eq!(
        zone.recorded_province, "provinces/bac-giang",
        "Quang Chau was recorded under Bac Giang"
    );

    // Unknown or merely similar names: no confident match, useful suggestions.
    let unknown = resolve(&mut client, "Atlantis Industrial Park").await;
    assert!(unknown.r#match.is_none());
    let typo = resolve(&mut client, "Quang Nihn").await;
    assert_eq!(
        typo.r#match.map(|m| m.resource).as_deref(),
        Some("provinces/quang-ninh"),
        "a swapped pair is a typo"
    );
    let between = resolve(&mut client, "Ha Nom").await;
    assert!(
        between.r#match.is_none(),
        "one edit from both Ha Nam and Ha Noi: {between:?}"
    );
    let between: BTreeSet<_> = between.suggestions.iter().map(|s| s.resource.as_str()).collect();
    assert!(
        between.contains("provinces/ha-nam") && between.contains("provinces/ha-noi"),
        "{between:?}"
    );
    let far = resolve(&mut client, "Bac Ngin").await;
    assert!(
        far.r#match.is_none(),
        "two edits in a short name is not a confident match: {far:?}"
    );
    assert!(
        far.suggestions.iter().any(|s| s.resource == "provinces/bac-ninh"),
        "{far:?}"
    );

    // Restricting kinds.
    let only_zones = client
        .resolve(pb::ResolveRequest {
            query: "Bac Giang".into(),
            kinds: vec![EntityKind::Zone.into()],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(only_zones.r#match.is_none());

    let batch = client
        .batch_resolve(pb::BatchResolveRequest {
            requests: ["Vĩnh Phúc", "nowhere at all", "Hai Duong"]
                .iter()
                .map(|q| pb::ResolveRequest {
                    query: (*q).into(),
                    ..Default::default()
                })
                .collect(),
        })
        .await
        .unwrap()
        .into_inner();
    let resolved: Vec<_> = batch
        .responses
        .iter()
        .map(|r| r.r#match.as_ref().map(|m| m.current_province.as_str()))
        .collect();
    assert_eq!(resolved, [Some("provinces/phu-tho"), None, Some("provinces/hai-phong")]);
}

#[tokio::test]
async fn zones_can_be_created_listed_updated_and_resolved() {
    let (_server, mut client) = common::start().await;
    let seeded = client
        .get_zone(pb::GetZoneRequest {
            name: "zones/quang-chau".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(seeded.province, "provinces/bac-ninh");
    assert_eq!(seeded.original_province, "provinces/bac-giang");
    assert_eq!(seeded.area_hectares, Some(426.0));
    assert!(seeded.aliases.contains(&"KCN Quang Châu".to_owned()));
    assert_eq!(
        (seeded.creator.as_str(), seeded.updater.as_str()),
        ("seed", "seed"),
        "a shipped zone is the seed's"
    );

    let created = client
        .create_zone(pb::CreateZoneRequest {
            zone: Some(pb::Zone {
                display_name: "Ngoc Lam IP".into(),
                kind: ZoneKind::IndustrialPark.into(),
                province: "Bắc Giang".into(),
                area_hectares: Some(207.5),
                developer: "Example Infrastructure JSC".into(),
                aliases: vec!["KCN Ngọc Lâm".into()],
                ..Default::default()
            }),
            zone_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(created.name, "zones/ngoc-lam");
    assert_eq!(
        created.province, "provinces/bac-ninh",
        "a pre-2025 province is linked to today's"
    );
    assert_eq!(created.original_province, "provinces/bac-giang");
    assert_eq!(
        (created.creator.as_str(), created.updater.as_str()),
        ("anonymous", "anonymous"),
        "anonymous calls are allowed here"
    );

    let again = client
        .create_zone(pb::CreateZoneRequest {
            zone: Some(pb::Zone {
                display_name: "Ngoc Lam IP".into(),
                kind: ZoneKind::IndustrialPark.into(),
                province: "bac-ninh".into(),
                ..Default::default()
            }),
            zone_id: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(again.code(), Code::AlreadyExists);
    assert_eq!(
        again.get_details_error_info().unwrap().metadata["existing"],
        "zones/ngoc-lam"
    );

    let found = resolve(&mut client, "KCN Ngọc Lâm")
        .await
        .r#match
        .expect("new zone resolves by alias");
    assert_eq!(found.resource, "zones/ngoc-lam");

    for province in ["provinces/bac-ninh", "Bắc Giang"] {
        let listed = client
            .list_zones(pb::ListZonesRequest {
                province: province.into(),
                page_size: Some(3),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(listed.zones.len(), 3);
        assert!(listed.total_size >= 8, "{province}: {}", listed.total_size);
        assert!(!listed.next_page_token.is_empty());
    }
    let in_bac_giang = client
        .list_zones(pb::ListZonesRequest {
            province: "bac-giang".into(),
            page_size: Some(100),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(
        in_bac_giang
            .zones
            .iter()
            .all(|z| z.original_province == "provinces/bac-giang")
    );
    assert!(in_bac_giang.zones.iter().any(|z| z.name == "zones/ngoc-lam"));
    let clusters = client
        .list_zones(pb::ListZonesRequest {
            kind: ZoneKind::IndustrialCluster.into(),
            page_size: Some(500),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(clusters.total_size > 1, "the shipped clusters");
    assert_eq!(clusters.zones.len(), usize::try_from(clusters.total_size).unwrap());
    assert!(clusters.zones.iter().all(|z| z.kind() == ZoneKind::IndustrialCluster));

    let updated = client
        .update_zone(pb::UpdateZoneRequest {
            zone: Some(pb::Zone {
                name: "zones/ngoc-lam".into(),
                status: "operating".into(),
                area_hectares: Some(210.0),
                developer: "ignored: not in the mask".into(),
                etag: created.etag.clone(),
                ..Default::default()
            }),
            update_mask: Some(FieldMask {
                paths: vec!["status".into(), "area_hectares".into()],
            }),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(updated.status, "operating");
    assert_eq!(updated.area_hectares, Some(210.0));
    assert_eq!(updated.developer, "Example Infrastructure JSC");
    assert_ne!(updated.etag, created.etag);

    let stale = client
        .update_zone(pb::UpdateZoneRequest {
            zone: Some(pb::Zone {
                name: "zones/ngoc-lam".into(),
                status: "closed".into(),
                etag: created.etag,
                ..Default::default()
            }),
            update_mask: Some(FieldMask {
                paths: vec!["status".into()],
            }),
        })
        .await
        .unwrap_err();
    assert_eq!(stale.code(), Code::Aborted);

    let bad_mask = client
        .update_zone(pb::UpdateZoneRequest {
            zone: Some(pb::Zone {
                name: "zones/ngoc-lam".into(),
                ..Default::default()
            }),
            update_mask: Some(FieldMask {
                paths: vec!["create_time".into()],
            }),
        })
        .await
        .unwrap_err();
    assert_eq!(bad_mask.code(), Code::InvalidArgument);
    assert_eq!(
        bad_mask.get_details_bad_request().unwrap().field_violations[0].field,
        "update_mask.paths[0]"
    );

    let wrong_lineage = client
        .create_zone(pb::CreateZoneRequest {
            zone: Some(pb::Zone {
                display_name: "Mismatch IP".into(),
                kind: ZoneKind::IndustrialPark.into(),
                province: "bac-ninh".into(),
                original_province: "nam-dinh".into(),
                ..Default::default()
            }),
            zone_id: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(wrong_lineage.code(), Code::InvalidArgument);
}

/// Every zone, by resource name, with its creator and updater.
async fn zone_writers(client: &mut common::Client) -> BTreeMap<String, (String, String)> {
    let mut writers = BTreeMap::new();
    let mut page_token = String::new();
    loop {
        let page = client
            .list_zones(pb::ListZonesRequest {
                page_size: Some(500),
                page_token: page_token.clone(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        writers.extend(page.zones.into_iter().map(|z| (z.name, (z.creator, z.updater))));
        if page.next_page_token.is_empty() {
            return writers;
        }
        page_token = page.next_page_token;
    }
}

#[tokio::test]
async fn zones_stored_before_creators_were_recorded_are_claimed_by_the_seed() {
    let database = fdi_testkit::database().await;
    let server = common::start_with(fdi_testkit::settings::common(&database.url)).await;
    let mut client = common::Client::connect(server.endpoint()).await.unwrap();
    client
        .create_zone(pb::CreateZoneRequest {
            zone: Some(pb::Zone {
                display_name: "Ngoc Lam IP".into(),
                kind: ZoneKind::IndustrialPark.into(),
                province: "bac-giang".into(),
                ..Default::default()
            }),
            zone_id: String::new(),
        })
        .await
        .unwrap();
    client
        .update_zone(pb::UpdateZoneRequest {
            zone: Some(pb::Zone {
                name: "zones/quang-chau".into(),
                status: "operating".into(),
                ..Default::default()
            }),
            update_mask: Some(FieldMask {
                paths: vec!["status".into()],
            }),
        })
        .await
        .unwrap();
    drop(client);
    drop(server);

    // The zones as 0002_creator.sql leaves a database written before creators were recorded.
    let pool = sqlx::PgPool::connect(&database.url).await.unwrap();
    sqlx::query("UPDATE catalogue.zones SET creator = 'unknown', updater = 'unknown'")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;

    let server = common::start_with(fdi_testkit::settings::common(&database.url)).await;
    let mut client = common::Client::connect(server.endpoint()).await.unwrap();
    let mut writers = zone_writers(&mut client).await;
    let unknown = || ("unknown".to_owned(), "unknown".to_owned());
    assert_eq!(
        writers.remove("zones/ngoc-lam"),
        Some(unknown()),
        "a user's zone is not the seed's"
    );
    assert_eq!(
        writers.remove("zones/quang-chau"),
        Some(("seed".to_owned(), "unknown".to_owned())),
        "a shipped zone updated since keeps its unknown updater"
    );
    assert!(writers.len() > 10, "{writers:?}");
    for (zone, writer) in writers {
        assert_eq!(writer, ("seed".to_owned(), "seed".to_owned()), "{zone}");
    }
}

#[tokio::test]
async fn investors_are_deduplicated_by_legal_name() {
    let (_server, mut client) = common::start().await;
    let foxconn = client
        .create_investor(pb::CreateInvestorRequest {
            investor: Some(pb::Investor {
                display_name: "Foxconn Singapore Pte. Ltd.".into(),
                aliases: vec!["Hon Hai Singapore".into()],
                country_code: "sg".into(),
                ..Default::default()
            }),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(foxconn.country_code, "SG");
    assert_eq!(foxconn.creator, "anonymous");
    assert!(foxconn.name.starts_with("investors/"));

    let duplicate = client
        .create_investor(pb::CreateInvestorRequest {
            investor: Some(pb::Investor {
                display_name: "FOXCONN SINGAPORE PTE LTD".into(),
                ..Default::default()
            }),
        })
        .await
        .unwrap_err();
    assert_eq!(duplicate.code(), Code::AlreadyExists);
    assert_eq!(
        duplicate.get_details_error_info().unwrap().metadata["existing"],
        foxconn.name
    );

    client
        .create_investor(pb::CreateInvestorRequest {
            investor: Some(pb::Investor {
                display_name: "Công ty TNHH Wistron Infocomm Việt Nam".into(),
                country_code: "TW".into(),
                ..Default::default()
            }),
        })
        .await
        .unwrap();

    for query in [
        "Foxconn Singapore",
        "foxconn singapore pte ltd",
        "Hon Hai Singapore Co., Ltd",
    ] {
        let found = resolve(&mut client, query)
            .await
            .r#match
            .unwrap_or_else(|| panic!("{query}"));
        assert_eq!(found.resource, foxconn.name, "{query}");
        assert_eq!(found.kind(), EntityKind::Investor);
    }
    let wistron = resolve(&mut client, "Wistron Infocomm Vietnam Co., Ltd")
        .await
        .r#match
        .expect("legal forms ignored");
    assert_eq!(wistron.display_name, "Công ty TNHH Wistron Infocomm Việt Nam");
    let near = resolve(&mut client, "Foxcon Singapore").await;
    assert!(near.r#match.is_none());
    assert!(near.suggestions.iter().any(|s| s.resource == foxconn.name), "{near:?}");

    let got = client
        .get_investor(pb::GetInvestorRequest {
            name: foxconn.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got, foxconn);
    let singapore = client
        .list_investors(pb::ListInvestorsRequest {
            country_code: "SG".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(singapore.investors, std::slice::from_ref(&foxconn));
    let by_prefix = client
        .list_investors(pb::ListInvestorsRequest {
            name_prefix: "wistron".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(by_prefix.investors.len(), 1);
    let paged = client
        .list_investors(pb::ListInvestorsRequest {
            page_size: Some(1),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(paged.investors.len(), 1);
    let second = client
        .list_investors(pb::ListInvestorsRequest {
            page_size: Some(1),
            page_token: paged.next_page_token,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(second.investors.len(), 1);
    assert_ne!(second.investors[0].name, paged.investors[0].name);
    assert!(second.next_page_token.is_empty());
}

#[tokio::test]
async fn ensure_investors_returns_known_ones_and_creates_the_rest() {
    let (_server, mut client) = common::start().await;
    let existing = client
        .create_investor(pb::CreateInvestorRequest {
            investor: Some(pb::Investor {
                display_name: "Hyosung Corporation".into(),
                country_code: "KR".into(),
                ..Default::default()
            }),
        })
        .await
        .unwrap()
        .into_inner();
    let ask = |name: &str, country: &str| pb::Investor {
        display_name: name.into(),
        country_code: country.into(),
        ..Default::default()
    };
    let response = client
        .ensure_investors(pb::EnsureInvestorsRequest {
            investors: vec![
                ask("HYOSUNG CORP.", "KR"),
                ask("Amkor Technology Vietnam Co., Ltd", "US"),
                ask("Amkor Technology Vietnam", "US"),
                ask("Công ty TNHH Một Thành Viên Điện Tử Mẫu", ""),
            ],
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(response.created, 2, "two new legal names");
    let names: Vec<&str> = response.investors.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names[0], existing.name, "a known investor is returned, not duplicated");
    assert_eq!(names[1], names[2], "two spellings of one legal name are one investor");
    assert_ne!(names[1], names[3]);
    assert_eq!(response.investors[1].country_code, "US");
    let again = client
        .ensure_investors(pb::EnsureInvestorsRequest {
            investors: vec![ask("Amkor Technology Vietnam Co Ltd", "")],
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((again.created, again.investors[0].name.as_str()), (0, names[1]));
    let invalid = client
        .ensure_investors(pb::EnsureInvestorsRequest {
            investors: vec![ask("", "KR"), ask("X", "ZZ")],
        })
        .await
        .unwrap_err();
    let fields: Vec<_> = invalid
        .get_details_bad_request()
        .unwrap()
        .field_violations
        .into_iter()
        .map(|v| v.field)
        .collect();
    assert_eq!(fields, ["investors[0].display_name", "investors[1].country_code"]);
}

/// Sends a Resolve request whose `query` field holds arbitrary bytes.
async fn resolve_raw_bytes(endpoint: String, bytes: Vec<u8>) -> Result<pb::ResolveResponse, tonic::Status> {
    #[derive(Clone, PartialEq, prost::Message)]
    struct RawResolveRequest {
        #[prost(bytes = "vec", tag = "1")]
        query: Vec<u8>,
    }
    let channel = tonic::transport::Endpoint::from_shared(endpoint)
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.unwrap();
    let path = http::uri::PathAndQuery::from_static("/fdi.catalogue.v1.CatalogueService/Resolve");
    let codec = tonic_prost::ProstCodec::<RawResolveRequest, pb::ResolveResponse>::default();
    grpc.unary(tonic::Request::new(RawResolveRequest { query: bytes }), path, codec)
        .await
        .map(tonic::Response::into_inner)
}

#[tokio::test]
async fn bad_input_gets_clear_errors_and_the_service_keeps_serving() {
    let (server, mut client) = common::start().await;

    let empty = client.resolve(pb::ResolveRequest::default()).await.unwrap_err();
    assert_eq!(empty.code(), Code::InvalidArgument);
    assert_eq!(
        empty.get_details_bad_request().unwrap().field_violations[0].field,
        "query"
    );

    let huge = client
        .resolve(pb::ResolveRequest {
            query: "x".repeat(10_000),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(huge.code(), Code::InvalidArgument);
    assert!(huge.message().contains("at most 500"), "{}", huge.message());

    let unknown = client
        .get_province(pb::GetProvinceRequest {
            name: "provinces/bac-nihn".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);
    assert!(
        unknown.message().contains("provinces/bac-ninh"),
        "suggests the nearest: {}",
        unknown.message()
    );

    let unknown_zone = client
        .get_zone(pb::GetZoneRequest {
            name: "zones/quang-chao".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(unknown_zone.code(), Code::NotFound);
    assert!(
        unknown_zone.message().contains("zones/quang-chau"),
        "{}",
        unknown_zone.message()
    );

    let no_name = client
        .get_province(pb::GetProvinceRequest { name: String::new() })
        .await
        .unwrap_err();
    assert_eq!(no_name.code(), Code::InvalidArgument);
    let long_name = client
        .get_zone(pb::GetZoneRequest {
            name: format!("zones/{}", "a".repeat(10_000)),
        })
        .await
        .unwrap_err();
    assert_eq!(long_name.code(), Code::InvalidArgument);
    let bad_investor = client
        .get_investor(pb::GetInvestorRequest {
            name: "investors/not-a-number".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(bad_investor.code(), Code::NotFound);

    let bad_token = client
        .list_provinces(pb::ListProvincesRequest {
            page_token: "garbage".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(bad_token.code(), Code::InvalidArgument);
    assert_eq!(
        bad_token.get_details_bad_request().unwrap().field_violations[0].field,
        "page_token"
    );

    let first_page = client
        .list_provinces(pb::ListProvincesRequest {
            page_size: Some(5),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let other_query = client
        .list_provinces(pb::ListProvincesRequest {
            page_size: Some(5),
            include_merged: true,
            page_token: first_page.next_page_token,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(
        other_query.code(),
        Code::InvalidArgument,
        "a token is bound to its query"
    );

    for page_size in [0, -3, 1_000_000] {
        let error = client
            .list_zones(pb::ListZonesRequest {
                page_size: Some(page_size),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(error.code(), Code::InvalidArgument, "page_size {page_size}");
        assert!(error.message().contains("between 1 and 500"), "{}", error.message());
    }

    let bad_country = client
        .create_investor(pb::CreateInvestorRequest {
            investor: Some(pb::Investor {
                display_name: "X Corp".into(),
                country_code: "XX".into(),
                ..Default::default()
            }),
        })
        .await
        .unwrap_err();
    assert_eq!(bad_country.code(), Code::InvalidArgument);
    let missing_fields = client
        .create_zone(pb::CreateZoneRequest {
            zone: Some(pb::Zone::default()),
            zone_id: String::new(),
        })
        .await
        .unwrap_err();
    let fields: Vec<_> = missing_fields
        .get_details_bad_request()
        .unwrap()
        .field_violations
        .into_iter()
        .map(|v| v.field)
        .collect();
    assert_eq!(fields, ["zone.display_name", "zone.kind", "zone.province"]);

    let invalid_utf8 = resolve_raw_bytes(server.endpoint(), vec![b'B', 0xff, 0xfe, b'x'])
        .await
        .unwrap_err();
    assert_eq!(invalid_utf8.code(), Code::InvalidArgument, "{invalid_utf8:?}");
    assert!(invalid_utf8.message().contains("UTF-8"));

    // Still serving.
    assert!(resolve(&mut client, "Bac Ninh").await.r#match.is_some());
}

#[tokio::test]
async fn health_is_not_serving_until_the_database_is_reachable() {
    // A port nothing listens on: the server must start, say NOT_SERVING, and answer UNAVAILABLE.
    let unused_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = common::config(&format!("postgres://postgres@127.0.0.1:{unused_port}/nothing"));
    let guard = fdi_testkit::spawn_service(|listener, shutdown| fdi_catalogue::serve(config, listener, shutdown)).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let status = fdi_testkit::health_status(&guard.endpoint(), fdi_catalogue::SERVICE_NAME).await;
    assert_eq!(status, Some(fdi_testkit::ServingStatus::NotServing));
    let overall = fdi_testkit::health_status(&guard.endpoint(), "").await;
    assert_eq!(overall, Some(fdi_testkit::ServingStatus::NotServing));
    let mut client = pb::catalogue_service_client::CatalogueServiceClient::connect(guard.endpoint())
        .await
        .unwrap();
    let error = client
        .resolve(pb::ResolveRequest {
            query: "Bac Ninh".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(error.code(), Code::Unavailable);
    guard.stop().await.expect("clean shutdown");
}
