//! Every grpcurl example of the README, run as written against a fresh
//! system that holds what `fdi up` gives a newcomer: the three services on
//! a new database, API keys required and `FDI_API_KEY` the admin key, with the reference data, and the synthetic demo register
//! (20,000 events, seed 1, load id `demo-register-seed1-20000`) loaded. Only
//! the `localhost:5005x` addresses are changed, to this test's ephemeral
//! ports. Each example runs in `bash` (so quoting, `\` continuations,
//! variables such as `$A` and pipes work as in a terminal) with the tests'
//! grpcurl (`fdi_testkit::grpcurl()`, 1.8.6 from `cli/test.sh`), in the
//! README's order, and must exit 0, except:
//! - an example followed by a comment line `#   Code: <Code> ...` shows an
//!   error: it must fail with that code;
//! - an example whose comment says it streams "until Ctrl-C" must still be
//!   running, with nothing on stderr, after a few seconds;
//! - an example followed by a comment showing output (`#   "match":
//!   {"resource": "provinces/bac-giang", ...}`) must print those string fields.
//!
//! The `article.txt` an example reads is a short article written here.

mod common;

use std::{
    fmt::Write as _,
    fs,
    os::unix::process::CommandExt,
    path::Path,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use fdi_client::{
    demo::{DemoConfig, generate},
    loader::{LoadOptions, load},
};

const README: &str = include_str!("../../README.md");

/// The events `fdi up` loads by default (`FDI_DEMO_EVENTS`), under its load id.
const DEMO_EVENTS: u64 = 20_000;

/// What an example must do.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Expect {
    /// Exit 0.
    Success,
    /// Fail with this gRPC code, as grpcurl prints it (`NotFound`).
    Code(String),
    /// Keep streaming until stopped.
    Streams,
}

/// One command of a README code block that calls grpcurl.
#[derive(Debug, Clone)]
struct Example {
    /// 1-based line in README.md where it starts.
    line: usize,
    /// The `## ` section it is in.
    section: String,
    /// Variable assignments made earlier in the same code block (`A=localhost:50053`).
    prelude: Vec<String>,
    /// The command as written (continuation lines included).
    command: String,
    expect: Expect,
    /// `"field": "value"` pairs of the output the README shows under it (`#   "match": {"resource": ...}`).
    shows: Vec<String>,
}

/// The `"field": "value"` pairs (string values only) of a README comment showing output.
fn string_fields(text: &str) -> Vec<String> {
    let quoted: Vec<&str> = text.split('"').collect();
    // Odd pieces are inside quotes: a field is followed by `: ` and a quoted value.
    (1..quoted.len().saturating_sub(2))
        .step_by(2)
        .filter(|&i| quoted[i + 1].trim() == ":")
        .map(|i| format!("\"{}\": \"{}\"", quoted[i], quoted[i + 2]))
        .collect()
}

/// Whether a statement is complete at the end of `text`: no quote left open, no trailing `\`.
fn complete(text: &str) -> bool {
    let (mut single, mut double, mut escaped) = (false, false, false);
    let mut chars = text.chars().peekable();
    let mut previous = ' ';
    while let Some(c) = chars.next() {
        if escaped {
            escaped = false;
        } else if single {
            single = c != '\'';
        } else if c == '\\' {
            escaped = true;
        } else if double {
            double = c != '"';
        } else if c == '\'' {
            single = true;
        } else if c == '"' {
            double = true;
        } else if c == '#' && previous.is_whitespace() {
            // A comment runs to the end of its line.
            for rest in chars.by_ref() {
                if rest == '\n' {
                    break;
                }
            }
            previous = '\n';
            continue;
        }
        previous = c;
    }
    !single && !double && !text.trim_end_matches('\n').ends_with('\\')
}

fn is_assignment(statement: &str) -> bool {
    statement.split_once('=').is_some_and(|(name, value)| {
        !name.is_empty()
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !value.is_empty()
            && !value.contains(char::is_whitespace)
    })
}

fn calls_grpcurl(statement: &str) -> bool {
    statement
        .split(|c: char| c.is_whitespace() || c == '|')
        .any(|word| word == "grpcurl")
}

/// Every grpcurl command in the README's `sh` code blocks, in order.
fn examples(readme: &str) -> Vec<Example> {
    let mut found: Vec<Example> = Vec::new();
    let mut section = String::new();
    let mut in_block = false;
    let mut prelude: Vec<String> = Vec::new();
    let mut pending: Option<(usize, String)> = None;
    for (index, line) in readme.lines().enumerate() {
        let number = index + 1;
        let trimmed = line.trim();
        if let Some((_, text)) = pending.as_mut() {
            text.push('\n');
            text.push_str(line);
        } else if !in_block {
            if let Some(title) = line.strip_prefix("## ") {
                title.trim().clone_into(&mut section);
            } else if trimmed == "```sh" {
                in_block = true;
                prelude.clear();
            }
            continue;
        } else if trimmed.starts_with("```") {
            in_block = false;
            continue;
        } else if let Some(comment) = trimmed.strip_prefix('#') {
            // `#   Code: NotFound  Message: ...` right after an example: it shows that error.
            // `#   "match": {"resource": "provinces/bac-giang", ...}`: it prints those fields.
            if let Some(last) = found.last_mut()
                && last.line + last.command.lines().count() == number
            {
                if let Some(code) = comment.trim().strip_prefix("Code:") {
                    last.expect = Expect::Code(code.split_whitespace().next().unwrap_or_default().to_owned());
                } else if comment.trim().starts_with('"') {
                    last.shows = string_fields(comment);
                }
            }
            continue;
        } else if trimmed.is_empty() {
            continue;
        } else {
            pending = Some((number, line.to_owned()));
        }
        let Some((start, text)) = pending.take_if(|(_, text)| complete(text)) else {
            continue;
        };
        if is_assignment(text.trim()) {
            prelude.push(text.trim().to_owned());
        } else if calls_grpcurl(&text) {
            found.push(Example {
                line: start,
                section: section.clone(),
                prelude: prelude.clone(),
                expect: if text.contains("until Ctrl-C") {
                    Expect::Streams
                } else {
                    Expect::Success
                },
                command: text,
                shows: Vec::new(),
            });
        }
    }
    found
}

/// The README's addresses, pointed at this test's services.
fn retarget(text: &str, ports: [u16; 3]) -> String {
    let mut text = text.to_owned();
    for (readme, port) in [50051, 50052, 50053].into_iter().zip(ports) {
        text = text.replace(&format!("localhost:{readme}"), &format!("127.0.0.1:{port}"));
    }
    text
}

/// What running an example gave.
struct Run {
    /// The exit status, or `None` when it was still running when stopped.
    status: Option<std::process::ExitStatus>,
    stdout: String,
    stderr: String,
}

/// Runs `script` in bash in `dir`, with `grpcurl` meaning the tests' grpcurl; stops it (its whole
/// process group) after `limit`.
fn run_script(script: &str, dir: &Path, limit: Duration, api_key: &str) -> Run {
    let grpcurl = fdi_testkit::grpcurl();
    let grpcurl = grpcurl.to_str().expect("grpcurl path is UTF-8").replace('\'', r"'\''");
    let full = format!("set -o pipefail\ngrpcurl() {{ '{grpcurl}' \"$@\"; }}\n{script}\n");
    let (out, err) = (dir.join("stdout"), dir.join("stderr"));
    let mut child = Command::new("bash")
        .arg("-c")
        .arg(&full)
        .current_dir(dir)
        .env(fdi_kit::access::API_KEY_VARIABLE, api_key)
        .stdin(Stdio::null())
        .stdout(fs::File::create(&out).unwrap())
        .stderr(fs::File::create(&err).unwrap())
        .process_group(0)
        .spawn()
        .expect("run bash");
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for bash") {
            break Some(status);
        }
        if Instant::now() > deadline {
            // The example's own process group: bash and the grpcurl it started.
            let group = format!("-{}", child.id());
            let _ = Command::new("kill").args(["-s", "KILL", "--", &group]).status();
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Run {
        status,
        stdout: fs::read_to_string(&out).unwrap_or_default(),
        stderr: fs::read_to_string(&err).unwrap_or_default(),
    }
}

/// Why `run` does not do what `example` promises, if it does not.
fn check(example: &Example, run: &Run) -> Option<String> {
    match (&example.expect, run.status) {
        (Expect::Success, Some(status)) if status.success() => {
            let missing: Vec<&String> = example
                .shows
                .iter()
                .filter(|f| !run.stdout.contains(f.as_str()))
                .collect();
            (!missing.is_empty()).then(|| format!("the output lacks what the README shows: {missing:?}"))
        }
        (Expect::Success, Some(status)) => Some(format!("exited with {status}")),
        (Expect::Success, None) => Some("still running after the time limit".to_owned()),
        (Expect::Code(code), Some(status)) => {
            let shown = run.stderr.contains(&format!("Code: {code}"));
            (status.success() || !shown).then(|| format!("should fail with Code: {code}, but exited with {status}"))
        }
        (Expect::Code(code), None) => Some(format!("should fail with Code: {code}, but was still running")),
        (Expect::Streams, None) if run.stderr.trim().is_empty() => None,
        (Expect::Streams, None) => Some("streams, but printed an error".to_owned()),
        (Expect::Streams, Some(status)) => Some(format!("should stream until stopped, but exited with {status}")),
    }
}

/// The demo register `fdi up` loads on first start (`fdi up`'s `load_demo_register`: same seed, size and load id).
async fn load_demo_register(ingest: &str, api_key: &str) {
    let mut options = LoadOptions::new(ingest, format!("demo-register-seed1-{DEMO_EVENTS}"));
    options.credential = fdi_kit::access::Bearer::new(Some(api_key)).unwrap();
    let open = Box::new(move |offset: u64| {
        let rows = generate(DemoConfig {
            events: DEMO_EVENTS,
            seed: 1,
            ..DemoConfig::default()
        });
        Ok(Box::new(rows.skip(usize::try_from(offset).unwrap_or(usize::MAX))) as Box<dyn Iterator<Item = _> + Send>)
    });
    let summary = load(&options, open, &mut |_| {}).await.expect("load the demo register");
    assert_eq!(summary.offset_reached, DEMO_EVENTS, "{summary:?}");
}

/// The article the README's `IngestDocument` example reads from `article.txt`.
const ARTICLE: &str = "Bac Ninh industrial parks draw 1.2 billion USD in six months
In the first six months of 2025, Bac Ninh's industrial parks attracted 45 new projects with a total newly registered capital of 1.2 billion USD, the provincial industrial park management board said on July 8.
In addition, 60 projects added capital of more than 310 million USD.
Korea's Example Components Co., Ltd will invest 150 million USD in a new factory at Yen Phong II-C Industrial Park, which is scheduled to start production next year.
";

#[test]
fn every_grpcurl_example_of_the_readme_is_found() {
    let found = examples(README);
    // Every line of a code block that starts a grpcurl command, or pipes into one, is an example.
    let mut in_block = false;
    let starts = README
        .lines()
        .filter(|line| {
            if line.trim().starts_with("```") {
                in_block = !in_block;
            }
            in_block && (line.starts_with("grpcurl ") || line.contains("| grpcurl "))
        })
        .count();
    assert_eq!(found.len(), starts, "{found:#?}");
    assert!(found.len() >= 30, "{found:#?}");
    let error = found
        .iter()
        .find(|e| e.command.contains("provinces/bac-nihn"))
        .expect("the NOT_FOUND example");
    assert_eq!(error.expect, Expect::Code("NotFound".into()));
    let update = found
        .iter()
        .find(|e| e.command.contains("UpdateZone"))
        .expect("the UpdateZone example");
    assert!(update.command.ends_with("CatalogueService/UpdateZone"), "{update:?}");
    let resolve = found
        .iter()
        .find(|e| e.command.contains(r#""Bắc Giang"}'"#))
        .expect("the Resolve example");
    assert_eq!(
        resolve.shows,
        [
            r#""resource": "provinces/bac-giang""#,
            r#""currentProvince": "provinces/bac-ninh""#
        ]
    );
    let watch = found.iter().find(|e| e.command.contains("/Watch")).expect("Watch");
    assert_eq!(watch.expect, Expect::Streams);
    assert_eq!(watch.prelude, ["A=localhost:50053"]);
    assert!(
        found
            .iter()
            .filter(|e| e.command.contains("bac-nihn") || e.command.contains("/Watch"))
            .count()
            == 2
            && found.iter().filter(|e| e.expect == Expect::Success).count() == found.len() - 2,
        "{found:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_grpcurl_example_of_the_readme_works_on_a_fresh_system() {
    let found = examples(README);
    assert!(!found.is_empty(), "no grpcurl example found in README.md");
    let began = Instant::now();
    // As `fdi up` runs them: keys required, the examples sending the admin key it prints.
    let (services, admin) = common::start_secured(|_| {}).await;
    eprintln!("services serving after {:?}", began.elapsed());
    load_demo_register(&services.ingest.endpoint(), &admin).await;
    eprintln!("demo register loaded after {:?}", began.elapsed());
    let ports = [
        services.catalogue.addr.port(),
        services.ingest.addr.port(),
        services.analytics.addr.port(),
    ];

    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("article.txt"), ARTICLE).unwrap();
    let mut failures = String::new();
    for example in &found {
        let script = retarget(&format!("{}\n{}", example.prelude.join("\n"), example.command), ports);
        let limit = if example.expect == Expect::Streams {
            Duration::from_secs(3)
        } else {
            Duration::from_secs(20)
        };
        eprintln!("README.md line {} at {:?}", example.line, began.elapsed());
        let (path, admin) = (dir.path().to_owned(), admin.clone());
        let run = tokio::task::spawn_blocking(move || run_script(&script, &path, limit, &admin))
            .await
            .unwrap();
        if let Some(problem) = check(example, &run) {
            let _ = write!(
                failures,
                "\n--- README.md line {} ({}): {problem}\n{}\n--- grpcurl's stdout:\n{}\n--- grpcurl's stderr:\n{}\n",
                example.line,
                example.section,
                example.command,
                run.stdout.trim_end(),
                run.stderr.trim_end()
            );
        }
    }
    assert!(
        failures.is_empty(),
        "README examples that do not work as written on a fresh system (grpcurl {}):{failures}",
        fdi_testkit::grpcurl().display()
    );
    drop(services);
}
