//! Drawing a [`Figure`] on a plotters backend: per panel the axes, then heatmap cells, failed
//! windows, bands, timed actions, SLO bounds, lines and markers, each action's number badge, and
//! the legend in its own strip right of the axes (so it never hides data).

use super::axis::tick;
use super::compact::DASH_MARK;
use super::palette::{colour, heat, DISTINCT, FAILURE, REFERENCE};
use super::{shorten, Figure, Panel, Shape, FONT, LEGEND_WIDTH, PANEL_HEIGHT, TITLE_HEIGHT, WIDTH};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// How dashed lines are drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dashes {
    /// As one line carrying [`DASH_MARK`], which SVG compaction turns into a dash pattern.
    Marked,
    /// Dash by dash (bitmaps).
    Drawn,
}

pub type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;
type Chart<'a, 'b, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// Pixels between the tops of two legend entries.
const ROW: i32 = 20;
/// Radius of a timed action's number badge, pixels.
const BADGE: i32 = 8;
/// How many characters of a legend entry are shown.
const LEGEND_CHARS: usize = 28;

/// Draw `figure` on `root`.
pub fn figure<DB: DrawingBackend>(figure: &Figure, root: &DrawingArea<DB, Shift>, dashes: Dashes) -> DrawResult<DB> {
    root.fill(&WHITE)?;
    let (top, body) = root.split_vertically(TITLE_HEIGHT);
    top.draw_text(
        &figure.title,
        &(FONT, 20).into_font().style(FontStyle::Bold).color(&BLACK),
        (14, 12),
    )?;
    let areas = body.split_evenly((figure.panels.len().max(1), 1));
    for (panel, area) in figure.panels.iter().zip(&areas) {
        draw_panel(panel, area, dashes)?;
    }
    root.present()
}

/// The x and y ranges covering every finite value, y from 0 unless negative, with some headroom;
/// a categorical axis covers its categories.
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
    for f in &panel.failed {
        xs.extend([f.from, f.to]);
    }
    // A bound is seen against the data; timed actions do not widen the axis: one may lie far
    // past the run (they are clipped).
    ys.extend(panel.bounds.iter().map(|b| b.y));
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
    let categories = |names: &[String]| 0.5..names.len() as f64 + 0.5;
    let x = if panel.x_categories.is_empty() {
        span(&xs, 0.0)
    } else {
        categories(&panel.x_categories)
    };
    let y = if !panel.cells.is_empty() {
        categories(&panel.y_categories)
    } else {
        span(&ys, 0.08)
    };
    (x, y)
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

/// The points that change the picture: a point on the same pixel as the one before, or in the
/// middle of a straight horizontal or vertical run of pixels, is left out.
fn simplify(points: Vec<(f64, f64)>, pixel: impl Fn(&(f64, f64)) -> (i32, i32)) -> Vec<(f64, f64)> {
    let mut out: Vec<((f64, f64), (i32, i32))> = Vec::with_capacity(points.len());
    for p in points {
        let q = pixel(&p);
        if out.last().is_some_and(|l| l.1 == q) {
            continue;
        }
        if let [.., (_, a), (_, b)] = out[..] {
            let between = |a: i32, b: i32, c: i32| (a <= b && b <= c) || (a >= b && b >= c);
            let horizontal = a.1 == b.1 && b.1 == q.1 && between(a.0, b.0, q.0);
            let vertical = a.0 == b.0 && b.0 == q.0 && between(a.1, b.1, q.1);
            if horizontal || vertical {
                out.pop();
            }
        }
        out.push((p, q));
    }
    out.into_iter().map(|(p, _)| p).collect()
}

/// Positions at least `gap` apart and at most `lowest`, each as close to its wish as the others
/// allow, in the order of the wishes (pushed down from the top, then up from `lowest`).
fn spread(wishes: &[i32], gap: i32, lowest: i32) -> Vec<i32> {
    let mut order: Vec<usize> = (0..wishes.len()).collect();
    order.sort_by_key(|&i| (wishes[i], i));
    let mut out = wishes.to_vec();
    let mut last: Option<i32> = None;
    for &i in &order {
        let at = last.map_or(wishes[i], |l| wishes[i].max(l + gap));
        out[i] = at;
        last = Some(at);
    }
    let mut below = lowest + gap;
    for &i in order.iter().rev() {
        out[i] = out[i].min(below - gap);
        below = out[i];
    }
    out
}

/// A line through `points`, solid or dashed.
fn path<DB: DrawingBackend>(
    chart: &mut Chart<'_, '_, DB>,
    points: Vec<(f64, f64)>,
    ink: RGBColor,
    width: u32,
    dashed: bool,
    dashes: Dashes,
) -> DrawResult<DB> {
    let points = simplify(points, |p| chart.backend_coord(p));
    let style = ShapeStyle::from(&ink).stroke_width(width);
    if points.len() == 1 {
        chart.draw_series(std::iter::once(Circle::new(points[0], 2, style.filled())))?;
    } else if !dashed {
        chart.draw_series(LineSeries::new(points, style))?;
    } else if dashes == Dashes::Marked {
        chart.draw_series(LineSeries::new(points, ink.mix(DASH_MARK).stroke_width(width)))?;
    } else {
        chart.draw_series(DashedLineSeries::new(points, 6, 4, style))?;
    }
    Ok(())
}

/// A timed action on the axes: where it starts, where it ends (a span) and what it does.
struct Action<'a> {
    from: f64,
    to: Option<f64>,
    what: &'a str,
}

/// The panel's timed actions on the axis, in order of time: they are numbered from 1 so.
fn actions(panel: &Panel, x_low: f64, x_high: f64) -> Vec<Action<'_>> {
    let mut out: Vec<Action> = panel
        .spans
        .iter()
        .map(|(from, to, what)| Action {
            from: from.max(x_low),
            to: Some(to.min(x_high)),
            what,
        })
        .filter(|a| a.to.is_some_and(|to| a.from < to))
        .chain(
            panel
                .verticals
                .iter()
                .filter(|v| v.0 >= x_low && v.0 <= x_high)
                .map(|(x, what)| Action {
                    from: *x,
                    to: None,
                    what,
                }),
        )
        .collect();
    out.sort_by(|a, b| a.from.total_cmp(&b.from));
    out
}

/// Pixels between two names written at the right ends of lines.
const LABEL_GAP: i32 = 13;

/// Whether lines would share a look (colour and dash): then each is named at its right end.
fn labels_at_ends(panel: &Panel) -> bool {
    let mut seen = std::collections::HashSet::new();
    panel
        .lines
        .iter()
        .filter(|l| !l.label.is_empty())
        .any(|l| !seen.insert((l.colour % DISTINCT, l.colour == REFERENCE, l.dashed)))
}

fn draw_panel<DB: DrawingBackend>(panel: &Panel, area: &DrawingArea<DB, Shift>, dashes: Dashes) -> DrawResult<DB> {
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
    let category = |names: &[String], v: f64| {
        let at = v.round();
        match names.get((at as usize).wrapping_sub(1)) {
            Some(name) if (v - at).abs() < 1e-6 && at >= 1.0 => shorten(name, 20),
            _ => String::new(),
        }
    };
    let x_tick = |v: &f64| {
        if panel.x_categories.is_empty() {
            tick(*v)
        } else {
            category(&panel.x_categories, *v)
        }
    };
    let y_tick = |v: &f64| {
        if panel.y_categories.is_empty() {
            tick(*v)
        } else {
            category(&panel.y_categories, *v)
        }
    };
    let mut mesh = chart.configure_mesh();
    mesh.x_desc(panel.x_label.as_str())
        .y_desc(panel.y_label.as_str())
        .x_label_formatter(&x_tick)
        .y_label_formatter(&y_tick)
        .label_style((FONT, 13))
        .axis_desc_style((FONT, 14))
        .max_light_lines(1)
        .light_line_style(RGBColor(240, 240, 240))
        .bold_line_style(RGBColor(215, 215, 215));
    if !panel.y_categories.is_empty() {
        mesh.y_labels(panel.y_categories.len() + 2);
    }
    if !panel.x_categories.is_empty() {
        mesh.x_labels(panel.x_categories.len() + 2);
    }
    if !panel.cells.is_empty() {
        mesh.disable_mesh();
    }
    mesh.draw()?;
    let heat_range = draw_cells(panel, &mut chart)?;
    for f in &panel.failed {
        let (from, to) = (f.from.max(x_low), f.to.min(x_high));
        if from >= to {
            continue;
        }
        let column = Rectangle::new([(from, y_low), (to, y_high)], FAILURE.mix(0.22).filled());
        let top = y_high - (y_high - y_low) * 0.025;
        let bar = Rectangle::new([(from, top), (to, y_high)], colour(f.colour).filled());
        chart.draw_series([column, bar])?;
    }
    for band in &panel.bands {
        for seg in segments(&band.points, |p| p.0.is_finite() && p.1.is_finite() && p.2.is_finite()) {
            let outline: Vec<(f64, f64)> = seg
                .iter()
                .map(|p| (p.0, p.2))
                .chain(seg.iter().rev().map(|p| (p.0, p.1)))
                .collect();
            // Bands shade an interval around lines; on a categorical axis they are the bars themselves.
            let opacity = if panel.y_categories.is_empty() { 0.18 } else { 0.7 };
            chart.draw_series(std::iter::once(Polygon::new(
                outline,
                colour(band.colour).mix(opacity).filled(),
            )))?;
        }
    }
    let actions = actions(panel, x_low, x_high);
    for a in &actions {
        match a.to {
            Some(to) => {
                let shade = BLACK.mix(0.07).filled();
                chart.draw_series(std::iter::once(Rectangle::new([(a.from, y_low), (to, y_high)], shade)))?;
            }
            None => path(
                &mut chart,
                vec![(a.from, y_low), (a.from, y_high)],
                colour(REFERENCE),
                1,
                true,
                dashes,
            )?,
        }
    }
    for b in &panel.bounds {
        path(
            &mut chart,
            vec![(x_low, b.y), (x_high, b.y)],
            colour(b.colour),
            1,
            true,
            dashes,
        )?;
    }
    for line in panel.lines.iter().filter(|l| !l.label.is_empty()) {
        for seg in segments(&line.points, |p| p.0.is_finite() && p.1.is_finite()) {
            path(&mut chart, seg, colour(line.colour), 2, line.dashed, dashes)?;
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
    // Texts over the axes, placed in pixels relative to the panel.
    let (base_x, base_y) = area.get_base_pixel();
    let at = |x: f64, y: f64| {
        let (px, py) = chart.backend_coord(&(x, y));
        (px - base_x, py - base_y)
    };
    draw_badges(&actions, area, &at, at(x_low, y_high).1)?;
    let label = |c: RGBColor, h: HPos| (FONT, 12).into_font().color(&c).pos(Pos::new(h, VPos::Bottom));
    let right = at(x_high, y_low).0;
    let bound_ys = spread(
        &panel.bounds.iter().map(|b| at(x_low, b.y).1 - 2).rev().collect::<Vec<_>>(),
        14,
        at(x_low, y_low).1,
    );
    for (b, y) in panel.bounds.iter().rev().zip(bound_ys) {
        area.draw(&Text::new(
            b.label.clone(),
            (right - 4, y),
            label(colour(b.colour), HPos::Right),
        ))?;
    }
    let ends = labels_at_ends(panel);
    if ends {
        let mut named: Vec<(&super::Line, (i32, i32))> = panel
            .lines
            .iter()
            .filter(|l| !l.label.is_empty())
            .filter_map(|l| {
                let last = l.points.iter().rev().find(|p| p.0.is_finite() && p.1.is_finite())?;
                Some((l, at(last.0, last.1)))
            })
            .collect();
        // As many names as fit one above the other beside the plot; when there are more, the
        // highest lines keep theirs (the worst latencies) and the rest are counted.
        let (top, lowest) = (at(x_low, y_high).1, at(x_low, y_low).1 + 30);
        let room = usize::try_from((lowest - top) / LABEL_GAP).unwrap_or(0).max(1);
        let mut hidden = 0;
        if named.len() > room {
            named.sort_by_key(|(_, p)| p.1);
            hidden = named.len() - (room - 1);
            named.truncate(room - 1);
        }
        let ys = spread(
            &named.iter().map(|(_, p)| p.1 + 6).collect::<Vec<_>>(),
            LABEL_GAP,
            lowest - if hidden > 0 { LABEL_GAP } else { 0 },
        );
        for ((line, p), y) in named.iter().zip(ys) {
            let text = shorten(&line.label, 24);
            area.draw(&Text::new(text.clone(), (p.0 + 4, y), label(colour(line.colour), HPos::Left)))?;
        }
        if hidden > 0 {
            let x = at(x_high, y_low).0 + 4;
            let text = format!("+{hidden} more lower (timeseries.csv)");
            area.draw(&Text::new(text, (x, lowest), label(RGBColor(90, 90, 90), HPos::Left)))?;
        }
    }
    draw_legend(panel, &legend_area, &actions, heat_range, ends)
}

/// The heatmap's cells, each filled with the colour of its value and written with its text;
/// a breaching cell is outlined in vermillion. Returns the range of values the colours span.
fn draw_cells<DB: DrawingBackend>(
    panel: &Panel,
    chart: &mut Chart<'_, '_, DB>,
) -> Result<Option<(f64, f64)>, DrawingAreaErrorKind<DB::ErrorType>> {
    let finite = panel.cells.iter().map(|c| c.value).filter(|v| v.is_finite());
    let low = finite.clone().fold(f64::INFINITY, f64::min);
    let high = finite.fold(f64::NEG_INFINITY, f64::max);
    if low > high {
        return Ok(None);
    }
    for c in &panel.cells {
        let corners = [(c.x - 0.5, c.y - 0.5), (c.x + 0.5, c.y + 0.5)];
        let share = if high > low { (c.value - low) / (high - low) } else { 0.5 };
        let (fill, dark) = if c.value.is_finite() { heat(share) } else { (WHITE, false) };
        chart.draw_series([
            Rectangle::new(corners, fill.filled()),
            Rectangle::new(corners, WHITE.stroke_width(1)),
        ])?;
        if c.breached {
            let inset = [(c.x - 0.46, c.y - 0.44), (c.x + 0.46, c.y + 0.44)];
            chart.draw_series(std::iter::once(Rectangle::new(inset, FAILURE.stroke_width(3))))?;
        }
        let ink = if dark { WHITE } else { BLACK };
        let style = (FONT, 13).into_font().color(&ink).pos(Pos::new(HPos::Center, VPos::Center));
        chart.draw_series(std::iter::once(Text::new(c.text.clone(), (c.x, c.y), style)))?;
    }
    Ok(Some((low, high)))
}

/// Each timed action's number in a badge at its start, at the top of the axes; a badge that
/// would touch one before it goes on the next row down, so no two overlap.
fn draw_badges<DB: DrawingBackend>(
    actions: &[Action],
    area: &DrawingArea<DB, Shift>,
    at: &impl Fn(f64, f64) -> (i32, i32),
    top: i32,
) -> DrawResult<DB> {
    let mut rows: Vec<i32> = Vec::new();
    for (k, a) in actions.iter().enumerate() {
        let x = at(a.from, 0.0).0 + BADGE + 2;
        let row = match rows.iter().position(|&right| right + 2 * BADGE + 2 <= x) {
            Some(r) => r,
            None => {
                rows.push(i32::MIN);
                rows.len() - 1
            }
        };
        rows[row] = x;
        let y = top + BADGE + 3 + row as i32 * (2 * BADGE + 3);
        area.draw(&Circle::new((x, y), BADGE, RGBColor(68, 68, 68).filled()))?;
        let number = (FONT, 11).into_font().color(&WHITE).pos(Pos::new(HPos::Center, VPos::Center));
        area.draw(&Text::new((k + 1).to_string(), (x, y), number))?;
    }
    Ok(())
}

/// How a legend entry's key is drawn.
enum Key {
    Line(RGBColor, bool),
    Swatch(RGBAColor),
    Marker(RGBColor, Shape),
    Outline,
    Badge(usize),
    Heading,
    None,
}

/// The legend, in its own strip right of the axes so it never hides data. A line, band or set of
/// markers with an empty label is drawn on the axes but has no entry (it belongs to a line that
/// has one); lines named at their right end have none either. Entries that do not fit in the
/// strip are counted in "+N more" above the timed actions.
fn draw_legend<DB: DrawingBackend>(
    panel: &Panel,
    area: &DrawingArea<DB, Shift>,
    actions: &[Action],
    heat_range: Option<(f64, f64)>,
    ends: bool,
) -> DrawResult<DB> {
    let mut entries: Vec<(Key, String)> = Vec::new();
    if let Some((low, high)) = heat_range {
        entries.push((Key::Heading, panel.colour_label.clone()));
        for i in (0..9).rev() {
            let value = low + (high - low) * i as f64 / 8.0;
            entries.push((Key::Swatch(heat(i as f64 / 8.0).0.to_rgba()), tick(value)));
        }
        if panel.cells.iter().any(|c| c.breached) {
            entries.push((Key::Outline, "SLO breached".into()));
        }
    }
    if !ends {
        for line in panel.lines.iter().filter(|l| !l.label.is_empty()) {
            entries.push((Key::Line(colour(line.colour), line.dashed), line.label.clone()));
        }
    }
    for band in panel.bands.iter().filter(|b| !b.label.is_empty()) {
        entries.push((Key::Swatch(colour(band.colour).mix(0.25)), band.label.clone()));
    }
    for m in panel.markers.iter().filter(|m| !m.label.is_empty()) {
        entries.push((Key::Marker(colour(m.colour), m.shape), m.label.clone()));
    }
    if !panel.failed.is_empty() {
        entries.push((Key::Swatch(FAILURE.mix(0.22)), "every request failed".into()));
    }
    let mut listed: Vec<(Key, String)> = Vec::new();
    if !actions.is_empty() {
        listed.push((Key::Heading, "Timed actions".into()));
        for (k, a) in actions.iter().enumerate() {
            listed.push((Key::Badge(k + 1), a.what.to_string()));
        }
    }
    // The timed actions keep their rows (their badges are on the axes); other entries that do
    // not fit are counted.
    let top = if panel.heading.is_empty() { 24 } else { 44 };
    let fits = ((PANEL_HEIGHT as i32 - top - 10) / ROW + 1) as usize;
    if listed.len() > fits / 2 {
        let more = listed.len() - (fits / 2 - 1);
        listed.truncate(fits / 2 - 1);
        listed.push((Key::None, format!("+{more} more actions")));
    }
    let room = fits - listed.len();
    if entries.len() > room {
        let more = entries.len() - (room - 1);
        entries.truncate(room - 1);
        entries.push((Key::None, format!("+{more} more")));
    }
    entries.extend(listed);
    let text = (FONT, 13).into_font().color(&BLACK).pos(Pos::new(HPos::Left, VPos::Center));
    let (sample_x, text_x) = (6, 42);
    for (i, (key, label)) in entries.iter().enumerate() {
        let y = top + i as i32 * ROW;
        match key {
            Key::Line(c, dashed) => {
                let style = c.stroke_width(2);
                if *dashed {
                    area.draw(&PathElement::new(vec![(sample_x, y), (sample_x + 12, y)], style))?;
                    area.draw(&PathElement::new(vec![(sample_x + 18, y), (sample_x + 30, y)], style))?;
                } else {
                    area.draw(&PathElement::new(vec![(sample_x, y), (sample_x + 30, y)], style))?;
                }
            }
            Key::Swatch(c) => area.draw(&Rectangle::new([(sample_x, y - 6), (sample_x + 30, y + 6)], c.filled()))?,
            Key::Marker(c, Shape::Circle) => area.draw(&Circle::new((sample_x + 15, y), 6, c.filled()))?,
            Key::Marker(c, Shape::Cross) => area.draw(&Cross::new((sample_x + 15, y), 7, c.stroke_width(3)))?,
            Key::Outline => area.draw(&Rectangle::new(
                [(sample_x, y - 6), (sample_x + 30, y + 6)],
                FAILURE.stroke_width(3),
            ))?,
            Key::Badge(k) => {
                area.draw(&Circle::new((sample_x + 15, y), BADGE, RGBColor(68, 68, 68).filled()))?;
                let number = (FONT, 11).into_font().color(&WHITE).pos(Pos::new(HPos::Center, VPos::Center));
                area.draw(&Text::new(k.to_string(), (sample_x + 15, y), number))?;
            }
            Key::Heading => {
                let bold = (FONT, 13)
                    .into_font()
                    .style(FontStyle::Bold)
                    .color(&BLACK)
                    .pos(Pos::new(HPos::Left, VPos::Center));
                area.draw(&Text::new(shorten(label, LEGEND_CHARS + 4), (sample_x, y), bold))?;
                continue;
            }
            Key::None => {}
        }
        area.draw(&Text::new(shorten(label, LEGEND_CHARS), (text_x, y), text.clone()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_wished_on_one_row_are_spread_a_gap_apart_in_their_order() {
        assert_eq!(spread(&[100, 100, 50, 105], 14, 400), vec![100, 114, 50, 128]);
    }

    #[test]
    fn labels_wished_below_the_lowest_place_are_pushed_up_a_gap_apart() {
        assert_eq!(spread(&[400, 400, 50], 10, 395), vec![385, 395, 50]);
    }

    #[test]
    fn points_on_one_pixel_or_inside_a_flat_run_are_left_out() {
        let points = vec![(0.0, 1.0), (1.0, 1.0), (2.0, 1.0), (3.0, 5.0), (3.2, 5.0)];
        let kept = simplify(points, |p| (p.0.round() as i32, p.1 as i32));
        assert_eq!(kept, vec![(0.0, 1.0), (2.0, 1.0), (3.0, 5.0)]);
    }
}
