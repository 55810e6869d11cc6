//! Provinces and zones named in requests, resolved through the catalogue
//! (any spelling, pre-2025 names too), and provinces' display names.

use std::{collections::HashMap, sync::RwLock, time::Duration};

use fdi_kit::rpc::{TracedChannel, retry_idempotent, traced};
use fdi_proto::catalogue::{
    EntityKind, ListProvincesRequest, ResolveRequest, catalogue_service_client::CatalogueServiceClient,
};
use tonic::transport::Channel;

use crate::error::{Error, Result};

/// A province as requested.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvinceRef {
    /// Its code (a pre-2025 unit stays itself).
    pub code: String,
    /// The code of today's unit it belongs to.
    pub current: String,
}

/// The catalogue client and the province names.
#[derive(Debug)]
pub struct Places {
    client: CatalogueServiceClient<TracedChannel>,
    timeout: Duration,
    names: RwLock<HashMap<String, String>>,
    /// Resolved names, so repeated questions cost no catalogue call (provinces change once a decade).
    resolved: RwLock<HashMap<(i32, String), fdi_proto::catalogue::Candidate>>,
}

/// Resolved names remembered; beyond, the cache starts over.
const MAX_RESOLVED: usize = 10_000;

fn id_of(resource: &str) -> String {
    resource.rsplit('/').next().unwrap_or(resource).to_owned()
}

impl Places {
    /// Over the catalogue at `channel`.
    #[must_use]
    pub fn new(channel: Channel, timeout: Duration) -> Self {
        Self {
            client: CatalogueServiceClient::new(traced(channel)),
            timeout,
            names: RwLock::new(HashMap::new()),
            resolved: RwLock::new(HashMap::new()),
        }
    }

    async fn resolve(&self, text: &str, kind: EntityKind, field: &str) -> Result<fdi_proto::catalogue::Candidate> {
        let mut violations = fdi_kit::status::Violations::new();
        fdi_kit::status::check_text(&mut violations, field, text, 500, true);
        violations.into_result()?;
        let cache_key = (i32::from(kind), text.trim().to_owned());
        if let Some(hit) = self
            .resolved
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&cache_key)
        {
            return Ok(hit.clone());
        }
        let collection = if kind == EntityKind::Zone {
            "zones/"
        } else {
            "provinces/"
        };
        let query = text.trim().strip_prefix(collection).unwrap_or(text.trim());
        let request = ResolveRequest {
            query: query.to_owned(),
            kinds: vec![kind.into()],
            max_suggestions: 3,
        };
        let response = retry_idempotent(|| {
            let mut call = tonic::Request::new(request.clone());
            call.set_timeout(self.timeout);
            let mut client = self.client.clone();
            async move { client.resolve(call).await }
        })
        .await
        .map_err(Error::Catalogue)?
        .into_inner();
        let what = if kind == EntityKind::Zone { "zone" } else { "province" };
        let hit = response.r#match.ok_or_else(|| {
            let suggestions: Vec<String> = response.suggestions.into_iter().map(|s| s.resource).collect();
            Error::from(fdi_kit::status::not_found(what, text.trim(), &suggestions))
        })?;
        let mut resolved = self.resolved.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        if resolved.len() >= MAX_RESOLVED {
            resolved.clear();
        }
        resolved.insert(cache_key, hit.clone());
        Ok(hit)
    }

    /// A province by resource name, code or any spelling; NOT_FOUND with suggestions.
    ///
    /// # Errors
    /// INVALID_ARGUMENT, NOT_FOUND, or the catalogue unreachable.
    pub async fn province(&self, text: &str, field: &str) -> Result<ProvinceRef> {
        let hit = self.resolve(text, EntityKind::Province, field).await?;
        Ok(ProvinceRef {
            code: id_of(&hit.resource),
            current: id_of(&hit.current_province),
        })
    }

    /// A zone id by resource name or any spelling; NOT_FOUND with suggestions.
    ///
    /// # Errors
    /// INVALID_ARGUMENT, NOT_FOUND, or the catalogue unreachable.
    pub async fn zone(&self, text: &str, field: &str) -> Result<String> {
        Ok(id_of(&self.resolve(text, EntityKind::Zone, field).await?.resource))
    }

    /// The Vietnamese name of a province code (the code itself when unknown).
    pub async fn display_name(&self, code: &str) -> String {
        if let Some(name) = self
            .names
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(code)
        {
            return name.clone();
        }
        let request = ListProvincesRequest {
            page_size: Some(100),
            include_merged: true,
            ..Default::default()
        };
        let listed = retry_idempotent(|| {
            let mut call = tonic::Request::new(request.clone());
            call.set_timeout(self.timeout);
            let mut client = self.client.clone();
            async move { client.list_provinces(call).await }
        })
        .await;
        if let Ok(response) = listed {
            let mut names = self.names.write().unwrap_or_else(std::sync::PoisonError::into_inner);
            for province in response.into_inner().provinces {
                names.insert(province.code, province.display_name);
            }
        }
        self.names
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(code)
            .cloned()
            .unwrap_or_else(|| code.to_owned())
    }
}
