//! Names in rows resolved through the catalogue service, with a cache so a
//! million-row load makes one call per distinct name, not per row. Unknown
//! investors are created in the catalogue. Unknown places are remembered
//! only briefly, so rows held for them resolve once the catalogue learns them.

use std::{
    collections::{HashMap, HashSet},
    sync::{Mutex, MutexGuard, PoisonError},
    time::{Duration, Instant},
};

use fdi_kit::{
    catalogue::{Catalogue, id_of, strip_collection},
    names::fold,
};
use fdi_proto::catalogue::{
    BatchResolveRequest, EnsureInvestorsRequest, EntityKind, Investor, ResolveRequest, ResolveResponse,
};

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

impl PlaceKind {
    /// The collection of its resource names.
    fn collection(self) -> &'static str {
        match self {
            Self::Province => "provinces",
            Self::Zone => "zones",
        }
    }

    /// The catalogue's entity kind.
    fn entity(self) -> EntityKind {
        match self {
            Self::Province => EntityKind::Province,
            Self::Zone => EntityKind::Zone,
        }
    }
}

/// Lookups by the name as written (trimmed).
pub type PlaceResults = HashMap<(PlaceKind, String), PlaceLookup>;

/// A cached lookup and, for unknown names, when to ask again.
type Cached = (PlaceLookup, Option<Instant>);

/// The catalogue client and its cache.
#[derive(Debug)]
pub struct References {
    catalogue: Catalogue,
    /// By folded name: every spelling that folds alike shares one entry.
    places: Mutex<HashMap<(PlaceKind, String), Cached>>,
    /// Investor ids by the name as written.
    investors: Mutex<HashMap<String, i64>>,
}

/// Locks a cache; one left poisoned by a panic is still sound (each entry stands alone).
fn lock<T>(cache: &Mutex<T>) -> MutexGuard<'_, T> {
    cache.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Names still to resolve: by folded name, the names as written that fold to it.
type MissingPlaces<'a> = Vec<((PlaceKind, String), Vec<&'a str>)>;

/// The lookup the catalogue's answer stands for, and until when to believe it.
fn lookup_of(response: ResolveResponse, now: Instant) -> Cached {
    match response.r#match {
        Some(hit) => (
            PlaceLookup::Found(Place {
                id: id_of(&hit.resource).to_owned(),
                current_province: id_of(&hit.current_province).to_owned(),
                recorded_province: id_of(&hit.recorded_province).to_owned(),
            }),
            None,
        ),
        None => (
            PlaceLookup::Unknown(response.suggestions.into_iter().map(|s| s.resource).collect()),
            Some(now + NEGATIVE_TTL),
        ),
    }
}

impl References {
    /// A cache in front of `catalogue`.
    #[must_use]
    pub fn new(catalogue: Catalogue) -> Self {
        Self {
            catalogue,
            places: Mutex::new(HashMap::new()),
            investors: Mutex::new(HashMap::new()),
        }
    }

    /// Forgets unknown places (before re-processing held rows).
    pub fn forget_unknown(&self) {
        lock(&self.places).retain(|_, (lookup, _)| matches!(lookup, PlaceLookup::Found(_)));
    }

    /// Resolves place names (as written); each distinct name not in the
    /// cache costs one entry of a BatchResolve call.
    ///
    /// # Errors
    /// [`Error::Catalogue`] when the catalogue cannot be reached.
    pub async fn places<'a>(&self, names: impl IntoIterator<Item = (PlaceKind, &'a str)>) -> Result<PlaceResults> {
        let now = Instant::now();
        let (mut results, missing) = self.cached_places(names, now);
        for chunk in missing.chunks(BATCH) {
            let responses = self.resolve_chunk(chunk).await?;
            let mut cache = lock(&self.places);
            for ((folded, texts), response) in chunk.iter().zip(responses) {
                let (lookup, expires) = lookup_of(response, now);
                for text in texts {
                    results.insert((folded.0, (*text).to_owned()), lookup.clone());
                }
                cache.insert(folded.clone(), (lookup, expires));
            }
        }
        Ok(results)
    }

    /// One BatchResolve call for a chunk of missing places: an answer per place, in order.
    async fn resolve_chunk(&self, chunk: &[((PlaceKind, String), Vec<&str>)]) -> Result<Vec<ResolveResponse>> {
        let request = BatchResolveRequest {
            requests: chunk
                .iter()
                .map(|((kind, _), texts)| ResolveRequest {
                    query: strip_collection(texts[0], kind.collection()).to_owned(),
                    kinds: vec![kind.entity().into()],
                    max_suggestions: 3,
                })
                .collect(),
        };
        let response = self.catalogue.batch_resolve(request).await;
        Ok(response.map_err(Error::Catalogue)?.responses)
    }

    /// The places the cache answers (still believed at `now`), and those it does not.
    fn cached_places<'a>(
        &self,
        names: impl IntoIterator<Item = (PlaceKind, &'a str)>,
        now: Instant,
    ) -> (PlaceResults, MissingPlaces<'a>) {
        let distinct: HashSet<(PlaceKind, &str)> = names.into_iter().map(|(kind, text)| (kind, text.trim())).collect();
        let mut results = PlaceResults::with_capacity(distinct.len());
        let mut missing: HashMap<(PlaceKind, String), Vec<&str>> = HashMap::new();
        let cache = lock(&self.places);
        for (kind, text) in distinct {
            let folded = (kind, fold(strip_collection(text, kind.collection())));
            match cache.get(&folded) {
                Some((lookup, expires)) if expires.is_none_or(|e| e > now) => {
                    results.insert((kind, text.to_owned()), lookup.clone());
                }
                _ => missing.entry(folded).or_default().push(text),
            }
        }
        (results, missing.into_iter().collect())
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
        let (mut ids, missing) = self.cached_investors(names);
        for chunk in missing.chunks(BATCH) {
            let investors = self.ensure_chunk(chunk).await?;
            let mut cache = lock(&self.investors);
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

    /// One EnsureInvestors call for a chunk of (name, home country) pairs:
    /// an investor per name, in order. Idempotent by design (so retried): a
    /// name already known returns its investor.
    async fn ensure_chunk(&self, chunk: &[(&str, &str)]) -> Result<Vec<Investor>> {
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
        let response = self.catalogue.ensure_investors(request).await;
        Ok(response.map_err(Error::Catalogue)?.investors)
    }

    /// The ids the cache knows of the distinct names, and the (name, home
    /// country) pairs it does not know.
    fn cached_investors<'a>(
        &self,
        names: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> (HashMap<String, i64>, Vec<(&'a str, &'a str)>) {
        let mut ids = HashMap::new();
        let mut missing = Vec::new();
        let cache = lock(&self.investors);
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
        (ids, missing)
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
        let response = self.catalogue.resolve(request).await.map_err(Error::Catalogue)?;
        Ok(response.r#match.and_then(|hit| id_of(&hit.resource).parse().ok()))
    }

    /// Investor id for a name (as written) from the result of [`References::investors`].
    #[must_use]
    pub fn investor_id(results: &HashMap<String, i64>, name: &str) -> Option<i64> {
        results.get(name.trim()).copied()
    }
}
