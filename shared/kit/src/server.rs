//! The gRPC server pieces every service uses: health that tells the truth,
//! reflection (v1 and v1alpha, which grpcurl 1.8 still asks), the layer stack,
//! and serving with a bounded grace period on shutdown.

use std::{future::Future, time::Duration};

use http::Response;
use tokio::task::JoinHandle;
use tonic::transport::{Server, server::TcpIncoming};
pub use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;
use tower::layer::util::{Identity, Stack};
use tower_http::catch_panic::CatchPanicLayer;
use tracing::Instrument;

use crate::{config::ServerConfig, rpc::ServerTelemetryLayer, shutdown::CancellationToken};

/// The health check name that stands for the server as a whole.
const WHOLE_SERVER: &str = "";
/// A health check name that is SERVING for as long as the process answers, whatever the database does:
/// what a liveness probe asks (restarting a service does not bring its database back).
pub const LIVENESS: &str = "liveness";

/// Reports one readiness bit for the whole server and each named service.
#[derive(Clone)]
pub struct Readiness {
    reporter: HealthReporter,
    services: Vec<&'static str>,
}

impl Readiness {
    /// Creates the health service with everything NOT_SERVING.
    pub async fn new(
        services: &[&'static str],
    ) -> (
        Self,
        tonic_health::pb::health_server::HealthServer<impl tonic_health::pb::health_server::Health>,
    ) {
        let (reporter, health_service) = tonic_health::server::health_reporter();
        let readiness = Self {
            reporter,
            services: services.to_vec(),
        };
        readiness.set(false).await;
        readiness
            .reporter
            .set_service_status(LIVENESS, ServingStatus::Serving)
            .await;
        (readiness, health_service)
    }

    /// Sets every service (and the server as a whole) SERVING or NOT_SERVING.
    pub async fn set(&self, serving: bool) {
        let status = if serving {
            ServingStatus::Serving
        } else {
            ServingStatus::NotServing
        };
        self.reporter.set_service_status(WHOLE_SERVER, status).await;
        for service in &self.services {
            self.reporter.set_service_status(*service, status).await;
        }
    }
}

/// Keeps the health status true to what the service can do: NOT_SERVING
/// until `prepare` (connect, migrate, load) succeeds, then SERVING while
/// `probe` succeeds, NOT_SERVING while it fails, until shutdown.
pub fn spawn_readiness<P, PF, Q, QF>(
    readiness: Readiness,
    interval: Duration,
    shutdown: CancellationToken,
    mut prepare: P,
    mut probe: Q,
) -> JoinHandle<()>
where
    P: FnMut() -> PF + Send + 'static,
    PF: Future<Output = Result<(), String>> + Send,
    Q: FnMut() -> QF + Send + 'static,
    QF: Future<Output = bool> + Send,
{
    // Services sharing one process (`fdi up`) say which of them a line is about.
    let span = tracing::info_span!(
        "readiness",
        service = readiness.services.first().copied().unwrap_or_default()
    );
    tokio::spawn(
        async move {
            let mut backoff = Duration::from_millis(100);
            loop {
                match prepare().await {
                    Ok(()) => break,
                    Err(error) => {
                        tracing::warn!(%error, retry_in_ms = backoff.as_millis(), "not ready yet");
                        tokio::select! {
                            () = shutdown.cancelled() => return,
                            () = tokio::time::sleep(backoff) => {}
                        }
                        backoff = (backoff * 2).min(Duration::from_secs(5));
                    }
                }
            }
            let mut serving = true;
            readiness.set(true).await;
            tracing::info!("ready: SERVING");
            loop {
                tokio::select! {
                    () = shutdown.cancelled() => break,
                    () = tokio::time::sleep(interval) => {}
                }
                let healthy = probe().await;
                if healthy != serving {
                    serving = healthy;
                    readiness.set(serving).await;
                    if serving {
                        tracing::info!("dependencies reachable again: SERVING");
                    } else {
                        tracing::warn!("a dependency is unreachable: NOT_SERVING");
                    }
                }
            }
            readiness.set(false).await;
        }
        .instrument(span),
    )
}

/// The health status of `service` ("" for the whole server) at `endpoint`
/// (`http://host:port`), or `None` when it cannot be asked.
pub async fn health_status(endpoint: &str, service: &str) -> Option<ServingStatus> {
    let endpoint = tonic::transport::Endpoint::from_shared(endpoint.to_owned()).ok()?;
    health_at(endpoint, service).await
}

/// As [`health_status`], over TLS for an `https://` URL (as configured by `tls`).
pub async fn health_status_tls(url: &str, service: &str, tls: &crate::config::TlsConfig) -> Option<ServingStatus> {
    health_at(crate::tls::endpoint(url, tls).ok()?, service).await
}

async fn health_at(endpoint: tonic::transport::Endpoint, service: &str) -> Option<ServingStatus> {
    let channel = endpoint.connect_timeout(Duration::from_secs(2)).connect().await.ok()?;
    let mut client = tonic_health::pb::health_client::HealthClient::new(channel);
    let request = tonic_health::pb::HealthCheckRequest {
        service: service.to_owned(),
    };
    let response = client.check(request).await.ok()?.into_inner();
    match tonic_health::pb::health_check_response::ServingStatus::try_from(response.status).ok()? {
        tonic_health::pb::health_check_response::ServingStatus::Serving => Some(ServingStatus::Serving),
        tonic_health::pb::health_check_response::ServingStatus::NotServing => Some(ServingStatus::NotServing),
        _ => Some(ServingStatus::Unknown),
    }
}

/// Reflection services (v1 and v1alpha) listing exactly `services`.
///
/// # Panics
/// Only if the embedded descriptor sets are corrupt, which the build prevents.
#[must_use]
pub fn reflection(
    services: &[&'static str],
) -> (
    tonic_reflection::server::v1::ServerReflectionServer<impl tonic_reflection::server::v1::ServerReflection>,
    tonic_reflection::server::v1alpha::ServerReflectionServer<impl tonic_reflection::server::v1alpha::ServerReflection>,
) {
    let configure = || {
        let mut builder = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(fdi_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .with_service_name("grpc.health.v1.Health")
            .with_service_name("grpc.reflection.v1.ServerReflection")
            .with_service_name("grpc.reflection.v1alpha.ServerReflection");
        for service in services {
            builder = builder.with_service_name(*service);
        }
        builder
    };
    (
        configure().build_v1().expect("embedded descriptor set is valid"),
        configure().build_v1alpha().expect("embedded descriptor set is valid"),
    )
}

type PanicHandler = fn(Box<dyn std::any::Any + Send + 'static>) -> Response<tonic::body::Body>;

/// The layer stack every service runs behind (outermost first: telemetry,
/// panic isolation, decode-error mapping).
pub type Layers = Stack<DecodeErrorLayer, Stack<CatchPanicLayer<PanicHandler>, Stack<ServerTelemetryLayer, Identity>>>;

/// Turns "the request could not be decoded" (tonic says INTERNAL, e.g. a
/// string field that is not UTF-8) into INVALID_ARGUMENT: the fault is the
/// caller's, and retrying the same bytes will not help.
#[derive(Debug, Clone, Copy, Default)]
pub struct DecodeErrorLayer;

impl<S> tower::Layer<S> for DecodeErrorLayer {
    type Service = DecodeErrorService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        DecodeErrorService { inner }
    }
}

/// The service of [`DecodeErrorLayer`].
#[derive(Debug, Clone)]
pub struct DecodeErrorService<S> {
    inner: S,
}

type BoxFuture<T, E> = std::pin::Pin<Box<dyn Future<Output = Result<T, E>> + Send>>;

impl<S, ReqBody, ResBody> tower::Service<http::Request<ReqBody>> for DecodeErrorService<S>
where
    S: tower::Service<http::Request<ReqBody>, Response = Response<ResBody>>,
    S::Future: Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, cx: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<ReqBody>) -> Self::Future {
        let future = self.inner.call(request);
        Box::pin(async move {
            let mut response = future.await?;
            let headers = response.headers_mut();
            let decode_failure = headers.get("grpc-status").is_some_and(|v| v.as_bytes() == b"13")
                && headers
                    .get("grpc-message")
                    .is_some_and(|v| v.as_bytes().starts_with(b"failed%20to%20decode%20Protobuf%20message"));
            if decode_failure {
                headers.insert("grpc-status", http::HeaderValue::from_static("3"));
                headers.insert(
                    "grpc-message",
                    http::HeaderValue::from_static(
                        "the%20request%20is%20not%20a%20valid%20protobuf%20message%20(e.g.%20a%20string%20field%20that%20is%20not%20UTF-8)",
                    ),
                );
            }
            Ok(response)
        })
    }
}

/// A panic in a handler becomes INTERNAL for that call only; the server keeps serving.
fn panic_to_status(panic: Box<dyn std::any::Any + Send + 'static>) -> Response<tonic::body::Body> {
    let detail = panic
        .downcast_ref::<&str>()
        .map(ToString::to_string)
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    tracing::error!(panic = %detail, "handler panicked");
    tonic::Status::internal("internal error").into_http()
}

/// Binds `addr` and serves `health` there, alone and in plaintext, until
/// `shutdown`: the port a probe that cannot speak TLS (Kubernetes' native
/// gRPC probe) asks when the service itself serves TLS. It tells no more than
/// the health service on the main port, which needs no key either.
///
/// # Errors
/// When the address cannot be bound.
pub async fn spawn_health_listener<H>(
    addr: std::net::SocketAddr,
    health: tonic_health::pb::health_server::HealthServer<H>,
    shutdown: CancellationToken,
) -> std::io::Result<JoinHandle<()>>
where
    H: tonic_health::pb::health_server::Health,
{
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(%addr, "health listening (plaintext, grpc.health.v1 only)");
    Ok(tokio::spawn(async move {
        let served = Server::builder()
            .add_service(health)
            .serve_with_incoming_shutdown(incoming(listener), shutdown.cancelled_owned())
            .await;
        if let Err(error) = served {
            tracing::error!(%error, "the health listener failed");
        }
    }))
}

/// A server builder with the house defaults: a default deadline, keepalive,
/// a traced span per call, panic isolation and bounded concurrency per connection.
#[must_use]
pub fn builder(config: &ServerConfig) -> Server<Layers> {
    Server::builder()
        .timeout(config.request_timeout)
        .concurrency_limit_per_connection(256)
        .http2_keepalive_interval(Some(Duration::from_secs(30)))
        .http2_keepalive_timeout(Some(Duration::from_secs(10)))
        .layer(ServerTelemetryLayer)
        .layer(CatchPanicLayer::custom(panic_to_status as PanicHandler))
        .layer(DecodeErrorLayer)
}

/// Accepts connections on an already-bound listener (tests bind port 0).
#[must_use]
pub fn incoming(listener: tokio::net::TcpListener) -> TcpIncoming {
    TcpIncoming::from(listener).with_nodelay(Some(true))
}

/// Runs `server` (which stops accepting on `shutdown`) and, once shutdown
/// begins, gives in-flight calls and streams at most `grace` to finish.
///
/// # Errors
/// The server's own error.
pub async fn serve_with_grace<F, E>(server: F, shutdown: CancellationToken, grace: Duration) -> Result<(), E>
where
    F: Future<Output = Result<(), E>>,
{
    tokio::select! {
        result = server => result,
        () = async { shutdown.cancelled().await; tokio::time::sleep(grace).await } => {
            tracing::warn!(grace_ms = grace.as_millis(), "grace period over; closing the remaining calls");
            Ok(())
        }
    }
}

/// What a service binary does, in order: telemetry (logs, and OTLP export
/// when configured), bind the listener, serve until SIGTERM or SIGINT (with
/// the grace period for calls in flight), flush telemetry. Its result is
/// the process's exit status: a clean shutdown is success.
///
/// # Errors
/// When the address cannot be bound, or `serve` fails.
pub async fn run_process<F, Fut, E>(
    name: &'static str,
    listen: std::net::SocketAddr,
    log: crate::telemetry::LogConfig,
    serve: F,
) -> Result<(), E>
where
    F: FnOnce(tokio::net::TcpListener, CancellationToken) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: From<std::io::Error>,
{
    let telemetry = crate::telemetry::init(&log, "info", name);
    let served = match tokio::net::TcpListener::bind(listen).await {
        Ok(listener) => {
            tracing::info!(addr = %listen, exporting_telemetry = telemetry.exporting(), "{name} listening");
            serve(listener, crate::shutdown::on_signal()).await
        }
        Err(error) => {
            tracing::error!(addr = %listen, %error, "cannot listen");
            Err(E::from(error))
        }
    };
    // Spans and metrics still buffered go out before the process exits.
    telemetry.shutdown().await;
    served
}
