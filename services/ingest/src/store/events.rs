//! Recorded events: the insert of a batch's events and the notification
//! after it (inside the batch's transaction), one event by sequence number,
//! and events listed with filters in commit order.

use std::collections::HashMap;

use chrono::NaiveDate;
use fdi_kit::{
    domain::{EventKind, EventStatus, Scope},
    feed::EVENTS_CHANNEL,
    period::Span,
    telemetry::db_span,
};
use rust_decimal::Decimal;
use sqlx::{FromRow, PgConnection, Row, postgres::PgRow};
use tracing::Instrument;

use super::{ProvinceFilter, Result, Store};
use crate::model::{Event, EventFacts, NewEvent};

/// The columns an [`Event`] is read from.
const EVENT_COLUMNS: &str = "sequence, idempotency_key, kind, event_date, project_ref, project_name, investor_id, \
    investor_text, investor_country, zone_id, province_code, current_province_code, sector, amount, currency, \
    amount_usd, amount_vnd, scope, status, source, create_time, creator";

/// Which events to list; `None` matches all.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    /// The province.
    pub province: ProvinceFilter,
    /// The catalogue zone id.
    pub zone: Option<String>,
    /// The catalogue investor id.
    pub investor: Option<i64>,
    /// What happened.
    pub kind: Option<EventKind>,
    /// Event dates.
    pub span: Option<Span>,
    /// Foreign or domestic.
    pub scope: Option<Scope>,
}

impl Store {
    /// The event with sequence number `sequence`.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn event(&self, sequence: i64) -> Result<Option<Event>> {
        Ok(
            sqlx::query_as(&format!("SELECT {EVENT_COLUMNS} FROM events WHERE sequence = $1"))
                .bind(sequence)
                .fetch_optional(&self.pool)
                .instrument(db_span("SELECT", "events"))
                .await?,
        )
    }

    /// Up to `limit` events matching `filter` after sequence number `after`, in commit order.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn events(&self, filter: &EventFilter, after: i64, limit: i64) -> Result<Vec<Event>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {EVENT_COLUMNS} FROM events
             WHERE sequence > $1
               AND ($2::text IS NULL OR current_province_code = $2)
               AND ($3::text IS NULL OR province_code = $3)
               AND ($4::text IS NULL OR zone_id = $4)
               AND ($5::bigint IS NULL OR investor_id = $5)
               AND ($6::text IS NULL OR kind = $6)
               AND ($7::date IS NULL OR event_date >= $7)
               AND ($8::date IS NULL OR event_date <= $8)
               AND ($9::text IS NULL OR scope = $9)
             ORDER BY sequence
             LIMIT $10"
        ))
        .bind(after)
        .bind(&filter.province.current)
        .bind(&filter.province.recorded)
        .bind(&filter.zone)
        .bind(filter.investor)
        .bind(filter.kind.map(EventKind::as_str))
        .bind(filter.span.map(|s| s.start))
        .bind(filter.span.map(|s| s.end))
        .bind(filter.scope.map(Scope::as_str))
        .bind(limit)
        .fetch_all(&self.pool)
        .instrument(db_span("SELECT", "events"))
        .await?)
    }
}

/// Inserts a batch's events in one statement, numbering them in batch
/// order; a key recorded already (or earlier in the batch) does not go in.
/// Returns the sequence numbers of the keys that went in.
pub(super) async fn insert(tx: &mut PgConnection, events: &[NewEvent]) -> Result<HashMap<String, i64>> {
    let text = |field: fn(&EventFacts) -> &str| events.iter().map(|e| field(&e.facts)).collect::<Vec<_>>();
    let optional_text =
        |field: fn(&EventFacts) -> Option<&str>| events.iter().map(|e| field(&e.facts)).collect::<Vec<_>>();
    let amounts =
        |field: fn(&EventFacts) -> Option<Decimal>| events.iter().map(|e| field(&e.facts)).collect::<Vec<_>>();
    let digests: Vec<&[u8]> = events.iter().map(|e| e.digest.as_slice()).collect();
    let dates: Vec<NaiveDate> = events.iter().map(|e| e.facts.event_date).collect();
    let investor_ids: Vec<Option<i64>> = events.iter().map(|e| e.facts.investor_id).collect();
    let load_ids: Vec<Option<&str>> = events
        .iter()
        .map(|e| e.load.as_ref().map(|l| l.load_id.as_str()))
        .collect();
    let offsets: Vec<Option<i64>> = events.iter().map(|e| e.load.as_ref().map(|l| l.offset)).collect();
    let creators: Vec<&str> = events.iter().map(|e| e.creator.as_str()).collect();

    let rows: Vec<(String, i64)> = sqlx::query_as(
        "INSERT INTO events (sequence, idempotency_key, content_digest, kind, event_date, project_ref, project_name,
                             investor_id, investor_text, investor_country, zone_id, province_code,
                             current_province_code, sector, amount, currency, amount_usd, amount_vnd, scope, status,
                             source, load_id, load_offset, creator)
         SELECT nextval('event_sequence'), k, dg, ki, da, pr, pn, ii, it, ic, z, p, cp, se, a, c, u, v, sc, st, so, l, o,
                cr
         FROM unnest($1::text[], $2::bytea[], $3::text[], $4::date[], $5::text[], $6::text[], $7::bigint[],
                     $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::numeric[],
                     $15::text[], $16::numeric[], $17::numeric[], $18::text[], $19::text[], $20::text[],
                     $21::text[], $22::bigint[], $23::text[])
              WITH ORDINALITY AS t(k, dg, ki, da, pr, pn, ii, it, ic, z, p, cp, se, a, c, u, v, sc, st, so, l, o, cr, n)
         ORDER BY n
         ON CONFLICT (idempotency_key) DO NOTHING
         RETURNING idempotency_key, sequence",
    )
    .bind(text(|e| &e.idempotency_key))
    .bind(&digests)
    .bind(text(|e| e.kind.as_str()))
    .bind(&dates)
    .bind(text(|e| &e.project_ref))
    .bind(text(|e| &e.project_name))
    .bind(&investor_ids)
    .bind(text(|e| &e.investor_text))
    .bind(text(|e| &e.investor_country))
    .bind(optional_text(|e| e.zone_id.as_deref()))
    .bind(text(|e| &e.province_code))
    .bind(text(|e| &e.current_province_code))
    .bind(text(|e| &e.sector))
    .bind(amounts(|e| e.amount))
    .bind(optional_text(|e| e.currency.as_deref()))
    .bind(amounts(|e| e.amount_usd))
    .bind(amounts(|e| e.amount_vnd))
    .bind(text(|e| e.scope.as_str()))
    .bind(text(|e| e.status.as_str()))
    .bind(text(|e| &e.source))
    .bind(&load_ids)
    .bind(&offsets)
    .bind(&creators)
    .fetch_all(&mut *tx)
    .await?;
    Ok(rows.into_iter().collect())
}

/// Tells readers of the feed that events up to `highest` are committed
/// (delivered when the transaction commits).
pub(super) async fn notify(tx: &mut PgConnection, highest: i64) -> Result<()> {
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(EVENTS_CHANNEL)
        .bind(highest.to_string())
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// A stored name read back as its domain value.
fn named<T>(row: &PgRow, column: &str, parse: fn(&str) -> Option<T>) -> sqlx::Result<T> {
    let text: &str = row.try_get(column)?;
    parse(text).ok_or_else(|| sqlx::Error::ColumnDecode {
        index: column.to_owned(),
        source: format!("`{text}` is not a stored name").into(),
    })
}

impl<'r> FromRow<'r, PgRow> for Event {
    fn from_row(row: &'r PgRow) -> sqlx::Result<Self> {
        let facts = EventFacts {
            idempotency_key: row.try_get("idempotency_key")?,
            kind: named(row, "kind", EventKind::parse)?,
            event_date: row.try_get("event_date")?,
            project_ref: row.try_get("project_ref")?,
            project_name: row.try_get("project_name")?,
            investor_id: row.try_get("investor_id")?,
            investor_text: row.try_get("investor_text")?,
            investor_country: row.try_get("investor_country")?,
            zone_id: row.try_get("zone_id")?,
            province_code: row.try_get("province_code")?,
            current_province_code: row.try_get("current_province_code")?,
            sector: row.try_get("sector")?,
            amount: row.try_get("amount")?,
            currency: row.try_get("currency")?,
            amount_usd: row.try_get("amount_usd")?,
            amount_vnd: row.try_get("amount_vnd")?,
            scope: named(row, "scope", Scope::parse)?,
            status: named(row, "status", EventStatus::parse)?,
            source: row.try_get("source")?,
        };
        Ok(Self {
            sequence: row.try_get("sequence")?,
            facts,
            create_time: row.try_get("create_time")?,
            creator: row.try_get("creator")?,
        })
    }
}
