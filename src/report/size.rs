//! The terminal answer of `capsim size`: each knob's value and cost, what binds it, what one step
//! cheaper breaks, the headroom of every SLO, and how much simulation it took.

use super::table::slo_measured;
use super::text_table::TextTable;
use crate::analysis::size::{Objective, Sizing, SizingStatus};
use crate::results::slo::objective_is_share;

/// What was measured for an objective, in its unit: "287 ±9 ms" or "0.4 ±0.1 %".
fn measured(o: &Objective) -> String {
    slo_measured(&o.objective, &o.measured)
}

/// The bound of an objective in its unit: "300 ms" or "1 %".
fn bound(o: &Objective) -> String {
    if objective_is_share(&o.objective) {
        format!("{} %", o.bound * 100.0)
    } else {
        format!("{} ms", o.bound)
    }
}

/// "api.checkout p99 <= 300ms under traffic-150" (the baseline is not named).
fn objective(o: &Objective) -> String {
    let under = if o.run == "baseline" {
        String::new()
    } else {
        format!(" under {}", o.run)
    };
    format!("{} {}{under}", o.slo, o.objective)
}

/// A cost per hour with its currency: "1.19 USD/h".
fn cost(value: f64, currency: &str) -> String {
    let unit = if currency.is_empty() {
        "/h".to_string()
    } else {
        format!(" {currency}/h")
    };
    format!("{}{unit}", round(value))
}

/// A number with at most four significant decimals, without trailing zeros.
fn round(value: f64) -> String {
    let text = format!("{value:.4}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".into()
    } else {
        text.to_string()
    }
}

/// The answer as text for the terminal.
pub fn sizing_text(s: &Sizing) -> String {
    let mut out = format!(
        "Sizing {} — {} knob{} under {} — {}\n",
        s.model,
        s.knobs.len(),
        if s.knobs.len() == 1 { "" } else { "s" },
        s.runs.join(", "),
        s.status.name()
    );
    match s.status {
        SizingStatus::Sized => {}
        SizingStatus::Infeasible => out.push_str(
            "  No configuration in range meets every SLO: with every knob at its largest value these still fail:\n",
        ),
        SizingStatus::Uncertain => out.push_str(&format!(
            "  With every knob at its largest value, these stay uncertain at {} replications (the cap): raise sizing.max_replications or widen the ranges:\n",
            s.answer_replications
        )),
        SizingStatus::Stopped => out.push_str(&format!(
            "  {}: no answer (partial search)\n",
            s.stopped.as_deref().unwrap_or("stopped")
        )),
    }
    for o in &s.unmet {
        out.push_str(&format!(
            "    {}: {} of {} ({})\n",
            objective(o),
            measured(o),
            bound(o),
            o.status.name()
        ));
    }
    let mut t = TextTable::new(&["knob", "value", "as written", "range", "cost per unit"]);
    for k in &s.knobs {
        t.row(vec![
            k.path.clone(),
            k.value.clone().unwrap_or_else(|| "–".into()),
            k.as_written.clone().unwrap_or_else(|| "–".into()),
            format!("{}..{} ({} values)", k.range[0], k.range[1], k.values),
            cost(k.cost_per_hour, &s.currency),
        ]);
    }
    out.push_str(&t.render());
    if let Some(total) = s.cost_per_hour {
        let written = s
            .cost_as_written
            .map(|w| format!(" (as written: {})", cost(w, &s.currency)))
            .unwrap_or_default();
        out.push_str(&format!("  cost: {}{written}\n", cost(total, &s.currency)));
    }
    if s.status == SizingStatus::Sized {
        out.push_str("\nWhat binds each knob (one step cheaper breaks it)\n");
        for k in &s.knobs {
            let value = k.value.as_deref().unwrap_or("–");
            match (&k.cheaper, &k.binding) {
                (None, _) => out.push_str(&format!(
                    "  {} = {value}: the lowest value of its range; no SLO binds it\n",
                    k.path
                )),
                (Some(step), Some(at)) => {
                    let worst = step.breaks.first().expect("a binding comes from what breaks");
                    out.push_str(&format!(
                        "  {} = {value}: {}, {} of {} here; at {} {} ({}){}\n",
                        k.path,
                        objective(at),
                        measured(at),
                        bound(at),
                        step.value,
                        measured(worst),
                        worst.status.name(),
                        match step.breaks.len() {
                            1 => String::new(),
                            n => format!(", {} more objectives not met", n - 1),
                        }
                    ));
                }
                (Some(step), None) => {
                    out.push_str(&format!("  {} = {value}: at {} a run stops at a bound\n", k.path, step.value))
                }
            }
        }
    }
    if !s.objectives.is_empty() {
        let at = if s.status == SizingStatus::Sized {
            "at the answer"
        } else {
            "with every knob at its largest value"
        };
        out.push_str(&format!("\nSLO headroom {at} ({} replications)\n", s.answer_replications));
        let mut t = TextTable::new(&["slo", "objective", "run", "measured", "bound", "headroom", "status"]);
        for o in &s.objectives {
            t.row(vec![
                o.slo.clone(),
                o.objective.clone(),
                o.run.clone(),
                measured(o),
                bound(o),
                format!("{:.0} %", o.headroom * 100.0),
                o.status.name().to_uppercase(),
            ]);
        }
        out.push_str(&t.render());
    }
    out.push_str(&format!(
        "\nSearch: {} configurations judged of {} in the grid; {} simulations ({} evaluations × {} run{}), {} replications simulated (screening with {}, confirming with {} up to {}).\n",
        s.configurations,
        round(s.grid),
        s.simulations,
        s.evaluations,
        s.runs.len(),
        if s.runs.len() == 1 { "" } else { "s" },
        s.replications_simulated,
        s.replications.screen,
        s.replications.full,
        s.replications.cap
    ));
    out
}
