//! The knee of a sweep: the first point where a metric leaves its low-load trend.
//!
//! The trend is the straight line through the first two points, given from the low-load end (the
//! system at low load, with no added latency, or with the most capacity, where cost grows linearly
//! if at all). The knee is the first later point whose value is worse than the trend by more than
//! `threshold` (a share: 0.1 = 10 %), worse in the metric's direction (above for latency, below for
//! throughput). A trend at or below zero is no trend for a metric that cannot be negative (the
//! line has left the metric's range), so no point is a knee against it. Theory can apply the same
//! rule to analytic values, which is how the tests check it.

use crate::results::metric::Direction;

/// Index of the first point (from the third on) more than `threshold` above the line through
/// the first two; `None` when there are fewer than three usable points or none departs.
pub fn knee(points: &[(f64, f64)], threshold: f64) -> Option<usize> {
    knee_towards(points, threshold, Direction::RisesWhenWorse)
}

/// [`knee`] for a metric that is worse in direction `worse`: the first point (from the third on)
/// worse than the line through the first two by more than `threshold` of the line's value, where
/// that value is positive.
pub fn knee_towards(points: &[(f64, f64)], threshold: f64, worse: Direction) -> Option<usize> {
    let (x0, y0) = *points.first()?;
    let (x1, y1) = *points.get(1)?;
    if !(x0.is_finite() && y0.is_finite() && x1.is_finite() && y1.is_finite()) || x1 == x0 {
        return None;
    }
    let slope = (y1 - y0) / (x1 - x0);
    points.iter().enumerate().skip(2).find_map(|(i, &(x, y))| {
        let trend = y0 + slope * (x - x0);
        let limit = match worse {
            Direction::RisesWhenWorse => trend * (1.0 + threshold),
            Direction::FallsWhenWorse => trend * (1.0 - threshold),
        };
        (trend > 0.0 && y.is_finite() && worse.is_worse(y, limit)).then_some(i)
    })
}

/// The trend line's value at `x` (for printing beside each point).
pub fn trend_at(points: &[(f64, f64)], x: f64) -> Option<f64> {
    let (x0, y0) = *points.first()?;
    let (x1, y1) = *points.get(1)?;
    (x1 != x0).then(|| y0 + (y1 - y0) / (x1 - x0) * (x - x0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_straight_line_has_no_knee() {
        let line: Vec<(f64, f64)> = (0..10).map(|i| (i as f64, 3.0 + 2.0 * i as f64)).collect();
        assert_eq!(knee(&line, 0.1), None);
    }

    #[test]
    fn the_knee_of_the_mm1_sojourn_curve_is_where_it_leaves_the_low_load_line() {
        // W = 1/(mu - lambda) with mu = 100/s, lambda = 10, 20, ... 90/s.
        let w: Vec<(f64, f64)> = (1..10).map(|k| (10.0 * k as f64, 1.0 / (100.0 - 10.0 * k as f64))).collect();
        // Line through (10, 1/90) and (20, 1/80): at 40 it is 9.1 % below W, at 50 it is 20 % below.
        assert_eq!(knee(&w, 0.10), Some(4));
        assert_eq!(trend_at(&w, 10.0), Some(1.0 / 90.0));
    }

    #[test]
    fn no_knee_against_a_trend_at_or_below_zero() {
        // Latency falling steeply from 1 to 2 workers: the line through them is negative from 3 on,
        // and 0.2 s is not "above" it in any useful sense.
        let capacity = [(1.0, 2.0), (2.0, 1.0), (3.0, 0.2), (4.0, 0.19)];
        assert_eq!(knee(&capacity, 0.1), None);
    }

    #[test]
    fn a_throughput_knee_is_where_it_falls_below_its_trend() {
        // Throughput served = offered load up to 50/s, then flat at 50/s.
        let served: Vec<(f64, f64)> = (1..=8).map(|k| (10.0 * k as f64, f64::min(10.0 * k as f64, 50.0))).collect();
        // At 60/s offered the line says 60, the system 50: 17 % below.
        assert_eq!(knee_towards(&served, 0.1, Direction::FallsWhenWorse), Some(5));
        assert_eq!(knee(&served, 0.1), None);
    }
}
