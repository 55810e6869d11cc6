//! `fdi keys generate` and `fdi keys install`: keys made outside the system
//! and kept in a secret store (a Kubernetes Secret), registered by their hash.
//! `generate` prints a new key without storing it; `install` puts the keys of
//! given files in the key table, once: run again with the same files it does
//! nothing, so a deployment's Job may run it on every rollout.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use chrono::Utc;
use fdi_kit::access::{self, KeyRecord, KeyStore, Role};

/// Who installed a key, as the key table records it.
const INSTALL_CREATOR: &str = "install";

/// Options of `fdi keys install`.
#[derive(clap::Args, Debug)]
pub struct InstallArgs {
    #[command(flatten)]
    database: crate::LocalDatabase,
    /// A key to install as `ROLE=FILE`, e.g. `admin=/etc/fdi/keys/admin` (the file holds one key, as
    /// `fdi keys generate` prints it). Repeat for several keys.
    #[arg(long = "key", value_name = "ROLE=FILE", value_parser = parse_key_file, required = true)]
    keys: Vec<(Role, PathBuf)>,
}

fn parse_key_file(text: &str) -> Result<(Role, PathBuf), String> {
    let (role, file) = text
        .split_once('=')
        .ok_or_else(|| format!("`{text}` is not ROLE=FILE, e.g. admin=/etc/fdi/keys/admin"))?;
    Ok((crate::keys::parse_role(role)?, PathBuf::from(file)))
}

/// Prints a new key (`fdi_<key id>_<secret>`) for a secret store; nothing is stored.
///
/// # Errors
/// When the OS gives no randomness.
pub fn generate() -> anyhow::Result<()> {
    println!("{}", access::generate()?.token);
    Ok(())
}

/// What became of one key.
enum Installed {
    Now,
    Already,
}

/// Installs each key (its hash) with its role, unless it is there already.
///
/// # Errors
/// When a file does not hold a key, a key is installed with another role or secret or was revoked, or the
/// database fails.
pub async fn install(args: InstallArgs) -> anyhow::Result<()> {
    let database = args.database.config(1);
    let store = KeyStore::connect_lazy(&database, "fdi-keys").context("the database URL is invalid")?;
    // With the owner's URL the key table is made when missing; a service role may not, and needs
    // `fdi db migrate` to have run.
    if database.migration_url.is_some() {
        store.migrate().await.context("cannot create the key table")?;
    }
    for (role, file) in &args.keys {
        let token = read_key(file)?;
        let key_id = access::parse_token(&token).context("checked by read_key")?;
        let done = match install_one(&store, role.to_owned(), &token, file).await? {
            Installed::Now => "installed",
            Installed::Already => "already installed",
        };
        println!("apiKeys/{key_id} ({}): {done}", role.as_str());
    }
    Ok(())
}

/// The key in `file`, checked to be one.
fn read_key(file: &Path) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let token = text.trim().to_owned();
    if access::parse_token(&token).is_none() {
        bail!(
            "{} does not hold an fdi key (fdi_<16 hex digits>_<43 characters>); make one with `fdi keys generate`",
            file.display()
        );
    }
    Ok(token)
}

async fn install_one(store: &KeyStore, role: Role, token: &str, file: &Path) -> anyhow::Result<Installed> {
    let key_id = access::parse_token(token).context("checked by read_key")?;
    let existing = store.get(key_id).await.context(
        "cannot read the key table; is the database running, --database-url (DATABASE_URL) right, and has \
         `fdi db migrate` run?",
    )?;
    if let Some(existing) = existing {
        return already_there(&existing, role, token, file);
    }
    let secret_hash = {
        let token = token.to_owned();
        tokio::task::spawn_blocking(move || access::hash(&token)).await??
    };
    store
        .insert(&KeyRecord {
            key_id: key_id.to_owned(),
            secret_hash,
            role,
            provinces: Vec::new(),
            description: format!("installed from {}", file.display()),
            creator: INSTALL_CREATOR.to_owned(),
            create_time: Utc::now(),
            expire_time: None,
            revoke_time: None,
        })
        .await
        .context("cannot store the key")?;
    Ok(Installed::Now)
}

/// A key whose id is in the table already: the same key, active and with this role, is done; anything
/// else is refused rather than quietly changed.
fn already_there(existing: &KeyRecord, role: Role, token: &str, file: &Path) -> anyhow::Result<Installed> {
    let file = file.display();
    if !access::verify(token, &existing.secret_hash) {
        bail!("{file}: key id {} is installed with another secret", existing.key_id);
    }
    if existing.role != role {
        bail!(
            "{file}: key {} is installed with role {}, not {}; revoke it and install a new key",
            existing.key_id,
            existing.role.as_str(),
            role.as_str()
        );
    }
    if !existing.is_active(Utc::now()) {
        bail!(
            "{file}: key {} was revoked or has expired; put a new key (`fdi keys generate`) in its place",
            existing.key_id
        );
    }
    Ok(Installed::Already)
}
