//! Zones: industrial parks, clusters and economic zones.

use fdi_kit::{
    names::is_valid_id,
    paging::{PageToken, fingerprint, page_size},
    status::{Violations, check_text},
    telemetry::db_span,
};
use fdi_proto::catalogue as pb;
use tonic::Code;
use tracing::Instrument;

use super::{MAX_NAME_CHARS, provinces::lookup_any, resource_id};
use crate::{
    error::{Error, Result, already_exists},
    model::{EntityKind, ZoneRecord, zone_kind_to_db},
    resolver::zone_id_for,
    state::{Catalogue, Snapshot, ZONE_COLUMNS},
};

const MAX_ALIASES: usize = 50;
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

async fn fetch(state: &Catalogue, id: &str) -> Result<Option<ZoneRecord>> {
    Ok(
        sqlx::query_as(&format!("SELECT {ZONE_COLUMNS} FROM zones WHERE id = $1"))
            .bind(id)
            .fetch_optional(&state.pool)
            .instrument(db_span("SELECT", "zones"))
            .await?,
    )
}

pub(super) async fn get(state: &Catalogue, request: &pb::GetZoneRequest) -> Result<pb::Zone> {
    let snapshot = state.snapshot()?;
    let id = resource_id(&request.name, "zones", "name")?;
    if is_valid_id(id)
        && let Some(zone) = fetch(state, id).await?
    {
        return Ok(zone.to_proto());
    }
    Err(not_found(&snapshot, request.name.trim(), id))
}

fn kind_filter(kind: i32, field: &str) -> Result<Option<&'static str>> {
    match pb::ZoneKind::try_from(kind) {
        Ok(pb::ZoneKind::Unspecified) => Ok(None),
        Ok(kind) => Ok(zone_kind_to_db(kind)),
        Err(_) => Err(fdi_kit::status::invalid_argument(field, format!("{kind} is not a zone kind")).into()),
    }
}

pub(super) async fn list(state: &Catalogue, request: &pb::ListZonesRequest) -> Result<pb::ListZonesResponse> {
    let snapshot = state.snapshot()?;
    let size = page_size(request.page_size, 50, 500)?;
    let kind = kind_filter(request.kind, "kind")?;
    // A current province lists its zones today; a merged unit lists the zones recorded under it.
    let (current, original) = if request.province.trim().is_empty() {
        (None, None)
    } else {
        let province = lookup_any(&snapshot, &request.province, "province")?;
        if province.merged_into.is_some() {
            (None, Some(province.code.clone()))
        } else {
            (Some(province.code.clone()), None)
        }
    };
    let query = fingerprint(&[
        "zones",
        current.as_deref().unwrap_or(""),
        original.as_deref().unwrap_or(""),
        kind.unwrap_or(""),
    ]);
    let after = PageToken::decode(&request.page_token, query)?.map(|t| t.after);

    let filter = "($1::text IS NULL OR province_code = $1) AND ($2::text IS NULL OR original_province_code = $2)
                  AND ($3::text IS NULL OR kind = $3)";
    let mut zones: Vec<ZoneRecord> = sqlx::query_as(&format!(
        "SELECT {ZONE_COLUMNS} FROM zones WHERE {filter} AND ($4::text IS NULL OR id > $4) ORDER BY id LIMIT $5"
    ))
    .bind(&current)
    .bind(&original)
    .bind(kind)
    .bind(&after)
    .bind(i64::try_from(size + 1).unwrap_or(i64::MAX))
    .fetch_all(&state.pool)
    .instrument(db_span("SELECT", "zones"))
    .await?;
    let (total,): (i64,) = sqlx::query_as(&format!("SELECT count(*) FROM zones WHERE {filter}"))
        .bind(&current)
        .bind(&original)
        .bind(kind)
        .fetch_one(&state.pool)
        .instrument(db_span("SELECT", "zones"))
        .await?;
    let next_page_token = if zones.len() > size {
        zones.truncate(size);
        PageToken::encode(&zones[size - 1].id, query)
    } else {
        String::new()
    };
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
    if zone.aliases.len() > MAX_ALIASES {
        violations.add(
            "zone.aliases",
            format!("has {} entries; at most {MAX_ALIASES}", zone.aliases.len()),
        );
    }
    for (i, alias) in zone.aliases.iter().enumerate() {
        check_text(violations, &format!("zone.aliases[{i}]"), alias, MAX_NAME_CHARS, true);
    }
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
        return Err(fdi_kit::status::invalid_argument(
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

pub(super) async fn create(state: &Catalogue, request: pb::CreateZoneRequest) -> Result<pb::Zone> {
    let snapshot = state.snapshot()?;
    let Some(zone) = request.zone else {
        return Err(fdi_kit::status::invalid_argument("zone", "is required").into());
    };
    let mut violations = Violations::new();
    check_fields(&mut violations, &zone);
    let kind = match pb::ZoneKind::try_from(zone.kind) {
        Ok(pb::ZoneKind::Unspecified) | Err(_) => {
            violations.add(
                "zone.kind",
                "is required: INDUSTRIAL_PARK, INDUSTRIAL_CLUSTER, ECONOMIC_ZONE or HIGH_TECH_PARK",
            );
            None
        }
        Ok(kind) => zone_kind_to_db(kind),
    };
    if zone.province.trim().is_empty() {
        violations.add("zone.province", "is required");
    }
    let id = if request.zone_id.is_empty() {
        zone_id_for(&zone.display_name)
    } else {
        request.zone_id.clone()
    };
    if !is_valid_id(&id) && violations.is_empty() {
        violations.add("zone_id", "must be 1-63 lowercase letters, digits and single hyphens");
    }
    violations.into_result()?;
    let (province, original) = zone_provinces(&snapshot, &zone)?;

    let inserted = sqlx::query_as::<_, ZoneRecord>(&format!(
        "INSERT INTO zones (id, display_name, kind, province_code, original_province_code, area_ha, status, developer,
                            aliases, notes, source_url)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         RETURNING {ZONE_COLUMNS}"
    ))
    .bind(&id)
    .bind(zone.display_name.trim())
    .bind(kind)
    .bind(&province)
    .bind(&original)
    .bind(zone.area_hectares)
    .bind(&zone.status)
    .bind(&zone.developer)
    .bind(&zone.aliases)
    .bind(&zone.notes)
    .bind(&zone.source_url)
    .fetch_one(&state.pool)
    .instrument(db_span("INSERT", "zones"))
    .await;
    let record = match inserted {
        Ok(record) => record,
        Err(error) if fdi_kit::db::is_unique_violation(&error) => {
            return Err(already_exists("a zone with this id", &format!("zones/{id}")));
        }
        Err(error) => return Err(error.into()),
    };
    state.reload().await?;
    tracing::info!(zone = %record.id, province = %record.province_code, "zone created");
    Ok(record.to_proto())
}

pub(super) async fn update(state: &Catalogue, request: pb::UpdateZoneRequest) -> Result<pb::Zone> {
    let snapshot = state.snapshot()?;
    let Some(changes) = request.zone else {
        return Err(fdi_kit::status::invalid_argument("zone", "is required").into());
    };
    let id = resource_id(&changes.name, "zones", "zone.name")?.to_owned();
    let paths = request.update_mask.map(|m| m.paths).unwrap_or_default();
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
    violations.into_result()?;

    let mut tx = state.pool.begin().await?;
    let current: Option<ZoneRecord> =
        sqlx::query_as(&format!("SELECT {ZONE_COLUMNS} FROM zones WHERE id = $1 FOR UPDATE"))
            .bind(&id)
            .fetch_optional(&mut *tx)
            .instrument(db_span("SELECT", "zones"))
            .await?;
    let Some(mut record) = current else {
        return Err(not_found(&snapshot, changes.name.trim(), &id));
    };
    if !changes.etag.is_empty() && changes.etag != record.etag() {
        return Err(Error::Rejected(tonic::Status::new(
            Code::Aborted,
            format!(
                "zones/{id} changed since etag {}; read it again and retry",
                changes.etag
            ),
        )));
    }
    // Merge the masked fields into the stored zone, then validate the result as a whole.
    let mut merged = record.to_proto();
    for path in &paths {
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
    let mut violations = Violations::new();
    check_fields(&mut violations, &merged);
    let kind = match pb::ZoneKind::try_from(merged.kind) {
        Ok(pb::ZoneKind::Unspecified) | Err(_) => {
            violations.add("zone.kind", "must be a zone kind");
            None
        }
        Ok(kind) => zone_kind_to_db(kind),
    };
    violations.into_result()?;
    let (province, original) = zone_provinces(&snapshot, &merged)?;
    record = sqlx::query_as(&format!(
        "UPDATE zones SET display_name = $2, kind = $3, province_code = $4, original_province_code = $5, area_ha = $6,
                status = $7, developer = $8, aliases = $9, notes = $10, source_url = $11,
                revision = revision + 1, update_time = now()
         WHERE id = $1 RETURNING {ZONE_COLUMNS}"
    ))
    .bind(&id)
    .bind(merged.display_name.trim())
    .bind(kind)
    .bind(&province)
    .bind(&original)
    .bind(merged.area_hectares)
    .bind(&merged.status)
    .bind(&merged.developer)
    .bind(&merged.aliases)
    .bind(&merged.notes)
    .bind(&merged.source_url)
    .fetch_one(&mut *tx)
    .instrument(db_span("UPDATE", "zones"))
    .await?;
    tx.commit().await?;
    state.reload().await?;
    Ok(record.to_proto())
}
