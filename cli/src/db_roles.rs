//! `fdi db roles`: least privilege in PostgreSQL. Makes the roles the
//! services connect as (`fdi_catalogue`, `fdi_ingest`, `fdi_analytics`) and
//! the one that owns the schemas and runs the migrations (`fdi_owner`), and
//! applies every grant of `deploy/postgres/roles.sql`, which says why each is
//! there. Idempotent: run it again after a migration adds a feed view.
//!
//! Passwords never reach the server: each is sent as its SCRAM-SHA-256
//! secret (as `psql`'s `\password` does). A generated password is printed
//! once, in the connection URL that uses it, and kept nowhere.

use std::{collections::BTreeMap, path::PathBuf};

use anyhow::{Context, bail};
use fdi_kit::{
    config::redact_url,
    db::{role_password, scram_secret},
    feed,
};
use sqlx::{Connection, PgConnection};

/// The grants, one reviewable file (also usable with `psql -1 -f`).
const ROLES_SQL: &str = include_str!("../../deploy/postgres/roles.sql");

/// The role that owns the schemas and runs the migrations.
const OWNER: &str = "fdi_owner";
/// Every role, with the variable its URL goes in and who uses it.
const ROLES: [(&str, &str, &str); 4] = [
    (OWNER, "FDI_MIGRATION_DATABASE_URL", "every service, for its migrations"),
    ("fdi_catalogue", "DATABASE_URL", "the catalogue"),
    ("fdi_ingest", "DATABASE_URL", "ingest"),
    ("fdi_analytics", "DATABASE_URL", "analytics"),
];

/// Options of `fdi db`.
#[derive(clap::Args, Debug)]
pub struct DbArgs {
    #[command(subcommand)]
    command: DbCommand,
}

#[derive(clap::Subcommand, Debug)]
enum DbCommand {
    /// Make the least-privilege roles (fdi_owner, fdi_catalogue, fdi_ingest, fdi_analytics), the schemas owned by
    /// fdi_owner, and their grants (deploy/postgres/roles.sql). Safe to run again; run it again after a migration
    /// adds a feed view.
    Roles(RolesArgs),
    /// Apply every schema's migrations as the schemas' owner (for services run with `FDI_MIGRATIONS=verify`).
    Migrate(crate::db_migrate::MigrateArgs),
}

/// Options of `fdi db roles`.
#[derive(clap::Args, Debug)]
struct RolesArgs {
    /// A superuser's URL of the database the services use, e.g. `postgres://postgres@db:5432/fdi`.
    #[arg(long, env = "FDI_ADMIN_DATABASE_URL", hide_env_values = true)]
    admin_url: String,
    /// Role passwords, one `role=password` per line (`#` starts a comment): a role named there is given that
    /// password on every run. A role made now and not named gets a generated password, printed once; a role
    /// that exists and is not named keeps its own. Passwords are 16 to 1000 printable ASCII characters.
    #[arg(long, value_name = "FILE")]
    password_file: Option<PathBuf>,
}

/// Runs `fdi db`.
///
/// # Errors
/// What failed, with what to do about it.
pub async fn run(args: DbArgs) -> anyhow::Result<()> {
    match args.command {
        DbCommand::Roles(args) => roles(args).await,
        DbCommand::Migrate(args) => crate::db_migrate::run(args).await,
    }
}

/// What became of a role's password.
enum Password {
    /// Generated now: shown this once.
    Generated(String),
    /// Taken from the password file.
    FromFile,
    /// Left as it was.
    Unchanged,
}

async fn roles(args: RolesArgs) -> anyhow::Result<()> {
    let given = match &args.password_file {
        Some(path) => read_passwords(path)?,
        None => BTreeMap::new(),
    };
    let shown = redact_url(&args.admin_url);
    let (mut connection, database) = connect_as_superuser(&args.admin_url, &shown).await?;
    let outcomes = apply(&mut connection, &given).await?;
    let missing: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM unnest($1::text[]) AS name
         WHERE to_regclass(name) IS NULL OR NOT has_table_privilege('fdi_analytics', to_regclass(name), 'SELECT')",
    )
    .bind(vec![feed::EVENTS, feed::TARGETS, feed::REPORTED_STATISTICS])
    .fetch_all(&mut connection)
    .await?;
    connection.close().await.ok();
    report(
        &args.admin_url,
        &format!("Database `{database}` at {shown}:"),
        &outcomes,
        &missing,
    );
    Ok(())
}

/// A connection as a superuser (making roles and taking schemas over need one), and its database's name.
async fn connect_as_superuser(url: &str, shown: &str) -> anyhow::Result<(PgConnection, String)> {
    let mut connection = PgConnection::connect(url)
        .await
        .with_context(|| format!("cannot connect to {shown} (--admin-url)"))?;
    let superuser: String = sqlx::query_scalar("SELECT current_setting('is_superuser')")
        .fetch_one(&mut connection)
        .await?;
    if superuser != "on" {
        bail!(
            "{shown} does not connect as a superuser: making roles, taking the schemas over and setting fdi_owner's \
             default privileges need one"
        );
    }
    let database: String = sqlx::query_scalar("SELECT current_database()")
        .fetch_one(&mut connection)
        .await?;
    Ok((connection, database))
}

/// Applies roles.sql and the passwords in one transaction: each role, whether it was made, and its password.
async fn apply(
    connection: &mut PgConnection,
    given: &BTreeMap<String, String>,
) -> anyhow::Result<Vec<(&'static str, bool, Password)>> {
    let mut transaction = connection.begin().await?;
    let names: Vec<&'static str> = ROLES.iter().map(|(role, ..)| *role).collect();
    let existing: Vec<String> = sqlx::query_scalar("SELECT rolname::text FROM pg_roles WHERE rolname = ANY($1)")
        .bind(&names)
        .fetch_all(&mut *transaction)
        .await?;
    sqlx::raw_sql(ROLES_SQL)
        .execute(&mut *transaction)
        .await
        .context("applying deploy/postgres/roles.sql")?;
    let mut outcomes = Vec::new();
    for role in names {
        let made = !existing.iter().any(|name| name == role);
        let password = match given.get(role) {
            Some(password) => {
                set_password(&mut transaction, role, password).await?;
                Password::FromFile
            }
            None if made => {
                let password = role_password()?;
                set_password(&mut transaction, role, &password).await?;
                Password::Generated(password)
            }
            None => Password::Unchanged,
        };
        outcomes.push((role, made, password));
    }
    transaction.commit().await?;
    Ok(outcomes)
}

/// Prints what was done: each role (a generated password once, inside its URL), and the feed views analytics
/// cannot read yet.
fn report(admin_url: &str, heading: &str, outcomes: &[(&str, bool, Password)], missing: &[String]) {
    println!("{heading}");
    for (role, made, password) in outcomes {
        let (_, variable, user) = ROLES
            .iter()
            .find(|(name, ..)| name == role)
            .copied()
            .unwrap_or_default();
        let state = if *made { "made" } else { "already there" };
        match password {
            Password::Generated(password) => {
                let url =
                    role_url(admin_url, role, password).unwrap_or_else(|| format!("user {role}, password {password}"));
                println!("  {role:<14} {state}; its password, shown this once ({user}): {variable}={url}");
            }
            Password::FromFile => println!("  {role:<14} {state}; password from --password-file"),
            Password::Unchanged => println!("  {role:<14} {state}; password unchanged"),
        }
    }
    println!(
        "The schemas catalogue, ingest, analytics and access are fdi_owner's, and the grants of \
         deploy/postgres/roles.sql are applied.\nRun each service with DATABASE_URL as its own role and \
         FDI_MIGRATION_DATABASE_URL as fdi_owner."
    );
    if !missing.is_empty() {
        println!(
            "Analytics may not read {} yet: ingest's migrations have not made them. Start ingest (with \
             FDI_MIGRATION_DATABASE_URL), then run this command again; analytics says NOT_SERVING until then.",
            missing.join(", ")
        );
    }
}

/// Sets `role`'s password, sending only its SCRAM secret.
async fn set_password(connection: &mut PgConnection, role: &str, password: &str) -> anyhow::Result<()> {
    let secret = scram_secret(password).with_context(|| format!("the password of {role}"))?;
    // `role` is one of ROLES; the secret is base64, digits and `$:-`, never a quote.
    debug_assert!(!secret.contains('\''));
    sqlx::raw_sql(&format!("ALTER ROLE {role} PASSWORD '{secret}'"))
        .execute(connection)
        .await
        .with_context(|| format!("setting the password of {role}"))?;
    Ok(())
}

/// The passwords of a `--password-file`: `role=password` lines.
fn read_passwords(path: &std::path::Path) -> anyhow::Result<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    parse_passwords(&text).with_context(|| format!("in {}", path.display()))
}

fn parse_passwords(text: &str) -> anyhow::Result<BTreeMap<String, String>> {
    let mut passwords = BTreeMap::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line_number = number + 1;
        let Some((role, password)) = line.split_once('=') else {
            bail!("line {line_number} is not `role=password`");
        };
        let (role, password) = (role.trim(), password.trim());
        if !ROLES.iter().any(|(name, ..)| *name == role) {
            bail!(
                "line {line_number} names `{role}`, which is none of {}",
                ROLES.map(|(name, ..)| name).join(", ")
            );
        }
        // Checked here, before anything changes in the database.
        scram_secret(password).with_context(|| format!("line {line_number}, the password of {role}"))?;
        if passwords.insert(role.to_owned(), password.to_owned()).is_some() {
            bail!("line {line_number} names {role} a second time");
        }
    }
    Ok(passwords)
}

/// `admin`'s URL as `role` with `password` (hex, so nothing to escape);
/// `None` for a connection string that is no URL.
fn role_url(admin: &str, role: &str, password: &str) -> Option<String> {
    let (scheme, rest) = admin.split_once("://")?;
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    let host = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    Some(format!("{scheme}://{role}:{password}@{host}{path}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_urls_replace_the_user_and_keep_the_rest() {
        assert_eq!(
            role_url(
                "postgres://postgres:pw@db:5432/fdi?sslmode=verify-full",
                "fdi_ingest",
                "ab12"
            )
            .as_deref(),
            Some("postgres://fdi_ingest:ab12@db:5432/fdi?sslmode=verify-full")
        );
        assert_eq!(
            role_url("postgresql://db/fdi", "fdi_owner", "ff").as_deref(),
            Some("postgresql://fdi_owner:ff@db/fdi")
        );
        assert_eq!(role_url("host=db dbname=fdi", "fdi_owner", "ff"), None);
    }

    #[test]
    fn password_files_name_known_roles_once() {
        let passwords = parse_passwords(
            "# the roles' passwords\n\nfdi_owner = owner-password-0123\nfdi_ingest=ingest-password-0123\n",
        )
        .unwrap();
        assert_eq!(passwords["fdi_owner"], "owner-password-0123");
        assert_eq!(passwords["fdi_ingest"], "ingest-password-0123");
        assert_eq!(passwords.len(), 2);
        for refused in [
            "fdi_owner",
            "postgres=some-long-password-0123",
            "fdi_owner=short",
            "fdi_owner=owner-password-0123\nfdi_owner=owner-password-4567",
        ] {
            assert!(parse_passwords(refused).is_err(), "{refused}");
        }
    }
}
