//! Sweeps: parameters by path, each over a list or range of values, expanded into a grid of
//! variants (the first parameter outermost), and split into shards for parallel CI jobs.

use super::{Change, Variant};
use crate::model::units::{format_secs_exact, parse_duration, parse_rate};
use serde_json::Value;

/// One swept parameter: a change path (maybe ending in `.add`/`.scale`) and its values. Several
/// paths separated by commas take the same value together (e.g. the latency of two links).
#[derive(Clone, Debug)]
pub struct SweptParam {
    /// The path changed at each point.
    pub path: String,
    /// The values it takes, in order.
    pub values: Vec<Value>,
}

/// Most points of one sweep: a guard against a typo like `0..1e9/1`.
pub const MAX_POINTS: usize = 10_000;

/// Read a list of values: a JSON array, or text: `"0ms..10ms/1ms"` (a range with a step, ends
/// included), `"0.5..1.5/0.25"`, `"1..40"` (numbers without a step count in ones), `"10/s..90/s/10/s"` (rates), or a comma list `"1,2,4"` /
/// `"5ms,10ms"`.
pub fn parse_values(spec: &Value) -> Result<Vec<Value>, String> {
    match spec {
        Value::Array(items) if !items.is_empty() => Ok(items.clone()),
        Value::Array(_) => Err("expected at least one value".into()),
        Value::String(text) => parse_values_text(text),
        other => Err(format!(
            "expected a list of values or a range like \"0ms..10ms/1ms\", got {other}"
        )),
    }
}

/// The textual forms of [`parse_values`].
pub fn parse_values_text(text: &str) -> Result<Vec<Value>, String> {
    let text = text.trim();
    let Some((start, rest)) = text.split_once("..") else {
        return Ok(text.split(',').map(|v| scalar(v.trim())).collect());
    };
    // The step follows the last "/" that is not a rate's own unit separator.
    let slashes: Vec<usize> = rest.match_indices('/').map(|(i, _)| i).collect();
    let split = match slashes.len() {
        // A range of plain numbers without a step counts in ones: "1..40".
        0 if matches!(Kind::of(start.trim()), Ok(Kind::Number)) => {
            return parse_values_text(&format!("{start}..{rest}/1"));
        }
        1 => slashes[0],
        3 => slashes[1],
        _ => {
            return Err(format!(
                "expected a range like \"0ms..10ms/1ms\" (start..end/step), got \"{text}\""
            ))
        }
    };
    let (end, step) = (&rest[..split], &rest[split + 1..]);
    let kind = Kind::of(start.trim())?;
    let (a, b, s) = (kind.read(start.trim())?, kind.read(end.trim())?, kind.read(step.trim())?);
    if !(a.is_finite() && b.is_finite() && s.is_finite()) {
        return Err(format!("the start, end and step of \"{text}\" must be finite"));
    }
    if s <= 0.0 {
        return Err(format!("the step of \"{text}\" must be above 0"));
    }
    if b < a {
        return Err(format!("the end of \"{text}\" is before its start"));
    }
    // Counted in floating point first: a huge range must be refused, not overflow.
    let steps = ((b - a) / s + 1e-9).floor();
    if !steps.is_finite() || steps >= MAX_POINTS as f64 {
        return Err(format!("\"{text}\" has more than {MAX_POINTS} values"));
    }
    let count = steps as usize + 1;
    Ok((0..count).map(|i| kind.write(a + s * i as f64)).collect())
}

/// A bare number or a string value.
fn scalar(text: &str) -> Value {
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() && text.parse::<i64>().is_ok() => Value::from(text.parse::<i64>().unwrap_or(0)),
        Ok(v) if v.is_finite() => Value::from(v),
        _ => Value::from(text),
    }
}

/// What a range is made of.
#[derive(Clone, Copy)]
enum Kind {
    Number,
    Duration,
    Rate,
}

impl Kind {
    fn of(text: &str) -> Result<Kind, String> {
        if text.parse::<f64>().is_ok() {
            Ok(Kind::Number)
        } else if text.contains('/') {
            Ok(Kind::Rate)
        } else if parse_duration(text).is_ok() {
            Ok(Kind::Duration)
        } else {
            Err(format!(
                "expected a number, a duration like \"5ms\" or a rate like \"10/s\", got \"{text}\""
            ))
        }
    }
    fn read(self, text: &str) -> Result<f64, String> {
        match self {
            Kind::Number => text.parse::<f64>().map_err(|_| format!("expected a number, got \"{text}\"")),
            Kind::Duration => parse_duration(text)
                .map(|ns| ns as f64 / 1e9)
                .map_err(|why| format!("{why}, got \"{text}\"")),
            Kind::Rate => parse_rate(text).map_err(|why| format!("{why}, got \"{text}\"")),
        }
    }
    fn write(self, v: f64) -> Value {
        // Round away the float noise of a + s·i so 0.1·3 reads as 0.3.
        let v = (v * 1e9).round() / 1e9;
        match self {
            Kind::Number if v.fract() == 0.0 && v.abs() < 9e15 => Value::from(v as i64),
            Kind::Number => Value::from(v),
            Kind::Duration => Value::from(format_secs_exact(v)),
            Kind::Rate => Value::from(format!("{v}/s")),
        }
    }
}

/// A value as shown in tables and variant names: strings without quotes.
pub fn show_value(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A value as a number for the knee's x axis: numbers, durations (seconds), rates (per second).
pub fn numeric(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) if s.contains('/') => parse_rate(s).ok(),
        Value::String(s) => parse_duration(s).ok().map(|ns| ns as f64 / 1e9),
        _ => None,
    }
}

/// Every combination of the parameters' values, the first parameter outermost, as variants
/// (on top of `base`, e.g. a scenario's changes).
pub fn grid(params: &[SweptParam], base: &Variant, origin: &str) -> Result<Vec<(Vec<Value>, Variant)>, String> {
    let total = params
        .iter()
        .try_fold(1usize, |n, p| n.checked_mul(p.values.len()).filter(|&n| n <= MAX_POINTS));
    if total.is_none() {
        return Err(format!("the sweep has more than {MAX_POINTS} points"));
    }
    let mut points: Vec<(Vec<Value>, Variant)> = vec![(Vec::new(), base.clone())];
    for param in params {
        points = points
            .into_iter()
            .flat_map(|(values, variant)| {
                param.values.iter().map(move |v| {
                    let mut values = values.clone();
                    values.push(v.clone());
                    let mut variant = variant.clone();
                    for path in param.path.split(',').map(str::trim) {
                        variant.changes.push(Change {
                            path: path.to_string(),
                            value: v.clone(),
                            origin: origin.to_string(),
                        });
                    }
                    (values, variant)
                })
            })
            .collect();
    }
    for (values, variant) in &mut points {
        let label: Vec<String> = params
            .iter()
            .zip(values.iter())
            .map(|(p, v)| format!("{}={}", p.path, show_value(v)))
            .collect();
        variant.name = if base.name.is_empty() {
            label.join(", ")
        } else {
            format!("{} {}", base.name, label.join(", "))
        };
    }
    Ok(points)
}

pub use super::shard::Shard;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_duration_range_includes_both_ends() {
        let v = parse_values_text("0ms..10ms/1ms").unwrap();
        assert_eq!(v.len(), 11);
        assert_eq!(parse_duration(v[3].as_str().unwrap()).unwrap(), 3_000_000);
        assert_eq!(parse_duration(v[10].as_str().unwrap()).unwrap(), 10_000_000);
    }

    #[test]
    fn number_rate_and_list_forms() {
        assert_eq!(
            parse_values_text("0.5..1.5/0.25").unwrap(),
            vec![json!(0.5), json!(0.75), json!(1), json!(1.25), json!(1.5)]
        );
        let rates = parse_values_text("10/s..30/s/10/s").unwrap();
        assert_eq!(
            rates
                .iter()
                .map(|r| parse_rate(r.as_str().unwrap()).unwrap())
                .collect::<Vec<_>>(),
            vec![10.0, 20.0, 30.0]
        );
        assert_eq!(parse_values_text("1,2,4").unwrap(), vec![json!(1), json!(2), json!(4)]);
        assert_eq!(parse_values_text("5ms, 10ms").unwrap(), vec![json!("5ms"), json!("10ms")]);
        assert!(parse_values_text("0..1e9/1").is_err());
        // Numbers without a step count in ones; durations must say their step.
        assert_eq!(
            parse_values_text("1..4").unwrap(),
            vec![json!(1), json!(2), json!(3), json!(4)]
        );
        assert!(parse_values_text("1ms..4ms").is_err());
        assert!(parse_values_text("5..1/1").is_err());
    }

    #[test]
    fn a_grid_has_every_combination_first_parameter_outermost() {
        let params = [
            SweptParam {
                path: "a".into(),
                values: vec![json!(1), json!(2)],
            },
            SweptParam {
                path: "b".into(),
                values: vec![json!(10), json!(20), json!(30)],
            },
        ];
        let base = Variant {
            name: String::new(),
            changes: Vec::new(),
            actions: Vec::new(),
        };
        let points = grid(&params, &base, "--param").unwrap();
        let values: Vec<Vec<Value>> = points.iter().map(|(v, _)| v.clone()).collect();
        assert_eq!(values[0], vec![json!(1), json!(10)]);
        assert_eq!(values[2], vec![json!(1), json!(30)]);
        assert_eq!(values[3], vec![json!(2), json!(10)]);
        assert_eq!(points[4].1.name, "a=2, b=20");
    }
}
