//! Recording a batch in one transaction: events (exactly once, by
//! idempotency key), held rows, and the bulk load's progress, all durable
//! together or not at all. This is the hot path of a bulk load: a fixed
//! number of statements per batch, whatever its size.

use std::collections::{HashMap, HashSet};

use sqlx::PgConnection;

use super::{Result, Store, events, held, held::HeldId, loads};
use crate::model::{HeldCandidate, KeyHolder, LoadStep, NewEvent, Outcome, Tally};

/// Serialises writers so sequence numbers commit in order: a consumer that
/// has seen sequence N has seen every event below N.
const WRITER_LOCK: i64 = 0x00fd_1a71_a500_0001;

/// Outcomes of the written rows, in input order.
#[derive(Debug, Default)]
pub struct Written {
    /// One per event row.
    pub events: Vec<Outcome>,
    /// One per held candidate.
    pub held: Vec<Outcome>,
}

/// Sequence number and content digest of recorded events, by idempotency key.
type Recorded = HashMap<String, (i64, Vec<u8>)>;

impl Store {
    /// Records events and held rows, and advances the load, in one transaction.
    ///
    /// # Errors
    /// When the database fails, or [`super::StoreError::LoadAdvanced`] when
    /// another stream advanced the load.
    pub async fn write_batch(
        &self,
        events: &[NewEvent],
        held: &[HeldCandidate],
        load: Option<&LoadStep>,
    ) -> Result<Written> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(WRITER_LOCK)
            .execute(&mut *tx)
            .await?;
        let inserted = if events.is_empty() {
            HashMap::new()
        } else {
            events::insert(&mut tx, events).await?
        };
        // Keys that did not go in, and keys of rows to hold: are they recorded already?
        let recorded = recorded(&mut tx, unsettled_keys(events, held, &inserted)).await?;
        let mut written = Written {
            events: event_outcomes(events, &inserted, &recorded),
            held: Vec::with_capacity(held.len()),
        };
        let to_hold = held_outcomes(held, &inserted, &recorded, &mut written.held);
        if !to_hold.is_empty() {
            let ids = held::insert(&mut tx, &to_hold).await?;
            assign_held_ids(&mut written.held, held, &ids);
        }
        if !inserted.is_empty() {
            held::release_recorded(&mut tx, &inserted).await?;
            events::notify(&mut tx, inserted.values().max().copied().unwrap_or_default()).await?;
        }
        if let Some(step) = load {
            loads::advance(&mut tx, step, Tally::of(written.events.iter().chain(&written.held))).await?;
        }
        tx.commit().await?;
        Ok(written)
    }
}

/// Keys of events that did not go in, and of rows to hold.
fn unsettled_keys(events: &[NewEvent], held: &[HeldCandidate], inserted: &HashMap<String, i64>) -> Vec<String> {
    events
        .iter()
        .map(|event| &event.facts.idempotency_key)
        .filter(|key| !inserted.contains_key(*key))
        .map(String::as_str)
        .chain(held.iter().map(HeldCandidate::key))
        .map(str::to_owned)
        .collect()
}

/// The recorded events among `keys`.
async fn recorded(tx: &mut PgConnection, keys: Vec<String>) -> Result<Recorded> {
    if keys.is_empty() {
        return Ok(Recorded::new());
    }
    let rows: Vec<(String, i64, Vec<u8>)> =
        sqlx::query_as("SELECT idempotency_key, sequence, content_digest FROM events WHERE idempotency_key = ANY($1)")
            .bind(&keys)
            .fetch_all(&mut *tx)
            .await?;
    Ok(rows
        .into_iter()
        .map(|(key, sequence, digest)| (key, (sequence, digest)))
        .collect())
}

/// A row against the event recorded under its key: a duplicate when the
/// content is the same, else a conflict; `None` when nothing is recorded.
fn against_recorded(recorded: &Recorded, key: &str, digest: &[u8]) -> Option<Outcome> {
    recorded.get(key).map(|(sequence, recorded)| {
        if recorded.as_slice() == digest {
            Outcome::Duplicate { sequence: *sequence }
        } else {
            Outcome::Conflict {
                sequence: KeyHolder::Event(*sequence),
            }
        }
    })
}

/// The outcome of each event row: the first row of a key that went in is
/// accepted; later rows of the batch with that key compare against it.
fn event_outcomes(events: &[NewEvent], inserted: &HashMap<String, i64>, recorded: &Recorded) -> Vec<Outcome> {
    let mut claimed = HashSet::new();
    events
        .iter()
        .map(|event| {
            let key = &event.facts.idempotency_key;
            match inserted.get(key) {
                Some(&sequence) if claimed.insert(key.clone()) => Outcome::Accepted { sequence },
                Some(&sequence) => {
                    let first = events
                        .iter()
                        .find(|e| e.facts.idempotency_key == *key)
                        .map(|e| &e.digest);
                    if first == Some(&event.digest) {
                        Outcome::Duplicate { sequence }
                    } else {
                        Outcome::Conflict {
                            sequence: KeyHolder::Event(sequence),
                        }
                    }
                }
                None => against_recorded(recorded, key, &event.digest).unwrap_or(Outcome::Rejected {
                    violations: vec![("idempotency_key".into(), "could not be recorded; send it again".into())],
                }),
            }
        })
        .collect()
}

/// The outcome of each row to hold (pushed to `outcomes`): a row recorded
/// meanwhile is a duplicate or a conflict; the others are returned, to be
/// held, once per key (a later row of the batch with the key of an earlier
/// one is held as that one when its content is the same, else conflicts with it).
fn held_outcomes<'a>(
    held: &'a [HeldCandidate],
    inserted: &HashMap<String, i64>,
    recorded: &Recorded,
    outcomes: &mut Vec<Outcome>,
) -> Vec<&'a HeldCandidate> {
    let mut to_hold: Vec<&HeldCandidate> = Vec::new();
    let mut first_of_key: HashMap<&str, &HeldCandidate> = HashMap::new();
    for candidate in held {
        let settled = against_recorded(recorded, candidate.key(), &candidate.digest).or_else(|| {
            inserted.get(candidate.key()).map(|&sequence| Outcome::Conflict {
                sequence: KeyHolder::Event(sequence),
            })
        });
        outcomes.push(settled.unwrap_or_else(|| {
            match first_of_key.get(candidate.key()) {
                Some(first) if first.digest != candidate.digest => {
                    // Its held row's id is known once the batch's rows are held.
                    return Outcome::Conflict {
                        sequence: KeyHolder::Held(0),
                    };
                }
                Some(_) => {}
                None => {
                    first_of_key.insert(candidate.key(), candidate);
                    to_hold.push(candidate);
                }
            }
            Outcome::Held {
                reason: candidate.reason,
                detail: candidate.detail.clone(),
                held_id: 0,
            }
        }));
    }
    to_hold
}

/// Gives each held outcome, and each conflict with a held row, the id of
/// the held row of its key; a row whose key is held already with other
/// content (`ids` says so) becomes a conflict with it.
fn assign_held_ids(outcomes: &mut [Outcome], held: &[HeldCandidate], ids: &HashMap<String, HeldId>) {
    for (outcome, candidate) in outcomes.iter_mut().zip(held) {
        match (&mut *outcome, ids.get(candidate.key())) {
            (Outcome::Held { held_id, .. }, Some(HeldId::Kept(id))) => *held_id = *id,
            (Outcome::Held { .. }, Some(HeldId::Other(id))) => {
                *outcome = Outcome::Conflict {
                    sequence: KeyHolder::Held(*id),
                };
            }
            (
                Outcome::Conflict {
                    sequence: KeyHolder::Held(held_id),
                },
                Some(HeldId::Kept(id) | HeldId::Other(id)),
            ) => *held_id = *id,
            _ => {}
        }
    }
}
