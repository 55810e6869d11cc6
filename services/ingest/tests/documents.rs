//! News documents through the running service: stored once, figures with
//! their evidence, reported statistics listed, a named project promoted.

mod common;

use fdi_proto::{
    common::Scope,
    ingest::{self as pb, EventStatus, Outcome},
};
use tonic::Code;

const ARTICLE: &str = "Bac Ninh industrial parks draw 1.2 billion USD in six months
In the first six months of 2025, Bac Ninh's industrial parks attracted 45 new projects with a total newly registered capital of 1.2 billion USD, the provincial industrial park management board said on July 8.
In addition, 60 projects added capital of more than 310 million USD.
Korea's Example Components Co., Ltd will invest 150 million USD in a new factory at Yen Phong II-C Industrial Park, which is scheduled to start production next year.
";

fn request(text: &str, url: &str) -> pb::IngestDocumentRequest {
    pb::IngestDocumentRequest {
        text: text.to_owned(),
        url: url.to_owned(),
        title: "Bac Ninh industrial parks draw 1.2 billion USD in six months".into(),
        published: Some(fdi_proto::Date {
            year: 2025,
            month: 7,
            day: 10,
        }),
        language: String::new(),
    }
}

#[tokio::test]
async fn documents_are_stored_once_with_evidence_and_projects_promote_to_events() {
    let mut system = common::start().await;
    let client = &mut system.client;
    let document = client
        .ingest_document(request(ARTICLE, "https://example.org/bac-ninh-h1"))
        .await
        .unwrap()
        .into_inner();
    assert!(!document.already_stored);
    assert_eq!(document.language, "en", "detected");
    let amounts: Vec<i64> = document
        .money
        .iter()
        .map(|m| m.amount.as_ref().unwrap().units)
        .collect();
    assert_eq!(amounts, [1_200_000_000, 1_200_000_000, 310_000_000, 150_000_000]);
    // Evidence points at the figure in the text and carries its sentence.
    let first = document.money[1].evidence.as_ref().unwrap();
    let (start, end) = (
        usize::try_from(first.span_start).unwrap(),
        usize::try_from(first.span_end).unwrap(),
    );
    assert_eq!(&ARTICLE[start..end], "1.2 billion USD");
    assert!(first.sentence.contains("45 new projects"));

    let capital = document
        .statistics
        .iter()
        .find(|s| s.metric == "new_capital")
        .expect("the province statistic");
    assert_eq!(capital.province, "provinces/bac-ninh");
    assert_eq!(capital.amount.as_ref().map(|m| m.units), Some(1_200_000_000));
    let period = capital.period.as_ref().unwrap();
    assert_eq!(
        period.start.as_ref().map(|d| (d.year, d.month, d.day)),
        Some((2025, 1, 1))
    );
    assert_eq!(
        period.end.as_ref().map(|d| (d.year, d.month, d.day)),
        Some((2025, 6, 30))
    );
    assert_eq!(capital.scope(), Scope::All);

    // Stored once: the same URL, or the same text elsewhere.
    let again = client
        .ingest_document(request(ARTICLE, "https://example.org/bac-ninh-h1"))
        .await
        .unwrap()
        .into_inner();
    assert!(again.already_stored);
    assert_eq!(again.name, document.name);
    let mirrored = client
        .ingest_document(request(ARTICLE, "https://mirror.example.net/copy"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(mirrored.name, document.name);
    let got = client
        .get_document(pb::GetDocumentRequest {
            name: document.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got.statistics, document.statistics);

    let listed = client
        .list_reported_statistics(pb::ListReportedStatisticsRequest {
            province: "Bắc Ninh".into(),
            metric: "new_capital".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.statistics.len(), 1);
    assert_eq!(listed.statistics[0].document, document.name);

    // A named project becomes an estimated event with the document as its source.
    let project = document
        .projects
        .iter()
        .find(|p| p.investor.contains("Example Components"))
        .expect("the named project");
    assert_eq!(project.amount.as_ref().map(|m| m.units), Some(150_000_000));
    assert_eq!(
        project.zone_resource, "zones/yen-phong-ii-c",
        "the zone is linked to the catalogue"
    );
    let promoted = client
        .promote_project(pb::PromoteProjectRequest {
            name: project.name.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(promoted.outcome(), Outcome::Accepted);
    let event = promoted.event.unwrap();
    assert_eq!(event.status(), EventStatus::Estimated);
    assert_eq!(event.source, "https://example.org/bac-ninh-h1");
    assert_eq!(event.current_province, "provinces/bac-ninh");
    assert_eq!(event.amount_usd.map(|m| m.units), Some(150_000_000));
    let twice = client
        .promote_project(pb::PromoteProjectRequest {
            name: project.name.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(twice.outcome(), Outcome::Duplicate);
    let refreshed = client
        .get_document(pb::GetDocumentRequest {
            name: document.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    let promoted_project = refreshed.projects.iter().find(|p| p.name == project.name).unwrap();
    assert_eq!(promoted_project.event, event.name);
}

#[tokio::test]
async fn bad_documents_are_refused() {
    let mut system = common::start().await;
    let client = &mut system.client;
    let empty = client.ingest_document(request("  ", "")).await.unwrap_err();
    assert_eq!(empty.code(), Code::InvalidArgument);
    let mut undated = request(ARTICLE, "");
    undated.published = None;
    assert_eq!(
        client.ingest_document(undated).await.unwrap_err().code(),
        Code::InvalidArgument
    );
    let mut klingon = request(ARTICLE, "");
    klingon.language = "tlh".into();
    assert_eq!(
        client.ingest_document(klingon).await.unwrap_err().code(),
        Code::InvalidArgument
    );
    let huge = client
        .ingest_document(request(&"x".repeat(5 * 1024 * 1024 + 1), ""))
        .await
        .unwrap_err();
    assert_eq!(huge.code(), Code::InvalidArgument);
    assert!(huge.message().contains("5242880"), "{}", huge.message());
    let missing = client
        .get_document(pb::GetDocumentRequest {
            name: "documents/999".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
    let bad_name = client
        .promote_project(pb::PromoteProjectRequest {
            name: "projects/1".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(bad_name.code(), Code::InvalidArgument);
    // Still serving.
    assert!(client.ingest_document(request(ARTICLE, "")).await.is_ok());
}

/// The seed articles beside the repository (`../shared/seeds`), when present.
fn seeds() -> Option<std::path::PathBuf> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/seeds");
    dir.is_dir().then_some(dir)
}

#[tokio::test]
async fn the_seed_articles_go_through_the_running_service() {
    let Some(dir) = seeds() else {
        eprintln!("skipped: ../shared/seeds is not beside the repository");
        return;
    };
    let mut system = common::start().await;
    let mut articles: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    articles.retain(|p| p.extension().is_some_and(|x| x == "txt"));
    articles.sort();
    assert_eq!(articles.len(), 5);
    for article in articles {
        let text = std::fs::read_to_string(&article).unwrap();
        let gold: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(article.with_extension("json")).unwrap()).unwrap();
        let published = chrono::NaiveDate::parse_from_str(gold["published"].as_str().unwrap(), "%Y-%m-%d").unwrap();
        let document = system
            .client
            .ingest_document(pb::IngestDocumentRequest {
                text,
                url: format!("file://{}", article.display()),
                published: Some(fdi_kit::period::date_to_proto(published)),
                language: gold["language"].as_str().unwrap_or_default().to_owned(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        let mut stored: Vec<(String, i64)> = document
            .money
            .iter()
            .map(|m| m.amount.as_ref().map(|a| (a.currency_code.clone(), a.units)).unwrap())
            .collect();
        let mut annotated: Vec<(String, i64)> = gold["money"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                (
                    m["currency"].as_str().unwrap().to_owned(),
                    m["value"].as_f64().unwrap().round() as i64,
                )
            })
            .collect();
        stored.sort();
        annotated.sort();
        assert_eq!(stored, annotated, "{}", article.display());
        assert!(
            !document.statistics.is_empty(),
            "{}: statistics stored with provenance",
            article.display()
        );
        assert!(
            document
                .statistics
                .iter()
                .all(|s| s.evidence.as_ref().is_some_and(|e| !e.sentence.is_empty()))
        );
    }
}
