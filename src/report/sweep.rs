//! A sweep as text: one row per point with the metric, its low-load trend and the SLOs broken,
//! then the knee and the first SLO breach.

use super::text_table::TextTable;
use crate::analysis::sweep::{FinishedSweep, SweepDirection, SweepHeader, SweepPoint};
use crate::results::metastability::Status;
use crate::results::metric::significant;
use crate::scenario::sweep::show_value;
use serde_json::Value;

/// The columns after each point's metric, and their cells per point: the metric against its
/// low-load trend (from the first two points, for one-parameter sweeps; the knee marked), the
/// SLOs breached, and — when the model watches a metric for metastability — what came after the
/// trigger. The terminal table and report.html both show them.
pub(super) fn point_verdicts(finished: &FinishedSweep) -> (Vec<&'static str>, Vec<Vec<String>>) {
    let (header, points) = (&finished.header, &finished.points);
    let mut columns = vec!["vs trend", "SLOs breached"];
    let watched = points.iter().any(|p| p.result.metastability.is_some());
    if watched {
        columns.push("after the trigger");
    }
    let knee = knee_position(finished);
    let xs: Vec<f64> = points
        .iter()
        .enumerate()
        .map(|(i, p)| p.values.first().and_then(crate::scenario::sweep::numeric).unwrap_or(i as f64))
        .collect();
    let (a, b) = trend_through(finished);
    let cells = points
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let trend = match (header.params.len(), points.get(a), points.get(b)) {
                (1, Some(first), Some(second)) if i != a && i != b && xs[b] != xs[a] => {
                    let (y0, y1) = (first.metric.mean, second.metric.mean);
                    Some(y0 + (y1 - y0) / (xs[b] - xs[a]) * (xs[i] - xs[a]))
                }
                _ => None,
            };
            if p.result.verdict.replications.is_partial() {
                // Its numbers are not the model's answer here: say so instead of showing them.
                let mut row = vec!["PARTIAL (left out)".to_string(), "–".to_string()];
                if watched {
                    row.push("–".into());
                }
                return row;
            }
            let mut row = vec![match trend {
                Some(t) if t.abs() > 0.0 && t.is_finite() => {
                    let mark = if knee == Some(i) { "  ◀ knee" } else { "" };
                    format!("{:+.0} %{mark}", 100.0 * (p.metric.mean - t) / t.abs())
                }
                _ => "–".into(),
            }];
            row.push(if p.slos_breached.is_empty() {
                "–".into()
            } else {
                p.slos_breached.join("; ")
            });
            if watched {
                row.push(p.result.metastability.as_ref().map_or("–".into(), |m| match m.status {
                    Status::Recovered => format!(
                        "recovered after {}",
                        crate::model::units::format_duration_f64(m.recovered_after_s.unwrap_or(0.0))
                    ),
                    Status::Metastable => format!("METASTABLE in {} of {}", m.tipped, m.judged),
                    Status::BaselineUnhealthy => "baseline not healthy".into(),
                    status => status.name().to_uppercase(),
                }));
            }
            row
        })
        .collect();
    (columns, cells)
}

/// Where, among the sweep's points, the two points its low-load trend goes through are: the
/// smallest two values for a sweep that worsens as the value grows, the largest two for one that
/// improves (`trend_through` of the finished sweep, which names grid indices; the first two
/// points for sweeps written before it). A grid index not among the points (a sweep finished
/// from part of its grid) is at `usize::MAX`: no trend is drawn through it.
pub(super) fn trend_through(finished: &FinishedSweep) -> (usize, usize) {
    let at = |index| position_of(finished, index).unwrap_or(usize::MAX);
    match finished.trend_through.as_deref() {
        Some(&[a, b]) => (at(a), at(b)),
        _ => (0, 1),
    }
}

/// Where the knee is among the sweep's points (the knee names a grid index).
pub(super) fn knee_position(finished: &FinishedSweep) -> Option<usize> {
    finished.knee.as_ref().and_then(|k| position_of(finished, k.index))
}

/// Where the point at grid index `index` is among the sweep's points.
fn position_of(finished: &FinishedSweep, index: usize) -> Option<usize> {
    finished.points.iter().position(|p| p.index == index)
}

/// The table and verdicts of a complete sweep (from [`crate::analysis::sweep::finish`]).
pub fn sweep_table(finished: &FinishedSweep) -> String {
    let (header, points) = (&finished.header, &finished.points);
    let mut out = format!(
        "Sweep of {} over {} point{}{} — metric {}, knee threshold {} % above the low-load trend\n",
        header.model,
        header.total_points,
        if header.total_points == 1 { "" } else { "s" },
        if header.scenario.is_empty() {
            String::new()
        } else {
            format!(" (scenario {})", header.scenario)
        },
        header.metric,
        significant(header.threshold * 100.0)
    );
    let mut columns: Vec<&str> = header.params.iter().map(String::as_str).collect();
    columns.extend([header.metric.as_str(), "±95 % CI"]);
    let (verdict_columns, verdicts) = point_verdicts(finished);
    columns.extend(verdict_columns);
    let mut t = TextTable::new(&columns);
    for (p, cells) in points.iter().zip(verdicts) {
        let mut row: Vec<String> = p.values.iter().map(show_value).collect();
        if p.result.verdict.replications.is_partial() {
            let c = &p.result.verdict.replications;
            row.push(if !c.ran.is_empty() {
                format!("{} of {} reps ran", c.ran.len(), c.requested)
            } else if !c.cut_short.is_empty() {
                "cut short".to_string()
            } else {
                "not started".to_string()
            });
            row.push("–".into());
        } else {
            row.push(significant(p.metric.mean));
            row.push(significant(p.metric.ci95));
        }
        row.extend(cells);
        t.row(row);
    }
    out.push_str(&t.render());
    if !finished.partial_points.is_empty() {
        out.push_str(&format!(
            "INCOMPLETE: {} of {} points were cut short (--max-events, --max-wall or Ctrl-C) and are left out of the verdicts below; run them again to judge them.\n",
            finished.partial_points.len(),
            header.total_points
        ));
    }
    if finished.direction == Some(SweepDirection::ImprovesAsItGrows) {
        out.push_str(&format!(
            "Direction: the system gets better as {} grows (read from the data), so the low-load trend runs through the two largest values and the knee is sought downwards.\n",
            header.params.join(", ")
        ));
    }
    let describe = |values: &[Value]| -> String {
        let values: Vec<String> = values.iter().map(show_value).collect();
        header
            .params
            .iter()
            .zip(values)
            .map(|(p, v)| format!("{p} = {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    out.push_str(&match &finished.knee {
        None if header.params.len() == 1 => {
            "Knee: none — the metric stays within the threshold of its low-load trend.\n".to_string()
        }
        None => "Knee: only computed for one-parameter sweeps.\n".to_string(),
        Some(k) => format!(
            "Knee: at {} the metric is {} against a trend of {} ({:+.0} %).\n",
            describe(&k.values),
            significant(k.metric),
            significant(k.trend),
            100.0 * (k.metric / k.trend - 1.0)
        ),
    });
    let slo_points = finished.slo_points;
    let every_breach = slo_points.is_some_and(|s| s.breach == s.total);
    let every_meet = slo_points.is_some_and(|s| s.meet == s.total);
    out.push_str(&if let Some(from) = &finished.meets_every_slo_from {
        // A sweep that improves as the value grows (capacity): the smallest value that is enough.
        match from {
            None if every_breach => {
                "SLOs: every point breaches an SLO; no value swept is enough — sweep larger values.\n".to_string()
            }
            None => "SLOs: no point meets every SLO for certain (the others are uncertain: run more replications).\n".to_string(),
            Some(m) if every_meet => format!(
                "SLOs: every point meets every SLO, down to the smallest value swept ({}).\n",
                describe(&m.values)
            ),
            Some(m) => format!(
                "Meets every SLO: from {} (the smallest value swept at which every SLO is met).\n",
                describe(&m.values)
            ),
        }
    } else {
        match finished.first_slo_breach.as_ref().and_then(Option::as_ref) {
            None => "SLOs: none breached at any point.\n".to_string(),
            Some(b) => {
                let all = if every_breach { " (every point breaches)" } else { "" };
                format!("First SLO breach: at {}: {}{all}.\n", describe(&b.values), b.slos.join("; "))
            }
        }
    });
    if let Some(tipping) = &finished.first_metastable {
        out.push_str(&match tipping {
            None => "Metastability: no point tips the system over; it comes back after every trigger swept.\n".to_string(),
            Some(m) => format!(
                "Tips over: at {} (the first point swept that does), {}.\n",
                describe(&m.values),
                m.text
            ),
        });
    }
    out
}

/// The ladder section of a latency sweep: each workload beside the spreadsheet's straight line,
/// the pools and the batch deadlines, and where each first goes wrong.
pub fn ladder_table(header: &SweepHeader, points: &[SweepPoint]) -> String {
    use crate::analysis::ladder::spreadsheet_ms;
    if header.round_trips.is_empty() || header.params.len() != 1 || points.is_empty() {
        return String::new();
    }
    let added: Vec<f64> = points
        .iter()
        .map(|p| p.values.first().and_then(crate::scenario::sweep::numeric).unwrap_or(f64::NAN))
        .collect();
    let endpoint = |p: &SweepPoint, name: &str| {
        p.result
            .endpoints
            .iter()
            .find(|e| e.name == name)
            .map(|e| e.latency.mean_ms.clone())
    };
    let mut columns: Vec<String> = vec!["added".into()];
    for (name, trips) in &header.round_trips {
        columns.push(format!("{name} ms"));
        columns.push(format!("sheet ({trips} trips)"));
        columns.push("vs sheet".into());
    }
    let first = &points[0].result;
    for p in &first.pools {
        columns.push(format!("{} use", p.name));
        columns.push("waited".into());
        columns.push("wait p99 ms".into());
    }
    for d in &first.databases {
        columns.push(format!("{} conns", d.name));
    }
    for s in &first.services {
        columns.push(format!("{} busy", s.name));
    }
    let refs: Vec<&str> = columns.iter().map(String::as_str).collect();
    let mut t = TextTable::new(&refs);
    let mut departs: Option<String> = None;
    let mut saturates: Option<String> = None;
    for (i, p) in points.iter().enumerate() {
        let mut row = vec![show_value(&p.values[0])];
        for (name, trips) in &header.round_trips {
            let base = endpoint(&points[0], name).map_or(f64::NAN, |e| e.mean);
            let sim = endpoint(p, name).unwrap_or_else(|| crate::stats::Estimate::from_samples(&[]));
            let sheet = spreadsheet_ms(base, *trips, added[i]);
            let off = sim.mean / sheet - 1.0;
            row.push(if sim.mean.is_finite() {
                format!("{} ±{}", significant(sim.mean), significant(sim.ci95))
            } else {
                "–".into()
            });
            row.push(if sheet.is_finite() { significant(sheet) } else { "–".into() });
            row.push(if off.is_finite() {
                format!("{:+.0} %", 100.0 * off)
            } else {
                "–".into()
            });
            if departs.is_none() && off > header.threshold && sim.low() > sheet {
                departs = Some(format!(
                    "Leaves the spreadsheet: at +{}, {name} takes {} ms where the spreadsheet says {} ms ({:+.0} %).\n",
                    show_value(&p.values[0]),
                    significant(sim.mean),
                    significant(sheet),
                    100.0 * off
                ));
            }
        }
        for pool in &p.result.pools {
            row.push(format!("{:.0} %", 100.0 * pool.utilisation.mean));
            row.push(format!("{:.1} %", 100.0 * pool.acquire_wait.waited_share.mean));
            row.push(significant(pool.acquire_wait.p99_ms.mean));
            if saturates.is_none() && pool.acquire_wait.waited_share.mean >= 0.05 {
                saturates = Some(format!(
                    "Pool {} saturates: at +{}, {:.0} % of transactions wait for a connection (p99 wait {} ms).\n",
                    pool.name,
                    show_value(&p.values[0]),
                    100.0 * pool.acquire_wait.waited_share.mean,
                    significant(pool.acquire_wait.p99_ms.mean)
                ));
            }
        }
        for d in &p.result.databases {
            row.push(significant(d.connections_in_use.mean));
        }
        for s in &p.result.services {
            row.push(format!("{:.0} %", 100.0 * s.utilisation.mean));
        }
        t.row(row);
    }
    let mut out = String::from("\nLatency ladder against the spreadsheet (duration at +0 plus round trips × added latency)\n");
    out.push_str(&t.render());
    out.push_str(&departs.unwrap_or_else(|| "Leaves the spreadsheet: never, within the threshold.\n".into()));
    out.push_str(&saturates.unwrap_or_else(|| "Pools: none saturates (fewer than 5 % of transactions wait).\n".into()));
    for (c, client) in first.clients.iter().enumerate() {
        let Some(deadline) = client.batch.as_ref().and_then(|b| b.deadline_s) else {
            continue;
        };
        let batch = |p: &SweepPoint| p.result.clients[c].batch.clone();
        let missed = points
            .iter()
            .find(|p| batch(p).and_then(|b| b.slack_s).is_some_and(|s| s.mean < 0.0));
        let unfinished = points.iter().find(|p| batch(p).is_some_and(|b| b.finished_share.mean < 1.0));
        out.push_str(&match (missed, unfinished) {
            (Some(p), _) => format!("Deadline: {} misses its {deadline} s deadline from +{} on.\n", client.name, show_value(&p.values[0])),
            (None, Some(p)) => format!(
                "Deadline: {} is still running when the run ends from +{} on, before its {deadline} s deadline: run longer to tell.\n",
                client.name,
                show_value(&p.values[0])
            ),
            (None, None) => format!("Deadline: {} meets its {deadline} s deadline at every step.\n", client.name),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::sweep::{finish, SweepHeader, SweepPoint};
    use crate::stats::Estimate;

    /// A point at grid index `index` of a sweep of `services.api.workers`: value `x`, metric `y`
    /// (exact: two equal samples), on a result of a small valid model.
    fn point(index: usize, x: f64, y: f64) -> SweepPoint {
        let json = r#"{ "duration": "1m", "replications": 2,
            "clients": { "web": { "open": { "rate": "10/s" }, "calls": "api.get" } },
            "services": { "api": { "workers": 1, "endpoints": { "get": [ { "cpu": "1ms" } ] } } } }"#;
        let validated = crate::model::parse_model(json, "sweep-test.json").expect("a valid model");
        SweepPoint {
            index,
            values: vec![serde_json::json!(x)],
            metric: Estimate::from_samples(&[y, y]),
            slos_breached: Vec::new(),
            result: crate::results::summarize(&validated.model, &[], Vec::new()),
        }
    }

    #[test]
    fn a_sweep_finished_from_part_of_its_grid_marks_its_trend_and_knee_on_the_right_rows() {
        let header = SweepHeader {
            schema_version: crate::results::SCHEMA_VERSION,
            model: "sweep-test".into(),
            scenario: String::new(),
            params: vec!["clients.web.open.rate".into()],
            metric: "web.p50".into(),
            threshold: 0.1,
            total_points: 8,
            round_trips: Default::default(),
            fingerprint: None,
        };
        // Grid points 2 to 5 only. The trend through x = 3 and 4 rises by 10 per unit: 120 at
        // x = 5 (on it), 130 at x = 6, where the metric is 400: (400 - 130) / 130 = +208 %, the
        // knee, at grid index 5 — the fourth row.
        let points = vec![
            point(2, 3.0, 100.0),
            point(3, 4.0, 110.0),
            point(4, 5.0, 120.0),
            point(5, 6.0, 400.0),
        ];
        let finished = finish(header, points);
        assert_eq!(finished.knee.as_ref().map(|k| k.index), Some(5));
        assert_eq!(trend_through(&finished), (0, 1));
        assert_eq!(knee_position(&finished), Some(3));
        let (_, cells) = point_verdicts(&finished);
        assert_eq!(cells[2][0], "+0 %");
        assert_eq!(cells[3][0], "+208 %  ◀ knee");
    }
}
