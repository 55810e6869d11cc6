//! The catalogue's records as stored, and their protobuf forms.

use chrono::{DateTime, NaiveDate, Utc};
use fdi_kit::period::date_to_proto;
use fdi_proto::catalogue as pb;

/// The kinds of resource a name can resolve to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntityKind {
    /// A province or centrally-run city.
    Province,
    /// An industrial park, cluster or economic zone.
    Zone,
    /// An investor.
    Investor,
}

impl EntityKind {
    /// The protobuf enum value.
    #[must_use]
    pub fn to_proto(self) -> pb::EntityKind {
        match self {
            Self::Province => pb::EntityKind::Province,
            Self::Zone => pb::EntityKind::Zone,
            Self::Investor => pb::EntityKind::Investor,
        }
    }
}

/// A province row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ProvinceRecord {
    /// Stable code, e.g. `bac-ninh`.
    pub code: String,
    /// Vietnamese name with diacritics.
    pub name_vi: String,
    /// English name.
    pub name_en: String,
    /// ASCII name.
    pub name_ascii: String,
    /// `province` or `city`.
    pub kind: String,
    /// The absorbing unit, for merged units.
    pub merged_into: Option<String>,
    /// When the merger took effect.
    pub merge_effective: Option<NaiveDate>,
    /// GSO code before 2025.
    pub gso_code_pre2025: String,
    /// GSO code since 2025-07-01.
    pub gso_code_2025: String,
    /// Other names.
    pub aliases: Vec<String>,
}

impl ProvinceRecord {
    /// The code of the unit this one belongs to today.
    #[must_use]
    pub fn current_code(&self) -> &str {
        self.merged_into.as_deref().unwrap_or(&self.code)
    }

    /// The protobuf form; `absorbed` lists the codes of units merged into this one.
    #[must_use]
    pub fn to_proto(&self, absorbed: &[&str]) -> pb::Province {
        pb::Province {
            name: format!("provinces/{}", self.code),
            code: self.code.clone(),
            display_name: self.name_vi.clone(),
            ascii_name: self.name_ascii.clone(),
            english_name: self.name_en.clone(),
            kind: self.kind.clone(),
            status: if self.merged_into.is_some() {
                pb::ProvinceStatus::Merged
            } else {
                pb::ProvinceStatus::Current
            }
            .into(),
            merged_into: self
                .merged_into
                .as_ref()
                .map(|c| format!("provinces/{c}"))
                .unwrap_or_default(),
            merge_effective_date: self.merge_effective.map(date_to_proto),
            absorbed: absorbed.iter().map(|c| format!("provinces/{c}")).collect(),
            current_province: format!("provinces/{}", self.current_code()),
            gso_code_pre2025: self.gso_code_pre2025.clone(),
            gso_code_2025: self.gso_code_2025.clone(),
            aliases: self.aliases.clone(),
        }
    }
}

/// A zone row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ZoneRecord {
    /// Id part of the resource name.
    pub id: String,
    /// Display name.
    pub display_name: String,
    /// `industrial_park`, `industrial_cluster`, `economic_zone` or `high_tech_park`.
    pub kind: String,
    /// Today's province.
    pub province_code: String,
    /// The province as originally recorded.
    pub original_province_code: String,
    /// Area in hectares.
    pub area_ha: Option<f64>,
    /// Development status.
    pub status: String,
    /// Developer or operator.
    pub developer: String,
    /// Other names.
    pub aliases: Vec<String>,
    /// Notes.
    pub notes: String,
    /// Sources.
    pub source_url: String,
    /// Incremented on every update; the etag.
    pub revision: i64,
    /// Creation time.
    pub create_time: DateTime<Utc>,
    /// Last update time.
    pub update_time: DateTime<Utc>,
}

/// Zone kinds as stored and as protobuf enum values.
pub const ZONE_KINDS: &[(&str, pb::ZoneKind)] = &[
    ("industrial_park", pb::ZoneKind::IndustrialPark),
    ("industrial_cluster", pb::ZoneKind::IndustrialCluster),
    ("economic_zone", pb::ZoneKind::EconomicZone),
    ("high_tech_park", pb::ZoneKind::HighTechPark),
];

/// The stored form of a zone kind; `None` for unspecified.
#[must_use]
pub fn zone_kind_to_db(kind: pb::ZoneKind) -> Option<&'static str> {
    ZONE_KINDS.iter().find(|(_, k)| *k == kind).map(|(s, _)| *s)
}

/// Converts a timestamp to protobuf.
#[must_use]
pub fn timestamp(time: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: time.timestamp(),
        nanos: i32::try_from(time.timestamp_subsec_nanos()).unwrap_or_default(),
    }
}

impl ZoneRecord {
    /// The etag of this revision.
    #[must_use]
    pub fn etag(&self) -> String {
        format!("\"r{}\"", self.revision)
    }

    /// The protobuf form.
    #[must_use]
    pub fn to_proto(&self) -> pb::Zone {
        pb::Zone {
            name: format!("zones/{}", self.id),
            display_name: self.display_name.clone(),
            kind: ZONE_KINDS
                .iter()
                .find(|(s, _)| *s == self.kind)
                .map_or(pb::ZoneKind::Unspecified, |(_, k)| *k)
                .into(),
            province: format!("provinces/{}", self.province_code),
            original_province: format!("provinces/{}", self.original_province_code),
            area_hectares: self.area_ha,
            status: self.status.clone(),
            developer: self.developer.clone(),
            aliases: self.aliases.clone(),
            notes: self.notes.clone(),
            source_url: self.source_url.clone(),
            create_time: Some(timestamp(self.create_time)),
            update_time: Some(timestamp(self.update_time)),
            etag: self.etag(),
        }
    }
}

/// An investor row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct InvestorRecord {
    /// Numeric id.
    pub id: i64,
    /// Legal name.
    pub display_name: String,
    /// Other names.
    pub aliases: Vec<String>,
    /// ISO-2 home country or empty.
    pub country_code: String,
    /// Creation time.
    pub create_time: DateTime<Utc>,
}

impl InvestorRecord {
    /// The protobuf form.
    #[must_use]
    pub fn to_proto(&self) -> pb::Investor {
        pb::Investor {
            name: format!("investors/{}", self.id),
            display_name: self.display_name.clone(),
            aliases: self.aliases.clone(),
            country_code: self.country_code.clone(),
            create_time: Some(timestamp(self.create_time)),
        }
    }
}
