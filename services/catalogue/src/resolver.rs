//! Name resolution for provinces and zones: an in-memory index of every name
//! and alias in a folded, generic-word-free form ("KCN Quang Châu" and
//! "Quang Chau industrial park" both become `quang chau`), exact lookups,
//! and conservative fuzzy matching: a typo still resolves, a merely similar
//! name ("Quang Nam" for "Quang Ninh") only becomes a suggestion.

use std::collections::{HashMap, HashSet};

use fdi_kit::names::{fold, prefix_within, stable_hash};

use crate::model::{EntityKind, InvestorRecord, ProvinceRecord, ZoneRecord, province_name};

/// Similarity below which a name is not even suggested.
const SUGGESTION_FLOOR: f64 = 0.45;

/// The bounds on matching work, shared with ingest (which keeps its rows and
/// batches within them).
pub use fdi_kit::domain::{MAX_BATCH_FOLDED_CHARS, MAX_FOLDED_NAME_CHARS as MAX_QUERY_FOLDED_CHARS};

/// Characters of `text` once folded (what [`Index::resolve`] matches).
#[must_use]
pub fn folded_chars(text: &str) -> usize {
    fold(text).chars().count()
}

/// Words that say what kind of place a name is, not which one (folded).
const ZONE_MARKERS: &[&[&str]] = &[
    &["khu", "cong", "nghiep"],
    &["cum", "cong", "nghiep"],
    &["khu", "kinh", "te"],
    &["khu", "che", "xuat"],
    &["khu", "cong", "nghe", "cao"],
    &["industrial", "park"],
    &["industrial", "parks"],
    &["industrial", "zone"],
    &["industrial", "cluster"],
    &["industrial", "estate"],
    &["economic", "zone"],
    &["export", "processing", "zone"],
    &["high", "tech", "park"],
    &["hi", "tech", "park"],
    &["kcn"],
    &["ccn"],
    &["kkt"],
    &["ip"],
    &["iz"],
    &["ez"],
    &["epz"],
];
const PROVINCE_MARKERS: &[&[&str]] = &[
    &["thanh", "pho"],
    &["tinh"],
    &["tp"],
    &["province"],
    &["city"],
    &["municipality"],
];
const NOISE: &[&[&str]] = &[&["vietnam"], &["viet", "nam"]];

/// A query or name reduced to its identifying words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Analysed {
    /// The identifying words, space-separated.
    pub key: String,
    /// Whether the text said it is a zone ("KCN", "industrial park", ...).
    pub zone_marker: bool,
    /// Whether the text said it is a province or city.
    pub province_marker: bool,
}

fn strip_phrases(tokens: &mut Vec<String>, phrases: &[&[&str]]) -> bool {
    let mut found = false;
    for phrase in phrases {
        let mut at = 0;
        while at + phrase.len() <= tokens.len() {
            if tokens[at..at + phrase.len()]
                .iter()
                .zip(phrase.iter())
                .all(|(t, p)| t == p)
            {
                tokens.drain(at..at + phrase.len());
                found = true;
            } else {
                at += 1;
            }
        }
    }
    found
}

/// Folds `text` and removes the words that only say what kind of place it is.
#[must_use]
pub fn analyse(text: &str) -> Analysed {
    let mut tokens: Vec<String> = fold(text)
        .split(' ')
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect();
    let zone_marker = strip_phrases(&mut tokens, ZONE_MARKERS);
    let province_marker = strip_phrases(&mut tokens, PROVINCE_MARKERS);
    strip_phrases(&mut tokens, NOISE);
    Analysed {
        key: tokens.join(" "),
        zone_marker,
        province_marker,
    }
}

/// Legal-form words that do not distinguish investors (folded).
const LEGAL_FORMS: &[&str] = &[
    "co",
    "company",
    "ltd",
    "limited",
    "liability",
    "corp",
    "corporation",
    "inc",
    "incorporated",
    "jsc",
    "joint",
    "stock",
    "pte",
    "private",
    "llc",
    "plc",
    "gmbh",
    "ag",
    "sa",
    "bv",
    "nv",
    "kk",
    "tnhh",
    "mtv",
    "cp",
    "jv",
];

/// The identity of an investor's name: folded, "Viet Nam" as one word, legal
/// forms removed at either end ("Công ty TNHH X", "X Co., Ltd.").
#[must_use]
pub fn investor_key(name: &str) -> String {
    let folded = fold(name).replace("viet nam", "vietnam");
    let mut tokens: Vec<&str> = folded.split(' ').filter(|t| !t.is_empty()).collect();
    if tokens.starts_with(&["cong", "ty"]) {
        tokens.drain(..2);
        if tokens.starts_with(&["co", "phan"]) || tokens.starts_with(&["trach", "nhiem"]) {
            tokens.drain(..2);
        }
        while tokens
            .first()
            .is_some_and(|t| LEGAL_FORMS.contains(t) || matches!(*t, "huu" | "han" | "mot" | "thanh" | "vien"))
        {
            tokens.remove(0);
        }
    }
    while tokens.len() > 1 && tokens.last().is_some_and(|t| LEGAL_FORMS.contains(t)) {
        tokens.pop();
    }
    tokens.join(" ")
}

/// One name of one resource.
#[derive(Debug, Clone)]
struct Entry {
    kind: EntityKind,
    resource: String,
    display_name: String,
    current_province: String,
    recorded_province: String,
    name: String,
    key: String,
}

/// A resource that may be what a query means.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// Province, zone or investor.
    pub kind: EntityKind,
    /// `provinces/{code}`, `zones/{id}` or `investors/{id}`.
    pub resource: String,
    /// The resource's display name.
    pub display_name: String,
    /// 1.0 for an exact match after folding; less for near names.
    pub score: f64,
    /// The name or alias that matched.
    pub matched_name: String,
    /// Today's province of the resource.
    pub current_province: String,
    /// The province the resource was recorded under (a zone's original province).
    pub recorded_province: String,
}

impl Candidate {
    /// An investor that may be what a query means.
    #[must_use]
    pub fn investor(investor: &InvestorRecord, score: f64) -> Self {
        Self {
            kind: EntityKind::Investor,
            resource: format!("investors/{}", investor.id),
            display_name: investor.display_name.clone(),
            score,
            matched_name: investor.display_name.clone(),
            current_province: String::new(),
            recorded_province: String::new(),
        }
    }
}

/// What a query resolved to.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Resolution {
    /// The confident match, if any.
    pub best: Option<Candidate>,
    /// Near names, best first.
    pub suggestions: Vec<Candidate>,
    /// The folded query that was matched.
    pub key: String,
}

/// The resolution index over provinces and zones.
#[derive(Debug, Default)]
pub struct Index {
    entries: Vec<Entry>,
    by_key: HashMap<String, Vec<usize>>,
}

/// Splits "Quang Chau IP (KCN Quang Châu)" into its names.
fn zone_names(display_name: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut outside = String::new();
    let mut inside = String::new();
    let mut depth = 0usize;
    for c in display_name.chars() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth = depth.saturating_sub(1);
                if depth == 0 && !inside.trim().is_empty() {
                    names.push(inside.trim().to_owned());
                    inside.clear();
                }
            }
            _ if depth > 0 => inside.push(c),
            _ => outside.push(c),
        }
    }
    if !outside.trim().is_empty() {
        names.insert(0, outside.trim().to_owned());
    }
    names
}

/// Longest resource id.
const MAX_ID_BYTES: usize = 63;

/// The id a zone gets from its display name when none is given:
/// "Yen Phong II-C IP (KCN Yên Phong II-C)" → `yen-phong-ii-c`. Ids are
/// ASCII: letters the fold keeps outside ASCII (Cyrillic, CJK) are left
/// out, and a digest of the whole name keeps such ids apart
/// ("Технопарк Москва" → `zone-…`; "Technopark Москва" → `technopark-…`).
#[must_use]
pub fn zone_id_for(display_name: &str) -> String {
    let first = zone_names(display_name).into_iter().next().unwrap_or_default();
    let key = analyse(&first).key;
    let key = if key.is_empty() { fold(display_name) } else { key };
    let ascii: String = key
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { ' ' })
        .collect();
    let words: Vec<&str> = ascii.split(' ').filter(|w| !w.is_empty()).collect();
    let complete = key.chars().all(|c| c.is_ascii_alphanumeric() || c == ' ');
    if complete {
        let id = words.join("-");
        return prefix_within(&id, MAX_ID_BYTES).trim_end_matches('-').to_owned();
    }
    let suffix = format!("{:016x}", stable_hash(key.bytes()));
    let base = if words.is_empty() {
        "zone".to_owned()
    } else {
        words.join("-")
    };
    let base = prefix_within(&base, MAX_ID_BYTES - suffix.len() - 1).trim_end_matches('-');
    format!("{base}-{suffix}")
}

/// The names of a zone other than the first, from its display name
/// ("Quang Chau IP (KCN Quang Châu)" → ["KCN Quang Châu"]).
#[must_use]
pub fn zone_extra_names(display_name: &str) -> Vec<String> {
    zone_names(display_name).into_iter().skip(1).collect()
}

impl Index {
    /// Builds the index from the catalogue's provinces and zones.
    #[must_use]
    pub fn build(provinces: &[ProvinceRecord], zones: &[ZoneRecord]) -> Self {
        let mut index = Self::default();
        for province in provinces {
            let resource = province_name(&province.code);
            let names = [
                province.name_vi.clone(),
                province.name_ascii.clone(),
                province.name_en.clone(),
                province.code.replace('-', " "),
            ]
            .into_iter()
            .chain(province.aliases.iter().cloned());
            let current = province_name(province.current_code());
            index.add_names(
                EntityKind::Province,
                &resource,
                &province.name_vi,
                [&current, &resource],
                names,
            );
        }
        for zone in zones {
            let fields = &zone.fields;
            let names = zone_names(&fields.display_name)
                .into_iter()
                .chain(std::iter::once(zone.id.replace('-', " ")))
                .chain(fields.aliases.iter().flat_map(|alias| zone_names(alias)));
            let resource = format!("zones/{}", zone.id);
            let current = province_name(&fields.province_code);
            let original = province_name(&fields.original_province_code);
            index.add_names(
                EntityKind::Zone,
                &resource,
                &fields.display_name,
                [&current, &original],
                names,
            );
        }
        index
    }

    /// Adds the names of a resource; `provinces` is (today's, as recorded).
    fn add_names(
        &mut self,
        kind: EntityKind,
        resource: &str,
        display_name: &str,
        provinces: [&str; 2],
        names: impl Iterator<Item = String>,
    ) {
        for name in names {
            self.add(kind, resource, display_name, provinces, name);
        }
    }

    /// Adds one name of a resource; `provinces` is (today's, as recorded).
    fn add(&mut self, kind: EntityKind, resource: &str, display_name: &str, provinces: [&str; 2], name: String) {
        let [current, recorded] = provinces;
        let key = analyse(&name).key;
        if key.is_empty() {
            return;
        }
        let duplicate = self
            .by_key
            .get(&key)
            .is_some_and(|ids| ids.iter().any(|&i| self.entries[i].resource == resource));
        if duplicate {
            return;
        }
        self.by_key.entry(key.clone()).or_default().push(self.entries.len());
        self.entries.push(Entry {
            kind,
            resource: resource.to_owned(),
            display_name: display_name.to_owned(),
            current_province: current.to_owned(),
            recorded_province: recorded.to_owned(),
            name,
            key,
        });
    }

    fn candidate(entry: &Entry, score: f64) -> Candidate {
        Candidate {
            kind: entry.kind,
            resource: entry.resource.clone(),
            display_name: entry.display_name.clone(),
            score,
            matched_name: entry.name.clone(),
            current_province: entry.current_province.clone(),
            recorded_province: entry.recorded_province.clone(),
        }
    }

    /// Resolves `text` among the allowed kinds (all when `kinds` is empty),
    /// returning at most `max_suggestions` suggestions.
    #[must_use]
    pub fn resolve(&self, text: &str, kinds: &HashSet<EntityKind>, max_suggestions: usize) -> Resolution {
        let query = analyse(text);
        let mut resolution = Resolution {
            key: query.key.clone(),
            ..Resolution::default()
        };
        if query.key.is_empty() {
            return resolution;
        }

        let exact = self.exact(&query, kinds);
        let distinct: HashSet<&str> = exact.iter().map(|e| e.resource.as_str()).collect();
        if distinct.len() == 1 {
            resolution.best = Some(Self::candidate(exact[0], 1.0));
        } else if distinct.len() > 1 {
            // Two resources share the name: say so rather than guess.
            resolution.suggestions = exact.iter().map(|e| Self::candidate(e, 1.0)).collect();
            dedupe_by_resource(&mut resolution.suggestions);
            resolution.suggestions.truncate(max_suggestions);
            return resolution;
        }

        let scored = self.near(&query.key, kinds);
        if resolution.best.is_none() {
            resolution.best = typo_match(&scored, query.key.chars().count());
        }
        let mut ranked: Vec<(f64, &Entry)> = scored
            .into_values()
            .filter(|(_, score, _)| *score >= SUGGESTION_FLOOR)
            .map(|(_, s, e)| (s, e))
            .collect();
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.resource.cmp(&b.1.resource)));
        let best_resource = resolution.best.as_ref().map(|b| b.resource.clone());
        resolution.suggestions = ranked
            .into_iter()
            .filter(|(_, e)| Some(&e.resource) != best_resource.as_ref())
            .take(max_suggestions)
            .map(|(score, e)| Self::candidate(e, score))
            .collect();
        resolution
    }

    /// The entries named exactly like the query, narrowed by what the query
    /// said it is (a zone or a province) when that leaves any. A name without
    /// a zone word that is a province's is the province: zones named after
    /// their province ("KCN Đà Nẵng", "Da Nang Hi-Tech Park") are written with
    /// their kind, while "Đà Nẵng" alone is the city.
    fn exact(&self, query: &Analysed, kinds: &HashSet<EntityKind>) -> Vec<&Entry> {
        let mut exact: Vec<&Entry> = self
            .by_key
            .get(&query.key)
            .into_iter()
            .flatten()
            .map(|&i| &self.entries[i])
            .filter(|e| allowed(kinds, e.kind))
            .collect();
        if exact.len() > 1 && !(query.zone_marker && query.province_marker) {
            let wanted = if query.zone_marker {
                EntityKind::Zone
            } else {
                EntityKind::Province
            };
            if exact.iter().any(|e| e.kind == wanted) {
                exact.retain(|e| e.kind == wanted);
            }
        }
        exact
    }

    /// Near names: per resource, the fewest edits from `key`, the best
    /// similarity, and the entry with that similarity.
    fn near(&self, key: &str, kinds: &HashSet<EntityKind>) -> HashMap<&str, Scored<'_>> {
        let mut scored: HashMap<&str, Scored<'_>> = HashMap::new();
        for entry in self.entries.iter().filter(|e| allowed(kinds, e.kind)) {
            let (edits, score) = closeness(key, &entry.key);
            let slot = scored.entry(entry.resource.as_str()).or_insert((edits, score, entry));
            if edits < slot.0 {
                slot.0 = edits;
            }
            if score > slot.1 {
                slot.1 = score;
                slot.2 = entry;
            }
        }
        scored
    }
}

/// A resource's fewest edits, best similarity, and best-scoring entry.
type Scored<'a> = (usize, f64, &'a Entry);

/// Whether `kind` is among `kinds` (all are when `kinds` is empty).
fn allowed(kinds: &HashSet<EntityKind>, kind: EntityKind) -> bool {
    kinds.is_empty() || kinds.contains(&kind)
}

/// A typo (one edit, two in long names) resolves, but only when no other
/// resource is as close: "Ha Nom" is as near Ha Nam as Ha Noi. `length` is
/// the query's, in characters.
fn typo_match(scored: &HashMap<&str, Scored<'_>>, length: usize) -> Option<Candidate> {
    let mut by_edits: Vec<&Scored<'_>> = scored.values().collect();
    by_edits.sort_by_key(|(edits, _, _)| *edits);
    let [closest, rest @ ..] = by_edits.as_slice() else {
        return None;
    };
    let tolerable = match closest.0 {
        1 => length >= 6,
        2 => length >= 12,
        _ => false,
    };
    let unique = rest.first().is_none_or(|next| next.0 > closest.0);
    (tolerable && unique).then(|| Index::candidate(closest.2, closest.1))
}

fn dedupe_by_resource(candidates: &mut Vec<Candidate>) {
    let mut seen = HashSet::new();
    candidates.retain(|c| seen.insert(c.resource.clone()));
}

/// Edits (insertions, deletions, substitutions, swaps of neighbours) between
/// two folded keys, ignoring where the spaces fall ("haiphong", "hai phong").
#[must_use]
pub fn edit_distance(query: &str, key: &str) -> usize {
    strsim::damerau_levenshtein(query, key).min(strsim::damerau_levenshtein(
        &query.replace(' ', ""),
        &key.replace(' ', ""),
    ))
}

/// The edits between two folded keys and their similarity, as [`edit_distance`] and [`similarity`] give
/// them, without computing either where the lengths alone rule a key out: more than two edits apart (no
/// typo) and too different in length for the edit similarity to reach a suggestion. Then the length gap
/// stands for the edits (a lower bound, which is all a typo match needs) and only containment can score.
/// With hundreds of zones, this keeps a batch of long queries from costing an edit distance against every
/// name.
#[must_use]
pub fn closeness(query: &str, key: &str) -> (usize, f64) {
    let lengths = |text: &str| (text.chars().count(), text.chars().filter(|c| *c != ' ').count());
    let ((query_all, query_compact), (key_all, key_compact)) = (lengths(query), lengths(key));
    let ratio = |a: usize, b: usize| {
        #[allow(clippy::cast_precision_loss, reason = "name lengths are small")]
        let ratio = a.min(b) as f64 / a.max(b).max(1) as f64;
        ratio
    };
    let gap = query_all.abs_diff(key_all).min(query_compact.abs_diff(key_compact));
    let best_edit_similarity = ratio(query_all, key_all).max(ratio(query_compact, key_compact));
    if gap > 2 && best_edit_similarity < SUGGESTION_FLOOR {
        return (gap, containment(query, key));
    }
    (edit_distance(query, key), similarity(query, key))
}

/// Similarity of two folded keys, 0 to 1: edit distance on the letters, and
/// credit for a name contained word for word in the other ("bac giang" in
/// "bac giang north").
#[must_use]
pub fn similarity(query: &str, key: &str) -> f64 {
    let edit = strsim::normalized_damerau_levenshtein(query, key);
    let compact = strsim::normalized_levenshtein(&query.replace(' ', ""), &key.replace(' ', ""));
    edit.max(compact).max(containment(query, key))
}

/// How much of the longer key the shorter one is, as whole words (0 when it is not in it, or is under four
/// letters): 0.5 to 0.85.
fn containment(query: &str, key: &str) -> f64 {
    let (short, long) = if query.len() <= key.len() {
        (query, key)
    } else {
        (key, query)
    };
    let padded_long = format!(" {long} ");
    if short.len() >= 4 && padded_long.contains(&format!(" {short} ")) {
        #[allow(clippy::cast_precision_loss, reason = "name lengths are small")]
        let ratio = short.len() as f64 / long.len() as f64;
        0.5 + 0.35 * ratio
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closeness_skips_only_what_could_not_match() {
        let keys = [
            "da nang",
            "quang chau",
            "yen phong ii c",
            "ba ria vung tau",
            "ho chi minh",
            "ha noi",
            "ha nam",
            "vsip bac ninh",
            "amata city ha long",
            "tan thuan",
            "my thuan",
            "x",
            "",
        ];
        let queries = [
            "da nang",
            "quangchau",
            "ha nom",
            "vung tau",
            "thanh pho ho chi minh city",
            "tan thuan export",
        ];
        for query in queries {
            for key in keys {
                let (edits, score) = closeness(query, key);
                let (exact_edits, exact_score) = (edit_distance(query, key), similarity(query, key));
                assert_eq!(
                    edits.min(3),
                    exact_edits.min(3),
                    "{query} ~ {key}: a typo is judged alike"
                );
                assert!(edits <= exact_edits, "{query} ~ {key}: the edits are a lower bound");
                assert_eq!(
                    score >= SUGGESTION_FLOOR,
                    exact_score >= SUGGESTION_FLOOR,
                    "{query} ~ {key}: suggested alike"
                );
                if score >= SUGGESTION_FLOOR {
                    assert!(
                        (score - exact_score).abs() < 1e-12,
                        "{query} ~ {key}: the same score when suggested"
                    );
                }
            }
        }
    }

    #[test]
    fn generic_words_are_removed() {
        assert_eq!(analyse("KCN Quang Châu").key, "quang chau");
        assert!(analyse("KCN Quang Châu").zone_marker);
        assert_eq!(analyse("Yen Phong II-C industrial park").key, "yen phong ii c");
        assert_eq!(analyse("Bac Giang province").key, "bac giang");
        assert!(analyse("Bac Giang province").province_marker);
        assert_eq!(analyse("Thành phố Hồ Chí Minh").key, "ho chi minh");
        assert_eq!(analyse("Ho Chi Minh City, Viet Nam").key, "ho chi minh");
    }

    #[test]
    fn investor_keys_ignore_legal_forms() {
        assert_eq!(investor_key("Foxconn Singapore Pte. Ltd."), "foxconn singapore");
        assert_eq!(investor_key("FOXCONN SINGAPORE"), "foxconn singapore");
        assert_eq!(
            investor_key("Công ty TNHH Wistron Infocomm Việt Nam"),
            "wistron infocomm vietnam"
        );
        assert_eq!(
            investor_key("Wistron Infocomm Vietnam Co., Ltd"),
            "wistron infocomm vietnam"
        );
        assert_eq!(investor_key("Công ty Cổ phần Phúc Lộc"), "phuc loc");
        assert_eq!(investor_key("Samsung Electronics Co., Ltd."), "samsung electronics");
        assert_eq!(investor_key("Co"), "co", "a name made only of a legal word stays");
    }

    #[test]
    fn distances_and_similarities() {
        assert_eq!(edit_distance("bac nihn", "bac ninh"), 1);
        assert_eq!(edit_distance("quang nam", "quang ninh"), 3);
        assert_eq!(edit_distance("haiphong", "hai phong"), 0);
        assert!(similarity("bac nihn", "bac ninh") >= 0.85);
        assert!(similarity("bac giang", "bac giang north") > SUGGESTION_FLOOR);
        assert!(similarity("atlantis", "bac ninh") < SUGGESTION_FLOOR);
    }

    #[test]
    fn zone_ids_from_display_names() {
        assert_eq!(zone_id_for("Yen Phong II-C IP (KCN Yên Phong II-C)"), "yen-phong-ii-c");
        assert_eq!(zone_id_for("Ninh Co Economic Zone (KKT Ninh Cơ)"), "ninh-co");
        assert_eq!(zone_id_for("Tang Tien industrial cluster (CCN Tăng Tiến)"), "tang-tien");
    }

    #[test]
    fn zone_ids_of_long_and_non_latin_names_are_valid() {
        use fdi_kit::names::is_valid_id;
        // 40 Cyrillic letters (80 bytes) once folded: no longer cut inside a letter.
        let cyrillic = "Промышленный парк Восточный Технополис Ю";
        assert_eq!(cyrillic.chars().count(), 40);
        let id = zone_id_for(cyrillic);
        assert!(is_valid_id(&id), "{id}");
        assert!(id.starts_with("zone-"), "{id}");
        assert_eq!(id, zone_id_for(cyrillic), "the same name, the same id");
        assert_ne!(id, zone_id_for("Промышленный парк Западный"));
        let mixed = zone_id_for("Technopark Москва");
        assert!(is_valid_id(&mixed) && mixed.starts_with("technopark-"), "{mixed}");
        let long_latin = zone_id_for(&"Đồng Văn ".repeat(20));
        assert!(is_valid_id(&long_latin) && long_latin.len() <= 63, "{long_latin}");
        let long_mixed = zone_id_for(&format!("{} Ж", "Yên Phong ".repeat(20)));
        assert!(is_valid_id(&long_mixed), "{long_mixed}");
        assert_eq!(zone_extra_names("Hai Long IP (VSIP Nam Dinh)"), ["VSIP Nam Dinh"]);
    }

    #[test]
    fn zone_display_names_split_into_names() {
        assert_eq!(
            zone_names("Quang Chau IP (KCN Quang Châu)"),
            ["Quang Chau IP", "KCN Quang Châu"]
        );
        assert_eq!(zone_names("VSIP Bac Ninh IP"), ["VSIP Bac Ninh IP"]);
    }
}
