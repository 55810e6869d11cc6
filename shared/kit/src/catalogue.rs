//! The catalogue as ingest and analytics call it: one traced client with a
//! deadline on every call and retries where a call is idempotent (every
//! catalogue read, and `EnsureInvestors`, which creates each name at most
//! once), plus the resource-name helpers both callers need.

use std::time::Duration;

use fdi_proto::catalogue::{
    BatchResolveRequest, BatchResolveResponse, EnsureInvestorsRequest, EnsureInvestorsResponse, ListProvincesRequest,
    ListProvincesResponse, ResolveRequest, ResolveResponse, catalogue_service_client::CatalogueServiceClient,
};
use tonic::Status;

use crate::{
    access::Bearer,
    config::{CatalogueConfig, TlsConfig},
    domain::{MAX_FOLDED_NAME_CHARS, MAX_NAME_CHARS},
    names::fold,
    rpc::{TracedChannel, retry_idempotent, traced},
    status::{Violations, check_text, shorten},
    tls::TlsError,
};

/// The catalogue's gRPC service name (for its health).
pub const SERVICE_NAME: &str = "fdi.catalogue.v1.CatalogueService";

/// A client of the catalogue service.
#[derive(Debug, Clone)]
pub struct Catalogue {
    client: CatalogueServiceClient<TracedChannel>,
    timeout: Duration,
    credential: Bearer,
}

impl Catalogue {
    /// A client of the catalogue at the configured URL that connects on first
    /// use; each call (and the connection) may take at most the configured timeout.
    ///
    /// # Errors
    /// When `url` is not a valid URI.
    pub fn connect_lazy(config: &CatalogueConfig, tls: &TlsConfig) -> Result<Self, TlsError> {
        let timeout = config.timeout;
        let channel = crate::tls::endpoint(&config.url, tls)?
            .connect_timeout(timeout)
            .tcp_nodelay(true)
            .connect_lazy();
        Ok(Self {
            client: CatalogueServiceClient::new(traced(channel)),
            timeout,
            credential: Bearer::default(),
        })
    }

    /// Calls with this service's own key (role `service`), never a user's.
    #[must_use]
    pub fn with_credential(mut self, credential: Bearer) -> Self {
        self.credential = credential;
        self
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
            self.credential.apply(&mut call);
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

/// Checks a name before the catalogue is asked to resolve or create it, so that a value the catalogue would
/// refuse is the caller's field violation, never a failed catalogue call: text of at most [`MAX_NAME_CHARS`]
/// characters that, once folded (and without its `{collection}/` prefix, for places), still has a letter or
/// digit (`"!!!"` and `"zones/"` name nothing) and, for places, at most [`MAX_FOLDED_NAME_CHARS`] characters.
pub fn check_name(violations: &mut Violations, field: &str, value: &str, collection: Option<&str>, required: bool) {
    let before = violations.items().len();
    check_text(violations, field, value, MAX_NAME_CHARS, required);
    if value.trim().is_empty() || violations.items().len() > before {
        return;
    }
    let bare = collection.map_or(value, |collection| strip_collection(value.trim(), collection));
    let folded = fold(bare).chars().count();
    if folded == 0 {
        violations.add(
            field,
            format!("`{}` has no letters or digits, so it names nothing", shorten(value, 40)),
        );
    } else if collection.is_some() && folded > MAX_FOLDED_NAME_CHARS {
        violations.add(
            field,
            format!(
                "folds to {folded} characters (accents removed, ligatures spelled out); \
                 at most {MAX_FOLDED_NAME_CHARS} are matched"
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_catalogue_would_refuse_are_violations() {
        let mut violations = Violations::new();
        check_name(&mut violations, "a", "!!!", None, true);
        check_name(&mut violations, "b", "provinces/", Some("provinces"), true);
        check_name(&mut violations, "c", &"ﬃ".repeat(100), Some("zones"), true);
        check_name(&mut violations, "d", "", None, true);
        check_name(&mut violations, "e", "", None, false);
        check_name(&mut violations, "f", "provinces/bac-ninh", Some("provinces"), true);
        check_name(&mut violations, "g", "KCN Quang Châu", Some("zones"), true);
        let fields: Vec<_> = violations.items().iter().map(|(field, _)| field.as_str()).collect();
        assert_eq!(fields, ["a", "b", "c", "d"]);
    }

    #[test]
    fn resource_names() {
        assert_eq!(id_of("provinces/bac-ninh"), "bac-ninh");
        assert_eq!(id_of("bac-ninh"), "bac-ninh");
        assert_eq!(strip_collection("zones/quang-chau", "zones"), "quang-chau");
        assert_eq!(strip_collection("zonesx/quang-chau", "zones"), "zonesx/quang-chau");
        assert_eq!(strip_collection("Quang Châu", "zones"), "Quang Châu");
    }
}
