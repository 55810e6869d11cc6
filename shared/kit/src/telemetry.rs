//! Logs, traces and metrics.
//!
//! Logs are JSON lines by default (what log pipelines ingest), readable text
//! on request, the level from `RUST_LOG`; a line written inside a traced span
//! carries its `trace_id` and `span_id`.
//!
//! Traces and metrics go out over OTLP/gRPC when the standard
//! `OTEL_EXPORTER_OTLP_ENDPOINT` is set (the SDK reads the other standard
//! variables: `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`,
//! `OTEL_TRACES_SAMPLER`, `OTEL_EXPORTER_OTLP_TIMEOUT`,
//! `OTEL_METRIC_EXPORT_INTERVAL`, ...). Unset, no exporter, provider or
//! OpenTelemetry layer exists: spans stay plain `tracing` spans and
//! instruments are no-ops. [`Telemetry::shutdown`] flushes what is buffered.

use opentelemetry_otlp::WithTonicConfig;
use std::fmt;
use tonic::transport::{Certificate, ClientTlsConfig, Identity};

use opentelemetry::{KeyValue, trace::TraceContextExt, trace::TracerProvider as _};
use opentelemetry_sdk::{
    Resource, metrics::SdkMeterProvider, propagation::TraceContextPropagator, trace::SdkTracerProvider,
};
use serde_json::{Map, Value};
use tracing::{Event, Subscriber, field::Field};
use tracing_subscriber::{
    EnvFilter, Layer,
    fmt::{FmtContext, FormatEvent, FormatFields, format::Writer},
    layer::SubscriberExt,
    registry::LookupSpan,
    util::SubscriberInitExt,
};

/// How log lines are written.
#[derive(clap::ValueEnum, Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object per line.
    #[default]
    Json,
    /// Human-readable lines.
    Text,
}

/// Logging settings.
#[derive(clap::Args, Debug, Clone, Copy, Default)]
pub struct LogConfig {
    /// `json` (one object per line) or `text`.
    #[arg(long = "log-format", env = "FDI_LOG_FORMAT", value_enum, default_value_t = LogFormat::Json)]
    pub format: LogFormat,
}

impl LogConfig {
    /// Human-readable lines (a terminal, tests, benchmarks).
    pub const TEXT: Self = Self {
        format: LogFormat::Text,
    };
}

/// The exporters installed by [`init`]; flush them with [`Telemetry::shutdown`].
#[derive(Debug, Default)]
#[must_use = "call shutdown() before exiting, or buffered spans and metrics are lost"]
pub struct Telemetry {
    tracer_provider: Option<SdkTracerProvider>,
    meter_provider: Option<SdkMeterProvider>,
}

impl Telemetry {
    /// Whether traces and metrics are exported.
    #[must_use]
    pub fn exporting(&self) -> bool {
        self.tracer_provider.is_some()
    }

    /// Flushes and stops the exporters (spans and metrics still buffered go
    /// out), off the async workers: the SDK blocks while the exports run on them.
    pub async fn shutdown(self) {
        if self.tracer_provider.is_none() && self.meter_provider.is_none() {
            return;
        }
        let _ = tokio::task::spawn_blocking(move || self.shutdown_blocking()).await;
    }

    fn shutdown_blocking(self) {
        if let Some(provider) = self.tracer_provider
            && let Err(error) = provider.shutdown()
        {
            tracing::warn!(%error, "flushing traces failed");
        }
        if let Some(provider) = self.meter_provider
            && let Err(error) = provider.shutdown()
        {
            tracing::warn!(%error, "flushing metrics failed");
        }
    }
}

fn env_set(name: &str) -> bool {
    std::env::var(name).is_ok_and(|value| !value.trim().is_empty())
}

/// Whether the standard variables ask for OTLP export.
#[must_use]
pub fn otlp_configured() -> bool {
    let disabled = std::env::var("OTEL_SDK_DISABLED").is_ok_and(|v| v.trim().eq_ignore_ascii_case("true"));
    !disabled
        && (env_set("OTEL_EXPORTER_OTLP_ENDPOINT")
            || env_set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
            || env_set("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"))
}

/// The resource: `OTEL_SERVICE_NAME` / `OTEL_RESOURCE_ATTRIBUTES` when given,
/// else `service_name`, and the version.
fn resource(service_name: &str) -> Resource {
    let named_by_env = env_set("OTEL_SERVICE_NAME")
        || std::env::var("OTEL_RESOURCE_ATTRIBUTES").is_ok_and(|attributes| attributes.contains("service.name="));
    let mut builder = Resource::builder();
    if !named_by_env {
        builder = builder.with_service_name(service_name.to_owned());
    }
    builder
        .with_attribute(KeyValue::new("service.version", env!("CARGO_PKG_VERSION")))
        .build()
}

/// Installs the global subscriber, and the OTLP exporters when configured.
/// Calling it twice (tests, the all-in-one `fdi up`) keeps the first
/// subscriber rather than failing.
///
/// Must run inside a Tokio runtime (the gRPC exporters live on it).
pub fn init(config: &LogConfig, default_directive: &str, service_name: &str) -> Telemetry {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_directive));
    let mut telemetry = Telemetry::default();
    let otel_layer = if otlp_configured() {
        match exporters(service_name) {
            Ok((tracer_provider, meter_provider)) => {
                let tracer = tracer_provider.tracer("fdi-atlas");
                opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
                opentelemetry::global::set_tracer_provider(tracer_provider.clone());
                opentelemetry::global::set_meter_provider(meter_provider.clone());
                telemetry.tracer_provider = Some(tracer_provider);
                telemetry.meter_provider = Some(meter_provider);
                Some(tracing_opentelemetry::layer().with_tracer(tracer))
            }
            Err(error) => {
                eprintln!("OpenTelemetry export is configured but could not start: {error}");
                None
            }
        }
    } else {
        None
    };
    let format_layer = match config.format {
        LogFormat::Json => tracing_subscriber::fmt::layer().event_format(JsonLines).boxed(),
        LogFormat::Text => tracing_subscriber::fmt::layer().compact().boxed(),
    };
    let result = tracing_subscriber::registry()
        .with(filter)
        .with(otel_layer)
        .with(format_layer)
        .try_init();
    if result.is_err() {
        tracing::debug!("a global tracing subscriber was already installed");
        // The first subscriber stays; exporters nobody feeds would only hold buffers.
        drop(telemetry);
        return Telemetry::default();
    }
    telemetry
}

fn exporters(service_name: &str) -> Result<(SdkTracerProvider, SdkMeterProvider), Box<dyn std::error::Error>> {
    let resource = resource(service_name);
    let tls = otlp_tls()?;
    let mut spans = opentelemetry_otlp::SpanExporter::builder().with_tonic();
    if let Some(tls) = &tls {
        spans = spans.with_tls_config(tls.clone());
    }
    let spans = spans.build()?;
    let tracer_provider = SdkTracerProvider::builder()
        .with_resource(resource.clone())
        .with_batch_exporter(spans)
        .build();
    let mut metrics = opentelemetry_otlp::MetricExporter::builder().with_tonic();
    if let Some(tls) = tls {
        metrics = metrics.with_tls_config(tls);
    }
    let metrics = metrics.build()?;
    let meter_provider = SdkMeterProvider::builder()
        .with_resource(resource)
        .with_periodic_exporter(metrics)
        .build();
    Ok((tracer_provider, meter_provider))
}

/// TLS to an `https://` OTLP endpoint, from the standard variables: `OTEL_EXPORTER_OTLP_CERTIFICATE` (the CA
/// that signs the collector's certificate; the public web roots otherwise) and
/// `OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE` / `OTEL_EXPORTER_OTLP_CLIENT_KEY` (for a collector that requires
/// mutual TLS). `None` leaves plain `http://` endpoints as they are.
fn otlp_tls() -> Result<Option<ClientTlsConfig>, Box<dyn std::error::Error>> {
    let endpoint = std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT").unwrap_or_default();
    if !endpoint.starts_with("https://") {
        return Ok(None);
    }
    let path = |name: &str| std::env::var_os(name).filter(|value| !value.is_empty());
    let mut tls = match path("OTEL_EXPORTER_OTLP_CERTIFICATE") {
        Some(ca) => ClientTlsConfig::new().ca_certificate(Certificate::from_pem(std::fs::read(ca)?)),
        None => ClientTlsConfig::new().with_webpki_roots(),
    };
    if let (Some(cert), Some(key)) = (
        path("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE"),
        path("OTEL_EXPORTER_OTLP_CLIENT_KEY"),
    ) {
        tls = tls.identity(Identity::from_pem(std::fs::read(cert)?, std::fs::read(key)?));
    }
    Ok(Some(tls))
}

/// JSON lines: time, level, target, the event's fields, the span it was
/// emitted in, and that span's trace and span ids when it is traced.
struct JsonLines;

impl<S, N> FormatEvent<S, N> for JsonLines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(&self, ctx: &FmtContext<'_, S, N>, mut writer: Writer<'_>, event: &Event<'_>) -> fmt::Result {
        let metadata = event.metadata();
        let mut line = Map::new();
        line.insert(
            "timestamp".into(),
            Value::String(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)),
        );
        line.insert("level".into(), Value::String(metadata.level().to_string()));
        line.insert("target".into(), Value::String(metadata.target().to_owned()));
        event.record(&mut JsonFields(&mut line));
        if let Some(span) = ctx.lookup_current() {
            line.insert("span".into(), Value::String(span.name().to_owned()));
            let context = tracing::dispatcher::get_default(|dispatch| {
                tracing_opentelemetry::get_otel_context(&span.id(), dispatch)
            });
            if let Some(context) = context {
                let span_context = context.span().span_context().clone();
                if span_context.is_valid() {
                    line.insert("trace_id".into(), Value::String(span_context.trace_id().to_string()));
                    line.insert("span_id".into(), Value::String(span_context.span_id().to_string()));
                }
            }
        }
        writeln!(writer, "{}", Value::Object(line))
    }
}

/// Collects an event's fields into a JSON object.
struct JsonFields<'a>(&'a mut Map<String, Value>);

impl tracing::field::Visit for JsonFields<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().into(), Value::from(value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().into(), Value::from(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().into(), Value::from(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().into(), Value::from(value));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().into(), Value::from(value));
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.0.insert(field.name().into(), Value::from(value.to_string()));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.insert(field.name().into(), Value::from(format!("{value:?}")));
    }
}

/// A span for one database statement or batch, after the OpenTelemetry
/// database conventions: the operation and table, never literal values.
/// Record `db.response.returned_rows` or `fdi.rows` on it when known.
#[must_use]
pub fn db_span(operation: &'static str, table: &'static str) -> tracing::Span {
    tracing::info_span!(
        "db",
        otel.name = %format_args!("{operation} {table}"),
        otel.kind = "client",
        db.system = "postgresql",
        db.system.name = "postgresql",
        db.operation.name = operation,
        db.collection.name = table,
        db.response.returned_rows = tracing::field::Empty,
        fdi.rows = tracing::field::Empty,
    )
}
