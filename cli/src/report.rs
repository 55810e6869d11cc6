//! `fdi report --province P --period Q`: one province's figures over a
//! period as tables in the terminal and two SVG charts (its time series, and
//! where it stands among the provinces), all from the analytics service.
//!
//! Fetching, rendering the text and rendering the charts are separate
//! functions, so each can be tested (and reused) on its own.

use fdi_kit::access::Authorized;
use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::{Datelike, NaiveDate};
use comfy_table::{CellAlignment, Table, presets};
use fdi_kit::{
    domain::{ReportingCurrency, today_in_vietnam},
    figures,
    money::{from_money, money_to_f64},
    period::{date_from_proto, date_to_proto},
};
use fdi_proto::{
    Money,
    analytics::{self as pb, Granularity, analytics_service_client::AnalyticsServiceClient},
    common::{DateRange, Figure, Period, Scope, period},
};
use plotters::prelude::*;
use rust_decimal::{Decimal, RoundingStrategy};
use tonic::Code;

pub use crate::remote::ServiceError;
use crate::remote::connect;

/// Options of `fdi report`.
#[derive(clap::Args, Debug, Clone)]
pub struct ReportArgs {
    /// The province, in any spelling ("Bắc Ninh", "bac ninh", "provinces/bac-ninh").
    #[arg(long)]
    pub province: String,
    /// The period: 2025, 2025-H1, 2025-Q3, 2025-08, 2025-M8 or 2025-01-01..2025-08-31.
    #[arg(long)]
    pub period: String,
    /// The analytics service.
    #[arg(long, env = "FDI_ANALYTICS_URL", default_value = "http://localhost:50053")]
    pub analytics: String,
    /// Currency of money figures (originals are shown as recorded too).
    #[arg(long, value_enum, default_value_t = Currency::Usd)]
    pub currency: Currency,
    /// Foreign (fdi), domestic (ddi) or all investment.
    #[arg(long, value_enum, default_value_t = ScopeArg::All)]
    pub scope: ScopeArg,
    /// The figure provinces are ranked by and charted over time (e.g. new_projects, realised_capital).
    #[arg(long, default_value = "total_capital", value_parser = parse_figure)]
    pub figure: Figure,
    /// How many of the leading provinces to list and chart.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..=60))]
    pub top: u16,
    /// Folder the chart files are written to.
    #[arg(long, default_value = ".")]
    pub out: PathBuf,
}

/// Reporting currencies the analytics service converts to.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Currency {
    /// US dollars.
    Usd,
    /// Vietnamese dong.
    Vnd,
}

impl Currency {
    /// The currency's code, as requests carry it.
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            Self::Vnd => ReportingCurrency::Vnd,
            Self::Usd => ReportingCurrency::Usd,
        }
        .as_str()
    }
}

/// Who invests.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopeArg {
    /// Foreign investors.
    Fdi,
    /// Vietnamese investors.
    Ddi,
    /// Both.
    All,
}

impl ScopeArg {
    /// The scope asked for.
    #[must_use]
    pub fn proto(self) -> Scope {
        match self {
            Self::Fdi => Scope::Fdi,
            Self::Ddi => Scope::Ddi,
            Self::All => Scope::All,
        }
    }
}

/// Accepts a figure's stored name, with `-` or `_`.
///
/// # Errors
/// The figures there are, when `text` names none.
pub fn parse_figure(text: &str) -> Result<Figure, String> {
    figures::from_name(&text.trim().replace('-', "_")).ok_or_else(|| {
        let known: Vec<&str> = figures::ALL.iter().filter_map(|f| figures::name(*f)).collect();
        format!("`{text}` is not a figure; use one of {}", known.join(", "))
    })
}

/// Everything the report shows, fetched once, then rendered as text and charts.
#[derive(Debug, Clone)]
pub struct Report {
    /// The province as the service resolved it (`provinces/{code}`, today's boundaries).
    pub province: String,
    /// Its readable name: from the ranking, or as asked when it has no figure to rank.
    pub display_name: String,
    /// The period as asked (it names the chart files).
    pub period: String,
    /// The period as resolved: first and last day.
    pub span: (NaiveDate, NaiveDate),
    /// The figure ranked and charted.
    pub figure: Figure,
    /// Every figure of the province over the period.
    pub summary: pb::Summary,
    /// The leading provinces.
    pub top: Vec<pb::RankedEntry>,
    /// The province's own entry; `None` when its figure is zero.
    pub own: Option<pb::RankedEntry>,
    /// How many provinces have a non-zero figure.
    pub ranked: i32,
    /// The national total of the figure.
    pub total: Option<pb::FigureValue>,
    /// Bucket width of the time series.
    pub granularity: Granularity,
    /// The province's figure over time.
    pub series: pb::TimeSeries,
    /// The scope of the target asked for.
    pub target_scope: Scope,
    /// Progress toward the target of the period's last year, when one is set.
    pub target: Option<pb::TargetProgress>,
}

impl Report {
    /// The leading provinces, then this one when it is not among them.
    fn standing(&self) -> Vec<&pb::RankedEntry> {
        let missing = self
            .own
            .as_ref()
            .filter(|own| !self.top.iter().any(|e| e.key == own.key));
        self.top.iter().chain(missing).collect()
    }

    /// What a bucket of the time series is.
    fn bucket(&self) -> &'static str {
        if self.granularity == Granularity::Year {
            "year"
        } else {
            "month"
        }
    }
}

fn shorthand(text: &str) -> Option<Period> {
    Some(Period {
        kind: Some(period::Kind::Shorthand(text.to_owned())),
    })
}

fn range(start: NaiveDate, end: NaiveDate) -> Option<Period> {
    Some(Period {
        kind: Some(period::Kind::Range(DateRange {
            start: Some(date_to_proto(start)),
            end: Some(date_to_proto(end)),
        })),
    })
}

/// Which buckets chart the figure over time, and over which days.
///
/// Months within the period show how a part-year unfolded. A whole calendar
/// year, though, would be twelve bars dominated by the lumpiness of single
/// licences, and provinces judge a year against the years before it, so a
/// year is charted by year over the five years ending with it. Spans longer
/// than two years go by year too: more than 24 monthly bars are unreadable.
#[must_use]
pub fn series_plan(start: NaiveDate, end: NaiveDate) -> (Granularity, NaiveDate, NaiveDate) {
    let whole_year = start.ordinal() == 1 && end.year() == start.year() && end.month() == 12 && end.day() == 31;
    let months = (end.year() - start.year()) * 12 + end.month0() as i32 - start.month0() as i32 + 1;
    if whole_year {
        let first = NaiveDate::from_ymd_opt(start.year() - 4, 1, 1).unwrap_or(start);
        (Granularity::Year, first, end)
    } else if months > 24 {
        (Granularity::Year, start, end)
    } else {
        (Granularity::Month, start, end)
    }
}

/// What every call of one report asks with: the figure, scope and currency.
struct Ask<'a> {
    args: &'a ReportArgs,
    scope: Scope,
    currency: &'static str,
}

/// Asks the analytics service for everything the report shows.
///
/// # Errors
/// A [`ServiceError`] when the service refuses a call (unknown province, bad period), else what went wrong.
pub async fn fetch(client: &mut AnalyticsServiceClient<Authorized>, args: &ReportArgs) -> anyhow::Result<Report> {
    let ask = Ask {
        args,
        scope: args.scope.proto(),
        currency: args.currency.code(),
    };
    let (summary, province, span) = fetch_summary(client, &ask).await?;
    let Ranked {
        top,
        own,
        ranked,
        total,
    } = fetch_ranking(client, &ask, &province, span).await?;
    let display_name = own
        .as_ref()
        .map_or_else(|| args.province.trim().to_owned(), |e| e.display_name.clone());
    let (granularity, from, to) = series_plan(span.0, span.1);
    let series = client
        .get_time_series(pb::GetTimeSeriesRequest {
            figure: args.figure.into(),
            granularity: granularity.into(),
            period: range(from, to),
            provinces: vec![province.clone()],
            scope: ask.scope.into(),
            currency_code: ask.currency.into(),
            ..Default::default()
        })
        .await
        .map_err(|s| ServiceError::new("analytics", "GetTimeSeries", &s))?
        .into_inner();
    // Targets are set for foreign investment unless said otherwise: `all` asks for that (the service's default).
    let target_scope = if ask.scope == Scope::All { Scope::Fdi } else { ask.scope };
    let target = fetch_target(client, &ask, &province, span, target_scope).await?;
    Ok(Report {
        province,
        display_name,
        period: args.period.trim().to_owned(),
        span,
        figure: args.figure,
        summary,
        top,
        own,
        ranked,
        total,
        granularity,
        series,
        target_scope,
        target,
    })
}

/// The summary, the province as the service resolved it, and the period's first and last day.
async fn fetch_summary(
    client: &mut AnalyticsServiceClient<Authorized>,
    ask: &Ask<'_>,
) -> anyhow::Result<(pb::Summary, String, (NaiveDate, NaiveDate))> {
    let summary = client
        .get_summary(pb::GetSummaryRequest {
            provinces: vec![ask.args.province.clone()],
            period: shorthand(&ask.args.period),
            scope: ask.scope.into(),
            currency_code: ask.currency.into(),
            ..Default::default()
        })
        .await
        .map_err(|s| ServiceError::new("analytics", "GetSummary", &s))?
        .into_inner();
    let province = summary
        .provinces
        .first()
        .cloned()
        .context("the summary names no province")?;
    let resolved = summary.period.as_ref();
    let day = |d: Option<&fdi_proto::Date>| d.and_then(date_from_proto).context("the summary has no period");
    let span = (
        day(resolved.and_then(|p| p.start.as_ref()))?,
        day(resolved.and_then(|p| p.end.as_ref()))?,
    );
    Ok((summary, province, span))
}

/// The ranking as the report shows it.
struct Ranked {
    top: Vec<pb::RankedEntry>,
    own: Option<pb::RankedEntry>,
    ranked: i32,
    total: Option<pb::FigureValue>,
}

/// Pages through the ranking until both the leading provinces and this one
/// are seen (about 34 provinces: one page).
async fn fetch_ranking(
    client: &mut AnalyticsServiceClient<Authorized>,
    ask: &Ask<'_>,
    province: &str,
    span: (NaiveDate, NaiveDate),
) -> anyhow::Result<Ranked> {
    let (mut top, mut own, mut token) = (Vec::new(), None, String::new());
    let wanted = usize::from(ask.args.top);
    loop {
        let page = client
            .get_ranking(pb::GetRankingRequest {
                dimension: pb::Dimension::Province.into(),
                figure: ask.args.figure.into(),
                period: range(span.0, span.1),
                scope: ask.scope.into(),
                currency_code: ask.currency.into(),
                page_size: Some(100),
                page_token: token,
                ..Default::default()
            })
            .await
            .map_err(|s| ServiceError::new("analytics", "GetRanking", &s))?
            .into_inner();
        own = own.or_else(|| page.entries.iter().find(|e| e.key == province).cloned());
        let room = wanted.saturating_sub(top.len());
        top.extend(page.entries.into_iter().take(room));
        if page.next_page_token.is_empty() || (top.len() >= wanted && own.is_some()) {
            return Ok(Ranked {
                top,
                own,
                ranked: page.total_size,
                total: page.total,
            });
        }
        token = page.next_page_token;
    }
}

/// The province's progress against its target for the period's year; `None` when it has none.
async fn fetch_target(
    client: &mut AnalyticsServiceClient<Authorized>,
    ask: &Ask<'_>,
    province: &str,
    span: (NaiveDate, NaiveDate),
    target_scope: Scope,
) -> anyhow::Result<Option<pb::TargetProgress>> {
    let request = pb::GetTargetProgressRequest {
        province: province.to_owned(),
        year: span.1.year(),
        figure: ask.args.figure.into(),
        scope: target_scope.into(),
        // To the period's end; to today while the period runs on, so the projection means something.
        as_of: (span.1 < today_in_vietnam()).then(|| date_to_proto(span.1)),
        // The target's own currency: asking in another is refused.
        currency_code: String::new(),
        include_estimates: false,
    };
    match client.get_target_progress(request).await {
        Ok(progress) => Ok(Some(progress.into_inner())),
        Err(status) if status.code() == Code::NotFound => Ok(None),
        Err(status) => Err(ServiceError::new("analytics", "GetTargetProgress", &status).into()),
    }
}

/// Digits grouped by thousands with commas, sign and decimals kept ("-1234567.50" → "-1,234,567.50").
#[must_use]
pub fn thousands(number: &str) -> String {
    let (sign, digits) = number.strip_prefix('-').map_or(("", number), |rest| ("-", rest));
    let (whole, fraction) = digits.split_once('.').map_or((digits, None), |(w, f)| (w, Some(f)));
    let mut grouped = String::with_capacity(whole.len() + whole.len() / 3);
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    match fraction {
        Some(fraction) => format!("{sign}{grouped}.{fraction}"),
        None => format!("{sign}{grouped}"),
    }
}

/// An amount with thousands separators and its currency: whole dong (the dong has no minor unit), else cents.
#[must_use]
pub fn format_amount(amount: Decimal, currency: &str) -> String {
    let places = if currency == "VND" { 0 } else { 2 };
    let rounded = amount.round_dp_with_strategy(places, RoundingStrategy::MidpointAwayFromZero);
    format!("{} {currency}", thousands(&format!("{:.*}", places as usize, rounded)))
}

fn format_money(money: &Money) -> String {
    from_money(money).map_or_else(
        || format!("(malformed amount) {}", money.currency_code),
        |amount| format_amount(amount, &money.currency_code),
    )
}

/// A count, or the converted amount of a money figure.
#[must_use]
pub fn format_value(value: &pb::FigureValue) -> String {
    value
        .converted
        .as_ref()
        .map_or_else(|| thousands(&value.count.to_string()), format_money)
}

/// The number charted for a figure's value.
fn number(value: Option<&pb::FigureValue>) -> f64 {
    match value {
        Some(pb::FigureValue {
            converted: Some(money), ..
        }) => money_to_f64(money),
        #[allow(clippy::cast_precision_loss, reason = "a chart's bar")]
        Some(value) => value.count as f64,
        None => 0.0,
    }
}

/// "total_capital" → "Total capital".
#[must_use]
pub fn figure_label(figure: Figure) -> String {
    let name = figures::name(figure).unwrap_or("figure").replace('_', " ");
    let mut chars = name.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

fn table(header: &[&str], right_aligned: &[usize]) -> Table {
    let mut table = Table::new();
    table
        .load_style(presets::UTF8_FULL_CONDENSED)
        .set_header(header.to_vec());
    for index in right_aligned {
        if let Some(column) = table.column_mut(*index) {
            column.set_cell_alignment(CellAlignment::Right);
        }
    }
    table
}

/// The report as text: every figure, the province's standing, its time series and its target.
#[must_use]
pub fn render_text(report: &Report) -> String {
    let currency = &report.summary.currency_code;
    let scope = figures::scope_name(report.summary.scope());
    let figure = figure_label(report.figure).to_lowercase();
    let mut out = format!(
        "{} ({}), {} ({} to {}), {scope} investment, in {currency}\n",
        report.display_name, report.province, report.period, report.span.0, report.span.1
    );

    let mut figures_table = table(&["Figure", "Value", "As recorded"], &[1]);
    for value in &report.summary.figures {
        let originals: Vec<String> = value.by_currency.iter().map(format_money).collect();
        figures_table.add_row(vec![
            figure_label(value.figure()),
            format_value(value),
            originals.join("; "),
        ]);
    }
    out.push_str(&format!("{figures_table}\n\n"));

    let total = report.total.as_ref().map_or_else(String::new, format_value);
    match &report.own {
        Some(own) => out.push_str(&format!(
            "Rank {} of {} provinces by {figure}, {:.1}% of the national {total}.\n",
            own.rank,
            report.ranked,
            own.share * 100.0
        )),
        None => out.push_str(&format!(
            "No {figure} in this period, so no rank; {} provinces have some ({total} in all).\n",
            report.ranked
        )),
    }
    let mut ranking = table(&["#", "Province", "Value", "Share"], &[0, 2, 3]);
    for entry in report.standing() {
        let marker = if entry.key == report.province { "▶ " } else { "" };
        ranking.add_row(vec![
            entry.rank.to_string(),
            format!("{marker}{}", entry.display_name),
            entry.value.as_ref().map_or_else(String::new, format_value),
            format!("{:.1}%", entry.share * 100.0),
        ]);
    }
    out.push_str(&format!("{ranking}\n\n"));

    out.push_str(&format!("{} by {}:\n", figure_label(report.figure), report.bucket()));
    let mut series = table(&["Period", "Value", "Year on year"], &[1, 2]);
    for point in &report.series.points {
        let growth = point
            .year_on_year
            .map_or_else(String::new, |g| format!("{:+.1}%", g * 100.0));
        let value = point.value.as_ref().map_or_else(String::new, format_value);
        series.add_row(vec![point.label.clone(), value, growth]);
    }
    out.push_str(&format!("{series}\n\n"));

    let target_scope = figures::scope_name(report.target_scope);
    match &report.target {
        Some(t) => out.push_str(&format!(
            "Target {} ({target_scope} {figure}): {}; achieved to {}: {} ({:.1}%); projected year end: {} ({:.1}%).\n",
            t.year,
            t.target.as_ref().map_or_else(String::new, format_value),
            t.as_of
                .as_ref()
                .and_then(date_from_proto)
                .map_or_else(String::new, |d| d.to_string()),
            t.achieved.as_ref().map_or_else(String::new, format_value),
            t.fraction * 100.0,
            t.projected_year_end.as_ref().map_or_else(String::new, format_value),
            t.projected_fraction * 100.0,
        )),
        None => out.push_str(&format!(
            "No {target_scope} target for {figure} in {} is set for {}.\n",
            report.span.1.year(),
            report.display_name
        )),
    }
    out
}

/// 1234567 → "1.2M": axis labels stay short whatever the magnitude.
fn compact(value: f64) -> String {
    let magnitude = value.abs();
    let (scaled, suffix) = match magnitude {
        m if m >= 1e12 => (value / 1e12, "T"),
        m if m >= 1e9 => (value / 1e9, "B"),
        m if m >= 1e6 => (value / 1e6, "M"),
        m if m >= 1e3 => (value / 1e3, "k"),
        _ => (value, ""),
    };
    let text = format!("{scaled:.1}");
    format!("{}{suffix}", text.strip_suffix(".0").unwrap_or(&text))
}

/// The value axis: always from zero (bars start there), with headroom for the labels.
fn value_axis(values: &[f64]) -> std::ops::Range<f64> {
    let low = values.iter().copied().fold(0.0_f64, f64::min);
    let high = values.iter().copied().fold(0.0_f64, f64::max);
    if low == 0.0 && high == 0.0 {
        0.0..1.0
    } else {
        low * 1.1..high * 1.2
    }
}

/// One segment per bar: plotters counts integer ranges inclusively, so `0..n` would give n + 1.
fn segments(count: u32) -> plotters::coord::ranged1d::SegmentedCoord<plotters::coord::types::RangedCoordu32> {
    (0..count.max(1) - 1).into_segmented()
}

const BAR: RGBColor = RGBColor(70, 110, 160);
const HIGHLIGHT: RGBColor = RGBColor(222, 98, 36);

fn chart_error<E: std::error::Error + Send + Sync>(error: DrawingAreaErrorKind<E>) -> anyhow::Error {
    anyhow::anyhow!("drawing a chart: {error}")
}

fn unit(report: &Report) -> String {
    if figures::is_money(report.figure) {
        report.summary.currency_code.clone()
    } else {
        "count".to_owned()
    }
}

/// The time series as an SVG bar chart (bars, not a line: buckets are sums, not samples).
///
/// # Errors
/// When plotters fails to draw.
pub fn timeseries_svg(report: &Report) -> anyhow::Result<String> {
    let labels: Vec<&str> = report.series.points.iter().map(|p| p.label.as_str()).collect();
    let values: Vec<f64> = report.series.points.iter().map(|p| number(p.value.as_ref())).collect();
    let count = u32::try_from(labels.len()).context("too many buckets")?;
    let title = format!(
        "{}, {}, by {} ({})",
        figure_label(report.figure),
        report.display_name,
        report.bucket(),
        unit(report)
    );
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (100 + 60 * count.max(10), 480)).into_drawing_area();
        root.fill(&WHITE).map_err(chart_error)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 22))
            .margin(16)
            .x_label_area_size(36)
            .y_label_area_size(70)
            .build_cartesian_2d(segments(count), value_axis(&values))
            .map_err(chart_error)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(WHITE)
            .x_labels(labels.len())
            .x_label_formatter(&|x| match x {
                SegmentValue::CenterOf(i) => labels.get(*i as usize).map(|l| (*l).to_owned()).unwrap_or_default(),
                _ => String::new(),
            })
            .y_label_formatter(&|y| compact(*y))
            .draw()
            .map_err(chart_error)?;
        chart
            .draw_series(values.iter().zip(0..).map(|(value, i)| {
                let mut bar = Rectangle::new(
                    [(SegmentValue::Exact(i), 0.0), (SegmentValue::Exact(i + 1), *value)],
                    BAR.filled(),
                );
                bar.set_margin(0, 0, 6, 6);
                bar
            }))
            .map_err(chart_error)?;
        root.present().map_err(chart_error)?;
    }
    Ok(svg)
}

/// The leading provinces as an SVG horizontal bar chart (room for long names),
/// the report's province highlighted and added at the bottom when outside the top.
///
/// # Errors
/// When plotters fails to draw.
pub fn ranking_svg(report: &Report) -> anyhow::Result<String> {
    let entries = report.standing();
    let values: Vec<f64> = entries.iter().map(|e| number(e.value.as_ref())).collect();
    let count = u32::try_from(entries.len()).context("too many provinces")?;
    // Segments count from the bottom; the first entry goes on top.
    let row = |i: u32| count.saturating_sub(i + 1);
    let title = format!(
        "Provinces by {}, {} ({})",
        figure_label(report.figure).to_lowercase(),
        report.period,
        unit(report)
    );
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (900, 140 + 40 * count.max(3))).into_drawing_area();
        root.fill(&WHITE).map_err(chart_error)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 22))
            .margin(16)
            .x_label_area_size(36)
            .y_label_area_size(200)
            .build_cartesian_2d(value_axis(&values), segments(count))
            .map_err(chart_error)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .light_line_style(WHITE)
            .y_labels(entries.len())
            .y_label_formatter(&|y| match y {
                SegmentValue::CenterOf(i) => entries
                    .get(row(*i) as usize)
                    .map(|e| format!("{}. {}", e.rank, e.display_name))
                    .unwrap_or_default(),
                _ => String::new(),
            })
            .x_label_formatter(&|x| compact(*x))
            .draw()
            .map_err(chart_error)?;
        chart
            .draw_series(entries.iter().zip(&values).zip(0..).map(|((entry, value), i)| {
                let color = if entry.key == report.province { HIGHLIGHT } else { BAR };
                let mut bar = Rectangle::new(
                    [
                        (0.0, SegmentValue::Exact(row(i))),
                        (*value, SegmentValue::Exact(row(i) + 1)),
                    ],
                    color.filled(),
                );
                bar.set_margin(5, 5, 0, 0);
                bar
            }))
            .map_err(chart_error)?;
        // The value and share at each bar's end, so the chart reads without the table.
        chart
            .draw_series(entries.iter().zip(&values).zip(0..).map(|((entry, value), i)| {
                let label = format!("{} ({:.1}%)", compact(*value), entry.share * 100.0);
                EmptyElement::at((value.max(0.0), SegmentValue::CenterOf(row(i))))
                    + Text::new(label, (6, -7), ("sans-serif", 13))
            }))
            .map_err(chart_error)?;
        root.present().map_err(chart_error)?;
    }
    Ok(svg)
}

/// Letters, digits and hyphens only, so any period names a file ("2025-01-01..2025-08-31" → "2025-01-01_2025-08-31").
fn file_part(text: &str) -> String {
    let cleaned: String = text
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' })
        .collect();
    cleaned
        .split('_')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("_")
}

/// Writes `<province>-<period>-timeseries.svg` and `<province>-<period>-ranking.svg` into `out`.
///
/// # Errors
/// When a chart cannot be drawn or written.
pub fn write_charts(report: &Report, out: &Path) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let stem = format!(
        "{}-{}",
        file_part(report.province.trim_start_matches("provinces/")),
        file_part(&report.period)
    );
    let mut written = Vec::new();
    for (kind, svg) in [
        ("timeseries", timeseries_svg(report)?),
        ("ranking", ranking_svg(report)?),
    ] {
        let path = out.join(format!("{stem}-{kind}.svg"));
        std::fs::write(&path, svg).with_context(|| format!("writing {}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

/// Runs `fdi report`: fetches, prints the text, writes the charts and names them.
///
/// # Errors
/// When the service cannot be reached or refuses, or a chart cannot be written.
pub async fn run(args: ReportArgs) -> anyhow::Result<()> {
    let mut client = AnalyticsServiceClient::new(connect(&args.analytics, "analytics").await?);
    let report = fetch(&mut client, &args).await?;
    print!("{}", render_text(&report));
    for path in write_charts(&report, &args.out)? {
        println!("Wrote {}", path.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_keep_sign_and_decimals() {
        assert_eq!(thousands("0"), "0");
        assert_eq!(thousands("999"), "999");
        assert_eq!(thousands("1000"), "1,000");
        assert_eq!(thousands("-1234567.50"), "-1,234,567.50");
        assert_eq!(
            format_amount("5000000000.5".parse().unwrap(), "VND"),
            "5,000,000,001 VND"
        );
        assert_eq!(format_amount("1234567.891".parse().unwrap(), "USD"), "1,234,567.89 USD");
    }

    #[test]
    fn years_by_year_part_years_by_month() {
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(
            series_plan(day(2025, 1, 1), day(2025, 12, 31)),
            (Granularity::Year, day(2021, 1, 1), day(2025, 12, 31))
        );
        assert_eq!(series_plan(day(2025, 1, 1), day(2025, 8, 31)).0, Granularity::Month);
        assert_eq!(series_plan(day(2020, 1, 1), day(2025, 8, 31)).0, Granularity::Year);
        assert_eq!(file_part("2025-01-01..2025-08-31"), "2025-01-01_2025-08-31");
        assert_eq!(compact(1_300_000.0), "1.3M");
        assert_eq!(compact(2_000.0), "2k");
        assert_eq!(parse_figure("new-projects"), Ok(Figure::NewProjects));
    }
}
