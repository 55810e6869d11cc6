//! TLS for every listener and every call between services, with rustls (no
//! OpenSSL): a server serves with its certificate, and with a client CA
//! configured it requires callers to present a certificate that CA signed
//! (mutual TLS); a service calling another over `https://` verifies it
//! against the configured CA (or the public web roots) and presents its own
//! certificate. Plaintext is served only where explicitly allowed.

use std::path::Path;

use tonic::transport::{Certificate, ClientTlsConfig, Endpoint, Identity, ServerTlsConfig};

use crate::config::TlsConfig;

/// Why TLS cannot be set up as configured.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// Neither a certificate nor plaintext was configured.
    #[error(
        "no TLS certificate is configured: set FDI_TLS_CERT and FDI_TLS_KEY (PEM files), \
         or FDI_ALLOW_PLAINTEXT=true for local development"
    )]
    NoCertificate,
    /// A certificate without its key, or the reverse.
    #[error("FDI_TLS_CERT and FDI_TLS_KEY go together: set both or neither")]
    Incomplete,
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// tonic refused the configuration.
    #[error("TLS configuration: {0}")]
    Transport(#[from] tonic::transport::Error),
    /// An endpoint URL that is not one.
    #[error("`{0}` is not a valid URL")]
    Url(String),
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        path: path.display().to_string(),
        source,
    })
}

/// This service's certificate and key, when configured.
fn identity(tls: &TlsConfig) -> Result<Option<Identity>, TlsError> {
    match (&tls.cert, &tls.key) {
        (Some(cert), Some(key)) => Ok(Some(Identity::from_pem(read(cert)?, read(key)?))),
        (None, None) => Ok(None),
        _ => Err(TlsError::Incomplete),
    }
}

/// How a server serves: TLS (mutual with a client CA), `None` for plaintext where it is allowed.
///
/// # Errors
/// [`TlsError::NoCertificate`] without a certificate unless plaintext is allowed; unreadable files.
pub fn server_config(tls: &TlsConfig) -> Result<Option<ServerTlsConfig>, TlsError> {
    let Some(identity) = identity(tls)? else {
        return if tls.allow_plaintext {
            Ok(None)
        } else {
            Err(TlsError::NoCertificate)
        };
    };
    let mut config = ServerTlsConfig::new().identity(identity);
    if let Some(client_ca) = &tls.client_ca {
        config = config.client_ca_root(Certificate::from_pem(read(client_ca)?));
    }
    Ok(Some(config))
}

/// How this service calls another over TLS: the peer verified against the CA (or the web roots), this
/// service's certificate presented (for servers that require one).
///
/// # Errors
/// Unreadable files.
pub fn client_config(tls: &TlsConfig) -> Result<ClientTlsConfig, TlsError> {
    let mut config = match &tls.ca {
        Some(ca) => ClientTlsConfig::new().ca_certificate(Certificate::from_pem(read(ca)?)),
        None => ClientTlsConfig::new().with_webpki_roots(),
    };
    if let Some(identity) = identity(tls)? {
        config = config.identity(identity);
    }
    Ok(config)
}

/// An endpoint for `url`, with TLS when it is `https://`.
///
/// # Errors
/// An invalid URL or TLS configuration.
pub fn endpoint(url: &str, tls: &TlsConfig) -> Result<Endpoint, TlsError> {
    let endpoint = Endpoint::from_shared(url.to_owned()).map_err(|_| TlsError::Url(url.to_owned()))?;
    if url.starts_with("https://") {
        Ok(endpoint.tls_config(client_config(tls)?)?)
    } else {
        Ok(endpoint)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plaintext_only_where_allowed() {
        let mut tls = TlsConfig::default();
        assert!(matches!(server_config(&tls), Err(TlsError::NoCertificate)));
        tls.allow_plaintext = true;
        assert!(matches!(server_config(&tls), Ok(None)));
        tls.cert = Some("/nonexistent/cert.pem".into());
        assert!(matches!(server_config(&tls), Err(TlsError::Incomplete)));
        tls.key = Some("/nonexistent/key.pem".into());
        assert!(matches!(server_config(&tls), Err(TlsError::Read { .. })));
    }
}
