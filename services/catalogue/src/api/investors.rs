//! Investors: legal names, aliases, home countries.

use fdi_kit::{
    country::is_country_code,
    names::fold,
    paging::{PageToken, fingerprint, page_size},
    status::{Violations, check_text},
    telemetry::db_span,
};
use fdi_proto::catalogue as pb;
use sqlx::PgPool;
use tracing::Instrument;

use super::{MAX_NAME_CHARS, resource_id};
use crate::{
    error::{Result, already_exists},
    model::InvestorRecord,
    resolver::investor_key,
    state::Catalogue,
};

const MAX_ALIASES: usize = 50;
const COLUMNS: &str = "i.id, i.display_name, i.aliases, i.country_code, i.create_time";

/// The investor known by this match key (legal name or alias), if any.
///
/// # Errors
/// When the database fails.
pub async fn find_investor_by_key(pool: &PgPool, key: &str) -> Result<Option<InvestorRecord>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM investor_keys k JOIN investors i ON i.id = k.investor_id WHERE k.match_key = $1"
    ))
    .bind(key)
    .fetch_optional(pool)
    .instrument(db_span("SELECT", "investor_keys"))
    .await?)
}

/// Investors whose names are near `key` (trigram similarity), best first.
///
/// # Errors
/// When the database fails.
pub async fn investor_suggestions(pool: &PgPool, key: &str, limit: usize) -> Result<Vec<(InvestorRecord, f64)>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        investor: InvestorRecord,
        score: f32,
    }
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT DISTINCT ON (i.id) {COLUMNS}, similarity(k.match_key, $1) AS score
         FROM investor_keys k JOIN investors i ON i.id = k.investor_id
         WHERE k.match_key % $1
         ORDER BY i.id, score DESC"
    ))
    .bind(key)
    .fetch_all(pool)
    .instrument(db_span("SELECT", "investor_keys"))
    .await?;
    let mut scored: Vec<(InvestorRecord, f64)> = rows.into_iter().map(|r| (r.investor, f64::from(r.score))).collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1));
    scored.truncate(limit);
    Ok(scored)
}

fn parse_id(name: &str) -> Result<Option<i64>> {
    let id = resource_id(name, "investors", "name")?;
    Ok(id.parse::<i64>().ok().filter(|id| *id > 0))
}

pub(super) async fn get(state: &Catalogue, request: &pb::GetInvestorRequest) -> Result<pb::Investor> {
    let id = parse_id(&request.name)?;
    let found: Option<InvestorRecord> = match id {
        Some(id) => {
            sqlx::query_as(&format!("SELECT {COLUMNS} FROM investors i WHERE i.id = $1"))
                .bind(id)
                .fetch_optional(&state.pool)
                .instrument(db_span("SELECT", "investors"))
                .await?
        }
        None => None,
    };
    match found {
        Some(investor) => Ok(investor.to_proto()),
        None => Err(fdi_kit::status::not_found("investor", request.name.trim(), &[]).into()),
    }
}

pub(super) async fn list(state: &Catalogue, request: &pb::ListInvestorsRequest) -> Result<pb::ListInvestorsResponse> {
    let size = page_size(request.page_size, 50, 500)?;
    let mut violations = Violations::new();
    let country = request.country_code.trim().to_ascii_uppercase();
    if !country.is_empty() && !is_country_code(&country) {
        violations.add(
            "country_code",
            format!(
                "`{}` is not an ISO 3166-1 alpha-2 code such as SG or KR",
                request.country_code.trim()
            ),
        );
    }
    check_text(
        &mut violations,
        "name_prefix",
        &request.name_prefix,
        MAX_NAME_CHARS,
        false,
    );
    violations.into_result()?;
    let prefix = fold(&request.name_prefix);
    let query = fingerprint(&["investors", &country, &prefix]);
    let after: Option<i64> = match PageToken::decode(&request.page_token, query)? {
        Some(token) => Some(
            token
                .after
                .parse()
                .map_err(|_| fdi_kit::status::invalid_argument("page_token", "is corrupt"))?,
        ),
        None => None,
    };
    let like = format!(
        "{}%",
        prefix.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
    );
    let mut investors: Vec<InvestorRecord> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM investors i
         WHERE ($1 = '' OR i.country_code = $1) AND ($2 = '%' OR i.match_key LIKE $2)
           AND ($3::bigint IS NULL OR i.id > $3)
         ORDER BY i.id LIMIT $4"
    ))
    .bind(&country)
    .bind(&like)
    .bind(after)
    .bind(i64::try_from(size + 1).unwrap_or(i64::MAX))
    .fetch_all(&state.pool)
    .instrument(db_span("SELECT", "investors"))
    .await?;
    let next_page_token = if investors.len() > size {
        investors.truncate(size);
        PageToken::encode(&investors[size - 1].id.to_string(), query)
    } else {
        String::new()
    };
    Ok(pb::ListInvestorsResponse {
        investors: investors.iter().map(InvestorRecord::to_proto).collect(),
        next_page_token,
    })
}

pub(super) async fn create(state: &Catalogue, request: pb::CreateInvestorRequest) -> Result<pb::Investor> {
    let Some(investor) = request.investor else {
        return Err(fdi_kit::status::invalid_argument("investor", "is required").into());
    };
    let mut violations = Violations::new();
    check_text(
        &mut violations,
        "investor.display_name",
        &investor.display_name,
        MAX_NAME_CHARS,
        true,
    );
    let country = investor.country_code.trim().to_ascii_uppercase();
    if !country.is_empty() && !is_country_code(&country) {
        violations.add(
            "investor.country_code",
            format!(
                "`{}` is not an ISO 3166-1 alpha-2 code such as SG or KR",
                investor.country_code.trim()
            ),
        );
    }
    if investor.aliases.len() > MAX_ALIASES {
        violations.add(
            "investor.aliases",
            format!("has {} entries; at most {MAX_ALIASES}", investor.aliases.len()),
        );
    }
    for (i, alias) in investor.aliases.iter().enumerate() {
        check_text(
            &mut violations,
            &format!("investor.aliases[{i}]"),
            alias,
            MAX_NAME_CHARS,
            true,
        );
    }
    let key = investor_key(&investor.display_name);
    if key.is_empty() && violations.is_empty() {
        violations.add("investor.display_name", "has no letters or digits");
    }
    violations.into_result()?;

    if let Some(existing) = find_investor_by_key(&state.pool, &key).await? {
        return Err(already_exists(
            "an investor with this name",
            &format!("investors/{}", existing.id),
        ));
    }
    let mut tx = state.pool.begin().await?;
    let inserted = sqlx::query_as::<_, InvestorRecord>(
        "INSERT INTO investors AS i (display_name, match_key, aliases, country_code) VALUES ($1, $2, $3, $4)
         RETURNING i.id, i.display_name, i.aliases, i.country_code, i.create_time",
    )
    .bind(investor.display_name.trim())
    .bind(&key)
    .bind(&investor.aliases)
    .bind(&country)
    .fetch_one(&mut *tx)
    .instrument(db_span("INSERT", "investors"))
    .await;
    let record = match inserted {
        Ok(record) => record,
        Err(error) if fdi_kit::db::is_unique_violation(&error) => {
            // Another call created it first.
            drop(tx);
            let existing = find_investor_by_key(&state.pool, &key).await?;
            let name = existing.map_or_else(|| "another investor".to_owned(), |e| format!("investors/{}", e.id));
            return Err(already_exists("an investor with this name", &name));
        }
        Err(error) => return Err(error.into()),
    };
    // Aliases already taken by another investor stay with it.
    let keys: Vec<String> = std::iter::once(key)
        .chain(investor.aliases.iter().map(|a| investor_key(a)))
        .filter(|k| !k.is_empty())
        .collect();
    sqlx::query("INSERT INTO investor_keys (match_key, investor_id) SELECT k, $2 FROM unnest($1::text[]) AS k ON CONFLICT DO NOTHING")
        .bind(&keys)
        .bind(record.id)
        .execute(&mut *tx)
        .instrument(db_span("INSERT", "investor_keys"))
        .await?;
    tx.commit().await?;
    Ok(record.to_proto())
}

/// Names per EnsureInvestors call.
const MAX_ENSURE: usize = 1000;

pub(super) async fn ensure(
    state: &Catalogue,
    request: &pb::EnsureInvestorsRequest,
) -> Result<pb::EnsureInvestorsResponse> {
    if request.investors.len() > MAX_ENSURE {
        return Err(fdi_kit::status::invalid_argument(
            "investors",
            format!("has {} entries; at most {MAX_ENSURE} per call", request.investors.len()),
        )
        .into());
    }
    let mut violations = Violations::new();
    let mut names = Vec::with_capacity(request.investors.len());
    let mut keys = Vec::with_capacity(request.investors.len());
    let mut countries = Vec::with_capacity(request.investors.len());
    for (i, investor) in request.investors.iter().enumerate() {
        let field = format!("investors[{i}].display_name");
        check_text(&mut violations, &field, &investor.display_name, MAX_NAME_CHARS, true);
        let key = investor_key(&investor.display_name);
        if key.is_empty() && !investor.display_name.trim().is_empty() {
            violations.add(field, "has no letters or digits");
        }
        let country = investor.country_code.trim().to_ascii_uppercase();
        if !country.is_empty() && !is_country_code(&country) {
            violations.add(
                format!("investors[{i}].country_code"),
                "is not an ISO 3166-1 alpha-2 code",
            );
        }
        names.push(investor.display_name.trim().to_owned());
        keys.push(key);
        countries.push(country);
    }
    violations.into_result()?;

    let mut tx = state.pool.begin().await?;
    // New names become investors (the first spelling of a name wins), and their names become keys.
    let created: Vec<(i64, String)> = sqlx::query_as(
        "INSERT INTO investors (display_name, match_key, country_code)
         SELECT DISTINCT ON (k) n, k, c FROM unnest($1::text[], $2::text[], $3::text[]) AS t(n, k, c)
         WHERE NOT EXISTS (SELECT 1 FROM investor_keys WHERE match_key = t.k)
         ON CONFLICT (match_key) DO NOTHING
         RETURNING id, match_key",
    )
    .bind(&names)
    .bind(&keys)
    .bind(&countries)
    .fetch_all(&mut *tx)
    .instrument(db_span("INSERT", "investors"))
    .await?;
    let (ids, created_keys): (Vec<i64>, Vec<String>) = created.into_iter().unzip();
    sqlx::query(
        "INSERT INTO investor_keys (match_key, investor_id) SELECT * FROM unnest($1::text[], $2::bigint[])
         ON CONFLICT DO NOTHING",
    )
    .bind(&created_keys)
    .bind(&ids)
    .execute(&mut *tx)
    .instrument(db_span("INSERT", "investor_keys"))
    .await?;
    #[derive(sqlx::FromRow)]
    struct Keyed {
        match_key: String,
        #[sqlx(flatten)]
        investor: InvestorRecord,
    }
    let known: Vec<Keyed> = sqlx::query_as(&format!(
        "SELECT k.match_key, {COLUMNS} FROM investor_keys k JOIN investors i ON i.id = k.investor_id
         WHERE k.match_key = ANY($1)"
    ))
    .bind(&keys)
    .fetch_all(&mut *tx)
    .instrument(db_span("SELECT", "investor_keys"))
    .await?;
    tx.commit().instrument(db_span("COMMIT", "investors")).await?;
    let by_key: std::collections::HashMap<&str, &InvestorRecord> =
        known.iter().map(|k| (k.match_key.as_str(), &k.investor)).collect();
    let investors = keys
        .iter()
        .map(|key| {
            by_key.get(key.as_str()).map(|i| i.to_proto()).ok_or_else(|| {
                crate::error::Error::Rejected(tonic::Status::aborted("an investor changed during the call; retry"))
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(pb::EnsureInvestorsResponse {
        investors,
        created: i32::try_from(ids.len()).unwrap_or(i32::MAX),
    })
}
