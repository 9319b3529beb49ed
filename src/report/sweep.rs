//! A sweep as text: one row per point with the metric, its low-load trend and the SLOs broken,
//! then the knee and the first SLO breach.

use super::text_table::TextTable;
use crate::analysis::metric::significant;
use crate::analysis::sweep::{SweepHeader, SweepPoint};
use crate::scenario::sweep::show_value;
use serde_json::Value;

/// The table and verdicts of a complete sweep (`finished` is the JSON from `analysis::sweep::finish`).
pub fn sweep_table(header: &SweepHeader, points: &[SweepPoint], finished: &Value) -> String {
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
    columns.extend([header.metric.as_str(), "±95 % CI", "vs trend", "SLOs breached"]);
    let mut t = TextTable::new(&columns);
    let knee = finished["knee"]["index"].as_u64();
    let first = points.first().map(|p| p.metric.mean);
    let second = points.get(1).map(|p| p.metric.mean);
    let xs: Vec<f64> = points
        .iter()
        .enumerate()
        .map(|(i, p)| p.values.first().and_then(crate::scenario::sweep::numeric).unwrap_or(i as f64))
        .collect();
    for (i, p) in points.iter().enumerate() {
        let mut row: Vec<String> = p.values.iter().map(show_value).collect();
        row.push(significant(p.metric.mean));
        row.push(significant(p.metric.ci95));
        let trend = match (header.params.len(), first, second) {
            (1, Some(y0), Some(y1)) if xs.len() > 1 && xs[1] != xs[0] => Some(y0 + (y1 - y0) / (xs[1] - xs[0]) * (xs[i] - xs[0])),
            _ => None,
        };
        row.push(match trend {
            Some(t) if t.abs() > 0.0 && i >= 2 => {
                let mark = if knee == Some(i as u64) { "  ◀ knee" } else { "" };
                format!("{:+.0} %{mark}", 100.0 * (p.metric.mean - t) / t.abs())
            }
            _ => "–".into(),
        });
        row.push(if p.slos_breached.is_empty() {
            "–".into()
        } else {
            p.slos_breached.join("; ")
        });
        t.row(row);
    }
    out.push_str(&t.render());
    let describe = |v: &Value| -> String {
        let values: Vec<String> = v.as_array().into_iter().flatten().map(show_value).collect();
        header
            .params
            .iter()
            .zip(values)
            .map(|(p, v)| format!("{p} = {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    out.push_str(&match &finished["knee"] {
        Value::Null if header.params.len() == 1 => {
            "Knee: none — the metric stays within the threshold of its low-load trend.\n".to_string()
        }
        Value::Null => "Knee: only computed for one-parameter sweeps.\n".to_string(),
        k => format!(
            "Knee: at {} the metric is {} against a trend of {} ({:+.0} %).\n",
            describe(&k["values"]),
            significant(k["metric"].as_f64().unwrap_or(f64::NAN)),
            significant(k["trend"].as_f64().unwrap_or(f64::NAN)),
            100.0 * (k["metric"].as_f64().unwrap_or(f64::NAN) / k["trend"].as_f64().unwrap_or(f64::NAN) - 1.0)
        ),
    });
    out.push_str(&match &finished["first_slo_breach"] {
        Value::Null => "SLOs: none breached at any point.\n".to_string(),
        b => {
            let slos: Vec<String> = b["slos"].as_array().into_iter().flatten().map(show_value).collect();
            format!("First SLO breach: at {}: {}.\n", describe(&b["values"]), slos.join("; "))
        }
    });
    out
}
