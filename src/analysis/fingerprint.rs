//! A sweep's fingerprint: everything that must be the same for shard files to be parts of one
//! sweep — the model, the run settings, the grid and the capsim that ran them. `capsim merge`
//! refuses shards whose fingerprints differ and names the field.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What identifies a sweep's runs, written into every shard file (and the whole sweep's JSON).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Fingerprint {
    /// FNV-1a 64 of the model's canonical JSON (keys sorted, no spaces) after the sweep's
    /// scenario is applied, as 16 hex digits: two models with the same name but other contents
    /// differ here.
    pub model_hash: String,
    /// Seed of the random streams.
    pub seed: u64,
    /// Replications per point.
    pub replications: u32,
    /// Simulated seconds per replication.
    #[serde(deserialize_with = "crate::stats::nan::number")]
    pub duration_s: f64,
    /// Warm-up, seconds.
    #[serde(deserialize_with = "crate::stats::nan::number")]
    pub warmup_s: f64,
    /// Width of a time-series window, seconds.
    #[serde(deserialize_with = "crate::stats::nan::number")]
    pub window_s: f64,
    /// Event budget per replication.
    pub max_events: u64,
    /// The values of each swept parameter, in grid order (the first parameter outermost).
    pub grid: Vec<Vec<Value>>,
    /// The version of capsim that ran the points.
    pub capsim_version: String,
}

/// The version of this capsim, as written into fingerprints.
pub const CAPSIM_VERSION: &str = env!("CARGO_PKG_VERSION");

/// FNV-1a, 64 bits (offset basis 0xcbf29ce484222325, prime 0x100000001b3): a fixed, documented
/// hash that gives the same value on every platform and Rust version, unlike `std`'s hasher.
pub fn fnv1a_64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xCBF2_9CE4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01B3)
    })
}

/// `value` as JSON with every object's keys sorted and no whitespace, so that the same model
/// written with other key order or spacing gives the same text.
pub fn canonical_json(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let fields: Vec<String> = keys
                .into_iter()
                .map(|k| format!("{}:{}", Value::String(k.clone()), canonical_json(&map[k])))
                .collect();
            format!("{{{}}}", fields.join(","))
        }
        Value::Array(items) => format!("[{}]", items.iter().map(canonical_json).collect::<Vec<_>>().join(",")),
        other => other.to_string(),
    }
}

/// The model hash of a model's JSON: FNV-1a 64 of its canonical JSON, 16 hex digits.
pub fn model_hash(model: &Value) -> String {
    format!("{:016x}", fnv1a_64(canonical_json(model).as_bytes()))
}

/// The fields of two fingerprints that differ, each as "field: A vs B" (empty when they agree).
pub fn differences(a: &Value, b: &Value) -> Vec<String> {
    let mut keys: Vec<&String> = a.as_object().into_iter().flat_map(|m| m.keys()).collect();
    for k in b.as_object().into_iter().flat_map(|m| m.keys()) {
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    keys.into_iter()
        .filter(|k| a.get(k.as_str()) != b.get(k.as_str()))
        .map(|k| format!("{k}: {} vs {}", short(a.get(k.as_str())), short(b.get(k.as_str()))))
        .collect()
}

/// A JSON value for an error message, cut to a readable length.
pub fn short(value: Option<&Value>) -> String {
    let text = value.map_or("(absent)".to_string(), Value::to_string);
    if text.chars().count() > 80 {
        format!("{}…", text.chars().take(80).collect::<String>())
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fnv1a_64_matches_the_published_test_vectors() {
        // From the FNV reference test suite: "" and "a" and "foobar".
        assert_eq!(fnv1a_64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a_64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a_64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn the_model_hash_ignores_key_order_and_spacing_but_not_values() {
        let a: Value = serde_json::from_str(r#"{"name": "m", "services": {"b": 1, "a": [1, 2]}}"#).unwrap();
        let b: Value = serde_json::from_str(r#"{"services":{"a":[1,2],"b":1},"name":"m"}"#).unwrap();
        assert_eq!(model_hash(&a), model_hash(&b));
        assert_ne!(
            model_hash(&a),
            model_hash(&json!({"name": "m", "services": {"a": [2, 1], "b": 1}}))
        );
    }
}
