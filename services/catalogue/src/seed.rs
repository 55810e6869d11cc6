//! Reference data shipped with the service (the repository's `data/*.csv`,
//! the project's sourced facts): the 63 pre-2025 provinces with the 2025
//! merger lineage, well-known aliases, and the seed zones. Applied at every
//! start: province facts are refreshed, zones only added (user edits are kept).

use std::collections::HashMap;

use chrono::NaiveDate;
use serde::Deserialize;
use sqlx::PgPool;

use crate::resolver::{zone_extra_names, zone_id_for};

const PROVINCES_CSV: &str = include_str!("../../../data/provinces.csv");
const PROVINCE_ALIASES_CSV: &str = include_str!("../../../data/province_aliases.csv");
const ZONES_CSV: &str = include_str!("../../../data/zones.csv");

#[derive(Debug, Deserialize)]
struct ProvinceRow {
    code: String,
    name_vi: String,
    name_en: String,
    kind: String,
    merged_into_code: String,
    effective_date: String,
    name_ascii: String,
    gso_code_pre2025: String,
    gso_code_2025: String,
    notes: String,
}

#[derive(Debug, Deserialize)]
struct AliasRow {
    code: String,
    alias: String,
}

#[derive(Debug, Deserialize)]
struct ZoneRow {
    name: String,
    kind: String,
    province_code_current: String,
    province_code_original: String,
    area_ha: String,
    status: String,
    notes: String,
    source_url: String,
}

fn rows<T: for<'de> Deserialize<'de>>(csv_text: &str) -> Result<Vec<T>, csv::Error> {
    csv::Reader::from_reader(csv_text.as_bytes()).deserialize().collect()
}

/// Writes the shipped reference data.
///
/// # Errors
/// When the database rejects it (or the shipped files are malformed, which tests catch).
pub async fn apply(pool: &PgPool) -> Result<(), String> {
    let mut provinces: Vec<ProvinceRow> = rows(PROVINCES_CSV).map_err(|e| format!("provinces.csv: {e}"))?;
    let aliases: Vec<AliasRow> = rows(PROVINCE_ALIASES_CSV).map_err(|e| format!("province_aliases.csv: {e}"))?;
    let zones: Vec<ZoneRow> = rows(ZONES_CSV).map_err(|e| format!("zones.csv: {e}"))?;
    let mut aliases_by_code: HashMap<&str, Vec<String>> = HashMap::new();
    for alias in &aliases {
        aliases_by_code
            .entry(alias.code.as_str())
            .or_default()
            .push(alias.alias.clone());
    }
    // Absorbing units first: merged units reference them.
    provinces.sort_by_key(|p| !p.merged_into_code.is_empty());

    let mut tx = pool.begin().await.map_err(|e| e.to_string())?;
    for province in &provinces {
        let merged_into = Some(province.merged_into_code.as_str()).filter(|c| !c.is_empty());
        let effective = NaiveDate::parse_from_str(&province.effective_date, "%Y-%m-%d").ok();
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
        .bind(merged_into)
        .bind(effective)
        .bind(&province.gso_code_pre2025)
        .bind(&province.gso_code_2025)
        .bind(aliases_by_code.get(province.code.as_str()).cloned().unwrap_or_default())
        .bind(&province.notes)
        .execute(&mut *tx)
        .await
        .map_err(|e| format!("seeding province {}: {e}", province.code))?;
    }
    for zone in &zones {
        let area: Option<f64> = zone.area_ha.trim().parse().ok();
        sqlx::query(
            "INSERT INTO zones (id, display_name, kind, province_code, original_province_code, area_ha, status,
                                aliases, notes, source_url)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(zone_id_for(&zone.name))
        .bind(&zone.name)
        .bind(&zone.kind)
        .bind(&zone.province_code_current)
        .bind(&zone.province_code_original)
        .bind(area)
        .bind(&zone.status)
        .bind(zone_extra_names(&zone.name))
        .bind(&zone.notes)
        .bind(&zone.source_url)
        .execute(&mut *tx)
        .await
        .map_err(|e| format!("seeding zone {}: {e}", zone.name))?;
    }
    tx.commit().await.map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_files_parse_and_hold_the_lineage() {
        let provinces: Vec<ProvinceRow> = rows(PROVINCES_CSV).unwrap();
        assert_eq!(provinces.len(), 63);
        let current = provinces.iter().filter(|p| p.merged_into_code.is_empty()).count();
        assert_eq!(current, 34);
        let codes: Vec<&str> = provinces.iter().map(|p| p.code.as_str()).collect();
        for merged in provinces.iter().filter(|p| !p.merged_into_code.is_empty()) {
            assert!(codes.contains(&merged.merged_into_code.as_str()), "{}", merged.code);
            assert_eq!(merged.effective_date, "2025-07-01");
        }
        let aliases: Vec<AliasRow> = rows(PROVINCE_ALIASES_CSV).unwrap();
        assert!(aliases.iter().all(|a| codes.contains(&a.code.as_str())));
        let zones: Vec<ZoneRow> = rows(ZONES_CSV).unwrap();
        let mut ids: Vec<String> = zones.iter().map(|z| zone_id_for(&z.name)).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), zones.len(), "zone ids are unique");
        assert!(zones.iter().all(|z| codes.contains(&z.province_code_current.as_str())));
    }
}
