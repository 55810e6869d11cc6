//! Behaviour of the public API on small, self-made snippets in all four
//! languages: number grammar, scale words, hedges, counts, statistics,
//! provinces and projects.

use chrono::NaiveDate;
use fdi_extract::{
    CountKind, Extraction, Input, Language, Metric, ProjectKind, Scope, detect_language, extract, find_provinces,
    parse_number, scale_multiplier, written_number,
};

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

fn run(text: &str, language: Language, published: NaiveDate) -> Extraction {
    extract(&Input {
        text,
        published,
        language: Some(language),
    })
}

/// (value, currency) of every money mention.
fn money(text: &str, language: Language) -> Vec<(f64, String)> {
    run(text, language, date(2024, 6, 30))
        .money
        .into_iter()
        .map(|m| (m.value, m.currency))
        .collect()
}

fn assert_money(text: &str, language: Language, expected: &[(f64, &str)]) {
    let got = money(text, language);
    assert_eq!(got.len(), expected.len(), "{text:?}: got {got:?}");
    for ((value, currency), (want_value, want_currency)) in got.iter().zip(expected) {
        assert!(
            (value - want_value).abs() <= want_value.abs() * 1e-9,
            "{text:?}: {value} != {want_value}"
        );
        assert_eq!(currency, want_currency, "{text:?}");
    }
}

#[test]
fn english_amounts() {
    assert_money(
        "Foxconn invests $246 million in two plants.",
        Language::En,
        &[(246e6, "USD")],
    );
    assert_money(
        "Domestic investors committed 28.8 trillion VND.",
        Language::En,
        &[(28.8e12, "VND")],
    );
    assert_money(
        "capital of US$197.8 million (more than VND4.7 trillion).",
        Language::En,
        &[(197.8e6, "USD"), (4.7e12, "VND")],
    );
    assert_money("a 185-million-USD project", Language::En, &[(185e6, "USD")]);
    assert_money(
        "registered capital of 9,189.41 million USD and VND21,038.96 billion",
        Language::En,
        &[(9_189.41e6, "USD"), (21_038.96e9, "VND")],
    );
    assert_money(
        "worth 1.5 bln USD and 300 mln USD",
        Language::En,
        &[(1.5e9, "USD"), (300e6, "USD")],
    );
    assert_money(
        "sales of €12 million and 40 million euros",
        Language::En,
        &[(12e6, "EUR"), (40e6, "EUR")],
    );
}

#[test]
fn vietnamese_amounts() {
    assert_money("tổng vốn đăng ký 1.234,5 tỷ đồng", Language::Vi, &[(1_234.5e9, "VND")]);
    assert_money("hút gần 300 triệu USD vốn FDI", Language::Vi, &[(300e6, "USD")]);
    assert_money(
        "vốn 5.685,09 triệu USD và 2,5 tỉ USD",
        Language::Vi,
        &[(5_685.09e6, "USD"), (2.5e9, "USD")],
    );
    assert_money("khoảng 3 nghìn tỷ đồng", Language::Vi, &[(3e12, "VND")]);
    // tỷ without a currency is đồng in Vietnamese text.
    assert_money("với tổng vốn 816,86 tỷ", Language::Vi, &[(816.86e9, "VND")]);
}

#[test]
fn norwegian_amounts() {
    assert_money(
        "Hai Phong trakk 755,75 millioner dollar",
        Language::No,
        &[(755.75e6, "USD")],
    );
    assert_money("kommet opp i 22,07 milliarder USD", Language::No, &[(22.07e9, "USD")]);
    assert_money(
        "beregnet til nesten 4,6 billioner VND",
        Language::No,
        &[(4.6e12, "VND")],
    );
    // Non-breaking and ordinary spaces group thousands.
    assert_money(
        "1\u{a0}160,8 milliarder VND og 1 160,8 milliarder VND",
        Language::No,
        &[(1_160.8e9, "VND"), (1_160.8e9, "VND")],
    );
    assert_money("omtrent 3 mrd. kroner", Language::No, &[(3e9, "NOK")]);
}

#[test]
fn german_amounts() {
    assert_money("über 674 Mio. US-Dollar an FDI", Language::De, &[(674e6, "USD")]);
    assert_money("mehr als 1.227 Mrd. Dong", Language::De, &[(1_227e9, "VND")]);
    assert_money("nach knapp 22,77 Billionen Dong", Language::De, &[(22.77e12, "VND")]);
    assert_money(
        "rund 2,5 Billionen Dong und 3 Milliarden Euro",
        Language::De,
        &[(2.5e12, "VND"), (3e9, "EUR")],
    );
}

#[test]
fn ranges_and_pairs_give_one_entry_per_amount() {
    assert_money("worth $50-100 million", Language::En, &[(50e6, "USD"), (100e6, "USD")]);
    assert_money(
        "between 5 and 10 million USD",
        Language::En,
        &[(5e6, "USD"), (10e6, "USD")],
    );
    assert_money("từ 2 đến 3 tỷ USD", Language::Vi, &[(2e9, "USD"), (3e9, "USD")]);
    assert_money(
        "zwischen 1,5 und 2 Mrd. Euro",
        Language::De,
        &[(1.5e9, "EUR"), (2e9, "EUR")],
    );
    // A year or a count next to an amount is not half of a range.
    assert_money("in 2024 and $5 million", Language::En, &[(5e6, "USD")]);
    assert_money(
        "26.558,18 tỷ đồng và 349 dự án FDI",
        Language::Vi,
        &[(26_558.18e9, "VND")],
    );
}

#[test]
fn hedges_do_not_change_values() {
    for text in [
        "more than $5 million",
        "nearly $5 million",
        "about $5 million",
        "over $5 million",
    ] {
        assert_money(text, Language::En, &[(5e6, "USD")]);
    }
    for text in ["gần 5 triệu USD", "hơn 5 triệu USD", "khoảng 5 triệu USD"] {
        assert_money(text, Language::Vi, &[(5e6, "USD")]);
    }
    for text in ["nesten 5 millioner USD", "omtrent 5 millioner USD"] {
        assert_money(text, Language::No, &[(5e6, "USD")]);
    }
    for text in [
        "knapp 5 Mio. US-Dollar",
        "rund 5 Mio. US-Dollar",
        "über 5 Mio. US-Dollar",
        "fast 5 Mio. US-Dollar",
    ] {
        assert_money(text, Language::De, &[(5e6, "USD")]);
    }
}

#[test]
fn non_money_numbers_are_ignored() {
    assert!(
        money(
            "covering 354.63 hectares, up 26% with 1,200 workers in 2025",
            Language::En
        )
        .is_empty()
    );
    assert!(money("Quyết định số 219/QĐ-TTg ngày 17/2/2022", Language::Vi).is_empty());
}

#[test]
fn number_grammar() {
    assert_eq!(parse_number("1.234,5", Language::Vi), Some(1234.5));
    assert_eq!(parse_number("1,234.5", Language::En), Some(1234.5));
    assert_eq!(parse_number("3.974", Language::De), Some(3974.0));
    assert_eq!(parse_number("3,974", Language::En), Some(3974.0));
    assert_eq!(parse_number("2,5", Language::No), Some(2.5));
    assert_eq!(parse_number("28.8", Language::En), Some(28.8));
    assert_eq!(parse_number("1 160,8", Language::No), Some(1160.8));
    assert_eq!(parse_number("6\u{a0}074", Language::No), Some(6074.0));
    assert_eq!(scale_multiplier("billion", Language::En), Some(1e9));
    assert_eq!(scale_multiplier("billioner", Language::No), Some(1e12));
    assert_eq!(scale_multiplier("Billionen", Language::De), Some(1e12));
    assert_eq!(scale_multiplier("milliarder", Language::No), Some(1e9));
    assert_eq!(scale_multiplier("Mrd.", Language::De), Some(1e9));
    assert_eq!(scale_multiplier("Mio.", Language::De), Some(1e6));
    assert_eq!(scale_multiplier("tỷ", Language::Vi), Some(1e9));
    assert_eq!(scale_multiplier("nghìn tỷ", Language::Vi), Some(1e12));
    assert_eq!(scale_multiplier("triệu", Language::Vi), Some(1e6));
    assert_eq!(scale_multiplier("trillion", Language::En), Some(1e12));
}

#[test]
fn written_out_numbers() {
    assert_eq!(written_number("eight", Language::En), Some(8));
    assert_eq!(written_number("sáu", Language::Vi), Some(6));
    assert_eq!(written_number("åtte", Language::No), Some(8));
    assert_eq!(written_number("acht", Language::De), Some(8));
    assert_eq!(written_number("fünf", Language::De), Some(5));
    assert_eq!(written_number("lorem", Language::En), None);
}

fn counts(text: &str, language: Language) -> Vec<(u64, CountKind)> {
    run(text, language, date(2024, 6, 30))
        .counts
        .into_iter()
        .map(|c| (c.value, c.kind))
        .collect()
}

#[test]
fn project_counts_in_four_languages() {
    assert_eq!(
        counts(
            "In July and August, the parks registered eight newly registered projects, six of which were FDI.",
            Language::En
        ),
        vec![(8, CountKind::NewProjects), (6, CountKind::NewProjects)]
    );
    assert_eq!(
        counts(
            "Các KCN đã đón sáu dự án FDI mới cùng 31 lượt dự án điều chỉnh tăng vốn.",
            Language::Vi
        ),
        vec![(6, CountKind::NewProjects), (31, CountKind::AdjustedProjects)]
    );
    assert_eq!(
        counts(
            "Kapitalen fordelte seg på åtte nye FDI-prosjekter og 18 eksisterende prosjekter som økte sin kapital.",
            Language::No
        ),
        vec![(8, CountKind::NewProjects), (18, CountKind::AdjustedProjects)]
    );
    assert_eq!(
        counts(
            "Insgesamt wurden acht neue Projekte registriert, davon 5 mit ausländischem Kapital und 3 inländische.",
            Language::De
        ),
        vec![
            (8, CountKind::NewProjects),
            (5, CountKind::NewProjects),
            (3, CountKind::NewProjects)
        ]
    );
    assert_eq!(
        counts(
            "As of May 15, the province was home to 3,974 FDI projects.",
            Language::En
        ),
        vec![(3974, CountKind::TotalProjects)]
    );
}

#[test]
fn parks_investors_and_workers_are_not_project_counts() {
    assert!(
        counts(
            "The province has 15 industrial parks, 20 investors and 1,200 workers.",
            Language::En
        )
        .is_empty()
    );
    assert!(counts("Tỉnh có 9 KCN đã có quyết định thành lập.", Language::Vi).is_empty());
}

/// (metric, value, currency, period start, period end, scope)
type StatRow = (Metric, f64, Option<String>, Option<String>, Option<String>, Scope);

#[test]
fn statistics_with_periods_scopes_and_provinces() {
    let text = "Bac Ninh draws more FDI\n\n\
        In the first quarter of 2024, industrial parks in Bac Ninh licensed 50 new FDI projects with registered capital of $800 million, \
        while 30 existing projects added $400 million.\n\
        As of March 31, the province had 2,100 valid FDI projects with total capital of $24.5 billion.";
    let out = run(text, Language::En, date(2024, 4, 15));
    let stats: Vec<StatRow> = out
        .statistics
        .iter()
        .map(|s| {
            (
                s.metric,
                s.value,
                s.currency.clone(),
                s.period_start.clone(),
                s.period_end.clone(),
                s.scope,
            )
        })
        .collect();
    let q1 = (Some("2024-01-01".to_string()), Some("2024-03-31".to_string()));
    assert!(out.statistics.iter().all(|s| s.province == "bac-ninh"));
    assert_eq!(
        stats,
        vec![
            (Metric::NewProjects, 50.0, None, q1.0.clone(), q1.1.clone(), Scope::Fdi),
            (
                Metric::NewCapital,
                800e6,
                Some("USD".into()),
                q1.0.clone(),
                q1.1.clone(),
                Scope::Fdi
            ),
            (
                Metric::AdjustedProjects,
                30.0,
                None,
                q1.0.clone(),
                q1.1.clone(),
                Scope::Fdi
            ),
            (
                Metric::AddedCapital,
                400e6,
                Some("USD".into()),
                q1.0.clone(),
                q1.1.clone(),
                Scope::Fdi
            ),
            (
                Metric::TotalCapital,
                24.5e9,
                Some("USD".into()),
                None,
                Some("2024-03-31".into()),
                Scope::Fdi
            ),
        ]
    );
}

#[test]
fn datelines_do_not_decide_the_province() {
    let text = "Northern hub leads\nHÀ NỘI — Bắc Ninh drew $1 billion of FDI in the first half of 2025.";
    let out = run(text, Language::En, date(2025, 7, 8));
    let provinces: Vec<&str> = out.statistics.iter().map(|s| s.province.as_str()).collect();
    assert_eq!(provinces, vec!["bac-ninh"]);
}

#[test]
fn national_totals_are_not_province_statistics() {
    let text = "Bac Ninh leads\nIn the first half of 2024, Vietnam attracted $15 billion of FDI. Bac Ninh drew $2 billion of FDI in the first half of 2024.";
    let out = run(text, Language::En, date(2024, 7, 10));
    let values: Vec<f64> = out.statistics.iter().map(|s| s.value).collect();
    assert_eq!(values, vec![2e9]);
}

#[test]
fn usd_and_vnd_pairs_split_into_fdi_and_ddi() {
    let text = "Tiêu đề\nLũy kế 7 tháng đầu năm 2024, các KCN tỉnh Bắc Giang tiếp nhận 26 dự án mới với vốn đăng ký 244,75 triệu USD và 3.312 tỷ đồng.";
    let out = run(text, Language::Vi, date(2024, 8, 6));
    let scopes: Vec<(String, Scope)> = out
        .statistics
        .iter()
        .filter_map(|s| s.currency.clone().map(|c| (c, s.scope)))
        .collect();
    assert_eq!(
        scopes,
        vec![("USD".to_string(), Scope::Fdi), ("VND".to_string(), Scope::Ddi)]
    );
    assert!(
        out.statistics
            .iter()
            .all(|s| s.period_end.as_deref() == Some("2024-07-31"))
    );
}

#[test]
fn named_projects() {
    let text = "Binh Duong licenses projects\n\nAmong the newcomers is a 185-million-USD project by Singapore's New Motion Pte Ltd in Phu Tan Industrial Park. \
        Polytex Far Eastern Vietnam Co., Ltd is putting an extra 610 million USD into its plant, taking the project's total capital to 1.37 billion USD.";
    let out = run(text, Language::En, date(2021, 5, 21));
    let projects: Vec<(Option<String>, Option<String>, f64, ProjectKind)> = out
        .projects
        .iter()
        .map(|p| (p.investor.clone(), p.investor_country.clone(), p.value, p.kind))
        .collect();
    assert_eq!(
        projects,
        vec![
            (
                Some("New Motion Pte Ltd".into()),
                Some("SG".into()),
                185e6,
                ProjectKind::New
            ),
            (
                Some("Polytex Far Eastern Vietnam Co., Ltd".into()),
                None,
                610e6,
                ProjectKind::Expansion
            ),
        ]
    );
    assert_eq!(out.projects[0].zone.as_deref(), Some("Phu Tan Industrial Park"));
}

#[test]
fn investors_named_without_legal_suffix() {
    let text = "Headline\nSouth Korea's LG Innotek pledged an extra $1 billion for its plant, while electronics giant Samsung added $500 million. \
        Swedish investor Autoliv Vietnam will build a $154 million factory.";
    let out = run(text, Language::En, date(2024, 8, 5));
    let projects: Vec<(Option<String>, Option<String>, f64)> = out
        .projects
        .iter()
        .map(|p| (p.investor.clone(), p.investor_country.clone(), p.value))
        .collect();
    assert_eq!(
        projects,
        vec![
            (Some("LG Innotek".into()), Some("KR".into()), 1e9),
            (Some("Samsung".into()), Some("KR".into()), 500e6),
            (Some("Autoliv Vietnam".into()), Some("SE".into()), 154e6),
        ]
    );
}

#[test]
fn per_country_and_contribution_counts_are_other() {
    assert_eq!(
        counts(
            "Of the new projects, investors from Japan led with 40 projects.",
            Language::En
        ),
        vec![(40, CountKind::Other)]
    );
}

#[test]
fn language_detection() {
    assert_eq!(
        detect_language("The province attracted 45 new projects with total capital of $771 million."),
        Language::En
    );
    assert_eq!(
        detect_language("Các khu công nghiệp tỉnh Vĩnh Phúc đã đón 23 dự án FDI mới."),
        Language::Vi
    );
    assert_eq!(
        detect_language("Industriparkene og de økonomiske sonene tiltrakk 755,75 millioner USD i første halvår."),
        Language::No
    );
    assert_eq!(
        detect_language(
            "Die Industrieparks der Provinz haben mehr als 674 Mio. US-Dollar angezogen und sind nicht ausgelastet."
        ),
        Language::De
    );
    assert_eq!("nb".parse::<Language>(), Ok(Language::No));
    assert_eq!("nn".parse::<Language>(), Ok(Language::No));
    assert_eq!("DE".parse::<Language>(), Ok(Language::De));
    assert!("fr".parse::<Language>().is_err());
    assert_eq!(Language::Vi.as_str(), "vi");
}

#[test]
fn province_matching() {
    let codes = |text: &str| find_provinces(text).into_iter().map(|p| p.code).collect::<Vec<_>>();
    assert_eq!(codes("tỉnh Bắc Ninh và Bac Ninh"), vec!["bac-ninh", "bac-ninh"]);
    assert_eq!(codes("Hai Duong's industrial parks"), vec!["hai-duong"]);
    assert_eq!(codes("Da Nangs høyteknologipark"), vec!["da-nang"]);
    assert_eq!(codes("Long Ans Industrieparks"), vec!["long-an"]);
    assert_eq!(
        codes("behind Ho Chi Minh City and Hanoi"),
        vec!["ho-chi-minh", "ha-noi"]
    );
    assert_eq!(
        codes("Bà Rịa – Vũng Tàu và ĐỒNG NAI"),
        vec!["ba-ria-vung-tau", "dong-nai"]
    );
    assert_eq!(codes("Bac Ninh-provinsen"), vec!["bac-ninh"]);
    // Lowercase common words are not provinces ("a long and", "hue").
    assert!(codes("a long and winding road in a hue of blue").is_empty());
}

#[test]
fn json_shape_matches_the_contract() {
    let out = run(
        "Headline\nDong Nai drew $1 billion of FDI in the first half of 2025 from 12 new projects.",
        Language::En,
        date(2025, 7, 2),
    );
    let json: serde_json::Value =
        serde_json::from_str(&serde_json::to_string(&out).expect("serialize")).expect("parse");
    assert_eq!(json["language"], "en");
    assert_eq!(json["money"][0]["currency"], "USD");
    assert_eq!(json["money"][0]["value"].as_f64(), Some(1e9));
    assert_eq!(json["counts"][0]["kind"], "new_projects");
    let stat = &json["statistics"][0];
    assert_eq!(stat["province"], "dong-nai");
    assert!(stat["currency"].is_string() || stat["currency"].is_null());
    assert_eq!(stat["period_start"], "2025-01-01");
    assert_eq!(stat["period_end"], "2025-06-30");
    assert_eq!(stat["scope"], "fdi");
    let back: Extraction = serde_json::from_value(json).expect("round trip");
    assert_eq!(back, out);
}
