//! Exchange rates (dong per unit of a currency, by month or year) kept in
//! memory for conversion on the write path, loaded from the
//! `exchange_rates` table, which is seeded with the shipped USD/VND series.

use std::{collections::HashMap, str::FromStr, sync::RwLock};

use chrono::{Datelike, NaiveDate};
use fdi_kit::domain::ReportingCurrency;
use rust_decimal::Decimal;
use serde::Deserialize;

use crate::store::ExchangeRate;

const SHIPPED_USD_VND: &str = include_str!("../../../data/fx_usd_vnd.csv");

/// Decimal places kept in converted amounts.
const CONVERTED_SCALE: u32 = 6;

const USD: &str = ReportingCurrency::Usd.as_str();
const VND: &str = ReportingCurrency::Vnd.as_str();

/// The in-memory rate table.
#[derive(Debug, Default)]
pub struct Rates {
    table: RwLock<HashMap<(String, String), Decimal>>,
}

/// Converted values of an amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Converted {
    /// In US dollars.
    pub usd: Decimal,
    /// In dong.
    pub vnd: Decimal,
}

#[derive(Debug, Deserialize)]
struct ShippedRate {
    period: String,
    rate: String,
    source_url: String,
}

/// Whether `period` is `YYYY` or `YYYY-MM`.
#[must_use]
pub fn is_valid_period(period: &str) -> bool {
    let bytes = period.as_bytes();
    match bytes.len() {
        4 => bytes.iter().all(u8::is_ascii_digit),
        7 => {
            bytes[..4].iter().all(u8::is_ascii_digit)
                && bytes[4] == b'-'
                && period[5..].parse::<u32>().is_ok_and(|m| (1..=12).contains(&m))
        }
        _ => false,
    }
}

/// The shipped USD/VND series.
///
/// # Errors
/// When the shipped file is malformed.
pub fn shipped() -> Result<Vec<ExchangeRate>, String> {
    let rows: Vec<ShippedRate> = csv::Reader::from_reader(SHIPPED_USD_VND.as_bytes())
        .deserialize()
        .collect::<Result<_, _>>()
        .map_err(|e| format!("fx_usd_vnd.csv: {e}"))?;
    rows.into_iter()
        .map(|row| {
            Ok(ExchangeRate {
                currency: USD.to_owned(),
                vnd_per_unit: Decimal::from_str(&row.rate).map_err(|e| e.to_string())?,
                period: row.period,
                source: row.source_url,
                creator: crate::store::SHIPPED.to_owned(),
            })
        })
        .collect()
}

impl Rates {
    /// Replaces the table with `rates` (currency, period, dong per unit).
    pub fn replace(&self, rates: Vec<(String, String, Decimal)>) {
        let table = rates.into_iter().map(|(c, p, r)| ((c, p), r)).collect();
        *self.table.write().unwrap_or_else(std::sync::PoisonError::into_inner) = table;
    }

    /// Dong per unit of `currency` in the month of `date`, else its year's average.
    #[must_use]
    pub fn vnd_per_unit(&self, currency: &str, date: NaiveDate) -> Option<Decimal> {
        if currency == VND {
            return Some(Decimal::ONE);
        }
        let table = self.table.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        let month = format!("{:04}-{:02}", date.year(), date.month());
        table
            .get(&(currency.to_owned(), month))
            .or_else(|| table.get(&(currency.to_owned(), format!("{:04}", date.year()))))
            .copied()
    }

    /// Converts an amount to USD and VND at the rates of `date`; `None` when
    /// a rate is missing (the row is held).
    #[must_use]
    pub fn convert(&self, amount: Decimal, currency: &str, date: NaiveDate) -> Option<Converted> {
        let to_vnd = self.vnd_per_unit(currency, date)?;
        let usd_rate = self.vnd_per_unit(USD, date)?;
        let vnd = if currency == VND {
            amount
        } else {
            (amount * to_vnd).round_dp(CONVERTED_SCALE)
        };
        let usd = if currency == USD {
            amount
        } else {
            (vnd / usd_rate).round_dp(CONVERTED_SCALE)
        };
        Some(Converted { usd, vnd })
    }

    /// Sets one rate.
    #[cfg(test)]
    fn set(&self, currency: &str, period: &str, vnd_per_unit: Decimal) {
        self.table
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert((currency.to_owned(), period.to_owned()), vnd_per_unit);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, 15).unwrap()
    }

    #[test]
    fn monthly_rates_win_over_annual_ones() {
        let rates = Rates::default();
        rates.set("USD", "2024", Decimal::from(25_000));
        rates.set("USD", "2024-03", Decimal::from(24_700));
        rates.set("EUR", "2024", Decimal::from(27_000));
        assert_eq!(rates.vnd_per_unit("USD", day(2024, 3)), Some(Decimal::from(24_700)));
        assert_eq!(rates.vnd_per_unit("USD", day(2024, 4)), Some(Decimal::from(25_000)));
        assert_eq!(rates.vnd_per_unit("USD", day(2023, 4)), None);
        let usd = rates.convert(Decimal::from(1_000), "USD", day(2024, 3)).unwrap();
        assert_eq!(
            usd,
            Converted {
                usd: Decimal::from(1_000),
                vnd: Decimal::from(24_700_000)
            }
        );
        let vnd = rates.convert(Decimal::from(49_400_000), "VND", day(2024, 3)).unwrap();
        assert_eq!(vnd.usd, Decimal::from(2_000));
        let eur = rates.convert(Decimal::from(100), "EUR", day(2024, 4)).unwrap();
        assert_eq!(eur.vnd, Decimal::from(2_700_000));
        assert_eq!(eur.usd, Decimal::from(108));
        assert_eq!(rates.convert(Decimal::ONE, "JPY", day(2024, 4)), None);
    }

    #[test]
    fn shipped_series_parses() {
        let rates = shipped().unwrap();
        assert!(rates.len() >= 40);
        assert!(rates.iter().all(|r| is_valid_period(&r.period) && r.currency == "USD"));
        assert!(!is_valid_period("2024-13"));
        assert!(!is_valid_period("24"));
    }
}
