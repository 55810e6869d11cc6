//! Scores the extractor on the annotated development articles, like
//! `score_extraction.py` does, when they are present on this machine
//! (`../shared/eval/dev` and `../shared/eval/dev2` beside the repository,
//! or the folders in `FDI_DEV_SET` and `FDI_DEV2_SET`). Skipped otherwise.

use fdi_extract::{Input, Language, extract};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn close(a: f64, b: f64) -> bool {
    a == b || (a - b).abs() <= 0.005 * a.abs().max(b.abs())
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

fn currency(v: &Value) -> Option<String> {
    v["currency"].as_str().map(str::to_uppercase)
}

const SUFFIXES: &[&str] = &[
    "co",
    "ltd",
    "limited",
    "pte",
    "jsc",
    "inc",
    "corp",
    "corporation",
    "company",
    "llc",
    "plc",
    "gmbh",
    "ag",
    "as",
    "asa",
    "sa",
    "bv",
    "the",
    "liability",
    "joint",
    "stock",
    "tnhh",
    "cong",
    "ty",
    "công",
    "cổ",
    "phần",
    "vietnam",
    "viet",
    "nam",
    "việt",
    "group",
    "holding",
    "holdings",
    "&",
    "and",
    "of",
];

fn name_words(v: &Value) -> Vec<String> {
    let name = v.as_str().unwrap_or("").to_lowercase();
    let mut words: Vec<String> = name
        .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '&'))
        .filter(|w| !w.is_empty() && !SUFFIXES.contains(w))
        .map(str::to_string)
        .collect();
    words.sort();
    words.dedup();
    words
}

type Matcher = fn(&Value, &Value) -> bool;

fn money_match(p: &Value, g: &Value) -> bool {
    currency(p) == currency(g) && close(num(&p["value"]), num(&g["value"]))
}
fn count_match(p: &Value, g: &Value) -> bool {
    p["kind"] == g["kind"] && num(&p["value"]) == num(&g["value"])
}
fn stat_match(p: &Value, g: &Value) -> bool {
    p["province"] == g["province"]
        && p["metric"] == g["metric"]
        && currency(p) == currency(g)
        && close(num(&p["value"]), num(&g["value"]))
}
fn project_match(p: &Value, g: &Value) -> bool {
    if !(currency(p) == currency(g) && close(num(&p["value"]), num(&g["value"]))) {
        return false;
    }
    let gold = name_words(&g["investor"]);
    let predicted = name_words(&p["investor"]);
    gold.is_empty() || predicted.iter().filter(|w| gold.contains(w)).count() * 2 >= gold.len()
}

/// The annotated set `name` (folder in `variable`, else beside the repository).
fn set_dir(variable: &str, name: &str) -> Option<PathBuf> {
    let dir = std::env::var_os(variable)
        .map(PathBuf::from)
        // The project's shared material sits beside the repository (`../shared`).
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../../shared/eval")
                .join(name)
        });
    dir.is_dir().then_some(dir)
}

fn score(dir: &Path) -> Vec<(&'static str, f64)> {
    let sections: [(&'static str, Matcher); 4] = [
        ("money", money_match),
        ("counts", count_match),
        ("statistics", stat_match),
        ("projects", project_match),
    ];
    let mut totals = [(0usize, 0usize, 0usize); 4];
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("readable dev folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    for path in paths {
        let gold: Value = serde_json::from_str(&std::fs::read_to_string(&path).expect("gold")).expect("gold json");
        let Ok(text) = std::fs::read_to_string(path.with_extension("txt")) else {
            continue;
        };
        let published = gold["published"]
            .as_str()
            .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            .expect("published date");
        let language = gold["language"].as_str().and_then(|l| l.parse::<Language>().ok());
        let out = extract(&Input {
            text: &text,
            published,
            language,
        });
        let predicted = serde_json::to_value(&out).expect("serialize");
        for (i, (key, matcher)) in sections.iter().enumerate() {
            let preds = predicted[*key].as_array().cloned().unwrap_or_default();
            let mut left = gold[*key].as_array().cloned().unwrap_or_default();
            totals[i].1 += preds.len();
            totals[i].2 += left.len();
            for p in &preds {
                if let Some(at) = left.iter().position(|g| matcher(p, g)) {
                    left.remove(at);
                    totals[i].0 += 1;
                }
            }
        }
    }
    sections
        .iter()
        .zip(totals)
        .map(|((name, _), (hits, predicted, gold))| {
            let precision = if predicted == 0 {
                1.0
            } else {
                hits as f64 / predicted as f64
            };
            let recall = if gold == 0 { 1.0 } else { hits as f64 / gold as f64 };
            let f1 = if precision + recall == 0.0 {
                0.0
            } else {
                2.0 * precision * recall / (precision + recall)
            };
            (*name, f1)
        })
        .collect()
}

fn assert_scores(variable: &str, name: &str) {
    let Some(dir) = set_dir(variable, name) else {
        eprintln!("{name} set not present; skipping");
        return;
    };
    let targets = [("money", 0.97), ("counts", 0.9), ("statistics", 0.8), ("projects", 0.8)];
    for ((section, f1), (_, target)) in score(&dir).into_iter().zip(targets) {
        eprintln!("{name} {section}: F1 {f1:.3}");
        assert!(f1 >= target, "{name} {section} F1 {f1:.3} below {target}");
    }
}

#[test]
fn development_set_scores() {
    assert_scores("FDI_DEV_SET", "dev");
}

/// The second set was written to cover phrasings the first lacked.
#[test]
fn second_development_set_scores() {
    assert_scores("FDI_DEV2_SET", "dev2");
}
