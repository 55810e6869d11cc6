//! Reference data shipped with the service (the repository's `data/*.csv`,
//! the project's sourced facts): the 63 pre-2025 provinces with the 2025
//! merger lineage, well-known aliases, and the seed zones. Applied at every
//! start: province facts are refreshed, zones only added (user edits are kept).

use std::collections::HashMap;

use chrono::NaiveDate;
use serde::Deserialize;

use crate::{
    model::{NewZone, ProvinceFacts, ProvinceRecord, ZoneFields},
    resolver::{zone_extra_names, zone_id_for},
    store::Store,
};

const PROVINCES_CSV: &str = include_str!("../../../data/provinces.csv");
const PROVINCE_ALIASES_CSV: &str = include_str!("../../../data/province_aliases.csv");
const ZONES_CSV: &str = include_str!("../../../data/zones.csv");
/// More real parks, clusters, export processing zones, high-tech parks and economic zones, with their sources
/// (some areas approximate, as their notes say): the names articles use, for linking and Resolve.
const ZONES_MORE_CSV: &str = include_str!("../../../data/zones_more.csv");

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
pub async fn apply(store: &Store) -> Result<(), String> {
    let provinces = provinces()?;
    let zones = with_unique_ids(zone_rows()?)?;
    store.seed(&provinces, &zones).await.map_err(|e| e.to_string())
}

/// The shipped zones as new zones. A zone's id comes from its name without the kind ("My Thuan IP" is
/// `my-thuan`); where two zones of different kinds share a name ("My Thuan industrial cluster"), the later
/// in the files also names its kind (`my-thuan-industrial-cluster`). The files' order is fixed, so every
/// start gives every zone the same id.
fn with_unique_ids(rows: Vec<ZoneRow>) -> Result<Vec<NewZone>, String> {
    let mut taken = std::collections::HashSet::new();
    rows.into_iter()
        .map(|row| {
            let kind = row.kind.replace('_', "-");
            let mut zone = row.into_zone();
            if !taken.insert(zone.id.clone()) {
                zone.id = format!("{}-{kind}", zone.id);
                if !taken.insert(zone.id.clone()) {
                    return Err(format!("two shipped zones of one kind are named alike: {}", zone.id));
                }
            }
            Ok(zone)
        })
        .collect()
}

/// The shipped zones of both files.
fn zone_rows() -> Result<Vec<ZoneRow>, String> {
    let mut zones: Vec<ZoneRow> = rows(ZONES_CSV).map_err(|e| format!("zones.csv: {e}"))?;
    let more: Vec<ZoneRow> = rows(ZONES_MORE_CSV).map_err(|e| format!("zones_more.csv: {e}"))?;
    zones.extend(more);
    Ok(zones)
}

/// The shipped provinces with their aliases, absorbing units first (merged units reference them).
fn provinces() -> Result<Vec<ProvinceFacts>, String> {
    let provinces: Vec<ProvinceRow> = rows(PROVINCES_CSV).map_err(|e| format!("provinces.csv: {e}"))?;
    let aliases: Vec<AliasRow> = rows(PROVINCE_ALIASES_CSV).map_err(|e| format!("province_aliases.csv: {e}"))?;
    let mut aliases_by_code: HashMap<String, Vec<String>> = HashMap::new();
    for alias in aliases {
        aliases_by_code.entry(alias.code).or_default().push(alias.alias);
    }
    let mut provinces: Vec<ProvinceFacts> = provinces
        .into_iter()
        .map(|row| {
            let aliases = aliases_by_code.remove(&row.code).unwrap_or_default();
            row.into_facts(aliases)
        })
        .collect();
    provinces.sort_by_key(|p| p.province.merged_into.is_some());
    Ok(provinces)
}

impl ProvinceRow {
    fn into_facts(self, aliases: Vec<String>) -> ProvinceFacts {
        ProvinceFacts {
            province: ProvinceRecord {
                merged_into: Some(self.merged_into_code).filter(|c| !c.is_empty()),
                merge_effective: NaiveDate::parse_from_str(&self.effective_date, "%Y-%m-%d").ok(),
                code: self.code,
                name_vi: self.name_vi,
                name_en: self.name_en,
                name_ascii: self.name_ascii,
                kind: self.kind,
                gso_code_pre2025: self.gso_code_pre2025,
                gso_code_2025: self.gso_code_2025,
                aliases,
            },
            notes: self.notes,
        }
    }
}

impl ZoneRow {
    fn into_zone(self) -> NewZone {
        NewZone {
            id: zone_id_for(&self.name),
            fields: ZoneFields {
                aliases: zone_extra_names(&self.name),
                display_name: self.name,
                kind: self.kind,
                province_code: self.province_code_current,
                original_province_code: self.province_code_original,
                area_ha: self.area_ha.trim().parse().ok(),
                status: self.status,
                developer: String::new(),
                notes: self.notes,
                source_url: self.source_url,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use fdi_kit::domain::MERGER_DATE;

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
            assert_eq!(merged.effective_date, MERGER_DATE.to_string());
        }
        let aliases: Vec<AliasRow> = rows(PROVINCE_ALIASES_CSV).unwrap();
        assert!(aliases.iter().all(|a| codes.contains(&a.code.as_str())));
        let zones = zone_rows().unwrap();
        assert!(zones.len() > 300, "both files of zones");
        assert!(
            zones
                .iter()
                .all(|z| crate::model::ZONE_KINDS.iter().any(|(kind, _)| *kind == z.kind))
        );
        assert!(zones.iter().all(|z| codes.contains(&z.province_code_current.as_str())));
        let (count, first_id) = (zones.len(), zone_id_for(&zones[0].name));
        let mut ids: Vec<String> = with_unique_ids(zones).unwrap().into_iter().map(|z| z.id).collect();
        assert_eq!(ids[0], first_id, "the first zone keeps the id of its name");
        assert!(
            ids.contains(&"my-thuan-industrial-cluster".to_owned()),
            "a shared name gets its kind"
        );
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), count, "zone ids are unique");
    }
}
