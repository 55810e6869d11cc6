//! Cue words, per language, that tell what a figure is about: new versus
//! added capital, foreign versus domestic, running totals, targets...
//! All patterns run on accent-folded lowercase text (see `text::Folded`).

use crate::text::Folded;
use regex::Regex;
use std::sync::LazyLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cue {
    /// Newly licensed projects / capital.
    New,
    /// Weaker "new" cue for project counts only ("attracted", "tiếp nhận").
    NewWeak,
    /// Certificates handed out: new projects when said before a count.
    Licensed,
    /// Capital added to existing projects.
    Added,
    /// "additional", "extra": added capital, but not "additional projects".
    AddedMoneyOnly,
    Target,
    Foreign,
    Domestic,
    /// Converted sums of both ("quy đổi"): scope all.
    Converted,
    /// Running totals at a date ("as of", "home to", "còn hiệu lực").
    Stock,
    /// Running-total wording that yields to an explicit period ("dermed", "bringing the total").
    StockWeak,
    /// Investment vocabulary (capital, FDI, vốn...): money in a sentence
    /// without it is not an investment statistic.
    Investment,
    /// Projects about to start operating: counts of kind "other".
    Operating,
    /// "the company", "selskapet": a sentence about one investor.
    CompanyAnaphor,
    /// "combined", "in total": a sum over several projects.
    Combined,
    /// A superset that later parts of the sentence split up ("total number", "insgesamt").
    Superset,
    /// Capital contributions and share purchases: a third kind of FDI flow
    /// with no metric of its own.
    Contribution,
    /// A source country ("from Japan", "South Korea led with"): per-country
    /// figures are not province totals.
    Country,
    /// Figures for the whole country, not a province.
    National,
    /// Averages and per-project amounts: not totals.
    PerUnit,
    /// Plans, pipelines and forecasts: not reported results.
    Prospective,
    /// The amount is a new total, not an addition ("taking ... to").
    NewTotal,
}

const PATTERNS: &[(Cue, &str)] = &[
    (
        Cue::New,
        r"(?-u:\b)new(?:ly)?(?-u:\b)|(?-u:\b)newcomers?(?-u:\b)|(?-u:\b)cap moi(?-u:\b)|(?-u:\b)chap thuan chu truong(?-u:\b)|(?-u:\b)cap phep moi(?-u:\b)|(?-u:\b)moi(?-u:\b)|(?-u:\b)nye?(?-u:\b)|(?-u:\b)nyregistrert[0-9a-z_]*|(?-u:\b)nyetablert[0-9a-z_]*|(?-u:\b)neue?[nrs]?(?-u:\b)",
    ),
    (
        Cue::NewWeak,
        r"(?-u:\b)attract[0-9a-z_]*|(?-u:\b)drew(?-u:\b)|(?-u:\b)registered(?-u:\b)|(?-u:\b)tiep nhan(?-u:\b)|(?-u:\b)thu hut(?-u:\b)|(?-u:\b)don(?-u:\b)|(?-u:\b)registriert[0-9a-z_]*|(?-u:\b)angezogen(?-u:\b)|(?-u:\b)tiltrakk[0-9a-z_]*|(?-u:\b)registrerte(?-u:\b)",
    ),
    (
        Cue::Licensed,
        r"(?-u:\b)licen[cs][0-9a-z_]*|(?-u:\b)certificates?(?-u:\b)|(?-u:\b)giay chung nhan(?-u:\b)|(?-u:\b)sertifikat[0-9a-z_]*|(?-u:\b)lisens[0-9a-z_]*|(?-u:\b)genehmig[0-9a-z_]*|(?-u:\b)approved(?-u:\b)",
    ),
    (
        Cue::Added,
        r"(?-u:\b)adjust[0-9a-z_]*|(?-u:\b)amend[0-9a-z_]*|(?-u:\b)capital[- ]added(?-u:\b)|(?-u:\b)added(?-u:\b)|(?-u:\b)expan[0-9a-z_]*|(?-u:\b)(?:raised?|raising|increased?|increasing|lifting|lifted|boosted?)(?-u:\b)[^.,;]{0,30}(?-u:\b)capital(?-u:\b)|(?-u:\b)capital increases?(?-u:\b)|(?-u:\b)dieu chinh(?-u:\b)|(?-u:\b)tang von(?-u:\b)|(?-u:\b)tang them(?-u:\b)|(?-u:\b)bo sung(?-u:\b)|(?-u:\b)okte(?-u:\b)|(?-u:\b)oke(?-u:\b)|(?-u:\b)utvid[0-9a-z_]*|(?-u:\b)kapitalanpassung[0-9a-z_]*|(?-u:\b)kapitalerhohung[0-9a-z_]*|(?-u:\b)stockten?(?-u:\b)|(?-u:\b)aufgestockt(?-u:\b)|(?-u:\b)aufstock[0-9a-z_]*|(?-u:\b)erhoht[0-9a-z_]*|(?-u:\b)juster[0-9a-z_]*",
    ),
    (
        Cue::AddedMoneyOnly,
        r"(?-u:\b)additional(?-u:\b)|(?-u:\b)extra(?-u:\b)|(?-u:\b)further(?-u:\b)|(?-u:\b)ytterligere(?-u:\b)|(?-u:\b)zusatzlich[0-9a-z_]*",
    ),
    (
        Cue::Target,
        r"(?-u:\b)targets?(?-u:\b)|(?-u:\b)goal(?-u:\b)|(?-u:\b)aims? (?:at|to)(?-u:\b)|(?-u:\b)ke hoach(?-u:\b)|(?-u:\b)muc tieu(?-u:\b)|(?-u:\b)chi tieu(?-u:\b)|(?-u:\b)malet(?-u:\b)|(?-u:\b)mal om(?-u:\b)|(?-u:\b)ziel[0-9a-z_]*",
    ),
    (
        Cue::Foreign,
        r"(?-u:\b)fdi(?-u:\b)|(?-u:\b)foreign[0-9a-z_]*|(?-u:\b)overseas(?-u:\b)|(?-u:\b)nuoc ngoai(?-u:\b)|(?-u:\b)utenlandsk[0-9a-z_]*|(?-u:\b)utlandet(?-u:\b)|(?-u:\b)utenlands[0-9a-z_]*|(?-u:\b)auslandisch[0-9a-z_]*|(?-u:\b)auslands[0-9a-z_]*|(?-u:\b)direktinvest[0-9a-z_]*|(?-u:\b)direkteinvest[0-9a-z_]*",
    ),
    (
        Cue::Domestic,
        r"(?-u:\b)ddi(?-u:\b)|(?-u:\b)domestic[0-9a-z_]*|(?-u:\b)trong nuoc(?-u:\b)|(?-u:\b)noi dia(?-u:\b)|(?-u:\b)innenlandsk[0-9a-z_]*|(?-u:\b)inlandisch[0-9a-z_]*|(?-u:\b)vietnamese investors?(?-u:\b)",
    ),
    (
        Cue::Converted,
        r"(?-u:\b)converted(?-u:\b)|(?-u:\b)quy doi(?-u:\b)|(?-u:\b)konvertert[0-9a-z_]*|(?-u:\b)umgerechnet(?-u:\b)|(?-u:\b)both domestic and foreign(?-u:\b)",
    ),
    (
        Cue::Stock,
        r"(?-u:\b)as of(?-u:\b)|(?-u:\b)as at(?-u:\b)|(?-u:\b)home to(?-u:\b)|(?-u:\b)valid(?-u:\b)|(?-u:\b)housed?(?-u:\b)|(?-u:\b)currently(?-u:\b)|(?-u:\b)to date(?-u:\b)|(?-u:\b)tinh den(?-u:\b)|(?-u:\b)tinh toi(?-u:\b)|(?-u:\b)con hieu luc(?-u:\b)|(?-u:\b)hien co(?-u:\b)|(?-u:\b)hien (?:cac|co|nay|tai|dang)(?-u:\b)|(?-u:\b)hien nay(?-u:\b)|(?-u:\b)per \d|(?-u:\b)huset(?-u:\b)|(?-u:\b)finnes det(?-u:\b)|(?-u:\b)per i dag(?-u:\b)|(?-u:\b)gultige?n?(?-u:\b)|(?-u:\b)gyldige?(?-u:\b)|(?-u:\b)zum stichtag(?-u:\b)|(?-u:\b)derzeit(?-u:\b)|(?-u:\b)bislang insgesamt(?-u:\b)|(?-u:\b)accumulated(?-u:\b)|(?-u:\b)cumulative[0-9a-z_]*",
    ),
    (
        Cue::StockWeak,
        r"(?-u:\b)bringing the total(?-u:\b)|(?-u:\b)luy ke (?:den|toi)(?-u:\b)|(?-u:\b)kommet opp i(?-u:\b)|(?-u:\b)samlede(?-u:\b)",
    ),
    (
        Cue::Investment,
        r"invest[0-9a-z_]*|(?-u:\b)capital(?-u:\b)|kapital[0-9a-z_]*|(?-u:\b)fdi(?-u:\b)|(?-u:\b)ddi(?-u:\b)|(?-u:\b)von(?-u:\b)|(?-u:\b)dau tu(?-u:\b)|(?-u:\b)kapital[0-9a-z_]*|(?-u:\b)pledged(?-u:\b)|(?-u:\b)registered(?-u:\b)|(?-u:\b)drew(?-u:\b)|(?-u:\b)attract[0-9a-z_]*|(?-u:\b)hut(?-u:\b)|(?-u:\b)tiltrakk[0-9a-z_]*|(?-u:\b)angezogen(?-u:\b)",
    ),
    (
        Cue::Operating,
        r"(?-u:\b)start operat[0-9a-z_]*|(?-u:\b)under construction(?-u:\b)|(?-u:\b)put into operation(?-u:\b)|(?-u:\b)break ground(?-u:\b)|(?-u:\b)di vao hoat dong(?-u:\b)|(?-u:\b)khoi cong(?-u:\b)|(?-u:\b)i drift(?-u:\b)|(?-u:\b)in betrieb(?-u:\b)",
    ),
    (
        Cue::CompanyAnaphor,
        r"(?-u:\b)the company(?-u:\b)|(?-u:\b)the firm(?-u:\b)|(?-u:\b)the investor(?-u:\b)|(?-u:\b)selskapet(?-u:\b)|(?-u:\b)bedriften(?-u:\b)|(?-u:\b)das unternehmen(?-u:\b)|(?-u:\b)die firma(?-u:\b)|(?-u:\b)cong ty(?-u:\b)|(?-u:\b)doanh nghiep nay(?-u:\b)|(?-u:\b)the group(?-u:\b)|(?-u:\b)konsernet(?-u:\b)|(?-u:\b)the project(?-u:\b)|(?-u:\b)the factory(?-u:\b)|(?-u:\b)the plant(?-u:\b)|(?-u:\b)fabrikk[0-9a-z_]*|(?-u:\b)company(?-u:\b)",
    ),
    (
        Cue::Combined,
        r"(?-u:\b)combined(?-u:\b)|(?-u:\b)together(?-u:\b)|(?-u:\b)cong lai(?-u:\b)|(?-u:\b)til sammen(?-u:\b)|(?-u:\b)zusammen(?-u:\b)",
    ),
    (
        Cue::Superset,
        r"(?-u:\b)total number(?-u:\b)|(?-u:\b)total of(?-u:\b)|(?-u:\b)insgesamt(?-u:\b)|(?-u:\b)tong cong(?-u:\b)|(?-u:\b)i alt(?-u:\b)|(?-u:\b)in all(?-u:\b)|(?-u:\b)totalt(?-u:\b)",
    ),
    (
        Cue::Prospective,
        r"(?-u:\b)working through(?-u:\b)|(?-u:\b)in the pipeline(?-u:\b)|(?-u:\b)surveying(?-u:\b)|(?-u:\b)expects?(?-u:\b)|(?-u:\b)expected to(?-u:\b)|(?-u:\b)plans? to(?-u:\b)|(?-u:\b)du kien(?-u:\b)|(?-u:\b)forventer(?-u:\b)|(?-u:\b)forventes(?-u:\b)|(?-u:\b)erwartet(?-u:\b)|(?-u:\b)dang lam thu tuc(?-u:\b)|(?-u:\b)soll(?:en)?(?-u:\b)",
    ),
    (
        Cue::National,
        r"(?-u:\b)(?:ca nuoc|nationwide|the whole country|the country as a whole|vietnam as a whole|vietnam attracted|vietnam drew|vietnam received|vietnam's total|viet nam thu hut|vietnam thu hut|hele landet|landet totalt|vietnam tiltrakk|bundesweit|landesweit|vietnam zog|vietnam hat)(?-u:\b)",
    ),
    (
        Cue::PerUnit,
        r"(?-u:\b)(?:per project|each project|per investor|on average|an average|average|moi du an|binh quan|trung binh|per prosjekt|i snitt|gjennomsnitt[0-9a-z_]*|pro projekt|durchschnitt[0-9a-z_]*)(?-u:\b)",
    ),
    (
        Cue::Contribution,
        r"(?-u:\b)capital contributions?(?-u:\b)|(?-u:\b)share purchases?(?-u:\b)|(?-u:\b)contributed capital(?-u:\b)|(?-u:\b)gop von(?-u:\b)|(?-u:\b)mua co phan(?-u:\b)|(?-u:\b)kapitalinnskudd(?-u:\b)|(?-u:\b)aksjekjop(?-u:\b)|(?-u:\b)kapitalbeteiligung[0-9a-z_]*|(?-u:\b)anteilskauf[0-9a-z_]*",
    ),
    (
        Cue::Country,
        r"(?-u:\b)(?:from|tu|den tu|fra|aus) (?:south korea|korea|japan|china|singapore|taiwan|hong kong|thailand|malaysia|the united states|the us|the netherlands|germany|france|the british virgin islands|han quoc|nhat ban|trung quoc|dai loan|thai lan|hoa ky|sor-korea|kina|sudkorea)(?-u:\b)|(?-u:\b)(?:south korea|korea|japan|china|singapore|taiwan|hong kong|thailand|malaysia|the united states|the us|the netherlands|germany|france|the british virgin islands|han quoc|nhat ban|trung quoc|dai loan|thai lan|hoa ky|sor-korea|kina|sudkorea) (?:led|ranked|topped|accounted|came first|dan dau|dung dau|ledet|lag pa topp|fuhrte|lag vorn)(?-u:\b)|(?-u:\b)(?:japanese|korean|south korean|chinese|singaporean|singapore|taiwanese|thai|american|european|german|french|dutch|hong kong|japanske|koreanske|sorkoreanske|kinesiske|japanische|koreanische|sudkoreanische|chinesische) (?:investors?|investorer|investoren|firms?|companies|enterprises)(?-u:\b)|(?-u:\b)nha dau tu (?:han quoc|nhat ban|trung quoc|dai loan|singapore|hong kong|my|duc)(?-u:\b)",
    ),
    (
        Cue::NewTotal,
        r"(?-u:\b)taking(?-u:\b)[^.;]{0,40}(?-u:\b)to(?-u:\b)\s*$|(?-u:\b)bringing(?-u:\b)[^.;]{0,40}(?-u:\b)to(?-u:\b)\s*$|(?-u:\b)len\s*$|(?-u:\b)auf\s*$",
    ),
];

static COMPILED: LazyLock<Vec<(Cue, Regex)>> = LazyLock::new(|| {
    PATTERNS
        .iter()
        .filter(|(cue, _)| *cue != Cue::NewTotal)
        .map(|(cue, p)| (*cue, Regex::new(p).expect("cue regex")))
        .collect()
});

/// One cue occurrence, as original-text byte offsets.
#[derive(Debug, Clone, Copy)]
pub struct CueHit {
    pub cue: Cue,
    pub start: usize,
    pub end: usize,
}

/// All cue hits of a document, sorted by position.
pub struct CueIndex {
    hits: Vec<CueHit>,
}

impl CueIndex {
    /// Index the cues of a whole folded document (one pass per cue kind;
    /// long haystacks are much cheaper for the regex engine than many
    /// short ones).
    pub fn build(folded: &Folded) -> Self {
        let mut hits = Vec::new();
        for (cue, re) in COMPILED.iter() {
            for m in re.find_iter(&folded.text) {
                hits.push(CueHit {
                    cue: *cue,
                    start: folded.original(m.start()),
                    end: folded.original(m.end()),
                });
            }
        }
        hits.sort_by_key(|h| h.start);
        CueIndex { hits }
    }

    /// Hits lying entirely inside `[start, end)`.
    pub fn within(&self, start: usize, end: usize) -> impl Iterator<Item = &CueHit> {
        let first = self.hits.partition_point(|h| h.start < start);
        self.hits[first..]
            .iter()
            .take_while(move |h| h.start < end)
            .filter(move |h| h.end <= end)
    }

    pub fn any(&self, start: usize, end: usize, cue: Cue) -> bool {
        self.within(start, end).any(|h| h.cue == cue)
    }

    /// The hit of one of `cues` nearest to `end` (searching backwards).
    pub fn last_of(&self, start: usize, end: usize, cues: &[Cue]) -> Option<CueHit> {
        self.within(start, end)
            .filter(|h| cues.contains(&h.cue))
            .last()
            .copied()
    }

    /// The hit of one of `cues` nearest to `start` (searching forwards).
    pub fn first_of(&self, start: usize, end: usize, cues: &[Cue]) -> Option<CueHit> {
        self.within(start, end).find(|h| cues.contains(&h.cue)).copied()
    }
}

static NEW_TOTAL: LazyLock<Regex> = LazyLock::new(|| {
    let pattern = PATTERNS
        .iter()
        .find(|(c, _)| *c == Cue::NewTotal)
        .map(|(_, p)| *p)
        .unwrap_or("$^");
    Regex::new(pattern).expect("new-total regex")
});

/// Does the folded text right before an amount say it is a new total
/// ("taking the project's total capital to")?
pub fn is_new_total_prefix(folded_before: &str) -> bool {
    NEW_TOTAL.is_match(folded_before)
}

#[cfg(test)]
mod pattern_tests {
    use super::*;

    #[test]
    fn all_patterns_compile() {
        LazyLock::force(&COMPILED);
        LazyLock::force(&NEW_TOTAL);
    }
}
