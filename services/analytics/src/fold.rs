//! What one fold adds to the rollups: a batch of the feed's events
//! aggregated, in memory, into one row per group and month of each
//! projection (exact decimal sums), and how many rows each projection's
//! month gained (for compaction). The leader writes these rows
//! ([`crate::store::rollups`]); the rollups' layout is the migrations'.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;

/// One event of the feed as analytics reads it: the fold aggregates it,
/// and every replica folds it into its cube and alerts on it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FoldEvent {
    /// Its sequence.
    pub sequence: i64,
    /// When ingest recorded it.
    pub create_time: chrono::DateTime<chrono::Utc>,
    /// Event kind.
    pub kind: String,
    /// `fdi` or `ddi`.
    pub scope: String,
    /// `reported` or `estimated`.
    pub status: String,
    /// Its date.
    pub event_date: NaiveDate,
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
    /// Investor id or 0.
    pub investor: i64,
    /// Original currency or "".
    pub currency: String,
    /// Amount in the original currency (0 when none).
    pub amount: Decimal,
    /// Amount in USD.
    pub amount_usd: Decimal,
    /// Amount in VND.
    pub amount_vnd: Decimal,
}

/// The projections of the rollups, each keeping, besides kind, scope,
/// status, today's province and currency, one dimension of its own.
pub const PROJECTIONS: [Projection; 5] = [
    Projection::Province,
    Projection::Zone,
    Projection::Country,
    Projection::Sector,
    Projection::Investor,
];

/// One projection of the rollups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Projection {
    /// The province as recorded (for boundaries as recorded).
    Province,
    /// The zone.
    Zone,
    /// The investor's home country.
    Country,
    /// The sector.
    Sector,
    /// The investor.
    Investor,
}

impl Projection {
    /// Its name in the rollups.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Province => "province",
            Self::Zone => "zone",
            Self::Country => "country",
            Self::Sector => "sector",
            Self::Investor => "investor",
        }
    }
}

/// The key of one rollup row: a projection's group in a month. Dimensions
/// the projection does not keep are "" (or 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GroupKey<'a> {
    /// The projection.
    pub projection: Projection,
    /// The month's first day.
    pub period: NaiveDate,
    /// Event kind.
    pub kind: &'a str,
    /// `fdi` or `ddi`.
    pub scope: &'a str,
    /// `reported` or `estimated`.
    pub status: &'a str,
    /// Today's province.
    pub current_province: &'a str,
    /// The province as recorded (province projection only).
    pub province: &'a str,
    /// Zone (zone projection only).
    pub zone: &'a str,
    /// Home country (country projection only).
    pub country: &'a str,
    /// Sector (sector projection only).
    pub sector: &'a str,
    /// Investor id (investor projection only).
    pub investor: i64,
    /// Original currency or "".
    pub currency: &'a str,
}

/// The sums of one rollup row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sums {
    /// Events.
    pub events: i64,
    /// Amount in the original currency.
    pub amount: Decimal,
    /// Amount in USD.
    pub amount_usd: Decimal,
    /// Amount in VND.
    pub amount_vnd: Decimal,
}

/// A batch aggregated: one row per group, and the rows each projection's month gained.
#[derive(Debug, Default)]
pub struct Deltas<'a> {
    /// The rows to append.
    pub rows: HashMap<GroupKey<'a>, Sums>,
}

impl<'a> Deltas<'a> {
    /// Aggregates `events` into every projection.
    #[must_use]
    pub fn of(events: &'a [FoldEvent]) -> Self {
        let mut rows: HashMap<GroupKey<'a>, Sums> = HashMap::with_capacity(events.len() * 2);
        for event in events {
            for projection in PROJECTIONS {
                let sums = rows.entry(key(projection, event)).or_default();
                sums.events += 1;
                sums.amount += event.amount;
                sums.amount_usd += event.amount_usd;
                sums.amount_vnd += event.amount_vnd;
            }
        }
        Self { rows }
    }

    /// How many rows each projection's month gains, for compaction.
    #[must_use]
    pub fn rows_by_partition(&self) -> HashMap<(Projection, NaiveDate), i64> {
        let mut counts = HashMap::new();
        for key in self.rows.keys() {
            *counts.entry((key.projection, key.period)).or_default() += 1;
        }
        counts
    }
}

/// The group an event falls in, in a projection.
fn key(projection: Projection, event: &FoldEvent) -> GroupKey<'_> {
    fn keeps(projection: Projection, kept: Projection, value: &str) -> &str {
        if projection == kept { value } else { "" }
    }
    GroupKey {
        projection,
        period: event.event_date.with_day(1).unwrap_or(event.event_date),
        kind: &event.kind,
        scope: &event.scope,
        status: &event.status,
        current_province: &event.current_province,
        province: keeps(projection, Projection::Province, &event.province),
        zone: keeps(projection, Projection::Zone, &event.zone),
        country: keeps(projection, Projection::Country, &event.country),
        sector: keeps(projection, Projection::Sector, &event.sector),
        investor: if projection == Projection::Investor {
            event.investor
        } else {
            0
        },
        currency: &event.currency,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(day: u32, kind: &str, country: &str, amount: i64) -> FoldEvent {
        FoldEvent {
            sequence: i64::from(day),
            create_time: chrono::Utc::now(),
            kind: kind.into(),
            scope: "fdi".into(),
            status: "reported".into(),
            event_date: NaiveDate::from_ymd_opt(2025, 3, day).unwrap(),
            province: "bac-giang".into(),
            current_province: "bac-ninh".into(),
            zone: "quang-chau".into(),
            country: country.into(),
            sector: "C".into(),
            investor: 7,
            currency: "USD".into(),
            amount: Decimal::from(amount),
            amount_usd: Decimal::from(amount),
            amount_vnd: Decimal::from(amount) * Decimal::from(25_000),
        }
    }

    #[test]
    fn a_batch_becomes_one_row_per_group_and_month_of_each_projection() {
        let events = [
            event(3, "new", "KR", 10),
            event(20, "new", "JP", 5),
            event(21, "adjustment", "KR", -2),
        ];
        let deltas = Deltas::of(&events);
        let of = |projection: Projection| -> Vec<(&GroupKey<'_>, &Sums)> {
            deltas.rows.iter().filter(|(k, _)| k.projection == projection).collect()
        };
        // Provinces: new (two events, one row) and adjustment; the recorded province is kept.
        let provinces = of(Projection::Province);
        assert_eq!(provinces.len(), 2);
        let new = provinces.iter().find(|(k, _)| k.kind == "new").unwrap();
        assert_eq!(new.0.province, "bac-giang");
        assert_eq!(new.0.country, "");
        assert_eq!((new.1.events, new.1.amount_usd), (2, Decimal::from(15)));
        // Countries: KR new, JP new, KR adjustment; no recorded province.
        let countries = of(Projection::Country);
        assert_eq!(countries.len(), 3);
        assert!(
            countries
                .iter()
                .all(|(k, _)| k.province.is_empty() && k.zone.is_empty())
        );
        // One month per projection, with the rows it gained.
        let partitions = deltas.rows_by_partition();
        let march = NaiveDate::from_ymd_opt(2025, 3, 1).unwrap();
        assert_eq!(partitions[&(Projection::Country, march)], 3);
        assert_eq!(partitions[&(Projection::Investor, march)], 2);
        assert_eq!(partitions.len(), PROJECTIONS.len());
    }
}
