//! Jaeger JSON, as its UI and query API export it: `{"data": [{"traceID", "spans", "processes"}]}`;
//! times in microseconds, the parent in `references` (`CHILD_OF`, else `FOLLOWS_FROM`) or an older
//! `parentSpanID`, the kind in the `span.kind` tag, the service in the span's process.

use super::read::{array_field, duration_field, epoch_field, hex_field, scalar_text, string_field, FieldError, MAX_EPOCH_NS};
use super::span::{Attributes, Kind, RawSpan};
use serde_json::Value;

/// Give every span of a Jaeger export to `sink`.
pub fn spans(document: &Value, sink: &mut dyn FnMut(RawSpan)) -> Result<(), FieldError> {
    for (t, trace) in array_field(document, "data", "")?.iter().enumerate() {
        let tpath = format!("data[{t}]");
        let processes = trace.get("processes");
        for (i, span) in array_field(trace, "spans", &tpath)?.iter().enumerate() {
            let path = format!("{tpath}.spans[{i}]");
            let process_id = string_field(span, "processID", &path)?;
            let process = processes.and_then(|p| p.get(process_id)).ok_or_else(|| {
                FieldError::new(
                    format!("{path}.processID"),
                    format!("process \"{process_id}\" is not in {tpath}.processes"),
                )
            })?;
            sink(one(span, &path, process)?);
        }
    }
    Ok(())
}

fn one(span: &Value, path: &str, process: &Value) -> Result<RawSpan, FieldError> {
    let service = process
        .get("serviceName")
        .and_then(Value::as_str)
        .ok_or_else(|| FieldError::new(format!("{path}.processID"), "its process has no serviceName"))?;
    let mut attrs = Attributes::default();
    for tag in array_field(process, "tags", path)? {
        if let (Some(key), Some(value)) = (tag.get("key").and_then(Value::as_str), tag.get("value").and_then(scalar_text)) {
            if key == "ip" && attrs.instance.is_none() {
                attrs.instance = Some(value);
            } else {
                attrs.set(key, value);
            }
        }
    }
    let mut kind = Kind::Unspecified;
    for (i, tag) in array_field(span, "tags", path)?.iter().enumerate() {
        let key = string_field(tag, "key", &format!("{path}.tags[{i}]"))?;
        let Some(value) = tag.get("value").and_then(scalar_text) else {
            continue;
        };
        if key == "span.kind" {
            kind = Kind::parse(&value).ok_or_else(|| {
                FieldError::new(
                    format!("{path}.tags[{i}].value"),
                    format!("expected a span kind (server, client, …), got \"{value}\""),
                )
            })?;
        } else {
            attrs.set(key, value);
        }
    }
    let mut parent = hex_field(span, "parentSpanID", path, 16, true)? as u64;
    let references = array_field(span, "references", path)?;
    for wanted in ["CHILD_OF", "FOLLOWS_FROM"] {
        if let Some(r) = references
            .iter()
            .position(|r| r.get("refType").and_then(Value::as_str) == Some(wanted))
        {
            parent = hex_field(&references[r], "spanID", &format!("{path}.references[{r}]"), 16, false)? as u64;
            break;
        }
    }
    let start_ns = epoch_field(span, "startTime", path, 1000)?;
    let duration_ns = duration_field(span, "duration", path)?;
    Ok(RawSpan {
        trace: hex_field(span, "traceID", path, 32, false)?,
        id: hex_field(span, "spanID", path, 16, false)? as u64,
        parent,
        name: span
            .get("operationName")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        kind,
        start_ns,
        end_ns: (start_ns + duration_ns).min(MAX_EPOCH_NS),
        service: service.to_string(),
        error: attrs.error,
        attributes: attrs,
    })
}
