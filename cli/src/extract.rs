//! `fdi extract`: the figures of one news article as JSON (the contract of
//! the extraction spec), with the same library the ingest service uses, so
//! any article can be checked and scored from the command line.

use std::path::PathBuf;

use anyhow::Context;
use chrono::NaiveDate;
use clap::Args;
use fdi_extract::{Input, Language, MAX_DOCUMENT_BYTES, extract};

/// Options of `fdi extract`.
#[derive(Args, Debug)]
pub struct ExtractArgs {
    /// The article (UTF-8 text).
    file: PathBuf,
    /// Publication date (YYYY-MM-DD): resolves "this year", "the first eight months".
    #[arg(long)]
    published: NaiveDate,
    /// Language: en, vi, no or de; detected when absent.
    #[arg(long)]
    lang: Option<String>,
    /// Print JSON (the only output format; accepted for compatibility with the scorer's command).
    #[arg(long)]
    json: bool,
    /// Pretty-print the JSON.
    #[arg(long)]
    pretty: bool,
}

/// Prints the extraction.
///
/// # Errors
/// When the file cannot be read, is not UTF-8, is too large, or the language is unknown.
pub fn run(args: &ExtractArgs) -> anyhow::Result<()> {
    let bytes = std::fs::read(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
    anyhow::ensure!(
        bytes.len() <= MAX_DOCUMENT_BYTES,
        "{} is {} bytes; articles above {MAX_DOCUMENT_BYTES} bytes are refused",
        args.file.display(),
        bytes.len()
    );
    let text = String::from_utf8(bytes).with_context(|| format!("{} is not UTF-8 text", args.file.display()))?;
    let language = match args.lang.as_deref().map(str::trim).filter(|l| !l.is_empty()) {
        Some(code) => Some(
            code.parse::<Language>()
                .map_err(|e| anyhow::anyhow!("--lang {code}: {e}"))?,
        ),
        None => None,
    };
    let extraction = extract(&Input {
        text: &text,
        published: args.published,
        language,
    });
    let json = if args.pretty {
        serde_json::to_string_pretty(&extraction)?
    } else {
        serde_json::to_string(&extraction)?
    };
    println!("{json}");
    Ok(())
}
