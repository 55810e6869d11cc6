//! News documents: stored once, their figures extracted (with the same
//! library as `fdi extract`) and kept with their evidence; reported
//! statistics listed for reconciliation; named projects promoted to events.

use std::{
    collections::{BTreeSet, HashMap},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use chrono::NaiveDate;
use fdi_extract::{Bounds, Extraction, Input, Language, MAX_DOCUMENT_BYTES, Stopped, extract_with};
use fdi_kit::{
    access::Caller,
    domain::{EventKind, EventStatus, MAX_NAME_CHARS},
    figures,
    money::to_money,
    period::{date_from_proto, date_to_proto},
    status::{Violations, check_text, invalid_argument, not_found},
};
use fdi_proto::{
    common::DateRange,
    ingest::{self as pb, EventInput},
};
use rust_decimal::{Decimal, prelude::FromPrimitive};
use sha2::{Digest, Sha256};
use tokio::{
    sync::Semaphore,
    time::{Instant, timeout_at},
};
use tonic::Status;

use super::{
    Limits, PAGE_LIMITS, optional_resource, period_filter, province_filter, resource, span_key,
    submit::{process_one, respond},
    timestamp,
};
use crate::{
    access::{denial, denied, may_write},
    error::{Error, Result},
    model::Outcome,
    pipeline::Pipeline,
    references::{PlaceKind, PlaceLookup, PlaceResults, References},
    store::{Document, NewDocument, Project, ProjectFacts, Saved, Statistic, StatisticFacts, StatisticFilter},
    validate::MAX_SOURCE_CHARS,
};

fn decimal(value: f64) -> Decimal {
    Decimal::from_f64(value).unwrap_or_default().round_dp(2)
}

fn text_of<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn span_of(span: [usize; 2]) -> (i32, i32) {
    (
        i32::try_from(span[0]).unwrap_or(i32::MAX),
        i32::try_from(span[1]).unwrap_or(i32::MAX),
    )
}

fn evidence((span_start, span_end): (i32, i32), sentence: &str) -> Option<pb::Evidence> {
    Some(pb::Evidence {
        span_start,
        span_end,
        sentence: sentence.to_owned(),
    })
}

fn ordinal(index: usize) -> i32 {
    i32::try_from(index).unwrap_or(i32::MAX)
}

impl From<&Statistic> for pb::ReportedStatistic {
    fn from(statistic: &Statistic) -> Self {
        let facts = &statistic.facts;
        Self {
            name: format!("documents/{}/statistics/{}", statistic.document_id, statistic.ordinal),
            province: resource("provinces", &facts.province),
            current_province: resource("provinces", &facts.current_province),
            metric: facts.metric.clone(),
            amount: facts.amount.zip(facts.currency.as_deref()).map(|(a, c)| to_money(a, c)),
            count: facts.count.unwrap_or_default(),
            period: Some(DateRange {
                start: facts.period_start.map(date_to_proto),
                end: Some(date_to_proto(facts.period_end)),
            }),
            scope: figures::scope_from_name(&facts.scope).into(),
            evidence: evidence((facts.span_start, facts.span_end), &facts.sentence),
            document: resource("documents", statistic.document_id),
        }
    }
}

impl From<&Project> for pb::ReportedProject {
    fn from(project: &Project) -> Self {
        let facts = &project.facts;
        Self {
            name: format!("documents/{}/projects/{}", project.document_id, project.ordinal),
            investor: facts.investor.clone(),
            investor_resource: optional_resource("investors", facts.investor_id),
            investor_country: facts.investor_country.clone(),
            zone: facts.zone.clone(),
            province: optional_resource("provinces", Some(&facts.province).filter(|p| !p.is_empty())),
            amount: Some(to_money(facts.amount, &facts.currency)),
            kind: facts.kind.clone(),
            evidence: evidence((facts.span_start, facts.span_end), &facts.sentence),
            event: optional_resource("events", project.event_sequence),
            zone_resource: optional_resource("zones", facts.zone_id.as_ref()),
        }
    }
}

/// A stored document in protobuf form.
fn document_to_proto(document: &Document, already_stored: bool) -> pb::Document {
    let record = &document.record;
    let extraction = &record.extraction;
    pb::Document {
        name: resource("documents", record.id),
        url: record.url.clone().unwrap_or_default(),
        title: record.title.clone(),
        published: Some(date_to_proto(record.published)),
        language: record.language.clone(),
        content_sha256: record.content_sha256.clone(),
        already_stored,
        money: extraction
            .money
            .iter()
            .map(|m| pb::ReportedMoney {
                amount: Some(to_money(decimal(m.value), &m.currency)),
                evidence: evidence(span_of(m.span), &m.sentence),
            })
            .collect(),
        counts: extraction
            .counts
            .iter()
            .map(|c| pb::ReportedCount {
                count: i64::try_from(c.value).unwrap_or(i64::MAX),
                kind: text_of(&c.kind),
                evidence: evidence(span_of(c.span), &c.sentence),
            })
            .collect(),
        statistics: document.statistics.iter().map(pb::ReportedStatistic::from).collect(),
        projects: document.projects.iter().map(pb::ReportedProject::from).collect(),
        create_time: Some(timestamp(record.create_time)),
        creator: record.creator.clone(),
    }
}

/// Document `id`, just found or stored, in protobuf form.
async fn load(pipeline: &Pipeline, id: i64, already_stored: bool) -> Result<pb::Document> {
    let document = pipeline
        .store
        .document(id)
        .await?
        .ok_or(Error::Internal("a stored document went missing"))?;
    Ok(document_to_proto(&document, already_stored))
}

fn parse_id(name: &str, field: &str) -> Result<i64> {
    name.trim()
        .strip_prefix("documents/")
        .and_then(|rest| rest.split('/').next())
        .and_then(|id| id.parse::<i64>().ok())
        .ok_or_else(|| invalid_argument(field, "must be `documents/{id}`").into())
}

pub(super) async fn get(pipeline: &Pipeline, request: pb::GetDocumentRequest) -> Result<pb::Document> {
    let id = parse_id(&request.name, "name")?;
    match pipeline.store.document(id).await? {
        Some(document) => Ok(document_to_proto(&document, false)),
        None => Err(not_found("document", request.name.trim(), &[]).into()),
    }
}

/// A document request, checked: its publication date and language (`None`: detect it).
fn check_document(request: &pb::IngestDocumentRequest) -> Result<(NaiveDate, Option<Language>)> {
    let mut violations = Violations::new();
    if request.text.trim().is_empty() {
        violations.add("text", "is required");
    }
    if request.text.len() > MAX_DOCUMENT_BYTES {
        violations.add(
            "text",
            format!(
                "is {} bytes; at most {MAX_DOCUMENT_BYTES} are accepted",
                request.text.len()
            ),
        );
    }
    check_text(&mut violations, "url", &request.url, MAX_SOURCE_CHARS, false);
    check_text(&mut violations, "title", &request.title, MAX_NAME_CHARS, false);
    let published = request.published.as_ref().and_then(date_from_proto);
    if published.is_none() {
        violations.add(
            "published",
            "is required: the publication date resolves periods such as \"this year\"",
        );
    }
    let language = match request.language.trim() {
        "" => None,
        code => match code.parse::<Language>() {
            Ok(language) => Some(language),
            Err(_) => {
                violations.add("language", "must be en, vi, no or de (or empty to detect it)");
                None
            }
        },
    };
    violations.into_result()?;
    Ok((published.unwrap_or_default(), language))
}

/// Longest evidence sentence kept with a figure, in bytes: a longer
/// sentence is clipped around its figure, with "…" where it was cut, so a
/// document's evidence grows with its figures, not figures × sentence.
pub const MAX_EVIDENCE_BYTES: usize = 1000;

/// How much earlier than the caller's deadline the call gives up, so that
/// the caller hears DEADLINE_EXCEEDED from the handler rather than the
/// transport's CANCELLED.
const DEADLINE_MARGIN: Duration = Duration::from_millis(50);

/// What bounds the extraction of documents: the permits of the extractions
/// allowed to run at once, and the limits.
pub(super) struct Extractions<'a> {
    pub permits: &'a Arc<Semaphore>,
    pub limits: &'a Limits,
}

/// Sets its flag when dropped: the extraction it watches over stops when
/// the call that started it is answered, times out or is cancelled.
struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

pub(super) async fn ingest(
    pipeline: &Pipeline,
    extractions: &Extractions<'_>,
    caller: &Caller,
    request: pb::IngestDocumentRequest,
) -> Result<pb::Document> {
    // The caller's deadline, or the server's own when that comes first.
    let server = extractions.limits.request_timeout;
    let remaining = fdi_kit::rpc::incoming_remaining().map_or(server, |caller| caller.min(server));
    let deadline = Instant::now() + remaining.saturating_sub(DEADLINE_MARGIN);
    timeout_at(deadline, ingest_by(pipeline, extractions, deadline, caller, request))
        .await
        .unwrap_or_else(|_| {
            Err(Status::deadline_exceeded(
                "the document was not extracted and stored before the call's deadline; its extraction was stopped",
            )
            .into())
        })
}

/// [`ingest`], answered by `deadline`.
async fn ingest_by(
    pipeline: &Pipeline,
    extractions: &Extractions<'_>,
    deadline: Instant,
    caller: &Caller,
    request: pb::IngestDocumentRequest,
) -> Result<pb::Document> {
    let (published, language) = check_document(&request)?;
    let url = Some(request.url.trim()).filter(|u| !u.is_empty());
    let sha = format!("{:x}", Sha256::digest(request.text.as_bytes()));
    if let Some(id) = pipeline.store.document_by_content(&sha, url).await? {
        return load(pipeline, id, true).await;
    }

    let extraction = extract_bounded(extractions, deadline, request.text.clone(), published, language).await?;

    let (statistics, projects) = reported(pipeline, &extraction, published).await?;
    statistics_in_scope(caller, &statistics)?;
    let document = NewDocument {
        url,
        content_sha256: &sha,
        title: request.title.trim(),
        published,
        body: &request.text,
        extraction: &extraction,
        statistics,
        projects,
        creator: &caller.key_id,
    };
    match pipeline.store.save_document(&document).await? {
        Saved::New(id) => load(pipeline, id, false).await,
        Saved::Existing(id) => load(pipeline, id, true).await,
    }
}

/// The extraction of `text`, once one of the permits is free (waiting at
/// most until `deadline`), on a blocking thread that holds the permit until
/// the extraction ends, and that stops at its next sentence when this
/// future is dropped (the call timed out or was cancelled).
async fn extract_bounded(
    extractions: &Extractions<'_>,
    deadline: Instant,
    text: String,
    published: NaiveDate,
    language: Option<Language>,
) -> Result<Extraction> {
    let limits = extractions.limits;
    let Ok(acquired) = timeout_at(deadline, Arc::clone(extractions.permits).acquire_owned()).await else {
        return Err(Status::resource_exhausted(format!(
            "the server is already extracting {} documents, its limit (--max-extractions, FDI_INGEST_MAX_EXTRACTIONS), \
             and none finished before the call's deadline; retry later with backoff",
            limits.max_extractions
        ))
        .into());
    };
    let permit = acquired.map_err(|_| Error::Internal("the extraction permits were closed"))?;
    let stop = Arc::new(AtomicBool::new(false));
    let _stop_on_drop = StopOnDrop(Arc::clone(&stop));
    let max_items = limits.max_document_items;
    let extracted = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        let should_stop = || stop.load(Ordering::Relaxed);
        let bounds = Bounds {
            max_items,
            max_evidence_bytes: MAX_EVIDENCE_BYTES,
            should_stop: Some(&should_stop),
        };
        let input = Input {
            text: &text,
            published,
            language,
        };
        extract_with(&input, &bounds)
    })
    .await
    .map_err(|_| Error::Internal("the extraction task stopped"))?;
    match extracted {
        Ok(extraction) => Ok(extraction),
        Err(Stopped::TooMany { what, limit }) => Err(invalid_argument(
            "text",
            format!(
                "holds more than {limit} {what}; at most {limit} of each kind are extracted from one document \
                 (--max-document-items, FDI_INGEST_MAX_DOCUMENT_ITEMS)"
            ),
        )
        .into()),
        // Only this future stops the extraction, and it is still here.
        Err(Stopped::Cancelled) => Err(Status::cancelled("the extraction was stopped").into()),
    }
}

/// The statistics and projects of an extraction, with their ordinals:
/// provinces linked to today's boundaries, zones and investors to the
/// catalogue (linked, never created from news).
async fn reported(
    pipeline: &Pipeline,
    extraction: &Extraction,
    published: NaiveDate,
) -> Result<(Vec<(i32, StatisticFacts)>, Vec<(i32, ProjectFacts)>)> {
    let codes = extraction
        .statistics
        .iter()
        .map(|s| s.province.as_str())
        .chain(extraction.projects.iter().filter_map(|p| p.province.as_deref()))
        .map(|code| (PlaceKind::Province, code));
    let zones = extraction
        .projects
        .iter()
        .filter_map(|p| p.zone.as_deref())
        .map(|zone| (PlaceKind::Zone, zone));
    let places = pipeline.references.places(codes.chain(zones)).await?;
    let mut investor_ids = HashMap::new();
    for investor in extraction.projects.iter().filter_map(|p| p.investor.as_ref()) {
        if !investor_ids.contains_key(investor) {
            investor_ids.insert(investor.clone(), pipeline.references.known_investor(investor).await?);
        }
    }
    let statistics = extraction
        .statistics
        .iter()
        .enumerate()
        .map(|(i, statistic)| (ordinal(i), statistic_facts(statistic, &places, published)))
        .collect();
    let projects = extraction
        .projects
        .iter()
        .enumerate()
        .filter_map(|(i, project)| {
            let investor = project.investor.as_ref()?;
            let investor_id = investor_ids.get(investor).copied().flatten();
            Some((ordinal(i), project_facts(project, investor, investor_id, &places)))
        })
        .collect();
    Ok((statistics, projects))
}

/// PERMISSION_DENIED when the document reports figures for provinces outside
/// `caller`'s: they would stand beside those provinces' figures in
/// reconciliation. A statistic is checked as a row is, by the province the
/// text names, today's province, and the end of its period. The document's
/// projects write nothing until promoted, and are checked then.
fn statistics_in_scope(caller: &Caller, statistics: &[(i32, StatisticFacts)]) -> Result<()> {
    let outside: BTreeSet<String> = statistics
        .iter()
        .map(|(_, statistic)| statistic)
        .filter(|s| !may_write(caller, &s.province, &s.current_province, s.period_end))
        .map(|s| resource("provinces", &s.province))
        .collect();
    if outside.is_empty() {
        return Ok(());
    }
    let what = format!(
        "the document reports figures for {}",
        outside.into_iter().collect::<Vec<_>>().join(", ")
    );
    Err(denied(caller, denial(caller, &what)).into())
}

fn statistic_facts(statistic: &fdi_extract::Statistic, places: &PlaceResults, published: NaiveDate) -> StatisticFacts {
    let money = statistic.currency.is_some();
    let day = |text: &Option<String>| {
        text.as_deref()
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
    };
    let current_province = match References::lookup(places, PlaceKind::Province, &statistic.province) {
        Some(PlaceLookup::Found(place)) => place.current_province.clone(),
        _ => statistic.province.clone(),
    };
    let (span_start, span_end) = span_of(statistic.span);
    StatisticFacts {
        province: statistic.province.clone(),
        current_province,
        metric: text_of(&statistic.metric),
        amount: money.then(|| decimal(statistic.value)),
        currency: statistic.currency.clone(),
        count: (!money).then(|| decimal(statistic.value).round().try_into().unwrap_or(0i64)),
        period_start: day(&statistic.period_start),
        period_end: day(&statistic.period_end).unwrap_or(published),
        scope: text_of(&statistic.scope),
        span_start,
        span_end,
        sentence: statistic.sentence.clone(),
    }
}

fn project_facts(
    project: &fdi_extract::Project,
    investor: &str,
    investor_id: Option<i64>,
    places: &PlaceResults,
) -> ProjectFacts {
    let zone_id = project
        .zone
        .as_deref()
        .and_then(|text| match References::lookup(places, PlaceKind::Zone, text) {
            Some(PlaceLookup::Found(place)) => Some(place.id.clone()),
            _ => None,
        });
    let (span_start, span_end) = span_of(project.span);
    ProjectFacts {
        investor: investor.to_owned(),
        investor_id,
        investor_country: project.investor_country.clone().unwrap_or_default(),
        zone: project.zone.clone().unwrap_or_default(),
        zone_id,
        province: project.province.clone().unwrap_or_default(),
        amount: decimal(project.value),
        currency: project.currency.clone(),
        kind: text_of(&project.kind),
        span_start,
        span_end,
        sentence: project.sentence.clone(),
    }
}

pub(super) async fn list_statistics(
    pipeline: &Pipeline,
    request: pb::ListReportedStatisticsRequest,
) -> Result<pb::ListReportedStatisticsResponse> {
    let paging = PAGE_LIMITS.check(request.page_size, &request.page_token)?;
    let filter = StatisticFilter {
        province: province_filter(pipeline, &request.province).await?,
        metric: Some(request.metric.trim().to_owned()).filter(|m| !m.is_empty()),
        span: period_filter(request.period.as_ref())?,
    };
    let page = paging.for_query(&[
        "statistics",
        filter.province.current.as_deref().unwrap_or(""),
        filter.province.recorded.as_deref().unwrap_or(""),
        filter.metric.as_deref().unwrap_or(""),
        &span_key(filter.span),
    ])?;
    // The first page (or a key that does not parse) starts at the latest document.
    let after = page.after.as_deref().map_or((i64::MAX, -1), |after| {
        let (document, ordinal) = after.split_once(':').unwrap_or(("", ""));
        (
            document.parse().unwrap_or(i64::MAX),
            ordinal.parse().unwrap_or(i32::MAX),
        )
    });
    let statistics = pipeline.store.statistics(&filter, after, page.fetch_limit()).await?;
    let (statistics, next_page_token) = page.finish(statistics, |s| format!("{}:{}", s.document_id, s.ordinal));
    Ok(pb::ListReportedStatisticsResponse {
        statistics: statistics.iter().map(pb::ReportedStatistic::from).collect(),
        next_page_token,
    })
}

/// `documents/{id}/projects/{n}` as (document, ordinal).
fn parse_project_name(name: &str) -> Option<(i64, i32)> {
    let (document, ordinal) = name.strip_prefix("documents/")?.split_once("/projects/")?;
    Some((document.parse().ok()?, ordinal.parse().ok()?))
}

/// Promotes a project as `caller`, whose provinces its event is checked against as a submitted row is.
pub(super) async fn promote(
    pipeline: &Pipeline,
    caller: &Caller,
    request: pb::PromoteProjectRequest,
) -> Result<pb::SubmitEventResponse> {
    let name = request.name.trim();
    let Some((document_id, ordinal)) = parse_project_name(name) else {
        return Err(invalid_argument("name", "must be `documents/{id}/projects/{n}`").into());
    };
    let Some(project) = pipeline.store.project(document_id, ordinal).await? else {
        return Err(not_found("project", name, &[]).into());
    };
    if project.facts.province.is_empty() && project.facts.zone.is_empty() {
        return Err(invalid_argument(
            "name",
            "the document names no province or zone for this project; submit it with SubmitEvent",
        )
        .into());
    }
    let (published, url) = pipeline.store.document_source(document_id).await?;
    let event = project_event(&project, &request.project_ref, published, url);
    let outcome = process_one(pipeline, caller, &event, &|_| "project.".to_owned()).await?;
    if let Outcome::Accepted { sequence } | Outcome::Duplicate { sequence } = outcome {
        pipeline.store.link_project(document_id, ordinal, sequence).await?;
    }
    respond(pipeline, caller, &event, outcome).await
}

/// The estimated event a project of a document stands for, with the
/// document (its URL when known) as its source.
fn project_event(project: &Project, project_ref: &str, published: NaiveDate, url: Option<String>) -> EventInput {
    let (document_id, ordinal) = (project.document_id, project.ordinal);
    let facts = &project.facts;
    let kind = if facts.kind == "expansion" {
        EventKind::Adjustment
    } else {
        EventKind::New
    };
    EventInput {
        idempotency_key: format!("doc-{document_id}-project-{ordinal}"),
        kind: kind.as_str().to_owned(),
        event_date: published.format("%Y-%m-%d").to_string(),
        project_ref: Some(project_ref.trim().to_owned())
            .filter(|r| !r.is_empty())
            .unwrap_or_else(|| format!("doc-{document_id}-{ordinal}")),
        investor: facts.investor.clone(),
        investor_country: facts.investor_country.clone(),
        zone: facts.zone.clone(),
        province: facts.province.clone(),
        amount: facts.amount.normalize().to_string(),
        currency: facts.currency.clone(),
        status: EventStatus::Estimated.as_str().to_owned(),
        source: url.unwrap_or_else(|| resource("documents", document_id)),
        ..Default::default()
    }
}
