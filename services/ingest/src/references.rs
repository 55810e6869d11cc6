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
    domain::MAX_BATCH_FOLDED_CHARS,
    names::fold,
};
use fdi_proto::catalogue::{
    BatchResolveRequest, EnsureInvestorsRequest, EntityKind, Investor, ResolveRequest, ResolveResponse,
};
use tonic::{Code, Status};
use tonic_types::StatusExt;

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
type MissingPlaces<'a> = Vec<MissingPlace<'a>>;

/// A place not in the cache: its kind and folded name, and the names as written that fold to it.
type MissingPlace<'a> = ((PlaceKind, String), Vec<&'a str>);

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
        for chunk in resolve_chunks(&missing) {
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
    async fn resolve_chunk(&self, chunk: &[MissingPlace<'_>]) -> Result<Vec<ResolveResponse>> {
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
    /// EnsureInvestors call per 500 new names. A name the catalogue refuses
    /// (INVALID_ARGUMENT naming its entry, e.g. one that is only a legal
    /// form) is left out of the call and returned among
    /// [`Investors::refused`], so only its rows fail.
    ///
    /// # Errors
    /// [`Error::Catalogue`] when the catalogue cannot be reached, or refuses
    /// a call without naming the entries at fault.
    pub async fn investors<'a>(&self, names: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<Investors> {
        let (ids, missing) = self.cached_investors(names);
        let mut result = Investors {
            ids,
            refused: HashMap::new(),
        };
        for chunk in missing.chunks(BATCH) {
            let (accepted, investors) = self.ensure_chunk(chunk, &mut result.refused).await?;
            let mut cache = lock(&self.investors);
            if cache.len() > MAX_CACHED_INVESTORS {
                cache.clear();
            }
            for ((name, _), investor) in accepted.iter().zip(investors) {
                let id: i64 = id_of(&investor.name).parse().unwrap_or_default();
                cache.insert((*name).to_owned(), id);
                result.ids.insert((*name).to_owned(), id);
            }
        }
        Ok(result)
    }

    /// EnsureInvestors for a chunk of (name, home country) pairs: the pairs
    /// sent and an investor per pair, in order. Idempotent by design (so
    /// retried): a name already known returns its investor. The entries the
    /// catalogue refuses go to `refused` (name → why), and the call is made
    /// again without them.
    async fn ensure_chunk<'a>(
        &self,
        chunk: &[(&'a str, &'a str)],
        refused: &mut HashMap<String, String>,
    ) -> Result<(Vec<(&'a str, &'a str)>, Vec<Investor>)> {
        let mut pending = chunk.to_vec();
        while !pending.is_empty() {
            let request = EnsureInvestorsRequest {
                investors: pending
                    .iter()
                    .map(|(name, country)| Investor {
                        display_name: (*name).to_owned(),
                        country_code: (*country).to_owned(),
                        ..Default::default()
                    })
                    .collect(),
            };
            match self.catalogue.ensure_investors(request).await {
                Ok(response) => return Ok((pending, response.investors)),
                Err(status) => {
                    let faults = refused_entries(&status, "investors", pending.len());
                    if faults.is_empty() {
                        return Err(Error::Catalogue(status));
                    }
                    let mut i = 0;
                    pending.retain(|(name, _)| {
                        let fault = faults.get(&i);
                        i += 1;
                        if let Some(description) = fault {
                            refused.insert((*name).to_owned(), description.clone());
                        }
                        fault.is_none()
                    });
                }
            }
        }
        Ok((pending, Vec::new()))
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
}

/// Investors by name as written: the catalogue's ids, and the names it refused.
#[derive(Debug, Default)]
pub struct Investors {
    /// Catalogue ids.
    pub ids: HashMap<String, i64>,
    /// Names the catalogue refused, with its reason.
    pub refused: HashMap<String, String>,
}

impl Investors {
    /// The id of an investor named `name` (as written).
    #[must_use]
    pub fn id(&self, name: &str) -> Option<i64> {
        self.ids.get(name.trim()).copied()
    }

    /// Why the catalogue refused the investor named `name` (as written), if it did.
    #[must_use]
    pub fn refusal(&self, name: &str) -> Option<&str> {
        self.refused.get(name.trim()).map(String::as_str)
    }
}

/// The entries of a batch call of `len` entries in field `list` that an
/// INVALID_ARGUMENT answer names (`investors[3].display_name`), by index,
/// with the description; empty for any other answer, or when it names none.
/// The missing places in BatchResolve-sized chunks: at most [`BATCH`] names
/// and [`MAX_BATCH_FOLDED_CHARS`] folded characters each (the catalogue's
/// bound on one call's matching work).
fn resolve_chunks<'m, 'a>(missing: &'m MissingPlaces<'a>) -> Vec<&'m [MissingPlace<'a>]> {
    let mut chunks = Vec::new();
    let (mut start, mut folded) = (0, 0);
    for (i, ((_, name), _)) in missing.iter().enumerate() {
        let chars = name.chars().count();
        if i > start && (i - start == BATCH || folded + chars > MAX_BATCH_FOLDED_CHARS) {
            chunks.push(&missing[start..i]);
            (start, folded) = (i, 0);
        }
        folded += chars;
    }
    if start < missing.len() {
        chunks.push(&missing[start..]);
    }
    chunks
}

fn refused_entries(status: &Status, list: &str, len: usize) -> HashMap<usize, String> {
    if status.code() != Code::InvalidArgument {
        return HashMap::new();
    }
    let Some(bad_request) = status.get_details_bad_request() else {
        return HashMap::new();
    };
    let mut entries = HashMap::new();
    for violation in bad_request.field_violations {
        let index = violation
            .field
            .strip_prefix(list)
            .and_then(|rest| rest.strip_prefix('['))
            .and_then(|rest| rest.split_once(']'))
            .and_then(|(index, _)| index.parse::<usize>().ok())
            .filter(|&index| index < len);
        let Some(index) = index else {
            // A violation of the call itself, not of one entry: nothing to leave out.
            return HashMap::new();
        };
        entries
            .entry(index)
            .and_modify(|description: &mut String| {
                description.push_str("; ");
                description.push_str(&violation.description);
            })
            .or_insert(violation.description);
    }
    entries
}

#[cfg(test)]
mod tests {
    use fdi_kit::status::Violations;

    use super::*;

    #[test]
    fn resolve_chunks_stay_within_the_catalogues_bounds() {
        let name = |n: usize| ((PlaceKind::Zone, "a".repeat(n)), Vec::new());
        let long: MissingPlaces = (0..600).map(|_| name(200)).collect();
        let chunks = resolve_chunks(&long);
        assert!(chunks.iter().all(|c| c.len() <= BATCH));
        assert!(
            chunks
                .iter()
                .all(|c| c.iter().map(|((_, n), _)| n.len()).sum::<usize>() <= MAX_BATCH_FOLDED_CHARS)
        );
        assert_eq!(chunks.iter().map(|c| c.len()).sum::<usize>(), 600);
        let short: MissingPlaces = (0..1200).map(|_| name(5)).collect();
        assert_eq!(resolve_chunks(&short).len(), 3);
        assert!(resolve_chunks(&Vec::new()).is_empty());
    }

    #[test]
    fn refused_entries_are_found_by_index() {
        let mut violations = Violations::new();
        violations.add("investors[2].display_name", "has no letters or digits");
        violations.add("investors[0].country_code", "is not an ISO 3166-1 alpha-2 code");
        violations.add("investors[2].country_code", "is not an ISO 3166-1 alpha-2 code");
        let refused = refused_entries(&violations.into_status(), "investors", 3);
        assert_eq!(refused.len(), 2);
        assert_eq!(
            refused[&2],
            "has no letters or digits; is not an ISO 3166-1 alpha-2 code"
        );
        assert!(refused.contains_key(&0));
    }

    #[test]
    fn a_refusal_of_the_whole_call_names_no_entry() {
        let whole = fdi_kit::status::invalid_argument("investors", "has 2000 entries; at most 1000 per call");
        assert!(refused_entries(&whole, "investors", 3).is_empty());
        let out_of_range = fdi_kit::status::invalid_argument("investors[7].display_name", "is required");
        assert!(refused_entries(&out_of_range, "investors", 3).is_empty());
        assert!(refused_entries(&Status::unavailable("down"), "investors", 3).is_empty());
    }
}
