//! Figures of analyses against their parameter: a sizing's cost/SLO frontier, metastability's
//! probability of staying down against trigger size, and a calibration's percentiles.

use super::palette::{BLUE, GREEN, ORANGE, RED, REFERENCE};
use super::{Band, Figure, Line, Markers, Panel, Shape};

/// A line through `points` with a circle at each: measured points, joined.
fn dotted_line(panel: &mut Panel, label: String, points: Vec<(f64, f64)>, colour: usize, dashed: bool) {
    panel.markers.push(Markers {
        label: String::new(),
        points: points.clone(),
        colour,
        shape: Shape::Circle,
    });
    panel.lines.push(Line {
        label,
        points,
        colour,
        dashed,
    });
}

/// The cost/SLO frontier of a sizing: every configuration judged, its cost per hour against
/// its worst objective as a share of the bound (100 % is the bound, on average), met ones apart
/// from the others, and the answer marked.
pub fn sizing_frontier(sizing: &crate::analysis::size::Sizing) -> Figure {
    use crate::results::SloStatus;
    let point = |t: &crate::analysis::size::Tried| (t.cost_per_hour, (t.worst * 100.0).min(1000.0));
    let of = |status: SloStatus| -> Vec<(f64, f64)> {
        sizing
            .tried
            .iter()
            .filter(|t| t.status == status)
            .map(point)
            .filter(|p| p.1.is_finite())
            .collect()
    };
    let mut panel = Panel {
        x_label: format!(
            "cost per hour{}",
            if sizing.currency.is_empty() {
                String::new()
            } else {
                format!(" ({})", sizing.currency)
            }
        ),
        y_label: "worst objective, % of its bound (capped at 1000 %)".into(),
        ..Panel::default()
    };
    for (label, status, colour, shape) in [
        ("meets every SLO", SloStatus::Met, GREEN, Shape::Circle),
        ("uncertain", SloStatus::Uncertain, ORANGE, Shape::Circle),
        ("breaches an SLO", SloStatus::Breached, RED, Shape::Cross),
    ] {
        let points = of(status);
        if !points.is_empty() {
            panel.markers.push(Markers {
                label: label.into(),
                points,
                colour,
                shape,
            });
        }
    }
    let costs: Vec<f64> = sizing.tried.iter().map(|t| t.cost_per_hour).collect();
    let (low, high) = costs.iter().fold((f64::MAX, f64::MIN), |(a, b), c| (a.min(*c), b.max(*c)));
    if low <= high {
        panel.lines.push(Line {
            label: "bound".into(),
            points: vec![(low, 100.0), (high, 100.0)],
            colour: REFERENCE,
            dashed: true,
        });
    }
    if let (Some(cost), true) = (
        sizing.cost_per_hour,
        sizing.status == crate::analysis::size::SizingStatus::Sized,
    ) {
        if let Some(answer) = sizing
            .tried
            .iter()
            .find(|t| (t.cost_per_hour - cost).abs() < 1e-9 && t.status == SloStatus::Met)
        {
            panel.markers.push(Markers {
                label: "the answer".into(),
                points: vec![point(answer)],
                colour: BLUE,
                shape: Shape::Circle,
            });
        }
    }
    Figure {
        name: "sizing".into(),
        title: format!("{}: configurations judged, cost against the worst SLO", sizing.model),
        panels: vec![panel],
    }
}

/// The probability of staying down against trigger size: one panel per trigger, one line per
/// run and duration (its 95 % band shaded), the ½ the boundary is judged against dashed.
pub fn metastability_curves(map: &crate::analysis::metastability_map::MetastabilityMap) -> Figure {
    use crate::analysis::tip_over::Scale;
    let mut panels = Vec::new();
    let Some(first) = map.runs.first() else {
        return Figure {
            name: "metastability".into(),
            title: format!("{}: no trigger mapped", map.model),
            panels,
        };
    };
    for (ti, t) in first.triggers.iter().enumerate() {
        let x_label = match t.scale {
            Scale::Factor => format!("{} size (× normal)", t.kind),
            Scale::Seconds => format!("{} size (s)", t.kind),
            Scale::Count => format!("{} size (count)", t.kind),
            Scale::Share => "load (share of normal)".to_string(),
        };
        let mut panel = Panel {
            heading: format!("{} on {}", t.name, t.target),
            x_label,
            y_label: "replications that stayed down (%)".into(),
            ..Panel::default()
        };
        let mut colour = 0;
        let (mut low, mut high) = (f64::MAX, f64::MIN);
        for run in &map.runs {
            let Some(rt) = run.triggers.get(ti) else { continue };
            for c in &rt.curves {
                let points: Vec<(f64, f64)> = c
                    .curve
                    .points
                    .iter()
                    .filter(|p| p.share.is_finite())
                    .map(|p| (p.size, p.share * 100.0))
                    .collect();
                for p in &points {
                    low = low.min(p.0);
                    high = high.max(p.0);
                }
                let label = match (map.runs.len() > 1, c.for_s) {
                    (true, Some(s)) => format!("{}, for {}", run.run, crate::model::units::format_duration_f64(s)),
                    (true, None) => run.run.clone(),
                    (false, Some(s)) => format!("for {}", crate::model::units::format_duration_f64(s)),
                    (false, None) => "stayed down".into(),
                };
                panel.bands.push(Band {
                    label: String::new(),
                    points: c
                        .curve
                        .points
                        .iter()
                        .filter(|p| p.ci95[0].is_finite())
                        .map(|p| (p.size, p.ci95[0] * 100.0, p.ci95[1] * 100.0))
                        .collect(),
                    colour,
                });
                dotted_line(&mut panel, label, points, colour, false);
                colour += 1;
            }
        }
        if low < high {
            panel.lines.push(Line {
                label: "half of the replications".into(),
                points: vec![(low, 50.0), (high, 50.0)],
                colour: REFERENCE,
                dashed: true,
            });
        }
        panels.push(panel);
    }
    Figure {
        name: "metastability".into(),
        title: format!(
            "{}: probability of staying down against trigger size ({})",
            map.model, map.metric
        ),
        panels,
    }
}

/// A calibration's percentiles: per endpoint, the traces' p50, p90 and p99 (solid, with their 95 %
/// intervals) and the replay's (dashed, with their confidence intervals), against the percentile.
pub fn calibration_percentiles(c: &crate::analysis::calibration::Calibration) -> Figure {
    let mut panels = Vec::new();
    for e in &c.endpoints {
        let quantiles: Vec<(f64, &crate::analysis::calibration::Compared)> = e
            .statistics
            .iter()
            .filter_map(|s| {
                s.statistic
                    .strip_prefix('p')
                    .and_then(|q| q.parse::<f64>().ok())
                    .map(|q| (q, s))
            })
            .collect();
        let mut panel = Panel {
            heading: format!("{} ({} requests in the traces)", e.name, e.requests),
            x_label: "percentile".into(),
            y_label: "latency (ms)".into(),
            ..Panel::default()
        };
        panel.bands.push(Band {
            label: String::new(),
            points: quantiles.iter().map(|(q, s)| (*q, s.observed_low, s.observed_high)).collect(),
            colour: BLUE,
        });
        panel.bands.push(Band {
            label: String::new(),
            points: quantiles
                .iter()
                .map(|(q, s)| (*q, s.simulated - s.simulated_ci95, s.simulated + s.simulated_ci95))
                .collect(),
            colour: ORANGE,
        });
        for (colour, label, dashed) in [(BLUE, "traces", false), (ORANGE, "simulated", true)] {
            let points: Vec<(f64, f64)> = quantiles
                .iter()
                .map(|(q, s)| (*q, if colour == BLUE { s.observed } else { s.simulated }))
                .collect();
            dotted_line(&mut panel, label.into(), points, colour, dashed);
        }
        panels.push(panel);
    }
    Figure {
        name: "calibration".into(),
        title: format!("{}: latency percentiles, traces against the replay", c.model),
        panels,
    }
}
