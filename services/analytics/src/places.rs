//! Provinces and zones named in requests, resolved through the catalogue
//! (any spelling, pre-2025 names too), and provinces' display names.

use std::{
    collections::HashMap,
    sync::{PoisonError, RwLock},
};

use fdi_kit::{
    catalogue::{Catalogue, check_name, id_of, strip_collection},
    domain::ProvinceCode,
    status::Violations,
};
use fdi_proto::catalogue::{Candidate, EntityKind, ListProvincesRequest, ResolveRequest};

use crate::error::{Error, Result};

/// A province as requested.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvinceRef {
    /// Its code (a pre-2025 unit stays itself).
    pub code: ProvinceCode,
    /// The code of today's unit it belongs to.
    pub current: ProvinceCode,
}

/// The code of a province resource name the catalogue answered with.
fn province_code(resource: &str) -> Result<ProvinceCode> {
    ProvinceCode::parse(id_of(resource)).ok_or_else(|| {
        Error::Catalogue(tonic::Status::internal(format!(
            "the catalogue answered `{resource}`, which is no province name"
        )))
    })
}

/// The catalogue client and the province names.
#[derive(Debug)]
pub struct Places {
    catalogue: Catalogue,
    names: RwLock<HashMap<String, String>>,
    /// Resolved names, so repeated questions cost no catalogue call (provinces change once a decade).
    resolved: RwLock<HashMap<(i32, String), Candidate>>,
}

/// Resolved names remembered; beyond, the cache starts over.
const MAX_RESOLVED: usize = 10_000;
/// Provinces listed per call for their display names (all of them, merged ones too).
const PROVINCES_PAGE: i32 = 100;

/// What a kind of place is called, as a resource collection and in messages.
fn collection_and_noun(kind: EntityKind) -> (&'static str, &'static str) {
    if kind == EntityKind::Zone {
        ("zones", "zone")
    } else {
        ("provinces", "province")
    }
}

impl Places {
    /// Over the catalogue.
    #[must_use]
    pub fn new(catalogue: Catalogue) -> Self {
        Self {
            catalogue,
            names: RwLock::new(HashMap::new()),
            resolved: RwLock::new(HashMap::new()),
        }
    }

    async fn resolve(&self, text: &str, kind: EntityKind, field: &str) -> Result<Candidate> {
        let (collection, noun) = collection_and_noun(kind);
        let mut violations = Violations::new();
        check_name(&mut violations, field, text, Some(collection), true);
        violations.into_result()?;
        let text = text.trim();
        let cache_key = (i32::from(kind), text.to_owned());
        if let Some(hit) = self
            .resolved
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&cache_key)
        {
            return Ok(hit.clone());
        }
        let response = self
            .catalogue
            .resolve(ResolveRequest {
                query: strip_collection(text, collection).to_owned(),
                kinds: vec![kind.into()],
                max_suggestions: 3,
            })
            .await
            .map_err(Error::Catalogue)?;
        let hit = response.r#match.ok_or_else(|| Error::UnknownPlace {
            noun,
            name: text.to_owned(),
            suggestions: response.suggestions.into_iter().map(|s| s.resource).collect(),
        })?;
        let mut resolved = self.resolved.write().unwrap_or_else(PoisonError::into_inner);
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
            code: province_code(&hit.resource)?,
            current: province_code(&hit.current_province)?,
        })
    }

    /// A zone id by resource name or any spelling; NOT_FOUND with suggestions.
    ///
    /// # Errors
    /// INVALID_ARGUMENT, NOT_FOUND, or the catalogue unreachable.
    pub async fn zone(&self, text: &str, field: &str) -> Result<String> {
        let hit = self.resolve(text, EntityKind::Zone, field).await?;
        Ok(id_of(&hit.resource).to_owned())
    }

    /// The Vietnamese name of a province code (the code itself when unknown).
    pub async fn display_name(&self, code: &str) -> String {
        if let Some(name) = self.known_name(code) {
            return name;
        }
        let listed = self
            .catalogue
            .list_provinces(ListProvincesRequest {
                page_size: Some(PROVINCES_PAGE),
                include_merged: true,
                ..Default::default()
            })
            .await;
        if let Ok(response) = listed {
            let mut names = self.names.write().unwrap_or_else(PoisonError::into_inner);
            for province in response.provinces {
                names.insert(province.code, province.display_name);
            }
        }
        self.known_name(code).unwrap_or_else(|| code.to_owned())
    }

    fn known_name(&self, code: &str) -> Option<String> {
        self.names
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(code)
            .cloned()
    }
}
