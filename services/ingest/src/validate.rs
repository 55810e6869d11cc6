//! Checks one row of the interchange format and turns it into typed values,
//! reporting every problem as a field violation (`rows[12].amount`).

use std::str::FromStr;

use chrono::{Datelike, NaiveDate};
use fdi_kit::{
    country::is_country_code,
    domain::{EventKind, EventStatus, FIRST_YEAR, MAX_NAME_CHARS, Scope},
    money::is_currency_code,
    status::{Violations, check_text},
};
use fdi_proto::ingest::EventInput;
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};

/// Largest absolute amount accepted, in currency units.
pub const MAX_AMOUNT: i64 = 1_000_000_000_000_000;
/// Longest source, URL or other reference accepted, in characters.
pub const MAX_SOURCE_CHARS: usize = 2000;
const MAX_KEY_CHARS: usize = 255;
const MAX_SECTOR_CHARS: usize = 16;

/// A row that passed every check, with typed values.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidRow {
    /// The row as sent (trimmed), kept for held rows and digests.
    pub input: EventInput,
    /// What happened.
    pub kind: EventKind,
    /// When.
    pub event_date: NaiveDate,
    /// The investor's home country, upper case, or empty.
    pub investor_country: String,
    /// The amount, when given.
    pub amount: Option<Decimal>,
    /// Its currency, upper case.
    pub currency: Option<String>,
    /// Foreign or domestic.
    pub scope: Scope,
    /// Registered or estimated.
    pub status: EventStatus,
    /// SHA-256 of the row's content, for telling duplicates from conflicts.
    pub digest: Vec<u8>,
}

/// Parses a plain decimal: optional minus, digits, optional fraction; no
/// thousands separators, exponents or plus signs (the interchange format).
#[must_use]
pub fn parse_amount(text: &str) -> Option<Decimal> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let plain = !whole.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.bytes().all(|b| b.is_ascii_digit())
        && !(digits.contains('.') && fraction.is_empty());
    if !plain {
        return None;
    }
    Decimal::from_str(text).ok()
}

fn trimmed(input: &EventInput) -> EventInput {
    EventInput {
        idempotency_key: input.idempotency_key.trim().to_owned(),
        kind: input.kind.trim().to_ascii_lowercase(),
        event_date: input.event_date.trim().to_owned(),
        project_ref: input.project_ref.trim().to_owned(),
        project_name: input.project_name.trim().to_owned(),
        investor: input.investor.trim().to_owned(),
        investor_country: input.investor_country.trim().to_ascii_uppercase(),
        zone: input.zone.trim().to_owned(),
        province: input.province.trim().to_owned(),
        sector: input.sector.trim().to_owned(),
        amount: input.amount.trim().to_owned(),
        currency: input.currency.trim().to_ascii_uppercase(),
        scope: input.scope.trim().to_ascii_lowercase(),
        status: input.status.trim().to_ascii_lowercase(),
        source: input.source.trim().to_owned(),
    }
}

/// The content digest of a trimmed row: every field, in order, with the
/// amount in canonical form ("1500.0" and "1500" are the same amount).
#[must_use]
pub fn digest(row: &EventInput, amount: Option<Decimal>) -> Vec<u8> {
    let canonical_amount = amount.map(|a| a.normalize().to_string()).unwrap_or_default();
    let fields = [
        &row.idempotency_key,
        &row.kind,
        &row.event_date,
        &row.project_ref,
        &row.project_name,
        &row.investor,
        &row.investor_country,
        &row.zone,
        &row.province,
        &row.sector,
        &canonical_amount,
        &row.currency,
        &row.scope,
        &row.status,
        &row.source,
    ];
    let mut hasher = Sha256::new();
    for field in fields {
        hasher.update(field.as_bytes());
        hasher.update([0x1f]);
    }
    hasher.finalize().to_vec()
}

/// The violations of one row, each field named with the row's prefix.
struct Fields<'a> {
    prefix: &'a str,
    violations: &'a mut Violations,
}

impl Fields<'_> {
    fn add(&mut self, name: &str, description: impl Into<String>) {
        self.violations.add(format!("{}{name}", self.prefix), description);
    }

    fn text(&mut self, name: &str, value: &str, max_chars: usize, required: bool) {
        check_text(
            self.violations,
            &format!("{}{name}", self.prefix),
            value,
            max_chars,
            required,
        );
    }
}

/// Checks a row; `prefix` names it in violations (`rows[12].` or `event.`);
/// `today` is the last valid event date. Violations are reported in the
/// order of the fields.
pub fn validate(input: &EventInput, prefix: &str, today: NaiveDate, violations: &mut Violations) -> Option<ValidRow> {
    let before = violations.items().len();
    let row = trimmed(input);
    let mut fields = Fields { prefix, violations };
    fields.text("idempotency_key", &row.idempotency_key, MAX_KEY_CHARS, true);
    let kind = check_kind(&mut fields, &row.kind);
    let event_date = check_date(&mut fields, &row.event_date, today);
    check_descriptions(&mut fields, &row, kind);
    let amount = check_amount(&mut fields, &row.amount, kind);
    let currency = check_currency(&mut fields, &row);
    let scope = check_scope(&mut fields, &row);
    let status = check_status(&mut fields, &row.status);

    if violations.items().len() > before {
        return None;
    }
    let digest = digest(&row, amount);
    Some(ValidRow {
        kind: kind?,
        event_date: event_date?,
        investor_country: row.investor_country.clone(),
        amount,
        currency,
        scope,
        status,
        digest,
        input: row,
    })
}

fn check_kind(fields: &mut Fields, text: &str) -> Option<EventKind> {
    if text.is_empty() {
        fields.add(
            "kind",
            "is required: new, adjustment, share_purchase, disbursement or termination",
        );
        return None;
    }
    let kind = EventKind::parse(text);
    if kind.is_none() {
        fields.add(
            "kind",
            format!(
                "`{}` is not a kind: use new, adjustment, share_purchase, disbursement or termination",
                clip(text)
            ),
        );
    }
    kind
}

fn check_date(fields: &mut Fields, text: &str, today: NaiveDate) -> Option<NaiveDate> {
    if text.is_empty() {
        fields.add("event_date", "is required (YYYY-MM-DD)");
        return None;
    }
    match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        Err(_) => {
            fields.add(
                "event_date",
                format!("`{}` is not a date in the form YYYY-MM-DD", clip(text)),
            );
            None
        }
        Ok(date) if date.year() < FIRST_YEAR => {
            fields.add("event_date", format!("{date} is before {FIRST_YEAR}"));
            None
        }
        Ok(date) if date > today => {
            fields.add("event_date", format!("{date} is in the future"));
            None
        }
        Ok(date) => Some(date),
    }
}

/// The fields that describe the project, its investor and its place.
fn check_descriptions(fields: &mut Fields, row: &EventInput, kind: Option<EventKind>) {
    fields.text("project_ref", &row.project_ref, MAX_KEY_CHARS, true);
    fields.text("project_name", &row.project_name, MAX_NAME_CHARS, false);
    let needs_investor = matches!(kind, Some(EventKind::New | EventKind::SharePurchase));
    if needs_investor && row.investor.is_empty() {
        fields.add("investor", format!("is required for {} events", row.kind));
    } else {
        check_name(fields, "investor", &row.investor, None);
    }
    if !row.investor_country.is_empty() && !is_country_code(&row.investor_country) {
        fields.add(
            "investor_country",
            format!(
                "`{}` is not an ISO 3166-1 alpha-2 code such as KR or SG",
                clip(&row.investor_country)
            ),
        );
    }
    check_name(fields, "zone", &row.zone, Some("zones"));
    check_name(fields, "province", &row.province, Some("provinces"));
    if row.zone.is_empty() && row.province.is_empty() {
        fields.add("province", "is required unless a zone is given");
    }
    if row.sector.chars().count() > MAX_SECTOR_CHARS
        || row.sector.chars().any(|c| !c.is_ascii_alphanumeric() && c != '.')
    {
        fields.add("sector", "must be a VSIC/ISIC code or section letter, e.g. C or 2610");
    }
    fields.text("source", &row.source, MAX_SOURCE_CHARS, false);
}

/// An optional name the catalogue will look up or create (see [`check_name`](fdi_kit::catalogue::check_name)).
fn check_name(fields: &mut Fields, name: &str, value: &str, collection: Option<&str>) {
    let field = format!("{}{name}", fields.prefix);
    fdi_kit::catalogue::check_name(fields.violations, &field, value, collection, false);
}

fn check_amount(fields: &mut Fields, text: &str, kind: Option<EventKind>) -> Option<Decimal> {
    if text.is_empty() {
        if kind.is_some_and(|k| k != EventKind::Termination) {
            fields.add("amount", "is required (whole currency units, `.` as decimal separator)");
        }
        return None;
    }
    match parse_amount(text) {
        None => {
            fields.add(
                "amount",
                format!(
                    "`{}` is not a plain decimal such as 1250000.50 (no thousands separators)",
                    clip(text)
                ),
            );
            None
        }
        Some(amount) if amount.abs() > Decimal::from(MAX_AMOUNT) => {
            fields.add("amount", "is above 10^15");
            None
        }
        Some(amount) if amount.is_sign_negative() && !amount.is_zero() && kind != Some(EventKind::Adjustment) => {
            fields.add("amount", "may be negative only for adjustments (a capital reduction)");
            None
        }
        Some(amount) => Some(amount),
    }
}

fn check_currency(fields: &mut Fields, row: &EventInput) -> Option<String> {
    if row.currency.is_empty() {
        if !row.amount.is_empty() {
            fields.add("currency", "is required with an amount (ISO 4217, e.g. USD or VND)");
        }
        None
    } else if is_currency_code(&row.currency) {
        if row.amount.is_empty() {
            fields.add("amount", "is required with a currency");
        }
        Some(row.currency.clone())
    } else {
        fields.add(
            "currency",
            format!("`{}` is not an ISO 4217 currency code", clip(&row.currency)),
        );
        None
    }
}

/// The scope as sent; when none is, foreign exactly when the investor's home country is given and not Vietnam.
fn check_scope(fields: &mut Fields, row: &EventInput) -> Scope {
    if row.scope.is_empty() {
        return Scope::default_for_country(&row.investor_country);
    }
    Scope::parse(&row.scope).unwrap_or_else(|| {
        fields.add(
            "scope",
            format!(
                "`{}` is not a scope: use {} or {}",
                clip(&row.scope),
                Scope::Fdi,
                Scope::Ddi
            ),
        );
        Scope::Ddi
    })
}

fn check_status(fields: &mut Fields, text: &str) -> EventStatus {
    if text.is_empty() {
        return EventStatus::default();
    }
    EventStatus::parse(text).unwrap_or_else(|| {
        fields.add(
            "status",
            format!("`{}` is not a status: use reported or estimated", clip(text)),
        );
        EventStatus::default()
    })
}

/// The first 40 characters of a value, for messages.
fn clip(text: &str) -> std::borrow::Cow<'_, str> {
    fdi_kit::status::shorten(text, 40)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()
    }

    fn row() -> EventInput {
        EventInput {
            idempotency_key: "k1".into(),
            kind: "new".into(),
            event_date: "2025-03-04".into(),
            project_ref: "GCN-1".into(),
            investor: "Foxconn Singapore Pte. Ltd.".into(),
            investor_country: "sg".into(),
            province: "Bắc Giang".into(),
            amount: "246000000".into(),
            currency: "usd".into(),
            ..Default::default()
        }
    }

    fn fields(input: &EventInput) -> Vec<String> {
        let mut violations = Violations::new();
        validate(input, "rows[3].", today(), &mut violations);
        violations.items().iter().map(|(f, _)| f.clone()).collect()
    }

    #[test]
    fn a_good_row_is_typed() {
        let mut violations = Violations::new();
        let valid = validate(&row(), "", today(), &mut violations).expect("valid");
        assert_eq!(valid.kind, EventKind::New);
        assert_eq!(valid.scope, Scope::Fdi, "a foreign home country means fdi");
        assert_eq!(valid.currency.as_deref(), Some("USD"));
        assert_eq!(valid.investor_country, "SG");
        assert_eq!(valid.amount, Some(Decimal::from(246_000_000)));
    }

    #[test]
    fn names_that_name_nothing_are_violations_of_their_field() {
        let with = |change: fn(&mut EventInput)| {
            let mut input = row();
            change(&mut input);
            fields(&input)
        };
        assert_eq!(with(|r| r.investor = "!!!".into()), ["rows[3].investor"]);
        assert_eq!(with(|r| r.zone = "zones/".into()), ["rows[3].zone"]);
        assert_eq!(with(|r| r.zone = " zones/ -- ".into()), ["rows[3].zone"]);
        assert_eq!(with(|r| r.province = "provinces/".into()), ["rows[3].province"]);
        assert_eq!(with(|r| r.province = "…".into()), ["rows[3].province"]);
        // Names with letters in any script, or a collection and a name, are fine.
        assert!(with(|r| r.investor = "Đ".into()).is_empty());
        assert!(with(|r| r.investor = "Тест".into()).is_empty());
        assert!(with(|r| r.zone = "zones/quang-chau".into()).is_empty());
        assert!(with(|r| r.province = "provinces/bac-ninh".into()).is_empty());
    }

    #[test]
    fn every_bad_field_is_named_with_the_row() {
        let bad = EventInput {
            kind: "bogus".into(),
            event_date: "04/03/2025".into(),
            amount: "1,000".into(),
            currency: "XYZ".into(),
            investor_country: "ZZ".into(),
            scope: "foreign".into(),
            ..Default::default()
        };
        assert_eq!(
            fields(&bad),
            [
                "rows[3].idempotency_key",
                "rows[3].kind",
                "rows[3].event_date",
                "rows[3].project_ref",
                "rows[3].investor_country",
                "rows[3].province",
                "rows[3].amount",
                "rows[3].currency",
                "rows[3].scope"
            ]
        );
    }

    #[test]
    fn dates_amounts_and_kinds() {
        let with = |f: &dyn Fn(&mut EventInput)| {
            let mut input = row();
            f(&mut input);
            fields(&input)
        };
        assert_eq!(with(&|r| r.event_date = "1987-12-31".into()), ["rows[3].event_date"]);
        assert_eq!(with(&|r| r.event_date = "2026-01-02".into()), ["rows[3].event_date"]);
        assert_eq!(with(&|r| r.event_date = "2025-02-30".into()), ["rows[3].event_date"]);
        assert_eq!(with(&|r| r.amount = "1000000000000001".into()), ["rows[3].amount"]);
        assert!(with(&|r| r.amount = "1000000000000000".into()).is_empty());
        assert_eq!(with(&|r| r.amount = "1e9".into()), ["rows[3].amount"]);
        assert_eq!(
            with(&|r| r.amount = "-5".into()),
            ["rows[3].amount"],
            "only adjustments may be negative"
        );
        assert!(
            with(&|r| {
                r.kind = "adjustment".into();
                r.amount = "-5.5".into();
            })
            .is_empty()
        );
        assert_eq!(with(&|r| r.investor = String::new()), ["rows[3].investor"]);
        assert!(
            with(&|r| {
                r.kind = "termination".into();
                r.amount = String::new();
                r.currency = String::new();
            })
            .is_empty()
        );
        assert_eq!(with(&|r| r.currency = String::new()), ["rows[3].currency"]);
        assert!(
            with(&|r| {
                r.province = String::new();
                r.zone = "Quang Chau IP".into();
            })
            .is_empty()
        );
        assert_eq!(
            with(&|r| r.idempotency_key = "k".repeat(256)),
            ["rows[3].idempotency_key"]
        );
    }

    #[test]
    fn digests_ignore_formatting_but_not_content() {
        let mut violations = Violations::new();
        let a = validate(&row(), "", today(), &mut violations).unwrap();
        let mut same = row();
        same.amount = "246000000.00".into();
        same.currency = "USD".into();
        same.province = "  Bắc Giang ".into();
        let b = validate(&same, "", today(), &mut violations).unwrap();
        assert_eq!(a.digest, b.digest);
        let mut different = row();
        different.amount = "246000001".into();
        let c = validate(&different, "", today(), &mut violations).unwrap();
        assert_ne!(a.digest, c.digest);
    }

    #[test]
    fn plain_decimals_only() {
        assert_eq!(parse_amount("12.50"), Some(Decimal::new(1250, 2)));
        assert_eq!(parse_amount("-3"), Some(Decimal::from(-3)));
        for bad in ["", "-", ".5", "5.", "+5", "1 000", "1,5", "1e3", "NaN", "0x10"] {
            assert_eq!(parse_amount(bad), None, "{bad}");
        }
    }
}
