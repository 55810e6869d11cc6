//! Investors and the keys (folded legal names and aliases) they are known by.

use std::collections::HashMap;

use fdi_kit::telemetry::db_span;
use tracing::Instrument;

use super::{Resource, Store, StoreError, StoreResult};
use crate::model::{InvestorRecord, NewInvestor};

/// The columns of [`InvestorRecord`] of `investors AS i`, in order.
const COLUMNS: &str = "i.id, i.display_name, i.aliases, i.country_code, i.create_time, i.creator";

/// Which investors a list shows; empty restricts nothing.
#[derive(Debug, Clone, Default)]
pub struct InvestorFilter {
    /// ISO-2 home country, upper case.
    pub country_code: String,
    /// Start of the folded legal name.
    pub name_prefix: String,
}

/// What EnsureInvestors found or created.
#[derive(Debug, Clone)]
pub struct Ensured {
    /// The investor of each name asked for, in order; `None` when it changed during the call.
    pub investors: Vec<Option<InvestorRecord>>,
    /// How many investors were created.
    pub created: usize,
}

impl Store {
    /// The investor with this id, if any.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn investor(&self, id: i64) -> StoreResult<Option<InvestorRecord>> {
        Ok(
            sqlx::query_as(&format!("SELECT {COLUMNS} FROM investors i WHERE i.id = $1"))
                .bind(id)
                .fetch_optional(&self.pool)
                .instrument(db_span("SELECT", "investors"))
                .await?,
        )
    }

    /// The investor known by this match key (legal name or alias), if any.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn investor_by_key(&self, key: &str) -> StoreResult<Option<InvestorRecord>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM investor_keys k JOIN investors i ON i.id = k.investor_id WHERE k.match_key = $1"
        ))
        .bind(key)
        .fetch_optional(&self.pool)
        .instrument(db_span("SELECT", "investor_keys"))
        .await?)
    }

    /// At most `limit` investors whose names are near `key` (trigram similarity), best first.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn investor_suggestions(&self, key: &str, limit: usize) -> StoreResult<Vec<(InvestorRecord, f64)>> {
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
        .fetch_all(&self.pool)
        .instrument(db_span("SELECT", "investor_keys"))
        .await?;
        let mut scored: Vec<(InvestorRecord, f64)> =
            rows.into_iter().map(|r| (r.investor, f64::from(r.score))).collect();
        scored.sort_by(|a, b| b.1.total_cmp(&a.1));
        scored.truncate(limit);
        Ok(scored)
    }

    /// Up to `limit` investors matching `filter` with ids after `after`, by id.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn list_investors(
        &self,
        filter: &InvestorFilter,
        after: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<InvestorRecord>> {
        let like = format!(
            "{}%",
            filter
                .name_prefix
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        Ok(sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM investors i
             WHERE ($1 = '' OR i.country_code = $1) AND ($2 = '%' OR i.match_key LIKE $2)
               AND ($3::bigint IS NULL OR i.id > $3)
             ORDER BY i.id LIMIT $4"
        ))
        .bind(&filter.country_code)
        .bind(&like)
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .instrument(db_span("SELECT", "investors"))
        .await?)
    }

    /// Creates an investor known by its legal name and aliases (an alias
    /// another investor is known by stays with that one), for the key `creator`.
    ///
    /// # Errors
    /// [`StoreError::UniqueViolation`] when an investor is known by the legal
    /// name; else when the database fails.
    pub async fn create_investor(&self, investor: &NewInvestor, creator: &str) -> StoreResult<InvestorRecord> {
        if let Some(existing) = self.investor_by_key(&investor.match_key).await? {
            return Err(investor_exists(Some(existing)));
        }
        let mut tx = self.pool.begin().await?;
        let inserted = sqlx::query_as::<_, InvestorRecord>(&format!(
            "INSERT INTO investors AS i (display_name, match_key, aliases, country_code, creator)
             VALUES ($1, $2, $3, $4, $5)
             RETURNING {COLUMNS}"
        ))
        .bind(&investor.display_name)
        .bind(&investor.match_key)
        .bind(&investor.aliases)
        .bind(&investor.country_code)
        .bind(creator)
        .fetch_one(&mut *tx)
        .instrument(db_span("INSERT", "investors"))
        .await;
        let record = match inserted {
            Ok(record) => record,
            Err(error) if fdi_kit::db::is_unique_violation(&error) => {
                // Another call created it first.
                drop(tx);
                return Err(investor_exists(self.investor_by_key(&investor.match_key).await?));
            }
            Err(error) => return Err(error.into()),
        };
        sqlx::query(
            "INSERT INTO investor_keys (match_key, investor_id) SELECT k, $2 FROM unnest($1::text[]) AS k
             ON CONFLICT DO NOTHING",
        )
        .bind(investor.keys())
        .bind(record.id)
        .execute(&mut *tx)
        .instrument(db_span("INSERT", "investor_keys"))
        .await?;
        tx.commit().await?;
        Ok(record)
    }

    /// The investor of each legal name in `wanted`, creating those not known
    /// yet (the first spelling of a name wins) for the key `creator`; aliases
    /// are not used.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn ensure_investors(&self, wanted: &[NewInvestor], creator: &str) -> StoreResult<Ensured> {
        let keys: Vec<&str> = wanted.iter().map(|w| w.match_key.as_str()).collect();
        let mut tx = self.pool.begin().await?;
        // New names become investors, and their names become keys.
        let created: Vec<(i64, String)> = sqlx::query_as(
            "INSERT INTO investors (display_name, match_key, country_code, creator)
             SELECT DISTINCT ON (k) n, k, c, $4::text FROM unnest($1::text[], $2::text[], $3::text[]) AS t(n, k, c)
             WHERE NOT EXISTS (SELECT 1 FROM investor_keys WHERE match_key = t.k)
             ON CONFLICT (match_key) DO NOTHING
             RETURNING id, match_key",
        )
        .bind(wanted.iter().map(|w| w.display_name.as_str()).collect::<Vec<_>>())
        .bind(&keys)
        .bind(wanted.iter().map(|w| w.country_code.as_str()).collect::<Vec<_>>())
        .bind(creator)
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
        let by_key: HashMap<&str, &InvestorRecord> =
            known.iter().map(|k| (k.match_key.as_str(), &k.investor)).collect();
        Ok(Ensured {
            investors: keys.iter().map(|key| by_key.get(key).map(|&i| i.clone())).collect(),
            created: ids.len(),
        })
    }
}

/// The unique violation of an investor's legal name, naming the holder when known.
fn investor_exists(existing: Option<InvestorRecord>) -> StoreError {
    StoreError::UniqueViolation {
        resource: Resource::Investor,
        existing: existing.map(|e| e.id.to_string()),
    }
}
