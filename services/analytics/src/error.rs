//! The analytics service's one error type and its one mapping to gRPC status.

use tonic::Status;

/// Everything an analytics handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The client's request is wrong (or conflicts); the status says how.
    #[error("rejected: {0}")]
    Rejected(Status),
    /// The catalogue could not be reached or failed.
    #[error("catalogue: {0}")]
    Catalogue(Status),
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
            Error::Catalogue(status) => {
                tracing::warn!(code = ?status.code(), message = status.message(), "catalogue call failed");
                fdi_kit::status::unavailable("the catalogue")
            }
            Error::Database(error) => fdi_kit::db::failure_status(&error, "the analytics database"),
        }
    }
}

/// Shorthand for handler results.
pub type Result<T, E = Error> = std::result::Result<T, E>;
