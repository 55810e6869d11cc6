//! `fdi export`: what the system holds, as files a spreadsheet opens.
//!
//! - `fdi export events` pages through IngestService/ListEvents with its
//!   filters and writes each page as it arrives, as a register in the
//!   interchange format (`fdi_client::interchange`): `fdi import` reads it
//!   back, and the rows keep their idempotency keys, so loading them where
//!   they are recorded already adds nothing.
//! - `fdi export summary|ranking|timeseries|breakdown|reconciliation` write
//!   one analytics answer as a table: a row per figure, entry, bucket or
//!   line, amounts as exact decimals beside their currency code.
//!
//! Both go to a file or standard output, as CSV or JSON Lines. Nothing is
//! written until the service has answered once, so a refused request leaves
//! no file behind; a call that fails later says how many rows were written.

use std::{
    fs::File,
    io::{self, Write},
    path::{Path, PathBuf},
};

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use fdi_cli::{
    remote::{ServiceError, connect},
    report::{Currency, ScopeArg, parse_figure},
};
use fdi_client::interchange::{Format, RowWriter, TableWriter, event_row};
use fdi_kit::{
    access::Authorized,
    domain::EventKind,
    money::from_money,
    period::{Span, date_from_proto, parse_shorthand},
};
use fdi_proto::{
    Money,
    analytics::{self as pb, analytics_service_client::AnalyticsServiceClient},
    common::{self, DateRange, Figure, Period, period},
    ingest::{ListEventsRequest, ListEventsResponse, ingest_service_client::IngestServiceClient},
};
use indicatif::ProgressBar;
use rust_decimal::Decimal;

/// Options of `fdi export`.
#[derive(Args, Debug)]
pub struct ExportArgs {
    #[command(subcommand)]
    table: Table,
}

/// What to export.
#[derive(Subcommand, Debug)]
enum Table {
    /// Recorded events (ListEvents, every page) as a register `fdi import` reads back.
    Events(EventsArgs),
    /// Every figure over a period (GetSummary): a row per figure.
    Summary(SummaryArgs),
    /// Provinces, zones, countries, investors, sectors or kinds ordered by a figure (GetRanking, every page).
    Ranking(RankingArgs),
    /// A figure by month, quarter or year (GetTimeSeries): a row per bucket.
    Timeseries(TimeSeriesArgs),
    /// A figure split by home country, sector, zone, investor or kind (GetBreakdown): a row per entry.
    Breakdown(BreakdownArgs),
    /// Figures reported in documents beside those computed from events (Reconcile): a row per figure.
    Reconciliation(ReconciliationArgs),
}

/// Where the rows go, and in which format.
#[derive(Args, Debug)]
struct OutputArgs {
    /// The file to write (`.csv` or `.jsonl`); `-` or none for standard output.
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// csv or jsonl; by default the output file's extension says (csv on standard output).
    #[arg(long)]
    format: Option<Format>,
}

/// Options of `fdi export events`: ListEvents' filters.
#[derive(Args, Debug)]
struct EventsArgs {
    /// Only events of this province, by name or code (today's province includes the units it absorbed).
    #[arg(long)]
    province: Option<String>,
    /// Only events in this zone, by name or id.
    #[arg(long)]
    zone: Option<String>,
    /// Only events of this investor (`investors/{id}`).
    #[arg(long)]
    investor: Option<String>,
    /// Only events of this kind: new, adjustment, share_purchase, disbursement or termination.
    #[arg(long, value_parser = parse_kind)]
    kind: Option<EventKind>,
    /// Only events dated within this period: 2025, 2025-H1, 2025-Q3, 2025-08, 2025-M8 or 2025-01-01..2025-08-31.
    #[arg(long, value_parser = parse_period)]
    period: Option<Span>,
    /// Only foreign (fdi) or domestic (ddi) events.
    #[arg(long, value_enum, default_value_t = ScopeArg::All)]
    scope: ScopeArg,
    /// Only events recorded after this sequence number (e.g. to finish an export that stopped).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(i64).range(0..))]
    after_sequence: i64,
    /// Events per ListEvents page (1-1000).
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(i32).range(1..=1000))]
    page_size: i32,
    /// The ingest service.
    #[arg(long, env = "FDI_INGEST_URL", default_value = "http://localhost:50052")]
    ingest: String,
    #[command(flatten)]
    output: OutputArgs,
}

/// What every figure table asks the analytics service with.
#[derive(Args, Debug)]
struct Ask {
    /// The period: 2025, 2025-H1, 2025-Q3, 2025-08, 2025-M8 or 2025-01-01..2025-08-31.
    #[arg(long, value_parser = parse_period)]
    period: Span,
    /// Foreign (fdi), domestic (ddi) or all investment.
    #[arg(long, value_enum, default_value_t = ScopeArg::All)]
    scope: ScopeArg,
    /// Currency money figures are converted to (the sums as recorded are in `as_recorded`).
    #[arg(long, value_enum, default_value_t = Currency::Usd)]
    currency: Currency,
    /// Count estimated events too (promoted from news); figures count reported events only by default.
    #[arg(long)]
    include_estimates: bool,
    /// The analytics service.
    #[arg(long, env = "FDI_ANALYTICS_URL", default_value = "http://localhost:50053")]
    analytics: String,
    #[command(flatten)]
    output: OutputArgs,
}

/// Options of `fdi export summary`.
#[derive(Args, Debug)]
struct SummaryArgs {
    /// A province (any spelling or code); repeat for several; the whole country when none.
    #[arg(long)]
    province: Vec<String>,
    /// Only events in this zone (name or id); repeat for several.
    #[arg(long)]
    zone: Vec<String>,
    /// Today's provinces, or the provinces as recorded on the events.
    #[arg(long, value_enum, default_value_t = BoundariesArg::Current)]
    boundaries: BoundariesArg,
    #[command(flatten)]
    ask: Ask,
}

/// Options of `fdi export ranking`.
#[derive(Args, Debug)]
struct RankingArgs {
    /// The figure to rank by (e.g. total_capital, new_projects).
    #[arg(long, default_value = "total_capital", value_parser = parse_figure)]
    figure: Figure,
    /// What to rank.
    #[arg(long, value_enum, default_value_t = DimensionArg::Province)]
    by: DimensionArg,
    /// Today's provinces, or the provinces as recorded on the events.
    #[arg(long, value_enum, default_value_t = BoundariesArg::Current)]
    boundaries: BoundariesArg,
    /// Entries per GetRanking page (1-100).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(i32).range(1..=100))]
    page_size: i32,
    #[command(flatten)]
    ask: Ask,
}

/// Options of `fdi export timeseries`.
#[derive(Args, Debug)]
struct TimeSeriesArgs {
    /// The figure (e.g. total_capital, new_projects).
    #[arg(long, default_value = "total_capital", value_parser = parse_figure)]
    figure: Figure,
    /// Bucket width.
    #[arg(long, value_enum, default_value_t = GranularityArg::Month)]
    granularity: GranularityArg,
    /// A province (any spelling or code); repeat for several; the whole country when none.
    #[arg(long)]
    province: Vec<String>,
    /// Today's provinces, or the provinces as recorded on the events.
    #[arg(long, value_enum, default_value_t = BoundariesArg::Current)]
    boundaries: BoundariesArg,
    #[command(flatten)]
    ask: Ask,
}

/// Options of `fdi export breakdown`.
#[derive(Args, Debug)]
struct BreakdownArgs {
    /// The figure (e.g. total_capital, new_projects).
    #[arg(long, default_value = "total_capital", value_parser = parse_figure)]
    figure: Figure,
    /// What to split by.
    #[arg(long, value_enum)]
    by: DimensionArg,
    /// A province (any spelling or code); repeat for several; the whole country when none.
    #[arg(long)]
    province: Vec<String>,
    /// Largest entries listed (1-100); the rest is summed into an "other" entry.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(i32).range(1..=100))]
    limit: i32,
    #[command(flatten)]
    ask: Ask,
}

/// Options of `fdi export reconciliation`.
#[derive(Args, Debug)]
struct ReconciliationArgs {
    /// The province (any spelling or code).
    #[arg(long)]
    province: String,
    #[command(flatten)]
    ask: Ask,
}

/// Which provincial boundaries figures are reported against.
#[derive(ValueEnum, Debug, Clone, Copy)]
enum BoundariesArg {
    /// Today's provinces: units merged in 2025 count for the province that absorbed them.
    Current,
    /// The province as recorded on each event.
    AsRecorded,
}

impl From<BoundariesArg> for i32 {
    fn from(boundaries: BoundariesArg) -> Self {
        match boundaries {
            BoundariesArg::Current => common::Boundaries::Current,
            BoundariesArg::AsRecorded => common::Boundaries::AsRecorded,
        }
        .into()
    }
}

/// What a ranking orders, or a breakdown splits by.
#[derive(ValueEnum, Debug, Clone, Copy)]
enum DimensionArg {
    /// Provinces.
    Province,
    /// Industrial parks, clusters and economic zones.
    Zone,
    /// Investors' home countries.
    HomeCountry,
    /// Investors.
    Investor,
    /// Sectors (VSIC / ISIC).
    Sector,
    /// Event kinds.
    Kind,
}

impl From<DimensionArg> for i32 {
    fn from(dimension: DimensionArg) -> Self {
        match dimension {
            DimensionArg::Province => pb::Dimension::Province,
            DimensionArg::Zone => pb::Dimension::Zone,
            DimensionArg::HomeCountry => pb::Dimension::HomeCountry,
            DimensionArg::Investor => pb::Dimension::Investor,
            DimensionArg::Sector => pb::Dimension::Sector,
            DimensionArg::Kind => pb::Dimension::Kind,
        }
        .into()
    }
}

/// Bucket width of a time series.
#[derive(ValueEnum, Debug, Clone, Copy)]
enum GranularityArg {
    /// Calendar months.
    Month,
    /// Calendar quarters.
    Quarter,
    /// Calendar years.
    Year,
}

impl From<GranularityArg> for i32 {
    fn from(granularity: GranularityArg) -> Self {
        match granularity {
            GranularityArg::Month => pb::Granularity::Month,
            GranularityArg::Quarter => pb::Granularity::Quarter,
            GranularityArg::Year => pb::Granularity::Year,
        }
        .into()
    }
}

/// A period as `fdi report` and the services take it, resolved here so a typo fails before any call.
fn parse_period(text: &str) -> Result<Span, String> {
    parse_shorthand(text).ok_or_else(|| {
        format!("`{text}` is not a period; use 2025, 2025-H1, 2025-Q3, 2025-08, 2025-M8 or 2025-01-01..2025-08-31")
    })
}

/// An event kind by its interchange name (`share-purchase` too).
fn parse_kind(text: &str) -> Result<EventKind, String> {
    EventKind::parse(&text.trim().to_ascii_lowercase().replace('-', "_")).ok_or_else(|| {
        let kinds: Vec<&str> = EventKind::ALL.iter().map(|kind| kind.as_str()).collect();
        format!("`{text}` is not an event kind; use one of {}", kinds.join(", "))
    })
}

fn period_of(span: Span) -> Option<Period> {
    Some(Period {
        kind: Some(period::Kind::Range(span.to_proto())),
    })
}

/// Runs `fdi export`.
///
/// # Errors
/// When a service cannot be reached or refuses, or the output cannot be written; rows written before a
/// failure are kept and counted in the error.
pub async fn run(args: ExportArgs) -> anyhow::Result<()> {
    match args.table {
        Table::Events(args) => events(args).await,
        Table::Summary(args) => summary(args).await,
        Table::Ranking(args) => ranking(args).await,
        Table::Timeseries(args) => time_series(args).await,
        Table::Breakdown(args) => breakdown(args).await,
        Table::Reconciliation(args) => reconciliation(args).await,
    }
}

/// Where an export writes: a file, or standard output (`path` none), in a format.
struct Destination {
    path: Option<PathBuf>,
    format: Format,
}

impl OutputArgs {
    /// The destination asked for, its format decided: checked before any call.
    fn destination(&self) -> anyhow::Result<Destination> {
        let path = self.output.clone().filter(|path| path != Path::new("-"));
        let format = match (&path, self.format) {
            (_, Some(format)) => format,
            (None, None) => Format::Csv,
            (Some(path), None) => Format::from_path(path).with_context(|| {
                format!(
                    "say --format csv or --format jsonl: the name {} says neither",
                    path.display()
                )
            })?,
        };
        Ok(Destination { path, format })
    }
}

impl Destination {
    /// Its name in messages.
    fn name(&self) -> String {
        self.path
            .as_ref()
            .map_or_else(|| "standard output".to_owned(), |path| path.display().to_string())
    }

    /// Creates the file (or takes standard output): only once the service has answered, so a refused
    /// request leaves no file behind.
    fn open(&self) -> anyhow::Result<Box<dyn Write + Send>> {
        Ok(match &self.path {
            None => Box::new(io::stdout()),
            Some(path) => Box::new(File::create(path).with_context(|| format!("creating {}", path.display()))?),
        })
    }
}

/// What an export needs of its writer: the register's or a figure table's.
trait Rows {
    /// Rows written so far.
    fn count(&self) -> u64;
    /// Hands the rows to the output.
    fn push(&mut self) -> io::Result<()>;
}

/// Both writers count and flush alike.
macro_rules! rows {
    ($($writer:ident),+) => {$(
        impl<W: Write> Rows for $writer<W> {
            fn count(&self) -> u64 {
                self.rows_written()
            }
            fn push(&mut self) -> io::Result<()> {
                self.flush()
            }
        }
    )+};
}
rows!(RowWriter, TableWriter);

/// Rows on their way out: handed to the output page by page and counted on the progress bar.
struct Export<R: Rows> {
    rows: R,
    destination: String,
    format: Format,
    bar: ProgressBar,
    /// How to fetch what is still missing after a failure, when there is a way.
    resume: Option<String>,
}

impl<R: Rows> Export<R> {
    fn new(rows: R, destination: &Destination, total: Option<u64>) -> anyhow::Result<Self> {
        Ok(Self {
            rows,
            destination: destination.name(),
            format: destination.format,
            bar: crate::progress::rows(total)?,
            resume: None,
        })
    }

    /// A page is written: hand it to the output (a reader of the file or pipe sees it now).
    fn page_done(&mut self) -> anyhow::Result<()> {
        self.rows
            .push()
            .with_context(|| format!("writing to {}", self.destination))?;
        self.bar.set_position(self.rows.count());
        Ok(())
    }

    /// Ends the export: says what was written, or why it stopped and how many rows were written before.
    fn end(mut self, outcome: anyhow::Result<()>, what: &str) -> anyhow::Result<()> {
        let pushed = self.rows.push();
        self.bar.finish_and_clear();
        let written = self.rows.count();
        match outcome.and_then(|()| pushed.with_context(|| format!("writing to {}", self.destination))) {
            Ok(()) => {
                eprintln!("Exported {written} {what} to {} ({}).", self.destination, self.format);
                Ok(())
            }
            Err(error) if is_closed_pipe(&error) => Ok(()),
            Err(error) => {
                let resume = self.resume.map(|hint| format!("; {hint}")).unwrap_or_default();
                Err(anyhow::anyhow!(
                    "{error:#}\nThe export is incomplete: {written} {what} were written to {} before it stopped{resume}.",
                    self.destination
                ))
            }
        }
    }
}

/// Whether the reader of standard output went away (`fdi export events | head`): not a failure.
fn is_closed_pipe(error: &anyhow::Error) -> bool {
    error
        .chain()
        .filter_map(|cause| cause.downcast_ref::<io::Error>())
        .any(|error| error.kind() == io::ErrorKind::BrokenPipe)
}

async fn events(args: EventsArgs) -> anyhow::Result<()> {
    let destination = args.output.destination()?;
    let mut client = IngestServiceClient::new(connect(&args.ingest, "ingest").await?);
    let mut request = ListEventsRequest {
        page_size: Some(args.page_size),
        province: args.province.unwrap_or_default(),
        zone: args.zone.unwrap_or_default(),
        investor: args.investor.unwrap_or_default(),
        kind: args
            .kind
            .map(|kind| common::EventKind::from(kind).into())
            .unwrap_or_default(),
        period: args.period.and_then(period_of),
        scope: args.scope.proto().into(),
        after_sequence: args.after_sequence,
        ..ListEventsRequest::default()
    };
    let mut page = list_events(&mut client, &request).await?;
    let writer = RowWriter::new(destination.open()?, destination.format)?;
    let mut export = Export::new(writer, &destination, None)?;
    let outcome = async {
        loop {
            for event in &page.events {
                export.rows.write_row(&event_row(event))?;
            }
            export.page_done()?;
            if let Some(last) = page.events.last() {
                export.resume = Some(format!(
                    "the last one written is {}, so `--after-sequence {}` exports the rest",
                    last.name, last.sequence
                ));
            }
            if page.next_page_token.is_empty() {
                return Ok(());
            }
            request.page_token = std::mem::take(&mut page.next_page_token);
            page = list_events(&mut client, &request).await?;
        }
    }
    .await;
    export.end(outcome, "events")
}

async fn list_events(
    client: &mut IngestServiceClient<Authorized>,
    request: &ListEventsRequest,
) -> anyhow::Result<ListEventsResponse> {
    Ok(client
        .list_events(request.clone())
        .await
        .map_err(|status| ServiceError::new("ingest", "ListEvents", &status))?
        .into_inner())
}

/// A figure table's destination, checked first, and a client of the analytics service.
async fn analytics(ask: &Ask) -> anyhow::Result<(Destination, AnalyticsServiceClient<Authorized>)> {
    let destination = ask.output.destination()?;
    let client = AnalyticsServiceClient::new(connect(&ask.analytics, "analytics").await?);
    Ok((destination, client))
}

/// What the analytics service answered to `call`, when it refused.
fn refused(call: &'static str) -> impl FnOnce(tonic::Status) -> ServiceError {
    move |status| ServiceError::new("analytics", call, &status)
}

/// Writes a table answered in one call, a row per item (a figure, a bucket, an entry: they are few).
fn write_table<T>(
    destination: &Destination,
    columns: &[&'static str],
    items: &[T],
    row: impl Fn(&T) -> anyhow::Result<Vec<String>>,
    what: &str,
) -> anyhow::Result<()> {
    let writer = TableWriter::new(destination.open()?, destination.format, columns)?;
    let mut export = Export::new(writer, destination, u64::try_from(items.len()).ok())?;
    let outcome = items
        .iter()
        .try_for_each(|item| Ok(export.rows.write_row(&row(item)?)?))
        .and_then(|()| export.page_done());
    export.end(outcome, what)
}

/// A figure's value as cells: the count or the exact converted amount, its currency (empty for counts), and the
/// sums in their recorded currencies (`1250000.5 USD; 50000000000 VND`).
fn value_cells(value: Option<&pb::FigureValue>) -> anyhow::Result<[String; 3]> {
    let Some(value) = value else {
        return Ok([String::new(), String::new(), String::new()]);
    };
    let recorded = value
        .by_currency
        .iter()
        .map(|money| Ok(format!("{} {}", amount(money)?, money.currency_code)))
        .collect::<anyhow::Result<Vec<_>>>()?
        .join("; ");
    Ok(match &value.converted {
        Some(money) => [amount(money)?, money.currency_code.clone(), recorded],
        None => [value.count.to_string(), String::new(), recorded],
    })
}

/// An amount as an exact decimal without trailing zeros.
fn amount(money: &Money) -> anyhow::Result<String> {
    Ok(exact(money)?.to_string())
}

fn exact(money: &Money) -> anyhow::Result<Decimal> {
    from_money(money)
        .map(|amount| amount.normalize())
        .with_context(|| format!("the service sent a malformed amount of {}", money.currency_code))
}

/// A range's first and last day as `YYYY-MM-DD` cells.
fn day_cells(range: Option<&DateRange>) -> [String; 2] {
    let day = |date: Option<&fdi_proto::Date>| {
        date.and_then(date_from_proto)
            .map(|day| day.to_string())
            .unwrap_or_default()
    };
    [
        day(range.and_then(|r| r.start.as_ref())),
        day(range.and_then(|r| r.end.as_ref())),
    ]
}

fn figure_name(figure: Figure) -> String {
    fdi_kit::figures::name(figure).unwrap_or_default().to_owned()
}

fn optional(number: Option<f64>) -> String {
    number.map(|n| n.to_string()).unwrap_or_default()
}

const SUMMARY_COLUMNS: [&str; 10] = [
    "period_start",
    "period_end",
    "provinces",
    "scope",
    "figure",
    "value",
    "currency",
    "as_recorded",
    "as_of_sequence",
    "boundaries",
];

async fn summary(args: SummaryArgs) -> anyhow::Result<()> {
    let ask = &args.ask;
    let (destination, mut client) = analytics(ask).await?;
    let summary = client
        .get_summary(pb::GetSummaryRequest {
            provinces: args.province.clone(),
            zones: args.zone.clone(),
            period: period_of(ask.period),
            scope: ask.scope.proto().into(),
            currency_code: ask.currency.code().to_owned(),
            include_estimates: ask.include_estimates,
            boundaries: args.boundaries.into(),
        })
        .await
        .map_err(refused("GetSummary"))?
        .into_inner();
    let [start, end] = day_cells(summary.period.as_ref());
    let provinces = summary.provinces.join(" ");
    let scope = fdi_kit::figures::scope_name(summary.scope());
    let boundaries = args.boundaries.to_possible_value().map(|v| v.get_name().to_owned());
    let row = |value: &pb::FigureValue| {
        let [value_cell, currency, recorded] = value_cells(Some(value))?;
        Ok(vec![
            start.clone(),
            end.clone(),
            provinces.clone(),
            scope.to_owned(),
            figure_name(value.figure()),
            value_cell,
            currency,
            recorded,
            summary.as_of_sequence.to_string(),
            boundaries.clone().unwrap_or_default(),
        ])
    };
    write_table(&destination, &SUMMARY_COLUMNS, &summary.figures, row, "figures")
}

/// The columns of a ranking's or breakdown's entries.
const ENTRY_COLUMNS: [&str; 7] = ["rank", "key", "name", "value", "currency", "as_recorded", "share"];

fn entry_row(entry: &pb::RankedEntry) -> anyhow::Result<Vec<String>> {
    let [value, currency, recorded] = value_cells(entry.value.as_ref())?;
    Ok(vec![
        entry.rank.to_string(),
        entry.key.clone(),
        entry.display_name.clone(),
        value,
        currency,
        recorded,
        entry.share.to_string(),
    ])
}

async fn ranking(args: RankingArgs) -> anyhow::Result<()> {
    let ask = &args.ask;
    let (destination, mut client) = analytics(ask).await?;
    let mut request = pb::GetRankingRequest {
        dimension: args.by.into(),
        figure: args.figure.into(),
        period: period_of(ask.period),
        scope: ask.scope.proto().into(),
        currency_code: ask.currency.code().to_owned(),
        include_estimates: ask.include_estimates,
        boundaries: args.boundaries.into(),
        page_size: Some(args.page_size),
        page_token: String::new(),
    };
    let mut page = ranking_page(&mut client, &request).await?;
    let writer = TableWriter::new(destination.open()?, destination.format, &ENTRY_COLUMNS)?;
    let mut export = Export::new(writer, &destination, u64::try_from(page.total_size).ok())?;
    let outcome = async {
        loop {
            for entry in &page.entries {
                export.rows.write_row(&entry_row(entry)?)?;
            }
            export.page_done()?;
            if page.next_page_token.is_empty() {
                return Ok(());
            }
            request.page_token = std::mem::take(&mut page.next_page_token);
            page = ranking_page(&mut client, &request).await?;
        }
    }
    .await;
    export.end(outcome, "entries")
}

async fn ranking_page(
    client: &mut AnalyticsServiceClient<Authorized>,
    request: &pb::GetRankingRequest,
) -> anyhow::Result<pb::Ranking> {
    Ok(client
        .get_ranking(request.clone())
        .await
        .map_err(refused("GetRanking"))?
        .into_inner())
}

const SERIES_COLUMNS: [&str; 7] = [
    "label",
    "period_start",
    "period_end",
    "value",
    "currency",
    "as_recorded",
    "year_on_year",
];

async fn time_series(args: TimeSeriesArgs) -> anyhow::Result<()> {
    let ask = &args.ask;
    let (destination, mut client) = analytics(ask).await?;
    let series = client
        .get_time_series(pb::GetTimeSeriesRequest {
            figure: args.figure.into(),
            granularity: args.granularity.into(),
            period: period_of(ask.period),
            provinces: args.province.clone(),
            scope: ask.scope.proto().into(),
            currency_code: ask.currency.code().to_owned(),
            include_estimates: ask.include_estimates,
            boundaries: args.boundaries.into(),
        })
        .await
        .map_err(refused("GetTimeSeries"))?
        .into_inner();
    let row = |point: &pb::TimeSeriesPoint| {
        let [start, end] = day_cells(point.period.as_ref());
        let [value, currency, recorded] = value_cells(point.value.as_ref())?;
        let growth = optional(point.year_on_year);
        Ok(vec![point.label.clone(), start, end, value, currency, recorded, growth])
    };
    write_table(&destination, &SERIES_COLUMNS, &series.points, row, "points")
}

async fn breakdown(args: BreakdownArgs) -> anyhow::Result<()> {
    let ask = &args.ask;
    let (destination, mut client) = analytics(ask).await?;
    let breakdown = client
        .get_breakdown(pb::GetBreakdownRequest {
            figure: args.figure.into(),
            by: args.by.into(),
            period: period_of(ask.period),
            provinces: args.province.clone(),
            scope: ask.scope.proto().into(),
            currency_code: ask.currency.code().to_owned(),
            include_estimates: ask.include_estimates,
            limit: args.limit,
        })
        .await
        .map_err(refused("GetBreakdown"))?
        .into_inner();
    write_table(&destination, &ENTRY_COLUMNS, &breakdown.entries, entry_row, "entries")
}

const RECONCILIATION_COLUMNS: [&str; 8] = [
    "province",
    "figure",
    "computed",
    "reported",
    "currency",
    "gap",
    "relative_gap",
    "sources",
];

async fn reconciliation(args: ReconciliationArgs) -> anyhow::Result<()> {
    let ask = &args.ask;
    let (destination, mut client) = analytics(ask).await?;
    let reconciliation = client
        .reconcile(pb::ReconcileRequest {
            province: args.province.clone(),
            period: period_of(ask.period),
            scope: ask.scope.proto().into(),
            currency_code: ask.currency.code().to_owned(),
        })
        .await
        .map_err(refused("Reconcile"))?
        .into_inner();
    let row = |line: &pb::ReconciliationLine| {
        let [computed, currency, _] = value_cells(line.computed.as_ref())?;
        let [reported, ..] = value_cells(line.reported.as_ref())?;
        Ok(vec![
            reconciliation.province.clone(),
            figure_name(line.figure()),
            computed,
            reported,
            currency,
            gap(line)?,
            optional(line.relative_gap),
            line.sources.join(" "),
        ])
    };
    write_table(
        &destination,
        &RECONCILIATION_COLUMNS,
        &reconciliation.lines,
        row,
        "lines",
    )
}

/// Reported minus computed, exactly (the response's `gap` is a float, which money must not be); empty
/// without a reported figure.
fn gap(line: &pb::ReconciliationLine) -> anyhow::Result<String> {
    let (Some(computed), Some(reported)) = (&line.computed, &line.reported) else {
        return Ok(String::new());
    };
    Ok(match (&computed.converted, &reported.converted) {
        (Some(computed), Some(reported)) => (exact(reported)? - exact(computed)?).normalize().to_string(),
        (None, None) => (reported.count - computed.count).to_string(),
        _ => String::new(),
    })
}
