//! `fdi-ingest`: configuration, then [`fdi_kit::server::run_process`]:
//! telemetry, listener, serve until SIGTERM/SIGINT (calls in flight get a
//! grace period), flush telemetry, exit 0.

use clap::Parser;
use fdi_ingest::{Config, serve};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    let (listen, log) = (config.listen, config.log);
    fdi_kit::server::run_process("fdi-ingest", listen, &log, |listener, shutdown| {
        serve(config, listener, shutdown)
    })
    .await
}
