//! The running catalogue driven with the real grpcurl binary, as a user would.

mod common;

use std::process::Command;

use serde_json::Value;
use unicode_normalization::UnicodeNormalization;

struct Output {
    success: bool,
    stdout: String,
    stderr: String,
}

async fn grpcurl(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        let output = Command::new(fdi_testkit::grpcurl())
            .args(&args)
            .output()
            .expect("run grpcurl");
        Output {
            success: output.status.success(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    })
    .await
    .unwrap()
}

async fn call(addr: &str, method: &str, body: &Value) -> Value {
    let output = grpcurl(vec![
        "-plaintext".into(),
        "-d".into(),
        body.to_string(),
        addr.into(),
        method.into(),
    ])
    .await;
    assert!(output.success, "{method} failed: {}", output.stderr);
    serde_json::from_str(&output.stdout).unwrap_or_else(|e| panic!("{method} printed no JSON ({e}): {}", output.stdout))
}

#[tokio::test]
async fn grpcurl_lists_describes_and_resolves() {
    let (server, _client) = common::start().await;
    let addr = server.addr.to_string();

    let list = grpcurl(vec!["-plaintext".into(), addr.clone(), "list".into()]).await;
    assert!(list.success, "{}", list.stderr);
    for service in [
        "fdi.catalogue.v1.CatalogueService",
        "grpc.health.v1.Health",
        "grpc.reflection.v1.ServerReflection",
        "grpc.reflection.v1alpha.ServerReflection",
    ] {
        assert!(
            list.stdout.lines().any(|l| l.trim() == service),
            "{service} missing from:\n{}",
            list.stdout
        );
    }
    assert!(
        !list.stdout.contains("IngestService"),
        "reflection lists only this server's services"
    );

    let describe = grpcurl(vec![
        "-plaintext".into(),
        addr.clone(),
        "describe".into(),
        "fdi.catalogue.v1.Province".into(),
    ])
    .await;
    assert!(describe.success, "{}", describe.stderr);
    assert!(
        describe.stdout.contains("A province or centrally-run city of Vietnam"),
        "{}",
        describe.stdout
    );
    assert!(describe.stdout.contains("merged_into"), "{}", describe.stdout);

    let methods = grpcurl(vec![
        "-plaintext".into(),
        addr.clone(),
        "describe".into(),
        "fdi.catalogue.v1.CatalogueService".into(),
    ])
    .await;
    assert!(methods.stdout.contains("rpc Resolve"), "{}", methods.stdout);

    let nfd: String = "Bắc Giang".nfd().collect();
    for query in ["Bắc Giang", nfd.as_str(), "bac giang"] {
        let resolved = call(
            &addr,
            "fdi.catalogue.v1.CatalogueService/Resolve",
            &serde_json::json!({ "query": query }),
        )
        .await;
        assert_eq!(
            resolved["match"]["resource"], "provinces/bac-giang",
            "{query}: {resolved}"
        );
        assert_eq!(
            resolved["match"]["currentProvince"], "provinces/bac-ninh",
            "{query}: {resolved}"
        );
    }
    let zone = call(
        &addr,
        "fdi.catalogue.v1.CatalogueService/Resolve",
        &serde_json::json!({ "query": "KCN Quang Châu" }),
    )
    .await;
    assert_eq!(zone["match"]["resource"], "zones/quang-chau");
    assert_eq!(zone["match"]["kind"], "ENTITY_KIND_ZONE");

    let province = call(
        &addr,
        "fdi.catalogue.v1.CatalogueService/GetProvince",
        &serde_json::json!({ "name": "provinces/bac-ninh" }),
    )
    .await;
    assert_eq!(province["absorbed"], serde_json::json!(["provinces/bac-giang"]));

    let missing = grpcurl(vec![
        "-plaintext".into(),
        "-d".into(),
        r#"{"name":"provinces/bac-nihn"}"#.into(),
        addr.clone(),
        "fdi.catalogue.v1.CatalogueService/GetProvince".into(),
    ])
    .await;
    assert!(!missing.success);
    assert!(
        missing.stderr.contains("NotFound") && missing.stderr.contains("provinces/bac-ninh"),
        "{}",
        missing.stderr
    );

    let health = call(
        &addr,
        "grpc.health.v1.Health/Check",
        &serde_json::json!({ "service": "fdi.catalogue.v1.CatalogueService" }),
    )
    .await;
    assert_eq!(health["status"], "SERVING");
}
