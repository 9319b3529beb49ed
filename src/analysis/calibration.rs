//! How well a model reproduces what production measured: per endpoint, the simulated mean, p50,
//! p90, p99 and throughput against the traces', as relative errors with an interval that covers
//! both sides' uncertainty (the simulation's 95 % confidence interval across replications, the
//! traces' 95 % interval of each percentile). A statistic fits when its whole interval is within
//! the allowed error, misfits when its whole interval is outside, and is uncertain otherwise.

use crate::analysis::expect::{Claim, Comparison, Expectation, ExpectationResult};
use crate::results::{EndpointSummary, RunResult};
use crate::traces::observed::{Measured, ObservedEndpoint};
use serde::Serialize;

/// A verdict on a fit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Fit {
    /// Within the allowed error, uncertainty included.
    Fits,
    /// Beyond it, uncertainty included.
    Misfit,
    /// The intervals straddle the bound: more replications or more traces would decide.
    Uncertain,
}

impl Fit {
    /// As printed.
    pub fn label(self) -> &'static str {
        match self {
            Fit::Fits => "FITS",
            Fit::Misfit => "MISFIT",
            Fit::Uncertain => "UNCERTAIN",
        }
    }
}

/// One statistic of one endpoint, observed against simulated.
#[derive(Clone, Debug, Serialize)]
pub struct Compared {
    /// "mean", "p50", "p90", "p99" or "throughput".
    pub statistic: &'static str,
    /// Measured in the traces (ms, or requests per second for throughput).
    pub observed: f64,
    /// The low end of the traces' 95 % interval (the value itself for a mean or a throughput).
    pub observed_low: f64,
    /// The high end of the traces' 95 % interval.
    pub observed_high: f64,
    /// Simulated, the mean across replications.
    pub simulated: f64,
    /// Half-width of the simulated value's 95 % confidence interval.
    pub simulated_ci95: f64,
    /// simulated / observed − 1.
    pub error: f64,
    /// The lowest relative error both sides' intervals allow.
    pub error_low: f64,
    /// The highest.
    pub error_high: f64,
    /// Against the allowed error.
    pub fit: Fit,
}

/// One endpoint's comparison.
#[derive(Clone, Debug, Serialize)]
pub struct EndpointFit {
    /// "service.endpoint".
    pub name: String,
    /// Requests in the traces.
    pub requests: u64,
    /// Error rate in the traces.
    pub observed_error_rate: f64,
    /// Error rate simulated.
    pub simulated_error_rate: f64,
    /// Each statistic.
    pub statistics: Vec<Compared>,
}

/// The whole comparison.
#[derive(Clone, Debug, Serialize)]
pub struct Calibration {
    /// The model's name.
    pub model: String,
    /// The largest relative error allowed (0.1 for 10 %).
    pub max_error: f64,
    /// Endpoints compared.
    pub endpoints: Vec<EndpointFit>,
    /// Endpoints in the traces that the model does not have.
    pub not_in_model: Vec<String>,
    /// The relative error farthest from 0 over every statistic compared (signed).
    pub worst_error: f64,
    /// The statistic with the largest |error| ("endpoint p99").
    pub worst: String,
    /// Overall: FITS when every statistic fits, MISFIT when one misfits, else UNCERTAIN.
    pub verdict: Fit,
    /// True when the replay ran to its end (false: a partial result, not judged as complete).
    pub complete: bool,
}

fn judge(low: f64, high: f64, max_error: f64) -> Fit {
    if low >= -max_error && high <= max_error {
        Fit::Fits
    } else if low > max_error || high < -max_error {
        Fit::Misfit
    } else {
        Fit::Uncertain
    }
}

fn compare(statistic: &'static str, observed: Measured, simulated: &crate::stats::Estimate, max_error: f64) -> Compared {
    let sim = simulated.mean;
    let half = if simulated.ci95.is_finite() { simulated.ci95 } else { 0.0 };
    let ratio = |s: f64, o: f64| {
        if o > 0.0 {
            s / o - 1.0
        } else if s > 0.0 {
            f64::INFINITY
        } else {
            0.0
        }
    };
    let error = ratio(sim, observed.ms);
    let error_low = ratio(sim - half, observed.high_ms);
    let error_high = ratio(sim + half, observed.low_ms);
    Compared {
        statistic,
        observed: observed.ms,
        observed_low: observed.low_ms,
        observed_high: observed.high_ms,
        simulated: sim,
        simulated_ci95: half,
        error,
        error_low,
        error_high,
        fit: if sim.is_nan() {
            Fit::Uncertain
        } else {
            judge(error_low, error_high, max_error)
        },
    }
}

/// Compare the replay `result` with what the traces measured.
pub fn calibrate(observed: &[ObservedEndpoint], result: &RunResult, max_error: f64) -> Calibration {
    let mut endpoints = Vec::new();
    let mut not_in_model = Vec::new();
    for o in observed {
        let Some(sim) = result.endpoints.iter().find(|e| e.name == o.name) else {
            not_in_model.push(o.name.clone());
            continue;
        };
        endpoints.push(endpoint_fit(o, sim, max_error));
    }
    let mut worst_error = 0.0f64;
    let mut worst = String::new();
    let mut verdict = Fit::Fits;
    for e in &endpoints {
        for s in &e.statistics {
            if s.error.abs() > worst_error.abs() || worst.is_empty() {
                worst_error = s.error;
                worst = format!("{} {}", e.name, s.statistic);
            }
            verdict = match (verdict, s.fit) {
                (Fit::Misfit, _) | (_, Fit::Misfit) => Fit::Misfit,
                (Fit::Uncertain, _) | (_, Fit::Uncertain) => Fit::Uncertain,
                _ => Fit::Fits,
            };
        }
    }
    if endpoints.is_empty() {
        verdict = Fit::Uncertain;
    }
    Calibration {
        model: result.model.name.clone(),
        max_error,
        endpoints,
        not_in_model,
        worst_error,
        worst,
        verdict,
        complete: result.verdict.complete,
    }
}

fn endpoint_fit(o: &ObservedEndpoint, sim: &EndpointSummary, max_error: f64) -> EndpointFit {
    let l = &sim.latency;
    let throughput = Measured {
        ms: o.throughput_per_s,
        low_ms: o.throughput_per_s,
        high_ms: o.throughput_per_s,
    };
    EndpointFit {
        name: o.name.clone(),
        requests: o.requests,
        observed_error_rate: o.error_rate,
        simulated_error_rate: sim.error_rate.mean,
        statistics: vec![
            compare("mean", o.mean, &l.mean_ms, max_error),
            compare("p50", o.p50, &l.p50_ms, max_error),
            compare("p90", o.p90, &l.p90_ms, max_error),
            compare("p99", o.p99, &l.p99_ms, max_error),
            compare("throughput", throughput, &sim.throughput_per_s, max_error),
        ],
    }
}

/// The statistics a calibration claim may name per endpoint.
const STATISTICS: [&str; 5] = ["mean", "p50", "p90", "p99", "throughput"];

/// Whether a claim is about the calibration (`calibration.error`, `calibration.ENDPOINT.STAT`):
/// judged on the replay against the model's traces, not on a run.
pub fn is_calibration_claim(claim: &Claim) -> bool {
    claim.metric.starts_with("calibration.")
}

/// Check a calibration claim before anything runs: `calibration.error` (the largest relative
/// error of any statistic of any endpoint) or `calibration.ENDPOINT.STAT` (STAT one of mean,
/// p50, p90, p99, throughput; ENDPOINT one the traces and the model both have), compared with
/// `<` or `<=` to a share ("10%" or 0.1). Returns the bound as a fraction.
pub fn check_calibration_claim(claim: &Claim, endpoints: &[String]) -> Result<f64, String> {
    let rest = &claim.metric["calibration.".len()..];
    if rest != "error" {
        let known = || endpoints.join(", ");
        let Some((endpoint, stat)) = rest.rsplit_once('.') else {
            return Err(format!(
                "unknown calibration metric \"{}\": expected calibration.error or calibration.ENDPOINT.STAT (STAT: {})",
                claim.metric,
                STATISTICS.join(", ")
            ));
        };
        if !STATISTICS.contains(&stat) {
            return Err(format!(
                "\"{}\": expected one of {} after the endpoint, got \"{stat}\"",
                claim.metric,
                STATISTICS.join(", ")
            ));
        }
        if !endpoints.iter().any(|e| e == endpoint) {
            return Err(format!(
                "\"{}\": no endpoint \"{endpoint}\" in both the traces and the model (endpoints compared: {})",
                claim.metric,
                known()
            ));
        }
    }
    if !matches!(claim.comparison, Comparison::Less | Comparison::LessOrEqual) {
        return Err(format!(
            "\"{}\" is a relative error: claim that it is below a bound (< or <=)",
            claim.metric
        ));
    }
    crate::model::units::parse_ratio(&claim.bound)
        .map_err(|why| format!("bound of \"{}\": {why}, got \"{}\"", claim.metric, claim.bound))
}

/// Judge a calibration claim on `calibration`: the relative error (its absolute value) against
/// the bound; a note when the interval both sides' uncertainty allows reaches across the bound.
/// Not judged when the replay stopped early.
pub fn evaluate_calibration(expectation: &Expectation, calibration: &Calibration) -> Result<ExpectationResult, String> {
    let claim = &expectation.claim;
    let endpoints: Vec<String> = calibration.endpoints.iter().map(|e| e.name.clone()).collect();
    let bound = check_calibration_claim(claim, &endpoints)?;
    let rest = &claim.metric["calibration.".len()..];
    let compared: Vec<(&EndpointFit, &Compared)> = calibration
        .endpoints
        .iter()
        .flat_map(|e| e.statistics.iter().map(move |s| (e, s)))
        .filter(|(e, s)| rest == "error" || rest == format!("{}.{}", e.name, s.statistic))
        .collect();
    let worst = compared.iter().max_by(|a, b| a.1.error.abs().total_cmp(&b.1.error.abs()));
    let value = worst.map_or(f64::NAN, |(_, s)| s.error.abs());
    let mut notes = Vec::new();
    if let Some((e, s)) = worst {
        if rest == "error" {
            notes.push(format!("largest: {} {} {:+.1} %", e.name, s.statistic, s.error * 100.0));
        }
    }
    for (e, s) in &compared {
        // The interval holds errors both within the bound and beyond it.
        let beyond = s.error_low < -bound || s.error_high > bound;
        let within = s.error_low <= bound && s.error_high >= -bound;
        if beyond && within {
            notes.push(format!(
                "{} {}: the intervals allow {:+.1} % to {:+.1} % (more traces or replications would decide)",
                e.name,
                s.statistic,
                s.error_low * 100.0,
                s.error_high * 100.0
            ));
        }
    }
    let judged = calibration.complete;
    if !judged {
        notes.push("not judged: the replay stopped early".into());
    }
    Ok(ExpectationResult {
        index: expectation.index,
        that: expectation.that.clone(),
        scenario: None,
        passed: judged && !value.is_nan() && claim.comparison.holds(value, bound),
        judged,
        measured: crate::stats::Estimate::from_samples(&[value]),
        bound,
        unit: crate::results::metric::Unit::Share.name(),
        note: (!notes.is_empty()).then(|| notes.join("; ")),
    })
}
