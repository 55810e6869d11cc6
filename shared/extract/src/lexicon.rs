//! The cue lexicons, one table per language plus one shared by all: plain
//! data, reviewed like data. Adding a phrasing is adding a line here.
//!
//! Every entry is a phrase of accent-folded lowercase words (as
//! `text::fold` writes them: "tăng vốn" is `tang von`, "ausländisch" is
//! `auslandisch`), matched on word boundaries, with four marks:
//! - `*` at the end of a word: the word may go on ("licen*" = licence,
//!   licensed, licensing);
//! - `*` at the start of the phrase: it may also start inside a word
//!   ("*invest*" finds "Direktinvestitionen");
//! - ` ~ ` between words: up to 40 characters of the same clause between
//!   them ("raised ~ capital");
//! - `#`: a digit ("per #" as in "per 27. oktober");
//! - `$` at the end: only right before the figure (new-total prefixes).
//!
//! The language of an article picks its table; the shared table applies
//! to every article.

use crate::cues::Cue;
use crate::lang::Language;

/// A cue and the phrases that mark it.
pub type Entry = (Cue, &'static [&'static str]);

/// Phrases that mean the same in every language we read.
pub const SHARED: &[Entry] = &[
    (Cue::Foreign, &["fdi"]),
    (Cue::Domestic, &["ddi"]),
    (Cue::Investment, &["*invest*", "fdi", "ddi"]),
];

pub const ENGLISH: &[Entry] = &[
    (Cue::New, &["new", "newly", "newcomer", "newcomers"]),
    (Cue::NewWeak, &["attract*", "drew", "registered"]),
    (
        Cue::Licensed,
        &[
            "licenc*",
            "licens*",
            "certificate",
            "certificates",
            "approved",
            "granted",
        ],
    ),
    (
        Cue::Added,
        &[
            "adjust*",
            "amend*",
            "capital added",
            "capital-added",
            "added",
            "adding",
            "expan*",
            "raise ~ capital",
            "raised ~ capital",
            "raising ~ capital",
            "increase ~ capital",
            "increased ~ capital",
            "increasing ~ capital",
            "lifting ~ capital",
            "lifted ~ capital",
            "boost ~ capital",
            "boosted ~ capital",
            "raise ~ investment",
            "raised ~ investment",
            "increase ~ investment",
            "increased ~ investment",
            "capital raised",
            "capital increase",
            "capital increases",
            "additional investment",
            "additional capital",
        ],
    ),
    (Cue::AddedMoneyOnly, &["additional", "extra", "further"]),
    (Cue::Overall, &["total", "overall", "entire"]),
    (Cue::Now, &["now", "currently", "to date", "so far"]),
    (
        Cue::Past,
        &["last year", "previous year", "a year earlier", "the year before"],
    ),
    (
        Cue::Cumulative,
        &["since #", "to date", "so far", "accumulated", "cumulative*"],
    ),
    (
        Cue::NewAndAdded,
        &[
            "new and additional",
            "new and added",
            "new and expanded",
            "new and adjusted",
            "new or additional",
        ],
    ),
    (
        Cue::Target,
        &[
            "target",
            "targets",
            "goal",
            "goals",
            "aim at",
            "aims at",
            "aim to",
            "aims to",
            "aiming for",
            "aiming to",
            "set sights on",
            "strive*",
        ],
    ),
    (Cue::Foreign, &["foreign*", "overseas"]),
    (
        Cue::Domestic,
        &["domestic*", "vietnamese investor", "vietnamese investors"],
    ),
    (Cue::Converted, &["converted", "both domestic and foreign"]),
    (
        Cue::Stock,
        &[
            "as of",
            "as at",
            "home to",
            "valid",
            "house",
            "housed",
            "hosts",
            "now host",
            "currently",
            "to date",
            "accumulated",
            "cumulative*",
            "over the years",
        ],
    ),
    (Cue::StockWeak, &["bringing the total", "operational", "in operation"]),
    (
        Cue::Investment,
        &["capital", "pledged", "registered", "drew", "attract*"],
    ),
    (
        Cue::Operating,
        &[
            "start operat*",
            "started operat*",
            "under construction",
            "put into operation",
            "break ground",
            "broke ground",
            "started production",
            "began production",
        ],
    ),
    (
        Cue::InOperation,
        &["in operation", "operating", "operational", "active"],
    ),
    (
        Cue::Existing,
        &["existing", "already operating", "already in operation"],
    ),
    (
        Cue::Withdrawn,
        &[
            "terminated",
            "revoked",
            "withdrew",
            "withdrawn",
            "reduced their capital",
            "reduced capital",
            "cut their capital",
        ],
    ),
    (
        Cue::CompanyAnaphor,
        &[
            "the company",
            "the firm",
            "the investor",
            "the group",
            "the project",
            "the factory",
            "the plant",
            "company",
        ],
    ),
    (Cue::Combined, &["combined", "together", "in total"]),
    (Cue::Superset, &["total number", "total of", "in all"]),
    (
        Cue::Prospective,
        &[
            "working through",
            "in the pipeline",
            "surveying",
            "expect",
            "expects",
            "expected to",
            "plan to",
            "plans to",
        ],
    ),
    (
        Cue::National,
        &[
            "nationwide",
            "the whole country",
            "the country as a whole",
            "vietnam as a whole",
            "vietnam attracted",
            "vietnam drew",
            "vietnam received",
            "vietnam's total",
        ],
    ),
    (
        Cue::PerUnit,
        &[
            "per project",
            "each project",
            "per investor",
            "per enterprise",
            "on average",
            "an average",
            "average",
        ],
    ),
    (
        Cue::Contribution,
        &[
            "capital contribution",
            "capital contributions",
            "share purchase",
            "share purchases",
            "contributed capital",
            "buying stakes",
            "stake purchases",
        ],
    ),
    (
        Cue::NotInvestment,
        &[
            "revenue*",
            "sales",
            "exports",
            "exported",
            "export value",
            "export earnings",
            "export turnover",
            "tax",
            "taxes",
            "budget",
            "state budget",
            "donat*",
            "wage*",
            "salar*",
            "enterprises",
            "businesses",
            "charter capital",
            "social investment",
            "disbursed",
            "realised",
            "realized",
            "actually invested",
        ],
    ),
    (
        Cue::Ceremony,
        &[
            "ceremony",
            "presented ~ licen*",
            "presented ~ certificate*",
            "handed over ~ licen*",
            "handed over ~ certificate*",
            "hands ~ licen*",
            "hands ~ certificate*",
        ],
    ),
    (
        Cue::Subset,
        &[
            "of which",
            "of them",
            "of these",
            "of those",
            "account for",
            "accounted for",
            "a further",
            "another",
        ],
    ),
    (
        Cue::NewTotal,
        &["taking ~ to$", "bringing ~ to$", "raising ~ to$", "lifting ~ to$"],
    ),
];

pub const VIETNAMESE: &[Entry] = &[
    (Cue::New, &["cap moi", "chap thuan chu truong", "cap phep moi", "moi"]),
    (Cue::NewWeak, &["tiep nhan", "thu hut", "don"]),
    (Cue::Licensed, &["giay chung nhan", "cap phep"]),
    (
        Cue::Added,
        &[
            "dieu chinh",
            "tang von",
            "tang them",
            "bo sung",
            "mo rong",
            "von tang them",
        ],
    ),
    (
        Cue::NewAndAdded,
        &[
            "cap moi va tang them",
            "cap moi va von tang them",
            "cap moi va dieu chinh",
            "moi va tang them",
        ],
    ),
    (
        Cue::Target,
        // Not "kế hoạch" alone: the Department of Planning and Investment
        // (Sở Kế hoạch và Đầu tư) reports most results.
        &[
            "ke hoach thu hut",
            "ke hoach nam",
            "ke hoach de ra",
            "theo ke hoach",
            "muc tieu",
            "chi tieu",
            "phan dau",
            "huong toi",
        ],
    ),
    (Cue::Overall, &["tong"]),
    (Cue::Now, &["hien nay", "hien tai", "den nay"]),
    (Cue::Past, &["nam ngoai", "nam truoc"]),
    (Cue::Cumulative, &["tu nam #", "luy ke", "den nay"]),
    (Cue::Foreign, &["nuoc ngoai"]),
    (Cue::Domestic, &["trong nuoc", "noi dia"]),
    (Cue::Converted, &["quy doi"]),
    (
        Cue::Stock,
        &[
            "tinh den",
            "tinh toi",
            "con hieu luc",
            "hien co",
            "hien cac",
            "hien nay",
            "hien tai",
            "hien dang",
            "luy ke den",
            "luy ke toi",
        ],
    ),
    (Cue::Investment, &["von", "dau tu", "hut"]),
    (Cue::Operating, &["di vao hoat dong", "khoi cong"]),
    (Cue::InOperation, &["dang hoat dong"]),
    (Cue::StockWeak, &["dang hoat dong"]),
    (Cue::Existing, &["hien huu"]),
    (Cue::Withdrawn, &["thu hoi", "cham dut", "giam von"]),
    (
        Cue::CompanyAnaphor,
        &["cong ty", "doanh nghiep nay", "nha may nay", "nha may co"],
    ),
    (Cue::Combined, &["cong lai", "cua cac du an"]),
    (Cue::Superset, &["tong cong"]),
    (Cue::Prospective, &["du kien", "dang lam thu tuc"]),
    (Cue::National, &["ca nuoc", "viet nam thu hut", "vietnam thu hut"]),
    (Cue::PerUnit, &["moi du an", "binh quan", "trung binh"]),
    (Cue::Contribution, &["gop von", "mua co phan"]),
    (
        Cue::NotInvestment,
        &[
            "doanh thu",
            "xuat khau",
            "ngan sach",
            "nop ngan sach",
            "ung ho",
            "tai tro",
            "tien luong",
            "von dieu le",
            "doanh nghiep thanh lap moi",
            "doanh nghiep dang ky thanh lap",
            "thue",
            "giai ngan",
            "von thuc hien",
        ],
    ),
    (Cue::Ceremony, &["buoi le", "tai le", "le trao", "le ky niem"]),
    (Cue::Subset, &["trong do", "trong so nay", "trong so do", "chiem"]),
    (Cue::NewTotal, &["len$"]),
];

pub const NORWEGIAN: &[Entry] = &[
    (Cue::New, &["ny", "nye", "nyregistrert*", "nyetablert*"]),
    (Cue::NewWeak, &["tiltrakk*", "tiltrukket", "registrerte"]),
    (Cue::Licensed, &["*sertifikat*", "*lisens*", "godkjen*"]),
    (Cue::Added, &["okte", "oke", "utvid*", "juster*", "kapitaloking*"]),
    (Cue::AddedMoneyOnly, &["ytterligere"]),
    (Cue::Overall, &["totalt", "totale", "i alt", "hele"]),
    (Cue::Now, &["na", "per i dag", "i dag"]),
    (Cue::Past, &["i fjor", "aret for"]),
    (Cue::Cumulative, &["siden #", "hittil"]),
    (Cue::NewAndAdded, &["ny og okt", "nye og okte", "ny og ytterligere"]),
    (
        Cue::Target,
        &[
            "malet",
            "mal om",
            "som mal",
            "malsetting*",
            "sikter ~ mot",
            "sikte ~ mot",
            "tar sikte pa",
        ],
    ),
    (
        Cue::Foreign,
        &["utenlandsk*", "utlandet", "utenlands*", "direktinvest*"],
    ),
    (Cue::Domestic, &["innenlandsk*"]),
    (Cue::Converted, &["konvertert*"]),
    (
        Cue::Stock,
        &[
            "huset",
            "huser",
            "finnes det",
            "per i dag",
            "gyldig",
            "gyldige",
            "per #",
            "pa samme dato",
        ],
    ),
    (Cue::StockWeak, &["kommet opp i", "na", "i drift"]),
    (Cue::Investment, &["*kapital*", "tiltrakk*", "tiltrukket", "tiltrekk*"]),
    (Cue::Operating, &["satt i drift", "startet produksjon*"]),
    (Cue::InOperation, &["i drift", "aktive"]),
    (Cue::Existing, &["eksisterende"]),
    (
        Cue::Withdrawn,
        &["skrev ned", "nedskrev*", "avviklet", "trukket tilbake"],
    ),
    (
        Cue::CompanyAnaphor,
        &["selskapet", "bedriften", "konsernet", "fabrikk*", "prosjektet"],
    ),
    (Cue::Combined, &["til sammen"]),
    (Cue::Superset, &["i alt", "totalt"]),
    (Cue::Prospective, &["forventer", "forventes", "regner med", "skal"]),
    (Cue::National, &["hele landet", "landet totalt", "vietnam tiltrakk"]),
    (Cue::PerUnit, &["per prosjekt", "i snitt", "gjennomsnitt*"]),
    (Cue::Contribution, &["kapitalinnskudd", "aksjekjop"]),
    (
        Cue::NotInvestment,
        &[
            "*inntekt*",
            "eksporten",
            "eksportverdi*",
            "eksportinntekt*",
            "budsjett*",
            "omsetning*",
            "donasjon*",
            "lonn",
            "lonninger",
            "skatt*",
            "sosiale investeringer",
            "utbetalt",
            "faktisk investert",
        ],
    ),
    (Cue::Ceremony, &["seremoni*", "overrakte"]),
    (
        Cue::Subset,
        &[
            "av dem",
            "av disse",
            "av prosjektene",
            "hvorav",
            "utgjor",
            "ytterligere",
        ],
    ),
];

pub const GERMAN: &[Entry] = &[
    (Cue::New, &["neu", "neue", "neuen", "neuer", "neues", "neuem"]),
    (Cue::NewWeak, &["registriert*", "angezogen"]),
    (
        Cue::Licensed,
        &["genehmig*", "*zertifikat*", "*lizenz*", "ausgestellt", "erteilt*"],
    ),
    (
        Cue::Added,
        &[
            "kapitalanpassung*",
            "kapitalerhohung*",
            "stockte",
            "stockten",
            "aufgestockt",
            "aufstock*",
            "erhoht*",
            "angepasst",
            "anpass*",
            "zusatzliches kapital",
        ],
    ),
    (Cue::AddedMoneyOnly, &["zusatzlich*"]),
    (Cue::Overall, &["gesamt*", "insgesamt"]),
    (Cue::Now, &["inzwischen", "bis heute", "derzeit", "heute"]),
    (Cue::Past, &["vorjahr*", "im letzten jahr"]),
    (Cue::Cumulative, &["seit #", "bislang", "bisher"]),
    (
        Cue::NewAndAdded,
        &[
            "neues und zusatzliches",
            "neue und zusatzliche",
            "neuem und zusatzlichem",
            "neu und zusatzlich",
        ],
    ),
    (Cue::Target, &["ziel*", "will", "wollen"]),
    (
        Cue::Foreign,
        &["auslandisch*", "auslands*", "direktinvest*", "direkteinvest*"],
    ),
    (Cue::Domestic, &["inlandisch*"]),
    (Cue::Converted, &["umgerechnet"]),
    (
        Cue::Stock,
        &[
            "zum stichtag",
            "derzeit",
            "bislang insgesamt",
            "bis heute",
            "gultig",
            "gultige",
            "gultigen",
            "per #",
        ],
    ),
    (
        Cue::StockWeak,
        &["angesiedelt", "niedergelassen", "inzwischen", "bisher", "zahlt"],
    ),
    (Cue::Investment, &["*kapital*", "angezogen"]),
    (
        Cue::Operating,
        &["produktion aufgenommen", "in betrieb genommen", "baubeginn"],
    ),
    (Cue::InOperation, &["in betrieb", "aktiv*"]),
    (Cue::StockWeak, &["in betrieb"]),
    (Cue::Existing, &["bestehend*", "ansassig*"]),
    (
        Cue::Withdrawn,
        &["beendet", "entzogen", "zuruckgezogen", "herabgesetzt", "reduziert*"],
    ),
    (Cue::CompanyAnaphor, &["das unternehmen", "die firma"]),
    (Cue::Combined, &["zusammen"]),
    (Cue::Superset, &["insgesamt"]),
    (Cue::Prospective, &["erwartet", "soll", "sollen"]),
    (
        Cue::National,
        &["bundesweit", "landesweit", "vietnam zog", "vietnam hat"],
    ),
    (Cue::PerUnit, &["pro projekt", "durchschnitt*"]),
    (Cue::Contribution, &["kapitalbeteiligung*", "anteilskauf*"]),
    (
        Cue::NotInvestment,
        &[
            "umsatz*",
            "umgesetzt",
            "exporte",
            "exportiert*",
            "exportwert*",
            "haushalt*",
            "staatshaushalt",
            "spende*",
            "lohn*",
            "lohne",
            "steuer*",
            "tatsachlich investiert",
            "ausgezahlt",
        ],
    ),
    (Cue::Ceremony, &["zeremonie", "feierlich*", "uberreicht*"]),
    (
        Cue::Subset,
        &[
            "davon",
            "darunter",
            "dieser vorhaben",
            "dieser projekte",
            "entfallen",
            "weitere",
        ],
    ),
    (Cue::NewTotal, &["auf$"]),
];

/// Source countries, as written after "from" or before "led": per-country
/// figures are not province totals. Shared by every language because
/// articles in one language name countries in several.
pub const COUNTRY_NAMES: &[&str] = &[
    "south korea",
    "korea",
    "japan",
    "china",
    "singapore",
    "taiwan",
    "hong kong",
    "thailand",
    "malaysia",
    "the united states",
    "the us",
    "the netherlands",
    "germany",
    "france",
    "the british virgin islands",
    "han quoc",
    "nhat ban",
    "trung quoc",
    "dai loan",
    "thai lan",
    "hoa ky",
    "sor-korea",
    "kina",
    "sudkorea",
];

/// Words before a country that make it the source of money ("from Japan").
pub const COUNTRY_FROM: &[&str] = &["from", "tu", "den tu", "fra", "aus"];

/// Verbs after a country that rank it among sources ("Japan led").
pub const COUNTRY_RANKED: &[&str] = &[
    "led",
    "ranked",
    "topped",
    "accounted",
    "came first",
    "dan dau",
    "dung dau",
    "ledet",
    "lag pa topp",
    "fuhrte",
    "lag vorn",
];

/// Nationalities before "investors" ("Japanese investors").
pub const NATIONALITIES: &[&str] = &[
    "japanese",
    "korean",
    "south korean",
    "chinese",
    "singaporean",
    "singapore",
    "taiwanese",
    "thai",
    "american",
    "european",
    "german",
    "french",
    "dutch",
    "hong kong",
    "japanske",
    "koreanske",
    "sorkoreanske",
    "kinesiske",
    "japanische",
    "koreanische",
    "sudkoreanische",
    "chinesische",
];

/// "investors" and its kin after a nationality.
pub const INVESTOR_NOUNS: &[&str] = &[
    "investor",
    "investors",
    "investorer",
    "investoren",
    "firm",
    "firms",
    "companies",
    "enterprises",
];

/// Short Vietnamese country names, only after "nhà đầu tư" (Mỹ, Đức).
pub const COUNTRY_SHORT_VI: &[&str] = &["my", "duc"];

/// Vietnamese "investors from X" puts the country after the noun.
pub const INVESTOR_FROM_VI: &str = "nha dau tu";

/// The table of one language.
pub fn table(language: Language) -> &'static [Entry] {
    match language {
        Language::En => ENGLISH,
        Language::Vi => VIETNAMESE,
        Language::No => NORWEGIAN,
        Language::De => GERMAN,
    }
}
