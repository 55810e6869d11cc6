//! The error classes that did not generalise to unseen articles (issue
//! "Extraction that generalises"), each in English, Vietnamese, Norwegian
//! and German, on sentences written for these tests.

use chrono::NaiveDate;
use fdi_extract::{CountKind, Extraction, Input, Language, Metric, Scope, extract};

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

/// Extract an article of a headline and one body paragraph per line.
fn run(language: Language, published: NaiveDate, headline: &str, body: &[&str]) -> Extraction {
    let text = format!("{headline}\n\n{}\n", body.join("\n\n"));
    extract(&Input {
        text: &text,
        published,
        language: Some(language),
    })
}

fn kinds_of(out: &Extraction, value: u64) -> Vec<CountKind> {
    out.counts.iter().filter(|c| c.value == value).map(|c| c.kind).collect()
}

fn assert_count(out: &Extraction, value: u64, kind: CountKind) {
    let kinds = kinds_of(out, value);
    assert!(
        kinds.contains(&kind),
        "count {value}: {kinds:?}, not {kind:?}\n{out:#?}"
    );
}

/// The statistic of `value` (within 0.5 %).
fn statistic(out: &Extraction, value: f64) -> Option<&fdi_extract::Statistic> {
    out.statistics
        .iter()
        .find(|s| (s.value - value).abs() <= value.abs() * 0.005)
}

fn assert_statistic(out: &Extraction, value: f64, metric: Metric, scope: Scope) {
    let s = statistic(out, value).unwrap_or_else(|| panic!("no statistic of {value}\n{out:#?}"));
    assert_eq!((s.metric, s.scope), (metric, scope), "statistic of {value}: {s:#?}");
}

fn assert_period(out: &Extraction, value: f64, start: Option<&str>, end: &str) {
    let s = statistic(out, value).unwrap_or_else(|| panic!("no statistic of {value}\n{out:#?}"));
    assert_eq!(
        (s.period_start.as_deref(), s.period_end.as_deref()),
        (start, Some(end)),
        "period of {value}: {s:#?}"
    );
}

fn assert_no_statistic(out: &Extraction, value: f64) {
    assert!(statistic(out, value).is_none(), "statistic of {value}\n{out:#?}");
}

/// The projects as (investor, value).
fn projects(out: &Extraction) -> Vec<(String, f64)> {
    out.projects
        .iter()
        .map(|p| (p.investor.clone().unwrap_or_default(), p.value))
        .collect()
}

fn assert_project(out: &Extraction, investor_word: &str, value: f64) {
    let found = projects(out)
        .iter()
        .any(|(i, v)| i.contains(investor_word) && (v - value).abs() <= value * 0.005);
    assert!(found, "no project of {investor_word} at {value}: {:?}", projects(out));
}

fn assert_no_project_of(out: &Extraction, value: f64) {
    let found = projects(out).iter().any(|(_, v)| (v - value).abs() <= value * 0.005);
    assert!(!found, "a project at {value}: {:?}", projects(out));
}

// Counts: verbs of licensing and registering count new projects.

#[test]
fn licensing_verbs_count_new_projects() {
    let en = run(
        Language::En,
        date(2024, 7, 2),
        "Hai Duong parks busy",
        &[
            "In the first half of 2024 the Hai Duong board licensed 14 more FDI projects and registered nine domestic ones.",
        ],
    );
    assert_count(&en, 14, CountKind::NewProjects);
    let vi = run(
        Language::Vi,
        date(2024, 7, 2),
        "Hải Dương thu hút đầu tư",
        &["Trong 6 tháng đầu năm 2024, tỉnh Hải Dương có 17 dự án được cấp giấy chứng nhận đăng ký đầu tư."],
    );
    assert_count(&vi, 17, CountKind::NewProjects);
    let no = run(
        Language::No,
        date(2024, 7, 2),
        "Hai Duong trekker prosjekter",
        &["I første halvår 2024 godkjente Hai Duong 12 prosjekter med utenlandsk kapital."],
    );
    assert_count(&no, 12, CountKind::NewProjects);
    let de = run(
        Language::De,
        date(2024, 7, 2),
        "Hai Duong lockt Projekte",
        &["Im ersten Halbjahr 2024 hat die Provinz Hai Duong für 19 Projekte Investitionszertifikate ausgestellt."],
    );
    assert_count(&de, 19, CountKind::NewProjects);
}

// Counts: adjusting capital counts adjusted projects, even when the verb is
// written on a licence ("amended the certificates of").

#[test]
fn adjusting_verbs_count_adjusted_projects() {
    let en = run(
        Language::En,
        date(2024, 7, 2),
        "Hai Duong parks busy",
        &[
            "In the first half of 2024 the Hai Duong board amended the investment certificates of 31 projects.",
            "It also approved capital increases for 12 existing projects.",
        ],
    );
    assert_count(&en, 31, CountKind::AdjustedProjects);
    assert_count(&en, 12, CountKind::AdjustedProjects);
    let vi = run(
        Language::Vi,
        date(2024, 7, 2),
        "Hải Dương thu hút đầu tư",
        &["Trong 6 tháng đầu năm 2024, Ban Quản lý đã điều chỉnh tăng vốn cho 21 dự án và đón 3 dự án đầu tư mở rộng."],
    );
    assert_count(&vi, 21, CountKind::AdjustedProjects);
    assert_count(&vi, 3, CountKind::AdjustedProjects);
    let no = run(
        Language::No,
        date(2024, 7, 2),
        "Hai Duong trekker prosjekter",
        &[
            "I første halvår 2024 ble lisensene for 33 prosjekter i Hai Duong justert.",
            "Elleve eksisterende prosjekter fikk mer kapital.",
        ],
    );
    assert_count(&no, 33, CountKind::AdjustedProjects);
    assert_count(&no, 11, CountKind::AdjustedProjects);
    let de = run(
        Language::De,
        date(2024, 7, 2),
        "Hai Duong lockt Projekte",
        &["Im ersten Halbjahr 2024 wurde in Hai Duong bei 27 bestehenden Projekten das Kapital angepasst."],
    );
    assert_count(&de, 27, CountKind::AdjustedProjects);
}

// Counts: projects in operation or hosted now are a running total;
// projects that just started production are "other".

#[test]
fn operating_stock_counts_are_totals() {
    let en = run(
        Language::En,
        date(2024, 7, 2),
        "Hai Duong parks busy",
        &[
            "The Hai Duong parks now host more than 640 projects.",
            "Another report counted 210 FDI projects in operation at the end of June.",
            "Eight new projects started production in the first half of 2024.",
        ],
    );
    assert_count(&en, 640, CountKind::TotalProjects);
    assert_count(&en, 210, CountKind::TotalProjects);
    assert_count(&en, 8, CountKind::Other);
    let vi = run(
        Language::Vi,
        date(2024, 7, 2),
        "Hải Dương thu hút đầu tư",
        &["Hiện nay các KCN tỉnh Hải Dương có 512 dự án còn hiệu lực."],
    );
    assert_count(&vi, 512, CountKind::TotalProjects);
    let no = run(
        Language::No,
        date(2024, 7, 2),
        "Hai Duong trekker prosjekter",
        &["Industriparkene i Hai Duong huser nå 388 aktive prosjekter."],
    );
    assert_count(&no, 388, CountKind::TotalProjects);
    let de = run(
        Language::De,
        date(2024, 7, 2),
        "Hai Duong lockt Projekte",
        &["In den Industrieparks von Hai Duong sind bis heute 455 Projekte angesiedelt."],
    );
    assert_count(&de, 455, CountKind::TotalProjects);
}

// Counts: the parts of a split count keep its kind.

#[test]
fn split_counts_keep_their_kind() {
    let en = run(
        Language::En,
        date(2024, 7, 2),
        "Hai Duong parks busy",
        &[
            "In the first half of 2024 Hai Duong licensed 30 new projects. Twenty-one of those projects came from foreign investors.",
        ],
    );
    assert_count(&en, 21, CountKind::NewProjects);
    let en = run(
        Language::En,
        date(2024, 7, 2),
        "Hai Duong parks busy",
        &[
            "In the first half, Hai Duong licensed 50 new projects: 14 projects outside the industrial parks and the other 36 inside them.",
        ],
    );
    assert_count(&en, 14, CountKind::NewProjects);
    assert_count(&en, 36, CountKind::NewProjects);
    let vi = run(
        Language::Vi,
        date(2024, 7, 2),
        "Hải Dương thu hút đầu tư",
        &[
            "Trong 6 tháng đầu năm 2024, các KCN Hải Dương thu hút thêm 25 dự án mới. Trong số này có 19 dự án FDI và 6 dự án trong nước.",
        ],
    );
    assert_count(&vi, 19, CountKind::NewProjects);
    assert_count(&vi, 6, CountKind::NewProjects);
    let no = run(
        Language::No,
        date(2024, 7, 2),
        "Hai Duong trekker prosjekter",
        &["Hai Duong har siden 2020 tiltrukket 90 nye prosjekter. 61 av prosjektene er utenlandske."],
    );
    assert_count(&no, 61, CountKind::NewProjects);
    let no = run(
        Language::No,
        date(2024, 7, 2),
        "Hai Duong trekker prosjekter",
        &["I første halvår fikk Hai Duong 50 nye prosjekter, 14 utenfor industriparkene og de andre 36 innenfor."],
    );
    assert_count(&no, 14, CountKind::NewProjects);
    assert_count(&no, 36, CountKind::NewProjects);
    let de = run(
        Language::De,
        date(2024, 7, 2),
        "Hai Duong lockt Projekte",
        &[
            "Im ersten Halbjahr 2024 kamen in Hai Duong 40 neue Projekte hinzu, darunter 28 ausländische und 12 inländische.",
            "Bis heute sind dort 700 Projekte angesiedelt. 300 weitere Projekte liegen in den Clustern.",
        ],
    );
    assert_count(&de, 28, CountKind::NewProjects);
    let de_split = run(
        Language::De,
        date(2024, 7, 2),
        "Hai Duong lockt Projekte",
        &["Hai Duong hat im ersten Halbjahr 50 neue Projekte genehmigt, davon 36 in Industrieparks und 14 außerhalb."],
    );
    assert_count(&de_split, 36, CountKind::NewProjects);
    assert_count(&de_split, 14, CountKind::NewProjects);
    assert_count(&de, 12, CountKind::NewProjects);
    assert_count(&de, 300, CountKind::TotalProjects);
}

// Statistics: a report that pairs foreign USD with domestic VND carries the
// pairing to amounts that state no side.

#[test]
fn usd_is_foreign_and_vnd_domestic_where_a_report_pairs_them() {
    let en = run(
        Language::En,
        date(2024, 7, 2),
        "Hai Duong parks busy",
        &[
            "In the first half of 2024 foreign investors put 410 million USD into Hai Duong's parks and domestic investors 2.5 trillion VND.",
            "Of that, new projects registered 260 million USD and 1.9 trillion VND.",
        ],
    );
    assert_statistic(&en, 260e6, Metric::NewCapital, Scope::Fdi);
    assert_statistic(&en, 1.9e12, Metric::NewCapital, Scope::Ddi);
    let vi = run(
        Language::Vi,
        date(2024, 7, 2),
        "Hải Dương thu hút đầu tư",
        &[
            "Trong 6 tháng đầu năm 2024, các KCN Hải Dương thu hút 380 triệu USD vốn nước ngoài và 2.100 tỷ đồng vốn trong nước.",
            "Các dự án mới đăng ký tổng cộng 150 triệu USD và 900 tỷ đồng.",
        ],
    );
    assert_statistic(&vi, 150e6, Metric::NewCapital, Scope::Fdi);
    assert_statistic(&vi, 900e9, Metric::NewCapital, Scope::Ddi);
    let no = run(
        Language::No,
        date(2024, 7, 2),
        "Hai Duong trekker prosjekter",
        &[
            "I første halvår 2024 investerte utenlandske investorer 300 millioner USD i Hai Duong, mens innenlandske investorer bidro med 1,2 billioner VND.",
            "Nye prosjekter sto for 120 millioner USD og 700 milliarder VND.",
        ],
    );
    assert_statistic(&no, 120e6, Metric::NewCapital, Scope::Fdi);
    assert_statistic(&no, 700e9, Metric::NewCapital, Scope::Ddi);
    let de = run(
        Language::De,
        date(2024, 7, 2),
        "Hai Duong lockt Projekte",
        &[
            "Im ersten Halbjahr 2024 sagten ausländische Investoren in Hai Duong 330 Mio. US-Dollar zu, inländische 1,7 Billionen Dong.",
            "Neue Projekte brachten davon 140 Mio. US-Dollar und 800 Mrd. Dong.",
        ],
    );
    assert_statistic(&de, 140e6, Metric::NewCapital, Scope::Fdi);
    assert_statistic(&de, 800e9, Metric::NewCapital, Scope::Ddi);
}

// Statistics: a running total "to date" has no period start and ends at
// publication (or the as-of date).

#[test]
fn running_totals_to_date_have_no_start() {
    let en = run(
        Language::En,
        date(2024, 7, 2),
        "Hai Duong parks busy",
        &[
            "In the first half of 2024 Hai Duong drew 410 million USD of FDI.",
            "The province now hosts 520 FDI projects with total registered capital of 11.2 billion USD.",
        ],
    );
    assert_period(&en, 11.2e9, None, "2024-07-02");
    let vi = run(
        Language::Vi,
        date(2024, 7, 2),
        "Hải Dương thu hút đầu tư",
        &[
            "Trong 6 tháng đầu năm 2024, Hải Dương thu hút 380 triệu USD vốn FDI.",
            "Lũy kế đến hết tháng 6/2024, tỉnh Hải Dương có 515 dự án FDI. Tổng vốn đăng ký của khu vực FDI đạt 10.850 triệu USD.",
        ],
    );
    assert_period(&vi, 10_850e6, None, "2024-06-30");
    let no = run(
        Language::No,
        date(2024, 7, 2),
        "Hai Duong trekker prosjekter",
        &[
            "I første halvår 2024 trakk Hai Duong til seg 300 millioner USD i utenlandske investeringer.",
            "Dermed har provinsen nå 530 prosjekter med en samlet registrert kapital på 12,4 milliarder USD.",
        ],
    );
    assert_period(&no, 12.4e9, None, "2024-07-02");
    let de = run(
        Language::De,
        date(2024, 7, 2),
        "Hai Duong lockt Projekte",
        &[
            "Im ersten Halbjahr 2024 zog Hai Duong 330 Mio. US-Dollar an ausländischem Kapital an.",
            "Bis heute sind in Hai Duong 540 Projekte mit einem Kapital von 12,9 Mrd. US-Dollar angesiedelt.",
        ],
    );
    assert_period(&de, 12.9e9, None, "2024-07-02");
}

// Statistics: "counting new and added capital" is the total, not new capital.

#[test]
fn new_and_added_capital_together_is_the_total() {
    let en = run(
        Language::En,
        date(2024, 7, 2),
        "Hai Duong parks busy",
        &["In the first half of 2024 Hai Duong's parks drew 520 million USD of new and additional foreign capital."],
    );
    assert_statistic(&en, 520e6, Metric::TotalCapital, Scope::Fdi);
    let vi = run(
        Language::Vi,
        date(2024, 7, 2),
        "Hải Dương thu hút đầu tư",
        &[
            "Tính cả vốn cấp mới và vốn tăng thêm, trong 6 tháng đầu năm 2024 các KCN Hải Dương thu hút 470 triệu USD vốn FDI.",
        ],
    );
    assert_statistic(&vi, 470e6, Metric::TotalCapital, Scope::Fdi);
    let no = run(
        Language::No,
        date(2024, 7, 2),
        "Hai Duong trekker prosjekter",
        &["I første halvår 2024 fikk Hai Duong 410 millioner USD i ny og ytterligere utenlandsk kapital."],
    );
    assert_statistic(&no, 410e6, Metric::TotalCapital, Scope::Fdi);
    let de = run(
        Language::De,
        date(2024, 7, 2),
        "Hai Duong lockt Projekte",
        &[
            "Im ersten Halbjahr 2024 summierten sich neues und zusätzliches ausländisches Kapital in Hai Duong auf 450 Mio. US-Dollar.",
        ],
    );
    assert_statistic(&de, 450e6, Metric::TotalCapital, Scope::Fdi);
}

// Statistics: a target is a target, the result beside it is not.

#[test]
fn targets_and_results_are_told_apart() {
    let en = run(
        Language::En,
        date(2024, 1, 5),
        "Hai Duong parks aim high",
        &[
            "Hai Duong's parks are aiming for 700 million USD of FDI in 2024.",
            "In 2023 they drew 610 million USD of new FDI capital.",
        ],
    );
    assert_statistic(&en, 700e6, Metric::TargetCapital, Scope::Fdi);
    assert_statistic(&en, 610e6, Metric::NewCapital, Scope::Fdi);
    assert_period(&en, 610e6, Some("2023-01-01"), "2023-12-31");
    let vi = run(
        Language::Vi,
        date(2024, 1, 5),
        "Hải Dương đặt mục tiêu",
        &["Năm 2024, tỉnh Hải Dương phấn đấu thu hút 700 triệu USD vốn FDI."],
    );
    assert_statistic(&vi, 700e6, Metric::TargetCapital, Scope::Fdi);
    let no = run(
        Language::No,
        date(2024, 1, 5),
        "Hai Duong setter mål",
        &["For 2024 sikter Hai Duong mot 700 millioner USD i utenlandske investeringer."],
    );
    assert_statistic(&no, 700e6, Metric::TargetCapital, Scope::Fdi);
    let de = run(
        Language::De,
        date(2024, 1, 5),
        "Hai Duong setzt Ziele",
        &["Hai Duong will im Jahr 2024 ausländische Investitionen von 700 Mio. US-Dollar einwerben."],
    );
    assert_statistic(&de, 700e6, Metric::TargetCapital, Scope::Fdi);
}

// Statistics: one month is one month, two months are two.

#[test]
fn one_month_and_two_month_periods() {
    let en = run(
        Language::En,
        date(2024, 5, 6),
        "Hai Duong parks busy",
        &[
            "In the first four months of 2024 Hai Duong drew 400 million USD of FDI.",
            "April on its own brought 90 million USD of new foreign capital.",
        ],
    );
    assert_period(&en, 90e6, Some("2024-04-01"), "2024-04-30");
    let en = run(
        Language::En,
        date(2024, 10, 5),
        "Hai Duong parks busy",
        &[
            "Hai Duong drew 1.2 billion USD of FDI in the first nine months of 2024, including 150 million USD in September.",
        ],
    );
    assert_period(&en, 1.2e9, Some("2024-01-01"), "2024-09-30");
    assert_period(&en, 150e6, Some("2024-09-01"), "2024-09-30");
    let vi = run(
        Language::Vi,
        date(2024, 5, 6),
        "Hải Dương thu hút đầu tư",
        &["Trong tháng 4/2024, Hải Dương thu hút 90 triệu USD vốn FDI mới."],
    );
    assert_period(&vi, 90e6, Some("2024-04-01"), "2024-04-30");
    let no = run(
        Language::No,
        date(2024, 3, 8),
        "Hai Duong trekker prosjekter",
        &["I januar og februar 2024 fikk Hai Duong 150 millioner USD i nye utenlandske investeringer."],
    );
    assert_period(&no, 150e6, Some("2024-01-01"), "2024-02-29");
    let no = run(
        Language::No,
        date(2024, 10, 5),
        "Hai Duong trekker prosjekter",
        &[
            "I de ni første månedene av 2024 tiltrakk Hai Duong 1,2 milliarder USD i utenlandske investeringer, hvorav 150 millioner USD i september.",
        ],
    );
    assert_period(&no, 1.2e9, Some("2024-01-01"), "2024-09-30");
    assert_period(&no, 150e6, Some("2024-09-01"), "2024-09-30");
    let de = run(
        Language::De,
        date(2024, 5, 6),
        "Hai Duong lockt Projekte",
        &["Im April 2024 zog Hai Duong neues ausländisches Kapital von 90 Mio. US-Dollar an."],
    );
    assert_period(&de, 90e6, Some("2024-04-01"), "2024-04-30");
}

// Statistics: enterprises' capital, export earnings, revenue and budget
// payments are money, not investment statistics.

#[test]
fn enterprises_exports_and_budget_are_not_statistics() {
    let en = run(
        Language::En,
        date(2024, 7, 2),
        "Hai Duong parks busy",
        &[
            "In the first half of 2024 Hai Duong drew 410 million USD of FDI.",
            "Firms in the parks earned 2.1 billion USD from exports, and the province now has 9,800 enterprises with total charter capital of 150 trillion VND.",
        ],
    );
    assert_statistic(&en, 410e6, Metric::TotalCapital, Scope::Fdi);
    assert_no_statistic(&en, 2.1e9);
    assert_no_statistic(&en, 150e12);
    let vi = run(
        Language::Vi,
        date(2024, 7, 2),
        "Hải Dương thu hút đầu tư",
        &[
            "Trong 6 tháng đầu năm 2024, các doanh nghiệp KCN Hải Dương đạt giá trị xuất khẩu 1,8 tỷ USD và nộp ngân sách 2.300 tỷ đồng vốn đầu tư.",
        ],
    );
    assert_no_statistic(&vi, 1.8e9);
    assert_no_statistic(&vi, 2.3e12);
    let no = run(
        Language::No,
        date(2024, 7, 2),
        "Hai Duong trekker prosjekter",
        &[
            "I første halvår 2024 passerte eksporten fra investeringssonene i Hai Duong 1,5 milliarder USD, og budsjettinntektene nådde 2 billioner VND.",
        ],
    );
    assert_no_statistic(&no, 1.5e9);
    assert_no_statistic(&no, 2e12);
    let de = run(
        Language::De,
        date(2024, 7, 2),
        "Hai Duong lockt Projekte",
        &[
            "Im ersten Halbjahr 2024 setzten die Investitionsbetriebe in Hai Duong 3 Mrd. US-Dollar Umsatz um, ihre Exporte erreichten 1,4 Mrd. US-Dollar.",
        ],
    );
    assert_no_statistic(&de, 3e9);
    assert_no_statistic(&de, 1.4e9);
}

// Projects: several named projects in one list, each with its own amount.

#[test]
fn each_listed_company_keeps_its_own_amount() {
    let en = run(
        Language::En,
        date(2024, 7, 2),
        "Hai Duong parks busy",
        &[
            "Projects licensed in Hai Duong include a motor plant of Tanaka Parts Vietnam Co (18 million USD), a printer line of Orion Print Co (25 million USD) and a warehouse of Kestrel Logistics Co worth 7 million USD.",
        ],
    );
    assert_project(&en, "Tanaka", 18e6);
    assert_project(&en, "Orion", 25e6);
    assert_project(&en, "Kestrel", 7e6);
    let en = run(
        Language::En,
        date(2024, 7, 2),
        "Hai Duong parks busy",
        &[
            "Two projects stood out in Hai Duong: a 120-million-USD plant of Taiwan's Pinecrest and a 90-million-USD factory of Solara Co., Ltd.",
        ],
    );
    assert_project(&en, "Pinecrest", 120e6);
    assert_project(&en, "Solara", 90e6);
    let vi = run(
        Language::Vi,
        date(2024, 7, 2),
        "Hải Dương thu hút đầu tư",
        &[
            "Công ty TNHH Minh Phát đầu tư 12 triệu USD, còn Công ty TNHH Hòa Bình Steel đầu tư 20 triệu USD vào KCN Đại An.",
        ],
    );
    assert_project(&vi, "Minh Phát", 12e6);
    assert_project(&vi, "Hòa Bình", 20e6);
    let vi = run(
        Language::Vi,
        date(2024, 7, 2),
        "Hải Dương thu hút đầu tư",
        &[
            "Hai dự án nổi bật là nhà máy 120 triệu USD của Công ty TNHH Tùng Lâm và nhà máy 90 triệu USD của Công ty TNHH Bảo Ngọc.",
        ],
    );
    assert_project(&vi, "Tùng Lâm", 120e6);
    assert_project(&vi, "Bảo Ngọc", 90e6);
    let no = run(
        Language::No,
        date(2024, 7, 2),
        "Hai Duong trekker prosjekter",
        &[
            "Blant de nye prosjektene i Hai Duong er Nordlys Components Ltd med 14 millioner USD og Fjord Textiles Ltd med 9 millioner USD.",
        ],
    );
    assert_project(&no, "Nordlys", 14e6);
    assert_project(&no, "Fjord", 9e6);
    let de = run(
        Language::De,
        date(2024, 7, 2),
        "Hai Duong lockt Projekte",
        &[
            "Zu den neuen Vorhaben in Hai Duong gehören die Rhein Sensor GmbH mit 16 Mio. US-Dollar und die Alpen Druck GmbH mit 11 Mio. US-Dollar.",
        ],
    );
    assert_project(&de, "Rhein", 16e6);
    assert_project(&de, "Alpen", 11e6);
}

// Projects: "Công ty TNHH X" is investor X, not the legal form.

#[test]
fn vietnamese_legal_form_is_not_the_investor() {
    let vi = run(
        Language::Vi,
        date(2024, 7, 2),
        "Hải Dương thu hút đầu tư",
        &["Công ty TNHH Sao Mai Việt tăng thêm 40 tỷ đồng vốn cho nhà máy tại KCN Đại An."],
    );
    let names: Vec<String> = vi.projects.iter().filter_map(|p| p.investor.clone()).collect();
    assert_eq!(names, vec!["Sao Mai Việt Co., Ltd".to_string()], "{vi:#?}");
    // The same company named in the other languages' articles.
    for (language, sentence) in [
        (
            Language::En,
            "Công ty TNHH Sao Mai Việt added 40 billion VND to its plant in Hai Duong.",
        ),
        (
            Language::No,
            "Công ty TNHH Sao Mai Việt økte kapitalen med 40 milliarder VND i Hai Duong.",
        ),
        (
            Language::De,
            "Công ty TNHH Sao Mai Việt stockte in Hai Duong um 40 Mrd. Dong auf.",
        ),
    ] {
        let out = run(language, date(2024, 7, 2), "Headline", &[sentence]);
        assert_project(&out, "Sao Mai", 40e9);
        assert!(
            out.projects
                .iter()
                .all(|p| p.investor.as_deref() != Some("Công ty TNHH")),
            "{out:#?}"
        );
    }
}

// Projects: a ceremony's total is no single investor's.

#[test]
fn a_ceremony_total_is_no_investors_project() {
    let en = run(
        Language::En,
        date(2024, 7, 2),
        "Hai Duong parks busy",
        &[
            "At a ceremony on Monday Hai Duong presented licences to six projects worth 230 million USD in total, among them Lotus Cables Co.",
        ],
    );
    assert_no_project_of(&en, 230e6);
    assert_no_statistic(&en, 230e6);
    let vi = run(
        Language::Vi,
        date(2024, 7, 2),
        "Hải Dương thu hút đầu tư",
        &[
            "Tại lễ trao giấy chứng nhận, Công ty TNHH Sen Vàng cùng 5 doanh nghiệp khác nhận giấy phép. Tổng vốn đăng ký của các dự án là 230 triệu USD.",
        ],
    );
    assert_no_project_of(&vi, 230e6);
    assert_no_statistic(&vi, 230e6);
    let no = run(
        Language::No,
        date(2024, 7, 2),
        "Hai Duong trekker prosjekter",
        &[
            "Under en seremoni mandag fikk seks prosjekter lisens, blant dem Lotus Cables Ltd, til sammen verdt 230 millioner USD.",
        ],
    );
    assert_no_project_of(&no, 230e6);
    let de = run(
        Language::De,
        date(2024, 7, 2),
        "Hai Duong lockt Projekte",
        &[
            "Bei einer Zeremonie erhielten sechs Projekte ihre Zertifikate, darunter die Lotus Kabel GmbH, zusammen 230 Mio. US-Dollar.",
        ],
    );
    assert_no_project_of(&de, 230e6);
}

// Projects: donations, export earnings and budget payments are not projects.

#[test]
fn donations_exports_and_budget_are_not_projects() {
    let en = run(
        Language::En,
        date(2024, 7, 2),
        "Hai Duong parks busy",
        &[
            "Lotus Cables Co invested 30 million USD in Hai Duong. The company donated 2 million USD to local schools and expects exports of 50 million USD a year.",
        ],
    );
    assert_project(&en, "Lotus", 30e6);
    assert_no_project_of(&en, 2e6);
    assert_no_project_of(&en, 50e6);
    let vi = run(
        Language::Vi,
        date(2024, 7, 2),
        "Hải Dương thu hút đầu tư",
        &[
            "Công ty TNHH Sen Vàng đầu tư 30 triệu USD vào KCN Đại An. Mỗi năm công ty dự kiến nộp ngân sách 5 tỷ đồng và đạt giá trị xuất khẩu 40 triệu USD.",
        ],
    );
    assert_project(&vi, "Sen Vàng", 30e6);
    assert_no_project_of(&vi, 5e9);
    assert_no_project_of(&vi, 40e6);
    let no = run(
        Language::No,
        date(2024, 7, 2),
        "Hai Duong trekker prosjekter",
        &[
            "Lotus Cables Ltd investerer 30 millioner USD i Hai Duong. Selskapet ga en donasjon på 1 million USD, og eksportinntektene ventes å nå 45 millioner USD.",
        ],
    );
    assert_project(&no, "Lotus", 30e6);
    assert_no_project_of(&no, 1e6);
    assert_no_project_of(&no, 45e6);
    let de = run(
        Language::De,
        date(2024, 7, 2),
        "Hai Duong lockt Projekte",
        &[
            "Die Lotus Kabel GmbH investiert 30 Mio. US-Dollar in Hai Duong. Das Unternehmen führte 3 Mio. US-Dollar an den Staatshaushalt ab und will Exporte von 60 Mio. US-Dollar erzielen.",
        ],
    );
    assert_project(&de, "Lotus", 30e6);
    assert_no_project_of(&de, 3e6);
    assert_no_project_of(&de, 60e6);
}

// Projects: the capital a project had before is not what this event added.

#[test]
fn the_earlier_licence_amount_is_not_this_events() {
    let en = run(
        Language::En,
        date(2024, 7, 2),
        "Hai Duong parks busy",
        &[
            "Lotus Cables Co raised the capital of its Hai Duong plant from 40 million USD to 65 million USD, an increase of 25 million USD.",
        ],
    );
    assert_project(&en, "Lotus", 25e6);
    assert_no_project_of(&en, 40e6);
    let vi = run(
        Language::Vi,
        date(2024, 7, 2),
        "Hải Dương thu hút đầu tư",
        &[
            "Vốn đầu tư của dự án tăng từ 500 tỷ đồng lên 800 tỷ đồng. Như vậy, Công ty TNHH Sen Vàng tăng thêm 300 tỷ đồng.",
        ],
    );
    assert_project(&vi, "Sen Vàng", 300e9);
    assert_no_project_of(&vi, 500e9);
    let no = run(
        Language::No,
        date(2024, 7, 2),
        "Hai Duong trekker prosjekter",
        &[
            "Lotus Cables Ltd økte kapitalen i Hai Duong fra 40 millioner USD til 65 millioner USD, en økning på 25 millioner USD.",
        ],
    );
    assert_project(&no, "Lotus", 25e6);
    assert_no_project_of(&no, 40e6);
    let de = run(
        Language::De,
        date(2024, 7, 2),
        "Hai Duong lockt Projekte",
        &[
            "Die Lotus Kabel GmbH erhöhte ihr Kapital in Hai Duong von 40 Mio. US-Dollar auf 65 Mio. US-Dollar, ein Plus von 25 Mio. US-Dollar.",
        ],
    );
    assert_project(&de, "Lotus", 25e6);
    assert_no_project_of(&de, 40e6);
}

// Counts: projects terminated or that cut their capital are "other", and
// the verb of the next count in a list is not theirs.

#[test]
fn withdrawn_projects_are_other_and_do_not_spill_over() {
    let en = run(
        Language::En,
        date(2024, 7, 2),
        "Hai Duong parks busy",
        &[
            "In the first half of 2024, 23 projects in Hai Duong were granted investment certificates, 17 projects increased their capital and 5 projects were terminated.",
        ],
    );
    assert_count(&en, 23, CountKind::NewProjects);
    assert_count(&en, 17, CountKind::AdjustedProjects);
    assert_count(&en, 5, CountKind::Other);
    let vi = run(
        Language::Vi,
        date(2024, 7, 2),
        "Hải Dương thu hút đầu tư",
        &[
            "6 tháng đầu năm 2024, Hải Dương cấp mới 23 dự án, điều chỉnh vốn 17 lượt dự án và chấm dứt hoạt động 5 dự án.",
        ],
    );
    assert_count(&vi, 17, CountKind::AdjustedProjects);
    assert_count(&vi, 5, CountKind::Other);
    let no = run(
        Language::No,
        date(2024, 7, 2),
        "Hai Duong trekker prosjekter",
        &[
            "I første halvår 2024 fikk 23 prosjekter i Hai Duong investeringslisens, mens tre prosjekter skrev ned kapitalen med 9 millioner USD.",
        ],
    );
    assert_count(&no, 23, CountKind::NewProjects);
    assert_count(&no, 3, CountKind::Other);
    assert_no_statistic(&no, 9e6);
    let de = run(
        Language::De,
        date(2024, 7, 2),
        "Hai Duong lockt Projekte",
        &[
            "Im ersten Halbjahr 2024 erhielten 23 Projekte in Hai Duong eine Investitionslizenz, vier Projekte wurden beendet.",
        ],
    );
    assert_count(&de, 23, CountKind::NewProjects);
    assert_count(&de, 4, CountKind::Other);
}

// Statistics: a target does not pass to the result of an earlier year
// named beside it.

#[test]
fn a_target_does_not_pass_to_last_years_result() {
    let en = run(
        Language::En,
        date(2024, 7, 2),
        "Hai Duong parks aim high",
        &["Hai Duong aims to attract 900 million USD of FDI this year, after drawing 760 million USD last year."],
    );
    assert_statistic(&en, 900e6, Metric::TargetCapital, Scope::Fdi);
    assert_statistic(&en, 760e6, Metric::TotalCapital, Scope::Fdi);
    let vi = run(
        Language::Vi,
        date(2024, 7, 2),
        "Hải Dương đặt mục tiêu",
        &["Năm 2024, Hải Dương đặt mục tiêu thu hút 900 triệu USD vốn FDI; năm 2023 tỉnh thu hút 760 triệu USD."],
    );
    assert_statistic(&vi, 900e6, Metric::TargetCapital, Scope::Fdi);
    assert_statistic(&vi, 760e6, Metric::TotalCapital, Scope::Fdi);
    let no = run(
        Language::No,
        date(2024, 7, 2),
        "Hai Duong setter mål",
        &[
            "Hai Duong har som mål å tiltrekke 900 millioner USD i utenlandske investeringer i år, etter 760 millioner USD i fjor.",
        ],
    );
    assert_statistic(&no, 900e6, Metric::TargetCapital, Scope::Fdi);
    assert_statistic(&no, 760e6, Metric::TotalCapital, Scope::Fdi);
    let de = run(
        Language::De,
        date(2024, 7, 2),
        "Hai Duong setzt Ziele",
        &[
            "Hai Duong will in diesem Jahr ausländische Investitionen von 900 Mio. US-Dollar einwerben, nach 760 Mio. US-Dollar im Vorjahr.",
        ],
    );
    assert_statistic(&de, 900e6, Metric::TargetCapital, Scope::Fdi);
    assert_statistic(&de, 760e6, Metric::TotalCapital, Scope::Fdi);
}

// Projects: what an investor has put in over the years is not this
// event's amount.

#[test]
fn an_investors_cumulative_amount_is_not_the_project() {
    let en = run(
        Language::En,
        date(2024, 7, 2),
        "Hai Duong parks busy",
        &[
            "Lotus Cables Co, which has invested 600 million USD in Hai Duong since 2015, will add 90 million USD this year.",
        ],
    );
    assert_project(&en, "Lotus", 90e6);
    assert_no_project_of(&en, 600e6);
    let vi = run(
        Language::Vi,
        date(2024, 7, 2),
        "Hải Dương thu hút đầu tư",
        &["Công ty TNHH Sen Vàng, đã đầu tư 600 triệu USD tại Hải Dương từ năm 2015, sẽ tăng thêm 90 triệu USD."],
    );
    assert_project(&vi, "Sen Vàng", 90e6);
    assert_no_project_of(&vi, 600e6);
    let no = run(
        Language::No,
        date(2024, 7, 2),
        "Hai Duong trekker prosjekter",
        &[
            "Lotus Cables Ltd, som har investert 600 millioner USD i Hai Duong siden 2015, legger nå til 90 millioner USD.",
        ],
    );
    assert_project(&no, "Lotus", 90e6);
    assert_no_project_of(&no, 600e6);
    let de = run(
        Language::De,
        date(2024, 7, 2),
        "Hai Duong lockt Projekte",
        &[
            "Die Lotus Kabel GmbH, die seit 2015 bereits 600 Mio. US-Dollar in Hai Duong investiert hat, stockt um 90 Mio. US-Dollar auf.",
        ],
    );
    assert_project(&de, "Lotus", 90e6);
    assert_no_project_of(&de, 600e6);
}
