//! `fdi db migrate`: every schema's migrations (the keys', the catalogue's,
//! ingest's and analytics'), applied as the schemas' owner in one step. Where
//! the services run with `FDI_MIGRATIONS=verify` (as the Kubernetes
//! manifests run them) nothing else applies them: the services' own roles may
//! not run DDL, and their pods never hold the owner's password.

use anyhow::Context;
use fdi_kit::{config::DatabaseConfig, db};
use sqlx::migrate::Migrator;

/// Options of `fdi db migrate`.
#[derive(clap::Args, Debug)]
pub struct MigrateArgs {
    /// The schemas' owner's URL (`fdi_owner`, see `fdi db roles`), e.g. `postgres://fdi_owner:…@db:5432/fdi`.
    #[arg(long = "database-url", env = "FDI_MIGRATION_DATABASE_URL", hide_env_values = true)]
    database_url: String,
}

/// Every schema with its migrations, in the order the services depend on each other.
fn schemas() -> [(&'static str, &'static Migrator); 4] {
    [
        (fdi_kit::access::SCHEMA, &fdi_kit::access::MIGRATOR),
        (fdi_catalogue::SCHEMA, &fdi_catalogue::store::MIGRATOR),
        (fdi_ingest::store::SCHEMA, &fdi_ingest::store::MIGRATOR),
        (fdi_analytics::SCHEMA, &fdi_analytics::store::MIGRATOR),
    ]
}

/// Applies every schema's migrations, saying how many each has.
///
/// # Errors
/// When the database cannot be reached or a migration fails (those before it stay applied).
pub async fn run(args: MigrateArgs) -> anyhow::Result<()> {
    let database = DatabaseConfig::new(args.database_url).with_max_connections(1);
    for (schema, migrator) in schemas() {
        let pool = db::connect_lazy(&database, schema, "fdi db migrate").context("the database URL is invalid")?;
        let applied = db::apply_as_configured(&database, &pool, schema, migrator).await;
        pool.close().await;
        applied.with_context(|| format!("migrating schema {schema}"))?;
        println!("schema {schema}: {} migrations in place", migrator.iter().count());
    }
    Ok(())
}
