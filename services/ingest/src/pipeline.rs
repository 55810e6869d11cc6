//! The write path every way in shares (single submissions, bulk batches,
//! re-processed held rows): validate, resolve names through the catalogue,
//! convert amounts, then record the batch in one transaction.

use std::sync::OnceLock;

use fdi_kit::{
    access::Caller,
    domain::{MERGER_DATE, today_in_vietnam},
    status::Violations,
    telemetry::db_span,
};
use fdi_proto::ingest::{EventInput, HoldReason};
use opentelemetry::{KeyValue, metrics::Counter};
use tracing::{Instrument, field::Empty};

use crate::{
    access::{denial, may_write, row_place},
    error::Result,
    model::{EventFacts, HeldCandidate, LoadOffset, LoadStep, NewEvent, Outcome, Tally},
    rates::{Converted, Rates},
    references::{Investors, Place, PlaceKind, PlaceLookup, PlaceResults, References},
    store::{Store, StoreError},
    validate::{ValidRow, validate},
};

/// Where a batch of a bulk load sits in its load.
#[derive(Debug, Clone)]
pub struct LoadPosition {
    /// The load.
    pub load_id: String,
    /// Offset of the batch's first row.
    pub first_offset: i64,
    /// The load's offset before this batch (for the optimistic check).
    pub expected_offset: i64,
    /// The load's content digest after this batch (stored with the new offset).
    pub new_digest: Vec<u8>,
}

/// The ingest pipeline: the store, the catalogue cache and the rates.
#[derive(Debug)]
pub struct Pipeline {
    /// The database.
    pub store: Store,
    /// Names through the catalogue.
    pub references: References,
    /// Exchange rates.
    pub rates: Rates,
}

/// Names row `i` of a batch in violations (`rows[12].`, `event.`).
pub type FieldPrefix<'a> = &'a (dyn Fn(usize) -> String + Sync);

/// Who sends a batch: the caller, whose provinces each row is checked
/// against, and who each row is recorded as made by.
#[derive(Debug, Clone, Copy)]
pub struct Sender<'a> {
    caller: &'a Caller,
    creators: Option<&'a [String]>,
}

impl<'a> Sender<'a> {
    /// Rows sent by `caller`, recorded as its own.
    #[must_use]
    pub fn caller(caller: &'a Caller) -> Self {
        Self { caller, creators: None }
    }

    /// Held rows re-sent by `caller`: row `i` stays recorded as made by
    /// `creators[i]`, the key that first sent it, since that key vouches for its content.
    #[must_use]
    pub fn on_behalf_of(caller: &'a Caller, creators: &'a [String]) -> Self {
        Self {
            caller,
            creators: Some(creators),
        }
    }

    /// Who row `i` is recorded as made by.
    fn creator(&self, i: usize) -> &str {
        self.creators
            .and_then(|creators| creators.get(i))
            .map_or(self.caller.key_id.as_str(), String::as_str)
    }
}

/// A checked row on its way to the database, once its places are resolved.
enum Stage {
    /// To be recorded: where it happened, and its amount converted.
    Placed(Box<ValidRow>, ResolvedPlace, Option<Converted>),
    /// To be held until the reference data it needs exists.
    Holding(Box<ValidRow>, HoldReason, String),
    /// Refused: (field, description) pairs.
    Rejected(Vec<(String, String)>),
    /// Outside the caller's provinces: (field, description).
    Denied(String, String),
}

/// A batch checked and resolved, ready to be recorded.
#[derive(Debug)]
pub struct Prepared {
    events: Vec<NewEvent>,
    held: Vec<HeldCandidate>,
    slots: Vec<Slot>,
    step: Option<LoadStep>,
}

/// Where the outcome of a batch's row comes from.
#[derive(Debug)]
enum Slot {
    /// Decided before the database.
    Done(Outcome),
    /// The outcome of the batch's event `i`.
    Event(usize),
    /// The outcome of the batch's held row `i`.
    Held(usize),
}

impl Pipeline {
    /// Reloads the in-memory rates from the database (picking up other replicas' writes).
    ///
    /// # Errors
    /// When the database fails.
    pub async fn reload_rates(&self) -> Result<(), StoreError> {
        self.rates.replace(self.store.rate_table().await?);
        Ok(())
    }

    /// Processes rows: [`Pipeline::prepare`] then [`Pipeline::commit`].
    ///
    /// # Errors
    /// See those.
    pub async fn process(
        &self,
        rows: &[EventInput],
        field_prefix: FieldPrefix<'_>,
        load: Option<&LoadPosition>,
        sender: Sender<'_>,
    ) -> Result<Vec<Outcome>> {
        let prepared = self.prepare(rows, field_prefix, load, sender).await?;
        self.commit(prepared).await
    }

    /// Records a prepared batch in one transaction (with the load's progress).
    ///
    /// # Errors
    /// When the database cannot be reached, or another stream moved the load.
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
            let write = db_span("INSERT", "events");
            write.record("fdi.rows", prepared.events.len() + prepared.held.len());
            let written = self
                .store
                .write_batch(&prepared.events, &prepared.held, prepared.step.as_ref())
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

    /// Validates rows, resolves their names (creating unknown investors),
    /// refuses those outside the sender's provinces and converts the amounts
    /// of the rest; `field_prefix(i)` names row `i` in violations. Nothing
    /// is recorded yet.
    ///
    /// # Errors
    /// When the catalogue cannot be reached.
    #[tracing::instrument(name = "ingest.prepare", skip_all, fields(rows = rows.len()))]
    pub async fn prepare(
        &self,
        rows: &[EventInput],
        field_prefix: FieldPrefix<'_>,
        load: Option<&LoadPosition>,
        sender: Sender<'_>,
    ) -> Result<Prepared> {
        let today = today_in_vietnam();
        let checked: Vec<Result<Box<ValidRow>, Violations>> = rows
            .iter()
            .enumerate()
            .map(|(i, row)| {
                let mut violations = Violations::new();
                validate(row, &field_prefix(i), today, &mut violations)
                    .map(Box::new)
                    .ok_or(violations)
            })
            .collect();
        let stages = self.place(checked, field_prefix, sender.caller).await?;

        // Investors of the rows that will be recorded, created in the catalogue when new.
        let investor_names: Vec<(&str, &str)> = stages
            .iter()
            .filter_map(|stage| match stage {
                Stage::Placed(row, ..) if !row.input.investor.is_empty() => {
                    Some((row.input.investor.as_str(), row.investor_country.as_str()))
                }
                _ => None,
            })
            .collect();
        let investors = self.references.investors(investor_names).await?;
        // A row whose investor the catalogue refuses is that row's violation; the rest go on.
        let stages = stages
            .into_iter()
            .enumerate()
            .map(|(i, stage)| match stage {
                Stage::Placed(row, ..) if investors.refusal(&row.input.investor).is_some() => {
                    let why = investors.refusal(&row.input.investor).unwrap_or_default();
                    Stage::Rejected(vec![(
                        format!("{}investor", field_prefix(i)),
                        format!("is not a name the catalogue accepts: {why}"),
                    )])
                }
                stage => stage,
            })
            .collect();
        Ok(assemble(stages, &investors, load, sender))
    }

    /// Resolves the places of the valid rows (one catalogue round trip at
    /// most for all the batch's new names), refuses the rows `caller` may not
    /// write, and converts the amounts of the rest: a row whose names or rate
    /// are unknown is held.
    async fn place(
        &self,
        checked: Vec<Result<Box<ValidRow>, Violations>>,
        field_prefix: FieldPrefix<'_>,
        caller: &Caller,
    ) -> Result<Vec<Stage>> {
        let names: Vec<(PlaceKind, &str)> = checked
            .iter()
            .flatten()
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
        Ok(checked
            .into_iter()
            .enumerate()
            .map(|(i, row)| match row {
                Err(violations) => Stage::Rejected(violations.items().to_vec()),
                Ok(row) => self.stage(row, &places, caller, &field_prefix(i)),
            })
            .collect())
    }

    /// What becomes of a valid row (named `prefix` in violations) once the batch's places are resolved.
    fn stage(&self, row: Box<ValidRow>, places: &PlaceResults, caller: &Caller, prefix: &str) -> Stage {
        let placed = place_of(&row, places);
        // Checked before anything else decides the row's fate: a row the caller may not write is
        // never held, converted, or counted as anything but rejected.
        let checked_by = match &placed {
            Ok(place) => Some((place.recorded.as_str(), place.current.as_str())),
            Err(_) => known_province(&row, places).map(|p| (p.id.as_str(), p.current_province.as_str())),
        };
        if let Err(description) = in_scope(caller, &row, checked_by) {
            let field = if row.input.province.is_empty() {
                "zone"
            } else {
                "province"
            };
            return Stage::Denied(format!("{prefix}{field}"), description);
        }
        match placed {
            Err(PlaceProblem::Hold(reason, detail)) => Stage::Holding(row, reason, detail),
            Err(PlaceProblem::Mismatch(description)) => {
                Stage::Rejected(vec![(format!("{prefix}province"), description)])
            }
            Ok(place) => match self.convert(&row) {
                Ok(converted) => Stage::Placed(row, place, converted),
                Err(detail) => Stage::Holding(row, HoldReason::NoExchangeRate, detail),
            },
        }
    }

    /// A row's amount in both reporting currencies (`None` without an
    /// amount); `Err` says which rate is missing.
    fn convert(&self, row: &ValidRow) -> Result<Option<Converted>, String> {
        let (Some(amount), Some(currency)) = (row.amount, row.currency.as_deref()) else {
            return Ok(None);
        };
        match self.rates.convert(amount, currency, row.event_date) {
            Some(converted) => Ok(Some(converted)),
            None => Err(format!(
                "no exchange rate for {currency} (or USD) in {} or {}",
                row.event_date.format("%Y-%m"),
                row.event_date.format("%Y")
            )),
        }
    }
}

/// The province a row names, when the catalogue knows it (even if the row's zone is not known yet).
fn known_province<'p>(row: &ValidRow, places: &'p PlaceResults) -> Option<&'p Place> {
    match References::lookup(places, PlaceKind::Province, &row.input.province) {
        Some(PlaceLookup::Found(place)) => Some(place),
        _ => None,
    }
}

/// Whether `caller` may write `row`, placed by (recorded, today's) province `place`; `Err` says why not.
///
/// A row whose province is not known yet cannot be checked, so a caller who does not write everywhere
/// has it refused rather than held: held, it would be recorded on re-processing, which runs as an admin.
/// A row held for an unknown zone is checked by its known province; when the zone resolves, it must lie
/// in that province or the row is rejected then.
fn in_scope(caller: &Caller, row: &ValidRow, place: Option<(&str, &str)>) -> Result<(), String> {
    if caller.writes_everywhere() {
        return Ok(());
    }
    let Some((recorded, current)) = place else {
        let name = if row.input.province.is_empty() {
            &row.input.zone
        } else {
            &row.input.province
        };
        return Err(denial(
            caller,
            &format!(
                "`{name}` is not in the catalogue, so the row's province cannot be checked; it is refused, not held \
                 (send it again once the catalogue knows the name)"
            ),
        ));
    };
    if may_write(caller, recorded, current, row.event_date) {
        Ok(())
    } else {
        Err(denial(caller, &row_place(recorded, current, row.event_date)))
    }
}

/// Turns the batch's stages into events and rows to hold (each recorded as
/// made by its sender), remembering where each row's outcome will come from,
/// and the load's advance: every row of the batch, refused ones included,
/// moves the offset (as the load's content digest covers them all).
fn assemble(stages: Vec<Stage>, investors: &Investors, load: Option<&LoadPosition>, sender: Sender<'_>) -> Prepared {
    let rows = stages.len();
    let mut events = Vec::new();
    let mut held = Vec::new();
    let mut slots = Vec::with_capacity(stages.len());
    let mut rejected = 0;
    for (i, stage) in stages.into_iter().enumerate() {
        let offset = load.map(|l| LoadOffset {
            load_id: l.load_id.clone(),
            offset: l.first_offset + i64::try_from(i).unwrap_or_default(),
        });
        match stage {
            Stage::Rejected(violations) => {
                rejected += 1;
                slots.push(Slot::Done(Outcome::Rejected { violations }));
            }
            Stage::Denied(field, description) => {
                rejected += 1;
                slots.push(Slot::Done(Outcome::Denied { field, description }));
            }
            Stage::Holding(row, reason, detail) => {
                slots.push(Slot::Held(held.len()));
                held.push(HeldCandidate {
                    input: row.input,
                    digest: row.digest,
                    reason,
                    detail,
                    load: offset,
                    creator: sender.creator(i).to_owned(),
                });
            }
            Stage::Placed(row, place, converted) => {
                let investor_id = investors.id(&row.input.investor);
                slots.push(Slot::Event(events.len()));
                let creator = sender.creator(i).to_owned();
                events.push(new_event(*row, place, converted, investor_id, offset, creator));
            }
        }
    }
    let step = load.map(|l| LoadStep {
        load_id: l.load_id.clone(),
        expected_offset: l.expected_offset,
        new_offset: l.first_offset + i64::try_from(rows).unwrap_or_default(),
        rejected,
        new_digest: l.new_digest.clone(),
    });
    Prepared {
        events,
        held,
        slots,
        step,
    }
}

/// The event a placed row records.
fn new_event(
    row: ValidRow,
    place: ResolvedPlace,
    converted: Option<Converted>,
    investor_id: Option<i64>,
    load: Option<LoadOffset>,
    creator: String,
) -> NewEvent {
    let ValidRow {
        input,
        kind,
        event_date,
        investor_country,
        amount,
        currency,
        scope,
        status,
        digest,
    } = row;
    let facts = EventFacts {
        idempotency_key: input.idempotency_key,
        kind,
        event_date,
        project_ref: input.project_ref,
        project_name: input.project_name,
        investor_id,
        investor_text: input.investor,
        investor_country,
        zone_id: place.zone,
        province_code: place.recorded,
        current_province_code: place.current,
        sector: input.sector,
        amount,
        currency,
        amount_usd: converted.map(|c| c.usd),
        amount_vnd: converted.map(|c| c.vnd),
        scope,
        status,
        source: input.source,
    };
    NewEvent {
        facts,
        digest,
        load,
        creator,
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

/// Decides the recorded province, today's province and the zone of a row.
fn place_of(row: &ValidRow, places: &PlaceResults) -> Result<ResolvedPlace, PlaceProblem> {
    let find = |kind, text: &str, reason, what| match text {
        "" => Ok(None),
        text => match References::lookup(places, kind, text) {
            Some(PlaceLookup::Found(place)) => Ok(Some(place.clone())),
            Some(PlaceLookup::Unknown(suggestions)) => {
                Err(PlaceProblem::Hold(reason, unknown_detail(what, text, suggestions)))
            }
            None => Err(PlaceProblem::Hold(reason, format!("{what} `{text}` was not resolved"))),
        },
    };
    let province = find(
        PlaceKind::Province,
        &row.input.province,
        HoldReason::UnknownProvince,
        "province",
    )?;
    let zone = find(PlaceKind::Zone, &row.input.zone, HoldReason::UnknownZone, "zone")?;
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

/// Counts rows by outcome on the current span and in the `fdi.ingest.rows` metric.
fn record_outcomes(outcomes: &[Outcome]) {
    static ROWS: OnceLock<Counter<u64>> = OnceLock::new();
    let rows = ROWS.get_or_init(|| {
        opentelemetry::global::meter("fdi-atlas")
            .u64_counter("fdi.ingest.rows")
            .with_description("Rows received by ingest, by outcome")
            .build()
    });
    let tally = Tally::of(outcomes);
    let span = tracing::Span::current();
    for (outcome, field, count) in [
        ("accepted", "accepted", tally.accepted),
        ("duplicate", "duplicates", tally.duplicates),
        ("held", "held", tally.held),
        ("rejected", "rejected", tally.rejected),
    ] {
        let count = u64::try_from(count).unwrap_or_default();
        span.record(field, count);
        if count > 0 {
            rows.add(count, &[KeyValue::new("outcome", outcome)]);
        }
    }
}
