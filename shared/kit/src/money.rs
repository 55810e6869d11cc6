//! Exact amounts: decimals (rust_decimal, stored as NUMERIC) and their
//! `google.type.Money` form, and ISO 4217 currency codes.

use fdi_proto::Money;
use rust_decimal::{Decimal, prelude::ToPrimitive};

/// Active ISO 4217 currency codes (2024 list, without funds and precious metals).
const ISO_4217: &str = "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD \
CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD \
HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD \
MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG \
QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD \
TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XOF XPF YER ZAR ZMW ZWG";

/// Whether `code` is an active ISO 4217 currency code (upper case).
#[must_use]
pub fn is_currency_code(code: &str) -> bool {
    code.len() == 3 && ISO_4217.split_ascii_whitespace().any(|known| known == code)
}

/// The `google.type.Money` form of an exact amount (units and nanos carry
/// the same sign; beyond nine decimals the amount is rounded).
#[must_use]
pub fn to_money(amount: Decimal, currency_code: &str) -> Money {
    let rounded = amount.round_dp(9);
    let units = rounded.trunc();
    let nanos = ((rounded - units) * Decimal::from(1_000_000_000)).trunc();
    Money {
        currency_code: currency_code.to_owned(),
        units: units
            .to_i64()
            .unwrap_or(if amount.is_sign_negative() { i64::MIN } else { i64::MAX }),
        nanos: nanos.to_i32().unwrap_or_default(),
    }
}

/// The exact amount of a `google.type.Money`; `None` when units and nanos disagree in sign or nanos overflow.
#[must_use]
pub fn from_money(money: &Money) -> Option<Decimal> {
    if money.nanos.unsigned_abs() > 999_999_999
        || (money.units > 0 && money.nanos < 0)
        || (money.units < 0 && money.nanos > 0)
    {
        return None;
    }
    Some(Decimal::from(money.units) + Decimal::new(i64::from(money.nanos), 9))
}

/// The amount as a floating-point number, for shares and ratios only.
#[must_use]
pub fn money_to_f64(money: &Money) -> f64 {
    #[allow(clippy::cast_precision_loss, reason = "ratios tolerate rounding beyond 2^53 units")]
    let units = money.units as f64;
    units + f64::from(money.nanos) / 1e9
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn currency_codes() {
        assert!(is_currency_code("USD"));
        assert!(is_currency_code("VND"));
        assert!(is_currency_code("KRW"));
        assert!(!is_currency_code("usd"));
        assert!(!is_currency_code("XYZ"));
        assert!(!is_currency_code("US"));
    }

    #[test]
    fn money_round_trips_with_signs() {
        for text in ["920000000", "-1500000.5", "0.000000001", "999999999999999"] {
            let amount = Decimal::from_str(text).unwrap();
            let money = to_money(amount, "USD");
            assert_eq!(from_money(&money), Some(amount), "{text}");
        }
        let negative = to_money(Decimal::from_str("-2.25").unwrap(), "VND");
        assert_eq!((negative.units, negative.nanos), (-2, -250_000_000));
        assert_eq!(
            from_money(&Money {
                currency_code: "USD".into(),
                units: 1,
                nanos: -1
            }),
            None
        );
        // The extreme nanos are out of range, not an overflow (found by the fuzz test).
        for nanos in [i32::MIN, i32::MAX] {
            let money = Money {
                currency_code: "USD".into(),
                units: 0,
                nanos,
            };
            assert_eq!(from_money(&money), None, "{nanos}");
        }
    }
}
