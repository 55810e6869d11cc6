//! Named investors ("Foxconn Singapore Pte Ltd", "Công ty TNHH ...",
//! "investor Autoliv Vietnam"), their home countries and zones.

use crate::cues::{Cue, CueIndex, is_new_total_prefix};
use crate::figures::{clause_end, clause_start};
use crate::money::MoneyMention;
use crate::text::fold;
use crate::{Project, ProjectKind};
use regex::Regex;
use std::cell::OnceCell;
use std::sync::LazyLock;

/// A company name found in the text.
#[derive(Debug, Clone)]
pub struct CompanyMention {
    pub name: String,
    pub start: usize,
    pub end: usize,
}

const NAME_WORD: &str = r"[\p{Lu}\d][\p{L}\p{N}&\-–\.]*";
/// A name word, or one in parentheses ("Chilisin Electronics (Vietnam) Ltd").
const NAME_WORD_OR_PAREN: &str = r"\(?[\p{Lu}\d][\p{L}\p{N}&\-–\.]*\)?";
const LEGAL_SUFFIX: &str = r"Co\.,? ?Ltd\.?|CO\.,? ?LTD\.?|Co\.,? ?LTD\.?|Company Limited|COMPANY LIMITED|Joint Venture Company Limited|Joint Stock Company|JOINT STOCK COMPANY|Limited Liability Company|[Pp]te\.? ?[Ll]td\.?|PTE\.? ?LTD\.?|JSC|Corporation|CORPORATION|Corp\.|Inc\.|Ltd\.?|LTD\.?|Limited|GmbH|AG|LLC|Holdings|Co\.|Co|Vina";

static SUFFIXED_COMPANY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?:{NAME_WORD_OR_PAREN}\s){{1,8}}?(?:{LEGAL_SUFFIX})(?:\s|$|[,;:)(])"
    ))
    .expect("company regex")
});
static VIETNAMESE_COMPANY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?:Công ty|Công Ty|công ty|Tập đoàn|tập đoàn)(?: (?:TNHH|Cổ phần|cổ phần|CP|Liên doanh))?(?: (?:MTV|Một thành viên))?(?: {NAME_WORD}){{1,8}}"
    ))
    .expect("vi company regex")
});
static INVESTOR_NAMED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:(?-u:\b)investor|(?-u:\b)Investor|(?-u:\b)investoren|nhà đầu tư)\s+(?P<name>(?:[\p{Lu}][\p{L}\p{N}&\-]*)(?:\s[\p{Lu}][\p{L}\p{N}&\-]*){0,4})")
        .expect("investor regex")
});

/// "Singapore's New Motion", "South Korea's LG Innotek".
static COUNTRY_POSSESSIVE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:Singapore|South Korea|Korea|Japan|China|Taiwan|Hong Kong|Thailand|Malaysia|Germany|France|Sweden|Denmark|Norway|the Netherlands|Netherlands|India|Australia|the US|US|U\.S\.)['’]s\s+(?P<name>[\p{Lu}][\p{L}\p{N}&\-]*(?:\s[\p{Lu}\d][\p{L}\p{N}&\-]*){0,3})")
        .expect("possessive regex")
});
/// "electronics giant Samsung", "Chinese firm Sunwoda", "konsernet Foxconn".
static DESCRIBED_COMPANY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:(?-u:\b)firm|(?-u:\b)company|(?-u:\b)giant|(?-u:\b)manufacturer|(?-u:\b)maker|(?-u:\b)conglomerate|(?-u:\b)developer|(?-u:\b)konsernet|(?-u:\b)selskapet|(?-u:\b)Konzern|(?-u:\b)Hersteller)\s+(?P<name>[\p{Lu}][\p{L}\p{N}&\-]*(?:\s[\p{Lu}\d][\p{L}\p{N}&\-]*){0,3})")
        .expect("described company regex")
});

/// Words that start a sentence and are not part of a company name.
const LEADING_NOISE: &[&str] = &[
    "The",
    "A",
    "An",
    "In",
    "On",
    "At",
    "By",
    "For",
    "Among",
    "Additionally",
    "Also",
    "Meanwhile",
    "Recently",
    "Nylig",
    "Tilsvarende",
    "Der",
    "Die",
    "Das",
    "Den",
    "Det",
    "Ein",
    "Eine",
    // Generic nouns before a name ("das Unternehmen Amkor", German nouns are capitalised).
    "Unternehmen",
    "Konzern",
    "Firma",
    "Hersteller",
    "Investor",
    "Investoren",
    "Gruppe",
    "Konsernet",
    "Selskapet",
    "Company",
    "Firm",
    "Group",
];

/// A nationality word ("Japanske", "Korean", "südkoreanische") before a name.
fn is_nationality(word: &str) -> bool {
    let folded = crate::text::fold(word);
    folded.len() > 3
        && COUNTRIES
            .iter()
            .any(|(name, _)| name.len() >= 5 && !name.contains(' ') && folded.starts_with(name))
}

fn clean_name(raw: &str) -> String {
    let mut name = raw
        .trim()
        .trim_end_matches([',', ';', ':', '(', ')'])
        .trim()
        .to_string();
    loop {
        let first = name.split_whitespace().next().unwrap_or("");
        let noise = LEADING_NOISE.contains(&first) || is_nationality(first);
        if noise && name.split_whitespace().count() > 2 {
            name = name[first.len()..].trim_start().to_string();
        } else {
            break;
        }
    }
    name
}

/// Literal parts of every company pattern: a sentence with none of them
/// names no company, and the slower patterns are skipped.
static COMPANY_HINT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i:co\.|ltd|limited|company|jsc|corp|inc\.|gmbh|ag(?-u:\b)|llc|holdings|pte|công ty|tập đoàn|investor|nhà đầu tư|firm|giant|manufacturer|maker|conglomerate|developer|konsernet|selskapet|konzern|hersteller|co(?-u:\b)|vina(?-u:\b))|['’]s\s")
        .expect("company hint regex")
});

/// Company names in a piece of text (offsets relative to it).
pub fn find_companies(text: &str) -> Vec<CompanyMention> {
    if !COMPANY_HINT.is_match(text) {
        return Vec::new();
    }
    let mut out: Vec<CompanyMention> = Vec::new();
    let mut push = |start: usize, raw: &str| {
        let name = clean_name(raw);
        if name.split_whitespace().count() < 2 && !raw.contains("Ltd") && !raw.contains("JSC") {
            // A bare suffix or a single word is not enough.
            if name.len() < 3 {
                return;
            }
        }
        let offset = raw.find(name.as_str()).unwrap_or(0);
        let start = start + offset;
        let end = start + name.len();
        if out.iter().any(|c| c.start < end && start < c.end) {
            return;
        }
        let name = legal_form_last(&name);
        out.push(CompanyMention { name, start, end });
    };
    for m in VIETNAMESE_COMPANY.find_iter(text) {
        push(m.start(), m.as_str());
    }
    for m in SUFFIXED_COMPANY.find_iter(text) {
        // Only the suffix ("Ltd") with nothing before it is not a name.
        let raw = m.as_str();
        if raw.split_whitespace().count() >= 2 {
            push(m.start(), raw);
        }
    }
    for re in [&*INVESTOR_NAMED, &*COUNTRY_POSSESSIVE, &*DESCRIBED_COMPANY] {
        for caps in re.captures_iter(text) {
            if let Some(n) = caps.name("name") {
                push(n.start(), n.as_str());
            }
        }
    }
    out.sort_by_key(|c| c.start);
    out
}

/// Vietnamese legal forms written before the name, and how the name is
/// written with the form after it ("Công ty TNHH Vĩnh Tỷ" is "Vĩnh Tỷ
/// Co., Ltd"): the investor is the name, not the legal form.
const VIETNAMESE_LEGAL_FORMS: &[(&str, &str)] = &[
    ("Công ty TNHH MTV ", "Co., Ltd"),
    ("Công ty TNHH Một thành viên ", "Co., Ltd"),
    ("Công ty TNHH ", "Co., Ltd"),
    ("Công ty Cổ phần ", "JSC"),
    ("Công ty cổ phần ", "JSC"),
    ("Công ty CP ", "JSC"),
    ("Công ty Liên doanh ", "JV Co., Ltd"),
    ("Tập đoàn ", "Group"),
    ("tập đoàn ", "Group"),
    ("Công ty ", "Co."),
    ("Công Ty ", "Co."),
    ("công ty ", "Co."),
];

/// "Công ty TNHH X" as "X Co., Ltd"; other names unchanged.
fn legal_form_last(name: &str) -> String {
    VIETNAMESE_LEGAL_FORMS
        .iter()
        .find_map(|(form, suffix)| {
            // A name that ends the sentence keeps no full stop.
            let rest = name.strip_prefix(form)?.trim().trim_end_matches('.');
            (!rest.is_empty()).then(|| format!("{rest} {suffix}"))
        })
        .unwrap_or_else(|| name.to_string())
}

const COUNTRIES: &[(&str, &str)] = &[
    ("singapore", "SG"),
    ("korea", "KR"),
    ("korean", "KR"),
    ("koreansk", "KR"),
    ("sorkoreansk", "KR"),
    ("sudkoreanisch", "KR"),
    ("han quoc", "KR"),
    ("japan", "JP"),
    ("japanese", "JP"),
    ("japansk", "JP"),
    ("japanisch", "JP"),
    ("nhat ban", "JP"),
    ("china", "CN"),
    ("chinese", "CN"),
    ("kinesisk", "CN"),
    ("chinesisch", "CN"),
    ("trung quoc", "CN"),
    ("taiwan", "TW"),
    ("taiwanese", "TW"),
    ("dai loan", "TW"),
    ("hong kong", "HK"),
    ("sweden", "SE"),
    ("swedish", "SE"),
    ("svensk", "SE"),
    ("schwedisch", "SE"),
    ("thuy dien", "SE"),
    ("united states", "US"),
    ("american", "US"),
    ("hoa ky", "US"),
    ("germany", "DE"),
    ("german", "DE"),
    ("tysk", "DE"),
    ("deutsch", "DE"),
    ("duc", "DE"),
    ("cayman", "KY"),
    ("thailand", "TH"),
    ("thai lan", "TH"),
    ("malaysia", "MY"),
    ("netherlands", "NL"),
    ("dutch", "NL"),
    ("norway", "NO"),
    ("norwegian", "NO"),
    ("norsk", "NO"),
    ("france", "FR"),
    ("french", "FR"),
    ("india", "IN"),
    ("indian", "IN"),
    ("australia", "AU"),
    ("australian", "AU"),
    ("british", "GB"),
    ("denmark", "DK"),
    ("danish", "DK"),
];

/// Home country named in a folded window of text around an investor.
/// The country nearest to `anchor` (folded offset of the investor) wins.
pub fn country_near(folded_window: &str, anchor: usize, investor_folded: &str) -> Option<&'static str> {
    let mut best: Option<(usize, &'static str)> = None;
    for (name, code) in COUNTRIES {
        // The investor's own name ("Foxconn Singapore") is not a nationality
        // statement unless the country also appears outside it.
        let mut from = 0;
        while let Some(pos) = folded_window[from..].find(name) {
            let at = from + pos;
            from = at + name.len();
            let before_ok = at == 0 || !folded_window[..at].ends_with(|c: char| c.is_alphanumeric());
            let after = &folded_window[at + name.len()..];
            let after_ok = after.is_empty()
                || !after.starts_with(|c: char| c.is_alphanumeric())
                || after.starts_with('e') // "sørkoreanske", "koreanske"
                || after.starts_with("s ") // "Singapore's" folded as "singapore s"
                || after.starts_with('n');
            if !(before_ok && after_ok) {
                continue;
            }
            let inside_name = investor_folded.contains(name)
                && folded_window
                    .get(anchor..)
                    .is_some_and(|w| w.starts_with(investor_folded))
                && at >= anchor
                && at < anchor + investor_folded.len();
            if inside_name {
                continue;
            }
            let distance = at.abs_diff(anchor);
            if best.is_none_or(|(d, _)| distance < d) {
                best = Some((distance, code));
            }
        }
    }
    best.map(|(_, c)| c)
}

static ZONE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?P<en>(?:[\p{Lu}\d][\p{L}\p{N}\-–]*\s){1,5}(?:Industrial Park|Industrial Zone|Industrial Cluster|Economic Zone|Hi-Tech Park|High-Tech Park))|(?P<no>(?:[\p{Lu}\d][\p{L}\p{N}\-–]*\s){1,4}(?:industripark|industriklynge|Industriepark))|(?P<vi>(?:KCN|Khu công nghiệp|Cụm công nghiệp|CCN)(?:\s[\p{Lu}\d][\p{L}\p{N}\-–]*){1,4})")
        .expect("zone regex")
});

/// The industrial zone named nearest after `from` (or before it) in `sentence`.
pub fn zone_in(sentence: &str) -> Option<String> {
    let caps = ZONE.captures_iter(sentence).next()?;
    if let Some(m) = caps.name("en") {
        return Some(clean_name(m.as_str()));
    }
    if let Some(m) = caps.name("no") {
        let s = m.as_str().trim();
        let (name, _) = s.rsplit_once(' ')?;
        let kind = if s.ends_with("industriklynge") {
            "Industrial Cluster"
        } else {
            "Industrial Park"
        };
        return Some(format!("{} {kind}", clean_name(name)));
    }
    let m = caps.name("vi")?;
    let s = m.as_str();
    let (kind, name) = if let Some(rest) = s.strip_prefix("Cụm công nghiệp") {
        ("Industrial Cluster", rest)
    } else if let Some(rest) = s.strip_prefix("CCN") {
        ("Industrial Cluster", rest)
    } else if let Some(rest) = s.strip_prefix("Khu công nghiệp") {
        ("Industrial Park", rest)
    } else {
        ("Industrial Park", s.strip_prefix("KCN").unwrap_or(s))
    };
    Some(format!("{} {kind}", crate::text::fold_keep_case(name.trim())))
}

/// One sentence as seen by the project assembler.
pub(crate) struct ProjectSentence<'a> {
    /// The whole article.
    pub text: &'a str,
    pub start: usize,
    pub end: usize,
    /// Index of the sentence in the article.
    pub index: usize,
    /// All money mentions of the article, and those in this sentence.
    pub money: &'a [MoneyMention],
    pub money_here: &'a [usize],
    pub companies: &'a [CompanyMention],
    pub province: Option<&'static str>,
    /// The sentence reads like more about the last named company.
    pub plain_continuation: bool,
    /// Longest evidence sentence, in bytes (see [`crate::Bounds`]).
    pub max_evidence_bytes: usize,
    pub language: crate::Language,
}

/// The last named company: (name, its span, its sentence's bounds, sentence index).
pub(crate) type LastCompany = (String, (usize, usize), (usize, usize), usize);

/// Turn the amounts of one sentence into projects of the companies it names
/// (or of the last company named nearby, or of listed project names).
pub(crate) fn collect_projects(
    s: &ProjectSentence,
    cues: &CueIndex,
    last_company: &mut Option<LastCompany>,
    out: &mut Vec<Project>,
) {
    let mut assembler = Assembler::new(s, cues);
    if !s.companies.is_empty() {
        assembler.named_companies(last_company, out);
    } else if let Some(last) = last_company.clone() {
        assembler.continued_company(last, out);
    }
    // A list of projects ("...include: A ...; B ...; C ...") whose
    // other items name no investor: each item with an amount is a
    // project of its own, known by name only.
    let sentence_text = s.sentence_text();
    if sentence_text.matches(';').count() >= 1 && sentence_text.contains(':') {
        assembler.listed_projects(out);
    }
}

impl ProjectSentence<'_> {
    /// The sentence's own text.
    fn sentence_text(&self) -> &str {
        &self.text[self.start..self.end]
    }

    /// A project of amount `k` with no investor, name, country or zone yet.
    fn project_of_amount(&self, k: usize, kind: ProjectKind) -> Project {
        let m = &self.money[k];
        Project {
            investor: None,
            project: None,
            investor_country: None,
            zone: None,
            province: self.province.map(str::to_string),
            value: m.value,
            currency: m.currency.to_string(),
            kind,
            span: [m.start, m.end],
            sentence: crate::text::evidence(
                self.text,
                (self.start, self.end),
                [m.start, m.end],
                self.max_evidence_bytes,
            ),
        }
    }
}

/// Pairs the amounts of one sentence with investors, each amount at most once.
struct Assembler<'s, 'a> {
    s: &'s ProjectSentence<'a>,
    cues: &'s CueIndex,
    /// Amounts that can be a project's value (see `eligible_amounts`),
    /// found when first needed.
    eligible: OnceCell<Vec<usize>>,
    /// Expansion when the sentence speaks of added capital.
    kind: ProjectKind,
    /// The sentence's industrial zone, looked up when first needed.
    zone: OnceCell<Option<String>>,
    /// Amounts already given to a project.
    used: Vec<usize>,
}

impl<'s, 'a> Assembler<'s, 'a> {
    /// Settle what all the sentence's projects share: the amounts that can
    /// be a project's value, and the kind (expansion when the sentence speaks
    /// of added capital).
    fn new(s: &'s ProjectSentence<'a>, cues: &'s CueIndex) -> Self {
        let expansion = cues.any(s.start, s.end, Cue::Added) || cues.any(s.start, s.end, Cue::AddedMoneyOnly);
        Assembler {
            s,
            cues,
            eligible: OnceCell::new(),
            kind: if expansion {
                ProjectKind::Expansion
            } else {
                ProjectKind::New
            },
            zone: OnceCell::new(),
            used: Vec::new(),
        }
    }

    /// The amounts that can be a project's value (looked up once).
    fn eligible(&self) -> &[usize] {
        self.eligible.get_or_init(|| eligible_amounts(self.s, self.cues))
    }

    /// The industrial zone named in the sentence (looked up once).
    fn zone(&self) -> Option<String> {
        self.zone.get_or_init(|| zone_in(self.s.sentence_text())).clone()
    }

    /// A project of `company` valued at amount `k`, with the nationality
    /// stated near the company (within `bounds`, its sentence).
    fn company_project(&mut self, company: &CompanyMention, bounds: (usize, usize), k: usize) -> Project {
        self.used.push(k);
        let country = home_country(self.s.text, company, bounds);
        Project {
            investor: Some(company.name.clone()),
            investor_country: country.map(str::to_string),
            zone: self.zone(),
            ..self.s.project_of_amount(k, self.kind_between(company, k))
        }
    }

    /// The kind of the project between a company and its amount: what is
    /// said there ("X added $1 billion, while Y received a licence for
    /// ..."), else what the sentence says.
    fn kind_between(&self, company: &CompanyMention, k: usize) -> ProjectKind {
        let m = &self.s.money[k];
        let (lo, hi) = (company.start.min(m.start), company.end.max(m.end));
        let said = |cues: &[Cue]| cues.iter().any(|&cue| self.cues.any(lo, hi, cue));
        if said(&[Cue::Added, Cue::AddedMoneyOnly]) {
            ProjectKind::Expansion
        } else if said(&[Cue::New, Cue::Licensed]) {
            ProjectKind::New
        } else {
            self.kind
        }
    }

    /// Each named company takes the first free amount after it (before the
    /// next company, within its `;` clause), else the last free amount
    /// before it; the last one named is remembered.
    fn named_companies(&mut self, last_company: &mut Option<LastCompany>, out: &mut Vec<Project>) {
        let s = self.s;
        for (ci, company) in s.companies.iter().enumerate() {
            if let Some(k) = self.amount_for_company(ci) {
                out.push(self.company_project(company, (s.start, s.end), k));
            }
            *last_company = Some((
                company.name.clone(),
                (company.start, company.end),
                (s.start, s.end),
                s.index,
            ));
        }
    }

    /// The free amount that belongs to company `ci` of the sentence.
    fn amount_for_company(&self, ci: usize) -> Option<usize> {
        let s = self.s;
        let company = &s.companies[ci];
        let clause_lo = s.text[s.start..company.start]
            .rfind(';')
            .map_or(s.start, |i| s.start + i + 1);
        let clause_hi = s.text[company.end..s.end].find(';').map_or(s.end, |i| company.end + i);
        let next_company = s.companies.get(ci + 1).map_or(clause_hi, |n| n.start.min(clause_hi));
        let previous_company_end = if ci == 0 {
            clause_lo
        } else {
            s.companies[ci - 1].end.max(clause_lo)
        };
        let free = |k: &usize| !self.used.contains(k);
        let after = self
            .eligible()
            .iter()
            .copied()
            .filter(free)
            .find(|&k| s.money[k].start >= company.end && s.money[k].start < next_company);
        let before = self
            .eligible()
            .iter()
            .copied()
            .filter(free)
            .rfind(|&k| s.money[k].end <= company.start && s.money[k].start >= previous_company_end);
        // "a 120-million-USD plant of Taiwan's Compal": the amount named
        // just before "of <company>" is that company's.
        let owned_before = before.filter(|&k| owned_by_next_name(&s.text[s.money[k].end..company.start]));
        owned_before.or(after).or(before)
    }

    /// A sentence naming no company gives its first amount to the last
    /// company named (at most four sentences back) when it refers to it
    /// ("the company") or reads like more of the same project.
    fn continued_company(&mut self, last: LastCompany, out: &mut Vec<Project>) {
        let s = self.s;
        let (name, (start, end), bounds, at) = last;
        let anaphor = self.cues.any(s.start, s.end, Cue::CompanyAnaphor);
        let continues = s.index.saturating_sub(at) <= 4 && (anaphor || s.plain_continuation);
        if continues && let Some(&k) = self.eligible().first() {
            let company = CompanyMention { name, start, end };
            out.push(self.company_project(&company, bounds, k));
        }
    }

    /// Items of a listing sentence that name no company: each item with a
    /// free amount and a name of its own is a project known by name only.
    fn listed_projects(&mut self, out: &mut Vec<Project>) {
        let s = self.s;
        for (lo, hi) in list_items(s.sentence_text(), s.start) {
            let clause = &s.text[lo..hi];
            if s.companies.iter().any(|c| c.start < hi && c.end > lo) {
                continue;
            }
            let Some(k) = self
                .eligible()
                .iter()
                .copied()
                .find(|&k| !self.used.contains(&k) && s.money[k].start >= lo && s.money[k].end <= hi)
            else {
                continue;
            };
            let Some(name) = listed_project_name(clause) else {
                continue;
            };
            self.used.push(k);
            out.push(Project {
                project: Some(name),
                ..s.project_of_amount(k, self.kind)
            });
        }
    }
}

/// Amounts of the sentence that can be a project's value: not conversions,
/// not sums over several projects ("combined"), not new totals ("taking
/// the total capital to").
fn eligible_amounts(s: &ProjectSentence, cues: &CueIndex) -> Vec<usize> {
    let endpoints = change_endpoints(s);
    s.money_here
        .iter()
        .copied()
        .filter(|&k| {
            let m = &s.money[k];
            if m.converted || endpoints.contains(&k) {
                return false;
            }
            let seg = clause_start(s.text, s.start, m.start);
            let seg_end = clause_end(s.text, m.end, s.end);
            let not_investment = [Cue::Combined, Cue::NotInvestment, Cue::Withdrawn, Cue::Cumulative]
                .iter()
                .any(|&cue| cues.any(seg, seg_end, cue));
            !not_investment && !is_new_total_prefix(&fold(tail_before(s.text, s.start, m.start, 60)), s.language)
        })
        .collect()
}

/// Words that make the name after them the owner of what comes before
/// ("plant of", "nhà máy của", "fabrikk av", "Werk von").
const OWNED_BY: &[&str] = &["of", "by", "cua", "av", "von", "des", "der"];

/// Is `gap`, the text between an amount and a company, a short phrase
/// ending in "of <nationality>" ("plant of Taiwan's ")?
fn owned_by_next_name(gap: &str) -> bool {
    if gap.contains([',', ';', '(', ')']) {
        return false;
    }
    let folded = fold(gap);
    let words: Vec<&str> = folded.split_whitespace().collect();
    words.len() <= 6 && words.iter().rev().take(3).any(|w| OWNED_BY.contains(w))
}

/// At most `max` bytes of `text[from..to]`, from its end.
fn tail_before(text: &str, from: usize, to: usize, max: usize) -> &str {
    let start = crate::text::floor_boundary(text, to.saturating_sub(max).max(from));
    text.get(start..to).unwrap_or("")
}

/// Words that open and close a change of capital ("from 96.5 million USD
/// to 170.2 million USD", "tăng từ 231,45 tỷ đồng lên 346,4 tỷ đồng"):
/// its two ends are the capital before and after, not what this event
/// added.
const CHANGE_FROM: &[&str] = &["from", "tu", "fra", "von"];
const CHANGE_TO: &[&str] = &["to", "len", "til", "auf", "bis"];

/// The amounts (indices into `s.money`) from one that opens a change of
/// capital to the one that closes it, restatements in between included.
fn change_endpoints(s: &ProjectSentence) -> Vec<usize> {
    let word_before = |k: usize| {
        let m = &s.money[k];
        fold(tail_before(s.text, s.start, m.start, 12))
            .split_whitespace()
            .last()
            .map(str::to_string)
    };
    let is_in = |k: usize, words: &[&str]| word_before(k).is_some_and(|w| words.contains(&w.as_str()));
    let here = s.money_here;
    let mut ends = Vec::new();
    for (i, &k) in here.iter().enumerate() {
        if !is_in(k, CHANGE_FROM) || ends.contains(&k) {
            continue;
        }
        if let Some(j) = (i + 1..here.len()).find(|&j| is_in(here[j], CHANGE_TO)) {
            // "lên 346,4 tỷ đồng, khoảng 15 triệu USD": the new capital
            // restated in another currency.
            let restated = here.get(j + 1).is_some_and(|&n| {
                let (closing, next) = (&s.money[here[j]], &s.money[n]);
                let gap = s.text.get(closing.end..next.start).unwrap_or("");
                closing.currency != next.currency && gap.len() <= 20 && gap.contains([',', '('])
            });
            ends.extend_from_slice(&here[i..=j + usize::from(restated)]);
        }
    }
    ends
}

static ITEM_BREAK: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r";\s*|\s(?:and|og|và|und|sowie)\s+\p{Lu}").expect("item regex"));

/// Items of a listing sentence: pieces between `;` and between "and"/"og"/
/// "và"/"und" when the next word is capitalised (a new name), as byte ranges.
fn list_items(sentence: &str, base: usize) -> Vec<(usize, usize)> {
    let mut items = Vec::new();
    let mut start = 0;
    for m in ITEM_BREAK.find_iter(sentence) {
        items.push((base + start, base + m.start()));
        // A conjunction match ends with the capital that starts the next item.
        let capital_len = m
            .as_str()
            .chars()
            .next_back()
            .filter(|c| c.is_uppercase())
            .map_or(0, char::len_utf8);
        start = m.end() - capital_len;
    }
    items.push((base + start, base + sentence.len()));
    items
}

/// Name of a project listed in a clause ("Dong Son tørrhavn med en
/// investeringskapital på ..." -> "Dong Son tørrhavn"): the clause's opening
/// words up to the first preposition, when they start with a capital.
fn listed_project_name(clause: &str) -> Option<String> {
    let trimmed = clause.trim();
    if !trimmed.starts_with(char::is_uppercase) {
        return None;
    }
    const STOPS: &[&str] = &[
        "med", "with", "i", "in", "at", "tại", "với", "ở", "mit", "im", "for", "worth", "verdt", "costing", "có",
        "của", "von", "på", "on",
    ];
    let mut words = Vec::new();
    for word in trimmed.split_whitespace() {
        if STOPS.contains(&word) || word.starts_with(|c: char| c.is_ascii_digit() || c == '(' || c == '$') {
            break;
        }
        words.push(word.trim_end_matches(','));
        if word.ends_with(',') || words.len() >= 8 {
            break;
        }
    }
    (words.len() >= 2).then(|| words.join(" "))
}

/// Nationality stated near a company name (within its sentence).
fn home_country(text: &str, company: &CompanyMention, sentence: (usize, usize)) -> Option<&'static str> {
    let window_start = crate::text::floor_boundary(text, company.start.saturating_sub(120).max(sentence.0));
    let window_end = crate::text::floor_boundary(text, (company.end + 80).min(sentence.1).max(company.end));
    let window = fold(text.get(window_start..window_end)?);
    let anchor = fold(text.get(window_start..company.start)?).len();
    country_near(&window, anchor, &fold(&company.name))
}

#[cfg(test)]
mod pattern_tests {
    use super::*;

    #[test]
    fn all_patterns_compile() {
        LazyLock::force(&SUFFIXED_COMPANY);
        LazyLock::force(&VIETNAMESE_COMPANY);
        LazyLock::force(&INVESTOR_NAMED);
        LazyLock::force(&COUNTRY_POSSESSIVE);
        LazyLock::force(&DESCRIBED_COMPANY);
        LazyLock::force(&COMPANY_HINT);
        LazyLock::force(&ZONE);
        LazyLock::force(&ITEM_BREAK);
    }

    #[test]
    fn list_items_split_at_semicolons_and_new_names() {
        let s = "Projects include: A port worth $5 million; B park and Cee Dock with $2 million";
        let items: Vec<&str> = list_items(s, 0).into_iter().map(|(a, b)| &s[a..b]).collect();
        assert_eq!(
            items,
            vec![
                "Projects include: A port worth $5 million",
                "B park",
                "Cee Dock with $2 million"
            ]
        );
        assert_eq!(
            listed_project_name("Dong Son tørrhavn med en kapital"),
            Some("Dong Son tørrhavn".into())
        );
    }
}
