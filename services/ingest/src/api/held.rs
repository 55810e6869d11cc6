//! Held rows: listed with their reasons, and re-processed once the missing
//! reference data exists.

use chrono::{DateTime, Utc};
use fdi_kit::{
    paging::{PageToken, fingerprint, page_size},
    status::invalid_argument,
    telemetry::db_span,
};
use fdi_proto::ingest::{self as pb, HoldReason};
use tracing::Instrument;

use crate::{
    error::Result,
    model::timestamp,
    pipeline::{Outcome, Pipeline},
    store::{reason_from_name, reason_name, row_from_json},
};

/// Rows re-processed per database round.
const REPROCESS_CHUNK: usize = 500;
/// Rows re-processed per call; call again for more.
const REPROCESS_MAX: usize = 50_000;

#[derive(sqlx::FromRow)]
struct HeldRecord {
    id: i64,
    row_data: serde_json::Value,
    reason: String,
    detail: String,
    load_id: String,
    load_offset: i64,
    attempts: i32,
    create_time: DateTime<Utc>,
    update_time: DateTime<Utc>,
}

const HELD_COLUMNS: &str = "id, row_data, reason, detail, load_id, load_offset, attempts, create_time, update_time";

impl HeldRecord {
    fn to_proto(&self) -> pb::HeldRow {
        pb::HeldRow {
            name: format!("heldRows/{}", self.id),
            row: Some(row_from_json(&self.row_data)),
            reason: reason_from_name(&self.reason).into(),
            detail: self.detail.clone(),
            load_id: self.load_id.clone(),
            offset: self.load_offset,
            attempts: self.attempts,
            create_time: Some(timestamp(self.create_time)),
            update_time: Some(timestamp(self.update_time)),
        }
    }
}

/// A held row by id.
pub(super) async fn fetch_held(pipeline: &Pipeline, id: i64) -> Result<Option<pb::HeldRow>> {
    let record: Option<HeldRecord> = sqlx::query_as(&format!("SELECT {HELD_COLUMNS} FROM held_rows WHERE id = $1"))
        .bind(id)
        .fetch_optional(&pipeline.pool)
        .instrument(db_span("SELECT", "held_rows"))
        .await?;
    Ok(record.map(|r| r.to_proto()))
}

fn reason_filter(reason: i32) -> Result<Option<&'static str>> {
    match HoldReason::try_from(reason) {
        Ok(HoldReason::Unspecified) => Ok(None),
        Ok(reason) => Ok(Some(reason_name(reason))),
        Err(_) => Err(invalid_argument("reason", format!("{reason} is not a hold reason")).into()),
    }
}

pub(super) async fn list(pipeline: &Pipeline, request: &pb::ListHeldRowsRequest) -> Result<pb::ListHeldRowsResponse> {
    let size = page_size(request.page_size, 100, 1000)?;
    let reason = reason_filter(request.reason)?;
    let query = fingerprint(&["held", reason.unwrap_or("")]);
    let after = match PageToken::decode(&request.page_token, query)? {
        Some(token) => token
            .after
            .parse::<i64>()
            .map_err(|_| invalid_argument("page_token", "is corrupt"))?,
        None => 0,
    };
    let mut rows: Vec<HeldRecord> = sqlx::query_as(&format!(
        "SELECT {HELD_COLUMNS} FROM held_rows WHERE id > $1 AND ($2::text IS NULL OR reason = $2) ORDER BY id LIMIT $3"
    ))
    .bind(after)
    .bind(reason)
    .bind(i64::try_from(size + 1).unwrap_or(i64::MAX))
    .fetch_all(&pipeline.pool)
    .instrument(db_span("SELECT", "held_rows"))
    .await?;
    let (total,): (i64,) = sqlx::query_as("SELECT count(*) FROM held_rows WHERE ($1::text IS NULL OR reason = $1)")
        .bind(reason)
        .fetch_one(&pipeline.pool)
        .instrument(db_span("SELECT", "held_rows"))
        .await?;
    let next_page_token = if rows.len() > size {
        rows.truncate(size);
        PageToken::encode(&rows[size - 1].id.to_string(), query)
    } else {
        String::new()
    };
    Ok(pb::ListHeldRowsResponse {
        held_rows: rows.iter().map(HeldRecord::to_proto).collect(),
        next_page_token,
        total_size: total,
    })
}

pub(super) async fn reprocess(
    pipeline: &Pipeline,
    request: &pb::ReprocessHeldRowsRequest,
) -> Result<pb::ReprocessHeldRowsResponse> {
    let reason = reason_filter(request.reason)?;
    let mut ids = Vec::with_capacity(request.names.len());
    for (i, name) in request.names.iter().enumerate() {
        let id = name
            .trim()
            .strip_prefix("heldRows/")
            .and_then(|id| id.parse::<i64>().ok());
        ids.push(id.ok_or_else(|| invalid_argument(format!("names[{i}]"), "must be `heldRows/{id}`"))?);
    }
    // Names the catalogue did not know may be known now.
    pipeline.references.forget_unknown();

    let mut response = pb::ReprocessHeldRowsResponse::default();
    let mut after = 0i64;
    let limit = i64::try_from(REPROCESS_CHUNK).unwrap_or(500);
    while (response.processed as usize) < REPROCESS_MAX {
        let chunk: Vec<(i64, serde_json::Value)> = sqlx::query_as(
            "SELECT id, row_data FROM held_rows
             WHERE id > $1 AND ($2::text IS NULL OR reason = $2) AND (cardinality($3::bigint[]) = 0 OR id = ANY($3))
             ORDER BY id LIMIT $4",
        )
        .bind(after)
        .bind(reason)
        .bind(&ids)
        .bind(limit)
        .fetch_all(&pipeline.pool)
        .instrument(db_span("SELECT", "held_rows"))
        .await?;
        let Some(&(last, _)) = chunk.last() else { break };
        after = last;
        let rows: Vec<pb::EventInput> = chunk.iter().map(|(_, data)| row_from_json(data)).collect();
        let outcomes = pipeline
            .process(&rows, &|i| format!("heldRows/{}.", chunk[i].0), None)
            .await?;
        // Rows that turned out recorded already, or conflicting, are no longer held.
        let mut settled = Vec::new();
        for ((id, _), outcome) in chunk.iter().zip(&outcomes) {
            response.processed += 1;
            match outcome {
                Outcome::Accepted { .. } => response.accepted += 1,
                Outcome::Duplicate { .. } => {
                    response.duplicates += 1;
                    settled.push(*id);
                }
                Outcome::Held { .. } => response.still_held += 1,
                Outcome::Conflict { .. } | Outcome::Rejected { .. } => {
                    response.rejected += 1;
                    tracing::warn!(held_row = id, ?outcome, "held row rejected on re-processing");
                    settled.push(*id);
                }
            }
        }
        if !settled.is_empty() {
            sqlx::query("DELETE FROM held_rows WHERE id = ANY($1)")
                .bind(&settled)
                .execute(&pipeline.pool)
                .instrument(db_span("DELETE", "held_rows"))
                .await?;
        }
    }
    Ok(response)
}
