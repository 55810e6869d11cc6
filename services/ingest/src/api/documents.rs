//! News documents: stored once, their figures extracted (with the same
//! library as `fdi extract`) and kept with their evidence; reported
//! statistics listed for reconciliation; named projects promoted to events.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use fdi_extract::{Extraction, Input, Language, MAX_DOCUMENT_BYTES, extract};
use fdi_kit::{
    money::to_money,
    paging::{PageToken, fingerprint, page_size},
    period::{self, date_from_proto, date_to_proto},
    status::{Violations, check_text, invalid_argument},
    telemetry::db_span,
};
use fdi_proto::{
    common::{DateRange, Scope},
    ingest::{self as pb, EventInput},
};
use rust_decimal::{Decimal, prelude::FromPrimitive};
use sha2::{Digest, Sha256};
use tracing::Instrument;

use super::{province_filter, submit::respond};
use crate::{
    error::{Error, Result},
    model::timestamp,
    pipeline::Pipeline,
    references::{PlaceKind, PlaceLookup, References},
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

fn evidence(start: i32, end: i32, sentence: &str) -> Option<pb::Evidence> {
    Some(pb::Evidence {
        span_start: start,
        span_end: end,
        sentence: sentence.to_owned(),
    })
}

#[derive(sqlx::FromRow)]
struct DocumentRow {
    id: i64,
    url: Option<String>,
    content_sha256: String,
    title: String,
    published: NaiveDate,
    language: String,
    extraction: serde_json::Value,
    create_time: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct StatisticRow {
    document_id: i64,
    ordinal: i32,
    province: String,
    current_province: String,
    metric: String,
    amount: Option<Decimal>,
    currency: Option<String>,
    count: Option<i64>,
    period_start: Option<NaiveDate>,
    period_end: NaiveDate,
    scope: String,
    span_start: i32,
    span_end: i32,
    sentence: String,
}

impl StatisticRow {
    fn to_proto(&self) -> pb::ReportedStatistic {
        pb::ReportedStatistic {
            name: format!("documents/{}/statistics/{}", self.document_id, self.ordinal),
            province: format!("provinces/{}", self.province),
            current_province: format!("provinces/{}", self.current_province),
            metric: self.metric.clone(),
            amount: self.amount.zip(self.currency.as_deref()).map(|(a, c)| to_money(a, c)),
            count: self.count.unwrap_or_default(),
            period: Some(DateRange {
                start: self.period_start.map(date_to_proto),
                end: Some(date_to_proto(self.period_end)),
            }),
            scope: match self.scope.as_str() {
                "fdi" => Scope::Fdi,
                "ddi" => Scope::Ddi,
                _ => Scope::All,
            }
            .into(),
            evidence: evidence(self.span_start, self.span_end, &self.sentence),
            document: format!("documents/{}", self.document_id),
        }
    }
}

const STATISTIC_COLUMNS: &str = "document_id, ordinal, province, current_province, metric, amount, currency, count, \
    period_start, period_end, scope, span_start, span_end, sentence";

#[derive(sqlx::FromRow)]
struct ProjectRow {
    document_id: i64,
    ordinal: i32,
    investor: String,
    investor_id: Option<i64>,
    investor_country: String,
    zone: String,
    zone_id: Option<String>,
    province: String,
    amount: Decimal,
    currency: String,
    kind: String,
    span_start: i32,
    span_end: i32,
    sentence: String,
    event_sequence: Option<i64>,
}

impl ProjectRow {
    fn to_proto(&self) -> pb::ReportedProject {
        pb::ReportedProject {
            name: format!("documents/{}/projects/{}", self.document_id, self.ordinal),
            investor: self.investor.clone(),
            investor_resource: self.investor_id.map(|id| format!("investors/{id}")).unwrap_or_default(),
            investor_country: self.investor_country.clone(),
            zone: self.zone.clone(),
            province: if self.province.is_empty() {
                String::new()
            } else {
                format!("provinces/{}", self.province)
            },
            amount: Some(to_money(self.amount, &self.currency)),
            kind: self.kind.clone(),
            evidence: evidence(self.span_start, self.span_end, &self.sentence),
            event: self.event_sequence.map(|s| format!("events/{s}")).unwrap_or_default(),
            zone_resource: self.zone_id.as_ref().map(|z| format!("zones/{z}")).unwrap_or_default(),
        }
    }
}

const PROJECT_COLUMNS: &str = "document_id, ordinal, investor, investor_id, investor_country, zone, zone_id, province, amount, \
    currency, kind, span_start, span_end, sentence, event_sequence";

/// The stored document with its figures.
async fn load(pipeline: &Pipeline, id: i64, already_stored: bool) -> Result<pb::Document> {
    let document: DocumentRow = sqlx::query_as(
        "SELECT id, url, content_sha256, title, published, language, extraction, create_time FROM documents WHERE id = $1",
    )
    .bind(id)
    .fetch_one(&pipeline.pool)
    .instrument(db_span("SELECT", "documents"))
    .await?;
    let statistics: Vec<StatisticRow> = sqlx::query_as(&format!(
        "SELECT {STATISTIC_COLUMNS} FROM reported_statistics WHERE document_id = $1 ORDER BY ordinal"
    ))
    .bind(id)
    .fetch_all(&pipeline.pool)
    .instrument(db_span("SELECT", "reported_statistics"))
    .await?;
    let projects: Vec<ProjectRow> = sqlx::query_as(&format!(
        "SELECT {PROJECT_COLUMNS} FROM reported_projects WHERE document_id = $1 ORDER BY ordinal"
    ))
    .bind(id)
    .fetch_all(&pipeline.pool)
    .instrument(db_span("SELECT", "reported_projects"))
    .await?;
    let extraction: Extraction = serde_json::from_value(document.extraction).unwrap_or(Extraction {
        language: Language::En,
        money: Vec::new(),
        counts: Vec::new(),
        statistics: Vec::new(),
        projects: Vec::new(),
    });
    Ok(pb::Document {
        name: format!("documents/{}", document.id),
        url: document.url.unwrap_or_default(),
        title: document.title,
        published: Some(date_to_proto(document.published)),
        language: document.language,
        content_sha256: document.content_sha256,
        already_stored,
        money: extraction
            .money
            .iter()
            .map(|m| {
                let (start, end) = span_of(m.span);
                pb::ReportedMoney {
                    amount: Some(to_money(decimal(m.value), &m.currency)),
                    evidence: evidence(start, end, &m.sentence),
                }
            })
            .collect(),
        counts: extraction
            .counts
            .iter()
            .map(|c| {
                let (start, end) = span_of(c.span);
                pb::ReportedCount {
                    count: i64::try_from(c.value).unwrap_or(i64::MAX),
                    kind: text_of(&c.kind),
                    evidence: evidence(start, end, &c.sentence),
                }
            })
            .collect(),
        statistics: statistics.iter().map(StatisticRow::to_proto).collect(),
        projects: projects.iter().map(ProjectRow::to_proto).collect(),
        create_time: Some(timestamp(document.create_time)),
    })
}

fn parse_id(name: &str, field: &str) -> Result<i64> {
    name.trim()
        .strip_prefix("documents/")
        .and_then(|rest| rest.split('/').next())
        .and_then(|id| id.parse::<i64>().ok())
        .ok_or_else(|| invalid_argument(field, "must be `documents/{id}`").into())
}

pub(super) async fn get(pipeline: &Pipeline, request: &pb::GetDocumentRequest) -> Result<pb::Document> {
    let id = parse_id(&request.name, "name")?;
    let exists: Option<(i64,)> = sqlx::query_as("SELECT id FROM documents WHERE id = $1")
        .bind(id)
        .fetch_optional(&pipeline.pool)
        .instrument(db_span("SELECT", "documents"))
        .await?;
    if exists.is_none() {
        return Err(fdi_kit::status::not_found("document", request.name.trim(), &[]).into());
    }
    load(pipeline, id, false).await
}

pub(super) async fn ingest(pipeline: &Pipeline, request: pb::IngestDocumentRequest) -> Result<pb::Document> {
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
    check_text(&mut violations, "url", &request.url, 2000, false);
    check_text(&mut violations, "title", &request.title, 500, false);
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
    let published = published.unwrap_or_default();
    let url = Some(request.url.trim().to_owned()).filter(|u| !u.is_empty());
    let sha = format!("{:x}", Sha256::digest(request.text.as_bytes()));

    let existing: Option<(i64,)> =
        sqlx::query_as("SELECT id FROM documents WHERE content_sha256 = $1 OR url = $2 LIMIT 1")
            .bind(&sha)
            .bind(&url)
            .fetch_optional(&pipeline.pool)
            .instrument(db_span("SELECT", "documents"))
            .await?;
    if let Some((id,)) = existing {
        return load(pipeline, id, true).await;
    }

    let text = request.text.clone();
    let extraction = tokio::task::spawn_blocking(move || {
        extract(&Input {
            text: &text,
            published,
            language,
        })
    })
    .await
    .map_err(|_| Error::Rejected(fdi_kit::status::internal()))?;

    // Provinces to today's boundaries, investors to the catalogue (linked, never created from news).
    let codes: Vec<&str> = extraction
        .statistics
        .iter()
        .map(|s| s.province.as_str())
        .chain(extraction.projects.iter().filter_map(|p| p.province.as_deref()))
        .collect();
    let zones = extraction
        .projects
        .iter()
        .filter_map(|p| p.zone.as_deref())
        .map(|z| (PlaceKind::Zone, z));
    let places = pipeline
        .references
        .places(codes.into_iter().map(|c| (PlaceKind::Province, c)).chain(zones))
        .await?;
    let zone_id = |text: &str| match References::lookup(&places, PlaceKind::Zone, text) {
        Some(PlaceLookup::Found(place)) => Some(place.id.clone()),
        _ => None,
    };
    let current = |code: &str| match References::lookup(&places, PlaceKind::Province, code) {
        Some(PlaceLookup::Found(place)) => place.current_province.clone(),
        _ => code.to_owned(),
    };
    let mut investor_ids = HashMap::new();
    for project in &extraction.projects {
        if let Some(investor) = &project.investor
            && !investor_ids.contains_key(investor)
        {
            investor_ids.insert(investor.clone(), pipeline.references.known_investor(investor).await?);
        }
    }

    let mut tx = pipeline.pool.begin().await?;
    let inserted: Option<(i64,)> = sqlx::query_as(
        "INSERT INTO documents (url, content_sha256, title, published, language, body, extraction)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING id",
    )
    .bind(&url)
    .bind(&sha)
    .bind(request.title.trim())
    .bind(published)
    .bind(extraction.language.as_str())
    .bind(&request.text)
    .bind(serde_json::to_value(&extraction).unwrap_or_default())
    .fetch_optional(&mut *tx)
    .instrument(db_span("INSERT", "documents"))
    .await?;
    let Some((id,)) = inserted else {
        // Stored meanwhile by another call.
        drop(tx);
        let (id,): (i64,) = sqlx::query_as("SELECT id FROM documents WHERE content_sha256 = $1 OR url = $2 LIMIT 1")
            .bind(&sha)
            .bind(&url)
            .fetch_one(&pipeline.pool)
            .instrument(db_span("SELECT", "documents"))
            .await?;
        return load(pipeline, id, true).await;
    };
    for (ordinal, statistic) in extraction.statistics.iter().enumerate() {
        let money = statistic.currency.is_some();
        let (start, end) = span_of(statistic.span);
        sqlx::query(
            "INSERT INTO reported_statistics (document_id, ordinal, province, current_province, metric, amount, currency,
                                              count, period_start, period_end, scope, span_start, span_end, sentence)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        )
        .bind(id)
        .bind(i32::try_from(ordinal).unwrap_or(i32::MAX))
        .bind(&statistic.province)
        .bind(current(&statistic.province))
        .bind(text_of(&statistic.metric))
        .bind(money.then(|| decimal(statistic.value)))
        .bind(&statistic.currency)
        .bind((!money).then(|| decimal(statistic.value).round().try_into().unwrap_or(0i64)))
        .bind(statistic.period_start.as_deref().and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()))
        .bind(statistic.period_end.as_deref().and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()).unwrap_or(published))
        .bind(text_of(&statistic.scope))
        .bind(start)
        .bind(end)
        .bind(&statistic.sentence)
        .execute(&mut *tx)
        .instrument(db_span("INSERT", "reported_statistics"))
        .await?;
    }
    for (ordinal, project) in extraction.projects.iter().enumerate() {
        let Some(investor) = &project.investor else { continue };
        let (start, end) = span_of(project.span);
        sqlx::query(
            "INSERT INTO reported_projects (document_id, ordinal, investor, investor_id, investor_country, zone, zone_id,
                                            province, amount, currency, kind, span_start, span_end, sentence)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        )
        .bind(id)
        .bind(i32::try_from(ordinal).unwrap_or(i32::MAX))
        .bind(investor)
        .bind(investor_ids.get(investor).copied().flatten())
        .bind(project.investor_country.as_deref().unwrap_or_default())
        .bind(project.zone.as_deref().unwrap_or_default())
        .bind(project.zone.as_deref().and_then(zone_id))
        .bind(project.province.as_deref().unwrap_or_default())
        .bind(decimal(project.value))
        .bind(&project.currency)
        .bind(text_of(&project.kind))
        .bind(start)
        .bind(end)
        .bind(&project.sentence)
        .execute(&mut *tx)
        .instrument(db_span("INSERT", "reported_projects"))
        .await?;
    }
    tx.commit().await?;
    load(pipeline, id, false).await
}

pub(super) async fn list_statistics(
    pipeline: &Pipeline,
    request: &pb::ListReportedStatisticsRequest,
) -> Result<pb::ListReportedStatisticsResponse> {
    let size = page_size(request.page_size, 100, 1000)?;
    let (current, recorded) = if request.province.trim().is_empty() {
        (None, None)
    } else {
        match province_filter(pipeline, &request.province, "province").await? {
            (code, true) => (Some(code), None),
            (code, false) => (None, Some(code)),
        }
    };
    let metric = Some(request.metric.trim().to_owned()).filter(|m| !m.is_empty());
    let span = match &request.period {
        Some(p) if p.kind.is_some() => Some(period::resolve(Some(p), "period")?),
        _ => None,
    };
    let query = fingerprint(&[
        "statistics",
        current.as_deref().unwrap_or(""),
        recorded.as_deref().unwrap_or(""),
        metric.as_deref().unwrap_or(""),
        &span.map(|s| format!("{}..{}", s.start, s.end)).unwrap_or_default(),
    ]);
    let (after_document, after_ordinal) = match PageToken::decode(&request.page_token, query)? {
        Some(token) => {
            let (d, o) = token.after.split_once(':').unwrap_or(("", ""));
            (
                d.parse::<i64>().unwrap_or(i64::MAX),
                o.parse::<i32>().unwrap_or(i32::MAX),
            )
        }
        None => (i64::MAX, -1),
    };
    let mut rows: Vec<StatisticRow> = sqlx::query_as(&format!(
        "SELECT {STATISTIC_COLUMNS} FROM reported_statistics
         WHERE ($1::text IS NULL OR current_province = $1) AND ($2::text IS NULL OR province = $2)
           AND ($3::text IS NULL OR metric = $3)
           AND ($4::date IS NULL OR (period_end BETWEEN $4 AND $5 AND coalesce(period_start, $4) >= $4))
           AND (document_id < $6 OR (document_id = $6 AND ordinal > $7))
         ORDER BY document_id DESC, ordinal LIMIT $8"
    ))
    .bind(&current)
    .bind(&recorded)
    .bind(&metric)
    .bind(span.map(|s| s.start))
    .bind(span.map(|s| s.end))
    .bind(after_document)
    .bind(after_ordinal)
    .bind(i64::try_from(size + 1).unwrap_or(i64::MAX))
    .fetch_all(&pipeline.pool)
    .instrument(db_span("SELECT", "reported_statistics"))
    .await?;
    let next_page_token = if rows.len() > size {
        rows.truncate(size);
        let last = &rows[size - 1];
        PageToken::encode(&format!("{}:{}", last.document_id, last.ordinal), query)
    } else {
        String::new()
    };
    Ok(pb::ListReportedStatisticsResponse {
        statistics: rows.iter().map(StatisticRow::to_proto).collect(),
        next_page_token,
    })
}

pub(super) async fn promote(
    pipeline: &Pipeline,
    request: &pb::PromoteProjectRequest,
) -> Result<pb::SubmitEventResponse> {
    let name = request.name.trim();
    let parsed = name
        .strip_prefix("documents/")
        .and_then(|rest| rest.split_once("/projects/"))
        .and_then(|(d, o)| Some((d.parse::<i64>().ok()?, o.parse::<i32>().ok()?)));
    let Some((document_id, ordinal)) = parsed else {
        return Err(invalid_argument("name", "must be `documents/{id}/projects/{n}`").into());
    };
    let project: Option<ProjectRow> = sqlx::query_as(&format!(
        "SELECT {PROJECT_COLUMNS} FROM reported_projects WHERE document_id = $1 AND ordinal = $2"
    ))
    .bind(document_id)
    .bind(ordinal)
    .fetch_optional(&pipeline.pool)
    .instrument(db_span("SELECT", "reported_projects"))
    .await?;
    let Some(project) = project else {
        return Err(fdi_kit::status::not_found("project", name, &[]).into());
    };
    if project.province.is_empty() && project.zone.is_empty() {
        return Err(invalid_argument(
            "name",
            "the document names no province or zone for this project; submit it with SubmitEvent",
        )
        .into());
    }
    let (published, url): (NaiveDate, Option<String>) =
        sqlx::query_as("SELECT published, url FROM documents WHERE id = $1")
            .bind(document_id)
            .fetch_one(&pipeline.pool)
            .instrument(db_span("SELECT", "documents"))
            .await?;
    let event = EventInput {
        idempotency_key: format!("doc-{document_id}-project-{ordinal}"),
        kind: if project.kind == "expansion" {
            "adjustment"
        } else {
            "new"
        }
        .to_owned(),
        event_date: published.format("%Y-%m-%d").to_string(),
        project_ref: Some(request.project_ref.trim().to_owned())
            .filter(|r| !r.is_empty())
            .unwrap_or_else(|| format!("doc-{document_id}-{ordinal}")),
        investor: project.investor.clone(),
        investor_country: project.investor_country.clone(),
        zone: project.zone.clone(),
        province: project.province.clone(),
        amount: project.amount.normalize().to_string(),
        currency: project.currency.clone(),
        status: "estimated".into(),
        source: url.unwrap_or_else(|| format!("documents/{document_id}")),
        ..Default::default()
    };
    let outcomes = pipeline
        .process(std::slice::from_ref(&event), &|_| "project.".to_owned(), None)
        .await?;
    let outcome = outcomes
        .into_iter()
        .next()
        .ok_or_else(|| Error::Rejected(fdi_kit::status::internal()))?;
    if let crate::pipeline::Outcome::Accepted { sequence } | crate::pipeline::Outcome::Duplicate { sequence } = outcome
    {
        sqlx::query("UPDATE reported_projects SET event_sequence = $3 WHERE document_id = $1 AND ordinal = $2")
            .bind(document_id)
            .bind(ordinal)
            .bind(sequence)
            .execute(&pipeline.pool)
            .instrument(db_span("UPDATE", "reported_projects"))
            .await?;
    }
    respond(pipeline, &event, outcome).await
}
