//! News documents, stored once (by URL or content), with their whole
//! extraction and the statistics and projects found in them, each with its
//! evidence; reported statistics listed across documents.

use chrono::{DateTime, NaiveDate, Utc};
use fdi_extract::{Extraction, Language};
use fdi_kit::{period::Span, telemetry::db_span};
use rust_decimal::Decimal;
use sqlx::PgConnection;
use tracing::Instrument;

use super::{Project, ProjectFacts, ProvinceFilter, Result, Store, projects};

/// A stored document, without its text.
#[derive(Debug, Clone)]
pub struct DocumentRecord {
    /// Its id.
    pub id: i64,
    /// Where it was published, when known.
    pub url: Option<String>,
    /// SHA-256 of its text, hex.
    pub content_sha256: String,
    /// Its title, or empty.
    pub title: String,
    /// When it was published.
    pub published: NaiveDate,
    /// Its language code.
    pub language: String,
    /// What the extraction library found in it (empty when the stored form no longer decodes).
    pub extraction: Extraction,
    /// When it was stored.
    pub create_time: DateTime<Utc>,
    /// The key id of the API key that stored it.
    pub creator: String,
}

/// A stored document with the statistics and projects found in it.
#[derive(Debug, Clone)]
pub struct Document {
    /// The document.
    pub record: DocumentRecord,
    /// Its statistics, by ordinal.
    pub statistics: Vec<Statistic>,
    /// Its projects, by ordinal.
    pub projects: Vec<Project>,
}

/// A document to store.
#[derive(Debug, Clone)]
pub struct NewDocument<'a> {
    /// Where it was published, when known.
    pub url: Option<&'a str>,
    /// SHA-256 of its text, hex.
    pub content_sha256: &'a str,
    /// Its title, or empty.
    pub title: &'a str,
    /// When it was published.
    pub published: NaiveDate,
    /// Its text.
    pub body: &'a str,
    /// What the extraction library found in it.
    pub extraction: &'a Extraction,
    /// Its statistics, with their ordinals.
    pub statistics: Vec<(i32, StatisticFacts)>,
    /// Its projects, with their ordinals.
    pub projects: Vec<(i32, ProjectFacts)>,
    /// The key id of the API key that stores it.
    pub creator: &'a str,
}

/// Where a document to store ended up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Saved {
    /// Stored now, under this id.
    New(i64),
    /// Stored before (the same URL or text), under this id.
    Existing(i64),
}

/// A figure a document reports for a province.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct StatisticFacts {
    /// The province code as named in the text.
    pub province: String,
    /// The province it belongs to today.
    pub current_province: String,
    /// What was reported (a figure's stored name, or `target_capital`).
    pub metric: String,
    /// The amount, for money metrics.
    pub amount: Option<Decimal>,
    /// Its ISO 4217 currency.
    pub currency: Option<String>,
    /// The count, for project metrics.
    pub count: Option<i64>,
    /// First day of the period; `None` for a running total.
    pub period_start: Option<NaiveDate>,
    /// Last day of the period.
    pub period_end: NaiveDate,
    /// `fdi`, `ddi` or `all`.
    pub scope: String,
    /// Where the figure starts in the text (bytes).
    pub span_start: i32,
    /// Where it ends.
    pub span_end: i32,
    /// The sentence that states it.
    pub sentence: String,
}

/// A stored statistic.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Statistic {
    /// The document it comes from.
    pub document_id: i64,
    /// Its place among the document's statistics.
    pub ordinal: i32,
    /// What it says.
    #[sqlx(flatten)]
    pub facts: StatisticFacts,
}

/// Which statistics to list; `None` matches all.
#[derive(Debug, Clone, Default)]
pub struct StatisticFilter {
    /// The province.
    pub province: ProvinceFilter,
    /// The metric.
    pub metric: Option<String>,
    /// Periods within this span.
    pub span: Option<Span>,
}

const STATISTIC_COLUMNS: &str = "document_id, ordinal, province, current_province, metric, amount, currency, count, \
    period_start, period_end, scope, span_start, span_end, sentence";

type DocumentColumns = (
    i64,
    Option<String>,
    String,
    String,
    NaiveDate,
    String,
    serde_json::Value,
    DateTime<Utc>,
    String,
);

impl Store {
    /// The id of the document stored with this text digest or URL.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn document_by_content(&self, content_sha256: &str, url: Option<&str>) -> Result<Option<i64>> {
        let found: Option<(i64,)> =
            sqlx::query_as("SELECT id FROM documents WHERE content_sha256 = $1 OR url = $2 LIMIT 1")
                .bind(content_sha256)
                .bind(url)
                .fetch_optional(&self.pool)
                .instrument(db_span("SELECT", "documents"))
                .await?;
        Ok(found.map(|(id,)| id))
    }

    /// The document `id` with its statistics and projects.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn document(&self, id: i64) -> Result<Option<Document>> {
        let columns: Option<DocumentColumns> = sqlx::query_as(
            "SELECT id, url, content_sha256, title, published, language, extraction, create_time, creator
             FROM documents WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .instrument(db_span("SELECT", "documents"))
        .await?;
        let Some((id, url, content_sha256, title, published, language, extraction, create_time, creator)) = columns
        else {
            return Ok(None);
        };
        let statistics = sqlx::query_as(&format!(
            "SELECT {STATISTIC_COLUMNS} FROM reported_statistics WHERE document_id = $1 ORDER BY ordinal"
        ))
        .bind(id)
        .fetch_all(&self.pool)
        .instrument(db_span("SELECT", "reported_statistics"))
        .await?;
        let projects = projects::of_document(&self.pool, id).await?;
        let record = DocumentRecord {
            id,
            url,
            content_sha256,
            title,
            published,
            language,
            extraction: serde_json::from_value(extraction).unwrap_or_else(|_| empty_extraction()),
            create_time,
            creator,
        };
        Ok(Some(Document {
            record,
            statistics,
            projects,
        }))
    }

    /// Stores a document with its statistics and projects in one
    /// transaction, unless the same URL or text is stored already.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn save_document(&self, document: &NewDocument<'_>) -> Result<Saved> {
        let mut tx = self.pool.begin().await?;
        let inserted: Option<(i64,)> = sqlx::query_as(
            "INSERT INTO documents (url, content_sha256, title, published, language, body, extraction, creator)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING RETURNING id",
        )
        .bind(document.url)
        .bind(document.content_sha256)
        .bind(document.title)
        .bind(document.published)
        .bind(document.extraction.language.as_str())
        .bind(document.body)
        .bind(serde_json::to_value(document.extraction).unwrap_or_default())
        .bind(document.creator)
        .fetch_optional(&mut *tx)
        .instrument(db_span("INSERT", "documents"))
        .await?;
        let Some((id,)) = inserted else {
            // Stored meanwhile by another call.
            drop(tx);
            let id = self
                .document_by_content(document.content_sha256, document.url)
                .await?
                .ok_or(sqlx::Error::RowNotFound)?;
            return Ok(Saved::Existing(id));
        };
        for (ordinal, statistic) in &document.statistics {
            insert_statistic(&mut tx, id, *ordinal, statistic).await?;
        }
        for (ordinal, project) in &document.projects {
            projects::insert(&mut tx, id, *ordinal, project).await?;
        }
        tx.commit().await?;
        Ok(Saved::New(id))
    }

    /// Up to `limit` statistics matching `filter` after (document, ordinal)
    /// `after`: the latest documents first, each document's by ordinal.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn statistics(&self, filter: &StatisticFilter, after: (i64, i32), limit: i64) -> Result<Vec<Statistic>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {STATISTIC_COLUMNS} FROM reported_statistics
             WHERE ($1::text IS NULL OR current_province = $1) AND ($2::text IS NULL OR province = $2)
               AND ($3::text IS NULL OR metric = $3)
               AND ($4::date IS NULL OR (period_end BETWEEN $4 AND $5 AND coalesce(period_start, $4) >= $4))
               AND (document_id < $6 OR (document_id = $6 AND ordinal > $7))
             ORDER BY document_id DESC, ordinal LIMIT $8"
        ))
        .bind(&filter.province.current)
        .bind(&filter.province.recorded)
        .bind(&filter.metric)
        .bind(filter.span.map(|s| s.start))
        .bind(filter.span.map(|s| s.end))
        .bind(after.0)
        .bind(after.1)
        .bind(limit)
        .fetch_all(&self.pool)
        .instrument(db_span("SELECT", "reported_statistics"))
        .await?)
    }

    /// When document `id` was published, and where.
    ///
    /// # Errors
    /// When the database fails (or there is no such document).
    pub async fn document_source(&self, id: i64) -> Result<(NaiveDate, Option<String>)> {
        Ok(sqlx::query_as("SELECT published, url FROM documents WHERE id = $1")
            .bind(id)
            .fetch_one(&self.pool)
            .instrument(db_span("SELECT", "documents"))
            .await?)
    }
}

/// What a stored extraction that no longer decodes reads as.
fn empty_extraction() -> Extraction {
    Extraction {
        language: Language::En,
        money: Vec::new(),
        counts: Vec::new(),
        statistics: Vec::new(),
        projects: Vec::new(),
    }
}

async fn insert_statistic(
    tx: &mut PgConnection,
    document_id: i64,
    ordinal: i32,
    statistic: &StatisticFacts,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO reported_statistics (document_id, ordinal, province, current_province, metric, amount, currency,
                                          count, period_start, period_end, scope, span_start, span_end, sentence)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(document_id)
    .bind(ordinal)
    .bind(&statistic.province)
    .bind(&statistic.current_province)
    .bind(&statistic.metric)
    .bind(statistic.amount)
    .bind(&statistic.currency)
    .bind(statistic.count)
    .bind(statistic.period_start)
    .bind(statistic.period_end)
    .bind(&statistic.scope)
    .bind(statistic.span_start)
    .bind(statistic.span_end)
    .bind(&statistic.sentence)
    .execute(&mut *tx)
    .instrument(db_span("INSERT", "reported_statistics"))
    .await?;
    Ok(())
}
