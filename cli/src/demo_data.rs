//! `fdi demo-data`: writes a synthetic register (clearly marked: source
//! `synthetic:fdi-demo-data`, project refs `SYN-...`) for demos and
//! benchmarks; and the demo register `fdi up` loads on first start.

use fdi_kit::access::Bearer;
use std::{fs::File, io::BufWriter, path::PathBuf};

use anyhow::Context;
use clap::Args;
use fdi_client::{
    demo::{DemoConfig, generate},
    interchange::{Format, RowWriter},
    loader::{LoadOptions, LoadSummary, load},
};
use fdi_proto::ingest::{GetBulkLoadRequest, ingest_service_client::IngestServiceClient};

/// Options of `fdi demo-data`.
#[derive(Args, Debug)]
pub struct DemoDataArgs {
    /// Number of events.
    #[arg(long, default_value_t = 10_000)]
    events: u64,
    /// Seed: the same seed gives the same register.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Output file (`.csv` or `.jsonl`).
    #[arg(long, short)]
    out: PathBuf,
    /// Format, when the extension does not say.
    #[arg(long)]
    format: Option<Format>,
}

/// Writes the register.
///
/// # Errors
/// When the file cannot be written.
pub fn run(args: &DemoDataArgs) -> anyhow::Result<()> {
    let format = args
        .format
        .or_else(|| Format::from_path(&args.out))
        .context("say --format csv or --format jsonl, or use a .csv/.jsonl file name")?;
    let file = File::create(&args.out).with_context(|| format!("creating {}", args.out.display()))?;
    let mut writer = RowWriter::new(BufWriter::new(file), format)?;
    for row in generate(DemoConfig {
        events: args.events,
        seed: args.seed,
        ..DemoConfig::default()
    }) {
        writer.write_row(&row)?;
    }
    let written = writer.rows_written();
    writer.finish()?;
    println!("Wrote {written} synthetic events to {} ({format}).", args.out.display());
    Ok(())
}

/// Loads the demo register of `events` rows unless it is loaded already
/// (`Ok(None)`); the load id makes a restart resume rather than repeat.
///
/// # Errors
/// When the ingest service cannot be reached or refuses the load.
pub async fn load_demo_register(
    endpoint: &str,
    events: u64,
    credential: Bearer,
    tls: &fdi_kit::config::TlsConfig,
) -> anyhow::Result<Option<LoadSummary>> {
    let load_id = format!("demo-register-seed1-{events}");
    let channel = fdi_kit::tls::endpoint(endpoint, tls)?.connect().await?;
    let mut client = IngestServiceClient::with_interceptor(channel, credential.clone());
    if let Ok(existing) = client
        .get_bulk_load(GetBulkLoadRequest {
            name: format!("bulkLoads/{load_id}"),
        })
        .await
        && u64::try_from(existing.into_inner().offset_reached).unwrap_or_default() >= events
    {
        return Ok(None);
    }
    let mut options = LoadOptions::new(endpoint, load_id);
    options.credential = credential;
    options.tls = tls.clone();
    let open = Box::new(move |offset: u64| {
        let rows = generate(DemoConfig {
            events,
            seed: 1,
            ..DemoConfig::default()
        });
        Ok(Box::new(rows.skip(usize::try_from(offset).unwrap_or(usize::MAX))) as Box<dyn Iterator<Item = _> + Send>)
    });
    Ok(Some(load(&options, open, &mut |_| {}).await?))
}
