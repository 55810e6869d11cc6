//! The questions asked of the rollups and the figures computed from their
//! answers: what to group by and which events count, sums by group, kind
//! and currency, a period split into whole months (monthly rows) and the
//! days at its edges (daily rows), and the figures of the events
//! specification. The cube ([`crate::cube`]) and the store
//! ([`crate::store::figures`]) answer the same questions.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use fdi_kit::{
    domain::{EventKind, EventStatus, ReportingCurrency},
    figures,
    money::to_money,
    period::Span,
};
use fdi_proto::{Money, analytics::FigureValue, common::Figure};
use rust_decimal::Decimal;

/// Sums of the rollups in SQL (kept here, beside the questions, for the tools and tests that compare paths).
pub use crate::store::figures::sums;

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
    /// Calendar quarter (`YYYY-Qn`).
    Quarter,
    /// Calendar year (`YYYY`).
    Year,
}

impl GroupBy {
    /// The projection that holds this dimension.
    pub(crate) fn projection(self) -> &'static str {
        match self {
            Self::Zone => "zone",
            Self::Country => "country",
            Self::Sector => "sector",
            Self::Investor => "investor",
            Self::Nothing
            | Self::CurrentProvince
            | Self::RecordedProvince
            | Self::Kind
            | Self::Month
            | Self::Quarter
            | Self::Year => "province",
        }
    }

    /// The first day of the calendar bucket (month, quarter or year) that
    /// holds `date`, for the groups by time; `None` for the others.
    #[must_use]
    pub fn bucket_start(self, date: NaiveDate) -> Option<NaiveDate> {
        let month = match self {
            Self::Month => date.month(),
            Self::Quarter => (date.month() - 1) / 3 * 3 + 1,
            Self::Year => 1,
            _ => return None,
        };
        NaiveDate::from_ymd_opt(date.year(), month, 1)
    }

    /// The label of the calendar bucket that starts on `start`: `YYYY-MM`,
    /// `YYYY-Qn` or `YYYY` (as the SQL path writes them).
    #[must_use]
    pub fn bucket_label(self, start: NaiveDate) -> String {
        match self {
            Self::Quarter => format!("{}-Q{}", start.year(), (start.month() - 1) / 3 + 1),
            Self::Year => format!("{}", start.year()),
            _ => format!("{:04}-{:02}", start.year(), start.month()),
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
    /// Whether estimated events (promoted from news) count too; reported events always do.
    pub include_estimates: bool,
}

impl Filter {
    /// Whether events of `status` count.
    #[must_use]
    pub fn admits_status(&self, status: &str) -> bool {
        self.include_estimates || status == EventStatus::Reported.as_str()
    }
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

/// The kinds of event whose amounts a money figure sums (none for a count).
#[must_use]
pub fn kinds_of(figure: Figure) -> &'static [EventKind] {
    match figure {
        Figure::NewCapital => &[EventKind::New],
        Figure::AddedCapital => &[EventKind::Adjustment],
        Figure::SharePurchaseCapital => &[EventKind::SharePurchase],
        Figure::TotalCapital => &[EventKind::New, EventKind::Adjustment, EventKind::SharePurchase],
        Figure::RealisedCapital => &[EventKind::Disbursement],
        _ => &[],
    }
}

/// A figure's value from the sums of one group, in `currency`.
#[must_use]
pub fn figure_value(figure: Figure, kinds: &BTreeMap<String, KindSums>, currency: ReportingCurrency) -> FigureValue {
    let empty = KindSums::default();
    let of = |kind: EventKind| kinds.get(kind.as_str()).unwrap_or(&empty);
    if figures::is_money(figure) {
        let mut by_currency: BTreeMap<String, Decimal> = BTreeMap::new();
        let mut converted = Decimal::ZERO;
        for kind in kinds_of(figure) {
            let sums = of(*kind);
            for (code, amount) in &sums.by_currency {
                *by_currency.entry(code.clone()).or_default() += amount;
            }
            converted += match currency {
                ReportingCurrency::Usd => sums.usd,
                ReportingCurrency::Vnd => sums.vnd,
            };
        }
        let by_currency = by_currency
            .into_iter()
            .map(|(code, amount)| to_money(amount, &code))
            .collect();
        return money_value(figure, to_money(converted, currency.as_str()), by_currency);
    }
    let distinct = |kind: EventKind| of(kind).events - of(kind).repeats;
    let count = match figure {
        Figure::NewProjects => distinct(EventKind::New),
        Figure::AdjustedProjects => of(EventKind::Adjustment).events,
        Figure::SharePurchases => of(EventKind::SharePurchase).events,
        Figure::TerminatedProjects => distinct(EventKind::Termination),
        _ => 0,
    };
    count_value(figure, count)
}

/// A money figure's value: the amount converted, and by original currency.
#[must_use]
pub fn money_value(figure: Figure, converted: Money, by_currency: Vec<Money>) -> FigureValue {
    FigureValue {
        figure: figure.into(),
        count: 0,
        converted: Some(converted),
        by_currency,
    }
}

/// A count figure's value.
#[must_use]
pub fn count_value(figure: Figure, count: i64) -> FigureValue {
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
pub fn add_values(figure: Figure, values: &[&FigureValue], currency: ReportingCurrency) -> FigureValue {
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
        converted: money.then(|| to_money(converted, currency.as_str())),
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
