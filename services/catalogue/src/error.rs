//! The catalogue's one error type and its one mapping to gRPC status.

use tonic::{Code, Status};

/// Everything a catalogue handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The client's request is wrong; the status (built with the kit's helpers) says how.
    #[error("rejected: {0}")]
    Rejected(Status),
    /// The service is still starting (reference data not loaded).
    #[error("reference data not loaded yet")]
    NotReady,
    /// The database failed.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

impl From<Status> for Error {
    fn from(status: Status) -> Self {
        Self::Rejected(status)
    }
}

impl From<Error> for Status {
    fn from(error: Error) -> Self {
        match error {
            Error::Rejected(status) => status,
            Error::NotReady => Status::unavailable("the catalogue is starting; retry shortly"),
            Error::Database(error) => fdi_kit::db::failure_status(&error, "the catalogue database"),
        }
    }
}

/// Shorthand for handler results.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// ALREADY_EXISTS naming the existing resource (ErrorInfo `RESOURCE_EXISTS`, metadata `existing`).
#[must_use]
pub fn already_exists(what: &str, existing: &str) -> Error {
    Error::Rejected(fdi_kit::status::with_reason(
        Code::AlreadyExists,
        format!("{what} already exists as {existing}"),
        "RESOURCE_EXISTS",
        std::collections::HashMap::from([("existing".to_owned(), existing.to_owned())]),
    ))
}
