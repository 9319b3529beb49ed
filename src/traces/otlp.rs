//! OTLP JSON: an `ExportTraceServiceRequest` (`resourceSpans` → `scopeSpans` → `spans`), as the
//! OpenTelemetry Collector's file exporter and the OTLP/HTTP JSON encoding write it: ids in hex,
//! 64-bit integers as strings or numbers, enums as numbers or names. The older
//! `instrumentationLibrarySpans` is read as `scopeSpans`.

use super::read::{array_field, epoch_field, hex_field, scalar_text, string_field, FieldError};
use super::span::{Attributes, Kind, RawSpan};
use serde_json::Value;

/// Give every span of one `ExportTraceServiceRequest` to `sink`.
pub fn spans(document: &Value, sink: &mut dyn FnMut(RawSpan)) -> Result<(), FieldError> {
    for (r, resource_spans) in array_field(document, "resourceSpans", "")?.iter().enumerate() {
        let rpath = format!("resourceSpans[{r}]");
        let mut resource = Attributes::default();
        let mut service = None;
        if let Some(res) = resource_spans.get("resource") {
            for (key, value) in attributes(res, &format!("{rpath}.resource"))? {
                if key == "service.name" {
                    service = Some(value);
                } else {
                    resource.set(&key, value);
                }
            }
        }
        let service = service.ok_or_else(|| {
            FieldError::new(
                format!("{rpath}.resource.attributes"),
                "no \"service.name\": expected every resource to name its service",
            )
        })?;
        let scopes_key = if resource_spans.get("scopeSpans").is_some() {
            "scopeSpans"
        } else {
            "instrumentationLibrarySpans"
        };
        for (s, scope) in array_field(resource_spans, scopes_key, &rpath)?.iter().enumerate() {
            let spath = format!("{rpath}.{scopes_key}[{s}]");
            for (k, span) in array_field(scope, "spans", &spath)?.iter().enumerate() {
                sink(one(span, &format!("{spath}.spans[{k}]"), &service, &resource)?);
            }
        }
    }
    Ok(())
}

fn one(span: &Value, path: &str, service: &str, resource: &Attributes) -> Result<RawSpan, FieldError> {
    let kind = match span.get("kind") {
        None | Some(Value::Null) => Kind::Unspecified,
        Some(value) => scalar_text(value).and_then(|t| Kind::parse(&t)).ok_or_else(|| {
            FieldError::new(
                format!("{path}.kind"),
                format!("expected a span kind (0 to 5 or SPAN_KIND_SERVER, …), got {value}"),
            )
        })?,
    };
    let start_ns = epoch_field(span, "startTimeUnixNano", path, 1)?;
    let end_ns = epoch_field(span, "endTimeUnixNano", path, 1)?;
    let mut attrs = Attributes {
        instance: resource.instance.clone(),
        ..Attributes::default()
    };
    for (key, value) in attributes(span, path)? {
        attrs.set(&key, value);
    }
    let status = span
        .get("status")
        .and_then(|s| s.get("code"))
        .and_then(scalar_text)
        .unwrap_or_default();
    let error = matches!(status.as_str(), "2" | "STATUS_CODE_ERROR") || attrs.error;
    Ok(RawSpan {
        trace: hex_field(span, "traceId", path, 32, false)?,
        id: hex_field(span, "spanId", path, 16, false)? as u64,
        parent: hex_field(span, "parentSpanId", path, 16, true)? as u64,
        name: span.get("name").and_then(Value::as_str).unwrap_or_default().to_string(),
        kind,
        start_ns,
        end_ns,
        service: service.to_string(),
        attributes: attrs,
        error,
    })
}

/// An object's `attributes`: `[{"key": …, "value": {"stringValue" | "intValue" | …: …}}]`, the
/// scalar ones as text.
fn attributes(object: &Value, path: &str) -> Result<Vec<(String, String)>, FieldError> {
    let mut out = Vec::new();
    for (i, kv) in array_field(object, "attributes", path)?.iter().enumerate() {
        let key = string_field(kv, "key", &format!("{path}.attributes[{i}]"))?;
        let value = kv.get("value").and_then(|v| {
            ["stringValue", "intValue", "doubleValue", "boolValue"]
                .iter()
                .find_map(|k| v.get(*k).and_then(scalar_text))
        });
        if let Some(value) = value {
            out.push((key.to_string(), value));
        }
    }
    Ok(out)
}
