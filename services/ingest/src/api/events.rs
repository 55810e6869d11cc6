//! GetEvent and ListEvents.

use fdi_kit::{
    paging::{PageToken, fingerprint, page_size},
    period,
    status::invalid_argument,
    telemetry::db_span,
};
use fdi_proto::{
    common::{EventKind, Scope},
    ingest as pb,
};
use tracing::Instrument;

use super::province_filter;
use crate::{
    error::Result,
    model::{EVENT_COLUMNS, EventRecord},
    pipeline::Pipeline,
    references::{PlaceKind, PlaceLookup},
    validate::Kind,
};

/// An event by sequence number.
pub(super) async fn fetch_event(pipeline: &Pipeline, sequence: i64) -> Result<Option<EventRecord>> {
    Ok(
        sqlx::query_as(&format!("SELECT {EVENT_COLUMNS} FROM events WHERE sequence = $1"))
            .bind(sequence)
            .fetch_optional(&pipeline.pool)
            .instrument(db_span("SELECT", "events"))
            .await?,
    )
}

pub(super) async fn get(pipeline: &Pipeline, request: &pb::GetEventRequest) -> Result<pb::Event> {
    let name = request.name.trim();
    let sequence = name
        .strip_prefix("events/")
        .unwrap_or(name)
        .parse::<i64>()
        .ok()
        .filter(|s| *s > 0);
    let Some(sequence) = sequence else {
        return Err(invalid_argument("name", "must be `events/{sequence}`, e.g. events/42").into());
    };
    match fetch_event(pipeline, sequence).await? {
        Some(event) => Ok(event.to_proto()),
        None => Err(fdi_kit::status::not_found("event", name, &[]).into()),
    }
}

pub(super) async fn list(pipeline: &Pipeline, request: &pb::ListEventsRequest) -> Result<pb::ListEventsResponse> {
    let size = page_size(request.page_size, 100, 1000)?;
    let (current_province, recorded_province) = if request.province.trim().is_empty() {
        (None, None)
    } else {
        match province_filter(pipeline, &request.province, "province").await? {
            (code, true) => (Some(code), None),
            (code, false) => (None, Some(code)),
        }
    };
    let zone = if request.zone.trim().is_empty() {
        None
    } else {
        match pipeline.references.place(PlaceKind::Zone, &request.zone).await? {
            Some(PlaceLookup::Found(place)) => Some(place.id),
            Some(PlaceLookup::Unknown(suggestions)) => {
                return Err(fdi_kit::status::not_found("zone", request.zone.trim(), &suggestions).into());
            }
            None => return Err(fdi_kit::status::not_found("zone", request.zone.trim(), &[]).into()),
        }
    };
    let investor = if request.investor.trim().is_empty() {
        None
    } else {
        let id = request
            .investor
            .trim()
            .strip_prefix("investors/")
            .and_then(|id| id.parse::<i64>().ok());
        Some(id.ok_or_else(|| invalid_argument("investor", "must be an investor resource name, `investors/{id}`"))?)
    };
    let kind = match EventKind::try_from(request.kind) {
        Ok(kind) => Kind::from_proto(kind).map(Kind::as_str),
        Err(_) => return Err(invalid_argument("kind", format!("{} is not an event kind", request.kind)).into()),
    };
    let span = match &request.period {
        Some(p) if p.kind.is_some() => Some(period::resolve(Some(p), "period")?),
        _ => None,
    };
    let scope = match Scope::try_from(request.scope) {
        Ok(Scope::Fdi) => Some("fdi"),
        Ok(Scope::Ddi) => Some("ddi"),
        Ok(Scope::All | Scope::Unspecified) => None,
        Err(_) => return Err(invalid_argument("scope", format!("{} is not a scope", request.scope)).into()),
    };
    if request.after_sequence < 0 {
        return Err(invalid_argument("after_sequence", "must not be negative").into());
    }
    let query = fingerprint(&[
        "events",
        current_province.as_deref().unwrap_or(""),
        recorded_province.as_deref().unwrap_or(""),
        zone.as_deref().unwrap_or(""),
        &investor.map(|i| i.to_string()).unwrap_or_default(),
        kind.unwrap_or(""),
        &span.map(|s| format!("{}..{}", s.start, s.end)).unwrap_or_default(),
        scope.unwrap_or(""),
        &request.after_sequence.to_string(),
    ]);
    let after = match PageToken::decode(&request.page_token, query)? {
        Some(token) => token
            .after
            .parse::<i64>()
            .map_err(|_| invalid_argument("page_token", "is corrupt"))?,
        None => request.after_sequence,
    };
    let mut events: Vec<EventRecord> = sqlx::query_as(&format!(
        "SELECT {EVENT_COLUMNS} FROM events
         WHERE sequence > $1
           AND ($2::text IS NULL OR current_province_code = $2)
           AND ($3::text IS NULL OR province_code = $3)
           AND ($4::text IS NULL OR zone_id = $4)
           AND ($5::bigint IS NULL OR investor_id = $5)
           AND ($6::text IS NULL OR kind = $6)
           AND ($7::date IS NULL OR event_date >= $7)
           AND ($8::date IS NULL OR event_date <= $8)
           AND ($9::text IS NULL OR scope = $9)
         ORDER BY sequence
         LIMIT $10"
    ))
    .bind(after)
    .bind(&current_province)
    .bind(&recorded_province)
    .bind(&zone)
    .bind(investor)
    .bind(kind)
    .bind(span.map(|s| s.start))
    .bind(span.map(|s| s.end))
    .bind(scope)
    .bind(i64::try_from(size + 1).unwrap_or(i64::MAX))
    .fetch_all(&pipeline.pool)
    .instrument(db_span("SELECT", "events"))
    .await?;
    let next_page_token = if events.len() > size {
        events.truncate(size);
        PageToken::encode(&events[size - 1].sequence.to_string(), query)
    } else {
        String::new()
    };
    Ok(pb::ListEventsResponse {
        events: events.iter().map(EventRecord::to_proto).collect(),
        next_page_token,
    })
}
