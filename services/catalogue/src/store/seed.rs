//! Writing the shipped reference data in one transaction.

use super::{Store, StoreError, StoreResult, changes, provinces, zones};
use crate::model::{NewZone, ProvinceFacts};

impl Store {
    /// Writes the shipped provinces (absorbing units first: merged units
    /// reference them), refreshing their facts, and adds the shipped zones
    /// whose ids are new (user edits are kept), and tells every replica on
    /// commit.
    ///
    /// # Errors
    /// [`StoreError::Seed`] naming the row the database refused; else when the database fails.
    pub async fn seed(&self, provinces: &[ProvinceFacts], zones: &[NewZone]) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        for facts in provinces {
            let row = format!("province {}", facts.province.code);
            provinces::upsert(&mut *tx, facts).await.map_err(refused(row))?;
        }
        for zone in zones {
            let row = format!("zone {}", zone.fields.display_name);
            zones::insert_if_new(&mut *tx, zone).await.map_err(refused(row))?;
        }
        // A replica of a newer release may ship other reference data: the running ones reload it.
        changes::notify(&mut tx, &self.origin, "reference data").await?;
        Ok(tx.commit().await?)
    }
}

/// The error of a shipped row the database refused.
fn refused(row: String) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |source| StoreError::Seed { row, source }
}
