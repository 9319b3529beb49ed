//! Reading trace files: gzip or not, OTLP JSON lines (the Collector's file exporter), one OTLP JSON
//! document, Zipkin v2 JSON or Jaeger JSON, told apart by their content. OTLP JSON lines are
//! streamed one line at a time, so a file of any size is read in memory bounded by its longest
//! line; the other forms are one JSON document each, read whole up to [`MAX_DOCUMENT_BYTES`].

use super::span::RawSpan;
use super::{jaeger, otlp, zipkin};
use flate2::read::MultiGzDecoder;
use serde_json::Value;
use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

/// Largest JSON document (Zipkin, Jaeger, one OTLP document) or OTLP line read, in bytes once
/// decompressed.
pub const MAX_DOCUMENT_BYTES: u64 = 256 * 1024 * 1024;

/// A trace file that cannot be read, with where: the file, the line when known, the JSON path of
/// the field, and what was expected.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceError {
    /// The file as given.
    pub file: String,
    /// 1-based line, for OTLP JSON lines and JSON syntax errors.
    pub line: Option<usize>,
    /// The JSON path of the field ("resourceSpans[0].scopeSpans[0].spans[3].startTimeUnixNano").
    pub path: String,
    /// What was wrong and what was expected.
    pub what: String,
}

impl fmt::Display for TraceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if !self.path.is_empty() {
            write!(f, ": {}", self.path)?;
        }
        write!(f, ": {}", self.what)
    }
}

/// A field's problem, before the file and line are known.
#[derive(Debug)]
pub struct FieldError {
    /// The JSON path.
    pub path: String,
    /// What was expected.
    pub what: String,
}

impl FieldError {
    /// A problem at `path`.
    pub fn new(path: impl Into<String>, what: impl Into<String>) -> FieldError {
        FieldError {
            path: path.into(),
            what: what.into(),
        }
    }
}

/// The forms capsim reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// One OTLP `ExportTraceServiceRequest` JSON object per line.
    OtlpLines,
    /// One OTLP JSON document.
    OtlpDocument,
    /// Zipkin v2: an array of spans.
    Zipkin,
    /// Jaeger's JSON export: `{"data": [traces]}`.
    Jaeger,
}

impl Format {
    /// Its name in messages.
    pub fn label(self) -> &'static str {
        match self {
            Format::OtlpLines => "OTLP JSON lines",
            Format::OtlpDocument => "OTLP JSON",
            Format::Zipkin => "Zipkin v2 JSON",
            Format::Jaeger => "Jaeger JSON",
        }
    }
}

/// What reading a file found.
#[derive(Clone, Copy, Debug)]
pub struct FileRead {
    /// Its form.
    pub format: Format,
    /// Spans read.
    pub spans: u64,
}

/// Counts the compressed bytes read, for progress.
struct Counting<'p, R> {
    inner: R,
    read: u64,
    report: &'p mut dyn FnMut(u64),
    reported: u64,
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        if self.read - self.reported >= 1 << 22 {
            self.reported = self.read;
            (self.report)(self.read);
        }
        Ok(n)
    }
}

/// Read every span of `path`, giving each to `sink` in file order; `progress` hears how many of
/// the file's bytes (compressed, as on disk) were read so far.
pub fn read_file(path: &Path, sink: &mut dyn FnMut(RawSpan), progress: &mut dyn FnMut(u64)) -> Result<FileRead, TraceError> {
    let file_name = path.display().to_string();
    let fail = |line: Option<usize>, path: &str, what: String| TraceError {
        file: file_name.clone(),
        line,
        path: path.to_string(),
        what,
    };
    let file = File::open(path).map_err(|e| fail(None, "", format!("cannot open: {e}")))?;
    let mut head = [0u8; 2];
    let gzipped = {
        let mut peek = BufReader::new(File::open(path).map_err(|e| fail(None, "", format!("cannot open: {e}")))?);
        peek.read(&mut head)
            .map_err(|e| fail(None, "", format!("cannot read: {e}")))?
            == 2
            && head == [0x1f, 0x8b]
    };
    let counting = Counting {
        inner: file,
        read: 0,
        report: progress,
        reported: 0,
    };
    let reader: Box<dyn Read + '_> = if gzipped {
        Box::new(MultiGzDecoder::new(counting))
    } else {
        Box::new(counting)
    };
    let mut reader = BufReader::with_capacity(1 << 16, reader);
    let mut line = String::new();
    let mut number = 0usize;
    // The first non-empty line tells the form: a whole OTLP object on one line means OTLP lines.
    loop {
        line.clear();
        let n = read_line(&mut reader, &mut line).map_err(|why| fail(Some(number + 1), "", why))?;
        number += 1;
        if n == 0 {
            return Err(fail(
                None,
                "",
                "is empty: expected OTLP JSON, Zipkin v2 JSON or Jaeger JSON".into(),
            ));
        }
        if !line.trim().is_empty() {
            break;
        }
    }
    if let Ok(Value::Object(first)) = serde_json::from_str::<Value>(line.trim()) {
        if first.contains_key("resourceSpans") {
            let mut spans = 0u64;
            let mut document = Value::Object(first);
            loop {
                otlp::spans(&document, &mut |s| {
                    spans += 1;
                    sink(s)
                })
                .map_err(|e| fail(Some(number), &e.path, e.what))?;
                document = loop {
                    line.clear();
                    if read_line(&mut reader, &mut line).map_err(|why| fail(Some(number + 1), "", why))? == 0 {
                        return Ok(FileRead {
                            format: Format::OtlpLines,
                            spans,
                        });
                    }
                    number += 1;
                    if !line.trim().is_empty() {
                        break serde_json::from_str(line.trim())
                            .map_err(|e| fail(Some(number), "", format!("expected one OTLP JSON object per line: {e}")))?;
                    }
                };
            }
        }
    }
    // One JSON document: the first line and the rest.
    let first_line = number;
    let mut text = std::mem::take(&mut line);
    reader
        .take(MAX_DOCUMENT_BYTES.saturating_sub(text.len() as u64) + 1)
        .read_to_string(&mut text)
        .map_err(|e| fail(None, "", format!("cannot read: {e}")))?;
    if text.len() as u64 > MAX_DOCUMENT_BYTES {
        return Err(fail(
            None,
            "",
            format!(
                "is one JSON document of more than {} MiB: write it as OTLP JSON lines (the Collector's file exporter), which is read in any size",
                MAX_DOCUMENT_BYTES >> 20
            ),
        ));
    }
    let document: Value = serde_json::from_str(&text).map_err(|e| {
        fail(
            Some(first_line - 1 + e.line()),
            "",
            format!("expected OTLP JSON, Zipkin v2 JSON or Jaeger JSON: {e}"),
        )
    })?;
    let mut spans = 0u64;
    let mut count = |s: RawSpan| {
        spans += 1;
        sink(s)
    };
    let format = match &document {
        Value::Object(o) if o.contains_key("resourceSpans") => {
            otlp::spans(&document, &mut count).map_err(|e| fail(None, &e.path, e.what))?;
            Format::OtlpDocument
        }
        Value::Object(o) if o.contains_key("data") => {
            jaeger::spans(&document, &mut count).map_err(|e| fail(None, &e.path, e.what))?;
            Format::Jaeger
        }
        Value::Array(_) => {
            zipkin::spans(&document, &mut count).map_err(|e| fail(None, &e.path, e.what))?;
            Format::Zipkin
        }
        _ => {
            return Err(fail(
                None,
                "",
                "expected OTLP JSON (an object with \"resourceSpans\"), Zipkin v2 JSON (an array of spans) or Jaeger JSON (an object with \"data\")".into(),
            ))
        }
    };
    Ok(FileRead { format, spans })
}

/// Read one line (up to [`MAX_DOCUMENT_BYTES`]) into `line`; 0 at the end of the file.
fn read_line(reader: &mut impl BufRead, line: &mut String) -> Result<usize, String> {
    let mut limited = reader.take(MAX_DOCUMENT_BYTES + 1);
    let n = limited.read_line(line).map_err(|e| format!("cannot read: {e}"))?;
    if n as u64 > MAX_DOCUMENT_BYTES {
        return Err(format!("a line of more than {} MiB", MAX_DOCUMENT_BYTES >> 20));
    }
    Ok(n)
}

/// A JSON value as text: strings as they are, numbers and booleans written out; None for
/// null, arrays and objects.
pub fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A required string field.
pub fn string_field<'v>(object: &'v Value, key: &str, path: &str) -> Result<&'v str, FieldError> {
    match object.get(key) {
        Some(Value::String(s)) => Ok(s),
        Some(other) => Err(FieldError::new(
            format!("{path}.{key}"),
            format!("expected a string, got {other}"),
        )),
        None => Err(FieldError::new(format!("{path}.{key}"), "missing: expected a string")),
    }
}

/// A required whole number written as a JSON integer or a string of digits (OTLP writes 64-bit
/// integers as strings).
pub fn integer_field(object: &Value, key: &str, path: &str, expected: &str) -> Result<i64, FieldError> {
    let value = object
        .get(key)
        .ok_or_else(|| FieldError::new(format!("{path}.{key}"), format!("missing: expected {expected}")))?;
    let parsed = match value {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9.2e18).map(|f| f as i64)),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    };
    parsed.ok_or_else(|| FieldError::new(format!("{path}.{key}"), format!("expected {expected}, got {value}")))
}

/// Latest time a span may have, in nanoseconds since the Unix epoch: 4e18, in the year 2096. Every
/// time read is within 0 and this, so differences and sums of two never overflow.
pub const MAX_EPOCH_NS: i64 = 4_000_000_000_000_000_000;

/// A time in `unit_ns` nanoseconds since the Unix epoch (1 for OTLP, 1000 for Zipkin and Jaeger's
/// microseconds) as nanoseconds, refused outside 0 to [`MAX_EPOCH_NS`].
pub fn epoch_field(object: &Value, key: &str, path: &str, unit_ns: i64) -> Result<i64, FieldError> {
    let expected = if unit_ns == 1 {
        "nanoseconds since the Unix epoch"
    } else {
        "microseconds since the Unix epoch"
    };
    let value = integer_field(object, key, path, expected)?;
    if !(0..=MAX_EPOCH_NS / unit_ns).contains(&value) {
        return Err(FieldError::new(
            format!("{path}.{key}"),
            format!(
                "expected {expected} from 0 to {} (the year 2096), got {value}",
                MAX_EPOCH_NS / unit_ns
            ),
        ));
    }
    Ok(value * unit_ns)
}

/// A duration in microseconds (Zipkin, Jaeger) as nanoseconds, refused when negative or longer
/// than [`MAX_EPOCH_NS`].
pub fn duration_field(object: &Value, key: &str, path: &str) -> Result<i64, FieldError> {
    let value = integer_field(object, key, path, "a duration in microseconds")?;
    if !(0..=MAX_EPOCH_NS / 1000).contains(&value) {
        return Err(FieldError::new(
            format!("{path}.{key}"),
            format!(
                "expected a duration in microseconds from 0 to {}, got {value}",
                MAX_EPOCH_NS / 1000
            ),
        ));
    }
    Ok(value * 1000)
}

/// An optional array field (absent or null is empty).
pub fn array_field<'v>(object: &'v Value, key: &str, path: &str) -> Result<&'v [Value], FieldError> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(other) => Err(FieldError::new(
            format!("{path}.{key}"),
            format!("expected an array, got {other}"),
        )),
    }
}

/// A hex id field of at most `digits` digits (32 for a trace, 16 for a span); `optional` fields
/// that are absent or empty read as 0 (a root's parent).
pub fn hex_field(object: &Value, key: &str, path: &str, digits: usize, optional: bool) -> Result<u128, FieldError> {
    let text = match object.get(key) {
        None | Some(Value::Null) if optional => return Ok(0),
        Some(Value::String(s)) if optional && s.is_empty() => return Ok(0),
        Some(Value::String(s)) => s.as_str(),
        Some(other) => {
            return Err(FieldError::new(
                format!("{path}.{key}"),
                format!("expected a hex id, got {other}"),
            ))
        }
        None => return Err(FieldError::new(format!("{path}.{key}"), "missing: expected a hex id")),
    };
    super::span::parse_hex_id(text, digits).ok_or_else(|| {
        FieldError::new(
            format!("{path}.{key}"),
            format!("expected a hex id of at most {digits} digits, got \"{text}\""),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn times_are_read_up_to_the_year_2096_and_refused_beyond() {
        let at = |v: Value, unit| epoch_field(&json!({ "t": v }), "t", "span", unit);
        assert_eq!(at(json!("4000000000000000000"), 1).unwrap(), MAX_EPOCH_NS);
        assert!(at(json!("4000000000000000001"), 1)
            .unwrap_err()
            .what
            .contains("from 0 to 4000000000000000000"));
        assert_eq!(at(json!(4_000_000_000_000_000i64), 1000).unwrap(), MAX_EPOCH_NS);
        assert!(at(json!(4_000_000_000_000_001i64), 1000).is_err());
        assert!(at(json!(-1), 1).is_err());
        let long = |v: i64| duration_field(&json!({ "d": v }), "d", "span");
        assert_eq!(long(MAX_EPOCH_NS / 1000).unwrap(), MAX_EPOCH_NS);
        assert!(long(MAX_EPOCH_NS / 1000 + 1).is_err());
    }
}
