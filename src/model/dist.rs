//! Distributions of durations (service, think and network times), parsed from text like "exp(5ms)".

use super::units::{format_secs_exact, parse_duration_secs, secs_to_nanos, Nanos, MAX_NANOS};
use rand::{Rng, RngExt};
use rand_distr::{Distribution, Exp1, StandardNormal};
use statrs::distribution::{Continuous, ContinuousCDF, Normal};
use statrs::function::gamma::gamma as gamma_fn;
use std::fmt;

/// How many times a truncated normal draw is retried while negative before giving 0.
const NORMAL_TRIES: u32 = 100;

/// The distribution names [`Dist::parse`] knows.
const KNOWN: &str = "const, exp (or exponential), uniform, normal, lognormal, gamma, weibull, pareto, empirical";

/// What a gamma distribution needs besides its shape.
const GAMMA_EXPECTED: &str = r#"gamma: expected shape with either mean or scale, like "gamma(shape=2, mean=10ms)""#;

/// A distribution of non-negative durations (service times, think times, latencies), parameters
/// in seconds. Build it with [`Dist::parse`] or [`Dist::constant`].
#[derive(Clone, Debug, PartialEq)]
pub enum Dist {
    /// Always the same duration.
    Constant {
        /// The duration, in seconds.
        secs: f64,
        /// The same duration as every draw gives it, in nanoseconds (worked out once, not per draw).
        ns: Nanos,
    },
    /// Exponential ("memoryless") durations.
    Exponential {
        /// Mean, in seconds.
        mean: f64,
    },
    /// Uniform between two durations.
    Uniform {
        /// Shortest duration, in seconds.
        min: f64,
        /// Longest duration, in seconds.
        max: f64,
    },
    /// Normal, truncated at zero: negative draws are drawn again.
    Normal {
        /// Mean before truncation, in seconds.
        mean: f64,
        /// Standard deviation before truncation, in seconds.
        sd: f64,
    },
    /// Log-normal: `median × exp(sigma × Z)` with Z standard normal.
    LogNormal {
        /// Median (50th percentile), in seconds.
        median: f64,
        /// Standard deviation of the logarithm (dimensionless).
        sigma: f64,
    },
    /// Gamma with a shape and a scale.
    Gamma {
        /// Shape (dimensionless).
        shape: f64,
        /// Scale, in seconds.
        scale: f64,
        /// Sampler prepared for `shape` and `scale`.
        sampler: rand_distr::Gamma<f64>,
    },
    /// Weibull: `scale × E^(1/shape)` with E exponential of mean 1.
    Weibull {
        /// Shape (dimensionless).
        shape: f64,
        /// Scale, in seconds.
        scale: f64,
    },
    /// Pareto (heavy tail) starting at `scale`.
    Pareto {
        /// Tail index (dimensionless); the mean exists above 1, the variance above 2.
        shape: f64,
        /// Minimum, in seconds.
        scale: f64,
    },
    /// Uniform choice among observed durations.
    Empirical {
        /// The durations, in seconds, at least one.
        samples: Vec<f64>,
    },
    /// A percentile table, drawn by inverse CDF with linear interpolation between points.
    Percentiles {
        /// (percentile in [0, 100], duration in seconds), strictly increasing percentiles from
        /// 0 to 100 and non-decreasing durations.
        points: Vec<(f64, f64)>,
    },
    /// Another distribution plus a constant: what "add 10 ms of latency" does to any latency.
    Shifted {
        /// The constant added to every draw, in seconds.
        offset: f64,
        /// The distribution shifted.
        base: Box<Dist>,
    },
}

impl Dist {
    /// Parse the textual form: a duration ("5ms") or `name(arguments)` with `const`, `exp`,
    /// `uniform`, `normal`, `lognormal`, `gamma`, `weibull`, `pareto` or `empirical`. The error
    /// is a short "expected ..." message naming the accepted forms or the offending parameter.
    pub fn parse(text: &str) -> Result<Dist, String> {
        let text = text.trim();
        let pluses = top_level_pluses(text);
        if let Some(&first) = pluses.first() {
            // "base + a + b": the base, then every offset, in one pass (no recursion).
            let base = Dist::parse(&text[..first])?;
            let mut offset = 0.0;
            let ends = pluses.iter().skip(1).copied().chain(std::iter::once(text.len()));
            for (&plus, end) in pluses.iter().zip(ends) {
                offset += parse_duration_secs(text[plus + 1..end].trim()).map_err(|why| format!("after \"+\": {why}"))?;
            }
            return Ok(base.shifted(offset));
        }
        let Some((name, rest)) = text.split_once('(') else {
            if text.starts_with(|c: char| c.is_ascii_digit() || c == '.' || c == '-') {
                return parse_duration_secs(text).map(Dist::constant);
            }
            return Err(format!(
                r#"expected a duration like "5ms" or a distribution like "exp(5ms)": {KNOWN}"#
            ));
        };
        let family = name.trim().to_ascii_lowercase();
        let inner = rest
            .trim_end()
            .strip_suffix(')')
            .ok_or_else(|| format!(r#"{family}: expected the arguments to end with ")""#))?;
        let args = Args::split(&family, inner)?;
        match family.as_str() {
            "const" | "constant" => {
                let [value] = args.slots(["value"], true)?;
                args.duration("value", args.required(value, "value")?).map(Dist::constant)
            }
            "exp" | "exponential" => {
                let [mean] = args.slots(["mean"], true)?;
                let mean = args.positive_duration("mean", args.required(mean, "mean")?)?;
                Ok(Dist::Exponential { mean })
            }
            "uniform" => {
                let [min, max] = args.slots(["min", "max"], true)?;
                let (min, max) = (args.required(min, "min")?, args.required(max, "max")?);
                let (low, high) = (args.duration("min", min)?, args.duration("max", max)?);
                if low > high {
                    return Err(format!("uniform: min must be <= max, got {min} > {max}"));
                }
                Ok(Dist::Uniform { min: low, max: high })
            }
            "normal" => {
                let [mean, sd] = args.slots(["mean", "sd"], true)?;
                let mean = args.duration("mean", args.required(mean, "mean")?)?;
                let sd = args.positive_duration("sd", args.required(sd, "sd")?)?;
                Ok(Dist::Normal { mean, sd })
            }
            "lognormal" => parse_lognormal(&args),
            "gamma" => {
                let [shape, mean, scale] = args.slots(["shape", "mean", "scale"], false)?;
                let shape = args.positive_number("shape", args.required(shape, "shape")?)?;
                let scale = match (mean, scale) {
                    (Some(mean), None) => {
                        let scale = args.positive_duration("mean", mean)? / shape;
                        // mean / shape may leave the range of durations for a tiny shape.
                        if !(scale.is_finite() && scale > 0.0 && scale <= MAX_NANOS as f64 / 1e9) {
                            return Err(format!(
                                "gamma: mean / shape must be a duration of at most 100 years, got {scale} s"
                            ));
                        }
                        scale
                    }
                    (None, Some(scale)) => args.positive_duration("scale", scale)?,
                    _ => return Err(GAMMA_EXPECTED.to_string()),
                };
                Dist::gamma(shape, scale)
            }
            "weibull" | "pareto" => {
                let [shape, scale] = args.slots(["shape", "scale"], false)?;
                let shape = args.positive_number("shape", args.required(shape, "shape")?)?;
                let scale = args.positive_duration("scale", args.required(scale, "scale")?)?;
                Ok(if family == "weibull" {
                    Dist::Weibull { shape, scale }
                } else {
                    Dist::Pareto { shape, scale }
                })
            }
            "empirical" => parse_empirical(&args),
            _ => Err(format!("unknown distribution \"{family}\"; expected one of {KNOWN}")),
        }
    }

    /// A constant duration of `seconds` (negative or NaN counts as 0, capped at 100 years).
    pub fn constant(seconds: f64) -> Dist {
        Dist::exactly(seconds.max(0.0).min(MAX_NANOS as f64 / 1e9))
    }

    /// Always `secs` seconds, as given.
    fn exactly(secs: f64) -> Dist {
        Dist::Constant {
            secs,
            ns: secs_to_nanos(secs).min(MAX_NANOS),
        }
    }

    /// A gamma distribution with a prepared sampler; `shape` and `scale` (seconds) must be > 0.
    fn gamma(shape: f64, scale: f64) -> Result<Dist, String> {
        let sampler =
            rand_distr::Gamma::new(shape, scale).map_err(|why| format!("gamma: expected shape and scale > 0 ({why})"))?;
        Ok(Dist::Gamma { shape, scale, sampler })
    }

    /// Draw one duration in nanoseconds (rounded, never negative, saturating at 100 years).
    pub fn sample_ns<R: Rng + ?Sized>(&self, rng: &mut R) -> Nanos {
        if let Dist::Constant { ns, .. } = self {
            return *ns;
        }
        secs_to_nanos(self.sample_secs(rng)).min(MAX_NANOS)
    }

    /// Draw one duration in seconds.
    fn sample_secs<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match self {
            Dist::Constant { secs, .. } => *secs,
            Dist::Shifted { offset, base } => offset + base.sample_secs(rng),
            Dist::Exponential { mean } => mean * exp1(rng),
            Dist::Uniform { min, max } => min + (max - min) * rng.random::<f64>(),
            Dist::Normal { mean, sd } => (0..NORMAL_TRIES)
                .map(|_| mean + sd * standard_normal(rng))
                .find(|&x| x >= 0.0)
                .unwrap_or(0.0),
            Dist::LogNormal { median, sigma } => median * (sigma * standard_normal(rng)).exp(),
            Dist::Gamma { sampler, .. } => sampler.sample(rng),
            Dist::Weibull { shape, scale } => scale * exp1(rng).powf(1.0 / shape),
            Dist::Pareto { shape, scale } => scale * (exp1(rng) / shape).exp(),
            Dist::Empirical { samples } if samples.is_empty() => 0.0,
            Dist::Empirical { samples } => samples[rng.random_range(0..samples.len())],
            Dist::Percentiles { points } => {
                let q = 100.0 * rng.random::<f64>();
                let after = points.partition_point(|&(p, _)| p <= q);
                match (after.checked_sub(1).map(|i| points.get(i)), points.get(after)) {
                    (Some(Some(&(p0, v0))), Some(&(p1, v1))) => v0 + (v1 - v0) * (q - p0) / (p1 - p0),
                    _ => points.last().map_or(0.0, |&(_, v)| v),
                }
            }
        }
    }

    /// Analytic mean in seconds (infinite for a Pareto of shape <= 1).
    pub fn mean_secs(&self) -> f64 {
        match self {
            Dist::Constant { secs, .. } => *secs,
            Dist::Shifted { offset, base } => offset + base.mean_secs(),
            Dist::Exponential { mean } => *mean,
            Dist::Uniform { min, max } => (min + max) / 2.0,
            Dist::Normal { mean, sd } => {
                let (_, lambda) = truncation(*mean, *sd);
                mean + sd * lambda
            }
            Dist::LogNormal { median, sigma } => median * (sigma * sigma / 2.0).exp(),
            Dist::Gamma { shape, scale, .. } => shape * scale,
            Dist::Weibull { shape, scale } => scale * gamma_fn(1.0 + 1.0 / shape),
            Dist::Pareto { shape, scale } if *shape > 1.0 => shape * scale / (shape - 1.0),
            Dist::Pareto { .. } => f64::INFINITY,
            Dist::Empirical { samples } => samples.iter().sum::<f64>() / samples.len() as f64,
            Dist::Percentiles { points } => segments(points).map(|(w, a, b)| w * (a + b) / 2.0).sum(),
        }
    }

    /// Analytic variance in seconds² (infinite where it does not exist, e.g. a Pareto of shape
    /// <= 2).
    pub fn variance_secs2(&self) -> f64 {
        match self {
            Dist::Constant { .. } => 0.0,
            Dist::Shifted { base, .. } => base.variance_secs2(),
            Dist::Exponential { mean } => mean * mean,
            Dist::Uniform { min, max } => (max - min).powi(2) / 12.0,
            Dist::Normal { mean, sd } => {
                let (alpha, lambda) = truncation(*mean, *sd);
                sd * sd * (1.0 + alpha * lambda - lambda * lambda)
            }
            Dist::LogNormal { median, sigma } => {
                let s2 = sigma * sigma;
                median * median * s2.exp() * s2.exp_m1()
            }
            Dist::Gamma { shape, scale, .. } => shape * scale * scale,
            Dist::Weibull { shape, scale } => {
                let (g1, g2) = (gamma_fn(1.0 + 1.0 / shape), gamma_fn(1.0 + 2.0 / shape));
                if g2.is_finite() {
                    scale * scale * (g2 - g1 * g1)
                } else {
                    f64::INFINITY
                }
            }
            Dist::Pareto { shape, scale } if *shape > 2.0 => scale * scale * shape / ((shape - 1.0).powi(2) * (shape - 2.0)),
            Dist::Pareto { .. } => f64::INFINITY,
            Dist::Empirical { samples } => {
                let mean = self.mean_secs();
                samples.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / samples.len() as f64
            }
            Dist::Percentiles { points } => {
                // Law of total variance over the uniform pieces.
                let mean = self.mean_secs();
                segments(points)
                    .map(|(w, a, b)| w * ((b - a).powi(2) / 12.0 + ((a + b) / 2.0 - mean).powi(2)))
                    .sum()
            }
        }
    }

    /// The same distribution with every draw multiplied by `factor` (>= 0; NaN or negative
    /// counts as 0), as for data-size factors and CPU-cost multipliers: scale parameters are
    /// multiplied, shapes kept.
    pub fn scaled(&self, factor: f64) -> Dist {
        let k = factor.max(0.0);
        if k == 0.0 {
            return Dist::constant(0.0);
        }
        match self {
            Dist::Constant { secs, .. } => Dist::exactly(secs * k),
            Dist::Shifted { offset, base } => base.scaled(k).shifted(offset * k),
            Dist::Exponential { mean } => Dist::Exponential { mean: mean * k },
            Dist::Uniform { min, max } => Dist::Uniform {
                min: min * k,
                max: max * k,
            },
            Dist::Normal { mean, sd } => Dist::Normal {
                mean: mean * k,
                sd: sd * k,
            },
            Dist::LogNormal { median, sigma } => Dist::LogNormal {
                median: median * k,
                sigma: *sigma,
            },
            Dist::Gamma { shape, scale, .. } => Dist::gamma(*shape, scale * k).unwrap_or_else(|_| Dist::constant(0.0)),
            Dist::Weibull { shape, scale } => Dist::Weibull {
                shape: *shape,
                scale: scale * k,
            },
            Dist::Pareto { shape, scale } => Dist::Pareto {
                shape: *shape,
                scale: scale * k,
            },
            Dist::Empirical { samples } => Dist::Empirical {
                samples: samples.iter().map(|x| x * k).collect(),
            },
            Dist::Percentiles { points } => Dist::Percentiles {
                points: points.iter().map(|&(p, v)| (p, v * k)).collect(),
            },
        }
    }
}

impl Dist {
    /// The same distribution with `offset_secs` added to every draw (a negative offset is allowed
    /// as long as draws stay non-negative on average; each draw is still clamped at 0).
    pub fn shifted(&self, offset_secs: f64) -> Dist {
        match self {
            Dist::Constant { secs, .. } => Dist::constant(secs + offset_secs),
            Dist::Shifted { offset, base } => base.shifted(offset + offset_secs),
            _ if offset_secs == 0.0 => self.clone(),
            other => Dist::Shifted {
                offset: offset_secs,
                base: Box::new(other.clone()),
            },
        }
    }
}

/// Byte indices of the "+" signs outside parentheses (the shifts in "exp(1ms) + 10ms").
fn top_level_pluses(text: &str) -> Vec<usize> {
    let mut depth = 0i32;
    let mut found = Vec::new();
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            '+' if depth == 0 && i > 0 => found.push(i),
            _ => {}
        }
    }
    found
}

/// One draw of the exponential distribution of mean 1.
fn exp1<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    Exp1.sample(rng)
}

/// One draw of the standard normal distribution (mean 0, standard deviation 1).
fn standard_normal<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    StandardNormal.sample(rng)
}

/// For a normal truncated at 0: alpha = −mean/sd and the inverse Mills ratio
/// lambda = φ(alpha) / (1 − Φ(alpha)).
fn truncation(mean: f64, sd: f64) -> (f64, f64) {
    let standard = Normal::standard();
    let alpha = -mean / sd;
    (alpha, standard.pdf(alpha) / standard.cdf(-alpha))
}

/// The pieces of a percentile table: (probability, duration at start, duration at end).
fn segments(points: &[(f64, f64)]) -> impl Iterator<Item = (f64, f64, f64)> + '_ {
    points.windows(2).map(|w| ((w[1].0 - w[0].0) / 100.0, w[0].1, w[1].1))
}

/// The arguments of one distribution form: positional values, then `name=value` pairs.
struct Args<'a> {
    /// Distribution name, for messages.
    family: &'a str,
    /// Values given without a name, in order.
    positional: Vec<&'a str>,
    /// (name, value) pairs, in the order given.
    named: Vec<(&'a str, &'a str)>,
}

impl<'a> Args<'a> {
    /// Split the text between the parentheses at commas.
    fn split(family: &'a str, inner: &'a str) -> Result<Args<'a>, String> {
        if inner.trim().is_empty() {
            return Err(format!("{family}: expected arguments inside the parentheses"));
        }
        let mut args = Args {
            family,
            positional: Vec::new(),
            named: Vec::new(),
        };
        for arg in inner.split(',').map(str::trim) {
            match arg.split_once('=') {
                _ if arg.is_empty() => return Err(format!("{family}: expected an argument between commas")),
                Some((name, value)) => args.named.push((name.trim(), value.trim())),
                None if args.named.is_empty() => args.positional.push(arg),
                None => return Err(format!("{family}: expected named arguments after the first named one")),
            }
        }
        Ok(args)
    }

    /// Match the arguments to the parameters `names`, positional ones first (only when
    /// `positional` is allowed), rejecting unknown and repeated names.
    fn slots<const N: usize>(&self, names: [&str; N], positional: bool) -> Result<[Option<&'a str>; N], String> {
        let family = self.family;
        let list = names.join(", ");
        if !positional && !self.positional.is_empty() {
            return Err(format!(
                "{family}: expected named parameters ({list}), like \"{}=...\"",
                names[0]
            ));
        }
        if self.positional.len() > N {
            return Err(format!("{family}: too many arguments; expected {list}"));
        }
        let mut slots = [None; N];
        for (slot, value) in slots.iter_mut().zip(&self.positional) {
            *slot = Some(*value);
        }
        for &(name, value) in &self.named {
            let i = names
                .iter()
                .position(|n| *n == name)
                .ok_or_else(|| format!("{family}: unknown parameter \"{name}\"; expected {list}"))?;
            if slots[i].replace(value).is_some() {
                return Err(format!("{family}: {name} given twice"));
            }
        }
        Ok(slots)
    }

    /// The value of a required parameter.
    fn required(&self, value: Option<&'a str>, name: &str) -> Result<&'a str, String> {
        value.ok_or_else(|| format!("{}: expected a value for {name}", self.family))
    }

    /// A duration parameter, in seconds.
    fn duration(&self, name: &str, text: &str) -> Result<f64, String> {
        parse_duration_secs(text).map_err(|why| format!("{}: {name} \"{text}\": {why}", self.family))
    }

    /// A duration parameter that must be > 0, in seconds.
    fn positive_duration(&self, name: &str, text: &str) -> Result<f64, String> {
        let value = self.duration(name, text)?;
        self.positive(name, text, value)
    }

    /// A plain-number parameter that must be finite and > 0.
    fn positive_number(&self, name: &str, text: &str) -> Result<f64, String> {
        let value = text
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| format!("{}: {name} must be a finite number, got \"{text}\"", self.family))?;
        self.positive(name, text, value)
    }

    /// `value`, written as `text`, if it is > 0.
    fn positive(&self, name: &str, text: &str, value: f64) -> Result<f64, String> {
        if value > 0.0 {
            Ok(value)
        } else {
            Err(format!("{}: {name} must be > 0, got {text}", self.family))
        }
    }
}

/// `lognormal(p50=…, p99=…)` (p50 or median with one of p90, p95, p99, p999 or sigma) or
/// `lognormal(mean=…, sd=…)`.
fn parse_lognormal(args: &Args) -> Result<Dist, String> {
    const EXPECTED: &str = r#"lognormal: expected p50 with one of p90, p95, p99, p999 or sigma, or mean with sd, like "lognormal(p50=5ms, p99=40ms)""#;
    let [p50, median, p90, p95, p99, p999, sigma, mean, sd] =
        args.slots(["p50", "median", "p90", "p95", "p99", "p999", "sigma", "mean", "sd"], false)?;
    let tails = [
        (p90, "p90", 0.9),
        (p95, "p95", 0.95),
        (p99, "p99", 0.99),
        (p999, "p999", 0.999),
    ];
    let given_tails: Vec<_> = tails.iter().filter(|t| t.0.is_some()).collect();
    match (p50.or(median), mean, sd) {
        (Some(p50_text), None, None) => {
            if p50.is_some() && median.is_some() {
                return Err("lognormal: p50 and median are the same; give one".to_string());
            }
            let median = args.positive_duration("p50", p50_text)?;
            let sigma = match (given_tails.as_slice(), sigma) {
                ([], Some(sigma)) => args.positive_number("sigma", sigma)?,
                ([&(Some(text), name, p)], None) => {
                    let tail = args.duration(name, text)?;
                    if tail <= median {
                        return Err(format!("lognormal: {name} must exceed p50, got {text}"));
                    }
                    (tail / median).ln() / Normal::standard().inverse_cdf(p)
                }
                _ => return Err(EXPECTED.to_string()),
            };
            Ok(Dist::LogNormal { median, sigma })
        }
        (None, Some(mean), Some(sd)) if given_tails.is_empty() && sigma.is_none() => {
            let mean = args.positive_duration("mean", mean)?;
            let sd = args.positive_duration("sd", sd)?;
            let spread = 1.0 + (sd / mean).powi(2);
            let (median, sigma) = (mean / spread.sqrt(), spread.ln().sqrt());
            // An extreme sd/mean ratio leaves no usable median or spread.
            if !(median.is_finite() && median > 0.0 && sigma.is_finite()) {
                return Err(format!("lognormal: sd / mean = {} is too extreme to fit", sd / mean));
            }
            Ok(Dist::LogNormal { median, sigma })
        }
        _ => Err(EXPECTED.to_string()),
    }
}

/// `empirical(1ms, 2ms, …)` (samples) or `empirical(p0=…, p50=…, p100=…)` (percentile table).
fn parse_empirical(args: &Args) -> Result<Dist, String> {
    if args.named.is_empty() {
        let samples = args
            .positional
            .iter()
            .enumerate()
            .map(|(i, text)| args.duration(&format!("sample {}", i + 1), text))
            .collect::<Result<Vec<_>, _>>()?;
        return Ok(Dist::Empirical { samples });
    }
    if !args.positional.is_empty() {
        return Err(r#"empirical: expected either durations ("empirical(1ms, 5ms)") or a percentile table ("empirical(p0=1ms, p100=9ms)"), not both"#.to_string());
    }
    let mut points = Vec::with_capacity(args.named.len());
    for &(key, text) in &args.named {
        let percent = key
            .strip_prefix('p')
            .filter(|p| p.chars().all(|c| c.is_ascii_digit() || c == '.'))
            .and_then(|p| p.parse::<f64>().ok())
            .filter(|p| (0.0..=100.0).contains(p))
            .ok_or_else(|| format!(r#"empirical: expected percentile keys p0 to p100 (like "p99.9"), got "{key}""#))?;
        points.push((percent, args.duration(key, text)?));
    }
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    if points.first().map(|p| p.0) != Some(0.0) || points.last().map(|p| p.0) != Some(100.0) {
        return Err("empirical: a percentile table must include p0 and p100".to_string());
    }
    for w in points.windows(2) {
        if w[0].0 == w[1].0 {
            return Err(format!("empirical: p{} given twice", w[0].0));
        }
        if w[1].1 < w[0].1 {
            return Err(format!(
                "empirical: durations must not decrease with the percentile, but p{} is below p{}",
                w[1].0, w[0].0
            ));
        }
    }
    Ok(Dist::Percentiles { points })
}

impl fmt::Display for Dist {
    /// The textual form, which [`Dist::parse`] reads back as the same distribution.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = |secs: &f64| format_secs_exact(*secs);
        match self {
            Dist::Constant { secs, .. } => write!(f, "{}", d(secs)),
            Dist::Shifted { offset, base } => write!(f, "{base} + {}", d(offset)),
            Dist::Exponential { mean } => write!(f, "exp({})", d(mean)),
            Dist::Uniform { min, max } => write!(f, "uniform({}, {})", d(min), d(max)),
            Dist::Normal { mean, sd } => write!(f, "normal(mean={}, sd={})", d(mean), d(sd)),
            Dist::LogNormal { median, sigma } => {
                write!(f, "lognormal(p50={}, sigma={sigma})", d(median))
            }
            Dist::Gamma { shape, scale, .. } => {
                write!(f, "gamma(shape={shape}, scale={})", d(scale))
            }
            Dist::Weibull { shape, scale } => {
                write!(f, "weibull(shape={shape}, scale={})", d(scale))
            }
            Dist::Pareto { shape, scale } => write!(f, "pareto(shape={shape}, scale={})", d(scale)),
            Dist::Empirical { samples } => {
                let list: Vec<String> = samples.iter().map(d).collect();
                write!(f, "empirical({})", list.join(", "))
            }
            Dist::Percentiles { points } => {
                let list: Vec<String> = points.iter().map(|(p, v)| format!("p{p}={}", d(v))).collect();
                write!(f, "empirical({})", list.join(", "))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::units::nanos_to_secs;
    use super::*;
    use rand::rngs::SmallRng;
    use rand::SeedableRng;

    /// Draws per sampling test.
    const N: usize = 200_000;
    /// The most that rounding a draw to whole nanoseconds moves it, in seconds.
    const ROUNDING: f64 = 0.5e-9;
    /// One-sided 99th percentile of the standard normal.
    const Z99: f64 = 2.3263478740408408;

    fn parse(text: &str) -> Dist {
        Dist::parse(text).unwrap_or_else(|why| panic!("{text:?}: {why}"))
    }

    fn draws(d: &Dist, seed: u64) -> Vec<f64> {
        let mut rng = SmallRng::seed_from_u64(seed);
        (0..N).map(|_| nanos_to_secs(d.sample_ns(&mut rng))).collect()
    }

    fn mean_of(x: &[f64]) -> f64 {
        x.iter().sum::<f64>() / x.len() as f64
    }

    fn close(a: f64, b: f64, relative: f64) -> bool {
        (a - b).abs() <= relative * a.abs().max(b.abs())
    }

    /// The sample mean of N draws lies within 4 standard errors (from the analytic variance)
    /// of the analytic mean.
    fn assert_mean_matches(text: &str) {
        let d = parse(text);
        let mean = mean_of(&draws(&d, 11));
        let se = (d.variance_secs2() / N as f64).sqrt();
        assert!(se.is_finite() && se > 0.0, "{text}: se {se}");
        let error = (mean - d.mean_secs()).abs();
        assert!(
            error <= 4.0 * se + ROUNDING,
            "{text}: sample mean {mean}, analytic {}, {:.1} standard errors off",
            d.mean_secs(),
            error / se
        );
    }

    /// The sample variance of N draws lies within 4 standard errors of the analytic variance,
    /// the standard error of a variance being sqrt((m4 - s^4) / n).
    fn assert_variance_matches(text: &str) {
        let d = parse(text);
        let x = draws(&d, 12);
        let mean = mean_of(&x);
        let s2 = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (N - 1) as f64;
        let m4 = x.iter().map(|v| (v - mean).powi(4)).sum::<f64>() / N as f64;
        let se = ((m4 - s2 * s2) / N as f64).sqrt();
        let rounding = 2.0 * s2.sqrt() * ROUNDING + ROUNDING * ROUNDING;
        let error = (s2 - d.variance_secs2()).abs();
        assert!(
            error <= 4.0 * se + rounding,
            "{text}: sample variance {s2}, analytic {}, {:.1} standard errors off",
            d.variance_secs2(),
            error / se
        );
    }

    /// The sample `p` quantile of N draws lies within 4 standard errors of `expected`, where
    /// the standard error is sqrt(p(1-p)/n) / density at the quantile.
    fn assert_quantile_matches(d: &Dist, p: f64, expected: f64, density: f64) {
        let mut x = draws(d, 13);
        x.sort_by(f64::total_cmp);
        let got = x[(p * N as f64) as usize];
        let se = (p * (1.0 - p) / N as f64).sqrt() / density;
        assert!(
            (got - expected).abs() <= 4.0 * se + ROUNDING,
            "{d}: p{} is {got}, expected {expected} ± {}",
            p * 100.0,
            4.0 * se
        );
    }

    #[test]
    fn every_form_parses_to_its_parameters() {
        let ms = 1e-3;
        let gamma = |shape, scale| Dist::gamma(shape, scale).unwrap();
        let cases: Vec<(&str, Dist)> = vec![
            ("5ms", Dist::exactly(5.0 / 1e3)),
            (" 0 ", Dist::exactly(0.0)),
            ("1h30m", Dist::exactly(5400.0)),
            ("const(5ms)", Dist::exactly(5.0 / 1e3)),
            (" Constant ( value = 5ms ) ", Dist::exactly(5.0 / 1e3)),
            ("exp(1.2ms)", Dist::Exponential { mean: 1.2 / 1e3 }),
            ("exp(mean=1.2ms)", Dist::Exponential { mean: 1.2 / 1e3 }),
            ("exponential( 1.2ms )", Dist::Exponential { mean: 1.2 / 1e3 }),
            (
                "uniform(1ms, 5ms)",
                Dist::Uniform {
                    min: 1.0 / 1e3,
                    max: 5.0 / 1e3,
                },
            ),
            (
                "uniform(max=5ms,min=1ms)",
                Dist::Uniform {
                    min: 1.0 / 1e3,
                    max: 5.0 / 1e3,
                },
            ),
            (
                "uniform(1ms, max=5ms)",
                Dist::Uniform {
                    min: 1.0 / 1e3,
                    max: 5.0 / 1e3,
                },
            ),
            (
                "uniform(2ms, 2ms)",
                Dist::Uniform {
                    min: 2.0 / 1e3,
                    max: 2.0 / 1e3,
                },
            ),
            (
                "normal(mean=10ms, sd=2ms)",
                Dist::Normal {
                    mean: 10.0 / 1e3,
                    sd: 2.0 / 1e3,
                },
            ),
            (
                "normal(sd=2ms, mean=10ms)",
                Dist::Normal {
                    mean: 10.0 / 1e3,
                    sd: 2.0 / 1e3,
                },
            ),
            (
                "normal(10ms, 2ms)",
                Dist::Normal {
                    mean: 10.0 / 1e3,
                    sd: 2.0 / 1e3,
                },
            ),
            (
                "lognormal(p50=5ms, sigma=0.5)",
                Dist::LogNormal {
                    median: 5.0 / 1e3,
                    sigma: 0.5,
                },
            ),
            (
                "lognormal(median=5ms, sigma=0.5)",
                Dist::LogNormal {
                    median: 5.0 / 1e3,
                    sigma: 0.5,
                },
            ),
            ("gamma(shape=2, mean=10ms)", gamma(2.0, 10.0 / 1e3 / 2.0)),
            ("gamma(scale=5ms, shape=2)", gamma(2.0, 5.0 / 1e3)),
            (
                "weibull(shape=1.5, scale=10ms)",
                Dist::Weibull {
                    shape: 1.5,
                    scale: 10.0 * ms,
                },
            ),
            (
                "pareto(shape=2.5, scale=1ms)",
                Dist::Pareto {
                    shape: 2.5,
                    scale: 1.0 / 1e3,
                },
            ),
            (
                "empirical(1ms, 2ms, 5ms)",
                Dist::Empirical {
                    samples: vec![1.0 / 1e3, 2.0 / 1e3, 5.0 / 1e3],
                },
            ),
            (
                "empirical(p100=100ms, p0=1ms, p99.9=20ms, p50=5ms)",
                Dist::Percentiles {
                    points: vec![(0.0, 1.0 / 1e3), (50.0, 5.0 / 1e3), (99.9, 20.0 / 1e3), (100.0, 100.0 / 1e3)],
                },
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(parse(text), expected, "{text}");
        }
    }

    #[test]
    fn lognormal_fits_percentiles_and_moments() {
        let d = parse("lognormal(p50=5ms, p99=40ms)");
        let Dist::LogNormal { median, sigma } = d else {
            panic!("{d:?}")
        };
        assert_eq!(median, 5.0 / 1e3);
        assert!(close(sigma, 8f64.ln() / Z99, 1e-12), "{sigma}");
        // z-scores of the 90th, 95th and 99.9th percentiles.
        for (key, z) in [
            ("p90", 1.2815515655446004),
            ("p95", 1.6448536269514722),
            ("p999", 3.090232306167813),
        ] {
            let d = parse(&format!("lognormal(p50=1s, {key}=2s)"));
            let Dist::LogNormal { sigma, .. } = d else { panic!("{d:?}") };
            assert!(close(sigma, 2f64.ln() / z, 1e-12), "{key}: {sigma}");
        }
        let d = parse("lognormal(mean=10ms, sd=5ms)");
        assert!(close(d.mean_secs(), 0.010, 1e-12), "{}", d.mean_secs());
        assert!(close(d.variance_secs2(), 25e-6, 1e-12), "{}", d.variance_secs2());
    }

    #[test]
    fn lognormal_draws_reproduce_the_fitted_percentiles() {
        let d = parse("lognormal(p50=5ms, p99=40ms)");
        let sigma = 8f64.ln() / Z99;
        let standard = Normal::standard();
        // Density of the log-normal at its p quantile x: φ(z_p) / (x sigma).
        for (p, x, z) in [(0.5, 0.005, 0.0), (0.99, 0.040, Z99)] {
            assert_quantile_matches(&d, p, x, standard.pdf(z) / (x * sigma));
        }
    }

    #[test]
    fn percentile_tables_reproduce_their_points_and_moments() {
        let d = parse("empirical(p0=1ms, p50=5ms, p90=20ms, p100=100ms)");
        // Mean of the uniform pieces: 0.5 × 3ms + 0.4 × 12.5ms + 0.1 × 60ms.
        assert!(close(d.mean_secs(), 12.5e-3, 1e-12), "{}", d.mean_secs());
        // E[X²] = Σ w (a² + ab + b²) / 3 = 488.5 ms², minus the squared mean 156.25 ms².
        assert!(close(d.variance_secs2(), 332.25e-6, 1e-12), "{}", d.variance_secs2());
        // Inside each piece the density is its probability over its width.
        assert_quantile_matches(&d, 0.25, 3e-3, 0.5 / 4e-3);
        assert_quantile_matches(&d, 0.70, 12.5e-3, 0.4 / 15e-3);
        assert_quantile_matches(&d, 0.95, 60e-3, 0.1 / 80e-3);
        let x = draws(&d, 14);
        let (lowest, highest) = x.iter().fold((f64::MAX, 0f64), |(lo, hi), &v| (lo.min(v), hi.max(v)));
        assert!(lowest >= 1e-3 && highest <= 100e-3, "{lowest} {highest}");
    }

    #[test]
    fn analytic_moments_match_known_special_cases() {
        let ms = 1e-3;
        // A normal of mean 0 truncated at 0 is half-normal.
        let d = parse("normal(mean=0s, sd=2ms)");
        let pi = std::f64::consts::PI;
        assert!(close(d.mean_secs(), 2.0 * ms * (2.0 / pi).sqrt(), 1e-12));
        assert!(close(d.variance_secs2(), 4.0 * ms * ms * (1.0 - 2.0 / pi), 1e-12));
        // Five standard deviations above 0 the truncation barely matters.
        let d = parse("normal(mean=10ms, sd=2ms)");
        assert!((d.mean_secs() - 10.0 * ms).abs() < 1e-8);
        // Weibull of shape 1 is exponential; of shape 2, Rayleigh.
        let d = parse("weibull(shape=1, scale=3ms)");
        assert!(close(d.mean_secs(), 3.0 * ms, 1e-12) && close(d.variance_secs2(), 9.0 * ms * ms, 1e-12));
        let d = parse("weibull(shape=2, scale=3ms)");
        assert!(close(d.mean_secs(), 3.0 * ms * pi.sqrt() / 2.0, 1e-12));
        assert!(close(d.variance_secs2(), 9.0 * ms * ms * (1.0 - pi / 4.0), 1e-12));
        assert_eq!(parse("weibull(shape=0.001, scale=1ms)").variance_secs2(), f64::INFINITY);
        // Pareto moments exist only above shape 1 (mean) and 2 (variance).
        let d = parse("pareto(shape=3, scale=2ms)");
        assert!(close(d.mean_secs(), 3.0 * ms, 1e-12));
        assert!(close(d.variance_secs2(), 3.0 * ms * ms, 1e-12));
        assert_eq!(parse("pareto(shape=2, scale=1ms)").variance_secs2(), f64::INFINITY);
        assert_eq!(parse("pareto(shape=1, scale=1ms)").mean_secs(), f64::INFINITY);
        let d = parse("gamma(shape=2, mean=10ms)");
        assert!(close(d.mean_secs(), 10.0 * ms, 1e-12) && close(d.variance_secs2(), 50e-6, 1e-12));
        let d = parse("uniform(1ms, 7ms)");
        assert!(close(d.mean_secs(), 4.0 * ms, 1e-12) && close(d.variance_secs2(), 3e-6, 1e-12));
        let d = parse("empirical(1ms, 2ms, 6ms)");
        assert!(close(d.mean_secs(), 3.0 * ms, 1e-12));
        assert!(close(d.variance_secs2(), 14.0 / 3.0 * ms * ms, 1e-12));
        let d = parse("5ms");
        assert_eq!((d.mean_secs(), d.variance_secs2()), (5e-3, 0.0));
    }

    #[test]
    fn sample_means_match_analytic_means() {
        for text in [
            "exp(1.2ms)",
            "uniform(1ms, 5ms)",
            "normal(mean=10ms, sd=2ms)",
            "normal(mean=2ms, sd=2ms)",
            "normal(mean=0s, sd=1ms)",
            "lognormal(p50=5ms, p99=40ms)",
            "lognormal(mean=10ms, sd=5ms)",
            "gamma(shape=2, mean=10ms)",
            "gamma(shape=0.5, scale=4ms)",
            "gamma(shape=1, scale=4ms)",
            "weibull(shape=1.5, scale=10ms)",
            "weibull(shape=0.7, scale=10ms)",
            "pareto(shape=3.5, scale=1ms)",
            "empirical(1ms, 2ms, 5ms, 40ms)",
            "empirical(p0=1ms, p50=5ms, p90=20ms, p100=100ms)",
        ] {
            assert_mean_matches(text);
        }
    }

    #[test]
    fn sample_variances_match_analytic_variances() {
        for text in [
            "exp(1.2ms)",
            "uniform(1ms, 5ms)",
            "normal(mean=2ms, sd=2ms)",
            "lognormal(mean=10ms, sd=5ms)",
            "gamma(shape=2, mean=10ms)",
            "gamma(shape=0.5, scale=4ms)",
            "weibull(shape=1.5, scale=10ms)",
            "empirical(1ms, 2ms, 5ms, 40ms)",
            "empirical(p0=1ms, p50=5ms, p90=20ms, p100=100ms)",
        ] {
            assert_variance_matches(text);
        }
    }

    #[test]
    fn constants_always_draw_the_same_duration() {
        let mut rng = SmallRng::seed_from_u64(3);
        let d = parse("const(1.5ms)");
        assert!((0..1000).all(|_| d.sample_ns(&mut rng) == 1_500_000));
        assert_eq!(Dist::constant(-1.0), Dist::constant(0.0));
        assert_eq!(Dist::constant(f64::NAN), Dist::constant(0.0));
        assert_eq!(Dist::constant(1e30).sample_ns(&mut rng), MAX_NANOS);
    }

    #[test]
    fn draws_saturate_at_100_years() {
        let mut rng = SmallRng::seed_from_u64(4);
        // A Pareto of shape 0.01 exceeds 100 years (3.2e9 s) from 1 s with probability
        // (1 / 3.2e9)^0.01 ≈ 80 %.
        let d = parse("pareto(shape=0.01, scale=1s)");
        let capped = (0..1000).filter(|_| d.sample_ns(&mut rng) == MAX_NANOS).count();
        assert!(capped > 700, "{capped}");
        let d = parse("lognormal(p50=1s, sigma=1000)");
        assert!((0..1000).all(|_| d.sample_ns(&mut rng) <= MAX_NANOS));
    }

    #[test]
    fn scaling_multiplies_means_by_k_and_variances_by_k_squared() {
        let k = 2.5;
        for text in [
            "5ms",
            "exp(1.2ms)",
            "uniform(1ms, 5ms)",
            "normal(mean=2ms, sd=2ms)",
            "lognormal(p50=5ms, p99=40ms)",
            "gamma(shape=0.5, scale=4ms)",
            "weibull(shape=1.5, scale=10ms)",
            "pareto(shape=3.5, scale=1ms)",
            "empirical(1ms, 2ms, 5ms)",
            "empirical(p0=1ms, p50=5ms, p100=100ms)",
        ] {
            let d = parse(text);
            let s = d.scaled(k);
            assert!(close(s.mean_secs(), k * d.mean_secs(), 1e-12), "{text}");
            assert!(close(s.variance_secs2(), k * k * d.variance_secs2(), 1e-12), "{text}");
            // Same random numbers, every draw multiplied by k.
            let (mut a, mut b) = (SmallRng::seed_from_u64(5), SmallRng::seed_from_u64(5));
            for _ in 0..100 {
                let (x, y) = (d.sample_secs(&mut a), s.sample_secs(&mut b));
                assert!(close(y, k * x, 1e-12), "{text}: {y} vs {k} × {x}");
            }
            assert_eq!(d.scaled(1.0), d, "{text}");
            assert_eq!(d.scaled(0.0), Dist::constant(0.0), "{text}");
            assert_eq!(d.scaled(-1.0), Dist::constant(0.0), "{text}");
            assert_eq!(d.scaled(f64::NAN), Dist::constant(0.0), "{text}");
        }
    }

    #[test]
    fn display_prints_the_canonical_form() {
        let cases = [
            ("5ms", "5ms"),
            ("const(250ms)", "250ms"),
            ("0", "0s"),
            ("exp(1.2ms)", "exp(1.2ms)"),
            ("exponential(mean=90s)", "exp(90s)"),
            ("uniform(1ms, 5ms)", "uniform(1ms, 5ms)"),
            ("normal(10ms, 2ms)", "normal(mean=10ms, sd=2ms)"),
            ("lognormal(median=5ms, sigma=0.5)", "lognormal(p50=5ms, sigma=0.5)"),
            ("gamma(shape=2, mean=10ms)", "gamma(shape=2, scale=5ms)"),
            ("weibull(shape=1.5, scale=10ms)", "weibull(shape=1.5, scale=10ms)"),
            ("pareto(shape=2.5, scale=1ms)", "pareto(shape=2.5, scale=1ms)"),
            ("empirical(1ms,2ms, 5ms)", "empirical(1ms, 2ms, 5ms)"),
            (
                "empirical(p100=1s, p0=0s, p99.9=20ms)",
                "empirical(p0=0s, p99.9=20ms, p100=1s)",
            ),
        ];
        for (text, shown) in cases {
            assert_eq!(parse(text).to_string(), shown, "{text}");
        }
    }

    #[test]
    fn display_round_trips_exactly() {
        let forms = [
            "lognormal(p50=5ms, p99=40ms)",
            "lognormal(mean=10ms, sd=5ms)",
            "lognormal(p50=3ms, p999=1s)",
            "gamma(shape=3, mean=10ms)",
            "normal(mean=1.234567ms, sd=0.1ms)",
            "empirical(p0=0s, p33.3=1.1ms, p100=1h)",
        ];
        for text in forms {
            for k in [1.0, 1.0 / 3.0, 0.7, 1e-6, 12345.678] {
                let d = parse(text).scaled(k);
                let shown = d.to_string();
                assert_eq!(parse(&shown), d, "{text} × {k} shown as {shown}");
            }
        }
    }

    #[test]
    fn bad_forms_are_rejected_with_what_was_expected() {
        let cases = [
            ("", "expected a duration like"),
            ("exp", r#"expected a duration like "5ms" or a distribution"#),
            ("5", "expected a unit"),
            ("-5ms", "non-negative"),
            ("foo(1ms)", r#"unknown distribution "foo"; expected one of const"#),
            ("(1ms)", r#"unknown distribution """#),
            ("exp(1ms", r#"end with ")""#),
            ("exp()", "exp: expected arguments"),
            ("exp( )", "exp: expected arguments"),
            ("exp(-1ms)", r#"exp: mean "-1ms": expected a non-negative duration"#),
            ("exp(0ms)", "exp: mean must be > 0, got 0ms"),
            ("exp(1ms, 2ms)", "exp: too many arguments; expected mean"),
            ("exp(mean=1ms, mean=2ms)", "exp: mean given twice"),
            ("exp(1ms, mean=2ms)", "exp: mean given twice"),
            ("exp(avg=1ms)", r#"exp: unknown parameter "avg"; expected mean"#),
            ("exp(mean=)", r#"exp: mean "": expected a duration"#),
            ("exp(mean=1ms,)", "between commas"),
            ("exp(36526d)", "at most 100 years"),
            ("exp((1ms))", "exp: mean"),
            ("const(5)", "const: value \"5\": expected a unit"),
            ("uniform(5ms, 1ms)", "uniform: min must be <= max, got 5ms > 1ms"),
            ("uniform(1ms)", "uniform: expected a value for max"),
            ("uniform(min=1ms, 5ms)", "named arguments after the first named one"),
            ("normal(mean=10ms, sd=0ms)", "normal: sd must be > 0, got 0ms"),
            ("normal(mean=10ms)", "normal: expected a value for sd"),
            ("lognormal(p50=5ms, p99=4ms)", "lognormal: p99 must exceed p50, got 4ms"),
            ("lognormal(p50=5ms)", "lognormal: expected p50 with one of"),
            (
                "lognormal(p50=5ms, p90=10ms, p99=40ms)",
                "lognormal: expected p50 with one of",
            ),
            ("lognormal(p50=5ms, sigma=1, p99=40ms)", "lognormal: expected p50 with one of"),
            ("lognormal(p50=5ms, median=5ms, p99=1s)", "p50 and median are the same"),
            ("lognormal(mean=10ms)", "lognormal: expected p50 with one of"),
            ("lognormal(mean=10ms, sd=1ms, p99=1s)", "lognormal: expected p50 with one of"),
            ("lognormal(mean=10ms, sd=0s)", "lognormal: sd must be > 0, got 0s"),
            ("lognormal(p50=0s, p99=1s)", "lognormal: p50 must be > 0, got 0s"),
            ("lognormal(5ms, 40ms)", "lognormal: expected named parameters"),
            ("lognormal(p50=5ms, sigma=-1)", "lognormal: sigma must be > 0, got -1"),
            ("gamma(shape=-1, mean=10ms)", "gamma: shape must be > 0, got -1"),
            ("gamma(shape=2)", "gamma: expected shape with either mean or scale"),
            ("gamma(shape=2, mean=1ms, scale=1ms)", "gamma: expected shape with either"),
            ("gamma(mean=1ms)", "gamma: expected a value for shape"),
            (
                "gamma(shape=NaN, mean=1ms)",
                r#"gamma: shape must be a finite number, got "NaN""#,
            ),
            ("gamma(shape=inf, mean=1ms)", "gamma: shape must be a finite number"),
            ("gamma(shape=two, mean=1ms)", "gamma: shape must be a finite number"),
            ("weibull(shape=1.5)", "weibull: expected a value for scale"),
            ("weibull(shape=0, scale=1ms)", "weibull: shape must be > 0, got 0"),
            ("pareto(shape=2.5, scale=0s)", "pareto: scale must be > 0, got 0s"),
            ("pareto(2.5, 1ms)", "pareto: expected named parameters"),
            ("empirical(1ms, p50=2ms)", "not both"),
            ("empirical(p50=2ms, 1ms)", "named arguments after the first named one"),
            ("empirical(1ms, x)", r#"empirical: sample 2 "x": expected a duration"#),
            ("empirical(p0=1ms, p50=5ms)", "must include p0 and p100"),
            ("empirical(p50=5ms, p100=9ms)", "must include p0 and p100"),
            ("empirical(p0=1ms, p50=5ms, p50.0=6ms, p100=9ms)", "p50 given twice"),
            (
                "empirical(p0=5ms, p100=1ms)",
                "must not decrease with the percentile, but p100 is below p0",
            ),
            (
                "empirical(p0=1ms, p101=2ms, p100=3ms)",
                r#"percentile keys p0 to p100 (like "p99.9"), got "p101""#,
            ),
            ("empirical(q5=1ms)", "percentile keys"),
            ("empirical(p=1ms)", "percentile keys"),
            ("empirical(p-1=1ms)", "percentile keys"),
            ("empirical(pNaN=1ms)", "percentile keys"),
        ];
        for (text, wanted) in cases {
            let why = Dist::parse(text).expect_err(text);
            assert!(why.contains(wanted), "{text:?}: {why}");
        }
    }

    #[test]
    fn arbitrary_text_never_panics_and_what_parses_round_trips() {
        let pieces = [
            "exp",
            "gamma",
            "empirical",
            "lognormal",
            "uniform",
            "(",
            ")",
            ",",
            "=",
            "ms",
            "s",
            "µ",
            "p",
            "50",
            "0",
            "1.5",
            "-",
            ".",
            " ",
            "shape",
            "mean",
            "sd",
            "sigma",
            "p99",
            "😀",
            "h",
        ];
        let mut rng = SmallRng::seed_from_u64(6);
        let mut parsed = 0;
        for _ in 0..20_000 {
            let len = rng.random_range(1..12);
            let text: String = (0..len).map(|_| pieces[rng.random_range(0..pieces.len())]).collect();
            if let Ok(d) = Dist::parse(&text) {
                parsed += 1;
                assert_eq!(Dist::parse(&d.to_string()), Ok(d), "{text:?}");
            }
        }
        assert!(parsed > 0);
    }

    #[test]
    fn a_shift_adds_a_constant_to_every_draw_and_reads_back() {
        let d = parse("exp(1ms) + 10ms");
        assert!(close(d.mean_secs(), 0.011, 1e-12));
        assert!(close(d.variance_secs2(), 1e-6, 1e-12));
        assert_eq!(parse(&d.to_string()), d);
        assert_eq!(parse("0.5ms + 10ms"), Dist::constant(0.0105));
        assert_eq!(parse("exp(1ms)").shifted(0.002).shifted(0.003), parse("exp(1ms) + 5ms"));
        assert!(draws(&d, 3).iter().all(|&x| x >= 0.010));
        assert_mean_matches("exp(1ms) + 10ms");
        assert!(Dist::parse("exp(1ms) + fast").is_err());
    }
}
