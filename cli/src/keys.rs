//! `fdi keys`: API keys. `create`, `list` and `revoke` call the catalogue's
//! AccessService with the admin key in `FDI_API_KEY`; `bootstrap` writes the
//! first admin key straight into the database, because until one exists no
//! key can call AccessService at all.
//!
//! A key's secret is printed once, when it is made, and kept nowhere.

use std::time::{Duration, SystemTime};

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use comfy_table::{Table, presets};
use fdi_kit::{
    access::{self, API_KEY_VARIABLE, Bearer, KeyRecord, KeyStore, Role},
    config::{DEFAULT_CATALOGUE_URL, parse_duration},
};
use fdi_proto::access::{self as pb, access_service_client::AccessServiceClient};
use tonic::{Code, Status, service::interceptor::InterceptedService, transport::Channel};
use tonic_types::StatusExt;

/// Most characters of a key's description (as the catalogue checks for keys it makes).
const MAX_DESCRIPTION_CHARS: usize = 500;
/// Keys per ListApiKeys call (the most the catalogue gives).
const PAGE_SIZE: i32 = 1000;
/// How long connecting to the catalogue may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Who made the first admin key, as the key table records it.
const BOOTSTRAP_CREATOR: &str = "bootstrap";

/// Options of `fdi keys`.
#[derive(clap::Args, Debug)]
pub struct KeysArgs {
    #[command(subcommand)]
    command: KeysCommand,
}

#[derive(clap::Subcommand, Debug)]
enum KeysCommand {
    /// Create a key and print its secret (shown this once). Needs an admin key in FDI_API_KEY.
    Create(CreateArgs),
    /// List the keys (active ones unless --all). Needs an admin key in FDI_API_KEY.
    List(ListArgs),
    /// Revoke a key: every service refuses it within seconds. Needs an admin key in FDI_API_KEY.
    Revoke(RevokeArgs),
    /// Write the first admin key straight into the database; refused while an active admin key exists.
    Bootstrap(BootstrapArgs),
    /// Print a new key without storing it, for a secret store (then `fdi keys install` registers it).
    Generate,
    /// Register keys kept in files (e.g. a mounted Kubernetes Secret) by their hash; does nothing for a key
    /// already there, so it may run on every deployment.
    Install(crate::keys_install::InstallArgs),
}

/// Where the keys are managed.
#[derive(clap::Args, Debug)]
struct Remote {
    /// The catalogue service, which manages the keys.
    #[arg(long, env = "FDI_CATALOGUE_URL", default_value = DEFAULT_CATALOGUE_URL)]
    catalogue: String,
}

/// Options of `fdi keys create`.
#[derive(clap::Args, Debug)]
struct CreateArgs {
    /// What the key may do: reader, writer, curator, admin or service.
    #[arg(long, value_parser = parse_role)]
    role: Role,
    /// A writer's province (`bac-ninh` or `provinces/bac-ninh`); repeat for more. Writers need at least one.
    #[arg(long = "province", value_name = "PROVINCE")]
    provinces: Vec<String>,
    /// How long the key works from now, e.g. 90d, 12h or 30m; without it the key works until revoked.
    #[arg(long, value_parser = parse_expiry)]
    expires: Option<Duration>,
    /// What the key is for, e.g. "Bắc Ninh IP management board".
    #[arg(long, default_value = "")]
    description: String,
    #[command(flatten)]
    remote: Remote,
}

/// Options of `fdi keys list`.
#[derive(clap::Args, Debug)]
struct ListArgs {
    /// Include revoked and expired keys.
    #[arg(long)]
    all: bool,
    #[command(flatten)]
    remote: Remote,
}

/// Options of `fdi keys revoke`.
#[derive(clap::Args, Debug)]
struct RevokeArgs {
    /// The key: its id (`0123456789abcdef`), its name (`apiKeys/0123456789abcdef`) or the whole key.
    key: String,
    #[command(flatten)]
    remote: Remote,
}

/// Options of `fdi keys bootstrap`.
#[derive(clap::Args, Debug)]
struct BootstrapArgs {
    #[command(flatten)]
    database: crate::LocalDatabase,
    /// What the key is for.
    #[arg(long, default_value = "first admin key")]
    description: String,
}

/// Runs `fdi keys`.
///
/// # Errors
/// When the catalogue or the database refuses or cannot be reached.
pub async fn run(args: KeysArgs) -> anyhow::Result<()> {
    match args.command {
        KeysCommand::Create(args) => create(args).await,
        KeysCommand::List(args) => list(args).await,
        KeysCommand::Revoke(args) => revoke(args).await,
        KeysCommand::Bootstrap(args) => bootstrap(args).await,
        KeysCommand::Generate => crate::keys_install::generate(),
        KeysCommand::Install(args) => crate::keys_install::install(args).await,
    }
}

pub(crate) fn parse_role(text: &str) -> Result<Role, String> {
    Role::parse(&text.trim().to_ascii_lowercase()).ok_or_else(|| {
        let roles: Vec<&str> = Role::ALL.iter().map(|role| role.as_str()).collect();
        format!("`{text}` is not a role; use one of {}", roles.join(", "))
    })
}

/// A duration in days (`90d`), or any unit the services' flags take (`12h`, `30m`); never zero.
fn parse_expiry(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let duration = match text.strip_suffix('d') {
        Some(days) => days
            .parse::<u32>()
            .map(|days| Duration::from_secs(u64::from(days) * 86_400))
            .map_err(|_| format!("`{text}` is not a number of days such as 90d"))?,
        None => parse_duration(text)?,
    };
    if duration.is_zero() {
        return Err(format!("`{text}` would expire the key at once"));
    }
    Ok(duration)
}

type Client = AccessServiceClient<InterceptedService<Channel, Bearer>>;

/// A client of the catalogue's AccessService sending the key in `FDI_API_KEY`.
async fn connect(remote: &Remote) -> anyhow::Result<Client> {
    let bearer = Bearer::from_env().map_err(|status| anyhow::anyhow!("{API_KEY_VARIABLE}: {}", status.message()))?;
    let channel = Channel::from_shared(remote.catalogue.clone())
        .with_context(|| format!("`{}` is not a URL such as {DEFAULT_CATALOGUE_URL}", remote.catalogue))?
        .connect_timeout(CONNECT_TIMEOUT)
        .connect()
        .await
        .with_context(|| format!("cannot reach the catalogue at {}; is it running?", remote.catalogue))?;
    Ok(AccessServiceClient::with_interceptor(channel, bearer))
}

/// What a refused call means, with its field violations and what to do.
fn refused(call: &str, status: &Status) -> anyhow::Error {
    let violations = status
        .get_details_bad_request()
        .map(|bad| bad.field_violations)
        .unwrap_or_default();
    let mut text = if violations.is_empty() {
        format!("{call} failed ({:?}): {}", status.code(), status.message())
    } else {
        format!("{call} refused the request:")
    };
    for violation in violations {
        text.push_str(&format!("\n  {}: {}", violation.field, violation.description));
    }
    match status.code() {
        Code::Unauthenticated => text.push_str(&format!(
            "\nSet {API_KEY_VARIABLE} to an admin key; `fdi keys bootstrap` writes the first one into the database."
        )),
        Code::PermissionDenied => {
            text.push_str(&format!("\nKeys are managed with an admin key in {API_KEY_VARIABLE}."))
        }
        _ => {}
    }
    anyhow::anyhow!(text)
}

async fn create(args: CreateArgs) -> anyhow::Result<()> {
    let expire_time = args
        .expires
        .map(|expires| {
            SystemTime::now()
                .checked_add(expires)
                .context("--expires is too far ahead")
        })
        .transpose()?;
    let mut client = connect(&args.remote).await?;
    let request = pb::CreateApiKeyRequest {
        api_key: Some(pb::ApiKey {
            role: pb::Role::from(args.role).into(),
            provinces: args.provinces,
            description: args.description,
            expire_time: expire_time.map(Into::into),
            ..Default::default()
        }),
    };
    let created = client
        .create_api_key(request)
        .await
        .map_err(|status| refused("CreateApiKey", &status))?
        .into_inner();
    let key = created.api_key.context("the catalogue answered without the key")?;
    print_secret(&key.name, &summary(&key), &created.secret, &args.remote.catalogue);
    Ok(())
}

/// Prints a new key's name and its secret, the one time it is shown, and how to use it.
fn print_secret(name: &str, summary: &str, secret: &str, catalogue: &str) {
    let plaintext = if catalogue.starts_with("https://") {
        ""
    } else {
        "-plaintext "
    };
    let address = catalogue
        .trim_start_matches("http://")
        .trim_start_matches("https://")
        .trim_end_matches('/');
    println!("Created API key {name} ({summary}).");
    println!();
    println!("Its secret, shown only this once (keep it in a secret store):");
    println!();
    println!("    {secret}");
    println!();
    println!("Use it with `fdi` commands by exporting it, and with grpcurl as a Bearer header:");
    println!("    export {API_KEY_VARIABLE}='<the secret>'");
    println!(
        "    grpcurl {plaintext}-H \"authorization: Bearer ${API_KEY_VARIABLE}\" {address} \
         fdi.catalogue.v1.CatalogueService/ListProvinces"
    );
}

/// A key's role, provinces and expiry in words.
fn summary(key: &pb::ApiKey) -> String {
    let mut parts = vec![role_name(key)];
    if !key.provinces.is_empty() {
        parts.push(key.provinces.join(", "));
    }
    parts.push(match &key.expire_time {
        Some(expiry) => format!("expires {}", time(Some(*expiry))),
        None => "does not expire".to_owned(),
    });
    parts.join("; ")
}

fn role_name(key: &pb::ApiKey) -> String {
    Role::try_from(key.role()).map_or_else(|()| format!("role {}", key.role), |role| role.as_str().to_owned())
}

/// A timestamp to the minute, UTC; empty for none. Generic over the protobuf timestamp, which the CLI need not
/// name (it does not depend on `prost-types`).
fn time<T>(timestamp: Option<T>) -> String
where
    SystemTime: TryFrom<T>,
{
    timestamp
        .and_then(|timestamp| SystemTime::try_from(timestamp).ok())
        .map(|time| DateTime::<Utc>::from(time).format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}

async fn list(args: ListArgs) -> anyhow::Result<()> {
    let mut client = connect(&args.remote).await?;
    let mut keys = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = client
            .list_api_keys(pb::ListApiKeysRequest {
                page_size: Some(PAGE_SIZE),
                page_token,
                show_inactive: args.all,
            })
            .await
            .map_err(|status| refused("ListApiKeys", &status))?
            .into_inner();
        keys.extend(page.api_keys);
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    if keys.is_empty() {
        println!("No {}keys.", if args.all { "" } else { "active " });
        return Ok(());
    }
    println!("{}", key_table(&keys));
    Ok(())
}

fn key_table(keys: &[pb::ApiKey]) -> Table {
    let mut table = Table::new();
    table.load_style(presets::UTF8_FULL_CONDENSED).set_header(vec![
        "Key",
        "Role",
        "Provinces",
        "Description",
        "Created",
        "By",
        "Expires",
        "Revoked",
    ]);
    for key in keys {
        table.add_row(vec![
            key.name.trim_start_matches("apiKeys/").to_owned(),
            role_name(key),
            key.provinces
                .iter()
                .map(|p| p.trim_start_matches("provinces/"))
                .collect::<Vec<_>>()
                .join(", "),
            key.description.clone(),
            time(key.create_time),
            key.creator.clone(),
            time(key.expire_time),
            time(key.revoke_time),
        ]);
    }
    table
}

/// The resource name of a key given by id, name or as the whole key (whose secret stays on this machine).
fn key_name(given: &str) -> String {
    let given = given.trim();
    let key_id = access::parse_token(given).unwrap_or_else(|| given.strip_prefix("apiKeys/").unwrap_or(given));
    format!("apiKeys/{key_id}")
}

async fn revoke(args: RevokeArgs) -> anyhow::Result<()> {
    let mut client = connect(&args.remote).await?;
    let key = client
        .revoke_api_key(pb::RevokeApiKeyRequest {
            name: key_name(&args.key),
        })
        .await
        .map_err(|status| refused("RevokeApiKey", &status))?
        .into_inner();
    println!(
        "Revoked {} ({}) at {}; every service refuses it within seconds.",
        key.name,
        summary(&key),
        time(key.revoke_time)
    );
    Ok(())
}

/// Writes the first admin key into the key table, which it creates when missing.
///
/// Only while no admin key is active: afterwards keys are made through the catalogue, which records who made
/// each. The check and the insert are one transaction under a lock, so two bootstraps at once make one key.
async fn bootstrap(args: BootstrapArgs) -> anyhow::Result<()> {
    let description = args.description.trim().to_owned();
    if description.chars().count() > MAX_DESCRIPTION_CHARS || description.chars().any(char::is_control) {
        bail!("--description must be at most {MAX_DESCRIPTION_CHARS} characters, without control characters");
    }
    let database = args.database.config(1);
    let store = KeyStore::connect_lazy(&database, "fdi-keys").context("the database URL is invalid")?;
    store
        .migrate()
        .await
        .context("cannot create the key table; is the database running, and --database-url (DATABASE_URL) right?")?;
    if store.has_active_admin().await.context("cannot read the key table")? {
        bail!(
            "an active admin key already exists, so bootstrap does nothing. Create further keys with \
             `fdi keys create --role admin` and that key in {API_KEY_VARIABLE}; if it is lost, revoke it in the \
             database (access.api_keys.revoke_time) and bootstrap again."
        );
    }
    let key = access::generate()?;
    let record = KeyRecord {
        key_id: key.key_id.clone(),
        secret_hash: key.secret_hash.clone(),
        role: Role::Admin,
        provinces: Vec::new(),
        description,
        creator: BOOTSTRAP_CREATOR.to_owned(),
        create_time: Utc::now(),
        expire_time: None,
        revoke_time: None,
    };
    if !store
        .insert_first_admin(&record)
        .await
        .context("cannot store the key")?
    {
        bail!("another bootstrap made the first admin key just now; bootstrap does nothing");
    }
    print_secret(
        &format!("apiKeys/{}", key.key_id),
        "admin; does not expire",
        &key.token,
        DEFAULT_CATALOGUE_URL,
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiries_take_days_and_the_usual_units() {
        assert_eq!(parse_expiry("90d"), Ok(Duration::from_secs(90 * 86_400)));
        assert_eq!(parse_expiry(" 12h "), Ok(Duration::from_secs(12 * 3600)));
        assert_eq!(parse_expiry("30m"), Ok(Duration::from_secs(1800)));
        for wrong in ["0d", "0s", "d", "-1d", "1.5d", "3w", "soon"] {
            assert!(parse_expiry(wrong).is_err(), "{wrong}");
        }
    }

    #[test]
    fn roles_parse_in_any_case() {
        assert_eq!(parse_role("Writer"), Ok(Role::Writer));
        assert!(
            parse_role("owner")
                .unwrap_err()
                .contains("reader, writer, curator, admin, service")
        );
    }

    #[test]
    fn a_key_is_named_by_id_name_or_whole_key() {
        let key = access::generate().unwrap();
        let name = format!("apiKeys/{}", key.key_id);
        for given in [key.key_id.as_str(), name.as_str(), key.token.as_str()] {
            assert_eq!(key_name(given), name);
        }
    }
}
