//! Black-box tests of the hardening fixes: malformed `grpc-timeout` headers
//! and names whose ids would be cut inside a character.

mod common;

use fdi_kit::names::is_valid_id;
use fdi_proto::catalogue::{self as pb, ZoneKind};
use tonic::{Code, metadata::MetadataValue};

async fn zone_total(client: &mut common::Client) -> i32 {
    client
        .list_zones(pb::ListZonesRequest::default())
        .await
        .unwrap()
        .into_inner()
        .total_size
}

#[tokio::test]
async fn a_grpc_timeout_of_more_than_eight_digits_is_no_deadline_not_a_panic() {
    let (_guard, mut client) = common::start().await;
    let zones = zone_total(&mut client).await;
    // 20 digits of seconds overflowed `Instant + Duration`; 9 digits is malformed per the gRPC spec.
    for timeout in [
        "18446744073709551615S",
        "99999999999999999999H",
        "999999999S",
        "99999999H",
    ] {
        let mut request = tonic::Request::new(pb::ListProvincesRequest {
            page_size: Some(5),
            ..Default::default()
        });
        request
            .metadata_mut()
            .insert("grpc-timeout", MetadataValue::from_static(timeout));
        let response = client
            .list_provinces(request)
            .await
            .unwrap_or_else(|e| panic!("grpc-timeout {timeout}: {e:?}"))
            .into_inner();
        assert_eq!(response.provinces.len(), 5, "{timeout}");
    }
    // The server is still serving, and nothing changed.
    assert_eq!(zone_total(&mut client).await, zones);
}

#[tokio::test]
async fn a_zone_with_a_long_cyrillic_name_gets_a_valid_id() {
    let (_guard, mut client) = common::start().await;
    let zones = zone_total(&mut client).await;
    let display_name = "Промышленный парк Восточный Технополис Ю";
    assert_eq!(display_name.chars().count(), 40);
    assert!(display_name.len() > 63);
    let zone = || pb::Zone {
        display_name: display_name.into(),
        kind: ZoneKind::IndustrialPark.into(),
        province: "Bắc Ninh".into(),
        ..Default::default()
    };
    let created = client
        .create_zone(pb::CreateZoneRequest {
            zone: Some(zone()),
            zone_id: String::new(),
        })
        .await
        .expect("created, not INTERNAL")
        .into_inner();
    let id = created.name.strip_prefix("zones/").expect("a zone name");
    assert!(is_valid_id(id), "{id}");
    assert_eq!(created.display_name, display_name);
    let fetched = client
        .get_zone(pb::GetZoneRequest {
            name: created.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(fetched.display_name, display_name);
    assert_eq!(zone_total(&mut client).await, zones + 1);

    // The same name again makes the same id: ALREADY_EXISTS, nothing more stored.
    let again = client
        .create_zone(pb::CreateZoneRequest {
            zone: Some(zone()),
            zone_id: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(again.code(), Code::AlreadyExists, "{again:?}");
    assert_eq!(zone_total(&mut client).await, zones + 1);
}
