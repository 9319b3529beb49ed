//! The cascade as text: who breached their SLO after the trigger, in order, how long after it,
//! for how long, through which dependencies; then the blast radius in one sentence.

use super::human;
use super::text_table::TextTable;
use crate::model::units::format_duration_f64;
use crate::results::Cascade;

/// A share as "42 %", or "–" when there is none.
fn percent(share: f64) -> String {
    if share.is_finite() {
        format!("{:.0} %", share * 100.0)
    } else {
        "–".into()
    }
}

/// The cascade section: a timeline table and the blast radius.
pub fn render(c: &Cascade) -> String {
    let b = &c.blast_radius;
    let mut out = format!(
        "\nCascade after {} (SLOs judged per {} window, all replications pooled)\n",
        c.trigger,
        format_duration_f64(c.window_s)
    );
    if c.timeline.is_empty() {
        out.push_str("  No SLO breached after the trigger.\n");
    } else {
        out.push_str("  (a component is in breach in a window where its SLO fails; \"breached after\" counts from the trigger to its first such window; the path runs from it to what the trigger hit)\n");
        let mut t = TextTable::new(&["#", "component", "breached after", "in breach", "first breach", "path"]);
        for (i, e) in c.timeline.iter().enumerate() {
            let span = format_duration_f64(e.breached_windows as f64 * c.window_s);
            let until = match e.recovered_s {
                Some(end) => format!("{span}, ok from {}", format_duration_f64(end)),
                None => format!("{span}, to the end"),
            };
            t.row(vec![
                format!("{}", i + 1),
                e.name.clone(),
                format!("+{}", format_duration_f64(e.after_trigger_s)),
                until,
                format!("{}: {}", e.objective, e.measured),
                if e.path.is_empty() {
                    "–".into()
                } else {
                    e.path.join(" → ")
                },
            ]);
        }
        out.push_str(&t.render());
    }
    out.push_str(&format!("  Blast radius: {}\n", blast_radius_sentence(b)));
    out
}

/// How far the failure reached, in one sentence (after "Blast radius: ").
pub fn blast_radius_sentence(b: &crate::results::BlastRadius) -> String {
    format!(
        "{} of {} endpoints with an SLO ({}); {} of real users' requests after the trigger met a breached SLO ({} of {}; synthetic clients left out).",
        b.endpoints_breached,
        b.endpoints_with_slo,
        percent(b.endpoint_share),
        percent(b.traffic_share),
        human::count(b.real_requests_affected),
        human::count(b.real_requests_after_trigger)
    )
}
