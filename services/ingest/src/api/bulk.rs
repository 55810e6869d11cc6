//! BulkLoad: batches in, one acknowledgement per batch once it is durable,
//! with the offset reached so a client that lost its connection resumes
//! exactly there; GetBulkLoad tells where a load stands.

use fdi_kit::telemetry::db_span;
use std::{pin::Pin, sync::Arc};

use fdi_kit::status::invalid_argument;
use fdi_proto::{common::FieldViolation, ingest as pb};
use tokio::sync::mpsc;
use tokio_stream::{Stream, wrappers::ReceiverStream};
use tonic::{Status, Streaming};
use tracing::{Instrument, Span};

use super::Limits;
use crate::{
    error::{Error, Result},
    model::timestamp,
    pipeline::{LoadPosition, Outcome, Pipeline, Prepared, tally},
};

const MAX_LOAD_ID_CHARS: usize = 128;

type Acks = Pin<Box<dyn Stream<Item = Result<pb::BulkLoadResponse, Status>> + Send>>;

/// Starts serving one bulk-load stream.
pub(super) fn start(pipeline: Arc<Pipeline>, limits: Limits, inbound: Streaming<pb::BulkLoadRequest>) -> Acks {
    let (sender, receiver) = mpsc::channel(4);
    // The stages run in tasks of their own, inside the call's span (one trace per stream).
    let call_span = Span::current();
    tokio::spawn(
        async move {
            // Two stages overlap: while batch N is written, batch N+1 is checked and resolved.
            let (to_writer, jobs) = mpsc::channel::<WriteJob>(1);
            let writer =
                tokio::spawn(write_stage(Arc::clone(&pipeline), jobs, sender.clone()).instrument(Span::current()));
            let read_result = read_stage(&pipeline, &limits, inbound, &to_writer).await;
            drop(to_writer);
            let write_result = writer.await.unwrap_or_else(|e| {
                tracing::error!(error = %e, "bulk-load writer stopped");
                Err(Error::Rejected(fdi_kit::status::internal()))
            });
            // The writer's failure comes first: it stopped the load at its batch.
            if let Err(error) = write_result.and(read_result) {
                let _ = sender.send(Err(Status::from(error))).await;
            }
        }
        .instrument(call_span),
    );
    Box::pin(ReceiverStream::new(receiver))
}

/// A batch on its way from the reading stage to the writing stage.
struct WriteJob {
    /// The prepared rows; `None` when every row of the batch was decided by an earlier call.
    prepared: Option<Prepared>,
    /// The acknowledgement, completed by the writer.
    ack: pb::BulkLoadResponse,
    /// Offset of the batch's first prepared row.
    first_offset: i64,
}

/// Records prepared batches in order and acknowledges each once it is durable.
async fn write_stage(
    pipeline: Arc<Pipeline>,
    mut jobs: mpsc::Receiver<WriteJob>,
    acks: mpsc::Sender<Result<pb::BulkLoadResponse, Status>>,
) -> Result<()> {
    while let Some(WriteJob {
        prepared,
        mut ack,
        first_offset,
    }) = jobs.recv().await
    {
        if let Some(prepared) = prepared {
            let outcomes = pipeline.commit(prepared).await?;
            let (accepted, duplicates, held, rejected) = tally(&outcomes);
            ack.accepted = accepted;
            ack.duplicates += duplicates;
            ack.held = held;
            ack.rejected = rejected;
            ack.issues = issues(first_offset, &outcomes);
        }
        if acks.send(Ok(ack)).await.is_err() {
            break;
        }
    }
    Ok(())
}

fn check_load_id(load_id: &str) -> Result<()> {
    let valid = !load_id.is_empty()
        && load_id.chars().count() <= MAX_LOAD_ID_CHARS
        && load_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'));
    if valid {
        Ok(())
    } else {
        Err(invalid_argument(
            "load_id",
            format!(
                "is required: 1-{MAX_LOAD_ID_CHARS} letters, digits, `-`, `_`, `.` or `:`, the same on every message"
            ),
        )
        .into())
    }
}

/// The load's offset, creating the load on first sight.
async fn open_load(pipeline: &Pipeline, load_id: &str) -> Result<i64> {
    sqlx::query("INSERT INTO bulk_loads (load_id) VALUES ($1) ON CONFLICT DO NOTHING")
        .bind(load_id)
        .execute(&pipeline.pool)
        .instrument(db_span("INSERT", "bulk_loads"))
        .await?;
    let (offset,): (i64,) = sqlx::query_as("SELECT offset_reached FROM bulk_loads WHERE load_id = $1")
        .bind(load_id)
        .fetch_one(&pipeline.pool)
        .instrument(db_span("SELECT", "bulk_loads"))
        .await?;
    Ok(offset)
}

/// Reads batches, checks them against the load's offset and prepares them for the writer.
async fn read_stage(
    pipeline: &Pipeline,
    limits: &Limits,
    mut inbound: Streaming<pb::BulkLoadRequest>,
    writer: &mpsc::Sender<WriteJob>,
) -> Result<()> {
    // The load this stream feeds (set by its first message) and the offset it has reached.
    let mut load_id = String::new();
    let mut offset: i64 = 0;
    let mut rows_in_call: u64 = 0;
    loop {
        let message = match tokio::time::timeout(limits.stream_idle_timeout, inbound.message()).await {
            Err(_) => {
                return Err(Error::Rejected(Status::deadline_exceeded(format!(
                    "no batch for {:?}; the stream is closed (resume with GetBulkLoad)",
                    limits.stream_idle_timeout
                ))));
            }
            Ok(Err(status)) => {
                tracing::debug!(%status, "bulk load stream broke");
                return Ok(());
            }
            Ok(Ok(None)) => {
                tracing::info!(load_id = %load_id, offset, rows = rows_in_call, "bulk-load stream finished by the client");
                return Ok(());
            }
            Ok(Ok(Some(message))) => message,
        };
        if message.rows.len() > limits.max_batch_rows {
            return Err(invalid_argument(
                "rows",
                format!(
                    "has {} rows; at most {} per message",
                    message.rows.len(),
                    limits.max_batch_rows
                ),
            )
            .into());
        }
        rows_in_call += message.rows.len() as u64;
        if rows_in_call > limits.max_stream_rows {
            return Err(Error::Rejected(Status::resource_exhausted(format!(
                "at most {} rows per call; open a new BulkLoad call and resume from the acknowledged offset",
                limits.max_stream_rows
            ))));
        }
        if load_id.is_empty() {
            check_load_id(&message.load_id)?;
            offset = open_load(pipeline, &message.load_id).await?;
            load_id.clone_from(&message.load_id);
        } else if !message.load_id.is_empty() && message.load_id != load_id {
            return Err(invalid_argument("load_id", "must stay the same for the whole stream").into());
        }
        if message.start_offset < 0 {
            return Err(invalid_argument("start_offset", "must not be negative").into());
        }
        if message.start_offset > offset {
            return Err(Error::Rejected(Status::failed_precondition(format!(
                "start_offset {} leaves a gap: load `{load_id}` has reached offset {}; resume from there",
                message.start_offset, offset
            ))));
        }
        // Rows before the load's offset were decided by an earlier call: skip them.
        let already = usize::try_from(offset - message.start_offset)
            .unwrap_or(usize::MAX)
            .min(message.rows.len());
        let rows = &message.rows[already..];
        let mut ack = pb::BulkLoadResponse {
            load_id: load_id.clone(),
            duplicates: i32::try_from(already).unwrap_or(i32::MAX),
            ..Default::default()
        };
        let first_offset = offset;
        let prepared = if rows.is_empty() {
            None
        } else {
            let position = LoadPosition {
                load_id: load_id.clone(),
                first_offset,
                expected_offset: first_offset,
            };
            let prefix = |i: usize| format!("rows[{}].", first_offset + i64::try_from(i).unwrap_or_default());
            let prepared = pipeline.prepare(rows, &prefix, Some(&position)).await?;
            offset += i64::try_from(rows.len()).unwrap_or_default();
            Some(prepared)
        };
        ack.offset_reached = offset;
        if writer
            .send(WriteJob {
                prepared,
                ack,
                first_offset,
            })
            .await
            .is_err()
        {
            // The writer stopped (its error is reported); stop reading.
            return Ok(());
        }
    }
}

fn issues(first_offset: i64, outcomes: &[Outcome]) -> Vec<pb::RowIssue> {
    outcomes
        .iter()
        .enumerate()
        .filter_map(|(i, outcome)| {
            let offset = first_offset + i as i64;
            let issue = |outcome: pb::Outcome, reason: String, violations: Vec<FieldViolation>| pb::RowIssue {
                offset,
                outcome: outcome.into(),
                reason,
                field_violations: violations,
            };
            match outcome {
                Outcome::Accepted { .. } | Outcome::Duplicate { .. } => None,
                Outcome::Held { detail, .. } => Some(issue(pb::Outcome::Held, detail.clone(), Vec::new())),
                Outcome::Conflict { sequence } => Some(issue(
                    pb::Outcome::Conflict,
                    format!("idempotency key already used for events/{sequence} with different content"),
                    Vec::new(),
                )),
                Outcome::Rejected { violations } => Some(issue(
                    pb::Outcome::Rejected,
                    violations
                        .iter()
                        .map(|(f, d)| format!("{f}: {d}"))
                        .collect::<Vec<_>>()
                        .join("; "),
                    violations
                        .iter()
                        .map(|(f, d)| FieldViolation {
                            field: f.clone(),
                            description: d.clone(),
                        })
                        .collect(),
                )),
            }
        })
        .collect()
}

/// A row of `bulk_loads`.
#[derive(sqlx::FromRow)]
struct LoadRecord {
    offset_reached: i64,
    accepted: i64,
    duplicates: i64,
    held: i64,
    rejected: i64,
    create_time: chrono::DateTime<chrono::Utc>,
    update_time: chrono::DateTime<chrono::Utc>,
}

pub(super) async fn get(pipeline: &Pipeline, request: &pb::GetBulkLoadRequest) -> Result<pb::BulkLoad> {
    let load_id = request
        .name
        .trim()
        .strip_prefix("bulkLoads/")
        .unwrap_or(request.name.trim());
    check_load_id(load_id).map_err(|_| Error::Rejected(invalid_argument("name", "must be `bulkLoads/{load_id}`")))?;
    let row: Option<LoadRecord> = sqlx::query_as(
        "SELECT offset_reached, accepted, duplicates, held, rejected, create_time, update_time
         FROM bulk_loads WHERE load_id = $1",
    )
    .bind(load_id)
    .fetch_optional(&pipeline.pool)
    .instrument(db_span("SELECT", "bulk_loads"))
    .await?;
    let Some(load) = row else {
        return Err(fdi_kit::status::not_found("bulk load", &format!("bulkLoads/{load_id}"), &[]).into());
    };
    Ok(pb::BulkLoad {
        name: format!("bulkLoads/{load_id}"),
        offset_reached: load.offset_reached,
        accepted: load.accepted,
        duplicates: load.duplicates,
        held: load.held,
        rejected: load.rejected,
        create_time: Some(timestamp(load.create_time)),
        update_time: Some(timestamp(load.update_time)),
    })
}
