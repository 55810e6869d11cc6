//! What an analytics request can fail with, and the one mapping to gRPC status.

use std::collections::HashMap;

use tonic::{Code, Status};

use crate::{api::WatchLimit, store::StoreError};

/// Everything an analytics handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request is wrong (a field, a period, a page token); the
    /// INVALID_ARGUMENT status, with its field violations, says how.
    #[error("invalid request: {0}")]
    Invalid(#[from] Status),
    /// A province or zone named in the request is none the catalogue knows.
    #[error("unknown {noun} `{name}`")]
    UnknownPlace {
        /// `province` or `zone`.
        noun: &'static str,
        /// The name as asked.
        name: String,
        /// The nearest known resource names.
        suggestions: Vec<String>,
    },
    /// No target is set for the province, year, figure and scope asked about.
    #[error("no target {0}")]
    NoTarget(String),
    /// The catalogue could not be reached or failed, so names could not be resolved.
    #[error("catalogue: {0}")]
    Catalogue(Status),
    /// The rollups or ingest's feed could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A Watch stream was refused: the service or the caller has as many open as allowed.
    #[error("too many Watch streams: {0:?}")]
    TooManyWatchers(WatchLimit),
}

impl From<Error> for Status {
    fn from(error: Error) -> Self {
        match error {
            Error::Invalid(status) => status,
            Error::UnknownPlace {
                noun,
                name,
                suggestions,
            } => fdi_kit::status::not_found(noun, &name, &suggestions),
            Error::NoTarget(target) => fdi_kit::status::not_found("target", &target, &[]),
            Error::Catalogue(status) => {
                tracing::warn!(code = ?status.code(), message = status.message(), "catalogue call failed");
                fdi_kit::status::unavailable("the catalogue")
            }
            Error::Store(error) => fdi_kit::db::failure_status(error.database_error(), "the analytics database"),
            Error::TooManyWatchers(limit) => too_many_watchers(limit),
        }
    }
}

/// RESOURCE_EXHAUSTED naming the cap, with ErrorInfo reason `TOO_MANY_WATCHERS`
/// and metadata `limit` (the setting's name) and `max` (its value).
fn too_many_watchers(limit: WatchLimit) -> Status {
    let (name, max, message) = match limit {
        WatchLimit::Service(max) => (
            "max_watchers",
            max,
            format!("the service has {max} Watch streams open, the most it allows (max_watchers); retry later"),
        ),
        WatchLimit::PerCaller(max) => (
            "max_watchers_per_caller",
            max,
            format!(
                "this caller has {max} Watch streams open, the most one caller may (max_watchers_per_caller); close one and retry"
            ),
        ),
    };
    tracing::warn!(limit = name, max = max.get(), "Watch refused");
    fdi_kit::status::with_reason(
        Code::ResourceExhausted,
        message,
        "TOO_MANY_WATCHERS",
        HashMap::from([
            ("limit".to_owned(), name.to_owned()),
            ("max".to_owned(), max.to_string()),
        ]),
    )
}

/// Shorthand for handler results.
pub type Result<T, E = Error> = std::result::Result<T, E>;
