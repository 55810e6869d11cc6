//! `fdi-analytics`: configuration, logging, listener, serve until SIGTERM/SIGINT.

use clap::Parser;
use fdi_analytics::{Config, serve};
use tokio::net::TcpListener;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    fdi_kit::telemetry::init(&config.log, "info");
    let listener = TcpListener::bind(config.listen).await?;
    tracing::info!(addr = %config.listen, "fdi-analytics listening");
    serve(config, listener, fdi_kit::shutdown::on_signal()).await
}
