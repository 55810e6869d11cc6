//! The bulk-load client: streams rows in batches, counts the
//! acknowledgements, and after a lost connection, a restarted server or a
//! full stream, asks where the load stands and resumes from exactly there.
//! Every row is sent until acknowledged; none is recorded twice. A resume
//! proves it carries the load's rows: it hashes the rows before the offset
//! (`fdi_kit::load_digest`) and sends the digest, which must match the load's.

use std::time::Duration;

use fdi_kit::{
    access::Bearer,
    config::TlsConfig,
    load_digest::{ContentChain, LOAD_CONTENT_MISMATCH},
};
use fdi_proto::ingest::{
    EventInput, GetBulkLoadRequest, LoadEventsRequest, LoadEventsResponse, RowIssue,
    ingest_service_client::IngestServiceClient,
};
use tokio::sync::mpsc;
use tokio_stream::{StreamExt, wrappers::ReceiverStream};
use tonic::{Code, Status};
use tonic_types::StatusExt;

/// Rows from a source, starting at a row offset (0-based), so a load can resume.
pub type OpenRows = Box<dyn FnMut(u64) -> anyhow::Result<Box<dyn Iterator<Item = EventInput> + Send>> + Send>;

/// How to load.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// `http://host:port` of the ingest service.
    pub endpoint: String,
    /// The load's id: the same id resumes the same load.
    pub load_id: String,
    /// Rows per message.
    pub batch_rows: usize,
    /// Consecutive failed attempts before giving up.
    pub max_attempts: u32,
    /// How many row issues to keep for the summary.
    pub keep_issues: usize,
    /// The API key sent with every call (`FDI_API_KEY` for `fdi import`).
    pub credential: Bearer,
    /// TLS for an `https://` endpoint (the CA that signs ingest's certificate; a client certificate for
    /// mutual TLS).
    pub tls: TlsConfig,
}

impl LoadOptions {
    /// Defaults for a load id and endpoint.
    #[must_use]
    pub fn new(endpoint: impl Into<String>, load_id: impl Into<String>) -> Self {
        Self {
            endpoint: endpoint.into(),
            load_id: load_id.into(),
            batch_rows: 2000,
            max_attempts: 30,
            keep_issues: 20,
            credential: Bearer::default(),
            tls: TlsConfig::default(),
        }
    }
}

/// What a load did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LoadSummary {
    /// Rows decided and durable.
    pub offset_reached: u64,
    /// Rows recorded as new events.
    pub accepted: u64,
    /// Rows already recorded (including rows a resumed call skipped).
    pub duplicates: u64,
    /// Rows held for missing reference data.
    pub held: u64,
    /// Rows rejected (invalid or conflicting).
    pub rejected: u64,
    /// The first issues reported.
    pub issues: Vec<RowIssue>,
    /// Times the load resumed after an interruption.
    pub resumptions: u32,
}

impl LoadSummary {
    fn absorb(&mut self, ack: &LoadEventsResponse, keep_issues: usize) {
        self.offset_reached = u64::try_from(ack.offset_reached).unwrap_or_default();
        self.accepted += u64::try_from(ack.accepted).unwrap_or_default();
        self.duplicates += u64::try_from(ack.duplicates).unwrap_or_default();
        self.held += u64::try_from(ack.held).unwrap_or_default();
        self.rejected += u64::try_from(ack.rejected).unwrap_or_default();
        let room = keep_issues.saturating_sub(self.issues.len());
        self.issues.extend(ack.issues.iter().take(room).cloned());
    }
}

/// Whether a failed call is worth resuming (never a stream that does not match its load).
fn resumable(status: &Status) -> bool {
    let mismatch = status
        .get_error_details()
        .error_info()
        .is_some_and(|info| info.reason == LOAD_CONTENT_MISMATCH);
    !mismatch
        && matches!(
            status.code(),
            Code::Unavailable
                | Code::Unknown
                | Code::Cancelled
                | Code::Aborted
                | Code::DeadlineExceeded
                | Code::ResourceExhausted
                | Code::FailedPrecondition
                | Code::Internal
        )
}

/// Where the load stands on the server (0 and no digest when it has not started).
async fn server_offset(options: &LoadOptions) -> Result<(u64, String), Status> {
    Ok(server_progress(options).await?.map_or((0, String::new()), |load| {
        (
            u64::try_from(load.offset_reached).unwrap_or_default(),
            load.content_digest,
        )
    }))
}

/// The content digest of the first `offset` rows `open` yields; `None` when there are fewer.
fn prefix_digest(open: &mut OpenRows, offset: u64) -> anyhow::Result<Option<ContentChain>> {
    let mut chain = ContentChain::new();
    let mut count = 0u64;
    for row in open(0)?.take(usize::try_from(offset).unwrap_or(usize::MAX)) {
        chain.push(&row);
        count += 1;
    }
    Ok((count == offset).then_some(chain))
}

/// The load's progress and totals on the server, across every call that fed it.
///
/// # Errors
/// When the service cannot be reached.
pub async fn server_progress(options: &LoadOptions) -> Result<Option<fdi_proto::ingest::BulkLoad>, Status> {
    let channel = fdi_kit::tls::endpoint(&options.endpoint, &options.tls)
        .map_err(|e| Status::invalid_argument(e.to_string()))?
        .connect_timeout(Duration::from_secs(5))
        .connect()
        .await
        .map_err(|e| Status::unavailable(e.to_string()))?;
    let mut client = IngestServiceClient::with_interceptor(channel, options.credential.clone());
    match client
        .get_bulk_load(GetBulkLoadRequest {
            name: format!("bulkLoads/{}", options.load_id),
        })
        .await
    {
        Ok(load) => Ok(Some(load.into_inner())),
        Err(status) if status.code() == Code::NotFound => Ok(None),
        Err(status) => Err(status),
    }
}

/// Loads every row `open` yields, resuming after interruptions;
/// `on_ack` sees every acknowledgement (for progress bars).
///
/// # Errors
/// When the server refuses the load (e.g. INVALID_ARGUMENT) or stays
/// unreachable for `max_attempts` consecutive attempts.
pub async fn load(
    options: &LoadOptions,
    mut open: OpenRows,
    on_ack: &mut (dyn FnMut(&LoadEventsResponse) + Send),
) -> anyhow::Result<LoadSummary> {
    let mut summary = LoadSummary::default();
    let mut failures = 0u32;
    let mut backoff = Duration::from_millis(200);
    loop {
        let attempt = async {
            let (offset, server_digest) = server_offset(options).await?;
            summary.offset_reached = summary.offset_reached.max(offset);
            let unreadable = |e: anyhow::Error| Status::failed_precondition(format!("cannot read the rows: {e:#}"));
            let expected = if offset == 0 {
                String::new()
            } else {
                let ours = prefix_digest(&mut open, offset)
                    .map_err(unreadable)?
                    .map(|c| c.to_hex());
                if ours.as_deref() != Some(server_digest.as_str()) {
                    return Err(Status::with_error_details(
                        Code::FailedPrecondition,
                        format!(
                            "load `{}` holds other rows before offset {offset} than these; use another load id",
                            options.load_id
                        ),
                        tonic_types::ErrorDetails::with_error_info(
                            LOAD_CONTENT_MISMATCH,
                            fdi_kit::status::ERROR_DOMAIN,
                            std::collections::HashMap::from([("load_id".to_owned(), options.load_id.clone())]),
                        ),
                    ));
                }
                server_digest
            };
            let rows = open(offset).map_err(unreadable)?;
            stream_once(options, offset, expected, rows, &mut summary, on_ack).await
        };
        match attempt.await {
            Ok(()) => return Ok(summary),
            Err(status) if resumable(&status) => {
                let progressed = status.code() == Code::ResourceExhausted;
                failures = if progressed { 0 } else { failures + 1 };
                if failures >= options.max_attempts {
                    anyhow::bail!("giving up after {failures} attempts: {status}");
                }
                summary.resumptions += 1;
                tracing::warn!(code = ?status.code(), message = status.message(), offset = summary.offset_reached, "bulk load interrupted; resuming");
                if !progressed {
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
            }
            Err(status) => anyhow::bail!(
                "the ingest service refused the load: {} ({:?})",
                status.message(),
                status.code()
            ),
        }
    }
}

/// One call: streams rows from `offset`, returns Ok when every row is acknowledged.
async fn stream_once(
    options: &LoadOptions,
    offset: u64,
    expected_content_digest: String,
    rows: Box<dyn Iterator<Item = EventInput> + Send>,
    summary: &mut LoadSummary,
    on_ack: &mut (dyn FnMut(&LoadEventsResponse) + Send),
) -> Result<(), Status> {
    let channel = fdi_kit::tls::endpoint(&options.endpoint, &options.tls)
        .map_err(|e| Status::invalid_argument(e.to_string()))?
        .connect_timeout(Duration::from_secs(5))
        .tcp_nodelay(true)
        .connect()
        .await
        .map_err(|e| Status::unavailable(e.to_string()))?;
    let mut client = IngestServiceClient::with_interceptor(channel, options.credential.clone())
        .max_encoding_message_size(16 * 1024 * 1024);

    // Reading happens on a blocking thread (files); batches flow through a small queue (back-pressure).
    let (sender, receiver) = mpsc::channel::<LoadEventsRequest>(4);
    let load_id = options.load_id.clone();
    let batch_rows = options.batch_rows.max(1);
    let producer = tokio::task::spawn_blocking(move || {
        let mut next_offset = offset;
        let mut rows = rows;
        let mut expected = Some(expected_content_digest);
        loop {
            let batch: Vec<EventInput> = rows.by_ref().take(batch_rows).collect();
            if batch.is_empty() {
                return next_offset;
            }
            let request = LoadEventsRequest {
                load_id: load_id.clone(),
                start_offset: i64::try_from(next_offset).unwrap_or(i64::MAX),
                rows: batch,
                // The first message binds the stream to the load's content.
                expected_content_digest: expected.take().unwrap_or_default(),
            };
            next_offset += request.rows.len() as u64;
            if sender.blocking_send(request).is_err() {
                return next_offset;
            }
        }
    });

    let mut acks = client.load_events(ReceiverStream::new(receiver)).await?.into_inner();
    let mut last_ack = offset;
    while let Some(ack) = acks.next().await {
        let ack = ack?;
        summary.absorb(&ack, options.keep_issues);
        last_ack = u64::try_from(ack.offset_reached).unwrap_or_default();
        on_ack(&ack);
    }
    let end = producer
        .await
        .map_err(|e| Status::internal(format!("row reader failed: {e}")))?;
    if last_ack < end {
        return Err(Status::unavailable(format!(
            "the stream ended at offset {last_ack} before {end}"
        )));
    }
    Ok(())
}
