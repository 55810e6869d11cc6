//! GetProvince and ListProvinces, answered from the in-memory snapshot.

use std::collections::HashSet;

use fdi_kit::paging::PageLimits;
use fdi_proto::catalogue as pb;

use super::resource_id;
use crate::{
    error::{Error, Result},
    model::{EntityKind, ProvinceRecord},
    state::{Catalogue, Snapshot},
};

const LIMITS: PageLimits = PageLimits { default: 50, max: 100 };

/// Finds a province by resource name or code; NOT_FOUND with the nearest names otherwise.
fn lookup<'a>(snapshot: &'a Snapshot, name: &str, field: &str) -> Result<&'a ProvinceRecord> {
    let id = resource_id(name, "provinces", field)?;
    if let Some(province) = snapshot.province(id) {
        return Ok(province);
    }
    Err(not_found(snapshot, name.trim(), id))
}

/// Finds a province by resource name, code or any spelling of its name.
pub(super) fn lookup_any<'a>(snapshot: &'a Snapshot, text: &str, field: &str) -> Result<&'a ProvinceRecord> {
    let id = resource_id(text, "provinces", field)?;
    if let Some(province) = snapshot.province(id) {
        return Ok(province);
    }
    let kinds = HashSet::from([EntityKind::Province]);
    let resolution = snapshot.index.resolve(id, &kinds, 5);
    if let Some(best) = resolution.best {
        let code = best.resource.trim_start_matches("provinces/");
        if let Some(province) = snapshot.province(code) {
            return Ok(province);
        }
    }
    Err(not_found(snapshot, text.trim(), id))
}

fn not_found(snapshot: &Snapshot, shown: &str, id: &str) -> Error {
    super::not_found(snapshot, EntityKind::Province, "province", shown, id)
}

pub(super) async fn get(state: &Catalogue, request: pb::GetProvinceRequest) -> Result<pb::Province> {
    let snapshot = state.snapshot()?;
    let province = lookup(&snapshot, &request.name, "name")?;
    Ok(snapshot.province_proto(province))
}

pub(super) async fn list(state: &Catalogue, request: pb::ListProvincesRequest) -> Result<pb::ListProvincesResponse> {
    let snapshot = state.snapshot()?;
    let paging = LIMITS.check(request.page_size, &request.page_token)?;
    let current_filter = if request.current_province.trim().is_empty() {
        None
    } else {
        Some(lookup_any(&snapshot, &request.current_province, "current_province")?.current_code())
    };
    let page = paging.for_query(&[
        "provinces",
        if request.include_merged { "merged" } else { "current" },
        current_filter.unwrap_or(""),
    ])?;

    let matching: Vec<&ProvinceRecord> = snapshot
        .provinces
        .iter()
        .filter(|p| request.include_merged || current_filter.is_some() || p.merged_into.is_none())
        .filter(|p| current_filter.is_none_or(|c| p.current_code() == c))
        .collect();
    let total_size = i32::try_from(matching.len()).unwrap_or(i32::MAX);
    let rows: Vec<&ProvinceRecord> = matching
        .into_iter()
        .filter(|p| page.after.as_deref().is_none_or(|a| p.code.as_str() > a))
        .take(page.size + 1) // one more than the page, as `fetch_limit` says for queries
        .collect();
    let (rows, next_page_token) = page.finish(rows, |p| p.code.clone());
    Ok(pb::ListProvincesResponse {
        provinces: rows.into_iter().map(|p| snapshot.province_proto(p)).collect(),
        next_page_token,
        total_size,
    })
}
