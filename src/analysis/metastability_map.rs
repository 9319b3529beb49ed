//! The answer of `capsim metastability`: for each run (the baseline and each scenario) and each
//! trigger, where the system tips over ([`super::tip_over`]), how far the offered load must fall
//! to bring it back, and which loops keep it down.

use super::tip_over::{Boundary, Curve, Scale};
use crate::results::RunResult;
use serde::{Deserialize, Serialize};

/// The whole map.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MetastabilityMap {
    /// The model's name.
    pub model: String,
    /// The metric watched.
    pub metric: String,
    /// When every trigger starts, seconds.
    pub at_s: f64,
    /// The window the verdicts judge, seconds.
    pub window_s: f64,
    /// Replications a size is judged with first.
    pub first_replications: u32,
    /// Most replications a size is judged with.
    pub max_replications: u32,
    /// One map per run: the baseline first, then each scenario.
    pub runs: Vec<RunMap>,
    /// Simulations run (one per size, replication count and run).
    pub simulations: u32,
    /// Replications simulated in all.
    pub replications_simulated: u64,
    /// Why the map is incomplete (interrupted), when it is.
    pub stopped: Option<String>,
    /// The amplification mechanisms the model has (retries, redeliveries, work for callers who
    /// gave up); empty when nothing in it can keep a failure going.
    pub mechanisms: Vec<String>,
}

/// The map of one run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunMap {
    /// "baseline" or the scenario's name.
    pub run: String,
    /// The scenario's description.
    pub description: Option<String>,
    /// The control: the same runs with a trigger that changes nothing (the open clients' rates
    /// multiplied by 1), so their verdicts are judged from the same time. A share that stays
    /// down here is the system tipping over on its own, at its normal load.
    pub without_trigger: Option<super::tip_over::Point>,
    /// Each trigger.
    pub triggers: Vec<TriggerMap>,
    /// How far the offered load must fall to end a failure the first tipping trigger left.
    pub recovery: Option<RecoveryLoad>,
    /// What keeps it down, strongest first.
    pub sustained_by: Vec<LoopEdge>,
    /// Why there is no recovery load or loop, when there is none.
    pub notes: Vec<String>,
}

/// One trigger of one run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TriggerMap {
    /// Its name ("spike", "search-latency").
    pub name: String,
    /// "spike", "latency", "slowdown", "cores" or "down".
    pub kind: String,
    /// What it hits ("website, app" or "search").
    pub target: String,
    /// How its size is read.
    pub scale: Scale,
    /// One curve per duration.
    pub curves: Vec<TriggerCurve>,
}

/// The sizes tried for one duration of a trigger.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TriggerCurve {
    /// The name claims use: the trigger's, with the duration when it has several ("spike_30s").
    pub label: String,
    /// How long the trigger lasted, seconds (none for `down`, whose size is its duration).
    pub for_s: Option<f64>,
    /// The sizes tried and the boundary.
    pub curve: Curve,
}

impl TriggerCurve {
    /// The share tipped over when the curve is a single size (a trigger with one size).
    pub fn tip_over(&self) -> Option<f64> {
        match self.curve.points.as_slice() {
            [only] => Some(only.share),
            _ => None,
        }
    }
}

/// How far the load must fall, for how long, to end a failure.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RecoveryLoad {
    /// The trigger that tipped it over ("spike_30s at ×3.2").
    pub after: String,
    /// When the load was lowered, seconds after the trigger ended.
    pub lowered_after_s: f64,
    /// How long it was lowered, seconds.
    pub lowered_for_s: f64,
    /// The load as a fraction of normal: the largest tried that brought it back and the
    /// smallest that did not.
    pub curve: Curve,
    /// At the largest fraction that brought it back, the shortest time lowered that still does.
    pub shortest: Option<ShortestLowering>,
}

/// How briefly the load may be lowered and still end the failure.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ShortestLowering {
    /// The load, a fraction of normal.
    pub share: f64,
    /// The shortest time lowered (whole windows) that brought it back, seconds.
    pub enough_s: f64,
    /// The longest that did not, seconds (none: one window already does).
    pub too_short_s: Option<f64>,
    /// The times tried (size: seconds lowered), shortest first.
    pub points: Vec<super::tip_over::Point>,
}

/// One edge of a loop that keeps the system down.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LoopEdge {
    /// "retries at client website", "redeliveries of documents", "work for callers who gave up in pipeline".
    pub edge: String,
    /// While down: the share of the work there that is amplification.
    pub down_share: f64,
    /// Without the trigger, the same share.
    pub normal_share: f64,
    /// While down, in words ("3.1 attempts per request", "8738 requests run for nobody").
    pub detail: String,
    /// While down, how much amplified work: retries, redeliveries, requests run for nobody
    /// (totals over replications; ranks edges of equal share).
    pub volume: u64,
}

/// Which loops run while the system is down: each edge's share of amplification in `down` (the
/// run measured only after the trigger ended) against `normal` (the same replications before the
/// trigger), strongest first; only edges at least twice their normal share and above 1 %. The
/// share is: for retries, retries among attempts; for a queue, receives that did not end in a
/// message done; for a service, requests run for callers who gave up among those it finished.
pub fn sustained_by(down: &RunResult, normal: &RunResult) -> Vec<LoopEdge> {
    let mut edges = Vec::new();
    let share = |part: f64, whole: f64| if whole > 0.0 { part / whole } else { 0.0 };
    let retries = |r: &crate::results::Counts| share(r.retries as f64, (r.started + r.retries) as f64);
    // Retries among attempts, at each client (shown as attempts per request) and at each
    // endpoint's calls (retries per request).
    let clients = down.clients.iter().map(|c| {
        let before = normal.clients.iter().find(|n| n.name == c.name).map(|n| &n.counts);
        (format!("retries at client {}", c.name), &c.counts, before, 1.0, "attempts")
    });
    let endpoints = down.endpoints.iter().map(|e| {
        let before = normal.endpoints.iter().find(|n| n.name == e.name).map(|n| &n.counts);
        (format!("retries of {}'s calls", e.name), &e.counts, before, 0.0, "retries")
    });
    for (edge, counts, before, first, what) in clients.chain(endpoints) {
        edges.push(LoopEdge {
            edge,
            down_share: retries(counts),
            normal_share: before.map_or(0.0, retries),
            detail: format!(
                "{:.1} {what} per request",
                first + share(counts.retries as f64, counts.started as f64)
            ),
            volume: counts.retries,
        });
    }
    let redelivered = |q: &crate::results::QueueSummary| share(q.receives.saturating_sub(q.deleted) as f64, q.receives as f64);
    for q in &down.queues {
        edges.push(LoopEdge {
            edge: format!("redeliveries of {}", q.name),
            down_share: redelivered(q),
            normal_share: normal.queues.iter().find(|n| n.name == q.name).map_or(0.0, redelivered),
            detail: format!("{} receives, {} messages done", q.receives, q.deleted),
            volume: q.receives.saturating_sub(q.deleted),
        });
    }
    // Requests the service finished over the time measured (some started before it).
    let finished = |r: &RunResult, service: &str| -> f64 {
        r.endpoints
            .iter()
            .filter(|e| e.name.split('.').next() == Some(service))
            .map(|e| e.counts.started.saturating_sub(e.counts.in_flight_at_end) as f64)
            .sum()
    };
    let nobody = |w: &crate::results::WastedSummary| (w.finished_for_nobody + w.stopped) as f64;
    for s in &down.services {
        let before = normal.services.iter().find(|n| n.name == s.name).map_or(0.0, |n| {
            share(nobody(&n.wasted), finished(normal, &n.name).max(nobody(&n.wasted)))
        });
        edges.push(LoopEdge {
            edge: format!("work for callers who gave up in {}", s.name),
            down_share: share(nobody(&s.wasted), finished(down, &s.name).max(nobody(&s.wasted))),
            normal_share: before,
            detail: format!("{} requests run for nobody", s.wasted.finished_for_nobody + s.wasted.stopped),
            volume: s.wasted.finished_for_nobody + s.wasted.stopped,
        });
    }
    edges.retain(|e| e.down_share > 0.01 && e.down_share >= 2.0 * e.normal_share);
    edges.sort_by(|a, b| {
        b.down_share
            .total_cmp(&a.down_share)
            .then_with(|| b.volume.cmp(&a.volume))
            .then_with(|| a.edge.cmp(&b.edge))
    });
    edges
}

/// A size in its scale's words: "×2.5", "30s", "3", "40 %".
pub fn show_size(scale: Scale, size: f64) -> String {
    match scale {
        Scale::Factor => format!("×{}", round(size)),
        Scale::Seconds => crate::model::units::format_duration_f64(size),
        Scale::Count => format!("{size:.0}"),
        Scale::Share => format!("{} %", round((size * 1000.0).round() / 10.0)),
    }
}

/// A number with at most three significant decimals, without trailing zeros.
fn round(value: f64) -> String {
    let text = format!("{value:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The boundary in words: "tips over between ×2.1 and ×2.3", "no tip-over up to ×10".
pub fn show_boundary(scale: Scale, boundary: &Boundary) -> String {
    match *boundary {
        Boundary::AtOrBelow { size } => format!("tips over at {} already (the smallest size tried)", show_size(scale, size)),
        Boundary::Between { holds, tips } => {
            format!("tips over between {} and {}", show_size(scale, holds), show_size(scale, tips))
        }
        Boundary::Above { size } => format!("no tip-over up to {}", show_size(scale, size)),
        Boundary::NotJudged { size } => format!(
            "not judged at {}: no replication could be judged there",
            show_size(scale, size)
        ),
        Boundary::HoldsUpTo { holds, unjudged } => format!(
            "no tip-over up to {}; from {} on no replication could be judged (cut short at a bound)",
            show_size(scale, holds),
            show_size(scale, unjudged)
        ),
    }
}
