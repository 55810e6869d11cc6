//! What the commands that ask a service (`fdi report`, `fdi export`) share:
//! a connection that sends the key in `FDI_API_KEY`, and a refusal kept with
//! its details (field violations, suggested names) so it can be shown and tested.

use std::{fmt, time::Duration};

use anyhow::Context;
use fdi_kit::{
    access::{API_KEY_VARIABLE, Authorized, Bearer},
    config::TlsConfig,
};
use tonic::{Code, Status, service::interceptor::InterceptedService};
use tonic_types::StatusExt;

/// How long reaching a service may take before the command says it cannot.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A channel to the `service` at `url` (TLS with the public web roots for `https://`) that sends the key in
/// `FDI_API_KEY` with every call.
///
/// # Errors
/// A malformed URL or key, or a service that cannot be reached, each said with what to do.
pub async fn connect(url: &str, service: &str) -> anyhow::Result<Authorized> {
    let bearer = Bearer::from_env().map_err(|status| anyhow::anyhow!("{API_KEY_VARIABLE}: {}", status.message()))?;
    let channel = fdi_kit::tls::endpoint(url, &TlsConfig::default())
        .with_context(|| {
            format!("the {service} service's address `{url}` is not a URL such as http://localhost:50053")
        })?
        .connect_timeout(CONNECT_TIMEOUT)
        .connect()
        .await
        .with_context(|| format!("cannot reach the {service} service at {url} (is `fdi up` running?)"))?;
    Ok(InterceptedService::new(channel, bearer))
}

/// An error a service answered with, keeping the structured details (field violations, suggested names).
#[derive(Debug, Clone)]
pub struct ServiceError {
    /// The service that answered (`analytics`, `ingest`).
    pub service: &'static str,
    /// The call that failed.
    pub call: &'static str,
    /// The gRPC code.
    pub code: Code,
    /// The service's message.
    pub message: String,
    /// (field, description) pairs of a BadRequest detail.
    pub violations: Vec<(String, String)>,
    /// Names suggested for an unknown one (ErrorInfo metadata `suggestions`).
    pub suggestions: Vec<String>,
}

impl ServiceError {
    /// What `service` answered to `call`.
    #[must_use]
    pub fn new(service: &'static str, call: &'static str, status: &Status) -> Self {
        let violations = status
            .get_details_bad_request()
            .map(|b| {
                b.field_violations
                    .into_iter()
                    .map(|v| (v.field, v.description))
                    .collect()
            })
            .unwrap_or_default();
        let suggestions = status
            .get_details_error_info()
            .and_then(|info| info.metadata.get("suggestions").cloned())
            .map(|s| s.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect())
            .unwrap_or_default();
        Self {
            service,
            call,
            code: status.code(),
            message: status.message().to_owned(),
            violations,
            suggestions,
        }
    }
}

impl fmt::Display for ServiceError {
    /// The violations replace the message (which only joins them); suggestions become `--province` (or
    /// `--zone`) options to try.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} answered {:?}", self.service, self.call, self.code)?;
        if self.violations.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        for (field, description) in &self.violations {
            write!(f, "\n  - {field}: {description}")?;
        }
        if self.code == Code::Unauthenticated {
            write!(
                f,
                "\n  set {API_KEY_VARIABLE} to an API key (`fdi up` prints one; `fdi keys create` makes more)"
            )?;
        }
        for suggestion in &self.suggestions {
            match suggestion.strip_prefix("zones/") {
                Some(zone) => write!(f, "\n  try: --zone {zone}")?,
                None => write!(f, "\n  try: --province {}", suggestion.trim_start_matches("provinces/"))?,
            }
        }
        Ok(())
    }
}

impl std::error::Error for ServiceError {}
