//! What wakes the consumer's tasks: ingest's notification after each commit
//! of events (on the feed's channel) wakes the leader; the leader's
//! notification after each fold, and a reset of the rollups, wake every replica.

use fdi_kit::feed;
use sqlx::{PgPool, postgres::PgListener};

use super::{
    Result,
    rollups::{FOLDED_CHANNEL, RESET_CHANNEL},
};

/// A notification the consumer acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    /// Ingest committed events.
    Events,
    /// The leader folded events into the rollups.
    Folded,
    /// The rollups were reset (rebuilt): what is held in memory is stale.
    Reset,
}

impl Notice {
    fn channel(self) -> &'static str {
        match self {
            Self::Events => feed::EVENTS_CHANNEL,
            Self::Folded => FOLDED_CHANNEL,
            Self::Reset => RESET_CHANNEL,
        }
    }
}

/// A connection listening to some of the notices.
#[derive(Debug)]
pub struct Notifications(PgListener);

impl Notifications {
    /// Connects and listens to `notices`.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn listen(pool: &PgPool, notices: &[Notice]) -> Result<Self> {
        let mut listener = PgListener::connect_with(pool).await?;
        listener.listen_all(notices.iter().map(|n| n.channel())).await?;
        Ok(Self(listener))
    }

    /// The next notification.
    ///
    /// # Errors
    /// When the connection is lost (listen again).
    pub async fn recv(&mut self) -> Result<Notice> {
        let notification = self.0.recv().await?;
        Ok(match notification.channel() {
            RESET_CHANNEL => Notice::Reset,
            FOLDED_CHANNEL => Notice::Folded,
            _ => Notice::Events,
        })
    }
}
