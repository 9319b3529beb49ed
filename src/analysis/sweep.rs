//! Sweep results: one run per point, the chosen metric along the sweep, its knee, and the first
//! point where an SLO breaks. A sweep can run in shards (`--shard i/n`) whose JSON files
//! [`merge`] puts back together; both paths end in [`finish`], so a merged sweep is byte-for-byte
//! the sweep run whole.

use crate::results::RunResult;
use crate::results::SloStatus;
use crate::scenario::sweep::numeric;
use crate::stats::Estimate;
use serde::{Deserialize, Serialize};
use serde_json::Value;

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
        .filter(|s| s.status == SloStatus::Breached)
        .map(|s| format!("{} {}", s.name, s.objective))
        .collect()
}

impl SweepPoint {
    /// Whether the point was cut short by a bound of the run (`--max-events`, `--max-wall`,
    /// Ctrl-C) — some of its replications stopped early or never started — so its metric is not
    /// the model's answer at that point. Such points are left out of the knee, first-breach and
    /// metastability verdicts.
    pub fn is_partial(&self) -> bool {
        self.result.verdict.replications.is_partial()
    }

    /// Whether the point meets every SLO of the model for certain: each one "met" (none breached
    /// nor uncertain). False for a model without SLOs.
    pub fn meets_every_slo(&self) -> bool {
        !self.result.slos.is_empty() && self.result.slos.iter().all(|s| s.status == SloStatus::Met)
    }

    /// Whether the point breaches an SLO.
    pub fn breaches_an_slo(&self) -> bool {
        !self.slos_breached.is_empty()
    }

    /// Whether the model's metastability watch found the system tipped over at this point.
    pub fn is_metastable(&self) -> bool {
        self.result
            .metastability
            .as_ref()
            .is_some_and(|m| m.status == crate::results::metastability::Status::Metastable)
    }

    /// Where the point is in the grid: its index and the parameters' values.
    pub fn at(&self) -> PointAt {
        PointAt {
            index: self.index,
            values: self.values.clone(),
        }
    }
}

/// Which way a one-parameter sweep goes: whether the system gets worse or better as the swept
/// value grows. A load sweep (traffic, added latency, a bigger trigger) gets worse; a capacity
/// sweep (instances, workers, pool size, cores) gets better, and its low-load end is the largest
/// value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
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

/// A point of the grid named by a verdict: its index and the parameters' values there.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PointAt {
    /// Position in the grid (0-based).
    pub index: usize,
    /// The parameters' values at this point.
    pub values: Vec<Value>,
}

/// The knee of a one-parameter sweep: the first point, from the low-load end, whose metric is
/// worse than the low-load trend by more than the threshold.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Knee {
    /// Position in the grid (0-based).
    pub index: usize,
    /// The parameters' values at the knee.
    pub values: Vec<Value>,
    /// The metric there.
    #[serde(deserialize_with = "crate::stats::nan::number")]
    pub metric: f64,
    /// The low-load trend's value there.
    #[serde(deserialize_with = "crate::stats::nan::number")]
    pub trend: f64,
}

/// The first point that breaches an SLO, and the objectives it breaches.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SloBreach {
    /// Position in the grid (0-based).
    pub index: usize,
    /// The parameters' values there.
    pub values: Vec<Value>,
    /// The objectives breached ("api.checkout p99 <= 250ms").
    pub slos: Vec<String>,
}

/// The first point at which the system tips over (metastable after the trigger).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TippingPoint {
    /// Position in the grid (0-based).
    pub index: usize,
    /// The parameters' values there.
    pub values: Vec<Value>,
    /// The metastability verdict there, in a sentence.
    pub text: String,
}

/// How many of the judged points meet every SLO and how many breach one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SloPoints {
    /// Points that meet every SLO for certain.
    pub meet: usize,
    /// Points that breach an SLO.
    pub breach: usize,
    /// Points judged (those not cut short).
    pub total: usize,
}

/// A complete sweep: its header, every point in grid order, and the verdicts on the points that
/// were not cut short. What `capsim sweep --json` and `capsim merge` write, field for field.
///
/// Verdicts that do not apply are absent from the JSON (`None`); a verdict that applies but names
/// no point is `null` (`Some(None)`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FinishedSweep {
    /// What the sweep ran.
    #[serde(flatten)]
    pub header: SweepHeader,
    /// Every point, in grid order.
    pub points: Vec<SweepPoint>,
    /// Grid indices of the points cut short by a bound of the run, left out of every verdict
    /// (absent when there are none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub partial_points: Vec<usize>,
    /// Which way a one-parameter sweep goes (absent for grids).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direction: Option<SweepDirection>,
    /// The grid indices of the two points the low-load trend goes through (one-parameter sweeps).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trend_through: Option<Vec<usize>>,
    /// The knee (null for grids and when the metric stays within the threshold of its trend).
    pub knee: Option<Knee>,
    /// The first point that breaches an SLO (present for grids and sweeps that worsen as the
    /// value grows; null when none does).
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub first_slo_breach: Option<Option<SloBreach>>,
    /// The smallest value that meets every SLO (present for sweeps that improve as the value
    /// grows, on a model with SLOs; null when no point does).
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub meets_every_slo_from: Option<Option<PointAt>>,
    /// Points meeting every SLO, breaching one, and judged (present when the model has SLOs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slo_points: Option<SloPoints>,
    /// The first point (in grid order) where the system tips over (present when the model
    /// watches a metric for metastability; null when no point does).
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub first_metastable: Option<Option<TippingPoint>>,
}

/// A field that may be absent (`None`), `null` (`Some(None)`) or a value.
fn present<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// One shard's file: the header, which shard ("2/4"), and its points (no verdicts: they need
/// every point).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ShardFile {
    /// What the sweep runs.
    #[serde(flatten)]
    pub header: SweepHeader,
    /// Which shard, "I/N".
    pub shard: String,
    /// The shard's points, in grid order.
    pub points: Vec<SweepPoint>,
}

/// The verdicts of complete points (in grid order) into `out`: the sweep's `direction` and the
/// grid indices of the two points its low-load trend goes through (`trend_through`,
/// one-parameter sweeps only), the `knee`, and the SLO verdict — `first_slo_breach` when the
/// sweep worsens as the value grows (in grid order for grids), `meets_every_slo_from` (the
/// smallest value at which every SLO is met) when it improves; `slo_points` counts the points
/// that meet every SLO and those that breach one, so "every point breaches" and "every point
/// meets" are said as such.
fn verdicts(header: &SweepHeader, points: &[&SweepPoint], out: &mut FinishedSweep) {
    let with_slos = points.iter().any(|p| !p.result.slos.is_empty());
    let slo_points = with_slos.then(|| SloPoints {
        meet: points.iter().filter(|p| p.meets_every_slo()).count(),
        breach: points.iter().filter(|p| p.breaches_an_slo()).count(),
        total: points.len(),
    });
    let first_breach = |mut order: Box<dyn Iterator<Item = &SweepPoint> + '_>| {
        order.find(|p| p.breaches_an_slo()).map(|p| SloBreach {
            index: p.index,
            values: p.values.clone(),
            slos: p.slos_breached.clone(),
        })
    };
    if header.params.len() != 1 {
        out.knee = None;
        out.first_slo_breach = Some(first_breach(Box::new(points.iter().copied())));
        out.slo_points = slo_points;
        return;
    }
    // Points in order of the swept value (grid order when a value is not a number).
    let xy: Vec<(f64, f64)> = points
        .iter()
        .map(|p| {
            let x = p.values.first().and_then(numeric).unwrap_or(p.index as f64);
            (x, p.metric.mean)
        })
        .collect();
    let mut order: Vec<usize> = (0..points.len()).collect();
    order.sort_by(|&a, &b| xy[a].0.total_cmp(&xy[b].0));
    let ordered: Vec<(f64, f64)> = order.iter().map(|&i| xy[i]).collect();
    let breached: Vec<bool> = order.iter().map(|&i| points[i].breaches_an_slo()).collect();
    let direction = sweep_direction(&header.metric, &ordered, &breached);
    // From the low-load end: the smallest value up, or the largest down.
    let from_low_load: Vec<usize> = match direction {
        SweepDirection::WorsensAsItGrows => order.clone(),
        SweepDirection::ImprovesAsItGrows => order.iter().rev().copied().collect(),
    };
    let walk: Vec<(f64, f64)> = from_low_load.iter().map(|&i| xy[i]).collect();
    let worse = crate::results::metric::direction(&header.metric);
    out.knee = super::knee::knee_towards(&walk, header.threshold, worse).map(|k| {
        let i = from_low_load[k];
        Knee {
            index: points[i].index,
            values: points[i].values.clone(),
            metric: xy[i].1,
            trend: super::knee::trend_at(&walk, walk[k].0).unwrap_or(f64::NAN),
        }
    });
    out.direction = Some(direction);
    out.trend_through = Some(from_low_load.iter().take(2).map(|&i| points[i].index).collect());
    match direction {
        SweepDirection::WorsensAsItGrows => {
            out.first_slo_breach = Some(first_breach(Box::new(order.iter().map(|&i| points[i]))));
        }
        SweepDirection::ImprovesAsItGrows if with_slos => {
            let smallest = order.iter().map(|&i| points[i]).find(|p| p.meets_every_slo());
            out.meets_every_slo_from = Some(smallest.map(SweepPoint::at));
        }
        SweepDirection::ImprovesAsItGrows => {}
    }
    out.slo_points = slo_points;
}

/// The complete sweep: header, points in grid order, and the verdicts (see [`FinishedSweep`]),
/// judged on the points not cut short.
pub fn finish(header: SweepHeader, mut points: Vec<SweepPoint>) -> FinishedSweep {
    points.sort_by_key(|p| p.index);
    let watched = points.iter().any(|p| p.result.metastability.is_some());
    // Points cut short by a bound of the run are not the model's answer: judge the others.
    let judged: Vec<&SweepPoint> = points.iter().filter(|p| !p.is_partial()).collect();
    let first_metastable = watched.then(|| {
        judged.iter().find(|p| p.is_metastable()).map(|p| TippingPoint {
            index: p.index,
            values: p.values.clone(),
            text: p.result.metastability.as_ref().map(|m| m.text.clone()).unwrap_or_default(),
        })
    });
    let mut out = FinishedSweep {
        header: header.clone(),
        points: Vec::new(),
        partial_points: points.iter().filter(|p| p.is_partial()).map(|p| p.index).collect(),
        direction: None,
        trend_through: None,
        knee: None,
        first_slo_breach: None,
        meets_every_slo_from: None,
        slo_points: None,
        first_metastable,
    };
    verdicts(&header, &judged, &mut out);
    out.points = points;
    out
}

/// Put shard files (name, parsed JSON) back together. They must come from one sweep — the same
/// header and fingerprint (model hash, seed, replications, duration, warm-up, window, event
/// budget, grid, capsim version); otherwise the error names the file, each field that differs
/// and both values — and cover every point exactly once, each point in the shard that owns it
/// with the grid's values. Each point is read once into a [`SweepPoint`] (a malformed one is
/// named by its JSON path). Shards with partial points (cut short by a bound of the run) merge
/// into a sweep whose `partial_points` lists them.
///
/// 1. Read the first file's header; check the point count against the grid and the bound.
/// 2. For every file: a shard "I/N" of the same N, never given twice, with the same header.
/// 3. For every point: a valid index owned by its shard, never seen before, with the grid's
///    values, readable as a point.
/// 4. Every point present, every shard present; then [`finish`].
pub fn merge(shards: &[(String, Value)]) -> Result<FinishedSweep, String> {
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
        for (at, p) in list.iter().enumerate() {
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
            let point: SweepPoint =
                serde_path_to_error::deserialize(p).map_err(|e| format!("{name}: points[{at}].{}: {}", e.path(), e.inner()))?;
            points.push(point);
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
    let header: SweepHeader =
        serde_path_to_error::deserialize(&header).map_err(|e| format!("{first_name}: {}: {}", e.path(), e.inner()))?;
    Ok(finish(header, points))
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

    /// A valid result of a small model with one SLO on `web` (no replications run: every
    /// component, no values), its SLO's status set to `status`.
    fn result(status: SloStatus) -> RunResult {
        let json = r#"{ "duration": "1m", "replications": 2,
            "clients": { "web": { "open": { "rate": "10/s" }, "calls": "api.get" } },
            "services": { "api": { "workers": 1, "endpoints": { "get": [ { "cpu": "1ms" } ] } } },
            "slos": { "web": { "p50": "230ms" } } }"#;
        let validated = crate::model::parse_model(json, "sweep-test.json").expect("a valid model");
        let mut result = crate::results::summarize(&validated.model, &[], Vec::new());
        assert_eq!(result.slos.len(), 1, "the model has one SLO");
        result.slos[0].status = status;
        result
    }

    /// A point of a one-parameter sweep: value `x`, metric `y`, its one SLO's status.
    fn point(index: usize, x: f64, y: f64, status: SloStatus) -> SweepPoint {
        let result = result(status);
        SweepPoint {
            index,
            values: vec![serde_json::json!(x)],
            metric: Estimate::from_samples(&[y, y]),
            slos_breached: breaches(&result),
            result,
        }
    }

    fn header(param: &str, metric: &str) -> SweepHeader {
        SweepHeader {
            schema_version: crate::results::SCHEMA_VERSION,
            model: "sweep-test".into(),
            scenario: String::new(),
            params: vec![param.into()],
            metric: metric.into(),
            threshold: 0.1,
            total_points: 0,
            round_trips: Default::default(),
            fingerprint: None,
        }
    }

    fn workers() -> SweepHeader {
        header("services.api.workers", "web.p50")
    }

    #[test]
    fn a_capacity_sweep_names_the_smallest_value_that_meets_every_slo() {
        // Latency falls as workers are added; 1 is uncertain (overloaded, wild), 2 breaches.
        let points = vec![
            point(0, 1.0, 9000.0, SloStatus::Uncertain),
            point(1, 2.0, 2000.0, SloStatus::Breached),
            point(2, 3.0, 272.0, SloStatus::Breached),
            point(3, 4.0, 196.0, SloStatus::Met),
            point(4, 5.0, 179.0, SloStatus::Met),
        ];
        let sweep = finish(workers(), points);
        assert_eq!(sweep.direction, Some(SweepDirection::ImprovesAsItGrows));
        assert_eq!(
            sweep.meets_every_slo_from,
            Some(Some(PointAt {
                index: 3,
                values: vec![serde_json::json!(4.0)]
            }))
        );
        assert!(sweep.first_slo_breach.is_none(), "{sweep:?}");
        // The trend runs through 5 and 4 (rising towards fewer workers), so any knee is against a
        // positive trend: here 3 workers, 272 against 213.
        assert_eq!(sweep.trend_through, Some(vec![4, 3]));
        let knee = sweep.knee.expect("a knee");
        assert_eq!(knee.index, 2);
        assert!(knee.trend > 0.0);
    }

    #[test]
    fn every_point_breaching_or_meeting_is_said_as_such() {
        let all_breach = finish(
            workers(),
            vec![
                point(0, 1.0, 900.0, SloStatus::Breached),
                point(1, 2.0, 500.0, SloStatus::Breached),
            ],
        );
        assert_eq!(all_breach.direction, Some(SweepDirection::ImprovesAsItGrows));
        assert_eq!(all_breach.meets_every_slo_from, Some(None));
        assert_eq!(
            all_breach.slo_points,
            Some(SloPoints {
                meet: 0,
                breach: 2,
                total: 2
            })
        );
        let all_meet = finish(
            workers(),
            vec![point(0, 1.0, 200.0, SloStatus::Met), point(1, 2.0, 150.0, SloStatus::Met)],
        );
        assert_eq!(all_meet.meets_every_slo_from.clone().flatten().map(|p| p.index), Some(0));
        assert_eq!(all_meet.slo_points.map(|s| s.meet), Some(2));
    }

    #[test]
    fn a_load_sweep_still_names_its_first_breach_from_the_smallest_value() {
        let points = vec![
            point(0, 10.0, 100.0, SloStatus::Met),
            point(1, 20.0, 110.0, SloStatus::Met),
            point(2, 30.0, 120.0, SloStatus::Met),
            point(3, 40.0, 400.0, SloStatus::Breached),
        ];
        let sweep = finish(header("clients.web.open.rate", "web.p99"), points);
        assert_eq!(sweep.direction, Some(SweepDirection::WorsensAsItGrows));
        assert_eq!(sweep.first_slo_breach.clone().flatten().map(|b| b.index), Some(3));
        assert_eq!(sweep.knee.map(|k| k.index), Some(3));
        assert_eq!(sweep.trend_through, Some(vec![0, 1]));
    }

    #[test]
    fn a_finished_sweep_is_written_with_the_verdicts_that_apply_and_reads_back_the_same() {
        // A load sweep: direction, trend, knee and first breach present; no capacity verdict,
        // no metastability watch (absent, not null).
        let points = vec![
            point(0, 10.0, 100.0, SloStatus::Met),
            point(1, 20.0, 110.0, SloStatus::Breached),
        ];
        let sweep = finish(header("clients.web.open.rate", "web.p99"), points);
        let json = serde_json::to_value(&sweep).unwrap();
        let keys: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "schema_version",
                "model",
                "scenario",
                "params",
                "metric",
                "threshold",
                "total_points",
                "round_trips",
                "fingerprint",
                "points",
                "direction",
                "trend_through",
                "knee",
                "first_slo_breach",
                "slo_points"
            ]
        );
        assert_eq!(json["knee"], Value::Null);
        assert_eq!(json["first_slo_breach"]["slos"], serde_json::json!(["web p50 <= 230ms"]));
        let back: FinishedSweep = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(serde_json::to_value(&back).unwrap(), json);
    }
}
