//! Keeping the snapshot in step with other replicas' writes. Several
//! catalogue replicas may serve one database; each write that changes what
//! the snapshot holds notifies the catalogue's channel on commit
//! ([`crate::store::CHANNEL`]), and [`follow`], a background task of every
//! replica, listens and reloads: once per burst of notifications, and once
//! after each (re)connection, since notifications sent while nobody listened
//! are gone. The replica that wrote has reloaded already, after its own
//! commit, and skips its own notifications. The periodic refresh stays the
//! last fallback.

use std::{sync::Arc, time::Duration};

use fdi_kit::shutdown::CancellationToken;
use tokio::time::{Instant, sleep, timeout, timeout_at};

use crate::{state::Catalogue, store::Changes};

/// How long the notifications of one burst are gathered, after the first,
/// before the one reload they share.
const COALESCE: Duration = Duration::from_millis(50);
/// The first wait before connecting or reloading again after a failure;
/// it doubles up to [`MAX_RETRY`].
const FIRST_RETRY: Duration = Duration::from_millis(100);
/// The longest wait between attempts.
const MAX_RETRY: Duration = Duration::from_secs(5);

/// What listening brought.
#[derive(Debug)]
enum Heard {
    /// Nothing within the wait.
    Quiet,
    /// The connection broke (why, for the log).
    Lost(String),
    /// A burst of writes.
    Writes {
        /// How many other replicas made.
        others: usize,
        /// How many this one made.
        own: usize,
        /// What the last of the others' wrote, e.g. `zones/quang-chau`.
        latest: String,
    },
}

/// Listens for the writes of every replica and reloads the snapshot after
/// other replicas' writes, until `shutdown`; reconnects with backoff when
/// the connection breaks. Started once the service is ready.
pub async fn follow(state: Arc<Catalogue>, shutdown: CancellationToken) {
    let mut retry = FIRST_RETRY;
    let mut reconnecting = false;
    loop {
        let mut changes = match Changes::listen(&state.store).await {
            Ok(changes) => changes,
            Err(error) => {
                tracing::warn!(
                    %error,
                    retry_in_ms = retry.as_millis(),
                    "cannot listen for other replicas' writes; retrying (the periodic refresh goes on)"
                );
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    () = sleep(retry) => {}
                }
                retry = (retry * 2).min(MAX_RETRY);
                continue;
            }
        };
        retry = FIRST_RETRY;
        if reconnecting {
            tracing::info!(
                "listening again for other replicas' writes; reloading the snapshot, as some may have been missed"
            );
        } else {
            tracing::debug!("listening for other replicas' writes");
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            why = listen(&state, &mut changes) => {
                tracing::warn!(%why, "stopped hearing other replicas' writes; listening again");
            }
        }
        reconnecting = true;
    }
}

/// Reloads the snapshot once now (writes committed before listening began
/// were notified to nobody), then after each burst of other replicas'
/// writes, retrying a failed reload with backoff; returns why the
/// connection broke.
async fn listen(state: &Catalogue, changes: &mut Changes) -> String {
    let mut stale = true;
    let mut retry = FIRST_RETRY;
    loop {
        if stale {
            stale = !state.refresh().await;
        }
        let wait = if stale {
            Some(retry)
        } else {
            retry = FIRST_RETRY;
            None
        };
        match hear(changes, wait).await {
            Heard::Quiet => retry = (retry * 2).min(MAX_RETRY),
            Heard::Lost(why) => return why,
            Heard::Writes { others: 0, own, .. } => {
                tracing::debug!(own, "heard this replica's own writes; reloaded after them already");
            }
            Heard::Writes { others, own, latest } => {
                tracing::info!(
                    writes = others,
                    own,
                    latest = %latest,
                    "another replica wrote; reloading the snapshot"
                );
                stale = true;
            }
        }
    }
}

/// The next burst of notifications: the first (waiting at most `wait`, or
/// for ever), and every one that arrives within [`COALESCE`] after it.
async fn hear(changes: &mut Changes, wait: Option<Duration>) -> Heard {
    let first = match wait {
        Some(wait) => match timeout(wait, changes.recv()).await {
            Ok(first) => first,
            Err(_) => return Heard::Quiet,
        },
        None => changes.recv().await,
    };
    let (mut others, mut own, mut latest) = (0, 0, String::new());
    let mut next = first;
    let until = Instant::now() + COALESCE;
    loop {
        match next {
            Ok(Some(change)) if change.own => own += 1,
            Ok(Some(change)) => {
                others += 1;
                latest = change.what;
            }
            Ok(None) => return Heard::Lost("the connection was lost".to_owned()),
            Err(error) => return Heard::Lost(error.to_string()),
        }
        next = match timeout_at(until, changes.recv()).await {
            Ok(next) => next,
            Err(_) => return Heard::Writes { others, own, latest },
        };
    }
}
