//! `fdi import FILE`: streams a register (CSV or JSON Lines, the format of
//! the events specification) to the ingest service with a progress bar,
//! resumes where it stopped when run again, and ends with a summary.

use std::{
    fs::File,
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
    time::UNIX_EPOCH,
};

use anyhow::Context;
use clap::Args;
use fdi_client::{
    interchange::{Format, ReadError, RowError, RowReader},
    loader::{LoadOptions, LoadSummary, OpenRows, load},
};
use fdi_proto::ingest::{EventInput, Outcome};

/// Options of `fdi import`.
#[derive(Args, Debug)]
pub struct ImportArgs {
    /// The register: `.csv` (header row) or `.jsonl`.
    file: PathBuf,
    /// The ingest service.
    #[arg(long, env = "FDI_INGEST_URL", default_value = "http://localhost:50052")]
    endpoint: String,
    /// Load id; by default derived from the file (path, size, modification time), so running the
    /// same command again resumes the same load.
    #[arg(long)]
    load_id: Option<String>,
    /// Format, when the extension does not say.
    #[arg(long)]
    format: Option<Format>,
    /// Rows per batch.
    #[arg(long, default_value_t = 2000)]
    batch_rows: usize,
    /// How many rejections to show.
    #[arg(long, default_value_t = 10)]
    show: usize,
}

/// A stable id for this version of this file.
fn default_load_id(path: &Path) -> anyhow::Result<String> {
    let canonical = path.canonicalize()?;
    let metadata = std::fs::metadata(&canonical)?;
    let modified = metadata
        .modified()?
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let fingerprint = fdi_kit::paging::fingerprint(&[
        &canonical.to_string_lossy(),
        &metadata.len().to_string(),
        &modified.to_string(),
    ]);
    let stem = canonical.file_stem().and_then(|s| s.to_str()).unwrap_or("register");
    let stem: String = stem
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .take(60)
        .collect();
    Ok(format!("file-{stem}-{fingerprint:016x}"))
}

/// Counts data rows roughly (lines), for the progress bar's length.
fn estimate_rows(path: &Path, format: Format) -> u64 {
    let Ok(file) = File::open(path) else { return 0 };
    let lines = BufReader::new(file)
        .lines()
        .map_while(Result::ok)
        .filter(|l| !l.trim().is_empty())
        .count() as u64;
    match format {
        Format::Csv => lines.saturating_sub(1),
        Format::JsonLines => lines,
    }
}

/// Problems the reader found locally, by offset.
#[derive(Default)]
struct LocalProblems {
    malformed: Vec<RowError>,
    io_error: Option<String>,
}

/// Runs the import.
///
/// # Errors
/// When the file cannot be read or the service refuses the load.
pub async fn run(args: ImportArgs) -> anyhow::Result<()> {
    let format = args
        .format
        .or_else(|| Format::from_path(&args.file))
        .context("say --format csv or --format jsonl, or use a .csv/.jsonl file name")?;
    // Fail early, with the reader's words, on a missing file or header.
    RowReader::new(
        BufReader::new(File::open(&args.file).with_context(|| args.file.display().to_string())?),
        format,
    )
    .map_err(|e| anyhow::anyhow!("{}: {e}", args.file.display()))?;
    let load_id = match args.load_id.clone() {
        Some(id) => id,
        None => default_load_id(&args.file)?,
    };
    let total = estimate_rows(&args.file, format);

    let problems = Arc::new(Mutex::new(LocalProblems::default()));
    let open = open_rows(args.file.clone(), format, Arc::clone(&problems));
    let bar = crate::progress::rows(Some(total))?;
    let mut options = LoadOptions::new(args.endpoint.clone(), load_id.clone());
    options.batch_rows = args.batch_rows;
    options.keep_issues = args.show.max(1) * 2;
    options.credential = fdi_kit::access::Bearer::from_env()?;
    let mut counts = (0i64, 0i64, 0i64, 0i64);
    let summary = load(&options, open, &mut |ack| {
        counts.0 += i64::from(ack.accepted);
        counts.1 += i64::from(ack.duplicates);
        counts.2 += i64::from(ack.held);
        counts.3 += i64::from(ack.rejected);
        bar.set_position(u64::try_from(ack.offset_reached).unwrap_or_default());
        bar.set_message(format!(
            "accepted {} · duplicates {} · held {} · rejected {}",
            counts.0, counts.1, counts.2, counts.3
        ));
    })
    .await;
    bar.finish_and_clear();
    let summary = summary?;
    let totals = fdi_client::loader::server_progress(&options).await.ok().flatten();
    let problems = problems.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    print_summary(&args, &load_id, &summary, &problems);
    if let Some(load) = totals {
        println!(
            "Load totals over every run: {} rows, {} accepted, {} duplicates, {} held, {} rejected",
            load.offset_reached, load.accepted, load.duplicates, load.held, load.rejected
        );
    }
    if let Some(error) = &problems.io_error {
        anyhow::bail!("reading stopped: {error}; run the same command again to resume");
    }
    Ok(())
}

/// Opens the register at a row offset, for the loader (which resumes by
/// reopening); malformed rows and read errors are noted in `problems`.
fn open_rows(path: PathBuf, format: Format, problems: Arc<Mutex<LocalProblems>>) -> OpenRows {
    Box::new(move |offset: u64| {
        let file = File::open(&path)?;
        let mut reader = RowReader::new(BufReader::new(file), format).map_err(|e| anyhow::anyhow!("{e}"))?;
        reader.skip_to(offset).map_err(|e| anyhow::anyhow!("{e}"))?;
        let problems = Arc::clone(&problems);
        let note = move |note: &dyn Fn(&mut LocalProblems)| {
            note(&mut problems.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
        };
        let rows = reader.map_while(move |item| match item {
            Ok((_, row)) => Some(row),
            // A malformed row keeps its offset: sent empty, the service rejects it, the summary shows why.
            Err(ReadError::Row(error)) => {
                note(&|problems| problems.malformed.push(error.clone()));
                Some(EventInput::default())
            }
            Err(error @ ReadError::Io { .. }) => {
                note(&|problems| problems.io_error = Some(error.to_string()));
                None
            }
        });
        Ok(Box::new(rows) as Box<dyn Iterator<Item = EventInput> + Send>)
    })
}

fn print_summary(args: &ImportArgs, load_id: &str, summary: &LoadSummary, problems: &LocalProblems) {
    println!("Imported {} (load {load_id})", args.file.display());
    println!("  rows done   {}", summary.offset_reached);
    println!("  accepted    {}", summary.accepted);
    println!("  duplicates  {}", summary.duplicates);
    println!(
        "  held        {}  (see ListHeldRows; ReprocessHeldRows once the reference data exists)",
        summary.held
    );
    println!("  rejected    {}", summary.rejected);
    if summary.resumptions > 0 {
        println!("  resumed     {} times after interruptions", summary.resumptions);
    }
    let shown: Vec<_> = summary
        .issues
        .iter()
        .filter(|i| matches!(i.outcome(), Outcome::Rejected | Outcome::Conflict | Outcome::Held))
        .take(args.show)
        .collect();
    if !shown.is_empty() {
        println!("First problems:");
        for issue in shown {
            let local = problems
                .malformed
                .iter()
                .find(|m| i64::try_from(m.offset).ok() == Some(issue.offset));
            let reason = local.map_or_else(|| issue.reason.clone(), |m| format!("line {}: {}", m.line, m.message));
            println!(
                "  row {:>6}  {:<9} {reason}",
                issue.offset,
                outcome_word(issue.outcome())
            );
        }
    }
}

fn outcome_word(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Held => "held",
        Outcome::Conflict => "conflict",
        _ => "rejected",
    }
}
