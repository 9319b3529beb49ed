//! Values as a person reads them: a latency of 9 309 342 ms is "2.59 h", 0.85 ms is "850 µs", an
//! error rate of 0.0042 is "0.42 %", 12 400 requests per second are "12.4k/s". Three
//! significant digits; an estimate's ± half-width of its 95 % CI is in the unit of its mean
//! ("2.61 ±0.04 s"). Only what people read uses this: JSON and CSV keep the raw numbers.

use crate::results::metric::Unit;
use crate::stats::Estimate;

/// What a value measures, which decides how it is scaled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quantity {
    /// A duration given in milliseconds: shown in µs, ms, s, min or h by its size.
    Millis,
    /// A duration given in seconds: shown like [`Quantity::Millis`].
    Seconds,
    /// A share from 0 to 1: shown as a percentage.
    Share,
    /// Events per second: "12.4/s", "12.4k/s"; fewer than one a second per minute or per hour.
    Rate,
    /// A plain number (a queue length, an amplification): "3.20", "12.4k".
    Number,
}

impl Quantity {
    /// The quantity of a metric measured in `unit`, a count taken as a plain number.
    pub fn of(unit: Unit) -> Quantity {
        match unit {
            Unit::Millis => Quantity::Millis,
            Unit::Share => Quantity::Share,
            Unit::Seconds => Quantity::Seconds,
            Unit::Count => Quantity::Number,
        }
    }
}

/// A value with nothing known about its spread: "2.59 h"; "–" when there is none.
pub fn value(v: f64, quantity: Quantity) -> String {
    shown(v, None, quantity)
}

/// An estimate: its mean with the half-width of its 95 % CI in the same unit ("2.61 ±0.04 s"),
/// the mean alone when it has no CI, "–" when it has no value.
pub fn estimate(e: &Estimate, quantity: Quantity) -> String {
    let ci = (e.n >= 2 && e.ci95.is_finite()).then_some(e.ci95);
    shown(e.mean, ci, quantity)
}

/// A change: the value with its sign always written ("+1.20 ±0.05 s", "-3.00 %").
pub fn change(v: f64, ci: f64, quantity: Quantity) -> String {
    if !v.is_finite() {
        return "–".into();
    }
    let text = shown(v, ci.is_finite().then_some(ci), quantity);
    if v >= 0.0 {
        format!("+{text}")
    } else {
        text
    }
}

/// A total: every digit, in groups of three ("1,234,567").
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

/// `mean` (and `ci`) scaled into the unit that suits the mean.
fn shown(mean: f64, ci: Option<f64>, quantity: Quantity) -> String {
    if !mean.is_finite() {
        return "–".into();
    }
    let (factor, unit) = scale(mean, quantity);
    let decimals = match quantity {
        _ if mean == 0.0 => 0,
        // Hundredths of a percent are fine enough for any share.
        Quantity::Share => decimals(mean * factor).min(2),
        _ => decimals(mean * factor),
    };
    match ci {
        Some(ci) => format!("{:.decimals$} ±{:.decimals$}{unit}", mean * factor, ci * factor),
        None => format!("{:.decimals$}{unit}", mean * factor),
    }
}

/// Decimals for three significant digits of `v` (none from 100 up).
fn decimals(v: f64) -> usize {
    let magnitude = v.abs();
    if magnitude >= 99.95 {
        0
    } else if magnitude >= 9.995 {
        1
    } else if magnitude >= 0.9995 {
        2
    } else {
        3
    }
}

/// The units a duration can be shown in: its factor from milliseconds, its name, and the size
/// (in ms) from which it is used.
const DURATIONS: &[(f64, &str, f64)] = &[
    (1000.0, " µs", 0.0),
    (1.0, " ms", 1.0),
    (1e-3, " s", 1000.0),
    (1.0 / 60_000.0, " min", 60_000.0),
    (1.0 / 3_600_000.0, " h", 3_600_000.0),
];

/// The units a rate can be shown in: its factor from events per second, its name, and the size
/// (per second) from which it is used.
const RATES: &[(f64, &str, f64)] = &[
    (3600.0, "/h", 0.0),
    (60.0, "/min", 1.0 / 60.0),
    (1.0, "/s", 1.0),
    (1e-3, "k/s", 1000.0),
    (1e-6, "M/s", 1e6),
];

/// The scales of a plain number: factor, suffix, and the size from which it is used.
const THOUSANDS: &[(f64, &str, f64)] = &[(1.0, "", 0.0), (1e-3, "k", 1000.0), (1e-6, "M", 1e6)];

/// The factor to multiply `mean` by and the unit written after it: the largest unit `mean`
/// reaches, or the next when three significant digits would need four (999.6 ms is "1.00 s", not
/// "1000 ms"; 59.97 s stays "60.0 s").
fn scale(mean: f64, quantity: Quantity) -> (f64, String) {
    let pick = |v: f64, units: &[(f64, &'static str, f64)]| {
        let size = v.abs();
        let mut i = units.iter().rposition(|(_, _, from)| size >= *from).unwrap_or(0);
        if i + 1 < units.len() && rounded(size * units[i].0) >= 1000.0 {
            i += 1;
        }
        (units[i].0, units[i].1)
    };
    match quantity {
        // Nothing to scale: zero in the unit the value was given in.
        Quantity::Millis if mean == 0.0 => (1.0, " ms".into()),
        Quantity::Seconds if mean == 0.0 => (1.0, " s".into()),
        Quantity::Millis => {
            let (factor, unit) = pick(mean, DURATIONS);
            (factor, unit.into())
        }
        Quantity::Seconds => {
            let (factor, unit) = scale(mean * 1000.0, Quantity::Millis);
            (factor * 1000.0, unit)
        }
        Quantity::Share => (100.0, " %".into()),
        Quantity::Rate if mean == 0.0 => (1.0, "/s".into()),
        Quantity::Rate => {
            let (factor, unit) = pick(mean, RATES);
            (factor, unit.into())
        }
        Quantity::Number => {
            let (factor, suffix) = pick(mean, THOUSANDS);
            (factor, suffix.into())
        }
    }
}

/// `v` (positive) rounded to three significant digits, as it is shown.
fn rounded(v: f64) -> f64 {
    if v == 0.0 {
        return 0.0;
    }
    let step = 10f64.powf(v.log10().floor() - 2.0);
    (v / step).round() * step
}

#[cfg(test)]
mod tests {
    use super::*;

    fn est(mean: f64, ci95: f64) -> Estimate {
        Estimate {
            mean,
            ci95,
            min: mean,
            max: mean,
            n: 2,
            samples: vec![mean, mean],
        }
    }

    #[test]
    fn a_latency_of_hours_is_shown_in_hours() {
        assert_eq!(value(9_309_342.0, Quantity::Millis), "2.59 h");
    }

    #[test]
    fn a_day_long_latency_stays_in_hours() {
        assert_eq!(value(86_400_000.0, Quantity::Millis), "24.0 h");
    }

    #[test]
    fn a_latency_under_a_millisecond_is_shown_in_microseconds() {
        assert_eq!(value(0.85, Quantity::Millis), "850 µs");
    }

    #[test]
    fn the_half_width_is_in_the_unit_of_the_mean() {
        assert_eq!(estimate(&est(59_967.0, 144.0), Quantity::Millis), "60.0 ±0.1 s");
        assert_eq!(estimate(&est(2_610.0, 40.0), Quantity::Millis), "2.61 ±0.04 s");
    }

    #[test]
    fn a_value_that_rounds_up_to_the_next_unit_is_shown_in_it() {
        assert_eq!(value(999.6, Quantity::Millis), "1.00 s");
        assert_eq!(value(999.4, Quantity::Millis), "999 ms");
        assert_eq!(value(0.99996, Quantity::Millis), "1.00 ms");
        assert_eq!(value(999_600.0, Quantity::Rate), "1.00M/s");
    }

    #[test]
    fn minutes_lie_between_a_minute_and_an_hour() {
        assert_eq!(value(252_000.0, Quantity::Millis), "4.20 min");
        assert_eq!(value(12.3, Quantity::Millis), "12.3 ms");
    }

    #[test]
    fn seconds_are_scaled_like_milliseconds() {
        assert_eq!(value(9_309.342, Quantity::Seconds), "2.59 h");
        assert_eq!(value(0.5, Quantity::Seconds), "500 ms");
    }

    #[test]
    fn a_share_is_a_percentage() {
        assert_eq!(value(0.0042, Quantity::Share), "0.42 %");
        assert_eq!(value(0.042, Quantity::Share), "4.20 %");
        assert_eq!(estimate(&est(0.25, 0.012), Quantity::Share), "25.0 ±1.2 %");
        assert_eq!(value(1.0, Quantity::Share), "100 %");
    }

    #[test]
    fn a_large_rate_is_in_thousands_per_second() {
        assert_eq!(value(12_400.0, Quantity::Rate), "12.4k/s");
        assert_eq!(value(12.4, Quantity::Rate), "12.4/s");
        assert_eq!(estimate(&est(12_400.0, 300.0), Quantity::Rate), "12.4 ±0.3k/s");
    }

    #[test]
    fn a_rate_under_one_a_second_is_per_minute_or_per_hour() {
        assert_eq!(value(1.0 / 12.0, Quantity::Rate), "5.00/min");
        assert_eq!(value(1.0 / 3600.0, Quantity::Rate), "1.00/h");
        assert_eq!(value(0.0, Quantity::Rate), "0/s");
    }

    #[test]
    fn a_large_number_is_in_thousands_or_millions() {
        assert_eq!(value(2_345_678.0, Quantity::Number), "2.35M");
        assert_eq!(value(3.2, Quantity::Number), "3.20");
    }

    #[test]
    fn zero_is_written_without_decimals() {
        assert_eq!(value(0.0, Quantity::Millis), "0 ms");
        assert_eq!(value(0.0, Quantity::Seconds), "0 s");
        assert_eq!(value(0.0, Quantity::Share), "0 %");
        assert_eq!(estimate(&est(0.0, 0.0), Quantity::Number), "0 ±0");
    }

    #[test]
    fn a_total_keeps_every_digit_in_groups_of_three() {
        assert_eq!(count(9_309_342), "9,309,342");
        assert_eq!(count(999), "999");
        assert_eq!(count(1000), "1,000");
    }

    #[test]
    fn a_change_always_carries_its_sign() {
        assert_eq!(change(1_200.0, 50.0, Quantity::Millis), "+1.20 ±0.05 s");
        assert_eq!(change(-0.03, f64::NAN, Quantity::Share), "-3.00 %");
    }

    #[test]
    fn no_value_is_a_dash() {
        assert_eq!(value(f64::NAN, Quantity::Millis), "–");
        assert_eq!(estimate(&est(f64::NAN, 1.0), Quantity::Rate), "–");
    }
}
