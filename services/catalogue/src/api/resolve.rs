//! Resolve and BatchResolve: free text to the best matching province, zone
//! or investor, or no match with suggestions; never a wrong confident match.
//!
//! Matching is bounded and kept off the async workers: a query folds to at
//! most [`MAX_QUERY_FOLDED_CHARS`] characters, a batch's queries to at most
//! [`MAX_BATCH_FOLDED_CHARS`] in all, and the fuzzy matching runs on a
//! blocking thread that stops once the caller's deadline passes (or the call
//! is dropped), so one heavy call never keeps other clients or health checks
//! waiting.

use std::{
    collections::HashSet,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Instant,
};

use fdi_kit::{
    domain::MAX_NAME_CHARS,
    rpc::incoming_remaining,
    status::{Violations, check_text},
};
use fdi_proto::catalogue as pb;

use super::check_batch_size;
use crate::{
    error::{Error, Result},
    model::EntityKind,
    resolver::{Candidate, MAX_BATCH_FOLDED_CHARS, MAX_QUERY_FOLDED_CHARS, Resolution, folded_chars, investor_key},
    state::{Catalogue, Snapshot},
    store::Store,
};

const MAX_BATCH: usize = 1000;

/// One checked query.
#[derive(Debug)]
struct Query {
    text: String,
    kinds: HashSet<EntityKind>,
    max_suggestions: usize,
}

fn to_proto(candidate: Candidate) -> pb::Candidate {
    pb::Candidate {
        kind: candidate.kind.to_proto().into(),
        resource: candidate.resource,
        display_name: candidate.display_name,
        score: candidate.score,
        matched_name: candidate.matched_name,
        current_province: candidate.current_province,
        recorded_province: candidate.recorded_province,
    }
}

/// Checks one request (fields prefixed with `prefix`); returns the query and
/// its folded length (0 when the text itself is refused).
fn validate(request: pb::ResolveRequest, prefix: &str, violations: &mut Violations) -> (Query, usize) {
    let field = format!("{prefix}query");
    let before = violations.items().len();
    check_text(violations, &field, &request.query, MAX_NAME_CHARS, true);
    let mut folded = 0;
    if violations.items().len() == before {
        folded = folded_chars(&request.query);
        if folded > MAX_QUERY_FOLDED_CHARS {
            violations.add(
                field,
                format!(
                    "folds to {folded} characters (accents removed, ligatures such as 'ﬃ' spelled out); \
                     at most {MAX_QUERY_FOLDED_CHARS} are allowed"
                ),
            );
        }
    }
    let mut kinds = HashSet::new();
    for (i, &kind) in request.kinds.iter().enumerate() {
        match pb::EntityKind::try_from(kind) {
            Ok(kind) => kinds.extend(EntityKind::from_proto(kind)),
            Err(_) => violations.add(format!("{prefix}kinds[{i}]"), format!("{kind} is not an entity kind")),
        }
    }
    let max_suggestions = match request.max_suggestions {
        0 => 5,
        n @ 1..=20 => usize::try_from(n).unwrap_or(5),
        n => {
            violations.add(
                format!("{prefix}max_suggestions"),
                format!("is {n}; it must be between 0 and 20"),
            );
            5
        }
    };
    let query = Query {
        text: request.query,
        kinds,
        max_suggestions,
    };
    (query, folded)
}

pub(super) async fn resolve(state: &Catalogue, request: pb::ResolveRequest) -> Result<pb::ResolveResponse> {
    let mut violations = Violations::new();
    let (query, _) = validate(request, "", &mut violations);
    violations.into_result()?;
    let queries = Arc::new(vec![query]);
    let places = match_places(state.snapshot()?, Arc::clone(&queries)).await?;
    let mut responses = respond(state, &queries, places).await?;
    responses
        .pop()
        .ok_or(Error::DeadlineExceeded("before matching finished"))
}

pub(super) async fn batch(state: &Catalogue, request: pb::BatchResolveRequest) -> Result<pb::BatchResolveResponse> {
    check_batch_size("requests", request.requests.len(), MAX_BATCH)?;
    let mut violations = Violations::new();
    let mut total = 0usize;
    let queries: Vec<Query> = request
        .requests
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            let (query, folded) = validate(r, &format!("requests[{i}]."), &mut violations);
            total += folded;
            query
        })
        .collect();
    if total > MAX_BATCH_FOLDED_CHARS {
        violations.add(
            "requests",
            format!(
                "its queries fold to {total} characters in all; at most {MAX_BATCH_FOLDED_CHARS} per call \
                 (split the batch)"
            ),
        );
    }
    violations.into_result()?;
    let queries = Arc::new(queries);
    let places = match_places(state.snapshot()?, Arc::clone(&queries)).await?;
    let responses = respond(state, &queries, places).await?;
    Ok(pb::BatchResolveResponse { responses })
}

/// Sets its flag when dropped: the call was answered, timed out or abandoned.
struct SetOnDrop(Arc<AtomicBool>);

impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Matches `queries` against the snapshot's provinces and zones on a blocking
/// thread (never on an async worker), one resolution per query; stops between
/// queries once the caller's deadline has passed or the call was dropped.
async fn match_places(snapshot: Arc<Snapshot>, queries: Arc<Vec<Query>>) -> Result<Vec<Resolution>> {
    let deadline = incoming_remaining().and_then(|left| Instant::now().checked_add(left));
    match_places_by(snapshot, queries, deadline).await
}

/// [`match_places`] with the deadline given.
async fn match_places_by(
    snapshot: Arc<Snapshot>,
    queries: Arc<Vec<Query>>,
    deadline: Option<Instant>,
) -> Result<Vec<Resolution>> {
    let dropped = Arc::new(AtomicBool::new(false));
    let _dropped_on_return = SetOnDrop(Arc::clone(&dropped));
    let task = tokio::task::spawn_blocking(move || {
        let mut resolutions = Vec::with_capacity(queries.len());
        for query in queries.iter() {
            let late = deadline.is_some_and(|deadline| Instant::now() >= deadline);
            if late || dropped.load(Ordering::Relaxed) {
                return Err(Error::DeadlineExceeded("before matching finished"));
            }
            resolutions.push(snapshot.index.resolve(&query.text, &query.kinds, query.max_suggestions));
        }
        Ok(resolutions)
    });
    match task.await {
        Ok(result) => result,
        Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
        Err(_) => Err(Error::ShuttingDown),
    }
}

/// Adds the investors to each query's places and converts to protobuf.
async fn respond(state: &Catalogue, queries: &[Query], places: Vec<Resolution>) -> Result<Vec<pb::ResolveResponse>> {
    let mut responses = Vec::with_capacity(queries.len());
    for (query, mut resolution) in queries.iter().zip(places) {
        let (kinds, max_suggestions) = (&query.kinds, query.max_suggestions);
        if kinds.is_empty() || kinds.contains(&EntityKind::Investor) {
            add_investors(&state.store, &query.text, max_suggestions, &mut resolution).await?;
        }
        resolution.suggestions.truncate(max_suggestions);
        responses.push(pb::ResolveResponse {
            r#match: resolution.best.map(to_proto),
            suggestions: resolution.suggestions.into_iter().map(to_proto).collect(),
            normalized_query: resolution.key,
        });
    }
    Ok(responses)
}

/// Adds the investors `query` names to a resolution over places: the one
/// known by exactly this name as the match (unless a place has exactly this
/// name), near names as suggestions.
async fn add_investors(store: &Store, query: &str, max_suggestions: usize, resolution: &mut Resolution) -> Result<()> {
    let key = investor_key(query);
    if key.is_empty() {
        return Ok(());
    }
    if resolution.key.is_empty() {
        resolution.key.clone_from(&key);
    }
    let exact = store.investor_by_key(&key).await?;
    if let Some(investor) = &exact {
        let candidate = Candidate::investor(investor, 1.0);
        // An exact place name wins over an investor of the same name; a near one does not.
        if resolution.best.as_ref().is_some_and(|b| b.score >= 1.0) {
            resolution.suggestions.insert(0, candidate);
        } else {
            if let Some(previous) = resolution.best.take() {
                resolution.suggestions.insert(0, previous);
            }
            resolution.best = Some(candidate);
        }
    }
    let exact_id = exact.map(|e| e.id);
    for (investor, score) in store.investor_suggestions(&key, max_suggestions).await? {
        if Some(investor.id) != exact_id {
            resolution.suggestions.push(Candidate::investor(&investor, score));
        }
    }
    resolution.suggestions.sort_by(|a, b| b.score.total_cmp(&a.score));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queries(n: usize) -> Arc<Vec<Query>> {
        Arc::new(
            (0..n)
                .map(|_| Query {
                    text: "Bac Ninh".into(),
                    kinds: HashSet::new(),
                    max_suggestions: 5,
                })
                .collect(),
        )
    }

    #[tokio::test]
    async fn matching_stops_once_the_deadline_has_passed() {
        let snapshot = Arc::new(Snapshot::default());
        let past = Instant::now();
        let error = match_places_by(Arc::clone(&snapshot), queries(3), Some(past))
            .await
            .unwrap_err();
        assert!(matches!(error, Error::DeadlineExceeded(_)), "{error:?}");
        assert_eq!(tonic::Status::from(error).code(), tonic::Code::DeadlineExceeded);
        let later = Instant::now().checked_add(std::time::Duration::from_secs(60));
        let resolved = match_places_by(snapshot, queries(3), later).await.unwrap();
        assert_eq!(resolved.len(), 3);
    }
}
