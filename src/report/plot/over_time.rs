//! Figures of a run's windows over simulated time: latency, stations, a retry storm, the cascade
//! of SLO breaches, and the baseline against scenarios. Timed actions are numbered on the axes and
//! listed in the legend; SLO bounds of the plotted latencies are dashed lines; windows in which
//! every request failed (no latency to draw) are shaded instead of left as gaps.

use super::axis::{latency_unit, tick, time_axis};
use super::palette::{scenario_colour, REFERENCE};
use super::{Band, Bound, Failed, Figure, Line, Panel, Span};
use crate::analysis::compare::ScenarioReport;
use crate::results::slo::objective_is_share;
use crate::results::{RunResult, TrafficWindow};

/// "model" or "model — scenario".
fn title(result: &RunResult, scenario: Option<&str>, what: &str) -> String {
    match scenario {
        Some(s) => format!("{} — scenario {s}: {what}", result.model.name),
        None => format!("{}: {what}", result.model.name),
    }
}

/// A shaded span per timed action that lasts; a vertical mark per action that stays.
fn action_marks(result: &RunResult, scale: f64) -> (Vec<Span>, Vec<(f64, String)>) {
    let mut spans = Vec::new();
    let mut marks = Vec::new();
    for a in &result.model.actions {
        match a.end_s {
            Some(end) => spans.push((a.start_s * scale, end * scale, a.what.clone())),
            None => marks.push((a.start_s * scale, a.what.clone())),
        }
    }
    (spans, marks)
}

/// The stretches of consecutive windows in which requests finished and every one failed (so
/// there is no latency of successful requests to draw), on the x axis.
fn failed_stretches(series: &[TrafficWindow], scale: f64, window_s: f64, colour: usize) -> Vec<Failed> {
    let mut out: Vec<Failed> = Vec::new();
    for w in series.iter().filter(|w| w.throughput_per_s > 0.0 && !w.p50_ms.is_finite()) {
        let (from, to) = (w.start_s * scale, (w.start_s + window_s) * scale);
        match out.last_mut() {
            Some(last) if (last.to - from).abs() < 1e-9 * to.abs().max(1.0) => last.to = to,
            _ => out.push(Failed { from, to, colour }),
        }
    }
    out
}

/// The latency SLOs of a component as (statistic, bound in ms): ("p99", 300.0).
fn latency_slos<'r>(result: &'r RunResult, name: &'r str) -> impl Iterator<Item = (&'r str, f64)> + 'r {
    result
        .slos
        .iter()
        .filter(move |s| s.name == name && !objective_is_share(&s.objective) && s.bound.is_finite())
        .map(|s| (s.objective.split(" <=").next().unwrap_or(&s.objective), s.bound))
}

/// An SLO bound to draw on a latency axis, before its unit is chosen: (the statistic it bounds,
/// e.g. "p99", the bound in ms, the palette index of its line, the component's name).
type LatencyBound = (String, f64, usize, String);

/// Put a panel of latencies in ms on a latency axis in the unit its largest value (lines,
/// bands and bounds) calls for, labelled "`what` (unit)", with its SLO bounds drawn: "SLO p99 ≤
/// 300 ms", naming the component when the panel has several.
fn latency_axis(panel: &mut Panel, what: &str, bounds: Vec<LatencyBound>) {
    let highest = panel
        .lines
        .iter()
        .flat_map(|l| l.points.iter().map(|p| p.1))
        .chain(panel.bands.iter().flat_map(|b| b.points.iter().map(|p| p.2)))
        .chain(bounds.iter().map(|b| b.1))
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max);
    let (unit, k) = latency_unit(highest);
    for line in &mut panel.lines {
        line.points.iter_mut().for_each(|p| p.1 *= k);
    }
    for band in &mut panel.bands {
        band.points.iter_mut().for_each(|p| (p.1, p.2) = (p.1 * k, p.2 * k));
    }
    panel.y_label = format!("{what} ({})", unit.symbol);
    // Components with the same bound share one grey line naming them all.
    let mut shared: Vec<(String, f64, Vec<String>, usize)> = Vec::new();
    for (statistic, ms, colour, component) in bounds {
        match shared.iter_mut().find(|b| b.0 == statistic && b.1 == ms) {
            Some(b) => {
                b.2.push(component);
                b.3 = REFERENCE;
            }
            None => shared.push((statistic, ms, vec![component], colour)),
        }
    }
    let several = panel
        .lines
        .iter()
        .map(|l| l.colour)
        .collect::<std::collections::HashSet<_>>()
        .len()
        > 1;
    panel.bounds = shared
        .into_iter()
        .map(|(statistic, ms, components, colour)| {
            let of = match components.len() {
                _ if !several => String::new(),
                1 => format!(" ({})", components[0]),
                n => format!(" ({}, +{} more)", components[0], n - 1),
            };
            Bound {
                label: format!("SLO {statistic} ≤ {} {}{of}", tick(ms * k), unit.symbol),
                y: ms * k,
                colour,
            }
        })
        .collect();
}

/// p50 (dashed) and p99 (solid) latency over time of each component, one colour per component,
/// with each component's latency SLOs and the windows in which all its requests failed. Each
/// window's value is drawn at the middle of its window.
fn latency_panel(result: &RunResult, heading: &str, components: &[(&str, &[TrafficWindow])]) -> Panel {
    let (scale, x_label) = time_axis(result);
    let window_s = result.model.window_s;
    let mut panel = Panel {
        heading: heading.into(),
        x_label,
        ..Panel::default()
    };
    let mut bounds = Vec::new();
    for (i, (name, series)) in components.iter().enumerate() {
        let pick = |f: fn(&TrafficWindow) -> f64| series.iter().map(|w| ((w.start_s + window_s / 2.0) * scale, f(w))).collect();
        panel.lines.push(Line {
            label: format!("{name} p99"),
            points: pick(|w| w.p99_ms),
            colour: i,
            dashed: false,
        });
        panel.lines.push(Line {
            label: format!("{name} p50"),
            points: pick(|w| w.p50_ms),
            colour: i,
            dashed: true,
        });
        panel.failed.extend(failed_stretches(series, scale, window_s, i));
        for (statistic, ms) in latency_slos(result, name) {
            bounds.push((statistic.to_string(), ms, i, name.to_string()));
        }
    }
    latency_axis(&mut panel, "latency", bounds);
    (panel.spans, panel.verticals) = action_marks(result, scale);
    panel
}

/// Plot (a): p50 and p99 latency over time, one panel for the clients (end to end) and one for
/// the endpoints (service side), with their SLO bounds and the timed actions.
pub fn latency_over_time(result: &RunResult, scenario: Option<&str>) -> Figure {
    let clients: Vec<(&str, &[TrafficWindow])> = result.clients.iter().map(|c| (c.name.as_str(), &c.series[..])).collect();
    let endpoints: Vec<(&str, &[TrafficWindow])> = result.endpoints.iter().map(|e| (e.name.as_str(), &e.series[..])).collect();
    let panels = [("Clients (end to end)", clients), ("Endpoints (service side)", endpoints)]
        .into_iter()
        .filter(|(_, components)| !components.is_empty())
        .map(|(heading, components)| latency_panel(result, heading, &components))
        .collect();
    Figure {
        name: "latency".into(),
        title: title(result, scenario, "latency over time (p99 solid, p50 dashed)"),
        panels,
    }
}

/// A station's label ("pool pgbouncer") and its windows as (start in seconds, value): its
/// utilisation, then its jobs waiting.
type Station = (String, [Vec<(f64, f64)>; 2]);

/// Plot (b): utilisation and queue length (jobs waiting) over time of every station: each
/// component whose kind has `utilisation` and `waiting` per window in the
/// [registry](crate::results::columns::WINDOWS) (services, databases, connection pools).
pub fn stations_over_time(result: &RunResult, scenario: Option<&str>) -> Figure {
    let (scale, x_label) = time_axis(result);
    let stations: Vec<Station> = crate::results::columns::WINDOWS
        .iter()
        .flat_map(|table| {
            table.names(result).into_iter().filter_map(move |name| {
                let utilisation = table.series(result, name, "utilisation")?;
                let waiting = table.series(result, name, "waiting")?;
                Some((format!("{} {name}", table.kind()), [utilisation, waiting]))
            })
        })
        .collect();
    let (spans, verticals) = action_marks(result, scale);
    let panel = |heading: &str, y_label: &str, which: usize, k: f64| Panel {
        heading: heading.into(),
        x_label: x_label.clone(),
        y_label: y_label.into(),
        lines: stations
            .iter()
            .enumerate()
            .map(|(i, (name, series))| Line {
                label: name.clone(),
                points: series[which]
                    .iter()
                    .map(|(t, v)| ((t + result.model.window_s / 2.0) * scale, v * k))
                    .collect(),
                colour: i,
                dashed: false,
            })
            .collect(),
        spans: spans.clone(),
        verticals: verticals.clone(),
        ..Panel::default()
    };
    Figure {
        name: "stations".into(),
        title: title(result, scenario, "utilisation and queues over time"),
        panels: vec![
            panel(
                "Utilisation (share of workers, cores or connections busy)",
                "utilisation (%)",
                0,
                100.0,
            ),
            panel("Queue length (jobs waiting for a unit)", "jobs waiting", 1, 1.0),
        ],
    }
}

/// Plot (g): autoscaled fleets over time — each autoscaled service's instances in service per
/// window, timed actions marked (their utilisation, over the instances in service, is in the
/// stations plot). `None` when no service autoscales.
pub fn fleet_over_time(result: &RunResult, scenario: Option<&str>) -> Option<Figure> {
    if result.autoscalers.is_empty() {
        return None;
    }
    let (scale, x_label) = time_axis(result);
    let mid = |start_s: f64| (start_s + result.model.window_s / 2.0) * scale;
    let (spans, verticals) = action_marks(result, scale);
    let instances = Panel {
        heading: "Instances in service (mean per window)".into(),
        x_label,
        y_label: "instances".into(),
        spans,
        verticals,
        lines: result
            .autoscalers
            .iter()
            .enumerate()
            .map(|(i, a)| Line {
                label: a.name.clone(),
                points: a.series.iter().map(|w| (mid(w.start_s), w.instances)).collect(),
                colour: i,
                dashed: false,
            })
            .collect(),
        ..Panel::default()
    };
    Some(Figure {
        name: "fleet".into(),
        title: title(result, scenario, "autoscaled instances over time"),
        panels: vec![instances],
    })
}

/// One column of a queue's windows.
type QueueColumn = fn(&crate::results::resilience::QueueWindow) -> f64;

/// Plot (f): a retry storm over time — each queue's publications, deliveries, completions and
/// dead letters per second with its work amplification, and each side effect per second with its
/// duplicates. `None` for a model without queues or side effects.
pub fn storm_over_time(result: &RunResult, scenario: Option<&str>) -> Option<Figure> {
    if result.queues.is_empty() && result.effects.is_empty() {
        return None;
    }
    let (scale, x_label) = time_axis(result);
    let mid = |start_s: f64| (start_s + result.model.window_s / 2.0) * scale;
    let (spans, verticals) = action_marks(result, scale);
    let mut panels = Vec::new();
    if !result.queues.is_empty() {
        let mut deliveries = Panel {
            heading: "Queue deliveries (received, done, dead-lettered, published)".into(),
            x_label: x_label.clone(),
            y_label: "messages per second".into(),
            spans: spans.clone(),
            verticals: verticals.clone(),
            ..Panel::default()
        };
        let mut amplification = Panel {
            heading: "Work amplification so far (receives per message received)".into(),
            x_label: x_label.clone(),
            y_label: "receives per message".into(),
            spans: spans.clone(),
            verticals: verticals.clone(),
            ..Panel::default()
        };
        for (i, q) in result.queues.iter().enumerate() {
            let columns: [(&str, QueueColumn, bool); 4] = [
                ("received", |w| w.receives_per_s, false),
                ("done", |w| w.deleted_per_s, false),
                ("dead-lettered", |w| w.dead_lettered_per_s, true),
                ("published", |w| w.published_per_s, true),
            ];
            for (k, (what, pick, dashed)) in columns.into_iter().enumerate() {
                deliveries.lines.push(Line {
                    label: format!("{} {what}", q.name),
                    points: q.series.iter().map(|w| (mid(w.start_s), pick(w))).collect(),
                    colour: i * 4 + k,
                    dashed,
                });
            }
            amplification.lines.push(Line {
                label: q.name.clone(),
                points: q.series.iter().map(|w| (mid(w.start_s), w.amplification)).collect(),
                colour: i,
                dashed: false,
            });
        }
        panels.push(deliveries);
        panels.push(amplification);
    }
    if !result.effects.is_empty() {
        let mut effects = Panel {
            heading: "Side effects (all, and duplicates: again for the same unit of work)".into(),
            x_label,
            y_label: "per second".into(),
            spans,
            verticals,
            ..Panel::default()
        };
        for (i, e) in result.effects.iter().enumerate() {
            effects.lines.push(Line {
                label: e.name.clone(),
                points: e.series.iter().map(|w| (mid(w.start_s), w.per_s)).collect(),
                colour: i,
                dashed: false,
            });
            effects.lines.push(Line {
                label: format!("duplicate {}", e.name),
                points: e.series.iter().map(|w| (mid(w.start_s), w.duplicates_per_s)).collect(),
                colour: i,
                dashed: true,
            });
        }
        panels.push(effects);
    }
    Some(Figure {
        name: "storm".into(),
        title: title(result, scenario, "retry storm over time"),
        panels,
    })
}

/// Plot (g): caches with a key space over time — each one's hit ratio (the warm-up curve, the
/// dip after a flush or a wave of expiries), and the look-ups its misses sent to the backend per
/// second with, dashed, those that waited for a fill in flight. `None` for a model without one.
pub fn caches_over_time(result: &RunResult, scenario: Option<&str>) -> Option<Figure> {
    if result.caches.is_empty() {
        return None;
    }
    let (scale, x_label) = time_axis(result);
    let mid = |start_s: f64| (start_s + result.model.window_s / 2.0) * scale;
    let (spans, verticals) = action_marks(result, scale);
    let panel = |heading: &str, y_label: &str| Panel {
        heading: heading.into(),
        x_label: x_label.clone(),
        y_label: y_label.into(),
        spans: spans.clone(),
        verticals: verticals.clone(),
        ..Panel::default()
    };
    let mut hits = panel("Hit ratio (hits over look-ups)", "hit ratio (%)");
    let mut backend = panel(
        "Misses sent to the backend (dashed: look-ups waiting for a fill in flight)",
        "look-ups per second",
    );
    for (i, c) in result.caches.iter().enumerate() {
        hits.lines.push(Line {
            label: c.name.clone(),
            points: c.series.iter().map(|w| (mid(w.start_s), w.hit_ratio * 100.0)).collect(),
            colour: i,
            dashed: false,
        });
        backend.lines.push(Line {
            label: format!("{} misses", c.name),
            points: c.series.iter().map(|w| (mid(w.start_s), w.misses_per_s)).collect(),
            colour: i,
            dashed: false,
        });
        if c.coalesced > 0 {
            backend.lines.push(Line {
                label: format!("{} coalesced", c.name),
                points: c.series.iter().map(|w| (mid(w.start_s), w.coalesced_per_s)).collect(),
                colour: i,
                dashed: true,
            });
        }
    }
    Some(Figure {
        name: "caches".into(),
        title: title(result, scenario, "caches over time"),
        panels: vec![hits, backend],
    })
}

/// Plot (d): the cascade as a Gantt chart — one row per component whose SLO breached after the
/// trigger, the first to breach on top, a bar over each stretch of windows in breach; the trigger
/// and the timed actions are marked. None when nothing breached.
pub fn cascade(result: &RunResult, scenario: Option<&str>) -> Option<Figure> {
    let timeline = &result.cascade.timeline;
    if timeline.is_empty() {
        return None;
    }
    let (scale, x_label) = time_axis(result);
    let rows = timeline.len();
    let mut panel = Panel {
        heading: format!(
            "SLO breaches after {} (first to breach on top; {} windows)",
            result.cascade.trigger,
            crate::model::units::format_duration_f64(result.model.window_s)
        ),
        x_label,
        // Row k (from the bottom) is the (rows − k + 1)-th to breach.
        y_categories: timeline.iter().rev().map(|e| e.name.clone()).collect(),
        ..Panel::default()
    };
    for (i, entry) in timeline.iter().enumerate() {
        let y = (rows - i) as f64;
        let mut points = Vec::new();
        for [from, to] in &entry.breached_s {
            points.push((from * scale, y - 0.35, y + 0.35));
            points.push((to * scale, y - 0.35, y + 0.35));
            points.push((f64::NAN, f64::NAN, f64::NAN));
        }
        panel.bands.push(Band {
            label: format!(
                "{} (+{})",
                entry.name,
                crate::model::units::format_duration_f64(entry.after_trigger_s)
            ),
            points,
            colour: i,
        });
    }
    // The whole run on the x axis, so the breaches are seen against it (points without a band).
    if let Some(first) = panel.bands.first_mut() {
        first.points.push((result.model.warmup_s * scale, f64::NAN, f64::NAN));
        first.points.push((result.model.duration_s * scale, f64::NAN, f64::NAN));
    }
    (panel.spans, panel.verticals) = action_marks(result, scale);
    if result.model.actions.is_empty() {
        panel
            .verticals
            .push((result.cascade.trigger_s * scale, "start of measurement".into()));
    }
    Some(Figure {
        name: "cascade".into(),
        title: title(result, scenario, "cascade of SLO breaches"),
        panels: vec![panel],
    })
}

/// The timed actions of several runs, each once: an action every run has is named as it is,
/// one only some have is prefixed with their names ("ad-hoc-query: inject …").
fn actions_of_runs(runs: &[(&str, &RunResult)], scale: f64) -> (Vec<Span>, Vec<(f64, String)>) {
    let mut spans: Vec<(Span, Vec<&str>)> = Vec::new();
    let mut marks: Vec<((f64, String), Vec<&str>)> = Vec::new();
    for (name, run) in runs {
        let (s, m) = action_marks(run, scale);
        for span in s {
            match spans.iter_mut().find(|(known, _)| *known == span) {
                Some((_, names)) => names.push(name),
                None => spans.push((span, vec![name])),
            }
        }
        for mark in m {
            match marks.iter_mut().find(|(known, _)| *known == mark) {
                Some((_, names)) => names.push(name),
                None => marks.push((mark, vec![name])),
            }
        }
    }
    let named = |what: String, names: &[&str]| {
        if names.len() == runs.len() {
            what
        } else {
            format!("{}: {what}", names.join(", "))
        }
    };
    (
        spans
            .into_iter()
            .map(|((a, b, what), names)| (a, b, named(what, &names)))
            .collect(),
        marks.into_iter().map(|((x, what), names)| (x, named(what, &names))).collect(),
    )
}

/// Plot (c): each client's p99 over time in the baseline (black) and every scenario, on the same
/// axes (one panel per client), with the client's p99 SLO.
pub fn scenarios_compared(report: &ScenarioReport) -> Figure {
    let base = &report.baseline;
    let (scale, x_label) = time_axis(base);
    let runs: Vec<(&str, &RunResult)> = std::iter::once(("baseline", base))
        .chain(report.scenarios.iter().map(|s| (s.name.as_str(), &s.result)))
        .collect();
    let (spans, verticals) = actions_of_runs(&runs, scale);
    let panels = base
        .clients
        .iter()
        .enumerate()
        .map(|(c, client)| {
            let mut panel = Panel {
                heading: format!("Client {} (end to end)", client.name),
                x_label: x_label.clone(),
                spans: spans.clone(),
                verticals: verticals.clone(),
                ..Panel::default()
            };
            for (k, (name, run)) in runs.iter().enumerate() {
                let Some(series) = run.clients.get(c).map(|c| &c.series) else {
                    continue;
                };
                let mid = |w: &TrafficWindow| (w.start_s + run.model.window_s / 2.0) * scale;
                panel.lines.push(Line {
                    label: name.to_string(),
                    points: series.iter().map(|w| (mid(w), w.p99_ms)).collect(),
                    colour: scenario_colour(k),
                    dashed: false,
                });
                panel
                    .failed
                    .extend(failed_stretches(series, scale, run.model.window_s, scenario_colour(k)));
            }
            let bounds = latency_slos(base, &client.name)
                .filter(|(statistic, _)| *statistic == "p99")
                .map(|(statistic, ms)| (statistic.to_string(), ms, REFERENCE, client.name.clone()))
                .collect();
            latency_axis(&mut panel, "p99 latency", bounds);
            panel
        })
        .collect();
    Figure {
        name: "scenarios".into(),
        title: format!("{}: client p99 over time, baseline vs scenarios", base.model.name),
        panels,
    }
}
