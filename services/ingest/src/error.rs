//! What an ingest call can fail with, and the one mapping to gRPC status.

use tonic::Status;

use crate::store::StoreError;

/// Everything an ingest handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The client's request is wrong (or conflicts); the status says how.
    #[error("rejected: {0}")]
    Rejected(#[from] Status),
    /// The catalogue could not be reached, failed, or refused a value (INVALID_ARGUMENT).
    #[error("catalogue: {0}")]
    Catalogue(Status),
    /// The store failed.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// Something that cannot happen did (a task panicked, a result went
    /// missing); the client sees INTERNAL, the details are logged.
    #[error("internal: {0}")]
    Internal(&'static str),
}

impl From<Error> for Status {
    fn from(error: Error) -> Self {
        match error {
            Error::Rejected(status) => status,
            // A value the catalogue refuses is the request's fault: retrying cannot help.
            Error::Catalogue(status) if status.code() == tonic::Code::InvalidArgument => {
                tracing::warn!(message = status.message(), "the catalogue refused a value");
                Status::invalid_argument(format!(
                    "the catalogue refused a value of this request: {}",
                    status.message()
                ))
            }
            Error::Catalogue(status) => {
                tracing::warn!(code = ?status.code(), message = status.message(), "catalogue call failed");
                fdi_kit::status::unavailable("the catalogue")
            }
            Error::Store(StoreError::Database(error)) => fdi_kit::db::failure_status(&error, "the ingest database"),
            Error::Store(StoreError::LoadAdvanced { load_id }) => Status::aborted(format!(
                "bulk load `{load_id}` was advanced by another stream; call GetBulkLoad and resume from its offset"
            )),
            Error::Internal(what) => {
                tracing::error!(what, "internal error");
                fdi_kit::status::internal()
            }
        }
    }
}

/// Shorthand for handler results.
pub type Result<T, E = Error> = std::result::Result<T, E>;
