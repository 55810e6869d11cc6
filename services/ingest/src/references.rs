//! Names in rows resolved through the catalogue service, with a cache so a
//! million-row load makes one call per distinct name, not per row. Unknown
//! investors are created in the catalogue. Unknown places are remembered
//! only briefly, so rows held for them resolve once the catalogue learns them.

use std::{
    collections::{HashMap, HashSet},
    sync::Mutex,
    time::{Duration, Instant},
};

use fdi_kit::{
    names::fold,
    rpc::{TracedChannel, retry_idempotent, traced},
};
use fdi_proto::catalogue::{
    BatchResolveRequest, EnsureInvestorsRequest, EntityKind, Investor, ResolveRequest,
    catalogue_service_client::CatalogueServiceClient,
};
use tonic::transport::Channel;

use crate::error::{Error, Result};

/// How long "no such place" is believed before asking the catalogue again.
const NEGATIVE_TTL: Duration = Duration::from_secs(30);
/// Names per BatchResolve or EnsureInvestors call (the catalogue's limit is 1000).
const BATCH: usize = 500;
/// Investor spellings remembered; beyond, the cache starts over (memory stays bounded).
const MAX_CACHED_INVESTORS: usize = 200_000;

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

/// Lookups by the name as written (trimmed).
pub type PlaceResults = HashMap<(PlaceKind, String), PlaceLookup>;

/// A cached lookup and, for unknown names, when to ask again.
type Cached = (PlaceLookup, Option<Instant>);

/// The catalogue client and its cache.
#[derive(Debug)]
pub struct References {
    client: CatalogueServiceClient<TracedChannel>,
    timeout: Duration,
    /// By folded name: every spelling that folds alike shares one entry.
    places: Mutex<HashMap<(PlaceKind, String), Cached>>,
    /// Investor ids by the name as written.
    investors: Mutex<HashMap<String, i64>>,
}

fn strip_collection(text: &str, kind: PlaceKind) -> &str {
    let collection = match kind {
        PlaceKind::Province => "provinces",
        PlaceKind::Zone => "zones",
    };
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
            client: CatalogueServiceClient::new(traced(channel)),
            timeout,
            places: Mutex::new(HashMap::new()),
            investors: Mutex::new(HashMap::new()),
        }
    }

    /// Forgets unknown places (before re-processing held rows).
    pub fn forget_unknown(&self) {
        self.places
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .retain(|_, (lookup, _)| matches!(lookup, PlaceLookup::Found(_)));
    }

    /// Resolves place names (as written); each distinct name not in the
    /// cache costs one entry of a BatchResolve call.
    ///
    /// # Errors
    /// [`Error::Catalogue`] when the catalogue cannot be reached.
    pub async fn places<'a>(&self, names: impl IntoIterator<Item = (PlaceKind, &'a str)>) -> Result<PlaceResults> {
        let now = Instant::now();
        let distinct: HashSet<(PlaceKind, &str)> = names.into_iter().map(|(kind, text)| (kind, text.trim())).collect();
        let mut results = PlaceResults::with_capacity(distinct.len());
        // Folded name → the names as written that fold to it and still need an answer.
        let mut missing: HashMap<(PlaceKind, String), Vec<&str>> = HashMap::new();
        {
            let cache = self.places.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            for (kind, text) in distinct {
                let folded = (kind, fold(strip_collection(text, kind)));
                match cache.get(&folded) {
                    Some((lookup, expires)) if expires.is_none_or(|e| e > now) => {
                        results.insert((kind, text.to_owned()), lookup.clone());
                    }
                    _ => missing.entry(folded).or_default().push(text),
                }
            }
        }
        let missing: Vec<((PlaceKind, String), Vec<&str>)> = missing.into_iter().collect();
        for chunk in missing.chunks(BATCH) {
            let request = BatchResolveRequest {
                requests: chunk
                    .iter()
                    .map(|((kind, _), texts)| ResolveRequest {
                        query: strip_collection(texts[0], *kind).to_owned(),
                        kinds: vec![match kind {
                            PlaceKind::Province => EntityKind::Province.into(),
                            PlaceKind::Zone => EntityKind::Zone.into(),
                        }],
                        max_suggestions: 3,
                    })
                    .collect(),
            };
            let responses = retry_idempotent(|| {
                let mut call = tonic::Request::new(request.clone());
                call.set_timeout(self.timeout);
                let mut client = self.client.clone();
                async move { client.batch_resolve(call).await }
            })
            .await
            .map_err(Error::Catalogue)?
            .into_inner()
            .responses;
            let mut cache = self.places.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            for ((folded, texts), response) in chunk.iter().zip(responses) {
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
                for text in texts {
                    results.insert((folded.0, (*text).to_owned()), lookup.clone());
                }
                cache.insert(folded.clone(), (lookup, expires));
            }
        }
        Ok(results)
    }

    /// Resolves one place name (for filters); `None` when the catalogue gave no answer.
    ///
    /// # Errors
    /// [`Error::Catalogue`] when the catalogue cannot be reached.
    pub async fn place(&self, kind: PlaceKind, text: &str) -> Result<Option<PlaceLookup>> {
        let mut results = self.places([(kind, text)]).await?;
        Ok(results.remove(&(kind, text.trim().to_owned())))
    }

    /// The lookup of one name (as written) from the result of [`References::places`].
    #[must_use]
    pub fn lookup<'a>(results: &'a PlaceResults, kind: PlaceKind, text: &str) -> Option<&'a PlaceLookup> {
        results.get(&(kind, text.trim().to_owned()))
    }

    /// The catalogue ids of investors by name as written, creating the
    /// unknown ones (with the home country of their first row) in one
    /// EnsureInvestors call per 500 new names.
    ///
    /// # Errors
    /// [`Error::Catalogue`] when the catalogue cannot be reached or refuses a name.
    pub async fn investors<'a>(
        &self,
        names: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<HashMap<String, i64>> {
        let mut ids = HashMap::new();
        let mut missing: Vec<(&str, &str)> = Vec::new();
        {
            let cache = self.investors.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let mut seen = HashSet::new();
            for (name, country) in names {
                let name = name.trim();
                if name.is_empty() || !seen.insert(name) {
                    continue;
                }
                match cache.get(name) {
                    Some(id) => {
                        ids.insert(name.to_owned(), *id);
                    }
                    None => missing.push((name, country)),
                }
            }
        }
        for chunk in missing.chunks(BATCH) {
            let request = EnsureInvestorsRequest {
                investors: chunk
                    .iter()
                    .map(|(name, country)| Investor {
                        display_name: (*name).to_owned(),
                        country_code: (*country).to_owned(),
                        ..Default::default()
                    })
                    .collect(),
            };
            // Idempotent by design: a name already known returns its investor.
            let investors = retry_idempotent(|| {
                let mut call = tonic::Request::new(request.clone());
                call.set_timeout(self.timeout);
                let mut client = self.client.clone();
                async move { client.ensure_investors(call).await }
            })
            .await
            .map_err(Error::Catalogue)?
            .into_inner()
            .investors;
            let mut cache = self.investors.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if cache.len() > MAX_CACHED_INVESTORS {
                cache.clear();
            }
            for ((name, _), investor) in chunk.iter().zip(investors) {
                let id: i64 = id_of(&investor.name).parse().unwrap_or_default();
                cache.insert((*name).to_owned(), id);
                ids.insert((*name).to_owned(), id);
            }
        }
        Ok(ids)
    }

    /// The catalogue id of an investor known by this name, without creating one.
    ///
    /// # Errors
    /// [`Error::Catalogue`] when the catalogue cannot be reached.
    pub async fn known_investor(&self, name: &str) -> Result<Option<i64>> {
        let request = ResolveRequest {
            query: name.trim().to_owned(),
            kinds: vec![EntityKind::Investor.into()],
            max_suggestions: 1,
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
        Ok(response.r#match.and_then(|hit| id_of(&hit.resource).parse().ok()))
    }

    /// Investor id for a name (as written) from the result of [`References::investors`].
    #[must_use]
    pub fn investor_id(results: &HashMap<String, i64>, name: &str) -> Option<i64> {
        results.get(name.trim()).copied()
    }
}
