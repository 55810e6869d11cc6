//! The client side of FDI Atlas ingest: everything that runs next to a
//! register rather than in the ingest service.
//!
//! - [`loader`]: the bulk loader. [`loader::load`] streams rows to the
//!   ingest service's `LoadEvents` in batches and, after a lost connection, a
//!   restarted server or a full stream, asks where the load stands and
//!   resumes from exactly there: every row is sent until acknowledged, none
//!   is recorded twice (`fdi import`, `fdi up`, the benchmarks).
//! - [`interchange`]: registers as files, CSV or JSON Lines, read
//!   ([`interchange::RowReader`]) and written ([`interchange::RowWriter`])
//!   as streams, with the row offsets the loader resumes by; recorded events
//!   as rows again ([`interchange::event_row`], `fdi export events`), and
//!   any table in the same encodings ([`interchange::TableWriter`]).
//! - [`demo`]: a synthetic register, deterministic for a given seed and
//!   plainly marked as invented ([`demo::generate`]; `fdi demo-data`, the
//!   demo register `fdi up` loads, the benchmarks). Its provinces, aliases
//!   and zones come from the reference data in the repository's `data/`.
//!
//! The crate speaks to the services only through the generated gRPC
//! contracts of `fdi-proto`; it does not depend on any service crate.

pub mod demo;
pub mod interchange;
pub mod loader;
