//! Changing a model by path: `"links.api -> pg.latency.add": "10ms"`, `"clients.web.open.rate.scale": 1.5`,
//! `"databases.pg.data_factor": 1.4`. Changes are applied to the model's JSON before it is parsed
//! and validated, so a changed model gets exactly the checks of a written one.

use crate::model::units::{parse_duration, parse_rate};
use crate::model::Dist;
use serde_json::{Map, Value};

/// What a change does to the value at its path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    /// Replace the value.
    Set,
    /// Add to a number, a duration, a rate or a distribution (a shift).
    Add,
    /// Multiply a number, a duration, a rate or a distribution.
    Scale,
}

/// Split "a.b.c.add" into the path to the value and the operation.
pub fn split_operation(path: &str) -> (&str, Operation) {
    if let Some(p) = path.strip_suffix(".add") {
        (p, Operation::Add)
    } else if let Some(p) = path.strip_suffix(".scale") {
        (p, Operation::Scale)
    } else if let Some(p) = path.strip_suffix(".set") {
        (p, Operation::Set)
    } else {
        (path, Operation::Set)
    }
}

/// One step of a path: an object key, or an array index written `key[3]`.
enum Segment<'a> {
    Key(&'a str),
    Index(usize),
}

/// "services.api.endpoints.checkout[1].timeout" → keys and indices.
fn segments(path: &str) -> Result<Vec<Segment<'_>>, String> {
    let mut out = Vec::new();
    for part in path.split('.') {
        let (key, mut rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if key.is_empty() && rest.is_empty() {
            return Err(format!("empty segment in path \"{path}\""));
        }
        if !key.is_empty() {
            out.push(Segment::Key(key));
        }
        while let Some(after) = rest.strip_prefix('[') {
            let close = after.find(']').ok_or_else(|| format!("unclosed \"[\" in path \"{path}\""))?;
            let index = after[..close]
                .parse()
                .map_err(|_| format!("expected an index like [0] in path \"{path}\", got [{}]", &after[..close]))?;
            out.push(Segment::Index(index));
            rest = &after[close + 1..];
        }
        if !rest.is_empty() {
            return Err(format!("unexpected \"{rest}\" in path \"{path}\""));
        }
    }
    Ok(out)
}

/// Edit distance between two short strings, to suggest the key that was meant.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substitute.min(row[j] + 1).min(previous + 1);
        }
    }
    row[b.len()]
}

/// "no key "x" at services.api; did you mean "y"? (keys: ...)"
fn missing_key(map: &Map<String, Value>, key: &str, at: &str) -> String {
    let nearest = map.keys().min_by_key(|k| edit_distance(k, key));
    let mut message = format!("no \"{key}\" at {}", if at.is_empty() { "the top level" } else { at });
    if let Some(n) = nearest.filter(|n| edit_distance(n, key) <= n.len().max(key.len()) / 2 + 1) {
        message.push_str(&format!("; did you mean \"{n}\"?"));
    }
    let keys: Vec<_> = map.keys().map(|k| format!("\"{k}\"")).collect();
    if !keys.is_empty() {
        message.push_str(&format!(" (there: {})", keys.join(", ")));
    }
    message
}

/// Apply one change to the model's JSON. `path` may end in `.add`, `.scale` or `.set`.
/// A `set` may create the last key (a field left to its default); `add` and `scale` need a value.
pub fn apply_change(model: &mut Value, path: &str, change: &Value) -> Result<(), String> {
    let (value_path, operation) = split_operation(path);
    let segments = segments(value_path)?;
    let Some((last, parents)) = segments.split_last() else {
        return Err("expected a path like \"services.api.workers\"".into());
    };
    let mut node = model;
    let mut at = String::new();
    for segment in parents {
        node = step(node, segment, &at)?;
        at = extend(&at, segment);
    }
    match (last, operation) {
        (Segment::Key(key), Operation::Set) => match node {
            Value::Object(map) => {
                map.insert(key.to_string(), change.clone());
                Ok(())
            }
            _ => Err(format!("{at} is not an object, so it has no \"{key}\"")),
        },
        (segment, operation) => {
            let target = step(node, segment, &at)?;
            *target = match operation {
                Operation::Set => change.clone(),
                Operation::Add => add(target, change)?,
                Operation::Scale => scale(target, change)?,
            };
            Ok(())
        }
    }
}

/// The value at `path` in the model's JSON (a plain path, without `.add`/`.scale`), when written.
pub fn value_at<'v>(model: &'v Value, path: &str) -> Option<&'v Value> {
    segments(path)
        .ok()?
        .iter()
        .try_fold(model, |node, segment| match (segment, node) {
            (Segment::Key(key), Value::Object(map)) => map.get(*key),
            (Segment::Index(i), Value::Array(items)) => items.get(*i),
            _ => None,
        })
}

/// The path so far with one more segment, for messages.
fn extend(at: &str, segment: &Segment) -> String {
    match segment {
        Segment::Key(k) if at.is_empty() => k.to_string(),
        Segment::Key(k) => format!("{at}.{k}"),
        Segment::Index(i) => format!("{at}[{i}]"),
    }
}

/// Move one segment down, explaining what is there when the segment is not.
fn step<'v>(node: &'v mut Value, segment: &Segment, at: &str) -> Result<&'v mut Value, String> {
    match (segment, node) {
        (Segment::Key(key), Value::Object(map)) => {
            if !map.contains_key(*key) {
                return Err(missing_key(map, key, at));
            }
            Ok(map.get_mut(*key).expect("checked above"))
        }
        (Segment::Index(i), Value::Array(items)) => {
            let len = items.len();
            items.get_mut(*i).ok_or_else(|| format!("{at} has {len} items, no [{i}]"))
        }
        (Segment::Key(key), _) => Err(format!("{at} is not an object, so it has no \"{key}\"")),
        (Segment::Index(i), _) => Err(format!("{at} is not a list, so it has no [{i}]")),
    }
}

/// A factor: a JSON number, finite and at least 0.
fn factor(change: &Value) -> Result<f64, String> {
    change
        .as_f64()
        .filter(|k| k.is_finite() && *k >= 0.0)
        .ok_or_else(|| format!("expected a scale factor (a number of at least 0), got {change}"))
}

/// Multiply a number, rate, duration or distribution by the factor in `change`.
pub fn scale(value: &Value, change: &Value) -> Result<Value, String> {
    let k = factor(change)?;
    match value {
        Value::Number(n) if n.is_u64() || n.is_i64() => Ok(Value::from((n.as_f64().unwrap_or(0.0) * k).round() as i64)),
        Value::Number(n) => Ok(Value::from(n.as_f64().unwrap_or(0.0) * k)),
        Value::String(text) if text.contains('/') => {
            let rate = parse_rate(text).map_err(|why| format!("cannot scale \"{text}\": {why}"))?;
            Ok(Value::from(format!("{}/s", rate * k)))
        }
        Value::String(text) => {
            let dist = Dist::parse(text).map_err(|why| format!("cannot scale \"{text}\": {why}"))?;
            Ok(Value::from(dist.scaled(k).to_string()))
        }
        other => Err(format!(
            "cannot scale {other}: expected a number, a rate, a duration or a distribution"
        )),
    }
}

/// Add `change` to a number, a rate, a duration or a distribution (shifting it).
pub fn add(value: &Value, change: &Value) -> Result<Value, String> {
    match (value, change) {
        (Value::Number(a), Value::Number(b)) if a.is_i64() && b.is_i64() => {
            Ok(Value::from(a.as_i64().unwrap_or(0).saturating_add(b.as_i64().unwrap_or(0))))
        }
        (Value::Number(a), Value::Number(b)) => Ok(Value::from(a.as_f64().unwrap_or(0.0) + b.as_f64().unwrap_or(0.0))),
        (Value::String(text), Value::String(delta)) if text.contains('/') => {
            let rate = parse_rate(text).map_err(|why| format!("cannot add to \"{text}\": {why}"))?;
            let more = parse_rate(delta).map_err(|why| format!("cannot add \"{delta}\": {why}"))?;
            Ok(Value::from(format!("{}/s", rate + more)))
        }
        (Value::String(text), Value::String(delta)) => {
            let dist = Dist::parse(text).map_err(|why| format!("cannot add to \"{text}\": {why}"))?;
            let offset = parse_duration(delta).map_err(|why| format!("cannot add \"{delta}\": {why}"))?;
            Ok(Value::from(dist.shifted(offset as f64 / 1e9).to_string()))
        }
        (value, change) => Err(format!(
            "cannot add {change} to {value}: expected two numbers, two rates, or a duration to a duration"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn model() -> Value {
        json!({
            "clients": { "web": { "open": { "rate": "120/s" }, "calls": "api.get" } },
            "services": { "api": { "workers": 4, "endpoints": { "get": [ { "cpu": "exp(5ms)" } ] } } },
            "links": { "api -> pg": { "latency": "0.5ms" } }
        })
    }

    #[test]
    fn adding_latency_to_a_constant_link_gives_the_sum() {
        let mut m = model();
        apply_change(&mut m, "links.api -> pg.latency.add", &json!("10ms")).unwrap();
        assert_eq!(
            Dist::parse(m["links"]["api -> pg"]["latency"].as_str().unwrap()).unwrap(),
            Dist::constant(0.0105)
        );
    }

    #[test]
    fn scaling_a_rate_an_integer_and_a_distribution() {
        let mut m = model();
        apply_change(&mut m, "clients.web.open.rate.scale", &json!(1.5)).unwrap();
        apply_change(&mut m, "services.api.workers.scale", &json!(1.5)).unwrap();
        apply_change(&mut m, "services.api.endpoints.get[0].cpu.scale", &json!(2)).unwrap();
        assert_eq!(
            parse_rate(m["clients"]["web"]["open"]["rate"].as_str().unwrap()).unwrap(),
            180.0
        );
        assert_eq!(m["services"]["api"]["workers"], json!(6));
        let cpu = Dist::parse(m["services"]["api"]["endpoints"]["get"][0]["cpu"].as_str().unwrap()).unwrap();
        assert_eq!(cpu.mean_secs(), 0.010);
    }

    #[test]
    fn set_creates_a_field_left_to_its_default() {
        let mut m = model();
        apply_change(&mut m, "services.api.instances", &json!(3)).unwrap();
        assert_eq!(m["services"]["api"]["instances"], json!(3));
    }

    #[test]
    fn a_wrong_path_names_the_nearest_valid_key() {
        let mut m = model();
        let err = apply_change(&mut m, "services.apu.workers", &json!(3)).unwrap_err();
        assert!(err.contains("did you mean \"api\""), "{err}");
        let err = apply_change(&mut m, "services.api.endpoints.get[4].cpu.scale", &json!(2)).unwrap_err();
        assert!(err.contains("has 1 items"), "{err}");
        let err = apply_change(&mut m, "services.api.wrokers.add", &json!(1)).unwrap_err();
        assert!(err.contains("did you mean \"workers\""), "{err}");
    }
}
