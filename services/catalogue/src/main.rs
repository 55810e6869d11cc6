//! `fdi-catalogue`: configuration, then [`fdi_catalogue::run`]:
//! telemetry, listener, serve until SIGTERM/SIGINT (calls in flight get a
//! grace period), flush telemetry, exit 0.

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    fdi_catalogue::run(fdi_catalogue::Config::parse()).await
}
