//! Telemetry and deadlines around gRPC calls, in and out.
//!
//! [`ServerTelemetryLayer`] gives every incoming call (health checks and
//! reflection excepted) a server span named after its method, with the
//! OpenTelemetry RPC attributes, as a child of the caller's W3C
//! `traceparent`; records its status code once known (response headers, or
//! the trailers at the end of a stream), its duration and count as metrics;
//! and remembers its deadline (`grpc-timeout`) for the calls it makes.
//!
//! [`ClientTelemetryLayer`] (see [`traced`]) does the same for outgoing calls:
//! a client span, the `traceparent` of that span in the metadata, and a
//! deadline no later than the incoming call's. [`retry_idempotent`] retries
//! calls that are safe to repeat.

use std::{
    future::Future,
    pin::Pin,
    sync::OnceLock,
    task::{Context, Poll},
    time::{Duration, Instant},
};

use http::{HeaderMap, HeaderValue};
use http_body::{Body as HttpBody, Frame};
use opentelemetry::{
    KeyValue,
    metrics::{Counter, Histogram},
    propagation::{Extractor, Injector},
};
use tonic::{Code, Status, body::Body};
use tracing::{Instrument, Span, field::Empty};
use tracing_opentelemetry::OpenTelemetrySpanExt;

type BoxFuture<T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send>>;

tokio::task_local! {
    /// When the incoming call being served must be answered by.
    static INCOMING_DEADLINE: Option<Instant>;
}

/// Time left before the incoming call being served runs out, when it has a deadline.
#[must_use]
pub fn incoming_remaining() -> Option<Duration> {
    INCOMING_DEADLINE
        .try_with(|deadline| *deadline)
        .ok()
        .flatten()
        .map(|deadline| deadline.saturating_duration_since(Instant::now()))
}

/// Parses a `grpc-timeout` value (`<digits><H|M|S|m|u|n>`, at most eight
/// digits per the gRPC spec); `None` for a malformed one (treated as no deadline).
fn parse_grpc_timeout(value: &HeaderValue) -> Option<Duration> {
    let text = value.to_str().ok()?;
    let (digits, unit) = text.split_at(text.len().checked_sub(1)?);
    if digits.is_empty() || digits.len() > 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let amount: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(amount.saturating_mul(3600)),
        "M" => Duration::from_secs(amount.saturating_mul(60)),
        "S" => Duration::from_secs(amount),
        "m" => Duration::from_millis(amount),
        "u" => Duration::from_micros(amount),
        "n" => Duration::from_nanos(amount),
        _ => return None,
    })
}

/// A `grpc-timeout` value: at most eight digits, in milliseconds (or seconds when longer).
fn grpc_timeout_value(timeout: Duration) -> HeaderValue {
    let millis = timeout.as_millis().max(1);
    let text = if millis < 100_000_000 {
        format!("{millis}m")
    } else {
        format!("{}S", timeout.as_secs().min(99_999_999))
    };
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("1S"))
}

struct HeaderExtractor<'a>(&'a HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }
    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }
}

struct HeaderInjector<'a>(&'a mut HeaderMap);

impl Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(key.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            self.0.insert(name, value);
        }
    }
}

/// `/pkg.Service/Method` as (service, method).
fn split_path(path: &str) -> (String, String) {
    let trimmed = path.trim_start_matches('/');
    match trimmed.rsplit_once('/') {
        Some((service, method)) => (service.to_owned(), method.to_owned()),
        None => (trimmed.to_owned(), String::new()),
    }
}

/// Calls that are not traced: health checks (probed every few seconds) and reflection.
fn untraced(path: &str) -> bool {
    path.starts_with("/grpc.health.v1.Health/") || path.starts_with("/grpc.reflection.")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Server,
    Client,
}

struct Instruments {
    server_duration: Histogram<f64>,
    server_requests: Counter<u64>,
    client_duration: Histogram<f64>,
}

/// The RPC instruments, made on first use (after the meter provider is installed).
fn instruments() -> &'static Instruments {
    static INSTRUMENTS: OnceLock<Instruments> = OnceLock::new();
    INSTRUMENTS.get_or_init(|| {
        let meter = opentelemetry::global::meter("fdi-atlas");
        Instruments {
            server_duration: meter
                .f64_histogram("rpc.server.call.duration")
                .with_unit("s")
                .with_description("Duration of incoming calls, by method and status")
                .build(),
            server_requests: meter
                .u64_counter("rpc.server.requests")
                .with_description("Incoming calls, by method and status")
                .build(),
            client_duration: meter
                .f64_histogram("rpc.client.call.duration")
                .with_unit("s")
                .with_description("Duration of outgoing calls, by method and status")
                .build(),
        }
    })
}

/// One call being observed until its status is known.
struct Call {
    side: Side,
    span: Span,
    started: Instant,
    service: String,
    method: String,
    finished: bool,
}

impl Call {
    fn new(side: Side, span: Span, service: String, method: String) -> Self {
        Self {
            side,
            span,
            started: Instant::now(),
            service,
            method,
            finished: false,
        }
    }

    fn finish(&mut self, code: Code) {
        if self.finished {
            return;
        }
        self.finished = true;
        let number = code as i32;
        self.span.record("rpc.grpc.status_code", number);
        // Server spans: only the server's own faults are errors (OpenTelemetry RPC conventions).
        let error = match self.side {
            Side::Client => code != Code::Ok,
            Side::Server => matches!(
                code,
                Code::Unknown
                    | Code::DeadlineExceeded
                    | Code::Unimplemented
                    | Code::Internal
                    | Code::Unavailable
                    | Code::DataLoss
            ),
        };
        if error {
            self.span.record("otel.status_code", "ERROR");
        }
        let attributes = [
            KeyValue::new("rpc.system", "grpc"),
            KeyValue::new("rpc.service", self.service.clone()),
            KeyValue::new("rpc.method", self.method.clone()),
            KeyValue::new("rpc.grpc.status_code", i64::from(number)),
        ];
        let seconds = self.started.elapsed().as_secs_f64();
        let instruments = instruments();
        match self.side {
            Side::Server => {
                instruments.server_duration.record(seconds, &attributes);
                instruments.server_requests.add(1, &attributes);
            }
            Side::Client => instruments.client_duration.record(seconds, &attributes),
        }
    }

    /// The status in the response headers (a trailers-only response), if there.
    fn finish_from_headers(&mut self, headers: &HeaderMap) {
        if let Some(code) = status_of(headers) {
            self.finish(code);
        }
    }
}

impl Drop for Call {
    fn drop(&mut self) {
        // The body went away before its trailers: the call was cancelled.
        self.finish(Code::Cancelled);
    }
}

fn status_of(headers: &HeaderMap) -> Option<Code> {
    let value = headers.get("grpc-status")?.to_str().ok()?;
    Some(Code::from_i32(value.trim().parse().ok()?))
}

pin_project_lite::pin_project! {
    /// A response body that reports the call's status from its trailers.
    struct Observed<B> {
        #[pin]
        inner: B,
        call: Call,
    }
}

impl<B> HttpBody for Observed<B>
where
    B: HttpBody<Data = bytes::Bytes>,
{
    type Data = bytes::Bytes;
    type Error = B::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.project();
        let polled = this.inner.poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(trailers) = frame.trailers_ref() {
                    this.call.finish_from_headers(trailers);
                }
            }
            Poll::Ready(Some(Err(_))) => this.call.finish(Code::Unknown),
            Poll::Ready(None) => this.call.finish(Code::Ok),
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

fn observe<B>(response: http::Response<B>, mut call: Call) -> http::Response<Body>
where
    B: HttpBody<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    call.finish_from_headers(response.headers());
    if call.finished {
        return response.map(Body::new);
    }
    response.map(|inner| Body::new(Observed { inner, call }))
}

/// Traces incoming calls (see the module documentation).
#[derive(Debug, Clone, Copy, Default)]
pub struct ServerTelemetryLayer;

impl<S> tower::Layer<S> for ServerTelemetryLayer {
    type Service = ServerTelemetry<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ServerTelemetry { inner }
    }
}

/// The service of [`ServerTelemetryLayer`].
#[derive(Debug, Clone)]
pub struct ServerTelemetry<S> {
    inner: S,
}

impl<S, ReqBody, ResBody> tower::Service<http::Request<ReqBody>> for ServerTelemetry<S>
where
    S: tower::Service<http::Request<ReqBody>, Response = http::Response<ResBody>>,
    S::Future: Send + 'static,
    ResBody: HttpBody<Data = bytes::Bytes> + Send + 'static,
    ResBody::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    S::Error: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<ReqBody>) -> Self::Future {
        let path = request.uri().path().to_owned();
        if untraced(&path) {
            let future = self.inner.call(request);
            return Box::pin(async move { Ok(future.await?.map(Body::new)) });
        }
        let (service, method) = split_path(&path);
        let span = tracing::info_span!(
            "rpc.server",
            otel.name = %path.trim_start_matches('/'),
            otel.kind = "server",
            otel.status_code = Empty,
            rpc.system = "grpc",
            rpc.service = %service,
            rpc.method = %method,
            rpc.grpc.status_code = Empty,
        );
        let parent = opentelemetry::global::get_text_map_propagator(|p| p.extract(&HeaderExtractor(request.headers())));
        // Fails only without the OpenTelemetry layer, when there is nothing to link.
        let _ = span.set_parent(parent);
        let deadline = request
            .headers()
            .get("grpc-timeout")
            .and_then(parse_grpc_timeout)
            .and_then(|timeout| Instant::now().checked_add(timeout));
        let call = Call::new(Side::Server, span.clone(), service, method);
        let future = INCOMING_DEADLINE.scope(deadline, self.inner.call(request).instrument(span));
        Box::pin(async move { Ok(observe(future.await?, call)) })
    }
}

/// Traces outgoing calls (see the module documentation).
#[derive(Debug, Clone, Copy, Default)]
pub struct ClientTelemetryLayer;

impl<S> tower::Layer<S> for ClientTelemetryLayer {
    type Service = ClientTelemetry<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ClientTelemetry { inner }
    }
}

/// The service of [`ClientTelemetryLayer`].
#[derive(Debug, Clone)]
pub struct ClientTelemetry<S> {
    inner: S,
}

/// A channel whose calls are traced and bounded by the incoming deadline.
pub type TracedChannel = ClientTelemetry<tonic::transport::Channel>;

/// Wraps a channel with [`ClientTelemetryLayer`].
#[must_use]
pub fn traced(channel: tonic::transport::Channel) -> TracedChannel {
    ClientTelemetry { inner: channel }
}

impl<S> tower::Service<http::Request<Body>> for ClientTelemetry<S>
where
    S: tower::Service<http::Request<Body>, Response = http::Response<Body>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<Body>) -> Self::Future {
        let path = request.uri().path().to_owned();
        let (service, method) = split_path(&path);
        let span = tracing::info_span!(
            "rpc.client",
            otel.name = %path.trim_start_matches('/'),
            otel.kind = "client",
            otel.status_code = Empty,
            rpc.system = "grpc",
            rpc.service = %service,
            rpc.method = %method,
            rpc.grpc.status_code = Empty,
            server.address = request.uri().host().unwrap_or_default(),
        );
        let context = span.context();
        opentelemetry::global::get_text_map_propagator(|p| {
            p.inject_context(&context, &mut HeaderInjector(request.headers_mut()));
        });
        // No later than the deadline of the call being served.
        if let Some(remaining) = incoming_remaining() {
            let own = request.headers().get("grpc-timeout").and_then(parse_grpc_timeout);
            if own.is_none_or(|own| remaining < own) {
                request
                    .headers_mut()
                    .insert("grpc-timeout", grpc_timeout_value(remaining));
            }
        }
        let mut call = Call::new(Side::Client, span.clone(), service, method);
        let future = self.inner.call(request).instrument(span);
        Box::pin(async move {
            match future.await {
                Ok(response) => Ok(observe(response, call)),
                Err(error) => {
                    call.finish(Code::Unavailable);
                    Err(error)
                }
            }
        })
    }
}

/// Attempts of an idempotent call, the first included.
const ATTEMPTS: u32 = 3;
/// The pause before the first retry; doubled after each.
const FIRST_BACKOFF: Duration = Duration::from_millis(50);

/// Runs an idempotent call, retrying it up to twice when the peer is
/// UNAVAILABLE (restarting, or the connection broke), with a growing pause,
/// never past the incoming call's deadline. Only for calls that are safe to
/// repeat: reads, and writes that are idempotent by design.
///
/// # Errors
/// The last attempt's status.
pub async fn retry_idempotent<T, F, Fut>(mut attempt: F) -> Result<T, Status>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Status>>,
{
    let mut backoff = FIRST_BACKOFF;
    let mut tries = 1;
    loop {
        match attempt().await {
            Err(status)
                if status.code() == Code::Unavailable
                    && tries < ATTEMPTS
                    && incoming_remaining().is_none_or(|left| left > backoff) =>
            {
                tracing::debug!(%status, tries, "retrying an idempotent call");
                tokio::time::sleep(backoff).await;
                backoff *= 2;
                tries += 1;
            }
            result => return result,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_timeouts_parse_and_print() {
        let parse = |text: &'static str| parse_grpc_timeout(&HeaderValue::from_static(text));
        assert_eq!(parse("5S"), Some(Duration::from_secs(5)));
        assert_eq!(parse("250m"), Some(Duration::from_millis(250)));
        assert_eq!(parse("2H"), Some(Duration::from_secs(7200)));
        assert_eq!(parse("10n"), Some(Duration::from_nanos(10)));
        assert_eq!(parse("S"), None);
        assert_eq!(parse("5x"), None);
        assert_eq!(parse("99999999H"), Some(Duration::from_secs(99_999_999 * 3600)));
        assert_eq!(grpc_timeout_value(Duration::from_millis(1500)), "1500m");
        assert_eq!(grpc_timeout_value(Duration::ZERO), "1m");
        assert_eq!(grpc_timeout_value(Duration::from_secs(1_000_000)), "1000000S");
    }

    #[test]
    fn malformed_grpc_timeouts_mean_no_deadline() {
        let parse = |text: &'static str| parse_grpc_timeout(&HeaderValue::from_static(text));
        // More than eight digits is malformed (gRPC spec), however small the value.
        assert_eq!(parse("999999999S"), None);
        assert_eq!(parse("000000001m"), None);
        assert_eq!(parse("18446744073709551615H"), None);
        assert_eq!(parse("99999999999999999999999S"), None);
        assert_eq!(parse("+5S"), None);
        assert_eq!(parse("-5S"), None);
        assert_eq!(parse("5 S"), None);
        assert_eq!(parse(""), None);
        // The longest valid timeout still makes a deadline without overflowing.
        let longest = parse("99999999H").expect("eight digits are valid");
        assert!(Instant::now().checked_add(longest).is_some());
    }

    #[test]
    fn paths_split_into_service_and_method() {
        assert_eq!(
            split_path("/fdi.ingest.v1.IngestService/BulkLoad"),
            ("fdi.ingest.v1.IngestService".to_owned(), "BulkLoad".to_owned())
        );
        assert!(untraced("/grpc.health.v1.Health/Check"));
        assert!(!untraced("/fdi.catalogue.v1.CatalogueService/Resolve"));
    }

    /// What the client layer sends for a request that asks `own` (a `grpc-timeout` value, if any).
    async fn sent_timeout(own: Option<&'static str>) -> Option<String> {
        use tower::{Layer, Service, ServiceExt};
        let seen = std::sync::Arc::new(std::sync::Mutex::new(None));
        let inner = tower::service_fn({
            let seen = std::sync::Arc::clone(&seen);
            move |request: http::Request<Body>| {
                *seen.lock().unwrap() = request
                    .headers()
                    .get("grpc-timeout")
                    .map(|v| v.to_str().unwrap().to_owned());
                async { Ok::<_, std::convert::Infallible>(Status::ok("").into_http::<Body>()) }
            }
        });
        let mut client = ClientTelemetryLayer.layer(inner);
        let mut request = http::Request::builder()
            .uri("http://catalogue/fdi.catalogue.v1.CatalogueService/Resolve")
            .body(Body::empty())
            .unwrap();
        if let Some(own) = own {
            request
                .headers_mut()
                .insert("grpc-timeout", HeaderValue::from_static(own));
        }
        client.ready().await.unwrap().call(request).await.unwrap();
        seen.lock().unwrap().clone()
    }

    #[tokio::test]
    async fn outgoing_deadlines_are_no_later_than_the_incoming_one() {
        // Outside an incoming call, the caller's own deadline goes out untouched.
        assert_eq!(sent_timeout(Some("5S")).await.as_deref(), Some("5S"));
        assert_eq!(sent_timeout(None).await, None);
        // Inside one with 200 ms left, both become at most 200 ms.
        let within = Some(Instant::now() + Duration::from_millis(200));
        for own in [Some("5S"), None] {
            let sent = INCOMING_DEADLINE
                .scope(within, sent_timeout(own))
                .await
                .expect("a deadline is sent");
            let millis: u64 = sent.trim_end_matches('m').parse().unwrap();
            assert!(millis <= 200, "sent {sent}");
        }
        // A tighter deadline of the caller's own stays.
        let sent = INCOMING_DEADLINE.scope(within, sent_timeout(Some("50m"))).await;
        assert_eq!(sent.as_deref(), Some("50m"));
    }

    #[tokio::test]
    async fn idempotent_calls_retry_only_when_unavailable() {
        let mut calls = 0;
        let result: Result<(), Status> = retry_idempotent(|| {
            calls += 1;
            async { Err(Status::unavailable("down")) }
        })
        .await;
        assert_eq!(result.unwrap_err().code(), Code::Unavailable);
        assert_eq!(calls, ATTEMPTS);
        let mut calls = 0;
        let result: Result<(), Status> = retry_idempotent(|| {
            calls += 1;
            async { Err(Status::invalid_argument("bad")) }
        })
        .await;
        assert_eq!(result.unwrap_err().code(), Code::InvalidArgument);
        assert_eq!(calls, 1);
    }
}
