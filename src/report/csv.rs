//! Time series as CSV files, one row per component, metric and window: tidy data for notebooks.

use crate::results::RunResult;
use std::fmt::Write;

/// A number for CSV: empty when not finite.
fn num(v: f64) -> String {
    if v.is_finite() {
        format!("{v}")
    } else {
        String::new()
    }
}

/// Quote a CSV field when it holds a comma, quote or newline.
fn field(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// Every configuration a sizing judged, cheapest first: each knob's value, the cost per hour, the
/// replications of its last verdict, the verdict, and its worst objective as a share of its bound.
pub fn sizing_csv(sizing: &crate::analysis::size::Sizing) -> String {
    let mut out = String::new();
    for k in &sizing.knobs {
        out.push_str(&field(&k.path));
        out.push(',');
    }
    out.push_str("cost_per_hour,replications,status,worst_share_of_bound\n");
    for t in &sizing.tried {
        for v in &t.values {
            out.push_str(&field(v));
            out.push(',');
        }
        out.push_str(&format!(
            "{},{},{},{}\n",
            t.cost_per_hour,
            t.replications,
            t.status.name(),
            t.worst
        ));
    }
    out
}

/// Every trigger size `capsim metastability` tried, one row each:
/// `run,trigger,kind,target,for_s,size,replications,judged,tipped,share,ci95_low,ci95_high,decision`,
/// with the control first (`trigger` "without a trigger": a trigger that changes nothing) and the
/// recovery load's tries last (`trigger` "recovery load", `size` the load's share of normal; then
/// "recovery time", `size` the seconds lowered at the largest share that brought it back).
pub fn metastability_csv(map: &crate::analysis::metastability_map::MetastabilityMap) -> String {
    let mut out =
        String::from("run,trigger,kind,target,for_s,size,replications,judged,tipped,share,ci95_low,ci95_high,decision\n");
    let number = |x: f64| if x.is_finite() { x.to_string() } else { String::new() };
    let mut row = |run: &str, label: &str, kind: &str, target: &str, for_s: Option<f64>, p: &crate::analysis::tip_over::Point| {
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
            field(run),
            field(label),
            kind,
            field(target),
            for_s.map_or(String::new(), number),
            number(p.size),
            p.tally.replications,
            p.tally.judged,
            p.tally.tipped,
            number(p.share),
            number(p.ci95[0]),
            number(p.ci95[1]),
            serde_json::to_value(p.decision)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default()
        ));
    };
    for run in &map.runs {
        if let Some(p) = &run.without_trigger {
            row(&run.run, "without a trigger", "control", "", None, p);
        }
        for t in &run.triggers {
            for c in &t.curves {
                for p in &c.curve.points {
                    row(&run.run, &c.label, &t.kind, &t.target, c.for_s, p);
                }
            }
        }
        if let Some(r) = &run.recovery {
            for p in &r.curve.points {
                row(&run.run, "recovery load", "load", &r.after, Some(r.lowered_for_s), p);
            }
            for p in r.shortest.iter().flat_map(|s| &s.points) {
                row(&run.run, "recovery time", "lowered_s", &r.after, Some(p.size), p);
            }
        }
    }
    out
}

/// The last column of every row: `true` when every replication ran to the end of the simulated
/// duration, `false` when the run stopped early (its values are partial; see `verdict` in the JSON).
fn complete(result: &RunResult) -> &'static str {
    if result.verdict.complete {
        "true"
    } else {
        "false"
    }
}

/// All time series in long form: `window_start_s,kind,component,metric,value,complete`, one row
/// per column of the [registry](crate::results::columns::WINDOWS), component and window.
pub fn timeseries_csv(result: &RunResult) -> String {
    let mut out = String::from("window_start_s,kind,component,metric,value,complete\n");
    let done = complete(result);
    for table in crate::results::columns::WINDOWS {
        let kind = table.kind();
        table.rows(result, &mut |start, name, metric, value| {
            let _ = writeln!(out, "{},{kind},{},{metric},{},{done}", num(start), field(name), num(value));
        });
    }
    out
}

/// The cascade after the trigger, one row per component that breached, in the order they did:
/// `order,component,kind,first_breach_s,after_trigger_s,breached_windows,recovered_s,objective,measured,path,complete`
/// (`recovered_s` empty when still in breach at the end; `path` joined with " > ").
pub fn cascade_csv(result: &RunResult) -> String {
    let mut out = String::from(
        "order,component,kind,first_breach_s,after_trigger_s,breached_windows,recovered_s,objective,measured,path,complete\n",
    );
    for (i, e) in result.cascade.timeline.iter().enumerate() {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{}",
            i + 1,
            field(&e.name),
            field(&e.kind),
            num(e.first_breach_s),
            num(e.after_trigger_s),
            e.breached_windows,
            e.recovered_s.map_or(String::new(), num),
            field(&e.objective),
            field(&e.measured),
            field(&e.path.join(" > ")),
            complete(result)
        );
    }
    out
}

/// One summary row per component and metric: `kind,component,metric,mean,ci95,min,max,n,complete`
/// (`n`: the replications the estimate covers), one per column of the
/// [registry](crate::results::columns::RUN) and component.
pub fn summary_csv(result: &RunResult) -> String {
    let mut out = String::from("kind,component,metric,mean,ci95,min,max,n,complete\n");
    let done = complete(result);
    for table in crate::results::columns::RUN {
        let kind = table.kind();
        table.rows(result, &mut |name, metric, e| {
            let _ = writeln!(
                out,
                "{kind},{},{metric},{},{},{},{},{},{done}",
                field(name),
                num(e.mean),
                num(e.ci95),
                num(e.min),
                num(e.max),
                e.n
            );
        });
    }
    out
}

/// One row per sweep point and headline metric: the parameters' values, then
/// `metric,mean,ci95,min,max,n,complete` (`complete` false for a point that stopped early).
pub fn sweep_csv(header: &crate::analysis::sweep::SweepHeader, points: &[crate::analysis::sweep::SweepPoint]) -> String {
    let mut out = String::new();
    for p in &header.params {
        out.push_str(&field(p));
        out.push(',');
    }
    out.push_str("metric,mean,ci95,min,max,n,complete\n");
    for point in points {
        let values: Vec<String> = point
            .values
            .iter()
            .map(|v| field(&crate::scenario::sweep::show_value(v)))
            .collect();
        for name in crate::analysis::compare::headline_metrics(&point.result) {
            if let Ok(m) = crate::results::metric::resolve(&point.result, &name) {
                let e = &m.estimate;
                let _ = writeln!(
                    out,
                    "{},{},{},{},{},{},{},{}",
                    values.join(","),
                    field(&name),
                    num(e.mean),
                    num(e.ci95),
                    num(e.min),
                    num(e.max),
                    e.n,
                    complete(&point.result)
                );
            }
        }
    }
    out
}

/// A calibration, one row per endpoint and statistic: observed (with the traces' 95 % interval),
/// simulated (with its 95 % confidence half-width), the relative error with its interval, the fit.
pub fn calibration_csv(c: &crate::analysis::calibration::Calibration) -> String {
    let mut out = String::from(
        "endpoint,requests,statistic,unit,observed,observed_low,observed_high,simulated,simulated_ci95,error,error_low,error_high,fit,complete\n",
    );
    for e in &c.endpoints {
        for s in &e.statistics {
            let unit = if s.statistic == "throughput" { "1/s" } else { "ms" };
            out.push_str(&format!(
                "{},{},{},{unit},{},{},{},{},{},{},{},{},{},{}\n",
                field(&e.name),
                e.requests,
                s.statistic,
                s.observed,
                s.observed_low,
                s.observed_high,
                s.simulated,
                s.simulated_ci95,
                s.error,
                s.error_low,
                s.error_high,
                s.fit.label(),
                c.complete
            ));
        }
    }
    out
}
