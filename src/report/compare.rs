//! Baseline vs scenarios as text: one table per scenario with each headline metric, the change
//! (paired across replications) and whether it is significant, then the SLOs of every run.

use super::human::{self, Quantity};
use super::text_table::TextTable;
use crate::analysis::compare::{ComparedMetric, ScenarioReport};
use crate::model::units::format_duration_f64;
use crate::results::metastability::Status;
use crate::results::metric::Unit;

/// A compared metric's baseline, scenario, change and significance as people read them: the
/// change with its CI in the unit of the change and its relative size ("+1.20 ±0.05 s (+15 %)").
pub(super) fn compared_cells(m: &ComparedMetric) -> [String; 4] {
    let quantity = super::sections::quantity(&m.metric, Unit::from_name(m.unit));
    let d = &m.difference;
    let mut change = human::change(d.mean_diff, d.ci95, quantity);
    if d.mean_diff.is_finite() && quantity != Quantity::Share && m.baseline.mean.is_finite() && m.baseline.mean.abs() > 1e-12 {
        let sign = if d.mean_diff >= 0.0 { "+" } else { "" };
        change.push_str(&format!(" ({sign}{:.0} %)", 100.0 * d.mean_diff / m.baseline.mean));
    }
    [
        human::value(m.baseline.mean, quantity),
        human::value(m.scenario.mean, quantity),
        change,
        if d.significant { "yes".into() } else { "no".into() },
    ]
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
            let coverage = run.result.verdict.replications.sentence();
            if !coverage.is_empty() {
                out.push_str(&format!(
                    "  {coverage}; changes pair only replications complete in both runs.\n"
                ));
            }
        }
        if !crate::analysis::compare::was_run(&run.result) {
            out.push_str("  NOT RUN: stopped before any replication measured anything; nothing to compare.\n");
            continue;
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
            let mut row = vec![m.metric.clone()];
            row.extend(compared_cells(m));
            t.row(row);
        }
        out.push_str(&t.render());
        out.push_str(&new_clients(&report.baseline, &run.result));
        out.push_str(&fleet_lines(&report.baseline, &run.result));
        for line in hedge_lines(&run.result) {
            out.push_str(&format!("  {line}\n"));
        }
        if !run.result.slos.is_empty() {
            out.push_str(&super::cascade::render(&run.result.cascade));
        }
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
                row.push(result.slos.get(i).map_or("–".into(), |s| s.status.name().to_uppercase()));
            }
            t.row(row);
        }
        out.push_str("\nService level objectives per run\n");
        out.push_str(&t.render());
    }
    out.push_str(&storm_per_run(&all_slos));
    out
}

/// The per-run storm table: header, one row per run (amplification, messages done, side effects
/// per unit of work, wasted CPU, the metastability verdict) and a note on the watched metric;
/// `None` for models without queues, side effects or a metastability watch.
pub(super) fn storm_rows(runs: &[(&str, &crate::results::RunResult)]) -> Option<(Vec<String>, Vec<Vec<String>>, String)> {
    let (_, baseline) = runs.first()?;
    if baseline.queues.is_empty() && baseline.effects.is_empty() && baseline.metastability.is_none() {
        return None;
    }
    let mut header = vec!["run".to_string()];
    header.extend(baseline.queues.iter().map(|q| format!("{} amplification", q.name)));
    header.extend(baseline.queues.iter().map(|q| format!("{} done", q.name)));
    header.extend(baseline.effects.iter().map(|e| format!("{} per unit", e.name)));
    header.push("wasted cpu".into());
    header.push("after the trigger".into());
    let rows = runs
        .iter()
        .map(|(name, r)| {
            let mut row = vec![name.to_string()];
            row.extend(r.queues.iter().map(|q| human::value(q.amplification.mean, Quantity::Number)));
            row.extend(
                r.queues
                    .iter()
                    .map(|q| format!("{} of {}", human::count(q.deleted), human::count(q.published))),
            );
            row.extend(r.effects.iter().map(|e| human::value(e.per_unit.mean, Quantity::Number)));
            let wasted: f64 = r.services.iter().map(|s| s.wasted.cpu_s.mean).sum();
            row.push(human::value(wasted, Quantity::Seconds));
            row.push(r.metastability.as_ref().map_or("–".into(), |m| match m.status {
                Status::Recovered => format!("recovered after {}", format_duration_f64(m.recovered_after_s.unwrap_or(0.0))),
                Status::Metastable => format!(
                    "METASTABLE in {} of {} (still overloaded {} after)",
                    m.tipped,
                    m.judged,
                    format_duration_f64(m.still_out_after_s.unwrap_or(0.0))
                ),
                Status::BaselineUnhealthy => "baseline not healthy".into(),
                other => other.name().to_string(),
            }));
            row
        })
        .collect();
    let note = baseline.metastability.as_ref().map_or(String::new(), |m| {
        let unit = crate::results::metric::resolve(baseline, &m.metric).map_or(Unit::Count, |v| v.unit);
        let quantity = super::sections::quantity(&m.metric, unit);
        format!(
            "watched: {} against its band before the trigger ({} to {}, trigger {}–{})",
            m.metric,
            human::value(m.baseline_band[0], quantity),
            human::value(m.baseline_band[1], quantity),
            format_duration_f64(m.trigger_start_s),
            format_duration_f64(m.trigger_end_s)
        )
    });
    Some((header, rows, note))
}

/// The per-run storm table as text.
fn storm_per_run(runs: &[(&str, &crate::results::RunResult)]) -> String {
    let Some((header, rows, note)) = storm_rows(runs) else {
        return String::new();
    };
    let refs: Vec<&str> = header.iter().map(String::as_str).collect();
    let mut t = TextTable::new(&refs);
    for row in rows {
        t.row(row);
    }
    let mut out = String::from("\nRetry storm per run (amplification, duplicates, wasted work, metastability)\n");
    out.push_str(&t.render());
    if !note.is_empty() {
        out.push_str(&format!("  {note}\n"));
    }
    out
}

/// The scenario's autoscaled fleets, which the baseline may not have: one line each, with the
/// instance-hours the baseline's fleet of the service pays over the same time.
fn fleet_lines(baseline: &crate::results::RunResult, scenario: &crate::results::RunResult) -> String {
    let hours = (scenario.model.duration_s - scenario.model.warmup_s) / 3600.0;
    let mut out = String::new();
    for a in &scenario.autoscalers {
        let fixed = baseline
            .services
            .iter()
            .find(|s| s.name == a.name && !baseline.autoscalers.iter().any(|b| b.name == a.name))
            .map(|s| {
                format!(
                    " (the baseline's {} instances: {})",
                    s.instances,
                    human::value(f64::from(s.instances) * hours, Quantity::Number)
                )
            })
            .unwrap_or_default();
        out.push_str(&format!(
            "  autoscaled {} ({}): {} instances in service (at most {}), {} instance-hours{fixed}, \
             {} scale-outs, {} scale-ins, under-provisioned {}\n",
            a.name,
            a.rule,
            human::value(a.instances.mean, Quantity::Number),
            human::value(a.instances_max.mean, Quantity::Number),
            human::value(a.instance_hours.mean, Quantity::Number),
            human::value(a.scale_outs.mean, Quantity::Number),
            human::value(a.scale_ins.mean, Quantity::Number),
            human::value(a.under_provisioned_s.mean, Quantity::Seconds),
        ));
    }
    out
}

/// What the run's hedged calls cost and won, one sentence each (the comparison's metrics show
/// what they did to latency and load).
pub(super) fn hedge_lines(run: &crate::results::RunResult) -> Vec<String> {
    run.hedges
        .iter()
        .map(|h| {
            format!(
                "{} ({}): a second copy for {} of {} attempts ({} extra load), waiting {} on average; \
                 the copy answered first {} of the time",
                h.name,
                h.setting,
                human::count(h.hedges),
                human::count(h.attempts),
                human::value(h.extra_load.mean, Quantity::Share),
                human::value(h.delay_ms.mean, Quantity::Millis),
                human::value(h.won_share.mean, Quantity::Share),
            )
        })
        .collect()
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
            "  only in this scenario: {} ({}{}) → {}: {}, p99 {}, {} failed\n",
            c.name,
            c.kind,
            if c.synthetic { ", synthetic" } else { "" },
            c.calls,
            human::value(c.throughput_per_s.mean, Quantity::Rate),
            human::value(c.latency.p99_ms.mean, Quantity::Millis),
            human::value(c.error_rate.mean, Quantity::Share),
        ));
    }
    out
}
