//! The feed ingest publishes and analytics reads: the one boundary between
//! the two services' data, written down as a contract.
//!
//! Ingest's migrations create versioned views in its schema that name the
//! columns another service may read; analytics reads ingest's data only
//! through these views, never its tables, so ingest may change its tables as
//! long as the views keep their columns and meaning. A change that breaks a
//! view's contract adds a new version (`feed_events_v2`) beside the old one.
//! After each commit of events, ingest sends a notification on
//! [`EVENTS_CHANNEL`] whose payload is the highest sequence committed.
//!
//! The columns of each view and what each means are written in ingest's
//! migration that creates it (`services/ingest/migrations/0003_feed.sql`),
//! as comments the database keeps (`\d+ ingest.feed_events_v1` in psql shows
//! them), and in `ARCHITECTURE.md`.

/// Every recorded event in commit order (`sequence`), with its amounts in
/// both reporting currencies and its province before and after the merger.
pub const EVENTS: &str = "ingest.feed_events_v1";
/// Province targets by year, scope and figure.
pub const TARGETS: &str = "ingest.feed_targets_v1";
/// Figures that news documents report (for reconciliation).
pub const REPORTED_STATISTICS: &str = "ingest.feed_reported_statistics_v1";
/// The channel ingest notifies after each commit of events.
pub const EVENTS_CHANNEL: &str = "fdi_ingest_events";
