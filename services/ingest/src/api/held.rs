//! Held rows: listed with their reasons, and re-processed once the missing
//! reference data exists.

use fdi_kit::{access::Caller, status::invalid_argument};
use fdi_proto::ingest::{self as pb, HoldReason};

use super::{PAGE_LIMITS, resource, timestamp};
use crate::{
    error::Result,
    model::{Outcome, reason_name},
    pipeline::{Pipeline, Sender},
    store::HeldRow,
};

/// Rows re-processed per database round.
const REPROCESS_CHUNK: i64 = 500;
/// Rows re-processed per call; call again for more.
const REPROCESS_MAX: usize = 50_000;

impl From<HeldRow> for pb::HeldRow {
    fn from(held: HeldRow) -> Self {
        Self {
            name: resource("heldRows", held.id),
            row: Some(held.row),
            reason: held.reason.into(),
            detail: held.detail,
            load_id: held.load_id,
            offset: held.load_offset,
            attempts: held.attempts,
            create_time: Some(timestamp(held.create_time)),
            update_time: Some(timestamp(held.update_time)),
            creator: held.creator,
        }
    }
}

/// Held row `id` in protobuf form.
pub(super) async fn fetch(pipeline: &Pipeline, id: i64) -> Result<Option<pb::HeldRow>> {
    Ok(pipeline.store.held_row(id).await?.map(pb::HeldRow::from))
}

/// The reason filter of a request; `None` for all reasons.
fn reason_filter(reason: i32) -> Result<Option<HoldReason>> {
    match HoldReason::try_from(reason) {
        Ok(HoldReason::Unspecified) => Ok(None),
        Ok(reason) => Ok(Some(reason)),
        Err(_) => Err(invalid_argument("reason", format!("{reason} is not a hold reason")).into()),
    }
}

pub(super) async fn list(pipeline: &Pipeline, request: pb::ListHeldRowsRequest) -> Result<pb::ListHeldRowsResponse> {
    let paging = PAGE_LIMITS.check(request.page_size, &request.page_token)?;
    let reason = reason_filter(request.reason)?;
    let page = paging.for_query(&["held", reason.map_or("", reason_name)])?;
    let after = page.after_number()?.unwrap_or(0);
    let rows = pipeline.store.held_rows(reason, after, page.fetch_limit()).await?;
    let total_size = pipeline.store.count_held(reason).await?;
    let (rows, next_page_token) = page.finish(rows, |r| r.id.to_string());
    Ok(pb::ListHeldRowsResponse {
        held_rows: rows.into_iter().map(pb::HeldRow::from).collect(),
        next_page_token,
        total_size,
    })
}

/// Tries held rows again as `caller` (an admin, by the policy), each
/// recorded as made by the key that sent it.
pub(super) async fn reprocess(
    pipeline: &Pipeline,
    caller: &Caller,
    request: pb::ReprocessHeldRowsRequest,
) -> Result<pb::ReprocessHeldRowsResponse> {
    let reason = reason_filter(request.reason)?;
    let ids = request
        .names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            name.trim()
                .strip_prefix("heldRows/")
                .and_then(|id| id.parse::<i64>().ok())
                .ok_or_else(|| invalid_argument(format!("names[{i}]"), "must be `heldRows/{id}`").into())
        })
        .collect::<Result<Vec<i64>>>()?;
    // Names the catalogue did not know may be known now.
    pipeline.references.forget_unknown();

    let mut response = pb::ReprocessHeldRowsResponse::default();
    let mut after = 0;
    while (response.processed as usize) < REPROCESS_MAX {
        let chunk = pipeline.store.held_chunk(reason, &ids, after, REPROCESS_CHUNK).await?;
        let Some(&(last, ..)) = chunk.last() else { break };
        after = last;
        let mut held_ids = Vec::with_capacity(chunk.len());
        let mut rows = Vec::with_capacity(chunk.len());
        let mut creators = Vec::with_capacity(chunk.len());
        for (id, row, creator) in chunk {
            held_ids.push(id);
            rows.push(row);
            creators.push(creator);
        }
        let sender = Sender::on_behalf_of(caller, &creators);
        let outcomes = pipeline
            .process(&rows, &|i| format!("heldRows/{}.", held_ids[i]), None, sender)
            .await?;
        let settled = count(&mut response, &held_ids, &outcomes);
        if !settled.is_empty() {
            pipeline.store.release_held(&settled).await?;
        }
    }
    Ok(response)
}

/// Counts re-processed rows by outcome; returns the rows no longer held
/// because they turned out recorded already, or conflicting.
fn count(response: &mut pb::ReprocessHeldRowsResponse, ids: &[i64], outcomes: &[Outcome]) -> Vec<i64> {
    let mut settled = Vec::new();
    for (id, outcome) in ids.iter().zip(outcomes) {
        response.processed += 1;
        match outcome {
            Outcome::Accepted { .. } => response.accepted += 1,
            Outcome::Duplicate { .. } => {
                response.duplicates += 1;
                settled.push(*id);
            }
            Outcome::Held { .. } => response.still_held += 1,
            Outcome::Conflict { .. } | Outcome::Rejected { .. } | Outcome::Denied { .. } => {
                response.rejected += 1;
                tracing::warn!(held_row = id, ?outcome, "held row rejected on re-processing");
                settled.push(*id);
            }
        }
    }
    settled
}
