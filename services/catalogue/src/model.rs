//! The catalogue's domain types: records as stored, what a write stores, and
//! their protobuf forms.

use chrono::{DateTime, NaiveDate, Utc};
use fdi_kit::period::date_to_proto;
use fdi_proto::catalogue as pb;

use crate::resolver::investor_key;

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

    /// The kind a protobuf enum value names; `None` for unspecified.
    #[must_use]
    pub fn from_proto(kind: pb::EntityKind) -> Option<Self> {
        match kind {
            pb::EntityKind::Province => Some(Self::Province),
            pb::EntityKind::Zone => Some(Self::Zone),
            pb::EntityKind::Investor => Some(Self::Investor),
            pb::EntityKind::Unspecified => None,
        }
    }
}

/// The resource name of a province, `provinces/{code}`.
#[must_use]
pub fn province_name(code: &str) -> String {
    format!("provinces/{code}")
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
            name: province_name(&self.code),
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
            merged_into: self.merged_into.as_deref().map(province_name).unwrap_or_default(),
            merge_effective_date: self.merge_effective.map(date_to_proto),
            absorbed: absorbed.iter().map(|code| province_name(code)).collect(),
            current_province: province_name(self.current_code()),
            gso_code_pre2025: self.gso_code_pre2025.clone(),
            gso_code_2025: self.gso_code_2025.clone(),
            aliases: self.aliases.clone(),
        }
    }
}

/// A province as the shipped reference data states it.
#[derive(Debug, Clone)]
pub struct ProvinceFacts {
    /// The province.
    pub province: ProvinceRecord,
    /// Sources and remarks, kept beside it.
    pub notes: String,
}

/// What a zone says about itself: everything but its id and bookkeeping.
/// CreateZone and the seed write it, UpdateZone rewrites it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ZoneFields {
    /// Display name.
    pub display_name: String,
    /// `industrial_park`, `industrial_cluster`, `economic_zone`, `high_tech_park` or `export_processing_zone`.
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
}

/// A zone to create.
#[derive(Debug, Clone)]
pub struct NewZone {
    /// Id part of the resource name.
    pub id: String,
    /// Everything else.
    pub fields: ZoneFields,
}

/// A zone row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ZoneRecord {
    /// Id part of the resource name.
    pub id: String,
    /// What the zone says about itself.
    #[sqlx(flatten)]
    pub fields: ZoneFields,
    /// Incremented on every update; the etag.
    pub revision: i64,
    /// Creation time.
    pub create_time: DateTime<Utc>,
    /// Last update time.
    pub update_time: DateTime<Utc>,
    /// Key id of the API key that created the zone (`seed` for the shipped zones).
    pub creator: String,
    /// Key id of the API key that last changed the zone (its creator until the first update).
    pub updater: String,
}

/// Zone kinds as stored and as protobuf enum values.
pub const ZONE_KINDS: &[(&str, pb::ZoneKind)] = &[
    ("industrial_park", pb::ZoneKind::IndustrialPark),
    ("industrial_cluster", pb::ZoneKind::IndustrialCluster),
    ("economic_zone", pb::ZoneKind::EconomicZone),
    ("high_tech_park", pb::ZoneKind::HighTechPark),
    ("export_processing_zone", pb::ZoneKind::ExportProcessingZone),
];

/// The stored form of a zone kind; `None` for unspecified.
#[must_use]
pub fn zone_kind_to_db(kind: pb::ZoneKind) -> Option<&'static str> {
    ZONE_KINDS.iter().find(|(_, k)| *k == kind).map(|(s, _)| *s)
}

/// The protobuf form of a stored zone kind; unspecified for anything else.
#[must_use]
pub fn zone_kind_from_db(kind: &str) -> pb::ZoneKind {
    ZONE_KINDS
        .iter()
        .find(|(s, _)| *s == kind)
        .map_or(pb::ZoneKind::Unspecified, |(_, k)| *k)
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
        let fields = &self.fields;
        pb::Zone {
            name: format!("zones/{}", self.id),
            display_name: fields.display_name.clone(),
            kind: zone_kind_from_db(&fields.kind).into(),
            province: province_name(&fields.province_code),
            original_province: province_name(&fields.original_province_code),
            area_hectares: fields.area_ha,
            status: fields.status.clone(),
            developer: fields.developer.clone(),
            aliases: fields.aliases.clone(),
            notes: fields.notes.clone(),
            source_url: fields.source_url.clone(),
            create_time: Some(timestamp(self.create_time)),
            update_time: Some(timestamp(self.update_time)),
            etag: self.etag(),
            creator: self.creator.clone(),
            updater: self.updater.clone(),
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
    /// Key id of the API key that created the investor.
    pub creator: String,
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
            creator: self.creator.clone(),
        }
    }
}

/// An investor to create (or to find, when its legal name is known).
#[derive(Debug, Clone)]
pub struct NewInvestor {
    /// Legal name, trimmed.
    pub display_name: String,
    /// The legal name's identity ([`investor_key`]); empty when it has no letters or digits.
    pub match_key: String,
    /// Other names.
    pub aliases: Vec<String>,
    /// ISO-2 home country (upper case) or empty.
    pub country_code: String,
}

impl NewInvestor {
    /// An investor named `display_name`, with its match key.
    #[must_use]
    pub fn new(display_name: &str, aliases: Vec<String>, country_code: String) -> Self {
        Self {
            display_name: display_name.trim().to_owned(),
            match_key: investor_key(display_name),
            aliases,
            country_code,
        }
    }

    /// Every key the investor is known by: its legal name's, then its aliases'.
    #[must_use]
    pub fn keys(&self) -> Vec<String> {
        std::iter::once(self.match_key.clone())
            .chain(self.aliases.iter().map(|alias| investor_key(alias)))
            .filter(|key| !key.is_empty())
            .collect()
    }
}
