//! The catalogue as ingest and analytics call it: one traced client with a
//! deadline on every call and retries where a call is idempotent (every
//! catalogue read, and `EnsureInvestors`, which creates each name at most
//! once), plus the resource-name helpers both callers need.

use std::time::Duration;

use fdi_proto::catalogue::{
    BatchResolveRequest, BatchResolveResponse, EnsureInvestorsRequest, EnsureInvestorsResponse, ListProvincesRequest,
    ListProvincesResponse, ResolveRequest, ResolveResponse, catalogue_service_client::CatalogueServiceClient,
};
use tonic::{Status, transport::Endpoint};

use crate::{
    config::CatalogueConfig,
    rpc::{TracedChannel, retry_idempotent, traced},
};

/// The catalogue's gRPC service name (for its health).
pub const SERVICE_NAME: &str = "fdi.catalogue.v1.CatalogueService";

/// A client of the catalogue service.
#[derive(Debug, Clone)]
pub struct Catalogue {
    client: CatalogueServiceClient<TracedChannel>,
    timeout: Duration,
}

impl Catalogue {
    /// A client of the catalogue at the configured URL that connects on first
    /// use; each call (and the connection) may take at most the configured timeout.
    ///
    /// # Errors
    /// When `url` is not a valid URI.
    pub fn connect_lazy(config: &CatalogueConfig) -> Result<Self, tonic::transport::Error> {
        let timeout = config.timeout;
        let channel = Endpoint::from_shared(config.url.clone())?
            .connect_timeout(timeout)
            .tcp_nodelay(true)
            .connect_lazy();
        Ok(Self {
            client: CatalogueServiceClient::new(traced(channel)),
            timeout,
        })
    }

    /// `Resolve`, retried while the catalogue is unavailable.
    ///
    /// # Errors
    /// The catalogue's status.
    pub async fn resolve(&self, request: ResolveRequest) -> Result<ResolveResponse, Status> {
        self.call(request, |mut client, call| async move { client.resolve(call).await })
            .await
    }

    /// `BatchResolve`, retried while the catalogue is unavailable.
    ///
    /// # Errors
    /// The catalogue's status.
    pub async fn batch_resolve(&self, request: BatchResolveRequest) -> Result<BatchResolveResponse, Status> {
        self.call(
            request,
            |mut client, call| async move { client.batch_resolve(call).await },
        )
        .await
    }

    /// `EnsureInvestors`, retried while the catalogue is unavailable.
    ///
    /// # Errors
    /// The catalogue's status.
    pub async fn ensure_investors(&self, request: EnsureInvestorsRequest) -> Result<EnsureInvestorsResponse, Status> {
        self.call(request, |mut client, call| async move {
            client.ensure_investors(call).await
        })
        .await
    }

    /// `ListProvinces`, retried while the catalogue is unavailable.
    ///
    /// # Errors
    /// The catalogue's status.
    pub async fn list_provinces(&self, request: ListProvincesRequest) -> Result<ListProvincesResponse, Status> {
        self.call(
            request,
            |mut client, call| async move { client.list_provinces(call).await },
        )
        .await
    }

    /// One idempotent call with the deadline set, retried on UNAVAILABLE.
    async fn call<Req, Res, F, Fut>(&self, request: Req, method: F) -> Result<Res, Status>
    where
        Req: Clone,
        F: Fn(CatalogueServiceClient<TracedChannel>, tonic::Request<Req>) -> Fut,
        Fut: Future<Output = Result<tonic::Response<Res>, Status>>,
    {
        let response = retry_idempotent(|| {
            let mut call = tonic::Request::new(request.clone());
            call.set_timeout(self.timeout);
            method(self.client.clone(), call)
        })
        .await?;
        Ok(response.into_inner())
    }
}

/// The id of a resource name (`provinces/bac-ninh` → `bac-ninh`); a bare id is itself.
#[must_use]
pub fn id_of(resource: &str) -> &str {
    resource.rsplit('/').next().unwrap_or(resource)
}

/// The text without a leading `{collection}/` (`zones/quang-chau` → `quang-chau`).
#[must_use]
pub fn strip_collection<'a>(text: &'a str, collection: &str) -> &'a str {
    text.strip_prefix(collection)
        .and_then(|rest| rest.strip_prefix('/'))
        .unwrap_or(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_names() {
        assert_eq!(id_of("provinces/bac-ninh"), "bac-ninh");
        assert_eq!(id_of("bac-ninh"), "bac-ninh");
        assert_eq!(strip_collection("zones/quang-chau", "zones"), "quang-chau");
        assert_eq!(strip_collection("zonesx/quang-chau", "zones"), "zonesx/quang-chau");
        assert_eq!(strip_collection("Quang Châu", "zones"), "Quang Châu");
    }
}
