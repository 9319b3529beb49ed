//! Sweep results: one run per point, the chosen metric along the sweep, its knee, and the first
//! point where an SLO breaks. A sweep can run in shards (`--shard i/n`) whose JSON files
//! [`merge`] puts back together; both paths end in [`finish`], so a merged sweep is byte-for-byte
//! the sweep run whole.

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
    /// What identifies the sweep's runs (model, settings, grid, capsim version), so that shards
    /// of different sweeps are never merged (null in files written before it existed).
    #[serde(default)]
    pub fingerprint: Option<super::fingerprint::Fingerprint>,
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

/// Whether a point (as JSON) was cut short by a bound of the run (`--max-events`, `--max-wall`,
/// Ctrl-C) — some of its replications stopped early or never started — so its metric is not the
/// model's answer at that point. Such points are left out of the knee, first-breach and
/// metastability verdicts.
pub fn point_is_partial(point: &Value) -> bool {
    let coverage = &point["result"]["verdict"]["replications"];
    ["cut_short", "not_started"]
        .iter()
        .any(|k| coverage[*k].as_array().is_some_and(|a| !a.is_empty()))
}

/// The first point (in grid order: the smallest trigger of a one-parameter sweep) whose
/// metastability verdict is "metastable", as JSON; null when none is.
fn first_metastable(points: &[Value]) -> Value {
    points
        .iter()
        .filter(|p| !point_is_partial(p))
        .find(|p| p["result"]["metastability"]["status"] == "metastable")
        .map_or(Value::Null, |p| {
            serde_json::json!({
                "index": p["index"],
                "values": p["values"],
                "text": p["result"]["metastability"]["text"],
            })
        })
}

/// Which way a one-parameter sweep goes: whether the system gets worse or better as the swept
/// value grows. A load sweep (traffic, added latency, a bigger trigger) gets worse; a capacity
/// sweep (instances, workers, pool size, cores) gets better, and its low-load end is the largest
/// value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SweepDirection {
    /// Worse as the value grows: the knee is sought from the smallest value up, and the verdict
    /// is the first value that breaches an SLO.
    WorsensAsItGrows,
    /// Better as the value grows: the knee is sought from the largest value down, and the verdict
    /// is the smallest value that meets every SLO.
    ImprovesAsItGrows,
}

impl SweepDirection {
    /// The direction as written in the sweep's JSON.
    pub fn name(self) -> &'static str {
        match self {
            SweepDirection::WorsensAsItGrows => "worsens_as_it_grows",
            SweepDirection::ImprovesAsItGrows => "improves_as_it_grows",
        }
    }
}

/// The direction of a one-parameter sweep, from its data (points in order of the swept value):
/// where the SLOs say so — breached at the smallest value and not at the largest, or the reverse
/// — that decides; otherwise the metric at the two ends, read in its worse direction
/// ([`crate::results::metric::direction`]): worse at the smallest value means the sweep improves as the
/// value grows. Anything undecided is a load sweep (worsens), as sweeps were read before.
pub fn sweep_direction(metric: &str, ordered: &[(f64, f64)], breached: &[bool]) -> SweepDirection {
    match (breached.first(), breached.last()) {
        (Some(true), Some(false)) => return SweepDirection::ImprovesAsItGrows,
        (Some(false), Some(true)) => return SweepDirection::WorsensAsItGrows,
        _ => {}
    }
    let finite: Vec<f64> = ordered.iter().map(|p| p.1).filter(|y| y.is_finite()).collect();
    match (finite.first(), finite.last()) {
        (Some(&low_end), Some(&high_end)) if crate::results::metric::direction(metric).is_worse(low_end, high_end) => {
            SweepDirection::ImprovesAsItGrows
        }
        _ => SweepDirection::WorsensAsItGrows,
    }
}

/// Whether a point (as JSON) meets every SLO of the model for certain: each one "met" (none
/// breached nor uncertain). False for a model without SLOs.
fn meets_every_slo(point: &Value) -> bool {
    point["result"]["slos"]
        .as_array()
        .is_some_and(|slos| !slos.is_empty() && slos.iter().all(|s| s["status"] == "met"))
}

/// The first point (in the order given) that breaches an SLO, as JSON; null when none does.
fn first_breach<'a>(mut points: impl Iterator<Item = &'a Value>) -> Value {
    points.find(|p| breaches_an_slo(p)).map_or(
        Value::Null,
        |p| serde_json::json!({ "index": p["index"], "values": p["values"], "slos": p["slos_breached"] }),
    )
}

/// Whether a point (as JSON) breaches an SLO.
fn breaches_an_slo(point: &Value) -> bool {
    point["slos_breached"].as_array().is_some_and(|b| !b.is_empty())
}

/// The verdicts of complete points (as JSON, in grid order), into `out`: the sweep's `direction`
/// and the grid indices of the two points its low-load trend goes through (`trend_through`,
/// one-parameter sweeps only), the `knee`, and the SLO verdict — `first_slo_breach` when the
/// sweep worsens as the value grows (in grid order for grids), `meets_every_slo_from` (the
/// smallest value at which every SLO is met) when it improves; `slo_points` counts the points
/// that meet every SLO and those that breach one, so "every point breaches" and "every point
/// meets" are said as such.
fn verdicts(metric: &str, threshold: f64, one_param: bool, points: &[Value], out: &mut Map<String, Value>) {
    // Points cut short by a bound of the run are not the model's answer: judge the others.
    let points: Vec<&Value> = points.iter().filter(|p| !point_is_partial(p)).collect();
    let with_slos = points
        .iter()
        .any(|p| p["result"]["slos"].as_array().is_some_and(|s| !s.is_empty()));
    let meet = points.iter().filter(|p| meets_every_slo(p)).count();
    let breach = points.iter().filter(|p| breaches_an_slo(p)).count();
    if !one_param {
        out.insert("knee".into(), Value::Null);
        out.insert("first_slo_breach".into(), first_breach(points.iter().copied()));
        if with_slos {
            out.insert(
                "slo_points".into(),
                serde_json::json!({ "meet": meet, "breach": breach, "total": points.len() }),
            );
        }
        return;
    }
    // Points in order of the swept value (grid order when a value is not a number).
    let xy: Vec<(f64, f64)> = points
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let grid_order = p["index"].as_f64().unwrap_or(i as f64);
            let x = p["values"].get(0).and_then(numeric).unwrap_or(grid_order);
            let y = p["metric"]["mean"].as_f64().unwrap_or(f64::NAN);
            (x, y)
        })
        .collect();
    let mut order: Vec<usize> = (0..points.len()).collect();
    order.sort_by(|&a, &b| xy[a].0.total_cmp(&xy[b].0));
    let ordered: Vec<(f64, f64)> = order.iter().map(|&i| xy[i]).collect();
    let breached: Vec<bool> = order.iter().map(|&i| breaches_an_slo(points[i])).collect();
    let direction = sweep_direction(metric, &ordered, &breached);
    // From the low-load end: the smallest value up, or the largest down.
    let from_low_load: Vec<usize> = match direction {
        SweepDirection::WorsensAsItGrows => order.clone(),
        SweepDirection::ImprovesAsItGrows => order.iter().rev().copied().collect(),
    };
    let walk: Vec<(f64, f64)> = from_low_load.iter().map(|&i| xy[i]).collect();
    let worse = crate::results::metric::direction(metric);
    let knee_verdict = super::knee::knee_towards(&walk, threshold, worse).map_or(Value::Null, |k| {
        let i = from_low_load[k];
        let trend = super::knee::trend_at(&walk, walk[k].0).unwrap_or(f64::NAN);
        serde_json::json!({ "index": points[i]["index"], "values": points[i]["values"], "metric": xy[i].1, "trend": trend })
    });
    out.insert("direction".into(), Value::from(direction.name()));
    out.insert(
        "trend_through".into(),
        Value::Array(from_low_load.iter().take(2).map(|&i| points[i]["index"].clone()).collect()),
    );
    out.insert("knee".into(), knee_verdict);
    match direction {
        SweepDirection::WorsensAsItGrows => {
            out.insert("first_slo_breach".into(), first_breach(order.iter().map(|&i| points[i])));
        }
        SweepDirection::ImprovesAsItGrows if with_slos => {
            let smallest = order.iter().map(|&i| points[i]).find(|p| meets_every_slo(p));
            out.insert(
                "meets_every_slo_from".into(),
                smallest.map_or(
                    Value::Null,
                    |p| serde_json::json!({ "index": p["index"], "values": p["values"] }),
                ),
            );
        }
        SweepDirection::ImprovesAsItGrows => {}
    }
    if with_slos {
        out.insert(
            "slo_points".into(),
            serde_json::json!({ "meet": meet, "breach": breach, "total": points.len() }),
        );
    }
}

/// The complete sweep as JSON: header, points in grid order, and the verdicts (see `verdicts`).
pub fn finish(header: &Value, mut points: Vec<Value>) -> Value {
    points.sort_by_key(|p| p["index"].as_u64().unwrap_or(u64::MAX));
    let threshold = header["threshold"].as_f64().unwrap_or(0.1);
    let one_param = header["params"].as_array().is_some_and(|p| p.len() == 1);
    let metric = header["metric"].as_str().unwrap_or_default().to_string();
    let watched = points.iter().any(|p| p["result"]["metastability"].is_object());
    let tipping = first_metastable(&points);
    let mut verdict_fields = Map::new();
    verdicts(&metric, threshold, one_param, &points, &mut verdict_fields);
    let partial: Vec<Value> = points
        .iter()
        .filter(|p| point_is_partial(p))
        .map(|p| p["index"].clone())
        .collect();
    let mut out: Map<String, Value> = header.as_object().cloned().unwrap_or_default();
    out.insert("points".into(), Value::Array(points));
    if !partial.is_empty() {
        // The verdicts below judge only the other points: say which were left out.
        out.insert("partial_points".into(), Value::Array(partial));
    }
    out.extend(verdict_fields);
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

/// Put shard files back together. They must come from one sweep — the same header and
/// fingerprint (model hash, seed, replications, duration, warm-up, window, event budget, grid,
/// capsim version); otherwise the error names the file, each field that differs and both
/// values — and cover every point exactly once, each point in the shard that owns it with the
/// grid's values. Shards with partial points (cut short by a bound of the run) merge into a
/// sweep whose `partial_points` lists them.
///
/// 1. Read the first file's header; check the point count against the grid and the bound.
/// 2. For every file: a shard "I/N" of the same N, never given twice, with the same header.
/// 3. For every point: a valid index owned by its shard, never seen before, with the grid's values.
/// 4. Every point present, every shard present; then [`finish`].
pub fn merge(shards: &[(String, Value)]) -> Result<Value, String> {
    use super::fingerprint::{differences, short};
    let Some((first_name, first)) = shards.first() else {
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
        .ok_or(format!("{first_name}: not a capsim sweep shard (no total_points)"))?;
    let max = crate::scenario::sweep::MAX_POINTS as u64;
    if total > max {
        return Err(format!(
            "{first_name}: the shard says the sweep has {total} points; a sweep has at most {max}"
        ));
    }
    let fingerprint = &header["fingerprint"];
    if !fingerprint.is_object() {
        return Err(format!(
            "{first_name}: the shard has no fingerprint (written by an older capsim, or edited): run the shard again to merge it"
        ));
    }
    let grid: Vec<Vec<Value>> = serde_json::from_value(fingerprint["grid"].clone())
        .map_err(|_| format!("{first_name}: fingerprint.grid: expected a list of value lists, one per parameter"))?;
    // The grid's size, without overflow: more than `max` points is already wrong.
    let grid_points = grid
        .iter()
        .try_fold(1u64, |n, values| n.checked_mul(values.len() as u64).filter(|&n| n <= max));
    if grid_points != Some(total) {
        return Err(format!(
            "{first_name}: total_points is {total} but the grid in its fingerprint has {} points",
            grid_points.map_or(format!("more than {max}"), |n| n.to_string())
        ));
    }
    let total = total as usize;
    let mut count: Option<(usize, &str)> = None;
    let mut shard_seen: Vec<Option<&str>> = Vec::new();
    let mut seen = vec![false; total];
    let mut points = Vec::new();
    for (name, shard) in shards {
        let Some(text) = shard.get("shard") else {
            return Err(format!("{name}: not a shard file (no \"shard\" field)"));
        };
        let owner = text
            .as_str()
            .ok_or_else(|| "expected a shard like \"2/4\"".to_string())
            .and_then(crate::scenario::sweep::Shard::parse)
            .map_err(|why| format!("{name}: shard: {why}, got {}", short(Some(text))))?;
        match count {
            None => {
                count = Some((owner.count, name));
                shard_seen = vec![None; owner.count.min(total.max(1))];
            }
            Some((n, other)) if n != owner.count => {
                return Err(format!(
                    "{name}: shard {}/{} is from a sweep cut into {} shards, {other} into {n}",
                    owner.index, owner.count, owner.count
                ))
            }
            Some(_) => {}
        }
        let this = header_of(shard);
        if this != header {
            let mut differs = differences(&header, &this);
            differs.retain(|d| !d.starts_with("fingerprint:"));
            differs.extend(
                differences(&header["fingerprint"], &this["fingerprint"])
                    .into_iter()
                    .map(|d| format!("fingerprint.{d}")),
            );
            return Err(format!(
                "{name}: from a different sweep than {first_name}: {} ({first_name} vs {name})",
                differs.join("; ")
            ));
        }
        if let Some(slot) = shard_seen.get_mut(owner.index - 1) {
            if let Some(other) = slot.replace(name) {
                return Err(format!(
                    "{name}: shard {}/{} was given already ({other})",
                    owner.index, owner.count
                ));
            }
        }
        let Some(list) = shard["points"].as_array() else {
            return Err(format!("{name}: points: expected a list of points"));
        };
        for p in list {
            let i = p["index"].as_u64().map(|i| i as usize).filter(|&i| i < total).ok_or(format!(
                "{name}: a point has no valid index (0 to {})",
                total.saturating_sub(1)
            ))?;
            if !owner.owns(i) {
                return Err(format!(
                    "{name}: point {i} does not belong to shard {}/{} (its points are every {}th from {})",
                    owner.index,
                    owner.count,
                    owner.count,
                    owner.index - 1
                ));
            }
            if std::mem::replace(&mut seen[i], true) {
                return Err(format!("{name}: point {i} appears more than once"));
            }
            let expected = grid_values(&grid, i);
            if p["values"].as_array() != Some(&expected) {
                return Err(format!(
                    "{name}: point {i} has values {}, but the grid gives {}",
                    short(p.get("values")),
                    short(Some(&Value::Array(expected)))
                ));
            }
            points.push(p.clone());
        }
    }
    let missing_shards: Vec<String> = shard_seen
        .iter()
        .enumerate()
        .filter(|(_, s)| s.is_none())
        .map(|(i, _)| format!("{}/{}", i + 1, count.map_or(0, |c| c.0)))
        .collect();
    let missing: Vec<String> = seen
        .iter()
        .enumerate()
        .filter(|(_, s)| !**s)
        .map(|(i, _)| i.to_string())
        .collect();
    if !missing.is_empty() {
        let shards = if missing_shards.is_empty() {
            String::new()
        } else {
            format!(" (shards not given: {})", missing_shards.join(", "))
        };
        return Err(format!("points missing from the shards: {}{shards}", missing.join(", ")));
    }
    Ok(finish(&header, points))
}

/// The parameters' values at point `index` of `grid` (the last parameter varies fastest).
fn grid_values(grid: &[Vec<Value>], mut index: usize) -> Vec<Value> {
    let mut values = vec![Value::Null; grid.len()];
    for (slot, options) in values.iter_mut().zip(grid).rev() {
        if options.is_empty() {
            continue;
        }
        *slot = options[index % options.len()].clone();
        index /= options.len();
    }
    values
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A point of a one-parameter sweep as JSON: value `x`, metric `y`, SLO statuses.
    fn point(index: usize, x: f64, y: f64, statuses: &[&str]) -> Value {
        let breached: Vec<String> = statuses
            .iter()
            .filter(|s| **s == "breached")
            .map(|_| "web p50 <= 230ms".to_string())
            .collect();
        serde_json::json!({
            "index": index, "values": [x], "metric": { "mean": y },
            "slos_breached": breached,
            "result": { "slos": statuses.iter().map(|s| serde_json::json!({ "status": s })).collect::<Vec<_>>() },
        })
    }

    fn header() -> Value {
        serde_json::json!({ "params": ["services.api.workers"], "metric": "web.p50", "threshold": 0.1 })
    }

    #[test]
    fn a_capacity_sweep_names_the_smallest_value_that_meets_every_slo() {
        // Latency falls as workers are added; 1 is uncertain (overloaded, wild), 2 breaches.
        let points = vec![
            point(0, 1.0, 9000.0, &["uncertain"]),
            point(1, 2.0, 2000.0, &["breached"]),
            point(2, 3.0, 272.0, &["breached"]),
            point(3, 4.0, 196.0, &["met"]),
            point(4, 5.0, 179.0, &["met"]),
        ];
        let sweep = finish(&header(), points);
        assert_eq!(sweep["direction"], "improves_as_it_grows");
        assert_eq!(sweep["meets_every_slo_from"]["values"], serde_json::json!([4.0]));
        assert!(sweep.get("first_slo_breach").is_none(), "{sweep}");
        // The trend runs through 5 and 4 (rising towards fewer workers), so any knee is against a
        // positive trend: here 3 workers, 272 against 213.
        assert_eq!(sweep["trend_through"], serde_json::json!([4, 3]));
        assert_eq!(sweep["knee"]["index"], 2);
        assert!(sweep["knee"]["trend"].as_f64().unwrap() > 0.0);
    }

    #[test]
    fn every_point_breaching_or_meeting_is_said_as_such() {
        let all_breach = finish(
            &header(),
            vec![point(0, 1.0, 900.0, &["breached"]), point(1, 2.0, 500.0, &["breached"])],
        );
        assert_eq!(all_breach["direction"], "improves_as_it_grows");
        assert_eq!(all_breach["meets_every_slo_from"], Value::Null);
        assert_eq!(
            all_breach["slo_points"],
            serde_json::json!({ "meet": 0, "breach": 2, "total": 2 })
        );
        let all_meet = finish(
            &header(),
            vec![point(0, 1.0, 200.0, &["met"]), point(1, 2.0, 150.0, &["met"])],
        );
        assert_eq!(all_meet["meets_every_slo_from"]["index"], 0);
        assert_eq!(all_meet["slo_points"]["meet"], 2);
    }

    #[test]
    fn a_load_sweep_still_names_its_first_breach_from_the_smallest_value() {
        let h = serde_json::json!({ "params": ["clients.web.open.rate"], "metric": "web.p99", "threshold": 0.1 });
        let points = vec![
            point(0, 10.0, 100.0, &["met"]),
            point(1, 20.0, 110.0, &["met"]),
            point(2, 30.0, 120.0, &["met"]),
            point(3, 40.0, 400.0, &["breached"]),
        ];
        let sweep = finish(&h, points);
        assert_eq!(sweep["direction"], "worsens_as_it_grows");
        assert_eq!(sweep["first_slo_breach"]["index"], 3);
        assert_eq!(sweep["knee"]["index"], 3);
        assert_eq!(sweep["trend_through"], serde_json::json!([0, 1]));
    }
}
