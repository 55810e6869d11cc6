//! LoadEvents: batches in, one acknowledgement per batch once it is durable,
//! with the offset reached so a client that lost its connection resumes
//! exactly there; GetBulkLoad tells where a load stands.

use std::{collections::HashMap, sync::Arc};

use fdi_kit::{
    access::Caller,
    load_digest::{ContentChain, LOAD_CONTENT_MISMATCH},
    status::{invalid_argument, not_found, with_reason},
};
use fdi_proto::{common::FieldViolation, ingest as pb};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Code, Status, Streaming};
use tracing::{Instrument, Span};

use super::{Limits, LoadEventsStream, resource, timestamp};
use crate::{
    error::{Error, Result},
    model::{Outcome, Tally},
    pipeline::{LoadPosition, Pipeline, Prepared, Sender},
    store::BulkLoad,
};

const MAX_LOAD_ID_CHARS: usize = 128;

/// Starts serving one bulk-load stream from `caller`.
pub(super) fn start(
    pipeline: Arc<Pipeline>,
    limits: Limits,
    caller: Caller,
    inbound: Streaming<pb::LoadEventsRequest>,
) -> LoadEventsStream {
    let (sender, receiver) = mpsc::channel(4);
    // The stages run in tasks of their own, inside the call's span (one trace per stream).
    let call_span = Span::current();
    tokio::spawn(
        async move {
            // Two stages overlap: while batch N is written, batch N+1 is checked and resolved.
            let (to_writer, jobs) = mpsc::channel::<WriteJob>(1);
            let writer =
                tokio::spawn(write_stage(Arc::clone(&pipeline), jobs, sender.clone()).instrument(Span::current()));
            let read_result = read_stage(&pipeline, &limits, &caller, inbound, &to_writer).await;
            drop(to_writer);
            let write_result = writer.await.unwrap_or_else(|e| {
                tracing::error!(error = %e, "bulk-load writer stopped");
                Err(Error::Internal("the bulk-load writer stopped"))
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
    ack: pb::LoadEventsResponse,
    /// Offset of the batch's first prepared row.
    first_offset: i64,
}

/// Records prepared batches in order and acknowledges each once it is durable.
async fn write_stage(
    pipeline: Arc<Pipeline>,
    mut jobs: mpsc::Receiver<WriteJob>,
    acks: mpsc::Sender<Result<pb::LoadEventsResponse, Status>>,
) -> Result<()> {
    while let Some(WriteJob {
        prepared,
        mut ack,
        first_offset,
    }) = jobs.recv().await
    {
        if let Some(prepared) = prepared {
            let outcomes = pipeline.commit(prepared).await?;
            let tally = Tally::of(&outcomes);
            let count = |n: i64| i32::try_from(n).unwrap_or(i32::MAX);
            ack.accepted = count(tally.accepted);
            ack.duplicates += count(tally.duplicates);
            ack.held = count(tally.held);
            ack.rejected = count(tally.rejected);
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

/// One stream's place in its load.
#[derive(Debug, Default)]
struct StreamPosition {
    /// The load this stream feeds (set by its first message).
    load_id: String,
    /// The offset the load has reached with this stream's batches.
    offset: i64,
    /// Rows received on this call.
    rows_in_call: u64,
    /// The load's content digest over the rows before `offset`.
    chain: ContentChain,
    /// Until this stream's rows reach the offset the load had when the
    /// stream opened it: what they must match.
    pending: Option<PendingMatch>,
}

/// A resuming stream that has not yet shown it carries the load's rows.
#[derive(Debug)]
struct PendingMatch {
    /// The load's stored digest at its offset.
    stored: ContentChain,
    /// The digest of the stream's rows (from its expected digest) up to `at`.
    claimed: ContentChain,
    /// The offset the stream's rows have reached.
    at: i64,
}

/// FAILED_PRECONDITION (ErrorInfo `LOAD_CONTENT_MISMATCH`): the stream is not the load it names.
fn content_mismatch(load_id: &str, detail: &str) -> Error {
    Error::Rejected(with_reason(
        Code::FailedPrecondition,
        format!(
            "load `{load_id}` {detail}; nothing was recorded. Resume with the load's own rows and \
             expected_content_digest (the digest over rows before start_offset), or use a new load_id"
        ),
        LOAD_CONTENT_MISMATCH,
        HashMap::from([("load_id".to_owned(), load_id.to_owned())]),
    ))
}

/// Reads batches, checks them against the load's offset and prepares them for the writer.
async fn read_stage(
    pipeline: &Pipeline,
    limits: &Limits,
    caller: &Caller,
    mut inbound: Streaming<pb::LoadEventsRequest>,
    writer: &mpsc::Sender<WriteJob>,
) -> Result<()> {
    let mut position = StreamPosition::default();
    while let Some(message) = next_message(&mut inbound, limits, &position).await? {
        position.admit(pipeline, limits, &message).await?;
        let job = position.prepare(pipeline, &message, caller).await?;
        if writer.send(job).await.is_err() {
            // The writer stopped (its error is reported); stop reading.
            return Ok(());
        }
    }
    Ok(())
}

/// The next batch; `None` when the client finished the stream or it broke.
async fn next_message(
    inbound: &mut Streaming<pb::LoadEventsRequest>,
    limits: &Limits,
    position: &StreamPosition,
) -> Result<Option<pb::LoadEventsRequest>> {
    match tokio::time::timeout(limits.stream_idle_timeout, inbound.message()).await {
        Err(_) => Err(Error::Rejected(Status::deadline_exceeded(format!(
            "no batch for {:?}; the stream is closed (resume with GetBulkLoad)",
            limits.stream_idle_timeout
        )))),
        Ok(Err(status)) => {
            tracing::debug!(%status, "bulk load stream broke");
            Ok(None)
        }
        Ok(Ok(None)) => {
            tracing::info!(
                load_id = %position.load_id,
                offset = position.offset,
                rows = position.rows_in_call,
                "bulk-load stream finished by the client"
            );
            Ok(None)
        }
        Ok(Ok(Some(message))) => Ok(Some(message)),
    }
}

impl StreamPosition {
    /// Checks a batch against the limits and the load (opening it on the
    /// stream's first batch).
    async fn admit(&mut self, pipeline: &Pipeline, limits: &Limits, message: &pb::LoadEventsRequest) -> Result<()> {
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
        self.rows_in_call += message.rows.len() as u64;
        if self.rows_in_call > limits.max_stream_rows {
            return Err(Error::Rejected(Status::resource_exhausted(format!(
                "at most {} rows per call; open a new LoadEvents call and resume from the acknowledged offset",
                limits.max_stream_rows
            ))));
        }
        let opening = self.load_id.is_empty();
        let mut stored = ContentChain::new();
        if opening {
            check_load_id(&message.load_id)?;
            let (offset, digest) = pipeline.store.open_load(&message.load_id).await?;
            self.offset = offset;
            self.load_id.clone_from(&message.load_id);
            stored = ContentChain::from_bytes(&digest)
                .ok_or_else(|| content_mismatch(&self.load_id, "has no valid content digest"))?;
        } else if !message.load_id.is_empty() && message.load_id != self.load_id {
            return Err(invalid_argument("load_id", "must stay the same for the whole stream").into());
        }
        if message.start_offset < 0 {
            return Err(invalid_argument("start_offset", "must not be negative").into());
        }
        if message.start_offset > self.offset {
            return Err(Error::Rejected(Status::failed_precondition(format!(
                "start_offset {} leaves a gap: load `{}` has reached offset {}; resume from there",
                message.start_offset, self.load_id, self.offset
            ))));
        }
        if opening {
            self.bind_content(message, stored)?;
        }
        Ok(())
    }

    /// On the stream's first batch: binds the stream to the load's content.
    /// A stream from offset 0 carries every row, so the rows the load has
    /// decided are checked as they arrive; a stream from a later offset
    /// must say what it sent before (its expected digest).
    fn bind_content(&mut self, message: &pb::LoadEventsRequest, stored: ContentChain) -> Result<()> {
        let expected = message.expected_content_digest.trim();
        let claimed = if expected.is_empty() {
            if message.start_offset > 0 {
                return Err(content_mismatch(
                    &self.load_id,
                    &format!(
                        "cannot be resumed at offset {} without expected_content_digest",
                        message.start_offset
                    ),
                ));
            }
            ContentChain::new()
        } else {
            ContentChain::from_hex(expected).ok_or_else(|| {
                Error::Rejected(invalid_argument(
                    "expected_content_digest",
                    "must be 64 lowercase hex digits (BulkLoad.content_digest), or empty at offset 0",
                ))
            })?
        };
        let pending = PendingMatch {
            stored,
            claimed,
            at: message.start_offset,
        };
        self.settle(pending)
    }

    /// Compares a pending stream with the load once its rows reach the load's offset.
    fn settle(&mut self, pending: PendingMatch) -> Result<()> {
        if pending.at < self.offset {
            self.pending = Some(pending);
            return Ok(());
        }
        if pending.claimed != pending.stored {
            return Err(content_mismatch(
                &self.load_id,
                &format!(
                    "holds other rows before offset {} than this stream (content digest {:?}, the stream's {:?})",
                    self.offset,
                    pending.stored.to_hex(),
                    pending.claimed.to_hex()
                ),
            ));
        }
        self.chain = pending.stored;
        self.pending = None;
        Ok(())
    }

    /// Prepares an admitted batch's new rows sent by `caller` (rows before
    /// the load's offset were decided by an earlier call: they are skipped,
    /// counted as duplicates). Every new row moves the offset and the content
    /// digest, those refused as outside the caller's provinces too.
    async fn prepare(
        &mut self,
        pipeline: &Pipeline,
        message: &pb::LoadEventsRequest,
        caller: &Caller,
    ) -> Result<WriteJob> {
        let already = usize::try_from(self.offset - message.start_offset)
            .unwrap_or(usize::MAX)
            .min(message.rows.len());
        if let Some(mut pending) = self.pending.take() {
            if message.start_offset != pending.at {
                return Err(content_mismatch(
                    &self.load_id,
                    &format!(
                        "needs this stream's rows in order up to offset {}: expected start_offset {}, got {}",
                        self.offset, pending.at, message.start_offset
                    ),
                ));
            }
            pending.claimed.extend(&message.rows[..already]);
            pending.at += i64::try_from(already).unwrap_or_default();
            self.settle(pending)?;
        }
        let rows = &message.rows[already..];
        let first_offset = self.offset;
        let prepared = if rows.is_empty() {
            None
        } else {
            let mut chain = self.chain.clone();
            chain.extend(rows);
            let position = LoadPosition {
                load_id: self.load_id.clone(),
                first_offset,
                expected_offset: first_offset,
                new_digest: chain.to_bytes(),
            };
            let prefix = |i: usize| format!("rows[{}].", first_offset + i64::try_from(i).unwrap_or_default());
            let prepared = pipeline
                .prepare(rows, &prefix, Some(&position), Sender::caller(caller))
                .await?;
            self.offset += i64::try_from(rows.len()).unwrap_or_default();
            self.chain = chain;
            Some(prepared)
        };
        let ack = pb::LoadEventsResponse {
            load_id: self.load_id.clone(),
            duplicates: i32::try_from(already).unwrap_or(i32::MAX),
            offset_reached: self.offset,
            content_digest: self.pending.as_ref().map_or(&self.chain, |p| &p.stored).to_hex(),
            ..Default::default()
        };
        Ok(WriteJob {
            prepared,
            ack,
            first_offset,
        })
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
                    format!(
                        "idempotency key already used for {} with different content",
                        sequence.resource()
                    ),
                    Vec::new(),
                )),
                Outcome::Rejected { violations } => Some(rejected(offset, violations)),
                Outcome::Denied { field, description } => {
                    Some(rejected(offset, &[(field.clone(), description.clone())]))
                }
            }
        })
        .collect()
}

/// The issue of the row at `offset`, rejected for `violations`: each a field violation, all of them the reason.
fn rejected(offset: i64, violations: &[(String, String)]) -> pb::RowIssue {
    pb::RowIssue {
        offset,
        outcome: pb::Outcome::Rejected.into(),
        reason: violations
            .iter()
            .map(|(f, d)| format!("{f}: {d}"))
            .collect::<Vec<_>>()
            .join("; "),
        field_violations: violations
            .iter()
            .map(|(f, d)| FieldViolation {
                field: f.clone(),
                description: d.clone(),
            })
            .collect(),
    }
}

pub(super) async fn get(pipeline: &Pipeline, request: pb::GetBulkLoadRequest) -> Result<pb::BulkLoad> {
    let name = request.name.trim();
    let load_id = name.strip_prefix("bulkLoads/").unwrap_or(name);
    check_load_id(load_id).map_err(|_| Error::Rejected(invalid_argument("name", "must be `bulkLoads/{load_id}`")))?;
    let name = resource("bulkLoads", load_id);
    let Some(load) = pipeline.store.bulk_load(load_id).await? else {
        return Err(not_found("bulk load", &name, &[]).into());
    };
    let BulkLoad {
        offset_reached,
        accepted,
        duplicates,
        held,
        rejected,
        create_time,
        update_time,
        content_digest,
    } = load;
    Ok(pb::BulkLoad {
        name,
        offset_reached,
        accepted,
        duplicates,
        held,
        rejected,
        create_time: Some(timestamp(create_time)),
        update_time: Some(timestamp(update_time)),
        content_digest: ContentChain::from_bytes(&content_digest)
            .map(|c| c.to_hex())
            .unwrap_or_default(),
    })
}
