//! Plots of results as SVG and PNG, drawn with plotters and the embedded DejaVu Sans font (so
//! text renders the same on a machine without system fonts).
//!
//! Each plot kind is a function that turns results into a [`Figure`] — panels of lines, CI bands,
//! markers, SLO bounds, timed actions, failed windows or heatmap cells — and [`svg`] /
//! [`write_png`] draw any figure. Every figure has a title naming the model, axes in human units
//! named in their labels, and a legend beside each panel.
//!
//! The concepts live apart: [`axis`] (units chosen by range, tick labels), [`palette`] (the
//! colours), [`draw`] (drawing a figure), [`compact`] (small SVG text), and the figures by what
//! they show: [`over_time`] (a run's windows), [`sweep`] (sweeps and latency ladders) and
//! [`curves`] (sizing, metastability and calibration).

mod axis;
mod compact;
mod curves;
mod draw;
mod over_time;
mod palette;
mod sweep;

pub use curves::{calibration_percentiles, metastability_curves, sizing_frontier};
pub use over_time::{
    caches_over_time, cascade, fleet_over_time, latency_over_time, scenarios_compared, stations_over_time, storm_over_time,
};
pub use sweep::{ladder, sweep_curve};

use plotters::prelude::*;
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
    /// SLO bounds: dashed horizontal lines labelled at their right end.
    pub bounds: Vec<Bound>,
    /// Timed actions: vertical marks at an x value, with a label.
    pub verticals: Vec<(f64, String)>,
    /// Timed actions that last: shaded intervals on the x axis, with a label.
    pub spans: Vec<Span>,
    /// Windows of a line in which every request failed (so it has no latency there).
    pub failed: Vec<Failed>,
    /// Names of the rows when the y axis is categorical (row k at y = k + 1); numbers otherwise.
    pub y_categories: Vec<String>,
    /// Names of the columns when the x axis is categorical (column k at x = k + 1).
    pub x_categories: Vec<String>,
    /// Heatmap cells, coloured by value (with `colour_label` naming what the colour shows).
    pub cells: Vec<Cell>,
    /// What a heatmap's colour shows, with its unit.
    pub colour_label: String,
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

/// An SLO's bound on a plotted metric: a dashed horizontal line at `y`.
#[derive(Clone, Debug)]
pub struct Bound {
    /// Drawn at the line's right end: "SLO p99 ≤ 300 ms".
    pub label: String,
    /// The bound, in the axis's unit.
    pub y: f64,
    /// Palette index of the line it bounds.
    pub colour: usize,
}

/// An interval of the x axis with a label: (from, to, label).
pub type Span = (f64, f64, String);

/// A stretch of windows in which every request of a line failed: drawn as a shaded column, with
/// a bar in the line's colour at the top of the axis.
#[derive(Clone, Debug, PartialEq)]
pub struct Failed {
    /// Start, on the x axis.
    pub from: f64,
    /// End, on the x axis.
    pub to: f64,
    /// Palette index of the line.
    pub colour: usize,
}

/// One cell of a heatmap, centred on (x, y) with width and height 1.
#[derive(Clone, Debug)]
pub struct Cell {
    /// Column centre.
    pub x: f64,
    /// Row centre.
    pub y: f64,
    /// What the colour shows (NaN: no value, the cell is left blank).
    pub value: f64,
    /// Written in the cell.
    pub text: String,
    /// An SLO is breached there: the cell is outlined and marked.
    pub breached: bool,
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

/// The figure as an SVG document, compact (see [`compact`]).
pub fn svg(figure: &Figure) -> std::io::Result<String> {
    register_fonts();
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, size(figure)).into_drawing_area();
        draw::figure(figure, &root, draw::Dashes::Marked).map_err(std::io::Error::other)?;
    }
    Ok(compact::compact(&out))
}

/// Draw the figure as a PNG file at `path`, atomically: into a temporary file beside it
/// (whose name also ends in `.png`, which tells the encoder the format), then renamed.
pub fn write_png(figure: &Figure, path: &Path) -> std::io::Result<()> {
    register_fonts();
    let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = path.with_file_name(format!(".{file_name}.tmp-{}.png", std::process::id()));
    let drawn = {
        let root = BitMapBackend::new(&tmp, size(figure)).into_drawing_area();
        draw::figure(figure, &root, draw::Dashes::Drawn).map_err(std::io::Error::other)
    };
    match drawn.and_then(|()| std::fs::rename(&tmp, path)) {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
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
