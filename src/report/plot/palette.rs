//! The colours of lines: twelve that stay distinct to readers with any common colour-vision
//! deficiency, a grey for reference lines, and the shades of failures and heatmaps.
//!
//! Sources: the seven saturated colours of Okabe & Ito, "Color Universal Design" (2002,
//! <https://jfly.uni-koeln.de/color/>; their yellow is too pale for lines on white and is left
//! out), completed with five of Paul Tol's "muted" scheme (Tol, "Colour schemes", SRON technical
//! note, 2021, <https://personal.sron.nl/~pault/>) chosen away from the Okabe–Ito hues; heatmaps
//! use Tol's sequential "YlOrBr".

use plotters::style::RGBColor;

/// Series colours, in the order lines get them.
const SERIES: [RGBColor; 12] = [
    RGBColor(0, 114, 178),   // Okabe–Ito blue
    RGBColor(230, 159, 0),   // Okabe–Ito orange
    RGBColor(0, 158, 115),   // Okabe–Ito bluish green
    RGBColor(213, 94, 0),    // Okabe–Ito vermillion
    RGBColor(204, 121, 167), // Okabe–Ito reddish purple
    RGBColor(86, 180, 233),  // Okabe–Ito sky blue
    RGBColor(51, 34, 136),   // Tol muted indigo
    RGBColor(153, 153, 51),  // Tol muted olive
    RGBColor(136, 34, 85),   // Tol muted wine
    RGBColor(221, 204, 119), // Tol muted sand
    RGBColor(17, 119, 51),   // Tol muted green
    RGBColor(0, 0, 0),       // Okabe–Ito black
];

/// How many distinct series colours there are.
pub const DISTINCT: usize = SERIES.len();
/// Blue: a figure's main line.
pub const BLUE: usize = 0;
/// Orange: a second line, or "uncertain".
pub const ORANGE: usize = 1;
/// Green: "meets every SLO".
pub const GREEN: usize = 2;
/// Vermillion: breaches.
pub const RED: usize = 3;
/// Black: the baseline, which no scenario shares.
pub const BLACK: usize = 11;
/// Not a series: grey, for reference lines (trends, bounds, the half mark).
pub const REFERENCE: usize = usize::MAX;

/// The colour of palette index `i` (series colours repeat after [`DISTINCT`]).
pub fn colour(i: usize) -> RGBColor {
    if i == REFERENCE {
        RGBColor(119, 119, 119)
    } else {
        SERIES[i % DISTINCT]
    }
}

/// The colour of scenario `k` (1-based; 0 is the baseline) in a comparison: the baseline is
/// black and the scenarios take the other eleven colours in turn, so none is ever the baseline's.
pub fn scenario_colour(k: usize) -> usize {
    if k == 0 {
        BLACK
    } else {
        (k - 1) % (DISTINCT - 1)
    }
}

/// The shade of windows in which every request failed.
pub const FAILURE: RGBColor = RGBColor(213, 94, 0);

/// Tol's "YlOrBr", light to dark.
const SEQUENTIAL: [RGBColor; 9] = [
    RGBColor(255, 255, 229),
    RGBColor(255, 247, 188),
    RGBColor(254, 227, 145),
    RGBColor(254, 196, 79),
    RGBColor(251, 154, 41),
    RGBColor(236, 112, 20),
    RGBColor(204, 76, 2),
    RGBColor(153, 52, 4),
    RGBColor(102, 37, 6),
];

/// The heatmap colour of `share` (0 the lowest value, 1 the highest), and whether it is dark
/// (text on it is written in white).
pub fn heat(share: f64) -> (RGBColor, bool) {
    let last = SEQUENTIAL.len() - 1;
    let at = (share.clamp(0.0, 1.0) * last as f64).round() as usize;
    (SEQUENTIAL[at], at >= 6)
}
