//! The three services as separate processes (`fdi serve ...`, what their
//! binaries run), exporting to a real OTLP/gRPC receiver started here: one
//! bulk load is one trace across ingest, the catalogue and the database;
//! grpcurl's `traceparent` becomes the parent of analytics' spans; metrics
//! and trace-stamped JSON logs arrive; and SIGTERM during a stream lets the
//! stream finish, keeps its acknowledged batches, and exits 0.

mod common;

use common::{Process, free_port};
use std::{
    collections::{HashMap, HashSet},
    process::Command,
    sync::{Arc, Mutex},
    time::Duration,
};

use fdi_proto::ingest::{EventInput, LoadEventsRequest, ingest_service_client::IngestServiceClient};
use opentelemetry_proto::tonic::{
    collector::{
        metrics::v1::{
            ExportMetricsServiceRequest, ExportMetricsServiceResponse,
            metrics_service_server::{MetricsService, MetricsServiceServer},
        },
        trace::v1::{
            ExportTraceServiceRequest, ExportTraceServiceResponse,
            trace_service_server::{TraceService, TraceServiceServer},
        },
    },
    common::v1::{KeyValue, any_value::Value},
    trace::v1::{Span, span::SpanKind},
};
use tonic::{Request, Response, Status};

/// What the receiver got: spans with their service, and metric names with their service.
#[derive(Default)]
struct Received {
    spans: Vec<(String, Span)>,
    metrics: Vec<(String, String, Vec<Vec<KeyValue>>)>,
}

#[derive(Clone, Default)]
struct Receiver(Arc<Mutex<Received>>);

fn service_of(resource: Option<&opentelemetry_proto::tonic::resource::v1::Resource>) -> String {
    resource
        .and_then(|r| r.attributes.iter().find(|kv| kv.key == "service.name"))
        .map(text)
        .unwrap_or_default()
}

fn text(kv: &KeyValue) -> String {
    match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
        Some(Value::StringValue(s)) => s.clone(),
        Some(Value::IntValue(i)) => i.to_string(),
        Some(Value::BoolValue(b)) => b.to_string(),
        Some(Value::DoubleValue(d)) => d.to_string(),
        _ => String::new(),
    }
}

fn attribute(span: &Span, key: &str) -> Option<String> {
    span.attributes.iter().find(|kv| kv.key == key).map(text)
}

#[tonic::async_trait]
impl TraceService for Receiver {
    async fn export(
        &self,
        request: Request<ExportTraceServiceRequest>,
    ) -> Result<Response<ExportTraceServiceResponse>, Status> {
        let mut received = self.0.lock().unwrap();
        for resource_spans in request.into_inner().resource_spans {
            let service = service_of(resource_spans.resource.as_ref());
            for scope in resource_spans.scope_spans {
                for span in scope.spans {
                    received.spans.push((service.clone(), span));
                }
            }
        }
        Ok(Response::new(ExportTraceServiceResponse::default()))
    }
}

#[tonic::async_trait]
impl MetricsService for Receiver {
    async fn export(
        &self,
        request: Request<ExportMetricsServiceRequest>,
    ) -> Result<Response<ExportMetricsServiceResponse>, Status> {
        use opentelemetry_proto::tonic::metrics::v1::metric::Data;
        let mut received = self.0.lock().unwrap();
        for resource_metrics in request.into_inner().resource_metrics {
            let service = service_of(resource_metrics.resource.as_ref());
            for scope in resource_metrics.scope_metrics {
                for metric in scope.metrics {
                    let points: Vec<Vec<KeyValue>> = match metric.data {
                        Some(Data::Sum(sum)) => sum.data_points.into_iter().map(|p| p.attributes).collect(),
                        Some(Data::Histogram(h)) => h.data_points.into_iter().map(|p| p.attributes).collect(),
                        Some(Data::Gauge(g)) => g.data_points.into_iter().map(|p| p.attributes).collect(),
                        _ => Vec::new(),
                    };
                    received.metrics.push((service.clone(), metric.name, points));
                }
            }
        }
        Ok(Response::new(ExportMetricsServiceResponse::default()))
    }
}

impl Receiver {
    async fn start(&self) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tonic::transport::Server::builder()
            .add_service(TraceServiceServer::new(self.clone()))
            .add_service(MetricsServiceServer::new(self.clone()))
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener));
        tokio::spawn(server);
        format!("http://{addr}")
    }

    /// Waits until `check` finds what it looks for in what was received.
    async fn wait_for<T>(&self, what: &str, mut check: impl FnMut(&Received) -> Option<T>) -> T {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(found) = check(&self.0.lock().unwrap()) {
                return found;
            }
            assert!(tokio::time::Instant::now() < deadline, "the receiver never got {what}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

struct System {
    _dir: tempfile::TempDir,
    receiver: Receiver,
    database_url: String,
    _catalogue: Process,
    ingest: Process,
    analytics: Option<Process>,
}

async fn start(with_analytics: bool) -> System {
    let dir = tempfile::tempdir().unwrap();
    let database = fdi_testkit::database().await;
    let receiver = Receiver::default();
    let collector = receiver.start().await;
    let catalogue_port = free_port();
    let env = vec![
        // These tests follow calls through the services; who may make them is cli/tests/access.rs's concern.
        ("FDI_ALLOW_ANONYMOUS", "true".to_owned()),
        ("DATABASE_URL", database.url.clone()),
        ("FDI_CATALOGUE_URL", format!("http://127.0.0.1:{catalogue_port}")),
        ("FDI_SHUTDOWN_GRACE", "10s".to_owned()),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", collector),
        ("OTEL_TRACES_SAMPLER", "parentbased_always_on".to_owned()),
        ("OTEL_BSP_SCHEDULE_DELAY", "100".to_owned()),
        ("OTEL_METRIC_EXPORT_INTERVAL", "300".to_owned()),
    ];
    let catalogue = Process::start("catalogue", catalogue_port, &env, dir.path());
    fdi_testkit::wait_until_serving(&catalogue.endpoint, "", Duration::from_secs(60)).await;
    let ingest = Process::start("ingest", free_port(), &env, dir.path());
    let analytics = with_analytics.then(|| Process::start("analytics", free_port(), &env, dir.path()));
    fdi_testkit::wait_until_serving(&ingest.endpoint, "", Duration::from_secs(60)).await;
    if let Some(analytics) = &analytics {
        fdi_testkit::wait_until_serving(&analytics.endpoint, "", Duration::from_secs(60)).await;
    }
    System {
        _dir: dir,
        receiver,
        database_url: database.url,
        _catalogue: catalogue,
        ingest,
        analytics,
    }
}

fn rows(prefix: &str, count: usize) -> Vec<EventInput> {
    (0..count)
        .map(|i| EventInput {
            idempotency_key: format!("{prefix}-{i}"),
            kind: "new".into(),
            event_date: "2025-03-14".into(),
            project_ref: format!("{prefix}-project-{i}"),
            investor: format!("Tracewell Precision {prefix} Co., Ltd"),
            investor_country: "KR".into(),
            province: "Bắc Ninh".into(),
            sector: "C".into(),
            amount: format!("{}", 1_000_000 + i),
            currency: "USD".into(),
            ..Default::default()
        })
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `ancestor` is `span` or one of its ancestors, within `spans`.
fn descends_from(span: &Span, ancestor: &[u8], by_id: &HashMap<Vec<u8>, &Span>) -> bool {
    let mut current = Some(span);
    let mut hops = 0;
    while let Some(s) = current {
        if s.span_id == ancestor {
            return true;
        }
        hops += 1;
        if hops > 64 {
            return false;
        }
        current = by_id.get(&s.parent_span_id).copied();
    }
    false
}

#[tokio::test]
async fn one_bulk_load_is_one_trace_across_ingest_the_catalogue_and_the_database() {
    let system = start(true).await;
    let mut ingest = IngestServiceClient::connect(system.ingest.endpoint.clone())
        .await
        .unwrap();
    let request = LoadEventsRequest {
        load_id: "traced-load".into(),
        start_offset: 0,
        expected_content_digest: String::new(),
        rows: rows("traced", 20),
    };
    let mut acks = ingest
        .load_events(tokio_stream::iter(vec![request]))
        .await
        .unwrap()
        .into_inner();
    let mut accepted = 0;
    while let Some(ack) = acks.message().await.unwrap() {
        accepted += ack.accepted;
    }
    assert_eq!(accepted, 20);

    // The server span of the load, once it has ended and been exported.
    let root = system
        .receiver
        .wait_for("the LoadEvents server span", |received| {
            received
                .spans
                .iter()
                .find(|(service, span)| {
                    service == "fdi-ingest"
                        && span.kind == SpanKind::Server as i32
                        && attribute(span, "rpc.method").as_deref() == Some("LoadEvents")
                })
                .map(|(_, span)| span.clone())
        })
        .await;
    assert!(
        root.parent_span_id.is_empty(),
        "a call without traceparent starts a trace"
    );
    assert_eq!(root.name, "fdi.ingest.v1.IngestService/LoadEvents");
    assert_eq!(attribute(&root, "rpc.system").as_deref(), Some("grpc"));
    assert_eq!(
        attribute(&root, "rpc.service").as_deref(),
        Some("fdi.ingest.v1.IngestService")
    );
    assert_eq!(attribute(&root, "rpc.grpc.status_code").as_deref(), Some("0"));

    // The catalogue's side of the trace, and the database writes, arrive too.
    let trace = system
        .receiver
        .wait_for("the catalogue's and the database's spans of the load", |received| {
            let trace: Vec<(String, Span)> = received
                .spans
                .iter()
                .filter(|(_, span)| span.trace_id == root.trace_id)
                .cloned()
                .collect();
            let has = |service: &str, kind: SpanKind, key: &str, value: &str| {
                trace.iter().any(|(s, span)| {
                    s == service && span.kind == kind as i32 && attribute(span, key).as_deref() == Some(value)
                })
            };
            (has("fdi-catalogue", SpanKind::Server, "rpc.method", "EnsureInvestors")
                && has("fdi-catalogue", SpanKind::Client, "db.collection.name", "investors")
                && has("fdi-ingest", SpanKind::Client, "db.collection.name", "events"))
            .then_some(trace)
        })
        .await;
    let by_id: HashMap<Vec<u8>, &Span> = trace.iter().map(|(_, s)| (s.span_id.clone(), s)).collect();
    let services: HashSet<&str> = trace.iter().map(|(service, _)| service.as_str()).collect();
    assert_eq!(services, HashSet::from(["fdi-ingest", "fdi-catalogue"]));

    // Every span of the trace hangs from the load's server span.
    for (service, span) in &trace {
        assert!(
            descends_from(span, &root.span_id, &by_id),
            "{service}'s span {} is not under the load",
            span.name
        );
    }
    // Each catalogue server span is the child of an ingest client span for the same method.
    let calls: Vec<&Span> = trace
        .iter()
        .filter(|(service, span)| service == "fdi-catalogue" && span.kind == SpanKind::Server as i32)
        .map(|(_, span)| span)
        .collect();
    assert!(!calls.is_empty());
    for call in calls {
        let parent = by_id
            .get(&call.parent_span_id)
            .expect("the client span is in the trace");
        assert_eq!(parent.kind, SpanKind::Client as i32);
        assert_eq!(
            attribute(parent, "rpc.service").as_deref(),
            Some("fdi.catalogue.v1.CatalogueService")
        );
        assert_eq!(attribute(parent, "rpc.method"), attribute(call, "rpc.method"));
        assert_eq!(attribute(call, "rpc.grpc.status_code").as_deref(), Some("0"));
    }
    // Database spans: the conventions' attributes, and no literal values.
    for (_, span) in trace.iter().filter(|(_, s)| attribute(s, "db.system").is_some()) {
        assert_eq!(attribute(span, "db.system").as_deref(), Some("postgresql"));
        assert!(attribute(span, "db.operation.name").is_some_and(|op| !op.is_empty()));
        assert!(attribute(span, "db.collection.name").is_some_and(|t| !t.is_empty()));
        assert!(
            span.attributes.iter().all(|kv| !text(kv).contains("Tracewell")),
            "a database span carries a literal value: {:?}",
            span.attributes
        );
    }
    // The write's span counts its rows.
    assert!(trace.iter().any(|(service, span)| service == "fdi-ingest"
        && attribute(span, "db.collection.name").as_deref() == Some("events")
        && attribute(span, "fdi.rows").as_deref() == Some("20")));

    // Health checks are not traced.
    assert!(
        system
            .receiver
            .0
            .lock()
            .unwrap()
            .spans
            .iter()
            .all(|(_, span)| !span.name.contains("grpc.health")),
        "health checks were traced"
    );

    // Metrics: calls by method and status, rows by outcome, the pool, and analytics' freshness.
    for (service, metric, attribute_key, attribute_value) in [
        ("fdi-ingest", "rpc.server.call.duration", "rpc.method", "LoadEvents"),
        ("fdi-ingest", "rpc.server.requests", "rpc.method", "LoadEvents"),
        ("fdi-ingest", "fdi.ingest.rows", "outcome", "accepted"),
        (
            "fdi-ingest",
            "rpc.client.call.duration",
            "rpc.method",
            "EnsureInvestors",
        ),
        (
            "fdi-catalogue",
            "db.client.connection.count",
            "db.client.connection.state",
            "idle",
        ),
        ("fdi-analytics", "fdi.analytics.freshness_lag", "", ""),
    ] {
        system
            .receiver
            .wait_for(&format!("{metric} from {service}"), |received| {
                received
                    .metrics
                    .iter()
                    .any(|(s, name, points)| {
                        s == service
                            && name == metric
                            && (attribute_key.is_empty()
                                || points.iter().any(|attributes| {
                                    attributes
                                        .iter()
                                        .any(|kv| kv.key == attribute_key && text(kv) == attribute_value)
                                }))
                    })
                    .then_some(())
            })
            .await;
    }

    // The log line written inside the load's span carries its trace and span ids.
    let line = system
        .ingest
        .log_lines()
        .into_iter()
        .find(|line| line["message"] == "bulk-load stream finished by the client")
        .expect("the end of the stream is logged");
    assert_eq!(line["trace_id"], hex(&root.trace_id));
    assert_eq!(line["span_id"], hex(&root.span_id));
    assert_eq!(line["level"], "INFO");
    // Lines outside any span have no trace id.
    assert!(system.ingest.log_lines().iter().any(|l| l.get("trace_id").is_none()));
}

#[tokio::test]
async fn a_traceparent_sent_with_grpcurl_is_the_parent_of_the_services_spans() {
    let system = start(true).await;
    let analytics = system.analytics.as_ref().unwrap();
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let parent_id = "00f067aa0ba902b7";
    let output = Command::new(fdi_testkit::grpcurl())
        .args([
            "-plaintext",
            "-H",
            &format!("traceparent: 00-{trace_id}-{parent_id}-01"),
            "-d",
            r#"{"provinces": ["Bac Ninh"], "period": {"shorthand": "2025"}}"#,
            analytics.endpoint.trim_start_matches("http://"),
            "fdi.analytics.v1.AnalyticsService/GetSummary",
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));

    let spans = system
        .receiver
        .wait_for("the summary's server spans in the caller's trace", |received| {
            let trace: Vec<(String, Span)> = received
                .spans
                .iter()
                .filter(|(_, span)| hex(&span.trace_id) == trace_id)
                .cloned()
                .collect();
            // Both server spans: each service exports its own when its span ends, in no set order.
            let has_server = |name: &str| {
                trace
                    .iter()
                    .any(|(service, span)| service == name && span.kind == SpanKind::Server as i32)
            };
            (has_server("fdi-catalogue") && has_server("fdi-analytics")).then_some(trace)
        })
        .await;
    let server = spans
        .iter()
        .find(|(service, span)| service == "fdi-analytics" && span.kind == SpanKind::Server as i32)
        .map(|(_, span)| span)
        .expect("analytics' server span is in the caller's trace");
    assert_eq!(hex(&server.parent_span_id), parent_id);
    assert_eq!(attribute(server, "rpc.method").as_deref(), Some("GetSummary"));
    let resolve = spans
        .iter()
        .find(|(service, span)| service == "fdi-catalogue" && span.kind == SpanKind::Server as i32)
        .map(|(_, span)| span)
        .unwrap();
    let by_id: HashMap<Vec<u8>, &Span> = spans.iter().map(|(_, s)| (s.span_id.clone(), s)).collect();
    assert!(descends_from(resolve, &server.span_id, &by_id));
    assert_eq!(attribute(resolve, "rpc.method").as_deref(), Some("Resolve"));
}

#[tokio::test]
async fn sigterm_during_a_stream_lets_it_finish_keeps_its_batches_and_exits_0() {
    let mut system = start(false).await;
    let mut ingest = IngestServiceClient::connect(system.ingest.endpoint.clone())
        .await
        .unwrap();
    let (batches, outbound) = tokio::sync::mpsc::channel::<LoadEventsRequest>(4);
    let mut acks = ingest
        .load_events(tokio_stream::wrappers::ReceiverStream::new(outbound))
        .await
        .unwrap()
        .into_inner();
    let batch = |offset: usize| LoadEventsRequest {
        load_id: "sigterm-load".into(),
        start_offset: i64::try_from(offset).unwrap(),
        expected_content_digest: String::new(),
        rows: rows("sigterm", 100)[offset..offset + 50].to_vec(),
    };
    batches.send(batch(0)).await.unwrap();
    let first = acks.message().await.unwrap().expect("first acknowledgement");
    assert_eq!(first.offset_reached, 50);

    let pid = system.ingest.child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    tokio::time::sleep(Duration::from_millis(300)).await;
    // No new calls once shutdown began...
    assert!(
        IngestServiceClient::connect(system.ingest.endpoint.clone())
            .await
            .is_err(),
        "a new connection was accepted after SIGTERM"
    );
    // ...but the stream in flight goes on to its end.
    batches.send(batch(50)).await.unwrap();
    let second = acks.message().await.unwrap().expect("second acknowledgement");
    assert_eq!(second.offset_reached, 100);
    drop(batches);
    assert!(acks.message().await.unwrap().is_none(), "the stream ends cleanly");

    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(status) = system.ingest.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "ingest did not exit within the grace period"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "ingest exited with {status}");

    // Both acknowledged batches are durable.
    let pool = sqlx::PgPool::connect(&system.database_url).await.unwrap();
    let (recorded,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM ingest.events WHERE idempotency_key LIKE 'sigterm-%'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(recorded, 100);
    // The stream's span was flushed on the way out.
    system
        .receiver
        .wait_for("the stream's span, flushed at exit", |received| {
            received
                .spans
                .iter()
                .any(|(service, span)| {
                    service == "fdi-ingest" && attribute(span, "rpc.method").as_deref() == Some("LoadEvents")
                })
                .then_some(())
        })
        .await;
}
