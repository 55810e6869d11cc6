//! The `fdi.ingest.v1.IngestService` handlers, one module per concern.

mod bulk;
mod documents;
mod events;
mod held;
mod reference;
mod submit;

use std::{pin::Pin, sync::Arc, time::Duration};

use fdi_proto::ingest::{self as pb, ingest_service_server::IngestService};
use tokio_stream::Stream;
use tonic::{Request, Response, Status, Streaming};

use crate::{
    error::Result,
    pipeline::Pipeline,
    references::{PlaceKind, PlaceLookup},
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
}

/// The gRPC face of the ingest service.
#[derive(Debug, Clone)]
pub struct IngestApi {
    pipeline: Arc<Pipeline>,
    limits: Limits,
}

impl IngestApi {
    /// Serves the pipeline within the limits.
    #[must_use]
    pub fn new(pipeline: Arc<Pipeline>, limits: Limits) -> Self {
        Self { pipeline, limits }
    }
}

/// Resolves a province given by resource name, code or any spelling to
/// (code, whether it is one of today's provinces); NOT_FOUND with suggestions.
async fn province_filter(pipeline: &Pipeline, text: &str, field: &str) -> Result<(String, bool)> {
    let mut violations = fdi_kit::status::Violations::new();
    fdi_kit::status::check_text(&mut violations, field, text, 500, true);
    violations.into_result()?;
    match pipeline.references.place(PlaceKind::Province, text).await? {
        Some(PlaceLookup::Found(place)) => Ok((place.id.clone(), place.id == place.current_province)),
        Some(PlaceLookup::Unknown(suggestions)) => {
            Err(fdi_kit::status::not_found("province", text, &suggestions).into())
        }
        None => Err(fdi_kit::status::not_found("province", text, &[]).into()),
    }
}

type BulkLoadStream = Pin<Box<dyn Stream<Item = Result<pb::BulkLoadResponse, Status>> + Send>>;

#[tonic::async_trait]
impl IngestService for IngestApi {
    type BulkLoadStream = BulkLoadStream;

    async fn submit_event(
        &self,
        request: Request<pb::SubmitEventRequest>,
    ) -> Result<Response<pb::SubmitEventResponse>, Status> {
        Ok(Response::new(
            submit::submit(&self.pipeline, request.into_inner()).await?,
        ))
    }

    async fn bulk_load(
        &self,
        request: Request<Streaming<pb::BulkLoadRequest>>,
    ) -> Result<Response<Self::BulkLoadStream>, Status> {
        Ok(Response::new(bulk::start(
            Arc::clone(&self.pipeline),
            self.limits.clone(),
            request.into_inner(),
        )))
    }

    async fn get_bulk_load(&self, request: Request<pb::GetBulkLoadRequest>) -> Result<Response<pb::BulkLoad>, Status> {
        Ok(Response::new(bulk::get(&self.pipeline, &request.into_inner()).await?))
    }

    async fn get_event(&self, request: Request<pb::GetEventRequest>) -> Result<Response<pb::Event>, Status> {
        Ok(Response::new(events::get(&self.pipeline, &request.into_inner()).await?))
    }

    async fn list_events(
        &self,
        request: Request<pb::ListEventsRequest>,
    ) -> Result<Response<pb::ListEventsResponse>, Status> {
        Ok(Response::new(
            events::list(&self.pipeline, &request.into_inner()).await?,
        ))
    }

    async fn list_held_rows(
        &self,
        request: Request<pb::ListHeldRowsRequest>,
    ) -> Result<Response<pb::ListHeldRowsResponse>, Status> {
        Ok(Response::new(held::list(&self.pipeline, &request.into_inner()).await?))
    }

    async fn reprocess_held_rows(
        &self,
        request: Request<pb::ReprocessHeldRowsRequest>,
    ) -> Result<Response<pb::ReprocessHeldRowsResponse>, Status> {
        Ok(Response::new(
            held::reprocess(&self.pipeline, &request.into_inner()).await?,
        ))
    }

    async fn create_exchange_rates(
        &self,
        request: Request<pb::CreateExchangeRatesRequest>,
    ) -> Result<Response<pb::CreateExchangeRatesResponse>, Status> {
        Ok(Response::new(
            reference::create_rates(&self.pipeline, &request.into_inner()).await?,
        ))
    }

    async fn list_exchange_rates(
        &self,
        request: Request<pb::ListExchangeRatesRequest>,
    ) -> Result<Response<pb::ListExchangeRatesResponse>, Status> {
        Ok(Response::new(
            reference::list_rates(&self.pipeline, &request.into_inner()).await?,
        ))
    }

    async fn set_target(&self, request: Request<pb::SetTargetRequest>) -> Result<Response<pb::Target>, Status> {
        Ok(Response::new(
            reference::set_target(&self.pipeline, request.into_inner()).await?,
        ))
    }

    async fn ingest_document(
        &self,
        request: Request<pb::IngestDocumentRequest>,
    ) -> Result<Response<pb::Document>, Status> {
        Ok(Response::new(
            documents::ingest(&self.pipeline, request.into_inner()).await?,
        ))
    }

    async fn get_document(&self, request: Request<pb::GetDocumentRequest>) -> Result<Response<pb::Document>, Status> {
        Ok(Response::new(
            documents::get(&self.pipeline, &request.into_inner()).await?,
        ))
    }

    async fn list_reported_statistics(
        &self,
        request: Request<pb::ListReportedStatisticsRequest>,
    ) -> Result<Response<pb::ListReportedStatisticsResponse>, Status> {
        Ok(Response::new(
            documents::list_statistics(&self.pipeline, &request.into_inner()).await?,
        ))
    }

    async fn promote_project(
        &self,
        request: Request<pb::PromoteProjectRequest>,
    ) -> Result<Response<pb::SubmitEventResponse>, Status> {
        Ok(Response::new(
            documents::promote(&self.pipeline, &request.into_inner()).await?,
        ))
    }

    async fn list_targets(
        &self,
        request: Request<pb::ListTargetsRequest>,
    ) -> Result<Response<pb::ListTargetsResponse>, Status> {
        Ok(Response::new(
            reference::list_targets(&self.pipeline, &request.into_inner()).await?,
        ))
    }
}
