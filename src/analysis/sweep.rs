//! Sweep results: one run per point, the chosen metric along the sweep, its knee, and the first
//! point where an SLO breaks. A sweep can run in shards (`--shard i/n`) whose JSON files
//! [`merge`] puts back together; both paths end in [`finish`], so a merged sweep is byte-for-byte
//! the sweep run whole.

use super::knee::knee;
use crate::results::RunResult;
use crate::scenario::sweep::numeric;
use crate::stats::Estimate;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// What every sweep file starts with.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SweepHeader {
    /// Version of the layout.
    pub schema_version: u32,
    /// The model's name.
    pub model: String,
    /// The scenario the sweep runs on top of ("" for the baseline).
    pub scenario: String,
    /// The swept paths, in grid order (the first outermost).
    pub params: Vec<String>,
    /// The metric whose knee is sought.
    pub metric: String,
    /// How far above its low-load trend the metric must be to make a knee (a share).
    #[serde(deserialize_with = "crate::stats::nan::number")]
    pub threshold: f64,
    /// Points in the whole sweep.
    pub total_points: usize,
    /// For a sweep of added link latency: round trips over the swept links per request of each
    /// endpoint that crosses them (the spreadsheet's "queries").
    pub round_trips: indexmap::IndexMap<String, u64>,
}

/// One point of a sweep.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SweepPoint {
    /// Position in the grid (0-based).
    pub index: usize,
    /// The parameters' values at this point.
    pub values: Vec<Value>,
    /// The chosen metric.
    pub metric: Estimate,
    /// SLO objectives breached here ("api.checkout p99 <= 250ms").
    pub slos_breached: Vec<String>,
    /// The full results.
    pub result: RunResult,
}

/// The SLO objectives a result breaches.
pub fn breaches(result: &RunResult) -> Vec<String> {
    result
        .slos
        .iter()
        .filter(|s| s.status == "breached")
        .map(|s| format!("{} {}", s.name, s.objective))
        .collect()
}

/// The first point (in grid order: the smallest trigger of a one-parameter sweep) whose
/// metastability verdict is "metastable", as JSON; null when none is.
fn first_metastable(points: &[Value]) -> Value {
    points
        .iter()
        .find(|p| p["result"]["metastability"]["status"] == "metastable")
        .map_or(Value::Null, |p| {
            serde_json::json!({
                "index": p["index"],
                "values": p["values"],
                "text": p["result"]["metastability"]["text"],
            })
        })
}

/// The knee and first-breach verdicts of complete points (as JSON), in grid order.
fn verdicts(threshold: f64, one_param: bool, points: &[Value]) -> (Value, Value) {
    let knee_verdict = if one_param {
        let xy: Vec<(f64, f64)> = points
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let x = p["values"].get(0).and_then(numeric).unwrap_or(i as f64);
                let y = p["metric"]["mean"].as_f64().unwrap_or(f64::NAN);
                (x, y)
            })
            .collect();
        knee(&xy, threshold).map_or(Value::Null, |i| {
            let trend = super::knee::trend_at(&xy, xy[i].0).unwrap_or(f64::NAN);
            serde_json::json!({ "index": i, "values": points[i]["values"], "metric": xy[i].1, "trend": trend })
        })
    } else {
        Value::Null
    };
    let breach = points
        .iter()
        .find(|p| p["slos_breached"].as_array().is_some_and(|b| !b.is_empty()))
        .map_or(
            Value::Null,
            |p| serde_json::json!({ "index": p["index"], "values": p["values"], "slos": p["slos_breached"] }),
        );
    (knee_verdict, breach)
}

/// The complete sweep as JSON: header, points in grid order, knee and first SLO breach.
pub fn finish(header: &Value, mut points: Vec<Value>) -> Value {
    points.sort_by_key(|p| p["index"].as_u64().unwrap_or(u64::MAX));
    let threshold = header["threshold"].as_f64().unwrap_or(0.1);
    let one_param = header["params"].as_array().is_some_and(|p| p.len() == 1);
    let (knee_verdict, breach) = verdicts(threshold, one_param, &points);
    let watched = points.iter().any(|p| p["result"]["metastability"].is_object());
    let tipping = first_metastable(&points);
    let mut out: Map<String, Value> = header.as_object().cloned().unwrap_or_default();
    out.insert("points".into(), Value::Array(points));
    out.insert("knee".into(), knee_verdict);
    out.insert("first_slo_breach".into(), breach);
    if watched {
        out.insert("first_metastable".into(), tipping);
    }
    Value::Object(out)
}

/// One shard's file: the header, which shard, and its points (no verdicts: they need all points).
pub fn shard_file(header: &Value, shard: &str, points: Vec<Value>) -> Value {
    let mut out: Map<String, Value> = header.as_object().cloned().unwrap_or_default();
    out.insert("shard".into(), Value::from(shard));
    out.insert("points".into(), Value::Array(points));
    Value::Object(out)
}

/// Put shard files back together: they must come from the same sweep, and cover every point
/// exactly once.
pub fn merge(shards: &[(String, Value)]) -> Result<Value, String> {
    let Some((_, first)) = shards.first() else {
        return Err("expected at least one shard file".into());
    };
    let header_of = |v: &Value| {
        let mut h = v.as_object().cloned().unwrap_or_default();
        h.remove("shard");
        h.remove("points");
        Value::Object(h)
    };
    let header = header_of(first);
    let total = header["total_points"]
        .as_u64()
        .ok_or("the first file is not a capsim sweep shard (no total_points)")?;
    let max = crate::scenario::sweep::MAX_POINTS as u64;
    if total > max {
        return Err(format!(
            "the shard says the sweep has {total} points; a sweep has at most {max}"
        ));
    }
    let total = total as usize;
    let mut seen = vec![false; total];
    let mut points = Vec::new();
    for (name, shard) in shards {
        if shard.get("shard").is_none() {
            return Err(format!("{name}: not a shard file (no \"shard\" field)"));
        }
        if header_of(shard) != header {
            return Err(format!(
                "{name}: from a different sweep (model, parameters, metric or settings differ)"
            ));
        }
        for p in shard["points"].as_array().into_iter().flatten() {
            let i = p["index"]
                .as_u64()
                .map(|i| i as usize)
                .filter(|&i| i < total)
                .ok_or(format!("{name}: a point has no valid index"))?;
            if std::mem::replace(&mut seen[i], true) {
                return Err(format!("{name}: point {i} appears in more than one shard"));
            }
            points.push(p.clone());
        }
    }
    let missing: Vec<String> = seen
        .iter()
        .enumerate()
        .filter(|(_, s)| !**s)
        .map(|(i, _)| i.to_string())
        .collect();
    if !missing.is_empty() {
        return Err(format!("points missing from the shards: {}", missing.join(", ")));
    }
    Ok(finish(&header, points))
}
