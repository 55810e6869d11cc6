//! Structured logging with `tracing`: JSON lines by default (what log
//! pipelines ingest), readable text on request; the level from `RUST_LOG`.

use tracing_subscriber::{EnvFilter, fmt, layer::SubscriberExt, util::SubscriberInitExt};

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
#[derive(clap::Args, Debug, Clone)]
pub struct LogConfig {
    /// `json` (one object per line) or `text`.
    #[arg(long = "log-format", env = "FDI_LOG_FORMAT", value_enum, default_value_t = LogFormat::Json)]
    pub format: LogFormat,
}

/// Installs the global subscriber. Calling it twice (tests, the all-in-one
/// `fdi up`) keeps the first one rather than failing.
pub fn init(config: &LogConfig, default_directive: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_directive));
    let registry = tracing_subscriber::registry().with(filter);
    let result = match config.format {
        LogFormat::Json => registry
            .with(
                fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(true)
                    .with_span_list(false),
            )
            .try_init(),
        LogFormat::Text => registry.with(fmt::layer().compact()).try_init(),
    };
    if result.is_err() {
        tracing::debug!("a global tracing subscriber was already installed");
    }
}
