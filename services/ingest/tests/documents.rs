//! News documents through the running service: stored once, figures with
//! their evidence, reported statistics listed, a named project promoted.

mod common;

use fdi_proto::{
    common::Scope,
    ingest::{self as pb, EventStatus, Outcome},
};
use std::time::Duration;

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

/// One sentence holding `amounts` amounts: "Bac Ninh attracted 1 million
/// USD, 2 million USD, ... in the first six months of 2025."
fn dense_sentence(amounts: usize) -> String {
    let listed: Vec<String> = (1..=amounts).map(|n| format!("{n} million USD")).collect();
    format!(
        "Bac Ninh attracted {} of foreign investment in the first six months of 2025.",
        listed.join(", ")
    )
}

/// An article of about `bytes` bytes, many sentences of several figures each:
/// slow to extract, yet nothing to refuse once the item limit is raised.
fn long_article(bytes: usize, tag: &str) -> String {
    let mut text = format!("{tag}\n");
    let mut n = 0;
    while text.len() < bytes {
        n += 1;
        text.push_str(&format!(
            "In the first six months of 2025, Bac Ninh attracted {} new projects worth 1.2 billion USD, \
             30 projects worth 310 million USD and 7 projects worth 20 million USD.\n",
            n % 900 + 1
        ));
    }
    text
}

/// `request` with a deadline.
fn within(request: pb::IngestDocumentRequest, timeout: Duration) -> tonic::Request<pb::IngestDocumentRequest> {
    let mut request = tonic::Request::new(request);
    request.set_timeout(timeout);
    request
}

/// Evidence of a figure: its sentence clipped around it, never the whole of a
/// long sentence per figure. (The extractor cuts sentences longer than 3,000
/// bytes at a space, so a figure may straddle two; its number is in its own.)
fn assert_bounded(text: &str, evidence: Option<&pb::Evidence>) -> usize {
    let evidence = evidence.expect("evidence");
    let (start, end) = (
        usize::try_from(evidence.span_start).unwrap(),
        usize::try_from(evidence.span_end).unwrap(),
    );
    let sentence = &evidence.sentence;
    assert!(
        sentence.len() <= fdi_ingest::api::MAX_EVIDENCE_BYTES + 6,
        "{} bytes of evidence",
        sentence.len()
    );
    let number = text[start..end].split(' ').next().unwrap_or_default();
    assert!(sentence.contains(number), "{sentence:?} misses {number:?}");
    sentence.len()
}

#[tokio::test]
async fn dense_articles_keep_bounded_evidence_or_are_refused() {
    let mut system = common::start().await;
    let client = &mut system.client;

    // 900 amounts in one sentence of some 15 KB: every figure is kept, each
    // with the part of the sentence around it, in the reply and in the store.
    let text = dense_sentence(900);
    assert!(text.len() > 10 * fdi_ingest::api::MAX_EVIDENCE_BYTES);
    let document = client
        .ingest_document(request(&text, "https://example.org/dense"))
        .await
        .unwrap()
        .into_inner();
    let stored = client
        .get_document(pb::GetDocumentRequest {
            name: document.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    for document in [&document, &stored] {
        assert_eq!(document.money.len(), 900);
        let evidence: usize = document
            .money
            .iter()
            .map(|m| assert_bounded(&text, m.evidence.as_ref()))
            .chain(
                document
                    .counts
                    .iter()
                    .map(|c| assert_bounded(&text, c.evidence.as_ref())),
            )
            .chain(
                document
                    .statistics
                    .iter()
                    .map(|s| assert_bounded(&text, s.evidence.as_ref())),
            )
            .chain(
                document
                    .projects
                    .iter()
                    .map(|p| assert_bounded(&text, p.evidence.as_ref())),
            )
            .sum();
        let items = document.money.len() + document.counts.len() + document.statistics.len() + document.projects.len();
        assert!(evidence <= items * (fdi_ingest::api::MAX_EVIDENCE_BYTES + 6));
    }

    // 1 MiB of one sentence full of amounts: more than the limit of each kind.
    let mut text = dense_sentence(60_000);
    text.truncate(text[..1024 * 1024].rfind(',').unwrap());
    let refused = client
        .ingest_document(request(&text, "https://example.org/denser"))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument, "{}", refused.message());
    assert!(
        refused.message().contains("more than 1000 money mentions")
            && refused.message().contains("FDI_INGEST_MAX_DOCUMENT_ITEMS"),
        "{}",
        refused.message()
    );
    // Still serving.
    assert!(client.ingest_document(request(ARTICLE, "")).await.is_ok());
}

#[tokio::test]
async fn a_call_past_its_deadline_stops_its_extraction() {
    let mut system = common::start_with(|config| {
        config.max_extractions = 1;
        config.max_document_items = 1_000_000;
    })
    .await;
    let client = &mut system.client;
    // Some 15 s of extraction in a debug build when nothing stops it. (The
    // deadline leaves time to upload 4 MiB: a call whose deadline passes
    // before its handler starts gets the transport's CANCELLED.)
    let big = long_article(4 * 1024 * 1024, "big");
    let late = client
        .ingest_document(within(request(&big, ""), Duration::from_secs(2)))
        .await
        .unwrap_err();
    assert_eq!(late.code(), Code::DeadlineExceeded, "{}", late.message());
    // The one extraction slot comes free when the abandoned extraction stops,
    // long before it would have finished.
    let next = client
        .ingest_document(within(request(ARTICLE, ""), Duration::from_secs(10)))
        .await;
    assert!(next.is_ok(), "{:?}", next.map(|_| ()));
}

#[tokio::test]
async fn extractions_over_the_limit_are_refused() {
    let mut system = common::start_with(|config| {
        config.max_extractions = 1;
        config.max_document_items = 1_000_000;
    })
    .await;
    let mut busy_client = system.client.clone();
    let big = long_article(4 * 1024 * 1024, "busy");
    let busy = tokio::spawn(async move {
        busy_client
            .ingest_document(within(request(&big, ""), Duration::from_secs(60)))
            .await
    });
    // While the long extraction holds the only slot, another document waits
    // for it until its deadline, then is refused naming the limit.
    let started = std::time::Instant::now();
    let mut refused = None;
    for attempt in 0.. {
        if started.elapsed() > Duration::from_secs(60) {
            break;
        }
        let text = format!("{ARTICLE}Attempt {attempt}.\n");
        match system
            .client
            .ingest_document(within(request(&text, ""), Duration::from_millis(500)))
            .await
        {
            Err(status) if status.code() == Code::ResourceExhausted => {
                refused = Some(status);
                break;
            }
            // The long extraction has not taken the slot yet (or has ended),
            // or this call ran out of time on a busy machine: try again.
            Ok(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            Err(status) if matches!(status.code(), Code::Cancelled | Code::DeadlineExceeded) => {}
            Err(status) => panic!("{status:?}"),
        }
    }
    let refused = refused.expect("RESOURCE_EXHAUSTED while the only extraction slot is taken");
    assert!(
        refused.message().contains("extracting 1 documents")
            && refused.message().contains("FDI_INGEST_MAX_EXTRACTIONS"),
        "{}",
        refused.message()
    );
    busy.abort();
}
