//! The team's spreadsheet, exactly, and a model to go beyond it.
//!
//! Workloads are read from a CSV file with the columns `name,queries,duration` (other columns
//! are ignored; fields may be quoted). The spreadsheet predicts each workload's duration with
//! more network latency per query as `duration + queries × added`, with integer nanosecond
//! arithmetic, so that its numbers are exact: that is the no-contention baseline. The same
//! workloads give a starting model ([`starting_model`]) whose simulated durations, without
//! contention, are the measured ones, and which then shows what the spreadsheet cannot: waiting
//! for pooled connections, workers and database cores.

use crate::model::units::{parse_duration, parse_rate, Nanos};
use serde::Serialize;
use serde_json::{json, Map, Value};
use std::fmt::{self, Write};

/// Nanoseconds in one second.
const NS_PER_S: u128 = 1_000_000_000;

/// The columns a workloads file must have, in the order they are described.
pub const REQUIRED_COLUMNS: [&str; 3] = ["name", "queries", "duration"];

/// One measured workload: a request or job that runs `queries` queries and takes `duration_ns`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Workload {
    /// The workload's name, as written ("API::Payments::Create").
    pub name: String,
    /// Database queries per run of the workload.
    pub queries: u64,
    /// Measured duration of one run, nanoseconds.
    pub duration_ns: Nanos,
    /// The line of the CSV file it was read from (1 is the header).
    pub line: usize,
}

/// A problem in a workloads file, with where it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CsvError {
    /// The line (1-based); `None` for the file as a whole.
    pub line: Option<usize>,
    /// The column: its 1-based position and, when known, its header name.
    pub column: Option<(usize, String)>,
    /// What is wrong and what was expected.
    pub message: String,
}

impl fmt::Display for CsvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, &self.column) {
            (Some(line), Some((n, name))) if !name.is_empty() => write!(f, "line {line}, column {n} ({name}): ")?,
            (Some(line), Some((n, _))) => write!(f, "line {line}, column {n}: ")?,
            (Some(line), None) => write!(f, "line {line}: ")?,
            (None, _) => {}
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for CsvError {}

impl CsvError {
    fn at(line: usize, column: Option<(usize, &str)>, message: impl Into<String>) -> CsvError {
        CsvError {
            line: Some(line),
            column: column.map(|(n, name)| (n, name.to_string())),
            message: message.into(),
        }
    }
}

/// One record of a CSV file: its fields and the line it starts on.
#[derive(Debug, PartialEq)]
struct Record {
    line: usize,
    fields: Vec<String>,
}

/// Split CSV text into records (RFC 4180: fields separated by commas, optionally in double
/// quotes, a quote inside a quoted field doubled; quoted fields may span lines). A leading
/// byte-order mark is skipped, "\r\n" ends a line like "\n", unquoted fields are trimmed and
/// blank lines are skipped.
fn records(text: &str) -> Result<Vec<Record>, CsvError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = Vec::new();
    let mut fields: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut quoted = false; // the current field started with a quote
    let mut in_quotes = false; // inside the quotes of the current field
    let mut closed = false; // the current field's closing quote was seen
    let mut line = 1;
    let mut start_line = 1;
    let mut quote_line = 1;
    let mut chars = text.chars().peekable();
    let end_field = |fields: &mut Vec<String>, field: &mut String, quoted: bool| {
        let text = std::mem::take(field);
        fields.push(if quoted { text } else { text.trim().to_string() });
    };
    while let Some(c) = chars.next() {
        if in_quotes {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => {
                    in_quotes = false;
                    closed = true;
                }
                '\r' if chars.peek() == Some(&'\n') => {}
                '\n' => {
                    line += 1;
                    field.push('\n');
                }
                c => field.push(c),
            }
            continue;
        }
        match c {
            ',' => {
                end_field(&mut fields, &mut field, quoted);
                quoted = false;
                closed = false;
            }
            '\n' | '\r' => {
                if c == '\r' && chars.peek() == Some(&'\n') {
                    chars.next();
                }
                end_field(&mut fields, &mut field, quoted);
                let blank = fields.len() == 1 && fields[0].is_empty() && !quoted;
                if !blank {
                    out.push(Record {
                        line: start_line,
                        fields: std::mem::take(&mut fields),
                    });
                }
                fields.clear();
                quoted = false;
                closed = false;
                line += 1;
                start_line = line;
            }
            '"' if !quoted && field.trim().is_empty() => {
                field.clear();
                quoted = true;
                in_quotes = true;
                quote_line = line;
            }
            '"' => {
                return Err(CsvError::at(
                    line,
                    Some((fields.len() + 1, "")),
                    "a quote inside a field: quote the whole field and double the quote (\"say \"\"hi\"\"\")",
                ))
            }
            c if closed => {
                if !c.is_whitespace() {
                    return Err(CsvError::at(
                        line,
                        Some((fields.len() + 1, "")),
                        format!("expected a comma after the closing quote, got {c:?}"),
                    ));
                }
            }
            c => field.push(c),
        }
    }
    if in_quotes {
        return Err(CsvError::at(
            quote_line,
            Some((fields.len() + 1, "")),
            "a quoted field is not closed: a quote is missing",
        ));
    }
    end_field(&mut fields, &mut field, quoted);
    if !(fields.len() == 1 && fields[0].is_empty() && !quoted) {
        out.push(Record {
            line: start_line,
            fields,
        });
    }
    Ok(out)
}

/// Remove thousands separators ("1,124,000" or "1_124_000"): a comma or underscore between a
/// digit and exactly three digits. `None` when a separator is anywhere else ("1,5s").
fn ungroup(text: &str) -> Option<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    for (i, &c) in chars.iter().enumerate() {
        if c == ',' || c == '_' {
            let before = i > 0 && chars[i - 1].is_ascii_digit();
            let three = chars.len() >= i + 4 && chars[i + 1..i + 4].iter().all(char::is_ascii_digit);
            let fourth = chars.get(i + 4).is_some_and(char::is_ascii_digit);
            if !(before && three && !fourth) {
                return None;
            }
        } else {
            out.push(c);
        }
    }
    Some(out)
}

/// Parse a count of queries: a whole, non-negative number, possibly with thousands separators.
fn parse_queries(text: &str) -> Result<u64, String> {
    let expected = "expected a whole number of queries like \"24\" or \"1,124,000\"";
    if text.is_empty() {
        return Err(format!("{expected}, got an empty field"));
    }
    if text.starts_with('-') && text.len() > 1 {
        return Err(format!(
            "expected a non-negative number of queries, got \"{text}\" (negative)"
        ));
    }
    let digits = ungroup(text).ok_or_else(|| format!("{expected}, got \"{text}\""))?;
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(format!("{expected}, got \"{text}\""));
    }
    digits
        .parse::<u64>()
        .map_err(|_| format!("expected at most {} queries, got \"{text}\"", u64::MAX))
}

/// Parse a measured duration: a unit is required ("150ms", "2810s", "1h30m").
fn parse_measured(text: &str) -> Result<Nanos, String> {
    if text.is_empty() {
        return Err("expected a duration with a unit like \"150ms\" or \"2810s\", got an empty field".into());
    }
    if text.starts_with('-') {
        return Err(format!(
            "expected a non-negative duration like \"150ms\", got \"{text}\" (negative)"
        ));
    }
    if !text.chars().any(char::is_alphabetic) {
        return Err(format!(
            "expected a duration with a unit (ns, us, ms, s, m or min, h, d) like \"150ms\" or \"2810s\", got \"{text}\": \
             a plain number is refused, write its unit"
        ));
    }
    let plain = ungroup(text).ok_or_else(|| format!("expected a duration like \"150ms\" or \"2810s\", got \"{text}\""))?;
    parse_duration(&plain).map_err(|why| format!("{why}, got \"{text}\""))
}

/// Read workloads from CSV text: a header line naming the columns `name`, `queries` and
/// `duration` (in any order, any case; other columns are ignored), then one line per workload.
/// Errors name the line and the column.
pub fn parse_workloads(text: &str) -> Result<Vec<Workload>, CsvError> {
    let records = records(text)?;
    let Some((header, rows)) = records.split_first() else {
        return Err(CsvError {
            line: None,
            column: None,
            message: "the file is empty: expected a header line \"name,queries,duration\" and one line per workload".into(),
        });
    };
    let names: Vec<String> = header.fields.iter().map(|f| f.trim().to_lowercase()).collect();
    let mut index = [0usize; 3];
    for (slot, wanted) in index.iter_mut().zip(REQUIRED_COLUMNS) {
        let mut found = names.iter().enumerate().filter(|(_, n)| *n == wanted).map(|(i, _)| i);
        *slot = found.next().ok_or_else(|| {
            CsvError::at(
                header.line,
                None,
                format!(
                    "the header has no column \"{wanted}\": expected the columns name,queries,duration, got {}",
                    header.fields.join(",")
                ),
            )
        })?;
        if let Some(again) = found.next() {
            return Err(CsvError::at(
                header.line,
                Some((again + 1, wanted)),
                format!("column \"{wanted}\" appears twice (columns {} and {})", *slot + 1, again + 1),
            ));
        }
    }
    if rows.is_empty() {
        return Err(CsvError::at(
            header.line,
            None,
            "no workloads: expected one line per workload after the header, like \"API::Payments::Create,24,150ms\"",
        ));
    }
    let mut workloads = Vec::with_capacity(rows.len());
    for row in rows {
        let cell = |column: usize| -> Result<&str, CsvError> {
            let name = REQUIRED_COLUMNS[column];
            let i = index[column];
            row.fields.get(i).map(String::as_str).ok_or_else(|| {
                CsvError::at(
                    row.line,
                    Some((i + 1, name)),
                    format!(
                        "missing: the line has {} fields, the header {}",
                        row.fields.len(),
                        header.fields.len()
                    ),
                )
            })
        };
        let at =
            |column: usize, message: String| CsvError::at(row.line, Some((index[column] + 1, REQUIRED_COLUMNS[column])), message);
        let name = cell(0)?.trim();
        if name.is_empty() {
            return Err(at(0, "expected the workload's name, got an empty field".into()));
        }
        let queries = parse_queries(cell(1)?.trim()).map_err(|why| at(1, why))?;
        let duration_ns = parse_measured(cell(2)?.trim()).map_err(|why| at(2, why))?;
        workloads.push(Workload {
            name: name.to_string(),
            queries,
            duration_ns,
            line: row.line,
        });
    }
    Ok(workloads)
}

/// Parse a list of added latencies: durations separated by commas ("5ms,10ms").
pub fn parse_added(text: &str) -> Result<Vec<Nanos>, String> {
    text.split(',')
        .map(|item| {
            let item = item.trim();
            if item.is_empty() {
                return Err(format!(
                    "expected durations separated by commas like \"5ms,10ms\", got \"{text}\" (an empty item)"
                ));
            }
            parse_duration(item).map_err(|why| {
                if item == text.trim() {
                    format!("{why}, got \"{item}\"")
                } else {
                    format!("{why}, got \"{item}\" (in \"{text}\")")
                }
            })
        })
        .collect()
}

/// The spreadsheet's prediction: `duration + queries × added`, in nanoseconds, exactly.
pub fn predicted_ns(workload: &Workload, added_ns: Nanos) -> u128 {
    u128::from(workload.duration_ns) + u128::from(workload.queries) * u128::from(added_ns)
}

/// Write `ns` nanoseconds exactly, in the largest of s, ms, us and ns that it reaches, with as
/// many decimals as needed and no more: "8430s", "14050s", "270ms", "5.75ms", "1.5s", "500us",
/// "0s". No rounding, no minutes or hours, so that a column compares at a glance; the text
/// reads back with [`parse_duration`] (for values up to its 100-year limit).
pub fn format_exact(ns: u128) -> String {
    if ns == 0 {
        return "0s".to_string();
    }
    let (unit, size) = [("s", NS_PER_S), ("ms", 1_000_000), ("us", 1_000), ("ns", 1)]
        .into_iter()
        .find(|&(_, size)| ns >= size)
        .unwrap_or(("ns", 1));
    format!("{}{unit}", decimal(ns, size))
}

/// `value / unit` as an exact decimal ("0.27", "14050", "5.75"); `unit` is a power of ten.
fn decimal(value: u128, unit: u128) -> String {
    let whole = value / unit;
    let rest = value % unit;
    if rest == 0 {
        return whole.to_string();
    }
    let digits = unit.ilog10() as usize;
    let fraction = format!("{rest:0digits$}");
    format!("{whole}.{}", fraction.trim_end_matches('0'))
}

/// Exact seconds as a decimal number, for CSV ("0.27", "14050").
pub fn seconds_exact(ns: u128) -> String {
    decimal(ns, NS_PER_S)
}

/// A whole number with thousands separators: "1,124,000".
pub fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// One prediction: a workload at one added latency.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Prediction {
    /// The added latency per query, exactly ("5ms").
    pub added: String,
    /// The added latency per query, nanoseconds.
    pub added_ns: Nanos,
    /// The predicted duration, exactly ("270ms").
    pub predicted: String,
    /// The predicted duration, nanoseconds.
    pub predicted_ns: u128,
    /// Predicted / measured (null when the measured duration is zero).
    pub ratio: Option<f64>,
}

/// A workload and its predictions, one per added latency.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WorkloadPredictions {
    /// The workload's name.
    pub name: String,
    /// Queries per run.
    pub queries: u64,
    /// The measured duration, exactly ("150ms").
    pub measured: String,
    /// The measured duration, nanoseconds.
    pub measured_ns: Nanos,
    /// One per added latency, in the order given.
    pub predictions: Vec<Prediction>,
}

/// The spreadsheet: every workload at every added latency.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LatencyTable {
    /// Version of this JSON layout.
    pub schema_version: u32,
    /// The workloads file.
    pub source: String,
    /// How each prediction is made.
    pub formula: String,
    /// The added latencies, exactly.
    pub added: Vec<String>,
    /// One per workload, in file order.
    pub workloads: Vec<WorkloadPredictions>,
}

/// Predict every workload at every added latency.
pub fn latency_table(source: &str, workloads: &[Workload], added_ns: &[Nanos]) -> LatencyTable {
    let rows = workloads
        .iter()
        .map(|w| WorkloadPredictions {
            name: w.name.clone(),
            queries: w.queries,
            measured: format_exact(u128::from(w.duration_ns)),
            measured_ns: w.duration_ns,
            predictions: added_ns
                .iter()
                .map(|&added| {
                    let predicted = predicted_ns(w, added);
                    Prediction {
                        added: format_exact(u128::from(added)),
                        added_ns: added,
                        predicted: format_exact(predicted),
                        predicted_ns: predicted,
                        ratio: (w.duration_ns > 0).then(|| predicted as f64 / w.duration_ns as f64),
                    }
                })
                .collect(),
        })
        .collect();
    LatencyTable {
        schema_version: crate::results::SCHEMA_VERSION,
        source: source.to_string(),
        formula: "predicted = measured + queries × added".into(),
        added: added_ns.iter().map(|&a| format_exact(u128::from(a))).collect(),
        workloads: rows,
    }
}

/// A ratio for people: "×1.80"; "n/a" without one.
fn show_ratio(ratio: Option<f64>) -> String {
    ratio.map_or_else(|| "n/a".to_string(), |r| format!("×{r:.2}"))
}

/// Quote a CSV field when it holds a comma, quote or line break.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// Lay out rows under a header: the first column left-aligned, the others right-aligned.
fn render_columns(header: &[String], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let mut text = String::new();
        for (i, (cell, width)) in cells.iter().zip(&widths).enumerate() {
            let pad = width - cell.chars().count();
            text.push_str("  ");
            if i == 0 {
                text.push_str(cell);
                text.push_str(&" ".repeat(pad));
            } else {
                text.push_str(&" ".repeat(pad));
                text.push_str(cell);
            }
        }
        text.trim_end().to_string() + "\n"
    };
    let mut out = line(header);
    for row in rows {
        out.push_str(&line(row));
    }
    out
}

impl LatencyTable {
    /// The table for a terminal: one line per workload, one column per added latency, each
    /// prediction with its ratio to the measured duration.
    pub fn render(&self) -> String {
        let mut header: Vec<String> = ["workload", "queries", "measured"].map(String::from).to_vec();
        header.extend(self.added.iter().map(|a| format!("+{a} per query")));
        let rows: Vec<Vec<String>> = self
            .workloads
            .iter()
            .map(|w| {
                let mut row = vec![w.name.clone(), group_thousands(w.queries), w.measured.clone()];
                row.extend(
                    w.predictions
                        .iter()
                        .map(|p| format!("{} {}", p.predicted, show_ratio(p.ratio))),
                );
                row
            })
            .collect();
        let mut out = format!(
            "Added network latency per query — {}\n\
             {} (×: predicted / measured)\n\n",
            self.source, self.formula
        );
        out.push_str(&render_columns(&header, &rows));
        out.push_str(
            "\nThis is the no-contention baseline: nothing waits for a connection, a worker or a database core.\n\
             Transactions hold their pooled connection longer as latency grows, so pools saturate before these numbers\n\
             are reached: `capsim init --from WORKLOADS.csv` writes a model that simulates it.\n",
        );
        out
    }

    /// Long-form CSV, one row per workload and added latency:
    /// `workload,queries,measured,added,predicted,ratio,measured_s,added_s,predicted_s`
    /// (durations exactly, with a unit and as decimal seconds).
    pub fn to_csv(&self) -> String {
        let mut out = String::from("workload,queries,measured,added,predicted,ratio,measured_s,added_s,predicted_s\n");
        for w in &self.workloads {
            for p in &w.predictions {
                let _ = writeln!(
                    out,
                    "{},{},{},{},{},{},{},{},{}",
                    csv_field(&w.name),
                    w.queries,
                    w.measured,
                    p.added,
                    p.predicted,
                    p.ratio.map(|r| r.to_string()).unwrap_or_default(),
                    seconds_exact(u128::from(w.measured_ns)),
                    seconds_exact(u128::from(p.added_ns)),
                    seconds_exact(p.predicted_ns),
                );
            }
        }
        out
    }
}

/// The names the starting model gives its components.
pub mod names {
    /// The service running every workload.
    pub const SERVICE: &str = "app";
    /// The connection pool.
    pub const POOL: &str = "pgbouncer";
    /// The database.
    pub const DATABASE: &str = "postgres";
    /// The link between the service and the database.
    pub const LINK: &str = "app -> postgres";
    /// The scenario moving the database 10 ms away.
    pub const SCENARIO: &str = "db-10ms-away";
    /// The sweep over added latency.
    pub const SWEEP: &str = "latency-ladder";
}

/// Connections in the starting model's pool.
pub const POOL_SIZE: u32 = 20;
/// Cores of the starting model's database.
pub const DATABASE_CORES: u32 = 16;
/// Workers of the starting model's service: twice the pool, so that connections, not workers,
/// run out first.
pub const WORKERS: u32 = 2 * POOL_SIZE;

/// Settings of a starting model.
#[derive(Clone, Debug)]
pub struct StartSettings {
    /// Where the workloads came from (for the description and the model's name).
    pub source: String,
    /// Round-trip latency of one query between the service and the database today.
    pub latency_ns: Nanos,
    /// Arrival rate of each workload's client, as written ("1/s").
    pub rate: String,
}

/// A starting model and what to tell its author.
#[derive(Clone, Debug)]
pub struct StartingModel {
    /// The model, ready to be written as JSON.
    pub json: Value,
    /// "service.endpoint" of each workload, in file order.
    pub endpoints: Vec<String>,
    /// Things the author should know (a cost floored at zero, an overloaded pool, renamed workloads).
    pub warnings: Vec<String>,
}

/// A component name derived from a workload's name: names may not contain "." or "->" and are
/// shared by clients, services, databases and pools, so those are replaced and a clash gets a
/// suffix ("-2", "-3", ...).
fn unique_name(name: &str, taken: &mut Vec<String>) -> String {
    let base = name.replace("->", "_").replace('.', "_");
    let mut candidate = base.clone();
    let mut n = 1;
    while taken.contains(&candidate) {
        n += 1;
        candidate = format!("{base}-{n}");
    }
    taken.push(candidate.clone());
    candidate
}

/// Write a model the user can edit, from measured workloads: one service `app` with one
/// endpoint per workload, a transaction of the workload's queries through the pool `pgbouncer`
/// to the database `postgres` over the link `app -> postgres`, with a constant query cost chosen
/// so that `queries × (query + latency)` is the measured duration (floored at zero, with a
/// warning); one open client per workload at `settings.rate`; a scenario `db-10ms-away` and a
/// sweep `latency-ladder` over the link's added latency, 0 to 10 ms in 1 ms steps.
///
/// Without contention, each endpoint's simulated duration is its measured one (to the
/// nanosecond when the duration divides evenly by the queries).
pub fn starting_model(workloads: &[Workload], settings: &StartSettings) -> Result<StartingModel, String> {
    let rate_per_s = parse_rate(&settings.rate).map_err(|why| format!("rate: {why}, got \"{}\"", settings.rate))?;
    if workloads.is_empty() {
        return Err("no workloads to model".into());
    }
    let latency = u128::from(settings.latency_ns);
    let mut warnings = Vec::new();
    let mut taken: Vec<String> = [names::SERVICE, names::DATABASE, names::POOL].map(String::from).to_vec();
    let mut endpoints = Map::new();
    let mut clients = Map::new();
    let mut endpoint_names = Vec::new();
    let mut connection_seconds = 0.0; // connections held per second of traffic: rate × hold time
    let mut worker_seconds = 0.0;
    for w in workloads {
        let name = unique_name(&w.name, &mut taken);
        if name != w.name {
            warnings.push(format!(
                "line {}: workload \"{}\" is called \"{name}\" in the model (names may not contain \".\" or \"->\", nor repeat)",
                w.line, w.name
            ));
        }
        let measured = u128::from(w.duration_ns);
        let steps = if w.queries == 0 {
            worker_seconds += rate_per_s * w.duration_ns as f64 / 1e9;
            json!([{ "cpu": format_exact(measured) }])
        } else {
            let queries = u32::try_from(w.queries).map_err(|_| {
                format!(
                    "line {}: {} queries: a transaction holds at most {} queries",
                    w.line,
                    w.queries,
                    u32::MAX
                )
            })?;
            let per_query = (measured + u128::from(w.queries) / 2) / u128::from(w.queries);
            let query = per_query.saturating_sub(latency);
            if per_query < latency {
                warnings.push(format!(
                    "line {}: {}: {} over {} queries is {} per query, less than the link's {} latency: \
                     query cost set to 0, so the model takes {} instead",
                    w.line,
                    w.name,
                    format_exact(measured),
                    group_thousands(w.queries),
                    format_exact(per_query),
                    format_exact(latency),
                    format_exact(u128::from(w.queries) * latency)
                ));
            } else if per_query * u128::from(w.queries) != measured {
                warnings.push(format!(
                    "line {}: {}: {} over {} queries is not a whole number of nanoseconds per query: \
                     the model takes {}",
                    w.line,
                    w.name,
                    format_exact(measured),
                    group_thousands(w.queries),
                    format_exact(per_query * u128::from(w.queries))
                ));
            }
            let hold = (query + latency) * u128::from(w.queries);
            connection_seconds += rate_per_s * hold as f64 / 1e9;
            worker_seconds += rate_per_s * hold as f64 / 1e9;
            json!([{ "transaction": { "pool": names::POOL, "queries": queries, "query": format_exact(query) } }])
        };
        endpoints.insert(name.clone(), steps);
        clients.insert(
            name.clone(),
            json!({ "open": { "rate": settings.rate.trim() }, "calls": format!("{}.{name}", names::SERVICE) }),
        );
        endpoint_names.push(format!("{}.{name}", names::SERVICE));
    }
    if connection_seconds > f64::from(POOL_SIZE) || worker_seconds > f64::from(WORKERS) {
        warnings.push(format!(
            "at {} per workload, transactions keep {connection_seconds:.1} connections busy on average (rate × duration, \
             summed) and requests keep {worker_seconds:.1} workers busy, but {} has {POOL_SIZE} connections and {} {WORKERS} workers: \
             the model is overloaded as written; set each client's rate (clients.NAME.open.rate) to the workload's real one",
            settings.rate.trim(),
            names::POOL,
            names::SERVICE
        ));
    }
    let longest = workloads.iter().map(|w| w.duration_ns).max().unwrap_or(0);
    let duration = duration_for(longest);
    let stem = std::path::Path::new(&settings.source)
        .file_stem()
        .map_or_else(|| "workloads".to_string(), |s| s.to_string_lossy().into_owned());
    let description = format!(
        "Starting model written by `capsim init` from {source} ({n} workloads, each measured as queries and duration). \
         Each workload is an endpoint of {service} running one transaction of its queries through {pool} to {db}, \
         over a {latency} round trip per query; query costs are constant, chosen so that queries × (query + latency) \
         is the measured duration: without contention, each endpoint takes exactly what was measured, which is the \
         spreadsheet's baseline (`capsim latency-table`). Placeholders to edit: clients' rates ({rate} each), \
         {workers} workers, a pool of {POOL_SIZE}, {DATABASE_CORES} database cores. \
         Scenario {scenario} adds 10 ms to every query; sweep {sweep} climbs 0 to 10 ms in 1 ms steps.",
        source = settings.source,
        n = workloads.len(),
        service = names::SERVICE,
        pool = names::POOL,
        db = names::DATABASE,
        latency = format_exact(latency),
        rate = settings.rate.trim(),
        workers = WORKERS,
        scenario = names::SCENARIO,
        sweep = names::SWEEP,
    );
    let add_path = format!("links.{}.latency.add", names::LINK);
    let model = json!({
        "name": stem,
        "description": description,
        "duration": duration,
        "replications": 5,
        "seed": 1,
        "clients": clients,
        "services": { names::SERVICE: { "instances": 1, "workers": WORKERS, "endpoints": endpoints } },
        "databases": { names::DATABASE: { "cores": DATABASE_CORES } },
        "pools": { names::POOL: { "database": names::DATABASE, "size": POOL_SIZE } },
        "links": { names::LINK: { "latency": format_exact(latency) } },
        "scenarios": {
            names::SCENARIO: {
                "description": "The app moves to another cloud, the database stays: every query's round trip grows by 10 ms.",
                "set": { add_path.clone(): "10ms" }
            }
        },
        "sweeps": {
            names::SWEEP: {
                "description": "Add latency 1 ms at a time, as in the experiment: where do durations leave the spreadsheet's straight line?",
                "params": { add_path: "0ms..10ms/1ms" }
            }
        }
    });
    Ok(StartingModel {
        json: model,
        endpoints: endpoint_names,
        warnings,
    })
}

/// Simulated time per replication: an hour, or ten times the longest workload rounded up to
/// whole hours, so that the longest workload finishes many times after the warm-up.
fn duration_for(longest_ns: Nanos) -> String {
    const HOUR: u128 = 3_600 * NS_PER_S;
    let wanted = 10 * u128::from(longest_ns);
    let hours = wanted.div_ceil(HOUR).max(1);
    format!("{hours}h")
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;
    const S: u64 = 1_000_000_000;

    const CASE_STUDY: &str = "name,queries,duration\nAPI::Payments::Create,24,150ms\nWorkers::SubmitPayments,1124000,2810s\n";

    fn workload(name: &str, queries: u64, duration_ns: u64) -> Workload {
        Workload {
            name: name.into(),
            queries,
            duration_ns,
            line: 2,
        }
    }

    #[test]
    fn the_case_study_numbers_come_out_exactly() {
        let workloads = parse_workloads(CASE_STUDY).unwrap();
        let added = parse_added("5ms,10ms").unwrap();
        let table = latency_table("workloads.csv", &workloads, &added);
        let cells: Vec<Vec<&str>> = table
            .workloads
            .iter()
            .map(|w| w.predictions.iter().map(|p| p.predicted.as_str()).collect())
            .collect();
        assert_eq!(cells, vec![vec!["270ms", "390ms"], vec!["8430s", "14050s"]]);
        assert_eq!(table.workloads[0].measured, "150ms");
        assert_eq!(table.workloads[1].measured, "2810s");
        assert_eq!(table.workloads[1].predictions[1].predicted_ns, 14_050 * u128::from(S));
        // 1,124,000 queries × 5 ms = 5,620 s added.
        assert_eq!(
            predicted_ns(&workloads[1], 5 * MS) - u128::from(workloads[1].duration_ns),
            5_620 * u128::from(S)
        );
        let ratios: Vec<f64> = table.workloads[1].predictions.iter().filter_map(|p| p.ratio).collect();
        assert_eq!(ratios, vec![3.0, 5.0]);
        assert_eq!(table.workloads[0].predictions[0].ratio, Some(1.8));
        let text = table.render();
        for fragment in [
            "API::Payments::Create",
            "1,124,000",
            "270ms ×1.80",
            "390ms ×2.60",
            "8430s ×3.00",
            "14050s ×5.00",
        ] {
            assert!(text.contains(fragment), "{fragment:?} not in\n{text}");
        }
    }

    #[test]
    fn csv_output_is_long_form_with_exact_seconds() {
        let workloads = parse_workloads(CASE_STUDY).unwrap();
        let table = latency_table("w.csv", &workloads, &[5 * MS, 10 * MS]);
        let csv = table.to_csv();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(
            lines[0],
            "workload,queries,measured,added,predicted,ratio,measured_s,added_s,predicted_s"
        );
        assert_eq!(lines[1], "API::Payments::Create,24,150ms,5ms,270ms,1.8,0.15,0.005,0.27");
        assert_eq!(
            lines[4],
            "Workers::SubmitPayments,1124000,2810s,10ms,14050s,5,2810,0.01,14050"
        );
        assert_eq!(lines.len(), 5);
    }

    #[test]
    fn exact_formatting_never_rounds() {
        let cases: &[(u128, &str)] = &[
            (0, "0s"),
            (1, "1ns"),
            (999, "999ns"),
            (500_000, "500us"),
            (1_500, "1.5us"),
            (270 * u128::from(MS), "270ms"),
            (5_750_000, "5.75ms"),
            (1_500 * u128::from(MS), "1.5s"),
            (8_430 * u128::from(S), "8430s"),
            (14_050 * u128::from(S), "14050s"),
            (1_500_000_001, "1.500000001s"),
            (u128::from(u64::MAX) * 10, "184467440737.09551615s"),
        ];
        for &(ns, text) in cases {
            assert_eq!(format_exact(ns), text, "{ns}");
            if ns <= u128::from(crate::model::units::MAX_NANOS) {
                assert_eq!(parse_duration(text).map(u128::from), Ok(ns), "{text} reads back");
            }
        }
        assert_eq!(seconds_exact(270 * u128::from(MS)), "0.27");
        assert_eq!(group_thousands(1_124_000), "1,124,000");
        assert_eq!(group_thousands(24), "24");
        assert_eq!(group_thousands(0), "0");
        assert_eq!(group_thousands(100_000), "100,000");
    }

    #[test]
    fn huge_products_do_not_overflow() {
        let w = workload("big", u64::MAX, crate::model::units::MAX_NANOS);
        let p = predicted_ns(&w, crate::model::units::MAX_NANOS);
        assert_eq!(
            p,
            u128::from(u64::MAX) * u128::from(crate::model::units::MAX_NANOS) + u128::from(crate::model::units::MAX_NANOS)
        );
    }

    #[test]
    fn quotes_extra_columns_order_and_line_endings_are_accepted() {
        let text = "\u{feff}Duration, \"Name\" ,owner,queries\r\n\
                    \"150ms\",\"API::Payments::Create\",\"team, payments\",\"1,124,000\"\r\n\
                    \r\n\
                    2810s,\"Workers::\"\"Submit\"\"\nPayments\",x,24\n\
                    1h30m , spaced name , , 1_000";
        let w = parse_workloads(text).unwrap();
        assert_eq!(w.len(), 3);
        assert_eq!(
            w[0],
            Workload {
                name: "API::Payments::Create".into(),
                queries: 1_124_000,
                duration_ns: 150 * MS,
                line: 2
            }
        );
        assert_eq!(w[1].name, "Workers::\"Submit\"\nPayments");
        assert_eq!((w[1].queries, w[1].duration_ns, w[1].line), (24, 2_810 * S, 4));
        assert_eq!(
            (w[2].name.as_str(), w[2].queries, w[2].duration_ns, w[2].line),
            ("spaced name", 1_000, 5_400 * S, 6)
        );
    }

    #[test]
    fn the_case_study_file_parses() {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/models/workloads.csv")).unwrap();
        let w = parse_workloads(&text).unwrap();
        assert_eq!(
            w.iter()
                .map(|w| (w.name.as_str(), w.queries, w.duration_ns))
                .collect::<Vec<_>>(),
            vec![
                ("API::Payments::Create", 24, 150 * MS),
                ("Workers::SubmitPayments", 1_124_000, 2_810 * S)
            ]
        );
    }

    #[test]
    fn errors_name_the_line_and_the_column() {
        let cases: &[(&str, &str)] = &[
            ("", "the file is empty"),
            ("\u{feff}\n\n  \n", "the file is empty"),
            ("name,queries\nx,1", "line 1: the header has no column \"duration\""),
            (
                "name,queries,duration,Name\n",
                "line 1, column 4 (name): column \"name\" appears twice",
            ),
            ("name,queries,duration\n", "line 1: no workloads"),
            (
                "name,queries,duration\nx,abc,1s",
                "line 2, column 2 (queries): expected a whole number of queries",
            ),
            (
                "name,queries,duration\nx,1.5,1s",
                "line 2, column 2 (queries): expected a whole number",
            ),
            (
                "name,queries,duration\nx,\"1,5\",1s",
                "line 2, column 2 (queries): expected a whole number",
            ),
            (
                "name,queries,duration\nx,-3,1s",
                "line 2, column 2 (queries): expected a non-negative number",
            ),
            (
                "name,queries,duration\nx,99999999999999999999,1s",
                "line 2, column 2 (queries): expected at most",
            ),
            (
                "name,queries,duration\nx,,1s",
                "line 2, column 2 (queries): expected a whole number of queries like \"24\" or \"1,124,000\", got an empty field",
            ),
            (
                "name,queries,duration\nx,1,150",
                "line 2, column 3 (duration): expected a duration with a unit",
            ),
            ("name,queries,duration\nx,1,150", "a plain number is refused"),
            ("name,queries,duration\nx,1,0", "a plain number is refused"),
            (
                "name,queries,duration\nx,1,-150ms",
                "line 2, column 3 (duration): expected a non-negative duration",
            ),
            (
                "name,queries,duration\nx,1,5 parsecs",
                "line 2, column 3 (duration): expected a unit",
            ),
            (
                "name,queries,duration\nx,1,",
                "line 2, column 3 (duration): expected a duration with a unit like \"150ms\" or \"2810s\", got an empty field",
            ),
            ("name,queries,duration\nx,1", "line 2, column 3 (duration): missing"),
            (
                "name,queries,duration\nok,1,1s\n,1,1s",
                "line 3, column 1 (name): expected the workload's name",
            ),
            (
                "name,queries,duration\n\"x,1,1s\n",
                "line 2, column 1: a quoted field is not closed",
            ),
            ("name,queries,duration\nx\"y,1,1s", "line 2, column 1: a quote inside a field"),
            (
                "name,queries,duration\n\"x\"y,1,1s",
                "line 2, column 1: expected a comma after the closing quote",
            ),
            (
                "duration,queries,name\n1s,1,\"multi\nline\"\n1s,1,x\n1s,2,",
                "line 5, column 3 (name)",
            ),
        ];
        for &(text, wanted) in cases {
            let why = parse_workloads(text).expect_err(text).to_string();
            assert!(why.contains(wanted), "{text:?}: {why}");
        }
    }

    #[test]
    fn added_latencies_parse_and_bad_ones_are_refused() {
        assert_eq!(parse_added("5ms,10ms"), Ok(vec![5 * MS, 10 * MS]));
        assert_eq!(parse_added(" 0.5ms , 1s "), Ok(vec![MS / 2, S]));
        for (text, wanted) in [
            ("5", "expected a unit"),
            ("5ms,", "an empty item"),
            ("", "an empty item"),
            ("5ms,ten", "got \"ten\""),
            ("-1ms", "non-negative"),
        ] {
            let why = parse_added(text).expect_err(text);
            assert!(why.contains(wanted), "{text:?}: {why}");
        }
    }

    fn settings() -> StartSettings {
        StartSettings {
            source: "models/workloads.csv".into(),
            latency_ns: MS / 2,
            rate: "1/s".into(),
        }
    }

    #[test]
    fn the_starting_model_validates_and_costs_queries_from_the_measurements() {
        let workloads = parse_workloads(CASE_STUDY).unwrap();
        let start = starting_model(&workloads, &settings()).unwrap();
        let m = &start.json;
        assert_eq!(m["name"], "workloads");
        let endpoints = &m["services"]["app"]["endpoints"];
        // 150 ms / 24 = 6.25 ms per query, less 0.5 ms of network; 2810 s / 1,124,000 = 2.5 ms.
        assert_eq!(endpoints["API::Payments::Create"][0]["transaction"]["query"], "5.75ms");
        assert_eq!(endpoints["API::Payments::Create"][0]["transaction"]["queries"], 24);
        assert_eq!(endpoints["Workers::SubmitPayments"][0]["transaction"]["query"], "2ms");
        assert_eq!(
            m["clients"]["Workers::SubmitPayments"]["calls"],
            "app.Workers::SubmitPayments"
        );
        assert_eq!(m["links"]["app -> postgres"]["latency"], "500us");
        assert_eq!(
            m["scenarios"]["db-10ms-away"]["set"]["links.app -> postgres.latency.add"],
            "10ms"
        );
        assert_eq!(
            m["sweeps"]["latency-ladder"]["params"]["links.app -> postgres.latency.add"],
            "0ms..10ms/1ms"
        );
        assert_eq!(m["duration"], "8h");
        assert_eq!(
            start.endpoints,
            vec!["app.API::Payments::Create", "app.Workers::SubmitPayments"]
        );
        // At 1/s, a 47-minute job needs thousands of connections: the author is told.
        assert!(
            start.warnings.iter().any(|w| w.contains("overloaded")),
            "{:?}",
            start.warnings
        );
        let text = serde_json::to_string_pretty(m).unwrap();
        let validated = crate::model::parse_model(&text, "init.json").expect("the starting model is valid");
        assert_eq!(validated.model.endpoints.len(), 2);
        assert_eq!(validated.model.clients.len(), 2);
    }

    #[test]
    fn a_cost_below_the_latency_is_floored_and_names_are_made_valid() {
        let workloads = vec![
            workload("fast", 10, 2 * MS),
            workload("odd", 7, 150 * MS),
            workload("app", 0, 3 * MS),
            workload("a.b->c", 1, MS),
            workload("a_b_c", 1, MS),
        ];
        let start = starting_model(&workloads, &settings()).unwrap();
        let endpoints = &start.json["services"]["app"]["endpoints"];
        assert_eq!(endpoints["fast"][0]["transaction"]["query"], "0s");
        assert!(
            start
                .warnings
                .iter()
                .any(|w| w.contains("fast") && w.contains("query cost set to 0")),
            "{:?}",
            start.warnings
        );
        // 150 ms / 7 = 21.428571 ms (rounded to the nanosecond), less 0.5 ms.
        assert_eq!(endpoints["odd"][0]["transaction"]["query"], "20.928571ms");
        assert!(
            start.warnings.iter().any(|w| w.contains("149.999997ms")),
            "{:?}",
            start.warnings
        );
        assert_eq!(endpoints["app-2"][0]["cpu"], "3ms");
        assert!(
            endpoints.get("a_b_c").is_some() && endpoints.get("a_b_c-2").is_some(),
            "{endpoints}"
        );
        assert_eq!(start.json["clients"]["app-2"]["calls"], "app.app-2");
        let text = serde_json::to_string_pretty(&start.json).unwrap();
        crate::model::parse_model(&text, "init.json").expect("the starting model is valid");
    }

    #[test]
    fn a_bad_rate_or_too_many_queries_are_refused() {
        let w = vec![workload("x", 1, MS)];
        let bad_rate = StartSettings {
            rate: "fast".into(),
            ..settings()
        };
        assert!(starting_model(&w, &bad_rate).unwrap_err().contains("rate"));
        let huge = vec![workload("x", u64::from(u32::MAX) + 1, S)];
        assert!(starting_model(&huge, &settings()).unwrap_err().contains("at most"));
    }
}
