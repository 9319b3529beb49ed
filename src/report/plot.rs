//! Plots of results as SVG and PNG, drawn with plotters and the embedded DejaVu Sans font (so
//! text renders the same on a machine without system fonts).
//!
//! Each plot kind is a function that turns results into a [`Figure`] — panels of lines, CI bands,
//! markers and vertical marks — and [`svg`] / [`write_png`] draw any figure. Every figure has a
//! title naming the model, axis labels with units, and a legend beside each panel.

use crate::analysis::compare::ScenarioReport;
use crate::analysis::ladder::spreadsheet_ms;
use crate::analysis::sweep::{FinishedSweep, SweepHeader, SweepPoint};
use crate::results::metric::{resolve, significant, Unit};
use crate::results::{RunResult, TrafficWindow};
use crate::scenario::sweep::numeric;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use serde_json::Value;
use std::path::Path;

/// Width of every figure, pixels.
const WIDTH: u32 = 1000;
/// Height of one panel, pixels.
const PANEL_HEIGHT: u32 = 400;
/// Height of the figure's title strip, pixels.
const TITLE_HEIGHT: u32 = 44;
/// Width of the legend strip right of each panel, pixels.
const LEGEND_WIDTH: u32 = 230;
/// The font family every text uses (registered from the embedded TTF).
const FONT: &str = "sans-serif";

/// Distinguishable colours (Tableau 10), picked by index.
const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

fn colour(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// A plot: a title over one or more panels stacked vertically.
#[derive(Clone, Debug)]
pub struct Figure {
    /// File stem for its SVG and PNG ("latency", "sweep").
    pub name: String,
    /// Title, naming the model (and scenario).
    pub title: String,
    /// Panels, top to bottom.
    pub panels: Vec<Panel>,
}

/// One set of axes.
#[derive(Clone, Debug, Default)]
pub struct Panel {
    /// Small heading above the axes ("" for none).
    pub heading: String,
    /// X axis label, with its unit.
    pub x_label: String,
    /// Y axis label, with its unit.
    pub y_label: String,
    /// Lines; non-finite y values break them.
    pub lines: Vec<Line>,
    /// Shaded bands (confidence intervals).
    pub bands: Vec<Band>,
    /// Marked points.
    pub markers: Vec<Markers>,
    /// Vertical marks at an x value, with a label.
    pub verticals: Vec<(f64, String)>,
    /// Shaded intervals on the x axis (timed actions), with a label.
    pub spans: Vec<Span>,
    /// Names of the rows when the y axis is categorical (row k at y = k + 1); numbers otherwise.
    pub y_categories: Vec<String>,
}

/// A line in the legend and on the axes.
#[derive(Clone, Debug)]
pub struct Line {
    /// Legend text.
    pub label: String,
    /// (x, y) points in order of x.
    pub points: Vec<(f64, f64)>,
    /// Palette index.
    pub colour: usize,
    /// Dashed instead of solid.
    pub dashed: bool,
}

/// A shaded band between a low and a high value at each x.
#[derive(Clone, Debug)]
pub struct Band {
    /// Legend text.
    pub label: String,
    /// (x, low, high).
    pub points: Vec<(f64, f64, f64)>,
    /// Palette index.
    pub colour: usize,
}

/// How marked points are drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// A filled circle.
    Circle,
    /// A cross.
    Cross,
}

/// Points marked with a shape.
#[derive(Clone, Debug)]
pub struct Markers {
    /// Legend text.
    pub label: String,
    /// (x, y).
    pub points: Vec<(f64, f64)>,
    /// Palette index.
    pub colour: usize,
    /// The shape.
    pub shape: Shape,
}

/// Register the embedded font with plotters, once per process (every text uses [`FONT`]).
fn register_fonts() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        for (style, bytes) in [
            (FontStyle::Normal, dejavu::sans::regular()),
            (FontStyle::Bold, dejavu::sans::bold()),
            (FontStyle::Oblique, dejavu::sans::oblique()),
            (FontStyle::Italic, dejavu::sans::oblique()),
        ] {
            // The font is compiled in and known to be valid; a failure would show as missing text.
            let _ = plotters::style::register_font(FONT, style, bytes);
        }
    });
}

/// Pixel size of a figure.
pub fn size(figure: &Figure) -> (u32, u32) {
    (WIDTH, TITLE_HEIGHT + PANEL_HEIGHT * figure.panels.len().max(1) as u32)
}

/// The figure as an SVG document.
pub fn svg(figure: &Figure) -> std::io::Result<String> {
    register_fonts();
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, size(figure)).into_drawing_area();
        draw(figure, &root).map_err(std::io::Error::other)?;
    }
    Ok(out)
}

/// Draw the figure as a PNG file at `path`, atomically: into a temporary file beside it
/// (whose name also ends in `.png`, which tells the encoder the format), then renamed.
pub fn write_png(figure: &Figure, path: &Path) -> std::io::Result<()> {
    register_fonts();
    let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = path.with_file_name(format!(".{file_name}.tmp-{}.png", std::process::id()));
    let drawn = {
        let root = BitMapBackend::new(&tmp, size(figure)).into_drawing_area();
        draw(figure, &root).map_err(std::io::Error::other)
    };
    match drawn.and_then(|()| std::fs::rename(&tmp, path)) {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

fn draw<DB: DrawingBackend>(figure: &Figure, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
    root.fill(&WHITE)?;
    let (top, body) = root.split_vertically(TITLE_HEIGHT);
    top.draw_text(
        &figure.title,
        &(FONT, 20).into_font().style(FontStyle::Bold).color(&BLACK),
        (14, 12),
    )?;
    let areas = body.split_evenly((figure.panels.len().max(1), 1));
    for (panel, area) in figure.panels.iter().zip(&areas) {
        draw_panel(panel, area)?;
    }
    root.present()
}

/// The x and y ranges covering every finite value, y from 0 unless negative, with some headroom.
fn ranges(panel: &Panel) -> (std::ops::Range<f64>, std::ops::Range<f64>) {
    let mut xs: Vec<f64> = Vec::new();
    let mut ys: Vec<f64> = vec![0.0];
    for line in &panel.lines {
        xs.extend(line.points.iter().map(|p| p.0));
        ys.extend(line.points.iter().map(|p| p.1));
    }
    for band in &panel.bands {
        xs.extend(band.points.iter().map(|p| p.0));
        ys.extend(band.points.iter().flat_map(|p| [p.1, p.2]));
    }
    for m in &panel.markers {
        xs.extend(m.points.iter().map(|p| p.0));
        ys.extend(m.points.iter().map(|p| p.1));
    }
    // Timed actions do not widen the axis: one may lie far past the run (they are clipped).
    let span = |values: &[f64], pad: f64| {
        let finite = values.iter().copied().filter(|v| v.is_finite());
        let low = finite.clone().fold(f64::INFINITY, f64::min);
        let high = finite.fold(f64::NEG_INFINITY, f64::max);
        if !low.is_finite() || (high - low < 1e-12 && low == 0.0) {
            0.0..1.0
        } else if high - low < 1e-12 {
            low - low.abs() * 0.1..high + high.abs() * 0.1
        } else {
            low..high + (high - low) * pad
        }
    };
    (span(&xs, 0.0), span(&ys, 0.08))
}

/// Runs of consecutive finite points: a gap (no requests in a window) breaks a line.
fn segments<T: Copy>(points: &[T], finite: impl Fn(&T) -> bool) -> Vec<Vec<T>> {
    let mut out: Vec<Vec<T>> = vec![Vec::new()];
    for p in points {
        if finite(p) {
            out.last_mut().expect("never empty").push(*p);
        } else if !out.last().expect("never empty").is_empty() {
            out.push(Vec::new());
        }
    }
    out.retain(|s| !s.is_empty());
    out
}

fn draw_panel<DB: DrawingBackend>(panel: &Panel, area: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
    let (plot_area, legend_area) = area.split_horizontally(WIDTH - LEGEND_WIDTH);
    let (x_range, y_range) = ranges(panel);
    let (x_low, x_high) = (x_range.start, x_range.end);
    let (y_low, y_high) = (y_range.start, y_range.end);
    let mut builder = ChartBuilder::on(&plot_area);
    // Row names need more room than numbers.
    let y_label_area = if panel.y_categories.is_empty() { 78 } else { 150 };
    builder.margin(12).x_label_area_size(46).y_label_area_size(y_label_area);
    if !panel.heading.is_empty() {
        builder.caption(&panel.heading, (FONT, 16));
    }
    let mut chart = builder.build_cartesian_2d(x_range, y_range)?;
    let categories = &panel.y_categories;
    let y_tick = |v: &f64| {
        if categories.is_empty() {
            return tick(*v);
        }
        let row = v.round();
        match categories.get((row as usize).wrapping_sub(1)) {
            Some(name) if (v - row).abs() < 1e-6 && row >= 1.0 => shorten(name, 20),
            _ => String::new(),
        }
    };
    chart
        .configure_mesh()
        .x_desc(panel.x_label.as_str())
        .y_desc(panel.y_label.as_str())
        .x_label_formatter(&|v| tick(*v))
        .y_label_formatter(&y_tick)
        .y_labels(if categories.is_empty() { 10 } else { categories.len() + 2 })
        .label_style((FONT, 13))
        .axis_desc_style((FONT, 14))
        .max_light_lines(1)
        .light_line_style(RGBColor(240, 240, 240))
        .bold_line_style(RGBColor(215, 215, 215))
        .draw()?;
    for band in &panel.bands {
        for seg in segments(&band.points, |p| p.0.is_finite() && p.1.is_finite() && p.2.is_finite()) {
            let outline: Vec<(f64, f64)> = seg
                .iter()
                .map(|p| (p.0, p.2))
                .chain(seg.iter().rev().map(|p| (p.0, p.1)))
                .collect();
            // Bands shade an interval around lines; on a categorical axis they are the bars themselves.
            let opacity = if categories.is_empty() { 0.18 } else { 0.7 };
            chart.draw_series(std::iter::once(Polygon::new(
                outline,
                colour(band.colour).mix(opacity).filled(),
            )))?;
        }
    }
    for (from, to, label) in &panel.spans {
        // Clipped to the axis: an action may start before the plotted windows or end long after.
        let (from, to) = (&from.max(x_low), &to.min(x_high));
        if from >= to {
            continue;
        }
        let shade = RGBColor(255, 160, 60).mix(0.18).filled();
        chart.draw_series(std::iter::once(Rectangle::new([(*from, y_low), (*to, y_high)], shade)))?;
        chart.draw_series(std::iter::once(Text::new(
            format!(" {label}"),
            (*from, y_high),
            (FONT, 12)
                .into_font()
                .color(&BLACK.mix(0.7))
                .pos(Pos::new(HPos::Left, VPos::Top)),
        )))?;
    }
    for (x, label) in panel.verticals.iter().filter(|v| v.0 >= x_low && v.0 <= x_high) {
        let style = ShapeStyle::from(&BLACK.mix(0.55)).stroke_width(1);
        chart.draw_series(DashedLineSeries::new(vec![(*x, y_low), (*x, y_high)], 5, 4, style))?;
        chart.draw_series(std::iter::once(Text::new(
            format!(" {label}"),
            (*x, y_high),
            (FONT, 12)
                .into_font()
                .color(&BLACK.mix(0.7))
                .pos(Pos::new(HPos::Left, VPos::Top)),
        )))?;
    }
    for line in panel.lines.iter().filter(|l| !l.label.is_empty()) {
        let style = colour(line.colour).stroke_width(2);
        for seg in segments(&line.points, |p| p.0.is_finite() && p.1.is_finite()) {
            if seg.len() == 1 {
                chart.draw_series(std::iter::once(Circle::new(seg[0], 2, style.filled())))?;
            } else if line.dashed {
                chart.draw_series(DashedLineSeries::new(seg, 7, 4, style))?;
            } else {
                chart.draw_series(LineSeries::new(seg, style))?;
            }
        }
    }
    for m in panel.markers.iter().filter(|m| !m.label.is_empty()) {
        let c = colour(m.colour);
        let points = m.points.iter().copied().filter(|p| p.0.is_finite() && p.1.is_finite());
        match m.shape {
            Shape::Circle => chart.draw_series(points.map(|p| Circle::new(p, 6, c.filled())))?,
            Shape::Cross => chart.draw_series(points.map(|p| Cross::new(p, 7, c.stroke_width(3))))?,
        };
    }
    draw_legend(panel, &legend_area)
}

/// The legend, in its own strip right of the axes so it never hides data. A line, band or set of
/// markers with an empty label is drawn on the axes but has no entry (it belongs to a line that
/// has one).
fn draw_legend<DB: DrawingBackend>(panel: &Panel, area: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
    let text = (FONT, 13).into_font().color(&BLACK).pos(Pos::new(HPos::Left, VPos::Center));
    let mut y = if panel.heading.is_empty() { 24 } else { 44 };
    let sample_x = 6;
    let text_x = 42;
    let entry = |y: i32, label: &str| area.draw(&Text::new(shorten(label, 26), (text_x, y), text.clone()));
    for line in panel.lines.iter().filter(|l| !l.label.is_empty()) {
        let style = colour(line.colour).stroke_width(2);
        if line.dashed {
            area.draw(&PathElement::new(vec![(sample_x, y), (sample_x + 12, y)], style))?;
            area.draw(&PathElement::new(vec![(sample_x + 18, y), (sample_x + 30, y)], style))?;
        } else {
            area.draw(&PathElement::new(vec![(sample_x, y), (sample_x + 30, y)], style))?;
        }
        entry(y, &line.label)?;
        y += 20;
    }
    for band in panel.bands.iter().filter(|b| !b.label.is_empty()) {
        area.draw(&Rectangle::new(
            [(sample_x, y - 6), (sample_x + 30, y + 6)],
            colour(band.colour).mix(0.25).filled(),
        ))?;
        entry(y, &band.label)?;
        y += 20;
    }
    for m in panel.markers.iter().filter(|m| !m.label.is_empty()) {
        let c = colour(m.colour);
        match m.shape {
            Shape::Circle => area.draw(&Circle::new((sample_x + 15, y), 6, c.filled()))?,
            Shape::Cross => area.draw(&Cross::new((sample_x + 15, y), 7, c.stroke_width(3)))?,
        }
        entry(y, &m.label)?;
        y += 20;
    }
    Ok(())
}

/// `text` cut to `max` characters with an ellipsis.
fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        text.chars().take(max - 1).chain(std::iter::once('…')).collect()
    }
}

/// An integer with thousands separators: 1,124,000.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// An axis tick: three significant digits, no exponent, no trailing zeros.
fn tick(v: f64) -> String {
    let text = significant(v);
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

/// Simulated time on the x axis: minutes for runs of ten minutes or more, else seconds.
fn time_axis(result: &RunResult) -> (f64, &'static str) {
    if result.model.duration_s >= 600.0 {
        (1.0 / 60.0, "simulated time (min)")
    } else {
        (1.0, "simulated time (s)")
    }
}

/// "model" or "model — scenario".
fn title(result: &RunResult, scenario: Option<&str>, what: &str) -> String {
    match scenario {
        Some(s) => format!("{} — scenario {s}: {what}", result.model.name),
        None => format!("{}: {what}", result.model.name),
    }
}

/// An interval of the x axis with a label: (from, to, label).
type Span = (f64, f64, String);

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

/// p50 (dashed) and p99 (solid) latency over time of each component, one colour per component.
/// Each window's value is drawn at the middle of its window (`half_window_s` after its start).
fn latency_panel(heading: &str, x_label: &str, scale: f64, half_window_s: f64, components: &[(&str, &[TrafficWindow])]) -> Panel {
    let mut panel = Panel {
        heading: heading.into(),
        x_label: x_label.into(),
        y_label: "latency (ms)".into(),
        ..Panel::default()
    };
    for (i, (name, series)) in components.iter().enumerate() {
        let pick = |f: fn(&TrafficWindow) -> f64| series.iter().map(|w| ((w.start_s + half_window_s) * scale, f(w))).collect();
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
    }
    panel
}

/// Plot (a): p50 and p99 latency over time, one panel for the clients (end to end) and one for
/// the endpoints (service side); the end of the timed actions is marked.
pub fn latency_over_time(result: &RunResult, scenario: Option<&str>) -> Figure {
    let (scale, x_label) = time_axis(result);
    let clients: Vec<(&str, &[TrafficWindow])> = result.clients.iter().map(|c| (c.name.as_str(), &c.series[..])).collect();
    let endpoints: Vec<(&str, &[TrafficWindow])> = result.endpoints.iter().map(|e| (e.name.as_str(), &e.series[..])).collect();
    let mut panels = Vec::new();
    for (heading, components) in [("Clients (end to end)", clients), ("Endpoints (service side)", endpoints)] {
        if !components.is_empty() {
            let mut panel = latency_panel(heading, x_label, scale, result.model.window_s / 2.0, &components);
            (panel.spans, panel.verticals) = action_marks(result, scale);
            panels.push(panel);
        }
    }
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
    let panel = |heading: &str, y_label: &str, which: usize, k: f64| Panel {
        heading: heading.into(),
        x_label: x_label.into(),
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
        spans: action_marks(result, scale).0,
        verticals: action_marks(result, scale).1,
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
            x_label: x_label.into(),
            y_label: "messages per second".into(),
            spans: spans.clone(),
            verticals: verticals.clone(),
            ..Panel::default()
        };
        let mut amplification = Panel {
            heading: "Work amplification so far (receives per message received)".into(),
            x_label: x_label.into(),
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
            x_label: x_label.into(),
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
        x_label: x_label.into(),
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

/// Plot (c): each client's p99 over time in the baseline and every scenario, on the same axes
/// (one panel per client).
pub fn scenarios_compared(report: &ScenarioReport) -> Figure {
    let base = &report.baseline;
    let (scale, x_label) = time_axis(base);
    let runs: Vec<(&str, &RunResult)> = std::iter::once(("baseline", base))
        .chain(report.scenarios.iter().map(|s| (s.name.as_str(), &s.result)))
        .collect();
    let panels = base
        .clients
        .iter()
        .enumerate()
        .map(|(c, client)| Panel {
            heading: format!("Client {} (end to end)", client.name),
            x_label: x_label.into(),
            y_label: "p99 latency (ms)".into(),
            lines: runs
                .iter()
                .enumerate()
                .filter_map(|(i, (name, run))| {
                    let series = &run.clients.get(c)?.series;
                    Some(Line {
                        label: name.to_string(),
                        points: series
                            .iter()
                            .map(|w| ((w.start_s + run.model.window_s / 2.0) * scale, w.p99_ms))
                            .collect(),
                        colour: i,
                        dashed: false,
                    })
                })
                .collect(),
            spans: runs
                .iter()
                .flat_map(|(name, run)| {
                    action_marks(run, scale)
                        .0
                        .into_iter()
                        .map(move |(a, b, what)| (a, b, format!("{name}: {what}")))
                })
                .collect(),
            verticals: runs
                .iter()
                .flat_map(|(name, run)| {
                    action_marks(run, scale)
                        .1
                        .into_iter()
                        .map(move |(x, what)| (x, format!("{name}: {what}")))
                })
                .collect(),
            ..Panel::default()
        })
        .collect();
    Figure {
        name: "scenarios".into(),
        title: format!("{}: client p99 over time, baseline vs scenarios", base.model.name),
        panels,
    }
}

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

/// A metric's axis label and the factor from its unit to the axis (shares as %).
fn metric_axis(name: &str, unit: Option<Unit>) -> (String, f64) {
    match unit {
        Some(Unit::Millis) => (format!("{name} (ms)"), 1.0),
        Some(Unit::Share) => (format!("{name} (%)"), 100.0),
        Some(Unit::Seconds) => (format!("{name} (s)"), 1.0),
        _ => (name.to_string(), 1.0),
    }
}

/// Plot (d): the sweep's metric at each point with its 95 % CI band, the low-load trend (the
/// line through the two points at the low-load end), the knee and the points where an SLO is breached.
pub fn sweep_curve(finished: &FinishedSweep) -> Figure {
    let header = &finished.header;
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
    let (y_label, k) = metric_axis(&header.metric, unit);
    let mean: Vec<(f64, f64)> = xs.iter().zip(points).map(|(x, p)| (*x, p.metric.mean * k)).collect();
    let mut panel = Panel {
        x_label,
        y_label,
        lines: vec![Line {
            label: "mean".into(),
            points: mean.clone(),
            colour: 0,
            dashed: false,
        }],
        bands: vec![Band {
            label: "95 % CI of the mean".into(),
            points: xs
                .iter()
                .zip(points)
                .map(|(x, p)| (*x, p.metric.low() * k, p.metric.high() * k))
                .collect(),
            colour: 0,
        }],
        ..Panel::default()
    };
    let (a, b) = super::sweep::trend_through(finished);
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
            colour: 7,
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
            colour: 3,
            shape: Shape::Cross,
        });
    }
    let knee = super::sweep::knee_position(finished);
    if let Some(i) = knee.and_then(|at| mean.get(at)) {
        panel.markers.push(Markers {
            label: format!("knee (> {} % above trend)", tick(header.threshold * 100.0)),
            points: vec![*i],
            colour: 1,
            shape: Shape::Circle,
        });
    }
    let scenario = if header.scenario.is_empty() {
        String::new()
    } else {
        format!(" — scenario {}", header.scenario)
    };
    Figure {
        name: "sweep".into(),
        title: format!("{}{scenario}: sweep of {}", header.model, header.metric),
        panels: vec![panel],
    }
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
        ("meets every SLO", SloStatus::Met, 2, Shape::Circle),
        ("uncertain", SloStatus::Uncertain, 1, Shape::Circle),
        ("breaches an SLO", SloStatus::Breached, 3, Shape::Cross),
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
            colour: 7,
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
                colour: 0,
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
                    dashed: false,
                });
                colour += 1;
            }
        }
        if low < high {
            panel.lines.push(Line {
                label: "half of the replications".into(),
                points: vec![(low, 50.0), (high, 50.0)],
                colour: 7,
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
                        colour: 0,
                        dashed: false,
                    },
                    Line {
                        label: "spreadsheet".into(),
                        points: xs
                            .iter()
                            .zip(&added_s)
                            .map(|(x, a)| (*x, spreadsheet_ms(base, *trips, *a)))
                            .collect(),
                        colour: 1,
                        dashed: true,
                    },
                ],
                bands: vec![Band {
                    label: "95 % CI of the mean".into(),
                    points: sim.iter().map(|s| (s.0, s.2, s.3)).collect(),
                    colour: 0,
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
            colour: 0,
        });
        panel.bands.push(Band {
            label: String::new(),
            points: quantiles
                .iter()
                .map(|(q, s)| (*q, s.simulated - s.simulated_ci95, s.simulated + s.simulated_ci95))
                .collect(),
            colour: 1,
        });
        for (colour, label, dashed) in [(0, "traces", false), (1, "simulated", true)] {
            let points: Vec<(f64, f64)> = quantiles
                .iter()
                .map(|(q, s)| (*q, if colour == 0 { s.observed } else { s.simulated }))
                .collect();
            panel.markers.push(Markers {
                label: String::new(),
                points: points.clone(),
                colour,
                shape: Shape::Circle,
            });
            panel.lines.push(Line {
                label: label.into(),
                points,
                colour,
                dashed,
            });
        }
        panels.push(panel);
    }
    Figure {
        name: "calibration".into(),
        title: format!("{}: latency percentiles, traces against the replay", c.model),
        panels,
    }
}
