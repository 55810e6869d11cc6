//! SetTarget and ListTargets.

use fdi_kit::{
    access::Caller,
    domain::{FIRST_YEAR, LAST_YEAR, MAX_NAME_CHARS, Scope as DomainScope, is_valid_year},
    figures,
    money::{from_money, is_currency_code, to_money},
    status::{Violations, check_text, invalid_argument},
};
use fdi_proto::{
    common::{Figure, Scope},
    ingest as pb,
};
use rust_decimal::Decimal;

use super::{PAGE_LIMITS, province, resource};
use crate::{error::Result, pipeline::Pipeline, store::Target, validate::MAX_SOURCE_CHARS};

impl From<&Target> for pb::Target {
    fn from(target: &Target) -> Self {
        Self {
            name: format!(
                "provinces/{}/targets/{}-{}-{}",
                target.province_code, target.year, target.figure, target.scope
            ),
            province: resource("provinces", &target.province_code),
            year: target.year,
            figure: figures::from_name(&target.figure).unwrap_or(Figure::Unspecified).into(),
            scope: figures::scope_from_name(&target.scope).into(),
            amount: target
                .amount
                .zip(target.currency.as_deref())
                .map(|(a, c)| to_money(a, c)),
            count: target.count.unwrap_or_default(),
            source: target.source.clone(),
            creator: target.creator.clone(),
        }
    }
}

/// The message of a year out of range.
fn year_range() -> String {
    format!("must be a year between {FIRST_YEAR} and {LAST_YEAR}")
}

pub(super) async fn set(pipeline: &Pipeline, caller: &Caller, request: pb::SetTargetRequest) -> Result<pb::Target> {
    let Some(target) = request.target else {
        return Err(invalid_argument("target", "is required").into());
    };
    let mut checked = checked_target(&target)?;
    checked.province_code = province(pipeline, &target.province, "target.province").await?.0;
    checked.creator.clone_from(&caller.key_id);
    Ok(pb::Target::from(&pipeline.store.set_target(&checked).await?))
}

/// The target a request sets, all its problems reported at once; its
/// province is resolved afterwards.
fn checked_target(target: &pb::Target) -> Result<Target> {
    let mut violations = Violations::new();
    if !is_valid_year(target.year) {
        violations.add("target.year", year_range());
    }
    let figure = Figure::try_from(target.figure).ok().and_then(figures::name);
    if figure.is_none() {
        violations.add("target.figure", "is required, e.g. FIGURE_TOTAL_CAPITAL");
    }
    let scope = match Scope::try_from(target.scope) {
        Ok(Scope::Unspecified) => DomainScope::Fdi.as_str(),
        Ok(scope) => figures::scope_name(scope),
        Err(_) => {
            violations.add("target.scope", "is not a scope");
            DomainScope::Fdi.as_str()
        }
    };
    let money_figure = Figure::try_from(target.figure).is_ok_and(figures::is_money);
    let amount = target.amount.as_ref().and_then(from_money);
    let currency = target
        .amount
        .as_ref()
        .map(|m| m.currency_code.trim().to_ascii_uppercase());
    if money_figure {
        if amount.is_none_or(|a| a <= Decimal::ZERO) {
            violations.add("target.amount", "is required for a money figure and must be positive");
        }
        if !currency.as_deref().is_some_and(is_currency_code) {
            violations.add("target.amount.currency_code", "must be an ISO 4217 code");
        }
        if target.count != 0 {
            violations.add("target.count", "must be empty for a money figure");
        }
    } else if figure.is_some() {
        if target.count <= 0 {
            violations.add("target.count", "is required for a count figure and must be positive");
        }
        if target.amount.is_some() {
            violations.add("target.amount", "must be empty for a count figure");
        }
    }
    check_text(
        &mut violations,
        "target.source",
        &target.source,
        MAX_SOURCE_CHARS,
        false,
    );
    check_text(
        &mut violations,
        "target.province",
        &target.province,
        MAX_NAME_CHARS,
        true,
    );
    violations.into_result()?;
    Ok(Target {
        province_code: String::new(),
        year: target.year,
        figure: figure.unwrap_or_default().to_owned(),
        scope: scope.to_owned(),
        amount: if money_figure { amount } else { None },
        currency: if money_figure { currency } else { None },
        count: if money_figure { None } else { Some(target.count) },
        source: target.source.trim().to_owned(),
        creator: String::new(),
    })
}

pub(super) async fn list(pipeline: &Pipeline, request: pb::ListTargetsRequest) -> Result<pb::ListTargetsResponse> {
    let paging = PAGE_LIMITS.check(request.page_size, &request.page_token)?;
    let province = if request.province.trim().is_empty() {
        None
    } else {
        Some(province(pipeline, &request.province, "province").await?.0)
    };
    if request.year != 0 && !is_valid_year(request.year) {
        return Err(invalid_argument("year", year_range()).into());
    }
    let year = (request.year != 0).then_some(request.year);
    let page = paging.for_query(&["targets", province.as_deref().unwrap_or(""), &request.year.to_string()])?;
    let after = page.after.as_deref().unwrap_or_default();
    let targets = pipeline
        .store
        .targets(province.as_deref(), year, after, page.fetch_limit())
        .await?;
    let (targets, next_page_token) = page.finish(targets, Target::key);
    Ok(pb::ListTargetsResponse {
        targets: targets.iter().map(pb::Target::from).collect(),
        next_page_token,
    })
}
