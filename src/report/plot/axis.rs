//! Axes in human units: time in ms, s, min or h chosen by the run's length, latencies in ms, s,
//! min or h chosen by the largest value drawn, and short tick labels ("2.5", "14k"). The axis
//! label names the unit, so ticks carry none.

use crate::results::metric::significant;
use crate::results::RunResult;

/// A unit of time an axis can be drawn in.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TimeUnit {
    /// Its symbol: "ms", "s", "min" or "h".
    pub symbol: &'static str,
    /// Its length, seconds.
    pub seconds: f64,
}

/// The units, largest first.
const UNITS: [TimeUnit; 4] = [
    TimeUnit {
        symbol: "h",
        seconds: 3600.0,
    },
    TimeUnit {
        symbol: "min",
        seconds: 60.0,
    },
    TimeUnit {
        symbol: "s",
        seconds: 1.0,
    },
    TimeUnit {
        symbol: "ms",
        seconds: 0.001,
    },
];

/// The unit for an axis reaching `seconds`: the largest of which it holds at least ten, so a
/// day is drawn in hours, an hour in minutes, three minutes in seconds and 2.5 s in ms.
pub fn unit_for(seconds: f64) -> TimeUnit {
    UNITS
        .into_iter()
        .find(|u| seconds >= 10.0 * u.seconds)
        .unwrap_or(UNITS[UNITS.len() - 1])
}

/// The x axis of a run's windows: the factor from seconds of the run to the axis, and its label.
/// Results do not carry the clock time a daily profile starts at, so the axis is the time since
/// the start of the run.
pub fn time_axis(result: &RunResult) -> (f64, String) {
    let unit = unit_for(result.model.duration_s);
    (1.0 / unit.seconds, format!("simulated time ({})", unit.symbol))
}

/// The unit for a latency axis whose largest value is `max_ms`, and the factor from ms to it.
pub fn latency_unit(max_ms: f64) -> (TimeUnit, f64) {
    let unit = unit_for(if max_ms.is_finite() { max_ms / 1e3 } else { 0.0 });
    (unit, 1e-3 / unit.seconds)
}

/// An axis tick: three significant digits, no exponent, no trailing zeros, and thousands and
/// millions written as "k" and "M" from 10,000 on ("14k", "2.5M").
pub fn tick(v: f64) -> String {
    let (scaled, suffix) = match v.abs() {
        m if m >= 1e7 => (v / 1e6, "M"),
        m if m >= 1e4 => (v / 1e3, "k"),
        _ => (v, ""),
    };
    let text = significant(scaled);
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    };
    format!("{text}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_is_drawn_in_hours_an_hour_in_minutes_and_three_minutes_in_seconds() {
        assert_eq!(unit_for(86_400.0).symbol, "h");
        assert_eq!(unit_for(3_600.0).symbol, "min");
        assert_eq!(unit_for(180.0).symbol, "s");
        assert_eq!(unit_for(2.5).symbol, "ms");
    }

    #[test]
    fn a_latency_of_14_million_ms_is_drawn_in_minutes() {
        let (unit, k) = latency_unit(14_000_000.0);
        assert_eq!(unit.symbol, "min");
        assert_eq!(tick(14_000_000.0 * k), "233");
    }

    #[test]
    fn ticks_are_short() {
        assert_eq!(tick(2.5), "2.5");
        assert_eq!(tick(14_000.0), "14k");
        assert_eq!(tick(2_500_000.0), "2500k");
        assert_eq!(tick(25_000_000.0), "25M");
        assert_eq!(tick(300.0), "300");
    }
}
