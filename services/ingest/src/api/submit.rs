//! SubmitEvent: one event, exactly once.

use std::collections::HashMap;

use fdi_kit::status::{Violations, invalid_argument, with_reason};
use fdi_proto::ingest as pb;
use tonic::Code;

use super::{events::fetch_event, held::fetch_held};
use crate::{
    error::Result,
    pipeline::{Outcome, Pipeline},
};

pub(super) async fn submit(pipeline: &Pipeline, request: pb::SubmitEventRequest) -> Result<pb::SubmitEventResponse> {
    let Some(event) = request.event else {
        return Err(invalid_argument("event", "is required").into());
    };
    let outcomes = pipeline
        .process(std::slice::from_ref(&event), &|_| "event.".to_owned(), None)
        .await?;
    match outcomes.into_iter().next() {
        Some(outcome) => respond(pipeline, &event, outcome).await,
        None => Err(fdi_kit::status::internal().into()),
    }
}

/// The response to one event's outcome: accepted, duplicate or held; a
/// conflict is ALREADY_EXISTS, a rejection INVALID_ARGUMENT.
pub(super) async fn respond(
    pipeline: &Pipeline,
    event: &pb::EventInput,
    outcome: Outcome,
) -> Result<pb::SubmitEventResponse> {
    match outcome {
        Outcome::Accepted { sequence } => Ok(pb::SubmitEventResponse {
            outcome: pb::Outcome::Accepted.into(),
            event: fetch_event(pipeline, sequence).await?.map(|e| e.to_proto()),
            held_row: None,
        }),
        Outcome::Duplicate { sequence } => Ok(pb::SubmitEventResponse {
            outcome: pb::Outcome::Duplicate.into(),
            event: fetch_event(pipeline, sequence).await?.map(|e| e.to_proto()),
            held_row: None,
        }),
        Outcome::Held { held_id, .. } => Ok(pb::SubmitEventResponse {
            outcome: pb::Outcome::Held.into(),
            event: None,
            held_row: fetch_held(pipeline, held_id).await?,
        }),
        Outcome::Conflict { sequence } => Err(with_reason(
            Code::AlreadyExists,
            format!(
                "idempotency key `{}` was already used for events/{sequence} with different content",
                event.idempotency_key.trim()
            ),
            "IDEMPOTENCY_KEY_REUSED",
            HashMap::from([
                ("idempotency_key".to_owned(), event.idempotency_key.trim().to_owned()),
                ("event".to_owned(), format!("events/{sequence}")),
            ]),
        )
        .into()),
        Outcome::Rejected { violations } => {
            let mut all = Violations::new();
            for (field, description) in violations {
                all.add(field, description);
            }
            Err(all.into_status().into())
        }
    }
}
