//! Throughput benchmark: `bench [DIR]` extracts the development articles
//! (default `../shared/eval/dev` beside the repository, else a built-in sample) over and over
//! until about 20 MB of text has been processed, then prints MB/s. It also
//! times one document made of the articles concatenated to ~5 MB.

use fdi_extract::{Input, Language, MAX_DOCUMENT_BYTES, extract};
use std::time::Instant;

const SAMPLE: &str = "Ninh Binh industrial parks pull in more than 920 million USD of foreign capital\n\n\
Industrial parks in Ninh Binh issued licences to 113 new secondary projects in the first eight months of 2025, \
with domestic investors committing more than 28.8 trillion VND and foreign investors more than 920 million USD.\n\
Trong 11 tháng đầu năm 2022, các KCN tỉnh Vĩnh Phúc đã đón 23 dự án FDI mới với tổng vốn 298,08 triệu USD.\n";

fn load(dir: &str) -> Vec<(String, chrono::NaiveDate, Option<Language>)> {
    let mut docs = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return docs;
    };
    let mut paths: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        if path.extension().is_some_and(|e| e == "txt") {
            // Articles come in pairs with their annotation; skip READMEs.
            let Ok(meta) = std::fs::read_to_string(path.with_extension("json")) else {
                continue;
            };
            let meta: serde_json::Value = serde_json::from_str(&meta).unwrap_or_default();
            let published = meta["published"]
                .as_str()
                .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
                .unwrap_or_default();
            let language = meta["language"].as_str().and_then(|l| l.parse().ok());
            if let Ok(text) = std::fs::read_to_string(&path) {
                docs.push((text, published, language));
            }
        }
    }
    docs
}

fn main() {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/eval/dev").to_string());
    let mut docs = load(&dir);
    if docs.is_empty() {
        eprintln!("no articles in {dir}; using the built-in sample");
        docs.push((
            SAMPLE.to_string(),
            chrono::NaiveDate::from_ymd_opt(2025, 9, 30).unwrap_or_default(),
            None,
        ));
    }
    let target = 20 * 1024 * 1024;
    let mut processed = 0usize;
    let mut items = 0usize;
    let start = Instant::now();
    while processed < target {
        for (text, published, language) in &docs {
            let out = extract(&Input {
                text,
                published: *published,
                language: *language,
            });
            items += out.money.len() + out.counts.len() + out.statistics.len() + out.projects.len();
            processed += text.len();
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "articles: {:.1} MB in {:.2} s = {:.1} MB/s ({} figures)",
        processed as f64 / 1e6,
        seconds,
        processed as f64 / 1e6 / seconds,
        items
    );

    // One large document just under the size limit.
    let mut big = String::new();
    while big.len() < MAX_DOCUMENT_BYTES - 20_000 {
        for (text, _, _) in &docs {
            big.push_str(text);
            big.push('\n');
        }
    }
    let published = docs[0].1;
    let start = Instant::now();
    let out = extract(&Input {
        text: &big,
        published,
        language: Some(Language::En),
    });
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "one document: {:.1} MB in {:.2} s = {:.1} MB/s ({} money)",
        big.len() as f64 / 1e6,
        seconds,
        big.len() as f64 / 1e6 / seconds,
        out.money.len()
    );
}
