//! The Kubernetes manifests (`deploy/k8s`), black-box: each overlay renders with `kubectl kustomize`; keeps
//! the project's policy (restricted pods, probes, limits, pinned images, a Service, PDB and HPA per service);
//! lets through the network exactly the connections the system needs; and says exactly what the binaries
//! read: the migration Job and the three services run here as real processes with the commands,
//! environment, Secrets and ports of the rendered objects, and each service becomes SERVING on the port its
//! probe names and answers an authenticated call.

mod common;
mod deploy {
    pub mod local;
    pub mod manifests;
    pub mod network;
    pub mod policy;
}

use std::{path::Path, process::Child, time::Duration};

use deploy::{
    local::{Local, Secrets},
    manifests::Rendered,
    network::{Peer, Pod, connects, pods},
    policy::{Expect, violations},
};
use fdi_kit::{access::Bearer, config::TlsConfig};
use fdi_proto::{
    analytics::{GetSummaryRequest, analytics_service_client::AnalyticsServiceClient},
    catalogue::{ListProvincesRequest, catalogue_service_client::CatalogueServiceClient},
    ingest::{ListExchangeRatesRequest, ingest_service_client::IngestServiceClient},
};
use serde_json::{Map, Value};
use tonic::{Code, transport::Channel};

/// How long a service may take to say SERVING (debug builds on a busy machine).
const READY: Duration = Duration::from_secs(120);

const OVERLAYS: [(&str, Expect); 2] = [
    (
        "dev",
        Expect {
            replicas: 1,
            tls: false,
        },
    ),
    ("prod", Expect { replicas: 3, tls: true }),
];

#[test]
fn every_overlay_keeps_the_policy() {
    for (overlay, expect) in &OVERLAYS {
        let found = violations(&Rendered::overlay(overlay), expect);
        assert!(found.is_empty(), "overlay {overlay}:\n{}", found.join("\n"));
    }
}

#[test]
fn the_policy_finds_what_it_forbids() {
    let mut rendered = Rendered::overlay("dev");
    for object in &mut rendered.objects {
        let name = object["metadata"]["name"].as_str().unwrap_or_default().to_owned();
        match (object["kind"].as_str().unwrap_or_default(), name.as_str()) {
            ("Deployment", "fdi-catalogue") => {
                let container = &mut object["spec"]["template"]["spec"]["containers"][0];
                container["image"] = Value::from("ghcr.io/fdi-atlas/fdi:latest");
                container["securityContext"]["readOnlyRootFilesystem"] = Value::from(false);
                container["readinessProbe"] = Value::Null;
            }
            ("Deployment", "fdi-ingest") => {
                object["spec"]["template"]["spec"]["securityContext"]["runAsUser"] = Value::from(0);
                object["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"] = Value::Null;
            }
            ("HorizontalPodAutoscaler", "fdi-analytics") | ("NetworkPolicy", "default-deny") => {
                object["kind"] = Value::from("Removed");
            }
            _ => {}
        }
    }
    let found = violations(&rendered, &OVERLAYS[0].1).join("\n");
    for expected in [
        "fdi-catalogue/catalogue: image `ghcr.io/fdi-atlas/fdi:latest` is not pinned",
        "fdi-catalogue/catalogue: the root filesystem is writable",
        "fdi-catalogue: no readinessProbe",
        "fdi-catalogue: the readinessProbe is not a native gRPC probe",
        "fdi-ingest: the pod does not run as a numeric user of 10000 or more",
        "fdi-ingest/ingest: no limits.cpu",
        "fdi-analytics: no HorizontalPodAutoscaler",
        "no default-deny NetworkPolicy",
    ] {
        assert!(found.contains(expected), "`{expected}` not found in:\n{found}");
    }
}

/// The environment variables the program of `words` (a container's command) reads: those its `--help` names,
/// `RUST_LOG`, and the OpenTelemetry SDK's `OTEL_*`.
fn variables_read_by(words: &[&str]) -> Vec<String> {
    let (program, rest) = words.split_first().expect("a command");
    let output = deploy::local::binary(program)
        .args(rest)
        .arg("--help")
        .output()
        .unwrap();
    assert!(output.status.success(), "{words:?} --help");
    String::from_utf8_lossy(&output.stdout)
        .split("[env: ")
        .skip(1)
        .map(|after| {
            after
                .chars()
                .take_while(|c| c.is_ascii_uppercase() || *c == '_')
                .collect()
        })
        .collect()
}

#[test]
fn every_variable_the_manifests_set_is_one_its_binary_reads() {
    for (overlay, _) in &OVERLAYS {
        let rendered = Rendered::overlay(overlay);
        for workload in rendered.workloads().filter(|w| w.name().starts_with("fdi-")) {
            for container in workload.containers() {
                let words: Vec<&str> = container["command"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|w| w.as_str().unwrap())
                    .take_while(|w| !w.starts_with("--"))
                    .collect();
                let read = variables_read_by(&words);
                assert!(!read.is_empty(), "{words:?}: no variables in its --help");
                let config_maps = container["envFrom"].as_array().into_iter().flatten().map(|source| {
                    let name = source["configMapRef"]["name"].as_str().unwrap();
                    rendered.config_map(name).keys().cloned().collect::<Vec<_>>()
                });
                let env = container["env"].as_array().into_iter().flatten();
                let set = config_maps
                    .flatten()
                    .chain(env.map(|v| v["name"].as_str().unwrap().to_owned()));
                for variable in set {
                    let known = read.contains(&variable) || variable == "RUST_LOG" || variable.starts_with("OTEL_");
                    assert!(
                        known,
                        "{overlay}: {} sets {variable}, which {words:?} does not read",
                        workload.name()
                    );
                }
            }
        }
    }
}

/// Whether `source` may reach `port` of `target` as the system needs: ingest and analytics call the
/// catalogue; the services and the Job use PostgreSQL; the services send telemetry to the Collector.
fn needed(source: &str, target: &Pod, port: &str) -> bool {
    const SERVICES: [&str; 3] = ["fdi-catalogue", "fdi-ingest", "fdi-analytics"];
    let is_database = target.name == "postgres" || target.labels.contains_key("cnpg.io/cluster");
    match (target.name.as_str(), port) {
        ("fdi-catalogue", "grpc") => ["fdi-ingest", "fdi-analytics"].contains(&source),
        (_, "postgres" | "postgresql") if is_database => SERVICES.contains(&source) || source == "fdi-migrate",
        ("otel-collector", "otlp-grpc") => SERVICES.contains(&source),
        _ => false,
    }
}

#[test]
fn the_network_lets_through_exactly_what_the_system_needs() {
    for (overlay, _) in &OVERLAYS {
        let rendered = Rendered::overlay(overlay);
        let pods = pods(&rendered);
        let mut wrong = Vec::new();
        for target in &pods {
            for (port_name, port) in &target.ports {
                for source in pods.iter().filter(|s| s.name != target.name) {
                    let (allowed, expected) = (
                        connects(&rendered, &Peer::Pod(source), target, *port),
                        needed(&source.name, target, port_name),
                    );
                    if allowed != expected {
                        wrong.push(format!(
                            "{} -> {}:{port_name}: allowed {allowed}, needed {expected}",
                            source.name, target.name
                        ));
                    }
                }
                // Clients come from namespaces labelled for it, and reach the services' gRPC ports only.
                let client = namespace(&[("fdi-atlas.io/clients", "true")]);
                let a_service_port = target.name.starts_with("fdi-") && port_name == "grpc";
                if connects(&rendered, &Peer::Elsewhere(client), target, *port) != a_service_port {
                    wrong.push(format!("a client -> {}:{port_name}: not {a_service_port}", target.name));
                }
                if connects(&rendered, &Peer::Elsewhere(namespace(&[])), target, *port) {
                    wrong.push(format!("an unlabelled namespace -> {}:{port_name}", target.name));
                }
            }
        }
        assert!(wrong.is_empty(), "overlay {overlay}:\n{}", wrong.join("\n"));
    }
}

/// The labels of another namespace (named `elsewhere`) with `labels`.
fn namespace(labels: &[(&str, &str)]) -> Map<String, Value> {
    let mut map: Map<String, Value> = labels.iter().map(|(k, v)| ((*k).to_owned(), Value::from(*v))).collect();
    map.insert("kubernetes.io/metadata.name".into(), Value::from("elsewhere"));
    map
}

/// Children killed when the test ends, however it ends.
struct Processes(Vec<Child>);

impl Drop for Processes {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn each_overlay_runs_the_real_binaries_as_rendered() {
    // One overlay after the other: the database roles are the cluster's, shared by both databases.
    for (overlay, _) in &OVERLAYS {
        run_overlay(overlay).await;
    }
}

async fn run_overlay(overlay: &str) {
    let rendered = Rendered::overlay(overlay);
    let database = fdi_testkit::database().await;
    let dir = tempfile::tempdir().unwrap();
    let secrets = test_secrets(&database.url, dir.path());
    let local = Local::new(&rendered, &secrets, dir.path());

    // The migration Job, on a new database and again on the same one (every rollout runs it).
    let job = rendered
        .workloads()
        .find(|w| w.kind() == "Job")
        .expect("a migration Job");
    for run in ["first", "second"] {
        for container in job.containers() {
            let (mut command, log) = local.command(job, container);
            let status = command.status().expect("start a Job container");
            let output = std::fs::read_to_string(&log).unwrap_or_default();
            assert!(
                status.success(),
                "{overlay}: {} ({run} run) failed:\n{output}",
                container["name"]
            );
        }
    }

    let mut processes = Processes(Vec::new());
    let mut logs = Vec::new();
    for service in rendered.services() {
        let (mut command, log) = local.command(service, service.main_container());
        processes.0.push(command.spawn().expect("start a service"));
        logs.push(log);
    }
    for service in rendered.services() {
        let container = service.main_container();
        for probe in ["startupProbe", "readinessProbe", "livenessProbe"] {
            let grpc = &container[probe]["grpc"];
            let port = local.port(service, &grpc["port"]);
            let name = grpc["service"].as_str().unwrap_or_default();
            let health = format!("http://127.0.0.1:{port}");
            if tokio::time::timeout(READY, fdi_testkit::wait_until_serving(&health, name, READY))
                .await
                .is_err()
            {
                panic!(
                    "{overlay}: {} {probe} not SERVING; logs:\n{}",
                    service.name(),
                    read_logs(&logs)
                );
            }
        }
    }
    let admin = secrets[&("fdi-api-keys".to_owned(), "admin".to_owned())].clone();
    let tls = TlsConfig {
        ca: Some(dir.path().join("certs/ca.pem")),
        ..TlsConfig::default()
    };
    answers_with_its_key(&rendered, &local, &tls, &admin, overlay).await;
}

/// One authenticated call to each service on its gRPC port (TLS when the overlay serves it), and the same
/// call without a key refused.
async fn answers_with_its_key(rendered: &Rendered, local: &Local<'_>, tls: &TlsConfig, key: &str, overlay: &str) {
    for service in rendered.services() {
        let container = service.main_container();
        let port = local.port(service, &Value::from("grpc"));
        let config = rendered.config_map(container["envFrom"][0]["configMapRef"]["name"].as_str().unwrap());
        let scheme = if config.contains_key("FDI_TLS_CERT") {
            "https"
        } else {
            "http"
        };
        let channel = fdi_kit::tls::endpoint(&format!("{scheme}://localhost:{port}"), tls)
            .unwrap()
            .connect()
            .await
            .unwrap_or_else(|e| panic!("{overlay}: {} unreachable: {e}", service.name()));
        let with_key = call(service.name(), channel.clone(), Some(key)).await;
        assert_eq!(
            with_key,
            Code::Ok,
            "{overlay}: {} refused its admin key",
            service.name()
        );
        let without = call(service.name(), channel, None).await;
        assert_eq!(
            without,
            Code::Unauthenticated,
            "{overlay}: {} without a key",
            service.name()
        );
    }
}

/// A read each service answers: the provinces, the exchange rates, a province's figures.
async fn call(service: &str, channel: Channel, key: Option<&str>) -> Code {
    let bearer = Bearer::new(key).unwrap();
    let answer = match service {
        "fdi-catalogue" => CatalogueServiceClient::with_interceptor(channel, bearer)
            .list_provinces(ListProvincesRequest::default())
            .await
            .map(|r| assert!(!r.into_inner().provinces.is_empty(), "no provinces")),
        "fdi-ingest" => IngestServiceClient::with_interceptor(channel, bearer)
            .list_exchange_rates(ListExchangeRatesRequest::default())
            .await
            .map(drop),
        "fdi-analytics" => AnalyticsServiceClient::with_interceptor(channel, bearer)
            .get_summary(GetSummaryRequest {
                provinces: vec!["Bắc Ninh".into()],
                period: Some(fdi_proto::common::Period {
                    kind: Some(fdi_proto::common::period::Kind::Shorthand("2025".into())),
                }),
                ..Default::default()
            })
            .await
            .map(drop),
        other => panic!("unknown service {other}"),
    };
    answer.map_or_else(|status| status.code(), |()| Code::Ok)
}

fn read_logs(logs: &[std::path::PathBuf]) -> String {
    logs.iter()
        .map(|log| {
            format!(
                "== {}\n{}",
                log.display(),
                std::fs::read_to_string(log).unwrap_or_default()
            )
        })
        .collect()
}

/// Each role's password in the test's Secrets.
fn password(role: &str) -> String {
    format!("{role}-deploy-test-password")
}

/// `admin` (a superuser's URL) as `role`.
fn as_role(admin: &str, role: &str) -> String {
    fdi_testkit::with_role(admin, role, &password(role))
}

/// The Secrets an operator makes (deploy/README.md), with test values: the test database, new API keys,
/// certificates from `fdi certs` (valid for localhost and the Services' names).
fn test_secrets(admin: &str, dir: &Path) -> Secrets {
    const ROLES: [&str; 4] = ["fdi_owner", "fdi_catalogue", "fdi_ingest", "fdi_analytics"];
    let certs = dir.join("certs");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_fdi"))
        .args(["certs", "--out"])
        .arg(&certs)
        .status()
        .unwrap();
    assert!(status.success(), "fdi certs");
    let read = |file: &str| std::fs::read_to_string(certs.join(file)).unwrap();
    let passwords: Vec<String> = ROLES.iter().map(|role| format!("{role}={}", password(role))).collect();
    let entries = [
        ("fdi-database-admin", "url", admin.to_owned()),
        ("fdi-database-passwords", "passwords", passwords.join("\n")),
        ("fdi-database", "owner-url", as_role(admin, "fdi_owner")),
        ("fdi-database", "catalogue-url", as_role(admin, "fdi_catalogue")),
        ("fdi-database", "ingest-url", as_role(admin, "fdi_ingest")),
        ("fdi-database", "analytics-url", as_role(admin, "fdi_analytics")),
        ("fdi-api-keys", "admin", fdi_kit::access::generate().unwrap().token),
        ("fdi-api-keys", "service", fdi_kit::access::generate().unwrap().token),
        ("fdi-tls", "tls.crt", read("service.pem")),
        ("fdi-tls", "tls.key", read("service.key")),
        ("fdi-tls", "ca.crt", read("ca.pem")),
    ];
    entries
        .into_iter()
        .map(|(name, key, value)| ((name.to_owned(), key.to_owned()), value))
        .collect()
}

/// `fdi` with `args` and `env` only; its exit status and output.
fn fdi(args: &[&str], env: &[(&str, &str)]) -> (bool, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_fdi"))
        .args(args)
        .env_clear()
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_service_that_only_verifies_waits_for_fdi_db_migrate() {
    let database = fdi_testkit::database().await;
    let dir = tempfile::tempdir().unwrap();
    let (port, health) = (common::free_port(), common::free_port());
    let log = dir.path().join("catalogue.log");
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_fdi"))
        .args(["serve", "catalogue"])
        .env_clear()
        .envs([
            ("DATABASE_URL", database.url.as_str()),
            ("FDI_MIGRATIONS", "verify"),
            ("FDI_ALLOW_PLAINTEXT", "true"),
            ("FDI_HEALTH_INTERVAL", "200ms"),
            ("FDI_LOG_FORMAT", "json"),
        ])
        .env("FDI_CATALOGUE_ADDR", format!("127.0.0.1:{port}"))
        .env("FDI_HEALTH_ADDR", format!("127.0.0.1:{health}"))
        .stdout(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let _stop = Processes(vec![child]);
    let health = format!("http://127.0.0.1:{health}");
    fdi_testkit::wait_until_serving(&health, fdi_kit::server::LIVENESS, READY).await;

    // Alive, not ready: nothing applied the migrations, and the service runs no DDL itself.
    let deadline = tokio::time::Instant::now() + READY;
    while !std::fs::read_to_string(&log)
        .unwrap_or_default()
        .contains("fdi db migrate")
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no word of `fdi db migrate` in the log"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let whole = fdi_kit::server::health_status(&health, "").await;
    assert_eq!(whole, Some(fdi_kit::server::ServingStatus::NotServing));
    let mut connection = <sqlx::PgConnection as sqlx::Connection>::connect(&database.url)
        .await
        .unwrap();
    let schemas: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_namespace WHERE nspname = 'catalogue'")
        .fetch_one(&mut connection)
        .await
        .unwrap();
    assert_eq!(schemas, 0, "a verifying service made its schema");

    let (migrated, output) = fdi(&["db", "migrate"], &[("FDI_MIGRATION_DATABASE_URL", &database.url)]);
    assert!(migrated, "{output}");
    for schema in ["access", "catalogue", "ingest", "analytics"] {
        assert!(output.contains(&format!("schema {schema}:")), "{output}");
    }
    fdi_testkit::wait_until_serving(&health, "", READY).await;
    // The main port serves the same health, and the health port serves nothing else.
    fdi_testkit::wait_until_serving(&format!("http://127.0.0.1:{port}"), "", READY).await;
    let channel = Channel::from_shared(health).unwrap().connect().await.unwrap();
    let other = call("fdi-catalogue", channel, None).await;
    assert_eq!(other, Code::Unimplemented);
}

#[tokio::test]
async fn keys_install_registers_each_key_once_and_refuses_changes() {
    let database = fdi_testkit::database().await;
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, token: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, format!("{token}\n")).unwrap();
        path.display().to_string()
    };
    let (generated, token) = fdi(&["keys", "generate"], &[]);
    assert!(
        generated && fdi_kit::access::parse_token(token.trim()).is_some(),
        "{token}"
    );
    let admin = write("admin", token.trim());
    let service = write("service", &fdi_kit::access::generate().unwrap().token);
    let url = [
        ("DATABASE_URL", database.url.as_str()),
        ("FDI_MIGRATION_DATABASE_URL", database.url.as_str()),
    ];
    let install = |keys: &[String]| {
        let mut args = vec!["keys".to_owned(), "install".to_owned()];
        for key in keys {
            args.extend(["--key".to_owned(), key.clone()]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        fdi(&args, &url)
    };
    let both = [format!("admin={admin}"), format!("service={service}")];
    let (first, output) = install(&both);
    assert!(first && output.matches(": installed").count() == 2, "{output}");
    let (again, output) = install(&both);
    assert!(again && output.matches(": already installed").count() == 2, "{output}");

    let (other_role, output) = install(&[format!("reader={admin}")]);
    assert!(
        !other_role && output.contains("installed with role admin, not reader"),
        "{output}"
    );
    let key_id = fdi_kit::access::parse_token(token.trim()).unwrap().to_owned();
    let forged = write("forged", &format!("fdi_{key_id}_{}", "A".repeat(43)));
    let (forged_ok, output) = install(&[format!("admin={forged}")]);
    assert!(
        !forged_ok && output.contains("installed with another secret"),
        "{output}"
    );
    let not_a_key = write("not-a-key", "hunter2");
    let (refused, output) = install(&[format!("admin={not_a_key}")]);
    assert!(!refused && output.contains("does not hold an fdi key"), "{output}");
    assert!(!output.contains("hunter2"), "a file's content was printed: {output}");

    // The installed key is the one the services accept: it authenticates as the admin it was installed as.
    let store =
        fdi_kit::access::KeyStore::connect_lazy(&fdi_kit::config::DatabaseConfig::new(&database.url), "test").unwrap();
    let record = store.get(&key_id).await.unwrap().expect("installed");
    assert_eq!(record.role, fdi_kit::access::Role::Admin);
    assert!(fdi_kit::access::verify(token.trim(), &record.secret_hash));
}
