//! Investors: legal names, aliases, home countries.

use fdi_kit::{
    access::Caller,
    country::is_country_code,
    domain::MAX_NAME_CHARS,
    names::fold,
    paging::PageLimits,
    status::{Violations, check_text},
};
use fdi_proto::catalogue as pb;

use super::{check_aliases, check_batch_size, required, resource_id};
use crate::{
    error::{Error, Result},
    model::{InvestorRecord, NewInvestor},
    state::Catalogue,
    store::InvestorFilter,
};

const LIMITS: PageLimits = PageLimits { default: 50, max: 500 };
/// Names per EnsureInvestors call.
const MAX_ENSURE: usize = 1000;

/// How a wrong country code is explained.
#[derive(Clone, Copy)]
enum CountryHint {
    /// Quote the code and give examples.
    Detailed,
    /// Name the standard only (one of many entries of a batch).
    Brief,
}

/// The country code of `raw`, upper case; a violation on `field` when it is
/// neither empty nor an ISO 3166-1 alpha-2 code.
fn country_code(violations: &mut Violations, field: String, raw: &str, hint: CountryHint) -> String {
    let country = raw.trim().to_ascii_uppercase();
    if !country.is_empty() && !is_country_code(&country) {
        let description = match hint {
            CountryHint::Detailed => format!("`{}` is not an ISO 3166-1 alpha-2 code such as SG or KR", raw.trim()),
            CountryHint::Brief => "is not an ISO 3166-1 alpha-2 code".to_owned(),
        };
        violations.add(field, description);
    }
    country
}

fn parse_id(name: &str) -> Result<Option<i64>> {
    let id = resource_id(name, "investors", "name")?;
    Ok(id.parse::<i64>().ok().filter(|id| *id > 0))
}

pub(super) async fn get(state: &Catalogue, request: pb::GetInvestorRequest) -> Result<pb::Investor> {
    let found = match parse_id(&request.name)? {
        Some(id) => state.store.investor(id).await?,
        None => None,
    };
    match found {
        Some(investor) => Ok(investor.to_proto()),
        None => Err(fdi_kit::status::not_found("investor", request.name.trim(), &[]).into()),
    }
}

pub(super) async fn list(state: &Catalogue, request: pb::ListInvestorsRequest) -> Result<pb::ListInvestorsResponse> {
    let paging = LIMITS.check(request.page_size, &request.page_token)?;
    let mut violations = Violations::new();
    let country_code = country_code(
        &mut violations,
        "country_code".to_owned(),
        &request.country_code,
        CountryHint::Detailed,
    );
    check_text(
        &mut violations,
        "name_prefix",
        &request.name_prefix,
        MAX_NAME_CHARS,
        false,
    );
    violations.into_result()?;
    let filter = InvestorFilter {
        country_code,
        name_prefix: fold(&request.name_prefix),
    };
    let page = paging.for_query(&["investors", &filter.country_code, &filter.name_prefix])?;
    let investors = state
        .store
        .list_investors(&filter, page.after_number()?, page.fetch_limit())
        .await?;
    let (investors, next_page_token) = page.finish(investors, |investor| investor.id.to_string());
    Ok(pb::ListInvestorsResponse {
        investors: investors.iter().map(InvestorRecord::to_proto).collect(),
        next_page_token,
    })
}

pub(super) async fn create(
    state: &Catalogue,
    caller: &Caller,
    request: pb::CreateInvestorRequest,
) -> Result<pb::Investor> {
    let investor = required(request.investor, "investor")?;
    let mut violations = Violations::new();
    check_text(
        &mut violations,
        "investor.display_name",
        &investor.display_name,
        MAX_NAME_CHARS,
        true,
    );
    let country = country_code(
        &mut violations,
        "investor.country_code".to_owned(),
        &investor.country_code,
        CountryHint::Detailed,
    );
    check_aliases(&mut violations, "investor.aliases", &investor.aliases);
    let new = NewInvestor::new(&investor.display_name, investor.aliases, country);
    if new.match_key.is_empty() && violations.is_empty() {
        violations.add("investor.display_name", "has no letters or digits");
    }
    violations.into_result()?;
    Ok(state.store.create_investor(&new, &caller.key_id).await?.to_proto())
}

/// Ingest calls this with its own service key, never a user's: the
/// investors it creates name that key as their creator.
pub(super) async fn ensure(
    state: &Catalogue,
    caller: &Caller,
    request: pb::EnsureInvestorsRequest,
) -> Result<pb::EnsureInvestorsResponse> {
    check_batch_size("investors", request.investors.len(), MAX_ENSURE)?;
    let mut violations = Violations::new();
    let mut wanted = Vec::with_capacity(request.investors.len());
    for (i, investor) in request.investors.iter().enumerate() {
        let field = format!("investors[{i}].display_name");
        check_text(&mut violations, &field, &investor.display_name, MAX_NAME_CHARS, true);
        let mut new = NewInvestor::new(&investor.display_name, Vec::new(), String::new());
        if new.match_key.is_empty() && !new.display_name.is_empty() {
            violations.add(field, "has no letters or digits");
        }
        new.country_code = country_code(
            &mut violations,
            format!("investors[{i}].country_code"),
            &investor.country_code,
            CountryHint::Brief,
        );
        wanted.push(new);
    }
    violations.into_result()?;

    let ensured = state.store.ensure_investors(&wanted, &caller.key_id).await?;
    let investors = ensured
        .investors
        .iter()
        .map(|found| {
            found
                .as_ref()
                .map(InvestorRecord::to_proto)
                .ok_or_else(|| Error::Conflict("an investor changed during the call; retry".to_owned()))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(pb::EnsureInvestorsResponse {
        investors,
        created: i32::try_from(ensured.created).unwrap_or(i32::MAX),
    })
}
