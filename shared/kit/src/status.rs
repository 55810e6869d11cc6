//! Building rich gRPC errors (google.rpc details via tonic-types) the same
//! way in every service: BadRequest field violations for bad input,
//! ResourceInfo plus suggestions for unknown names, ErrorInfo reasons for
//! conditions a client handles.

use std::collections::HashMap;

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// The ErrorInfo domain of every FDI Atlas error.
pub const ERROR_DOMAIN: &str = "fdi-atlas";

/// Most characters of one violation's description or one echoed name: error texts quote what the caller sent,
/// and a hostile value must not make a status too large to deliver.
pub const MAX_DESCRIPTION_CHARS: usize = 300;

/// Most characters of a field path in a violation (`rows[12].amount`).
const MAX_FIELD_CHARS: usize = 200;

/// Most characters of a status message. A status travels in HTTP/2 headers (`grpc-message`, and the details in
/// `grpc-status-details-bin`, base64), and common clients refuse a header block over 16 KiB with a protocol
/// error instead of showing the status; the message and the details stay well under that together.
const MAX_MESSAGE_CHARS: usize = 2_000;

/// Most bytes of field violations in a BadRequest detail; further violations are summed up in one last entry.
const MAX_DETAIL_BYTES: usize = 6_000;

/// `text` cut to at most `max_chars` characters (at a character boundary), with `…` when it was cut.
#[must_use]
pub fn shorten(text: &str, max_chars: usize) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(max_chars) {
        None => std::borrow::Cow::Borrowed(text),
        Some((cut, _)) => std::borrow::Cow::Owned(format!("{}…", &text[..cut])),
    }
}

/// Collects field violations of one request, to report them all at once.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Violations {
    items: Vec<(String, String)>,
}

impl Violations {
    /// No violations yet.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Records that `field` is wrong because of `description` (both shortened to a bounded length).
    pub fn add(&mut self, field: impl Into<String>, description: impl Into<String>) {
        let (field, description) = (field.into(), description.into());
        self.items.push((
            shorten(&field, MAX_FIELD_CHARS).into_owned(),
            shorten(&description, MAX_DESCRIPTION_CHARS).into_owned(),
        ));
    }

    /// Whether nothing was recorded.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The recorded (field, description) pairs.
    #[must_use]
    pub fn items(&self) -> &[(String, String)] {
        &self.items
    }

    /// `Ok(())` when empty, else INVALID_ARGUMENT listing every violation.
    ///
    /// # Errors
    /// The INVALID_ARGUMENT status when any violation was recorded.
    pub fn into_result(self) -> Result<(), Status> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(self.into_status())
        }
    }

    /// INVALID_ARGUMENT with a message naming the violations and a BadRequest detail. However many violations
    /// there are, the status stays small enough to deliver: past a budget the rest are counted, not listed.
    #[must_use]
    pub fn into_status(self) -> Status {
        let message = self
            .items
            .iter()
            .map(|(field, description)| format!("{field}: {description}"))
            .collect::<Vec<_>>()
            .join("; ");
        let mut details = ErrorDetails::new();
        let mut detail_bytes = 0;
        let total = self.items.len();
        for (listed, (field, description)) in self.items.into_iter().enumerate() {
            detail_bytes += field.len() + description.len();
            if detail_bytes > MAX_DETAIL_BYTES {
                details.add_bad_request_violation("", format!("{} more violations not listed", total - listed));
                break;
            }
            details.add_bad_request_violation(field, description);
        }
        Status::with_error_details(Code::InvalidArgument, shorten(&message, MAX_MESSAGE_CHARS), details)
    }
}

/// INVALID_ARGUMENT for one field.
#[must_use]
pub fn invalid_argument(field: impl Into<String>, description: impl Into<String>) -> Status {
    let mut violations = Violations::new();
    violations.add(field, description);
    violations.into_status()
}

/// NOT_FOUND naming the resource, with the nearest known names as suggestions
/// (in the message, and as ErrorInfo metadata `suggestions`, comma-separated).
#[must_use]
pub fn not_found(resource_type: &str, name: &str, suggestions: &[String]) -> Status {
    let name = shorten(name, MAX_DESCRIPTION_CHARS);
    let message = if suggestions.is_empty() {
        format!("{resource_type} `{name}` does not exist")
    } else {
        format!(
            "{resource_type} `{name}` does not exist; did you mean {}?",
            suggestions.join(", ")
        )
    };
    let mut details = ErrorDetails::with_resource_info(resource_type, name.as_ref(), "", "not found");
    details.set_error_info(
        "NOT_FOUND",
        ERROR_DOMAIN,
        HashMap::from([("suggestions".to_owned(), suggestions.join(","))]),
    );
    Status::with_error_details(Code::NotFound, message, details)
}

/// A status with an ErrorInfo `reason` (UPPER_SNAKE) and metadata, for
/// conditions a client acts on (e.g. `IDEMPOTENCY_KEY_REUSED`).
#[must_use]
pub fn with_reason(code: Code, message: impl Into<String>, reason: &str, metadata: HashMap<String, String>) -> Status {
    let details = ErrorDetails::with_error_info(reason, ERROR_DOMAIN, metadata);
    Status::with_error_details(code, shorten(&message.into(), MAX_MESSAGE_CHARS), details)
}

/// UNAVAILABLE for a dependency that cannot be reached; clients may retry.
#[must_use]
pub fn unavailable(what: &str) -> Status {
    Status::unavailable(format!("{what} is unavailable; retry later"))
}

/// INTERNAL without details: the caller logs what went wrong, the client never sees it.
#[must_use]
pub fn internal() -> Status {
    Status::internal("internal error; it has been logged")
}

/// Checks a required text field: present, at most `max_chars` characters,
/// no control characters.
pub fn check_text(violations: &mut Violations, field: &str, value: &str, max_chars: usize, required: bool) {
    if value.trim().is_empty() {
        if required {
            violations.add(field, "is required");
        }
        return;
    }
    let chars = value.chars().count();
    if chars > max_chars {
        violations.add(
            field,
            format!("is {chars} characters long; at most {max_chars} are allowed"),
        );
    } else if value.chars().any(|c| c.is_control() && c != '\t') {
        violations.add(field, "contains control characters");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn violations_become_bad_request_details() {
        let mut violations = Violations::new();
        violations.add("page_size", "must be between 1 and 100");
        violations.add("name", "is required");
        let status = violations.into_status();
        assert_eq!(status.code(), Code::InvalidArgument);
        assert!(status.message().contains("page_size: must be between 1 and 100"));
        let bad_request = status.get_details_bad_request().expect("bad request detail");
        assert_eq!(bad_request.field_violations.len(), 2);
        assert_eq!(bad_request.field_violations[1].field, "name");
    }

    #[test]
    fn hostile_input_cannot_make_a_status_too_large_to_deliver() {
        let mut violations = Violations::new();
        for row in 0..5_000 {
            violations.add(
                format!("rows[{row}].zone"),
                format!("`{}` is not a zone", "ﬃ".repeat(20_000)),
            );
        }
        let status = violations.into_status();
        assert!(status.message().chars().count() <= MAX_MESSAGE_CHARS + 1);
        let listed = status
            .get_details_bad_request()
            .expect("bad request detail")
            .field_violations;
        assert!(listed.len() < 100, "{} violations listed", listed.len());
        let last = listed.last().expect("a summary entry");
        assert_eq!(
            last.description,
            format!("{} more violations not listed", 5_001 - listed.len())
        );
        assert!(listed[0].description.ends_with('…'));
        assert_eq!(shorten("Bắc Ninh", 3), "Bắc…");
        assert_eq!(shorten("Bắc", 3), "Bắc");
    }

    #[test]
    fn not_found_lists_suggestions() {
        let status = not_found("province", "bac nihn", &["provinces/bac-ninh".into()]);
        assert_eq!(status.code(), Code::NotFound);
        assert!(status.message().contains("did you mean provinces/bac-ninh"));
        let info = status.get_details_error_info().expect("error info");
        assert_eq!(info.metadata["suggestions"], "provinces/bac-ninh");
    }

    #[test]
    fn text_checks() {
        let mut violations = Violations::new();
        check_text(&mut violations, "a", "", 10, true);
        check_text(&mut violations, "b", &"x".repeat(11), 10, true);
        check_text(&mut violations, "c", "ok\u{0}", 10, true);
        check_text(&mut violations, "d", "", 10, false);
        check_text(&mut violations, "e", "fine", 10, true);
        let fields: Vec<_> = violations.items().iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(fields, ["a", "b", "c"]);
    }
}
