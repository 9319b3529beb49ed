//! Zipkin v2 JSON: an array of spans with `traceId`, `id`, `parentId`, `kind`, `timestamp` and
//! `duration` in microseconds, `localEndpoint.serviceName` and string `tags`. The instance is the
//! `service.instance.id` tag, else the local endpoint's address.

use super::read::{duration_field, epoch_field, hex_field, scalar_text, FieldError, MAX_EPOCH_NS};
use super::span::{Attributes, Kind, RawSpan};
use serde_json::Value;

/// Give every span of a Zipkin v2 array to `sink`.
pub fn spans(document: &Value, sink: &mut dyn FnMut(RawSpan)) -> Result<(), FieldError> {
    let Value::Array(items) = document else {
        return Err(FieldError::new("", "expected an array of Zipkin v2 spans"));
    };
    for (i, span) in items.iter().enumerate() {
        sink(one(span, &format!("[{i}]"))?);
    }
    Ok(())
}

fn one(span: &Value, path: &str) -> Result<RawSpan, FieldError> {
    let kind = match span.get("kind").and_then(Value::as_str) {
        None => Kind::Unspecified,
        Some(text) => Kind::parse(text).ok_or_else(|| {
            FieldError::new(
                format!("{path}.kind"),
                format!("expected CLIENT, SERVER, PRODUCER or CONSUMER, got \"{text}\""),
            )
        })?,
    };
    let start_ns = epoch_field(span, "timestamp", path, 1000)?;
    let duration_ns = match span.get("duration") {
        None | Some(Value::Null) => 0,
        Some(_) => duration_field(span, "duration", path)?,
    };
    let local = span.get("localEndpoint");
    let service = local
        .and_then(|l| l.get("serviceName"))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            FieldError::new(
                format!("{path}.localEndpoint.serviceName"),
                "missing: expected the service that recorded the span",
            )
        })?;
    let mut attrs = Attributes::default();
    let mut error = false;
    if let Some(Value::Object(tags)) = span.get("tags") {
        for (key, value) in tags {
            if key == "error" {
                // Zipkin marks a failure by the tag's presence, whatever its text.
                error = true;
                continue;
            }
            if let Some(text) = scalar_text(value) {
                attrs.set(key, text);
            }
        }
    }
    if attrs.instance.is_none() {
        let address = local
            .and_then(|l| l.get("ipv4").or_else(|| l.get("ipv6")))
            .and_then(Value::as_str);
        let port = local.and_then(|l| l.get("port")).and_then(Value::as_i64);
        attrs.instance = address.map(|a| port.map_or_else(|| a.to_string(), |p| format!("{a}:{p}")));
    }
    if attrs.peer.is_none() {
        attrs.peer = span
            .get("remoteEndpoint")
            .and_then(|r| r.get("serviceName"))
            .and_then(Value::as_str)
            .map(str::to_string);
    }
    Ok(RawSpan {
        trace: hex_field(span, "traceId", path, 32, false)?,
        id: hex_field(span, "id", path, 16, false)? as u64,
        parent: hex_field(span, "parentId", path, 16, true)? as u64,
        name: span.get("name").and_then(Value::as_str).unwrap_or_default().to_string(),
        kind,
        start_ns,
        end_ns: (start_ns + duration_ns).min(MAX_EPOCH_NS),
        service: service.to_string(),
        error: error || attrs.error,
        attributes: attrs,
    })
}
