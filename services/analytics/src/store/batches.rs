//! What a replica reads to fold into memory what the leader folded into the
//! rollups: the feed's events of a range of sequences and the repeated
//! projects' rows the batches of that range recorded, with the cursor, all
//! from one snapshot.

use chrono::NaiveDate;
use fdi_kit::feed;
use sqlx::PgPool;

use super::{Result, rollups::FEED_COLUMNS};
use crate::fold::FoldEvent;

/// An event of a project with repeated `new` (or `termination`) events.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RepeatRow {
    /// `new` or `termination`.
    pub kind: String,
    /// The project.
    pub project_ref: String,
    /// Its date.
    pub event_date: NaiveDate,
    /// `fdi` or `ddi`.
    pub scope: String,
    /// `reported` or `estimated`.
    pub status: String,
    /// The province as recorded.
    pub province: String,
    /// Today's province.
    pub current_province: String,
    /// Zone id or "".
    pub zone: String,
    /// Home country.
    pub country: String,
    /// Sector.
    pub sector: String,
}

/// What the rollups gained after a sequence.
#[derive(Debug, Default)]
pub enum Since {
    /// Nothing: the cursor has not moved.
    #[default]
    Nothing,
    /// The cursor is behind the sequence asked about: the rollups were
    /// rebuilt, and what memory holds is stale.
    Rewound,
    /// The events folded after the sequence, up to `cursor`, in commit order,
    /// and the repeated projects' rows the batches recorded.
    Folded {
        /// The rollups' cursor.
        cursor: i64,
        /// The events.
        rows: Vec<FoldEvent>,
        /// The repeated projects' rows.
        repeats: Vec<RepeatRow>,
    },
}

/// Reads what was folded into the rollups after `sequence`, from one snapshot.
///
/// # Errors
/// When the database fails.
pub async fn folded_since(pool: &PgPool, sequence: i64) -> Result<Since> {
    let mut tx = pool.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .execute(&mut *tx)
        .await?;
    let (cursor,): (i64,) = sqlx::query_as("SELECT last_sequence FROM consumer WHERE id = 1")
        .fetch_one(&mut *tx)
        .await?;
    if cursor == sequence {
        return Ok(Since::Nothing);
    }
    if cursor < sequence {
        return Ok(Since::Rewound);
    }
    let rows = sqlx::query_as(&format!(
        "SELECT {columns} FROM {events} WHERE sequence > $1 AND sequence <= $2 ORDER BY sequence",
        columns = FEED_COLUMNS,
        events = feed::EVENTS
    ))
    .bind(sequence)
    .bind(cursor)
    .fetch_all(&mut *tx)
    .await?;
    let repeats = sqlx::query_as(
        "SELECT kind, project_ref, event_date, scope, status, province, current_province, zone, country, sector
         FROM repeats WHERE folded_at > $1 AND folded_at <= $2",
    )
    .bind(sequence)
    .bind(cursor)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Since::Folded { cursor, rows, repeats })
}
