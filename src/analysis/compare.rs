//! Paired comparison of a scenario with the baseline. Both ran the same replications with the
//! same random streams (common random numbers), so each replication's difference is a paired
//! sample and small effects show up as significant.

use crate::results::metric::resolve;
use crate::results::{Coverage, RunResult};
use crate::stats::{differs_significantly, Estimate, PairedDifference};
use serde::Serialize;

/// One metric in the baseline and in the scenario.
#[derive(Clone, Debug, Serialize)]
pub struct ComparedMetric {
    /// Metric name as accepted by expectations (`api.checkout.p99`).
    pub metric: String,
    /// Baseline value.
    pub baseline: Estimate,
    /// Scenario value.
    pub scenario: Estimate,
    /// Scenario minus baseline, paired by replication.
    pub difference: PairedDifference,
    /// Unit of the three values: "ms", "share", "s" or "count".
    pub unit: &'static str,
}

/// The metrics worth comparing for every component of the result, in report order.
pub fn headline_metrics(result: &RunResult) -> Vec<String> {
    let mut names = Vec::new();
    for c in &result.clients {
        for stat in ["throughput", "goodput", "p50", "p99", "error_rate"] {
            names.push(format!("{}.{stat}", c.name));
        }
        if let Some(b) = &c.batch {
            names.push(format!("{}.makespan", c.name));
            if b.deadline_s.is_some() {
                names.push(format!("{}.slack", c.name));
            }
        }
    }
    for g in &result.groups {
        for stat in ["goodput", "error_rate"] {
            names.push(format!("{}.{stat}", g.name));
        }
    }
    for e in &result.endpoints {
        for stat in ["p50", "p99", "error_rate"] {
            names.push(format!("{}.{stat}", e.name));
        }
    }
    for s in &result.services {
        names.push(format!("{}.utilisation", s.name));
        names.push(format!("{}.queue", s.name));
        if s.crashes > 0 {
            names.push(format!("{}.instances_up", s.name));
            names.push(format!("{}.available", s.name));
        }
    }
    for d in &result.databases {
        names.push(format!("{}.utilisation", d.name));
        names.push(format!("{}.query.p99", d.name));
        names.push(format!("{}.connections", d.name));
    }
    for p in &result.pools {
        names.push(format!("{}.utilisation", p.name));
        names.push(format!("{}.wait.p99", p.name));
    }
    for q in &result.queues {
        for stat in ["amplification", "goodput", "backlog"] {
            names.push(format!("{}.{stat}", q.name));
        }
    }
    for e in &result.effects {
        names.push(format!("{}.per_unit", e.name));
    }
    for s in &result.services {
        if s.wasted.cpu_s.mean > 0.0 {
            names.push(format!("{}.wasted_cpu", s.name));
        }
    }
    if !result.slos.is_empty() {
        names.push("blast_radius.endpoints".into());
        names.push("blast_radius.traffic".into());
    }
    names
}

/// Compare `scenario` with `baseline` on every headline metric of either that both have.
pub fn compare(baseline: &RunResult, scenario: &RunResult) -> Vec<ComparedMetric> {
    let mut names = headline_metrics(baseline);
    for name in headline_metrics(scenario) {
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names
        .into_iter()
        .filter_map(|metric| {
            let a = resolve(baseline, &metric).ok()?;
            let b = resolve(scenario, &metric).ok()?;
            let difference = differs_significantly(
                &by_replication(&b.estimate, &scenario.verdict.replications),
                &by_replication(&a.estimate, &baseline.verdict.replications),
            );
            Some(ComparedMetric {
                metric,
                unit: a.unit.name(),
                baseline: a.estimate,
                scenario: b.estimate,
                difference,
            })
        })
        .collect()
}

/// An estimate's per-replication values placed at their replication's index, NaN for every
/// replication that did not run to its end (cut short, never started), so a paired comparison
/// pairs only replications complete in both runs.
fn by_replication(estimate: &Estimate, coverage: &Coverage) -> Vec<f64> {
    if coverage.estimated_from.len() != estimate.samples.len() {
        // Not a run's own estimate (e.g. read back from JSON): the samples are as they are.
        return estimate.samples.clone();
    }
    let mut aligned = vec![f64::NAN; coverage.requested as usize];
    for (&replication, &value) in coverage.estimated_from.iter().zip(&estimate.samples) {
        if coverage.ran.contains(&replication) {
            if let Some(slot) = aligned.get_mut(replication as usize) {
                *slot = value;
            }
        }
    }
    aligned
}

/// Whether a scenario's run measured anything to compare: false when every replication was
/// stopped before any measured time ("not run", not a change of −100 %).
pub fn was_run(result: &RunResult) -> bool {
    !result.verdict.replications.estimated_from.is_empty() || result.verdict.replications.requested == 0
}

/// A scenario's run and how it differs from the baseline.
#[derive(Clone, Debug, Serialize)]
pub struct ScenarioRun {
    /// The scenario's name ("a+b" when combined).
    pub name: String,
    /// What it represents, from the model (null when it has no description).
    pub description: Option<String>,
    /// Its full results.
    pub result: RunResult,
    /// Headline metrics, baseline vs scenario.
    pub comparison: Vec<ComparedMetric>,
}

/// A baseline and its scenarios, run with the same seeds: what `capsim run --scenario` writes.
#[derive(Clone, Debug, Serialize)]
pub struct ScenarioReport {
    /// Version of the layout (the same as the results').
    pub schema_version: u32,
    /// The model as written.
    pub baseline: RunResult,
    /// Each scenario with its comparison.
    pub scenarios: Vec<ScenarioRun>,
}

impl ScenarioReport {
    /// The report of `baseline` and each scenario run (name, description, result), each
    /// compared with the baseline (see [`compare`]).
    pub fn compared(baseline: RunResult, scenarios: Vec<(String, Option<String>, RunResult)>) -> ScenarioReport {
        let scenarios = scenarios
            .into_iter()
            .map(|(name, description, result)| ScenarioRun {
                comparison: compare(&baseline, &result),
                name,
                description,
                result,
            })
            .collect();
        ScenarioReport {
            schema_version: crate::results::SCHEMA_VERSION,
            baseline,
            scenarios,
        }
    }
}
