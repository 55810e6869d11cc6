//! Resolve and BatchResolve: free text to the best matching province, zone
//! or investor, or no match with suggestions; never a wrong confident match.

use std::collections::HashSet;

use fdi_kit::status::{Violations, check_text};
use fdi_proto::catalogue as pb;

use super::{MAX_NAME_CHARS, find_investor_by_key, investor_suggestions};
use crate::{
    error::Result,
    model::EntityKind,
    resolver::{Candidate, investor_key},
    state::Catalogue,
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
            Ok(pb::EntityKind::Province) => {
                kinds.insert(EntityKind::Province);
            }
            Ok(pb::EntityKind::Zone) => {
                kinds.insert(EntityKind::Zone);
            }
            Ok(pb::EntityKind::Investor) => {
                kinds.insert(EntityKind::Investor);
            }
            Ok(pb::EntityKind::Unspecified) => {}
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

pub(super) async fn resolve(
    state: &Catalogue,
    request: &pb::ResolveRequest,
    prefix: &str,
) -> Result<pb::ResolveResponse> {
    let mut violations = Violations::new();
    let (kinds, max_suggestions) = validate(request, prefix, &mut violations);
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
    let places = snapshot.index.resolve(query, kinds, max_suggestions);
    let mut best = places.best;
    let mut suggestions = places.suggestions;
    let mut normalized_query = places.key;

    if kinds.is_empty() || kinds.contains(&EntityKind::Investor) {
        let key = investor_key(query);
        if !key.is_empty() {
            if normalized_query.is_empty() {
                normalized_query.clone_from(&key);
            }
            let exact = find_investor_by_key(&state.pool, &key).await?;
            let investor_candidate = |investor: &crate::model::InvestorRecord, score: f64| Candidate {
                kind: EntityKind::Investor,
                resource: format!("investors/{}", investor.id),
                display_name: investor.display_name.clone(),
                score,
                matched_name: investor.display_name.clone(),
                current_province: String::new(),
                recorded_province: String::new(),
            };
            if let Some(investor) = &exact {
                let candidate = investor_candidate(investor, 1.0);
                // An exact place name wins over an investor of the same name; a near one does not.
                if best.as_ref().is_some_and(|b| b.score >= 1.0) {
                    suggestions.insert(0, candidate);
                } else {
                    if let Some(previous) = best.take() {
                        suggestions.insert(0, previous);
                    }
                    best = Some(candidate);
                }
            }
            let exact_id = exact.map(|e| e.id);
            for (investor, score) in investor_suggestions(&state.pool, &key, max_suggestions).await? {
                if Some(investor.id) != exact_id {
                    suggestions.push(investor_candidate(&investor, score));
                }
            }
            suggestions.sort_by(|a, b| b.score.total_cmp(&a.score));
        }
    }
    suggestions.truncate(max_suggestions);
    Ok(pb::ResolveResponse {
        r#match: best.map(to_proto),
        suggestions: suggestions.into_iter().map(to_proto).collect(),
        normalized_query,
    })
}

pub(super) async fn batch(state: &Catalogue, request: &pb::BatchResolveRequest) -> Result<pb::BatchResolveResponse> {
    if request.requests.len() > MAX_BATCH {
        return Err(fdi_kit::status::invalid_argument(
            "requests",
            format!("has {} entries; at most {MAX_BATCH} per call", request.requests.len()),
        )
        .into());
    }
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
