//! The access layer every server runs behind: it reads the caller's key,
//! checks it (Argon2id once per key and process, then a digest cache), finds
//! what the method needs in the service's [`Policy`], applies the caller's
//! rate and in-flight limits, and hands the [`Caller`] to the handler.
//! Health and reflection stay open.

use std::{
    collections::HashMap,
    num::NonZeroU32,
    pin::Pin,
    sync::{Arc, Mutex, PoisonError, RwLock},
    task::{Context, Poll},
    time::Duration,
};

use chrono::Utc;
use governor::{
    DefaultKeyedRateLimiter, Quota, RateLimiter,
    clock::{Clock, DefaultClock},
};
use http::{HeaderMap, Request, Response};
use sha2::{Digest, Sha256};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tonic::{
    Code, Status,
    metadata::{AsciiMetadataValue, MetadataValue},
};
use tonic_types::{ErrorDetails, StatusExt};

use super::{Caller, KeyRecord, KeyStore, Permission, StoreError, keys};
use crate::config::{AccessConfig, Secret};

/// What each method of a service needs, by gRPC path (`/fdi.ingest.v1.IngestService/SubmitEvent`); a method
/// the policy does not know needs [`Permission::Admin`], so a new RPC is closed until classified.
pub type Policy = fn(&str) -> Option<Permission>;

/// Paths open to everyone: health (probes) and reflection (the contracts are public).
fn is_open(path: &str) -> bool {
    path.starts_with("/grpc.health.v1.Health/") || path.starts_with("/grpc.reflection.")
}

/// Keys whose Argon2 check passed, remembered by the token's SHA-256; beyond this many the memory starts over.
const MAX_VERIFIED: usize = 10_000;
/// Argon2 checks at once: each takes tens of milliseconds of one core, so a flood of wrong keys waits here
/// instead of taking every core.
const ARGON2_SLOTS: usize = 2;

/// Checks callers against the key table.
pub struct Authenticator {
    store: KeyStore,
    keys: RwLock<HashMap<String, Arc<KeyRecord>>>,
    verified: Mutex<HashMap<[u8; 32], String>>,
    argon2_slots: Arc<Semaphore>,
    rate: DefaultKeyedRateLimiter<String>,
    in_flight: Mutex<HashMap<String, Arc<Semaphore>>>,
    max_calls: usize,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator").finish_non_exhaustive()
    }
}

impl Authenticator {
    /// Over `store`, with the limits of `config`.
    #[must_use]
    pub fn new(store: KeyStore, config: &AccessConfig) -> Self {
        let rate = NonZeroU32::new(config.caller_rate).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(config.caller_burst).unwrap_or(rate);
        Self {
            store,
            keys: RwLock::new(HashMap::new()),
            verified: Mutex::new(HashMap::new()),
            argon2_slots: Arc::new(Semaphore::new(ARGON2_SLOTS)),
            rate: RateLimiter::keyed(Quota::per_second(rate).allow_burst(burst)),
            in_flight: Mutex::new(HashMap::new()),
            max_calls: usize::try_from(config.caller_max_calls.max(1)).unwrap_or(usize::MAX),
        }
    }

    /// The key table.
    #[must_use]
    pub fn store(&self) -> &KeyStore {
        &self.store
    }

    /// Re-reads the key table (revocations, expiries, new keys).
    ///
    /// # Errors
    /// When the database fails; the last copy stays in use.
    pub async fn refresh(&self) -> Result<(), StoreError> {
        let all = self.store.all().await?;
        let fresh = all.into_iter().map(|key| (key.key_id.clone(), Arc::new(key))).collect();
        *self.keys.write().unwrap_or_else(PoisonError::into_inner) = fresh;
        self.rate.retain_recent();
        Ok(())
    }

    /// The caller of a request with these headers.
    ///
    /// # Errors
    /// UNAUTHENTICATED without a valid, active key; UNAVAILABLE when the key table cannot be read.
    pub async fn authenticate(&self, headers: &HeaderMap) -> Result<Caller, Status> {
        let token = bearer_token(headers)?;
        let key_id = keys::parse_token(token).ok_or_else(not_a_key)?;
        let record = self.record(key_id).await?.ok_or_else(not_a_key)?;
        if !self.verify(token, &record).await {
            return Err(not_a_key());
        }
        if record.revoke_time.is_some() {
            return Err(Status::unauthenticated(format!("API key {key_id} has been revoked")));
        }
        if !record.is_active(Utc::now()) {
            return Err(Status::unauthenticated(format!("API key {key_id} has expired")));
        }
        Ok(Caller {
            key_id: record.key_id.clone(),
            role: record.role,
            provinces: record.provinces.clone(),
        })
    }

    async fn record(&self, key_id: &str) -> Result<Option<Arc<KeyRecord>>, Status> {
        if let Some(record) = self.keys.read().unwrap_or_else(PoisonError::into_inner).get(key_id) {
            return Ok(Some(Arc::clone(record)));
        }
        // A key created since the last refresh (maybe on another replica).
        let fetched = self.store.get(key_id).await.map_err(|error| {
            tracing::warn!(%error, "cannot read the key table");
            Status::unavailable("API keys cannot be checked right now; retry later")
        })?;
        Ok(fetched.map(|record| {
            let record = Arc::new(record);
            self.keys
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(key_id.to_owned(), Arc::clone(&record));
            record
        }))
    }

    async fn verify(&self, token: &str, record: &KeyRecord) -> bool {
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let known = self
            .verified
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&digest)
            .cloned();
        if known.as_deref() == Some(record.key_id.as_str()) {
            return true;
        }
        let Ok(_slot) = Arc::clone(&self.argon2_slots).acquire_owned().await else {
            return false;
        };
        let (token, hash) = (token.to_owned(), record.secret_hash.clone());
        let valid = tokio::task::spawn_blocking(move || keys::verify(&token, &hash))
            .await
            .unwrap_or(false);
        if valid {
            let mut verified = self.verified.lock().unwrap_or_else(PoisonError::into_inner);
            if verified.len() >= MAX_VERIFIED {
                verified.clear();
            }
            verified.insert(digest, record.key_id.clone());
        }
        valid
    }

    /// Admits one call of `caller` under its rate and in-flight limits; the permit lasts as long as the call.
    ///
    /// # Errors
    /// RESOURCE_EXHAUSTED with a RetryInfo delay.
    pub fn admit(&self, caller: &Caller) -> Result<OwnedSemaphorePermit, Status> {
        if let Err(not_until) = self.rate.check_key(&caller.key_id) {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            return Err(exhausted(
                format!(
                    "API key {} is over its rate of calls; retry in {} ms",
                    caller.key_id,
                    wait.as_millis().max(1)
                ),
                wait,
            ));
        }
        let slots = Arc::clone(
            self.in_flight
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .entry(caller.key_id.clone())
                .or_insert_with(|| Arc::new(Semaphore::new(self.max_calls))),
        );
        slots.try_acquire_owned().map_err(|_| {
            exhausted(
                format!(
                    "API key {} has {} calls in flight, its limit; retry when one ends",
                    caller.key_id, self.max_calls
                ),
                Duration::from_secs(1),
            )
        })
    }
}

fn exhausted(message: String, retry_after: Duration) -> Status {
    Status::with_error_details(
        Code::ResourceExhausted,
        message,
        ErrorDetails::with_retry_info(Some(retry_after)),
    )
}

fn not_a_key() -> Status {
    Status::unauthenticated("the credential is not a valid FDI Atlas API key")
}

/// The token of `authorization: Bearer <token>`.
fn bearer_token(headers: &HeaderMap) -> Result<&str, Status> {
    let value = headers.get(http::header::AUTHORIZATION).ok_or_else(|| {
        Status::unauthenticated("this call needs an API key: send the header `authorization: Bearer fdi_…`")
    })?;
    let text = value.to_str().map_err(|_| not_a_key())?;
    let (scheme, token) = text.split_once(' ').ok_or_else(not_a_key)?;
    if scheme.eq_ignore_ascii_case("bearer") {
        Ok(token.trim())
    } else {
        Err(Status::unauthenticated(
            "use the Bearer scheme: `authorization: Bearer fdi_…`",
        ))
    }
}

/// Who checks a server's callers: the key table, or nobody where anonymous calls are allowed.
#[derive(Debug, Clone)]
pub struct AccessLayer {
    policy: Policy,
    authenticator: Option<Arc<Authenticator>>,
}

impl AccessLayer {
    /// Keys checked by `authenticator` against `policy`; `None` lets every call in as [`Caller::anonymous`].
    #[must_use]
    pub fn new(policy: Policy, authenticator: Option<Arc<Authenticator>>) -> Self {
        Self { policy, authenticator }
    }

    async fn check(&self, path: &str, headers: &HeaderMap) -> Result<(Caller, Option<OwnedSemaphorePermit>), Status> {
        let Some(authenticator) = &self.authenticator else {
            return Ok((Caller::anonymous(), None));
        };
        let caller = authenticator.authenticate(headers).await?;
        let needed = (self.policy)(path).unwrap_or(Permission::Admin);
        if !caller.role.grants(needed) {
            tracing::info!(key_id = %caller.key_id, path, "permission denied");
            return Err(Status::permission_denied(format!(
                "API key {} has role {}, which may not {} ({path})",
                caller.key_id,
                caller.role.as_str(),
                needed.as_str()
            )));
        }
        let permit = authenticator.admit(&caller)?;
        Ok((caller, Some(permit)))
    }
}

impl<S> tower::Layer<S> for AccessLayer {
    type Service = AccessService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AccessService {
            inner,
            access: self.clone(),
        }
    }
}

/// The service of [`AccessLayer`].
#[derive(Debug, Clone)]
pub struct AccessService<S> {
    inner: S,
    access: AccessLayer,
}

type BoxFuture<T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send>>;

impl<S, B> tower::Service<Request<B>> for AccessService<S>
where
    S: tower::Service<Request<B>, Response = Response<tonic::body::Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = Response<tonic::body::Body>;
    type Error = S::Error;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        // The clone is not ready; the one polled ready serves this call (tower's usual swap).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let access = self.access.clone();
        Box::pin(async move {
            let path = request.uri().path().to_owned();
            if is_open(&path) {
                return inner.call(request).await;
            }
            match access.check(&path, request.headers()).await {
                Ok((caller, permit)) => {
                    request.extensions_mut().insert(caller);
                    let response = inner.call(request).await?;
                    Ok(match permit {
                        Some(permit) => response.map(|body| tonic::body::Body::new(Guarded { body, _permit: permit })),
                        None => response,
                    })
                }
                Err(status) => Ok(status.into_http()),
            }
        })
    }
}

pin_project_lite::pin_project! {
    /// A response body that holds its call's in-flight permit until the last message (streams included).
    struct Guarded<B> {
        #[pin]
        body: B,
        _permit: OwnedSemaphorePermit,
    }
}

impl<B: http_body::Body> http_body::Body for Guarded<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        self.project().body.poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

/// The key a client sends: an interceptor adding `authorization: Bearer <key>` to every call (none without a
/// key). The value is marked sensitive, so it is never printed.
#[derive(Clone, Default)]
pub struct Bearer(Option<AsciiMetadataValue>);

impl std::fmt::Debug for Bearer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Bearer(***)"
        } else {
            "Bearer(none)"
        })
    }
}

/// A channel whose calls carry a [`Bearer`] key.
pub type Authorized = tonic::service::interceptor::InterceptedService<tonic::transport::Channel, Bearer>;

/// The variable clients (`fdi import`, `fdi report`, the benchmarks) read their key from.
pub const API_KEY_VARIABLE: &str = "FDI_API_KEY";

impl Bearer {
    /// Sends `key` (nothing for `None`).
    ///
    /// # Errors
    /// INVALID_ARGUMENT when the key cannot be a header value.
    pub fn new(key: Option<&str>) -> Result<Self, Status> {
        key.map(|key| {
            let mut value: AsciiMetadataValue = MetadataValue::try_from(format!("Bearer {}", key.trim()))
                .map_err(|_| Status::invalid_argument("the API key is not printable ASCII"))?;
            value.set_sensitive(true);
            Ok(value)
        })
        .transpose()
        .map(Self)
    }

    /// The configured secret's key.
    ///
    /// # Errors
    /// As [`Bearer::new`].
    pub fn from_secret(secret: Option<&Secret>) -> Result<Self, Status> {
        Self::new(secret.map(Secret::expose))
    }

    /// The key in `FDI_API_KEY` (none when unset or empty).
    ///
    /// # Errors
    /// As [`Bearer::new`].
    pub fn from_env() -> Result<Self, Status> {
        let key = std::env::var(API_KEY_VARIABLE)
            .ok()
            .filter(|key| !key.trim().is_empty());
        Self::new(key.as_deref())
    }

    /// Adds the header to one request.
    pub fn apply<T>(&self, request: &mut tonic::Request<T>) {
        if let Some(value) = &self.0 {
            request.metadata_mut().insert("authorization", value.clone());
        }
    }
}

impl tonic::service::Interceptor for Bearer {
    fn call(&mut self, mut request: tonic::Request<()>) -> Result<tonic::Request<()>, Status> {
        self.apply(&mut request);
        Ok(request)
    }
}
