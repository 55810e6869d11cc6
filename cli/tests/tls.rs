//! TLS on the wire, with certificates from `fdi certs` (the real command):
//! a service with a certificate serves only TLS, and callers that trust its
//! CA get through while plaintext and strangers do not; with a client CA it
//! requires callers' certificates (mutual TLS), and ingest reaches such a
//! catalogue with its own; a service with neither a certificate nor an
//! explicit plaintext setting refuses to start; and PostgreSQL is reached
//! over TLS with `sslmode=verify-full`.

mod common;

use std::{path::Path, process::Command, time::Duration};

use fdi_kit::config::{Common, TlsConfig};
use fdi_proto::{
    catalogue::{GetProvinceRequest, catalogue_service_client::CatalogueServiceClient},
    ingest::{EventInput, SubmitEventRequest, ingest_service_client::IngestServiceClient},
};
use fdi_testkit::{settings, spawn_service};
use sqlx::Connection;
use tonic::transport::{Certificate, ClientTlsConfig, Endpoint, Identity};

const READY: Duration = Duration::from_secs(120);

/// `fdi certs --out dir`: the development CA, and the services' certificate and key.
fn certificates(dir: &Path) -> TlsConfig {
    let status = Command::new(env!("CARGO_BIN_EXE_fdi"))
        .args(["certs", "--out"])
        .arg(dir)
        .status()
        .unwrap();
    assert!(status.success());
    TlsConfig {
        cert: Some(dir.join("service.pem")),
        key: Some(dir.join("service.key")),
        ca: Some(dir.join("ca.pem")),
        client_ca: None,
        allow_plaintext: false,
    }
}

fn with_tls(url: &str, tls: TlsConfig) -> Common {
    let mut common = settings::common(url);
    common.tls = tls;
    common
}

/// GetProvince over `endpoint`; whether it answered.
async fn reaches(endpoint: Endpoint) -> bool {
    let Ok(channel) = endpoint.connect_timeout(Duration::from_secs(5)).connect().await else {
        return false;
    };
    CatalogueServiceClient::new(channel)
        .get_province(GetProvinceRequest {
            name: "provinces/bac-ninh".into(),
        })
        .await
        .is_ok()
}

fn https(port: u16, tls: ClientTlsConfig) -> Endpoint {
    Endpoint::from_shared(format!("https://localhost:{port}"))
        .unwrap()
        .tls_config(tls)
        .unwrap()
}

fn trusting(ca: &Path) -> ClientTlsConfig {
    ClientTlsConfig::new().ca_certificate(Certificate::from_pem(std::fs::read(ca).unwrap()))
}

fn identity(tls: &TlsConfig) -> Identity {
    Identity::from_pem(
        std::fs::read(tls.cert.as_ref().unwrap()).unwrap(),
        std::fs::read(tls.key.as_ref().unwrap()).unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_catalogue_with_a_certificate_serves_only_tls_to_those_who_trust_its_ca() {
    let (dir, stranger_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let tls = certificates(dir.path());
    let stranger = certificates(stranger_dir.path());
    let db = fdi_testkit::database().await;
    let config = fdi_catalogue::Config::new("127.0.0.1:0".parse().unwrap(), with_tls(&db.url, tls.clone()));
    let catalogue = spawn_service(|l, s| fdi_catalogue::serve(config, l, s)).await;
    let port = catalogue.addr.port();
    let ca = tls.ca.as_deref().unwrap();
    fdi_testkit::wait_until_serving_tls(
        &format!("https://localhost:{port}"),
        fdi_catalogue::SERVICE_NAME,
        &tls,
        READY,
    )
    .await;

    assert!(reaches(https(port, trusting(ca))).await, "a client trusting the CA");
    let plaintext = Endpoint::from_shared(format!("http://localhost:{port}")).unwrap();
    assert!(!reaches(plaintext).await, "plaintext to a TLS listener");
    assert!(
        !reaches(https(port, trusting(stranger.ca.as_deref().unwrap()))).await,
        "a client trusting another CA"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn with_a_client_ca_callers_need_a_certificate_and_ingest_presents_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let tls = certificates(dir.path());
    let mutual = TlsConfig {
        client_ca: tls.ca.clone(),
        ..tls.clone()
    };
    let db = fdi_testkit::database().await;
    let config = fdi_catalogue::Config::new("127.0.0.1:0".parse().unwrap(), with_tls(&db.url, mutual.clone()));
    let catalogue = spawn_service(|l, s| fdi_catalogue::serve(config, l, s)).await;
    let port = catalogue.addr.port();
    let catalogue_url = format!("https://localhost:{port}");
    fdi_testkit::wait_until_serving_tls(&catalogue_url, fdi_catalogue::SERVICE_NAME, &mutual, READY).await;
    let ca = tls.ca.as_deref().unwrap();
    assert!(!reaches(https(port, trusting(ca))).await, "no client certificate");
    assert!(
        reaches(https(port, trusting(ca).identity(identity(&tls)))).await,
        "with the certificate"
    );

    // Ingest calls that catalogue (resolving a row's province) over mutual TLS, serving TLS itself.
    let ingest_config = fdi_ingest::Config::new(
        "127.0.0.1:0".parse().unwrap(),
        with_tls(&db.url, mutual.clone()),
        &catalogue_url,
    );
    let ingest = spawn_service(|l, s| fdi_ingest::serve(ingest_config, l, s)).await;
    let ingest_url = format!("https://localhost:{}", ingest.addr.port());
    fdi_testkit::wait_until_serving_tls(&ingest_url, fdi_ingest::SERVICE_NAME, &mutual, READY).await;
    let channel = fdi_kit::tls::endpoint(&ingest_url, &mutual)
        .unwrap()
        .connect()
        .await
        .unwrap();
    let response = IngestServiceClient::new(channel)
        .submit_event(SubmitEventRequest {
            event: Some(EventInput {
                idempotency_key: "tls-1".into(),
                kind: "new".into(),
                event_date: "2025-03-01".into(),
                project_ref: "GCN-TLS-1".into(),
                investor: "Example Electronics Co., Ltd".into(),
                investor_country: "KR".into(),
                province: "Bắc Giang".into(),
                amount: "25000000".into(),
                currency: "USD".into(),
                ..Default::default()
            }),
        })
        .await
        .expect("a row resolved through the catalogue over mutual TLS")
        .into_inner();
    let event = response.event.expect("the recorded event");
    assert_eq!(event.current_province, "provinces/bac-ninh");
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_certificate_a_service_serves_plaintext_only_when_told_to() {
    let db = fdi_testkit::database().await;
    let config = fdi_catalogue::Config::new("127.0.0.1:0".parse().unwrap(), with_tls(&db.url, TlsConfig::default()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let outcome = tokio::time::timeout(
        READY,
        fdi_catalogue::serve(config, listener, fdi_kit::shutdown::CancellationToken::new()),
    )
    .await
    .expect("refuses at once, without serving");
    let error = outcome.expect_err("no certificate and no FDI_ALLOW_PLAINTEXT");
    assert!(format!("{error:#}").contains("FDI_ALLOW_PLAINTEXT"), "{error:#}");
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_is_reached_over_tls_with_verify_full() {
    let dir = tempfile::tempdir().unwrap();
    let tls = certificates(dir.path());
    let cluster = tokio::task::spawn_blocking(fdi_localpg::Cluster::start)
        .await
        .unwrap()
        .unwrap();
    let admin_url = cluster.url("postgres");
    let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap();
    let data: String = sqlx::query_scalar("SHOW data_directory")
        .fetch_one(&mut admin)
        .await
        .unwrap();
    install_server_certificate(Path::new(&data), &tls);
    for setting in [
        "ssl_cert_file = 'server.crt'",
        "ssl_key_file = 'server.key'",
        "ssl = on",
    ] {
        sqlx::query(&format!("ALTER SYSTEM SET {setting}"))
            .execute(&mut admin)
            .await
            .unwrap();
    }
    sqlx::query("SELECT pg_reload_conf()")
        .execute(&mut admin)
        .await
        .unwrap();
    let ca = tls.ca.as_deref().unwrap().display().to_string();
    let verified = format!(
        "{}&sslmode=verify-full&sslrootcert={ca}",
        with_query(&admin_url).replace("127.0.0.1", "localhost")
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let mut connection = loop {
        match sqlx::PgConnection::connect(&verified).await {
            Ok(connection) => break connection,
            Err(error) if tokio::time::Instant::now() < deadline => {
                eprintln!("waiting for TLS: {error}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(error) => panic!("verify-full: {error}"),
        }
    };
    let encrypted: bool = sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        .fetch_one(&mut connection)
        .await
        .unwrap();
    assert!(encrypted, "the connection is TLS");
    // A CA that did not sign the server's certificate is refused.
    let other_dir = tempfile::tempdir().unwrap();
    let other = certificates(other_dir.path());
    let wrong = verified.replace(&ca, &other.ca.as_deref().unwrap().display().to_string());
    assert!(sqlx::PgConnection::connect(&wrong).await.is_err());
    drop(connection);
    tokio::task::spawn_blocking(move || cluster.stop())
        .await
        .unwrap()
        .unwrap();
}

/// `url` ready for more `&key=value` parameters.
fn with_query(url: &str) -> String {
    if url.contains('?') {
        url.to_owned()
    } else {
        format!("{url}?")
    }
}

/// The certificate and key into the cluster's data directory, owned by the cluster's user with the mode
/// PostgreSQL insists on for a key.
fn install_server_certificate(data: &Path, tls: &TlsConfig) {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let owner = std::fs::metadata(data).unwrap();
    for (from, to, mode) in [
        (tls.cert.as_ref().unwrap(), "server.crt", 0o644),
        (tls.key.as_ref().unwrap(), "server.key", 0o600),
    ] {
        let target = data.join(to);
        std::fs::copy(from, &target).unwrap();
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(mode)).unwrap();
        std::os::unix::fs::chown(&target, Some(owner.uid()), Some(owner.gid())).unwrap();
    }
}
