//! The keys a local system runs with: an admin key for the person at the
//! keyboard and a service key for ingest's and analytics' calls to the
//! catalogue. `fdi up` keeps them under its data directory (mode 0600) and
//! reuses them while they are active; the benchmarks make fresh ones.

use std::path::Path;

use anyhow::Context;
use chrono::Utc;
use fdi_kit::{
    access::{KeyRecord, KeyStore, Role, generate},
    config::DatabaseConfig,
};

/// The tokens of a local system.
pub struct LocalKeys {
    /// An admin key.
    pub admin: String,
    /// A key of role `service`.
    pub service: String,
}

/// The local keys: read from `dir` when they are there and still active, else made and (with `dir`) saved.
///
/// # Errors
/// When the database or the files cannot be used.
pub async fn ensure(database: &DatabaseConfig, dir: Option<&Path>) -> anyhow::Result<LocalKeys> {
    let store = KeyStore::connect_lazy(database, "fdi")?;
    store.migrate().await.context("creating the key table")?;
    let admin = ensure_one(
        &store,
        dir,
        "admin.key",
        Role::Admin,
        "local admin key made by `fdi up`",
    )
    .await?;
    let service = ensure_one(
        &store,
        dir,
        "service.key",
        Role::Service,
        "local services' key made by `fdi up`",
    )
    .await?;
    Ok(LocalKeys { admin, service })
}

async fn ensure_one(
    store: &KeyStore,
    dir: Option<&Path>,
    file: &str,
    role: Role,
    description: &str,
) -> anyhow::Result<String> {
    let path = dir.map(|dir| dir.join(file));
    if let Some(token) = path.as_deref().and_then(|path| std::fs::read_to_string(path).ok()) {
        let token = token.trim().to_owned();
        if let Some(key_id) = fdi_kit::access::parse_token(&token)
            && store
                .get(key_id)
                .await?
                .is_some_and(|key| key.is_active(Utc::now()) && key.role == role)
        {
            return Ok(token);
        }
    }
    let key = generate()?;
    store
        .insert(&KeyRecord {
            key_id: key.key_id.clone(),
            secret_hash: key.secret_hash.clone(),
            role,
            provinces: Vec::new(),
            description: description.to_owned(),
            creator: "bootstrap".to_owned(),
            create_time: Utc::now(),
            expire_time: None,
            revoke_time: None,
        })
        .await?;
    if let Some(path) = path {
        write_private(&path, &key.token).with_context(|| format!("saving the key to {}", path.display()))?;
    }
    Ok(key.token)
}

/// Writes a file only its owner may read.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::{io::Write, os::unix::fs::OpenOptionsExt};
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(text.as_bytes())?;
    file.write_all(b"\n")
}
