//! The `fdi.catalogue.v1.CatalogueService` handlers, one module per resource.
//! Each handler validates its request, asks the snapshot or the
//! [`crate::store::Store`], and converts the answer to protobuf. Writing
//! handlers take the [`Caller`] the access layer put in the request, and
//! record its key id as the creator (or updater) of what they write. The
//! `fdi.access.v1.AccessService` handlers (API keys) are in [`access`], and
//! [`policy`] says what each method of both needs.

mod access;
mod investors;
mod provinces;
mod resolve;
mod zones;

use std::{collections::HashSet, sync::Arc};

use fdi_kit::{
    access::{Caller, Permission},
    domain::MAX_NAME_CHARS,
    names::fold,
    status::{Violations, check_text, invalid_argument},
};
use fdi_proto::{
    access::access_service_server::SERVICE_NAME as ACCESS_SERVICE_NAME,
    catalogue::{self as pb, catalogue_service_server::CatalogueService},
};
use tonic::{Request, Response, Status};

pub use access::AccessApi;

use crate::{
    error::{Error, Result},
    model::EntityKind,
    resolver::MAX_QUERY_FOLDED_CHARS,
    state::{Catalogue, Snapshot},
};

/// Aliases per zone or investor.
const MAX_ALIASES: usize = 50;

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

/// Implements the gRPC trait from a table of RPC → handler: each handler
/// takes the state, the [`Caller`] when the RPC names it (writes), and the
/// request; its error becomes the status.
macro_rules! rpcs {
    ($($method:ident($request:ident $(, $caller:ident)?) -> $response:ident => $handler:path;)+) => {
        #[tonic::async_trait]
        impl CatalogueService for CatalogueApi {
            $(
                async fn $method(&self, request: Request<pb::$request>) -> Result<Response<pb::$response>, Status> {
                    Ok(Response::new(rpcs!(@call $handler, &self.state, request $(, $caller)?).await?))
                }
            )+
        }
    };
    (@call $handler:path, $state:expr, $request:ident) => {
        $handler($state, $request.into_inner())
    };
    (@call $handler:path, $state:expr, $request:ident, caller) => {
        $handler($state, &Caller::of(&$request)?, $request.into_inner())
    };
}

rpcs! {
    get_province(GetProvinceRequest) -> Province => provinces::get;
    list_provinces(ListProvincesRequest) -> ListProvincesResponse => provinces::list;
    get_zone(GetZoneRequest) -> Zone => zones::get;
    list_zones(ListZonesRequest) -> ListZonesResponse => zones::list;
    create_zone(CreateZoneRequest, caller) -> Zone => zones::create;
    update_zone(UpdateZoneRequest, caller) -> Zone => zones::update;
    get_investor(GetInvestorRequest) -> Investor => investors::get;
    list_investors(ListInvestorsRequest) -> ListInvestorsResponse => investors::list;
    create_investor(CreateInvestorRequest, caller) -> Investor => investors::create;
    ensure_investors(EnsureInvestorsRequest, caller) -> EnsureInvestorsResponse => investors::ensure;
    resolve(ResolveRequest) -> ResolveResponse => resolve::resolve;
    batch_resolve(BatchResolveRequest) -> BatchResolveResponse => resolve::batch;
}

/// What a call of the gRPC method at `path` needs (the access layer refuses
/// keys whose role does not grant it); `None` for a path the catalogue does
/// not serve, which the layer then reserves to admins.
#[must_use]
pub fn policy(path: &str) -> Option<Permission> {
    let (service, method) = path.strip_prefix('/')?.split_once('/')?;
    match service {
        crate::SERVICE_NAME => catalogue_permission(method),
        // Keys decide who may do everything else.
        ACCESS_SERVICE_NAME => Some(Permission::Admin),
        _ => None,
    }
}

fn catalogue_permission(method: &str) -> Option<Permission> {
    Some(match method {
        "GetProvince" | "ListProvinces" | "GetZone" | "ListZones" | "GetInvestor" | "ListInvestors" | "Resolve"
        | "BatchResolve" => Permission::Read,
        "CreateZone" | "UpdateZone" | "CreateInvestor" => Permission::Curate,
        // Ingest registers the investors it meets in rows; that is not curating them.
        "EnsureInvestors" => Permission::Register,
        _ => return None,
    })
}

/// NOT_FOUND for an unknown id of `kind`, suggesting the nearest names in the snapshot.
fn not_found(snapshot: &Snapshot, kind: EntityKind, what: &str, shown: &str, id: &str) -> Error {
    fdi_kit::status::not_found(what, shown, &nearest(snapshot, kind, id)).into()
}

/// Up to three resource names of `kind` nearest to `id` (to its first
/// [`MAX_QUERY_FOLDED_CHARS`] folded characters, which keeps the matching as
/// cheap as one `Resolve`).
fn nearest(snapshot: &Snapshot, kind: EntityKind, id: &str) -> Vec<String> {
    let kinds = HashSet::from([kind]);
    let near: String = fold(id).chars().take(MAX_QUERY_FOLDED_CHARS).collect();
    let resolution = snapshot.index.resolve(&near, &kinds, 3);
    resolution
        .best
        .into_iter()
        .chain(resolution.suggestions)
        .map(|c| c.resource)
        .take(3)
        .collect()
}

/// Splits `collection/id` (or a bare id) and checks the id's shape.
fn resource_id<'a>(name: &'a str, collection: &str, field: &str) -> Result<&'a str> {
    let trimmed = name.trim();
    if trimmed.is_empty() {
        return Err(invalid_argument(field, format!("is required, e.g. `{collection}/...`")).into());
    }
    if trimmed.chars().count() > MAX_NAME_CHARS {
        return Err(invalid_argument(
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
        return Err(invalid_argument(field, format!("`{trimmed}` is not a `{collection}/...` name")).into());
    }
    Ok(id)
}

/// The message a request must carry in `field`.
fn required<T>(message: Option<T>, field: &str) -> Result<T> {
    message.ok_or_else(|| invalid_argument(field, "is required").into())
}

/// Refuses a batch of more than `max` entries in `field`.
fn check_batch_size(field: &str, len: usize, max: usize) -> Result<()> {
    if len > max {
        return Err(invalid_argument(field, format!("has {len} entries; at most {max} per call")).into());
    }
    Ok(())
}

/// Checks a list of aliases in `field` (e.g. `zone.aliases`): how many, and each one's text.
fn check_aliases(violations: &mut Violations, field: &str, aliases: &[String]) {
    if aliases.len() > MAX_ALIASES {
        violations.add(field, format!("has {} entries; at most {MAX_ALIASES}", aliases.len()));
    }
    for (i, alias) in aliases.iter().enumerate() {
        check_text(violations, &format!("{field}[{i}]"), alias, MAX_NAME_CHARS, true);
    }
}

#[cfg(test)]
mod tests {
    use fdi_kit::access::Permission::{Admin, Curate, Read, Register};
    use prost::Message;

    use super::*;

    /// Every method of both services, from the descriptor set the server itself reflects.
    fn described_methods() -> Vec<String> {
        let set = prost_types::FileDescriptorSet::decode(fdi_proto::FILE_DESCRIPTOR_SET).expect("descriptor set");
        let mut paths = Vec::new();
        for file in set.file {
            for service in &file.service {
                let full = format!("{}.{}", file.package(), service.name());
                if full == crate::SERVICE_NAME || full == ACCESS_SERVICE_NAME {
                    paths.extend(service.method.iter().map(|method| format!("/{full}/{}", method.name())));
                }
            }
        }
        paths
    }

    #[test]
    fn every_method_has_the_permission_the_contract_says() {
        let expected = [
            ("GetProvince", Read),
            ("ListProvinces", Read),
            ("GetZone", Read),
            ("ListZones", Read),
            ("CreateZone", Curate),
            ("UpdateZone", Curate),
            ("GetInvestor", Read),
            ("ListInvestors", Read),
            ("CreateInvestor", Curate),
            ("EnsureInvestors", Register),
            ("Resolve", Read),
            ("BatchResolve", Read),
        ];
        for (method, permission) in expected {
            let path = format!("/{}/{method}", crate::SERVICE_NAME);
            assert_eq!(policy(&path), Some(permission), "{path}");
        }
        for method in ["CreateApiKey", "GetApiKey", "ListApiKeys", "RevokeApiKey"] {
            assert_eq!(
                policy(&format!("/{ACCESS_SERVICE_NAME}/{method}")),
                Some(Admin),
                "{method}"
            );
        }
        let described = described_methods();
        assert_eq!(
            described.len(),
            expected.len() + 4,
            "a method was added: classify it here and in `policy`"
        );
        for path in described {
            assert!(policy(&path).is_some(), "{path} is not classified");
        }
    }

    #[test]
    fn unknown_paths_have_no_policy() {
        for path in [
            "",
            "/",
            "GetProvince",
            "/fdi.catalogue.v1.CatalogueService/DropEverything",
            "/fdi.catalogue.v1.CatalogueService/",
            "/fdi.ingest.v1.IngestService/SubmitEvent",
            "/fdi.catalogue.v1.CatalogueServiceX/GetProvince",
        ] {
            assert_eq!(policy(path), None, "{path}");
        }
    }
}
