//! `fdi`: the FDI Atlas command line.

mod demo_data;
mod import;
mod up;

use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "fdi",
    version,
    about = "FDI Atlas: investment into Vietnam's provinces and industrial parks"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the whole system locally: PostgreSQL (private, unless DATABASE_URL is set) and every service, until Ctrl-C.
    Up(up::UpArgs),
    /// Stream a register (CSV or JSON Lines) to the ingest service; run again to resume.
    Import(import::ImportArgs),
    /// Write a synthetic register (clearly marked as such) for demos and benchmarks.
    DemoData(demo_data::DemoDataArgs),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Up(args) => up::run(args).await,
        Command::Import(args) => import::run(args).await,
        Command::DemoData(args) => demo_data::run(&args),
    }
}
