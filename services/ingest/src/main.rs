//! `fdi-ingest`: configuration, then [`fdi_ingest::run`]:
//! telemetry, listener, serve until SIGTERM/SIGINT (calls in flight get a
//! grace period), flush telemetry, exit 0.

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    fdi_ingest::run(fdi_ingest::Config::parse()).await
}
