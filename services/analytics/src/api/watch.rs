//! Watch: alerts pushed as events are folded into the rollups: an event at
//! or above a threshold, or a province reaching its target for the year.

use std::{collections::HashSet, sync::Arc};

use chrono::Datelike;
use fdi_kit::{
    domain::{EventStatus, MAX_NAME_CHARS, ReportingCurrency, Scope},
    money::{from_money, to_money},
    period::{Span, date_to_proto},
    status::{Violations, check_text, invalid_argument},
};
use fdi_proto::{
    analytics::{self as pb, AlertKind},
    common::Figure,
};
use rust_decimal::Decimal;
use tokio::sync::{
    broadcast::{self, error::RecvError},
    mpsc,
};
use tokio_stream::wrappers::ReceiverStream;
use tonic::Status;

use super::{AlertStream, MAX_PLACES, State};
use crate::{
    consumer::{Applied, AppliedBatch},
    error::Result,
    query::{Filter, GroupBy, figure_value, kinds_of},
    store::{self, targets::MoneyTarget},
};

/// The figure whose targets Watch reports crossing.
const WATCHED_FIGURE: Figure = Figure::TotalCapital;
/// Longest threshold currency code looked at (codes are three letters; spaces are trimmed first).
const MAX_CURRENCY_CODE_BYTES: usize = 8;

/// Checks the request, takes a slot under the caps for `caller` (its key id,
/// or its address where anonymous calls are allowed) and starts the stream.
pub(super) async fn start(state: Arc<State>, caller: String, request: pb::WatchRequest) -> Result<AlertStream> {
    let threshold = match &request.threshold {
        Some(money) => {
            // A currency code is three letters; anything much longer is not worth upper-casing.
            let code = money.currency_code.trim();
            let currency = (code.len() <= MAX_CURRENCY_CODE_BYTES)
                .then(|| ReportingCurrency::parse(&code.to_ascii_uppercase()))
                .flatten()
                .ok_or_else(|| invalid_argument("threshold.currency_code", "must be USD or VND"))?;
            let amount = from_money(money)
                .filter(|a| !a.is_sign_negative())
                .ok_or_else(|| invalid_argument("threshold", "must be a non-negative amount"))?;
            Some((amount, currency))
        }
        None => None,
    };
    if threshold.is_none() && !request.target_crossings {
        return Err(invalid_argument("threshold", "set a threshold, target_crossings, or both").into());
    }
    let texts = province_texts(&request.provinces)?;
    // The slot is taken before the catalogue is asked, so a caller at its cap costs no catalogue call;
    // it is given back when this function fails or, once the stream runs, when its task ends.
    let slot = state.watchers.admit(caller)?;
    let mut provinces = HashSet::new();
    for (i, text) in texts {
        provinces.insert(
            state
                .places
                .province(text, &format!("provinces[{i}]"))
                .await?
                .current
                .to_string(),
        );
    }
    if request.resume_after_sequence < 0 {
        return Err(invalid_argument("resume_after_sequence", "must be 0 (from now) or a sequence").into());
    }
    // Subscribed before reading where this replica is: every batch after that point reaches the stream.
    let applied = state.applied.subscribe();
    let (sender, receiver) = mpsc::channel(64);
    let watcher = Watcher {
        threshold,
        target_crossings: request.target_crossings,
        provinces,
    };
    let position = Position::start(request.resume_after_sequence, state.cube.sequence());
    tokio::spawn(async move {
        // Holding the slot for as long as the task runs: whatever ends it releases the slot.
        let _slot = slot;
        tokio::select! {
            // The client is gone (the receiver dropped): noticed even when no alert ever matches.
            () = sender.closed() => {}
            () = watcher.run(&state, position, applied, &sender) => {}
        }
    });
    Ok(Box::pin(ReceiverStream::new(receiver)))
}

/// The province texts of a request, each checked, without repeats, with
/// their index in the request (for field violations): INVALID_ARGUMENT for
/// more than [`MAX_PLACES`] or any text that is empty, too long or has control characters.
fn province_texts(provinces: &[String]) -> Result<Vec<(usize, &str)>> {
    if provinces.len() > MAX_PLACES {
        return Err(invalid_argument(
            "provinces",
            format!(
                "{} provinces named; at most {MAX_PLACES} are allowed per Watch",
                provinces.len()
            ),
        )
        .into());
    }
    let mut violations = Violations::new();
    let mut seen = HashSet::new();
    let mut texts = Vec::new();
    for (i, text) in provinces.iter().enumerate() {
        check_text(&mut violations, &format!("provinces[{i}]"), text, MAX_NAME_CHARS, true);
        if seen.insert(text.trim()) {
            texts.push((i, text.as_str()));
        }
    }
    violations.into_result()?;
    Ok(texts)
}

/// What one Watch stream alerts on.
struct Watcher {
    threshold: Option<(Decimal, ReportingCurrency)>,
    target_crossings: bool,
    /// Today's province codes; all provinces when empty.
    provinces: HashSet<String>,
}

impl Watcher {
    /// Sends the alerts of each applied batch until the feed closes or the client is gone.
    async fn run(
        self,
        state: &State,
        mut position: Position,
        mut applied: broadcast::Receiver<Arc<AppliedBatch>>,
        sender: &mpsc::Sender<Result<pb::Alert, Status>>,
    ) {
        let mut crossed: HashSet<(String, i32)> = HashSet::new();
        if let Some(gap) = position.take_initial_gap()
            && sender.send(Ok(gap_alert(gap))).await.is_err()
        {
            return;
        }
        loop {
            let batch = match applied.recv().await {
                Ok(batch) => batch,
                // The next batch shows the gap: it does not start where this stream stopped.
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => return,
            };
            let (gap, unseen) = position.advance(&batch);
            let mut alerts: Vec<pb::Alert> = gap.into_iter().map(gap_alert).collect();
            let relevant: Vec<&Applied> = unseen
                .iter()
                .filter(|e| self.provinces.is_empty() || self.provinces.contains(&e.current_province))
                .collect();
            if let Some((amount, currency)) = self.threshold {
                for event in &relevant {
                    if let Some(value) = amount_in(event, currency).filter(|v| *v >= amount) {
                        alerts.push(large_event_alert(event, value, currency));
                    }
                }
            }
            if self.target_crossings {
                alerts.extend(target_crossings(state, &relevant, batch.to, &mut crossed).await);
            }
            for alert in alerts {
                if sender.send(Ok(alert)).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// Where a stream is in the feed: every event up to `watched` has been
/// looked at; `None` until the first batch when the replica held nothing yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Position {
    watched: Option<i64>,
    /// Events this replica passed before a resumed stream started.
    initial_gap: Option<(i64, i64)>,
}

impl Position {
    /// A stream resuming after `resume_after` (0: from now) on a replica whose cube is at `replica`.
    fn start(resume_after: i64, replica: Option<i64>) -> Self {
        match (resume_after, replica) {
            (0, replica) => Self {
                watched: replica,
                initial_gap: None,
            },
            (after, Some(replica)) if replica > after => Self {
                watched: Some(replica),
                initial_gap: Some((after + 1, replica)),
            },
            (after, _) => Self {
                watched: Some(after),
                initial_gap: None,
            },
        }
    }

    fn take_initial_gap(&mut self) -> Option<(i64, i64)> {
        self.initial_gap.take()
    }

    /// Moves past `batch`: the gap before it, if it does not start where the
    /// stream stopped, and its events the stream has not looked at yet (none twice).
    fn advance<'b>(&mut self, batch: &'b AppliedBatch) -> (Option<(i64, i64)>, &'b [Applied]) {
        let watched = self.watched.unwrap_or(batch.from);
        let gap = (batch.from > watched).then_some((watched + 1, batch.from));
        let first_unseen = batch.events.partition_point(|e| e.sequence <= watched);
        self.watched = Some(watched.max(batch.to));
        (gap, batch.events.get(first_unseen..).unwrap_or_default())
    }
}

/// The alert that says events `first..=last` went unwatched.
fn gap_alert((first, last): (i64, i64)) -> pb::Alert {
    pb::Alert {
        kind: AlertKind::Gap.into(),
        message: format!(
            "events {first} to {last} were not watched (the stream fell behind or resumed late); query the figures to catch up"
        ),
        create_time: Some(now()),
        sequence: last,
        gap_first_sequence: first,
        gap_last_sequence: last,
        ..pb::Alert::default()
    }
}

fn now() -> prost_types::Timestamp {
    let now = chrono::Utc::now();
    prost_types::Timestamp {
        seconds: now.timestamp(),
        nanos: i32::try_from(now.timestamp_subsec_nanos()).unwrap_or_default(),
    }
}

/// An event's amount in a reporting currency, when it has one.
fn amount_in(event: &Applied, currency: ReportingCurrency) -> Option<Decimal> {
    match currency {
        ReportingCurrency::Usd => event.amount_usd,
        ReportingCurrency::Vnd => event.amount_vnd,
    }
}

fn large_event_alert(event: &Applied, value: Decimal, currency: ReportingCurrency) -> pb::Alert {
    pb::Alert {
        kind: AlertKind::LargeEvent.into(),
        province: format!("provinces/{}", event.current_province),
        event: format!("events/{}", event.sequence),
        amount: Some(to_money(value, currency.as_str())),
        message: format!(
            "{}{} event of {} {currency} in provinces/{}",
            if event.status == EventStatus::Estimated.as_str() {
                "estimated "
            } else {
                ""
            },
            event.kind,
            value.round_dp(0),
            event.current_province
        ),
        create_time: Some(now()),
        event_date: Some(date_to_proto(event.event_date)),
        sequence: event.sequence,
        ..pb::Alert::default()
    }
}

/// Alerts for provinces whose achievement reached a total-capital target
/// with this batch, which ends at sequence `batch_end`.
async fn target_crossings(
    state: &State,
    events: &[&Applied],
    batch_end: i64,
    crossed: &mut HashSet<(String, i32)>,
) -> Vec<pb::Alert> {
    let mut touched: Vec<(String, i32)> = events
        .iter()
        .map(|e| (e.current_province.clone(), e.event_date.year()))
        .collect();
    touched.sort();
    touched.dedup();
    let mut alerts = Vec::new();
    for (province, year) in touched {
        if crossed.contains(&(province.clone(), year)) {
            continue;
        }
        let targets = store::targets::money_targets(&state.pool, &province, year, WATCHED_FIGURE)
            .await
            .unwrap_or_default();
        for target in targets {
            if let Some(mut alert) = crossing(state, events, &province, year, &target).await {
                alert.sequence = batch_end;
                crossed.insert((province.clone(), year));
                alerts.push(alert);
            }
        }
    }
    alerts
}

/// The alert when `province` reached `target` for `year` with this batch of `events`.
async fn crossing(
    state: &State,
    events: &[&Applied],
    province: &str,
    year: i32,
    target: &MoneyTarget,
) -> Option<pb::Alert> {
    let span = Span::year(year)?;
    let filter = Filter {
        current_provinces: vec![province.to_owned()],
        scope: target.scope.map(Scope::as_str),
        ..Filter::default()
    };
    let (grouped, _) = state.sums(GroupBy::Nothing, span, &filter).await.ok()?;
    let empty = Default::default();
    let achieved = figure_value(WATCHED_FIGURE, grouped.get("").unwrap_or(&empty), target.currency);
    let reached = achieved.converted.as_ref().and_then(from_money).unwrap_or_default();
    // What this batch added: the achievement before it decides whether the target was crossed now.
    let added: Decimal = events
        .iter()
        .filter(|e| e.current_province == province && e.event_date.year() == year)
        .filter(|e| kinds_of(WATCHED_FIGURE).iter().any(|kind| kind.as_str() == e.kind))
        .filter(|e| target.scope.is_none_or(|scope| e.scope == scope.as_str()))
        .filter(|e| filter.admits_status(&e.status))
        .filter_map(|e| amount_in(e, target.currency))
        .sum();
    if reached < target.amount || reached - added >= target.amount {
        return None;
    }
    let scope = target.scope.map_or("all", Scope::as_str);
    Some(pb::Alert {
        kind: AlertKind::TargetCrossed.into(),
        province: format!("provinces/{province}"),
        event: String::new(),
        amount: achieved.converted.clone(),
        message: format!(
            "provinces/{province} reached its {year} {scope} total-capital target of {} {}",
            target.amount, target.currency
        ),
        create_time: Some(now()),
        ..pb::Alert::default()
    })
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;

    fn batch(from: i64, to: i64) -> AppliedBatch {
        AppliedBatch {
            from,
            to,
            events: (from + 1..=to)
                .map(|sequence| Applied {
                    sequence,
                    current_province: "ha-noi".into(),
                    province: "ha-noi".into(),
                    event_date: NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
                    kind: "new".into(),
                    scope: "fdi".into(),
                    status: "reported".into(),
                    amount_usd: None,
                    amount_vnd: None,
                })
                .collect(),
        }
    }

    fn sequences(events: &[Applied]) -> Vec<i64> {
        events.iter().map(|e| e.sequence).collect()
    }

    #[test]
    fn a_stream_sees_each_event_once_and_names_what_it_missed() {
        let mut position = Position::start(0, Some(10));
        assert_eq!(position.take_initial_gap(), None);
        let first = batch(10, 13);
        let (gap, unseen) = position.advance(&first);
        assert_eq!((gap, sequences(unseen)), (None, vec![11, 12, 13]));
        // Batches it fell behind on: the next one says which events went unwatched.
        let later = batch(20, 22);
        let (gap, unseen) = position.advance(&later);
        assert_eq!((gap, sequences(unseen)), (Some((14, 20)), vec![21, 22]));
    }

    #[test]
    fn a_resumed_stream_skips_what_it_saw_and_reports_what_this_replica_passed() {
        // Resuming on a replica behind the subscriber: no gap, no repeat.
        let mut behind = Position::start(15, Some(12));
        assert_eq!(behind.take_initial_gap(), None);
        let overlapping = batch(12, 17);
        assert_eq!(behind.advance(&overlapping).1.len(), 2);
        // Resuming on a replica ahead of it: the events in between are a gap, reported first.
        let mut ahead = Position::start(15, Some(30));
        assert_eq!(ahead.take_initial_gap(), Some((16, 30)));
        let next = batch(30, 31);
        let (gap, unseen) = ahead.advance(&next);
        assert_eq!((gap, sequences(unseen)), (None, vec![31]));
    }
}
