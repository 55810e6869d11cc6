//! `fdi-analytics`: configuration, then [`fdi_analytics::run`]:
//! telemetry, listener, serve until SIGTERM/SIGINT (calls in flight get a
//! grace period), flush telemetry, exit 0.

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    fdi_analytics::run(fdi_analytics::Config::parse()).await
}
