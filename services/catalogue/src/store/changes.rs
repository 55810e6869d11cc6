//! The catalogue's channel: every write that changes what the in-memory
//! snapshot holds (provinces, zones) sends a notification on [`CHANNEL`] in
//! its own transaction, so it is delivered on commit only, and each replica
//! listens to reload its snapshot (see [`crate::replicas`]).
//!
//! A notification's payload is `{origin} {what}`: the writing store's
//! origin, random and new for each store (so a replica tells its own writes
//! from the others'), and what was written (`zones/{id}`, `reference data`).

use sqlx::{PgConnection, postgres::PgListener};

use super::{Store, StoreResult};

/// The channel the catalogue notifies after each commit that changes the snapshot.
pub const CHANNEL: &str = "fdi_catalogue_changes";

/// One write another replica, or this one, committed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Whether this store (this replica) made it.
    pub own: bool,
    /// What was written, e.g. `zones/quang-chau`.
    pub what: String,
}

/// Tells every replica that the snapshot's data changed: `what` was written
/// by the store of `origin` (delivered when the transaction commits, never
/// when it rolls back).
pub(super) async fn notify(tx: &mut PgConnection, origin: &str, what: &str) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(CHANNEL)
        .bind(format!("{origin} {what}"))
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// A connection (one of the pool's, held) listening on [`CHANNEL`].
#[derive(Debug)]
pub struct Changes {
    listener: PgListener,
    origin: String,
}

impl Changes {
    /// Connects and listens.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn listen(store: &Store) -> StoreResult<Self> {
        let mut listener = PgListener::connect_with(&store.pool).await?;
        // A lost connection is reported (`Ok(None)` from `recv`), not silently replaced: the caller reconnects and
        // reloads, since whatever was notified meanwhile is gone.
        listener.eager_reconnect(false);
        listener.listen(CHANNEL).await?;
        Ok(Self {
            listener,
            origin: store.origin.to_string(),
        })
    }

    /// The next change; `None` when the connection was lost (listen again).
    /// Cancel-safe: a change is never lost to a `select!` or timeout.
    ///
    /// # Errors
    /// When the connection fails otherwise (listen again).
    pub async fn recv(&mut self) -> StoreResult<Option<Change>> {
        let Some(notification) = self.listener.try_recv().await? else {
            return Ok(None);
        };
        let (origin, what) = notification
            .payload()
            .split_once(' ')
            .unwrap_or(("", notification.payload()));
        Ok(Some(Change {
            own: origin == self.origin,
            what: what.to_owned(),
        }))
    }
}
