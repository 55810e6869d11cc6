//! The catalogue's state: the store and an in-memory snapshot of provinces
//! and zones (small, read on every resolution), reloaded after every zone
//! write, when another replica notifies one ([`crate::replicas`]), and
//! periodically, the last fallback. Investors are not held in memory: they
//! are read from the database on every call.

use std::{
    collections::HashMap,
    sync::{Arc, RwLock},
};

use fdi_kit::config::DatabaseConfig;

use crate::{
    error::{Error, Result},
    model::{ProvinceRecord, ZoneRecord},
    resolver::Index,
    seed,
    store::Store,
};

/// Provinces and zones as loaded, with the resolution index over them.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// All 63 provinces, ordered by code.
    pub provinces: Vec<ProvinceRecord>,
    /// Position of each province in `provinces`, by code.
    pub province_by_code: HashMap<String, usize>,
    /// Codes of the units absorbed by each current province.
    pub absorbed: HashMap<String, Vec<String>>,
    /// The name index over provinces and zones.
    pub index: Index,
}

impl Snapshot {
    /// Builds a snapshot from rows.
    #[must_use]
    pub fn new(mut provinces: Vec<ProvinceRecord>, zones: &[ZoneRecord]) -> Self {
        provinces.sort_by(|a, b| a.code.cmp(&b.code));
        let province_by_code = provinces.iter().enumerate().map(|(i, p)| (p.code.clone(), i)).collect();
        let mut absorbed: HashMap<String, Vec<String>> = HashMap::new();
        for province in &provinces {
            if let Some(target) = &province.merged_into {
                absorbed.entry(target.clone()).or_default().push(province.code.clone());
            }
        }
        let index = Index::build(&provinces, zones);
        Self {
            provinces,
            province_by_code,
            absorbed,
            index,
        }
    }

    /// A province by code.
    #[must_use]
    pub fn province(&self, code: &str) -> Option<&ProvinceRecord> {
        self.province_by_code.get(code).map(|&i| &self.provinces[i])
    }

    /// The protobuf form of a province, with the units it absorbed.
    #[must_use]
    pub fn province_proto(&self, province: &ProvinceRecord) -> fdi_proto::catalogue::Province {
        let absorbed: Vec<&str> = self
            .absorbed
            .get(&province.code)
            .map(|v| v.iter().map(String::as_str).collect())
            .unwrap_or_default();
        province.to_proto(&absorbed)
    }
}

/// Shared state of the catalogue service.
#[derive(Debug)]
pub struct Catalogue {
    /// The database.
    pub store: Store,
    snapshot: RwLock<Option<Arc<Snapshot>>>,
    /// Held through each reload, so reloads run one at a time and a slower
    /// one that began earlier never replaces what a later one loaded.
    reloading: tokio::sync::Mutex<()>,
}

impl Catalogue {
    /// State over a store; not ready until [`Catalogue::prepare`] succeeds.
    #[must_use]
    pub fn new(store: Store) -> Self {
        Self {
            store,
            snapshot: RwLock::new(None),
            reloading: tokio::sync::Mutex::new(()),
        }
    }

    /// The current snapshot.
    ///
    /// # Errors
    /// [`Error::NotReady`] before the first load.
    pub fn snapshot(&self) -> Result<Arc<Snapshot>> {
        self.snapshot
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
            .ok_or(Error::NotReady)
    }

    /// Makes the service ready: migrates the schema (as `database` says),
    /// writes the shipped reference data and loads the snapshot.
    ///
    /// # Errors
    /// What failed, for the log (readiness retries).
    pub async fn prepare(&self, database: &DatabaseConfig) -> Result<(), String> {
        self.store.migrate(database).await.map_err(|e| e.to_string())?;
        seed::apply(&self.store).await?;
        self.reload().await.map_err(|e| format!("loading reference data: {e}"))
    }

    /// Reloads provinces and zones from the database: what it loads
    /// includes every write committed before it was called.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn reload(&self) -> Result<()> {
        let _one_at_a_time = self.reloading.lock().await;
        let provinces = self.store.provinces().await?;
        let zones = self.store.zones().await?;
        let snapshot = Arc::new(Snapshot::new(provinces, &zones));
        *self.snapshot.write().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(snapshot);
        Ok(())
    }

    /// Reloads to pick up other replicas' writes, keeping the previous
    /// snapshot (and logging why) when that fails; whether it reloaded.
    pub async fn refresh(&self) -> bool {
        match self.reload().await {
            Ok(()) => true,
            Err(error) => {
                tracing::warn!(%error, "snapshot refresh failed; keeping the previous one");
                false
            }
        }
    }
}
