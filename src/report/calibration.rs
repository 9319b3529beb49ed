//! A calibration for people: the verdict first, then per endpoint each statistic observed and
//! simulated with its relative error, the interval both sides' uncertainty allows, and the fit.

use super::text_table::TextTable;
use crate::analysis::calibration::Calibration;

fn percent(x: f64) -> String {
    if x.is_finite() {
        format!("{:+.1} %", x * 100.0)
    } else {
        "n/a".to_string()
    }
}

fn value(statistic: &str, x: f64) -> String {
    if statistic == "throughput" {
        format!("{x:.2}/s")
    } else {
        crate::model::units::format_duration_f64(x / 1000.0)
    }
}

/// The calibration as text.
pub fn calibration_text(c: &Calibration) -> String {
    let mut out = format!(
        "{}{} within {:.0} % (worst: {} {})\n",
        if c.complete {
            ""
        } else {
            "PARTIAL (the replay stopped early): "
        },
        c.verdict.label(),
        c.max_error * 100.0,
        c.worst,
        percent(c.worst_error),
    );
    let mut table = TextTable::new(&[
        "endpoint",
        "requests",
        "statistic",
        "observed",
        "simulated",
        "error",
        "95 % interval",
        "fit",
    ])
    .text_columns(&[0, 2, 6, 7]);
    for e in &c.endpoints {
        for (i, s) in e.statistics.iter().enumerate() {
            table.row(vec![
                if i == 0 { e.name.clone() } else { String::new() },
                if i == 0 { e.requests.to_string() } else { String::new() },
                s.statistic.to_string(),
                value(s.statistic, s.observed),
                value(s.statistic, s.simulated),
                percent(s.error),
                format!("{} to {}", percent(s.error_low), percent(s.error_high)),
                s.fit.label().to_string(),
            ]);
        }
    }
    out.push_str(&table.render());
    for e in &c.endpoints {
        if e.observed_error_rate > 0.0 || e.simulated_error_rate > 0.0 {
            out.push_str(&format!(
                "{}: error rate {:.2} % in the traces, {:.2} % simulated\n",
                e.name,
                e.observed_error_rate * 100.0,
                e.simulated_error_rate * 100.0
            ));
        }
    }
    if !c.not_in_model.is_empty() {
        out.push_str(&format!(
            "in the traces but not in the model (not compared): {}\n",
            c.not_in_model.join(", ")
        ));
    }
    out
}
