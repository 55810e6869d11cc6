//! Which rows a caller may write. The access layer checks the role of each
//! call against the service's policy (`lib.rs`); what it cannot check is a
//! writer's provinces, since only the pipeline knows where a row lies once its
//! names are resolved. That check is here, for the pipeline (each row) and
//! for documents (each reported statistic).

use std::collections::HashMap;

use chrono::NaiveDate;
use fdi_kit::{
    access::Caller,
    domain::{MERGER_DATE, ProvinceCode},
    status::with_reason,
};
use tonic::{Code, Status};

/// ErrorInfo reason of a write outside the provinces of the caller's key.
pub const PROVINCE_OUT_OF_SCOPE: &str = "PROVINCE_OUT_OF_SCOPE";

/// Whether `caller` may write what is recorded under province `recorded`
/// (today's `current`) and dated `date`. A code that is not a code cannot be
/// checked, so only a caller who writes everywhere may write it.
#[must_use]
pub fn may_write(caller: &Caller, recorded: &str, current: &str, date: NaiveDate) -> bool {
    match (ProvinceCode::parse(recorded), ProvinceCode::parse(current)) {
        (Some(recorded), Some(current)) => caller.may_write(&recorded, &current, date),
        _ => caller.writes_everywhere(),
    }
}

/// The provinces of the caller's key, for messages.
fn provinces(caller: &Caller) -> String {
    if caller.provinces.is_empty() {
        return "no province".to_owned();
    }
    caller
        .provinces
        .iter()
        .map(ProvinceCode::resource_name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Why a write is refused, in words: the key, its provinces, and `what` lies elsewhere.
#[must_use]
pub fn denial(caller: &Caller, what: &str) -> String {
    format!(
        "permission denied: API key {} writes only for {} (a pre-2025 province only for rows dated before {MERGER_DATE}); {what}",
        caller.key_id,
        provinces(caller),
    )
}

/// Where a row lies, for [`denial`].
#[must_use]
pub fn row_place(recorded: &str, current: &str, date: NaiveDate) -> String {
    if recorded == current {
        format!("this row is in provinces/{current}")
    } else {
        format!("this row, dated {date}, is recorded under provinces/{recorded}, now part of provinces/{current}")
    }
}

/// PERMISSION_DENIED (ErrorInfo [`PROVINCE_OUT_OF_SCOPE`]) with the [`denial`] `description`.
#[must_use]
pub fn denied(caller: &Caller, description: String) -> Status {
    with_reason(
        Code::PermissionDenied,
        description,
        PROVINCE_OUT_OF_SCOPE,
        HashMap::from([
            ("key_id".to_owned(), caller.key_id.clone()),
            ("provinces".to_owned(), provinces(caller)),
        ]),
    )
}

#[cfg(test)]
mod tests {
    use fdi_kit::access::Role;

    use super::*;

    fn writer(provinces: &[&str]) -> Caller {
        Caller {
            key_id: "0123456789abcdef".into(),
            role: Role::Writer,
            provinces: provinces.iter().filter_map(|p| ProvinceCode::parse(p)).collect(),
        }
    }

    #[test]
    fn codes_that_are_not_codes_are_written_only_by_admins() {
        let day = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
        assert!(may_write(&writer(&["bac-ninh"]), "bac-giang", "bac-ninh", day));
        assert!(!may_write(&writer(&["bac-ninh"]), "Bắc Ninh", "Bắc Ninh", day));
        assert!(may_write(&Caller::anonymous(), "Bắc Ninh", "Bắc Ninh", day));
        assert!(Caller::anonymous().writes_everywhere());
        assert!(!writer(&["bac-ninh"]).writes_everywhere());
    }

    #[test]
    fn a_denial_names_the_key_and_its_provinces() {
        let day = NaiveDate::from_ymd_opt(2025, 8, 1).unwrap();
        let text = denial(
            &writer(&["bac-ninh", "ha-noi"]),
            &row_place("hai-phong", "hai-phong", day),
        );
        assert!(text.starts_with("permission denied"), "{text}");
        assert!(text.contains("0123456789abcdef"), "{text}");
        assert!(text.contains("provinces/bac-ninh, provinces/ha-noi"), "{text}");
        assert!(text.contains("this row is in provinces/hai-phong"), "{text}");
        assert!(denial(&writer(&[]), "x").contains("no province"));
        let status = denied(&writer(&["bac-ninh"]), text);
        assert_eq!(status.code(), Code::PermissionDenied);
    }
}
