//! `extract --json --published YYYY-MM-DD [--lang L] FILE`: print the
//! extraction of one article as JSON (the format the scorer reads).

use fdi_extract::{Input, Language, extract};
use std::process::ExitCode;

fn usage() -> ExitCode {
    eprintln!("usage: extract [--json] --published YYYY-MM-DD [--lang en|vi|no|de] FILE");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let mut published = None;
    let mut language = None;
    let mut file = None;
    let mut pretty = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--json" => {}
            "--pretty" => pretty = true,
            "--published" => match args
                .next()
                .and_then(|d| chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok())
            {
                Some(d) => published = Some(d),
                None => return usage(),
            },
            "--lang" => match args.next() {
                Some(l) if l.is_empty() => {}
                Some(l) => match l.parse::<Language>() {
                    Ok(l) => language = Some(l),
                    Err(e) => {
                        eprintln!("{e}");
                        return ExitCode::from(2);
                    }
                },
                None => return usage(),
            },
            "-h" | "--help" => return usage(),
            other if file.is_none() => file = Some(other.to_string()),
            _ => return usage(),
        }
    }
    let (Some(published), Some(file)) = (published, file) else {
        return usage();
    };
    let text = match std::fs::read_to_string(&file) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("cannot read {file}: {e}");
            return ExitCode::from(1);
        }
    };
    let extraction = extract(&Input {
        text: &text,
        published,
        language,
    });
    let json = if pretty {
        serde_json::to_string_pretty(&extraction)
    } else {
        serde_json::to_string(&extraction)
    };
    match json {
        Ok(j) => {
            println!("{j}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("cannot serialize: {e}");
            ExitCode::from(1)
        }
    }
}
