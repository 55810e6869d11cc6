//! The `fdi.ingest.v1.IngestService` handlers, one module per concern.
//! Each handler reads the same way: validate the request, call the store
//! (or the pipeline), convert the result to its protobuf message. Writing
//! handlers take the [`Caller`] the access layer put in the request: every
//! write records its key id, and rows are checked against its provinces.

mod bulk;
mod documents;
mod events;
mod held;
mod rates;
mod submit;
mod targets;

pub use documents::MAX_EVIDENCE_BYTES;

use std::{fmt::Display, pin::Pin, sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use fdi_kit::{
    access::Caller,
    domain::MAX_NAME_CHARS,
    paging::PageLimits,
    period::{self, Span},
    status::{Violations, check_text, not_found},
};
use fdi_proto::{
    common::Period,
    ingest::{self as pb, ingest_service_server::IngestService},
};
use tokio_stream::Stream;
use tonic::{Request, Response, Status, Streaming};

use crate::{
    error::Result,
    pipeline::Pipeline,
    references::{Place, PlaceKind, PlaceLookup},
    store::ProvinceFilter,
};

/// Limits that protect the service from oversized input.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Rows per bulk-load message.
    pub max_batch_rows: usize,
    /// Rows per bulk-load call; beyond, the client opens a new call and resumes.
    pub max_stream_rows: u64,
    /// How long a bulk-load stream may stay silent.
    pub stream_idle_timeout: Duration,
    /// Document extractions that may run at once.
    pub max_extractions: usize,
    /// Most items of each kind extracted from one document.
    pub max_document_items: usize,
    /// Deadline of a call that brings none (the server's own).
    pub request_timeout: Duration,
}

/// The gRPC face of the ingest service.
#[derive(Debug, Clone)]
pub struct IngestApi {
    pipeline: Arc<Pipeline>,
    limits: Limits,
    /// One permit per extraction allowed to run at once.
    extractions: Arc<tokio::sync::Semaphore>,
}

impl IngestApi {
    /// Serves the pipeline within the limits.
    #[must_use]
    pub fn new(pipeline: Arc<Pipeline>, limits: Limits) -> Self {
        let extractions = Arc::new(tokio::sync::Semaphore::new(limits.max_extractions.max(1)));
        Self {
            pipeline,
            limits,
            extractions,
        }
    }
}

/// Page sizes of every list RPC.
const PAGE_LIMITS: PageLimits = PageLimits {
    default: 100,
    max: 1000,
};

/// The filter key of an optional period, for page tokens.
fn span_key(span: Option<Span>) -> String {
    span.map(|s| format!("{}..{}", s.start, s.end)).unwrap_or_default()
}

/// An optional period filter resolved to its days.
fn period_filter(period: Option<&Period>) -> Result<Option<Span>> {
    match period {
        Some(p) if p.kind.is_some() => Ok(Some(period::resolve(Some(p), "period")?)),
        _ => Ok(None),
    }
}

/// `{collection}/{id}`.
fn resource(collection: &str, id: impl Display) -> String {
    format!("{collection}/{id}")
}

/// `{collection}/{id}`, or empty without an id.
fn optional_resource(collection: &str, id: Option<impl Display>) -> String {
    id.map(|id| resource(collection, id)).unwrap_or_default()
}

/// A timestamp in protobuf form.
fn timestamp(time: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: time.timestamp(),
        nanos: i32::try_from(time.timestamp_subsec_nanos()).unwrap_or_default(),
    }
}

/// A place the catalogue knows by this name; NOT_FOUND (naming it `shown`)
/// with the catalogue's suggestions when it knows none.
async fn known_place(pipeline: &Pipeline, kind: PlaceKind, text: &str, shown: &str) -> Result<Place> {
    let what = match kind {
        PlaceKind::Province => "province",
        PlaceKind::Zone => "zone",
    };
    match pipeline.references.place(kind, text).await? {
        Some(PlaceLookup::Found(place)) => Ok(place),
        Some(PlaceLookup::Unknown(suggestions)) => Err(not_found(what, shown, &suggestions).into()),
        None => Err(not_found(what, shown, &[]).into()),
    }
}

/// Resolves a province given by resource name, code or any spelling to its
/// code and whether it is one of today's provinces; NOT_FOUND with suggestions.
async fn province(pipeline: &Pipeline, text: &str, field: &str) -> Result<(String, bool)> {
    let mut violations = Violations::new();
    check_text(&mut violations, field, text, MAX_NAME_CHARS, true);
    violations.into_result()?;
    let place = known_place(pipeline, PlaceKind::Province, text, text).await?;
    let current = place.id == place.current_province;
    Ok((place.id, current))
}

/// The province filter of field `province` (empty: none).
async fn province_filter(pipeline: &Pipeline, text: &str) -> Result<ProvinceFilter> {
    if text.trim().is_empty() {
        return Ok(ProvinceFilter::default());
    }
    let (code, current) = province(pipeline, text, "province").await?;
    Ok(if current {
        ProvinceFilter {
            current: Some(code),
            recorded: None,
        }
    } else {
        ProvinceFilter {
            current: None,
            recorded: Some(code),
        }
    })
}

type LoadEventsStream = Pin<Box<dyn Stream<Item = Result<pb::LoadEventsResponse, Status>> + Send>>;

/// Answers a call with its handler's result.
async fn answer<T>(handler: impl Future<Output = Result<T>>) -> Result<Response<T>, Status> {
    Ok(Response::new(handler.await?))
}

#[tonic::async_trait]
impl IngestService for IngestApi {
    type LoadEventsStream = LoadEventsStream;

    async fn submit_event(
        &self,
        request: Request<pb::SubmitEventRequest>,
    ) -> Result<Response<pb::SubmitEventResponse>, Status> {
        let caller = Caller::of(&request)?;
        answer(submit::submit(&self.pipeline, &caller, request.into_inner())).await
    }

    async fn load_events(
        &self,
        request: Request<Streaming<pb::LoadEventsRequest>>,
    ) -> Result<Response<Self::LoadEventsStream>, Status> {
        let caller = Caller::of(&request)?;
        let stream = bulk::start(
            Arc::clone(&self.pipeline),
            self.limits.clone(),
            caller,
            request.into_inner(),
        );
        Ok(Response::new(stream))
    }

    async fn get_bulk_load(&self, request: Request<pb::GetBulkLoadRequest>) -> Result<Response<pb::BulkLoad>, Status> {
        answer(bulk::get(&self.pipeline, request.into_inner())).await
    }

    async fn get_event(&self, request: Request<pb::GetEventRequest>) -> Result<Response<pb::Event>, Status> {
        answer(events::get(&self.pipeline, request.into_inner())).await
    }

    async fn list_events(
        &self,
        request: Request<pb::ListEventsRequest>,
    ) -> Result<Response<pb::ListEventsResponse>, Status> {
        answer(events::list(&self.pipeline, request.into_inner())).await
    }

    async fn list_held_rows(
        &self,
        request: Request<pb::ListHeldRowsRequest>,
    ) -> Result<Response<pb::ListHeldRowsResponse>, Status> {
        answer(held::list(&self.pipeline, request.into_inner())).await
    }

    async fn reprocess_held_rows(
        &self,
        request: Request<pb::ReprocessHeldRowsRequest>,
    ) -> Result<Response<pb::ReprocessHeldRowsResponse>, Status> {
        let caller = Caller::of(&request)?;
        answer(held::reprocess(&self.pipeline, &caller, request.into_inner())).await
    }

    async fn create_exchange_rates(
        &self,
        request: Request<pb::CreateExchangeRatesRequest>,
    ) -> Result<Response<pb::CreateExchangeRatesResponse>, Status> {
        let caller = Caller::of(&request)?;
        answer(rates::create(&self.pipeline, &caller, request.into_inner())).await
    }

    async fn list_exchange_rates(
        &self,
        request: Request<pb::ListExchangeRatesRequest>,
    ) -> Result<Response<pb::ListExchangeRatesResponse>, Status> {
        answer(rates::list(&self.pipeline, request.into_inner())).await
    }

    async fn set_target(&self, request: Request<pb::SetTargetRequest>) -> Result<Response<pb::Target>, Status> {
        let caller = Caller::of(&request)?;
        answer(targets::set(&self.pipeline, &caller, request.into_inner())).await
    }

    async fn list_targets(
        &self,
        request: Request<pb::ListTargetsRequest>,
    ) -> Result<Response<pb::ListTargetsResponse>, Status> {
        answer(targets::list(&self.pipeline, request.into_inner())).await
    }

    async fn ingest_document(
        &self,
        request: Request<pb::IngestDocumentRequest>,
    ) -> Result<Response<pb::Document>, Status> {
        let caller = Caller::of(&request)?;
        let extractions = documents::Extractions {
            permits: &self.extractions,
            limits: &self.limits,
        };
        answer(documents::ingest(
            &self.pipeline,
            &extractions,
            &caller,
            request.into_inner(),
        ))
        .await
    }

    async fn get_document(&self, request: Request<pb::GetDocumentRequest>) -> Result<Response<pb::Document>, Status> {
        answer(documents::get(&self.pipeline, request.into_inner())).await
    }

    async fn list_reported_statistics(
        &self,
        request: Request<pb::ListReportedStatisticsRequest>,
    ) -> Result<Response<pb::ListReportedStatisticsResponse>, Status> {
        answer(documents::list_statistics(&self.pipeline, request.into_inner())).await
    }

    async fn promote_project(
        &self,
        request: Request<pb::PromoteProjectRequest>,
    ) -> Result<Response<pb::SubmitEventResponse>, Status> {
        let caller = Caller::of(&request)?;
        answer(documents::promote(&self.pipeline, &caller, request.into_inner())).await
    }
}
