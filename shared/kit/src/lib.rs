//! The pieces every FDI Atlas service shares, so each service's `main.rs`
//! reads as a table of contents: configuration, logging, database pool and
//! migrations, health, reflection, a server with its layers, graceful
//! shutdown; plus the error, paging, period, money and name helpers the RPC
//! handlers have in common.

pub mod access;
pub mod catalogue;
pub mod config;
pub mod country;
pub mod db;
pub mod domain;
pub mod feed;
pub mod figures;
pub mod load_digest;
pub mod money;
pub mod names;
pub mod paging;
pub mod period;
pub mod rpc;
pub mod server;
pub mod service;
pub mod shutdown;
pub mod status;
pub mod telemetry;
pub mod tls;
