//! Recorded events as read back, and their protobuf form.

use chrono::{DateTime, NaiveDate, Utc};
use fdi_kit::{money::to_money, period::date_to_proto};
use fdi_proto::{common::Scope, ingest as pb};
use rust_decimal::Decimal;

use crate::validate::Kind;

/// The columns of [`EventRecord`], in order.
pub const EVENT_COLUMNS: &str = "sequence, idempotency_key, kind, event_date, project_ref, project_name, investor_id, \
    investor_text, investor_country, zone_id, province_code, current_province_code, sector, amount, currency, \
    amount_usd, amount_vnd, scope, status, source, create_time";

/// An event row.
#[derive(Debug, Clone, sqlx::FromRow)]
#[allow(
    missing_docs,
    reason = "the columns of the events table, documented in the migration"
)]
pub struct EventRecord {
    pub sequence: i64,
    pub idempotency_key: String,
    pub kind: String,
    pub event_date: NaiveDate,
    pub project_ref: String,
    pub project_name: String,
    pub investor_id: Option<i64>,
    pub investor_text: String,
    pub investor_country: String,
    pub zone_id: Option<String>,
    pub province_code: String,
    pub current_province_code: String,
    pub sector: String,
    pub amount: Option<Decimal>,
    pub currency: Option<String>,
    pub amount_usd: Option<Decimal>,
    pub amount_vnd: Option<Decimal>,
    pub scope: String,
    pub status: String,
    pub source: String,
    pub create_time: DateTime<Utc>,
}

/// A timestamp in protobuf form.
#[must_use]
pub fn timestamp(time: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: time.timestamp(),
        nanos: i32::try_from(time.timestamp_subsec_nanos()).unwrap_or_default(),
    }
}

impl EventRecord {
    /// The protobuf form.
    #[must_use]
    pub fn to_proto(&self) -> pb::Event {
        pb::Event {
            name: format!("events/{}", self.sequence),
            sequence: self.sequence,
            idempotency_key: self.idempotency_key.clone(),
            kind: Kind::parse(&self.kind)
                .map_or(fdi_proto::common::EventKind::Unspecified, Kind::to_proto)
                .into(),
            event_date: Some(date_to_proto(self.event_date)),
            project_ref: self.project_ref.clone(),
            project_name: self.project_name.clone(),
            investor: self.investor_id.map(|id| format!("investors/{id}")).unwrap_or_default(),
            investor_text: self.investor_text.clone(),
            investor_country: self.investor_country.clone(),
            zone: self.zone_id.as_ref().map(|z| format!("zones/{z}")).unwrap_or_default(),
            province: format!("provinces/{}", self.province_code),
            current_province: format!("provinces/{}", self.current_province_code),
            sector: self.sector.clone(),
            amount: self.amount.zip(self.currency.as_deref()).map(|(a, c)| to_money(a, c)),
            amount_usd: self.amount_usd.map(|a| to_money(a, "USD")),
            amount_vnd: self.amount_vnd.map(|a| to_money(a, "VND")),
            amount_text: self.amount.map(|a| a.to_string()).unwrap_or_default(),
            scope: if self.scope == "fdi" { Scope::Fdi } else { Scope::Ddi }.into(),
            status: if self.status == "estimated" {
                pb::EventStatus::Estimated
            } else {
                pb::EventStatus::Reported
            }
            .into(),
            source: self.source.clone(),
            create_time: Some(timestamp(self.create_time)),
        }
    }
}
