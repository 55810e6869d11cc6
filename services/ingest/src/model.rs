//! The write path's domain: what an event records, an event ready to be
//! recorded or already recorded, a row to hold, a bulk load's advance, and
//! what became of each row. The pipeline builds them, the store writes and
//! reads them, the API turns them into protobuf messages.

use chrono::{DateTime, NaiveDate, Utc};
use fdi_kit::domain::{EventKind, EventStatus, Scope};
use fdi_proto::ingest::{EventInput, HoldReason};
use rust_decimal::Decimal;

/// What an event records: the row as sent (trimmed and typed), its names
/// resolved through the catalogue and its amount converted.
#[derive(Debug, Clone, PartialEq)]
pub struct EventFacts {
    /// The sender's key: the same key is recorded at most once.
    pub idempotency_key: String,
    /// What happened.
    pub kind: EventKind,
    /// When.
    pub event_date: NaiveDate,
    /// The project (certificate number or the sender's stable id).
    pub project_ref: String,
    /// The project's name, or empty.
    pub project_name: String,
    /// The catalogue's investor id, when the row names an investor.
    pub investor_id: Option<i64>,
    /// The investor as written, or empty.
    pub investor_text: String,
    /// The investor's home country (ISO 3166-1 alpha-2), or empty.
    pub investor_country: String,
    /// The catalogue's zone id, when the row names a zone.
    pub zone_id: Option<String>,
    /// The province as recorded (a pre-merger province where the row names one).
    pub province_code: String,
    /// The province `province_code` belongs to today.
    pub current_province_code: String,
    /// VSIC/ISIC code or section letter, or empty.
    pub sector: String,
    /// The amount as sent, when given.
    pub amount: Option<Decimal>,
    /// Its ISO 4217 currency (exactly when `amount` is given).
    pub currency: Option<String>,
    /// The amount in US dollars.
    pub amount_usd: Option<Decimal>,
    /// The amount in dong.
    pub amount_vnd: Option<Decimal>,
    /// Foreign or domestic.
    pub scope: Scope,
    /// Registered or estimated.
    pub status: EventStatus,
    /// Where the row comes from, or empty.
    pub source: String,
}

/// A recorded event.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Its place in commit order.
    pub sequence: i64,
    /// What it records.
    pub facts: EventFacts,
    /// When it was recorded.
    pub create_time: DateTime<Utc>,
    /// The key id of the API key that recorded it (`anonymous` where anonymous calls are allowed).
    pub creator: String,
}

/// Where a row sits in a bulk load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadOffset {
    /// The load.
    pub load_id: String,
    /// The row's offset in it.
    pub offset: i64,
}

/// An event ready to be recorded.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// What it records.
    pub facts: EventFacts,
    /// Digest of the row as sent: same key and digest is a duplicate, else a conflict.
    pub digest: Vec<u8>,
    /// The bulk load it came from, if any.
    pub load: Option<LoadOffset>,
    /// The key id of the API key that sent it.
    pub creator: String,
}

/// A row to hold until the reference data it needs exists.
#[derive(Debug, Clone)]
pub struct HeldCandidate {
    /// The row as sent (trimmed).
    pub input: EventInput,
    /// Digest of the row as sent.
    pub digest: Vec<u8>,
    /// Why it is held.
    pub reason: HoldReason,
    /// Details for people.
    pub detail: String,
    /// The bulk load it came from, if any.
    pub load: Option<LoadOffset>,
    /// The key id of the API key that sent it (kept for the event it becomes).
    pub creator: String,
}

impl HeldCandidate {
    /// The row's idempotency key.
    #[must_use]
    pub fn key(&self) -> &str {
        &self.input.idempotency_key
    }
}

/// The stored (and page-token) name of a hold reason.
#[must_use]
pub fn reason_name(reason: HoldReason) -> &'static str {
    match reason {
        HoldReason::UnknownProvince => "unknown_province",
        HoldReason::UnknownZone => "unknown_zone",
        HoldReason::NoExchangeRate | HoldReason::Unspecified => "no_exchange_rate",
    }
}

/// The hold reason of a stored name.
#[must_use]
pub fn reason_from_name(name: &str) -> HoldReason {
    match name {
        "unknown_province" => HoldReason::UnknownProvince,
        "unknown_zone" => HoldReason::UnknownZone,
        "no_exchange_rate" => HoldReason::NoExchangeRate,
        _ => HoldReason::Unspecified,
    }
}

/// A bulk load's advance with one batch.
#[derive(Debug, Clone)]
pub struct LoadStep {
    /// The load.
    pub load_id: String,
    /// Where it must stand before the batch.
    pub expected_offset: i64,
    /// Where it stands after.
    pub new_offset: i64,
    /// Rows of the batch rejected before reaching the database.
    pub rejected: i64,
    /// The load's content digest after the batch (`fdi_kit::load_digest`).
    pub new_digest: Vec<u8>,
}

/// What an idempotency key is used by already, when a row with other content reuses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyHolder {
    /// Recorded event `sequence`.
    Event(i64),
    /// Held row `id`.
    Held(i64),
}

impl KeyHolder {
    /// Its resource name (`events/12`, `heldRows/3`).
    #[must_use]
    pub fn resource(self) -> String {
        match self {
            Self::Event(sequence) => format!("events/{sequence}"),
            Self::Held(id) => format!("heldRows/{id}"),
        }
    }
}

/// What became of one row.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Recorded as event `sequence`.
    Accepted {
        /// Its sequence number.
        sequence: i64,
    },
    /// Already recorded with the same content as event `sequence`.
    Duplicate {
        /// The recorded event.
        sequence: i64,
    },
    /// Kept in the held rows.
    Held {
        /// Why.
        reason: HoldReason,
        /// Details for people.
        detail: String,
        /// The held row's id.
        held_id: i64,
    },
    /// Same idempotency key as event or held row `sequence`, different content.
    Conflict {
        /// What holds the key already: a recorded event or a held row.
        sequence: KeyHolder,
    },
    /// Invalid.
    Rejected {
        /// (field, description) pairs.
        violations: Vec<(String, String)>,
    },
    /// Outside the provinces the caller's key may write: neither recorded nor held.
    Denied {
        /// The field that places the row (`rows[3].province`).
        field: String,
        /// Why, naming the key's provinces.
        description: String,
    },
}

/// A batch's outcomes counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Recorded now.
    pub accepted: i64,
    /// Recorded before with the same content.
    pub duplicates: i64,
    /// Held.
    pub held: i64,
    /// Rejected, conflicting or outside the caller's provinces.
    pub rejected: i64,
}

impl Tally {
    /// Counts `outcomes`.
    #[must_use]
    pub fn of<'a>(outcomes: impl IntoIterator<Item = &'a Outcome>) -> Self {
        let mut tally = Self::default();
        for outcome in outcomes {
            match outcome {
                Outcome::Accepted { .. } => tally.accepted += 1,
                Outcome::Duplicate { .. } => tally.duplicates += 1,
                Outcome::Held { .. } => tally.held += 1,
                Outcome::Conflict { .. } | Outcome::Rejected { .. } | Outcome::Denied { .. } => tally.rejected += 1,
            }
        }
        tally
    }
}
