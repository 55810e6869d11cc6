//! Watch's bounds, against the real services: the caps on open streams
//! (per caller and per service, RESOURCE_EXHAUSTED), slots given back when
//! a client goes away even if no alert ever matched its filter, and the
//! bound on the filter's provinces (INVALID_ARGUMENT).

mod common;

use std::{num::NonZeroUsize, time::Duration};

use fdi_proto::analytics::{self as pb, analytics_service_client::AnalyticsServiceClient};
use tonic::{
    Code, Status,
    transport::{Channel, Endpoint},
};
use tonic_types::StatusExt;

type Analytics = AnalyticsServiceClient<Channel>;

/// How long a released slot may take to be noticed before the test fails;
/// generous, since the test only polls until it is.
const RELEASE_TIMEOUT: Duration = Duration::from_secs(30);

use common::start;

fn cap(n: usize) -> NonZeroUsize {
    NonZeroUsize::new(n).unwrap()
}

/// A client on a connection of its own.
async fn connect(endpoint: &str) -> Analytics {
    AnalyticsServiceClient::connect(endpoint.to_owned()).await.unwrap()
}

/// A filter no event will match: no event is loaded in these tests, and
/// none would reach a threshold of a trillion dollars in one province.
fn never_matching() -> pb::WatchRequest {
    pb::WatchRequest {
        provinces: vec!["Hà Nội".into()],
        threshold: Some(fdi_proto::Money {
            currency_code: "USD".into(),
            units: 1_000_000_000_000,
            nanos: 0,
        }),
        target_crossings: false,
        ..Default::default()
    }
}

async fn watch(client: &mut Analytics) -> Result<tonic::Streaming<pb::Alert>, Status> {
    client.watch(never_matching()).await.map(tonic::Response::into_inner)
}

/// The RESOURCE_EXHAUSTED a refused Watch gives, naming `limit` and its value.
fn assert_exhausted(status: &Status, limit: &str, max: usize) {
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert!(
        status.message().contains(limit) && status.message().contains(&max.to_string()),
        "{status:?}"
    );
    let info = status.get_details_error_info().expect("error info");
    assert_eq!(info.reason, "TOO_MANY_WATCHERS");
    assert_eq!(info.metadata["limit"], limit);
    assert_eq!(info.metadata["max"], max.to_string());
}

/// Opens Watch streams until one is admitted, each refusal being the cap
/// `limit`; fails when none is within [`RELEASE_TIMEOUT`].
async fn watch_once_released(client: &mut Analytics, limit: &str, max: usize) -> tonic::Streaming<pb::Alert> {
    let deadline = tokio::time::Instant::now() + RELEASE_TIMEOUT;
    loop {
        match watch(client).await {
            Ok(stream) => return stream,
            Err(status) => {
                assert_exhausted(&status, limit, max);
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "no Watch slot was released within {RELEASE_TIMEOUT:?}"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

#[tokio::test]
async fn a_caller_over_its_watch_cap_is_refused_until_one_of_its_streams_ends() {
    const PER_CALLER: usize = 3;
    let system = start(|config| config.max_watchers_per_caller = cap(PER_CALLER)).await;
    let endpoint = system.analytics.endpoint();
    let mut client = connect(&endpoint).await;
    let mut open = Vec::new();
    for _ in 0..PER_CALLER {
        open.push(watch(&mut client).await.expect("a stream under the cap"));
    }
    // The caller is its address: another connection from it counts the same.
    let refused = watch(&mut connect(&endpoint).await).await.unwrap_err();
    assert_exhausted(&refused, "max_watchers_per_caller", PER_CALLER);

    // Another caller (another loopback address) has an allowance of its own.
    let other = Endpoint::from_shared(endpoint.clone())
        .unwrap()
        .local_address(Some("127.0.0.2".parse().unwrap()))
        .connect()
        .await
        .unwrap();
    let _others = watch(&mut AnalyticsServiceClient::new(other))
        .await
        .expect("another caller is under its own cap");

    // One stream dropped: its slot comes back, and only one.
    drop(open.pop());
    let again = watch_once_released(&mut client, "max_watchers_per_caller", PER_CALLER).await;
    assert_exhausted(
        &watch(&mut client).await.unwrap_err(),
        "max_watchers_per_caller",
        PER_CALLER,
    );
    drop(again);
}

#[tokio::test]
async fn a_watcher_whose_filter_never_matches_is_released_when_its_client_goes() {
    let system = start(|config| config.max_watchers = cap(1)).await;
    let endpoint = system.analytics.endpoint();
    let mut client = connect(&endpoint).await;
    let first = watch(&mut client).await.expect("the one stream allowed");
    assert_exhausted(&watch(&mut client).await.unwrap_err(), "max_watchers", 1);

    // The client cancels the stream (the connection stays): no alert ever
    // matches, yet its slot is given back.
    drop(first);
    let second = watch_once_released(&mut client, "max_watchers", 1).await;

    // The client goes away altogether (its connection closes).
    let mut gone = connect(&endpoint).await;
    drop(second);
    let third = watch_once_released(&mut gone, "max_watchers", 1).await;
    drop(third);
    drop(gone);
    let _fourth = watch_once_released(&mut client, "max_watchers", 1).await;
}

#[tokio::test]
async fn a_watch_filter_over_its_bound_is_invalid() {
    let system = start(|_| {}).await;
    let mut client = connect(&system.analytics.endpoint()).await;
    // One province named many times costs one catalogue call, yet the list is still bounded.
    for count in [64, 10_000] {
        let status = client
            .watch(pb::WatchRequest {
                provinces: vec!["Hà Nội".into(); count],
                ..never_matching()
            })
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
        let violations = status
            .get_details_bad_request()
            .expect("field violations")
            .field_violations;
        assert_eq!(violations.len(), 1, "{violations:?}");
        assert_eq!(violations[0].field, "provinces");
        assert!(violations[0].description.contains("at most 63"), "{violations:?}");
    }
    // At the bound, the same list is a filter.
    watch(&mut client).await.expect("one province");
    client
        .watch(pb::WatchRequest {
            provinces: vec!["Hà Nội".into(); 63],
            ..never_matching()
        })
        .await
        .expect("63 provinces are allowed");
    // Every text is checked before the catalogue is asked; each bad one is named.
    let status = client
        .watch(pb::WatchRequest {
            provinces: vec!["Hà Nội".into(), "x".repeat(501), String::new()],
            ..never_matching()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    let fields: Vec<String> = status
        .get_details_bad_request()
        .expect("field violations")
        .field_violations
        .into_iter()
        .map(|v| v.field)
        .collect();
    assert_eq!(fields, ["provinces[1]", "provinces[2]"]);
    // The threshold's currency code is bounded too.
    let status = client
        .watch(pb::WatchRequest {
            threshold: Some(fdi_proto::Money {
                currency_code: "U".repeat(100_000),
                units: 1,
                nanos: 0,
            }),
            ..never_matching()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
}
