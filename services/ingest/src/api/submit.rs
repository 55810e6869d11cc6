//! SubmitEvent: one event, exactly once.

use std::collections::HashMap;

use fdi_kit::{
    access::Caller,
    status::{Violations, invalid_argument, with_reason},
};
use fdi_proto::ingest as pb;
use tonic::Code;

use super::{events, held};
use crate::{
    access::denied,
    error::{Error, Result},
    model::{KeyHolder, Outcome},
    pipeline::{FieldPrefix, Pipeline, Sender},
};

pub(super) async fn submit(
    pipeline: &Pipeline,
    caller: &Caller,
    request: pb::SubmitEventRequest,
) -> Result<pb::SubmitEventResponse> {
    let Some(event) = request.event else {
        return Err(invalid_argument("event", "is required").into());
    };
    let outcome = process_one(pipeline, caller, &event, &|_| "event.".to_owned()).await?;
    respond(pipeline, caller, &event, outcome).await
}

/// Processes one event sent by `caller` (named `field_prefix(0)` in violations).
pub(super) async fn process_one(
    pipeline: &Pipeline,
    caller: &Caller,
    event: &pb::EventInput,
    field_prefix: FieldPrefix<'_>,
) -> Result<Outcome> {
    let outcomes = pipeline
        .process(std::slice::from_ref(event), field_prefix, None, Sender::caller(caller))
        .await?;
    outcomes
        .into_iter()
        .next()
        .ok_or(Error::Internal("a batch of one row came back without its outcome"))
}

/// The response to one event's outcome: accepted, duplicate or held; a
/// conflict is ALREADY_EXISTS, a rejection INVALID_ARGUMENT, an event
/// outside `caller`'s provinces PERMISSION_DENIED.
pub(super) async fn respond(
    pipeline: &Pipeline,
    caller: &Caller,
    event: &pb::EventInput,
    outcome: Outcome,
) -> Result<pb::SubmitEventResponse> {
    let recorded = |outcome: pb::Outcome, event: Option<pb::Event>| pb::SubmitEventResponse {
        outcome: outcome.into(),
        event,
        held_row: None,
    };
    match outcome {
        Outcome::Accepted { sequence } => Ok(recorded(
            pb::Outcome::Accepted,
            events::fetch(pipeline, sequence).await?,
        )),
        Outcome::Duplicate { sequence } => Ok(recorded(
            pb::Outcome::Duplicate,
            events::fetch(pipeline, sequence).await?,
        )),
        Outcome::Held { held_id, .. } => Ok(pb::SubmitEventResponse {
            outcome: pb::Outcome::Held.into(),
            event: None,
            held_row: held::fetch(pipeline, held_id).await?,
        }),
        Outcome::Conflict { sequence } => Err(conflict(event, sequence).into()),
        Outcome::Rejected { violations } => {
            let mut all = Violations::new();
            for (field, description) in violations {
                all.add(field, description);
            }
            Err(all.into_status().into())
        }
        Outcome::Denied { description, .. } => Err(denied(caller, description).into()),
    }
}

/// ALREADY_EXISTS: the event's key was used for a recorded event or a held row with other content.
fn conflict(event: &pb::EventInput, holder: KeyHolder) -> tonic::Status {
    let key = event.idempotency_key.trim();
    let resource = holder.resource();
    let field = match holder {
        KeyHolder::Event(_) => "event",
        KeyHolder::Held(_) => "held_row",
    };
    with_reason(
        Code::AlreadyExists,
        format!("idempotency key `{key}` was already used for {resource} with different content"),
        "IDEMPOTENCY_KEY_REUSED",
        HashMap::from([
            ("idempotency_key".to_owned(), key.to_owned()),
            (field.to_owned(), resource),
        ]),
    )
}
