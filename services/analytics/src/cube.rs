//! The monthly rollups held in memory, so whole-month questions (the news
//! asks in months, quarters, halves and years) are answered without a round
//! trip to PostgreSQL.
//!
//! The `rollup` table stays the durable store; the cube mirrors its monthly
//! rows of the province, zone, home-country and sector projections (the
//! investor projection has nearly a row per event, so it stays in SQL), and
//! the `repeats` table. It is loaded from one snapshot that also reads the
//! cursor, then kept current by the consumer's follower on every replica,
//! which folds into it the same events the leader folded into SQL. A batch
//! that does not start where the cube ends invalidates it, as does a rebuild
//! of the rollups; queries then go to SQL until the follower has reloaded
//! it. Sums are exact decimals, as in SQL, so both paths give identical answers.

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    sync::{
        RwLock,
        atomic::{AtomicU64, Ordering},
    },
};

use chrono::{Datelike, NaiveDate};
use fdi_kit::domain::EventStatus;
use rust_decimal::Decimal;
use sqlx::PgPool;

use crate::{
    fold::FoldEvent,
    query::{Filter, GroupBy, Grouped, KindSums, Windows},
    store::{self, StoreError, batches::RepeatRow, snapshot::MonthlyRow},
};

/// Cubes loaded by this process (for operators and the benchmark).
static LOADS: AtomicU64 = AtomicU64::new(0);

/// How many times a cube was loaded in this process.
#[must_use]
pub fn loads() -> u64 {
    LOADS.load(Ordering::Relaxed)
}

/// An interned string.
type Sym = u32;

/// Projections the cube keeps (the investor projection stays in SQL).
const PROJECTIONS: [&str; 4] = ["province", "zone", "country", "sector"];

fn projection_index(name: &str) -> Option<u8> {
    PROJECTIONS
        .iter()
        .position(|p| *p == name)
        .and_then(|i| u8::try_from(i).ok())
}

/// Strings (codes, ids, kinds) as small integers.
#[derive(Debug, Default)]
struct Symbols {
    ids: HashMap<String, Sym>,
    names: Vec<String>,
}

impl Symbols {
    fn intern(&mut self, text: &str) -> Sym {
        if let Some(sym) = self.ids.get(text) {
            return *sym;
        }
        let sym = Sym::try_from(self.names.len()).unwrap_or(Sym::MAX);
        self.names.push(text.to_owned());
        self.ids.insert(text.to_owned(), sym);
        sym
    }

    fn get(&self, text: &str) -> Option<Sym> {
        self.ids.get(text).copied()
    }

    fn name(&self, sym: Sym) -> &str {
        self.names.get(sym as usize).map_or("", String::as_str)
    }
}

/// The key of one rollup row within a projection and month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct CellKey {
    kind: Sym,
    scope: Sym,
    status: Sym,
    current_province: Sym,
    province: Sym,
    /// The projection's own dimension (zone, country, sector; "" for provinces).
    dimension: Sym,
    currency: Sym,
}

#[derive(Debug, Clone, Default)]
struct CellSums {
    events: i64,
    amount: Decimal,
    usd: Decimal,
    vnd: Decimal,
}

#[derive(Debug, Default)]
struct Loaded {
    /// The cursor the cube reflects.
    sequence: i64,
    symbols: Symbols,
    cells: BTreeMap<(u8, NaiveDate), HashMap<CellKey, CellSums>>,
    repeats: Vec<RepeatRow>,
}

impl Loaded {
    fn add(&mut self, projection: u8, month: NaiveDate, key: CellKey, sums: &CellSums) {
        let cell = self
            .cells
            .entry((projection, month))
            .or_default()
            .entry(key)
            .or_default();
        cell.events += sums.events;
        cell.amount += sums.amount;
        cell.usd += sums.usd;
        cell.vnd += sums.vnd;
    }

    /// Adds one monthly rollup row of a projection the cube keeps.
    fn add_row(&mut self, row: &MonthlyRow) {
        let Some(projection) = projection_index(&row.projection) else {
            return;
        };
        let key = CellKey {
            kind: self.symbols.intern(&row.kind),
            scope: self.symbols.intern(&row.scope),
            status: self.symbols.intern(&row.status),
            current_province: self.symbols.intern(&row.current_province),
            province: self.symbols.intern(&row.province),
            dimension: self.symbols.intern(&row.dimension),
            currency: self.symbols.intern(&row.currency),
        };
        let sums = CellSums {
            events: row.events,
            amount: row.amount,
            usd: row.amount_usd,
            vnd: row.amount_vnd,
        };
        self.add(projection, row.period, key, &sums);
    }

    /// Folds one event into every projection, keeping the dimensions each
    /// projection keeps (as the leader's appends do).
    fn fold(&mut self, row: &FoldEvent) {
        let month = row.event_date.with_day(1).unwrap_or(row.event_date);
        let empty = self.symbols.intern("");
        let kind = self.symbols.intern(&row.kind);
        let scope = self.symbols.intern(&row.scope);
        let status = self.symbols.intern(&row.status);
        let current_province = self.symbols.intern(&row.current_province);
        let province = self.symbols.intern(&row.province);
        let currency = self.symbols.intern(&row.currency);
        let sums = CellSums {
            events: 1,
            amount: row.amount,
            usd: row.amount_usd,
            vnd: row.amount_vnd,
        };
        let base = CellKey {
            kind,
            scope,
            status,
            current_province,
            province,
            dimension: empty,
            currency,
        };
        self.add(0, month, base, &sums);
        let zone = self.symbols.intern(&row.zone);
        self.add(
            1,
            month,
            CellKey {
                province: empty,
                dimension: zone,
                ..base
            },
            &sums,
        );
        let country = self.symbols.intern(&row.country);
        self.add(
            2,
            month,
            CellKey {
                province: empty,
                dimension: country,
                ..base
            },
            &sums,
        );
        let sector = self.symbols.intern(&row.sector);
        self.add(
            3,
            month,
            CellKey {
                province: empty,
                dimension: sector,
                ..base
            },
            &sums,
        );
    }
}

/// Resolves a filter's strings to symbols; `None` when the filter can match nothing.
struct SymFilter {
    scope: Option<Sym>,
    /// The one status that counts, unless estimates count too.
    status: Option<Sym>,
    current_provinces: Option<HashSet<Sym>>,
    provinces: Option<HashSet<Sym>>,
    zones: Option<HashSet<Sym>>,
}

impl SymFilter {
    fn of(filter: &Filter, symbols: &Symbols) -> Option<Self> {
        let set = |values: &[String]| -> Option<Option<HashSet<Sym>>> {
            if values.is_empty() {
                return Some(None);
            }
            let known: HashSet<Sym> = values.iter().filter_map(|v| symbols.get(v)).collect();
            (!known.is_empty()).then_some(Some(known))
        };
        Some(Self {
            scope: match filter.scope {
                Some(scope) => Some(symbols.get(scope)?),
                None => None,
            },
            status: if filter.include_estimates {
                None
            } else {
                Some(symbols.get(EventStatus::Reported.as_str())?)
            },
            current_provinces: set(&filter.current_provinces)?,
            provinces: set(&filter.recorded_provinces)?,
            zones: set(&filter.zones)?,
        })
    }

    fn admits(&self, key: &CellKey, zone: Sym) -> bool {
        let CellKey {
            scope,
            status,
            current_province,
            province,
            ..
        } = *key;
        self.scope.is_none_or(|s| s == scope)
            && self.status.is_none_or(|s| s == status)
            && self
                .current_provinces
                .as_ref()
                .is_none_or(|set| set.contains(&current_province))
            && self.provinces.as_ref().is_none_or(|set| set.contains(&province))
            && self.zones.as_ref().is_none_or(|set| set.contains(&zone))
    }
}

/// The monthly rollups in memory; empty until loaded, and after an invalidation.
#[derive(Debug, Default)]
pub struct Cube {
    loaded: RwLock<Option<Loaded>>,
}

impl Cube {
    /// An empty cube (queries go to SQL until [`Cube::load`]).
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the cube can answer queries.
    #[must_use]
    pub fn is_loaded(&self) -> bool {
        self.sequence().is_some()
    }

    /// The cursor the cube reflects, when loaded.
    #[must_use]
    pub fn sequence(&self) -> Option<i64> {
        self.loaded.read().ok()?.as_ref().map(|loaded| loaded.sequence)
    }

    /// Drops the contents; queries go to SQL until the next load.
    pub fn invalidate(&self) {
        if let Ok(mut loaded) = self.loaded.write() {
            *loaded = None;
        }
    }

    /// Loads the monthly rollups, the repeats and the cursor from one snapshot.
    ///
    /// # Errors
    /// When the database fails (the cube stays empty then).
    pub async fn load(&self, pool: &PgPool) -> Result<i64, StoreError> {
        let mut loaded = Loaded::default();
        let snapshot = store::snapshot::load(pool, &PROJECTIONS, |row| loaded.add_row(&row)).await?;
        loaded.sequence = snapshot.sequence;
        loaded.repeats = snapshot.repeats;
        if let Ok(mut slot) = self.loaded.write() {
            *slot = Some(loaded);
        }
        LOADS.fetch_add(1, Ordering::Relaxed);
        Ok(snapshot.sequence)
    }

    /// Folds the events the rollups gained when their cursor moved from
    /// `from` to `to`. A batch that does not continue the cube invalidates it.
    pub fn apply(&self, from: i64, to: i64, rows: &[FoldEvent], repeats: Vec<RepeatRow>) {
        let Ok(mut slot) = self.loaded.write() else {
            return;
        };
        let Some(loaded) = slot.as_mut() else {
            return;
        };
        if loaded.sequence != from {
            tracing::warn!(
                cube = loaded.sequence,
                from,
                "a batch that does not continue the cube; reloading it"
            );
            *slot = None;
            return;
        }
        for row in rows {
            loaded.fold(row);
        }
        loaded.repeats.extend(repeats);
        loaded.sequence = to;
    }

    /// The sums [`crate::query::sums`] would return, and the cursor they
    /// reflect, when the cube can answer: loaded, a projection it keeps, and
    /// whole months.
    #[must_use]
    pub fn sums(&self, group: GroupBy, span: fdi_kit::period::Span, filter: &Filter) -> Option<(Grouped, i64)> {
        let windows = Windows::of(span);
        if !windows.whole_months() {
            return None;
        }
        let projection = projection_index(group.projection())?;
        let (first, last) = windows.months?;
        let guard = self.loaded.read().ok()?;
        let loaded = guard.as_ref()?;
        let Some(admit) = SymFilter::of(filter, &loaded.symbols) else {
            return Some((Grouped::new(), loaded.sequence));
        };

        // Sums by (group, kind), then currency.
        #[derive(Default)]
        struct Acc {
            events: i64,
            usd: Decimal,
            vnd: Decimal,
            by_currency: Vec<(Sym, Decimal)>,
        }
        let mut accumulated: HashMap<(GroupKey, Sym), Acc> = HashMap::new();
        // The zone projection keeps zones in its own dimension; the others keep none ("").
        let no_zone = loaded.symbols.get("").unwrap_or(Sym::MAX);
        for ((_, month), cells) in loaded.cells.range((projection, first)..=(projection, last)) {
            for (key, sums) in cells {
                let zone = if projection == 1 { key.dimension } else { no_zone };
                if !admit.admits(key, zone) {
                    continue;
                }
                let group_key = match group {
                    GroupBy::Nothing => GroupKey::Nothing,
                    GroupBy::CurrentProvince => GroupKey::Sym(key.current_province),
                    GroupBy::RecordedProvince => GroupKey::Sym(key.province),
                    GroupBy::Zone | GroupBy::Country | GroupBy::Sector => GroupKey::Sym(key.dimension),
                    GroupBy::Kind => GroupKey::Sym(key.kind),
                    GroupBy::Month | GroupBy::Quarter | GroupBy::Year => {
                        GroupKey::Bucket(group.bucket_start(*month).unwrap_or(*month))
                    }
                    GroupBy::Investor => return None,
                };
                let acc = accumulated.entry((group_key, key.kind)).or_default();
                acc.events += sums.events;
                acc.usd += sums.usd;
                acc.vnd += sums.vnd;
                match acc.by_currency.iter_mut().find(|(c, _)| *c == key.currency) {
                    Some((_, amount)) => *amount += sums.amount,
                    None => acc.by_currency.push((key.currency, sums.amount)),
                }
            }
        }
        let name = |key: GroupKey| match key {
            GroupKey::Nothing => String::new(),
            GroupKey::Sym(sym) => loaded.symbols.name(sym).to_owned(),
            GroupKey::Bucket(start) => group.bucket_label(start),
        };
        let mut grouped = Grouped::new();
        for ((group_key, kind), acc) in accumulated {
            let sums = grouped
                .entry(name(group_key))
                .or_default()
                .entry(loaded.symbols.name(kind).to_owned())
                .or_default();
            sums.events += acc.events;
            sums.usd += acc.usd;
            sums.vnd += acc.vnd;
            for (currency, amount) in acc.by_currency {
                let code = loaded.symbols.name(currency);
                if !code.is_empty() {
                    *sums.by_currency.entry(code.to_owned()).or_default() += amount;
                }
            }
        }
        add_repeats(&mut grouped, &loaded.repeats, group, span, filter);
        Some((grouped, loaded.sequence))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum GroupKey {
    Nothing,
    Sym(Sym),
    /// A calendar bucket, by its first day.
    Bucket(NaiveDate),
}

/// Subtracts repeated projects, as the SQL path does: events of one project
/// beyond the first in a group and kind.
fn add_repeats(
    grouped: &mut Grouped,
    repeats: &[RepeatRow],
    group: GroupBy,
    span: fdi_kit::period::Span,
    filter: &Filter,
) {
    if repeats.is_empty() {
        return;
    }
    let admits = |values: &[String], value: &str| values.is_empty() || values.iter().any(|v| v == value);
    let mut counts: HashMap<(String, &str, &str), i64> = HashMap::new();
    for row in repeats {
        if row.event_date < span.start
            || row.event_date > span.end
            || filter.scope.is_some_and(|scope| scope != row.scope)
            || !filter.admits_status(&row.status)
            || !admits(&filter.current_provinces, &row.current_province)
            || !admits(&filter.recorded_provinces, &row.province)
            || !admits(&filter.zones, &row.zone)
        {
            continue;
        }
        let group_key = match group {
            GroupBy::Nothing => String::new(),
            GroupBy::CurrentProvince => row.current_province.clone(),
            GroupBy::RecordedProvince => row.province.clone(),
            GroupBy::Zone => row.zone.clone(),
            GroupBy::Country => row.country.clone(),
            GroupBy::Sector => row.sector.clone(),
            GroupBy::Kind => row.kind.clone(),
            GroupBy::Month | GroupBy::Quarter | GroupBy::Year => {
                group.bucket_label(group.bucket_start(row.event_date).unwrap_or(row.event_date))
            }
            GroupBy::Investor => return,
        };
        *counts.entry((group_key, &row.kind, &row.project_ref)).or_default() += 1;
    }
    for ((group_key, kind, _), n) in counts {
        if n > 1 {
            let sums: &mut KindSums = grouped
                .entry(group_key)
                .or_default()
                .entry(kind.to_owned())
                .or_default();
            sums.repeats += n - 1;
        }
    }
}
