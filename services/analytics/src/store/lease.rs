//! The leader's lease: a session-level advisory lock held on a connection of
//! its own. Exactly one replica holds it and folds the feed into the
//! rollups; a replica whose connection is lost (its process killed, the
//! network cut, the backend terminated) loses it with the session, and
//! another replica takes it on its next try. A replica that does not lead
//! keeps its connection and tries again on it.

use sqlx::{Connection, PgConnection, PgPool};

use super::Result;

/// The advisory lock whose holder leads.
const LEADER_LOCK: i64 = 0x00fd_1a71_a500_0003;

/// The connection a replica holds, or tries to take, the lease on; dropped
/// (or [`Lease::release`]d), it closes and the lock goes with it.
#[derive(Debug)]
pub struct Lease {
    connection: PgConnection,
}

impl Lease {
    /// A connection of its own, outside the pool: the lock lives exactly as long as it.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn connect(pool: &PgPool) -> Result<Self> {
        Ok(Self {
            connection: pool.acquire().await?.detach(),
        })
    }

    /// Takes the lease when nobody holds it, and records `holder` as the
    /// leader on the cursor's row; false when another replica holds it.
    ///
    /// # Errors
    /// When the database fails (connect again).
    pub async fn try_take(&mut self, holder: &str) -> Result<bool> {
        let (won,): (bool,) = sqlx::query_as("SELECT pg_try_advisory_lock($1)")
            .bind(LEADER_LOCK)
            .fetch_one(&mut self.connection)
            .await?;
        if won {
            sqlx::query("UPDATE consumer SET leader = $1, leader_since = now() WHERE id = 1")
                .bind(holder)
                .execute(&mut self.connection)
                .await?;
        }
        Ok(won)
    }

    /// Checks that the lease is still held (its session is alive).
    ///
    /// # Errors
    /// When the connection is lost: the lease is gone.
    pub async fn check(&mut self) -> Result<()> {
        self.connection.ping().await?;
        Ok(())
    }

    /// Gives the lease up.
    pub async fn release(self) {
        let _ = self.connection.close().await;
    }
}
