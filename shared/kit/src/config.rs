//! Configuration shared by the services, read from environment variables
//! (each also a command-line flag) with clap.

use std::{net::SocketAddr, time::Duration};

use crate::telemetry::LogConfig;

/// How a service reaches PostgreSQL. Its `Debug` form hides the URLs'
/// passwords, and `--help` does not show the variables' values.
#[derive(clap::Args, Clone)]
pub struct DatabaseConfig {
    /// PostgreSQL connection URL, e.g. `postgres://fdi@localhost:5432/fdi`.
    #[arg(long = "database-url", env = "DATABASE_URL", hide_env_values = true)]
    pub url: String,
    /// Maximum connections in this service's pool.
    #[arg(long = "db-max-connections", env = "FDI_DB_MAX_CONNECTIONS", default_value_t = DEFAULT_MAX_CONNECTIONS)]
    pub max_connections: u32,
    /// PostgreSQL URL of the role that owns the schemas (`fdi_owner`, see `fdi db roles`): migrations run as it,
    /// over a connection of their own. Unset, they run over the database URL.
    #[arg(
        long = "migration-database-url",
        env = "FDI_MIGRATION_DATABASE_URL",
        hide_env_values = true
    )]
    pub migration_url: Option<String>,
    /// `apply`: the service applies its schema's migrations at start (as the migration URL's role when set).
    /// `verify`: it never runs DDL and reports NOT_SERVING until every migration it knows is in its schema's
    /// ledger (applied beforehand by `fdi db migrate`, e.g. a Kubernetes Job).
    #[arg(long = "migrations", env = "FDI_MIGRATIONS", value_enum, default_value_t = Migrations::Apply)]
    pub migrations: Migrations,
}

/// Who applies a service's schema migrations.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Migrations {
    /// The service itself, at start.
    Apply,
    /// Someone else (`fdi db migrate`); the service only checks they are there.
    Verify,
}

impl std::fmt::Debug for DatabaseConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseConfig")
            .field("url", &redact_url(&self.url))
            .field("max_connections", &self.max_connections)
            .field("migration_url", &self.migration_url.as_deref().map(redact_url))
            .field("migrations", &self.migrations)
            .finish()
    }
}

/// What a hidden secret is shown as.
const REDACTED: &str = "***";

/// A connection URL fit to print or log: the password of
/// `scheme://user:password@host/…` and any `password=` parameter (of the
/// query string, or of a `key=value` connection string) replaced by `***`.
/// Everything else is kept, so the URL still says where it points.
#[must_use]
pub fn redact_url(url: &str) -> String {
    let mut redacted = String::with_capacity(url.len());
    let rest = match url.split_once("://") {
        Some((scheme, after)) => {
            redacted.push_str(scheme);
            redacted.push_str("://");
            // The authority ends at the first `/`, `?` or `#`; its user info at its last `@`.
            let authority_end = after.find(['/', '?', '#']).unwrap_or(after.len());
            let (authority, path) = after.split_at(authority_end);
            match authority.rsplit_once('@') {
                Some((user_info, host)) => {
                    match user_info.split_once(':') {
                        Some((user, _password)) => {
                            redacted.push_str(user);
                            redacted.push(':');
                            redacted.push_str(REDACTED);
                        }
                        None => redacted.push_str(user_info),
                    }
                    redacted.push('@');
                    redacted.push_str(host);
                }
                None => redacted.push_str(authority),
            }
            path
        }
        None => url,
    };
    redacted.push_str(&redact_password_parameters(rest));
    redacted
}

/// `text` with the value of every `password=` parameter (after `?`, `&`,
/// `;`, whitespace or at the start; any case) replaced by `***`.
fn redact_password_parameters(text: &str) -> String {
    const KEY: &str = "password=";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    loop {
        let lower = rest.to_ascii_lowercase();
        let found = lower.match_indices(KEY).map(|(at, _)| at).find(|&at| {
            at == 0
                || rest[..at]
                    .chars()
                    .next_back()
                    .is_some_and(|c| matches!(c, '?' | '&' | ';') || c.is_whitespace())
        });
        let Some(at) = found else {
            out.push_str(rest);
            return out;
        };
        let value_start = at + KEY.len();
        out.push_str(&rest[..value_start]);
        out.push_str(REDACTED);
        let after = &rest[value_start..];
        let value_len = if let Some(quoted) = after.strip_prefix('\'') {
            // A quoted value of a key=value string: up to the closing quote.
            quoted.find('\'').map_or(after.len(), |end| end + 2)
        } else {
            after
                .find(|c: char| c == '&' || c == '#' || c.is_whitespace())
                .unwrap_or(after.len())
        };
        rest = &after[value_len..];
    }
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
            migration_url: None,
            migrations: Migrations::Apply,
        }
    }

    /// The same database, migrated as the role of `migration_url` (the schemas' owner).
    #[must_use]
    pub fn with_migration_url(self, migration_url: impl Into<String>) -> Self {
        Self {
            migration_url: Some(migration_url.into()),
            ..self
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
    /// Who may call, and how much.
    #[command(flatten)]
    pub access: AccessConfig,
    /// TLS of the listener and of calls to other services.
    #[command(flatten)]
    pub tls: TlsConfig,
}

impl Common {
    /// A service over `database`, serving and logging as the flags default.
    #[must_use]
    pub fn new(database: DatabaseConfig) -> Self {
        Self {
            database,
            server: ServerConfig::default(),
            log: LogConfig::default(),
            access: AccessConfig::default(),
            tls: TlsConfig::default(),
        }
    }
}

/// TLS settings: this service's certificate (served, and presented when it calls another service), the CA
/// that signs its callers' certificates (mutual TLS) and the one that signs the services it calls.
#[derive(clap::Args, Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsConfig {
    /// PEM certificate chain this service serves with (and presents to services that require one).
    #[arg(long = "tls-cert", env = "FDI_TLS_CERT")]
    pub cert: Option<std::path::PathBuf>,
    /// PEM private key of that certificate.
    #[arg(long = "tls-key", env = "FDI_TLS_KEY")]
    pub key: Option<std::path::PathBuf>,
    /// Require callers to present a certificate signed by this PEM CA (mutual TLS).
    #[arg(long = "tls-client-ca", env = "FDI_TLS_CLIENT_CA")]
    pub client_ca: Option<std::path::PathBuf>,
    /// PEM CA that signs the certificates of the services this one calls over `https://` (the public web
    /// roots when unset).
    #[arg(long = "tls-ca", env = "FDI_TLS_CA")]
    pub ca: Option<std::path::PathBuf>,
    /// Serve without TLS. For local development and tests only.
    #[arg(long = "allow-plaintext", env = "FDI_ALLOW_PLAINTEXT")]
    pub allow_plaintext: bool,
}

/// A secret setting (an API key): `Debug` shows `***`, `--help` never its value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// The secret, for the one place that sends it.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<String> for Secret {
    fn from(secret: String) -> Self {
        Self(secret)
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(REDACTED)
    }
}

fn parse_secret(text: &str) -> Result<Secret, String> {
    Ok(Secret(text.trim().to_owned()))
}

/// Who may call a service, and how much: API keys are required unless anonymous calls are allowed.
#[derive(clap::Args, Debug, Clone)]
pub struct AccessConfig {
    /// Accept calls without an API key, each as an admin named `anonymous`. For local development and tests
    /// only: never on a port others can reach.
    #[arg(long = "allow-anonymous", env = "FDI_ALLOW_ANONYMOUS")]
    pub allow_anonymous: bool,
    /// The API key (role `service`) this service presents to the services it calls.
    #[arg(long = "service-key", env = "FDI_SERVICE_KEY", hide_env_values = true, value_parser = parse_secret)]
    pub service_key: Option<Secret>,
    /// Calls per second each key may make, sustained.
    #[arg(long = "caller-rate", env = "FDI_CALLER_RATE", default_value_t = DEFAULT_CALLER_RATE)]
    pub caller_rate: u32,
    /// Calls each key may make at once above its rate.
    #[arg(long = "caller-burst", env = "FDI_CALLER_BURST", default_value_t = DEFAULT_CALLER_BURST)]
    pub caller_burst: u32,
    /// Calls (streams included) each key may have in flight at once.
    #[arg(long = "caller-max-calls", env = "FDI_CALLER_MAX_CALLS", default_value_t = DEFAULT_CALLER_MAX_CALLS)]
    pub caller_max_calls: u32,
    /// Serve gRPC reflection (what grpcurl uses without the proto files); `false` in production if wished.
    #[arg(long = "reflection", env = "FDI_REFLECTION", default_value_t = true, action = clap::ArgAction::Set)]
    pub reflection: bool,
    /// How often the key table is re-read: a revocation holds on every replica within this.
    #[arg(long = "key-refresh", env = "FDI_KEY_REFRESH", default_value = "1s", value_parser = parse_duration)]
    pub key_refresh: Duration,
}

/// Calls per second per key unless configured.
pub const DEFAULT_CALLER_RATE: u32 = 200;
/// Burst per key unless configured.
pub const DEFAULT_CALLER_BURST: u32 = 400;
/// Calls in flight per key unless configured.
pub const DEFAULT_CALLER_MAX_CALLS: u32 = 64;

impl Default for AccessConfig {
    fn default() -> Self {
        Self {
            allow_anonymous: false,
            service_key: None,
            caller_rate: DEFAULT_CALLER_RATE,
            caller_burst: DEFAULT_CALLER_BURST,
            caller_max_calls: DEFAULT_CALLER_MAX_CALLS,
            reflection: true,
            key_refresh: Duration::from_secs(1),
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
    /// Also serve `grpc.health.v1.Health`, and nothing else, in plaintext on this address: for probes that
    /// cannot speak TLS, such as Kubernetes' native gRPC probes, when the service serves TLS.
    #[arg(long = "health-addr", env = "FDI_HEALTH_ADDR", value_parser = parse_listen_addr)]
    pub health_listen: Option<SocketAddr>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(30),
            shutdown_grace: Duration::from_secs(20),
            health_interval: Duration::from_secs(2),
            health_listen: None,
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
    // `try_from` refuses what `from_secs_f64` would panic on (negative, NaN, beyond u64 seconds).
    Duration::try_from_secs_f64(seconds).map_err(|_| format!("`{text}` is not a valid duration"))
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
    fn urls_lose_their_passwords_and_keep_the_rest() {
        assert_eq!(
            redact_url("postgres://fdi:s3cret@db.example:5432/fdi?sslmode=require"),
            "postgres://fdi:***@db.example:5432/fdi?sslmode=require"
        );
        assert_eq!(
            redact_url("postgres://fdi@localhost/fdi"),
            "postgres://fdi@localhost/fdi"
        );
        assert_eq!(
            redact_url("postgres://localhost:5432/fdi"),
            "postgres://localhost:5432/fdi"
        );
        assert_eq!(redact_url("postgresql://u:@h/d"), "postgresql://u:***@h/d");
        // A password with `@`, `:` or `/` in it (the authority ends at the first `/`, the user info at its last `@`).
        assert_eq!(redact_url("postgres://u:p@ss:w@h:1/d"), "postgres://u:***@h:1/d");
        assert_eq!(redact_url("postgres://u:a%2Fb@h/d"), "postgres://u:***@h/d");
        // An `@` after the authority is not user info.
        assert_eq!(
            redact_url("postgres://h/d?application_name=a@b"),
            "postgres://h/d?application_name=a@b"
        );
        // Passwords as parameters, in URLs and in key=value strings.
        assert_eq!(
            redact_url("postgres://u@h/d?sslmode=require&password=s3cret&x=1"),
            "postgres://u@h/d?sslmode=require&password=***&x=1"
        );
        assert_eq!(
            redact_url("postgres://h/d?PASSWORD=s3cret"),
            "postgres://h/d?PASSWORD=***"
        );
        assert_eq!(
            redact_url("host=h user=u password=s3cret dbname=d"),
            "host=h user=u password=*** dbname=d"
        );
        assert_eq!(
            redact_url("host=h password='s3 cret' dbname=d"),
            "host=h password=*** dbname=d"
        );
        assert_eq!(redact_url("password=s3cret"), "password=***");
        assert_eq!(
            redact_url("postgres://h/d?oldpassword=x"),
            "postgres://h/d?oldpassword=x"
        );
        assert_eq!(redact_url(""), "");
        assert_eq!(redact_url("Жпароль=ж password=ж"), "Жпароль=ж password=***");
    }

    #[test]
    fn database_config_debug_hides_the_password() {
        let config = DatabaseConfig::new("postgres://fdi:s3cret@db:5432/fdi")
            .with_migration_url("postgres://fdi_owner:0wner-s3cret@db:5432/fdi");
        let shown = format!("{config:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("postgres://fdi:***@db:5432/fdi"), "{shown}");
        assert!(shown.contains("postgres://fdi_owner:***@db:5432/fdi"), "{shown}");
    }

    #[derive(clap::Parser, Debug)]
    struct WithDatabase {
        #[command(flatten)]
        database: DatabaseConfig,
    }

    /// Run by [`help_does_not_show_the_database_url`] in a child process
    /// with `DATABASE_URL` set (tests may not set variables: `set_var` is unsafe).
    #[test]
    #[ignore = "run by help_does_not_show_the_database_url in a child process"]
    fn print_database_help() {
        use clap::CommandFactory;
        println!("HELP-START{}HELP-END", WithDatabase::command().render_long_help());
    }

    #[test]
    fn help_does_not_show_the_database_url() {
        let output = std::process::Command::new(std::env::current_exe().expect("the test binary"))
            .args([
                "--exact",
                "config::tests::print_database_help",
                "--ignored",
                "--nocapture",
            ])
            .env("DATABASE_URL", "postgres://fdi:s3cret-in-env@db:5432/fdi")
            .env(
                "FDI_MIGRATION_DATABASE_URL",
                "postgres://fdi_owner:s3cret-in-env@db:5432/fdi",
            )
            .output()
            .expect("run the test binary");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let help = stdout
            .split_once("HELP-START")
            .and_then(|(_, rest)| rest.split_once("HELP-END"))
            .map(|(help, _)| help)
            .unwrap_or_else(|| panic!("no help printed: {stdout}"));
        assert!(help.contains("DATABASE_URL"), "{help}");
        assert!(help.contains("--database-url"), "{help}");
        assert!(help.contains("FDI_MIGRATION_DATABASE_URL"), "{help}");
        assert!(!help.contains("s3cret"), "{help}");
    }

    #[test]
    fn durations_in_common_units() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("7"), Ok(Duration::from_secs(7)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("5 parsecs").is_err());
        // Beyond what a Duration holds: an error, not a panic.
        assert!(parse_duration("99999999999999999999999999s").is_err());
        assert!(parse_duration(&format!("{}h", "9".repeat(400))).is_err());
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
