//! Recording a batch in one transaction: events (exactly once, by
//! idempotency key), held rows, and the bulk load's progress, all durable
//! together or not at all.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use fdi_proto::ingest::{EventInput, HoldReason};
use rust_decimal::Decimal;
use sqlx::PgPool;

use crate::{
    error::{Error, Result},
    pipeline::Outcome,
    validate::{Kind, ValidRow},
};

/// Serialises writers so sequence numbers commit in order: a consumer that
/// has seen sequence N has seen every event below N.
const WRITER_LOCK: i64 = 0x00fd_1a71_a500_0001;
/// Channel notified with the highest sequence after each commit.
pub const EVENTS_CHANNEL: &str = "fdi_ingest_events";

/// An event ready to be recorded.
#[derive(Debug, Clone)]
pub struct EventRow {
    /// Idempotency key.
    pub key: String,
    /// Content digest.
    pub digest: Vec<u8>,
    /// Kind.
    pub kind: Kind,
    /// Date.
    pub event_date: NaiveDate,
    /// Catalogue investor id.
    pub investor_id: Option<i64>,
    /// Zone id.
    pub zone_id: Option<String>,
    /// Province as recorded.
    pub province: String,
    /// Today's province.
    pub current_province: String,
    /// Amount in USD.
    pub amount_usd: Option<Decimal>,
    /// Amount in VND.
    pub amount_vnd: Option<Decimal>,
    /// The bulk load it came from.
    pub load_id: Option<String>,
    /// Its offset there.
    pub load_offset: Option<i64>,
    /// The validated row.
    pub row: ValidRow,
}

/// A row to hold.
#[derive(Debug, Clone)]
pub struct HeldCandidate {
    /// Idempotency key.
    pub key: String,
    /// Content digest.
    pub digest: Vec<u8>,
    /// The row as sent.
    pub input: EventInput,
    /// Why.
    pub reason: HoldReason,
    /// Details.
    pub detail: String,
    /// Load id or empty.
    pub load_id: String,
    /// Offset in the load.
    pub load_offset: i64,
}

/// A bulk load's advance with this batch.
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
}

/// Outcomes of the written rows, in input order.
#[derive(Debug, Default)]
pub struct Written {
    /// One per event row.
    pub events: Vec<Outcome>,
    /// One per held candidate.
    pub held: Vec<Outcome>,
}

/// The stored name of a hold reason.
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

/// The fields of a row as JSON (held rows keep the row exactly as sent).
#[must_use]
pub fn row_to_json(row: &EventInput) -> serde_json::Value {
    serde_json::json!({
        "idempotency_key": row.idempotency_key, "kind": row.kind, "event_date": row.event_date,
        "project_ref": row.project_ref, "project_name": row.project_name, "investor": row.investor,
        "investor_country": row.investor_country, "zone": row.zone, "province": row.province,
        "sector": row.sector, "amount": row.amount, "currency": row.currency, "scope": row.scope,
        "status": row.status, "source": row.source,
    })
}

/// A row from its JSON form.
#[must_use]
pub fn row_from_json(value: &serde_json::Value) -> EventInput {
    let field = |name: &str| {
        value
            .get(name)
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    EventInput {
        idempotency_key: field("idempotency_key"),
        kind: field("kind"),
        event_date: field("event_date"),
        project_ref: field("project_ref"),
        project_name: field("project_name"),
        investor: field("investor"),
        investor_country: field("investor_country"),
        zone: field("zone"),
        province: field("province"),
        sector: field("sector"),
        amount: field("amount"),
        currency: field("currency"),
        scope: field("scope"),
        status: field("status"),
        source: field("source"),
    }
}

/// Records events and held rows, and advances the load, in one transaction.
///
/// # Errors
/// When the database fails, or (ABORTED) when another stream advanced the load.
pub async fn write_batch(
    pool: &PgPool,
    events: &[EventRow],
    held: &[HeldCandidate],
    load: Option<&LoadStep>,
) -> Result<Written> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(WRITER_LOCK)
        .execute(&mut *tx)
        .await?;

    let inserted: HashMap<String, i64> = if events.is_empty() {
        HashMap::new()
    } else {
        insert_events(&mut tx, events).await?
    };

    // Keys that did not go in, and keys of rows to hold: are they recorded already?
    let mut probe: Vec<String> = events
        .iter()
        .map(|e| e.key.clone())
        .filter(|k| !inserted.contains_key(k))
        .collect();
    probe.extend(held.iter().map(|h| h.key.clone()));
    let existing: HashMap<String, (i64, Vec<u8>)> = if probe.is_empty() {
        HashMap::new()
    } else {
        sqlx::query_as::<_, (String, i64, Vec<u8>)>(
            "SELECT idempotency_key, sequence, content_digest FROM events WHERE idempotency_key = ANY($1)",
        )
        .bind(&probe)
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .map(|(key, sequence, digest)| (key, (sequence, digest)))
        .collect()
    };
    let against_recorded = |key: &str, digest: &[u8]| -> Option<Outcome> {
        existing.get(key).map(|(sequence, recorded)| {
            if recorded.as_slice() == digest {
                Outcome::Duplicate { sequence: *sequence }
            } else {
                Outcome::Conflict { sequence: *sequence }
            }
        })
    };

    // The first row of a key in this batch went in; later ones compare against it.
    let mut claimed = HashSet::new();
    let mut written = Written::default();
    for event in events {
        let outcome = match inserted.get(&event.key) {
            Some(&sequence) if claimed.insert(event.key.clone()) => Outcome::Accepted { sequence },
            Some(&sequence) => {
                let first = events.iter().find(|e| e.key == event.key).map(|e| &e.digest);
                if first == Some(&event.digest) {
                    Outcome::Duplicate { sequence }
                } else {
                    Outcome::Conflict { sequence }
                }
            }
            None => against_recorded(&event.key, &event.digest).unwrap_or(Outcome::Rejected {
                violations: vec![("idempotency_key".into(), "could not be recorded; send it again".into())],
            }),
        };
        written.events.push(outcome);
    }

    let mut to_hold = Vec::new();
    for candidate in held {
        match against_recorded(&candidate.key, &candidate.digest).or_else(|| {
            inserted
                .get(&candidate.key)
                .map(|&sequence| Outcome::Conflict { sequence })
        }) {
            Some(outcome) => written.held.push(outcome),
            None => {
                written.held.push(Outcome::Held {
                    reason: candidate.reason,
                    detail: candidate.detail.clone(),
                    held_id: 0,
                });
                to_hold.push(candidate);
            }
        }
    }
    if !to_hold.is_empty() {
        let ids = hold_rows(&mut tx, &to_hold).await?;
        let mut held_keys = to_hold.iter().map(|candidate| &candidate.key);
        for outcome in &mut written.held {
            if let Outcome::Held { held_id, .. } = outcome
                && let Some(key) = held_keys.next()
            {
                *held_id = ids.get(key).copied().unwrap_or_default();
            }
        }
    }
    if !inserted.is_empty() {
        // A row held earlier and recorded now is no longer held.
        let keys: Vec<&String> = inserted.keys().collect();
        sqlx::query("DELETE FROM held_rows WHERE idempotency_key = ANY($1)")
            .bind(&keys)
            .execute(&mut *tx)
            .await?;
        let highest = inserted.values().max().copied().unwrap_or_default();
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(EVENTS_CHANNEL)
            .bind(highest.to_string())
            .execute(&mut *tx)
            .await?;
    }

    if let Some(step) = load {
        let count = |f: fn(&Outcome) -> bool| {
            i64::try_from(written.events.iter().chain(&written.held).filter(|o| f(o)).count()).unwrap_or_default()
        };
        let accepted = count(|o| matches!(o, Outcome::Accepted { .. }));
        let duplicates = count(|o| matches!(o, Outcome::Duplicate { .. }));
        let held_count = count(|o| matches!(o, Outcome::Held { .. }));
        let rejected = step.rejected + count(|o| matches!(o, Outcome::Conflict { .. } | Outcome::Rejected { .. }));
        let moved = sqlx::query(
            "UPDATE bulk_loads SET offset_reached = $3, accepted = accepted + $4, duplicates = duplicates + $5,
                    held = held + $6, rejected = rejected + $7, update_time = now()
             WHERE load_id = $1 AND offset_reached = $2",
        )
        .bind(&step.load_id)
        .bind(step.expected_offset)
        .bind(step.new_offset)
        .bind(accepted)
        .bind(duplicates)
        .bind(held_count)
        .bind(rejected)
        .execute(&mut *tx)
        .await?;
        if moved.rows_affected() != 1 {
            return Err(Error::Rejected(tonic::Status::aborted(format!(
                "bulk load `{}` was advanced by another stream; call GetBulkLoad and resume from its offset",
                step.load_id
            ))));
        }
    }
    tx.commit().await?;
    Ok(written)
}

async fn insert_events(tx: &mut sqlx::PgConnection, events: &[EventRow]) -> Result<HashMap<String, i64>> {
    let column = |f: fn(&EventRow) -> String| events.iter().map(f).collect::<Vec<String>>();
    let keys = column(|e| e.key.clone());
    let digests: Vec<Vec<u8>> = events.iter().map(|e| e.digest.clone()).collect();
    let kinds = column(|e| e.kind.as_str().to_owned());
    let dates: Vec<NaiveDate> = events.iter().map(|e| e.event_date).collect();
    let project_refs = column(|e| e.row.input.project_ref.clone());
    let project_names = column(|e| e.row.input.project_name.clone());
    let investor_ids: Vec<Option<i64>> = events.iter().map(|e| e.investor_id).collect();
    let investor_texts = column(|e| e.row.input.investor.clone());
    let countries = column(|e| e.row.investor_country.clone());
    let zones: Vec<Option<String>> = events.iter().map(|e| e.zone_id.clone()).collect();
    let provinces = column(|e| e.province.clone());
    let currents = column(|e| e.current_province.clone());
    let sectors = column(|e| e.row.input.sector.clone());
    let amounts: Vec<Option<Decimal>> = events.iter().map(|e| e.row.amount).collect();
    let currencies: Vec<Option<String>> = events.iter().map(|e| e.row.currency.clone()).collect();
    let usd: Vec<Option<Decimal>> = events.iter().map(|e| e.amount_usd).collect();
    let vnd: Vec<Option<Decimal>> = events.iter().map(|e| e.amount_vnd).collect();
    let scopes = column(|e| e.row.scope.to_owned());
    let statuses = column(|e| e.row.status.to_owned());
    let sources = column(|e| e.row.input.source.clone());
    let load_ids: Vec<Option<String>> = events.iter().map(|e| e.load_id.clone()).collect();
    let offsets: Vec<Option<i64>> = events.iter().map(|e| e.load_offset).collect();

    let rows: Vec<(String, i64)> = sqlx::query_as(
        "INSERT INTO events (sequence, idempotency_key, content_digest, kind, event_date, project_ref, project_name,
                             investor_id, investor_text, investor_country, zone_id, province_code,
                             current_province_code, sector, amount, currency, amount_usd, amount_vnd, scope, status,
                             source, load_id, load_offset)
         SELECT nextval('event_sequence'), k, dg, ki, da, pr, pn, ii, it, ic, z, p, cp, se, a, c, u, v, sc, st, so, l, o
         FROM unnest($1::text[], $2::bytea[], $3::text[], $4::date[], $5::text[], $6::text[], $7::bigint[],
                     $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::numeric[],
                     $15::text[], $16::numeric[], $17::numeric[], $18::text[], $19::text[], $20::text[],
                     $21::text[], $22::bigint[])
              WITH ORDINALITY AS t(k, dg, ki, da, pr, pn, ii, it, ic, z, p, cp, se, a, c, u, v, sc, st, so, l, o, n)
         ORDER BY n
         ON CONFLICT (idempotency_key) DO NOTHING
         RETURNING idempotency_key, sequence",
    )
    .bind(&keys)
    .bind(&digests)
    .bind(&kinds)
    .bind(&dates)
    .bind(&project_refs)
    .bind(&project_names)
    .bind(&investor_ids)
    .bind(&investor_texts)
    .bind(&countries)
    .bind(&zones)
    .bind(&provinces)
    .bind(&currents)
    .bind(&sectors)
    .bind(&amounts)
    .bind(&currencies)
    .bind(&usd)
    .bind(&vnd)
    .bind(&scopes)
    .bind(&statuses)
    .bind(&sources)
    .bind(&load_ids)
    .bind(&offsets)
    .fetch_all(&mut *tx)
    .await?;
    Ok(rows.into_iter().collect())
}

async fn hold_rows(tx: &mut sqlx::PgConnection, rows: &[&HeldCandidate]) -> Result<HashMap<String, i64>> {
    let keys: Vec<&str> = rows.iter().map(|r| r.key.as_str()).collect();
    let digests: Vec<&[u8]> = rows.iter().map(|r| r.digest.as_slice()).collect();
    let data: Vec<serde_json::Value> = rows.iter().map(|r| row_to_json(&r.input)).collect();
    let reasons: Vec<&str> = rows.iter().map(|r| reason_name(r.reason)).collect();
    let details: Vec<&str> = rows.iter().map(|r| r.detail.as_str()).collect();
    let loads: Vec<&str> = rows.iter().map(|r| r.load_id.as_str()).collect();
    let offsets: Vec<i64> = rows.iter().map(|r| r.load_offset).collect();
    let ids: Vec<(String, i64)> = sqlx::query_as(
        "INSERT INTO held_rows (idempotency_key, content_digest, row_data, reason, detail, load_id, load_offset)
         SELECT DISTINCT ON (k) k, d, r, re, de, l, o
         FROM unnest($1::text[], $2::bytea[], $3::jsonb[], $4::text[], $5::text[], $6::text[], $7::bigint[])
              AS t(k, d, r, re, de, l, o)
         ON CONFLICT (idempotency_key) DO UPDATE SET
             content_digest = EXCLUDED.content_digest, row_data = EXCLUDED.row_data, reason = EXCLUDED.reason,
             detail = EXCLUDED.detail, attempts = held_rows.attempts + 1, update_time = now()
         RETURNING idempotency_key, id",
    )
    .bind(&keys)
    .bind(&digests)
    .bind(&data)
    .bind(&reasons)
    .bind(&details)
    .bind(&loads)
    .bind(&offsets)
    .fetch_all(&mut *tx)
    .await?;
    Ok(ids.into_iter().collect())
}
