//! `fdi`: the FDI Atlas command line.

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
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Up(args) => up::run(args).await,
    }
}
