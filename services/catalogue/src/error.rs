//! The catalogue's one error type and its one mapping to gRPC status.

use std::collections::HashMap;

use fdi_kit::access::{KeyError, StoreError as KeyStoreError};
use tonic::{Code, Status};

use crate::store::{Resource, StoreError};

/// Everything a catalogue handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The client's request is wrong; the status (built with the kit's helpers) says how.
    #[error("rejected: {0}")]
    Rejected(#[from] Status),
    /// What the call read changed before it could act on it (a stale etag,
    /// a concurrent writer): ABORTED with this message, and the client retries.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The service is still starting (reference data not loaded).
    #[error("reference data not loaded yet")]
    NotReady,
    /// The caller's deadline passed before the work was done.
    #[error("deadline exceeded: {0}")]
    DeadlineExceeded(&'static str),
    /// The server is shutting down and dropped the work.
    #[error("shutting down")]
    ShuttingDown,
    /// The storage failed, or refused a write.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The key table (the kit's, schema `access`) failed.
    #[error("key table: {0}")]
    Keys(#[from] KeyStoreError),
    /// A new key could not be made (no randomness, hashing failed).
    #[error(transparent)]
    KeyGeneration(#[from] KeyError),
}

impl From<Error> for Status {
    fn from(error: Error) -> Self {
        match error {
            Error::Rejected(status) => status,
            Error::Conflict(message) => Status::aborted(message),
            Error::NotReady => Status::unavailable("the catalogue is starting; retry shortly"),
            Error::DeadlineExceeded(what) => Status::deadline_exceeded(format!("the call's deadline passed {what}")),
            Error::ShuttingDown => Status::unavailable("the catalogue is shutting down; retry shortly"),
            Error::Store(StoreError::UniqueViolation { resource, existing }) => already_exists(resource, existing),
            Error::Store(StoreError::Database(error) | StoreError::Seed { source: error, .. }) => {
                fdi_kit::db::failure_status(&error, "the catalogue database")
            }
            Error::Store(error @ StoreError::Migration(_)) => {
                tracing::error!(%error, "database error");
                fdi_kit::status::internal()
            }
            Error::Keys(KeyStoreError::Database(error)) => fdi_kit::db::failure_status(&error, "the key table"),
            Error::Keys(error @ (KeyStoreError::Migrate(_) | KeyStoreError::Corrupt(_))) => {
                tracing::error!(%error, "key table error");
                fdi_kit::status::internal()
            }
            Error::KeyGeneration(error) => {
                tracing::error!(%error, "cannot make an API key");
                fdi_kit::status::internal()
            }
        }
    }
}

/// Shorthand for handler results.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// ALREADY_EXISTS naming the existing resource (ErrorInfo `RESOURCE_EXISTS`,
/// metadata `existing`), e.g. "a zone with this id already exists as zones/ngoc-lam".
fn already_exists(resource: Resource, existing: Option<String>) -> Status {
    let (what, collection) = match resource {
        Resource::Zone => ("a zone with this id", "zones"),
        Resource::Investor => ("an investor with this name", "investors"),
    };
    let existing = existing.map_or_else(
        || format!("another {}", resource.noun()),
        |id| format!("{collection}/{id}"),
    );
    fdi_kit::status::with_reason(
        Code::AlreadyExists,
        format!("{what} already exists as {existing}"),
        "RESOURCE_EXISTS",
        HashMap::from([("existing".to_owned(), existing)]),
    )
}
