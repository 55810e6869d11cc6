//! Black-box tests of the hardening fixes: malformed `grpc-timeout` headers,
//! names whose ids would be cut inside a character, and the bounds on
//! name matching (folded query length, a batch's total work, the deadline).

mod common;

use std::time::{Duration, Instant};

use fdi_catalogue::resolver::{MAX_BATCH_FOLDED_CHARS, MAX_QUERY_FOLDED_CHARS};
use fdi_kit::names::{fold, is_valid_id};
use fdi_proto::catalogue::{self as pb, ZoneKind};
use tonic::{Code, Status, metadata::MetadataValue};
use tonic_types::StatusExt;

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

/// A query of ligatures that folds to exactly `letters` letters ('ﬃ' is
/// "ffi"): a third as many characters as it costs to match.
fn ligatures(letters: usize) -> String {
    let rest = match letters % 3 {
        0 => "",
        1 => "f",
        _ => "\u{FB00}",
    };
    let query = format!("{}{rest}", "\u{FB03}".repeat(letters / 3));
    assert_eq!(fold(&query).chars().count(), letters);
    query
}

fn query(text: String) -> pb::ResolveRequest {
    pb::ResolveRequest {
        query: text,
        kinds: Vec::new(),
        max_suggestions: 20,
    }
}

/// The one field violation of an INVALID_ARGUMENT status: (field, description).
fn violation(status: &Status) -> (String, String) {
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    let violations = status.get_details_bad_request().expect("a BadRequest").field_violations;
    assert_eq!(violations.len(), 1, "{violations:?}");
    (violations[0].field.clone(), violations[0].description.clone())
}

#[tokio::test]
async fn an_overlong_query_and_an_overlarge_batch_are_invalid_argument_naming_the_limit() {
    let (_guard, mut client) = common::start().await;
    let limit = MAX_QUERY_FOLDED_CHARS.to_string();

    // 490 ligatures pass the 500-character limit but fold to 1,470 letters.
    for letters in [MAX_QUERY_FOLDED_CHARS + 1, 1470] {
        let status = client.resolve(query(ligatures(letters))).await.unwrap_err();
        let (field, description) = violation(&status);
        assert_eq!(field, "query");
        assert!(
            description.contains(&letters.to_string()) && description.contains(&limit),
            "{description}"
        );
        assert!(status.message().contains(&limit), "{}", status.message());
    }
    // At the limit it resolves.
    let at_limit = client
        .resolve(query(ligatures(MAX_QUERY_FOLDED_CHARS)))
        .await
        .unwrap()
        .into_inner();
    assert!(at_limit.r#match.is_none());

    // In a batch, the violation names the entry.
    let mut requests: Vec<_> = (0..5).map(|_| query("Bac Ninh".into())).collect();
    requests[3] = query(ligatures(1470));
    let status = client
        .batch_resolve(pb::BatchResolveRequest { requests })
        .await
        .unwrap_err();
    let (field, description) = violation(&status);
    assert_eq!(field, "requests[3].query");
    assert!(description.contains(&limit), "{description}");

    // Every query within the limit, but more work in all than one batch may ask.
    let per_batch = MAX_BATCH_FOLDED_CHARS / MAX_QUERY_FOLDED_CHARS;
    let requests = vec![query(ligatures(MAX_QUERY_FOLDED_CHARS)); per_batch + 1];
    let status = client
        .batch_resolve(pb::BatchResolveRequest { requests })
        .await
        .unwrap_err();
    let (field, description) = violation(&status);
    assert_eq!(field, "requests");
    assert!(
        description.contains(&MAX_BATCH_FOLDED_CHARS.to_string()),
        "{description}"
    );

    // The largest batch the bounds accept resolves, one answer per query.
    let requests = vec![query(ligatures(MAX_QUERY_FOLDED_CHARS)); per_batch];
    let started = Instant::now();
    let responses = client
        .batch_resolve(pb::BatchResolveRequest { requests })
        .await
        .unwrap()
        .into_inner()
        .responses;
    eprintln!(
        "the largest accepted batch ({per_batch} queries of {MAX_QUERY_FOLDED_CHARS} folded letters) took {:?}",
        started.elapsed()
    );
    assert_eq!(responses.len(), per_batch);

    // Short queries still fill a batch of 1000.
    let requests = vec![query("Bắc Ninh".into()); 1000];
    let responses = client
        .batch_resolve(pb::BatchResolveRequest { requests })
        .await
        .unwrap()
        .into_inner()
        .responses;
    assert_eq!(responses.len(), 1000);
    assert!(
        responses
            .iter()
            .all(|r| r.r#match.as_ref().is_some_and(|m| m.resource == "provinces/bac-ninh"))
    );
}

#[tokio::test]
async fn a_batch_past_its_deadline_is_deadline_exceeded_and_the_server_moves_on() {
    let (_guard, mut client) = common::start().await;
    let per_batch = MAX_BATCH_FOLDED_CHARS / MAX_QUERY_FOLDED_CHARS;
    let mut request = tonic::Request::new(pb::BatchResolveRequest {
        requests: vec![query(ligatures(MAX_QUERY_FOLDED_CHARS)); per_batch],
    });
    request.set_timeout(Duration::from_millis(20));
    let status = client.batch_resolve(request).await.unwrap_err();
    // The client gives up at the deadline too, so either side may say so first.
    assert!(
        matches!(status.code(), Code::DeadlineExceeded | Code::Cancelled),
        "{status:?}"
    );
    // The next call is answered.
    let mut request = tonic::Request::new(query("Bac Ninh".into()));
    request.set_timeout(Duration::from_secs(2));
    let response = client.resolve(request).await.unwrap().into_inner();
    assert_eq!(response.r#match.unwrap().resource, "provinces/bac-ninh");
}
