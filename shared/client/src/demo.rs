//! A synthetic register of investment events for demos and benchmarks: realistic in shape (real provinces in
//! several spellings, seed zones, FDI source countries, kinds, growth over the years, log-normal amounts), but
//! every row is plainly marked as invented: `source` is [`SYNTHETIC_SOURCE`], project refs are `SYN-…`,
//! idempotency keys `syn-{seed}-{events}-{row}`, and every investor name contains "Synthetic" or "Demo".
//!
//! The same [`DemoConfig`] always yields the same rows: the generator draws from ChaCha8 (a PRNG with a fixed,
//! portable output) and uses no hashing, clock or mutable global state, except that `end_date` is capped at
//! today.
//!
//! Provinces (names, 2025 merger lineage), province aliases and seed zones are read from the reference data of
//! the repository's `data/` (embedded at build time, parsed once), the files the catalogue seeds itself from;
//! only the demo's own shapes (province weights, zone opening years, countries, sectors, names) are tables here.
//!
//! Memory is constant by construction, whatever the number of events: rows are produced one at a time by an
//! iterator; investor names are computed from an (country, index) pair instead of being kept in a pool; and
//! follow-up events (adjustments, disbursements, terminations) pick their project from a fixed-capacity
//! reservoir of [`PROJECT_RESERVOIR_CAPACITY`] earlier projects.

use std::sync::LazyLock;

use chrono::{Datelike, NaiveDate};
use fdi_kit::domain::{EventKind, MERGER_DATE, Scope, VIETNAM, today_in_vietnam};
use fdi_proto::ingest::EventInput;
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};

/// The `source` of every synthetic row.
pub const SYNTHETIC_SOURCE: &str = "synthetic:fdi-demo-data";

/// How many earlier projects follow-up events can refer to. Reservoir sampling keeps a uniform sample of all
/// projects so far, so follow-ups reach back over the whole period with constant memory (about 200 KiB).
pub const PROJECT_RESERVOIR_CAPACITY: usize = 4096;

/// The largest investor pool (distinct investor names), so that investors recur across events.
pub const MAX_INVESTORS: u64 = 50_000;

/// The last date of the default register.
pub const DEFAULT_END_DATE: NaiveDate = match NaiveDate::from_ymd_opt(2025, 10, 31) {
    Some(date) => date,
    None => panic!("2025-10-31 is a date"),
};

/// Yearly growth of the number of events (registered FDI projects grew roughly this fast over the decade).
const YEARLY_GROWTH: f64 = 1.08;

/// Share of new projects that are domestic: with share purchases always foreign, about a quarter of all rows.
const DOMESTIC_SHARE_OF_NEW_PROJECTS: f64 = 0.29;

/// Share of new projects placed in a seed zone, where their province has one.
const ZONE_SHARE: f64 = 0.30;

/// No amount exceeds this (the server's bound is 10^15 whole units).
const MAX_AMOUNT: f64 = 9.0e14;

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoConfig {
    /// Number of rows.
    pub events: u64,
    /// The seed: the same seed gives the same rows.
    pub seed: u64,
    /// First year of the register (from 1 January).
    pub start_year: i32,
    /// Last date of the register; capped at today, so no event lies in the future.
    pub end_date: NaiveDate,
}

impl Default for DemoConfig {
    fn default() -> Self {
        Self {
            events: 10_000,
            seed: 1,
            start_year: 2015,
            end_date: DEFAULT_END_DATE,
        }
    }
}

impl DemoConfig {
    /// The dates the rows span: 1 January of `start_year` to `end_date` or today, whichever is earlier. A
    /// `start_year` after that end is moved back to the end's year.
    #[must_use]
    pub fn date_range(&self) -> (NaiveDate, NaiveDate) {
        let end = self.end_date.min(today_in_vietnam());
        let start = NaiveDate::from_ymd_opt(self.start_year, 1, 1)
            .filter(|start| *start <= end)
            .or_else(|| NaiveDate::from_ymd_opt(end.year(), 1, 1))
            .unwrap_or(end);
        (start, end)
    }
}

/// Generates `config.events` synthetic rows lazily (see the module documentation).
#[must_use]
pub fn generate(config: DemoConfig) -> DemoEvents {
    DemoEvents::new(config)
}

/// The kinds of event, with their share of rows in per mille.
static KINDS: [(EventKind, u32); 5] = [
    (EventKind::New, 350),
    (EventKind::Adjustment, 300),
    (EventKind::SharePurchase, 130),
    (EventKind::Disbursement, 190),
    (EventKind::Termination, 30),
];

/// The reference data of the repository's `data/` (see `data/README.md`), the files the catalogue seeds
/// itself from, so that every name the generator writes is one the catalogue resolves.
const PROVINCES_CSV: &str = include_str!("../../../data/provinces.csv");
const PROVINCE_ALIASES_CSV: &str = include_str!("../../../data/province_aliases.csv");
const ZONES_CSV: &str = include_str!("../../../data/zones.csv");

/// Rough shares of FDI projects by (pre-2025) province code: the industrial provinces of the Red River delta
/// and the south-east dominate, with a long tail. Provinces not listed get [`DEFAULT_PROVINCE_WEIGHT`].
static PROVINCE_WEIGHTS: [(&str, u32); 54] = [
    ("ha-noi", 90),
    ("bac-kan", 1),
    ("tuyen-quang", 3),
    ("lao-cai", 4),
    ("dien-bien", 1),
    ("lai-chau", 1),
    ("hoa-binh", 4),
    ("thai-nguyen", 25),
    ("lang-son", 3),
    ("quang-ninh", 35),
    ("bac-giang", 45),
    ("phu-tho", 10),
    ("vinh-phuc", 25),
    ("bac-ninh", 85),
    ("hai-duong", 30),
    ("hai-phong", 65),
    ("hung-yen", 25),
    ("thai-binh", 10),
    ("ha-nam", 15),
    ("nam-dinh", 10),
    ("ninh-binh", 12),
    ("thanh-hoa", 20),
    ("nghe-an", 20),
    ("ha-tinh", 8),
    ("quang-binh", 3),
    ("quang-tri", 3),
    ("hue", 5),
    ("da-nang", 15),
    ("quang-nam", 10),
    ("quang-ngai", 6),
    ("binh-dinh", 6),
    ("phu-yen", 3),
    ("khanh-hoa", 6),
    ("ninh-thuan", 3),
    ("binh-thuan", 5),
    ("kon-tum", 1),
    ("dak-nong", 1),
    ("lam-dong", 3),
    ("binh-phuoc", 15),
    ("tay-ninh", 20),
    ("binh-duong", 95),
    ("dong-nai", 70),
    ("ba-ria-vung-tau", 35),
    ("ho-chi-minh", 130),
    ("long-an", 40),
    ("tien-giang", 8),
    ("ben-tre", 4),
    ("tra-vinh", 4),
    ("vinh-long", 3),
    ("dong-thap", 3),
    ("an-giang", 3),
    ("kien-giang", 4),
    ("can-tho", 6),
    ("hau-giang", 4),
];

/// The weight of a province missing from [`PROVINCE_WEIGHTS`]: the small share of the long tail.
const DEFAULT_PROVINCE_WEIGHT: u32 = 2;

/// First year projects can plausibly be licensed in a seed zone, by the zone's English name. Zones not listed
/// (still planned, or added to `data/zones.csv` later) are never used.
static ZONE_OPEN_FROM: [(&str, i32); 20] = [
    ("Khanh Phu IP", 2004),
    ("Khanh Cu IP", 2010),
    ("Phuc Son IP", 2010),
    ("Gian Khau IP", 2005),
    ("Tam Diep I IP", 2014),
    ("Hai Long IP", 2027),
    ("Trung Thanh IP", 2025),
    ("Rang Dong Textile IP", 2018),
    ("Ninh Co Economic Zone", 2025),
    ("Yen Phong II-C IP", 2020),
    ("VSIP Bac Ninh IP", 2008),
    ("Quang Chau IP", 2005),
    ("Dai Dong - Hoan Son IP", 2010),
    ("Song Khe - Noi Hoang IP", 2005),
    ("Van Trung IP", 2010),
    ("Yen Lu IP", 2024),
    ("Tang Tien industrial cluster", 2015),
    ("Trung Son - Ninh Son industrial cluster", 2021),
    ("Tien Son - Ninh Son IP", 2024),
    ("Song Khoai IP", 2019),
];

/// A province as it was before the 2025 merger (all rows of `data/provinces.csv`), with its weight in FDI
/// project counts and the other spellings in use (`data/province_aliases.csv`).
struct Province {
    code: String,
    name_vi: String,
    name_ascii: String,
    name_en: String,
    /// The index of the province that absorbed it on 2025-07-01, if it was merged.
    successor: Option<usize>,
    aliases: Vec<String>,
    weight: u32,
}

/// A seed zone of `data/zones.csv`, by the two names the catalogue resolves ("Quang Chau IP (KCN Quang
/// Châu)": the name outside the parentheses and the one inside; the same name twice when there is one).
struct Zone {
    name_en: String,
    name_local: String,
    /// The index of the (pre-2025) province it lies in.
    province: usize,
    /// First year projects can plausibly be licensed there (see [`ZONE_OPEN_FROM`]).
    open_from: i32,
}

/// The reference tables, parsed once from the embedded CSV files in file order (so the draws, and the
/// register for a given seed, stay the same as long as the files do).
struct Reference {
    provinces: Vec<Province>,
    zones: Vec<Zone>,
}

#[derive(serde::Deserialize)]
struct ProvinceRow {
    code: String,
    name_vi: String,
    name_ascii: String,
    name_en: String,
    merged_into_code: String,
}

#[derive(serde::Deserialize)]
struct AliasRow {
    code: String,
    alias: String,
}

#[derive(serde::Deserialize)]
struct ZoneRow {
    name: String,
    province_code_original: String,
}

fn csv_rows<T: serde::de::DeserializeOwned>(file: &str, text: &str) -> Vec<T> {
    csv::Reader::from_reader(text.as_bytes())
        .deserialize()
        .collect::<Result<_, _>>()
        .unwrap_or_else(|error| panic!("the embedded data/{file} is malformed: {error}"))
}

static REFERENCE: LazyLock<Reference> = LazyLock::new(|| {
    let rows: Vec<ProvinceRow> = csv_rows("provinces.csv", PROVINCES_CSV);
    let aliases: Vec<AliasRow> = csv_rows("province_aliases.csv", PROVINCE_ALIASES_CSV);
    let zones: Vec<ZoneRow> = csv_rows("zones.csv", ZONES_CSV);
    let index_of = |code: &str| rows.iter().position(|row| row.code == code);
    let provinces = rows
        .iter()
        .map(|row| Province {
            code: row.code.clone(),
            name_vi: row.name_vi.clone(),
            name_ascii: row.name_ascii.clone(),
            name_en: row.name_en.clone(),
            successor: Some(row.merged_into_code.as_str())
                .filter(|code| !code.is_empty())
                .and_then(index_of),
            aliases: aliases
                .iter()
                .filter(|alias| alias.code == row.code)
                .map(|alias| alias.alias.clone())
                .collect(),
            weight: PROVINCE_WEIGHTS
                .iter()
                .find(|(code, _)| *code == row.code)
                .map_or(DEFAULT_PROVINCE_WEIGHT, |(_, weight)| *weight),
        })
        .collect();
    let zones = zones
        .iter()
        .filter_map(|row| {
            let (name_en, name_local) = match row.name.split_once('(') {
                Some((outside, inside)) => (outside.trim(), inside.trim_end().trim_end_matches(')').trim()),
                None => (row.name.trim(), row.name.trim()),
            };
            Some(Zone {
                name_en: name_en.to_owned(),
                name_local: name_local.to_owned(),
                province: index_of(&row.province_code_original)?,
                open_from: ZONE_OPEN_FROM
                    .iter()
                    .find(|(name, _)| *name == name_en)
                    .map_or(i32::MAX, |(_, year)| *year),
            })
        })
        .collect();
    Reference { provinces, zones }
});

/// Home countries of foreign investors, in per mille of foreign projects, with how their names read.
struct Country {
    code: &'static str,
    name: &'static str,
    legal_form: &'static str,
    weight: u32,
}

const fn country(code: &'static str, name: &'static str, legal_form: &'static str, weight: u32) -> Country {
    Country {
        code,
        name,
        legal_form,
        weight,
    }
}

static FOREIGN_COUNTRIES: [Country; 18] = [
    country("KR", "Korea", "Co., Ltd", 200),
    country("SG", "Singapore", "Pte. Ltd.", 180),
    country("JP", "Japan", "Corporation", 140),
    country("CN", "China", "Co., Ltd.", 120),
    country("TW", "Taiwan", "Corp.", 90),
    country("HK", "Hong Kong", "Limited", 70),
    country("US", "America", "Inc.", 40),
    country("NL", "Netherlands", "B.V.", 30),
    country("DE", "Germany", "GmbH", 20),
    country("TH", "Thailand", "Public Co., Ltd", 20),
    country("MY", "Malaysia", "Sdn. Bhd.", 20),
    country("FR", "France", "SAS", 15),
    country("GB", "UK", "Ltd", 15),
    country("VG", "BVI", "Holdings Ltd", 15),
    country("AU", "Australia", "Pty Ltd", 10),
    country("CH", "Swiss", "AG", 5),
    country("IN", "India", "Pvt. Ltd.", 5),
    country("CA", "Canada", "Inc.", 5),
];

/// Invented name parts; combined with a number once exhausted, so names stay unique per country.
static NAME_STEMS: [&str; 24] = [
    "Alder",
    "Beacon",
    "Cobalt",
    "Delta",
    "Ember",
    "Falcon",
    "Granite",
    "Harbor",
    "Iris",
    "Juniper",
    "Kestrel",
    "Lotus",
    "Meridian",
    "Nova",
    "Orchid",
    "Pinnacle",
    "Quartz",
    "Riverstone",
    "Summit",
    "Tidewater",
    "Unity",
    "Vertex",
    "Willow",
    "Zenith",
];
static NAME_TRADES: [&str; 20] = [
    "Electronics",
    "Precision",
    "Textile",
    "Materials",
    "Energy",
    "Logistics",
    "Components",
    "Industrial",
    "Chemical",
    "Foods",
    "Packaging",
    "Automotive",
    "Semiconductor",
    "Steel",
    "Solar",
    "Furniture",
    "Pharma",
    "Plastics",
    "Machinery",
    "Garment",
];
static NAME_STEMS_VI: [&str; 16] = [
    "An Phát",
    "Bình Minh",
    "Đại Việt",
    "Hòa Bình",
    "Hưng Thịnh",
    "Kim Long",
    "Minh Quang",
    "Nam Á",
    "Phú Mỹ",
    "Sao Mai",
    "Tân Tiến",
    "Thành Công",
    "Trường Sơn",
    "Việt Hưng",
    "Xuân Thành",
    "Hồng Hà",
];
static NAME_TRADES_VI: [&str; 16] = [
    "Điện tử",
    "Dệt may",
    "Vật liệu",
    "Năng lượng",
    "Logistics",
    "Cơ khí",
    "Hóa chất",
    "Thực phẩm",
    "Bao bì",
    "Bất động sản",
    "Xây dựng",
    "Thép",
    "Điện mặt trời",
    "Nội thất",
    "Dược phẩm",
    "Nhựa",
];

/// VSIC sections with their per-mille share of projects, and what a project of the section is called.
struct Sector {
    letter: &'static str,
    foreign_weight: u32,
    domestic_weight: u32,
    project_en: &'static str,
    project_vi: &'static str,
}

const fn sector(
    letter: &'static str,
    fdi: u32,
    ddi: u32,
    project_en: &'static str,
    project_vi: &'static str,
) -> Sector {
    Sector {
        letter,
        foreign_weight: fdi,
        domestic_weight: ddi,
        project_en,
        project_vi,
    }
}

static SECTORS: [Sector; 15] = [
    sector("C", 620, 330, "manufacturing plant", "nhà máy sản xuất"),
    sector("L", 110, 200, "real estate complex", "khu đô thị"),
    sector("G", 60, 70, "distribution centre", "trung tâm phân phối"),
    sector("D", 40, 90, "power plant", "nhà máy điện"),
    sector("J", 40, 30, "data centre", "trung tâm dữ liệu"),
    sector("F", 30, 120, "construction works", "công trình xây dựng"),
    sector("H", 30, 60, "logistics warehouse", "kho vận"),
    sector("M", 25, 10, "R&D centre", "trung tâm nghiên cứu"),
    sector("I", 15, 30, "hotel", "khách sạn"),
    sector("N", 10, 5, "services centre", "trung tâm dịch vụ"),
    sector("K", 5, 10, "finance company", "công ty tài chính"),
    sector("E", 5, 15, "water treatment plant", "nhà máy xử lý nước"),
    sector("A", 5, 30, "agriculture project", "dự án nông nghiệp"),
    sector("Q", 3, 0, "hospital", "bệnh viện"),
    sector("P", 2, 0, "school", "trường học"),
];

/// An investor: its country (`None`: Vietnam) and its index in that country's pool. The name is derived from
/// both, so no names are stored.
#[derive(Debug, Clone, Copy)]
struct Investor {
    country: Option<usize>,
    index: u64,
}

/// A new project, remembered so that later events can refer to it.
#[derive(Debug, Clone, Copy)]
struct Project {
    number: u64,
    registered: NaiveDate,
    province: usize,
    zone: Option<usize>,
    investor: Investor,
    sector: usize,
    /// Whose money, which decides the currency: USD for foreign, VND for domestic, so every row has a rate.
    scope: Scope,
    /// Registered capital so far, in the project's currency (adjustments change it).
    capital: f64,
}

/// The iterator [`generate`] returns.
pub struct DemoEvents {
    seed: u64,
    total: u64,
    produced: u64,
    rng: ChaCha8Rng,
    start: NaiveDate,
    end: NaiveDate,
    /// `YEARLY_GROWTH^(span in years) - 1`, for drawing dates (see `date_of_row`).
    growth_over_span: f64,
    /// Investors per unit of weight (see `pick_investor`).
    investor_pool: u64,
    next_project_number: u64,
    /// Reservoir sample of earlier new projects, at most [`PROJECT_RESERVOIR_CAPACITY`].
    projects: Vec<Project>,
    projects_registered: u64,
    /// The provinces and zones of `data/`.
    reference: &'static Reference,
}

impl DemoEvents {
    fn new(config: DemoConfig) -> Self {
        let (start, end) = config.date_range();
        let span_years = (end - start).num_days() as f64 / 365.25;
        Self {
            seed: config.seed,
            total: config.events,
            produced: 0,
            rng: ChaCha8Rng::seed_from_u64(config.seed),
            start,
            end,
            growth_over_span: YEARLY_GROWTH.powf(span_years) - 1.0,
            investor_pool: (config.events / 20).clamp(20, MAX_INVESTORS),
            next_project_number: 1,
            projects: Vec::with_capacity(PROJECT_RESERVOIR_CAPACITY.min(usize::try_from(config.events).unwrap_or(0))),
            projects_registered: 0,
            reference: &REFERENCE,
        }
    }

    /// A uniform draw in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A uniform draw in [0, bound) (bound > 0); the bias of the multiply-shift method is negligible here.
    fn below(&mut self, bound: u64) -> u64 {
        ((u128::from(self.rng.next_u64()) * u128::from(bound)) >> 64) as u64
    }

    fn index_below(&mut self, len: usize) -> usize {
        // Lengths here are small table or reservoir sizes, which fit in u64 and back.
        self.below(len as u64) as usize
    }

    fn chance(&mut self, probability: f64) -> bool {
        self.unit() < probability
    }

    /// An index into `weights`, drawn in proportion to them.
    fn weighted(&mut self, weights: impl Iterator<Item = u32> + Clone) -> usize {
        let total: u64 = weights.clone().map(u64::from).sum();
        let mut draw = self.below(total.max(1));
        let mut last = 0;
        for (index, weight) in weights.enumerate() {
            last = index;
            if draw < u64::from(weight) {
                return index;
            }
            draw -= u64::from(weight);
        }
        last
    }

    /// A standard normal draw (Box–Muller).
    fn normal(&mut self) -> f64 {
        let radius = (-2.0 * (1.0 - self.unit()).ln()).sqrt();
        radius * (std::f64::consts::TAU * self.unit()).cos()
    }

    /// A log-normal draw with the given median and spread (sigma of the logarithm).
    fn log_normal(&mut self, median: f64, sigma: f64) -> f64 {
        median * (sigma * self.normal()).exp()
    }

    /// The date of row `row`: rows are in date order (as registers usually are), spread so that the number of
    /// events grows by [`YEARLY_GROWTH`] a year. Inverts the cumulative share of an exponential density at the
    /// row's position, jittered within its slot, so it never passes `end`.
    fn date_of_row(&mut self, row: u64) -> NaiveDate {
        let position = (row as f64 + self.unit()) / self.total.max(1) as f64;
        let span_days = (self.end - self.start).num_days();
        let fraction = if self.growth_over_span > 0.0 {
            (1.0 + position * self.growth_over_span).ln() / (1.0 + self.growth_over_span).ln()
        } else {
            position
        };
        let offset = ((fraction * span_days as f64) as i64).clamp(0, span_days);
        self.start + chrono::Duration::days(offset)
    }

    fn pick_kind(&mut self) -> EventKind {
        KINDS[self.weighted(KINDS.iter().map(|(_, weight)| *weight))].0
    }

    fn pick_investor(&mut self, scope: Scope) -> Investor {
        let country = match scope {
            Scope::Ddi => None,
            Scope::Fdi => Some(self.weighted(FOREIGN_COUNTRIES.iter().map(|country| country.weight))),
        };
        // Each country's pool is its share of the whole; squaring the draw makes low indices (the big, busy
        // investors) recur more often than the rest.
        let share = country.map_or(0.25, |index| 0.75 * f64::from(FOREIGN_COUNTRIES[index].weight) / 1000.0);
        let pool = ((self.investor_pool as f64 * share) as u64).max(1);
        let skewed = self.unit() * self.unit();
        Investor {
            country,
            index: ((skewed * pool as f64) as u64).min(pool - 1),
        }
    }

    fn pick_zone(&mut self, province: usize, date: NaiveDate) -> Option<usize> {
        let zones = &self.reference.zones;
        let open = |zone: &Zone| zone.province == province && zone.open_from <= date.year();
        let candidates = zones.iter().filter(|zone| open(zone)).count();
        if candidates == 0 || !self.chance(ZONE_SHARE) {
            return None;
        }
        let chosen = self.index_below(candidates);
        zones
            .iter()
            .enumerate()
            .filter(|(_, zone)| open(zone))
            .nth(chosen)
            .map(|(index, _)| index)
    }

    fn pick_sector(&mut self, scope: Scope) -> usize {
        match scope {
            Scope::Fdi => self.weighted(SECTORS.iter().map(|sector| sector.foreign_weight)),
            Scope::Ddi => self.weighted(SECTORS.iter().map(|sector| sector.domestic_weight)),
        }
    }

    /// A fresh project (for `new`) or share-purchase target.
    fn new_project(&mut self, date: NaiveDate, scope: Scope) -> Project {
        let province = self.weighted(self.reference.provinces.iter().map(|province| province.weight));
        let number = self.next_project_number;
        self.next_project_number += 1;
        Project {
            number,
            registered: date,
            province,
            zone: self.pick_zone(province, date),
            investor: self.pick_investor(scope),
            sector: self.pick_sector(scope),
            scope,
            capital: 0.0,
        }
    }

    /// Adds a new project to the reservoir (Algorithm R: every project so far is kept with equal probability).
    fn remember(&mut self, project: Project) {
        self.projects_registered += 1;
        if self.projects.len() < PROJECT_RESERVOIR_CAPACITY {
            self.projects.push(project);
        } else {
            let slot = self.below(self.projects_registered);
            if let Some(kept) = usize::try_from(slot).ok().and_then(|slot| self.projects.get_mut(slot)) {
                *kept = project;
            }
        }
    }

    /// The province name as a register would write it: mostly Vietnamese, often ASCII or English, sometimes
    /// the catalogue code or a well-known alias; after the 2025 merger mostly the absorbing province.
    fn province_text(&mut self, province: usize, date: NaiveDate) -> String {
        let provinces = &self.reference.provinces;
        let recorded = match provinces[province].successor {
            Some(successor) if date >= MERGER_DATE && self.chance(0.8) => successor,
            _ => province,
        };
        let entry = &provinces[recorded];
        let spelling = self.below(100);
        let text = match spelling {
            0..50 => &entry.name_vi,
            50..72 => &entry.name_ascii,
            72..82 => &entry.name_en,
            82..90 => &entry.code,
            _ if entry.aliases.is_empty() => &entry.name_vi,
            _ => &entry.aliases[self.index_below(entry.aliases.len())],
        };
        text.clone()
    }

    fn zone_text(&mut self, zone: Option<usize>) -> String {
        let Some(zone) = zone.and_then(|index| self.reference.zones.get(index)) else {
            return String::new();
        };
        if self.chance(0.6) {
            zone.name_en.clone()
        } else {
            zone.name_local.clone()
        }
    }

    /// An amount as exact decimal text: USD whole thousands, whole dollars or cents; VND whole millions or
    /// whole dong. Clamped to `min_abs..=MAX_AMOUNT` in magnitude, sign kept.
    fn amount_text(&mut self, amount: f64, scope: Scope, min_abs: f64) -> String {
        let magnitude = amount.abs().clamp(min_abs, MAX_AMOUNT);
        let sign = if amount < 0.0 { "-" } else { "" };
        let style = self.below(10);
        // Whole units fit in u64 (magnitude <= 9e14); cents are kept apart so the text is exact.
        let (units, cents) = match (scope, style) {
            (Scope::Fdi, 0..7) => (((magnitude / 1e3).round() * 1e3) as u64, 0),
            (Scope::Fdi, 7..9) => (magnitude.round() as u64, 0),
            (Scope::Fdi, _) => (magnitude.trunc() as u64, ((magnitude.fract() * 100.0) as u64).min(99)),
            (Scope::Ddi, 0..8) => (((magnitude / 1e6).round() * 1e6) as u64, 0),
            (Scope::Ddi, _) => (magnitude.round() as u64, 0),
        };
        let units = units.max(1);
        if cents == 0 {
            format!("{sign}{units}")
        } else {
            format!("{sign}{units}.{cents:02}")
        }
    }

    fn investor_name(investor: Investor) -> String {
        let Some(country) = investor.country.and_then(|index| FOREIGN_COUNTRIES.get(index)) else {
            let combinations = (NAME_STEMS_VI.len() * NAME_TRADES_VI.len()) as u64;
            let stem = NAME_STEMS_VI[(investor.index % NAME_STEMS_VI.len() as u64) as usize];
            let trade =
                NAME_TRADES_VI[(investor.index / NAME_STEMS_VI.len() as u64 % NAME_TRADES_VI.len() as u64) as usize];
            let form = if investor.index.is_multiple_of(3) {
                "Cổ phần"
            } else {
                "TNHH"
            };
            let series = investor.index / combinations;
            let number = if series == 0 {
                String::new()
            } else {
                format!(" {}", series + 1)
            };
            return format!("Công ty {form} Demo {trade} {stem}{number}");
        };
        let combinations = (NAME_STEMS.len() * NAME_TRADES.len()) as u64;
        let stem = NAME_STEMS[(investor.index % NAME_STEMS.len() as u64) as usize];
        let trade = NAME_TRADES[(investor.index / NAME_STEMS.len() as u64 % NAME_TRADES.len() as u64) as usize];
        let series = investor.index / combinations;
        let number = if series == 0 {
            String::new()
        } else {
            format!(" {}", series + 1)
        };
        format!(
            "Synthetic {stem} {trade} {}{number} {}",
            country.name, country.legal_form
        )
    }

    fn project_name(project: &Project) -> String {
        let sector = &SECTORS[project.sector];
        match project.scope {
            Scope::Fdi => format!("Demo {} SYN-{:06}", sector.project_en, project.number),
            Scope::Ddi => format!("Dự án demo {} SYN-{:06}", sector.project_vi, project.number),
        }
    }

    /// The row for `project` with the fields every kind shares; amount and currency are left to the caller.
    fn row(&mut self, kind: EventKind, date: NaiveDate, project: &Project) -> EventInput {
        let (country, scope) = match project.investor.country.and_then(|index| FOREIGN_COUNTRIES.get(index)) {
            Some(country) => (country.code, Scope::Fdi),
            None => (VIETNAM, Scope::Ddi),
        };
        EventInput {
            // The register's size shapes every row, so it is part of the key: registers of
            // different sizes never collide as "same key, different content".
            idempotency_key: format!("syn-{}-{}-{}", self.seed, self.total, self.produced),
            kind: kind.as_str().to_owned(),
            event_date: date.format("%Y-%m-%d").to_string(),
            // Registers of different seeds are about different projects: loaded together, none
            // looks like another's re-issued certificate.
            project_ref: format!("SYN-{}-{:06}", self.seed, project.number),
            project_name: Self::project_name(project),
            investor: Self::investor_name(project.investor),
            investor_country: country.to_owned(),
            zone: self.zone_text(project.zone),
            province: self.province_text(project.province, date),
            sector: SECTORS[project.sector].letter.to_owned(),
            amount: String::new(),
            currency: String::new(),
            scope: scope.as_str().to_owned(),
            status: if self.chance(0.05) { "estimated" } else { "reported" }.to_owned(),
            source: SYNTHETIC_SOURCE.to_owned(),
        }
    }

    fn currency(scope: Scope) -> String {
        match scope {
            Scope::Fdi => "USD",
            Scope::Ddi => "VND",
        }
        .to_owned()
    }

    fn next_event(&mut self) -> EventInput {
        let date = self.date_of_row(self.produced);
        let mut kind = self.pick_kind();
        let follows_up = matches!(
            kind,
            EventKind::Adjustment | EventKind::Disbursement | EventKind::Termination
        );
        if follows_up && self.projects.is_empty() {
            // Nothing to refer to yet (only at the very start): register a project instead.
            kind = EventKind::New;
        }
        match kind {
            EventKind::New => {
                let scope = if self.chance(DOMESTIC_SHARE_OF_NEW_PROJECTS) {
                    Scope::Ddi
                } else {
                    Scope::Fdi
                };
                let mut project = self.new_project(date, scope);
                // New FDI projects: median 10 million USD, a tail past a billion; domestic: median 200 billion VND.
                project.capital = match scope {
                    Scope::Fdi => self.log_normal(10.0e6, 1.6).clamp(50_000.0, 6.0e9),
                    Scope::Ddi => self.log_normal(200.0e9, 1.4).clamp(1.0e9, 3.0e14),
                };
                let mut row = self.row(kind, date, &project);
                row.amount = self.amount_text(project.capital, scope, 1.0);
                row.currency = Self::currency(scope);
                self.remember(project);
                row
            }
            EventKind::SharePurchase => {
                // A foreign investor buying into a company: always FDI, its own project ref.
                let project = self.new_project(date, Scope::Fdi);
                let amount = self.log_normal(2.0e6, 1.7).clamp(10_000.0, 3.0e9);
                let mut row = self.row(kind, date, &project);
                row.amount = self.amount_text(amount, Scope::Fdi, 1.0);
                row.currency = Self::currency(Scope::Fdi);
                row
            }
            EventKind::Adjustment | EventKind::Disbursement | EventKind::Termination => {
                let slot = self.index_below(self.projects.len());
                let mut project = self.projects[slot];
                // Rows are in date order already; the max only guards the jitter within a day's slot.
                let date = date.max(project.registered);
                let mut row = self.row(kind, date, &project);
                let amount = match kind {
                    EventKind::Adjustment if self.chance(0.10) => Some(-project.capital * (0.05 + 0.45 * self.unit())),
                    EventKind::Adjustment => Some(project.capital * self.log_normal(0.35, 0.9).min(5.0)),
                    EventKind::Disbursement => Some(project.capital * (0.05 + 0.35 * self.unit())),
                    // Most terminations give no amount; the rest the capital that lapses.
                    _ if self.chance(0.65) => None,
                    _ => Some(project.capital),
                };
                if let Some(amount) = amount {
                    let minimum = match project.scope {
                        Scope::Fdi => 1_000.0,
                        Scope::Ddi => 1.0e6,
                    };
                    row.amount = self.amount_text(amount, project.scope, minimum);
                    row.currency = Self::currency(project.scope);
                }
                if kind == EventKind::Termination {
                    // A terminated project gets no later events.
                    self.projects.swap_remove(slot);
                } else if kind == EventKind::Adjustment {
                    project.capital = (project.capital + amount.unwrap_or(0.0)).max(1.0e3);
                    self.projects[slot] = project;
                }
                row
            }
        }
    }
}

impl Iterator for DemoEvents {
    type Item = EventInput;

    fn next(&mut self) -> Option<EventInput> {
        if self.produced >= self.total {
            return None;
        }
        let event = self.next_event();
        self.produced += 1;
        Some(event)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let remaining = usize::try_from(self.total - self.produced).unwrap_or(usize::MAX);
        (remaining, Some(remaining))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{HashMap, HashSet};

    use super::*;

    fn config(events: u64, seed: u64) -> DemoConfig {
        DemoConfig {
            events,
            seed,
            ..DemoConfig::default()
        }
    }

    fn parse_date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    /// Checks the decimal text by hand: optional sign, digits, at most two decimals; returns its value.
    fn parse_amount(text: &str) -> f64 {
        let digits = text.strip_prefix('-').unwrap_or(text);
        let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
        assert!(
            !whole.is_empty() && whole.bytes().all(|b| b.is_ascii_digit()),
            "amount {text}"
        );
        assert!(
            fraction.len() <= 2 && fraction.bytes().all(|b| b.is_ascii_digit()),
            "amount {text}"
        );
        text.parse().unwrap()
    }

    #[test]
    fn same_seed_same_rows_other_seed_other_rows() {
        let first: Vec<EventInput> = generate(config(2_000, 7)).collect();
        let again: Vec<EventInput> = generate(config(2_000, 7)).collect();
        let other: Vec<EventInput> = generate(config(2_000, 8)).collect();
        assert_eq!(first, again);
        assert_ne!(first, other);
        // A prefix of a longer register is not required to match (dates spread over the count), but the
        // first row is pinned to catch accidental changes of the generator's output.
        assert!(first[0].idempotency_key.starts_with("syn-7-") && first[0].idempotency_key.ends_with("-0"));
        assert_eq!(first[0].source, SYNTHETIC_SOURCE);
    }

    #[test]
    fn exact_count_and_unique_keys() {
        for events in [0, 1, 5, 3_001] {
            let rows = generate(config(events, 3));
            assert_eq!(rows.size_hint(), (events as usize, Some(events as usize)));
            let keys: Vec<String> = rows.map(|row| row.idempotency_key).collect();
            assert_eq!(keys.len() as u64, events);
            assert_eq!(keys.iter().collect::<HashSet<_>>().len(), keys.len());
        }
    }

    #[test]
    fn rows_are_plausible_and_marked_synthetic() {
        let config = DemoConfig {
            events: 20_000,
            seed: 11,
            start_year: 2015,
            end_date: DEFAULT_END_DATE,
        };
        let (start, end) = config.date_range();
        let today = today_in_vietnam();
        let mut new_projects: HashMap<String, NaiveDate> = HashMap::new();
        let mut kinds: HashMap<String, u32> = HashMap::new();
        let mut per_year: HashMap<i32, u32> = HashMap::new();
        let mut domestic = 0;
        let mut zoned = 0;
        let mut negative_adjustments = 0;
        let mut investors = HashSet::new();
        for row in generate(config) {
            assert_eq!(row.source, SYNTHETIC_SOURCE);
            assert!(row.project_ref.starts_with("SYN-"), "{}", row.project_ref);
            assert!(
                row.investor.contains("Synthetic") || row.investor.contains("Demo"),
                "{}",
                row.investor
            );
            assert!(!row.province.is_empty());
            assert!(!row.sector.is_empty());
            let date = parse_date(&row.event_date);
            assert!(date >= start && date <= end && date <= today, "{date}");
            *per_year.entry(date.year()).or_default() += 1;
            match (row.scope.as_str(), row.investor_country.as_str()) {
                ("ddi", "VN") => domestic += 1,
                ("fdi", country) => assert!(country.len() == 2 && country != "VN"),
                other => panic!("scope and country disagree: {other:?}"),
            }
            if row.amount.is_empty() {
                assert_eq!(row.kind, "termination", "only terminations may lack an amount");
                assert!(row.currency.is_empty());
            } else {
                let amount = parse_amount(&row.amount);
                assert!(amount != 0.0 && amount.abs() <= 1e15, "{}", row.amount);
                assert_eq!(row.currency, if row.scope == "fdi" { "USD" } else { "VND" });
                if row.currency == "VND" {
                    assert!(!row.amount.contains('.'), "dong have no decimals: {}", row.amount);
                }
                if amount < 0.0 {
                    assert_eq!(row.kind, "adjustment", "only adjustments are negative");
                    negative_adjustments += 1;
                }
            }
            if !row.zone.is_empty() {
                zoned += 1;
            }
            match row.kind.as_str() {
                "new" => {
                    assert!(
                        new_projects.insert(row.project_ref.clone(), date).is_none(),
                        "a project is new once"
                    );
                }
                "adjustment" | "disbursement" | "termination" => {
                    let registered = new_projects.get(&row.project_ref);
                    assert!(registered.is_some_and(|registered| *registered <= date), "{row:?}");
                }
                "share_purchase" => assert_eq!(row.scope, "fdi"),
                other => panic!("unknown kind {other}"),
            }
            *kinds.entry(row.kind.clone()).or_default() += 1;
            investors.insert(row.investor);
        }
        let share = |kind: &str| f64::from(kinds.get(kind).copied().unwrap_or(0)) / 20_000.0;
        for (kind, expected) in [
            ("new", 0.35),
            ("adjustment", 0.30),
            ("share_purchase", 0.13),
            ("disbursement", 0.19),
            ("termination", 0.03),
        ] {
            assert!((share(kind) - expected).abs() < 0.02, "{kind}: {}", share(kind));
        }
        let adjustments = f64::from(kinds["adjustment"]);
        assert!((f64::from(negative_adjustments) / adjustments - 0.10).abs() < 0.03);
        assert!(
            (f64::from(domestic) / 20_000.0 - 0.25).abs() < 0.03,
            "domestic {domestic}"
        );
        assert!(zoned > 100, "zones are used: {zoned}");
        assert!(investors.len() < 1_500, "investors recur: {}", investors.len());
        assert!(per_year[&2024] > per_year[&2015], "growth over the years: {per_year:?}");
    }

    #[test]
    fn dates_stay_within_a_short_or_future_range() {
        let future = DemoConfig {
            events: 500,
            seed: 5,
            start_year: 2100,
            end_date: NaiveDate::MAX,
        };
        let (start, end) = future.date_range();
        assert!(end <= today_in_vietnam() && start <= end);
        for row in generate(future) {
            let date = parse_date(&row.event_date);
            assert!(date >= start && date <= end);
        }
        let one_day = DemoConfig {
            events: 50,
            seed: 5,
            start_year: 2020,
            end_date: parse_date("2020-01-01"),
        };
        assert!(generate(one_day).all(|row| row.event_date == "2020-01-01"));
    }

    #[test]
    fn rows_round_trip_through_the_interchange_formats() {
        use crate::interchange::{Format, RowReader, RowWriter};
        let rows: Vec<EventInput> = generate(config(1_000, 4)).collect();
        for format in [Format::Csv, Format::JsonLines] {
            let mut writer = RowWriter::new(Vec::new(), format).unwrap();
            rows.iter().for_each(|row| writer.write_row(row).unwrap());
            let bytes = writer.finish().unwrap();
            let read: Vec<EventInput> = RowReader::new(bytes.as_slice(), format)
                .unwrap()
                .map(|row| row.unwrap().1)
                .collect();
            assert_eq!(read, rows, "{format}");
        }
    }

    #[test]
    fn reference_tables_come_whole_from_the_data_files() {
        let reference = &*REFERENCE;
        assert_eq!(reference.provinces.len(), 63);
        let merged = reference.provinces.iter().filter(|p| p.successor.is_some()).count();
        assert_eq!(merged, 63 - 34, "every merged province finds the one that absorbed it");
        let code_of = |index: usize| reference.provinces[index].code.as_str();
        for (code, _) in &PROVINCE_WEIGHTS {
            assert!(
                reference.provinces.iter().any(|p| p.code == *code),
                "weight for unknown {code}"
            );
        }
        let binh_duong = reference.provinces.iter().find(|p| p.code == "binh-duong").unwrap();
        assert_eq!(binh_duong.successor.map(code_of), Some("ho-chi-minh"));
        let hcm = reference.provinces.iter().find(|p| p.code == "ho-chi-minh").unwrap();
        assert!(hcm.aliases.iter().any(|alias| alias == "TP.HCM"));
        assert_eq!(reference.zones.len(), 21, "every zone's province is known");
        for (name, _) in &ZONE_OPEN_FROM {
            assert!(
                reference.zones.iter().any(|z| z.name_en == *name),
                "opening year for unknown {name}"
            );
        }
        let quang_chau = reference.zones.iter().find(|z| z.name_en == "Quang Chau IP").unwrap();
        assert_eq!(
            (quang_chau.name_local.as_str(), code_of(quang_chau.province)),
            ("KCN Quang Châu", "bac-giang")
        );
        let vsip = reference
            .zones
            .iter()
            .find(|z| z.name_en == "VSIP Bac Ninh IP")
            .unwrap();
        assert_eq!(vsip.name_local, "VSIP Bac Ninh IP");
    }

    #[test]
    fn provinces_come_in_several_spellings() {
        let spellings: HashSet<String> = generate(config(5_000, 2)).map(|row| row.province).collect();
        for expected in [
            "Bình Dương",
            "Binh Duong",
            "ho-chi-minh",
            "Ho Chi Minh City",
            "Bà Rịa – Vũng Tàu",
        ] {
            assert!(spellings.contains(expected), "{expected} missing from {spellings:?}");
        }
    }
}
