//! Resolve and BatchResolve: free text to the best matching province, zone
//! or investor, or no match with suggestions; never a wrong confident match.

use std::collections::HashSet;

use fdi_kit::{
    domain::MAX_NAME_CHARS,
    status::{Violations, check_text},
};
use fdi_proto::catalogue as pb;

use super::check_batch_size;
use crate::{
    error::Result,
    model::EntityKind,
    resolver::{Candidate, Resolution, investor_key},
    state::Catalogue,
    store::Store,
};

const MAX_BATCH: usize = 1000;

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

fn validate(request: &pb::ResolveRequest, prefix: &str, violations: &mut Violations) -> (HashSet<EntityKind>, usize) {
    check_text(
        violations,
        &format!("{prefix}query"),
        &request.query,
        MAX_NAME_CHARS,
        true,
    );
    let mut kinds = HashSet::new();
    for (i, &kind) in request.kinds.iter().enumerate() {
        match pb::EntityKind::try_from(kind) {
            Ok(kind) => kinds.extend(EntityKind::from_proto(kind)),
            Err(_) => violations.add(format!("{prefix}kinds[{i}]"), format!("{kind} is not an entity kind")),
        }
    }
    let max = match request.max_suggestions {
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
    (kinds, max)
}

pub(super) async fn resolve(state: &Catalogue, request: pb::ResolveRequest) -> Result<pb::ResolveResponse> {
    let mut violations = Violations::new();
    let (kinds, max_suggestions) = validate(&request, "", &mut violations);
    violations.into_result()?;
    resolve_valid(state, &request.query, &kinds, max_suggestions).await
}

async fn resolve_valid(
    state: &Catalogue,
    query: &str,
    kinds: &HashSet<EntityKind>,
    max_suggestions: usize,
) -> Result<pb::ResolveResponse> {
    let snapshot = state.snapshot()?;
    let mut resolution = snapshot.index.resolve(query, kinds, max_suggestions);
    if kinds.is_empty() || kinds.contains(&EntityKind::Investor) {
        add_investors(&state.store, query, max_suggestions, &mut resolution).await?;
    }
    resolution.suggestions.truncate(max_suggestions);
    Ok(pb::ResolveResponse {
        r#match: resolution.best.map(to_proto),
        suggestions: resolution.suggestions.into_iter().map(to_proto).collect(),
        normalized_query: resolution.key,
    })
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

pub(super) async fn batch(state: &Catalogue, request: pb::BatchResolveRequest) -> Result<pb::BatchResolveResponse> {
    check_batch_size("requests", request.requests.len(), MAX_BATCH)?;
    let mut violations = Violations::new();
    let validated: Vec<_> = request
        .requests
        .iter()
        .enumerate()
        .map(|(i, r)| validate(r, &format!("requests[{i}]."), &mut violations))
        .collect();
    violations.into_result()?;
    let mut responses = Vec::with_capacity(validated.len());
    for (request, (kinds, max)) in request.requests.iter().zip(validated) {
        responses.push(resolve_valid(state, &request.query, &kinds, max).await?);
    }
    Ok(pb::BatchResolveResponse { responses })
}
