//! The terminal answer of `capsim metastability`: for each run, each trigger's boundary with the
//! sizes tried, how far the load must fall to recover, what keeps the system down; then the
//! fixes compared and how much simulation it took.

use super::text_table::TextTable;
use crate::analysis::metastability_map::{show_boundary, show_size, MetastabilityMap, RunMap};
use crate::analysis::tip_over::{Boundary, Curve, Decision, Point, Scale};
use crate::model::units::format_duration_f64;
use crate::results::metastability::FALSE_ALARM_BOUND;

/// "4/8" with a mark for a verdict left uncertain at the cap: "16/32?".
fn tried(scale: Scale, p: &Point) -> String {
    if p.tally.judged == 0 {
        let why = match (p.tally.stopped, p.tally.unhealthy) {
            (0, 0) => "no verdict".to_string(),
            (s, 0) => format!("{s} cut short"),
            (0, u) => format!("{u} with an unhealthy baseline"),
            (s, u) => format!("{s} cut short, {u} with an unhealthy baseline"),
        };
        return format!("{} not judged ({why})", show_size(scale, p.size));
    }
    let mark = if p.decision == Decision::Uncertain { "?" } else { "" };
    format!("{} {}/{}{mark}", show_size(scale, p.size), p.tally.tipped, p.tally.judged)
}

/// The sizes tried, smallest first: "×1.5 0/8 · ×3.9 8/8".
pub fn tried_sizes(scale: Scale, curve: &Curve) -> String {
    curve.points.iter().map(|p| tried(scale, p)).collect::<Vec<_>>().join(" · ")
}

/// The boundary of a curve in words, marked when it rests on an uncertain verdict.
pub fn boundary_text(scale: Scale, curve: &Curve) -> String {
    let mut text = show_boundary(scale, &curve.boundary);
    if curve.uncertain && !matches!(curve.boundary, Boundary::NotJudged { .. } | Boundary::HoldsUpTo { .. }) {
        text.push_str(" (uncertain at the replication cap)");
    }
    text
}

/// The recovery load in a sentence.
pub fn recovery_text(run: &RunMap) -> Option<String> {
    let r = run.recovery.as_ref()?;
    let lowered = format!(
        "lowered {} after the trigger ended, for {}",
        format_duration_f64(r.lowered_after_s),
        format_duration_f64(r.lowered_for_s)
    );
    let share = |s: f64| show_size(Scale::Share, s);
    Some(match r.curve.boundary {
        Boundary::AtOrBelow { .. } => format!(
            "after {}: it stays down even with no client traffic at all ({lowered}): the loop keeping it down is inside the system",
            r.after
        ),
        Boundary::Between { holds, tips } => {
            let how_long = match &r.shortest {
                Some(s) => format!(
                    "; at {} it takes {} lowered{}",
                    share(s.share),
                    format_duration_f64(s.enough_s),
                    s.too_short_s
                        .map(|t| format!(", {} is not enough", format_duration_f64(t)))
                        .unwrap_or_default()
                ),
                None => String::new(),
            };
            format!(
                "after {}: it comes back when the offered load falls to {} of normal and stays down at {} ({lowered}; it tipped over at 100 %){how_long}",
                r.after,
                share(holds),
                share(tips)
            )
        }
        Boundary::Above { .. } => format!("after {}: it comes back without lowering the load in most replications", r.after),
        Boundary::NotJudged { size } => format!("after {}: not judged with the load at {} ({lowered})", r.after, share(size)),
        Boundary::HoldsUpTo { unjudged, .. } => {
            format!("after {}: not judged with the load at {} and above ({lowered})", r.after, share(unjudged))
        }
    })
}

/// What the runs without a trigger did, in a sentence; a warning when they stay down on their own.
pub fn control_text(run: &RunMap) -> Option<String> {
    let p = run.without_trigger.as_ref()?;
    let t = &p.tally;
    if t.judged == 0 {
        return Some(format!(
            "Without a trigger: no replication could be judged ({} stopped at a bound, {} with an unhealthy baseline): the system is not healthy at its normal load",
            t.stopped, t.unhealthy
        ));
    }
    let unhealthy = if t.unhealthy > 0 {
        format!(
            "; {} of {} replications had no healthy baseline before the trigger time (saturated or drifting) and are not judged",
            t.unhealthy, t.replications
        )
    } else {
        String::new()
    };
    let share = format!(
        "{}/{} ({:.0} %, 95 % CI {:.1}–{:.1} %)",
        t.tipped,
        t.judged,
        p.share * 100.0,
        p.ci95[0] * 100.0,
        p.ci95[1] * 100.0
    );
    Some(if p.ci95[0] <= FALSE_ALARM_BOUND {
        format!(
            "Without a trigger: stayed down in {share}, consistent with the verdict's false alarms (at most {:.0} %){unhealthy}",
            FALSE_ALARM_BOUND * 100.0
        )
    } else {
        format!(
            "WARNING: without any trigger it stays down in {share}: the system tips over on its own at its normal load, and every trigger below tips it at least that often{unhealthy}"
        )
    })
}

/// "sustained by a (detail; normally …), b (…)": what the amplification was while down, against
/// the same replications before the trigger.
pub fn sustained_text(run: &RunMap) -> Option<String> {
    if run.sustained_by.is_empty() {
        return None;
    }
    Some(format!(
        "sustained by {}",
        run.sustained_by
            .iter()
            .take(4)
            .map(|e| format!(
                "{} ({}: {:.0} % of that work while down, {:.0} % before the trigger)",
                e.edge,
                e.detail,
                e.down_share * 100.0,
                e.normal_share * 100.0
            ))
            .collect::<Vec<_>>()
            .join(", ")
    ))
}

/// The map as text for the terminal.
pub fn map_text(m: &MetastabilityMap) -> String {
    let mut out = format!(
        "Metastability map of {} — watching {}, triggers at {}, windows of {}\n",
        m.model,
        m.metric,
        format_duration_f64(m.at_s),
        format_duration_f64(m.window_s)
    );
    out.push_str(&format!(
        "  A trigger tips the system over when at least half of the replications are still worse than their baseline at the end (95 % CI above ½); each size is judged with {} replications first, doubled up to {} while uncertain (a ? marks one still uncertain). \"k/n\": replications that stayed down / judged.\n",
        m.first_replications, m.max_replications
    ));
    if let Some(why) = &m.stopped {
        out.push_str(&format!(
            "  PARTIAL: {why}; what follows covers the sizes tried before it stopped.\n"
        ));
    }
    for run in &m.runs {
        out.push('\n');
        match &run.description {
            Some(d) => out.push_str(&format!("{} — {d}\n", run.run)),
            None => out.push_str(&format!("{}\n", run.run)),
        }
        if let Some(text) = control_text(run) {
            out.push_str(&format!("  {text}\n"));
        }
        let mut table =
            TextTable::new(&["trigger", "on", "for", "boundary", "sizes tried: stayed down / judged"]).text_columns(&[1, 3, 4]);
        for t in &run.triggers {
            for c in &t.curves {
                table.row(vec![
                    c.label.clone(),
                    t.target.clone(),
                    c.for_s.map_or("–".into(), format_duration_f64),
                    boundary_text(t.scale, &c.curve),
                    tried_sizes(t.scale, &c.curve),
                ]);
            }
        }
        if run.triggers.iter().any(|t| !t.curves.is_empty()) {
            out.push_str(&table.render());
        }
        if let Some(text) = recovery_text(run) {
            out.push_str(&format!("  Recovery: {text}\n"));
        }
        if let Some(text) = sustained_text(run) {
            out.push_str(&format!("  Loop: {text}\n"));
        }
        for note in &run.notes {
            out.push_str(&format!("  Note: {note}\n"));
        }
    }
    if m.runs.len() > 1 {
        out.push_str("\nFixes compared (the smallest trigger that tips it over; larger is safer)\n");
        let mut header = vec!["trigger"];
        header.extend(m.runs.iter().map(|r| r.run.as_str()));
        let mut table = TextTable::new(&header);
        let base = &m.runs[0];
        for (ti, t) in base.triggers.iter().enumerate() {
            for (ci, c) in t.curves.iter().enumerate() {
                let mut row = vec![c.label.clone()];
                for run in &m.runs {
                    let cell = run
                        .triggers
                        .get(ti)
                        .and_then(|t| t.curves.get(ci))
                        .map_or("–".to_string(), |c| tipped_cell(t.scale, &c.curve.boundary));
                    row.push(cell);
                }
                table.row(row);
            }
        }
        out.push_str(&table.render());
    }
    if m.mechanisms.is_empty() {
        out.push_str("\nThe model has no retry, no redelivery and no work for callers who gave up: nothing in it can keep a failure going once the trigger ends.\n");
    } else {
        out.push_str(&format!(
            "\nWhat can amplify work in this model: {}.\n",
            m.mechanisms.join("; ")
        ));
    }
    out.push_str(&format!(
        "{} simulation{}, {} replications simulated.\n",
        m.simulations,
        if m.simulations == 1 { "" } else { "s" },
        m.replications_simulated
    ));
    out
}

/// A boundary in a comparison cell: "≤ ×1.5", "×2.1–×2.3", "> ×10".
pub fn tipped_cell(scale: Scale, b: &Boundary) -> String {
    match *b {
        Boundary::AtOrBelow { size } => format!("≤ {}", show_size(scale, size)),
        Boundary::Between { holds, tips } => format!("{}–{}", show_size(scale, holds), show_size(scale, tips)),
        Boundary::Above { size } => format!("> {}", show_size(scale, size)),
        Boundary::NotJudged { size } => format!("not judged at {}", show_size(scale, size)),
        Boundary::HoldsUpTo { holds, unjudged } => {
            format!("> {}, ≥ {} not judged", show_size(scale, holds), show_size(scale, unjudged))
        }
    }
}
