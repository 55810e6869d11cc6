//! Reading the rollups: a period split into whole months (monthly rows) and
//! the days at its edges (daily rows), sums by group, kind and currency, and
//! the figures of the events specification computed from them.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use fdi_kit::{figures, money::to_money, period::Span};
use fdi_proto::{Money, analytics::FigureValue, common::Figure};
use rust_decimal::Decimal;
use sqlx::PgPool;

/// What to group sums by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    /// One group ("").
    Nothing,
    /// Today's province.
    CurrentProvince,
    /// The province as recorded.
    RecordedProvince,
    /// Zone.
    Zone,
    /// Investor's home country.
    Country,
    /// Sector.
    Sector,
    /// Investor id.
    Investor,
    /// Event kind.
    Kind,
    /// Calendar month (`YYYY-MM`).
    Month,
}

impl GroupBy {
    /// The projection that holds this dimension.
    pub(crate) fn projection(self) -> &'static str {
        match self {
            Self::Zone => "zone",
            Self::Country => "country",
            Self::Sector => "sector",
            Self::Investor => "investor",
            Self::Nothing | Self::CurrentProvince | Self::RecordedProvince | Self::Kind | Self::Month => "province",
        }
    }

    /// The grouping expression over a table with the rollup's columns and `date_column`.
    fn expression(self, date_column: &str) -> String {
        match self {
            Self::Nothing => "''".to_owned(),
            Self::CurrentProvince => "current_province".to_owned(),
            Self::RecordedProvince => "province".to_owned(),
            Self::Zone => "zone".to_owned(),
            Self::Country => "country".to_owned(),
            Self::Sector => "sector".to_owned(),
            Self::Investor => "investor::text".to_owned(),
            Self::Kind => "kind".to_owned(),
            Self::Month => format!("to_char(date_trunc('month', {date_column}), 'YYYY-MM')"),
        }
    }
}

/// Which events count.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Today's provinces (empty: all).
    pub current_provinces: Vec<String>,
    /// Provinces as recorded (empty: all).
    pub recorded_provinces: Vec<String>,
    /// Zones (empty: all).
    pub zones: Vec<String>,
    /// `fdi`, `ddi`, or all when `None`.
    pub scope: Option<&'static str>,
}

/// The sums of one kind of event in one group.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KindSums {
    /// Events.
    pub events: i64,
    /// Amounts by original currency.
    pub by_currency: BTreeMap<String, Decimal>,
    /// Amounts in USD.
    pub usd: Decimal,
    /// Amounts in VND.
    pub vnd: Decimal,
    /// Events of repeated projects to subtract from distinct-project counts.
    pub repeats: i64,
}

/// Sums by group, then by kind.
pub type Grouped = BTreeMap<String, BTreeMap<String, KindSums>>;

fn first_of_month(date: NaiveDate) -> NaiveDate {
    date.with_day(1).unwrap_or(date)
}

fn last_of_month(date: NaiveDate) -> NaiveDate {
    let next = if date.month() == 12 {
        NaiveDate::from_ymd_opt(date.year() + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(date.year(), date.month() + 1, 1)
    };
    next.and_then(|d| d.pred_opt()).unwrap_or(date)
}

/// A period as whole months plus the days at its edges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Windows {
    /// First days of the first and last whole month, when there is one.
    pub months: Option<(NaiveDate, NaiveDate)>,
    /// Days before the first whole month.
    pub head: Option<(NaiveDate, NaiveDate)>,
    /// Days after the last whole month.
    pub tail: Option<(NaiveDate, NaiveDate)>,
}

impl Windows {
    /// Splits a span.
    #[must_use]
    pub fn of(span: Span) -> Self {
        let first_whole = if span.start.day() == 1 {
            span.start
        } else {
            last_of_month(span.start).succ_opt().unwrap_or(span.start)
        };
        let last_whole_end = if last_of_month(span.end) == span.end {
            span.end
        } else {
            first_of_month(span.end).pred_opt().unwrap_or(span.end)
        };
        if first_whole > last_whole_end {
            // No whole month: every day is an edge day.
            return Self {
                months: None,
                head: Some((span.start, span.end)),
                tail: None,
            };
        }
        Self {
            months: Some((first_whole, first_of_month(last_whole_end))),
            head: (span.start < first_whole).then(|| (span.start, first_whole.pred_opt().unwrap_or(first_whole))),
            tail: (last_whole_end < span.end).then(|| (last_whole_end.succ_opt().unwrap_or(span.end), span.end)),
        }
    }

    /// Whether the span is made of whole months only.
    #[must_use]
    pub fn whole_months(&self) -> bool {
        self.head.is_none() && self.tail.is_none()
    }
}

/// A range that matches nothing, for absent windows (dates PostgreSQL can hold).
const NONE: (NaiveDate, NaiveDate) = match (NaiveDate::from_ymd_opt(9999, 12, 31), NaiveDate::from_ymd_opt(1, 1, 1)) {
    (Some(late), Some(early)) => (late, early),
    _ => panic!("valid dates"),
};

#[derive(sqlx::FromRow)]
struct SumRow {
    g: String,
    kind: String,
    currency: String,
    events: i64,
    amount: Decimal,
    usd: Decimal,
    vnd: Decimal,
}

/// Sums the rollups over `span` for the events `filter` selects, by `group`.
///
/// # Errors
/// When the database fails.
pub async fn sums(pool: &PgPool, group: GroupBy, span: Span, filter: &Filter) -> Result<Grouped, sqlx::Error> {
    let windows = Windows::of(span);
    let months = windows.months.unwrap_or(NONE);
    let head = windows.head.unwrap_or(NONE);
    let tail = windows.tail.unwrap_or(NONE);
    let rows: Vec<SumRow> = sqlx::query_as(&format!(
        "SELECT {g} AS g, kind, currency, sum(events)::bigint AS events, sum(amount) AS amount,
                sum(amount_usd) AS usd, sum(amount_vnd) AS vnd
         FROM rollup
         WHERE projection = $1
           AND ((grain = 'm' AND period BETWEEN $2 AND $3)
                OR (grain = 'd' AND (period BETWEEN $4 AND $5 OR period BETWEEN $6 AND $7)))
           AND ($8::text IS NULL OR scope = $8)
           AND (cardinality($9::text[]) = 0 OR current_province = ANY($9))
           AND (cardinality($10::text[]) = 0 OR province = ANY($10))
           AND (cardinality($11::text[]) = 0 OR zone = ANY($11))
         GROUP BY 1, kind, currency",
        g = group.expression("period")
    ))
    .bind(group.projection())
    .bind(months.0)
    .bind(months.1)
    .bind(head.0)
    .bind(head.1)
    .bind(tail.0)
    .bind(tail.1)
    .bind(filter.scope)
    .bind(&filter.current_provinces)
    .bind(&filter.recorded_provinces)
    .bind(&filter.zones)
    .fetch_all(pool)
    .await?;
    let mut grouped = Grouped::new();
    for row in rows {
        let sums = grouped.entry(row.g).or_default().entry(row.kind).or_default();
        sums.events += row.events;
        if !row.currency.is_empty() {
            *sums.by_currency.entry(row.currency).or_default() += row.amount;
        }
        sums.usd += row.usd;
        sums.vnd += row.vnd;
    }

    // Projects with more than one `new` (or `termination`) event count once per group.
    let repeats: Vec<(String, String, i64)> = sqlx::query_as(&format!(
        "SELECT g, kind, sum(n - 1)::bigint FROM (
             SELECT {g} AS g, kind, project_ref, count(*) AS n FROM repeats
             WHERE event_date BETWEEN $1 AND $2
               AND ($3::text IS NULL OR scope = $3)
               AND (cardinality($4::text[]) = 0 OR current_province = ANY($4))
               AND (cardinality($5::text[]) = 0 OR province = ANY($5))
               AND (cardinality($6::text[]) = 0 OR zone = ANY($6))
             GROUP BY 1, kind, project_ref) t
         WHERE n > 1 GROUP BY g, kind",
        g = group.expression("event_date")
    ))
    .bind(span.start)
    .bind(span.end)
    .bind(filter.scope)
    .bind(&filter.current_provinces)
    .bind(&filter.recorded_provinces)
    .bind(&filter.zones)
    .fetch_all(pool)
    .await?;
    for (g, kind, extra) in repeats {
        grouped.entry(g).or_default().entry(kind).or_default().repeats += extra;
    }
    Ok(grouped)
}

/// The reporting currencies: USD and VND (every event carries both values).
#[must_use]
pub fn is_reporting_currency(code: &str) -> bool {
    matches!(code, "USD" | "VND")
}

/// A figure's value from the sums of one group, in `currency` (USD or VND).
#[must_use]
pub fn figure_value(figure: Figure, kinds: &BTreeMap<String, KindSums>, currency: &str) -> FigureValue {
    let empty = KindSums::default();
    let of = |kind: &str| kinds.get(kind).unwrap_or(&empty);
    let money_kinds: &[&str] = match figure {
        Figure::NewCapital => &["new"],
        Figure::AddedCapital => &["adjustment"],
        Figure::SharePurchaseCapital => &["share_purchase"],
        Figure::TotalCapital => &["new", "adjustment", "share_purchase"],
        Figure::RealisedCapital => &["disbursement"],
        _ => &[],
    };
    if figures::is_money(figure) {
        let mut by_currency: BTreeMap<String, Decimal> = BTreeMap::new();
        let mut converted = Decimal::ZERO;
        for kind in money_kinds {
            let sums = of(kind);
            for (code, amount) in &sums.by_currency {
                *by_currency.entry(code.clone()).or_default() += amount;
            }
            converted += if currency == "VND" { sums.vnd } else { sums.usd };
        }
        return FigureValue {
            figure: figure.into(),
            count: 0,
            converted: Some(to_money(converted, currency)),
            by_currency: by_currency
                .into_iter()
                .map(|(code, amount)| to_money(amount, &code))
                .collect(),
        };
    }
    let count = match figure {
        Figure::NewProjects => of("new").events - of("new").repeats,
        Figure::AdjustedProjects => of("adjustment").events,
        Figure::SharePurchases => of("share_purchase").events,
        Figure::TerminatedProjects => of("termination").events - of("termination").repeats,
        _ => 0,
    };
    FigureValue {
        figure: figure.into(),
        count,
        converted: None,
        by_currency: Vec::new(),
    }
}

/// A figure's value as a number (count, or converted amount), for ranking and ratios.
#[must_use]
pub fn as_number(value: &FigureValue) -> f64 {
    value.converted.as_ref().map_or_else(
        || {
            #[allow(clippy::cast_precision_loss, reason = "counts far below 2^52")]
            let count = value.count as f64;
            count
        },
        fdi_kit::money::money_to_f64,
    )
}

/// The sum of figure values (for totals), in `currency`.
#[must_use]
pub fn add_values(figure: Figure, values: &[&FigureValue], currency: &str) -> FigureValue {
    let mut by_currency: BTreeMap<String, Decimal> = BTreeMap::new();
    let mut converted = Decimal::ZERO;
    let mut count = 0;
    for value in values {
        count += value.count;
        if let Some(amount) = value.converted.as_ref().and_then(fdi_kit::money::from_money) {
            converted += amount;
        }
        for money in &value.by_currency {
            *by_currency.entry(money.currency_code.clone()).or_default() +=
                fdi_kit::money::from_money(money).unwrap_or_default();
        }
    }
    let money = figures::is_money(figure);
    FigureValue {
        figure: figure.into(),
        count,
        converted: money.then(|| to_money(converted, currency)),
        by_currency: by_currency
            .into_iter()
            .map(|(code, amount)| to_money(amount, &code))
            .collect::<Vec<Money>>(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn periods_split_into_whole_months_and_edge_days() {
        let whole = Windows::of(Span {
            start: day(2025, 1, 1),
            end: day(2025, 8, 31),
        });
        assert_eq!(
            whole,
            Windows {
                months: Some((day(2025, 1, 1), day(2025, 8, 1))),
                head: None,
                tail: None
            }
        );
        assert!(whole.whole_months());
        let ragged = Windows::of(Span {
            start: day(2025, 1, 15),
            end: day(2025, 4, 10),
        });
        assert_eq!(ragged.months, Some((day(2025, 2, 1), day(2025, 3, 1))));
        assert_eq!(ragged.head, Some((day(2025, 1, 15), day(2025, 1, 31))));
        assert_eq!(ragged.tail, Some((day(2025, 4, 1), day(2025, 4, 10))));
        let inside = Windows::of(Span {
            start: day(2024, 2, 3),
            end: day(2024, 2, 20),
        });
        assert_eq!(
            inside,
            Windows {
                months: None,
                head: Some((day(2024, 2, 3), day(2024, 2, 20))),
                tail: None
            }
        );
        let leap = Windows::of(Span {
            start: day(2024, 2, 1),
            end: day(2024, 2, 29),
        });
        assert!(leap.whole_months());
    }
}
