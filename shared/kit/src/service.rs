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

use std::{future::Future, pin::Pin, time::Duration};

use sqlx::PgPool;
use tokio::{net::TcpListener, sync::watch};
use tonic::service::Routes;

use crate::{
    config::{Common, ServerConfig},
    db,
    server::{self, Readiness, ServingStatus, spawn_readiness},
    shutdown::CancellationToken,
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
}

impl Skeleton {
    /// Starts a service: the pool connects lazily, so this succeeds without a database.
    ///
    /// # Errors
    /// When the database URL is invalid.
    pub fn new(identity: Identity, common: &Common, shutdown: CancellationToken) -> Result<Self, sqlx::Error> {
        let pool = db::connect_lazy(&common.database, identity.schema, identity.process)?;
        db::observe_pool(&pool, identity.schema);
        Ok(Self {
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
    pub async fn serve(self, listener: TcpListener, routes: Routes) -> Result<(), tonic::transport::Error> {
        let Self {
            identity,
            pool,
            server,
            shutdown,
            prepare,
            dependencies,
            tasks,
            after_ready,
        } = self;
        let (readiness, health_service) = Readiness::new(&[identity.grpc_service]).await;
        let (prepared, prepared_watch) = watch::channel(false);
        let mut handles = vec![spawn_readiness(
            readiness,
            server.health_interval,
            shutdown.clone(),
            announce_when_prepared(prepare, prepared),
            probe(pool.clone(), dependencies),
        )];
        handles.extend(tasks.into_iter().map(|task| tokio::spawn(task(shutdown.clone()))));
        handles.extend(after_ready.into_iter().map(|task| {
            let (shutdown, mut prepared_watch) = (shutdown.clone(), prepared_watch.clone());
            tokio::spawn(async move {
                if prepared_watch.wait_for(|ready| *ready).await.is_ok() {
                    task(shutdown).await;
                }
            })
        }));

        let (reflection_v1, reflection_v1alpha) = server::reflection(&[identity.grpc_service]);
        let serving = server::builder(&server)
            .add_routes(routes)
            .add_service(health_service)
            .add_service(reflection_v1)
            .add_service(reflection_v1alpha)
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
fn probe(pool: PgPool, dependencies: Vec<(String, &'static str)>) -> impl FnMut() -> BoxFuture<bool> + Send + 'static {
    move || {
        let (pool, dependencies) = (pool.clone(), dependencies.clone());
        Box::pin(async move {
            if !db::is_reachable(&pool, PROBE_TIMEOUT).await {
                return false;
            }
            for (url, grpc_service) in &dependencies {
                if server::health_status(url, grpc_service).await != Some(ServingStatus::Serving) {
                    return false;
                }
            }
            true
        })
    }
}
