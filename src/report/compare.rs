//! Baseline vs scenarios as text: one table per scenario with each headline metric, the change
//! (paired across replications) and whether it is significant, then the SLOs of every run.

use super::text_table::TextTable;
use crate::analysis::compare::{show, ScenarioReport};

/// "+12.3 ms ±1.1" style change with its relative size.
fn change(mean_diff: f64, ci95: f64, baseline: f64, unit: &str) -> String {
    if !mean_diff.is_finite() {
        return "–".into();
    }
    let sign = if mean_diff >= 0.0 { "+" } else { "" };
    let mut text = format!("{sign}{} ±{}", show(mean_diff, unit), show(ci95, unit));
    if unit != "share" && baseline.is_finite() && baseline.abs() > 1e-12 {
        text.push_str(&format!(" ({sign}{:.0} %)", 100.0 * mean_diff / baseline));
    }
    text
}

/// The comparison tables and SLO verdicts.
pub fn comparison(report: &ScenarioReport) -> String {
    let mut out = String::new();
    for run in &report.scenarios {
        out.push_str(&format!(
            "\nScenario {} vs baseline (same random numbers; changes paired by replication, 95 % CI)\n",
            run.name
        ));
        if let Some(description) = &run.description {
            out.push_str(&format!("  {description}\n"));
        }
        if !run.result.verdict.complete {
            for m in &run.result.verdict.messages {
                out.push_str(&format!("  STOPPED EARLY: {m}\n"));
            }
        }
        let mut t = TextTable::new(&["metric", "baseline", "scenario", "change", "significant"]);
        for m in &run.comparison {
            if !m.baseline.mean.is_finite() && !m.scenario.mean.is_finite() {
                continue;
            }
            t.row(vec![
                m.metric.clone(),
                show(m.baseline.mean, m.unit),
                show(m.scenario.mean, m.unit),
                change(m.difference.mean_diff, m.difference.ci95, m.baseline.mean, m.unit),
                if m.difference.significant { "yes".into() } else { "no".into() },
            ]);
        }
        out.push_str(&t.render());
        out.push_str(&new_clients(&report.baseline, &run.result));
        if !run.result.slos.is_empty() {
            out.push_str(&super::cascade::render(&run.result.cascade));
        }
    }
    let all_slos: Vec<(&str, &crate::results::RunResult)> = std::iter::once(("baseline", &report.baseline))
        .chain(report.scenarios.iter().map(|s| (s.name.as_str(), &s.result)))
        .collect();
    if !report.baseline.slos.is_empty() {
        let mut header = vec!["slo", "objective"];
        header.extend(all_slos.iter().map(|(name, _)| *name));
        let mut t = TextTable::new(&header);
        for (i, slo) in report.baseline.slos.iter().enumerate() {
            let mut row = vec![slo.name.clone(), slo.objective.clone()];
            for (_, result) in &all_slos {
                row.push(result.slos.get(i).map_or("–".into(), |s| s.status.to_uppercase()));
            }
            t.row(row);
        }
        out.push_str("\nService level objectives per run\n");
        out.push_str(&t.render());
    }
    out
}

/// Clients the scenario adds (a load test, say), which the comparison cannot pair: one line each.
fn new_clients(baseline: &crate::results::RunResult, scenario: &crate::results::RunResult) -> String {
    let mut out = String::new();
    for c in scenario
        .clients
        .iter()
        .filter(|c| !baseline.clients.iter().any(|b| b.name == c.name))
    {
        out.push_str(&format!(
            "  only in this scenario: {} ({}{}) → {}: {} req/s, p99 {}, {} failed\n",
            c.name,
            c.kind,
            if c.synthetic { ", synthetic" } else { "" },
            c.calls,
            show(c.throughput_per_s.mean, "count"),
            show(c.latency.p99_ms.mean, "ms"),
            show(c.error_rate.mean, "share"),
        ));
    }
    out
}
