//! Scalar values of the model format that parse while deserializing, so a bad value is reported
//! with its JSON path: durations ("250ms"), rates ("120/s"), distributions ("exp(1ms)"), counts.

use super::dist::Dist;
use super::units::{parse_duration, parse_rate, Nanos};
use super::Popularity;
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;
use std::borrow::Cow;
use std::fmt;

/// A duration written as a string with a unit ("250ms", "1.5s", "2h"), held in nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DurationValue(pub Nanos);

/// A rate written as a string with a unit ("120/s", "7200/h"), held in events per second.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RateValue(pub f64);

/// A distribution of durations ("5ms", "exp(1.2ms)", "lognormal(p50=5ms, p99=40ms)").
#[derive(Clone, Debug, PartialEq)]
pub struct DistValue(pub Dist);

/// How a cache's look-ups pick keys, written "uniform" or "zipf(s)".
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PopularityValue(pub Popularity);

/// A whole number of at least 1 (instances, workers, cores, pool size).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PositiveInt(pub u32);

/// An amount of memory written as a string with a unit ("2GB", "512MiB"), held in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ByteSize(pub u64);

/// A whole number of at least 0 (queue capacity, queries in a transaction).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NonNegativeInt(pub u32);

/// A finite number of at least 0 (traffic factors, data-size factors, multipliers).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Factor(pub f64);

/// Deserialize a string and convert it with `parse`, reporting `got "<text>"` on failure.
fn from_text<'de, D, T>(deserializer: D, what: &'static str, parse: fn(&str) -> Result<T, String>) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
{
    struct TextVisitor<T> {
        what: &'static str,
        parse: fn(&str) -> Result<T, String>,
    }
    impl<T> Visitor<'_> for TextVisitor<T> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str(self.what)
        }
        fn visit_str<E: de::Error>(self, text: &str) -> Result<T, E> {
            (self.parse)(text).map_err(|why| E::custom(format!("{why}, got \"{text}\"")))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<T, E> {
            Err(E::custom(format!(
                "expected {} (a string with a unit), got the number {v}",
                self.what
            )))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
            Err(E::custom(format!(
                "expected {} (a string with a unit), got the number {v}",
                self.what
            )))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
            Err(E::custom(format!(
                "expected {} (a string with a unit), got the number {v}",
                self.what
            )))
        }
    }
    deserializer.deserialize_any(TextVisitor { what, parse })
}

impl<'de> Deserialize<'de> for DurationValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        from_text(d, "a duration like \"250ms\"", parse_duration).map(DurationValue)
    }
}

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        from_text(d, "an amount of memory like \"2GB\"", crate::model::units::parse_bytes).map(ByteSize)
    }
}

impl JsonSchema for ByteSize {
    fn schema_name() -> Cow<'static, str> {
        "ByteSize".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        string_schema(
            "An amount of memory: a number and a unit among B, KB, MB, GB, TB (powers of 1000) or KiB, MiB, GiB, TiB.",
            &["2GB", "512MiB"],
        )
    }
}

/// "uniform" or "zipf(s)" with s a finite number of at least 0.
fn parse_popularity(text: &str) -> Result<Popularity, String> {
    let t = text.trim();
    if t == "uniform" {
        return Ok(Popularity::Uniform);
    }
    let inner = t
        .strip_prefix("zipf(")
        .and_then(|r| r.strip_suffix(')'))
        .ok_or("expected \"uniform\" or \"zipf(s)\" like \"zipf(0.8)\"")?;
    let s: f64 = inner
        .trim()
        .parse()
        .map_err(|_| "expected a number as the Zipf exponent in \"zipf(s)\", like \"zipf(0.8)\"".to_string())?;
    if !s.is_finite() || s < 0.0 {
        return Err("a Zipf exponent is a finite number of at least 0 (0 is uniform)".into());
    }
    if s > 100.0 {
        return Err("a Zipf exponent is at most 100 (above, every look-up is of one key)".into());
    }
    Ok(Popularity::Zipf(s))
}

impl<'de> Deserialize<'de> for PopularityValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        from_text(d, "a key popularity like \"zipf(0.8)\"", parse_popularity).map(PopularityValue)
    }
}

impl JsonSchema for PopularityValue {
    fn schema_name() -> Cow<'static, str> {
        "Popularity".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        string_schema(
            "How look-ups pick keys: \"uniform\" (every key alike) or \"zipf(s)\" (key i, counted from 1, in \
             proportion to 1/i^s, s at least 0).",
            &["uniform", "zipf(0.8)"],
        )
    }
}

impl<'de> Deserialize<'de> for RateValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        from_text(d, "a rate like \"120/s\"", parse_rate).map(RateValue)
    }
}

impl<'de> Deserialize<'de> for DistValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        from_text(d, "a distribution like \"exp(5ms)\"", Dist::parse).map(DistValue)
    }
}

/// Deserialize a JSON number that must be a whole number of at least `min`.
fn whole_number<'de, D: Deserializer<'de>>(d: D, min: u32) -> Result<u32, D::Error> {
    struct WholeVisitor(u32);
    impl WholeVisitor {
        fn expected(&self) -> &'static str {
            if self.0 == 0 {
                "a non-negative integer"
            } else {
                "a positive integer"
            }
        }
        fn check<E: de::Error>(&self, v: i128, shown: String) -> Result<u32, E> {
            if v < i128::from(self.0) {
                return Err(E::custom(format!("expected {}, got {shown}", self.expected())));
            }
            u32::try_from(v).map_err(|_| E::custom(format!("expected {} of at most {}, got {shown}", self.expected(), u32::MAX)))
        }
    }
    impl Visitor<'_> for WholeVisitor {
        type Value = u32;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str(self.expected())
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<u32, E> {
            self.check(i128::from(v), v.to_string())
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<u32, E> {
            self.check(i128::from(v), v.to_string())
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<u32, E> {
            if v.fract() == 0.0 && v.is_finite() && v.abs() < 1e12 {
                self.check(v as i128, v.to_string())
            } else {
                Err(E::custom(format!("expected {}, got {v}", self.expected())))
            }
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<u32, E> {
            Err(E::custom(format!(
                "expected {} (a JSON number, not a string), got \"{v}\"",
                self.expected()
            )))
        }
    }
    d.deserialize_any(WholeVisitor(min))
}

impl<'de> Deserialize<'de> for PositiveInt {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        whole_number(d, 1).map(PositiveInt)
    }
}

impl<'de> Deserialize<'de> for NonNegativeInt {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        whole_number(d, 0).map(NonNegativeInt)
    }
}

impl<'de> Deserialize<'de> for Factor {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct FactorVisitor;
        impl Visitor<'_> for FactorVisitor {
            type Value = f64;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a finite number of at least 0")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<f64, E> {
                if (0.0..=1e9).contains(&v) {
                    Ok(v)
                } else {
                    Err(E::custom(format!("expected a finite number from 0 to 1e9, got {v}")))
                }
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<f64, E> {
                self.visit_f64(v as f64)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<f64, E> {
                self.visit_f64(v as f64)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<f64, E> {
                Err(E::custom(format!("expected a number (not a string), got \"{v}\"")))
            }
        }
        d.deserialize_any(FactorVisitor).map(Factor)
    }
}

/// JSON Schema for a string value with a pattern-free description and examples.
fn string_schema(description: &str, examples: &[&str]) -> Schema {
    json_schema!({ "type": "string", "description": description, "examples": examples })
}

impl JsonSchema for DurationValue {
    fn schema_name() -> Cow<'static, str> {
        "Duration".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        string_schema(
            "A duration: a number and a unit among ns, us, ms, s, m (or min), h, d.",
            &["250ms", "1.5s", "2h"],
        )
    }
}

impl JsonSchema for RateValue {
    fn schema_name() -> Cow<'static, str> {
        "Rate".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        string_schema("A rate: a number of events per unit of time.", &["120/s", "7200/h", "30/min"])
    }
}

impl JsonSchema for DistValue {
    fn schema_name() -> Cow<'static, str> {
        "Distribution".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        string_schema(
            "A distribution of durations: a constant (\"5ms\"), exp(mean), uniform(min, max), normal(mean=, sd=), \
             lognormal(p50=, p99=) or lognormal(mean=, sd=), gamma(shape=, mean=), weibull(shape=, scale=), \
             pareto(shape=, scale=), empirical(samples...) or empirical(p0=, p50=, ..., p100=).",
            &["5ms", "exp(1.2ms)", "lognormal(p50=5ms, p99=40ms)"],
        )
    }
}

impl JsonSchema for PositiveInt {
    fn schema_name() -> Cow<'static, str> {
        "PositiveInt".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "integer", "minimum": 1, "maximum": u32::MAX })
    }
}

impl JsonSchema for NonNegativeInt {
    fn schema_name() -> Cow<'static, str> {
        "NonNegativeInt".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "integer", "minimum": 0, "maximum": u32::MAX })
    }
}

impl JsonSchema for Factor {
    fn schema_name() -> Cow<'static, str> {
        "Factor".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "number", "minimum": 0, "maximum": 1e9 })
    }
}
