//! GetEvent and ListEvents.

use fdi_kit::{
    catalogue::strip_collection,
    domain::{EventKind, ReportingCurrency, Scope},
    money::to_money,
    period::date_to_proto,
    status::{invalid_argument, not_found},
};
use fdi_proto::{common, ingest as pb};

use super::{
    PAGE_LIMITS, known_place, optional_resource, period_filter, province_filter, resource, span_key, timestamp,
};
use crate::{error::Result, model::Event, pipeline::Pipeline, references::PlaceKind, store::EventFilter};

impl From<&Event> for pb::Event {
    fn from(event: &Event) -> Self {
        let facts = &event.facts;
        Self {
            name: resource("events", event.sequence),
            sequence: event.sequence,
            idempotency_key: facts.idempotency_key.clone(),
            kind: common::EventKind::from(facts.kind).into(),
            event_date: Some(date_to_proto(facts.event_date)),
            project_ref: facts.project_ref.clone(),
            project_name: facts.project_name.clone(),
            investor: optional_resource("investors", facts.investor_id),
            investor_text: facts.investor_text.clone(),
            investor_country: facts.investor_country.clone(),
            zone: optional_resource("zones", facts.zone_id.as_ref()),
            province: resource("provinces", &facts.province_code),
            current_province: resource("provinces", &facts.current_province_code),
            sector: facts.sector.clone(),
            amount: facts.amount.zip(facts.currency.as_deref()).map(|(a, c)| to_money(a, c)),
            amount_usd: facts.amount_usd.map(|a| to_money(a, ReportingCurrency::Usd.as_str())),
            amount_vnd: facts.amount_vnd.map(|a| to_money(a, ReportingCurrency::Vnd.as_str())),
            amount_text: facts.amount.map(|a| a.to_string()).unwrap_or_default(),
            scope: common::Scope::from(facts.scope).into(),
            status: pb::EventStatus::from(facts.status).into(),
            source: facts.source.clone(),
            create_time: Some(timestamp(event.create_time)),
            creator: event.creator.clone(),
        }
    }
}

/// Event `sequence` in protobuf form.
pub(super) async fn fetch(pipeline: &Pipeline, sequence: i64) -> Result<Option<pb::Event>> {
    Ok(pipeline.store.event(sequence).await?.as_ref().map(pb::Event::from))
}

pub(super) async fn get(pipeline: &Pipeline, request: pb::GetEventRequest) -> Result<pb::Event> {
    let name = request.name.trim();
    let sequence = strip_collection(name, "events").parse::<i64>().ok().filter(|s| *s > 0);
    let Some(sequence) = sequence else {
        return Err(invalid_argument("name", "must be `events/{sequence}`, e.g. events/42").into());
    };
    fetch(pipeline, sequence)
        .await?
        .ok_or_else(|| not_found("event", name, &[]).into())
}

pub(super) async fn list(pipeline: &Pipeline, request: pb::ListEventsRequest) -> Result<pb::ListEventsResponse> {
    let paging = PAGE_LIMITS.check(request.page_size, &request.page_token)?;
    let filter = event_filter(pipeline, &request).await?;
    let investor = filter.investor.map(|i| i.to_string()).unwrap_or_default();
    let after_sequence = request.after_sequence.to_string();
    let page = paging.for_query(&[
        "events",
        filter.province.current.as_deref().unwrap_or(""),
        filter.province.recorded.as_deref().unwrap_or(""),
        filter.zone.as_deref().unwrap_or(""),
        &investor,
        filter.kind.map_or("", EventKind::as_str),
        &span_key(filter.span),
        filter.scope.map_or("", Scope::as_str),
        &after_sequence,
    ])?;
    let after = page.after_number()?.unwrap_or(request.after_sequence);
    let events = pipeline.store.events(&filter, after, page.fetch_limit()).await?;
    let (events, next_page_token) = page.finish(events, |e| e.sequence.to_string());
    Ok(pb::ListEventsResponse {
        events: events.iter().map(pb::Event::from).collect(),
        next_page_token,
    })
}

/// The request's filters, checked in the order of its fields.
async fn event_filter(pipeline: &Pipeline, request: &pb::ListEventsRequest) -> Result<EventFilter> {
    let province = province_filter(pipeline, &request.province).await?;
    let zone = match request.zone.trim() {
        "" => None,
        shown => Some(known_place(pipeline, PlaceKind::Zone, &request.zone, shown).await?.id),
    };
    let investor = match request.investor.trim() {
        "" => None,
        text => Some(
            text.strip_prefix("investors/")
                .and_then(|id| id.parse::<i64>().ok())
                .ok_or_else(|| invalid_argument("investor", "must be an investor resource name, `investors/{id}`"))?,
        ),
    };
    let kind = EventKind::from_proto_field(request.kind)
        .map_err(|_| invalid_argument("kind", format!("{} is not an event kind", request.kind)))?;
    let span = period_filter(request.period.as_ref())?;
    let scope = Scope::from_proto_field(request.scope)
        .map_err(|_| invalid_argument("scope", format!("{} is not a scope", request.scope)))?;
    if request.after_sequence < 0 {
        return Err(invalid_argument("after_sequence", "must not be negative").into());
    }
    Ok(EventFilter {
        province,
        zone,
        investor,
        kind,
        span,
        scope,
    })
}
