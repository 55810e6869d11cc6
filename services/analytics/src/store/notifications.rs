//! What wakes the consumer: ingest's notification after each commit of
//! events (on the feed's channel), and a reset of the rollups.

use fdi_kit::feed;
use sqlx::{PgPool, postgres::PgListener};

use super::{Result, rollups::RESET_CHANNEL};

/// A notification the consumer acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    /// Ingest committed events.
    Events,
    /// The rollups were reset (rebuilt): what is held in memory is stale.
    Reset,
}

/// A connection listening to ingest's commits and to resets.
#[derive(Debug)]
pub struct Notifications(PgListener);

impl Notifications {
    /// Connects and listens.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn listen(pool: &PgPool) -> Result<Self> {
        let mut listener = PgListener::connect_with(pool).await?;
        listener.listen_all([feed::EVENTS_CHANNEL, RESET_CHANNEL]).await?;
        Ok(Self(listener))
    }

    /// The next notification.
    ///
    /// # Errors
    /// When the connection is lost (listen again).
    pub async fn recv(&mut self) -> Result<Notice> {
        let notification = self.0.recv().await?;
        Ok(if notification.channel() == RESET_CHANNEL {
            Notice::Reset
        } else {
            Notice::Events
        })
    }
}
