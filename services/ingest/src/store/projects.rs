//! Projects that documents name (an investor putting an amount somewhere),
//! with their evidence and, once promoted, the event they became.

use fdi_kit::telemetry::db_span;
use rust_decimal::Decimal;
use sqlx::{PgConnection, PgPool};
use tracing::Instrument;

use super::{Result, Store};

/// A project as a document states it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ProjectFacts {
    /// The investor as written.
    pub investor: String,
    /// The catalogue's investor of that name, when it knows one.
    pub investor_id: Option<i64>,
    /// The investor's home country, or empty.
    pub investor_country: String,
    /// The zone as written, or empty.
    pub zone: String,
    /// The catalogue's zone of that name, when it knows one.
    pub zone_id: Option<String>,
    /// The province code, or empty.
    pub province: String,
    /// The amount.
    pub amount: Decimal,
    /// Its ISO 4217 currency.
    pub currency: String,
    /// `new` or `expansion`.
    pub kind: String,
    /// Where the project starts in the text (bytes).
    pub span_start: i32,
    /// Where it ends.
    pub span_end: i32,
    /// The sentence that states it.
    pub sentence: String,
}

/// A stored project.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Project {
    /// The document it comes from.
    pub document_id: i64,
    /// Its place among the document's projects.
    pub ordinal: i32,
    /// What the document says.
    #[sqlx(flatten)]
    pub facts: ProjectFacts,
    /// The event it was promoted to.
    pub event_sequence: Option<i64>,
}

const PROJECT_COLUMNS: &str = "document_id, ordinal, investor, investor_id, investor_country, zone, zone_id, province, \
    amount, currency, kind, span_start, span_end, sentence, event_sequence";

impl Store {
    /// Project `ordinal` of document `document_id`.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn project(&self, document_id: i64, ordinal: i32) -> Result<Option<Project>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {PROJECT_COLUMNS} FROM reported_projects WHERE document_id = $1 AND ordinal = $2"
        ))
        .bind(document_id)
        .bind(ordinal)
        .fetch_optional(&self.pool)
        .instrument(db_span("SELECT", "reported_projects"))
        .await?)
    }

    /// Notes that project `ordinal` of document `document_id` is event `sequence`.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn link_project(&self, document_id: i64, ordinal: i32, sequence: i64) -> Result<()> {
        sqlx::query("UPDATE reported_projects SET event_sequence = $3 WHERE document_id = $1 AND ordinal = $2")
            .bind(document_id)
            .bind(ordinal)
            .bind(sequence)
            .execute(&self.pool)
            .instrument(db_span("UPDATE", "reported_projects"))
            .await?;
        Ok(())
    }
}

/// The projects of document `document_id`, by ordinal.
pub(super) async fn of_document(pool: &PgPool, document_id: i64) -> Result<Vec<Project>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {PROJECT_COLUMNS} FROM reported_projects WHERE document_id = $1 ORDER BY ordinal"
    ))
    .bind(document_id)
    .fetch_all(pool)
    .instrument(db_span("SELECT", "reported_projects"))
    .await?)
}

/// Stores project `ordinal` of the new document `document_id` (inside its transaction).
pub(super) async fn insert(
    tx: &mut PgConnection,
    document_id: i64,
    ordinal: i32,
    project: &ProjectFacts,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO reported_projects (document_id, ordinal, investor, investor_id, investor_country, zone, zone_id,
                                        province, amount, currency, kind, span_start, span_end, sentence)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(document_id)
    .bind(ordinal)
    .bind(&project.investor)
    .bind(project.investor_id)
    .bind(&project.investor_country)
    .bind(&project.zone)
    .bind(&project.zone_id)
    .bind(&project.province)
    .bind(project.amount)
    .bind(&project.currency)
    .bind(&project.kind)
    .bind(project.span_start)
    .bind(project.span_end)
    .bind(&project.sentence)
    .execute(&mut *tx)
    .instrument(db_span("INSERT", "reported_projects"))
    .await?;
    Ok(())
}
