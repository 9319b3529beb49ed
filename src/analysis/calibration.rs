//! How well a model reproduces what production measured: per endpoint, the simulated mean, p50,
//! p90, p99 and throughput against the traces', as relative errors with an interval that covers
//! both sides' uncertainty (the simulation's 95 % confidence interval across replications, the
//! traces' 95 % interval of each percentile). A statistic fits when its whole interval is within
//! the allowed error, misfits when its whole interval is outside, and is uncertain otherwise.

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
    /// Simulated, the mean across replications.
    pub simulated: f64,
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
    /// The largest relative error allowed (0.1 for 10 %).
    pub max_error: f64,
    /// Endpoints compared.
    pub endpoints: Vec<EndpointFit>,
    /// Endpoints in the traces that the model does not have.
    pub not_in_model: Vec<String>,
    /// The largest |error| over every statistic compared.
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
        simulated: sim,
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
            if s.error.abs() > worst_error || worst.is_empty() {
                worst_error = s.error.abs();
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
