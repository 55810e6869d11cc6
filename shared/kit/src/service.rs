//! The one serve skeleton every service configures: a lazily connected pool,
//! health that tells the truth, reflection, the house layers, background
//! tasks that stop with the server, and a bounded grace period on shutdown.
//!
//! A service says what is its own (its gRPC service, how it gets ready, what
//! it runs in the background, which services it depends on); the skeleton
//! does the rest in the same order for all three:
//!
//! ```ignore
//! let skeleton = Skeleton::new(IDENTITY, &config.common, shutdown)?;
//! let state = Arc::new(Catalogue::new(skeleton.pool().clone()));
//! skeleton
//!     .prepare(move || { let state = Arc::clone(&state); async move { state.load().await } })
//!     .every(SNAPSHOT_REFRESH, ...)
//!     .serve(listener, Routes::new(CatalogueServiceServer::new(api)))
//!     .await
//! ```

use std::{future::Future, pin::Pin, sync::Arc, time::Duration};

use sqlx::PgPool;
use tokio::{net::TcpListener, sync::watch};
use tonic::service::Routes;

use crate::{
    access::{AccessLayer, Authenticator, KeyStore, Policy},
    config::{AccessConfig, Common, ServerConfig, TlsConfig},
    db,
    server::{self, Readiness, ServingStatus, spawn_readiness},
    shutdown::CancellationToken,
    tls::TlsError,
};

/// How long the database probe may take before the service counts as unhealthy.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// Who a service is: its process name, its gRPC service and its schema.
#[derive(Debug, Clone, Copy)]
pub struct Identity {
    /// The process (and pool application) name, e.g. `fdi-catalogue`.
    pub process: &'static str,
    /// The full gRPC service name, e.g. `fdi.catalogue.v1.CatalogueService`.
    pub grpc_service: &'static str,
    /// The database schema the service owns.
    pub schema: &'static str,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;
type Prepare = Box<dyn FnMut() -> BoxFuture<Result<(), String>> + Send>;
type Task = Box<dyn FnOnce(CancellationToken) -> BoxFuture<()> + Send>;

/// A service under construction: what it needs to serve, gathered before serving.
pub struct Skeleton {
    identity: Identity,
    pool: PgPool,
    server: ServerConfig,
    shutdown: CancellationToken,
    prepare: Option<Prepare>,
    dependencies: Vec<(String, &'static str)>,
    tasks: Vec<Task>,
    after_ready: Vec<Task>,
    access: AccessConfig,
    authenticator: Arc<Authenticator>,
    policy: Policy,
    also_serves: Vec<&'static str>,
    tls: TlsConfig,
}

/// Why a service could not serve.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// TLS is not configured as it must be.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// The server failed.
    #[error(transparent)]
    Transport(#[from] tonic::transport::Error),
    /// The health address (`FDI_HEALTH_ADDR`) cannot be bound.
    #[error("cannot listen for health checks: {0}")]
    HealthListener(std::io::Error),
}

impl Skeleton {
    /// Starts a service: the pool connects lazily, so this succeeds without a database.
    ///
    /// # Errors
    /// When the database URL is invalid.
    pub fn new(identity: Identity, common: &Common, shutdown: CancellationToken) -> Result<Self, sqlx::Error> {
        let pool = db::connect_lazy(&common.database, identity.schema, identity.process)?;
        db::observe_pool(&pool, identity.schema);
        let keys = KeyStore::connect_lazy(&common.database, identity.process)?;
        Ok(Self {
            access: common.access.clone(),
            authenticator: Arc::new(Authenticator::new(keys, &common.access)),
            policy: |_| None,
            also_serves: Vec::new(),
            tls: common.tls.clone(),
            identity,
            pool,
            server: common.server.clone(),
            shutdown,
            prepare: None,
            dependencies: Vec::new(),
            tasks: Vec::new(),
            after_ready: Vec::new(),
        })
    }

    /// The service's pool (its search path is its schema).
    #[must_use]
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// The token that stops the service.
    /// Who checks callers (and the key table, for the service that manages keys).
    #[must_use]
    pub fn authenticator(&self) -> &Arc<Authenticator> {
        &self.authenticator
    }

    /// A gRPC service served beside the identity's own (listed by reflection too).
    #[must_use]
    pub fn also_serves(mut self, grpc_service: &'static str) -> Self {
        self.also_serves.push(grpc_service);
        self
    }

    /// What each method needs; without a policy every method needs an admin key.
    #[must_use]
    pub fn policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    #[must_use]
    pub fn shutdown(&self) -> &CancellationToken {
        &self.shutdown
    }

    /// What makes the service ready (migrate, seed, load), retried with
    /// backoff until it succeeds; health says NOT_SERVING until then.
    #[must_use]
    pub fn prepare<F, Fut>(mut self, mut prepare: F) -> Self
    where
        F: FnMut() -> Fut + Send + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        self.prepare = Some(Box::new(move || Box::pin(prepare())));
        self
    }

    /// Another service this one needs: health says NOT_SERVING while
    /// `grpc_service` at `url` does not report SERVING.
    #[must_use]
    pub fn depends_on(mut self, url: &str, grpc_service: &'static str) -> Self {
        self.dependencies.push((url.to_owned(), grpc_service));
        self
    }

    /// Runs `tick` every `period` once the service is ready, until shutdown
    /// (e.g. reloading what other replicas wrote).
    #[must_use]
    pub fn every<F, Fut>(self, period: Duration, mut tick: F) -> Self
    where
        F: FnMut() -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.after_ready(move |shutdown| async move {
            loop {
                tokio::select! {
                    () = shutdown.cancelled() => break,
                    () = tokio::time::sleep(period) => tick().await,
                }
            }
        })
    }

    /// Runs `task` from the start; it is given the shutdown token and aborted
    /// when the server stops.
    #[must_use]
    pub fn task<F, Fut>(mut self, task: F) -> Self
    where
        F: FnOnce(CancellationToken) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.tasks.push(Box::new(move |shutdown| Box::pin(task(shutdown))));
        self
    }

    /// Runs `task` once the service is first ready (prepared); it is given
    /// the shutdown token and aborted when the server stops.
    #[must_use]
    pub fn after_ready<F, Fut>(mut self, task: F) -> Self
    where
        F: FnOnce(CancellationToken) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.after_ready
            .push(Box::new(move |shutdown| Box::pin(task(shutdown))));
        self
    }

    /// Serves `routes` (the service's own gRPC service) with health and
    /// reflection on `listener` until shutdown, then gives calls in flight
    /// the grace period, stops the background tasks and closes the pool.
    ///
    /// # Errors
    /// The server's own error.
    pub async fn serve(self, listener: TcpListener, routes: Routes) -> Result<(), ServeError> {
        let Self {
            identity,
            pool,
            server,
            shutdown,
            prepare,
            dependencies,
            tasks,
            mut after_ready,
            access,
            authenticator,
            policy,
            mut also_serves,
            tls,
        } = self;
        // Checked before anything runs: a server without a certificate must not quietly serve plaintext.
        let tls_config = crate::tls::server_config(&tls)?;
        let prepare = with_key_table(prepare, Arc::clone(&authenticator));
        after_ready.push(refresh_keys(Arc::clone(&authenticator), access.key_refresh));
        let checked_by = (!access.allow_anonymous).then(|| Arc::clone(&authenticator));
        if access.allow_anonymous {
            tracing::warn!(
                service = identity.process,
                "anonymous calls are allowed: every caller is an admin"
            );
        }
        let (readiness, health_service) = Readiness::new(&[identity.grpc_service]).await;
        let (prepared, prepared_watch) = watch::channel(false);
        // Bound before anything else starts, so a taken health port stops the service before it does anything.
        let health_listener = match server.health_listen {
            Some(addr) => Some(
                server::spawn_health_listener(addr, health_service.clone(), shutdown.clone())
                    .await
                    .map_err(ServeError::HealthListener)?,
            ),
            None => None,
        };
        let mut handles = vec![spawn_readiness(
            readiness,
            server.health_interval,
            shutdown.clone(),
            announce_when_prepared(prepare, prepared),
            probe(pool.clone(), dependencies, tls.clone()),
        )];
        handles.extend(health_listener);
        handles.extend(tasks.into_iter().map(|task| tokio::spawn(task(shutdown.clone()))));
        handles.extend(after_ready.into_iter().map(|task| {
            let (shutdown, mut prepared_watch) = (shutdown.clone(), prepared_watch.clone());
            tokio::spawn(async move {
                if prepared_watch.wait_for(|ready| *ready).await.is_ok() {
                    task(shutdown).await;
                }
            })
        }));

        also_serves.insert(0, identity.grpc_service);
        let (reflection_v1, reflection_v1alpha) = server::reflection(&also_serves);
        let mut builder = server::builder(&server);
        if let Some(tls_config) = tls_config {
            builder = builder.tls_config(tls_config)?;
        }
        let serving = builder
            .layer(AccessLayer::new(policy, checked_by))
            .add_routes(routes)
            .add_service(health_service)
            .add_optional_service(access.reflection.then_some(reflection_v1))
            .add_optional_service(access.reflection.then_some(reflection_v1alpha))
            .serve_with_incoming_shutdown(server::incoming(listener), shutdown.clone().cancelled_owned());
        let result = server::serve_with_grace(serving, shutdown, server.shutdown_grace).await;

        for handle in handles {
            handle.abort();
        }
        pool.close().await;
        result?;
        tracing::info!(service = identity.process, "stopped");
        Ok(())
    }
}

/// The readiness step: the service's own preparation, then word to the tasks
/// that wait for it.
/// The service's own preparation, after the key table exists and has been read once.
fn with_key_table(prepare: Option<Prepare>, authenticator: Arc<Authenticator>) -> Option<Prepare> {
    let mut prepare = prepare;
    Some(Box::new(move || {
        let step = prepare.as_mut().map(|prepare| prepare());
        let authenticator = Arc::clone(&authenticator);
        Box::pin(async move {
            authenticator
                .store()
                .migrate()
                .await
                .map_err(|e| format!("key table: {e}"))?;
            authenticator.refresh().await.map_err(|e| format!("key table: {e}"))?;
            match step {
                Some(step) => step.await,
                None => Ok(()),
            }
        })
    }))
}

/// Re-reads the key table every `period`, so revocations and expiries hold within it.
fn refresh_keys(authenticator: Arc<Authenticator>, period: Duration) -> Task {
    Box::new(move |shutdown| {
        Box::pin(async move {
            loop {
                tokio::select! {
                    () = shutdown.cancelled() => break,
                    () = tokio::time::sleep(period) => {
                        if let Err(error) = authenticator.refresh().await {
                            tracing::warn!(%error, "cannot re-read the key table; keeping the last copy");
                        }
                    }
                }
            }
        })
    })
}

fn announce_when_prepared(
    mut prepare: Option<Prepare>,
    prepared: watch::Sender<bool>,
) -> impl FnMut() -> BoxFuture<Result<(), String>> + Send + 'static {
    move || {
        let step = prepare.as_mut().map(|prepare| prepare());
        let prepared = prepared.clone();
        Box::pin(async move {
            if let Some(step) = step {
                step.await?;
            }
            prepared.send_replace(true);
            Ok(())
        })
    }
}

/// The health probe: the database answers and every dependency says SERVING.
fn probe(
    pool: PgPool,
    dependencies: Vec<(String, &'static str)>,
    tls: TlsConfig,
) -> impl FnMut() -> BoxFuture<bool> + Send + 'static {
    move || {
        let (pool, dependencies, tls) = (pool.clone(), dependencies.clone(), tls.clone());
        Box::pin(async move {
            if !db::is_reachable(&pool, PROBE_TIMEOUT).await {
                return false;
            }
            for (url, grpc_service) in &dependencies {
                if server::health_status_tls(url, grpc_service, &tls).await != Some(ServingStatus::Serving) {
                    return false;
                }
            }
            true
        })
    }
}
