//! The write path every way in shares (single submissions, bulk batches,
//! re-processed held rows): validate, resolve names through the catalogue,
//! convert amounts, then record the batch in one transaction.

use std::sync::OnceLock;

use chrono::NaiveDate;
use fdi_kit::status::Violations;
use fdi_proto::ingest::{EventInput, HoldReason};
use opentelemetry::{KeyValue, metrics::Counter};
use sqlx::PgPool;
use tracing::{Instrument, field::Empty};

use crate::{
    error::Result,
    rates::Rates,
    references::{PlaceKind, PlaceLookup, PlaceResults, References},
    store::{self, EventRow, HeldCandidate, LoadStep},
    validate::{ValidRow, validate},
};

/// The day of the 2025 reform: events before it were recorded under the old provinces.
pub const MERGER_DATE: NaiveDate = match NaiveDate::from_ymd_opt(2025, 7, 1) {
    Some(date) => date,
    None => panic!("valid date"),
};

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
    /// Same idempotency key as event `sequence`, different content.
    Conflict {
        /// The recorded event.
        sequence: i64,
    },
    /// Invalid.
    Rejected {
        /// (field, description) pairs.
        violations: Vec<(String, String)>,
    },
}

/// A row on its way through the pipeline.
enum Stage {
    Valid(Box<ValidRow>),
    Holding(Box<ValidRow>, HoldReason, String),
    Rejected(Vec<(String, String)>),
}

/// Where a batch of a bulk load sits in its load.
#[derive(Debug, Clone)]
pub struct LoadPosition {
    /// The load.
    pub load_id: String,
    /// Offset of the batch's first row.
    pub first_offset: i64,
    /// The load's offset before this batch (for the optimistic check).
    pub expected_offset: i64,
}

/// The ingest pipeline: database, catalogue cache and rates.
#[derive(Debug)]
pub struct Pipeline {
    /// The database.
    pub pool: PgPool,
    /// Names through the catalogue.
    pub references: References,
    /// Exchange rates.
    pub rates: Rates,
}

/// Today in Vietnam (UTC+7): the last valid event date.
#[must_use]
pub fn today_in_vietnam() -> NaiveDate {
    (chrono::Utc::now() + chrono::Duration::hours(7)).date_naive()
}

fn unknown_detail(what: &str, name: &str, suggestions: &[String]) -> String {
    if suggestions.is_empty() {
        format!("{what} `{name}` is not in the catalogue")
    } else {
        format!(
            "{what} `{name}` is not in the catalogue; nearest: {}",
            suggestions.join(", ")
        )
    }
}

/// A batch checked and resolved, ready to be recorded.
#[derive(Debug)]
pub struct Prepared {
    events: Vec<EventRow>,
    held: Vec<HeldCandidate>,
    slots: Vec<Slot>,
    step: Option<LoadStep>,
}

impl Pipeline {
    /// Processes rows: [`Pipeline::prepare`] then [`Pipeline::commit`].
    ///
    /// # Errors
    /// See those.
    pub async fn process(
        &self,
        rows: &[EventInput],
        field_prefix: &(dyn Fn(usize) -> String + Sync),
        load: Option<&LoadPosition>,
    ) -> Result<Vec<Outcome>> {
        let prepared = self.prepare(rows, field_prefix, load).await?;
        self.commit(prepared).await
    }

    /// Records a prepared batch in one transaction (with the load's progress).
    ///
    /// # Errors
    /// When the database cannot be reached, or another stream moved the load (ABORTED).
    pub async fn commit(&self, prepared: Prepared) -> Result<Vec<Outcome>> {
        let span = tracing::info_span!(
            "ingest.commit",
            rows = prepared.slots.len(),
            accepted = Empty,
            duplicates = Empty,
            held = Empty,
            rejected = Empty,
        );
        async move {
            let write = fdi_kit::telemetry::db_span("INSERT", "events");
            write.record("fdi.rows", prepared.events.len() + prepared.held.len());
            let written = store::write_batch(&self.pool, &prepared.events, &prepared.held, prepared.step.as_ref())
                .instrument(write)
                .await?;
            let outcomes: Vec<Outcome> = prepared
                .slots
                .into_iter()
                .map(|slot| match slot {
                    Slot::Done(outcome) => outcome,
                    Slot::Event(i) => written.events[i].clone(),
                    Slot::Held(i) => written.held[i].clone(),
                })
                .collect();
            record_outcomes(&outcomes);
            Ok(outcomes)
        }
        .instrument(span)
        .await
    }

    /// Validates rows, resolves their names (creating unknown investors)
    /// and converts their amounts; `field_prefix(i)` names row `i` in
    /// violations. Nothing is recorded yet.
    ///
    /// # Errors
    /// When the catalogue cannot be reached.
    #[tracing::instrument(name = "ingest.prepare", skip_all, fields(rows = rows.len()))]
    pub async fn prepare(
        &self,
        rows: &[EventInput],
        field_prefix: &(dyn Fn(usize) -> String + Sync),
        load: Option<&LoadPosition>,
    ) -> Result<Prepared> {
        let today = today_in_vietnam();
        let mut stages: Vec<Stage> = rows
            .iter()
            .enumerate()
            .map(|(i, row)| {
                let mut violations = Violations::new();
                match validate(row, &field_prefix(i), today, &mut violations) {
                    Some(valid) => Stage::Valid(Box::new(valid)),
                    None => Stage::Rejected(violations.items().to_vec()),
                }
            })
            .collect();

        // Places: one catalogue round trip at most for all the batch's new names.
        let names = stages.iter().filter_map(|stage| match stage {
            Stage::Valid(row) => Some(row),
            _ => None,
        });
        let names: Vec<(PlaceKind, &str)> = names
            .flat_map(|row| {
                [
                    (PlaceKind::Zone, row.input.zone.as_str()),
                    (PlaceKind::Province, row.input.province.as_str()),
                ]
                .into_iter()
                .filter(|(_, text)| !text.is_empty())
            })
            .collect();
        let places = self.references.places(names).await?;

        let mut resolved: Vec<Option<ResolvedPlace>> = vec![None; stages.len()];
        for (i, stage) in stages.iter_mut().enumerate() {
            let Stage::Valid(row) = stage else { continue };
            let hold = match place_of(row, &places) {
                Err(PlaceProblem::Hold(reason, detail)) => Some((reason, detail)),
                Err(PlaceProblem::Mismatch(description)) => {
                    *stage = Stage::Rejected(vec![(format!("{}province", field_prefix(i)), description)]);
                    continue;
                }
                Ok(place) => {
                    resolved[i] = Some(place);
                    match (row.amount, row.currency.as_deref()) {
                        (Some(amount), Some(currency))
                            if self.rates.convert(amount, currency, row.event_date).is_none() =>
                        {
                            let detail = format!(
                                "no exchange rate for {currency} (or USD) in {} or {}",
                                row.event_date.format("%Y-%m"),
                                row.event_date.format("%Y")
                            );
                            Some((HoldReason::NoExchangeRate, detail))
                        }
                        _ => None,
                    }
                }
            };
            if let Some((reason, detail)) = hold {
                let Stage::Valid(row) = std::mem::replace(stage, Stage::Rejected(Vec::new())) else {
                    continue;
                };
                *stage = Stage::Holding(row, reason, detail);
            }
        }

        // Investors of the rows that will be recorded, created in the catalogue when new.
        let investor_names: Vec<(&str, &str)> = stages
            .iter()
            .filter_map(|s| match s {
                Stage::Valid(row) if !row.input.investor.is_empty() => {
                    Some((row.input.investor.as_str(), row.investor_country.as_str()))
                }
                _ => None,
            })
            .collect();
        let investors = self.references.investors(investor_names).await?;

        let mut events = Vec::new();
        let mut held = Vec::new();
        let mut slots = Vec::with_capacity(stages.len());
        for (i, stage) in stages.into_iter().enumerate() {
            let offset = load.map(|l| l.first_offset + i64::try_from(i).unwrap_or_default());
            match stage {
                Stage::Rejected(violations) => slots.push(Slot::Done(Outcome::Rejected { violations })),
                Stage::Holding(row, reason, detail) => {
                    slots.push(Slot::Held(held.len()));
                    held.push(HeldCandidate {
                        key: row.input.idempotency_key.clone(),
                        digest: row.digest,
                        input: row.input,
                        reason,
                        detail,
                        load_id: load.map(|l| l.load_id.clone()).unwrap_or_default(),
                        load_offset: offset.unwrap_or_default(),
                    });
                }
                Stage::Valid(row) => {
                    let place = resolved[i].take().unwrap_or_default();
                    let converted = match (row.amount, row.currency.as_deref()) {
                        (Some(amount), Some(currency)) => self.rates.convert(amount, currency, row.event_date),
                        _ => None,
                    };
                    slots.push(Slot::Event(events.len()));
                    events.push(EventRow {
                        key: row.input.idempotency_key.clone(),
                        digest: row.digest.clone(),
                        kind: row.kind,
                        event_date: row.event_date,
                        investor_id: References::investor_id(&investors, &row.input.investor),
                        zone_id: place.zone,
                        province: place.recorded,
                        current_province: place.current,
                        amount_usd: converted.map(|c| c.usd),
                        amount_vnd: converted.map(|c| c.vnd),
                        load_id: load.map(|l| l.load_id.clone()),
                        load_offset: offset,
                        row: *row,
                    });
                }
            }
        }
        let rejected = slots
            .iter()
            .filter(|s| matches!(s, Slot::Done(Outcome::Rejected { .. })))
            .count();
        let step = load.map(|l| LoadStep {
            load_id: l.load_id.clone(),
            expected_offset: l.expected_offset,
            new_offset: l.first_offset + i64::try_from(rows.len()).unwrap_or_default(),
            rejected: i64::try_from(rejected).unwrap_or_default(),
        });
        Ok(Prepared {
            events,
            held,
            slots,
            step,
        })
    }
}

/// Where an event happened.
#[derive(Debug, Clone, Default)]
struct ResolvedPlace {
    /// The province as recorded (a pre-2025 unit where the row names one).
    recorded: String,
    /// Today's province.
    current: String,
    /// The zone, when given.
    zone: Option<String>,
}

/// Why a row's places do not resolve.
enum PlaceProblem {
    /// A name is unknown: hold the row.
    Hold(HoldReason, String),
    /// Province and zone disagree: reject the row.
    Mismatch(String),
}

/// Decides the recorded province, today's province and the zone of a row.
fn place_of(row: &ValidRow, places: &PlaceResults) -> Result<ResolvedPlace, PlaceProblem> {
    let find = |kind, text: &str, reason, what| match References::lookup(places, kind, text) {
        Some(PlaceLookup::Found(place)) => Ok(place.clone()),
        Some(PlaceLookup::Unknown(suggestions)) => {
            Err(PlaceProblem::Hold(reason, unknown_detail(what, text, suggestions)))
        }
        None => Err(PlaceProblem::Hold(reason, format!("{what} `{text}` was not resolved"))),
    };
    let province = match row.input.province.as_str() {
        "" => None,
        text => Some(find(
            PlaceKind::Province,
            text,
            HoldReason::UnknownProvince,
            "province",
        )?),
    };
    let zone = match row.input.zone.as_str() {
        "" => None,
        text => Some(find(PlaceKind::Zone, text, HoldReason::UnknownZone, "zone")?),
    };
    match (province, zone) {
        (Some(province), Some(zone)) if province.current_province != zone.current_province => {
            Err(PlaceProblem::Mismatch(format!(
                "`{}` is part of provinces/{}, but zone `{}` lies in provinces/{}",
                row.input.province, province.current_province, row.input.zone, zone.current_province
            )))
        }
        (Some(province), zone) => Ok(ResolvedPlace {
            recorded: province.id,
            current: province.current_province,
            zone: zone.map(|z| z.id),
        }),
        // The zone decides: before the reform, the province it was recorded under; after, today's.
        (None, Some(zone)) => Ok(ResolvedPlace {
            recorded: if row.event_date < MERGER_DATE {
                zone.recorded_province
            } else {
                zone.current_province.clone()
            },
            current: zone.current_province,
            zone: Some(zone.id),
        }),
        (None, None) => Err(PlaceProblem::Mismatch("a province or a zone is required".to_owned())),
    }
}

#[derive(Debug)]
enum Slot {
    Done(Outcome),
    Event(usize),
    Held(usize),
}

/// Counts rows by outcome on the current span and in the `fdi.ingest.rows` metric.
fn record_outcomes(outcomes: &[Outcome]) {
    static ROWS: OnceLock<Counter<u64>> = OnceLock::new();
    let rows = ROWS.get_or_init(|| {
        opentelemetry::global::meter("fdi-atlas")
            .u64_counter("fdi.ingest.rows")
            .with_description("Rows received by ingest, by outcome")
            .build()
    });
    let (accepted, duplicates, held, rejected) = tally(outcomes);
    let span = tracing::Span::current();
    for (outcome, count) in [
        ("accepted", accepted),
        ("duplicate", duplicates),
        ("held", held),
        ("rejected", rejected),
    ] {
        let count = u64::try_from(count).unwrap_or_default();
        span.record(if outcome == "duplicate" { "duplicates" } else { outcome }, count);
        if count > 0 {
            rows.add(count, &[KeyValue::new("outcome", outcome)]);
        }
    }
}

/// Sums a batch's outcomes: (accepted, duplicates, held, rejected).
#[must_use]
pub fn tally(outcomes: &[Outcome]) -> (i32, i32, i32, i32) {
    let mut counts = (0, 0, 0, 0);
    for outcome in outcomes {
        match outcome {
            Outcome::Accepted { .. } => counts.0 += 1,
            Outcome::Duplicate { .. } => counts.1 += 1,
            Outcome::Held { .. } => counts.2 += 1,
            Outcome::Conflict { .. } | Outcome::Rejected { .. } => counts.3 += 1,
        }
    }
    counts
}
