//! Figures of sweeps: the metric along a one-parameter sweep (with its trend, knee and
//! breaches), a heatmap per grid of two parameters (small multiples over the values of any
//! further ones), and the latency ladder against the spreadsheet.

use super::axis::{latency_unit, tick};
use super::palette::{BLUE, ORANGE, RED, REFERENCE};
use super::{thousands, Band, Cell, Figure, Line, Markers, Panel, Shape};
use crate::analysis::ladder::spreadsheet_ms;
use crate::analysis::sweep::{FinishedSweep, SweepHeader, SweepPoint};
use crate::results::metric::{resolve, Unit};
use crate::scenario::sweep::numeric;
use serde_json::Value;

/// The sweep's x axis: the first parameter's values (durations in ms, rates per second), or the
/// point's index for a grid of several parameters.
fn sweep_axis(header: &SweepHeader, points: &[SweepPoint]) -> (Vec<f64>, String) {
    let first = points.first().and_then(|p| p.values.first());
    let numeric_x = header.params.len() == 1 && points.iter().all(|p| p.values.first().and_then(numeric).is_some());
    if !numeric_x {
        return (points.iter().map(|p| p.index as f64).collect(), "point (grid order)".into());
    }
    let (k, unit) = match first {
        Some(Value::String(s)) if s.contains('/') => (1.0, " (per s)"),
        Some(Value::String(_)) => (1e3, " (ms)"),
        _ => (1.0, ""),
    };
    let xs = points
        .iter()
        .map(|p| p.values.first().and_then(numeric).unwrap_or(f64::NAN) * k)
        .collect();
    (xs, format!("{}{unit}", header.params[0]))
}

/// A metric's axis label and the factor from its unit to the axis: latencies in the unit their
/// highest value (`highest`, in the metric's unit) calls for, shares as %.
fn metric_axis(name: &str, unit: Option<Unit>, highest: f64) -> (String, f64) {
    match unit {
        Some(Unit::Millis) => {
            let (unit, k) = latency_unit(highest);
            (format!("{name} ({})", unit.symbol), k)
        }
        Some(Unit::Share) => (format!("{name} (%)"), 100.0),
        Some(Unit::Seconds) => {
            let (unit, k) = latency_unit(highest * 1e3);
            (format!("{name} ({})", unit.symbol), k * 1e3)
        }
        _ => (name.to_string(), 1.0),
    }
}

/// The SLO bound on a latency metric ("shoppers.p99": the p99 SLO of "shoppers"), in ms, as
/// the results of `point` state it.
fn slo_bound(metric: &str, point: &SweepPoint) -> Option<(String, f64)> {
    let (component, statistic) = metric.rsplit_once('.')?;
    point
        .result
        .slos
        .iter()
        .find(|s| s.name == component && s.objective.split(" <=").next() == Some(statistic) && s.bound.is_finite())
        .map(|s| (statistic.to_string(), s.bound))
}

/// How a swept value is written on an axis: a string as it is ("10ms"), a number as a number.
fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The values of parameter `i` over the grid, each once, in grid order.
fn distinct(points: &[SweepPoint], i: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for text in points.iter().filter_map(|p| p.values.get(i)).map(value_text) {
        if !out.contains(&text) {
            out.push(text);
        }
    }
    out
}

/// Plot (d) for grids: a heatmap of the metric over the first two parameters (columns: the
/// first, rows: the second), each cell written with its value and outlined when an SLO is
/// breached there; one heatmap per combination of the values of any further parameters. A point
/// cut short is left blank ("cut short").
fn grid_heatmaps(finished: &FinishedSweep) -> Figure {
    let header = &finished.header;
    let points = &finished.points;
    let (columns, rows) = (distinct(points, 0), distinct(points, 1));
    let complete = || points.iter().filter(|p| !p.is_partial());
    let unit = complete()
        .next()
        .and_then(|p| resolve(&p.result, &header.metric).ok())
        .map(|m| m.unit);
    let highest = complete()
        .map(|p| p.metric.mean)
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max);
    let (colour_label, k) = metric_axis(&header.metric, unit, highest);
    let mut panels: Vec<(String, Panel)> = Vec::new();
    for p in points {
        let rest: Vec<String> = header.params[2..]
            .iter()
            .zip(p.values.iter().skip(2))
            .map(|(name, v)| format!("{name} = {}", value_text(v)))
            .collect();
        let key = rest.join(", ");
        let at = match panels.iter().position(|(k, _)| *k == key) {
            Some(at) => at,
            None => {
                panels.push((
                    key.clone(),
                    Panel {
                        heading: if key.is_empty() {
                            "cells outlined: an SLO is breached there".into()
                        } else {
                            format!("{key} (cells outlined: an SLO is breached there)")
                        },
                        x_label: header.params[0].clone(),
                        y_label: header.params[1].clone(),
                        x_categories: columns.clone(),
                        y_categories: rows.clone(),
                        colour_label: colour_label.clone(),
                        ..Panel::default()
                    },
                ));
                panels.len() - 1
            }
        };
        let place = |i: usize, names: &[String]| {
            let text = p.values.get(i).map(value_text).unwrap_or_default();
            names.iter().position(|n| *n == text).map_or(f64::NAN, |at| at as f64 + 1.0)
        };
        let value = if p.is_partial() { f64::NAN } else { p.metric.mean * k };
        panels[at].1.cells.push(Cell {
            x: place(0, &columns),
            y: place(1, &rows),
            value,
            text: if value.is_finite() { tick(value) } else { "cut short".into() },
            breached: !p.is_partial() && !p.slos_breached.is_empty(),
        });
    }
    sweep_figure(header, panels.into_iter().map(|(_, p)| p).collect())
}

/// The sweep's figure: "model — scenario s: sweep of metric" over `panels`.
fn sweep_figure(header: &SweepHeader, panels: Vec<Panel>) -> Figure {
    let scenario = if header.scenario.is_empty() {
        String::new()
    } else {
        format!(" — scenario {}", header.scenario)
    };
    Figure {
        name: "sweep".into(),
        title: format!("{}{scenario}: sweep of {}", header.model, header.metric),
        panels,
    }
}

/// Plot (d): the sweep's metric at each point with its 95 % CI band, the low-load trend (the
/// line through the two points at the low-load end), the knee, the metric's SLO bound and the
/// points where an SLO is breached. A grid of two or more parameters is drawn as heatmaps instead.
pub fn sweep_curve(finished: &FinishedSweep) -> Figure {
    let header = &finished.header;
    if header.params.len() >= 2 {
        return grid_heatmaps(finished);
    }
    // Points cut short are not the model's answer there: off the curve, as out of the verdicts.
    let complete: Vec<SweepPoint> = finished
        .points
        .iter()
        .filter(|p| !p.result.verdict.replications.is_partial())
        .cloned()
        .collect();
    let points = &complete[..];
    let (xs, x_label) = sweep_axis(header, points);
    let unit = points
        .first()
        .and_then(|p| resolve(&p.result, &header.metric).ok())
        .map(|m| m.unit);
    let bound = points.first().and_then(|p| slo_bound(&header.metric, p));
    let highest = points
        .iter()
        .map(|p| p.metric.high())
        .chain(bound.iter().map(|b| b.1))
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max);
    let (y_label, k) = metric_axis(&header.metric, unit, highest);
    let mean: Vec<(f64, f64)> = xs.iter().zip(points).map(|(x, p)| (*x, p.metric.mean * k)).collect();
    let mut panel = Panel {
        x_label,
        y_label,
        lines: vec![Line {
            label: "mean".into(),
            points: mean.clone(),
            colour: BLUE,
            dashed: false,
        }],
        bands: vec![Band {
            label: "95 % CI of the mean".into(),
            points: xs
                .iter()
                .zip(points)
                .map(|(x, p)| (*x, p.metric.low() * k, p.metric.high() * k))
                .collect(),
            colour: BLUE,
        }],
        ..Panel::default()
    };
    if let (Some((statistic, ms)), Some(Unit::Millis)) = (bound, unit) {
        let symbol = panel.y_label.rsplit_once('(').map_or("", |(_, u)| u.trim_end_matches(')'));
        panel.bounds.push(super::Bound {
            label: format!("SLO {statistic} ≤ {} {symbol}", tick(ms * k)),
            y: ms * k,
            colour: REFERENCE,
        });
    }
    let (a, b) = crate::report::sweep::trend_through(finished);
    if header.params.len() == 1 && a < mean.len() && b < mean.len() && mean[b].0 != mean[a].0 {
        let slope = (mean[b].1 - mean[a].1) / (mean[b].0 - mean[a].0);
        // Drawn only where it stays positive: below zero it is no trend for the metric.
        panel.lines.push(Line {
            label: "low-load trend".into(),
            points: mean
                .iter()
                .map(|(x, _)| (*x, mean[a].1 + slope * (x - mean[a].0)))
                .filter(|(_, y)| *y >= 0.0)
                .collect(),
            colour: REFERENCE,
            dashed: true,
        });
    }
    let breached: Vec<(f64, f64)> = mean
        .iter()
        .zip(points)
        .filter(|(_, p)| !p.slos_breached.is_empty())
        .map(|(m, _)| *m)
        .collect();
    if !breached.is_empty() {
        panel.markers.push(Markers {
            label: "SLO breached".into(),
            points: breached,
            colour: RED,
            shape: Shape::Cross,
        });
    }
    let knee = crate::report::sweep::knee_position(finished);
    if let Some(i) = knee.and_then(|at| mean.get(at)) {
        panel.markers.push(Markers {
            label: format!("knee (> {} % above trend)", tick(header.threshold * 100.0)),
            points: vec![*i],
            colour: ORANGE,
            shape: Shape::Circle,
        });
    }
    sweep_figure(header, vec![panel])
}

/// Plot (d) for latency ladders: each endpoint's simulated mean latency (with its CI band)
/// beside the spreadsheet's line — duration at +0 plus round trips × added latency — one panel
/// per endpoint. `None` unless the sweep adds latency to links over one parameter.
pub fn ladder(header: &SweepHeader, points: &[SweepPoint]) -> Option<Figure> {
    if header.round_trips.is_empty() || header.params.len() != 1 || points.is_empty() {
        return None;
    }
    let (xs, x_label) = sweep_axis(header, points);
    let added_s: Vec<f64> = points
        .iter()
        .map(|p| p.values.first().and_then(numeric).unwrap_or(f64::NAN))
        .collect();
    let panels = header
        .round_trips
        .iter()
        .map(|(name, trips)| {
            let latency = |p: &SweepPoint| {
                p.result
                    .endpoints
                    .iter()
                    .find(|e| &e.name == name)
                    .map(|e| e.latency.mean_ms.clone())
            };
            let base = latency(&points[0]).map_or(f64::NAN, |e| e.mean);
            let sim: Vec<(f64, f64, f64, f64)> = xs
                .iter()
                .zip(points)
                .map(|(x, p)| latency(p).map_or((*x, f64::NAN, f64::NAN, f64::NAN), |e| (*x, e.mean, e.low(), e.high())))
                .collect();
            let finished = sim.iter().any(|s| s.1.is_finite());
            Panel {
                heading: format!(
                    "{name}: {} round trips per request{}",
                    thousands(*trips),
                    if finished {
                        ""
                    } else {
                        " — no request finished within the run"
                    }
                ),
                x_label: x_label.clone(),
                y_label: "mean latency (ms)".into(),
                lines: vec![
                    Line {
                        label: "simulated".into(),
                        points: sim.iter().map(|s| (s.0, s.1)).collect(),
                        colour: BLUE,
                        dashed: false,
                    },
                    Line {
                        label: "spreadsheet".into(),
                        points: xs
                            .iter()
                            .zip(&added_s)
                            .map(|(x, a)| (*x, spreadsheet_ms(base, *trips, *a)))
                            .collect(),
                        colour: ORANGE,
                        dashed: true,
                    },
                ],
                bands: vec![Band {
                    label: "95 % CI of the mean".into(),
                    points: sim.iter().map(|s| (s.0, s.2, s.3)).collect(),
                    colour: BLUE,
                }],
                ..Panel::default()
            }
        })
        .collect();
    Some(Figure {
        name: "ladder".into(),
        title: format!(
            "{}: latency ladder against the spreadsheet (base + round trips × added latency)",
            header.model
        ),
        panels,
    })
}
