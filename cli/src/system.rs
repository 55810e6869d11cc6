//! The services run inside the `fdi` process (for `fdi up` and the
//! benchmarks), each on its own listener, all stopped by one token.

use std::{net::SocketAddr, time::Duration};

use fdi_kit::{
    access::Bearer,
    config::{Common, DatabaseConfig, Secret, TlsConfig},
    shutdown::CancellationToken,
    telemetry::LogConfig,
};
use tokio::{net::TcpListener, task::JoinSet};

use crate::local_keys::LocalKeys;

/// `http://host:port` for a listen address (an unspecified address means this machine).
#[must_use]
pub fn endpoint(addr: SocketAddr) -> String {
    if addr.ip().is_unspecified() {
        format!("http://localhost:{}", addr.port())
    } else {
        format!("http://{addr}")
    }
}

/// The services started so far.
pub struct System {
    /// The running services; one failing stops the others.
    pub tasks: JoinSet<anyhow::Result<()>>,
    /// Cancelled on Ctrl-C (or by the caller) to stop them all.
    pub shutdown: CancellationToken,
    /// The database and logging every service shares (each serves with the defaults).
    common: Common,
    catalogue: Option<String>,
    credential: Bearer,
}

impl System {
    /// An empty system over a database.
    #[must_use]
    pub fn new(database: DatabaseConfig, log: LogConfig, shutdown: CancellationToken) -> Self {
        Self {
            tasks: JoinSet::new(),
            shutdown,
            common: Common {
                log,
                // A local system (`fdi up`, the benchmarks): plaintext unless `use_tls` says otherwise.
                tls: TlsConfig {
                    allow_plaintext: true,
                    ..TlsConfig::default()
                },
                ..Common::new(database)
            },
            catalogue: None,
            credential: Bearer::default(),
        }
    }

    /// Requires API keys: the services present `keys.service` to each other, and
    /// [`System::credential`] is the admin key. Call before starting any service.
    ///
    /// # Errors
    /// When a key cannot be a header value.
    pub fn secure(&mut self, keys: &LocalKeys) -> anyhow::Result<()> {
        self.common.access.service_key = Some(Secret::from(keys.service.clone()));
        self.credential = Bearer::new(Some(&keys.admin))?;
        Ok(())
    }

    /// Serves with `tls` (and calls the catalogue over it); call before starting any service.
    pub fn use_tls(&mut self, tls: TlsConfig) {
        self.common.tls = tls;
    }

    /// The TLS settings the services run with (and a client of them needs).
    #[must_use]
    pub fn tls(&self) -> &TlsConfig {
        &self.common.tls
    }

    /// The endpoint of a service listening on `addr`: `https://` when serving with a certificate.
    fn endpoint(&self, addr: SocketAddr) -> String {
        let plain = endpoint(addr);
        if self.common.tls.cert.is_some() {
            plain.replacen("http://", "https://", 1)
        } else {
            plain
        }
    }

    /// Lifts the per-key rate and in-flight limits (the check still runs): a benchmark measures the services,
    /// and its one key makes calls as fast as they are answered.
    pub fn unlimited_callers(&mut self) {
        // A million calls a second: beyond what the services answer, within what the token bucket computes.
        self.common.access.caller_rate = 1_000_000;
        self.common.access.caller_burst = 1_000_000;
        self.common.access.caller_max_calls = 1_000_000;
    }

    /// The admin key's credential (none before [`System::secure`]).
    #[must_use]
    pub fn credential(&self) -> Bearer {
        self.credential.clone()
    }

    /// Starts the catalogue on `listener`; returns its endpoint.
    ///
    /// # Errors
    /// When the listener has no address.
    pub fn catalogue(&mut self, listener: TcpListener) -> anyhow::Result<String> {
        let listen = listener.local_addr()?;
        let config = fdi_catalogue::Config::new(listen, self.common.clone());
        self.tasks
            .spawn(fdi_catalogue::serve(config, listener, self.shutdown.clone()));
        self.catalogue = Some(self.endpoint(listen));
        Ok(self.endpoint(listen))
    }

    /// The catalogue's endpoint, once started.
    #[must_use]
    pub fn catalogue_endpoint(&self) -> Option<String> {
        self.catalogue.clone()
    }

    /// Starts ingest on `listener`, using the catalogue at `catalogue`; returns its endpoint.
    ///
    /// # Errors
    /// When the listener has no address.
    pub fn ingest(&mut self, listener: TcpListener, catalogue: &str, max_stream_rows: u64) -> anyhow::Result<String> {
        let listen = listener.local_addr()?;
        let config = fdi_ingest::Config {
            max_stream_rows,
            ..fdi_ingest::Config::new(listen, self.common.clone(), catalogue)
        };
        self.tasks
            .spawn(fdi_ingest::serve(config, listener, self.shutdown.clone()));
        Ok(self.endpoint(listen))
    }

    /// Starts analytics on `listener`, using the catalogue at `catalogue`; returns its endpoint.
    ///
    /// # Errors
    /// When the listener has no address.
    pub fn analytics(&mut self, listener: TcpListener, catalogue: &str) -> anyhow::Result<String> {
        let listen = listener.local_addr()?;
        let config = fdi_analytics::Config::new(listen, self.common.clone(), catalogue);
        self.tasks
            .spawn(fdi_analytics::serve(config, listener, self.shutdown.clone()));
        Ok(self.endpoint(listen))
    }

    /// Waits until `service` at `endpoint` is SERVING (false on shutdown or after two minutes).
    pub async fn wait_serving(&self, endpoint: &str, service: &str) -> bool {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
        while tokio::time::Instant::now() < deadline && !self.shutdown.is_cancelled() {
            if fdi_kit::server::health_status_tls(endpoint, service, &self.common.tls).await
                == Some(fdi_kit::server::ServingStatus::Serving)
            {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        false
    }

    /// Waits for every service to stop; the first failure is returned (and stops the rest).
    ///
    /// # Errors
    /// The first service failure.
    pub async fn join(mut self) -> anyhow::Result<()> {
        let mut outcome = Ok(());
        while let Some(joined) = self.tasks.join_next().await {
            let result = joined.map_err(anyhow::Error::from).and_then(|r| r);
            if let Err(error) = result {
                eprintln!("a service failed: {error:#}");
                if outcome.is_ok() {
                    outcome = Err(error);
                }
                self.shutdown.cancel();
            }
        }
        outcome
    }
}
