//! Provinces: the 63 pre-2025 units with the 2025 merger lineage.

use sqlx::PgExecutor;

use super::{Store, StoreResult};
use crate::model::ProvinceFacts;

impl Store {
    /// Every province.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn provinces(&self) -> StoreResult<Vec<crate::model::ProvinceRecord>> {
        Ok(sqlx::query_as(
            "SELECT code, name_vi, name_en, name_ascii, kind, merged_into, merge_effective,
                    gso_code_pre2025, gso_code_2025, aliases
             FROM provinces",
        )
        .fetch_all(&self.pool)
        .await?)
    }
}

/// Writes a shipped province, replacing what is stored under its code.
pub(super) async fn upsert(executor: impl PgExecutor<'_>, facts: &ProvinceFacts) -> Result<(), sqlx::Error> {
    let province = &facts.province;
    sqlx::query(
        "INSERT INTO provinces (code, name_vi, name_en, name_ascii, kind, merged_into, merge_effective,
                                gso_code_pre2025, gso_code_2025, aliases, notes)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT (code) DO UPDATE SET
            name_vi = EXCLUDED.name_vi, name_en = EXCLUDED.name_en, name_ascii = EXCLUDED.name_ascii,
            kind = EXCLUDED.kind, merged_into = EXCLUDED.merged_into, merge_effective = EXCLUDED.merge_effective,
            gso_code_pre2025 = EXCLUDED.gso_code_pre2025, gso_code_2025 = EXCLUDED.gso_code_2025,
            aliases = EXCLUDED.aliases, notes = EXCLUDED.notes",
    )
    .bind(&province.code)
    .bind(&province.name_vi)
    .bind(&province.name_en)
    .bind(&province.name_ascii)
    .bind(&province.kind)
    .bind(&province.merged_into)
    .bind(province.merge_effective)
    .bind(&province.gso_code_pre2025)
    .bind(&province.gso_code_2025)
    .bind(&province.aliases)
    .bind(&facts.notes)
    .execute(executor)
    .await?;
    Ok(())
}
