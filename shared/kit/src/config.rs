//! Configuration shared by the services, read from environment variables
//! (each also a command-line flag) with clap.

use std::{net::SocketAddr, time::Duration};

use crate::telemetry::LogConfig;

/// How a service reaches PostgreSQL.
#[derive(clap::Args, Debug, Clone)]
pub struct DatabaseConfig {
    /// PostgreSQL connection URL, e.g. `postgres://fdi@localhost:5432/fdi`.
    #[arg(long = "database-url", env = "DATABASE_URL")]
    pub url: String,
    /// Maximum connections in this service's pool.
    #[arg(long = "db-max-connections", env = "FDI_DB_MAX_CONNECTIONS", default_value_t = DEFAULT_MAX_CONNECTIONS)]
    pub max_connections: u32,
}

/// Pool size per service unless configured.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 10;

impl DatabaseConfig {
    /// The database at `url` with the default pool size.
    #[must_use]
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }

    /// The same database with a pool of `max_connections`.
    #[must_use]
    pub fn with_max_connections(self, max_connections: u32) -> Self {
        Self {
            max_connections,
            ..self
        }
    }
}

/// The settings every service has besides its own: its database, how it
/// serves and how it logs (flags and variables of the same names in each).
#[derive(clap::Args, Debug, Clone)]
pub struct Common {
    /// Database settings.
    #[command(flatten)]
    pub database: DatabaseConfig,
    /// Server settings.
    #[command(flatten)]
    pub server: ServerConfig,
    /// Logging settings.
    #[command(flatten)]
    pub log: LogConfig,
}

impl Common {
    /// A service over `database`, serving and logging as the flags default.
    #[must_use]
    pub fn new(database: DatabaseConfig) -> Self {
        Self {
            database,
            server: ServerConfig::default(),
            log: LogConfig::default(),
        }
    }
}

/// Where the catalogue's callers (ingest, analytics) find it.
#[derive(clap::Args, Debug, Clone)]
pub struct CatalogueConfig {
    /// Where the catalogue service is.
    #[arg(id = "catalogue_url", long = "catalogue-url", env = "FDI_CATALOGUE_URL", default_value = DEFAULT_CATALOGUE_URL)]
    pub url: String,
    /// Deadline of each call to the catalogue (and of connecting to it).
    #[arg(id = "catalogue_timeout", long = "catalogue-timeout", env = "FDI_CATALOGUE_TIMEOUT", default_value = DEFAULT_CATALOGUE_TIMEOUT, value_parser = parse_duration)]
    pub timeout: Duration,
}

/// Where the catalogue is unless configured.
pub const DEFAULT_CATALOGUE_URL: &str = "http://localhost:50051";
/// Deadline of a catalogue call unless configured.
pub const DEFAULT_CATALOGUE_TIMEOUT: &str = "5s";

impl CatalogueConfig {
    /// The catalogue at `url` with the default deadline.
    #[must_use]
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            timeout: default_duration(DEFAULT_CATALOGUE_TIMEOUT),
        }
    }
}

/// A default written as text for a flag, as a duration for a constructor.
///
/// # Panics
/// When `text` is no duration: defaults are constants, each checked by a unit test.
#[must_use]
pub fn default_duration(text: &str) -> Duration {
    parse_duration(text).unwrap_or_else(|error| panic!("a default duration: {error}"))
}

/// How a service listens and shuts down.
#[derive(clap::Args, Debug, Clone)]
pub struct ServerConfig {
    /// Time a unary call may take before it fails with DEADLINE_EXCEEDED (a shorter client deadline wins).
    #[arg(long = "request-timeout", env = "FDI_REQUEST_TIMEOUT", default_value = "30s", value_parser = parse_duration)]
    pub request_timeout: Duration,
    /// On SIGTERM/SIGINT, how long in-flight calls and streams may run before the process exits.
    #[arg(long = "shutdown-grace", env = "FDI_SHUTDOWN_GRACE", default_value = "20s", value_parser = parse_duration)]
    pub shutdown_grace: Duration,
    /// How often the database is probed to report health.
    #[arg(long = "health-interval", env = "FDI_HEALTH_INTERVAL", default_value = "2s", value_parser = parse_duration)]
    pub health_interval: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(30),
            shutdown_grace: Duration::from_secs(20),
            health_interval: Duration::from_secs(2),
        }
    }
}

/// Parses durations written as `500ms`, `30s`, `5m` or a bare number of seconds.
///
/// # Errors
/// When the text is not a number with one of those units.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(at) => text.split_at(at),
        None => (text, "s"),
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration such as 500ms, 30s or 5m"))?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        _ => return Err(format!("`{text}` has an unknown unit: use ms, s, m or h")),
    };
    if !seconds.is_finite() || seconds < 0.0 {
        return Err(format!("`{text}` is not a valid duration"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// Parses a listen address; a bare port means all interfaces.
///
/// # Errors
/// When the text is neither a socket address nor a port.
pub fn parse_listen_addr(text: &str) -> Result<SocketAddr, String> {
    if let Ok(port) = text.parse::<u16>() {
        return Ok(SocketAddr::from(([0, 0, 0, 0], port)));
    }
    text.parse()
        .map_err(|_| format!("`{text}` is not an address such as 0.0.0.0:50051"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_in_common_units() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("7"), Ok(Duration::from_secs(7)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("5 parsecs").is_err());
    }

    #[test]
    fn defaults_are_durations() {
        assert_eq!(CatalogueConfig::new("http://c").timeout, Duration::from_secs(5));
    }

    #[test]
    fn listen_addresses() {
        assert_eq!(parse_listen_addr("50051").unwrap().port(), 50051);
        assert_eq!(parse_listen_addr("127.0.0.1:9").unwrap().to_string(), "127.0.0.1:9");
        assert!(parse_listen_addr("localhost:x").is_err());
    }
}
