//! Reporting periods: explicit date ranges or shorthands ("2025", "2025-H1",
//! "2025-Q3", "2025-08", "2025-M8" for the first eight months,
//! "2025-01-01..2025-08-31"), resolved to inclusive first and last days.

use chrono::{Datelike, NaiveDate};
use fdi_proto::{
    Date,
    common::{DateRange, Period, period::Kind},
};
use tonic::Status;

use crate::{
    domain::{FIRST_YEAR, LAST_YEAR, is_valid_year},
    status::invalid_argument,
};

/// An inclusive range of days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Span {
    /// First day.
    pub start: NaiveDate,
    /// Last day (inclusive).
    pub end: NaiveDate,
}

impl Span {
    /// The whole calendar year.
    #[must_use]
    pub fn year(year: i32) -> Option<Self> {
        Some(Self {
            start: NaiveDate::from_ymd_opt(year, 1, 1)?,
            end: NaiveDate::from_ymd_opt(year, 12, 31)?,
        })
    }

    /// The span as a protobuf date range.
    #[must_use]
    pub fn to_proto(self) -> DateRange {
        DateRange {
            start: Some(date_to_proto(self.start)),
            end: Some(date_to_proto(self.end)),
        }
    }
}

/// Converts a day to `google.type.Date`.
#[must_use]
pub fn date_to_proto(date: NaiveDate) -> Date {
    Date {
        year: date.year(),
        month: i32::try_from(date.month()).unwrap_or_default(),
        day: i32::try_from(date.day()).unwrap_or_default(),
    }
}

/// Converts a full `google.type.Date` to a day; `None` when partial or invalid.
#[must_use]
pub fn date_from_proto(date: &Date) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(
        date.year,
        u32::try_from(date.month).ok()?,
        u32::try_from(date.day).ok()?,
    )
}

fn last_day_of_month(year: i32, month: u32) -> Option<NaiveDate> {
    let (next_year, next_month) = if month == 12 { (year + 1, 1) } else { (year, month + 1) };
    NaiveDate::from_ymd_opt(next_year, next_month, 1)?.pred_opt()
}

/// Parses a shorthand; `None` when it is not one of the documented forms.
#[must_use]
pub fn parse_shorthand(text: &str) -> Option<Span> {
    let text = text.trim();
    if let Some((start, end)) = text.split_once("..") {
        let start = NaiveDate::parse_from_str(start.trim(), "%Y-%m-%d").ok()?;
        let end = NaiveDate::parse_from_str(end.trim(), "%Y-%m-%d").ok()?;
        return Some(Span { start, end });
    }
    let (year_text, rest) = text.split_once('-').map_or((text, None), |(y, r)| (y, Some(r)));
    if year_text.len() != 4 {
        return None;
    }
    let year: i32 = year_text.parse().ok()?;
    let months = |first: u32, last: u32| {
        Some(Span {
            start: NaiveDate::from_ymd_opt(year, first, 1)?,
            end: last_day_of_month(year, last)?,
        })
    };
    match rest.map(str::to_ascii_uppercase).as_deref() {
        None => Span::year(year),
        Some("H1") => months(1, 6),
        Some("H2") => months(7, 12),
        Some(q) if q.len() == 2 && q.starts_with('Q') => {
            let quarter: u32 = q[1..].parse().ok().filter(|q| (1..=4).contains(q))?;
            months(quarter * 3 - 2, quarter * 3)
        }
        Some(m) if m.starts_with('M') => {
            let count: u32 = m[1..].parse().ok().filter(|m| (1..=12).contains(m))?;
            months(1, count)
        }
        Some(m) if m.len() == 2 => {
            let month: u32 = m.parse().ok().filter(|m| (1..=12).contains(m))?;
            months(month, month)
        }
        _ => None,
    }
}

/// Resolves a request's period, reporting problems on `field`.
///
/// # Errors
/// INVALID_ARGUMENT when the period is missing, malformed, inverted or
/// outside [`FIRST_YEAR`] to [`LAST_YEAR`].
pub fn resolve(period: Option<&Period>, field: &str) -> Result<Span, Status> {
    let span = match period.and_then(|p| p.kind.as_ref()) {
        None => {
            return Err(invalid_argument(
                field,
                "is required (a date range or a shorthand such as 2025-H1)",
            ));
        }
        Some(Kind::Shorthand(text)) => parse_shorthand(text).ok_or_else(|| {
            invalid_argument(
                format!("{field}.shorthand"),
                format!(
                    "`{}` is not a period; use 2025, 2025-H1, 2025-Q3, 2025-08, 2025-M8 or 2025-01-01..2025-08-31",
                    text.chars().take(40).collect::<String>()
                ),
            )
        })?,
        Some(Kind::Range(range)) => {
            let start = range
                .start
                .as_ref()
                .and_then(date_from_proto)
                .ok_or_else(|| invalid_argument(format!("{field}.range.start"), "must be a full valid date"))?;
            let end = range
                .end
                .as_ref()
                .and_then(date_from_proto)
                .ok_or_else(|| invalid_argument(format!("{field}.range.end"), "must be a full valid date"))?;
            Span { start, end }
        }
    };
    if span.start > span.end {
        return Err(invalid_argument(
            field,
            format!("starts ({}) after it ends ({})", span.start, span.end),
        ));
    }
    if !is_valid_year(span.start.year()) || !is_valid_year(span.end.year()) {
        return Err(invalid_argument(
            field,
            format!("must lie between {FIRST_YEAR} and {LAST_YEAR}"),
        ));
    }
    Ok(span)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn shorthands() {
        assert_eq!(
            parse_shorthand("2025"),
            Some(Span {
                start: day(2025, 1, 1),
                end: day(2025, 12, 31)
            })
        );
        assert_eq!(
            parse_shorthand("2025-H1"),
            Some(Span {
                start: day(2025, 1, 1),
                end: day(2025, 6, 30)
            })
        );
        assert_eq!(
            parse_shorthand("2024-q1"),
            Some(Span {
                start: day(2024, 1, 1),
                end: day(2024, 3, 31)
            })
        );
        assert_eq!(
            parse_shorthand("2024-02"),
            Some(Span {
                start: day(2024, 2, 1),
                end: day(2024, 2, 29)
            })
        );
        assert_eq!(
            parse_shorthand("2025-M8"),
            Some(Span {
                start: day(2025, 1, 1),
                end: day(2025, 8, 31)
            })
        );
        assert_eq!(
            parse_shorthand("2025-01-05..2025-02-01"),
            Some(Span {
                start: day(2025, 1, 5),
                end: day(2025, 2, 1)
            })
        );
        for bad in ["", "25", "2025-Q5", "2025-M13", "2025-13", "next year", "2025-H3"] {
            assert_eq!(parse_shorthand(bad), None, "{bad}");
        }
    }

    #[test]
    fn inverted_and_missing_periods_are_rejected() {
        let inverted = Period {
            kind: Some(Kind::Shorthand("2025-03-01..2025-01-01".into())),
        };
        assert_eq!(
            resolve(Some(&inverted), "period").unwrap_err().code(),
            tonic::Code::InvalidArgument
        );
        assert_eq!(
            resolve(None, "period").unwrap_err().code(),
            tonic::Code::InvalidArgument
        );
        let partial = Period {
            kind: Some(Kind::Range(DateRange {
                start: Some(Date {
                    year: 2025,
                    month: 0,
                    day: 0,
                }),
                end: None,
            })),
        };
        assert!(
            resolve(Some(&partial), "period")
                .unwrap_err()
                .message()
                .contains("period.range.start")
        );
    }
}
