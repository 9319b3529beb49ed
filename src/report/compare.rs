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
        if !run.description.is_empty() {
            out.push_str(&format!("  {}\n", run.description));
        }
        if !run.result.verdict.complete {
            for m in &run.result.verdict.messages {
                out.push_str(&format!("  STOPPED EARLY: {m}\n"));
            }
        }
        let mut t = TextTable::new(&["metric", "baseline", "scenario", "change", "significant"]);
        let mut identical = 0;
        for m in &run.comparison {
            if !m.baseline.mean.is_finite() && !m.scenario.mean.is_finite() {
                continue;
            }
            // Untouched by the scenario: the same value in every replication (common random
            // numbers make a part of the system the scenario does not reach run exactly alike).
            if m.baseline.samples == m.scenario.samples {
                identical += 1;
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
        if identical > 0 {
            out.push_str(&format!(
                "  ({identical} other metric{} identical in every replication, not shown)\n",
                if identical == 1 { "" } else { "s" }
            ));
        }
        out.push_str(&super::table::crash_lines(&run.result));
        out.push_str(&super::table::rollout_lines(&run.result));
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
