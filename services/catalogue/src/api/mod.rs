//! The `fdi.catalogue.v1.CatalogueService` handlers, one module per resource.

mod investors;
mod provinces;
mod resolve;
mod zones;

use std::sync::Arc;

use fdi_proto::catalogue::{self as pb, catalogue_service_server::CatalogueService};
use tonic::{Request, Response, Status};

use crate::{error::Error, state::Catalogue};

pub use investors::{find_investor_by_key, investor_suggestions};

/// Longest name, alias or query accepted, in characters.
pub const MAX_NAME_CHARS: usize = 500;

/// The gRPC face of the catalogue.
#[derive(Debug, Clone)]
pub struct CatalogueApi {
    state: Arc<Catalogue>,
}

impl CatalogueApi {
    /// Serves the given state.
    #[must_use]
    pub fn new(state: Arc<Catalogue>) -> Self {
        Self { state }
    }
}

/// NOT_FOUND for an unknown id of `kind`, suggesting the nearest names in the snapshot.
pub(crate) fn not_found(
    snapshot: &crate::state::Snapshot,
    kind: crate::model::EntityKind,
    what: &str,
    shown: &str,
    id: &str,
) -> Error {
    let kinds = std::collections::HashSet::from([kind]);
    let resolution = snapshot.index.resolve(&id.replace('-', " "), &kinds, 3);
    let suggestions: Vec<String> = resolution
        .best
        .into_iter()
        .chain(resolution.suggestions)
        .map(|c| c.resource)
        .take(3)
        .collect();
    fdi_kit::status::not_found(what, shown, &suggestions).into()
}

/// Splits `collection/id` (or a bare id) and checks the id's shape.
pub(crate) fn resource_id<'a>(name: &'a str, collection: &str, field: &str) -> Result<&'a str, Error> {
    let trimmed = name.trim();
    if trimmed.is_empty() {
        return Err(fdi_kit::status::invalid_argument(field, format!("is required, e.g. `{collection}/...`")).into());
    }
    if trimmed.chars().count() > MAX_NAME_CHARS {
        return Err(fdi_kit::status::invalid_argument(
            field,
            format!(
                "is {} characters long; at most {MAX_NAME_CHARS} are allowed",
                trimmed.chars().count()
            ),
        )
        .into());
    }
    let id = trimmed
        .strip_prefix(collection)
        .and_then(|rest| rest.strip_prefix('/'))
        .unwrap_or(trimmed);
    if id.contains('/') {
        return Err(
            fdi_kit::status::invalid_argument(field, format!("`{trimmed}` is not a `{collection}/...` name")).into(),
        );
    }
    Ok(id)
}

#[tonic::async_trait]
impl CatalogueService for CatalogueApi {
    async fn get_province(&self, request: Request<pb::GetProvinceRequest>) -> Result<Response<pb::Province>, Status> {
        Ok(Response::new(provinces::get(&self.state, &request.into_inner())?))
    }

    async fn list_provinces(
        &self,
        request: Request<pb::ListProvincesRequest>,
    ) -> Result<Response<pb::ListProvincesResponse>, Status> {
        Ok(Response::new(provinces::list(&self.state, &request.into_inner())?))
    }

    async fn get_zone(&self, request: Request<pb::GetZoneRequest>) -> Result<Response<pb::Zone>, Status> {
        Ok(Response::new(zones::get(&self.state, &request.into_inner()).await?))
    }

    async fn list_zones(
        &self,
        request: Request<pb::ListZonesRequest>,
    ) -> Result<Response<pb::ListZonesResponse>, Status> {
        Ok(Response::new(zones::list(&self.state, &request.into_inner()).await?))
    }

    async fn create_zone(&self, request: Request<pb::CreateZoneRequest>) -> Result<Response<pb::Zone>, Status> {
        Ok(Response::new(zones::create(&self.state, request.into_inner()).await?))
    }

    async fn update_zone(&self, request: Request<pb::UpdateZoneRequest>) -> Result<Response<pb::Zone>, Status> {
        Ok(Response::new(zones::update(&self.state, request.into_inner()).await?))
    }

    async fn get_investor(&self, request: Request<pb::GetInvestorRequest>) -> Result<Response<pb::Investor>, Status> {
        Ok(Response::new(investors::get(&self.state, &request.into_inner()).await?))
    }

    async fn list_investors(
        &self,
        request: Request<pb::ListInvestorsRequest>,
    ) -> Result<Response<pb::ListInvestorsResponse>, Status> {
        Ok(Response::new(
            investors::list(&self.state, &request.into_inner()).await?,
        ))
    }

    async fn create_investor(
        &self,
        request: Request<pb::CreateInvestorRequest>,
    ) -> Result<Response<pb::Investor>, Status> {
        Ok(Response::new(
            investors::create(&self.state, request.into_inner()).await?,
        ))
    }

    async fn ensure_investors(
        &self,
        request: Request<pb::EnsureInvestorsRequest>,
    ) -> Result<Response<pb::EnsureInvestorsResponse>, Status> {
        Ok(Response::new(
            investors::ensure(&self.state, &request.into_inner()).await?,
        ))
    }

    async fn resolve(&self, request: Request<pb::ResolveRequest>) -> Result<Response<pb::ResolveResponse>, Status> {
        Ok(Response::new(
            resolve::resolve(&self.state, &request.into_inner(), "").await?,
        ))
    }

    async fn batch_resolve(
        &self,
        request: Request<pb::BatchResolveRequest>,
    ) -> Result<Response<pb::BatchResolveResponse>, Status> {
        Ok(Response::new(resolve::batch(&self.state, &request.into_inner()).await?))
    }
}
