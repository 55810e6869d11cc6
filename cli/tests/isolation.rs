//! One request must not stall the catalogue for everyone: while one client
//! has four of the heaviest `BatchResolve` calls the catalogue accepts in
//! flight, a second client connects and resolves a name, and every service
//! answers its health check, each within its normal deadline.
//!
//! The services run in this process on a runtime of two workers (the size of
//! the machines they run on); the probes run on a runtime of their own, so
//! their deadlines hold even if the services' workers were held up.

mod common;

use std::{
    future::Future,
    time::{Duration, Instant},
};

use fdi_catalogue::resolver::{MAX_BATCH_FOLDED_CHARS, MAX_QUERY_FOLDED_CHARS};
use fdi_kit::names::fold;
use fdi_proto::catalogue::{self as pb, catalogue_service_client::CatalogueServiceClient};
use tonic::transport::{Channel, Endpoint};
use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient};

/// The deadline every probe has, as a client in production would set it.
const NORMAL_DEADLINE: Duration = Duration::from_secs(2);

/// A query of ligatures that folds to exactly `letters` letters ('ﬃ' is "ffi").
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

/// A new connection, as a client that was not connected yet makes, within the normal deadline.
async fn connect(endpoint: &str) -> Result<Channel, String> {
    Endpoint::from_shared(endpoint.to_owned())
        .map_err(|e| e.to_string())?
        .connect_timeout(NORMAL_DEADLINE)
        .connect()
        .await
        .map_err(|e| format!("connecting to {endpoint}: {e}"))
}

/// Runs `task` on a thread and runtime of its own: its deadlines then run on
/// a clock the services' (shared) workers cannot hold up.
async fn on_own_runtime<F, Fut, T>(task: F) -> T
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = T>,
    T: Send + 'static,
{
    let (sender, receiver) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let _ = sender.send(runtime.block_on(task()));
    });
    receiver.await.expect("the probe thread answers")
}

/// A second client connects and resolves a name, and every service answers
/// its health check SERVING, each within the normal deadline.
async fn probe(endpoints: Vec<(String, &'static str)>) -> Result<(), String> {
    let mut other = CatalogueServiceClient::new(connect(&endpoints[0].0).await?);
    let mut request = tonic::Request::new(pb::ResolveRequest {
        query: "Bắc Ninh".into(),
        ..Default::default()
    });
    request.set_timeout(NORMAL_DEADLINE);
    let resolved = other
        .resolve(request)
        .await
        .map_err(|e| format!("the second client's Resolve within its deadline: {e:?}"))?
        .into_inner();
    let matched = resolved.r#match.map(|m| m.resource);
    if matched.as_deref() != Some("provinces/bac-ninh") {
        return Err(format!("Bắc Ninh resolved to {matched:?}"));
    }
    for (endpoint, service) in &endpoints {
        let mut health = HealthClient::new(connect(endpoint).await?);
        let mut request = tonic::Request::new(HealthCheckRequest {
            service: (*service).to_owned(),
        });
        request.set_timeout(NORMAL_DEADLINE);
        let status = health
            .check(request)
            .await
            .map_err(|e| format!("{service}'s health within its deadline: {e:?}"))?
            .into_inner()
            .status();
        if status != ServingStatus::Serving {
            return Err(format!("{service} is {status:?}"));
        }
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_worst_case_batches_keep_no_other_client_or_health_check_waiting() {
    // Unoptimised test builds match about 20 times slower than release ones:
    // the default request timeout (30 s) would cut the four batches short.
    let services =
        common::start_with(|catalogue| catalogue.common.server.request_timeout = Duration::from_secs(600)).await;
    let endpoints = services.health_checks().to_vec();
    let catalogue = services.catalogue.endpoint();

    // The heaviest batch the bounds accept: as many queries at the longest
    // folded length as the batch's total allows, every kind, most suggestions.
    let per_batch = MAX_BATCH_FOLDED_CHARS / MAX_QUERY_FOLDED_CHARS;
    let worst = pb::BatchResolveRequest {
        requests: vec![
            pb::ResolveRequest {
                query: ligatures(MAX_QUERY_FOLDED_CHARS),
                kinds: Vec::new(),
                max_suggestions: 20,
            };
            per_batch
        ],
    };
    let heavy = CatalogueServiceClient::new(connect(&catalogue).await.unwrap());
    let started = Instant::now();
    let batches: Vec<_> = (0..4)
        .map(|_| {
            let (mut client, request) = (heavy.clone(), worst.clone());
            tokio::spawn(async move {
                let response = client.batch_resolve(request).await;
                (response, started.elapsed())
            })
        })
        .collect();
    // Let the four reach the catalogue and start matching.
    tokio::time::sleep(Duration::from_millis(300)).await;

    let probed = on_own_runtime(move || probe(endpoints)).await;
    if let Err(failure) = probed {
        panic!("{failure}");
    }
    let probed = started.elapsed();

    // The four were still running all along, and then finish with every answer.
    assert!(
        batches.iter().all(|b| !b.is_finished()),
        "the batches finished before the probes ({probed:?}): they did not load the catalogue"
    );
    for batch in batches {
        let (response, took) = batch.await.unwrap();
        let responses = response.expect("the accepted batch succeeds").into_inner().responses;
        assert_eq!(responses.len(), per_batch);
        eprintln!("a worst-case batch of {per_batch} finished after {took:?} (probes done after {probed:?})");
    }
}
