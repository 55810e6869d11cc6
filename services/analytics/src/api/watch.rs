//! Watch: alerts pushed as events are folded into the rollups: an event at
//! or above a threshold, or a province reaching its target for the year.

use std::{collections::HashSet, sync::Arc};

use chrono::Datelike;
use fdi_kit::{money::from_money, status::invalid_argument, telemetry::db_span};
use fdi_proto::analytics::{self as pb, AlertKind};
use rust_decimal::Decimal;
use tokio::sync::{broadcast::error::RecvError, mpsc};
use tokio_stream::wrappers::ReceiverStream;
use tracing::Instrument;

use super::{AlertStream, State};
use crate::{
    consumer::Applied,
    error::Result,
    query::{Filter, GroupBy, figure_value},
};

/// Checks the request and starts the stream.
pub(super) async fn start(state: Arc<State>, request: pb::WatchRequest) -> Result<AlertStream> {
    let threshold = match &request.threshold {
        Some(money) => {
            let currency = money.currency_code.trim().to_ascii_uppercase();
            if !matches!(currency.as_str(), "USD" | "VND") {
                return Err(invalid_argument("threshold.currency_code", "must be USD or VND").into());
            }
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
    let mut provinces = HashSet::new();
    for (i, text) in request.provinces.iter().enumerate() {
        provinces.insert(state.places.province(text, &format!("provinces[{i}]")).await?.current);
    }
    let mut applied = state.applied.subscribe();
    let (sender, receiver) = mpsc::channel(64);
    tokio::spawn(async move {
        let mut crossed: HashSet<(String, i32)> = HashSet::new();
        loop {
            let batch = match applied.recv().await {
                Ok(batch) => batch,
                Err(RecvError::Lagged(skipped)) => {
                    tracing::warn!(skipped, "a watcher fell behind; some alerts were skipped");
                    continue;
                }
                Err(RecvError::Closed) => return,
            };
            let relevant: Vec<&Applied> = batch
                .iter()
                .filter(|e| provinces.is_empty() || provinces.contains(&e.current_province))
                .collect();
            let mut alerts = Vec::new();
            if let Some((amount, currency)) = &threshold {
                for event in &relevant {
                    let value = if currency == "VND" {
                        event.amount_vnd
                    } else {
                        event.amount_usd
                    };
                    if let Some(value) = value.filter(|v| v >= amount) {
                        alerts.push(large_event_alert(event, value, currency));
                    }
                }
            }
            if request.target_crossings {
                alerts.extend(target_crossings(&state, &relevant, &mut crossed).await);
            }
            for alert in alerts {
                if sender.send(Ok(alert)).await.is_err() {
                    return;
                }
            }
        }
    });
    Ok(Box::pin(ReceiverStream::new(receiver)))
}

fn now() -> prost_types::Timestamp {
    let now = chrono::Utc::now();
    prost_types::Timestamp {
        seconds: now.timestamp(),
        nanos: i32::try_from(now.timestamp_subsec_nanos()).unwrap_or_default(),
    }
}

fn large_event_alert(event: &Applied, value: Decimal, currency: &str) -> pb::Alert {
    pb::Alert {
        kind: AlertKind::LargeEvent.into(),
        province: format!("provinces/{}", event.current_province),
        event: format!("events/{}", event.sequence),
        amount: Some(fdi_kit::money::to_money(value, currency)),
        message: format!(
            "{} event of {} {currency} in provinces/{}",
            event.kind,
            value.round_dp(0),
            event.current_province
        ),
        create_time: Some(now()),
        event_date: Some(fdi_kit::period::date_to_proto(event.event_date)),
    }
}

/// Alerts for provinces whose achievement reached a total-capital target with this batch.
async fn target_crossings(state: &State, events: &[&Applied], crossed: &mut HashSet<(String, i32)>) -> Vec<pb::Alert> {
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
        let targets: Vec<(String, Decimal, String)> = sqlx::query_as(
            "SELECT scope, amount, currency FROM ingest.targets
             WHERE province_code = $1 AND year = $2 AND figure = 'total_capital' AND currency IN ('USD', 'VND')",
        )
        .bind(&province)
        .bind(year)
        .fetch_all(&state.pool)
        .instrument(db_span("SELECT", "targets"))
        .await
        .unwrap_or_default();
        for (scope, target, currency) in targets {
            let Some(span) = fdi_kit::period::Span::year(year) else {
                continue;
            };
            let filter = Filter {
                current_provinces: vec![province.clone()],
                scope: match scope.as_str() {
                    "fdi" => Some("fdi"),
                    "ddi" => Some("ddi"),
                    _ => None,
                },
                ..Filter::default()
            };
            let Ok(grouped) = state
                .sums(GroupBy::Nothing, span, &filter)
                .await
                .map(|(grouped, _)| grouped)
            else {
                continue;
            };
            let empty = Default::default();
            let achieved = figure_value(
                fdi_proto::common::Figure::TotalCapital,
                grouped.get("").unwrap_or(&empty),
                &currency,
            );
            let reached = achieved.converted.as_ref().and_then(from_money).unwrap_or_default();
            // What this batch added: the achievement before it decides whether the target was crossed now.
            let added: Decimal = events
                .iter()
                .filter(|e| e.current_province == province && e.event_date.year() == year)
                .filter(|e| matches!(e.kind.as_str(), "new" | "adjustment" | "share_purchase"))
                .filter(|e| scope == "all" || e.scope == scope)
                .filter_map(|e| if currency == "VND" { e.amount_vnd } else { e.amount_usd })
                .sum();
            if reached >= target && reached - added < target {
                crossed.insert((province.clone(), year));
                alerts.push(pb::Alert {
                    kind: AlertKind::TargetCrossed.into(),
                    province: format!("provinces/{province}"),
                    event: String::new(),
                    amount: achieved.converted.clone(),
                    message: format!(
                        "provinces/{province} reached its {year} {scope} total-capital target of {target} {currency}"
                    ),
                    create_time: Some(now()),
                    event_date: None,
                });
            }
        }
    }
    alerts
}
