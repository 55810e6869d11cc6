//! `fdi certs`: a local development CA and one certificate the services
//! serve with (and present to each other for mutual TLS). For development
//! only: production certificates come from the operator's CA (or
//! cert-manager on Kubernetes). The CA's key is not kept, so nothing more can
//! be signed with it; `--force` makes a new set.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use fdi_kit::config::TlsConfig;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};

/// Options of `fdi certs`.
#[derive(Args, Debug)]
pub struct CertsArgs {
    /// Where to write ca.pem, service.pem and service.key.
    #[arg(long, default_value = ".fdi/tls")]
    out: PathBuf,
    /// More names the certificate is valid for (besides localhost, 127.0.0.1, ::1 and the services' names).
    #[arg(long = "host")]
    hosts: Vec<String>,
    /// Replace an existing set.
    #[arg(long)]
    force: bool,
}

/// Names every development certificate is valid for: this machine, and the services' names on a cluster.
const NAMES: [&str; 6] = [
    "localhost",
    "127.0.0.1",
    "::1",
    "fdi-catalogue",
    "fdi-ingest",
    "fdi-analytics",
];

/// Runs `fdi certs`.
///
/// # Errors
/// When the files cannot be written.
pub fn run(args: &CertsArgs) -> anyhow::Result<()> {
    let tls = ensure(&args.out, &args.hosts, args.force)?;
    let show = |path: &Option<PathBuf>| path.as_deref().map(|p| p.display().to_string()).unwrap_or_default();
    println!(
        "Development TLS files in {}:\n  FDI_TLS_CA={}\n  FDI_TLS_CERT={}\n  FDI_TLS_KEY={}\n\
         Add FDI_TLS_CLIENT_CA={} to require the certificate from callers too (mutual TLS).",
        args.out.display(),
        show(&tls.ca),
        show(&tls.cert),
        show(&tls.key),
        show(&tls.ca),
    );
    Ok(())
}

/// The development TLS settings for files in `dir`, made unless they are there (or `force`).
///
/// # Errors
/// When a certificate cannot be made or written.
pub fn ensure(dir: &Path, hosts: &[String], force: bool) -> anyhow::Result<TlsConfig> {
    let tls = TlsConfig {
        cert: Some(dir.join("service.pem")),
        key: Some(dir.join("service.key")),
        ca: Some(dir.join("ca.pem")),
        client_ca: None,
        allow_plaintext: false,
    };
    let exists = [&tls.cert, &tls.key, &tls.ca]
        .iter()
        .all(|p| p.as_deref().is_some_and(Path::exists));
    if exists && !force {
        return Ok(tls);
    }
    let (ca_pem, cert_pem, key_pem) = make(hosts).context("making development certificates")?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    write(dir, "ca.pem", &ca_pem, 0o644)?;
    write(dir, "service.pem", &cert_pem, 0o644)?;
    write(dir, "service.key", &key_pem, 0o600)?;
    Ok(tls)
}

/// A CA certificate, and a certificate with its key for servers and clients, all PEM.
fn make(hosts: &[String]) -> Result<(String, String, String), rcgen::Error> {
    let mut ca = CertificateParams::new(Vec::<String>::new())?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca.distinguished_name
        .push(DnType::CommonName, "FDI Atlas development CA");
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let issuer = CertifiedIssuer::self_signed(ca, KeyPair::generate()?)?;

    let names: Vec<String> = NAMES
        .iter()
        .map(|n| (*n).to_owned())
        .chain(hosts.iter().cloned())
        .collect();
    let mut service = CertificateParams::new(names)?;
    service
        .distinguished_name
        .push(DnType::CommonName, "fdi-atlas-services");
    service.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
    service.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth, ExtendedKeyUsagePurpose::ClientAuth];
    let key = KeyPair::generate()?;
    let certificate = service.signed_by(&key, &issuer)?;
    Ok((issuer.pem(), certificate.pem(), key.serialize_pem()))
}

fn write(dir: &Path, name: &str, text: &str, mode: u32) -> anyhow::Result<()> {
    use std::{io::Write, os::unix::fs::OpenOptionsExt};
    let path = dir.join(name);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(&path)
        .with_context(|| format!("writing {}", path.display()))?;
    file.write_all(text.as_bytes())?;
    Ok(())
}
