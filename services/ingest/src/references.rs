//! Names in rows resolved through the catalogue service, with a cache so a
//! million-row load makes one call per distinct name, not per row. Unknown
//! investors are created in the catalogue. Unknown places are remembered
//! only briefly, so rows held for them resolve once the catalogue learns them.

use std::{
    collections::{HashMap, HashSet},
    sync::Mutex,
    time::{Duration, Instant},
};

use fdi_kit::names::fold;
use fdi_proto::catalogue::{
    BatchResolveRequest, CreateInvestorRequest, EntityKind, Investor, ResolveRequest,
    catalogue_service_client::CatalogueServiceClient,
};
use tonic::{Code, transport::Channel};
use tonic_types::StatusExt;

use crate::error::{Error, Result};

/// How long "no such place" is believed before asking the catalogue again.
const NEGATIVE_TTL: Duration = Duration::from_secs(30);
/// Names per BatchResolve call (the catalogue's limit is 1000).
const BATCH: usize = 500;

/// A province or zone as the catalogue knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    /// Code (`bac-giang`) or zone id (`quang-chau`).
    pub id: String,
    /// Today's province code.
    pub current_province: String,
    /// The province the place was recorded under (a zone's original province; a province itself).
    pub recorded_province: String,
}

/// What a place name resolved to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlaceLookup {
    /// Known.
    Found(Place),
    /// Unknown, with the catalogue's nearest names.
    Unknown(Vec<String>),
}

/// Province or zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PlaceKind {
    /// A province.
    Province,
    /// A zone.
    Zone,
}

/// A cached lookup and, for unknown names, when to ask again.
type Cached = (PlaceLookup, Option<Instant>);

/// The catalogue client and its cache.
#[derive(Debug)]
pub struct References {
    client: CatalogueServiceClient<Channel>,
    timeout: Duration,
    places: Mutex<HashMap<(PlaceKind, String), Cached>>,
    investors: Mutex<HashMap<String, i64>>,
}

fn strip_collection<'a>(text: &'a str, collection: &str) -> &'a str {
    text.strip_prefix(collection)
        .and_then(|rest| rest.strip_prefix('/'))
        .unwrap_or(text)
}

fn id_of(resource: &str) -> String {
    resource.rsplit('/').next().unwrap_or(resource).to_owned()
}

impl References {
    /// A cache in front of the catalogue at `channel`.
    #[must_use]
    pub fn new(channel: Channel, timeout: Duration) -> Self {
        Self {
            client: CatalogueServiceClient::new(channel),
            timeout,
            places: Mutex::new(HashMap::new()),
            investors: Mutex::new(HashMap::new()),
        }
    }

    fn cache_key(kind: PlaceKind, text: &str) -> (PlaceKind, String) {
        let bare = match kind {
            PlaceKind::Province => strip_collection(text.trim(), "provinces"),
            PlaceKind::Zone => strip_collection(text.trim(), "zones"),
        };
        (kind, fold(bare))
    }

    /// Forgets unknown places (before re-processing held rows).
    pub fn forget_unknown(&self) {
        self.places
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .retain(|_, (lookup, _)| matches!(lookup, PlaceLookup::Found(_)));
    }

    /// Resolves place names; each distinct name not in the cache costs one
    /// entry of a BatchResolve call.
    ///
    /// # Errors
    /// [`Error::Catalogue`] when the catalogue cannot be reached.
    pub async fn places(&self, names: &[(PlaceKind, String)]) -> Result<HashMap<(PlaceKind, String), PlaceLookup>> {
        let now = Instant::now();
        let mut found = HashMap::new();
        let mut missing: Vec<(PlaceKind, String, String)> = Vec::new();
        {
            let cache = self.places.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let mut seen = HashSet::new();
            for (kind, text) in names {
                let key = Self::cache_key(*kind, text);
                if !seen.insert(key.clone()) {
                    continue;
                }
                match cache.get(&key) {
                    Some((lookup, expires)) if expires.is_none_or(|e| e > now) => {
                        found.insert(key, lookup.clone());
                    }
                    _ => {
                        let query = match kind {
                            PlaceKind::Province => strip_collection(text.trim(), "provinces"),
                            PlaceKind::Zone => strip_collection(text.trim(), "zones"),
                        };
                        missing.push((*kind, query.to_owned(), key.1));
                    }
                }
            }
        }
        for chunk in missing.chunks(BATCH) {
            let request = BatchResolveRequest {
                requests: chunk
                    .iter()
                    .map(|(kind, query, _)| ResolveRequest {
                        query: query.clone(),
                        kinds: vec![match kind {
                            PlaceKind::Province => EntityKind::Province.into(),
                            PlaceKind::Zone => EntityKind::Zone.into(),
                        }],
                        max_suggestions: 3,
                    })
                    .collect(),
            };
            let mut call = tonic::Request::new(request);
            call.set_timeout(self.timeout);
            let responses = self
                .client
                .clone()
                .batch_resolve(call)
                .await
                .map_err(Error::Catalogue)?
                .into_inner()
                .responses;
            let mut cache = self.places.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            for ((kind, _, folded), response) in chunk.iter().zip(responses) {
                let (lookup, expires) = match response.r#match {
                    Some(hit) => (
                        PlaceLookup::Found(Place {
                            id: id_of(&hit.resource),
                            current_province: id_of(&hit.current_province),
                            recorded_province: id_of(&hit.recorded_province),
                        }),
                        None,
                    ),
                    None => (
                        PlaceLookup::Unknown(response.suggestions.into_iter().map(|s| s.resource).collect()),
                        Some(now + NEGATIVE_TTL),
                    ),
                };
                let key = (*kind, folded.clone());
                cache.insert(key.clone(), (lookup.clone(), expires));
                found.insert(key, lookup);
            }
        }
        Ok(found)
    }

    /// The lookup of one name from the result of [`References::places`].
    #[must_use]
    pub fn lookup<'a>(
        results: &'a HashMap<(PlaceKind, String), PlaceLookup>,
        kind: PlaceKind,
        text: &str,
    ) -> Option<&'a PlaceLookup> {
        results.get(&Self::cache_key(kind, text))
    }

    /// The catalogue ids of investors by name, creating the unknown ones
    /// (with the home country of their first row).
    ///
    /// # Errors
    /// [`Error::Catalogue`] when the catalogue cannot be reached or refuses a name.
    pub async fn investors(&self, names: &[(String, String)]) -> Result<HashMap<String, i64>> {
        let mut ids = HashMap::new();
        let mut missing: Vec<(String, String)> = Vec::new();
        {
            let cache = self.investors.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let mut seen = HashSet::new();
            for (name, country) in names {
                let key = fold(name);
                if key.is_empty() || !seen.insert(key.clone()) {
                    continue;
                }
                match cache.get(&key) {
                    Some(id) => {
                        ids.insert(key, *id);
                    }
                    None => missing.push((name.clone(), country.clone())),
                }
            }
        }
        for chunk in missing.chunks(BATCH) {
            let request = BatchResolveRequest {
                requests: chunk
                    .iter()
                    .map(|(name, _)| ResolveRequest {
                        query: name.clone(),
                        kinds: vec![EntityKind::Investor.into()],
                        max_suggestions: 1,
                    })
                    .collect(),
            };
            let mut call = tonic::Request::new(request);
            call.set_timeout(self.timeout);
            let responses = self
                .client
                .clone()
                .batch_resolve(call)
                .await
                .map_err(Error::Catalogue)?
                .into_inner()
                .responses;
            for ((name, country), response) in chunk.iter().zip(responses) {
                let id = match response.r#match {
                    Some(hit) => id_of(&hit.resource).parse().unwrap_or_default(),
                    None => self.create_investor(name, country).await?,
                };
                self.investors
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .insert(fold(name), id);
                ids.insert(fold(name), id);
            }
        }
        Ok(ids)
    }

    async fn create_investor(&self, name: &str, country: &str) -> Result<i64> {
        let mut call = tonic::Request::new(CreateInvestorRequest {
            investor: Some(Investor {
                display_name: name.to_owned(),
                country_code: country.to_owned(),
                ..Default::default()
            }),
        });
        call.set_timeout(self.timeout);
        match self.client.clone().create_investor(call).await {
            Ok(created) => Ok(id_of(&created.into_inner().name).parse().unwrap_or_default()),
            // Created meanwhile by another load: use that one.
            Err(status) if status.code() == Code::AlreadyExists => status
                .get_details_error_info()
                .and_then(|info| info.metadata.get("existing").map(|e| id_of(e)))
                .and_then(|id| id.parse().ok())
                .ok_or(Error::Catalogue(status)),
            Err(status) => Err(Error::Catalogue(status)),
        }
    }

    /// Investor id for a name from the result of [`References::investors`].
    #[must_use]
    pub fn investor_id(results: &HashMap<String, i64>, name: &str) -> Option<i64> {
        results.get(&fold(name)).copied()
    }
}
