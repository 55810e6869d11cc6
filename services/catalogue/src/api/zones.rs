//! Zones: industrial parks, clusters and economic zones.

use fdi_kit::{
    access::Caller,
    names::is_valid_id,
    paging::PageLimits,
    status::{Violations, check_text, invalid_argument},
};
use fdi_proto::catalogue as pb;

use super::{check_aliases, provinces::lookup_any, required, resource_id};
use crate::{
    error::{Error, Result},
    model::{EntityKind, NewZone, ZoneFields, ZoneRecord, zone_kind_to_db},
    resolver::zone_id_for,
    state::{Catalogue, Snapshot},
    store::ZoneFilter,
};

const LIMITS: PageLimits = PageLimits { default: 50, max: 500 };
const MAX_AREA_HECTARES: f64 = 10_000_000.0;
const UPDATABLE: &[&str] = &[
    "display_name",
    "kind",
    "province",
    "area_hectares",
    "status",
    "developer",
    "aliases",
    "notes",
    "source_url",
];

fn not_found(snapshot: &Snapshot, shown: &str, id: &str) -> Error {
    super::not_found(snapshot, EntityKind::Zone, "zone", shown, id)
}

pub(super) async fn get(state: &Catalogue, request: pb::GetZoneRequest) -> Result<pb::Zone> {
    let snapshot = state.snapshot()?;
    let id = resource_id(&request.name, "zones", "name")?;
    if is_valid_id(id)
        && let Some(zone) = state.store.zone(id).await?
    {
        return Ok(zone.to_proto());
    }
    Err(not_found(&snapshot, request.name.trim(), id))
}

/// The stored zone kind of a protobuf value; `None` for unspecified or unknown.
fn zone_kind(kind: i32) -> Option<&'static str> {
    pb::ZoneKind::try_from(kind).ok().and_then(zone_kind_to_db)
}

fn kind_filter(kind: i32, field: &str) -> Result<Option<&'static str>> {
    match pb::ZoneKind::try_from(kind) {
        Ok(kind) => Ok(zone_kind_to_db(kind)),
        Err(_) => Err(invalid_argument(field, format!("{kind} is not a zone kind")).into()),
    }
}

/// The zones a list asks for: a current province lists its zones today; a
/// merged unit lists the zones recorded under it.
fn province_filter(snapshot: &Snapshot, province: &str) -> Result<ZoneFilter> {
    if province.trim().is_empty() {
        return Ok(ZoneFilter::default());
    }
    let province = lookup_any(snapshot, province, "province")?;
    Ok(if province.merged_into.is_some() {
        ZoneFilter {
            original_province: Some(province.code.clone()),
            ..ZoneFilter::default()
        }
    } else {
        ZoneFilter {
            province: Some(province.code.clone()),
            ..ZoneFilter::default()
        }
    })
}

pub(super) async fn list(state: &Catalogue, request: pb::ListZonesRequest) -> Result<pb::ListZonesResponse> {
    let snapshot = state.snapshot()?;
    let paging = LIMITS.check(request.page_size, &request.page_token)?;
    let kind = kind_filter(request.kind, "kind")?;
    let filter = ZoneFilter {
        kind,
        ..province_filter(&snapshot, &request.province)?
    };
    let page = paging.for_query(&[
        "zones",
        filter.province.as_deref().unwrap_or(""),
        filter.original_province.as_deref().unwrap_or(""),
        filter.kind.unwrap_or(""),
    ])?;
    let (zones, total) = state
        .store
        .list_zones(&filter, page.after.as_deref(), page.fetch_limit())
        .await?;
    let (zones, next_page_token) = page.finish(zones, |zone| zone.id.clone());
    Ok(pb::ListZonesResponse {
        zones: zones.iter().map(ZoneRecord::to_proto).collect(),
        next_page_token,
        total_size: i32::try_from(total).unwrap_or(i32::MAX),
    })
}

/// Checks the free-text and numeric fields of a zone.
fn check_fields(violations: &mut Violations, zone: &pb::Zone) {
    check_text(violations, "zone.display_name", &zone.display_name, 300, true);
    check_text(violations, "zone.status", &zone.status, 2000, false);
    check_text(violations, "zone.developer", &zone.developer, 300, false);
    check_text(violations, "zone.notes", &zone.notes, 10_000, false);
    check_text(violations, "zone.source_url", &zone.source_url, 2000, false);
    check_aliases(violations, "zone.aliases", &zone.aliases);
    if let Some(area) = zone.area_hectares
        && !(area.is_finite() && area > 0.0 && area <= MAX_AREA_HECTARES)
    {
        violations.add(
            "zone.area_hectares",
            format!("must be a positive number of hectares up to {MAX_AREA_HECTARES}"),
        );
    }
}

/// Resolves the zone's provinces: `province` may be a pre-2025 unit, which
/// is kept as the original and linked to today's province.
fn zone_provinces(snapshot: &Snapshot, zone: &pb::Zone) -> Result<(String, String)> {
    let recorded = lookup_any(snapshot, &zone.province, "zone.province")?;
    let original = if zone.original_province.trim().is_empty() {
        recorded
    } else {
        lookup_any(snapshot, &zone.original_province, "zone.original_province")?
    };
    if original.current_code() != recorded.current_code() {
        return Err(invalid_argument(
            "zone.original_province",
            format!(
                "{} is part of provinces/{}, not provinces/{}",
                original.code,
                original.current_code(),
                recorded.current_code()
            ),
        )
        .into());
    }
    Ok((recorded.current_code().to_owned(), original.code.clone()))
}

/// Validates a whole zone: its fields, its kind (`missing_kind` says what
/// a missing one violates), the caller's own checks (`more`), then its
/// provinces; what is to be stored.
fn validated(
    snapshot: &Snapshot,
    zone: &pb::Zone,
    missing_kind: &str,
    more: impl FnOnce(&mut Violations),
) -> Result<ZoneFields> {
    let mut violations = Violations::new();
    check_fields(&mut violations, zone);
    let kind = zone_kind(zone.kind);
    if kind.is_none() {
        violations.add("zone.kind", missing_kind);
    }
    more(&mut violations);
    let (Some(kind), true) = (kind, violations.is_empty()) else {
        return Err(violations.into_status().into());
    };
    let (province_code, original_province_code) = zone_provinces(snapshot, zone)?;
    Ok(ZoneFields {
        display_name: zone.display_name.trim().to_owned(),
        kind: kind.to_owned(),
        province_code,
        original_province_code,
        area_ha: zone.area_hectares,
        status: zone.status.clone(),
        developer: zone.developer.clone(),
        aliases: zone.aliases.clone(),
        notes: zone.notes.clone(),
        source_url: zone.source_url.clone(),
    })
}

pub(super) async fn create(state: &Catalogue, caller: &Caller, request: pb::CreateZoneRequest) -> Result<pb::Zone> {
    let snapshot = state.snapshot()?;
    let zone = required(request.zone, "zone")?;
    let id = if request.zone_id.is_empty() {
        zone_id_for(&zone.display_name)
    } else {
        request.zone_id
    };
    let missing_kind =
        "is required: INDUSTRIAL_PARK, INDUSTRIAL_CLUSTER, ECONOMIC_ZONE, HIGH_TECH_PARK or EXPORT_PROCESSING_ZONE";
    let fields = validated(&snapshot, &zone, missing_kind, |violations| {
        if zone.province.trim().is_empty() {
            violations.add("zone.province", "is required");
        }
        if !is_valid_id(&id) && violations.is_empty() {
            violations.add("zone_id", "must be 1-63 lowercase letters, digits and single hyphens");
        }
    })?;
    let record = state.store.create_zone(&NewZone { id, fields }, &caller.key_id).await?;
    state.reload().await?;
    tracing::info!(
        zone = %record.id,
        province = %record.fields.province_code,
        creator = %record.creator,
        "zone created"
    );
    Ok(record.to_proto())
}

/// Checks an update mask: present, and naming only fields that can change.
fn check_mask(paths: &[String]) -> Result<()> {
    let mut violations = Violations::new();
    if paths.is_empty() {
        violations.add(
            "update_mask",
            format!("is required; name the fields to change: {}", UPDATABLE.join(", ")),
        );
    }
    for (i, path) in paths.iter().enumerate() {
        if !UPDATABLE.contains(&path.as_str()) {
            violations.add(
                format!("update_mask.paths[{i}]"),
                format!("`{path}` cannot be updated; use {}", UPDATABLE.join(", ")),
            );
        }
    }
    Ok(violations.into_result()?)
}

/// The stored zone with the masked fields of `changes` (a checked mask).
fn merge(stored: &ZoneRecord, changes: &pb::Zone, paths: &[String]) -> pb::Zone {
    let mut merged = stored.to_proto();
    for path in paths {
        match path.as_str() {
            "display_name" => merged.display_name.clone_from(&changes.display_name),
            "kind" => merged.kind = changes.kind,
            "province" => {
                merged.province.clone_from(&changes.province);
                merged.original_province.clone_from(&changes.original_province);
            }
            "area_hectares" => merged.area_hectares = changes.area_hectares,
            "status" => merged.status.clone_from(&changes.status),
            "developer" => merged.developer.clone_from(&changes.developer),
            "aliases" => merged.aliases.clone_from(&changes.aliases),
            "notes" => merged.notes.clone_from(&changes.notes),
            _ => merged.source_url.clone_from(&changes.source_url),
        }
    }
    merged
}

pub(super) async fn update(state: &Catalogue, caller: &Caller, request: pb::UpdateZoneRequest) -> Result<pb::Zone> {
    let snapshot = state.snapshot()?;
    let changes = required(request.zone, "zone")?;
    let id = resource_id(&changes.name, "zones", "zone.name")?;
    let paths = request.update_mask.map(|m| m.paths).unwrap_or_default();
    check_mask(&paths)?;
    let updated = state
        .store
        .update_zone(id, &caller.key_id, |stored| {
            if !changes.etag.is_empty() && changes.etag != stored.etag() {
                return Err(Error::Conflict(format!(
                    "zones/{id} changed since etag {}; read it again and retry",
                    changes.etag
                )));
            }
            // Merge the masked fields into the stored zone, then validate the result as a whole.
            validated(
                &snapshot,
                &merge(&stored, &changes, &paths),
                "must be a zone kind",
                |_| {},
            )
        })
        .await?;
    let Some(record) = updated else {
        return Err(not_found(&snapshot, changes.name.trim(), id));
    };
    state.reload().await?;
    Ok(record.to_proto())
}
