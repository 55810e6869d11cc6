//! Reading and writing registers in the interchange format of `shared/spec/events.md`: CSV (UTF-8, header row,
//! RFC 4180 quoting) or JSON Lines with the same field names, one row per [`EventInput`].
//!
//! Both directions stream: the reader holds one record (or one line) at a time and the writer buffers a few
//! kilobytes, so a register of ten million rows never sits in memory. [`event_row`] turns a recorded event back
//! into a row, and [`TableWriter`] writes any table (`fdi export`'s figure tables) in the same two encodings.
//!
//! Row offsets are the 0-based index of a row among the data rows of the file, malformed rows included: the
//! header and blank lines (or CSV records whose fields are all blank) are not rows. They are the offsets of the
//! `LoadEvents` protocol, so an importer can report a rejected row, or resume a load, by offset.
//!
//! Values are passed through as text with surrounding whitespace trimmed; checking them is the server's job, so
//! that it can report every invalid field of a row at once. Only rows that cannot be read at all (broken JSON,
//! invalid UTF-8, a wrong number of CSV fields) are reported here, as [`RowError`]s, and reading goes on.

use std::fmt;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::path::Path;
use std::str::FromStr;

use fdi_kit::{
    catalogue::id_of,
    domain::{EventKind, EventStatus, Scope},
    period::date_from_proto,
};
use fdi_proto::ingest::{Event, EventInput};
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;

/// The byte-order mark some spreadsheet programs put at the start of a UTF-8 file.
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// The longest JSON line accepted. A row is a few hundred bytes; the bound keeps a file without line breaks
/// (or a corrupt one) from being read into memory whole. Longer lines are reported as malformed rows.
pub const MAX_JSON_LINE_BYTES: usize = 1 << 20;

/// Size of the read and write buffers.
const BUFFER_BYTES: usize = 64 * 1024;

/// The two encodings of a register.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Comma-separated values with a header row.
    Csv,
    /// One JSON object per line.
    JsonLines,
}

impl Format {
    /// The format a file name implies: `.csv`, or `.jsonl` / `.ndjson` / `.json` (case-insensitive); `None` for
    /// any other name, in which case the caller has to choose explicitly.
    #[must_use]
    pub fn from_path(path: &Path) -> Option<Self> {
        let extension = path.extension()?.to_str()?.to_ascii_lowercase();
        match extension.as_str() {
            "csv" => Some(Self::Csv),
            "jsonl" | "ndjson" | "json" => Some(Self::JsonLines),
            _ => None,
        }
    }

    /// The canonical name, as accepted by [`FromStr`]: `csv` or `jsonl`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::JsonLines => "jsonl",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A format name that is none of `csv`, `jsonl`, `ndjson`, `json`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown register format `{0}` (expected csv or jsonl)")]
pub struct UnknownFormat(pub String);

impl FromStr for Format {
    type Err = UnknownFormat;

    /// Parses an explicit choice, e.g. a `--format` option (case-insensitive).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().to_ascii_lowercase().as_str() {
            "csv" => Ok(Self::Csv),
            "jsonl" | "ndjson" | "json" | "jsonlines" | "json-lines" => Ok(Self::JsonLines),
            _ => Err(UnknownFormat(text.to_owned())),
        }
    }
}

/// A column of the interchange format, i.e. a field of [`EventInput`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Column {
    IdempotencyKey,
    Kind,
    EventDate,
    ProjectRef,
    ProjectName,
    Investor,
    InvestorCountry,
    Zone,
    Province,
    Sector,
    Amount,
    Currency,
    Scope,
    Status,
    Source,
}

impl Column {
    /// Every column, in the order of the spec (and of the header the writer produces).
    pub const ALL: [Self; 15] = [
        Self::IdempotencyKey,
        Self::Kind,
        Self::EventDate,
        Self::ProjectRef,
        Self::ProjectName,
        Self::Investor,
        Self::InvestorCountry,
        Self::Zone,
        Self::Province,
        Self::Sector,
        Self::Amount,
        Self::Currency,
        Self::Scope,
        Self::Status,
        Self::Source,
    ];

    /// The columns a CSV header must have: without them no row of the file could be valid.
    pub const REQUIRED: [Self; 4] = [Self::IdempotencyKey, Self::Kind, Self::EventDate, Self::ProjectRef];

    /// The column's name in a header or a JSON object, e.g. `event_date`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::IdempotencyKey => "idempotency_key",
            Self::Kind => "kind",
            Self::EventDate => "event_date",
            Self::ProjectRef => "project_ref",
            Self::ProjectName => "project_name",
            Self::Investor => "investor",
            Self::InvestorCountry => "investor_country",
            Self::Zone => "zone",
            Self::Province => "province",
            Self::Sector => "sector",
            Self::Amount => "amount",
            Self::Currency => "currency",
            Self::Scope => "scope",
            Self::Status => "status",
            Self::Source => "source",
        }
    }

    /// The column a header cell or JSON key names, ignoring case and surrounding whitespace.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        let name = name.trim();
        Self::ALL
            .into_iter()
            .find(|column| column.name().eq_ignore_ascii_case(name))
    }

    /// The column's value in an event.
    #[must_use]
    pub fn get(self, event: &EventInput) -> &str {
        match self {
            Self::IdempotencyKey => &event.idempotency_key,
            Self::Kind => &event.kind,
            Self::EventDate => &event.event_date,
            Self::ProjectRef => &event.project_ref,
            Self::ProjectName => &event.project_name,
            Self::Investor => &event.investor,
            Self::InvestorCountry => &event.investor_country,
            Self::Zone => &event.zone,
            Self::Province => &event.province,
            Self::Sector => &event.sector,
            Self::Amount => &event.amount,
            Self::Currency => &event.currency,
            Self::Scope => &event.scope,
            Self::Status => &event.status,
            Self::Source => &event.source,
        }
    }

    /// The column's value in an event, to fill it in.
    pub fn get_mut(self, event: &mut EventInput) -> &mut String {
        match self {
            Self::IdempotencyKey => &mut event.idempotency_key,
            Self::Kind => &mut event.kind,
            Self::EventDate => &mut event.event_date,
            Self::ProjectRef => &mut event.project_ref,
            Self::ProjectName => &mut event.project_name,
            Self::Investor => &mut event.investor,
            Self::InvestorCountry => &mut event.investor_country,
            Self::Zone => &mut event.zone,
            Self::Province => &mut event.province,
            Self::Sector => &mut event.sector,
            Self::Amount => &mut event.amount,
            Self::Currency => &mut event.currency,
            Self::Scope => &mut event.scope,
            Self::Status => &mut event.status,
            Self::Source => &mut event.source,
        }
    }

    /// A bit of its own, to track which columns were seen.
    const fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

impl fmt::Display for Column {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a register cannot be read at all. Only a CSV header can cause it (JSON Lines have none).
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The file is empty.
    #[error("the CSV file has no header row")]
    NoHeader,
    /// The header lacks columns that every row needs.
    #[error("the CSV header lacks the required column(s) {}", .missing.join(", "))]
    MissingRequiredColumns {
        /// Names of the missing columns, in spec order.
        missing: Vec<&'static str>,
    },
    /// Two header cells name the same column (perhaps in different case), so which one counts is unclear.
    #[error("the CSV header names column `{column}` twice (cells {first} and {second})")]
    DuplicateColumn {
        /// The column.
        column: &'static str,
        /// 1-based positions of the two cells.
        first: usize,
        second: usize,
    },
    /// The header could not be read.
    #[error("reading the CSV header failed: {0}")]
    Io(#[from] io::Error),
}

/// A row that could not be read. It still has its offset; the reader goes on with the next row.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("row {offset} (line {line}): {message}")]
pub struct RowError {
    /// 0-based offset of the row among the data rows.
    pub offset: u64,
    /// 1-based line of the file where the row starts.
    pub line: u64,
    /// What is wrong, in words.
    pub message: String,
}

/// What a [`RowReader`] can fail with while iterating.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// One malformed row: report it and keep reading.
    #[error(transparent)]
    Row(#[from] RowError),
    /// The input itself failed: the reader stops (it yields nothing more). Rows before `offset` were all
    /// yielded, so a load can resume there.
    #[error("reading the register failed at row {offset} (near line {line}): {source}")]
    Io {
        /// Offset of the row that was being read.
        offset: u64,
        /// 1-based line reached.
        line: u64,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
}

/// Why [`RowReader::skip_to`] failed.
#[derive(Debug, thiserror::Error)]
pub enum SkipError {
    /// The reader only goes forward.
    #[error("cannot skip back to row {requested}: the reader is at row {position}")]
    Backwards { requested: u64, position: u64 },
    /// The input failed while skipping.
    #[error("reading the register failed at row {offset} (near line {line}): {source}")]
    Io {
        offset: u64,
        line: u64,
        #[source]
        source: io::Error,
    },
}

/// Why a source could not hand over a row.
enum Problem {
    /// This row is unreadable; the next one may be fine.
    Malformed { line: u64, message: String },
    /// The input failed; nothing more can be read.
    Failed { line: u64, source: io::Error },
}

/// Reads the rows of a register from any byte stream, one at a time.
///
/// Yields `Ok((offset, event))` for each row, `Err(ReadError::Row(..))` for a malformed row (then goes on), and
/// `Err(ReadError::Io { .. })` when the stream fails (then stops).
pub struct RowReader<R: Read> {
    source: Source<R>,
    next_offset: u64,
    finished: bool,
}

enum Source<R: Read> {
    Csv(CsvSource<R>),
    JsonLines(JsonLinesSource<R>),
}

impl<R: Read> RowReader<R> {
    /// Starts reading `input` in `format`. For CSV this reads and checks the header row.
    ///
    /// # Errors
    /// [`OpenError`] when the CSV header is absent, lacks a required column, names a column twice, or cannot be
    /// read.
    pub fn new(input: R, format: Format) -> Result<Self, OpenError> {
        let source = match format {
            Format::Csv => Source::Csv(CsvSource::open(input)?),
            Format::JsonLines => Source::JsonLines(JsonLinesSource::new(input)),
        };
        Ok(Self {
            source,
            next_offset: 0,
            finished: false,
        })
    }

    /// The format being read.
    #[must_use]
    pub fn format(&self) -> Format {
        match self.source {
            Source::Csv(_) => Format::Csv,
            Source::JsonLines(_) => Format::JsonLines,
        }
    }

    /// The offset the next row will have, i.e. the number of rows read or skipped so far.
    #[must_use]
    pub fn position(&self) -> u64 {
        self.next_offset
    }

    /// CSV header cells that name no column (trimmed, as written), so an importer can warn about a misspelt
    /// column instead of silently leaving it empty. Always empty for JSON Lines, whose unknown keys vary by line.
    #[must_use]
    pub fn ignored_columns(&self) -> &[String] {
        match &self.source {
            Source::Csv(csv) => &csv.ignored_columns,
            Source::JsonLines(_) => &[],
        }
    }

    /// Passes over rows without decoding them until the next row has offset `offset`, to resume a load. CSV
    /// records are still parsed (a quoted field may span lines) but not decoded; JSON lines are only split.
    /// Returns the offset reached: `offset`, or less when the register has fewer rows.
    ///
    /// # Errors
    /// [`SkipError::Backwards`] when rows before `offset` were already read; [`SkipError::Io`] when the stream
    /// fails (the reader then yields nothing more).
    pub fn skip_to(&mut self, offset: u64) -> Result<u64, SkipError> {
        if offset < self.next_offset {
            return Err(SkipError::Backwards {
                requested: offset,
                position: self.next_offset,
            });
        }
        while !self.finished && self.next_offset < offset {
            let skipped = match &mut self.source {
                Source::Csv(csv) => csv.skip_row(),
                Source::JsonLines(json) => json.skip_row(),
            };
            match skipped {
                // A malformed row is still a row (skip_row reports none, but the offsets must agree anyway).
                Ok(true) | Err(Problem::Malformed { .. }) => self.next_offset += 1,
                Ok(false) => self.finished = true,
                Err(Problem::Failed { line, source }) => {
                    self.finished = true;
                    return Err(SkipError::Io {
                        offset: self.next_offset,
                        line,
                        source,
                    });
                }
            }
        }
        Ok(self.next_offset)
    }
}

impl<R: Read> Iterator for RowReader<R> {
    type Item = Result<(u64, EventInput), ReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.finished {
            return None;
        }
        let offset = self.next_offset;
        let fetched = match &mut self.source {
            Source::Csv(csv) => csv.next_row(),
            Source::JsonLines(json) => json.next_row(),
        };
        match fetched {
            Ok(Some(event)) => {
                self.next_offset += 1;
                Some(Ok((offset, event)))
            }
            Err(Problem::Malformed { line, message }) => {
                self.next_offset += 1;
                Some(Err(ReadError::Row(RowError { offset, line, message })))
            }
            Err(Problem::Failed { line, source }) => {
                self.finished = true;
                Some(Err(ReadError::Io { offset, line, source }))
            }
            Ok(None) => {
                self.finished = true;
                None
            }
        }
    }
}

/// CSV rows, with the header's mapping of cells to columns.
struct CsvSource<R: Read> {
    reader: csv::Reader<R>,
    /// For each header cell, the column it feeds (`None`: ignored).
    columns: Vec<Option<Column>>,
    ignored_columns: Vec<String>,
    /// Reused for every record, so reading allocates nothing per row but the event's strings.
    record: csv::ByteRecord,
    /// Whether records end in a bare "\n". The parser counts a line when it consumes a "\n"; with "\r\n" it stops
    /// at the "\r" and consumes the "\n" at the next read. Detected on the header row.
    newline_terminated: bool,
    /// The parser's line count before and after reading the current record, to place it (see `record_line`).
    line_before: u64,
    line_after: u64,
}

impl<R: Read> CsvSource<R> {
    fn open(input: R) -> Result<Self, OpenError> {
        // Flexible: a record with the wrong number of fields becomes a RowError of ours, not a csv error.
        // No headers: the header is read here, to strip a BOM and match names loosely.
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .buffer_capacity(BUFFER_BYTES)
            .from_reader(input);
        let mut header = csv::ByteRecord::new();
        match reader.read_byte_record(&mut header) {
            Ok(true) => {}
            Ok(false) => return Err(OpenError::NoHeader),
            Err(error) => return Err(OpenError::Io(error.into())),
        }
        let mut columns: Vec<Option<Column>> = Vec::with_capacity(header.len());
        let mut ignored_columns = Vec::new();
        for (index, cell) in header.iter().enumerate() {
            let cell = if index == 0 {
                cell.strip_prefix(UTF8_BOM).unwrap_or(cell)
            } else {
                cell
            };
            let name = String::from_utf8_lossy(cell);
            let column = Column::from_name(&name);
            if let Some(column) = column
                && let Some(first) = columns.iter().position(|seen| *seen == Some(column))
            {
                return Err(OpenError::DuplicateColumn {
                    column: column.name(),
                    first: first + 1,
                    second: index + 1,
                });
            }
            if column.is_none() && !name.trim().is_empty() {
                ignored_columns.push(name.trim().to_owned());
            }
            columns.push(column);
        }
        let newline_terminated = reader.position().line() > 1 + count_newlines(&header);
        let missing: Vec<&'static str> = Column::REQUIRED
            .into_iter()
            .filter(|required| !columns.contains(&Some(*required)))
            .map(Column::name)
            .collect();
        if !missing.is_empty() {
            return Err(OpenError::MissingRequiredColumns { missing });
        }
        let line = reader.position().line();
        Ok(Self {
            reader,
            columns,
            ignored_columns,
            record: csv::ByteRecord::new(),
            newline_terminated,
            line_before: line,
            line_after: line,
        })
    }

    /// The 1-based line where the current record starts. The csv crate's own record position does not count the
    /// blank lines it skips before a record, so it is derived from the line count after the record instead: minus
    /// the line breaks inside quoted fields and the one of the terminator. Only computed for malformed rows.
    fn record_line(&self) -> u64 {
        let terminator = u64::from(self.newline_terminated);
        // The floor covers a last record without a final line break (no terminator was counted); such a record
        // that follows blank lines is still placed one line early, which the parser gives no way to tell.
        self.line_after
            .saturating_sub(count_newlines(&self.record) + terminator)
            .max(self.line_before)
    }

    /// Reads the next record that is not blank into `self.record`: `Ok(false)` at the end.
    fn read_nonblank_record(&mut self) -> Result<bool, Problem> {
        loop {
            self.line_before = self.reader.position().line();
            let read = self.reader.read_byte_record(&mut self.record);
            self.line_after = self.reader.position().line();
            match read {
                Ok(false) => return Ok(false),
                // A record of blank fields is what spreadsheets export for an empty row: not a row.
                Ok(true) if self.record.iter().all(|field| field.trim_ascii().is_empty()) => {}
                Ok(true) => return Ok(true),
                Err(error) => {
                    let line = self.line_after;
                    let message = error.to_string();
                    return Err(match error.into_kind() {
                        csv::ErrorKind::Io(source) => Problem::Failed { line, source },
                        // Not expected with byte records and flexible lengths, but not a reason to stop.
                        _ => Problem::Malformed { line, message },
                    });
                }
            }
        }
    }

    /// The next row: `Ok(None)` at the end.
    fn next_row(&mut self) -> Result<Option<EventInput>, Problem> {
        if self.read_nonblank_record()? {
            self.decode_record().map(Some)
        } else {
            Ok(None)
        }
    }

    /// Passes over the next row without decoding it: `Ok(false)` at the end. Only input failures are errors.
    fn skip_row(&mut self) -> Result<bool, Problem> {
        match self.read_nonblank_record() {
            Err(Problem::Malformed { .. }) => Ok(true),
            other => other,
        }
    }

    fn decode_record(&self) -> Result<EventInput, Problem> {
        let expected = self.columns.len();
        let found = self.record.len();
        // Fewer fields than the header means a truncated or broken line: the values would land in the wrong
        // columns. Extra fields are tolerated only when empty (trailing separators of spreadsheet exports).
        let extra_data = self
            .record
            .iter()
            .skip(expected)
            .any(|field| !field.trim_ascii().is_empty());
        if found < expected || extra_data {
            return Err(Problem::Malformed {
                line: self.record_line(),
                message: format!("the record has {found} fields but the header has {expected}"),
            });
        }
        let mut event = EventInput::default();
        for (field, column) in self.record.iter().zip(&self.columns) {
            let Some(column) = column else { continue };
            match std::str::from_utf8(field) {
                Ok(text) => column.get_mut(&mut event).push_str(text.trim()),
                Err(error) => {
                    return Err(Problem::Malformed {
                        line: self.record_line(),
                        message: format!("field `{column}` is not valid UTF-8 (byte {})", error.valid_up_to() + 1),
                    });
                }
            }
        }
        Ok(event)
    }
}

/// Line breaks inside the fields of a record (quoted fields may span lines).
fn count_newlines(record: &csv::ByteRecord) -> u64 {
    record.iter().flatten().filter(|&&byte| byte == b'\n').count() as u64
}

/// JSON Lines rows.
struct JsonLinesSource<R: Read> {
    reader: BufReader<R>,
    /// The current line, reused.
    line: Vec<u8>,
    /// 1-based number of the last line read (blank lines count).
    line_number: u64,
}

/// One physical line of a JSON Lines file.
enum Line {
    Content,
    Blank,
    TooLong,
    End,
}

impl<R: Read> JsonLinesSource<R> {
    fn new(input: R) -> Self {
        Self {
            reader: BufReader::with_capacity(BUFFER_BYTES, input),
            line: Vec::new(),
            line_number: 0,
        }
    }

    /// Reads the next line into `self.line`, without its terminator, keeping at most [`MAX_JSON_LINE_BYTES`].
    fn read_line(&mut self) -> io::Result<Line> {
        self.line.clear();
        let mut read_anything = false;
        let mut too_long = false;
        loop {
            let available = match self.reader.fill_buf() {
                Ok(available) => available,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) => return Err(error),
            };
            if available.is_empty() {
                if !read_anything {
                    return Ok(Line::End);
                }
                break;
            }
            read_anything = true;
            let newline = available.iter().position(|&byte| byte == b'\n');
            let content = &available[..newline.unwrap_or(available.len())];
            if !too_long {
                if self.line.len() + content.len() > MAX_JSON_LINE_BYTES {
                    // Drop what was kept and pass over the rest of the line without storing it.
                    too_long = true;
                    self.line.clear();
                } else {
                    self.line.extend_from_slice(content);
                }
            }
            let consumed = content.len() + usize::from(newline.is_some());
            self.reader.consume(consumed);
            if newline.is_some() {
                break;
            }
        }
        self.line_number += 1;
        if too_long {
            return Ok(Line::TooLong);
        }
        if self.line_number == 1 && self.line.starts_with(UTF8_BOM) {
            self.line.drain(..UTF8_BOM.len());
        }
        if self.line.last() == Some(&b'\r') {
            self.line.pop();
        }
        // Only ASCII whitespace is blank: other bytes (or invalid UTF-8) make a row, and so a RowError.
        Ok(if self.line.trim_ascii().is_empty() {
            Line::Blank
        } else {
            Line::Content
        })
    }

    /// The next row: `Ok(None)` at the end.
    fn next_row(&mut self) -> Result<Option<EventInput>, Problem> {
        loop {
            let line = match self.read_line() {
                Ok(line) => line,
                Err(source) => {
                    return Err(Problem::Failed {
                        line: self.line_number + 1,
                        source,
                    });
                }
            };
            let line_number = self.line_number;
            return match line {
                Line::Blank => continue,
                Line::End => Ok(None),
                Line::TooLong => Err(Problem::Malformed {
                    line: line_number,
                    message: format!("the line is longer than {MAX_JSON_LINE_BYTES} bytes"),
                }),
                Line::Content => match decode_json_row(&self.line) {
                    Ok(event) => Ok(Some(event)),
                    Err(message) => Err(Problem::Malformed {
                        line: line_number,
                        message,
                    }),
                },
            };
        }
    }

    /// Passes over the next row without parsing it: `Ok(false)` at the end.
    fn skip_row(&mut self) -> Result<bool, Problem> {
        loop {
            match self.read_line() {
                Ok(Line::Blank) => {}
                Ok(Line::Content | Line::TooLong) => return Ok(true),
                Ok(Line::End) => return Ok(false),
                Err(source) => {
                    return Err(Problem::Failed {
                        line: self.line_number + 1,
                        source,
                    });
                }
            }
        }
    }
}

/// Decodes one JSON line into an event, or says in words why it cannot.
fn decode_json_row(line: &[u8]) -> Result<EventInput, String> {
    let text = std::str::from_utf8(line)
        .map_err(|error| format!("the line is not valid UTF-8 (byte {})", error.valid_up_to() + 1))?;
    match serde_json::from_str::<JsonRow>(text) {
        Ok(JsonRow(event)) => Ok(event),
        Err(error) => {
            // serde_json says "... at line 1 column N"; the line is ours to give, the column is worth keeping.
            let full = error.to_string();
            let reason = full
                .rsplit_once(" at line ")
                .map_or(full.as_str(), |(reason, _)| reason);
            Err(format!("invalid JSON at column {}: {reason}", error.column()))
        }
    }
}

/// An event decoded straight from a JSON object: keys matched like CSV headers, unknown keys ignored.
struct JsonRow(EventInput);

impl<'de> serde::Deserialize<'de> for JsonRow {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(JsonRowVisitor)
    }
}

struct JsonRowVisitor;

impl<'de> Visitor<'de> for JsonRowVisitor {
    type Value = JsonRow;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a JSON object with the interchange fields")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<JsonRow, A::Error> {
        let mut event = EventInput::default();
        let mut seen: u16 = 0;
        while let Some(key) = map.next_key::<JsonKey<'de>>()? {
            let Some(column) = Column::from_name(key.as_str()) else {
                map.next_value::<IgnoredAny>()?;
                continue;
            };
            if seen & column.bit() != 0 {
                return Err(de::Error::custom(format_args!(
                    "field `{column}` appears more than once"
                )));
            }
            seen |= column.bit();
            // Borrowed raw text: a number keeps its exact digits (no f64 round trip, no arbitrary_precision).
            let raw: &'de RawValue = map.next_value()?;
            *column.get_mut(&mut event) = json_value_text(column, raw).map_err(de::Error::custom)?;
        }
        Ok(JsonRow(event))
    }
}

/// A JSON key, borrowed unless it contains escapes.
enum JsonKey<'de> {
    Borrowed(&'de str),
    Owned(String),
}

impl JsonKey<'_> {
    fn as_str(&self) -> &str {
        match self {
            Self::Borrowed(key) => key,
            Self::Owned(key) => key,
        }
    }
}

impl<'de> serde::Deserialize<'de> for JsonKey<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = JsonKey<'de>;
            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("a field name")
            }
            fn visit_borrowed_str<E: de::Error>(self, key: &'de str) -> Result<Self::Value, E> {
                Ok(JsonKey::Borrowed(key))
            }
            fn visit_str<E: de::Error>(self, key: &str) -> Result<Self::Value, E> {
                Ok(JsonKey::Owned(key.to_owned()))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// The text of a JSON value for a column: strings unquoted, numbers as written, `null` as empty, booleans as
/// `true` / `false` (the server then says which field is wrong). Objects and arrays make the row malformed.
fn json_value_text(column: Column, raw: &RawValue) -> Result<String, String> {
    let text = raw.get().trim();
    match text.as_bytes().first() {
        Some(b'"') => {
            let value: String = serde_json::from_str(text).map_err(|error| format!("field `{column}`: {error}"))?;
            let trimmed = value.trim();
            Ok(if trimmed.len() == value.len() {
                value
            } else {
                trimmed.to_owned()
            })
        }
        Some(b'{') => Err(format!("field `{column}` must be a string or a number, not an object")),
        Some(b'[') => Err(format!("field `{column}` must be a string or a number, not an array")),
        _ if text == "null" => Ok(String::new()),
        _ => Ok(text.to_owned()),
    }
}

/// Writes a table of text, CSV (a header row) or JSON Lines (an object per row with every column, as strings),
/// the encodings of registers: the register writer ([`RowWriter`]) and `fdi export`'s figure tables share it.
/// Values are written as given, so exact decimals stay exact.
pub struct TableWriter<W: Write> {
    columns: Vec<&'static str>,
    sink: Sink<W>,
    rows_written: u64,
}

enum Sink<W: Write> {
    // Boxed: the csv writer is several times the size of a BufWriter.
    Csv(Box<csv::Writer<W>>),
    JsonLines(BufWriter<W>),
}

impl<W: Write> TableWriter<W> {
    /// Starts a table of `columns` on `output`; for CSV the header row is written (buffered) at once, so even a
    /// table without rows can be read back.
    ///
    /// # Errors
    /// An I/O error of `output`.
    pub fn new(output: W, format: Format, columns: &[&'static str]) -> io::Result<Self> {
        let sink = match format {
            Format::Csv => {
                let mut writer = csv::WriterBuilder::new()
                    .buffer_capacity(BUFFER_BYTES)
                    .from_writer(output);
                writer.write_record(columns)?;
                Sink::Csv(Box::new(writer))
            }
            Format::JsonLines => Sink::JsonLines(BufWriter::with_capacity(BUFFER_BYTES, output)),
        };
        Ok(Self {
            columns: columns.to_vec(),
            sink,
            rows_written: 0,
        })
    }

    /// Appends one row: a value per column, in the columns' order.
    ///
    /// # Errors
    /// An I/O error of the output, or `InvalidInput` when the row has another number of values than the table
    /// has columns.
    pub fn write_row<V: AsRef<str>>(&mut self, values: &[V]) -> io::Result<()> {
        if values.len() != self.columns.len() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("a row of {} values for {} columns", values.len(), self.columns.len()),
            ));
        }
        match &mut self.sink {
            Sink::Csv(writer) => writer.write_record(values.iter().map(AsRef::as_ref))?,
            Sink::JsonLines(writer) => write_json_row(writer, &self.columns, values)?,
        }
        self.rows_written += 1;
        Ok(())
    }

    /// Rows written so far.
    #[must_use]
    pub fn rows_written(&self) -> u64 {
        self.rows_written
    }

    /// Hands the rows written so far to the output, e.g. after each page of an export, so a reader sees them.
    ///
    /// # Errors
    /// An I/O error of the output.
    pub fn flush(&mut self) -> io::Result<()> {
        match &mut self.sink {
            Sink::Csv(writer) => writer.flush(),
            Sink::JsonLines(writer) => writer.flush(),
        }
    }

    /// Flushes the buffers and hands back the output.
    ///
    /// # Errors
    /// An I/O error while flushing.
    pub fn finish(self) -> io::Result<W> {
        match self.sink {
            Sink::Csv(writer) => writer.into_inner().map_err(csv::IntoInnerError::into_error),
            Sink::JsonLines(writer) => writer.into_inner().map_err(io::IntoInnerError::into_error),
        }
    }
}

fn write_json_row<V: AsRef<str>>(writer: &mut impl Write, columns: &[&str], values: &[V]) -> io::Result<()> {
    writer.write_all(b"{")?;
    for (index, (column, value)) in columns.iter().zip(values).enumerate() {
        if index > 0 {
            writer.write_all(b",")?;
        }
        serde_json::to_writer(&mut *writer, column)?;
        writer.write_all(b":")?;
        serde_json::to_writer(&mut *writer, value.as_ref())?;
    }
    writer.write_all(b"}\n")
}

/// Writes events as a register, CSV (header in spec order) or JSON Lines (every field, as strings).
pub struct RowWriter<W: Write> {
    table: TableWriter<W>,
}

impl<W: Write> RowWriter<W> {
    /// Starts a register on `output`; for CSV the header row is written (buffered) at once, so even a register
    /// without rows can be read back.
    ///
    /// # Errors
    /// An I/O error of `output`.
    pub fn new(output: W, format: Format) -> io::Result<Self> {
        Ok(Self {
            table: TableWriter::new(output, format, &Column::ALL.map(Column::name))?,
        })
    }

    /// Appends one row.
    ///
    /// # Errors
    /// An I/O error of the output.
    pub fn write_row(&mut self, event: &EventInput) -> io::Result<()> {
        self.table.write_row(&Column::ALL.map(|column| column.get(event)))
    }

    /// Rows written so far.
    #[must_use]
    pub fn rows_written(&self) -> u64 {
        self.table.rows_written()
    }

    /// Hands the rows written so far to the output.
    ///
    /// # Errors
    /// An I/O error of the output.
    pub fn flush(&mut self) -> io::Result<()> {
        self.table.flush()
    }

    /// Flushes the buffers and hands back the output.
    ///
    /// # Errors
    /// An I/O error while flushing.
    pub fn finish(self) -> io::Result<W> {
        self.table.finish()
    }
}

/// The register row that records `event` again (`fdi export events`): the same idempotency key and project
/// reference, the amount exactly as recorded with its currency, kind, scope and status by name, the province as
/// recorded and the zone by catalogue id, the investor's name as written. Loaded into a system with the same
/// reference data it records the same event. Where its key is recorded already it adds nothing: a duplicate when
/// the event was recorded from this very row, else a conflict (the original row spelt a place or left a default).
#[must_use]
pub fn event_row(event: &Event) -> EventInput {
    let name = |value: Option<&'static str>| value.unwrap_or_default().to_owned();
    let amount = event.amount.as_ref().filter(|_| !event.amount_text.is_empty());
    EventInput {
        idempotency_key: event.idempotency_key.clone(),
        kind: name(
            EventKind::from_proto_field(event.kind)
                .ok()
                .flatten()
                .map(EventKind::as_str),
        ),
        event_date: event
            .event_date
            .as_ref()
            .and_then(date_from_proto)
            .map(|date| date.format("%Y-%m-%d").to_string())
            .unwrap_or_default(),
        project_ref: event.project_ref.clone(),
        project_name: event.project_name.clone(),
        investor: event.investor_text.clone(),
        investor_country: event.investor_country.clone(),
        zone: id_of(&event.zone).to_owned(),
        province: id_of(&event.province).to_owned(),
        sector: event.sector.clone(),
        amount: amount.map(|_| event.amount_text.clone()).unwrap_or_default(),
        currency: amount.map(|money| money.currency_code.clone()).unwrap_or_default(),
        scope: name(Scope::from_proto_field(event.scope).ok().flatten().map(Scope::as_str)),
        status: name(
            EventStatus::from_proto_field(event.status)
                .ok()
                .flatten()
                .map(EventStatus::as_str),
        ),
        source: event.source.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(text: &str, format: Format) -> Vec<Result<(u64, EventInput), ReadError>> {
        RowReader::new(text.as_bytes(), format).unwrap().collect()
    }

    fn rows(text: &str, format: Format) -> Vec<(u64, EventInput)> {
        read_all(text, format).into_iter().map(Result::unwrap).collect()
    }

    fn sample_event(index: u64) -> EventInput {
        EventInput {
            idempotency_key: format!("key-{index}"),
            kind: "new".into(),
            event_date: "2024-03-15".into(),
            project_ref: format!("CERT-{index}"),
            project_name: "Nhà máy \"Điện tử\", giai đoạn 2\nphase two".into(),
            investor: "Samsung Electronics Co., Ltd".into(),
            investor_country: "KR".into(),
            zone: "KCN Quang Châu".into(),
            province: "Bắc Giang".into(),
            sector: "C".into(),
            amount: "920000000.50".into(),
            currency: "USD".into(),
            scope: "fdi".into(),
            status: String::new(),
            source: "https://example.org/register?id=1,2".into(),
        }
    }

    #[test]
    fn format_from_path_and_name() {
        assert_eq!(Format::from_path(Path::new("a/b/register.CSV")), Some(Format::Csv));
        assert_eq!(Format::from_path(Path::new("x.jsonl")), Some(Format::JsonLines));
        assert_eq!(Format::from_path(Path::new("x.ndjson")), Some(Format::JsonLines));
        assert_eq!(Format::from_path(Path::new("x.json")), Some(Format::JsonLines));
        assert_eq!(Format::from_path(Path::new("x.xlsx")), None);
        assert_eq!(Format::from_path(Path::new("noextension")), None);
        assert_eq!("CSV".parse::<Format>(), Ok(Format::Csv));
        assert_eq!("ndjson".parse::<Format>(), Ok(Format::JsonLines));
        assert!("xml".parse::<Format>().is_err());
    }

    #[test]
    fn csv_quoted_commas_and_newlines() {
        let text = "idempotency_key,kind,event_date,project_ref,project_name,amount\n\
                    k1,new,2024-01-02,P1,\"Plant, phase 1\",100\n\
                    k2,adjustment,2024-02-03,P1,\"two\nlines \"\"quoted\"\"\",-5.5\r\n\
                    k3,new,2024-03-04,P2,plain,7\n";
        let rows = rows(text, Format::Csv);
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].1.project_name, "Plant, phase 1");
        assert_eq!(rows[1].1.project_name, "two\nlines \"quoted\"");
        assert_eq!(rows[1].1.amount, "-5.5");
        assert_eq!(rows[2].0, 2);
        assert_eq!(rows[2].1.idempotency_key, "k3");
    }

    #[test]
    fn csv_bom_reordered_extra_and_loose_header() {
        let text = "\u{feff} Project_Ref ,notes,KIND,Event_Date,idempotency_key,Province\n\
                    P9, whatever ,termination, 2023-12-31 ,k9,  Hà Nội  \n";
        let mut reader = RowReader::new(text.as_bytes(), Format::Csv).unwrap();
        assert_eq!(reader.ignored_columns(), ["notes"]);
        let (offset, event) = reader.next().unwrap().unwrap();
        assert_eq!(offset, 0);
        assert_eq!(event.project_ref, "P9");
        assert_eq!(event.kind, "termination");
        assert_eq!(event.event_date, "2023-12-31");
        assert_eq!(event.idempotency_key, "k9");
        assert_eq!(event.province, "Hà Nội");
        assert_eq!(event.amount, "", "a missing optional column reads as empty");
        assert!(reader.next().is_none());
    }

    #[test]
    fn csv_missing_required_header_is_reported_up_front() {
        let error = RowReader::new("kind,project_ref,amount\nnew,P1,5\n".as_bytes(), Format::Csv)
            .err()
            .unwrap();
        match &error {
            OpenError::MissingRequiredColumns { missing } => assert_eq!(missing, &["idempotency_key", "event_date"]),
            other => panic!("unexpected {other:?}"),
        }
        assert!(error.to_string().contains("idempotency_key, event_date"));
        assert!(matches!(
            RowReader::new("".as_bytes(), Format::Csv),
            Err(OpenError::NoHeader)
        ));
        let duplicate = "idempotency_key,kind,event_date,project_ref,Kind\n";
        assert!(matches!(
            RowReader::new(duplicate.as_bytes(), Format::Csv),
            Err(OpenError::DuplicateColumn {
                column: "kind",
                first: 2,
                second: 5
            })
        ));
    }

    #[test]
    fn csv_malformed_records_do_not_stop_reading() {
        let text = "idempotency_key,kind,event_date,project_ref\n\
                    k0,new,2024-01-01,P0\n\
                    \n\
                    k1,new\n\
                    ,,,\n\
                    k2,new,2024-01-03,P2,extra\n\
                    k3,new,2024-01-04,P3,,\n\
                    k4,new,2024-01-05,P4\n";
        let results = read_all(text, Format::Csv);
        assert_eq!(results.len(), 5);
        assert_eq!(results[0].as_ref().unwrap().0, 0);
        match &results[1] {
            Err(ReadError::Row(error)) => {
                assert_eq!((error.offset, error.line), (1, 4));
                assert!(error.message.contains("2 fields"), "{}", error.message);
            }
            other => panic!("unexpected {other:?}"),
        }
        match &results[2] {
            Err(ReadError::Row(error)) => assert_eq!((error.offset, error.line), (2, 6)),
            other => panic!("unexpected {other:?}"),
        }
        let (offset, event) = results[3].as_ref().unwrap();
        assert_eq!(
            (*offset, event.idempotency_key.as_str()),
            (3, "k3"),
            "empty trailing fields are fine"
        );
        assert_eq!(results[4].as_ref().unwrap().0, 4);
    }

    #[test]
    fn csv_error_lines_count_blank_lines_and_quoted_breaks() {
        // Rows 0, 2 and 4 are short; they start on lines 3, 7 and 9 whatever the line endings.
        let lines = [
            "idempotency_key,kind,event_date,project_ref",
            "",
            "bad0",
            "k1,new,\"2024-01-01",
            "continued\",P1",
            "",
            "bad2",
            "k3,new,2024-01-03,P3",
            "bad4",
        ];
        for ending in ["\n", "\r\n"] {
            for final_break in [true, false] {
                let mut text = lines.join(ending);
                if final_break {
                    text.push_str(ending);
                }
                let errors: Vec<(u64, u64)> = read_all(&text, Format::Csv)
                    .into_iter()
                    .filter_map(|result| match result {
                        Err(ReadError::Row(error)) => Some((error.offset, error.line)),
                        _ => None,
                    })
                    .collect();
                assert_eq!(
                    errors,
                    [(0, 3), (2, 7), (4, 9)],
                    "ending {ending:?}, final break {final_break}"
                );
            }
        }
    }

    #[test]
    fn csv_invalid_utf8_is_a_row_error() {
        let mut bytes = b"idempotency_key,kind,event_date,project_ref\nk0,new,2024-01-01,P\xff\n".to_vec();
        bytes.extend_from_slice(b"k1,new,2024-01-01,P1\n");
        let results: Vec<_> = RowReader::new(bytes.as_slice(), Format::Csv).unwrap().collect();
        assert!(matches!(
            &results[0],
            Err(ReadError::Row(RowError { offset: 0, line: 2, .. }))
        ));
        assert_eq!(results[1].as_ref().unwrap().1.project_ref, "P1");
    }

    #[test]
    fn jsonl_numbers_strings_and_nulls() {
        let text = concat!(
            "{\"idempotency_key\":\"k1\",\"kind\":\"new\",\"event_date\":\"2024-05-06\",\"project_ref\":\"P1\",",
            "\"amount\": 920000000, \"currency\":\"USD\",\"zone\":null,\"extra\":{\"nested\":[1,2]}}\n",
            "{\"Idempotency_Key\":\"k2\",\"amount\":1000000000000000,\"sector\":\"  C \"}\n",
            "{\"idempotency_key\":\"k3\",\"amount\":1234.5,\"province\":\"H\\u00e0 N\\u1ed9i\"}\n",
            "{\"idempotency_key\":\"k4\",\"amount\":0.10,\"scope\":true}\n",
            "{\"idempotency_key\":\"k5\",\"amount\":12345678901234567890.123456789}\n",
        );
        let rows = rows(text, Format::JsonLines);
        assert_eq!(rows.len(), 5);
        assert_eq!(rows[0].1.amount, "920000000");
        assert_eq!(rows[0].1.currency, "USD");
        assert_eq!(rows[0].1.zone, "");
        assert_eq!(rows[1].1.idempotency_key, "k2");
        assert_eq!(rows[1].1.amount, "1000000000000000");
        assert_eq!(rows[1].1.sector, "C");
        assert_eq!(rows[2].1.amount, "1234.5");
        assert_eq!(rows[2].1.province, "Hà Nội");
        assert_eq!(rows[3].1.amount, "0.10", "exact text, not an f64 rendering");
        assert_eq!(rows[3].1.scope, "true");
        assert_eq!(rows[4].1.amount, "12345678901234567890.123456789");
    }

    #[test]
    fn jsonl_malformed_lines_do_not_stop_reading() {
        let text = concat!(
            "\u{feff}{\"idempotency_key\":\"k0\"}\n",
            "\n",
            "   \n",
            "{\"idempotency_key\":\"k1\",\n",
            "[1,2,3]\n",
            "{\"idempotency_key\":\"k3\",\"amount\":[1]}\n",
            "{\"kind\":\"new\",\"KIND\":\"new\"}\n",
            "{\"idempotency_key\":\"k5\"} trailing\n",
            "{\"idempotency_key\":\"k6\"}\r\n",
            "{\"idempotency_key\":\"k7\"}",
        );
        let results = read_all(text, Format::JsonLines);
        let summary: Vec<(u64, u64, bool)> = results
            .iter()
            .map(|result| match result {
                Ok((offset, _)) => (*offset, 0, true),
                Err(ReadError::Row(error)) => (error.offset, error.line, false),
                Err(other) => panic!("unexpected {other:?}"),
            })
            .collect();
        assert_eq!(
            summary,
            [
                (0, 0, true),
                (1, 4, false),
                (2, 5, false),
                (3, 6, false),
                (4, 7, false),
                (5, 8, false),
                (6, 0, true),
                (7, 0, true)
            ]
        );
        let messages: Vec<String> = results
            .iter()
            .filter_map(|r| r.as_ref().err())
            .map(ToString::to_string)
            .collect();
        assert!(messages[2].contains("not an array"), "{messages:?}");
        assert!(messages[3].contains("more than once"), "{messages:?}");
        assert_eq!(results[6].as_ref().unwrap().1.idempotency_key, "k6");
        assert_eq!(results[7].as_ref().unwrap().1.idempotency_key, "k7");
    }

    #[test]
    fn jsonl_overlong_line_is_a_row_error() {
        let long = format!("{{\"idempotency_key\":\"{}\"}}\n", "x".repeat(MAX_JSON_LINE_BYTES));
        let text = format!("{long}{{\"idempotency_key\":\"k1\"}}\n");
        let results = read_all(&text, Format::JsonLines);
        assert!(matches!(
            &results[0],
            Err(ReadError::Row(RowError { offset: 0, line: 1, .. }))
        ));
        assert_eq!(results[1].as_ref().unwrap().0, 1);
    }

    #[test]
    fn skip_to_resumes_at_the_same_offsets() {
        for format in [Format::Csv, Format::JsonLines] {
            let mut buffer = Vec::new();
            let mut writer = RowWriter::new(&mut buffer, format).unwrap();
            for index in 0..10 {
                writer.write_row(&sample_event(index)).unwrap();
            }
            writer.finish().unwrap();
            let mut reader = RowReader::new(buffer.as_slice(), format).unwrap();
            assert_eq!(reader.skip_to(7).unwrap(), 7);
            let (offset, event) = reader.next().unwrap().unwrap();
            assert_eq!((offset, event.idempotency_key.as_str()), (7, "key-7"), "{format}");
            assert!(matches!(
                reader.skip_to(3),
                Err(SkipError::Backwards {
                    requested: 3,
                    position: 8
                })
            ));
            assert_eq!(reader.skip_to(100).unwrap(), 10);
            assert!(reader.next().is_none());
        }
    }

    #[test]
    fn round_trip_through_both_formats() {
        let events: Vec<EventInput> = (0..50).map(sample_event).collect();
        for format in [Format::Csv, Format::JsonLines] {
            let mut writer = RowWriter::new(Vec::new(), format).unwrap();
            for event in &events {
                writer.write_row(event).unwrap();
            }
            assert_eq!(writer.rows_written(), 50);
            let bytes = writer.finish().unwrap();
            let read: Vec<(u64, EventInput)> = RowReader::new(bytes.as_slice(), format)
                .unwrap()
                .map(Result::unwrap)
                .collect();
            let offsets: Vec<u64> = read.iter().map(|(offset, _)| *offset).collect();
            assert_eq!(offsets, (0..50).collect::<Vec<_>>());
            assert_eq!(
                read.into_iter().map(|(_, event)| event).collect::<Vec<_>>(),
                events,
                "{format}"
            );
        }
        let header = RowWriter::new(Vec::new(), Format::Csv).unwrap().finish().unwrap();
        assert_eq!(
            String::from_utf8(header).unwrap().trim_end(),
            Column::ALL.map(Column::name).join(","),
            "an empty register still has its header"
        );
    }

    #[test]
    fn a_table_in_both_formats() {
        let columns = ["figure", "value", "currency"];
        let rows = [["total_capital", "1250000.5", "USD"], ["new_projects", "3", ""]];
        let mut csv = TableWriter::new(Vec::new(), Format::Csv, &columns).unwrap();
        let mut json = TableWriter::new(Vec::new(), Format::JsonLines, &columns).unwrap();
        for row in &rows {
            csv.write_row(row).unwrap();
            json.write_row(row).unwrap();
        }
        assert_eq!(json.rows_written(), 2);
        let error = csv.write_row(&["too", "few"]).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
        assert_eq!(
            String::from_utf8(csv.finish().unwrap()).unwrap(),
            "figure,value,currency\ntotal_capital,1250000.5,USD\nnew_projects,3,\n"
        );
        assert_eq!(
            String::from_utf8(json.finish().unwrap()).unwrap(),
            "{\"figure\":\"total_capital\",\"value\":\"1250000.5\",\"currency\":\"USD\"}\n\
             {\"figure\":\"new_projects\",\"value\":\"3\",\"currency\":\"\"}\n"
        );
    }

    #[test]
    fn a_recorded_event_becomes_the_row_that_records_it() {
        use fdi_proto::{Date, Money, common, ingest};
        let event = Event {
            name: "events/7".into(),
            sequence: 7,
            idempotency_key: "key-7".into(),
            kind: common::EventKind::SharePurchase.into(),
            event_date: Some(Date {
                year: 2024,
                month: 3,
                day: 5,
            }),
            project_ref: "CERT-7".into(),
            project_name: "Plant, \"phase\" 2".into(),
            investor: "investors/12".into(),
            investor_text: "Samsung Electronics Co., Ltd".into(),
            investor_country: "KR".into(),
            zone: "zones/quang-chau".into(),
            province: "provinces/bac-giang".into(),
            current_province: "provinces/bac-ninh".into(),
            sector: "C".into(),
            amount: Some(Money {
                currency_code: "USD".into(),
                units: 920_000_000,
                nanos: 500_000_000,
            }),
            amount_text: "920000000.50".into(),
            scope: common::Scope::Fdi.into(),
            status: ingest::EventStatus::Estimated.into(),
            source: "https://example.org/a".into(),
            ..Event::default()
        };
        let row = event_row(&event);
        assert_eq!(
            row,
            EventInput {
                idempotency_key: "key-7".into(),
                kind: "share_purchase".into(),
                event_date: "2024-03-05".into(),
                project_ref: "CERT-7".into(),
                project_name: "Plant, \"phase\" 2".into(),
                investor: "Samsung Electronics Co., Ltd".into(),
                investor_country: "KR".into(),
                zone: "quang-chau".into(),
                province: "bac-giang".into(),
                sector: "C".into(),
                amount: "920000000.50".into(),
                currency: "USD".into(),
                scope: "fdi".into(),
                status: "estimated".into(),
                source: "https://example.org/a".into(),
            }
        );
        let termination = Event {
            kind: common::EventKind::Termination.into(),
            amount: None,
            amount_text: String::new(),
            zone: String::new(),
            ..event
        };
        let row = event_row(&termination);
        assert_eq!(
            (row.kind.as_str(), row.amount.as_str(), row.currency.as_str()),
            ("termination", "", "")
        );
        assert_eq!(row.zone, "");
    }

    #[test]
    fn io_failure_stops_the_reader() {
        struct Failing(usize);
        impl Read for Failing {
            fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
                let line = b"{\"idempotency_key\":\"k\"}\n";
                if self.0 == 0 {
                    return Err(io::Error::other("disk gone"));
                }
                self.0 -= 1;
                buffer[..line.len()].copy_from_slice(line);
                Ok(line.len())
            }
        }
        let results: Vec<_> = RowReader::new(Failing(2), Format::JsonLines).unwrap().collect();
        assert_eq!(results.len(), 3);
        assert!(matches!(&results[2], Err(ReadError::Io { offset: 2, line: 3, .. })));
    }
}
