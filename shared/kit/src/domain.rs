//! The domain's typed values and constants, defined once: what happened to a
//! project ([`EventKind`]), foreign or domestic ([`Scope`]), registered or
//! estimated ([`EventStatus`]), the two currencies figures are reported in
//! ([`ReportingCurrency`]), province codes ([`ProvinceCode`]), and the dates
//! and limits every service agrees on.
//!
//! Each value has one stored (and interchange) name, `as_str`/`parse`, and
//! one conversion to and from its protobuf enum, so no handler maps strings
//! by hand.

use std::fmt;

use chrono::{NaiveDate, TimeDelta, Utc};
use fdi_proto::{common, ingest};

/// First year of Vietnam's foreign investment law in force for registers:
/// earlier dates, targets and periods are refused.
pub const FIRST_YEAR: i32 = 1988;
/// Last year a period, target or event may name.
pub const LAST_YEAR: i32 = 2100;

/// The day the 2025 reform took effect: 63 provinces became 34. Rows dated
/// before it name provinces as they were then.
pub const MERGER_DATE: NaiveDate = match NaiveDate::from_ymd_opt(2025, 7, 1) {
    Some(date) => date,
    None => panic!("2025-07-01 is a date"),
};

/// Vietnam's time zone (UTC+7, no daylight saving).
pub const VIETNAM_UTC_OFFSET_SECONDS: i32 = 7 * 3600;

/// Longest name, alias, query or other free text field accepted, in characters.
pub const MAX_NAME_CHARS: usize = 500;

/// Longest name the catalogue matches, in characters once folded
/// ([`crate::names::fold`]: accents removed, ligatures such as 'ﬃ' spelled
/// out): fuzzy matching costs query length × name length per known name.
pub const MAX_FOLDED_NAME_CHARS: usize = 200;

/// Folded characters one `BatchResolve` call may match in all: the bound on
/// a batch's matching work (e.g. 1000 names of 50, or 250 of 200).
pub const MAX_BATCH_FOLDED_CHARS: usize = 50_000;

/// Today's date in Vietnam, where "today" decides whether a date is in the
/// future and which year a target belongs to.
#[must_use]
pub fn today_in_vietnam() -> NaiveDate {
    (Utc::now() + TimeDelta::seconds(VIETNAM_UTC_OFFSET_SECONDS.into())).date_naive()
}

/// Whether `year` is one the system accepts ([`FIRST_YEAR`] to [`LAST_YEAR`]).
#[must_use]
pub fn is_valid_year(year: i32) -> bool {
    (FIRST_YEAR..=LAST_YEAR).contains(&year)
}

/// Generates `as_str`, `parse`, `ALL` and `Display` for a domain enum whose
/// variants each have one stored name.
macro_rules! named_values {
    ($type:ident { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $type {
            /// Every value, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The stored (and interchange) name.
            #[must_use]
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $name),+
                }
            }

            /// The value of a stored name; `None` for anything else.
            #[must_use]
            pub fn parse(text: &str) -> Option<Self> {
                match text {
                    $($name => Some(Self::$variant),)+
                    _ => None,
                }
            }
        }

        impl fmt::Display for $type {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// Generates the two conversions between a domain enum and its protobuf
/// enum: every domain value has a protobuf value, and the protobuf's
/// UNSPECIFIED (and any extra value) has no domain value.
macro_rules! proto_conversions {
    ($type:ident <-> $proto:ty { $($variant:ident),+ $(,)? }) => {
        impl From<$type> for $proto {
            fn from(value: $type) -> Self {
                match value {
                    $($type::$variant => <$proto>::$variant),+
                }
            }
        }

        impl TryFrom<$proto> for $type {
            type Error = Unspecified;

            fn try_from(value: $proto) -> Result<Self, Unspecified> {
                match value {
                    $(<$proto>::$variant => Ok(Self::$variant),)+
                    #[allow(unreachable_patterns, reason = "some protobuf enums have values with no domain value (e.g. SCOPE_ALL)")]
                    _ => Err(Unspecified),
                }
            }
        }

        impl $type {
            /// The value of a protobuf enum field (an `i32` on the wire):
            /// `Ok(None)` when unspecified, `Err` when the number is no value of the enum.
            ///
            /// # Errors
            /// [`UnknownEnumValue`] when `number` is not a value of the protobuf enum.
            pub fn from_proto_field(number: i32) -> Result<Option<Self>, UnknownEnumValue> {
                let value = <$proto>::try_from(number).map_err(|_| UnknownEnumValue(number))?;
                Ok(Self::try_from(value).ok())
            }
        }
    };
}

/// The protobuf value had no domain value (UNSPECIFIED, or `SCOPE_ALL`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the value is unspecified")]
pub struct Unspecified;

/// An `i32` that is no value of the protobuf enum it was sent as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{0} is not a value of the enum")]
pub struct UnknownEnumValue(pub i32);

/// What happened to a project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventKind {
    /// Registration certificate issued.
    New,
    /// Registered capital changed.
    Adjustment,
    /// Capital contribution or share purchase.
    SharePurchase,
    /// Capital realised.
    Disbursement,
    /// Project ended.
    Termination,
}

named_values!(EventKind {
    New => "new",
    Adjustment => "adjustment",
    SharePurchase => "share_purchase",
    Disbursement => "disbursement",
    Termination => "termination",
});
proto_conversions!(EventKind <-> common::EventKind { New, Adjustment, SharePurchase, Disbursement, Termination });

/// Whether an investor is foreign (FDI) or Vietnamese (DDI).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// Foreign direct investment.
    Fdi,
    /// Domestic direct investment.
    Ddi,
}

named_values!(Scope {
    Fdi => "fdi",
    Ddi => "ddi",
});
proto_conversions!(Scope <-> common::Scope { Fdi, Ddi });

impl Scope {
    /// The scope a row gets when it names none: foreign when the investor's
    /// home country is given and is not Vietnam.
    #[must_use]
    pub fn default_for_country(investor_country: &str) -> Self {
        if investor_country.is_empty() || investor_country.eq_ignore_ascii_case(VIETNAM) {
            Self::Ddi
        } else {
            Self::Fdi
        }
    }
}

/// Vietnam's ISO 3166-1 alpha-2 code: an investor from here is domestic.
pub const VIETNAM: &str = "VN";

/// Whether a figure comes from an official register or an estimate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum EventStatus {
    /// From an official register (the default).
    #[default]
    Reported,
    /// Estimated, e.g. promoted from a news article.
    Estimated,
}

named_values!(EventStatus {
    Reported => "reported",
    Estimated => "estimated",
});
proto_conversions!(EventStatus <-> ingest::EventStatus { Reported, Estimated });

/// The currencies figures are reported and summed in: every amount is kept
/// as sent and also converted to both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ReportingCurrency {
    /// US dollars (the default for questions that name no currency).
    #[default]
    Usd,
    /// Vietnamese dong.
    Vnd,
}

named_values!(ReportingCurrency {
    Usd => "USD",
    Vnd => "VND",
});

impl ReportingCurrency {
    /// The currency a question asks for: empty means USD; case is ignored.
    #[must_use]
    pub fn parse_requested(text: &str) -> Option<Self> {
        let text = text.trim();
        if text.is_empty() {
            return Some(Self::default());
        }
        Self::parse(&text.to_ascii_uppercase())
    }
}

/// A province's code, e.g. `bac-ninh`: lower-case ASCII words joined by hyphens.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProvinceCode(String);

impl ProvinceCode {
    /// The code, when `text` has a code's shape (see [`crate::names::is_valid_id`]).
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        crate::names::is_valid_id(text).then(|| Self(text.to_owned()))
    }

    /// The code as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The resource name, `provinces/{code}`.
    #[must_use]
    pub fn resource_name(&self) -> String {
        format!("provinces/{}", self.0)
    }
}

impl fmt::Display for ProvinceCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for ProvinceCode {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl From<ProvinceCode> for String {
    fn from(code: ProvinceCode) -> Self {
        code.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for kind in EventKind::ALL {
            assert_eq!(EventKind::parse(kind.as_str()), Some(*kind));
            let proto = common::EventKind::from(*kind);
            assert_eq!(EventKind::try_from(proto), Ok(*kind));
        }
        for scope in Scope::ALL {
            assert_eq!(Scope::parse(&scope.to_string()), Some(*scope));
        }
        for status in EventStatus::ALL {
            assert_eq!(EventStatus::parse(status.as_str()), Some(*status));
        }
        assert_eq!(EventKind::parse("New"), None, "stored names are exact");
    }

    #[test]
    fn unspecified_and_unknown_proto_values() {
        assert_eq!(EventKind::try_from(common::EventKind::Unspecified), Err(Unspecified));
        assert_eq!(Scope::try_from(common::Scope::All), Err(Unspecified));
        assert_eq!(Scope::from_proto_field(common::Scope::All as i32), Ok(None));
        assert_eq!(Scope::from_proto_field(common::Scope::Fdi as i32), Ok(Some(Scope::Fdi)));
        assert_eq!(EventKind::from_proto_field(99), Err(UnknownEnumValue(99)));
    }

    #[test]
    fn scope_defaults_follow_the_home_country() {
        assert_eq!(Scope::default_for_country("SG"), Scope::Fdi);
        assert_eq!(Scope::default_for_country("VN"), Scope::Ddi);
        assert_eq!(Scope::default_for_country(""), Scope::Ddi);
    }

    #[test]
    fn reporting_currencies() {
        assert_eq!(ReportingCurrency::parse_requested(""), Some(ReportingCurrency::Usd));
        assert_eq!(ReportingCurrency::parse_requested("vnd"), Some(ReportingCurrency::Vnd));
        assert_eq!(ReportingCurrency::parse_requested("EUR"), None);
    }

    #[test]
    fn dates_and_codes() {
        assert_eq!(MERGER_DATE.to_string(), "2025-07-01");
        assert!(is_valid_year(FIRST_YEAR) && is_valid_year(LAST_YEAR) && !is_valid_year(FIRST_YEAR - 1));
        let today = today_in_vietnam();
        let utc_today = Utc::now().date_naive();
        assert!(today == utc_today || today == utc_today.succ_opt().unwrap_or(today));
        assert_eq!(
            ProvinceCode::parse("bac-ninh").map(|c| c.resource_name()).as_deref(),
            Some("provinces/bac-ninh")
        );
        assert_eq!(ProvinceCode::parse("Bắc Ninh"), None);
    }
}
