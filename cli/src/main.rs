//! `fdi`: the FDI Atlas command line.

mod bench;
mod bench_analytics;
mod bench_replicas;
mod certs;
mod db_migrate;
mod db_roles;
mod demo_data;
mod export;
mod extract;
mod import;
mod keys;
mod keys_install;
mod local_keys;
mod progress;
mod system;
mod up;

use clap::{Parser, Subcommand};
use fdi_cli::report;

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
    /// Print the figures of a news article as JSON (money, counts, statistics, projects, with evidence).
    Extract(extract::ExtractArgs),
    /// Rebuild the analytics rollups from the first event (identical figures, from scratch).
    RebuildRollups(RebuildArgs),
    /// Benchmarks that print their figures beside a baseline measured in the same run.
    Bench(bench::BenchArgs),
    /// One province over a period: its figures and rank as tables, its time series and ranking as SVG charts.
    Report(report::ReportArgs),
    /// Events (as a register `fdi import` reads back) or one table of figures, as CSV or JSON Lines for spreadsheets.
    Export(export::ExportArgs),
    /// API keys: create, list and revoke them (with an admin key), or bootstrap the first admin key.
    Keys(keys::KeysArgs),
    /// The database: `fdi db roles` makes the least-privilege roles the services connect as, and their grants.
    Db(db_roles::DbArgs),
    /// A local development CA and a certificate for the services (TLS and mutual TLS).
    Certs(certs::CertsArgs),
    /// Run one service in the foreground, exactly as its own binary (`fdi-catalogue`, ...) does.
    #[command(subcommand)]
    Serve(Box<Service>),
}

/// A service run by `fdi serve`.
#[derive(Subcommand, Debug)]
enum Service {
    /// The catalogue (as `fdi-catalogue`).
    Catalogue(fdi_catalogue::Config),
    /// Ingest (as `fdi-ingest`).
    Ingest(fdi_ingest::Config),
    /// Analytics (as `fdi-analytics`).
    Analytics(fdi_analytics::Config),
}

/// Runs one service as its binary does.
async fn serve(service: Service) -> anyhow::Result<()> {
    match service {
        Service::Catalogue(config) => fdi_catalogue::run(config).await,
        Service::Ingest(config) => fdi_ingest::run(config).await,
        Service::Analytics(config) => fdi_analytics::run(config).await,
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Up(args) => up::run(args).await,
        Command::Import(args) => import::run(args).await,
        Command::DemoData(args) => demo_data::run(&args),
        Command::Bench(args) => bench::run(args).await,
        Command::Extract(args) => extract::run(&args),
        Command::RebuildRollups(args) => rebuild_rollups(args).await,
        Command::Report(args) => report::run(args).await,
        Command::Export(args) => export::run(args).await,
        Command::Keys(args) => keys::run(args).await,
        Command::Db(args) => db_roles::run(args).await,
        Command::Certs(args) => certs::run(&args),
        Command::Serve(service) => serve(*service).await,
    }
}

/// Options of `fdi rebuild-rollups`.
#[derive(clap::Args, Debug)]
struct RebuildArgs {
    #[command(flatten)]
    database: LocalDatabase,
}

/// The database an operator's command works on directly, by default the one `fdi up` runs.
#[derive(clap::Args, Debug)]
pub(crate) struct LocalDatabase {
    /// The database (by default the one `fdi up` runs).
    #[arg(
        long,
        env = "DATABASE_URL",
        hide_env_values = true,
        default_value = "postgres://postgres@127.0.0.1:55432/fdi"
    )]
    database_url: String,
    /// The schemas' owner (`fdi_owner`), to apply migrations first when the database URL is a service's own
    /// role (see `fdi db roles`).
    #[arg(long, env = "FDI_MIGRATION_DATABASE_URL", hide_env_values = true)]
    migration_database_url: Option<String>,
}

impl LocalDatabase {
    /// The database settings, with a pool of `max_connections`.
    pub(crate) fn config(self, max_connections: u32) -> fdi_kit::config::DatabaseConfig {
        let database = fdi_kit::config::DatabaseConfig::new(self.database_url).with_max_connections(max_connections);
        match self.migration_database_url {
            Some(owner) => database.with_migration_url(owner),
            None => database,
        }
    }
}

/// Empties the rollups and folds every event again; a running analytics
/// service keeps answering (from the partial rollups) meanwhile.
async fn rebuild_rollups(args: RebuildArgs) -> anyhow::Result<()> {
    let database = args.database.config(2);
    let pool = fdi_analytics::connect(&database).await?;
    let started = std::time::Instant::now();
    fdi_analytics::consumer::reset(&pool).await?;
    let events = fdi_analytics::consumer::catch_up(&pool).await?;
    println!(
        "Rebuilt the rollups from {events} events in {:.1} s.",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    /// Every subcommand's flags are consistent (unique names and ids, valid
    /// defaults), including the services' configurations `fdi serve` embeds.
    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }
}
